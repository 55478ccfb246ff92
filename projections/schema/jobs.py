"""Background jobs (ledger.domain.jobs): one row per job, as it stands.

Whether a running job's worker has stopped depends on the clock, which a projection must
not read: the row holds `lease_until`, and projections.queries.jobs shows a running job
whose lease has passed as failed until a worker records that it failed."""

from __future__ import annotations

from projections.schema.model import VERSION, Table, column

JOB_TABLES: tuple[Table, ...] = (
    Table(
        "jobs",
        "Background jobs (imports over the size threshold): who asked, which worker ran "
        "them, how far they got and how they ended. The file itself is never kept here: "
        "only its name, size and SHA-256.",
        (
            column("job", str, "Id of the job"),
            column("kind", str, "What the job does: import"),
            column("state", str, "queued, running, done or failed"),
            column("file_name", str, "Name of the file as its uploader called it"),
            column("file_size", int, "Size of the file in bytes"),
            column("file_sha256", str, "SHA-256 of the file, which names it in the job store"),
            column("file_stored", str, "Name the file is kept under in the job store (its kind)"),
            column("requested_by", str, "Who asked for the job"),
            column("requested_at", str, "When it was asked for (UTC)"),
            column("worker", str, "The worker running or last to run it (empty while first queued)"),
            column("started_at", str, "When its latest run started (UTC)"),
            column("lease_until", str, "Until when the worker's claim holds unless renewed (UTC)"),
            column("attempts", int, "How many times a worker has started it"),
            column("stage", str, "What the worker was doing when it last reported"),
            column("done", int, "Rows done when it last reported"),
            column("total", int, "Rows in all (0 until known)"),
            column("result", str, "A finished job's result as JSON: counts recorded, or the problems"),
            column("problem", str, "Why the latest run failed (empty unless failed)"),
            column("finished_at", str, "When the latest run ended (UTC)"),
            column("retried_by", str, "Who last retried it (empty if never)"),
            column("retried_at", str, "When it was last retried (UTC)"),
            column("updated_at", str, "When the job last changed (UTC)"),
            VERSION,
        ),
        pk=("job",),
        indexes=(("state",), ("requested_by",)),
        facets=("state", "kind", "requested_by"),
        sort_desc="requested_at",
    ),
)
