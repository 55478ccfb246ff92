"""A dependency's two sides (issue 12, item 6): dependency_sides, one row per dependency
whose provider and receiver are named, with what each side last confirmed and where the
two stand ("sides disagree", in words)."""

from __future__ import annotations

from projections.schema.model import POSITION, PROGRAMME, VERSION, Column, Table, column


def _side(side: str) -> tuple[Column, ...]:
    return (
        column(side, str, f"The {side}: a programme's id, or a team's name"),
        column(f"{side}_kind", str, f"Whether the {side} is a programme in the ledger or a team"),
        column(
            f"{side}_plan_agreed",
            str,
            f"Whether the {side} confirms a jointly agreed plan: yes or no (empty until it confirms)",
        ),
        column(
            f"{side}_confidence",
            str,
            f"The {side}'s confidence: High, Medium or Low (empty until it confirms)",
        ),
        column(f"{side}_period", str, f"Period the {side} confirmed for"),
        column(f"{side}_confirmed_by", str, f"Who confirmed for the {side} (username)"),
        column(f"{side}_confirmed_at", str, f"When the {side} last confirmed (UTC)"),
    )


SIDE_TABLES: tuple[Table, ...] = (
    Table(
        "dependency_sides",
        "Dependencies agreed by both sides: the provider and the receiver, what each confirmed "
        "(plan agreed, confidence, who, when) and whether they agree, in words.",
        (
            PROGRAMME,
            column("ref", str, "Dependency reference, e.g. D1 (its row in dependencies)"),
            *_side("provider"),
            *_side("receiver"),
            column(
                "agreement",
                str,
                "sides not named, awaiting both sides, awaiting the provider, awaiting the receiver, "
                "sides agree or sides disagree",
            ),
            column(
                "agreement_text",
                str,
                "Where the two sides stand, naming each and what it says when they differ",
            ),
            column("updated_at", str, "When a side was last named or confirmed (UTC)"),
            column("updated_by", str, "Who named or confirmed it"),
            VERSION,
            POSITION,
        ),
        pk=("programme", "ref"),
        indexes=(("agreement",),),
        facets=("programme", "agreement", "provider", "receiver"),
        sort_desc="updated_at",
    ),
)
