"""One WTForms form per page. Choices that depend on the programme (its periods, its
status scale) are filled in by the view before validation.

The forms check only what a form can know (something chosen, something typed, a choice
from the list); the ledger checks the rules (mitigation for Amber and Red, a reason to
re-rate or correct) and its errors are put on the field they name. Status and RAG radios
leave unknown values to the ledger, whose message names the scale's statuses.
"""

from __future__ import annotations

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import (
    GovCheckboxesInput,
    GovTextArea,
    GovTextInput,
)
from wtforms import (
    Field,
    HiddenField,
    RadioField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import InputRequired, Length, Optional, ValidationError

from ledger.domain import CONFIDENCE_LEVELS, NARRATIVE_SECTIONS
from web.forms import DueDateField, whole_number
from web.widgets import RadioInput, Select

TEXT_LIMIT = 10_000  # generous: a long update is normal, a megabyte is not
REASON_HINT = "Auditors will see this with your name and the time."


def textarea(label: str, hint: str = "", *, required: str | None = None) -> TextAreaField:
    validators = [InputRequired(required)] if required else []
    return TextAreaField(
        label, description=hint, widget=GovTextArea(), validators=[*validators, Length(max=TEXT_LIMIT)]
    )


def _lf(text: str | None) -> str | None:
    return text.replace("\r\n", "\n") if text else text


def description_area(label: str, hint: str) -> TextAreaField:
    """A record's description, which a form compares with the one stored: browsers send a
    textarea's new lines as CRLF, so they are read as the LF they were stored with."""
    return TextAreaField(
        label, description=hint, widget=GovTextArea(), filters=[_lf], validators=[Length(max=TEXT_LIMIT)]
    )


def period_select(label: str = "Period") -> SelectField:
    return SelectField(
        label,
        widget=Select(),
        validators=[InputRequired("Select a period")],
        invalid_choice_message="Select a period from the list",
    )


def _rating(label: str, *, required: str | None = None, hint: str = "") -> RadioField:
    validators = [InputRequired(required)] if required else []
    return RadioField(
        label, description=hint, widget=RadioInput(), validate_choice=False, validators=validators
    )


def _seen_version() -> HiddenField:
    return HiddenField(validators=[_version_number])


def _version_number(form: FlaskForm, field: Field) -> None:
    # Without it the ledger could not tell that someone else saved first, so never guess.
    if whole_number(field.data) is None:
        raise ValidationError(
            "This form did not carry a usable version of the record you opened. Copy your "
            "text, reload the page and try again."
        )


class VersionedForm(FlaskForm):
    """A change to a record someone may have changed since the page was rendered."""

    seen_version = _seen_version()

    @property
    def seen(self) -> int:
        return whole_number(self.seen_version.data)  # type: ignore[return-value]  (validated)


class StatusUpdateForm(VersionedForm):
    period = period_select()
    status = _rating("Status", required="Select a status")
    update = textarea(
        "Update",
        "What progress has been made this period, and what happens next.",
        required="Enter an update",
    )
    mitigation = textarea("Mitigation or corrective action")
    reason = textarea(
        "Reason for changing the status",
        f"Needed only if this period already has a different status. {REASON_HINT}",
    )


class CorrectionForm(VersionedForm):
    period = period_select("Period to correct")
    status = _rating("Status", required="Select a status")
    update = textarea("Update")
    mitigation = textarea("Mitigation or corrective action")
    reason = textarea(
        "What was wrong", f"For example 'Typed the wrong rating'. {REASON_HINT}", required="Enter a reason"
    )


# Many registers publish only the residual rating (issue 11 item 6), so the ledger
# takes the rating before mitigation as optional, and so do the forms.
RAG_BEFORE_HINT = "Leave as 'Not published' if the register gives only the rating after mitigation."
KIND_CHOICES = [SelectChoice("risk", "Risk"), SelectChoice("issue", "Issue")]


class RaiseRiskForm(FlaskForm):
    kind = RadioField(
        "Risk or issue",
        choices=KIND_CHOICES,
        widget=RadioInput(),
        validators=[InputRequired("Select risk or issue")],
        description="A risk might happen; an issue has happened.",
    )
    ref = StringField(
        "Reference",
        description="For example R4 or I2.",
        widget=GovTextInput(),
        validators=[InputRequired("Enter a reference"), Length(max=50)],
    )
    description = textarea("Description", required="Enter a description")
    rag_before = _rating("RAG before mitigation", hint=RAG_BEFORE_HINT)
    mitigation = textarea("Mitigation plan")
    rag_after = _rating(
        "RAG after mitigation", hint="Leave as 'Not re-rated yet' until the mitigation has taken effect."
    )
    owner = StringField("Owner", widget=GovTextInput(), validators=[Length(max=200)])
    period = period_select("Period raised")


class RerateRiskForm(VersionedForm):
    rag_before = _rating("RAG before mitigation", hint=RAG_BEFORE_HINT)
    mitigation = textarea("Mitigation plan")
    rag_after = _rating("RAG after mitigation")
    period = period_select()
    reason = textarea("Reason for re-rating", REASON_HINT, required="Enter a reason for re-rating")


class CloseRiskForm(VersionedForm):
    period = period_select("Period closed")
    reason = textarea("Reason for closing", REASON_HINT, required="Enter a reason for closing it")


class ReopenRiskForm(VersionedForm):
    period = period_select("Period reopened")
    reason = textarea("Reason for reopening", REASON_HINT, required="Enter a reason for reopening it")


PLAN_CHOICES = [SelectChoice("yes", "Yes"), SelectChoice("no", "No"), SelectChoice("", "Not stated")]
CONFIDENCE_CHOICES = [
    *(SelectChoice(level, level) for level in CONFIDENCE_LEVELS),
    SelectChoice("", "Not stated"),
]


def _plan_agreed() -> RadioField:
    return RadioField(
        "Is a jointly agreed plan in place?",
        choices=PLAN_CHOICES,
        widget=RadioInput(),
        validate_choice=False,
    )


def _confidence() -> RadioField:
    return RadioField("Confidence", choices=CONFIDENCE_CHOICES, widget=RadioInput(), validate_choice=False)


class RegisterDependencyForm(FlaskForm):
    ref = StringField(
        "Reference",
        description="For example D3.",
        widget=GovTextInput(),
        validators=[InputRequired("Enter a reference"), Length(max=50)],
    )
    description = textarea(
        "Description", "What the programme relies on, and on whom.", required="Enter a description"
    )
    plan_agreed = _plan_agreed()
    confidence = _confidence()
    owner = StringField("Owner", widget=GovTextInput(), validators=[Length(max=200)])
    period = period_select()


class ReviewDependencyForm(VersionedForm):
    plan_agreed = _plan_agreed()
    confidence = _confidence()
    period = period_select()
    reason = textarea("Reason (optional)", REASON_HINT)


class IndicatorValueForm(VersionedForm):
    period = period_select()
    breakdown = StringField(
        "Breakdown (optional)",
        description="For example a directorate. Leave empty for the overall figure.",
        widget=GovTextInput(),
        validators=[Length(max=200)],
    )
    value = StringField(
        "Value",
        description="A number, for example 2,869 or 12.16%.",
        widget=GovTextInput(),
        validators=[InputRequired("Enter a value"), Length(max=50)],
    )
    reason = textarea("Reason (if you change a value already recorded)", REASON_HINT)


BETTER_CHOICES = [
    SelectChoice("higher", "Higher is better"),
    SelectChoice("lower", "Lower is better"),
    SelectChoice("neither", "Neither: it is watched, not judged"),
]


class RestatingForm(VersionedForm):
    """A form that gives a record's details again, each prefilled from `now` (set by the
    view): one that changes none of them is refused with `unchanged`, on its name."""

    now: dict[str, str] = {}
    unchanged = "Nothing has changed"

    def validate_name(self, field: Field) -> None:
        if self.now and all((self[k].data or "").strip() == self.now[k] for k in self.now):
            raise ValidationError(self.unchanged)


class IndicatorDefinitionForm(RestatingForm):
    name = StringField(
        "Name", widget=GovTextInput(),
        validators=[InputRequired("Enter the indicator's name"), Length(max=200)],
    )
    unit = StringField(
        "Unit (optional)", description="For example FTE, % or £m.", widget=GovTextInput(),
        validators=[Length(max=50)],
    )
    better = RadioField(
        "Which direction is better",
        description="Every value's direction of travel (better or worse) is judged by this.",
        choices=BETTER_CHOICES,
        widget=RadioInput(),
        validators=[InputRequired("Select which direction is better")],
        invalid_choice_message="Select higher, lower or neither",
    )
    description = description_area(
        "Description (optional)", "What is measured, and where the figure comes from."
    )
    reason = textarea(
        "Reason", "Past values' directions of travel are judged again: auditors will see this with your "
        "name and the time.", required="Enter why the definition changes",
    )
    unchanged = "This is the definition already: change the name, unit, direction or description"


DEFINITION = ("name", "unit", "better", "description")  # what a redefinition sets


class NarrativeForm(VersionedForm):
    """One textarea per report section, named by the section's key."""

    period = HiddenField(validators=[InputRequired("Choose a period")])


for _key, _heading in NARRATIVE_SECTIONS.items():
    setattr(NarrativeForm, _key, textarea(_heading))


class OpenPeriodForm(FlaskForm):
    period = period_select()
    due_date = DueDateField(
        "Updates due by",
        description="For example, 15 7 2024. Leads are reminded of what they owe; after this date "
        "it shows as overdue.",
        validators=[InputRequired("Enter the date updates are due")],
    )
    reason = textarea("Note (optional)", REASON_HINT)


class ExtendPeriodForm(FlaskForm):
    period = period_select()
    due_date = DueDateField(
        "New due date",
        description="Later than the date now set, for example 31 7 2024.",
        validators=[InputRequired("Enter the new due date")],
    )
    reason = textarea("Reason", REASON_HINT, required="Enter why updates are due later")


class ItemMeasuresForm(VersionedForm):
    """What an item's rating should agree with: its due date and linked indicators."""

    due_date = DueDateField(
        "Due date",
        description="When the item should be complete, for example 31 3 2027. Leave empty for none. "
        "An item rated on track after this date, and not complete, is flagged.",
        validators=[Optional()],
    )
    indicators = SelectMultipleField(
        "Indicators it is measured by",
        description="An item rated on track while one of these worsens is flagged.",
        widget=GovCheckboxesInput(), validate_choice=False,
    )
    reason = textarea("Reason", f"Needed when changing a date or links set before. {REASON_HINT}")
