"""Tables of items off the register (retired or merged, and reinstated) and the notes a
register printed for an item instead of a status."""

from __future__ import annotations

from projections.schema.model import PERIOD, PERIOD_START, POSITION, PROGRAMME, REF, Table, column

REGISTER_TABLES: tuple[Table, ...] = (
    Table(
        "item_retirements",
        "Each time an item left the register: retired, or merged into another item (its "
        "history stays under its own ref), and the period it was reinstated from, if it was.",
        (
            PROGRAMME,
            REF,
            column("retired_from", str, "First period the item is off the register, e.g. 2024/25 Q3"),
            column("retired_from_start", str, "First day of that period (ISO date)"),
            column("merged_into", str, "Ref of the item it was merged into; empty if simply retired"),
            column("reason", str, "Why it was retired or merged"),
            column("retired_by", str, "Who recorded the retirement"),
            column("retired_at", str, "When the retirement was recorded (UTC)"),
            column("reinstated_from", str, "First period back on the register; empty while retired"),
            column("reinstated_from_start", str, "First day of that period (ISO date); empty while retired"),
            column("reinstated_reason", str, "Why it was reinstated"),
            POSITION,
        ),
        pk=("programme", "ref", "retired_from"),
        indexes=(("programme", "retired_from_start"),),
        facets=("programme", "merged_into"),
        sort="retired_from_start",
    ),
    Table(
        "item_notes",
        "Notes a register printed for an item in a period instead of a status (a footnote "
        "such as 'merged into R5'), recorded from a history grid's declared markers.",
        (
            PROGRAMME,
            REF,
            PERIOD,
            PERIOD_START,
            column("note", str, "The note, as the register's footnote words it"),
            column("recorded_by", str, "Who recorded it"),
            column("recorded_at", str, "When it was recorded (UTC)"),
            POSITION,
        ),
        pk=("programme", "ref", "period"),
        facets=("programme", "period"),
        sort="period_start",
    ),
)
