"""Field checks of the device contract's JSON payloads, and the excerpt kept of a bad one.

Each check raises `BadField` with a reason code drawn from a fixed set (never from the payload:
the hub counts dead letters per device and reason, and a device must not be able to grow that
table by inventing keys).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from hub.domain.observations import Scalar

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MAX_SEQ = 2**63 - 1  # inbox.seq is a BIGINT
MAX_BOOT_CHARS = 64  # inbox.boot
MAX_TEXT_CHARS = 64  # telemetry.text
MAX_METRICS = 256
MAX_DETAIL_DEPTH = 8
METRIC_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}")  # telemetry.metric
EXCERPT_CHARS = 200
# Values a dead letter must not keep: a camera's picture, a resident's door credential.
_SECRET_VALUE = re.compile(r'("(?:image|credential)"\s*:\s*)"(?:[^"\\]|\\.)*"?')
_NOT_PRINTABLE = re.compile(r"[^\x20-\x7e\u00a0-\uffff]")


class BadField(ValueError):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Limits:
    """What the hub accepts; configurable, with the defaults documented in docs/devices.md."""

    max_payload_bytes: int = 64 * 1024
    max_image_bytes: int = 48 * 1024
    future_skew: timedelta = timedelta(minutes=5)
    max_age: timedelta = timedelta(days=365)


def _non_finite(token: str) -> Any:
    raise BadField("nan")


def _finite_float(token: str) -> float:
    value = float(token)
    if not math.isfinite(value):  # 1e999 parses as inf
        raise BadField("nan")
    return value


def load_json(payload: bytes) -> Any:
    """Strict JSON: UTF-8, no NaN or Infinity (Python's json accepts both by default)."""
    try:
        text = payload.decode("utf-8")
    except UnicodeDecodeError:
        raise BadField("bad_utf8") from None
    try:
        return json.loads(text, parse_constant=_non_finite, parse_float=_finite_float)
    except BadField:  # from the hooks above: NaN, Infinity, 1e999
        raise
    except (ValueError, RecursionError):  # RecursionError: "[[[[..." nested too deep
        raise BadField("bad_json") from None


def short_text(value: Any, field: str, max_chars: int = MAX_TEXT_CHARS) -> str:
    if not isinstance(value, str) or not 0 < len(value) <= max_chars \
            or _NOT_PRINTABLE.search(value):
        raise BadField(f"bad_field:{field}")
    return value


def optional_text(data: Mapping[str, Any], field: str, max_chars: int = MAX_TEXT_CHARS
                  ) -> str | None:
    value = data.get(field)
    return None if value is None else short_text(value, field, max_chars)


def one_of(value: Any, field: str, allowed: frozenset[str]) -> str:
    if not isinstance(value, str) or value not in allowed:
        raise BadField(f"bad_field:{field}")
    return value


def boolean(value: Any, field: str) -> bool:
    if not isinstance(value, bool):
        raise BadField(f"bad_field:{field}")
    return value


def seq_of(data: Mapping[str, Any]) -> int | None:
    value = data.get("seq")
    if value is None:
        return None
    # bool is a subclass of int in Python; `true` is not a sequence number.
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_SEQ:
        raise BadField("bad_field:seq")
    return value


def boot_of(data: Mapping[str, Any]) -> str:
    value = data.get("boot")
    if value is None or value == "":
        return ""
    return short_text(value, "boot", MAX_BOOT_CHARS)


def ts_of(data: Mapping[str, Any], received_at: datetime, limits: Limits) -> datetime | None:
    value = data.get("ts")
    if value is None:
        return None
    at = _parse_ts(value)
    if at > received_at + limits.future_skew:
        raise BadField("future_ts")
    if at < received_at - limits.max_age:
        raise BadField("old_ts")
    return at


def _parse_ts(value: Any) -> datetime:
    if isinstance(value, int) and not isinstance(value, bool):
        if not 0 <= value <= 253_402_300_799_999:  # up to 9999-12-31T23:59:59.999Z
            raise BadField("bad_field:ts")
        return EPOCH + timedelta(milliseconds=value)
    if not isinstance(value, str) or len(value) > 40:
        raise BadField("bad_field:ts")
    try:
        at = datetime.fromisoformat(value)
        if at.tzinfo is None:  # a naive time is ambiguous: the device's zone is unknown
            raise BadField("bad_field:ts")
        return at.astimezone(UTC)
    except (ValueError, OverflowError):  # OverflowError: year 1 or 9999 moved by an offset
        raise BadField("bad_field:ts") from None


def metrics_of(data: Mapping[str, Any]) -> dict[str, Scalar]:
    value = data.get("metrics")
    if not isinstance(value, dict) or not 0 < len(value) <= MAX_METRICS:
        raise BadField("bad_field:metrics")
    return {_metric_name(name): _metric_value(item) for name, item in value.items()}


def _metric_name(name: str) -> str:
    if not METRIC_NAME.fullmatch(name):
        raise BadField("bad_field:metrics")
    return name


def _metric_value(value: Any) -> Scalar:
    if isinstance(value, (bool, float)):  # per metric: a tuple, not a union built each call
        return value  # floats are finite: load_json refused the others
    if isinstance(value, int):
        if abs(value) > MAX_SEQ:  # stored as a double; beyond this it is not a reading
            raise BadField("bad_field:metrics")
        return value
    if isinstance(value, str):
        return short_text(value, "metrics")
    raise BadField("bad_field:metrics")


def unit_interval(data: Mapping[str, Any], field: str) -> float | None:
    value = data.get(field)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
        raise BadField(f"bad_field:{field}")
    return float(value)


def detail_of(data: Mapping[str, Any]) -> dict[str, Any]:
    value = data.get("detail", {})
    if value is None:
        return {}
    if not isinstance(value, dict) or _too_deep(value, MAX_DETAIL_DEPTH - 1):
        raise BadField("bad_field:detail")
    return value


def _too_deep(value: Any, room: int) -> bool:
    # Stops at the limit, so a pathological payload cannot exhaust the recursion limit here.
    if isinstance(value, dict):
        children: Any = value.values()
    elif isinstance(value, list):
        children = value
    else:
        return False
    return room < 0 or any(_too_deep(child, room - 1) for child in children)


def excerpt(payload: bytes) -> str:
    """The first characters of a payload, printable, with images and credentials blanked."""
    text = payload[: EXCERPT_CHARS * 20].decode("utf-8", "replace")
    text = _SECRET_VALUE.sub(r'\1"…"', text)
    return _NOT_PRINTABLE.sub("?", text)[:EXCERPT_CHARS]


def printable(text: str, max_chars: int) -> str:
    return _NOT_PRINTABLE.sub("?", text)[:max_chars]
