"""The `offline_log` event of the device contract: what a gate did alone while the hub was
away, decoded strictly and bounded (hub.devices.mqtt.codec)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from hub.devices.mqtt.codec import MAX_OFFLINE_ENTRIES, decode
from hub.domain.observations import OfflineDecision, OfflineLog, Rejected

NOW = datetime(2026, 11, 27, 8, 0, tzinfo=UTC)
TOPIC = "estate/lakeside/gate/gate-north/event"
ENTRY = {"plate": "沪A12345", "direction": "in", "at": "2026-11-27T07:58:00.500+08:00",
         "opened": True, "lane": "north"}


def _log(entries: Any, **extra: Any) -> bytes:
    return json.dumps({"seq": 7, "boot": "b1", "ts": "2026-11-27T08:00:00Z",
                       "type": "offline_log", "entries": entries, **extra}).encode()


def test_offline_log_decodes_to_its_decisions_in_utc() -> None:
    refused = {**ENTRY, "plate": "粤BD12345", "opened": False, "at": 1795680000000}
    item = decode(TOPIC, _log([ENTRY, refused]), NOW)

    assert isinstance(item, OfflineLog)
    assert item.envelope.seq == 7
    assert item.entries == (
        OfflineDecision("沪A12345", "in", datetime(2026, 11, 26, 23, 58, 0, 500000, tzinfo=UTC),
                        True, "north"),
        OfflineDecision("粤BD12345", "in", datetime(2026, 11, 26, 8, 0, tzinfo=UTC),
                        False, "north"))


@pytest.mark.parametrize("entries", [
    [], None, "沪A12345", [None], [[ENTRY]],
    [{**ENTRY, "plate": None}], [{**ENTRY, "plate": "沪A123456789012345"}],
    [{**ENTRY, "direction": "sideways"}], [{**ENTRY, "opened": "yes"}],
    [{**ENTRY, "opened": 1}], [{**ENTRY, "lane": ""}], [{**ENTRY, "at": None}],
    [{**ENTRY, "at": "2026-11-27T07:58:00"}],  # no offset: the gate's zone is unknown
    [{**ENTRY, "at": "2026-11-27T09:00:00Z"}],  # an hour ahead of the hub's clock
    [{k: v for k, v in ENTRY.items() if k != "lane"}],
    [ENTRY] * (MAX_OFFLINE_ENTRIES + 1),
])
def test_a_bad_or_oversized_offline_log_is_refused_whole(entries: Any) -> None:
    item = decode(TOPIC, _log(entries), NOW)

    assert isinstance(item, Rejected)
    assert item.reason == "bad_field:entries"


def test_the_most_entries_allowed_fit_in_one_payload() -> None:
    payload = _log([ENTRY] * MAX_OFFLINE_ENTRIES)
    item = decode(TOPIC, payload, NOW)

    assert isinstance(item, OfflineLog) and len(item.entries) == MAX_OFFLINE_ENTRIES
    assert len(payload) < 64 * 1024
