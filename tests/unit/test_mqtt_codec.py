"""The MQTT codec against the device contract (docs/devices.md): good payloads, bad ones with
their reason codes, and properties over arbitrary input."""

from __future__ import annotations

import base64
import json
import math
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hub.devices.mqtt.codec import Contract, decode, encode_command
from hub.devices.mqtt.fields import Limits
from hub.devices.mqtt.link import MqttConfig
from hub.devices.mqtt.topics import inbound_filters, parse
from hub.domain.device_commands import DeviceCommand
from hub.domain.observations import (
    BarrierChanged,
    CommandAcknowledged,
    CredentialPresented,
    DeviceKey,
    Fault,
    PlateRead,
    Rejected,
    StatusReported,
    Telemetry,
    VehiclePassed,
)

NOW = datetime(2026, 11, 26, 8, 0, 5, tzinfo=UTC)
LIFT = "estate/lakeside/elevator/b3-lift-1"
GATE = "estate/lakeside/gate/north-gate"
CAMERA = "estate/lakeside/camera/north-cam-in"
DOOR = "estate/lakeside/door/b3-door"
JPEG = b"\xff\xd8\xff\xe0" + b"plate-crop" * 10


def _json(**fields: Any) -> bytes:
    return json.dumps(fields).encode()


def _decode(topic: str, payload: bytes) -> Any:
    return decode(topic, payload, NOW)


# ---- accepted -------------------------------------------------------------------------------

def test_telemetry_with_iso_timestamp_becomes_a_reading_with_its_seq_and_boot() -> None:
    payload = _json(seq=1042, boot="b7", ts="2026-11-26T08:00:00.120Z",
                    metrics={"floor": 5, "door": "closed", "occupied": True, "speed": -0.5})

    reading = _decode(f"{LIFT}/telemetry", payload)

    assert isinstance(reading, Telemetry)
    assert reading.envelope.key == DeviceKey("lakeside", "elevator", "b3-lift-1")
    assert reading.envelope.seq == 1042 and reading.envelope.boot == "b7"
    assert reading.envelope.ts == datetime(2026, 11, 26, 8, 0, 0, 120_000, tzinfo=UTC)
    assert reading.envelope.received_at == NOW
    assert reading.metrics == {"floor": 5, "door": "closed", "occupied": True, "speed": -0.5}


def test_epoch_milliseconds_and_offsets_are_both_read_as_utc() -> None:
    from_epoch = _decode(f"{LIFT}/telemetry", _json(ts=1795680000120, metrics={"floor": 1}))
    from_offset = _decode(f"{LIFT}/telemetry",
                          _json(ts="2026-11-26T16:00:00.120+08:00", metrics={"floor": 1}))

    assert from_epoch.envelope.ts == datetime(2026, 11, 26, 8, 0, 0, 120_000, tzinfo=UTC)
    assert from_offset.envelope.ts == from_epoch.envelope.ts


def test_telemetry_without_seq_or_ts_is_accepted_but_not_deduplicable() -> None:
    reading = _decode(f"{LIFT}/telemetry", _json(metrics={"floor": -2}))

    assert isinstance(reading, Telemetry)
    assert reading.envelope.seq is None and reading.envelope.ts is None
    assert not reading.envelope.deduplicable


def test_fault_event_keeps_code_active_and_detail() -> None:
    fault = _decode(f"{LIFT}/event", _json(seq=1043, type="fault", code="TRAPPED_AT_FLOOR",
                                           active=True, detail={"floor": 5}))

    assert fault == Fault(fault.envelope, code="TRAPPED_AT_FLOOR", active=True,
                          detail={"floor": 5})
    assert fault.envelope.seq == 1043


def test_plate_event_decodes_its_jpeg_image() -> None:
    plate = _decode(f"{CAMERA}/event", _json(
        type="plate", lane="north-in", direction="in", plate="沪A12345", color="blue",
        confidence=0.93, image=base64.b64encode(JPEG).decode()))

    assert isinstance(plate, PlateRead)
    assert (plate.lane, plate.direction, plate.plate, plate.color, plate.confidence) == (
        "north-in", "in", "沪A12345", "blue", 0.93)
    assert plate.image == JPEG


