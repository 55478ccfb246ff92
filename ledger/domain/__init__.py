"""The domain model: aggregates are nouns, events are past tense.

One module per aggregate family, plus what they share:

- `programmes`: Programme (cadence, status scale, contact)
- `items`: Item (status and update per period)
- `risks`: Risk (and issues), Dependency; `risk_history`: a risk's periods in order
- `indicators`: Indicator (a figure per period)
- `narratives`: Narrative (report sections per period)
- `accounts`: Account (roles, programme access, email address)
- `cycle`: ReportingPeriod (opened with a due date, extended), Reminder (sent to a lead)
- `scales`: StatusScale (a council's statuses, defined and revised)
- `publications`: Publication (what a published report was built from)
- `jobs`: Job (background work: queued, running, done or failed)
- `review`: Review (an update submitted, approved or returned; content_sha256)
- `base`: ids, the persisted-topic rule, shared checks; `wording`: describe_event;
  `topics`: every topic the event store holds.

Import from here (`from ledger.domain import Item`): persisted topics name this package.
"""

from ledger.domain.accounts import ROLES, Account, LeadDirectory
from ledger.domain.base import natural_id, yes_no
from ledger.domain.cycle import Reminder, ReportingPeriod, parse_due_date
from ledger.domain.indicators import BETTER_DIRECTIONS, Indicator, parse_number
from ledger.domain.items import ITEM_KINDS, Item
from ledger.domain.jobs import JOB_KINDS, JOB_STATES, Job, JobRefused
from ledger.domain.narratives import NARRATIVE_SECTIONS, Narrative
from ledger.domain.programmes import CONTACT_FIELDS, Programme
from ledger.domain.publications import Publication
from ledger.domain.review import REVIEW_STATES, Review, ReviewRefused, content_sha256
from ledger.domain.risk_history import NO_RATING, RiskPeriod, RiskRating, closed_period, risk_periods
from ledger.domain.risks import CONFIDENCE_LEVELS, RISK_KINDS, Dependency, Risk
from ledger.domain.scales import StatusScale
from ledger.domain.topics import register_round1_topics
from ledger.domain.wording import describe_event

__all__ = [
    "BETTER_DIRECTIONS",
    "CONFIDENCE_LEVELS",
    "CONTACT_FIELDS",
    "ITEM_KINDS",
    "JOB_KINDS",
    "JOB_STATES",
    "NARRATIVE_SECTIONS",
    "NO_RATING",
    "REVIEW_STATES",
    "RISK_KINDS",
    "ROLES",
    "Account",
    "Dependency",
    "Indicator",
    "Item",
    "Job",
    "JobRefused",
    "LeadDirectory",
    "Narrative",
    "Programme",
    "Publication",
    "Reminder",
    "ReportingPeriod",
    "Review",
    "ReviewRefused",
    "Risk",
    "RiskPeriod",
    "RiskRating",
    "StatusScale",
    "closed_period",
    "content_sha256",
    "describe_event",
    "natural_id",
    "parse_due_date",
    "parse_number",
    "risk_periods",
    "yes_no",
]

register_round1_topics(globals())
