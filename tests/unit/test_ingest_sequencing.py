"""Gap detection per (device, boot): what went missing, and what is only late or repeated."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from hub.ingest.sequencing import Gap, Position, advance, in_counting_order, track


def test_the_first_message_of_a_device_reveals_no_gap() -> None:
    assert advance(Position(), "boot-a", 1042) == (Position("boot-a", 1042), None)


def test_a_jump_reports_the_missing_range() -> None:
    assert advance(Position("boot-a", 10), "boot-a", 14) == (Position("boot-a", 14),
                                                             Gap("boot-a", 11, 13))


def test_the_next_seq_is_no_gap() -> None:
    assert advance(Position("boot-a", 10), "boot-a", 11) == (Position("boot-a", 11), None)


def test_a_seq_going_backwards_in_the_same_boot_is_late_not_a_gap() -> None:
    assert advance(Position("boot-a", 10), "boot-a", 4) == (Position("boot-a", 10), None)
    assert advance(Position("boot-a", 10), "boot-a", 10) == (Position("boot-a", 10), None)


def test_a_new_boot_starts_counting_afresh() -> None:
    assert advance(Position("boot-a", 900), "boot-b", 1) == (Position("boot-b", 1), None)
    assert advance(Position("boot-a", 1), "boot-b", 500) == (Position("boot-b", 500), None)


def test_reordering_inside_one_batch_reveals_no_gap() -> None:
    position, gaps = track(Position("boot-a", 1), [("boot-a", 4), ("boot-a", 2), ("boot-a", 3)])
    assert (position, gaps) == (Position("boot-a", 4), [])


def test_counting_order_keeps_boots_in_the_order_they_appear() -> None:
    pairs = [("b", 2), ("a", 9), ("b", 1), ("a", 8)]
    assert in_counting_order(pairs) == [("b", 1), ("b", 2), ("a", 8), ("a", 9)]


@given(start=st.integers(0, 1000), delivered=st.sets(st.integers(1, 200), min_size=1))
def test_one_batch_reports_exactly_the_seqs_it_lacks(start: int, delivered: set[int]) -> None:
    seqs = {start + d for d in delivered}
    position, gaps = track(Position("boot-a", start), [("boot-a", s) for s in seqs])
    missing = {n for g in gaps for n in range(g.first_missing, g.last_missing + 1)}
    assert position.last_seq == max(seqs)
    assert missing == set(range(start + 1, max(seqs) + 1)) - seqs
    assert sum(g.size for g in gaps) == len(missing)  # gaps never overlap


@given(batches=st.lists(st.lists(st.integers(0, 60), max_size=10), min_size=1, max_size=8))
def test_across_batches_every_seq_up_to_the_highest_is_delivered_or_reported(
        batches: list[list[int]]) -> None:
    position = Position()
    delivered: set[int] = set()
    missing: list[int] = []
    for batch in batches:
        position, gaps = track(position, [("boot-a", s) for s in batch])
        delivered.update(batch)
        reported = [n for g in gaps for n in range(g.first_missing, g.last_missing + 1)]
        assert not set(reported) & delivered  # a gap is never something already here
        missing.extend(reported)
    if not delivered:
        return
    start = min(next(batch for batch in batches if batch))
    assert position.last_seq == max(delivered)
    assert len(missing) == len(set(missing))  # nothing reported twice
    assert set(range(start, max(delivered) + 1)) <= delivered | set(missing)
