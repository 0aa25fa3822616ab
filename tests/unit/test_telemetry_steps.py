"""Which step a telemetry query answers with, and when it refuses: pure functions of the view."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from hub.domain.errors import Invalid
from hub.views.telemetry import MAX_POINTS, Kept, bucket_count, bucket_step, window

NOW = datetime(2026, 11, 26, 9, 30, tzinfo=UTC)
KEPT = Kept(raw_since=NOW - timedelta(days=7), minutes_since=NOW - timedelta(days=90))
SHANGHAI = timezone(timedelta(hours=8))
MINUTE, HOUR = timedelta(minutes=1), timedelta(hours=1)


def test_buckets_overlapping_a_range_count_the_partial_ones_at_both_ends() -> None:
    start = datetime(2026, 11, 26, 8, 0, 30, tzinfo=UTC)

    assert bucket_count(start, start + MINUTE, MINUTE) == 2
    assert bucket_count(start.replace(second=0), start.replace(second=0) + MINUTE, MINUTE) == 1


def test_hour_buckets_are_whole_utc_hours_whatever_offset_the_caller_writes() -> None:
    """16:30 in Shanghai is 08:30 UTC: the 08:00 and 09:00 UTC hours overlap until 17:30."""
    start = datetime(2026, 11, 26, 16, 30, tzinfo=SHANGHAI)

    assert bucket_count(start, start + HOUR, HOUR) == 2


def test_the_default_window_is_the_last_hour() -> None:
    assert window(None, None, NOW) == (NOW - HOUR, NOW)
    assert window(None, NOW - HOUR, NOW) == (NOW - 2 * HOUR, NOW - HOUR)


def test_an_empty_or_reversed_window_is_refused_naming_from() -> None:
    for start in (NOW, NOW + MINUTE):
        with pytest.raises(Invalid) as refused:
            window(start, NOW, NOW)
        assert refused.value.field == "query.from"


def test_auto_takes_minutes_while_they_fit_then_hours() -> None:
    fits = NOW - MINUTE * MAX_POINTS
    too_long = fits - MINUTE

    assert bucket_step(fits, NOW, "auto", KEPT) == "1m"
    assert bucket_step(too_long, NOW, "auto", KEPT) == "1h"


def test_auto_skips_minutes_already_deleted_by_retention() -> None:
    assert bucket_step(NOW - timedelta(days=91), NOW - timedelta(days=90, hours=12),
                       "auto", KEPT) == "1h"


def test_a_range_beyond_two_thousand_hours_is_refused_naming_from() -> None:
    with pytest.raises(Invalid) as refused:
        bucket_step(NOW - HOUR * MAX_POINTS - HOUR, NOW, "auto", KEPT)

    assert refused.value.field == "query.from"
    assert "83 days" in refused.value.message


def test_an_explicit_step_that_needs_too_many_buckets_is_refused_naming_step() -> None:
    with pytest.raises(Invalid) as refused:
        bucket_step(NOW - timedelta(days=2), NOW, "1m", KEPT)

    assert refused.value.field == "query.step"
    assert "2880 buckets of 1m" in refused.value.message


def test_an_explicit_step_is_kept_even_where_retention_has_thinned_it() -> None:
    assert bucket_step(NOW - timedelta(days=100), NOW - timedelta(days=99), "1m", KEPT) == "1m"
