"""Announcements: who they address, when they show, and what publishing and withdrawing allow."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from hub.domain.errors import Conflict, Invalid
from hub.domain.notices import Announcement, AnnouncementTarget, Audience, NoticeStatus

T0 = datetime(2026, 11, 27, 8, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)


def notice(**kw: object) -> Announcement:
    values: dict[str, object] = {"site_id": 1, "title": "Water off in Building 3",
                                 "body": "10:00-12:00", "audience": Audience.SITE,
                                 "created_at": T0, "created_by": 7}
    values.update(kw)
    return Announcement(**values)  # type: ignore[arg-type]


def test_a_draft_is_never_visible() -> None:
    draft = notice()
    assert [draft.visible_at(T0 + k * HOUR) for k in range(3)] == [False, False, False]


def test_a_scheduled_notice_shows_from_its_time_until_it_expires() -> None:
    scheduled = notice(publish_at=T0 + 2 * HOUR, expires_at=T0 + 5 * HOUR)
    scheduled.publish(T0)
    seen = {k: scheduled.visible_at(T0 + k * HOUR) for k in range(7)}
    assert seen == {0: False, 1: False, 2: True, 3: True, 4: True, 5: False, 6: False}
    assert scheduled.status == NoticeStatus.PUBLISHED
    assert scheduled.published_at == T0


def test_published_without_a_time_shows_from_publication() -> None:
    now = notice()
    now.publish(T0 + HOUR)
    assert (now.visible_at(T0), now.visible_at(T0 + HOUR)) == (False, True)


def test_withdrawn_ends_it_and_lets_go_of_its_key() -> None:
    keyed = notice(key="downtime:device:42", live_key="downtime:device:42")
    keyed.publish(T0)
    keyed.withdraw(T0 + HOUR)
    assert not keyed.visible_at(T0 + HOUR)
    assert keyed.live_key is None
    assert keyed.key == "downtime:device:42"
    with pytest.raises(Conflict):
        keyed.withdraw(T0 + 2 * HOUR)
    with pytest.raises(Conflict, match="withdrawn"):
        keyed.publish(T0 + 2 * HOUR)


def test_an_expired_notice_is_not_live_and_cannot_be_published() -> None:
    expired = notice(expires_at=T0 + HOUR)
    assert expired.live_at(T0)
    assert not expired.live_at(T0 + HOUR)
    with pytest.raises(Conflict, match="expired"):
        expired.publish(T0 + HOUR)


@pytest.mark.parametrize(("kw", "field"), [
    ({"title": " "}, "title"),
    ({"title": "x" * 201}, "title"),
    ({"body": "x" * 10_001}, "body"),
    ({"publish_at": T0 + HOUR, "expires_at": T0}, "expires_at"),
    ({"audience": Audience.BUILDINGS}, "building_ids"),
    ({"audience": Audience.UNITS, "targets": "building 3"}, "unit_ids"),
    ({"targets": "building 3"}, "audience"),
])
def test_an_impossible_notice_is_refused_naming_the_field(kw: dict[str, object],
                                                          field: str) -> None:
    if "targets" in kw:  # made here: a mapped class's instances are made after mapping
        kw = {**kw, "targets": [AnnouncementTarget(building_id=3)]}
    with pytest.raises(Invalid) as err:
        notice(**kw)
    assert err.value.field == field
