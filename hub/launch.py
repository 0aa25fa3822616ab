"""What the CLI starts: the demo, the production process, and one-off administrative jobs."""

from __future__ import annotations

import logging
import shutil

from sqlalchemy import select

from hub import demo
from hub.api.app import create_app
from hub.bootstrap import bootstrap
from hub.devices.broker import EmbeddedBroker
from hub.domain import commands as c
from hub.domain.accounts import SYSTEM, Role
from hub.domain.audit import AuditAction, entry_by
from hub.domain.errors import DomainError
from hub.domain.property import Site
from hub.domain.residents import Resident
from hub.handlers.residents import context
from hub.runtime import NotReady, require_current_schema, serve_api
from hub.settings import Settings
from hub.store import migrate
from hub.store.tables import residents

log = logging.getLogger(__name__)


async def run_demo(settings: Settings, *, fresh: bool = False) -> None:
    if fresh and settings.data_dir.exists():
        shutil.rmtree(settings.data_dir)
    await migrate.upgrade_async(settings.database_url)
    hub = bootstrap(settings)
    try:
        async with hub.uow() as uow:
            seeded = await uow.find_one(Site, code=demo.SITE_CODE) is not None
        if not seeded:
            print("Seeding Lakeside Gardens (3 buildings, 120 units, residents, staff)...")
            await demo.seed(hub.bus)
        async with EmbeddedBroker() as broker:
            hub.health.beat("mqtt_broker", "ok", f"embedded at {broker.url}")
            _banner(settings, broker.url)
            await serve_api(create_app(settings, hub), settings.api.host, settings.api.port)
    finally:
        await hub.close()
        print("Estate Hub demo stopped.", flush=True)


def _banner(settings: Settings, broker_url: str) -> None:
    base = f"http://{settings.api.host}:{settings.api.port}"
    lines = [
        "", "Estate Hub demo — Lakeside Gardens 湖畔花园", "",
        f"  API          {base}/api/v1", f"  API docs     {base}/docs",
        f"  health       {base}/health", f"  MQTT broker  {broker_url} (embedded)",
        f"  database     {settings.database_url}", "", "  Logins (username / password / role):",
    ]
    lines += [f"    {login.username:<10} {login.password:<24} {login.role.value}"
              for login in demo.logins()]
    lines += ["", f"  Try: curl -s -X POST {base}/api/v1/auth/login "
                  f"-d 'username=manager&password=manager{demo.DEMO_PASSWORD_SUFFIX}'",
              "", "  Ctrl-C stops the demo.", ""]
    print("\n".join(lines), flush=True)


async def run_production(settings: Settings) -> int:
    hub = bootstrap(settings)
    try:
        await require_current_schema(hub)
        if not settings.mqtt.url:
            log.warning("mqtt.url is empty: no devices will be heard until it is set")
        await serve_api(create_app(settings, hub), settings.api.host, settings.api.port)
        return 0
    except NotReady as err:
        log.error("not starting: %s", err.message)
        return 1
    finally:
        await hub.close()


async def create_user(settings: Settings, username: str, role: str, site_codes: list[str],
                      display_name: str, password: str) -> int:
    """Raises ValueError with a message for the console on any refusal."""
    hub = bootstrap(settings)
    try:
        await require_current_schema(hub)
        staff = [r.value for r in Role if r != Role.RESIDENT]
        if role not in staff:  # resident accounts are made for a resident, through the API
            raise ValueError(f"--role: {role!r} is not one of {', '.join(staff)}")
        wanted = Role(role)
        grants = []
        async with hub.uow() as uow:
            for code in site_codes:
                site = await uow.find_one(Site, code=code)
                if site is None or site.id is None:
                    raise ValueError(f"--site: no site with code {code!r}")
                grants.append(c.GrantIn(site.id))
        account_id: int = await hub.bus.handle(c.CreateAccount(
            SYSTEM, username=username, password=password, role=wanted,
            display_name=display_name, grants=tuple(grants)))
        return account_id
    except (DomainError, NotReady) as err:
        field = {"grants": "site"}.get(err.field or "", err.field)
        where = f"--{field.replace('_', '-')}: " if field else ""
        raise ValueError(f"{where}{err.message}") from None
    finally:
        await hub.close()


async def rotate_pii(settings: Settings) -> int:
    """Re-seal every national ID under the active key, in batches, one transaction each."""
    hub = bootstrap(settings)
    changed = 0
    try:
        await require_current_schema(hub)
        last_id = 0
        while True:
            async with hub.sessions() as session, session.begin():
                batch = (await session.scalars(
                    select(Resident).where(residents.c.id > last_id)
                    .order_by(residents.c.id).limit(500))).all()
                if not batch:
                    break
                for resident in batch:
                    assert resident.id is not None
                    last_id = resident.id
                    sealed = resident.national_id_cipher
                    if sealed and hub.vault.needs_rotation(sealed):
                        plain = hub.vault.decrypt(sealed, context(resident.id))
                        resident.national_id_cipher = hub.vault.encrypt(plain,
                                                                        context(resident.id))
                        changed += 1
        async with hub.uow() as uow:
            uow.audit(entry_by(SYSTEM, hub.clock(), AuditAction.PII_KEY_ROTATED, "residents",
                               {"key": hub.vault.active_key, "changed": str(changed)}))
            await uow.commit()
        return changed
    finally:
        await hub.close()
