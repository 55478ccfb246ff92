"""What every updates view shares: the blueprint, who may write, which periods are
offered, and the one way a form is saved (validate → one ledger call → flash → redirect;
else the form again with what was typed, and on a conflict the other person's change)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from contextlib import suppress
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response
from wtforms import SelectChoice

from ledger.errors import Conflict, InvalidPeriod, LedgerError
from ledger.periods import Cadence, Calendar, Period, calendar_for
from projections import queries
from web.backend import ledger, read_model
from web.forms import add_error
from web.permissions import WRITER_ROLES, require_write, requires_role
from web.updates.forms import VersionedForm

bp = Blueprint("updates", __name__)

# Every view here writes, or leads to writing: officers and programme managers only, and
# each view then checks the programme is one of theirs (`writable_programme`).
writers_only = requires_role(*WRITER_ROLES)

Row = dict[str, Any]

def db() -> queries.Connection:
    """The read model: this request's one read-only connection (web.backend.read_model)."""
    return read_model()


def actor() -> str:
    return current_user.username


@dataclass(frozen=True)
class Programme:
    slug: str
    name: str
    cadence: Calendar  # its cadence, or the periods a custom-cadence programme defines
    requires_mitigation: bool
    scale: list[dict[str, Any]]
    periods: list[str]  # labels with anything recorded, oldest first

    def parse(self, label: str) -> Period:
        return Period.parse(label, self.cadence)

    @property
    def has_periods(self) -> bool:
        """False for a programme on the custom cadence with no periods defined yet."""
        return self.cadence.cadence is not Cadence.CUSTOM or bool(self.cadence.defined)

    @property
    def current_period(self) -> Period:
        """The period officers are asked about by default.

        The latest period with anything recorded, because updates are written in arrears
        and the programme team opens a period by starting it: the calendar alone would
        flip everyone to "all missing" on the first day of a quarter, when nobody is yet
        reporting on it. A programme with nothing recorded starts at today's period.
        """
        if self.periods:
            return self.parse(self.periods[-1])
        return Period.containing(date.today(), self.cadence)

    def period_choices(self, *extra: str, first: str = "") -> list[SelectChoice]:
        """Periods to offer: `first` (the period open for updates) at the top, then every
        period from the latest to the earliest wanted, newest first, none skipped. Wanted:
        those with anything recorded, today's and the one before it (reporting in
        arrears), and `extra`; nothing after today's unless recorded, so a quarter not yet
        reached never invites an update."""
        return list(_period_choices(self.cadence, tuple(self.periods), extra, first, date.today()))

    def choice_or_current(
        self, label: str | None, choices: Iterable[SelectChoice], default: str = ""
    ) -> str:
        offered = [choice.value for choice in choices]
        return label if label in offered else default or self.current_period.label

    @property
    def rated(self) -> list[dict[str, Any]]:
        """The statuses that are a rating (risk RAGs): not the unrated ones."""
        return [s for s in self.scale if s["category"] != "unrated"]

    def status_items(self, statuses: list[dict[str, Any]] | None = None) -> list[dict[str, Any]]:
        return [
            {"value": s["status"], "text": s["status"], "hint": {"text": s["description"]}}
            for s in (self.scale if statuses is None else statuses)
        ]

    def status_choices(self, statuses: list[dict[str, Any]] | None = None) -> list[SelectChoice]:
        return [
            SelectChoice(s["status"], s["status"]) for s in (self.scale if statuses is None else statuses)
        ]

    def category_of(self, status: str | None) -> str:
        return next((s["category"] for s in self.scale if s["status"] == status), "unrated")

    @property
    def mitigation_hint(self) -> str:
        exceptions = [s["status"] for s in self.scale if s["category"] in ("amber", "red")]
        names = (
            ", ".join(exceptions[:-1]) + f" or {exceptions[-1]}"
            if len(exceptions) > 1
            else "".join(exceptions)
        )
        if not self.requires_mitigation or not exceptions:
            return "Optional. What is being done about any problems."
        return f"Required if the status is {names}: what is being done to bring it back on track."


@lru_cache(maxsize=512)
def _period_choices(
    cadence: Calendar, periods: tuple[str, ...], extra: tuple[str, ...], first: str, today: date
) -> tuple[SelectChoice, ...]:
    """Programme.period_choices, kept: the same programme's form asks for the same list
    on every request (77 periods for a programme reporting since 2007), and it depends only
    on these arguments (`today` among them, so a new day makes a new list)."""
    now = Period.containing(today, cadence)
    wanted = {Period.parse(label, cadence) for label in (*periods, *extra, first) if label}
    wanted |= {now, *_steps(now.previous)}
    wanted |= {cadence.at(i, "") for i in range(len(cadence.defined))}  # custom: all
    ordered = _every_period_between(min(wanted), max(wanted))  # newest first
    if first:
        ordered.insert(0, ordered.pop(ordered.index(Period.parse(first, cadence))))
    note = {first: ", open for updates"}
    return tuple(
        SelectChoice(p.label, f"{p.label} ({p.description}{note.get(p.label, '')})") for p in ordered
    )


