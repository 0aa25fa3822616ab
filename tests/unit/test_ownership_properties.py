"""Properties of ownership chains and unit status, over any sequence of changes (hypothesis)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from itertools import pairwise

from hypothesis import given
from hypothesis import strategies as st

from hub.domain.errors import DomainError
from hub.domain.ownership import (
    OwnerShare,
    Ownership,
    TransferReason,
    derive_status,
    transfer,
    vacant_from,
)
from hub.domain.property import UnitStatus
from hub.domain.residents import Relation, Residency

TODAY = date(2026, 11, 27)
AT = datetime(2026, 11, 27, tzinfo=UTC)
START = date(2000, 1, 1)

changes = st.lists(st.tuples(st.integers(0, 10_000),  # days after 2000-01-01 (some future)
                             st.sampled_from(list(TransferReason)),
                             st.integers(1, 4)),  # the owner
                   max_size=12)


@given(changes)
def test_a_chain_has_no_gaps_no_overlaps_and_one_current_owner(
        wanted: list[tuple[int, TransferReason, int]]) -> None:
    chain: list[Ownership] = []
    for offset, reason, owner in wanted:
        new = Ownership(unit_id=1, started_on=START + timedelta(days=offset), reason=reason,
                        document_ref="D-1", recorded_by=1, recorded_at=AT,
                        owners=[OwnerShare(resident_id=owner, share=Decimal(100))])
        before = [(o.started_on, o.ended_on, o.open_unit_id) for o in chain]
        try:
            transfer(chain, new, TODAY)
        except DomainError:
            assert [(o.started_on, o.ended_on, o.open_unit_id) for o in chain] == before
            continue
        chain.append(new)
    if not chain:
        return
    assert [o.open_unit_id for o in chain].count(1) == 1
    assert chain[-1].ended_on is None and chain[-1].open_unit_id == 1
    for earlier, later in pairwise(chain):
        assert earlier.ended_on == later.started_on > earlier.started_on
    assert all(o.started_on <= TODAY for o in chain)
    assert chain[0].reason == TransferReason.FIRST_REGISTRATION or all(
        o.reason != TransferReason.FIRST_REGISTRATION for o in chain)
    day = START + timedelta(days=5000)
    assert sum(o.current_on(day) for o in chain) == (1 if chain[0].started_on <= day else 0)


stays = st.lists(st.tuples(st.sampled_from(list(Relation)), st.integers(0, 60),
                           st.one_of(st.none(), st.integers(1, 60))), max_size=5)


@given(stays, st.integers(0, 120))
def test_vacant_exactly_when_nobody_lives_there(wanted: list[tuple[Relation, int, int | None]],
                                                on: int) -> None:
    residencies = [Residency(resident_id=n, unit_id=1, relation=relation,
                             moved_in=START + timedelta(days=start),
                             moved_out=None if length is None
                             else START + timedelta(days=start + length))
                   for n, (relation, start, length) in enumerate(wanted)]
    day = START + timedelta(days=on)
    status = derive_status(UnitStatus.OCCUPIED, residencies, [], day)
    living = [r for r in residencies if r.active_on(day)]
    assert (status == UnitStatus.VACANT) == (not living)
    ended = [r.moved_out for r in residencies if r.moved_out is not None and r.moved_out <= day]
    assert vacant_from(residencies, [], day) == (None if living else max(ended, default=None))
    assert derive_status(UnitStatus.DECORATING, residencies, [], day) == UnitStatus.DECORATING
