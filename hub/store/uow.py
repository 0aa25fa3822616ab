"""The SQLAlchemy unit of work: one session, one transaction, audit rows inside it."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any, Self, TypeVar

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub.domain.audit import AuditEntry
from hub.domain.errors import Conflict

T = TypeVar("T")
log = logging.getLogger(__name__)


class SqlUnitOfWork:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions
        self._events: list[object] = []

    async def __aenter__(self) -> Self:
        self.session = self._sessions()
        self._events = []
        return self

    async def __aexit__(self, *exc: object) -> None:
        # close() rolls back whatever was not committed, and (unlike rollback()) leaves the
        # objects read in the block readable afterwards.
        await self.session.close()

    async def commit(self) -> None:
        try:
            await self.session.commit()
        except IntegrityError as err:
            # A unique index caught a race the handler's own check could not see.
            await self.session.rollback()
            log.info("integrity error on commit: %s", type(err.orig).__name__)
            raise Conflict("the change conflicts with data stored meanwhile") from None

    async def rollback(self) -> None:
        await self.session.rollback()

    async def flush(self) -> None:
        try:
            await self.session.flush()
        except IntegrityError:
            await self.session.rollback()
            raise Conflict("the change conflicts with stored data") from None

    def add(self, entity: object) -> None:
        self.session.add(entity)

    async def delete(self, entity: object) -> None:
        await self.session.delete(entity)

    async def get(self, kind: type[T], ident: Any) -> T | None:
        return await self.session.get(kind, ident)

    async def find(self, kind: type[T], **equal: Any) -> Sequence[T]:
        return (await self.session.scalars(select(kind).filter_by(**equal))).all()

    async def find_one(self, kind: type[T], **equal: Any) -> T | None:
        return (await self.session.scalars(select(kind).filter_by(**equal).limit(1))).first()

    def audit(self, entry: AuditEntry) -> None:
        self.session.add(entry)

    def emit(self, event: object) -> None:
        self._events.append(event)

    def collect_events(self) -> list[object]:
        events, self._events = self._events, []
        return events
