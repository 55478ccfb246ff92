"""Signing in and out, and changing your own password."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import (
    Blueprint,
    Flask,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import LoginManager, current_user, login_user, logout_user
from werkzeug.wrappers import Response

from ledger.errors import LedgerError
from web.accounts import Anonymous, User, load_user, set_password
from web.backend import backend
from web.forms import ChangePasswordForm, LoginForm, add_error
from web.permissions import public, requires_login
from web.ratelimit import limiter, login_key, login_limit, login_limit_per_ip

bp = Blueprint("auth", __name__)

SIGN_IN_FAILED = "Enter a correct username and password"
# The session generation a session signed in under (web.credentials.session_generation).
SESSION_GENERATION = "generation"


def _safe_next(target: str | None) -> str:
    """Only a path on this site: an open redirect would make the sign-in page a phishing aid."""
    if target:
        parts = urlsplit(target)
        same_site = not parts.netloc or parts.netloc == request.host
        if same_site and parts.path.startswith("/") and not parts.path.startswith(("//", "/\\")):
            return parts.path + (f"?{parts.query}" if parts.query else "")
    return url_for("home.index")


@bp.route("/login", methods=["GET", "POST"])
@public
@limiter.limit(login_limit_per_ip, methods=["POST"])
@limiter.limit(login_limit, key_func=login_key, methods=["POST"])
def login() -> str | Response:
    if current_user.is_authenticated:
        return redirect(_safe_next(request.args.get("next")))
    form = LoginForm()
    if form.validate_on_submit():
        username = form.username.data.strip().lower()
        user = load_user(backend().ledger, username)
        # One message whatever went wrong, so the form does not reveal which usernames exist.
        if user is not None and backend().credentials.verify(username, form.password.data):
            session.clear()
            # Not a permanent session: the cookie dies with the browser (shared council
            # PCs), Flask rejects it 8 hours after sign-in (PERMANENT_SESSION_LIFETIME is
            # the signature's max age), and Flask-Login's strong protection, which it
            # relaxes for permanent sessions, stays strong.
            login_user(user)
            session[SESSION_GENERATION] = backend().credentials.session_generation(username)
            return redirect(_safe_next(request.args.get("next")))
        add_error(form, SIGN_IN_FAILED, field="username")
    return render_template("auth/login.html", form=form)


@bp.route("/logout", methods=["POST"])
@requires_login
def logout() -> Response:
    # Every copy of this cookie, on every worker, is refused from the next request on.
    backend().credentials.end_sessions(current_user.username)
    logout_user()
    session.clear()
    flash("You have signed out.", "success")
    return redirect(url_for("auth.login"))


@bp.route("/account/password", methods=["GET", "POST"])
@requires_login
def change_password() -> str | Response:
    form = ChangePasswordForm()
    if form.validate_on_submit():
        credentials = backend().credentials
        if not credentials.verify(current_user.username, form.current.data):
            add_error(form, "Your current password is not correct", field="current")
        else:
            try:
                set_password(
                    backend().ledger, credentials, username=current_user.username,
                    password=form.password.data, actor=current_user.username,
                    reason="Changed by its owner",
                    min_password_length=current_app.config["MIN_PASSWORD_LENGTH"],
                )
            except LedgerError as error:
                add_error(form, error)
            else:
                flash("Your password has been changed.", "success")
                return redirect(url_for("home.index"))
    return render_template("auth/change_password.html", form=form)


def init_app(app: Flask) -> None:
    manager = LoginManager(app)
    manager.login_view = "auth.login"
    manager.login_message = "Sign in to continue."
    manager.login_message_category = "info"
    manager.session_protection = "strong"
    manager.anonymous_user = Anonymous

    @manager.user_loader
    def _load(username: str) -> User | None:
        # A session from before its account last signed out is over, wherever it was copied.
        if session.get(SESSION_GENERATION) != backend().credentials.session_generation(username):
            return None
        return load_user(backend().ledger, username)

    app.register_blueprint(bp)