def test_plate_event_without_a_read_plate_has_nulls() -> None:
    plate = _decode(f"{CAMERA}/event", _json(type="plate", lane="north-out", direction="out",
                                             plate=None, color=None, confidence=None))

    assert isinstance(plate, PlateRead)
    assert (plate.plate, plate.color, plate.confidence, plate.image) == (None, None, None, None)


@pytest.mark.parametrize(("topic", "payload", "expected"), [
    (f"{DOOR}/event", _json(type="credential", credential="QR:7f3a9c"),
     CredentialPresented),
    (f"{GATE}/event", _json(type="passed", lane="north-in"), VehiclePassed),
    (f"{GATE}/event", _json(type="passed"), VehiclePassed),
    (f"{GATE}/event", _json(type="barrier", state="stuck"), BarrierChanged),
])
def test_door_and_gate_events_decode_to_their_observation(
        topic: str, payload: bytes, expected: type) -> None:
    assert isinstance(_decode(topic, payload), expected)


@pytest.mark.parametrize(("payload", "online"), [
    (b'"online"', True), (b'"offline"', False), (b"online", True), (b"offline\n", False),
])
def test_status_accepts_the_json_string_and_the_bare_word(payload: bytes, online: bool) -> None:
    status = _decode(f"{GATE}/status", payload)

    assert isinstance(status, StatusReported)
    assert status.online is online


def test_clearing_a_retained_status_reports_nothing() -> None:
    assert _decode(f"{GATE}/status", b"") is None


def test_a_status_replayed_from_the_brokers_retained_store_says_so() -> None:
    replayed = decode(f"{GATE}/status", b'"online"', NOW, retained=True)
    assert isinstance(replayed, StatusReported)
    assert replayed.retained
    assert not _decode(f"{GATE}/status", b'"online"').retained


def test_command_ack_carries_id_outcome_and_error() -> None:
    refused = _decode(f"{GATE}/cmd/ack", _json(id="c0ffee00-0000-4000-8000-000000000001",
                                               ok=False, error="barrier blocked"))

    assert refused == CommandAcknowledged(refused.envelope,
                                          command_id="c0ffee00-0000-4000-8000-000000000001",
                                          ok=False, error="barrier blocked")


def test_the_hubs_own_commands_are_ignored_by_the_decoder() -> None:
    assert _decode(f"{GATE}/cmd", _json(id="x", action="open")) is None
    assert _decode(f"{GATE}/cmd", b"\xff" * 100_000) is None


def test_a_payload_naming_its_own_device_is_accepted() -> None:
    reading = _decode(f"{LIFT}/telemetry",
                      _json(site="lakeside", device="b3-lift-1", metrics={"floor": 3}))

    assert isinstance(reading, Telemetry)


def test_extra_kinds_come_from_configuration() -> None:
    pumps = Contract(kinds=frozenset({"pump"}))

    assert isinstance(decode("estate/lakeside/pump/p1/telemetry", _json(metrics={"bar": 3.2}),
                             NOW, pumps), Telemetry)
    assert decode(f"{LIFT}/telemetry", _json(metrics={"floor": 1}), NOW, pumps).reason == (
        "unknown_kind")


# ---- refused --------------------------------------------------------------------------------

BIG = json.dumps({"metrics": {"blob": "x"}, "pad": "p" * 70_000}).encode()
DEEP = {"a": {"b": {"c": {"d": {"e": {"f": {"g": {"h": {"i": 1}}}}}}}}}

