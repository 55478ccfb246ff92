"""The review of each item's update per period (issue 12): review_state.

A row exists once an update is submitted; an update recorded and never submitted is a
draft, and has no row (pages and queries show it as "draft")."""

from __future__ import annotations

from projections.schema.model import PERIOD, PERIOD_START, POSITION, PROGRAMME, REF, VERSION, Table, column

REVIEW_TABLES: tuple[Table, ...] = (
    Table(
        "review_state",
        "Where each item's update for a period stands in review: submitted, approved, returned "
        "or superseded (approved, then changed), with the SHA-256 of the content concerned.",
        (
            PROGRAMME,
            REF,
            PERIOD,
            PERIOD_START,
            column(
                "state",
                str,
                "submitted (awaiting review), approved, returned (sent back with a comment) or "
                "superseded (the approved content has since changed)",
            ),
            column(
                "content_sha256",
                str,
                "SHA-256 of the content (status, update, mitigation as stored, canonical JSON) "
                "this step concerns: as submitted, as approved, or as changed after approval",
            ),
            column("by", str, "Who took the latest step (username)"),
            column("at", str, "When the latest step was recorded (UTC)"),
            column(
                "superseded",
                int,
                "1 if the content approved has changed since (the approval no longer holds)",
            ),
            column("approved_sha256", str, "SHA-256 of the content last approved (empty if never approved)"),
            column("approved_by", str, "Who last approved it (empty if never approved)"),
            column("approved_at", str, "When it was last approved (UTC; empty if never approved)"),
            column("submitted_by", str, "Who last submitted it"),
            column("comment", str, "The reviewer's comment with the latest return or approval"),
            column("returns", int, "How many times it has been returned"),
            VERSION,
            POSITION,
        ),
        pk=("programme", "ref", "period"),
        indexes=(("state",),),
        facets=("programme", "period", "state", "superseded"),
        sort_desc="at",
    ),
)
