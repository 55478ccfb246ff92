"""Publishing: freeze a report as its exact bytes, and prove them later.

`publish` renders a report from the projections at log position P, stores the bytes in
`<data_dir>/publications/<sha256>.html` (named by their hash, written once, read-only)
and records `Ledger.publish_report(log_position=P, content_sha256=...)`: the hash lives in
the hash-chained event store, the bytes beside it.

The CSV and the Word paper (`FORMATS`) are rendered from the same built report,
stored beside the HTML under its own hash, and its hash recorded in the same event
(`documents`); `fetch_document` proves it the same way.

`get_published` returns exactly what was published. The expected hash is read from the
event store (the `Publication` aggregate), not from the disposable read model. If the
stored file is missing or altered, the report is rebuilt by replaying the log up to P
(`projections.system.snapshot`) and accepted only if it hashes the same; otherwise
`PublicationUnproven` is raised.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from ledger.application import Ledger
from ledger.errors import LedgerError, UnknownRef
from projections import queries
from projections.reports.build import Database, as_at_position, build_report, read_transaction
from projections.reports.csv_table import render_csv
from projections.reports.model import REPORT_KINDS, Report
from projections.reports.render import render_html
from projections.reports.word import render_docx

PUBLICATIONS_DIR = "publications"
# The formats published beside the HTML, each rendered from the same built report and
# given the published HTML's SHA-256 (the Word paper's document control names it).
FORMATS: dict[str, Callable[[Report, str], bytes]] = {
    "csv": lambda report, _html_sha256: render_csv(report),
    "docx": render_docx,
}


class System(Protocol):
    """What publishing needs from projections.system.System."""

    ledger: Ledger
    projector: Any
    projections_db: Any
    data_dir: Path


class LedgerMovedOn(LedgerError):
    """The ledger changed after the person looked at what they were about to publish."""


class PublicationUnproven(LedgerError):
    """Neither the stored copy nor a rebuild from the log matches the published hash."""


@dataclass(frozen=True)
class Edition:
    """One published edition, as the event store records it."""

    programme: str
    report: str
    period: str
    edition: int
    log_position: int
    content_sha256: str
    title: str
    # format -> SHA-256 of the other formats published with it; {} before they were kept.
    documents: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class PublishedCopy:
    edition: Edition
    content: bytes
    # "stored": the file kept at publication; "rebuilt": replayed from the log up to the
    # edition's position because the stored file was missing or altered.
    source: str
    stored_file_ok: bool


def sha256_hex(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def publications_dir(data_dir: str | os.PathLike[str]) -> Path:
    return Path(data_dir) / PUBLICATIONS_DIR


def stored_path(data_dir: str | os.PathLike[str], content_sha256: str, suffix: str = "html") -> Path:
    if len(content_sha256) != 64 or not all(c in "0123456789abcdef" for c in content_sha256):
        raise ValueError(f"{content_sha256!r} is not a SHA-256 hex digest")
    if suffix != "html" and suffix not in FORMATS:
        raise ValueError(f"{suffix!r} is not a published format")
    return publications_dir(data_dir) / f"{content_sha256}.{suffix}"


def store_content(data_dir: str | os.PathLike[str], content: bytes, suffix: str = "html") -> str:
    """Store `content` under its hash, once; returns the hash. An existing file with the
    right content is left alone; one with the wrong content is never silently replaced."""
    digest = sha256_hex(content)
    path = stored_path(data_dir, digest, suffix)
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists():
        if sha256_hex(path.read_bytes()) == digest:
            return digest
        raise PublicationUnproven(
            f"{path} exists but does not hold the content its name promises: it has been "
            "altered. Move it aside for investigation, then publish again."
        )
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=".publishing-", suffix=f".{suffix}")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(content)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(temp, 0o444)
        # link() refuses to replace an existing file, so two publishers can't overwrite.
        with contextlib.suppress(FileExistsError):
            os.link(temp, path)
    finally:
        os.unlink(temp)
    return digest


def _catch_up(system: System) -> None:
    system.projector.catch_up()


def publish(
    system: System,
    programme: str,
    report: str,
    period: str,
    actor: str,
    reason: str = "",
    *,
    seen_position: int | None = None,
    override_reason: str = "",
) -> Edition:
    """Publish `report` for `programme` and `period` as the projections stand now.

    A second publication of the same report and period is a new edition and needs a reason
    (the ledger refuses it without one). With `seen_position` (the log position the person
    confirmed at), `LedgerMovedOn` is raised, and nothing published, if the ledger has moved
    on since. In a period opened for updates, every item in the report must be approved,
    or `override_reason` given (ledger.application.review). Returns the edition recorded."""
    if report not in REPORT_KINDS:
        raise UnknownRef(f"{report!r} is not a kind of report.", field="report")
    _catch_up(system)
    # One read transaction: the content and the position it claims belong together.
    built = build_report(system.projections_db, programme, report, period)
    if seen_position is not None and built.as_at.position != seen_position:
        raise LedgerMovedOn(
            f"The ledger has changed since you looked (log position {seen_position}, now "
            f"{built.as_at.position}). Check the report, then publish again."
        )
    content = render_html(built)
    digest = store_content(system.data_dir, content)
    documents = {
        fmt: store_content(system.data_dir, render(built, digest), fmt) for fmt, render in FORMATS.items()
    }
    system.ledger.publish_report(
        programme,
        report=report,
        period=built.period,
        log_position=built.as_at.position,
        content_sha256=digest,
        title=built.title,
        actor=actor,
        reason=reason,
        refs=[entry.ref for entry in built.entries],
        override_reason=override_reason,
        documents=documents,
    )
    _catch_up(system)
    editions = list_editions(system.ledger, programme, report, built.period)
    # Ours, even if someone else published again a moment later.
    return next(
        e for e in reversed(editions) if (e.content_sha256, e.log_position) == (digest, built.as_at.position)
    )


def list_editions(ledger: Ledger, programme: str, report: str, period: str) -> list[Edition]:
    """Every edition of a report, from the event store (oldest first); [] if unpublished."""
    publication = ledger.get_publication(programme, report, period)
    if publication is None:
        return []
    return [
        Edition(
            programme=programme,
            report=report,
            period=publication["period"],
            edition=number,
            log_position=int(e["log_position"]),
            content_sha256=e["content_sha256"],
            title=publication["title"],
            documents=dict(e.get("documents") or {}),
        )
        for number, e in enumerate(publication["editions"], start=1)
    ]


def get_edition(
    ledger: Ledger, programme: str, report: str, period: str, edition: int | None = None
) -> Edition:
    editions = list_editions(ledger, programme, report, period)
    if not editions:
        raise UnknownRef(f"The {report} report for {programme}, {period} has not been published.")
    if edition is None:
        return editions[-1]
    if not 1 <= edition <= len(editions):
        raise UnknownRef(f"There is no edition {edition} of that report (there are {len(editions)}).")
    return editions[edition - 1]


def rebuild(system: System, edition: Edition, fmt: str = "html") -> bytes:
    """The edition's report rendered afresh, in `fmt`, from the log replayed up to its position."""
    report = build_as_at(system, edition.programme, edition.report, edition.period, edition.log_position)
    return render_html(report) if fmt == "html" else FORMATS[fmt](report, edition.content_sha256)


