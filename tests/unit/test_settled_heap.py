"""hub.runtime.settled_heap: the start-up heap frozen and full collections made rarer while
the hub runs; both undone afterwards (a test process runs many hubs)."""

from __future__ import annotations

import gc

from hub.runtime import FULL_COLLECTION_AFTER, settled_heap


def test_full_collections_are_rarer_while_the_hub_runs_and_as_before_after() -> None:
    before = gc.get_threshold()
    assert before[2] < FULL_COLLECTION_AFTER  # CPython's default is 10
    with settled_heap():
        young, middle, full = gc.get_threshold()
        assert (young, middle) == before[:2]
        assert full == FULL_COLLECTION_AFTER
        assert gc.get_freeze_count() > 0
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0
