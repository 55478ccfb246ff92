"""Accounts: a person's roles and programmes. Passwords are never in events."""

from __future__ import annotations

from collections.abc import Iterable
from uuid import UUID

from email_validator import EmailNotValidError, validate_email
from eventsourcing.domain import event

from ledger.domain.base import LedgerAggregate, natural_id, require_reason, required_text
from ledger.domain.programmes import Programme
from ledger.errors import InvalidValue

ROLES = ("officer", "programme manager", "auditor", "analyst", "administrator")


class Account(LedgerAggregate):
    """A person's access: their role and programmes. Passwords are never in events."""

    @staticmethod
    def create_id(username: str) -> UUID:
        return natural_id("account", username)

    @classmethod
    def open(cls, *, username: str, display_name: str, role: str, actor: str, reason: str = "") -> Account:
        username = required_text(username, "Enter a username.", "username", InvalidValue).lower()
        if not all(c.isalnum() or c in "._-@" for c in username):
            raise InvalidValue("Usernames use letters, digits, dots, hyphens and @ only.", field="username")
        return cls(
            username=username,
            display_name=required_text(
                display_name, "Enter the person's name.", "display_name", InvalidValue
            ),
            role=_role(role),
            actor=actor,
            reason=(reason or "").strip(),
        )

    @event("Opened")
    def __init__(self, username: str, display_name: str, role: str, actor: str, reason: str) -> None:
        self.username = username
        self.display_name = display_name
        self.roles: list[str] = [role]
        self.programmes: list[str] = []
        self.is_active = True
        self.email = ""

    def set_email(self, email: str, *, actor: str, reason: str) -> bool:
        """Set (or, empty, remove) the address reminders go to. Returns False if unchanged."""
        email = valid_email(email)
        if email == self.email:
            return False
        self._email_set(
            email=email, actor=actor, reason=require_reason(reason, "why the email address changes")
        )
        return True

    @event("EmailSet")
    def _email_set(self, email: str, actor: str, reason: str) -> None:
        self.email = email

    def grant_role(self, role: str, *, actor: str, reason: str) -> None:
        role = _role(role)
        if role not in self.roles:
            self._role_granted(role=role, actor=actor, reason=require_reason(reason, f"granting {role}"))

    @event("RoleGranted")
    def _role_granted(self, role: str, actor: str, reason: str) -> None:
        self.roles.append(role)

    def revoke_role(self, role: str, *, actor: str, reason: str) -> None:
        role = _role(role)
        if role in self.roles:
            self._role_revoked(role=role, actor=actor, reason=require_reason(reason, f"revoking {role}"))

    @event("RoleRevoked")
    def _role_revoked(self, role: str, actor: str, reason: str) -> None:
        self.roles.remove(role)

    def assign_programme(self, programme: Programme, *, actor: str, reason: str = "") -> None:
        if programme.slug not in self.programmes:
            self._programme_assigned(programme=programme.slug, actor=actor, reason=(reason or "").strip())

    @event("ProgrammeAssigned")
    def _programme_assigned(self, programme: str, actor: str, reason: str) -> None:
        self.programmes.append(programme)

    def unassign_programme(self, programme: Programme, *, actor: str, reason: str) -> None:
        if programme.slug in self.programmes:
            self._programme_unassigned(
                programme=programme.slug, actor=actor, reason=require_reason(reason, "removing access")
            )

    @event("ProgrammeUnassigned")
    def _programme_unassigned(self, programme: str, actor: str, reason: str) -> None:
        self.programmes.remove(programme)

    def record_password_set(self, *, actor: str, reason: str) -> None:
        """Who set this person's password, and why. The password itself never enters the
        ledger: it is hashed in the credential store."""
        self._password_set(actor=actor, reason=require_reason(reason, "why the password was set"))

    @event("PasswordSet")
    def _password_set(self, actor: str, reason: str) -> None:
        pass

    def deactivate(self, *, actor: str, reason: str) -> None:
        if self.is_active:
            self._deactivated(actor=actor, reason=require_reason(reason, "deactivating an account"))

    @event("Deactivated")
    def _deactivated(self, actor: str, reason: str) -> None:
        self.is_active = False

    def reactivate(self, *, actor: str, reason: str) -> None:
        if not self.is_active:
            self._reactivated(actor=actor, reason=require_reason(reason, "reactivating an account"))

    @event("Reactivated")
    def _reactivated(self, actor: str, reason: str) -> None:
        self.is_active = True


def lead_key(text: str) -> str:
    """How a lead's name is compared: without regard to case or spaces."""
    return "".join((text or "").split()).casefold()


class LeadDirectory:
    """Finds the account a free-text lead names: exactly one account whose display name
    or username is that text (case and spaces aside). Ambiguous text matches nobody."""

    def __init__(self, accounts: Iterable[tuple[str, str]]) -> None:
        self._usernames: dict[str, set[str]] = {}
        for username, display_name in accounts:
            for text in (username, display_name):
                self._usernames.setdefault(lead_key(text), set()).add(username)

    def match(self, text: str) -> str | None:
        found = self._usernames.get(lead_key(text), set()) if lead_key(text) else set()
        return next(iter(found)) if len(found) == 1 else None


def valid_email(text: str) -> str:
    """An email address in its normalised form ("" for none), or a clear error."""
    text = (text or "").strip()
    if not text:
        return ""
    try:
        # Syntax only: an administrator may record an address before its domain resolves.
        return validate_email(text, check_deliverability=False).normalized
    except EmailNotValidError as error:
        raise InvalidValue(
            f"Enter an email address like name@council.gov.uk: {error}", field="email"
        ) from None


def _role(role: str) -> str:
    text = (role or "").strip().lower().replace("_", " ")
    if text not in ROLES:
        raise InvalidValue(f"{role!r} is not a role: use one of {', '.join(ROLES)}.", field="role")
    return text
