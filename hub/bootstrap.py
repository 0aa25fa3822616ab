"""The composition root: the one place that names concrete classes and wires them together."""

from __future__ import annotations

import base64
import inspect
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

from alembic.runtime.migration import MigrationContext
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from hub.bus import Handler, MessageBus
from hub.domain import commands as c
from hub.handlers import accounts, premises, residents
from hub.health import HealthBoard
from hub.ports import Clock, UnitOfWork
from hub.security.pii import PiiVault
from hub.security.tokens import TokenIssuer
from hub.settings import Settings
from hub.store import migrate
from hub.store.db import make_engine, make_sessions
from hub.store.mapping import start_mappers
from hub.store.uow import SqlUnitOfWork

COMMAND_HANDLERS: dict[type, Callable[..., Any]] = {
    c.CreateSite: premises.create_site,
    c.CreateBuilding: premises.create_building,
    c.CreateUnit: premises.create_unit,
    c.Change: premises.change,
    c.Delete: premises.delete,
    c.RegisterResident: residents.register_resident,
    c.AddResidency: residents.add_residency,
    c.EndResidency: residents.end_residency,
    c.RevealNationalId: residents.reveal_national_id,
    c.CreateAccount: accounts.create_account,
    c.UpdateAccount: accounts.update_account,
    c.RecordDenial: accounts.record_denial,
    c.Login: accounts.login,
    c.Refresh: accounts.refresh,
    c.Logout: accounts.logout,
}
EVENT_HANDLERS: dict[type, list[Callable[..., Any]]] = {}


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class Hub:
    """Everything a process needs, built once."""

    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    bus: MessageBus
    tokens: TokenIssuer
    vault: PiiVault
    clock: Clock
    health: HealthBoard

    def uow(self) -> UnitOfWork:
        return SqlUnitOfWork(self.sessions)

    async def close(self) -> None:
        await self.engine.dispose()


def make_vault(settings: Settings) -> PiiVault:
    sec = settings.security
    keys = {key_id: base64.b64decode(v.get_secret_value()) for key_id, v in sec.pii_keys.items()}
    return PiiVault(keys, sec.pii_active_key, sec.blind_index_key.get_secret_value().encode())


def bootstrap(settings: Settings, *, clock: Clock = utc_now,
              engine: AsyncEngine | None = None) -> Hub:
    start_mappers()
    engine = engine or make_engine(settings.database_url, pool_size=settings.database.pool_size,
                                   echo=settings.database.echo)
    sessions = make_sessions(engine)
    tokens = TokenIssuer(settings.security.jwt_secret.get_secret_value(),
                         timedelta(minutes=settings.security.access_token_minutes))
    vault = make_vault(settings)
    dependencies: dict[str, Any] = {
        "clock": clock, "tokens": tokens, "vault": vault,
        "refresh_ttl": timedelta(days=settings.security.refresh_token_days),
    }
    bus = MessageBus(
        uow_factory=lambda: SqlUnitOfWork(sessions),
        command_handlers={kind: _inject(h, dependencies) for kind, h in COMMAND_HANDLERS.items()},
        event_handlers={kind: [_inject(h, dependencies) for h in hs]
                        for kind, hs in EVENT_HANDLERS.items()},
    )
    health = HealthBoard()
    health.register("database", partial(database_health, engine), critical=True)
    return Hub(settings, engine, sessions, bus, tokens, vault, clock, health)


async def database_health(engine: AsyncEngine) -> dict[str, Any]:
    """Reachable, and migrated to the revision this code expects."""
    async with engine.connect() as connection:
        found = await connection.run_sync(
            lambda sync: MigrationContext.configure(sync).get_current_revision())
    expected = migrate.head()
    if found != expected:
        return {"status": "down", "detail": f"schema at {found}, expected {expected}: "
                                            "run `hub db upgrade`"}
    return {"status": "ok", "detail": f"schema at {found}", "backend": engine.dialect.name}


def _inject(handler: Callable[..., Any], dependencies: dict[str, Any]) -> Handler:
    """Bind the handler's keyword dependencies by parameter name (cosmicpython's bootstrap)."""
    wanted = inspect.signature(handler).parameters
    bound = {name: value for name, value in dependencies.items() if name in wanted}
    return partial(handler, **bound)
