"""Times on pages in UK time (Europe/London: GMT in winter, BST in summer), the ledger's
data in UTC; a date or time typed into an as-at question means UK time."""

from __future__ import annotations

from datetime import UTC, datetime

from projections.reports.model import iso_to_text
from projections.system import parse_as_at
from web.times import as_uk_time, local_time, moment_words, when


def test_a_recorded_time_is_shown_on_the_uk_clock_naming_its_zone() -> None:
    assert local_time("2024-10-03T10:22:00+00:00") == "03 Oct 2024 11:22 BST"
    assert local_time("2026-11-23T13:22:00+00:00") == "23 Nov 2026 13:22 GMT"
    assert moment_words("2024-06-30T23:30:00+00:00") == "00:30:00 BST on 1 July 2024"  # the UK's next day
    # The machine-readable value stays as recorded.
    assert str(when("2024-10-03T10:22:00+00:00")) == (
        '<time datetime="2024-10-03T10:22:00+00:00">3 October 2024, 11:22:00 BST</time>'
    )
    assert local_time("") == "" and str(when("not a time")) == "not a time"


def test_a_typed_date_means_the_end_of_that_uk_day_and_a_time_the_uk_clock() -> None:
    end = 59, 59, 999999
    assert parse_as_at(as_uk_time("2024-10-03")).moment == datetime(2024, 10, 3, 22, *end, tzinfo=UTC)  # BST
    assert parse_as_at(as_uk_time("2024-12-03")).moment == datetime(2024, 12, 3, 23, *end, tzinfo=UTC)  # GMT
    assert parse_as_at(as_uk_time("2024-10-03T10:00")).moment == datetime(2024, 10, 3, 9, 0, tzinfo=UTC)
    # A zone given, a log position or nonsense: left as typed for the parser to judge.
    for typed in ("2024-10-03T10:00:00+00:00", "1200", "next Tuesday"):
        assert as_uk_time(typed) == typed


def test_a_reports_as_at_is_in_uk_time() -> None:
    assert iso_to_text("2024-10-03T09:15:00+00:00") == "3 October 2024 10:15 BST"
    assert iso_to_text("2024-12-03T09:15:00") == "3 December 2024 09:15 GMT"
