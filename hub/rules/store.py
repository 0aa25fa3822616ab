"""The rules' rows: engine state (loaded at start, saved as it changes) and outcomes."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

from hub.rules.actions import Fired, command_fields, describe, evidence_json
from hub.store.rule_tables import rule_outcomes, rule_state

MAX_ERROR = 500
MAX_LINE = 1000


@dataclass(frozen=True)
class OutcomeRecord:
    """What became of one outcome: done, skipped, refused or dead_letter."""

    fired: Fired
    status: str
    attempts: int
    recorded_at: datetime
    error: str | None = None
    result: str | None = None


class SqlRuleStore:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def load_state(self) -> dict[str, dict[str, Any]]:
        async with self._engine.connect() as connection:
            rows = await connection.execute(select(rule_state.c.key, rule_state.c.value))
            return {r.key: r.value for r in rows}

    async def save_state(self, changed: dict[str, dict[str, Any]], removed: set[str],
                         at: datetime) -> None:
        """Rewrite the changed items and delete the removed ones, in one transaction."""
        gone = set(changed) | removed
        if not gone:
            return
        async with self._engine.begin() as connection:
            keys = sorted(gone)
            for start in range(0, len(keys), 500):
                await connection.execute(delete(rule_state).where(
                    rule_state.c.key.in_(keys[start:start + 500])))
            if changed:
                await connection.execute(insert(rule_state), [
                    {"key": k, "value": v, "updated_at": at} for k, v in changed.items()])

    async def record(self, records: Sequence[OutcomeRecord]) -> None:
        if not records:
            return
        async with self._engine.begin() as connection:
            await connection.execute(insert(rule_outcomes), [_row(r) for r in records])


def _row(record: OutcomeRecord) -> dict[str, Any]:
    fired = record.fired
    return {"rule_id": fired.rule_id, "rule_version": fired.version,
            "command": fired.command_kind, "site_id": fired.site_id,
            "device_id": fired.device_id, "at": fired.at, "recorded_at": record.recorded_at,
            "status": record.status, "attempts": record.attempts,
            "error": record.error[:MAX_ERROR] if record.error else None,
            "result": record.result[:200] if record.result else None,
            "detail": _json_safe(command_fields(fired.command)),
            "evidence": evidence_json(fired), "line": describe(fired)[:MAX_LINE]}


def _json_safe(values: dict[str, Any]) -> dict[str, Any]:
    return {key: _plain(value) for key, value in values.items()}


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, tuple):
        return list(value)
    if value is None or isinstance(value, str | int | float | bool | dict | list):
        return value
    return str(value)
