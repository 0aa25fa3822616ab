"""In-memory fakes of the ports in hub/ports.py, for unit tests of the service layer and bus."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Self, TypeVar

from hub.domain.audit import AuditEntry

T = TypeVar("T")


@dataclass
class FakeDatabase:
    """What fake units of work share: committed records by type and id, and the audit log."""

    records: dict[type, dict[int, object]] = field(default_factory=dict)
    audit_log: list[AuditEntry] = field(default_factory=list)
    commits: int = 0
    _next_id: int = 0

    def stored(self, kind: type[T]) -> dict[int, T]:
        """The committed records of one type, by id."""
        return self.records.get(kind, {})  # type: ignore[return-value]

    def next_id(self) -> int:
        self._next_id += 1
        return self._next_id


class FakeUnitOfWork:
    """A UnitOfWork over dicts. Leaving the block without `commit()` drops what was added."""

    def __init__(self, db: FakeDatabase) -> None:
        self.db = db
        self._pending: list[object] = []
        self._pending_audit: list[AuditEntry] = []
        self._events: list[object] = []
        self.committed = False

    async def __aenter__(self) -> Self:
        self._pending, self._pending_audit, self._events = [], [], []
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.rollback()

    async def commit(self) -> None:
        await self.flush()
        for entity in self._pending:
            self.db.records.setdefault(type(entity), {})[entity.id] = entity  # type: ignore[attr-defined]
        self.db.audit_log.extend(self._pending_audit)
        self._pending, self._pending_audit = [], []
        self.db.commits += 1
        self.committed = True

    async def rollback(self) -> None:
        self._pending, self._pending_audit = [], []

    async def flush(self) -> None:
        for entity in self._pending:
            if getattr(entity, "id", None) is None:
                entity.id = self.db.next_id()  # type: ignore[attr-defined]

    def add(self, entity: object) -> None:
        self._pending.append(entity)

    async def delete(self, entity: object) -> None:
        self.db.records.get(type(entity), {}).pop(entity.id, None)  # type: ignore[attr-defined]

    async def get(self, kind: type[T], ident: Any) -> T | None:
        found = self.db.records.get(kind, {}).get(ident)
        return found  # type: ignore[return-value]

    async def find(self, kind: type[T], **equal: Any) -> Sequence[T]:
        return [record for record in self.db.records.get(kind, {}).values()  # type: ignore[misc]
                if all(getattr(record, name) == value for name, value in equal.items())]

    async def find_one(self, kind: type[T], **equal: Any) -> T | None:
        found = await self.find(kind, **equal)
        return found[0] if found else None

    def audit(self, entry: AuditEntry) -> None:
        self._pending_audit.append(entry)

    def emit(self, event: object) -> None:
        self._events.append(event)

    def collect_events(self) -> list[object]:
        events, self._events = self._events, []
        return events
