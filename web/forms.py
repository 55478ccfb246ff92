"""WTForms forms rendered with GOV.UK Frontend widgets.

Messages follow the GOV.UK pattern ("Enter...", "Select..."). Domain rules (username
shape, reasons, roles) are checked by the ledger, whose errors name the field at fault;
`add_error` puts them on the right field so the error summary links to it.
"""

from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import (
    GovDateInput,
    GovPasswordInput,
    GovRadioInput,
    GovSelect,
    GovSubmitInput,
    GovTextArea,
    GovTextInput,
)
from wtforms import (
    DateField,
    HiddenField,
    PasswordField,
    RadioField,
    SelectChoice,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import EqualTo, InputRequired, Length

from ledger.domain import ROLES
from ledger.errors import InvalidInput, LedgerError
from web.accounts import ROLE_LABELS

ROLE_CHOICES = [SelectChoice(role, ROLE_LABELS[role]) for role in ROLES]


class LoginForm(FlaskForm):
    username = StringField(
        "Username",
        widget=GovTextInput(),
        validators=[InputRequired("Enter your username")],
    )
    password = PasswordField(
        "Password", widget=GovPasswordInput(), validators=[InputRequired("Enter your password")]
    )
    submit = SubmitField("Sign in", widget=GovSubmitInput())


class NewPasswordMixin:
    password = PasswordField(
        "New password",
        description="Use 12 characters or more. A few unrelated words make a strong password.",
        widget=GovPasswordInput(),
        validators=[InputRequired("Enter a new password")],
    )
    confirm = PasswordField(
        "Confirm new password",
        widget=GovPasswordInput(),
        validators=[
            InputRequired("Confirm the new password"),
            EqualTo("password", "The passwords do not match"),
        ],
    )


class ChangePasswordForm(NewPasswordMixin, FlaskForm):
    current = PasswordField(
        "Current password",
        widget=GovPasswordInput(),
        validators=[InputRequired("Enter your current password")],
    )
    submit = SubmitField("Change password", widget=GovSubmitInput())


class SetPasswordForm(NewPasswordMixin, FlaskForm):
    submit = SubmitField("Set password", widget=GovSubmitInput())


class CreateAccountForm(FlaskForm):
    username = StringField(
        "Username",
        description="Letters, digits, dots, hyphens and @ only, for example j.smith",
        widget=GovTextInput(),
        validators=[InputRequired("Enter a username"), Length(max=100)],
    )
    display_name = StringField(
        "Full name",
        widget=GovTextInput(),
        validators=[InputRequired("Enter the person's name"), Length(max=200)],
    )
    role = RadioField(
        "Role",
        choices=ROLE_CHOICES,
        widget=GovRadioInput(),
        validators=[InputRequired("Select a role")],
    )
    password = PasswordField(
        "Initial password",
        description="Use 12 characters or more. Give it to the person securely; they can "
        "change it after signing in.",
        widget=GovPasswordInput(),
        validators=[InputRequired("Enter an initial password")],
    )
    submit = SubmitField("Create account", widget=GovSubmitInput())


def reason_field(label: str, hint: str, required: bool = True) -> TextAreaField:
    validators = [InputRequired("Enter a reason"), Length(max=2000)] if required else [
        Length(max=2000)
    ]
    return TextAreaField(label, description=hint, widget=GovTextArea(), validators=validators)


class RoleForm(FlaskForm):
    role = RadioField(
        "Role", choices=ROLE_CHOICES, widget=GovRadioInput(), validators=[InputRequired("Select a role")]
    )
    reason = reason_field("Reason", "Auditors will see this with your name, for example "
                          "'Joined the performance team'.")
    submit = SubmitField("Save", widget=GovSubmitInput())


class ProgrammeForm(FlaskForm):
    programme = SelectField(
        "Programme", widget=GovSelect(), validators=[InputRequired("Select a programme")]
    )
    reason = reason_field("Reason", "Auditors will see this with your name.")
    submit = SubmitField("Save", widget=GovSubmitInput())


class AssignProgrammeForm(ProgrammeForm):
    reason = reason_field(
        "Reason (optional)", "Auditors will see this with your name.", required=False
    )


class ReasonForm(FlaskForm):
    reason = reason_field("Reason", "Auditors will see this with your name.")
    submit = SubmitField("Confirm", widget=GovSubmitInput())


class EmailForm(FlaskForm):
    email = StringField(
        "Email address",
        description="Reminders of updates due go here. Leave it empty to remove the address.",
        widget=GovTextInput(),
        validators=[Length(max=320)],
    )
    reason = reason_field("Reason", "Auditors will see this with your name.")
    submit = SubmitField("Save email address", widget=GovSubmitInput())


class ScaleForm(FlaskForm):
    """Define or revise a status scale: its statuses one a line, as scales.csv lists them."""

    scale = StringField(
        "Scale id",
        description="Letters, digits and hyphens, for example outcomes. Imports name the scale by it.",
        widget=GovTextInput(), validators=[Length(max=60)],
    )
    name = StringField("Name", widget=GovTextInput(), validators=[Length(max=200)])
    statuses = TextAreaField(
        "Statuses, best first",
        description="One status a line: name, category (on track, minor issues, major issues, complete, "
        "not yet due, not rated or closed), colour (#rrggbb or empty), aliases separated by ;, "
        "needs mitigation (yes, no or empty), group. For example: Partly achieved, minor issues, #ffdd00, PA",
        widget=GovTextArea(), validators=[Length(max=20_000)],
    )
    reason = reason_field("Reason", "Auditors will see this with your name.", required=False)
    submit = SubmitField("Save scale", widget=GovSubmitInput())


class ProgrammeScaleForm(FlaskForm):
    """Change the scale a programme rates on, saying which new status each old one becomes."""

    scale = SelectField("Scale", widget=GovSelect(), validate_choice=False)
    mapping = TextAreaField(
        "Old status = new status",
        description="One a line, for example: Partly achieved = Amber. Statuses the new scale also has "
        "map to themselves. Leave empty to change the scale without comparing old periods.",
        widget=GovTextArea(), validators=[Length(max=20_000)],
    )
    from_period = StringField(
        "First period on the new scale (optional)",
        description="For example 2024/25 Q3. Periods before it keep the old scale, as when loading a "
        "council's history. Leave empty for the new scale to apply from now on.",
        widget=GovTextInput(), validators=[Length(max=40)],
    )
    reason = reason_field("Reason", "Auditors will see this with your name.")
    submit = SubmitField("Change scale", widget=GovSubmitInput())


class LeadForm(FlaskForm):
    """Link a lead (one item's, or every item a free-text lead names) to an account."""

    lead_officer = HiddenField()
    account = SelectField("Account", widget=GovSelect(), validate_choice=False)
    reason = reason_field(
        "Reason", "Auditors will see this with your name, for example 'Leads the roads programme'."
    )
    submit = SubmitField("Link lead", widget=GovSubmitInput())


class DueDateField(DateField):
    """A GOV.UK date input (day, month, year) whose error says what to type."""

    def __init__(self, label: str, **kwargs: Any) -> None:
        super().__init__(label, format="%d %m %Y", widget=GovDateInput(), **kwargs)

    def process(self, formdata: Any, data: Any = None, **kwargs: Any) -> None:
        super().process(formdata, data, **kwargs)
        if self.raw_data is not None and len(self.raw_data) != 3:
            # The widget shows day, month and year: a post missing some shows them empty.
            self.raw_data = [*self.raw_data, "", "", ""][:3]

    def process_formdata(self, valuelist: list[Any]) -> None:
        if valuelist and any(str(v).strip() for v in valuelist):
            try:
                super().process_formdata([" ".join(str(v).strip() for v in valuelist)])
            except ValueError:
                raise ValueError(f"{self.label.text} must be a real date, for example 15 7 2024") from None


# The largest whole number SQLite (and so the event store's versions and positions) holds.
LARGEST_NUMBER = 2**63 - 1


def whole_number(text: str | None) -> int | None:
    """`text` as a whole number from 0 to LARGEST_NUMBER, or None: for every number a form
    or query string carries to the ledger or the read model, so a giant one is a clear
    error rather than an overflow deep inside SQLite."""
    text = (text or "").strip()
    # isascii: "²".isdigit() is True; the length check spares int() a million digits.
    if not text.isascii() or not text.isdigit() or len(text) > len(str(LARGEST_NUMBER)):
        return None
    number = int(text)
    return number if number <= LARGEST_NUMBER else None


def add_error(form: FlaskForm, error: LedgerError | str, field: str | None = None) -> None:
    """Attach an error to the field it names, or to the form as a whole; each of several
    problems (InvalidInput) to its own field."""
    if isinstance(error, InvalidInput):
        for problem in error.problems:
            add_error(form, problem)
        return
    message = error.message if isinstance(error, LedgerError) else error
    name = field or (error.field if isinstance(error, LedgerError) else None)
    target = form._fields.get(name) if name else None
    if target is None:
        form.form_errors.append(message)
    else:
        target.errors = [*target.errors, message]


def error_summary(form: FlaskForm) -> list[dict[str, Any]]:
    """The GOV.UK error summary list: one entry per field error, linked to the field."""
    items: list[dict[str, Any]] = [{"text": message} for message in form.form_errors]
    for field in form:
        if field.errors:
            # GOV.UK radios give the first option the field's own id, so this works for all.
            items.append({"text": field.errors[0], "href": f"#{field.id}"})
    return items
