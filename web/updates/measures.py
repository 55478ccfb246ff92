"""An item's due date and the indicators it is measured by: what its rating should agree
with (issue 13's watermelon flags). Programme managers, for their own programmes."""

from __future__ import annotations

from datetime import date

from flask import url_for
from werkzeug.wrappers import Response
from wtforms import SelectChoice

from projections import queries
from web.backend import ledger
from web.permissions import PROGRAMME_MANAGER, requires_role
from web.updates.forms import ItemMeasuresForm
from web.updates.support import actor, bp, db, fill, submit, writable_item


@bp.route("/programmes/<programme>/items/<ref>/measures", methods=["GET", "POST"])
@requires_role(PROGRAMME_MANAGER)
def item_measures(programme: str, ref: str) -> tuple[str, int] | Response:
    p, item = writable_item(programme, ref)
    form = ItemMeasuresForm()
    form.indicators.choices = [
        SelectChoice(i["ref"], f"{i['ref']}: {i['name']}")
        for i in queries.get_indicator_definitions(db(), p.slug)
    ]
    linked = [r for r in (item["indicators"] or "").split("; ") if r]
    due = date.fromisoformat(item["due_date"]) if item["due_date"] else None
    fill(form, due_date=due, indicators=linked, seen_version=str(item["version"]))

    def save() -> None:
        # One transaction: the date and the links are saved together or not at all.
        with ledger().batch() as batch:
            chosen = form.due_date.data
            ledger().set_item_due_date(
                p.slug, item["ref"], due_date=chosen.isoformat() if chosen else "", actor=actor(),
                reason=form.reason.data, seen_version=form.seen, batch=batch,
            )
            ledger().link_item_indicators(
                p.slug, item["ref"], indicators=list(form.indicators.data or []), actor=actor(),
                reason=form.reason.data, batch=batch,
            )

    back = url_for("audit.timeline", programme=p.slug, ref=item["ref"])
    return submit(
        form,
        save,
        saved=lambda: f"{item['ref']}: due date and indicators saved.",
        back=back,
        template="updates/item_measures.html",
        current=lambda: queries.get_item(db(), p.slug, item["ref"]),
        programme=p,
        item=item,
    )
