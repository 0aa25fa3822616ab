"""What the CLI starts: the demo, the production process, and one-off administrative jobs."""

from __future__ import annotations

import logging
import shutil
from functools import partial
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from hub import demo
from hub.api.app import create_app
from hub.bootstrap import Hub, bootstrap
from hub.demo_parking import seed_parking
from hub.devices.broker import EmbeddedBroker
from hub.devices.modbus.registers import RegisterMapError
from hub.devices.registry_config import (
    RegistryConfigError,
    apply_devices,
    load_devices,
    with_ports,
)
from hub.domain import commands as c
from hub.domain.accounts import SYSTEM, Role
from hub.domain.audit import AuditAction, entry_by
from hub.domain.errors import Conflict, DomainError
from hub.domain.property import Site
from hub.domain.registry import Protocol
from hub.domain.residents import Resident
from hub.handlers.residents import context
from hub.rules.loader import RuleError
from hub.runtime import NotReady, require_current_schema, run_hub
from hub.settings import RulesSettings, Settings
from hub.store import migrate
from hub.store.tables import residents
from simulators.modbus.fleet import Fleet, FleetPlan
from simulators.mqtt.runner import community, run_scenario

log = logging.getLogger(__name__)

DEMO_FAULT_EVERY_S = 180.0  # "a newcomer sees work orders open within a minute" (later issues)
REGISTER_ATTEMPTS = 3  # workers started together: see _register_devices


async def run_demo(settings: Settings, *, fresh: bool = False) -> int | None:
    """The whole hub in one process on embedded defaults, with a simulated community.
    Returns the signal that stopped it."""
    if fresh and settings.data_dir.exists():
        shutil.rmtree(settings.data_dir)
    await migrate.upgrade_async(settings.database_url)
    async with EmbeddedBroker() as broker:
        # amqtt speaks MQTT 3.1.1 only: persistent sessions, no shared subscriptions.
        settings = settings.model_copy(update={"mqtt": settings.mqtt.model_copy(
            update={"url": broker.url, "protocol": "3.1.1"})})
        if settings.rules.directory == RulesSettings().directory:  # the shipped packs
            settings = settings.model_copy(update={"rules": settings.rules.model_copy(
                update={"directory": str(shipped("rules"))})})
        hub = bootstrap(settings, registers=shipped("registers"))
        fleet = Fleet(FleetPlan(port_base=0, fault_every_s=DEMO_FAULT_EVERY_S))
        try:
            await fleet.start()  # the Modbus lifts and meters, on free ports
            await _seed_once(hub)
            await _register_devices(hub, shipped("devices.yaml"), source="demo",
                                    ports=_fleet_ports(fleet))
            if await seed_parking(hub.bus, hub.uow, demo.SITE_CODE, hub.clock()):
                print("Seeded the car park: lanes at the north and south gates, residents' "
                      "cars, a monthly pass, the temporary tariff, door cards.")
            hub.health.beat("mqtt_broker", "ok", f"embedded at {broker.url}")
            _banner(settings, broker.url)
            simulated = community(demo.SITE_CODE, fault_every=DEMO_FAULT_EVERY_S)
            return await run_hub(hub, create_app(settings, hub), {
                "simulators.mqtt": partial(run_scenario, simulated, broker.url,
                                           protocol="3.1.1"),
                "simulators.modbus.faults": fleet.inject_faults})
        finally:
            await fleet.stop()
            await hub.close()
            print("Estate Hub demo stopped.", flush=True)


def _fleet_ports(fleet: Fleet) -> dict[str, int]:
    """The demo's Modbus devices (config/devices.yaml: lifts on one gateway as units 1-4,
    meters on another) moved to the ports the simulated gateways actually listen on."""
    specs = load_devices(shipped("devices.yaml"), shipped("registers"))
    ports = {}
    for spec in specs:
        if spec.protocol != Protocol.MODBUS:
            continue
        unit = spec.connection.unit if spec.connection else 1
        for station, kinds in zip(fleet.stations, fleet.kinds, strict=True):
            if kinds.get(unit) == spec.register_map:
                ports[spec.code] = station.port
                break
    return ports


async def _seed_once(hub: Hub) -> None:
    async with hub.uow() as uow:
        seeded = await uow.find_one(Site, code=demo.SITE_CODE) is not None
    if not seeded:
        print("Seeding Lakeside Gardens (3 buildings, 120 units, residents, staff)...")
        await demo.seed(hub.bus)


async def _register_devices(hub: Hub, path: Path, *, source: str,
                            ports: dict[str, int] | None = None) -> None:
    specs = load_devices(path, path.parent / "registers")
    if ports:
        specs = with_ports(specs, ports)
    for attempt in range(1, REGISTER_ATTEMPTS + 1):
        try:
            async with hub.uow() as uow:
                await apply_devices(uow, specs, source=source, clock=hub.clock)
            break
        except (IntegrityError, Conflict):
            # Workers started together each find a device missing and insert it; the later
            # insert fails. Applied again, the file finds the devices and changes nothing.
            if attempt == REGISTER_ATTEMPTS:
                raise
            log.info("devices of %s registered meanwhile by another worker; applying again",
                     source)
    hub.pipeline.registry_changed()


def shipped(name: str) -> Path:
    """A file of the repository's config/ (the demo's), wherever the command runs from."""
    beside_package = Path(__file__).resolve().parent.parent / "config" / name
    return beside_package if beside_package.exists() else Path("config") / name


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
    devices_file = Path(settings.ingest.devices_file) if settings.ingest.devices_file else None
    registers = devices_file.parent / "registers" if devices_file else Path("config/registers")
    try:
        hub = bootstrap(settings, registers=registers)
    except RegisterMapError as err:
        log.error("not starting: register maps:\n%s", err)
        return 2
    except RuleError as err:
        log.error("not starting: rules:\n%s", err)
        return 2
    try:
        await require_current_schema(hub)
        if devices_file is not None and devices_file.exists():
            await _register_devices(hub, devices_file, source=str(devices_file))
        if not settings.mqtt.url:
            log.warning("mqtt.url is empty: no MQTT device will be heard until it is set")
        received = await run_hub(hub, create_app(settings, hub))
        return 128 + received if received else 0
    except NotReady as err:
        log.error("not starting: %s", err.message)
        return 1
    except RegistryConfigError as err:
        log.error("not starting: device registry:\n%s", err)
        return 2
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
