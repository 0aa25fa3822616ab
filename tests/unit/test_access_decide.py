"""The decision at a door, as pure functions: residents by credential, home and revocation;
visitors by pass status, window edges, building, entries and visits."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hub.domain.access.decide import DoorScope, check_visitor, decide_resident, decide_visitor
from hub.domain.access.model import (
    VISIT_SPAN,
    AccessCredential,
    CredentialKind,
    PassStatus,
    VisitorPass,
)
from hub.domain.errors import Conflict, Invalid

AT = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)
SITE, B1, B2 = 1, 11, 12
SITE_GATE, DOOR_B1, DOOR_B2 = DoorScope(SITE), DoorScope(SITE, B1), DoorScope(SITE, B2)


def _card(**changes: object) -> AccessCredential:
    values: dict[str, object] = dict(site_id=SITE, resident_id=7, kind=CredentialKind.CARD,
                                     issued_at=AT - timedelta(days=30), secret="f" * 64,
                                     live_key="f" * 64, id=3)
    values.update(changes)
    return AccessCredential(**values)  # type: ignore[arg-type]


def _pass(**changes: object) -> VisitorPass:
    values: dict[str, object] = dict(
        site_id=SITE, unit_id=101, issued_by=7, visitor_name="王芳", valid_from=AT,
        valid_until=AT + timedelta(hours=4), entries_allowed=2, created_at=AT, salt="s", id=5)
    values.update(changes)
    return VisitorPass(**values)  # type: ignore[arg-type]


def test_a_resident_is_admitted_at_the_site_gate_and_their_own_building() -> None:
    for door in (SITE_GATE, DOOR_B1):
        decision = decide_resident(_card(), CredentialKind.CARD, code_ok=True,
                                   homes=frozenset({B1}), door=door, at=AT)
        assert decision.allowed and not decision.counts_entry
    other = decide_resident(_card(), CredentialKind.CARD, code_ok=True, homes=frozenset({B1}),
                            door=DOOR_B2, at=AT)
    assert other.reasons == ("resident 7 does not live in building 12",)


@pytest.mark.parametrize(("credential", "code_ok", "homes", "reason"), [
    (None, True, {B1}, "card credential not known"),
    (_card(kind=CredentialKind.QR), True, {B1}, "card credential not known"),
    (_card(revoked_at=AT), True, {B1}, "was revoked at"),
    (_card(site_id=2), True, {B1}, "belongs to another site"),
    (_card(), True, set(), "lives in no unit of this site today"),
    (_card(), False, {B1}, "code wrong or expired"),
])
def test_a_resident_is_refused_with_the_reason(credential: AccessCredential | None,
                                               code_ok: bool, homes: set[int],
                                               reason: str) -> None:
    decision = decide_resident(credential, CredentialKind.CARD, code_ok=code_ok,
                               homes=frozenset(homes), door=SITE_GATE, at=AT)
    assert not decision.allowed
    assert reason in " ".join(decision.reasons)


def test_a_revocation_counts_from_its_moment() -> None:
    later = _card(revoked_at=AT + timedelta(seconds=1))
    assert decide_resident(later, CredentialKind.CARD, code_ok=True, homes=frozenset({B1}),
                           door=SITE_GATE, at=AT).allowed


def test_a_visitor_pass_window_includes_its_start_and_excludes_its_end() -> None:
    visitor = _pass()

    def admits(at: datetime) -> bool:
        return decide_visitor(visitor, code_ok=True, visit_building=B1, door=DOOR_B1,
                              at=at).allowed

    assert admits(AT) and admits(visitor.valid_until - timedelta(microseconds=1))
    assert not admits(AT - timedelta(microseconds=1))
    assert not admits(visitor.valid_until)


@pytest.mark.parametrize(("status", "reason"), [
    (PassStatus.PENDING, "visitor pass waits for staff approval"),
    (PassStatus.REJECTED, "visitor pass is rejected"),
    (PassStatus.CANCELLED, "visitor pass is cancelled"),
])
def test_only_an_active_pass_admits(status: PassStatus, reason: str) -> None:
    decision = decide_visitor(_pass(status=status), code_ok=True, visit_building=B1,
                              door=SITE_GATE, at=AT)
    assert decision.reasons == (reason,)


def test_a_visitor_goes_only_to_the_households_building() -> None:
    decision = decide_visitor(_pass(), code_ok=True, visit_building=B1, door=DOOR_B2, at=AT)
    assert not decision.allowed and "not this door's building 12" in decision.reasons[0]
    assert not decide_visitor(_pass(site_id=2), code_ok=True, visit_building=B1,
                              door=SITE_GATE, at=AT).allowed
    assert not decide_visitor(_pass(), code_ok=False, visit_building=B1, door=SITE_GATE,
                              at=AT).allowed
    assert decide_visitor(None, code_ok=True, visit_building=None, door=SITE_GATE,
                          at=AT).reasons == ("visitor pass not known",)


def test_entries_count_once_per_visit_and_run_out() -> None:
    visitor = _pass(entries_allowed=1)
    first = decide_visitor(visitor, code_ok=True, visit_building=B1, door=SITE_GATE, at=AT)
    assert first.allowed and first.counts_entry and first.reasons[-1] == "entry 1 of 1"
    visitor.entries_used, visitor.last_entry_at = 1, AT
    inside = decide_visitor(visitor, code_ok=True, visit_building=B1, door=DOOR_B1,
                            at=AT + VISIT_SPAN - timedelta(seconds=1))
    assert inside.allowed and not inside.counts_entry
    again = decide_visitor(visitor, code_ok=True, visit_building=B1, door=SITE_GATE,
                           at=AT + VISIT_SPAN)
    assert not again.allowed and again.reasons == ("visitor pass 5: all 1 entries used",)
    assert not check_visitor(visitor, AT + VISIT_SPAN).allowed
    assert check_visitor(_pass(), AT).allowed


@given(st.integers(min_value=1, max_value=50), st.integers(min_value=0, max_value=60),
       st.integers(min_value=0, max_value=600))
def test_a_pass_never_admits_more_visits_than_its_entries(entries: int, attempts: int,
                                                         gap_minutes: int) -> None:
    visitor = _pass(entries_allowed=entries, valid_until=AT + timedelta(days=7))
    counted = 0
    for n in range(attempts):
        at = AT + timedelta(minutes=n * gap_minutes)
        decision = decide_visitor(visitor, code_ok=True, visit_building=B1, door=SITE_GATE,
                                  at=at)
        if decision.allowed and decision.counts_entry:
            visitor.entries_used += 1
            visitor.last_entry_at = at
            counted += 1
        assert not decision.counts_entry or decision.allowed
    assert counted <= entries and visitor.entries_left() == entries - counted


def test_pass_rules_and_transitions() -> None:
    with pytest.raises(Invalid, match="valid_until"):
        _pass(valid_until=AT)
    with pytest.raises(Invalid, match="7 days"):
        _pass(valid_until=AT + timedelta(days=8))
    with pytest.raises(Invalid, match="need a plate"):
        _pass(free_minutes=30)
    pending = _pass(status=PassStatus.PENDING)
    pending.approve(by=2, at=AT, note="ok")
    assert pending.status == PassStatus.ACTIVE and pending.decided_by == 2
    with pytest.raises(Conflict):
        pending.reject(by=2, at=AT)
    pending.cancel(AT)
    with pytest.raises(Conflict):
        pending.cancel(AT)
    with pytest.raises(Conflict, match="ended"):
        _pass().cancel(AT + timedelta(hours=4))
