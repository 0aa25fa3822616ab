"""Stored samples as InfluxDB line protocol.

One measurement, `telemetry`, tagged `site`, `kind` and `device` (the MQTT topic's names), with
one field per metric. A measurement per device kind would split one community's data over
many schemas and still put the same metric of two kinds apart; with tags, "every elevator of
lakeside" and "floor of lift-1" are both plain filters.

Values are always written as floats (`5`, never `5i`): an integer field and a float field of
one name conflict in InfluxDB, and a Modbus and an MQTT device may report the same metric in
either. Words (a door "closed") go to a string field named `<metric>_text`, so a metric's own
field keeps one type. Samples of one device at one instant share a line.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime

from hub.domain.observations import DeviceKey, Sample

MEASUREMENT = "telemetry"
TEXT_SUFFIX = "_text"
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

_NAME_ESCAPES = str.maketrans({",": r"\,", "=": r"\=", " ": r"\ ", "\n": " ", "\\": "\\\\"})
_STRING_ESCAPES = str.maketrans({'"': r"\"", "\\": "\\\\", "\n": " "})


def name(text: str) -> str:
    """A tag key, tag value or field key, escaped."""
    return text.translate(_NAME_ESCAPES)


def micros(moment: datetime) -> int:
    """Microseconds since the epoch, exactly (float seconds would lose the last digits)."""
    delta = moment - EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def field(sample: Sample) -> str | None:
    """`metric=value`, or None when the sample holds nothing InfluxDB can store."""
    if sample.value is not None:
        if not math.isfinite(sample.value):  # line protocol has no NaN or infinity
            return None
        return f"{name(sample.metric)}={float(sample.value)!r}"
    if sample.text is not None:
        return f'{name(sample.metric + TEXT_SUFFIX)}="{sample.text.translate(_STRING_ESCAPES)}"'
    return None


def to_lines(samples: Iterable[Sample],
             keys: Mapping[int, DeviceKey]) -> tuple[list[str], int]:
    """Lines at microsecond precision, and how many samples could not be written (a device
    with no name, a value that is not a finite number)."""
    fields: dict[tuple[int, datetime], list[str]] = {}
    skipped = 0
    for sample in samples:
        written = field(sample) if sample.device_id in keys else None
        if written is None:
            skipped += 1
            continue
        fields.setdefault((sample.device_id, sample.at), []).append(written)
    lines = []
    for (device_id, moment), parts in fields.items():
        key = keys[device_id]
        tags = f"site={name(key.site)},kind={name(key.kind)},device={name(key.device)}"
        lines.append(f"{MEASUREMENT},{tags} {','.join(parts)} {micros(moment)}")
    return lines, skipped
