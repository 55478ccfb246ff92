"""Background jobs as pages and workers read them.

A running job whose worker's lease has passed is shown as failed (its worker stopped)
even before a worker records that it failed: "now" is passed in, never stored."""

from __future__ import annotations

import json
from datetime import datetime

from projections.queries.connection import Db, Row, one, rows


def _shown(row: Row, now: datetime) -> Row:
    lost = row["state"] == "running" and row["lease_until"] < now.isoformat()
    return {
        **row,
        "shown_state": "failed" if lost else row["state"],
        "lost": lost,
        "result": json.loads(row["result"]) if row["result"] else None,
        "percent": round(100 * row["done"] / row["total"]) if row["total"] else 0,
    }


def get_job(db: Db, job: str, *, now: datetime) -> Row | None:
    found = one(db, "SELECT * FROM jobs WHERE job = ?", (job,))
    return _shown(found, now) if found else None


def get_jobs_waiting(db: Db) -> list[tuple[str, str, str]]:
    """Queued jobs, oldest first, as (id, file's SHA-256, the name it is stored under):
    what a worker takes next, if its node keeps the file."""
    sql = "SELECT job, file_sha256, file_stored FROM jobs WHERE state = 'queued' ORDER BY requested_at, job"
    return [(r["job"], r["file_sha256"], r["file_stored"]) for r in rows(db, sql)]


def get_jobs_lost(db: Db, *, now: datetime) -> list[str]:
    """Running jobs whose worker's lease has passed."""
    sql = "SELECT job FROM jobs WHERE state = 'running' AND lease_until < ? ORDER BY lease_until"
    return [r["job"] for r in rows(db, sql, (now.isoformat(),))]


def file_still_needed(db: Db, file_sha256: str, *, besides: str) -> bool:
    """Whether a job other than `besides` may still read this file (not yet done)."""
    sql = "SELECT 1 FROM jobs WHERE file_sha256 = ? AND job != ? AND state != 'done' LIMIT 1"
    return bool(rows(db, sql, (file_sha256, besides)))


def get_recent_jobs(db: Db, kind: str, *, now: datetime, limit: int = 5) -> list[Row]:
    """The latest jobs of one kind, newest first, as get_job shows them."""
    sql = "SELECT * FROM jobs WHERE kind = ? ORDER BY requested_at DESC, job LIMIT ?"
    return [_shown(r, now) for r in rows(db, sql, (kind, limit))]


def get_reports_built_before(db: Db, cutoff: datetime) -> list[tuple[str, str]]:
    """Built reports, as (SHA-256, name kept under), that every job which built them
    finished before `cutoff` (the same bytes built twice are kept once)."""
    sql = (
        "SELECT json_extract(result, '$.sha256') AS sha, json_extract(result, '$.stored') AS stored"
        " FROM jobs WHERE kind = 'report' AND state = 'done' GROUP BY sha, stored"
        " HAVING max(finished_at) < ?"
    )
    return [(r["sha"], r["stored"]) for r in rows(db, sql, (cutoff.isoformat(),)) if r["sha"]]
