"""Every topic the event store holds, in one place.

Round 1 wrote each class as `ledger.domain:<Class>` from a single module. The classes
now live in one module per aggregate family, and keep writing exactly these topics (see
`base.LedgerAggregate`), so old and new events read the same and hash the same. Each is
registered with eventsourcing here, so a log resolves whatever the package re-exports.
"""

from __future__ import annotations

from typing import Any

from eventsourcing.utils import register_topic

# The aggregates (held in each created event's `originator_topic`) and every event class
# round 1 could write. tests/fixtures/round1/ holds 32 of them (not Republished).
ROUND1_TOPICS = (
    "ledger.domain:Programme",
    "ledger.domain:Programme.Registered",
    "ledger.domain:Programme.Renamed",
    "ledger.domain:Programme.ContactChanged",
    "ledger.domain:Programme.ScaleChanged",
    "ledger.domain:Item",
    "ledger.domain:Item.Registered",
    "ledger.domain:Item.Retitled",
    "ledger.domain:Item.LeadReassigned",
    "ledger.domain:Item.CommitteeChanged",
    "ledger.domain:Item.StatusRecorded",
    "ledger.domain:Item.StatusCorrected",
    "ledger.domain:Risk",
    "ledger.domain:Risk.Raised",
    "ledger.domain:Risk.Rerated",
    "ledger.domain:Risk.Corrected",
    "ledger.domain:Risk.Closed",
    "ledger.domain:Risk.Reopened",
    "ledger.domain:Dependency",
    "ledger.domain:Dependency.Registered",
    "ledger.domain:Dependency.Reviewed",
    "ledger.domain:Dependency.Corrected",
    "ledger.domain:Indicator",
    "ledger.domain:Indicator.Defined",
    "ledger.domain:Indicator.ValueRecorded",
    "ledger.domain:Indicator.ValueCorrected",
    "ledger.domain:Narrative",
    "ledger.domain:Narrative.Started",
    "ledger.domain:Narrative.SectionWritten",
    "ledger.domain:Account",
    "ledger.domain:Account.Opened",
    "ledger.domain:Account.RoleGranted",
    "ledger.domain:Account.RoleRevoked",
    "ledger.domain:Account.ProgrammeAssigned",
    "ledger.domain:Account.ProgrammeUnassigned",
    "ledger.domain:Account.PasswordSet",
    "ledger.domain:Account.Deactivated",
    "ledger.domain:Account.Reactivated",
    "ledger.domain:Publication",
    "ledger.domain:Publication.Published",
    "ledger.domain:Publication.Republished",
)

# Classes added since round 1 write `ledger.domain:<Class>` topics too (the shared base
# names them); listed here so each is registered and checked the same way.
ADDED_TOPICS = (
    "ledger.domain:Item.LeadLinked",
    "ledger.domain:Account.EmailSet",
    "ledger.domain:ReportingPeriod",
    "ledger.domain:ReportingPeriod.Opened",
    "ledger.domain:ReportingPeriod.Extended",
    "ledger.domain:Reminder",
    "ledger.domain:Reminder.Sent",
    "ledger.domain:StatusScale",
    "ledger.domain:StatusScale.Defined",
    "ledger.domain:StatusScale.Revised",
    "ledger.domain:Programme.ScaleRemapped",
    "ledger.domain:Review",
    "ledger.domain:Review.Submitted",
    "ledger.domain:Review.Resubmitted",
    "ledger.domain:Review.Approved",
    "ledger.domain:Review.Returned",
    "ledger.domain:Review.Superseded",
    "ledger.domain:Item.Retired",
    "ledger.domain:Item.Reinstated",
    "ledger.domain:Item.Noted",
    "ledger.domain:Item.DueDateSet",
    "ledger.domain:Item.IndicatorsLinked",
    "ledger.domain:Dependency.SidesNamed",
    "ledger.domain:Dependency.SideConfirmed",
    "ledger.domain:Indicator.Redefined",
    "ledger.domain:Item.Moved",
    "ledger.domain:Item.KindChanged",
    "ledger.domain:Programme.DescriptionChanged",
    "ledger.domain:Programme.MitigationRuleChanged",
)


def register_round1_topics(public: dict[str, Any]) -> None:
    """Map each round-1 topic to its class, found by name among the package's exports.

    A topic whose class is gone fails here, at import, not on the first old event read;
    one claimed by a different class raises eventsourcing's TopicError."""
    for topic in (*ROUND1_TOPICS, *ADDED_TOPICS):
        aggregate, _, event = topic.partition(":")[2].partition(".")
        cls = public[aggregate]
        register_topic(topic, getattr(cls, event) if event else cls)
