"""Notifications: channels by preference and quiet hours, token-bucket limits, the live broker
(a slow subscriber is dropped and counted), and the SSE stream it feeds."""

from __future__ import annotations

from datetime import UTC, datetime, time

import pytest
from sqlalchemy.exc import OperationalError

from hub.api.routers.notifications import stream_events
from hub.domain.errors import Invalid
from hub.domain.notifications import (
    Category,
    Channel,
    Notification,
    NotificationPreference,
    RateLimits,
    TokenBucket,
    in_quiet_hours,
    quiet_hours_end,
    route,
)
from hub.notify.broker import Broker, LiveItem
from hub.notify.notifier import Notifier
from hub.notify.providers import ConsoleProvider, Outbound

# 23:30 in Shanghai (UTC+8) is 15:30 UTC.
LATE_EVENING = datetime(2026, 11, 27, 15, 30, tzinfo=UTC)
NOON = datetime(2026, 11, 27, 4, 0, tzinfo=UTC)


def quiet_nights(**channels: list[str]) -> NotificationPreference:
    return NotificationPreference(account_id=5, channels=channels, quiet_start="22:00",
                                  quiet_end="07:00")


def test_without_preferences_the_defaults_apply_and_the_feed_always_gets_it() -> None:
    assert route(None, Category.ALERT, NOON).send == {Channel.IN_APP, Channel.SMS}
    assert route(None, Category.GENERAL, NOON).send == {Channel.IN_APP}
    only_sms = NotificationPreference(account_id=5, channels={"announcement": ["sms"]})
    assert route(only_sms, Category.ANNOUNCEMENT, NOON).send == {Channel.IN_APP, Channel.SMS}


def test_quiet_hours_hold_back_texts_but_not_alerts() -> None:
    chosen = quiet_nights(announcement=["in_app", "sms", "wechat"], alert=["in_app", "sms"])
    evening = route(chosen, Category.ANNOUNCEMENT, LATE_EVENING)
    assert evening.send == {Channel.IN_APP}
    assert evening.held == {Channel.SMS, Channel.WECHAT}
    assert route(chosen, Category.ANNOUNCEMENT, NOON).send == {
        Channel.IN_APP, Channel.SMS, Channel.WECHAT}
    assert route(chosen, Category.ALERT, LATE_EVENING).send == {Channel.IN_APP, Channel.SMS}


@pytest.mark.parametrize(("start", "end", "at", "quiet"), [
    ("22:00", "07:00", "23:59", True), ("22:00", "07:00", "06:59", True),
    ("22:00", "07:00", "07:00", False), ("22:00", "07:00", "21:59", False),
    ("13:00", "14:00", "13:30", True), ("13:00", "14:00", "14:00", False),
    ("08:00", "08:00", "08:00", False),
])
def test_quiet_hours_window(start: str, end: str, at: str, quiet: bool) -> None:
    assert in_quiet_hours(start, end, time.fromisoformat(at)) is quiet


@pytest.mark.parametrize(("kw", "field"), [
    ({"channels": {"gossip": ["sms"]}}, "channels.gossip"),
    ({"channels": {"alert": ["pigeon"]}}, "channels.alert"),
    ({"quiet_start": "22:00"}, "quiet_end"),
    ({"quiet_start": "24:00", "quiet_end": "07:00"}, "quiet_start"),
    ({"timezone": "Mars/Olympus"}, "timezone"),
])
def test_bad_preferences_are_refused_naming_the_field(kw: dict[str, object],
                                                      field: str) -> None:
    with pytest.raises(Invalid) as err:
        NotificationPreference(account_id=5, **kw)  # type: ignore[arg-type]
    assert err.value.field == field


def test_a_token_bucket_allows_a_burst_then_refills_with_time() -> None:
    bucket = TokenBucket(capacity=5, per_s=3600.0)  # 5 texts an hour
    burst = [bucket.take("acct-5", now=0.0) for _ in range(8)]
    print(f"burst of 8 at t=0: {burst.count(True)} allowed, {burst.count(False)} refused")
    assert burst == [True] * 5 + [False] * 3
    assert not bucket.take("acct-5", now=700.0)  # 0.97 of a token back
    assert bucket.take("acct-5", now=720.0)  # one token back after 720 s
    assert bucket.take("acct-6", now=720.0)  # another account has its own bucket


def test_rate_limits_are_per_account_and_channel() -> None:
    limits = RateLimits({Channel.SMS: (2, 60.0), Channel.WECHAT: (1, 60.0)})
    sms = [limits.allow(1, Channel.SMS, 0.0) for _ in range(3)]
    wechat = [limits.allow(1, Channel.WECHAT, 0.0) for _ in range(2)]
    other = limits.allow(2, Channel.SMS, 0.0)
    in_app = [limits.allow(1, Channel.IN_APP, 0.0) for _ in range(100)]
    assert (sms, wechat, other, all(in_app)) == ([True, True, False], [True, False], True, True)


