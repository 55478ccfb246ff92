"""Who may use which view: the one place access rules are declared.

Every view carries exactly one of `@public`, `@requires_login` or `@requires_role(...)`,
placed directly under its `@bp.route(...)`. `undeclared_endpoints(app)` lists any view
without one; `create_app` refuses to start if that list is not empty, and a test says
the same, so a new route can never be open by accident.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any, TypeVar

from flask import Flask, abort, current_app
from flask_login import current_user

from ledger.domain import ROLES

F = TypeVar("F", bound=Callable[..., Any])

ATTRIBUTE = "__govledger_permission__"

# The ledger's one list of roles, named for code: no view types a role name again.
OFFICER, PROGRAMME_MANAGER, AUDITOR, ANALYST, ADMINISTRATOR = ROLES

# Roles whose people write to programmes, and only to the programmes assigned to them.
WRITER_ROLES = (OFFICER, PROGRAMME_MANAGER)
# Read-everything roles; they never write.
READER_ROLES = (AUDITOR, ANALYST)
# Everyone with a role reads every programme's reports.
EVERY_ROLE = ROLES
# Publishing is programme content: programme managers only. Administrators manage
# access, not content, so the people who grant access cannot also publish.
PUBLISHER_ROLES = (PROGRAMME_MANAGER,)
# The audit pages and the checkpoint (web.audit).
AUDIT_ROLES = (AUDITOR, ANALYST, ADMINISTRATOR, PROGRAMME_MANAGER)
CHECKPOINT_ROLES = (AUDITOR, ADMINISTRATOR)


@dataclass(frozen=True)
class Permission:
    """`roles` empty with `login` True means any signed-in person."""

    public: bool = False
    login: bool = True
    roles: frozenset[str] = frozenset()

    def allows(self, user: Any) -> bool:
        if self.public:
            return True
        if not user.is_authenticated:
            return False
        return not self.roles or user.has_role(*self.roles)

    def describe(self) -> str:
        if self.public:
            return "public"
        if not self.roles:
            return "signed in"
        return " or ".join(sorted(self.roles))


def _declare(view: F, permission: Permission, check: Callable[[], None] | None) -> F:
    if hasattr(view, ATTRIBUTE):
        raise TypeError(f"{view.__name__} already declares a permission")
    if check is None:
        wrapped = view
    else:

        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            check()
            return view(*args, **kwargs)

    setattr(wrapped, ATTRIBUTE, permission)
    return wrapped  # type: ignore[return-value]


def public(view: F) -> F:
    """Anyone, signed in or not: the sign-in page, stylesheets, fonts."""
    return _declare(view, Permission(public=True, login=False), None)


def requires_login(view: F) -> F:
    """Any signed-in person with an active account."""

    def check() -> None:
        if not current_user.is_authenticated:
            abort(current_app.login_manager.unauthorized())

    return _declare(view, Permission(), check)


def requires_role(*roles: str) -> Callable[[F], F]:
    """A signed-in person holding at least one of `roles`; others get 403."""
    unknown = set(roles) - set(ROLES)
    if not roles or unknown:
        raise ValueError(f"requires_role needs roles from {ROLES}, got {roles}")
    permission = Permission(roles=frozenset(roles))

    def check() -> None:
        if not current_user.is_authenticated:
            abort(current_app.login_manager.unauthorized())
        if not current_user.has_role(*roles):
            abort(403)

    def decorator(view: F) -> F:
        return _declare(view, permission, check)

    return decorator


def permission_of(view: Callable[..., Any]) -> Permission | None:
    return getattr(view, ATTRIBUTE, None)


def undeclared_endpoints(app: Flask) -> list[str]:
    return sorted(endpoint for endpoint, view in app.view_functions.items() if permission_of(view) is None)


def may_view(user: Any, endpoint: str) -> bool:
    """Whether `user` may use `endpoint`: for navigation and links."""
    permission = permission_of(current_app.view_functions[endpoint])
    return permission is not None and permission.allows(user)


def is_assigned(user: Any, programme: str) -> bool:
    return programme.strip().lower() in {p.lower() for p in getattr(user, "programmes", ())}


def can_read(user: Any, programme: str) -> bool:
    """May `user` read `programme`'s dashboards and reports?

    Yes, for anyone signed in: performance reports go to public committees, and an
    officer sees the whole plan their action sits in. Writing is what is restricted."""
    return bool(getattr(user, "is_authenticated", False) and user.is_active)


def can_publish(user: Any, programme: str) -> bool:
    """Programme managers, for the programmes assigned to them (not administrators:
    they manage access, not content)."""
    if not can_read(user, programme):
        return False
    return user.has_role(*PUBLISHER_ROLES) and is_assigned(user, programme)


def can_write(user: Any, programme: str) -> bool:
    """May `user` record changes to `programme`?

    Officers and programme managers write only to programmes assigned to them; auditors
    and analysts never write; administrators manage access, not content, so the people
    who grant access cannot also quietly change the record.
    """
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    if not user.has_role(*WRITER_ROLES):
        return False
    return is_assigned(user, programme)


def require_write(user: Any, programme: str) -> None:
    """In a view: 403 unless `user` may write to `programme`."""
    if not can_write(user, programme):
        abort(403)
