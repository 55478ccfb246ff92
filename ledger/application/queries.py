"""Queries: `get_*`, returning plain data (never an aggregate to change outside a command)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError

from ledger.application.batch import A, Batch, LedgerBase
from ledger.application.lean import replay
from ledger.domain import Account, Item, Programme, Publication
from ledger.errors import ChangeSummary, UnknownRef

# A period's statuses as recorded and corrected, oldest first: (status, update, mitigation).
StatusHistory = dict[str, list[tuple[str, str, str]]]


def add_statuses(periods: StatusHistory, events: Iterable[Any]) -> StatusHistory:
    """Add an item's statuses among `events` to `periods`, per period, oldest first."""
    for e in events:
        if isinstance(e, Item.StatusRecorded | Item.StatusCorrected):
            periods.setdefault(e.period, []).append((e.status, e.update, e.mitigation))
    return periods


class Queries(LedgerBase):
    def _get(self, cls: type[A], aggregate_id: UUID, missing: str) -> A:
        try:
            aggregate = self.repository.get(aggregate_id)
        except AggregateNotFoundError:
            raise UnknownRef(missing) from None
        if not isinstance(aggregate, cls):
            raise UnknownRef(missing)
        return aggregate

    def get_programme(self, slug: str) -> dict[str, Any]:
        p = self._get(Programme, Programme.create_id(slug), f"There is no programme {slug!r}.")
        return {
            "id": p.id,
            "slug": p.slug,
            "name": p.name,
            "cadence": p.cadence,
            "calendar": p.calendar,
            "scale": p.scale,
            "requires_mitigation": p.requires_mitigation,
            "description": p.description,
            "contact": dict(p.contact),
            "version": p.version,
        }

    def get_item(self, programme: str, ref: str) -> dict[str, Any]:
        owner = self._get(Programme, Programme.create_id(programme), f"There is no programme {programme!r}.")
        item = self._get(Item, Item.create_id(owner.id, ref), f"{owner.name} has no item {ref!r}.")
        return {
            "id": item.id,
            "programme": owner.slug,
            "ref": item.ref,
            "kind": item.kind,
            "title": item.title,
            "parent_ref": item.parent_ref,
            "lead_officer": item.lead_officer,
            "lead_account": item.lead_account,
            "committee": item.committee,
            "ratings": {k: dict(v) for k, v in item.ratings.items()},
            "version": item.version,
        }

    def get_account(self, username: str) -> dict[str, Any]:
        account = self._get(Account, Account.create_id(username), f"There is no account {username!r}.")
        return {
            "id": account.id,
            "username": account.username,
            "display_name": account.display_name,
            "roles": list(account.roles),
            "programmes": list(account.programmes),
            "is_active": account.is_active,
            "email": account.email,
            "version": account.version,
        }

    def get_version(self, aggregate_id: UUID) -> int:
        return self.repository.get(aggregate_id).version

    def get_changes_since(self, aggregate_id: UUID, version: int) -> list[ChangeSummary]:
        return self._changes_since(aggregate_id, version)

    def get_log_position(self) -> int:
        """The position of the last event in the log (0 when empty)."""
        return self.recorder.max_notification_id() or 0

    def get_publication(self, programme: str, report: str, period: str) -> dict[str, Any] | None:
        """A published report and its editions, oldest first; None if it is unpublished."""
        owner = self._get(Programme, Programme.create_id(programme), f"There is no programme {programme!r}.")
        label = owner.parse_period(period).label
        try:
            publication = self._get(Publication, Publication.create_id(owner.id, report, label), "")
        except UnknownRef:
            return None
        return {
            "id": publication.id,
            "programme": owner.slug,
            "report": publication.report,
            "period": publication.period,
            "title": publication.title,
            "editions": [dict(e) for e in publication.editions],
            "version": publication.version,
        }

    def get_status_history(self, item_id: UUID, batch: Batch) -> StatusHistory | None:
        """Every status recorded for an item, per period; None if there is no such item.

        The item is read once and kept by `batch`, so the commands that follow change
        exactly the version whose history was read (an import checks its rows this way)."""
        periods: StatusHistory = {}

        def project(aggregate: Any, events: Iterable[Any]) -> Any:
            events = list(events)
            add_statuses(periods, events)
            return replay(aggregate, events)

        try:
            item = self.repository.get(item_id, projector_func=project)
        except AggregateNotFoundError:
            return None
        if not isinstance(item, Item):
            return None
        batch.keep(item)
        return periods