def test_the_bucket_forgets_the_least_recent_key_past_its_bound() -> None:
    bucket = TokenBucket(capacity=1, per_s=60.0, max_keys=2)
    assert [bucket.take(k, 0.0) for k in ("a", "b", "c")] == [True, True, True]
    assert bucket.take("a", 0.0)  # forgotten, so full again: memory stays bounded
    assert not bucket.take("c", 0.0)


async def test_the_broker_fans_out_to_every_stream_of_the_account_only() -> None:
    broker = Broker(queue_size=4)
    phone, tablet, other = broker.subscribe(1), broker.subscribe(1), broker.subscribe(2)
    took = broker.publish(1, LiveItem("notification", 10, {"title": "Lift B1 back"}))
    assert took == 2
    assert (await phone.next(None), await tablet.next(None)) == (
        LiveItem("notification", 10, {"title": "Lift B1 back"}),) * 2
    assert other.queue.empty()
    phone.close()
    assert broker.subscribers == 2


async def test_a_slow_subscriber_is_dropped_and_counted_the_others_keep_going() -> None:
    broker = Broker(queue_size=3)
    slow, fast = broker.subscribe(1), broker.subscribe(1)
    got_fast = []
    for i in range(10):
        broker.publish(1, LiveItem("notification", i, {}))
        item = await fast.next(None)
        assert item is not None
        got_fast.append(item.id)
    print(f"published 10: fast got {len(got_fast)}, slow dropped with "
          f"{slow.queue.qsize() - 1} unread; stats {broker.stats()}")
    assert got_fast == list(range(10))
    assert slow.dropped
    assert broker.dropped_subscribers == 1
    assert broker.subscribers == 1
    assert slow.queue.qsize() <= 3  # bounded: nothing grew past the queue
    left = [await slow.next(None) for _ in range(slow.queue.qsize())]
    assert left[-1] is None  # the reader learns it was dropped


class _Feed:
    """The stored rows a stream reads after an id (what another worker stored, say)."""

    def __init__(self, *items: LiveItem) -> None:
        self.items = list(items)
        self.asked: list[int] = []

    async def since(self, after: int) -> list[LiveItem]:
        self.asked.append(after)
        return [i for i in self.items if (i.id or 0) > after]


async def test_the_stream_sends_what_was_missed_then_live_items_then_ends() -> None:
    broker = Broker()
    subscription = broker.subscribe(3)
    feed = _Feed(LiveItem("notification", 40, {"title": "old"}),
                 LiveItem("notification", 41, {"title": "早上好"}))
    stream = stream_events(subscription, feed.since, 40, heartbeat_s=3600.0, max_s=3600.0)
    chunks = [await anext(stream), await anext(stream)]
    broker.publish(3, LiveItem("notification", 41, {"title": "早上好"}))  # sent already
    broker.publish(3, LiveItem("notification", 42, {"title": "Water back"}))
    chunks.append(await anext(stream))
    assert chunks[0].startswith("retry: 5000\n")
    assert chunks[1] == 'id: 41\nevent: notification\ndata: {"title":"早上好"}\n\n'
    assert chunks[2] == 'id: 42\nevent: notification\ndata: {"title":"Water back"}\n\n'
    await stream.aclose()
    assert broker.subscribers == 0  # closing the stream unsubscribes


async def test_a_quiet_stream_polls_the_feed_then_sends_a_heartbeat() -> None:
    """Another worker's notification never reaches this process's broker: the stream finds
    it in the feed when nothing came live for a heartbeat's time."""
    broker = Broker()
    feed = _Feed()
    stream = stream_events(broker.subscribe(3), feed.since, 7, heartbeat_s=0.0, max_s=3600.0)
    await anext(stream)
    first = await anext(stream)
    feed.items.append(LiveItem("notification", 8, {"title": "from worker 2"}))
    polled = await anext(stream)
    quiet = await anext(stream)
    assert (first, quiet) == (": heartbeat\n\n", ": heartbeat\n\n")
    assert polled.startswith("id: 8\n")
    assert feed.asked == [7, 7, 7, 8]  # missed on connect, then one poll per quiet beat
    await stream.aclose()


async def test_a_stream_asked_to_end_at_once_says_reconnect() -> None:
    broker = Broker()
    chunks = [c async for c in stream_events(broker.subscribe(3), _Feed().since, 0, 15.0,
                                             max_s=0.0)]
    assert chunks[-1] == "event: reconnect\ndata: {}\n\n"
    assert broker.subscribers == 0


