"""004: Cheshire East Plan 2024/25, Q1 performance report (Corporate Policy Committee)."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

from govledger.demo.extract.source import Row, Tables, item, one, repair, require, squash

CE = "cheshire-east-plan-2024-25"
CE_PERIOD = "2024/25 Q1"
CE_PREVIOUS = "2023/24 Q4"
CE_MEETING = "Corporate Policy Committee, 3 October 2024"
REASON_APPENDIX = f"Appendix 1 ({CE_MEETING})"
REASON_COVERING = f"Covering report, sections 13–14 ({CE_MEETING})"
REASON_LOST_ROW = (
    "Appendix 1 row for A2.1.1 lost from the source text; status inferred from the "
    "published summary (48 Green)"
)

# Line-wrap damage from the PDF: words split by a space, hyphenated words split after
# the hyphen, and Cyrillic "СРС" typed for the Latin committee code "CPC" (A1.3.1).
CE_REPAIRS: tuple[tuple[str, str], ...] = (
    ("Communit y Safety", "Community Safety"),
    ("Environme ntal Services", "Environmental Services"),
    ("2023- 24 Safer", "2023-24 Safer"),
    ("Sub- Committee", "Sub-Committee"),
    ("2025/26- 29", "2025/26-29"),
    ("Sub- regional", "Sub-regional"),
    ("Plan 2023- 2025", "Plan 2023-2025"),
    ("\u0421\u0420\u0421", "CPC"),
)

# The A2.1.1 row is missing from Appendix 1; only the end of its update survives, as a
# page-break carry-over in the Update column. It must not be glued onto A1.6.3 (the row
# before the page break), so it is recognised by its exact text.
LOST_REF = "A2.1.1"
LOST_FRAGMENT = "community meals, and supermarket"

COMMITTEES = {"CPC", "E+C", "E+G", "C+F", "A+H", "H+T", "FSC", "Council"}
STATUSES = {"Green", "Amber", "Red", "To be added", "Measure not due"}
# Executive summary (paragraphs 8 and 12) label -> status as printed in Appendix 1.
SUMMARY_LABELS = {
    "Green – on track": "Green",
    "Amber – mainly on track with some minor issues": "Amber",
    "Red – off track with major issues": "Red",
    "To be added": "To be added",
    "Not yet due": "Measure not due",
}
ACTION_REF = re.compile(r"A(\d)\.(\d)\.(\d)")


@dataclass
class Action:
    ref: str
    title: str
    lead_officer: str
    committee: str
    status: str
    update: str

    @property
    def priority(self) -> str:
        return "P" + self.ref[1:4]

    @property
    def key(self) -> tuple[int, ...]:
        return tuple(int(n) for n in self.ref[1:].split("."))


@dataclass
class ExceptionRow:
    """An action listed in covering-report section 13 (amber) or 14 (red)."""

    ref: str
    title: str
    lead_officer: str
    update: str
    colour: str


def _ce_lines(text: str) -> list[str]:
    text = re.sub(r"</?u>", "", text)  # hyperlink underlines from the Word original
    return repair(text, CE_REPAIRS).splitlines()


def _section(lines: list[str], start: str, end: str) -> list[str]:
    """Lines after the first line starting with `start`, up to one starting with `end`."""
    first = next(i for i, line in enumerate(lines) if line.startswith(start))
    last = next(i for i, line in enumerate(lines[first + 1 :], first + 1) if line.startswith(end))
    return lines[first + 1 : last]


def _plan_shape(lines: list[str]) -> tuple[str, list[tuple[str, str]], list[tuple[str, str]]]:
    """Vision, aims and priorities from the plan-on-a-page table in Appendix 1."""
    appendix = _section(lines, "Appendix 1 – ", "What\t")
    vision_at = next(i for i, line in enumerate(appendix) if line.strip() == "Vision")
    vision = appendix[vision_at + 1].strip()
    aims_line = next(line for line in appendix if line.startswith("Aim 1 - "))
    aims = re.findall(r"Aim (\d) - ([^\t]+)", aims_line)
    priorities_line = next(line for line in appendix if "P1.1)" in line)
    priorities = [
        (f"P{number}", squash(title))
        for number, title in re.findall(
            r"P(\d\.\d)\) (.+?)(?=\s*P\d\.\d\)|\s*\t|\s*$)", priorities_line
        )
    ]
    require(len(aims) == 3, f"expected 3 aims, found {len(aims)}")
    require(len(priorities) == 20, f"expected 20 priorities, found {len(priorities)}")
    return vision, [(f"Aim {n}", squash(t)) for n, t in aims], priorities


def _appendix_actions(lines: list[str]) -> tuple[list[Action], str]:
    """Rows of the Appendix 1 table, with page-break carry-overs joined back on.

    Columns: priority (often noise such as "D4 5" or "12.0": ignored, the priority is
    read from the action ref), ref, title, lead officer, committee, status, update.
    A carry-over line has only its last (Update) cell filled.
    """
    body = _section(lines, "Appendix 1 – ", "Appendix 2 – ")
    header = next(i for i, line in enumerate(body) if line.startswith("What\t"))
    actions: list[Action] = []
    lost_fragment = ""
    for line in body[header:]:
        cells = line.split("\t")
        found = next(
            ((i, m) for i, c in enumerate(cells) if (m := ACTION_REF.match(c.strip()))), None
        )
        if found is not None:
            at, ref = found[0], found[1][0]
            first = cells[at].strip()
            rest = cells[at + 1 :]
            if first != ref:  # "A2.2.3 Continue to deliver ..." lost its tab
                rest = [first[len(ref) :], *rest]
            rest += [""] * (5 - len(rest))
            title, lead, committee, status, update = (squash(c) for c in rest[:5])
            require(not any(c.strip() for c in rest[5:]), f"extra cells in row {ref}")
            actions.append(Action(ref, title, lead, committee, status, update))
            continue
        filled = [i for i, c in enumerate(cells) if c.strip()]
        if line.startswith("\t") and len(filled) == 1 and filled[0] >= 5:
            carried = squash(cells[filled[0]])
            if carried == LOST_FRAGMENT:
                lost_fragment = carried
            else:
                require(bool(actions), f"carry-over before any row: {carried!r}")
                actions[-1].update = f"{actions[-1].update} {carried}".strip()
    require(lost_fragment == LOST_FRAGMENT, "the A2.1.1 fragment was not found")
    return actions, lost_fragment


def _exceptions(lines: list[str]) -> list[ExceptionRow]:
    """Covering report sections 13 (amber) and 14 (red): ref, title, lead, long update."""
    body = _section(lines, "13 The actions which are amber", "- 15 ")
    colour = "Amber"
    rows: list[ExceptionRow] = []
    for line in body:
        if line.startswith("14 The actions which are red"):
            colour = "Red"
            continue
        cells = [c.strip() for c in line.split("\t")]
        if ACTION_REF.fullmatch(cells[0]):
            require(len(cells) == 4, f"section 13/14 row {cells[0]} has {len(cells)} cells")
            ref, title, lead, update = (squash(c) for c in cells)
            rows.append(ExceptionRow(ref, title, lead, update, colour))
        elif not cells[0] and any(cells):
            # A title carried over a page break ("Foster4 collaboration" for A2.4.1).
            filled = [i for i, c in enumerate(cells) if c]
            require(filled == [1], f"unexpected carry-over in section 13/14: {line!r}")
            rows[-1].title = f"{rows[-1].title} {squash(cells[1])}"
    return rows


def _summary_counts(lines: list[str]) -> tuple[list[str], Counter[str]]:
    """Paragraph 8's table of counts (printed again as paragraph 12)."""
    at = next(i for i, line in enumerate(lines) if line.startswith("- 8 Appendix 1"))
    table: list[str] = []
    counts: Counter[str] = Counter()
    for line in lines[at + 1 :]:
        if not line.strip():
            if table:
                break
            continue
        label, number = line.split("\t")
        table.append(f"{label}: {number}")
        counts[SUMMARY_LABELS[label]] = int(number)
    return table, counts


