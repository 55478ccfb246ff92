"""Commands on status scales: define and revise a council's scale; find a scale by id
(one the ledger defines, else a built-in one)."""

from __future__ import annotations

from uuid import UUID

from ledger.application.batch import Batch, LedgerBase
from ledger.domain import StatusScale
from ledger.errors import UnknownRef
from ledger.scales import BUILT_IN_SCALES, Scale, Status, scale_named


class ScaleCommands(LedgerBase):
    def define_scale(
        self,
        key: str,
        name: str,
        statuses: list[Status],
        *,
        actor: str,
        reason: str = "",
        batch: Batch | None = None,
    ) -> UUID:
        """A new scale; the built-in ids (`rag`, `five-point`) may be defined too, and the
        definition then takes the built-in's place for programmes that adopt it later."""
        return self._create(
            batch,
            lambda b: StatusScale.define(key=key, name=name, statuses=statuses, actor=actor, reason=reason),
            lambda scale, _: f"A scale with the id {scale.key!r} already exists: revise it instead.",
        )

    def revise_scale(
        self,
        key: str,
        name: str,
        statuses: list[Status],
        *,
        actor: str,
        reason: str,
        seen_version: int | None = None,
        batch: Batch | None = None,
    ) -> UUID:
        return self._change(
            batch,
            lambda b: b.existing(
                StatusScale, StatusScale.create_id(key), f"There is no scale {key!r}.", "scale"
            ),
            lambda scale, b: scale.revise(name=name, statuses=statuses, actor=actor, reason=reason),
            seen_version,
        )

    def find_scale(self, key: str, batch: Batch | None = None) -> Scale:
        """The scale with id `key` as defined now. Raises UnknownStatus (field `scale`)."""
        defined = (batch or Batch(self)).find(StatusScale, StatusScale.create_id(key))
        return scale_named(key, {defined.key: defined.scale} if defined else None)

    def get_scale(self, key: str) -> dict[str, object]:
        found = Batch(self).find(StatusScale, StatusScale.create_id(key))
        if found is None:
            if key in BUILT_IN_SCALES:
                return {"scale": BUILT_IN_SCALES[key], "version": 0}
            raise UnknownRef(f"There is no scale {key!r}.", field="scale")
        return {"scale": found.scale, "version": found.version}
