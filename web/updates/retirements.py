"""Taking an item off the register and back (issue 11 item 5): a programme manager
retires an item, merges it into another item of the same programme, or reinstates it,
each from a period and with a reason. The ledger keeps the history under the item's own
ref; from that period on it is in no count and not missing an update."""

from __future__ import annotations

from flask import url_for
from govuk_frontend_wtf.wtforms_widgets import GovRadioInput, GovSelect
from werkzeug.wrappers import Response
from wtforms import Field, RadioField, SelectChoice, SelectField, ValidationError
from wtforms.validators import InputRequired

from projections import queries
from web.backend import ledger
from web.permissions import PROGRAMME_MANAGER, requires_role
from web.updates.forms import VersionedForm, period_select, textarea
from web.updates.support import actor, bp, db, fill, submit, writable_item

ACTIONS = {
    "retire": "Retire it: take it off the register",
    "merge": "Merge it into another item",
    "reinstate": "Reinstate it: put it back on the register",
}


def _merged_into_only_for_a_merge(form: RetireForm, field: Field) -> None:
    if form.action.data == "merge" and not field.data:
        raise ValidationError("Select the item it is merged into")
    if form.action.data != "merge" and field.data:
        raise ValidationError("Only a merge names the item it is merged into: leave it empty")


class RetireForm(VersionedForm):
    action = RadioField(
        "What happens to the item",
        choices=[SelectChoice(value, label) for value, label in ACTIONS.items()],
        widget=GovRadioInput(),
        validators=[InputRequired("Select whether to retire, merge or reinstate the item")],
    )
    period = period_select("From which period")
    merged_into = SelectField(
        "Merged into",
        description="Only for a merge: the item of the same programme that takes it over.",
        widget=GovSelect(),
        default="",
        validators=[_merged_into_only_for_a_merge],
        invalid_choice_message="Select an item of this programme from the list",
    )
    reason = textarea(
        "Reason", "Auditors will see this with your name and the time.",
        required="Enter why the item leaves or returns to the register",
    )


@bp.route("/programmes/<programme>/items/<ref>/retire", methods=["GET", "POST"])
@requires_role(PROGRAMME_MANAGER)
def retire_item(programme: str, ref: str) -> tuple[str, int] | Response:
    p, item = writable_item(programme, ref)
    spans = [s for s in queries.get_retirements(db(), p.slug) if s["ref"] == item["ref"]]
    form = RetireForm()
    # Reinstating is from a period after the item left the register: offer the next one.
    left = [s["retired_from"] for s in spans]
    form.period.choices = p.period_choices(*left, *(p.parse(label).next().label for label in left))
    others = [i for i in queries.get_item_leads(db(), programme=p.slug) if i["ref"] != item["ref"]]
    form.merged_into.choices = [SelectChoice("", "Not merged")] + [
        SelectChoice(i["ref"], f"{i['ref']}: {i['title']}") for i in others
    ]
    retired = bool(spans) and not spans[-1]["reinstated_from"]
    fill(form, action="reinstate" if retired else None, period=p.current_period.label,
         seen_version=str(item["version"]))

    def save() -> None:
        if form.action.data == "reinstate":
            ledger().reinstate_item(
                p.slug, item["ref"], period=form.period.data, reason=form.reason.data, actor=actor(),
                seen_version=form.seen,
            )
        else:
            ledger().retire_item(
                p.slug, item["ref"], period=form.period.data, reason=form.reason.data,
                merged_into=form.merged_into.data or "", actor=actor(), seen_version=form.seen,
            )

    def saved() -> str:
        if form.action.data == "reinstate":
            return f"{item['ref']} is back on the register from {form.period.data}."
        merged = f" (merged into {form.merged_into.data})" if form.action.data == "merge" else ""
        return f"{item['ref']} is retired{merged} from {form.period.data}."

    return submit(
        form,
        save,
        saved=saved,
        back=url_for("audit.timeline", programme=p.slug, ref=item["ref"]),
        template="updates/retire_item.html",
        current=lambda: [s for s in queries.get_retirements(db(), p.slug) if s["ref"] == item["ref"]],
        programme=p,
        item=item,
        spans=spans,
    )
