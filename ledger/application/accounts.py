"""Commands on accounts: open, roles, programme access, passwords set, (de)activation.

Every grant, revocation and reset is an event, so auditors see who gave whom access."""

from __future__ import annotations

from uuid import UUID

from ledger.application.batch import Batch, LedgerBase
from ledger.domain import Account


class AccountCommands(LedgerBase):
    def open_account(
        self,
        username: str,
        *,
        display_name: str,
        role: str,
        actor: str,
        reason: str = "",
        batch: Batch | None = None,
    ) -> UUID:
        return self._create(
            batch,
            lambda b: Account.open(
                username=username, display_name=display_name, role=role, actor=actor, reason=reason
            ),
            lambda account, _: f"An account {account.username!r} already exists.",
        )

    def _account(self, b: Batch, username: str) -> Account:
        return b.existing(
            Account, Account.create_id(username), f"There is no account {username!r}.", field="username"
        )

    def grant_role(
        self, username: str, role: str, *, actor: str, reason: str, batch: Batch | None = None
    ) -> UUID:
        return self._change(
            batch,
            lambda b: self._account(b, username),
            lambda account, b: account.grant_role(role, actor=actor, reason=reason),
        )

    def revoke_role(
        self, username: str, role: str, *, actor: str, reason: str, batch: Batch | None = None
    ) -> UUID:
        return self._change(
            batch,
            lambda b: self._account(b, username),
            lambda account, b: account.revoke_role(role, actor=actor, reason=reason),
        )

    def assign_programme(
        self, username: str, programme: str, *, actor: str, reason: str = "", batch: Batch | None = None
    ) -> UUID:
        return self._change(
            batch,
            lambda b: self._account(b, username),
            lambda account, b: account.assign_programme(b.programme(programme), actor=actor, reason=reason),
        )

    def unassign_programme(
        self, username: str, programme: str, *, actor: str, reason: str, batch: Batch | None = None
    ) -> UUID:
        return self._change(
            batch,
            lambda b: self._account(b, username),
            lambda account, b: account.unassign_programme(b.programme(programme), actor=actor, reason=reason),
        )

    def set_email(self, username: str, email: str, *, actor: str, reason: str) -> UUID:
        """Set the address reminders go to (validated; empty removes it)."""
        return self._change(
            None,
            lambda b: self._account(b, username),
            lambda account, b: account.set_email(email, actor=actor, reason=reason),
        )

    def record_password_set(self, username: str, *, actor: str, reason: str) -> UUID:
        """Record that a password was set or reset (never the password)."""
        return self._change(
            None,
            lambda b: self._account(b, username),
            lambda account, b: account.record_password_set(actor=actor, reason=reason),
        )

    def deactivate_account(self, username: str, *, actor: str, reason: str) -> UUID:
        return self._change(
            None,
            lambda b: self._account(b, username),
            lambda account, b: account.deactivate(actor=actor, reason=reason),
        )

    def reactivate_account(self, username: str, *, actor: str, reason: str) -> UUID:
        return self._change(
            None,
            lambda b: self._account(b, username),
            lambda account, b: account.reactivate(actor=actor, reason=reason),
        )