def cheshire_east(text: str) -> Tables:
    lines = _ce_lines(text)
    vision, aims, priorities = _plan_shape(lines)
    printed, lost_fragment = _appendix_actions(lines)
    exceptions = _exceptions(lines)

    lost = Action(
        LOST_REF,
        "[Title missing from source text]",
        "",
        "",
        "Green",
        f"[Appendix 1 row lost from the source text; only the end of its update survives: "
        f"“… {lost_fragment} …”. Status inferred from the published summary (48 Green).]",
    )
    actions = sorted([*printed, lost], key=lambda a: a.key)
    refs = [a.ref for a in actions]
    require(len(set(refs)) == 66, f"expected 66 distinct actions, found {len(set(refs))}")
    require(
        [a.ref for a in printed] == [r for r in refs if r != LOST_REF],
        "Appendix 1 rows are out of order",
    )
    priority_refs = {p for p, _ in priorities}
    for a in actions:
        require(a.priority in priority_refs, f"{a.ref}: no priority {a.priority}")
        if a is not lost:
            require(a.status in STATUSES, f"{a.ref}: unknown status {a.status!r}")
            committees = set(re.split(r"[/,]\s*", a.committee))
            require(committees <= COMMITTEES, f"{a.ref}: unknown committee {a.committee!r}")
            require(bool(a.title and a.lead_officer), f"{a.ref}: missing title or lead")

    # The statuses must reproduce the executive summary exactly.
    table, published = _summary_counts(lines)
    require(Counter(a.status for a in actions) == published, "status counts differ")

    # Sections 13/14 must name exactly the amber and red actions, in those colours.
    by_ref = {a.ref: a for a in actions}
    exceptional = {a.ref for a in actions if a.status in {"Amber", "Red"}}
    require({e.ref for e in exceptions} == exceptional, "sections 13/14 != amber+red")
    require(len(exceptions) == len(exceptional), "an action is listed twice in 13/14")
    for e in exceptions:
        require(by_ref[e.ref].status == e.colour, f"{e.ref}: colour differs in 13/14")

    items: list[Row] = [item(CE, "Vision", "vision", vision)]
    statuses: list[Row] = []
    for aim_ref, aim_title in aims:
        items.append(item(CE, aim_ref, "aim", aim_title, "Vision"))
        for p_ref, p_title in priorities:
            if p_ref[1] != aim_ref[-1]:
                continue
            items.append(item(CE, p_ref, "priority", p_title, aim_ref))
            for a in actions:
                if a.priority == p_ref:
                    items.append(
                        item(CE, a.ref, "action", a.title, p_ref, a.lead_officer, a.committee)
                    )
    for a in actions:
        statuses.append({
            "programme": CE, "ref": a.ref, "period": CE_PERIOD, "status": a.status,
            "update": a.update,
            # The paper has no mitigation column: paragraphs 13 and 14 give "an
            # explanation and mitigating actions" in one text, under "Q1 update", and it is
            # recorded there once (the covering report's row below), never copied here.
            "mitigation": "",
            "reason": REASON_LOST_ROW if a is lost else REASON_APPENDIX,
        })
    for e in exceptions:
        # Recorded after Appendix 1, as a second update for the same period and status,
        # in the column the paper prints it under ("Q1 update"): once, as the update. The
        # "What will we do" column is the action's title, not mitigation.
        statuses.append({
            "programme": CE, "ref": e.ref, "period": CE_PERIOD, "status": by_ref[e.ref].status,
            "update": e.update, "mitigation": "", "reason": REASON_COVERING,
        })

    summary = one(r"- 7 (This report gives an update[^\n]+)", "\n".join(lines))[1]
    intro = one(r"- 8 (Appendix 1 of the report shows[^\n]+)", "\n".join(lines))[1]
    narratives = [{
        "programme": CE, "period": CE_PERIOD, "section": "summary",
        "text": "\n\n".join([summary, "\n".join([intro, *table])]),
    }]
    return {
        "programmes": [{
            "programme": CE,
            "name": "Cheshire East Plan 2024/25",
            "cadence": "quarterly",
            "scale": "rag",
            # Its paper has no mitigation of its own: the exception text explains and
            # mitigates in one (paragraph 13), so a separate mitigation is not required.
            "requires_mitigation": "no",
            "description": (
                "Cheshire East Council's corporate plan for 2024/25: a vision, 3 aims, "
                "20 priorities and 66 priority actions, reported quarterly to the Corporate "
                "Policy Committee. Seeded from 'Performance Report – Cheshire East Plan, "
                "Quarter 1 2024/25' (report CP/33/24-25), Corporate Policy Committee, "
                "3 October 2024."
            ),
            "contact_name": "Karen Wheeler",
            "contact_phone": "",
            "contact_email": one(r"karen\.wheeler@cheshireeast\.gov\.uk", text)[0],
        }],
        "items": items,
        "statuses": statuses,
        "indicators": _ce_indicators("\n".join(lines)),
        "narratives": narratives,
    }