def build_as_at(
    system: System, programme: str, kind: str, period: str, as_at: int | str | datetime | None = None
) -> Report:
    """A report from the live projections (`as_at` None), or from the log replayed as at
    a position or time into a temporary snapshot: the same code either way."""
    if as_at is None:
        return build_report(system.projections_db, programme, kind, period)
    with tempfile.TemporaryDirectory(prefix="govledger-asat-") as temp:
        return build_report(snapshot_file(system, Path(temp), as_at, programme), programme, kind, period)


def snapshot_file(
    system: System, directory: Path, as_at: int | str | datetime, programme: str | None = None
) -> Path:
    """Replay the system's log as at a position or time into `directory`/projections.db:
    only `programme`'s part of it (projections.asat) when named and the live read model
    has reached that point, else the whole log."""
    from projections.asat import ReadModelBehind, programme_snapshot_with
    from projections.system import snapshot_with

    out = directory / "projections.db"
    # The system's own ledger: no second Application on the same event store.
    if programme is not None:
        with contextlib.suppress(ReadModelBehind):
            programme_snapshot_with(system.ledger, system.projections_db, out, programme, as_at)
            return out
    snapshot_with(system.ledger, out, as_at)
    return out


def fetch_published(
    system: System, programme: str, report: str, period: str, edition: int | None = None
) -> PublishedCopy:
    """The published bytes with how they were obtained; raises PublicationUnproven."""
    return fetch_document(system, get_edition(system.ledger, programme, report, period, edition))


