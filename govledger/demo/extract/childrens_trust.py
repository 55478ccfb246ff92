"""003: Cheshire Children's Trust, partnership progress report, 21 December 2007."""

from __future__ import annotations

import html
import re
from datetime import date

from govledger.demo.extract.source import Row, Tables, item, one, require, squash

CT = "cheshire-childrens-trust"
CT_SECTIONS = {
    "RECENT ACHIEVEMENTS": "achievements",
    "CURRENT ACTIVITY": "current_activity",
    "FUTURE CHALLENGES": "challenges",
    "ISSUES FOR THE COMMUNITIES OF CHESHIRE PARTNERSHIP": "partnership_issues",
}


def _municipal_quarter(day: date) -> str:
    """UK municipal year, April to March: '2007/08 Q3' is October to December 2007."""
    start = day.year if day.month >= 4 else day.year - 1
    return f"{start}/{(start + 1) % 100:02d} Q{(day.month - 4) % 12 // 3 + 1}"


def _plain(fragment: str) -> str:
    return squash(html.unescape(re.sub(r"<[^>]+>", " ", fragment)))


def childrens_trust(text: str) -> Tables:
    day, month, year = one(r"DATE:\s*(\d+)\s*/\s*(\d+)\s*/\s*(\d+)", text).groups()
    reported = date(2000 + int(year), int(month), int(day))
    period = _municipal_quarter(reported)
    officer = _plain(one(r"CONTACT OFFICER:\s*([^<]+)", text)[1])
    phone = _plain(one(r"TEL:\s*([^<]+)", text)[1])
    email = one(r'href="mailto:([^"]+)"', text)[1]

    # Paragraphs in order; a paragraph opening with "<b>HEADING:</b>" starts a section.
    sections: dict[str, list[str]] = {}
    current = ""
    for paragraph in re.findall(r"<p>(.*?)</p>", text, re.S):
        heading = re.match(r"\s*<b>([^<]+?):</b>(.*)", paragraph, re.S)
        if heading and heading[1] in CT_SECTIONS:
            current = CT_SECTIONS[heading[1]]
            sections[current] = [heading[2]]
        else:
            require(bool(current), "paragraph before the first heading")
            sections[current].append(paragraph)
    require(set(sections) == set(CT_SECTIONS.values()), "Children's Trust sections differ")

    reason = (
        f"Partnership progress report dated {reported:%d/%m/%Y}; the programme is read as "
        f"quarterly and {period} contains that date."
    )
    items: list[Row] = []
    statuses: list[Row] = []
    intro, *areas = sections["current_activity"]
    for number, area in enumerate(areas, 1):
        match = re.match(rf"\s*<b>\({number}\) ([^<]+?):</b>(.*)", area, re.S)
        require(match is not None, f"core area ({number}) not found")
        assert match is not None
        ref = f"CA{number}"
        items.append(item(CT, ref, "core area", _plain(match[1])))
        statuses.append({
            "programme": CT, "ref": ref, "period": period, "status": "",
            "update": _plain(match[2]), "mitigation": "", "reason": reason,
        })
    require(len(items) == 5, f"expected 5 core areas, found {len(items)}")
    sections["current_activity"] = [intro]

    narratives = [
        {"programme": CT, "period": period, "section": section,
         "text": "\n\n".join(_plain(p) for p in paragraphs)}
        for section, paragraphs in sections.items()
    ]
    area4 = next(row["update"] for row in statuses if row["ref"] == "CA4")
    partnership = _plain(sections["partnership_issues"][0])
    require("Loughborough University" in area4, "CA4 no longer names Loughborough University")
    dependencies = [
        # (provider, what the report says, the section it says it in)
        ("D1", "Loughborough University", area4, "Current activity (4)"),
        ("D2", "Communities of Cheshire Partnership", partnership,
         "Issues for the Communities of Cheshire Partnership"),
    ]
    return {
        "dependencies": [
            {
                "programme": CT, "ref": ref, "period": period,
                "description": f"{where}: {said}", "owner": officer,
                "plan_agreed": "", "confidence": "",
                "reason": f"{reason} Named in the report's text, which records no jointly "
                "agreed plan or confidence for either side.",
                "provider": provider, "receiver": CT,
            }
            for ref, provider, said, where in dependencies
        ],
        "programmes": [{
            "programme": CT,
            "name": "Cheshire Children's Trust",
            "cadence": "quarterly",
            "scale": "rag",
            "requires_mitigation": "no",
            "description": (
                "Children's Trust partnership progress report (narrative only, no RAG "
                f"ratings), dated {reported.day} {reported:%B %Y}: achievements, current "
                "activity under five core areas, future challenges and issues for the "
                "Communities of Cheshire partnership."
            ),
            "contact_name": officer,
            "contact_phone": phone,
            "contact_email": email,
        }],
        "items": items,
        "statuses": statuses,
        "narratives": narratives,
    }