def _ce_indicators(text: str) -> list[Row]:
    """Organisational health indicators, covering report paragraphs 16-20."""
    source = "Covering report, paragraph {} (" + CE_MEETING + ")"
    fte = one(r"There are ([\d,]+) FTE staff .*? reported in quarter 4 \(([\d,]+)\)", text)
    vacancy = one(r"vacancy rate .*? from ([\d.]+%) in Q4 to ([\d.]+%) in Q1 2024/25", text)
    by_dir = one(r"vacancies are reported in (\w+) \(([\d.]+%)\) and (\w+) \(([\d.]+%)\)", text)
    turnover = one(r"turnover, from ([\d.]+%) in Q4, to ([\d.]+%) in Q1 2024/25", text)
    turnover_dir = one(r"With the (\w+) directorate reporting a rate of ([\d.]+%)", text)
    agency = one(r"agency staff from ([\d,]+) in Q4, to ([\d,]+) in Q1 2024/25", text)
    budget = one(r"net budget, increasing from ([\d.]+%) in Q4 to ([\d.]+%) in Q1", text)

    rows: list[Row] = []

    def add(ref: str, name: str, unit: str, better: str, paragraph: int,
            values: list[tuple[str, str, str]]) -> None:
        for period, breakdown, value in values:
            rows.append({
                "programme": CE, "ref": ref, "name": name, "unit": unit, "better": better,
                "period": period, "breakdown": breakdown, "value": value,
                "reason": source.format(paragraph),
            })

    # Headcount is neither better higher nor lower; the rest are costs or losses.
    add("FTE", "Staff (full-time equivalent)", "FTE", "neither", 16,
        [(CE_PREVIOUS, "", fte[2]), (CE_PERIOD, "", fte[1])])
    add("VACANCY", "Vacancy rate", "%", "lower", 16,
        [(CE_PREVIOUS, "", vacancy[1]), (CE_PERIOD, "", vacancy[2])])
    add("VACANCY", "Vacancy rate", "%", "lower", 17,
        [(CE_PERIOD, by_dir[1], by_dir[2]), (CE_PERIOD, by_dir[3], by_dir[4])])
    add("TURNOVER", "Staff turnover", "%", "lower", 18,
        [(CE_PREVIOUS, "", turnover[1]), (CE_PERIOD, "", turnover[2]),
         (CE_PERIOD, turnover_dir[1], turnover_dir[2])])
    add("AGENCY", "Agency staff", "staff", "lower", 19,
        [(CE_PREVIOUS, "", agency[1]), (CE_PERIOD, "", agency[2])])
    add("BUDGET_VARIANCE", "Variance between forecast outturn and total net budget", "%",
        "lower", 20, [(CE_PREVIOUS, "", budget[1]), (CE_PERIOD, "", budget[2])])
    return rows
