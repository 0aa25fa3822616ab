"""CallerCache: entries live `ttl_s`, a check that began before an invalidation stores
nothing, and the size is bounded."""

from __future__ import annotations

from hub.api.callers import CallerCache


class Ticks:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_an_entry_lives_ttl_seconds() -> None:
    ticks = Ticks()
    cache: CallerCache[str] = CallerCache(ttl_s=2.0, clock=ticks)
    cache.put(("s", 1), "alice", cache.generation)
    ticks.now = 2.0
    assert cache.get(("s", 1)) == "alice"
    ticks.now = 2.01
    assert cache.get(("s", 1)) is None
    assert len(cache) == 0


def test_a_check_begun_before_an_invalidation_stores_nothing() -> None:
    cache: CallerCache[str] = CallerCache(clock=Ticks())
    began = cache.generation
    cache.put(("s", 1), "alice", began)
    cache.clear()  # e.g. a logout committed while another request was reading
    assert cache.get(("s", 1)) is None
    cache.put(("s", 2), "bob", began)
    assert cache.get(("s", 2)) is None
    cache.put(("s", 2), "bob", cache.generation)
    assert cache.get(("s", 2)) == "bob"


def test_the_oldest_entries_go_first_and_a_zero_ttl_caches_nothing() -> None:
    cache: CallerCache[int] = CallerCache(max_entries=2, clock=Ticks())
    for n in range(3):
        cache.put(("s", n), n, cache.generation)
    assert [cache.get(("s", n)) for n in range(3)] == [None, 1, 2]
    off: CallerCache[int] = CallerCache(ttl_s=0, clock=Ticks())
    off.put(("s", 1), 1, off.generation)
    assert len(off) == 0
