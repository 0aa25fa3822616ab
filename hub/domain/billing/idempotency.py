"""Idempotency keys: one answer per (caller, key), whatever the retries and races.

The key's row is inserted, alone and committed, before any work: a unique index decides which
of several concurrent requests does the work; the others see it in flight (409) or done (the
first answer again). The same key with other parameters is refused.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from hub.domain.errors import Invalid

KEY_MAX = 100


class KeyState(StrEnum):
    IN_FLIGHT = "in_flight"
    DONE = "done"


@dataclass(eq=False)
class IdempotencyKey:
    account_id: int
    key: str
    request_hash: str
    state: KeyState
    created_at: datetime
    status_code: int | None = None
    response: dict[str, Any] = field(default_factory=dict)
    id: int | None = None


def check_key(key: str | None) -> str:
    if key is None or not key.strip():
        raise Invalid("the Idempotency-Key header is required on payment requests",
                      field="header.Idempotency-Key")
    key = key.strip()
    if len(key) > KEY_MAX or not key.isascii() or not key.isprintable():
        raise Invalid(f"Idempotency-Key must be 1 to {KEY_MAX} printable ASCII characters",
                      field="header.Idempotency-Key")
    return key


def request_hash(route: str, parameters: dict[str, Any]) -> str:
    """The same request hashes the same: keys sorted, values as text."""
    text = json.dumps({"route": route, "parameters": parameters}, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()
