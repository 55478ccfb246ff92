"""The words for what an event changed, written once for conflicts and the audit trail."""

from __future__ import annotations

from typing import Any

from ledger.domain.narratives import NARRATIVE_SECTIONS


def with_article(noun: str) -> str:
    """"an action", "a workstream"."""
    return f"{'an' if noun[:1] in 'aeiou' else 'a'} {noun}"


def describe_event(event: Any) -> str:
    """A one-line description of what an event changed, for conflicts and the audit trail."""
    name = type(event).__name__
    f = vars(event)
    breakdown = f" ({f['breakdown']})" if f.get("breakdown") else ""
    if name == "StatusRecorded":
        text = f"recorded {f['status'] or 'not rated'}"
    elif name == "StatusCorrected":
        text = f"corrected to {f['status'] or 'not rated'}"
    elif name == "Retitled":
        text = f"retitled to {f['title']!r}"
    elif name == "Moved":
        text = f"moved under {f['parent_ref']}" if f["parent_ref"] else "moved to the top of the programme"
    elif name == "MitigationRuleChanged":
        rule = "required" if f["requires_mitigation"] else "no longer required"
        text = f"mitigation {rule} for Amber and Red"
    elif name == "KindChanged":
        text = f"kind changed to {f['kind']}"
    elif name == "LeadReassigned":
        text = f"lead reassigned to {f['lead_officer']}"
    elif name == "LeadLinked":
        text = f"lead linked to account {f['lead_account']}" if f["lead_account"] else "lead unlinked"
    elif name == "EmailSet":
        text = "email address set" if f["email"] else "email address removed"
    elif name in ("Opened", "Extended") and "due_date" in f:
        text = f"{name.lower()} with updates due {f['due_date']}"
    elif name == "Sent":
        text = f"reminded {f['lead_account']} of {len(f['items'])} item(s) due"
    elif name == "Retired":
        merged = f"merged into {f['merged_into']}" if f["merged_into"] else "retired"
        return f"{merged} from {f['period']}"
    elif name == "Reinstated":
        return f"reinstated from {f['period']}"
    elif name == "Noted":
        text = f"noted {f['note']!r}"
    elif name == "CommitteeChanged":
        text = f"committee changed to {f['committee'] or 'none'}"
    elif name == "Rerated":
        text = f"re-rated {f['rag_before']} → {f['rag_after'] or 'not re-rated'}"
    elif name == "ValueRecorded":
        text = f"value {f['value']}{breakdown}"
    elif name == "ValueCorrected":
        text = f"value corrected to {f['value']}{breakdown}"
    elif name == "Redefined":
        unit = f" ({f['unit']})" if f["unit"] else ""
        text = f"redefined as {f['name']!r}{unit}, {f['better']} is better"
    elif name == "SectionWritten":
        text = f"wrote {NARRATIVE_SECTIONS.get(f['section'], f['section'])}"
    elif name == "Reviewed":
        text = (
            f"reviewed: plan agreed {f['plan_agreed'] or 'not stated'}, "
            f"confidence {f['confidence'] or 'not stated'}"
        )
    elif name == "SidesNamed":
        text = f"sides named: {f['provider']} provides, {f['receiver']} receives"
    elif name == "SideConfirmed":
        plan = "plan agreed" if f["plan_agreed"] == "yes" else "no plan agreed"
        text = f"{f['side']} ({f['party']}) confirmed: {plan}, confidence {f['confidence']}"
    else:
        text = "".join(f" {c}" if c.isupper() and i else c for i, c in enumerate(name)).lower()
    return f"{text} for {f['period']}" if f.get("period") else text
