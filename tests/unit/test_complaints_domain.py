"""Complaints: the lifecycle, rating only once and only after an answer, escalation once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from hub.domain.complaints import (
    RESPOND_WITHIN,
    Complaint,
    ComplaintCategory,
    ComplaintStatus,
    overdue,
)
from hub.domain.errors import Conflict, Invalid

T0 = datetime(2026, 11, 27, 21, 30, tzinfo=UTC)


def complaint(**kw: object) -> Complaint:
    values: dict[str, object] = {
        "site_id": 1, "building_id": 2, "unit_id": 3, "submitted_by": 9,
        "category": ComplaintCategory.NOISE, "title": "Drilling at night",
        "content": "Every night after 23:00", "created_at": T0,
        "respond_by": T0 + RESPOND_WITHIN}
    values.update(kw)
    return Complaint(**values)  # type: ignore[arg-type]


def test_new_then_in_progress_then_replied_then_closed() -> None:
    c = complaint()
    c.move_to(ComplaintStatus.IN_PROGRESS, T0 + timedelta(minutes=5))
    c.reply(4, "We spoke to the neighbour.", T0 + timedelta(hours=2))
    c.reply(4, "They agreed to stop at 22:00.", T0 + timedelta(hours=3))
    assert (c.status, c.first_reply_at, len(c.replies)) == (
        ComplaintStatus.REPLIED, T0 + timedelta(hours=2), 2)
    c.move_to(ComplaintStatus.CLOSED, T0 + timedelta(days=1))
    assert c.closed_at == T0 + timedelta(days=1)
    with pytest.raises(Conflict, match="closed"):
        c.reply(4, "One more thing", T0 + timedelta(days=2))
    with pytest.raises(Conflict, match="closed"):
        c.move_to(ComplaintStatus.IN_PROGRESS, T0 + timedelta(days=2))


@pytest.mark.parametrize("status", [ComplaintStatus.NEW, ComplaintStatus.REPLIED])
def test_staff_cannot_set_new_or_replied_by_hand(status: ComplaintStatus) -> None:
    with pytest.raises(Invalid) as err:
        complaint().move_to(status, T0)
    assert err.value.field == "status"


def test_rating_waits_for_an_answer_and_happens_once() -> None:
    c = complaint()
    with pytest.raises(Conflict, match="replied to or closed"):
        c.rate(5, "", T0)
    c.reply(4, "Fixed.", T0 + timedelta(hours=1))
    with pytest.raises(Invalid):
        c.rate(6, "", T0 + timedelta(hours=2))
    c.rate(4, "quick, thanks", T0 + timedelta(hours=2))
    with pytest.raises(Conflict, match="already rated"):
        c.rate(1, "changed my mind", T0 + timedelta(hours=3))
    assert (c.rating, c.rating_comment) == (4, "quick, thanks")


def test_a_complaint_closed_without_reply_can_be_rated() -> None:
    c = complaint()
    c.move_to(ComplaintStatus.CLOSED, T0)
    c.rate(2, "closed without a word", T0)
    assert c.rating == 2


def test_overdue_only_when_unanswered_past_the_deadline_and_not_escalated() -> None:
    c = complaint()
    deadline = T0 + RESPOND_WITHIN
    assert not overdue(c, deadline - timedelta(seconds=1))
    assert overdue(c, deadline)
    c.escalate(deadline)
    assert not overdue(c, deadline + timedelta(hours=1))
    with pytest.raises(Conflict, match="already escalated"):
        c.escalate(deadline + timedelta(hours=1))
    answered = complaint()
    answered.reply(4, "On it", T0 + timedelta(hours=1))
    assert not overdue(answered, deadline + timedelta(days=3))


def test_at_most_five_photos() -> None:
    with pytest.raises(Invalid) as err:
        complaint(photos=[f"{i:064x}.jpg" for i in range(6)])
    assert err.value.field == "photos"
