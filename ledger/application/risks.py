"""Commands on risks and issues (raise, re-rate, correct, close, reopen) and on
dependencies (register, review, correct)."""

from __future__ import annotations

from uuid import UUID

from ledger.application.batch import Batch, LedgerBase
from ledger.domain import Dependency, Programme, Risk


class RiskCommands(LedgerBase):
    def raise_risk(
        self,
        programme: str,
        ref: str,
        *,
        kind: str = "risk",
        description: str,
        rag_before: str = "",
        mitigation: str = "",
        rag_after: str = "",
        owner: str = "",
        period: str,
        actor: str,
        reason: str = "",
        batch: Batch | None = None,
    ) -> UUID:
        return self._create(
            batch,
            lambda b: Risk.raise_(
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
            ),
            lambda risk, _: f"{kind.capitalize()} {ref} already exists.",
        )

    def _risk(self, b: Batch, programme: Programme, kind: str, ref: str) -> Risk:
        return b.existing(
            Risk,
            Risk.create_id(programme.id, kind.strip().lower(), ref),
            f"{programme.name} has no {kind} {ref!r}.",
        )

    def rerate_risk(
        self,
        programme: str,
        ref: str,
        *,
        kind: str = "risk",
        rag_before: str = "",
        mitigation: str = "",
        rag_after: str = "",
        period: str,
        actor: str,
        reason: str,
        seen_version: int | None = None,
        batch: Batch | None = None,
    ) -> UUID:
        return self._change(
            batch,
            lambda b: self._risk(b, b.programme(programme), kind, ref),
            lambda risk, b: risk.rerate(
                b.programme(programme),
                rag_before=rag_before,
                mitigation=mitigation,
                rag_after=rag_after,
                period=period,
                actor=actor,
                reason=reason,
            ),
            seen_version,
        )

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
        return self._change(
            batch,
            lambda b: self._risk(b, b.programme(programme), kind, ref),
            lambda risk, b: risk.correct(description=description, owner=owner, actor=actor, reason=reason),
            seen_version,
        )

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
        return self._change(
            batch,
            lambda b: self._risk(b, b.programme(programme), kind, ref),
            lambda risk, b: risk.close(b.programme(programme), period=period, actor=actor, reason=reason),
            seen_version,
        )

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
        return self._change(
            batch,
            lambda b: self._risk(b, b.programme(programme), kind, ref),
            lambda risk, b: risk.reopen(b.programme(programme), period=period, actor=actor, reason=reason),
            seen_version,
        )


class DependencyCommands(LedgerBase):
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
        return self._create(
            batch,
            lambda b: Dependency.register(
                b.programme(programme),
                ref=ref,
                description=description,
                plan_agreed=plan_agreed,
                confidence=confidence,
                owner=owner,
                period=period,
                actor=actor,
                reason=reason,
            ),
            lambda dependency, _: f"Dependency {ref} already exists.",
        )

    def _dependency(self, b: Batch, programme: Programme, ref: str) -> Dependency:
        return b.existing(
            Dependency,
            Dependency.create_id(programme.id, ref),
            f"{programme.name} has no dependency {ref!r}.",
        )

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
        return self._change(
            batch,
            lambda b: self._dependency(b, b.programme(programme), ref),
            lambda dependency, b: dependency.review(
                b.programme(programme),
                plan_agreed=plan_agreed,
                confidence=confidence,
                period=period,
                actor=actor,
                reason=reason,
            ),
            seen_version,
        )

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
        return self._change(
            batch,
            lambda b: self._dependency(b, b.programme(programme), ref),
            lambda dependency, b: dependency.correct(
                description=description, owner=owner, actor=actor, reason=reason
            ),
            seen_version,
        )
