"""Opening a period for updates with a due date, and extending it: programme managers,
for their own programmes. Periods nobody opened work as before, with no due date."""

from __future__ import annotations

from flask import url_for
from werkzeug.wrappers import Response
from wtforms import SelectChoice

from projections import queries
from web.backend import ledger
from web.config import today
from web.permissions import PROGRAMME_MANAGER, requires_role
from web.updates.forms import ExtendPeriodForm, OpenPeriodForm
from web.updates.support import Programme, actor, bp, db, fill, requested, submit, writable_programme

managers_only = requires_role(PROGRAMME_MANAGER)


def _context(p: Programme) -> dict[str, object]:
    openings = queries.get_period_openings(db(), p.slug)
    summary = {r["period"]: r for r in queries.get_due_summary(db(), today=today(), programmes=[p.slug])}
    return {
        "programme": p,
        "openings": [{**o, **summary.get(o["period"], {})} for o in openings],
        "back": url_for("updates.periods", programme=p.slug),
    }


def _on(day: object) -> str:
    return f"{day:%-d %B %Y}" if day else ""


@bp.route("/programmes/<programme>/periods", methods=["GET", "POST"])
@managers_only
def periods(programme: str) -> tuple[str, int] | Response:
    """The programme's opened periods, and the form to open one."""
    p = writable_programme(programme)
    form = OpenPeriodForm()
    form.period.choices = p.period_choices()
    fill(form, period=p.choice_or_current(requested("period"), form.period.choices))
    context = _context(p)
    return submit(
        form,
        lambda: ledger().open_period(
            p.slug, form.period.data, due_date=form.due_date.data, actor=actor(), reason=form.reason.data
        ),
        saved=lambda: f"{form.period.data} opened: updates are due by {_on(form.due_date.data)}.",
        template="updates/periods.html",
        **context,  # type: ignore[arg-type]
    )


@bp.route("/programmes/<programme>/periods/extend", methods=["GET", "POST"])
@managers_only
def extend_period(programme: str) -> tuple[str, int] | Response:
    """Move an opened period's due date later, with a reason."""
    p = writable_programme(programme)
    context = _context(p)
    form = ExtendPeriodForm()
    openings = context["openings"]
    form.period.choices = [
        SelectChoice(o["period"], f"{o['period']} (due {o['due_date']})")
        for o in openings  # type: ignore[attr-defined]
    ]
    fill(form, period=requested("period"))
    return submit(
        form,
        lambda: ledger().extend_period(
            p.slug, form.period.data, due_date=form.due_date.data, actor=actor(), reason=form.reason.data
        ),
        saved=lambda: f"{form.period.data} extended: updates are now due by {_on(form.due_date.data)}.",
        template="updates/extend_period.html",
        **context,  # type: ignore[arg-type]
    )
