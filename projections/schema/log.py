"""Tables of accounts, the audit log, and the projector's own bookkeeping."""

from __future__ import annotations

from projections.schema.model import (
    VERSION,
    Table,
    column,
)

LOG_TABLES: tuple[Table, ...] = (
    Table(
        "accounts",
        "People's access: roles and programmes. No passwords are ever held here.",
        (
            column("username", str, "Username"),
            column("display_name", str, "The person's name"),
            column("email", str, "Email address reminders go to (empty if none is set)"),
            column(
                "roles",
                str,
                "Roles as a JSON list: officer, programme manager, auditor, analyst, administrator",
            ),
            column("programmes", str, "Programmes the person can work on, as a JSON list of programme ids"),
            column("active", int, "1 if the account is active"),
            column("opened_at", str, "When the account was opened (UTC)"),
            column("opened_by", str, "Who opened it"),
            column("updated_at", str, "When it last changed (UTC)"),
            VERSION,
        ),
        pk=("username",),
        facets=("active",),
        label_column="display_name",
    ),
    Table(
        "audit_log",
        "Every event in the ledger, one row each: who changed what, from what to what, when and why.",
        (
            column("position", int, "Event log position (the order events were recorded in)"),
            column("recorded_at", str, "When the event was recorded (UTC)"),
            column("actor", str, "Who made the change"),
            column("programme", str, "Programme it concerns (empty for accounts not tied to one)"),
            column("subject_ref", str, "What it concerns: item, risk, indicator ref, username, report..."),
            column("aggregate_kind", str, "Kind of record: Programme, Item, Risk, Indicator, Account..."),
            column("event_type", str, "What happened, e.g. StatusRecorded, StatusCorrected, Retitled"),
            column("summary", str, "What changed, in words"),
            column("field", str, "Field that changed, e.g. status, title, value"),
            column("from_value", str, "Value before the change (empty if new)"),
            column("to_value", str, "Value after the change"),
            column("reason", str, "Reason given"),
            column("period", str, "Reporting period the change is for, if any"),
            column("aggregate_id", str, "Internal id of the record changed (UUID)"),
            column("version", int, "Version of the record after the change"),
            column(
                "chain_head", str, "Hash-chain head after this event (hex), to check against a checkpoint"
            ),
            # A status event's own columns (empty for other events): the status_events
            # view reads them, so its texts are held once, in this row.
            column("period_start", str, "For a status event: first day of the period (ISO date)"),
            column("status", str, "For a status event: the status recorded (Not rated if left empty)"),
            column("category", str, "For a status event: green, amber, red or unrated"),
            column("update", str, "For a status event: the update as recorded"),
            column("mitigation", str, "For a status event: mitigation or corrective action as recorded"),
            column("corrects_version", int, "For a status correction: the version it corrects"),
        ),
        pk=("position",),
        indexes=(
            ("programme", "subject_ref", "position"),
            ("programme", "period", "position"),
        ),
        facets=("programme", "aggregate_kind", "event_type", "actor", "period"),
        sort_desc="position",
        # Every update and mitigation text recorded (the status_events view's search).
        fts=("update", "mitigation"),
    ),
    Table(
        "subjects",
        "Internal: what each record id refers to (programme and ref), for the projector.",
        (
            column("aggregate_id", str, "Internal id of the record (UUID)"),
            column("aggregate_kind", str, "Kind of record"),
            column("programme", str, "Programme it belongs to"),
            column("ref", str, "Its ref, username, period or report name"),
            column("kind", str, "For risks: risk or issue"),
            column("period", str, "For narratives and publications: the period"),
        ),
        pk=("aggregate_id",),
        hidden=True,
    ),
    Table(
        "projection_position",
        "Internal: the last event log position applied, written in the same transaction as the rows.",
        (
            column("projection", str, "Name of the projection"),
            column("position", int, "Last event log position applied"),
            column("schema_version", int, "Version of the read model's shape"),
            column("as_at", str, "For a snapshot: the time or position it was taken as at (empty when live)"),
        ),
        pk=("projection",),
        hidden=True,
    ),
)
