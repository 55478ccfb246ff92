"""The ledger application: commands (verbs that return ids) and queries (`get_*`).

Every command runs inside a `Batch`: aggregates are loaded once, changed by domain
methods that validate and raise `LedgerError`s, and saved together in ONE transaction.
A command given no batch saves its own; an import passes one batch to many commands and
saves it at the end, so a file is recorded whole or not at all.

A command on an existing record can carry `seen_version`, the version the user saw.
If someone else has changed it since, `Conflict` says who changed what and nothing is
saved. A race between two saves of the same version is caught by the event store's
optimistic concurrency control and reported the same way.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import Any, TypeVar
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import IntegrityError

from ledger.config import event_store_env
from ledger.domain import (
    Account,
    Dependency,
    Indicator,
    Item,
    Narrative,
    Programme,
    Publication,
    Risk,
    describe_event,
)
from ledger.errors import ChangeSummary, Conflict, DuplicateRef, UnknownRef
from ledger.scales import RAG, Scale, scale_named

A = TypeVar("A", bound=Aggregate)


class Batch:
    """Aggregates loaded and changed by one or more commands, saved together."""

    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger
        self._aggregates: dict[UUID, Aggregate] = {}

    def find(self, cls: type[A], aggregate_id: UUID) -> A | None:
        if aggregate_id not in self._aggregates:
            try:
                self._aggregates[aggregate_id] = self.ledger.repository.get(aggregate_id)
            except AggregateNotFoundError:
                return None
        aggregate = self._aggregates[aggregate_id]
        if not isinstance(aggregate, cls):
            raise DuplicateRef(f"That id already belongs to a {type(aggregate).__name__}.")
        return aggregate

    def add(self, aggregate: A) -> A:
        self._aggregates[aggregate.id] = aggregate
        return aggregate

    def programme(self, slug: str) -> Programme:
        programme = self.find(Programme, Programme.create_id(slug))
        if programme is None:
            raise UnknownRef(f"There is no programme {slug!r}.", field="programme")
        return programme

    def item(self, programme: Programme, ref: str) -> Item:
        item = self.find(Item, Item.create_id(programme.id, ref))
        if item is None:
            raise UnknownRef(f"{programme.name} has no item {ref!r}.", field="ref")
        return item

    @property
    def pending_events(self) -> int:
        return sum(len(a.pending_events) for a in self._aggregates.values())

    def aggregates(self) -> list[Aggregate]:
        return list(self._aggregates.values())


class Ledger(Application[UUID]):
    """Governance Ledger's write side. One instance per process; close it when done."""

    name = "GovernanceLedger"

    def __init__(self, env: dict[str, str] | None = None) -> None:
        super().__init__(env)
        # Called with the last log position after every save; the projector subscribes here
        # so a user sees their own write on the next page.
        self.after_save: list[Callable[[int], None]] = []

    # ---------------------------------------------------------------- infrastructure

    @contextmanager
    def batch(self) -> Iterator[Batch]:
        """Run several commands and save them in one transaction, or none if any fails."""
        batch = Batch(self)
        yield batch
        self._save_batch(batch)

    @contextmanager
    def _changes(self, batch: Batch | None) -> Iterator[Batch]:
        if batch is not None:
            yield batch
        else:
            with self.batch() as own:
                yield own

    def _save_batch(self, batch: Batch) -> None:
        aggregates = [a for a in batch.aggregates() if a.pending_events]
        if not aggregates:
            return
        # Saving collects the pending events, so note first which version each change is on.
        seen = {a.id: a.pending_events[0].originator_version - 1 for a in aggregates}
        try:
            recordings = self.save(*aggregates)
        except IntegrityError:
            raise self._race_conflict(aggregates, seen) from None
        if recordings:
            position = recordings[-1].notification.id
            for listener in self.after_save:
                listener(position)

    def _race_conflict(self, aggregates: list[Aggregate], seen: dict[UUID, int]) -> Conflict:
        """Someone saved first: find whose record moved on, and what they did."""
        for aggregate in aggregates:
            changes = self._changes_since(aggregate.id, seen[aggregate.id])
            if changes:
                return Conflict(
                    subject=_subject(aggregate),
                    seen_version=seen[aggregate.id],
                    current_version=changes[-1].version,
                    changes=changes,
                )
        return Conflict(subject="The record", seen_version=0, current_version=0)

    def _changes_since(self, aggregate_id: UUID, version: int) -> list[ChangeSummary]:
        return [
            ChangeSummary(
                version=e.originator_version,
                actor=getattr(e, "actor", ""),
                recorded_at=e.timestamp.strftime("%d %b %Y %H:%M UTC"),
                what=describe_event(e),
            )
            for e in self.events.get(aggregate_id, gt=version)
        ]

    def _check_seen(self, aggregate: Aggregate, seen_version: int | None) -> None:
        if seen_version is not None and aggregate.version != seen_version:
            raise Conflict(
                subject=_subject(aggregate),
                seen_version=seen_version,
                current_version=aggregate.version,
                changes=self._changes_since(aggregate.id, seen_version),
            )

    def _new(self, batch: Batch, aggregate: A, duplicate_message: str) -> A:
        if batch.find(type(aggregate), aggregate.id) is not None:
            raise DuplicateRef(duplicate_message, field="ref")
        return batch.add(aggregate)

    # ---------------------------------------------------------------- programmes

    def register_programme(
        self,
        slug: str,
        name: str,
        *,
        cadence: str,
        scale: Scale | str = RAG,
        requires_mitigation: bool = True,
        description: str = "",
        contact: dict[str, str] | None = None,
        actor: str,
        batch: Batch | None = None,
    ) -> UUID:
        scale = scale_named(scale) if isinstance(scale, str) else scale
        with self._changes(batch) as b:
            programme = Programme.register(
                slug=slug,
                name=name,
                cadence=cadence,
                scale=scale,
                requires_mitigation=requires_mitigation,
                description=description,
                contact=contact or {},
                actor=actor,
            )
            self._new(b, programme, f"A programme with the id {programme.slug!r} already exists.")
        return programme.id

    def rename_programme(
        self,
        slug: str,
        name: str,
        *,
        actor: str,
        reason: str = "",
        seen_version: int | None = None,
        batch: Batch | None = None,
    ) -> UUID:
        with self._changes(batch) as b:
            programme = b.programme(slug)
            self._check_seen(programme, seen_version)
            programme.rename(name, actor=actor, reason=reason)
        return programme.id

    def change_scale(
        self, slug: str, scale: Scale | str, *, actor: str, reason: str, batch: Batch | None = None
    ) -> UUID:
        """Give a programme a different status scale (ratings keep the one they were made on)."""
        scale = scale_named(scale) if isinstance(scale, str) else scale
        with self._changes(batch) as b:
            programme = b.programme(slug)
            programme.change_scale(scale, actor=actor, reason=reason)
        return programme.id

    def change_contact(
        self,
        slug: str,
        contact: dict[str, str],
        *,
        actor: str,
        reason: str = "",
        batch: Batch | None = None,
    ) -> UUID:
        with self._changes(batch) as b:
            programme = b.programme(slug)
            programme.change_contact(contact, actor=actor, reason=reason)
        return programme.id

    # ---------------------------------------------------------------- items

    def register_item(
        self,
        programme: str,
        ref: str,
        *,
        kind: str,
        title: str,
        parent_ref: str = "",
        lead_officer: str = "",
        committee: str = "",
        actor: str,
        reason: str = "",
        batch: Batch | None = None,
    ) -> UUID:
        with self._changes(batch) as b:
            owner = b.programme(programme)
            if parent_ref.strip():
                try:
                    b.item(owner, parent_ref.strip())  # the parent must exist
                except UnknownRef as missing:
                    missing.field = "parent_ref"
                    raise
            item = Item.register(
                programme=owner,
                ref=ref,
                kind=kind,
                title=title,
                parent_ref=parent_ref,
                lead_officer=lead_officer,
                committee=committee,
                actor=actor,
                reason=reason,
            )
            self._new(b, item, f"{owner.name} already has an item {item.ref!r}: refs must be unique.")
        return item.id

    def retitle_item(
        self,
        programme: str,
        ref: str,
        title: str,
        *,
        actor: str,
        reason: str = "",
        seen_version: int | None = None,
        batch: Batch | None = None,
    ) -> UUID:
        with self._changes(batch) as b:
            item = b.item(b.programme(programme), ref)
            self._check_seen(item, seen_version)
            item.retitle(title, actor=actor, reason=reason)
        return item.id

    def reassign_lead(
        self,
        programme: str,
        ref: str,
        lead_officer: str,
        *,
        actor: str,
        reason: str = "",
        seen_version: int | None = None,
        batch: Batch | None = None,
    ) -> UUID:
        with self._changes(batch) as b:
            item = b.item(b.programme(programme), ref)
            self._check_seen(item, seen_version)
            item.reassign_lead(lead_officer, actor=actor, reason=reason)
        return item.id

    def change_committee(
        self,
        programme: str,
        ref: str,
        committee: str,
        *,
        actor: str,
        reason: str = "",
        seen_version: int | None = None,
        batch: Batch | None = None,
    ) -> UUID:
        with self._changes(batch) as b:
            item = b.item(b.programme(programme), ref)
            self._check_seen(item, seen_version)
            item.change_committee(committee, actor=actor, reason=reason)
        return item.id

    def record_status(
        self,
        programme: str,
        ref: str,
        *,
        period: str,
        status: str,
        update: str = "",
        mitigation: str = "",
        actor: str,
        reason: str = "",
        seen_version: int | None = None,
        batch: Batch | None = None,
    ) -> UUID:
        """Record an item's status and update for a period (a re-rating needs a reason)."""
        with self._changes(batch) as b:
            owner = b.programme(programme)
            item = b.item(owner, ref)
            self._check_seen(item, seen_version)
            item.record_status(
                owner,
                period=period,
                status=status,
                update=update,
                mitigation=mitigation,
                actor=actor,
                reason=reason,
            )
        return item.id

    def correct_status(
        self,
        programme: str,
        ref: str,
        *,
        period: str,
        status: str,
        update: str = "",
        mitigation: str = "",
        actor: str,
        reason: str,
        seen_version: int | None = None,
        batch: Batch | None = None,
    ) -> UUID:
        """Put right a mistake in a recorded status or update; the reason is required."""
        with self._changes(batch) as b:
            owner = b.programme(programme)
            item = b.item(owner, ref)
            self._check_seen(item, seen_version)
            item.correct_status(
                owner,
                period=period,
                status=status,
                update=update,
                mitigation=mitigation,
                actor=actor,
                reason=reason,
            )
        return item.id

    # ---------------------------------------------------------------- risks and issues

    def raise_risk(
        self,
        programme: str,
        ref: str,
        *,
        kind: str = "risk",
        description: str,
        rag_before: str,
        mitigation: str = "",
        rag_after: str = "",
        owner: str = "",
        period: str,
        actor: str,
        reason: str = "",
        batch: Batch | None = None,
    ) -> UUID:
        with self._changes(batch) as b:
            risk = Risk.raise_(
                b.programme(programme),
                kind=kind,
                ref=ref,
                description=description,
                rag_before=rag_before,
                mitigation=mitigation,
                rag_after=rag_after,
                owner=owner,
                period=period,
                actor=actor,
                reason=reason,
            )
            self._new(b, risk, f"{kind.capitalize()} {ref} already exists.")
        return risk.id

    def _risk(self, b: Batch, programme: Programme, kind: str, ref: str) -> Risk:
        risk = b.find(Risk, Risk.create_id(programme.id, kind.strip().lower(), ref))
        if risk is None:
            raise UnknownRef(f"{programme.name} has no {kind} {ref!r}.", field="ref")
        return risk

    def rerate_risk(
        self,
        programme: str,
        ref: str,
        *,
        kind: str = "risk",
        rag_before: str,
        mitigation: str = "",
        rag_after: str = "",
        period: str,
        actor: str,
        reason: str,
        seen_version: int | None = None,
        batch: Batch | None = None,
    ) -> UUID:
        with self._changes(batch) as b:
            owner = b.programme(programme)
            risk = self._risk(b, owner, kind, ref)
            self._check_seen(risk, seen_version)
            risk.rerate(
                owner,
                rag_before=rag_before,
                mitigation=mitigation,
                rag_after=rag_after,
                period=period,
                actor=actor,
                reason=reason,
            )
        return risk.id

    def correct_risk(
        self,
        programme: str,
        ref: str,
        *,
        kind: str = "risk",
        description: str,
        owner: str = "",
        actor: str,
        reason: str,
        seen_version: int | None = None,
        batch: Batch | None = None,
    ) -> UUID:
        with self._changes(batch) as b:
            risk = self._risk(b, b.programme(programme), kind, ref)
            self._check_seen(risk, seen_version)
            risk.correct(description=description, owner=owner, actor=actor, reason=reason)
        return risk.id

    def close_risk(
        self,
        programme: str,
        ref: str,
        *,
        kind: str = "risk",
        period: str,
        actor: str,
        reason: str,
        seen_version: int | None = None,
        batch: Batch | None = None,
    ) -> UUID:
        with self._changes(batch) as b:
            owner = b.programme(programme)
            risk = self._risk(b, owner, kind, ref)
            self._check_seen(risk, seen_version)
            risk.close(owner, period=period, actor=actor, reason=reason)
        return risk.id

    def reopen_risk(
        self,
        programme: str,
        ref: str,
        *,
        kind: str = "risk",
        period: str,
        actor: str,
        reason: str,
        seen_version: int | None = None,
        batch: Batch | None = None,
    ) -> UUID:
        with self._changes(batch) as b:
            owner = b.programme(programme)
            risk = self._risk(b, owner, kind, ref)
            self._check_seen(risk, seen_version)
            risk.reopen(owner, period=period, actor=actor, reason=reason)
        return risk.id

    # ---------------------------------------------------------------- dependencies

    def register_dependency(
        self,
        programme: str,
        ref: str,
        *,
        description: str,
        plan_agreed: str | bool | None = "",
        confidence: str = "",
        owner: str = "",
        period: str,
        actor: str,
        reason: str = "",
        batch: Batch | None = None,
    ) -> UUID:
        with self._changes(batch) as b:
            dependency = Dependency.register(
                b.programme(programme),
                ref=ref,
                description=description,
                plan_agreed=plan_agreed,
                confidence=confidence,
                owner=owner,
                period=period,
                actor=actor,
                reason=reason,
            )
            self._new(b, dependency, f"Dependency {ref} already exists.")
        return dependency.id

    def _dependency(self, b: Batch, programme: Programme, ref: str) -> Dependency:
        dependency = b.find(Dependency, Dependency.create_id(programme.id, ref))
        if dependency is None:
            raise UnknownRef(f"{programme.name} has no dependency {ref!r}.", field="ref")
        return dependency

    def review_dependency(
        self,
        programme: str,
        ref: str,
        *,
        plan_agreed: str | bool | None,
        confidence: str,
        period: str,
        actor: str,
        reason: str = "",
        seen_version: int | None = None,
        batch: Batch | None = None,
    ) -> UUID:
        with self._changes(batch) as b:
            owner = b.programme(programme)
            dependency = self._dependency(b, owner, ref)
            self._check_seen(dependency, seen_version)
            dependency.review(
                owner,
                plan_agreed=plan_agreed,
                confidence=confidence,
                period=period,
                actor=actor,
                reason=reason,
            )
        return dependency.id

    def correct_dependency(
        self,
        programme: str,
        ref: str,
        *,
        description: str,
        owner: str = "",
        actor: str,
        reason: str,
        seen_version: int | None = None,
        batch: Batch | None = None,
    ) -> UUID:
        with self._changes(batch) as b:
            dependency = self._dependency(b, b.programme(programme), ref)
            self._check_seen(dependency, seen_version)
            dependency.correct(description=description, owner=owner, actor=actor, reason=reason)
        return dependency.id

    # ---------------------------------------------------------------- indicators

    def define_indicator(
        self,
        programme: str,
        ref: str,
        *,
        name: str,
        unit: str = "",
        better: str = "neither",
        description: str = "",
        actor: str,
        reason: str = "",
        batch: Batch | None = None,
    ) -> UUID:
        with self._changes(batch) as b:
            indicator = Indicator.define(
                b.programme(programme),
                ref=ref,
                name=name,
                unit=unit,
                better=better,
                description=description,
                actor=actor,
                reason=reason,
            )
            self._new(b, indicator, f"Indicator {ref} already exists.")
        return indicator.id

    def record_indicator_value(
        self,
        programme: str,
        ref: str,
        *,
        period: str,
        value: str | int | float | Decimal,
        breakdown: str = "",
        actor: str,
        reason: str = "",
        seen_version: int | None = None,
        batch: Batch | None = None,
    ) -> UUID:
        """Record an indicator's value; changing a recorded value needs a reason."""
        with self._changes(batch) as b:
            owner = b.programme(programme)
            indicator = b.find(Indicator, Indicator.create_id(owner.id, ref))
            if indicator is None:
                raise UnknownRef(f"{owner.name} has no indicator {ref!r}.", field="ref")
            self._check_seen(indicator, seen_version)
            indicator.record_value(
                owner, period=period, value=value, breakdown=breakdown, actor=actor, reason=reason
            )
        return indicator.id

    # ---------------------------------------------------------------- report narratives

    def write_narrative(
        self,
        programme: str,
        *,
        period: str,
        section: str,
        text: str,
        actor: str,
        reason: str = "",
        seen_version: int | None = None,
        batch: Batch | None = None,
    ) -> UUID:
        with self._changes(batch) as b:
            owner = b.programme(programme)
            label = owner.parse_period(period).label
            narrative = b.find(Narrative, Narrative.create_id(owner.id, label))
            if narrative is None and not (text or "").strip():
                return Narrative.create_id(owner.id, label)  # nothing written, nothing to record
            if narrative is None:
                narrative = b.add(Narrative(programme_id=owner.id, period=label, actor=actor, reason=""))
            self._check_seen(narrative, seen_version)
            narrative.write(section=section, text=text, actor=actor, reason=reason)
        return narrative.id

    # ---------------------------------------------------------------- publication

    def publish_report(
        self,
        programme: str,
        *,
        report: str,
        period: str,
        log_position: int,
        content_sha256: str,
        title: str,
        actor: str,
        reason: str = "",
        batch: Batch | None = None,
    ) -> UUID:
        """Record that a report was published, built from the log up to `log_position`."""
        with self._changes(batch) as b:
            owner = b.programme(programme)
            label = owner.parse_period(period).label
            publication = b.find(Publication, Publication.create_id(owner.id, report, label))
            if publication is None:
                publication = b.add(
                    Publication(
                        programme_id=owner.id,
                        report=report,
                        period=label,
                        log_position=log_position,
                        content_sha256=content_sha256,
                        title=title,
                        actor=actor,
                        reason=(reason or "").strip(),
                    )
                )
            else:
                publication.republish(
                    log_position=log_position, content_sha256=content_sha256, actor=actor, reason=reason
                )
        return publication.id

    # ---------------------------------------------------------------- accounts

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
        with self._changes(batch) as b:
            account = Account.open(
                username=username, display_name=display_name, role=role, actor=actor, reason=reason
            )
            self._new(b, account, f"An account {account.username!r} already exists.")
        return account.id

    def _account(self, b: Batch, username: str) -> Account:
        account = b.find(Account, Account.create_id(username))
        if account is None:
            raise UnknownRef(f"There is no account {username!r}.", field="username")
        return account

    def grant_role(
        self, username: str, role: str, *, actor: str, reason: str, batch: Batch | None = None
    ) -> UUID:
        with self._changes(batch) as b:
            account = self._account(b, username)
            account.grant_role(role, actor=actor, reason=reason)
        return account.id

    def revoke_role(
        self, username: str, role: str, *, actor: str, reason: str, batch: Batch | None = None
    ) -> UUID:
        with self._changes(batch) as b:
            account = self._account(b, username)
            account.revoke_role(role, actor=actor, reason=reason)
        return account.id

    def assign_programme(
        self, username: str, programme: str, *, actor: str, reason: str = "", batch: Batch | None = None
    ) -> UUID:
        with self._changes(batch) as b:
            account = self._account(b, username)
            account.assign_programme(b.programme(programme), actor=actor, reason=reason)
        return account.id

    def unassign_programme(
        self, username: str, programme: str, *, actor: str, reason: str, batch: Batch | None = None
    ) -> UUID:
        with self._changes(batch) as b:
            account = self._account(b, username)
            account.unassign_programme(b.programme(programme), actor=actor, reason=reason)
        return account.id

    def record_password_set(self, username: str, *, actor: str, reason: str) -> UUID:
        """Record that a password was set or reset (never the password)."""
        with self._changes(None) as b:
            account = self._account(b, username)
            account.record_password_set(actor=actor, reason=reason)
        return account.id

    def deactivate_account(self, username: str, *, actor: str, reason: str) -> UUID:
        with self._changes(None) as b:
            account = self._account(b, username)
            account.deactivate(actor=actor, reason=reason)
        return account.id

    def reactivate_account(self, username: str, *, actor: str, reason: str) -> UUID:
        with self._changes(None) as b:
            account = self._account(b, username)
            account.reactivate(actor=actor, reason=reason)
        return account.id

    # ---------------------------------------------------------------- queries

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
            "version": account.version,
        }

    def get_version(self, aggregate_id: UUID) -> int:
        return self.repository.get(aggregate_id).version

    def get_changes_since(self, aggregate_id: UUID, version: int) -> list[ChangeSummary]:
        return self._changes_since(aggregate_id, version)

    def get_log_position(self) -> int:
        """The position of the last event in the log (0 when empty)."""
        return self.recorder.max_notification_id() or 0


def _subject(aggregate: Aggregate) -> str:
    ref = (
        getattr(aggregate, "ref", None)
        or getattr(aggregate, "username", None)
        or getattr(aggregate, "slug", "")
    )
    return f"{type(aggregate).__name__} {ref}".strip()


def open_ledger(data_dir: str | os.PathLike[str] | None = None) -> Ledger:
    """The ledger on the event store in `data_dir` (see ledger.config)."""
    return Ledger(env=event_store_env(data_dir))