def fetch_document(
    system: System, wanted: Edition, fmt: str = "html", *, may_rebuild: bool = True
) -> PublishedCopy:
    """The edition's published bytes in `fmt`: the stored file if it hashes to what the
    ledger recorded, else (`may_rebuild`) a rebuild from the log if that does. Raises
    UnknownRef if the edition was published without that format, PublicationUnproven if
    nothing proves. (A rebuild replays the log: pages anyone may open pass False.)"""
    expected = wanted.content_sha256 if fmt == "html" else wanted.documents.get(fmt)
    if expected is None:
        raise UnknownRef(f"Edition {wanted.edition} of {wanted.title} was not published as {fmt.upper()}.")
    path = stored_path(system.data_dir, expected, fmt)
    try:
        content = path.read_bytes()
    except FileNotFoundError:
        content = None
    if content is not None and sha256_hex(content) == expected:
        return PublishedCopy(wanted, content, "stored", True)
    problem = "is missing" if content is None else "has been altered"
    if not may_rebuild:
        raise PublicationUnproven(f"The stored {fmt.upper()} of {wanted.title} {problem}.")
    rebuilt = rebuild(system, wanted, fmt)
    if sha256_hex(rebuilt) == expected:
        return PublishedCopy(wanted, rebuilt, "rebuilt", False)
    raise PublicationUnproven(
        f"The published {fmt.upper()} of {wanted.title} (edition {wanted.edition}) cannot be "
        f"proven: the stored file {problem}, and rebuilding it from the ledger at log position "
        f"{wanted.log_position} gives a different hash ({sha256_hex(rebuilt)[:12]}…, "
        f"published {expected[:12]}…)."
    )


def get_published(
    system: System, programme: str, report: str, period: str, edition: int | None = None
) -> bytes:
    """Exactly the bytes that were published (the latest edition unless one is named)."""
    return fetch_published(system, programme, report, period, edition).content


def live_differs(system: System, edition: Edition) -> bool:
    """Would the report rendered from the ledger now say anything different from the
    edition? (The live report is given the edition's as-at footer, so only content counts.)"""
    db = system.projections_db
    live = build_report(db, edition.programme, edition.report, edition.period)
    candidate = replace(live, as_at=as_at_position(db, edition.log_position))
    return sha256_hex(render_html(candidate)) != edition.content_sha256


# ---------------------------------------------------------------- what changed since


def changed_after_publication(
    db: Database, programme: str, report: str, period: str, log_position: int, *, latest: bool = True
) -> list[dict[str, Any]]:
    """Audit rows for the programme and period recorded after the edition's position
    (publication events aside): what the published report does not show. For the latest
    edition this is the projections' `changed_after_publication` view; for an earlier one
    the view's rule applied to audit_log at that edition's position."""
    if latest:
        return [
            r for r in queries.get_changed_after_publication(db, programme, period) if r["report"] == report
        ]
    with read_transaction(db) as conn:
        cursor = conn.execute(
            "SELECT * FROM audit_log WHERE programme = ? AND period = ? AND position > ? "
            "AND aggregate_kind != 'Publication' ORDER BY position",
            (programme, period, log_position),
        )
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
