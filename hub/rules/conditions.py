"""The pieces of `when` and `if` that look at one value: device filters, comparisons, modes."""

from __future__ import annotations

import operator
from typing import Any

from hub.rules.events import DeviceRef
from hub.rules.schema import MODES, Compare, When

_ORDER = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge}


def device_matches(when: When, device: DeviceRef) -> bool:
    return ((not when.kind or device.kind in when.kind)
            and device.kind not in when.not_kind
            and (not when.site or device.site in when.site)
            and (not when.device or device.code in when.device)
            and all(tag in device.tags for tag in when.tags))


def mode_name(value: Any) -> str:
    """The elevator's mode as the register's number (0-4) or its name; anything else as text."""
    if isinstance(value, int | float) and not isinstance(value, bool) \
            and int(value) == value and 0 <= value < len(MODES):
        return MODES[int(value)]
    return str(value).strip().lower()


def compare(rule: Compare, value: Any) -> bool:
    """False when the value is missing or of another type than the rule's: never raises."""
    if value is None:
        return False
    if rule.op in ("in", "not_in"):
        assert isinstance(rule.value, tuple)
        return any(_equal(value, v) for v in rule.value) == (rule.op == "in")
    if rule.op in ("==", "!="):
        return _equal(value, rule.value) == (rule.op == "==")
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    return bool(_ORDER[rule.op](value, rule.value))


def _equal(value: Any, target: Any) -> bool:
    """`on: true` matches true, and "on"/"off" match booleans the way lights report them."""
    if isinstance(target, bool) or isinstance(value, bool):
        return _truth(value) == _truth(target)
    if isinstance(target, int | float) and isinstance(value, int | float):
        return value == target
    return str(value) == str(target)


def _truth(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return value != 0
    return {"on": True, "true": True, "off": False, "false": False}.get(str(value).lower())