REFUSED = [
    # topic
    ("estate/lakeside/elevator/b3-lift-1", b"{}", "bad_topic"),
    ("estate/Lakeside/elevator/b3-lift-1/telemetry", b"{}", "bad_topic"),
    ("estate/lakeside/elevator/-lift/telemetry", b"{}", "bad_topic"),
    ("home/lakeside/elevator/b3-lift-1/telemetry", b"{}", "bad_topic"),
    (f"{LIFT}/telemetry/extra", b"{}", "bad_topic"),
    (f"{LIFT}/cmd/nack", b"{}", "bad_topic"),
    (f"{LIFT}/diary", b"{}", "bad_topic"),
    ("estate/lakeside/toaster/t1/telemetry", b"{}", "unknown_kind"),
    # bytes and JSON
    (f"{LIFT}/telemetry", b"{not json", "bad_json"),
    (f"{LIFT}/telemetry", b"", "bad_json"),
    (f"{LIFT}/telemetry", b"[" * 50_000, "bad_json"),
    (f"{LIFT}/telemetry", b"\xff\xfe{}", "bad_utf8"),
    (f"{LIFT}/telemetry", BIG, "too_large"),
    (f"{LIFT}/telemetry", b"[1, 2]", "not_object"),
    (f"{LIFT}/telemetry", b'{"metrics": {"floor": NaN}}', "nan"),
    (f"{LIFT}/telemetry", b'{"metrics": {"floor": Infinity}}', "nan"),
    (f"{LIFT}/telemetry", b'{"metrics": {"floor": -Infinity}}', "nan"),
    (f"{LIFT}/telemetry", b'{"metrics": {"floor": 1e999}}', "nan"),
    # envelope
    (f"{LIFT}/telemetry", _json(seq=-1, metrics={"floor": 1}), "bad_field:seq"),
    (f"{LIFT}/telemetry", _json(seq=True, metrics={"floor": 1}), "bad_field:seq"),
    (f"{LIFT}/telemetry", _json(seq="5", metrics={"floor": 1}), "bad_field:seq"),
    (f"{LIFT}/telemetry", _json(seq=1.5, metrics={"floor": 1}), "bad_field:seq"),
    (f"{LIFT}/telemetry", _json(seq=2**63, metrics={"floor": 1}), "bad_field:seq"),
    (f"{LIFT}/telemetry", _json(boot="b" * 65, metrics={"floor": 1}), "bad_field:boot"),
    (f"{LIFT}/telemetry", _json(ts="2026-11-26T08:00:00", metrics={"f": 1}), "bad_field:ts"),
    (f"{LIFT}/telemetry", _json(ts="yesterday", metrics={"f": 1}), "bad_field:ts"),
    (f"{LIFT}/telemetry", _json(ts="0001-01-01T00:00:00+01:00", metrics={"f": 1}),
     "bad_field:ts"),
    (f"{LIFT}/telemetry", _json(ts="9999-12-31T23:59:59-01:00", metrics={"f": 1}),
     "bad_field:ts"),
    (f"{LIFT}/telemetry", _json(ts=1795680000.5, metrics={"f": 1}), "bad_field:ts"),
    (f"{LIFT}/telemetry", _json(ts=True, metrics={"f": 1}), "bad_field:ts"),
    (f"{LIFT}/telemetry", _json(ts=10**20, metrics={"f": 1}), "bad_field:ts"),
    (f"{LIFT}/telemetry", _json(ts="2026-11-26T08:06:00Z", metrics={"f": 1}), "future_ts"),
    (f"{LIFT}/telemetry", _json(ts=0, metrics={"f": 1}), "old_ts"),
    (f"{LIFT}/telemetry", _json(device="b3-lift-2", metrics={"f": 1}), "topic_mismatch"),
    (f"{LIFT}/telemetry", _json(site="hillside", metrics={"f": 1}), "topic_mismatch"),
    # telemetry
    (f"{LIFT}/telemetry", _json(metrics={}), "bad_field:metrics"),
    (f"{LIFT}/telemetry", _json(metrics=[1]), "bad_field:metrics"),
    (f"{LIFT}/telemetry", _json(metrics={"floor": None}), "bad_field:metrics"),
    (f"{LIFT}/telemetry", _json(metrics={"floor": {"n": 5}}), "bad_field:metrics"),
    (f"{LIFT}/telemetry", _json(metrics={"door": "c" * 65}), "bad_field:metrics"),
    (f"{LIFT}/telemetry", _json(metrics={"bad name": 1}), "bad_field:metrics"),
    (f"{LIFT}/telemetry", _json(metrics={"trips": 2**64}), "bad_field:metrics"),
    # events
    (f"{LIFT}/event", _json(code="TRAPPED_AT_FLOOR", active=True), "bad_field:type"),
    (f"{LIFT}/event", _json(type="explosion"), "unknown_event"),
    (f"{LIFT}/event", _json(type="fault", code="TRAPPED_AT_FLOOR"), "bad_field:active"),
    (f"{LIFT}/event", _json(type="fault", active=True), "bad_field:code"),
    (f"{LIFT}/event", _json(type="fault", code="X", active=True, detail=[1]), "bad_field:detail"),
    (f"{LIFT}/event", _json(type="fault", code="X", active=True, detail=DEEP), "bad_field:detail"),
    (f"{CAMERA}/event", _json(type="plate", lane="n", direction="up"), "bad_field:direction"),
    (f"{CAMERA}/event", _json(type="plate", direction="in"), "bad_field:lane"),
    (f"{CAMERA}/event", _json(type="plate", lane="n", direction="in", color="purple"),
     "bad_field:color"),
    (f"{CAMERA}/event", _json(type="plate", lane="n", direction="in", confidence=1.5),
     "bad_field:confidence"),
    (f"{CAMERA}/event", _json(type="plate", lane="n", direction="in", image="not base64!"),
     "bad_field:image"),
    (f"{CAMERA}/event", _json(type="plate", lane="n", direction="in",
                              image=base64.b64encode(b"GIF89a").decode()), "bad_field:image"),
    (f"{DOOR}/event", _json(type="credential", credential="PIN:1234"), "bad_field:credential"),
    (f"{DOOR}/event", _json(type="credential", credential="QR:"), "bad_field:credential"),
    (f"{GATE}/event", _json(type="barrier", state="ajar"), "bad_field:state"),
    # status and acks
    (f"{GATE}/status", b'"maybe"', "bad_field:status"),
    (f"{GATE}/status", b'{"status": "online"}', "bad_field:status"),
    (f"{GATE}/cmd/ack", _json(id="c1", ok="yes"), "bad_field:ok"),
    (f"{GATE}/cmd/ack", _json(ok=True), "bad_field:id"),
    (f"{GATE}/cmd/ack", _json(id="c1", ok=False, error=42), "bad_field:error"),
]


