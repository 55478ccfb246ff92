"""000: Cornwall SEND / inclusion programme, monthly highlight report."""

from __future__ import annotations

import re

from govledger.demo.extract.source import Row, Tables, item, one, require, squash

CW = "cornwall-send-inclusion"
# The report carries no date. WS7's "wider engagement expected to begin in February" and
# "Workshops planned" as the next period's deliverable put this report in January. The
# year is not in the text at all: 2026 is assumed.
CW_PERIOD = "2026-01"
CW_REASON = (
    "Month inferred: the report is undated, but says WS7 wider engagement is 'expected to "
    "begin in February' and lists WS7 workshops as next period's deliverable, so it "
    "reports on January. The year is not in the source; 2026 is assumed."
)
CW_WORKSTREAMS = {
    "WS1": "Inclusive Charter",
    "WS3": "Ordinarily Available Provision",
    "WS7": "Peer Panels / Neighbourhood Decisions",
    "WS12": "Strategic Locality Future Planning Partnership",
}
CW_SECTIONS = {
    "accomplished": "Accomplished against Plan since the last Highlight Report:",
    "not_accomplished": "Not accomplished against the Plan since the last Highlight Report "
    "and why:",
    "planned_next": "Planned deliverables for next period:",
}
# Table headings of the (empty) risk, issue and dependency registers.
CW_REGISTER_HEADINGS = {
    "Key Risks and Issues", "Description of Risk", "Description of Issue", "RAG",
    "Mitigation Plan", "Re-Rated RAG after mitigation", "Key dependencies",
    "Brief description of dependency", "Jointly agreed plan in place", "Confidence",
}
BULLETS = "·\uf0b7•"


def cornwall(text: str) -> Tables:
    # U+2011 (non-breaking hyphen, from Word) would defeat search for "co-production".
    lines = [line.replace("\u2011", "-") for line in text.splitlines()]
    items: list[Row] = []
    statuses: list[Row] = []
    for ref, title in CW_WORKSTREAMS.items():
        number = ref[2:]
        pattern = rf"^(?:This month, )?(?:Workstream {number}|WS{number}) [–-] {re.escape(title)}"
        paragraph = next(line for line in lines if re.match(pattern, line))
        lead = one(r"\s*Leads?: (.*?) ?\(([^)]*)\)\s*$", paragraph)
        narrative = paragraph[: lead.start()].strip()
        if ref == "WS12":  # a run-in heading, not a sentence: drop it
            narrative = narrative[one(pattern, narrative).end() :].strip()
        names, emails = lead[1].strip(), lead[2].strip()
        # WS7's lead is named only by an email address; the others by name.
        items.append(item(CW, ref, "workstream", title, lead=names or emails))
        statuses.append({
            "programme": CW, "ref": ref, "period": CW_PERIOD, "status": "",
            "update": narrative, "mitigation": "", "reason": CW_REASON,
        })

    narratives: list[Row] = []
    stripped = [line.strip() for line in lines]
    for section, heading in CW_SECTIONS.items():
        at = stripped.index(heading)
        bullets: list[str] = []
        for line in stripped[at + 1 :]:
            if not line:
                break
            bullets.append(squash(line.lstrip(BULLETS)))
        require(all(b.startswith("WS") for b in bullets), f"{section}: not WS bullets")
        narratives.append(
            {"programme": CW, "period": CW_PERIOD, "section": section, "text": "\n".join(bullets)}
        )

    # The risk, issue and dependency tables hold only their headings in this issue.
    registers = stripped[stripped.index("Key Risks and Issues") :]
    require(
        all(not line or line in CW_REGISTER_HEADINGS for line in registers),
        "the risk/issue/dependency registers are no longer empty",
    )
    return {
        "dependencies": _dependencies("\n".join(lines), items),
        "programmes": [{
            "programme": CW,
            "name": "Cornwall SEND inclusion programme",
            "cadence": "monthly",
            "scale": "rag",
            "requires_mitigation": "no",
            "description": (
                "Cornwall SEND / inclusion programme: monthly highlight report on "
                "workstreams WS1, WS3, WS7 and WS12, with risk, issue and dependency "
                "registers."
            ),
            "contact_name": "", "contact_phone": "", "contact_email": "",
        }],
        "items": items,
        "statuses": statuses,
        "narratives": narratives,
    }


# Dependencies the narrative names (the report's dependency table is empty): the party
# the workstream waits on, the sentences that say so, and the workstream.
CW_DEPENDENCIES = (
    ("D1", "WS7", "South Gloucestershire Council", (
        r"an invitation has been issued for them to present at the first workshop once dates "
        r"are confirmed", r"WS7: Workshops not yet initiated; awaiting South Glos dates",
    )),
    ("D2", "WS3", "CACE leads", (
        r"CACE leads have been fully briefed, roles clarified, and the first formal meeting "
        r"scheduled", r"WS3: First meeting not held yet.finalising membership and communication",
    )),
)


def _dependencies(text: str, items: list[Row]) -> list[Row]:
    """Each as the source words it. Neither side's plan or confidence is recorded: the
    report's "Jointly agreed plan in place" and "Confidence" columns are empty."""
    leads = {row["ref"]: row["lead_officer"] for row in items}
    return [
        {
            "programme": CW, "ref": ref, "period": CW_PERIOD,
            "description": f"{ref_of} {CW_WORKSTREAMS[ref_of]} depends on {provider}: "
            + "; ".join(f"'{squash(one(sentence, text)[0])}'" for sentence in sentences) + ".",
            "owner": leads[ref_of], "plan_agreed": "", "confidence": "",
            "reason": "Named in the report's narrative; its dependency table (jointly agreed "
            "plan, confidence) is empty, so neither side's confirmation is recorded.",
            "provider": provider, "receiver": CW,
        }
        for ref, ref_of, provider, sentences in CW_DEPENDENCIES
    ]
