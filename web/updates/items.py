"""My items, and an item's status and update: record one, or correct one with a reason."""

from __future__ import annotations

from typing import Any

from flask import abort, render_template, url_for
from flask_login import current_user
from werkzeug.wrappers import Response
from wtforms import SelectChoice

from projections import queries
from projections.queries.review import get_returned_updates, get_review
from web.backend import ledger
from web.config import today
from web.permissions import PROGRAMME_MANAGER
from web.updates.forms import CorrectionForm, StatusUpdateForm
from web.updates.support import (
    Programme,
    Row,
    actor,
    bp,
    db,
    fill,
    load_programme,
    people,
    requested,
    submit,
    writable_programme,
    writers_only,
)


@bp.route("/my-items")
@writers_only
def my_items() -> str:
    """Per programme of mine: what is due this period and what is still missing. Officers
    see the items they lead; programme managers see every item in their programmes."""
    lead = None if current_user.has_role(PROGRAMME_MANAGER) else current_user.username
    sections = []
    for slug in current_user.programmes:
        programme = load_programme(slug)
        if programme is None or not programme.has_periods:
            continue
        period = programme.current_period
        grid = queries.get_grid(db(), programme.slug, [period.label])["rows"]
        missing = queries.get_missing_updates(db(), programme.slug, period.label)
        recorded = queries.get_ratings(db(), programme.slug, period.label)
        returned = get_returned_updates(db(), programme.slug, period.label)
        if lead is not None:
            mine = {
                r["ref"] for r in queries.get_item_leads(db(), programme=programme.slug, lead_account=lead)
            }
            grid, missing, recorded, returned = (
                [r for r in rows if r["ref"] in mine] for rows in (grid, missing, recorded, returned)
            )
        sections.append(
            {
                "programme": programme,
                "period": period,
                # A retired (or merged) item is not due: it is off the register this period.
                "due": [r for r in grid if r["child_count"] == 0 and period.label not in r["retired"]],
                "missing": missing,
                "recorded": recorded,
                "returned": returned,
                "outstanding": queries.get_due(
                    db(), today=today(), programme=programme.slug, lead_account=lead
                ),
                "mine_only": lead is not None,
            }
        )
    return render_template("updates/my_items.html", sections=sections, people=people())


def _item(programme: Programme, ref: str) -> Row:
    item = queries.get_item(db(), programme.slug, ref)
    if item is None:
        abort(404)
    return item


def _ratings(programme: Programme, ref: str) -> dict[str, Row]:
    """The status and update in force for each period rated, oldest period first: the
    last recorded or corrected text of a period is the one in force."""
    in_force: dict[str, Row] = {}
    for row in queries.get_item_history(db(), programme.slug, ref):
        in_force[row["period"]] = row
    return in_force


def _carried_forward(programme: Programme, ratings: dict[str, Row], period: str) -> Row | None:
    """What to start the form from: the period's own rating, else the latest before it."""
    if period in ratings:
        return ratings[period]
    wanted = programme.parse(period)
    earlier = [row for label, row in ratings.items() if programme.parse(label) < wanted]
    return earlier[-1] if earlier else None


def _rating_defaults(row: Row | None) -> dict[str, str]:
    if row is None:
        return {}
    return {"status": row["status"], "update": row["update"], "mitigation": row["mitigation"]}


def _rating_posted(form: StatusUpdateForm | CorrectionForm) -> dict[str, Any]:
    """What a status update or a correction records: the same fields either way."""
    return {
        "period": form.period.data,
        "status": form.status.data,
        "update": form.update.data,
        "mitigation": form.mitigation.data,
        "reason": form.reason.data,
        "actor": actor(),
        "seen_version": form.seen,
    }


def _saved(p: Programme, ref: str, status: str, period: str) -> str:
    """What saving did: submitted for review, or nothing new (the same content approved)."""
    review = ledger().get_review(p.slug, ref, period)
    if review is not None and review["state"] == "approved":
        return f"{ref}: {status} for {period} is unchanged and still approved."
    return f"{ref}: {status} saved for {period}. Submitted for review."


@bp.route("/programmes/<programme>/items/<ref>/update", methods=["GET", "POST"])
@writers_only
def update_item(programme: str, ref: str) -> tuple[str, int] | Response:
    p = writable_programme(programme)
    item = _item(p, ref)
    ratings = _ratings(p, item["ref"])
    form = StatusUpdateForm()
    # The period open for updates first and chosen unless another is asked for (issue 13).
    opened = next(iter(queries.get_period_openings(db(), p.slug)), None)
    form.period.choices = p.period_choices(first=opened["period"] if opened else "")
    form.status.choices = p.status_choices()
    period = p.choice_or_current(requested("period"), form.period.choices, opened["period"] if opened else "")
    start = _carried_forward(p, ratings, period)
    fill(form, period=period, seen_version=str(item["version"]), **_rating_defaults(start))
    return submit(
        form,
        # Saving is submitting for review (Ledger.save_update): after a return, saving
        # (changed or not) resubmits it.
        lambda: ledger().save_update(p.slug, item["ref"], **_rating_posted(form)),
        saved=lambda: _saved(p, item["ref"], form.status.data, form.period.data),
        back=url_for("updates.my_items"),
        template="updates/update.html",
        # After a conflict the projections hold the other person's write: show it as it is now.
        current=lambda: _ratings(p, item["ref"]).get(form.period.data),
        programme=p,
        item=item,
        # Where the text came from, said only on the freshly opened form.
        start=None if form.is_submitted() else start,
        period=period,
        review=get_review(db(), p.slug, item["ref"], form.period.data or period),
        recorded=(form.period.data or period) in ratings,
    )


@bp.route("/programmes/<programme>/items/<ref>/correct", methods=["GET", "POST"])
@writers_only
def correct_item(programme: str, ref: str) -> tuple[str, int] | Response:
    p = writable_programme(programme)
    item = _item(p, ref)
    ratings = _ratings(p, item["ref"])
    form = CorrectionForm()
    form.period.choices = [
        SelectChoice(label, f"{label}: {row['status']}") for label, row in reversed(ratings.items())
    ]
    form.status.choices = p.status_choices()
    period = requested("period")
    period = period if period in ratings else next(reversed(ratings), "")
    fill(form, period=period, seen_version=str(item["version"]), **_rating_defaults(ratings.get(period)))
    return submit(
        form,
        lambda: ledger().correct_status(p.slug, item["ref"], **_rating_posted(form)),
        saved=lambda: f"{item['ref']} corrected for {form.period.data}.",
        back=url_for("updates.my_items"),
        template="updates/correct.html",
        current=lambda: _ratings(p, item["ref"]).get(form.period.data),
        programme=p,
        item=item,
        ratings=ratings,
    )
