"""Account administration. Every change is a ledger command, so auditors can see who
gave whom access, when and why."""

from __future__ import annotations

from collections.abc import Callable

from flask import Blueprint, Flask, abort, current_app, flash, redirect, render_template, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response
from wtforms import SelectChoice

from ledger.errors import LedgerError, UnknownRef
from projections import queries
from web.accounts import ROLE_LABELS, create_account
from web.accounts import set_password as set_account_password
from web.backend import backend, read_model
from web.forms import (
    AssignProgrammeForm,
    CreateAccountForm,
    EmailForm,
    ProgrammeForm,
    ReasonForm,
    RoleForm,
    SetPasswordForm,
    add_error,
)
from web.permissions import ADMINISTRATOR, requires_role

bp = Blueprint("admin", __name__, url_prefix="/admin")


def _account(username: str) -> dict:
    try:
        return backend().ledger.get_account(username)
    except UnknownRef:
        abort(404)


def _done(username: str, message: str) -> Response:
    flash(message, "success")
    return redirect(url_for("admin.account", username=username))


@bp.route("/accounts")
@requires_role(ADMINISTRATOR)
def accounts() -> str:
    return render_template(
        "admin/accounts.html", accounts=queries.get_accounts(read_model()), role_labels=ROLE_LABELS
    )


@bp.route("/accounts/new", methods=["GET", "POST"])
@requires_role(ADMINISTRATOR)
def new_account() -> str | Response:
    form = CreateAccountForm()
    if form.validate_on_submit():
        try:
            username = create_account(
                backend().ledger,
                backend().credentials,
                username=form.username.data,
                display_name=form.display_name.data,
                role=form.role.data,
                password=form.password.data,
                actor=current_user.username,
                min_password_length=current_app.config["MIN_PASSWORD_LENGTH"],
            )
        except LedgerError as error:
            add_error(form, error)
        else:
            return _done(username, f"Account {username} created.")
    return render_template("admin/new_account.html", form=form)


@bp.route("/accounts/<username>")
@requires_role(ADMINISTRATOR)
def account(username: str) -> str:
    found, names = _account(username), _programme_names()
    return render_template(
        "admin/account.html", account=found, role_labels=ROLE_LABELS,
        programmes=[names.get(slug, slug) for slug in found["programmes"]],
    )


def _programme_names() -> dict[str, str]:
    """slug -> name: people read a programme by its name, not its short id."""
    return {p["programme"]: p["name"] for p in queries.get_programmes(read_model())}


def _account_change(
    username: str,
    form: FlaskForm,
    *,
    template: str,
    command: Callable[[FlaskForm], object],
    success: Callable[[FlaskForm], str],
    guard: Callable[[FlaskForm], str | None] = lambda form: None,
) -> str | Response:
    """validate -> one ledger command -> flash -> redirect; else re-render with errors."""
    account = _account(username)
    if form.validate_on_submit():
        problem = guard(form)
        if problem:
            add_error(form, problem)
        else:
            try:
                command(form)
            except LedgerError as error:
                add_error(form, error)
            else:
                return _done(account["username"], success(form))
    return render_template(template, form=form, account=account, role_labels=ROLE_LABELS)


def _not_yourself(username: str, what: str) -> Callable[[FlaskForm], str | None]:
    """An administrator cannot lock themselves out; another administrator must do it."""

    def guard(form: FlaskForm) -> str | None:
        if username.lower() != current_user.username:
            return None
        if what == "revoke" and form.role.data != ADMINISTRATOR:
            return None
        return "You cannot do this to your own account. Ask another administrator."

    return guard


@bp.route("/accounts/<username>/grant-role", methods=["GET", "POST"])
@requires_role(ADMINISTRATOR)
def grant_role(username: str) -> str | Response:
    return _account_change(
        username,
        RoleForm(),
        template="admin/grant_role.html",
        command=lambda f: backend().ledger.grant_role(
            username, f.role.data, actor=current_user.username, reason=f.reason.data
        ),
        success=lambda f: f"{ROLE_LABELS[f.role.data]} role granted.",
    )