@pytest.mark.parametrize(("topic", "payload", "reason"), REFUSED,
                         ids=[f"{i}-{r[2]}" for i, r in enumerate(REFUSED)])
def test_bad_messages_are_refused_with_their_reason(topic: str, payload: bytes,
                                                    reason: str) -> None:
    rejected = _decode(topic, payload)

    assert isinstance(rejected, Rejected)
    assert rejected.reason == reason
    assert rejected.received_at == NOW
    assert len(rejected.excerpt) <= 200


def test_a_refused_message_names_its_device_when_the_topic_does() -> None:
    rejected = _decode(f"{LIFT}/telemetry", b"{oops")

    assert rejected.key == DeviceKey("lakeside", "elevator", "b3-lift-1")
    assert rejected.excerpt == "{oops"
    assert _decode("estate/lakeside/elevator", b"{}").key is None


def test_the_size_limit_and_skew_are_configurable() -> None:
    strict = Contract(limits=Limits(max_payload_bytes=16, future_skew=timedelta(seconds=1)))
    payload = _json(ts="2026-11-26T08:00:07Z", metrics={"floor": 1})

    assert decode(f"{LIFT}/telemetry", payload, NOW, strict).reason == "too_large"
    assert isinstance(_decode(f"{LIFT}/telemetry", payload), Telemetry)


def test_an_image_above_its_own_limit_is_refused() -> None:
    small_images = Contract(limits=Limits(max_image_bytes=len(JPEG) - 1))
    payload = _json(type="plate", lane="n", direction="in",
                    image=base64.b64encode(JPEG).decode())

    assert decode(f"{CAMERA}/event", payload, NOW, small_images).reason == "bad_field:image"
    assert isinstance(_decode(f"{CAMERA}/event", payload), PlateRead)


def test_excerpts_never_keep_images_or_credentials() -> None:
    image = base64.b64encode(JPEG).decode()
    bad_plate = _decode(f"{CAMERA}/event", _json(type="plate", image=image, lane="n"))
    bad_door = _decode(f"{DOOR}/event", _json(type="credential", credential='QR:se\\"cret',
                                              lane=5, seq=-1))
    huge = _decode(f"{CAMERA}/event", json.dumps({"image": "A" * 90_000}).encode())

    assert bad_plate.reason == "bad_field:direction"
    assert image[:20] not in bad_plate.excerpt and '"image": "…"' in bad_plate.excerpt
    assert "se" not in bad_door.excerpt.split("credential")[1] and "cret" not in bad_door.excerpt
    assert huge.reason == "too_large" and "AAAA" not in huge.excerpt


