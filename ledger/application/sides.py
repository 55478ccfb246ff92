"""Commands on a dependency's two sides (issue 12, item 6): name the provider and the
receiver, and record each side's confirmation of the plan and its confidence."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from ledger.application.batch import Batch, LedgerBase
from ledger.domain import Dependency, Programme
from ledger.domain.agreement import PROGRAMME_PARTY, SIDES, TEAM_PARTY
from ledger.errors import InvalidValue, raise_all


def resolve_party(b: Batch, text: str, field: str) -> tuple[str, str]:
    """(name, kind): a programme in the ledger by its slug (any case), else a team by the
    name given. A side must be named."""
    name = " ".join((text or "").split())
    if not name:
        raise InvalidValue(f"Name the {field}: a programme's slug, or a team.", field=field)
    if len(name) > 200:
        raise InvalidValue(f"The {field}'s name is too long: 200 characters at most.", field=field)
    programme = b.find(Programme, Programme.create_id(name))
    return (programme.slug, PROGRAMME_PARTY) if programme is not None else (name, TEAM_PARTY)


class DependencySideCommands(LedgerBase):
    def _dependency_of(self, b: Batch, programme: str, ref: str) -> Dependency:
        owner = b.programme(programme)
        return b.existing(
            Dependency, Dependency.create_id(owner.id, ref), f"{owner.name} has no dependency {ref!r}."
        )

    def name_dependency_sides(
        self,
        programme: str,
        ref: str,
        *,
        provider: str,
        receiver: str,
        actor: str,
        reason: str = "",
        seen_version: int | None = None,
        batch: Batch | None = None,
    ) -> UUID:
        """Name who provides and who receives (a programme's slug, or a team's name)."""

        def name(dependency: Dependency, b: Batch) -> None:
            parties: dict[str, tuple[str, str]] = {}
            raise_all(
                lambda: parties.update(provider=resolve_party(b, provider, "provider")),
                lambda: parties.update(receiver=resolve_party(b, receiver, "receiver")),
            )
            dependency.name_sides(parties["provider"], parties["receiver"], actor=actor, reason=reason)

        return self._change(batch, lambda b: self._dependency_of(b, programme, ref), name, seen_version)

    def confirm_dependency_side(
        self,
        programme: str,
        ref: str,
        *,
        side: str,
        plan_agreed: str | bool | None,
        confidence: str,
        period: str,
        actor: str,
        reason: str = "",
        seen_version: int | None = None,
        batch: Batch | None = None,
    ) -> UUID:
        """One side confirms whether a jointly agreed plan is in place, and its confidence."""
        return self._change(
            batch,
            lambda b: self._dependency_of(b, programme, ref),
            lambda dependency, b: dependency.confirm(
                b.programme(programme),
                side,
                plan_agreed=plan_agreed,
                confidence=confidence,
                period=period,
                actor=actor,
                reason=reason,
            ),
            seen_version,
        )

    def get_dependency_sides(self, programme: str, ref: str) -> dict[str, Any]:
        """The sides as the event store holds them: each side's party, kind ('' until
        named) and view (plan agreed, confidence, period; '' until it confirms)."""
        with self.batch() as b:
            dependency = self._dependency_of(b, programme, ref)
        return {
            side: {
                "party": getattr(dependency, side),
                "kind": getattr(dependency, f"{side}_kind"),
                "view": getattr(dependency, f"{side}_view"),
            }
            for side in SIDES
        } | {"version": dependency.version}