def _every_period_between(earliest: Period, latest: Period) -> list[Period]:
    """From `latest` back to `earliest`, every period between them."""
    found = [latest]
    while found[-1] > earliest:
        try:
            found.append(found[-1].previous())
        except InvalidPeriod:  # the first period a programme defines
            break
    return found


def _steps(*steps: Callable[[], Period]) -> list[Period]:
    """The periods before and after, leaving out any past the ends a programme defines."""
    found = []
    for step in steps:
        with suppress(InvalidPeriod):
            found.append(step())
    return found


def load_programme(slug: str) -> Programme | None:
    row = queries.get_programme(db(), slug)
    if row is None:
        return None
    return Programme(
        slug=row["programme"],
        name=row["name"],
        cadence=calendar_for(row["cadence"], row["periods"]),
        requires_mitigation=row["requires_mitigation"],
        scale=row["scale"],
        periods=[p["period"] for p in queries.get_periods(db(), row["programme"])],
    )


def writable_programme(slug: str) -> Programme:
    """The programme, if the signed-in person may write to it: else 403 (or 404)."""
    require_write(current_user, slug)
    programme = load_programme(slug)
    if programme is None:
        abort(404)
    if not programme.has_periods:  # nothing can be rated until its periods are defined
        flash(f"{programme.name} has no reporting periods defined yet: define them first "
              "(periods.csv in an import, or govledger define-periods).")
        abort(redirect(url_for("dashboards.dashboard", programme=slug)))
    return programme


def writable_item(programme: str, ref: str) -> tuple[Programme, Row]:
    """The programme and its item `ref` (items table columns), if the signed-in person may
    write to the programme: else 403, or 404 for an item it does not have."""
    p = writable_programme(programme)
    item = queries.get_item(db(), p.slug, ref)
    if item is None:
        abort(404)
    return p, item


def find(rows: list[Row], ref: str) -> Row:
    """The row with `ref` (refs compare without regard to case), or 404."""
    for row in rows:
        if row["ref"].casefold() == ref.casefold():
            return row
    abort(404)


def people() -> dict[str, str]:
    """username -> display name, to say who changed a record."""
    return {a["username"]: a["display_name"] for a in queries.get_accounts(db())}


def fill(form: FlaskForm, **defaults: Any) -> FlaskForm:
    """Pre-fill a freshly opened form; a submitted form keeps exactly what was posted."""
    if not form.is_submitted():
        form.process(data=defaults)
    return form


def save(form: FlaskForm, command: Callable[[], object]) -> bool | Conflict:
    """Validate, then run one ledger command. True if saved; the Conflict if someone else
    changed the record first (the form's seen_version then moves on to what they saved,
    so submitting again is an informed "save mine anyway"); False if the form has errors."""
    if not form.validate_on_submit():
        if form.is_submitted() and not getattr(form, "csrf_token", form).errors:
            _ledger_problems_too(form, command)
        return False
    try:
        command()
    except Conflict as conflict:
        if not isinstance(form, VersionedForm):
            # A new record someone else created at the same moment: nothing to compare.
            add_error(form, conflict)
            return False
        form.seen_version.data = str(conflict.current_version)
        return conflict
    except LedgerError as error:
        add_error(form, error)
        return False
    return True


def _ledger_problems_too(form: FlaskForm, command: Callable[[], object]) -> None:
    """The form has errors of its own; check the ledger's rules on what was typed too
    (saving nothing), so every problem is on the page at once. A field the form already
    faulted keeps the form's message: the ledger saw the same bad value."""
    try:
        with ledger().checking_only():
            command()
    except Conflict:
        pass  # said after the form's own errors are fixed, with the other person's change
    except LedgerError as error:
        for problem in getattr(error, "problems", [error]):
            field = form._fields.get(problem.field or "")
            if field is not None and not field.errors:
                add_error(form, problem)


def done(message: str, location: str) -> Response:
    flash(message, "success")
    return redirect(location)


def submit(
    form: FlaskForm,
    command: Callable[[], object],
    *,
    saved: Callable[[], str],
    back: str,
    template: str,
    current: Callable[[], Any] | None = None,
    **context: Any,
) -> tuple[str, int] | Response:
    """The outline every form view here shares: save the form with one ledger command;
    if saved, flash `saved()` and go `back`; else show `template` again with what was
    typed, and after a conflict with the record as it is now (`current()`)."""
    outcome = save(form, command)
    if outcome is True:
        return done(saved(), back)
    now = current() if current is not None and isinstance(outcome, Conflict) else None
    return page(template, outcome, form=form, current=now, back=back, **context)


def page(template: str, outcome: bool | Conflict, **context: Any) -> tuple[str, int]:
    """The form again: 409 with the other person's change on a conflict, else 200."""
    conflict = outcome if isinstance(outcome, Conflict) else None
    names = people() if conflict else {}
    changed_by = ", ".join(
        dict.fromkeys(names.get(c.actor, c.actor) for c in conflict.changes) if conflict else ()
    )
    html = render_template(
        template, conflict=conflict, people=names, changed_by=changed_by or "Another user", **context
    )
    return html, 409 if conflict else 200


def requested(name: str) -> str | None:
    return request.args.get(name) or None
