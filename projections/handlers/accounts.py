"""Accounts: people's roles and programmes (never a password)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any
from uuid import UUID

from ledger.domain import describe_event
from projections.handlers.support import Event, find_subject, json_text, subject_row
from projections.state import Change, Handler, Row, State


def _account(state: State, account_id: UUID | str) -> Row:
    row = state.get("accounts", find_subject(state, account_id)["ref"])
    if row is None:
        raise LookupError(f"No account {account_id} in the read model")
    return row


def account_opened(e: Event, state: State) -> Change:
    at = state.recorded_at
    state.put(
        "accounts",
        {
            "username": e.username,
            "display_name": e.display_name,
            "email": "",
            "roles": json_text([e.role]),
            "programmes": json_text([]),
            "active": 1,
            "opened_at": at,
            "opened_by": e.actor,
            "updated_at": at,
            "version": e.originator_version,
        },
    )
    state.put("subjects", subject_row(e, "Account", None, e.username))
    return Change(
        None, e.username, f"opened account {e.username} ({e.display_name}) as {e.role}", "roles", None, e.role
    )


def _account_changed(
    e: Event, state: State, field: str, change: Callable[[Any], Any], programme: str | None = None
) -> Change:
    old = _account(state, state.aggregate_id)
    before = json.loads(old[field]) if field in ("roles", "programmes") else old[field]
    after = change(before)
    stored = json_text(after) if isinstance(after, list) else after
    state.put(
        "accounts", {**old, field: stored, "updated_at": state.recorded_at, "version": e.originator_version}
    )

    def text(value: Any) -> str:
        if isinstance(value, list):
            return ", ".join(value)
        return "yes" if value else "no"

    return Change(programme, old["username"], describe_event(e), field, text(before), text(after))


def account_role_granted(e: Event, state: State) -> Change:
    return _account_changed(e, state, "roles", lambda roles: [*roles, e.role])


def account_role_revoked(e: Event, state: State) -> Change:
    return _account_changed(e, state, "roles", lambda roles: [r for r in roles if r != e.role])


def account_programme_assigned(e: Event, state: State) -> Change:
    return _account_changed(e, state, "programmes", lambda ps: [*ps, e.programme], e.programme)


def account_programme_unassigned(e: Event, state: State) -> Change:
    return _account_changed(
        e, state, "programmes", lambda ps: [p for p in ps if p != e.programme], e.programme
    )


def account_deactivated(e: Event, state: State) -> Change:
    return _account_changed(e, state, "active", lambda _: 0)


def account_reactivated(e: Event, state: State) -> Change:
    return _account_changed(e, state, "active", lambda _: 1)


def account_email_set(e: Event, state: State) -> Change:
    old = _account(state, state.aggregate_id)
    state.put(
        "accounts",
        {**old, "email": e.email, "updated_at": state.recorded_at, "version": e.originator_version},
    )
    return Change(None, old["username"], describe_event(e), "email", old["email"], e.email)


def account_password_set(e: Event, state: State) -> Change:
    # Only the fact goes in the audit trail: who set it and why. No password is in the event.
    old = _account(state, state.aggregate_id)
    state.put("accounts", {**old, "updated_at": state.recorded_at, "version": e.originator_version})
    return Change(None, old["username"], describe_event(e), None, None, None)


HANDLERS: dict[str, Handler] = {
    "Account.Opened": account_opened,
    "Account.RoleGranted": account_role_granted,
    "Account.RoleRevoked": account_role_revoked,
    "Account.ProgrammeAssigned": account_programme_assigned,
    "Account.ProgrammeUnassigned": account_programme_unassigned,
    "Account.Deactivated": account_deactivated,
    "Account.Reactivated": account_reactivated,
    "Account.PasswordSet": account_password_set,
    "Account.EmailSet": account_email_set,
}
