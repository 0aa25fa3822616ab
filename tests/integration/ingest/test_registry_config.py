"""config/devices.yaml upserted into the registry on each backend: once, idempotently."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from hub.devices.registry_config import (
    RegistryConfigError,
    apply_devices,
    load_devices,
)
from hub.domain.registry import Approval, Protocol
from hub.store.device_tables import devices
from hub.store.tables import audit_log, buildings, sites
from hub.store.uow import SqlUnitOfWork
from tests.integration.ingest.conftest import T0

SHIPPED = Path("config/devices.yaml")
NewUow = Callable[[], SqlUnitOfWork]


@pytest.fixture
async def lakeside_b1_to_b3(engine: AsyncEngine) -> int:
    async with engine.begin() as connection:
        site_id = (await connection.execute(insert(sites).values(
            code="lakeside", name="Lakeside Gardens", address="", timezone="Asia/Shanghai")
            .returning(sites.c.id))).scalar_one()
        for code in ("b1", "b2", "b3"):
            await connection.execute(insert(buildings).values(
                site_id=site_id, code=code, name=code.upper(), floors=20))
    return int(site_id)


async def _rows(engine: AsyncEngine, query: Any) -> list[Any]:
    async with engine.connect() as connection:
        return list((await connection.execute(query)).all())


async def test_the_shipped_file_is_inserted_once_and_then_left_as_it_is(
        engine: AsyncEngine, new_uow: NewUow, lakeside_b1_to_b3: int) -> None:
    specs = load_devices(SHIPPED)
    async with new_uow() as uow:
        first = await apply_devices(uow, specs, source=str(SHIPPED), clock=lambda: T0)
    async with new_uow() as uow:
        second = await apply_devices(uow, specs, source=str(SHIPPED), clock=lambda: T0)

    assert (len(first.inserted), first.updated, first.unchanged) == (20, [], 0)
    assert (second.inserted, second.updated, second.unchanged) == ([], [], 20)
    stored = {r.code: r for r in await _rows(engine, select(devices))}
    lift = stored["b3-lift-1"]
    assert (lift.kind, lift.protocol, lift.register_map, lift.timeout_s) == (
        "elevator", Protocol.MODBUS, "elevator-std", 30)
    assert lift.connection == {"host": "127.0.0.1", "port": 15020, "unit": 4,
                               "request_timeout_s": 1.0, "retries": 1}
    assert stored["gate-north"].building_id is None
    assert all(r.approval == Approval.ACTIVE for r in stored.values())
    audits = await _rows(engine, select(audit_log.c.action, audit_log.c.target,
                                        audit_log.c.detail))
    assert audits == [("config_changed", "config:devices.yaml",
                       {"inserted": "20", "updated": "0"})]


async def test_a_pending_device_listed_in_the_file_is_trusted_and_a_disabled_one_is_not(
        engine: AsyncEngine, new_uow: NewUow, lakeside_b1_to_b3: int) -> None:
    specs = load_devices(SHIPPED)
    async with new_uow() as uow:
        await apply_devices(uow, specs, source="devices.yaml", clock=lambda: T0)
    async with engine.begin() as connection:
        await connection.execute(update(devices).where(devices.c.code == "light-1")
                                 .values(approval=Approval.PENDING, name="auto"))
        await connection.execute(update(devices).where(devices.c.code == "gate-south")
                                 .values(approval=Approval.DISABLED))

    async with new_uow() as uow:
        applied = await apply_devices(uow, specs, source="devices.yaml", clock=lambda: T0)

    assert applied.updated == ["lakeside/light-1"]
    approvals: dict[str, Approval] = dict(await _rows(engine, select(
        devices.c.code, devices.c.approval).where(devices.c.code.in_(["light-1", "gate-south"]))))
    assert approvals == {"light-1": Approval.ACTIVE, "gate-south": Approval.DISABLED}


async def test_unknown_buildings_and_sites_stop_the_whole_file(
        engine: AsyncEngine, new_uow: NewUow, lakeside_b1_to_b3: int, tmp_path: Path) -> None:
    path = tmp_path / "devices.yaml"
    path.write_text("site: lakeside\ndevices:\n"
                    "  - {code: b9-lift-1, kind: elevator, building: b9}\n"
                    "  - {code: gate-east, kind: gate}\n"
                    "  - {code: r1-door-1, kind: door, site: riverside}\n", encoding="utf-8")
    with pytest.raises(RegistryConfigError) as raised:
        async with new_uow() as uow:
            await apply_devices(uow, load_devices(path), source=str(path), clock=lambda: T0)

    assert str(raised.value).splitlines() == [
        f"{path}:lakeside/b9-lift-1: building 'b9' not found in site lakeside",
        f"{path}:riverside/r1-door-1: site 'riverside' not found",
    ]
    assert await _rows(engine, select(devices)) == []