def test_excerpts_and_topics_are_printable() -> None:
    rejected = _decode("estate/lake\x00side/x/y/telemetry", b"\x00\x1b[31mred\x07")

    assert rejected.excerpt == "??[31mred?"
    assert "\x00" not in rejected.topic


# ---- commands -------------------------------------------------------------------------------

def test_a_command_is_encoded_on_the_cmd_topic_with_id_action_expiry_and_args() -> None:
    command = DeviceCommand(id="c0ffee00-0000-4000-8000-000000000002", device_id=7,
                            key=DeviceKey("lakeside", "gate", "north-gate"), action="open",
                            issued_at=NOW, expires_at=NOW + timedelta(seconds=30),
                            args={"lane": "north-in"})

    topic, payload = encode_command(command)

    assert topic == "estate/lakeside/gate/north-gate/cmd"
    assert json.loads(payload) == {"id": "c0ffee00-0000-4000-8000-000000000002",
                                   "action": "open", "expires": "2026-11-26T08:00:35.000Z",
                                   "args": {"lane": "north-in"}}


def test_subscription_filters_cover_every_inbound_channel_optionally_shared() -> None:
    assert inbound_filters() == ["estate/+/+/+/telemetry", "estate/+/+/+/event",
                                 "estate/+/+/+/status", "estate/+/+/+/cmd/ack"]
    assert inbound_filters(["lakeside"], "hub")[0] == "$share/hub/estate/lakeside/+/+/telemetry"
    with pytest.raises(ValueError, match="shared group"):
        inbound_filters(shared_group="a/b")


def test_workers_may_split_the_inbound_channels() -> None:
    # mqtt.channels: telemetry on some workers, the urgent channels on one of their own.
    assert inbound_filters(["lakeside"], "hub", ["telemetry"]) == [
        "$share/hub/estate/lakeside/+/+/telemetry"]
    assert inbound_filters((), "hub", ["cmd/ack", "event", "status"]) == [
        "$share/hub/estate/+/+/+/event", "$share/hub/estate/+/+/+/status",
        "$share/hub/estate/+/+/+/cmd/ack"]
    with pytest.raises(ValueError, match="inbound channels are"):
        inbound_filters(channels=["cmd"])  # the hub's own commands are never input
    with pytest.raises(ValueError):
        inbound_filters(channels=["gossip"])


# ---- properties -----------------------------------------------------------------------------

IDS = st.from_regex(r"[a-z0-9][a-z0-9-]{0,10}", fullmatch=True)
KINDS = st.sampled_from(["elevator", "light", "gate", "camera", "door", "meter", "toaster"])
CHANNELS = st.sampled_from(["telemetry", "event", "status", "cmd", "cmd/ack", "junk"])
GOOD_TOPICS = st.builds(lambda s, k, d, c: f"estate/{s}/{k}/{d}/{c}", IDS, KINDS, IDS, CHANNELS)
JSONISH = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner,
                                                                 max_size=4),
    max_leaves=20)
KEYS = st.sampled_from(["seq", "boot", "ts", "metrics", "type", "code", "active", "detail",
                        "lane", "direction", "plate", "color", "confidence", "image",
                        "credential", "state", "id", "ok", "error", "device", "site"])
TIMES = st.one_of(
    st.builds(lambda at, zone: at.isoformat() + zone,
              st.datetimes() | st.sampled_from([datetime.min, datetime.max]),
              st.sampled_from(["", "Z", "+01:00", "-01:00", "+14:00", "-12:00"])),
    st.integers(-(2**70), 2**70))
OBJECTS = st.builds(lambda d, ts: {**d, "ts": ts}, st.dictionaries(KEYS, JSONISH, max_size=8),
                    st.none() | TIMES).map(lambda d: json.dumps(d, allow_nan=True).encode())


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(topic=st.one_of(st.text(), GOOD_TOPICS), payload=st.one_of(st.binary(), OBJECTS))
def test_decode_never_raises_whatever_arrives(topic: str, payload: bytes) -> None:
    result = decode(topic, payload, NOW)

    assert result is None or isinstance(result, Rejected) or result.envelope.received_at == NOW


