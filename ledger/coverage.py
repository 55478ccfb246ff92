"""What `govledger verify` checks beyond the event log: the things kept beside it.

Two stores sit outside the hash chain, each holding something the ledger's events
vouch for:

- Published reports: their exact bytes are kept under their SHA-256 in the data
  directory; each Published/Republished event records that hash. `check_reports`
  names every edition whose stored copy is missing or hashes to something else.
- The credential store: password hashes, which never enter an event. Who set each
  password, and when, is an event (`Account.Opened` for the first, `PasswordSet` for
  each reset). `check_credentials` names every account whose stored credential no
  event explains: one for an account the ledger never opened, one set by someone
  other than the ledger says, or at another time (set outside the ledger, or an older
  credentials file put back). Roles, grants, revocations and deactivations live only in
  events; the credential store holds none, so there is nothing of them to disagree.

Pure functions over plain data: govledger/assurance.py reads the files and the store.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from ledger.domain import Account, Publication
from ledger.domain.base import public_topic
from ledger.store.reading import LoggedEvent

PUBLISHED = {public_topic(Publication.Published), public_topic(Publication.Republished)}
PASSWORD_EVENTS = {public_topic(Account.Opened), public_topic(Account.PasswordSet)}
ACCOUNT_EVENTS = PASSWORD_EVENTS | {
    public_topic(event)
    for event in (Account.Deactivated, Account.Reactivated, Account.RoleGranted, Account.RoleRevoked)
}
TOPICS = PUBLISHED | ACCOUNT_EVENTS

# The credential is written just after its event (the password is hashed in between):
# a later change than this with no event of its own is a change made outside the ledger.
CREDENTIAL_LAG = timedelta(minutes=5)


@dataclass(frozen=True)
class Edition:
    """One published edition, as its event records it."""

    position: int
    title: str
    report: str
    period: str
    edition: int
    content_sha256: str  # the HTML's
    # (format, SHA-256) of the other formats published with it (none before they were kept).
    documents: tuple[tuple[str, str], ...] = ()

    def name(self) -> str:
        where = f"{self.report}, {self.period}, edition {self.edition}, position {self.position}"
        return f"'{self.title}' ({where})"


@dataclass
class AccountHistory:
    username: str
    password_set: list[tuple[datetime, str, int]] = field(default_factory=list)  # (when, by whom, position)
    active: bool = True


@dataclass(frozen=True)
class Credential:
    """A credential store row, without its hash."""

    username: str
    changed_at: datetime
    changed_by: str


def editions(events: Iterable[LoggedEvent]) -> list[Edition]:
    """Every published edition, in log order."""
    found: list[Edition] = []
    titles: dict[str, tuple[str, str, str]] = {}
    numbers: dict[str, int] = {}
    for event in events:
        if event.topic not in PUBLISHED:
            continue
        state = event.state
        if "title" in state:  # Published: the first edition names the report
            titles[event.originator_id] = (state["title"], state["report"], state["period"])
        title, report, period = titles.get(event.originator_id, ("(unknown report)", "?", "?"))
        number = numbers[event.originator_id] = numbers.get(event.originator_id, 0) + 1
        documents = tuple(sorted((state.get("documents") or {}).items()))
        sha256 = state["content_sha256"]
        found.append(Edition(event.position, title, report, period, number, sha256, documents))
    return found


def check_reports(published: Iterable[Edition], read_copy: Callable[[str, str], bytes | None]) -> list[str]:
    """A sentence for each published document (the HTML, and each other format) whose
    stored copy (`read_copy(sha256, format)`, None if missing) is missing or does not
    hash to what its event records."""
    problems = []
    for edition in published:
        for form, expected in (("html", edition.content_sha256), *edition.documents):
            content = read_copy(expected, form)
            what = f"published report {edition.name()}: its stored {form.upper()} copy"
            if content is None:
                problems.append(f"{what} is missing")
            elif (actual := hashlib.sha256(content).hexdigest()) != expected:
                problems.append(
                    f"{what} hashes to {actual[:16]}..., not the {expected[:16]}... its publication "
                    "event records (the bytes were altered)"
                )
    return problems


def account_histories(events: Iterable[LoggedEvent]) -> dict[str, AccountHistory]:
    """Each account the ledger opened (by username) with its password events."""
    by_id: dict[str, AccountHistory] = {}
    for event in events:
        if event.topic not in ACCOUNT_EVENTS:
            continue
        state = event.state
        if "username" in state:  # Opened
            by_id[event.originator_id] = AccountHistory(state["username"].lower())
        account = by_id.get(event.originator_id)
        if account is None:
            continue
        if event.topic in PASSWORD_EVENTS:
            account.password_set.append((state["timestamp"], state.get("actor", ""), event.position))
        elif event.topic == public_topic(Account.Deactivated):
            account.active = False
        elif event.topic == public_topic(Account.Reactivated):
            account.active = True
    return {account.username: account for account in by_id.values()}


def check_credentials(
    accounts: dict[str, AccountHistory], credentials: Iterable[Credential], signed_out: Iterable[str] = ()
) -> list[str]:
    """A sentence for each credential no event explains: its account must be one the
    ledger opened, and its last change the account's last password event (same person,
    within CREDENTIAL_LAG after it)."""
    problems = []
    for credential in credentials:
        name = credential.username
        account = accounts.get(name.lower())
        if account is None:
            problems.append(
                f"account '{name}': the credential store holds a password for it, but the ledger never "
                "opened such an account (access granted outside the ledger)"
            )
            continue
        when, actor, position = account.password_set[-1]
        changed = credential.changed_at
        # The store keeps whole seconds; the event's time has microseconds.
        if not when.replace(microsecond=0) <= changed <= when + CREDENTIAL_LAG:
            problems.append(
                f"account '{name}': its password was last set at {changed.isoformat()} by "
                f"{credential.changed_by}, but the ledger's last password event for it is at "
                f"{when.isoformat(timespec='seconds')} by {actor} (position {position}): set outside the "
                "ledger, or an older credential store put back"
            )
        elif credential.changed_by != actor:
            problems.append(
                f"account '{name}': its password was set by {credential.changed_by}, but the ledger "
                f"records {actor} setting it (position {position})"
            )
    for name in sorted(set(signed_out) - accounts.keys()):
        problems.append(
            f"account '{name}': the credential store records sign-outs for it, but the ledger never opened it"
        )
    return problems