@bp.route("/accounts/<username>/revoke-role", methods=["GET", "POST"])
@requires_role(ADMINISTRATOR)
def revoke_role(username: str) -> str | Response:
    return _account_change(
        username,
        RoleForm(),
        template="admin/revoke_role.html",
        command=lambda f: backend().ledger.revoke_role(
            username, f.role.data, actor=current_user.username, reason=f.reason.data
        ),
        success=lambda f: f"{ROLE_LABELS[f.role.data]} role revoked.",
        guard=_not_yourself(username, "revoke"),
    )


def _programme_form(form: ProgrammeForm, choices: list[tuple[str, str]]) -> ProgrammeForm:
    form.programme.choices = [
        SelectChoice("", "Select a programme"),
        *(SelectChoice(value, label) for value, label in choices),
    ]
    return form


@bp.route("/accounts/<username>/assign-programme", methods=["GET", "POST"])
@requires_role(ADMINISTRATOR)
def assign_programme(username: str) -> str | Response:
    names = _programme_names()
    return _account_change(
        username,
        _programme_form(AssignProgrammeForm(), list(names.items())),
        template="admin/assign_programme.html",
        command=lambda f: backend().ledger.assign_programme(
            username, f.programme.data, actor=current_user.username, reason=f.reason.data
        ),
        success=lambda f: f"Access to {names.get(f.programme.data, f.programme.data)} given.",
    )


@bp.route("/accounts/<username>/unassign-programme", methods=["GET", "POST"])
@requires_role(ADMINISTRATOR)
def unassign_programme(username: str) -> str | Response:
    assigned = _account(username)["programmes"]
    names = _programme_names()
    return _account_change(
        username,
        _programme_form(ProgrammeForm(), [(slug, names.get(slug, slug)) for slug in assigned]),
        template="admin/unassign_programme.html",
        command=lambda f: backend().ledger.unassign_programme(
            username, f.programme.data, actor=current_user.username, reason=f.reason.data
        ),
        success=lambda f: f"Access to {names.get(f.programme.data, f.programme.data)} removed.",
    )


@bp.route("/accounts/<username>/deactivate", methods=["GET", "POST"])
@requires_role(ADMINISTRATOR)
def deactivate(username: str) -> str | Response:
    return _account_change(
        username,
        ReasonForm(),
        template="admin/deactivate.html",
        command=lambda f: backend().ledger.deactivate_account(
            username, actor=current_user.username, reason=f.reason.data
        ),
        success=lambda f: "Account deactivated. They can no longer sign in.",
        guard=_not_yourself(username, "deactivate"),
    )


@bp.route("/accounts/<username>/reactivate", methods=["GET", "POST"])
@requires_role(ADMINISTRATOR)
def reactivate(username: str) -> str | Response:
    return _account_change(
        username,
        ReasonForm(),
        template="admin/reactivate.html",
        command=lambda f: backend().ledger.reactivate_account(
            username, actor=current_user.username, reason=f.reason.data
        ),
        success=lambda f: "Account reactivated.",
    )


@bp.route("/accounts/<username>/email", methods=["GET", "POST"])
@requires_role(ADMINISTRATOR)
def set_email(username: str) -> str | Response:
    """The address reminders of updates due are sent to."""
    form = EmailForm()
    if not form.is_submitted():
        form.email.data = _account(username)["email"]
    return _account_change(
        username,
        form,
        template="admin/set_email.html",
        command=lambda f: backend().ledger.set_email(
            username, f.email.data, actor=current_user.username, reason=f.reason.data
        ),
        success=lambda f: "Email address saved." if f.email.data.strip() else "Email address removed.",
    )


@bp.route("/accounts/<username>/password", methods=["GET", "POST"])
@requires_role(ADMINISTRATOR)
def set_password(username: str) -> str | Response:
    """Reset a forgotten password: the reset (who, when) is a ledger event; the password
    is only ever hashed in the credential store."""

    def command(form: FlaskForm) -> None:
        set_account_password(
            backend().ledger, backend().credentials, username=username, password=form.password.data,
            actor=current_user.username, reason="Reset by an administrator",
            min_password_length=current_app.config["MIN_PASSWORD_LENGTH"],
        )

    return _account_change(
        username,
        SetPasswordForm(),
        template="admin/set_password.html",
        command=command,
        success=lambda f: "Password set. Give it to them securely.",
    )


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
