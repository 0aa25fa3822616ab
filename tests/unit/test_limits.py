"""The sliding-window rate limit, driven by explicit times."""

from __future__ import annotations

from hub.api.limits import SlidingWindow

KEY = "127.0.0.1|manager"


def test_allows_up_to_the_limit_then_refuses() -> None:
    window = SlidingWindow(limit=3, window=60)
    assert [window.allow(KEY, now=t) for t in (0, 1, 2, 3)] == [True, True, True, False]


def test_refused_attempts_do_not_extend_the_wait() -> None:
    window = SlidingWindow(limit=2, window=60)
    window.allow(KEY, now=0)
    window.allow(KEY, now=10)
    for t in (20, 30, 40, 50):
        assert not window.allow(KEY, now=t)
    assert window.allow(KEY, now=60)  # the first hit (at 0) has left the window


def test_hits_leave_the_window_one_by_one() -> None:
    window = SlidingWindow(limit=2, window=60)
    window.allow(KEY, now=0)
    window.allow(KEY, now=30)
    assert not window.allow(KEY, now=59.9)
    assert window.allow(KEY, now=60)
    assert not window.allow(KEY, now=89.9)
    assert window.allow(KEY, now=90)


def test_keys_are_counted_apart() -> None:
    window = SlidingWindow(limit=1, window=60)
    assert window.allow("10.0.0.1|manager", now=0)
    assert window.allow("10.0.0.2|manager", now=0)
    assert window.allow("10.0.0.1|desk", now=0)
    assert not window.allow("10.0.0.1|manager", now=1)


def test_retry_after_counts_down_to_the_oldest_hit_leaving() -> None:
    window = SlidingWindow(limit=1, window=60)
    window.allow(KEY, now=100)
    assert window.retry_after(KEY, now=100) == 61
    assert window.retry_after(KEY, now=130) == 31
    assert window.retry_after(KEY, now=159.5) == 1


def test_retry_after_is_at_least_one_second() -> None:
    window = SlidingWindow(limit=1, window=60)
    assert window.retry_after("never-seen", now=0) == 1
    window.allow(KEY, now=0)
    assert window.retry_after(KEY, now=500) == 1


def test_too_many_keys_forgets_the_least_recently_used_only() -> None:
    window = SlidingWindow(limit=1, window=60, max_keys=3)
    for n in range(3):
        assert window.allow(f"10.0.0.{n}|x", now=0)
    assert not window.allow("10.0.0.0|x", now=1)  # now the most recently used key
    assert window.allow("10.0.0.3|x", now=1)  # one key over the bound: 10.0.0.1 is forgotten
    assert not window.allow("10.0.0.0|x", now=2)  # the key under attack keeps its count
    assert not window.allow("10.0.0.2|x", now=2)
    assert window.allow("10.0.0.1|x", now=2)  # forgotten, so counted afresh


def test_a_flood_of_made_up_keys_does_not_reset_the_attacked_key() -> None:
    window = SlidingWindow(limit=1, window=60, max_keys=100)
    assert window.allow("attacker|manager", now=0)
    for n in range(1000):
        window.allow(f"attacker|user{n}", now=1)
        assert not window.allow("attacker|manager", now=1)