class _Preferences:
    def __init__(self, chosen: dict[int, NotificationPreference]) -> None:
        self.chosen = chosen

    async def preferences(self, account_ids: object) -> dict[int, NotificationPreference]:
        return self.chosen


async def test_the_notifier_follows_preferences_quiet_hours_and_limits() -> None:
    broker = Broker()
    sms, wechat = ConsoleProvider(Channel.SMS), ConsoleProvider(Channel.WECHAT)
    chosen = {5: quiet_nights(announcement=["in_app", "sms"])}
    clock = iter(float(i) for i in range(100))
    notifier = Notifier(broker, {Channel.SMS: sms, Channel.WECHAT: wechat},
                        _Preferences(chosen), RateLimits({Channel.SMS: (2, 3600.0)}),
                        monotonic=lambda: next(clock))
    live = broker.subscribe(5)

    def note(i: int, account: int = 5) -> Notification:
        return Notification(account_id=account, category=Category.ANNOUNCEMENT,
                            title=f"notice {i}", body="", created_at=NOON, id=i)

    await notifier.deliver([note(1), note(2), note(3), note(4, account=6)], NOON)
    await notifier.deliver([note(5)], LATE_EVENING)
    print(dict(sorted(notifier.counts.items())))
    assert [m.title for m in sms.sent] == ["notice 1", "notice 2"]  # the third: rate limited
    assert [(m.account_id, m.title) for m in wechat.sent] == [(6, "notice 4")]  # defaults
    assert notifier.counts["rate_limited.sms"] == 1
    assert notifier.counts["held_quiet_hours"] == 1
    assert live.queue.qsize() == 4  # account 5's four, live


async def test_console_provider_keeps_a_bounded_tail() -> None:
    provider = ConsoleProvider(Channel.SMS, keep=2)
    for i in range(5):
        await provider.send(Outbound(1, Channel.SMS, Category.GENERAL, f"t{i}", ""))
    assert [m.title for m in provider.sent] == ["t3", "t4"]


class _Unreadable:
    async def preferences(self, account_ids: object) -> dict[int, NotificationPreference]:
        raise OperationalError("SELECT", {}, Exception("database is locked"))


async def test_unreadable_preferences_fall_back_to_defaults_without_raising() -> None:
    broker = Broker()
    sms = ConsoleProvider(Channel.SMS)
    notifier = Notifier(broker, {Channel.SMS: sms}, _Unreadable())
    alert = Notification(account_id=5, category=Category.ALERT, title="Trapped in lift B1",
                         body="", created_at=NOON, id=1)
    await notifier.deliver([alert], NOON)
    assert [m.title for m in sms.sent] == ["Trapped in lift B1"]
    assert notifier.counts["preferences_unreadable"] == 1


@pytest.mark.parametrize(("at", "end", "zone", "expected"), [
    ("2026-11-27T15:30:00+00:00", "07:00", "Asia/Shanghai", "2026-11-27T23:00:00+00:00"),
    ("2026-11-27T19:00:00+00:00", "07:00", "Asia/Shanghai", "2026-11-27T23:00:00+00:00"),
    ("2026-11-27T05:00:00+00:00", "14:00", "Asia/Shanghai", "2026-11-27T06:00:00+00:00"),
    # 23:30 in Berlin the night the clocks go back: 07:00 is CET (UTC+1), not CEST.
    ("2026-10-24T21:30:00+00:00", "07:00", "Europe/Berlin", "2026-10-25T06:00:00+00:00"),
])
def test_quiet_hours_end_at_the_next_end_oclock_in_the_recipients_zone(
        at: str, end: str, zone: str, expected: str) -> None:
    assert quiet_hours_end(end, zone, datetime.fromisoformat(at)) == \
        datetime.fromisoformat(expected)


def test_routing_says_until_when_texts_are_held() -> None:
    quiet = quiet_nights(announcement=["in_app", "sms"])
    held = route(quiet, Category.ANNOUNCEMENT, LATE_EVENING)
    assert held.held == {Channel.SMS} and held.held_until is not None
    assert held.held_until > LATE_EVENING
    assert route(quiet, Category.ANNOUNCEMENT, NOON).held_until is None


async def test_a_stream_ends_at_the_first_heartbeat_after_its_login_ended() -> None:
    broker = Broker()
    answers = iter([True, False])

    async def signed_in() -> bool:
        return next(answers)

    stream = stream_events(broker.subscribe(3), _Feed().since, 7, heartbeat_s=0.0,
                           max_s=3600.0, signed_in=signed_in)
    chunks = [chunk async for chunk in stream]
    assert chunks[1:] == [": heartbeat\n\n", "event: signed-out\ndata: {}\n\n"]
    assert broker.subscribers == 0
