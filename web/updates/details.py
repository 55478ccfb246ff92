"""A programme's details: its name, what it is, who to contact, and whether Amber and Red
updates must say what mitigation is in hand. Programme managers change them for their own
programmes; each change is an event (a change of the mitigation rule needs a reason)."""

from __future__ import annotations

from flask import abort, url_for
from govuk_frontend_wtf.wtforms_widgets import GovTextInput
from werkzeug.wrappers import Response
from wtforms import RadioField, SelectChoice, StringField
from wtforms.validators import Email, InputRequired, Length, Optional

from projections import queries
from web.backend import ledger
from web.permissions import PROGRAMME_MANAGER, requires_role
from web.updates.forms import RestatingForm, description_area, textarea
from web.updates.support import actor, bp, db, fill, submit, writable_programme
from web.widgets import RadioInput


def _text(label: str, hint: str = "", *validators: object, limit: int = 200) -> StringField:
    return StringField(
        label, description=hint, widget=GovTextInput(), validators=[*validators, Length(max=limit)]
    )


class ProgrammeDetailsForm(RestatingForm):
    name = _text("Name", "", InputRequired("Enter the programme's name"))
    description = description_area("Description (optional)", "What the programme is: reports print it.")
    contact_name = _text("Contact officer (optional)")
    contact_phone = _text("Contact phone (optional)", "", limit=50)
    contact_email = _text(
        "Contact email (optional)", "", Optional(), Email("Enter an email address like name@council.gov.uk")
    )
    requires_mitigation = RadioField(
        "Must Amber and Red updates say what mitigation is in hand?",
        description="From now on: updates already recorded stand as they are.",
        choices=[SelectChoice("yes", "Yes"), SelectChoice("no", "No")],
        widget=RadioInput(),
        validators=[InputRequired("Select whether Amber and Red updates need a mitigation")],
        invalid_choice_message="Select yes or no",
    )
    reason = textarea(
        "Reason (needed to change the mitigation rule)", "Auditors will see this with your name and the time."
    )
    unchanged = "These are the details already: change one of them"


@bp.route("/programmes/<programme>/details", methods=["GET", "POST"])
@requires_role(PROGRAMME_MANAGER)
def programme_details(programme: str) -> tuple[str, int] | Response:
    p = writable_programme(programme)
    row = queries.get_programme(db(), p.slug)
    if row is None:
        abort(404)
    form = ProgrammeDetailsForm()
    contact = row["contact"]
    form.now = {
        "name": row["name"], "description": row["description"] or "",
        "contact_name": contact.get("name", ""), "contact_phone": contact.get("phone", ""),
        "contact_email": contact.get("email", ""),
        "requires_mitigation": "yes" if row["requires_mitigation"] else "no",
    }
    fill(form, **form.now, seen_version=str(row["version"]))
    return submit(
        form,
        lambda: ledger().change_programme_details(
            p.slug, name=form.name.data or "", description=form.description.data or "",
            contact={k: getattr(form, f"contact_{k}").data or "" for k in ("name", "phone", "email")},
            requires_mitigation=form.requires_mitigation.data == "yes", reason=form.reason.data or "",
            actor=actor(), seen_version=form.seen,
        ),
        saved=lambda: f"{form.name.data}: details saved.",
        back=url_for("dashboards.dashboard", programme=p.slug),
        template="updates/programme_details.html",
        current=lambda: queries.get_programme(db(), p.slug),
        programme=p,
        details=row,
    )
