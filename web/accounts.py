"""Who is signed in, and how accounts come to exist.

Account facts (roles, programmes, active or not) come from the ledger's `Account`
aggregate, so a role revoked or an account deactivated takes effect on the very next
request. Only the password hash lives elsewhere (`web.credentials`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flask_login import AnonymousUserMixin

from ledger.application import Ledger
from ledger.domain import ROLES
from ledger.errors import UnknownRef
from web.credentials import CredentialStore, check_password_rules

ROLE_LABELS: dict[str, str] = {role: role.capitalize() for role in ROLES}


@dataclass(frozen=True)
class User:
    """The signed-in person, as Flask-Login wants them."""

    username: str
    display_name: str
    roles: tuple[str, ...]
    programmes: tuple[str, ...] = field(default=())
    active: bool = True

    is_authenticated = True
    is_anonymous = False

    @property
    def is_active(self) -> bool:
        return self.active

    def get_id(self) -> str:
        return self.username

    def has_role(self, *roles: str) -> bool:
        return any(role in self.roles for role in roles)

    @property
    def role_label(self) -> str:
        return ", ".join(ROLE_LABELS.get(r, r) for r in self.roles) or "No role"

    @classmethod
    def from_account(cls, account: dict[str, Any]) -> User:
        return cls(
            username=account["username"],
            display_name=account["display_name"],
            roles=tuple(account["roles"]),
            programmes=tuple(account["programmes"]),
            active=bool(account["is_active"]),
        )


class Anonymous(AnonymousUserMixin):
    roles: tuple[str, ...] = ()
    programmes: tuple[str, ...] = ()

    def has_role(self, *roles: str) -> bool:
        return False


def load_user(ledger: Ledger, username: str) -> User | None:
    """The active account called `username`, or None (unknown or deactivated)."""
    try:
        account = ledger.get_account(username)
    except UnknownRef:
        return None
    user = User.from_account(account)
    return user if user.is_active else None


def create_account(
    ledger: Ledger,
    credentials: CredentialStore,
    *,
    username: str,
    display_name: str,
    role: str,
    password: str,
    actor: str,
    reason: str = "",
    min_password_length: int = 12,
) -> str:
    """Open an account in the ledger and set its password; returns the username.

    The password is checked first, so a refused password records nothing; the ledger
    then validates the rest and records who opened the account.
    """
    check_password_rules(password, min_password_length)
    ledger.open_account(username, display_name=display_name, role=role, actor=actor, reason=reason)
    account = ledger.get_account(username)
    credentials.set_password(account["username"], password, actor=actor)
    return account["username"]


def set_password(
    ledger: Ledger,
    credentials: CredentialStore,
    *,
    username: str,
    password: str,
    actor: str,
    reason: str,
    min_password_length: int = 12,
) -> None:
    """Set a password: checked first, recorded in the ledger (who, why; never the
    password), then hashed into the credential store. Auditors see every reset."""
    check_password_rules(password, min_password_length)
    ledger.record_password_set(username, actor=actor, reason=reason)
    credentials.set_password(ledger.get_account(username)["username"], password, actor=actor)
