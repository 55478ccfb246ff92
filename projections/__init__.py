"""The read side: projections of the ledger's event log into projections.db.

- `open_system(data_dir)`: the ledger plus a projector kept current after every save.
- `rebuild(data_dir)` / `snapshot(data_dir, out, as_at)`: replay into a new file.
- `projections.queries`: the `get_*` functions pages and reports read with.
- `projections.datasette_config.make_datasette`: Datasette over projections.db only.
"""

from projections.projector import Change, ProjectionFailed, Projector, SchemaOutOfDate
from projections.system import System, open_system, rebuild, snapshot

__all__ = [
    "Change",
    "ProjectionFailed",
    "Projector",
    "SchemaOutOfDate",
    "System",
    "open_system",
    "rebuild",
    "snapshot",
]