@given(ts=TIMES)
def test_any_timestamp_is_read_or_refused_never_raised(ts: Any) -> None:
    result = _decode(f"{LIFT}/telemetry", _json(ts=ts, metrics={"floor": 1}))

    assert isinstance(result, Telemetry) or result.reason in (
        "bad_field:ts", "future_ts", "old_ts")


METRIC_VALUES = (st.booleans() | st.integers(-(2**53), 2**53)
                 | st.floats(allow_nan=False, allow_infinity=False)
                 | st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), min_size=1,
                           max_size=64))
METRICS = st.dictionaries(st.from_regex(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,20}", fullmatch=True),
                          METRIC_VALUES, min_size=1, max_size=10)


@given(seq=st.integers(0, 2**63 - 1), boot=st.text("abc123", max_size=8), metrics=METRICS,
       ms_before=st.integers(0, 10**9))
def test_valid_telemetry_round_trips(seq: int, boot: str, metrics: dict[str, Any],
                                     ms_before: int) -> None:
    ts = NOW - timedelta(milliseconds=ms_before)
    epoch_ms = math.floor(ts.timestamp() * 1000)
    payload = _json(seq=seq, boot=boot, ts=epoch_ms, metrics=metrics)

    reading = _decode(f"{LIFT}/telemetry", payload)

    assert isinstance(reading, Telemetry)
    assert (reading.envelope.seq, reading.envelope.boot) == (seq, boot)
    assert reading.envelope.ts == datetime.fromtimestamp(epoch_ms / 1000, UTC)
    assert reading.metrics == metrics


@given(code=st.from_regex(r"[A-Z][A-Z_]{0,30}", fullmatch=True), active=st.booleans(),
       command_id=st.uuids(), ok=st.booleans(), error=st.none() | st.text(
           st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=100))
def test_valid_faults_and_acks_round_trip(code: str, active: bool, command_id: Any, ok: bool,
                                          error: str | None) -> None:
    fault = _decode(f"{LIFT}/event", _json(type="fault", code=code, active=active))
    ack = _decode(f"{GATE}/cmd/ack", _json(id=str(command_id), ok=ok, error=error))

    assert (fault.code, fault.active, fault.detail) == (code, active, {})
    assert (ack.command_id, ack.ok, ack.error) == (str(command_id), ok, error)


@given(topic=GOOD_TOPICS)
def test_parsing_a_topic_never_raises_anything_but_bad_topic(topic: str) -> None:
    try:
        address = parse(topic)
    except ValueError:
        return
    assert topic.startswith(f"estate/{address.key.site}/{address.key.kind}/")


# ---- the hub's side of the connection --------------------------------------------------------

@given(keepalive_s=st.integers(5, 3600))
def test_a_dead_link_is_noticed_within_one_and_a_half_keepalives(keepalive_s: int) -> None:
    wire = MqttConfig(url="mqtt://127.0.0.1", client_id="hub-1",
                      keepalive_s=keepalive_s).wire_keepalive_s

    # paho pings after `wire` of silence and gives up `wire` later, checking once a second;
    # the broker gives up after 1.5 x wire, so paho's ping (up to 1 s late) must come first.
    assert 2 * wire + 1 <= 1.5 * keepalive_s
    assert wire + 1 < 1.5 * wire


@pytest.mark.parametrize(("setting", "message"), [
    ({"url": "http://127.0.0.1"}, "mqtt://"),
    ({"client_id": ""}, "client_id"),
    ({"keepalive_s": 2}, "keepalive_s"),
    ({"receive_maximum": 70_000}, "receive_maximum"),
    ({"incoming_queue": 0}, "incoming_queue"),
    ({"shared_group": "hub", "protocol": "3.1.1"}, "protocol 5"),
])
def test_unusable_connection_settings_are_refused(setting: dict[str, Any], message: str) -> None:
    values: dict[str, Any] = {"url": "mqtt://127.0.0.1", "client_id": "hub-1", **setting}

    with pytest.raises(ValueError, match=message):
        MqttConfig(**values)
