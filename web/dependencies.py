"""The dependency register (issue 12, item 6): every dependency with its provider and
receiver, what each side confirmed and whether they agree; a form to name the sides and
one for each side to confirm the plan and its confidence.

Who may confirm a side: the writers (officers and programme managers) assigned to that
side's programme. A team outside the ledger has no accounts, so the dependency's own
programme confirms for it (and names the sides)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, abort, render_template, request, url_for
from flask_login import current_user
from govuk_frontend_wtf.wtforms_widgets import GovRadioInput, GovSelect, GovTextArea, GovTextInput
from werkzeug.wrappers import Response
from wtforms import RadioField, SelectChoice, SelectField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length

from ledger.domain import CONFIDENCE_LEVELS
from ledger.domain.agreement import PROGRAMME_PARTY, SIDES
from projections import queries
from web.backend import ledger
from web.permissions import WRITER_ROLES, can_write, requires_login, requires_role
from web.updates.forms import REASON_HINT, TEXT_LIMIT, VersionedForm
from web.updates.support import actor, db, fill, load_programme, submit

bp = Blueprint("dependencies", __name__)

Row = dict[str, Any]


def _reason() -> TextAreaField:
    return TextAreaField(
        "Reason (optional)",
        description=REASON_HINT,
        widget=GovTextArea(),
        validators=[Length(max=TEXT_LIMIT)],
    )


class SidesForm(VersionedForm):
    provider = StringField(
        "Provider",
        description="Who provides what the programme relies on: a programme's short id, or a team's name.",
        widget=GovTextInput(),
        validators=[Length(max=200)],
    )
    receiver = StringField(
        "Receiver",
        description="Who relies on it: a programme's short id, or a team's name.",
        widget=GovTextInput(),
        validators=[Length(max=200)],
    )
    reason = _reason()


class ConfirmSideForm(VersionedForm):
    # Unknown or missing choices are left to the ledger, which names every problem at once.
    plan_agreed = RadioField(
        "Is a jointly agreed plan in place?",
        choices=[SelectChoice("yes", "Yes"), SelectChoice("no", "No")],
        widget=GovRadioInput(),
        validate_choice=False,
    )
    confidence = RadioField(
        "Confidence",
        choices=[SelectChoice(level, level) for level in CONFIDENCE_LEVELS],
        widget=GovRadioInput(),
        validate_choice=False,
    )
    period = SelectField(
        "Period",
        widget=GovSelect(),
        validators=[InputRequired("Select a period")],
        invalid_choice_message="Select a period from the list",
    )
    reason = _reason()


def side_programme(row: Row, side: str) -> str:
    """The programme whose writers confirm `side`: the side's own, or for a team the
    dependency's programme."""
    return row[side] if row[f"{side}_kind"] == PROGRAMME_PARTY else row["programme"]


def may_confirm(user: Any, row: Row, side: str) -> bool:
    return bool(row[side]) and can_write(user, side_programme(row, side))


def _dependency(programme: str, ref: str) -> Row:
    row = queries.get_dependency_sides(db(), programme, ref)
    if row is None:
        abort(404)
    return row


@bp.route("/dependencies")
@requires_login
def register() -> str:
    """Every dependency with both sides, disagreements first (or one programme's)."""
    wanted = request.args.get("programme") or None
    return render_template(
        "dependencies/register.html",
        dependencies=queries.get_dependency_register(db(), programme=wanted),
        programmes=queries.get_programmes(db()),
        wanted=wanted,
        may_confirm=lambda row, side: may_confirm(current_user, row, side),
        may_name=lambda row: can_write(current_user, row["programme"]),
        sides=SIDES,
    )


@bp.route("/dependencies/<programme>/<ref>/sides", methods=["GET", "POST"])
@requires_role(*WRITER_ROLES)
def name_sides(programme: str, ref: str) -> tuple[str, int] | Response:
    """Name the provider and the receiver: writers of the dependency's programme."""
    row = _dependency(programme, ref)
    if not can_write(current_user, row["programme"]):
        abort(403)
    form = SidesForm()
    fill(form, provider=row["provider"], receiver=row["receiver"], seen_version=str(row["version"]))
    return submit(
        form,
        lambda: ledger().name_dependency_sides(
            row["programme"],
            row["ref"],
            provider=form.provider.data or "",
            receiver=form.receiver.data or "",
            reason=form.reason.data or "",
            actor=actor(),
            seen_version=form.seen,
        ),
        saved=lambda: f"The sides of dependency {row['ref']} are named.",
        back=url_for("dependencies.register", programme=row["programme"]),
        template="dependencies/sides.html",
        current=lambda: _dependency(programme, ref),
        dependency=row,
    )


@bp.route("/dependencies/<programme>/<ref>/confirm/<side>", methods=["GET", "POST"])
@requires_role(*WRITER_ROLES)
def confirm_side(programme: str, ref: str, side: str) -> tuple[str, int] | Response:
    """One side confirms the plan and its confidence: writers of that side's programme."""
    row = _dependency(programme, ref)
    if side not in SIDES or not row[side]:
        abort(404)
    if not may_confirm(current_user, row, side):
        abort(403)
    owner = load_programme(row["programme"])
    if owner is None:
        abort(404)
    form = ConfirmSideForm()
    form.period.choices = owner.period_choices(*(p for p in (row[f"{side}_period"],) if p))
    fill(
        form,
        plan_agreed=row[f"{side}_plan_agreed"] or "",
        confidence=row[f"{side}_confidence"] or "",
        period=owner.current_period.label,
        seen_version=str(row["version"]),
    )
    return submit(
        form,
        lambda: ledger().confirm_dependency_side(
            row["programme"],
            row["ref"],
            side=side,
            plan_agreed=form.plan_agreed.data or "",
            confidence=form.confidence.data or "",
            period=form.period.data,
            reason=form.reason.data or "",
            actor=actor(),
            seen_version=form.seen,
        ),
        saved=lambda: f"The {side}'s confirmation of dependency {row['ref']} is recorded.",
        back=url_for("dependencies.register", programme=row["programme"]),
        template="dependencies/confirm.html",
        current=lambda: _dependency(programme, ref),
        dependency=row,
        side=side,
    )


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
