"""The command handlers through the bus, on each backend, as an administrator would use them."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select, text

from hub.bootstrap import Hub, bootstrap
from hub.domain.accounts import Actor, Role
from hub.domain.audit import AuditAction, AuditEntry
from hub.domain.commands import (
    CreateBuilding,
    CreateSite,
    CreateUnit,
    RegisterResident,
    ResidencyIn,
    RevealNationalId,
)
from hub.domain.errors import Conflict
from hub.domain.national_id import check_digit
from hub.domain.property import Unit
from hub.domain.residents import Relation, Residency, Resident
from hub.settings import load_settings
from hub.store.db import make_engine

ADMIN = Actor(account_id=1, role=Role.ADMIN, all_sites=True)
# Shanghai Huangpu (310101), born 1990-03-07, sequence 102: its GB 11643 check character is X.
NATIONAL_ID = "31010119900307102" + check_digit("31010119900307102")


@pytest.fixture
async def hub(database_url: str) -> AsyncIterator[Hub]:
    settings = load_settings(None, mode="demo", database={"url": database_url})
    hub = bootstrap(settings, engine=make_engine(database_url))
    try:
        yield hub
    finally:
        await hub.close()


async def _lakeside_b3_1201(hub: Hub) -> tuple[int, int]:
    site_id = await hub.bus.handle(CreateSite(ADMIN, code="lakeside", name="湖畔花园 Lakeside"))
    building_id = await hub.bus.handle(
        CreateBuilding(ADMIN, site_id=site_id, code="b3", name="3号楼", floors=18))
    unit_id = await hub.bus.handle(CreateUnit(
        ADMIN, building_id=building_id, number="1201", floor=12, gross_area=Decimal("89.75"),
        inner_area=Decimal("72.30"), layout="3房2厅", orientation="S", status="occupied"))
    return site_id, unit_id


async def _register_wang(hub: Hub, site_id: int, unit_id: int) -> int:
    resident_id: int = await hub.bus.handle(RegisterResident(
        ADMIN, site_id=site_id, name="王小明", phone="13800138000", national_id=NATIONAL_ID,
        residencies=(ResidencyIn(unit_id, Relation.OWNER, date(2021, 3, 15)),)))
    return resident_id


async def test_admin_creates_site_building_and_unit_through_the_bus(hub: Hub) -> None:
    site_id, unit_id = await _lakeside_b3_1201(hub)

    async with hub.uow() as uow:
        unit = await uow.get(Unit, unit_id)
        assert unit is not None
        assert (unit.site_id, unit.number, unit.floor) == (site_id, "1201", 12)
        assert (unit.gross_area, unit.inner_area) == (Decimal("89.75"), Decimal("72.30"))


async def test_duplicate_unit_number_through_the_bus_is_a_conflict_and_stores_nothing(
        hub: Hub) -> None:
    site_id, unit_id = await _lakeside_b3_1201(hub)
    async with hub.uow() as uow:
        unit = await uow.get(Unit, unit_id)
        assert unit is not None
        building_id = unit.building_id

    with pytest.raises(Conflict):
        await hub.bus.handle(CreateUnit(
            ADMIN, building_id=building_id, number="1201", floor=3,
            gross_area=Decimal("60.00"), inner_area=Decimal("50.00")))

    async with hub.uow() as uow:
        assert [u.id for u in await uow.find(Unit, site_id=site_id)] == [unit_id]


async def test_registered_resident_lives_in_the_unit(hub: Hub) -> None:
    site_id, unit_id = await _lakeside_b3_1201(hub)

    resident_id = await _register_wang(hub, site_id, unit_id)

    async with hub.uow() as uow:
        resident = await uow.get(Resident, resident_id)
        residencies = await uow.find(Residency, resident_id=resident_id)
        assert resident is not None and resident.name == "王小明"
        assert resident.national_id_masked == NATIONAL_ID[:4] + "*" * 10 + NATIONAL_ID[-4:]
        assert [(r.unit_id, r.relation) for r in residencies] == [(unit_id, Relation.OWNER)]


async def test_national_id_is_stored_only_as_ciphertext_blind_index_and_mask(hub: Hub) -> None:
    site_id, unit_id = await _lakeside_b3_1201(hub)
    resident_id = await _register_wang(hub, site_id, unit_id)

    async with hub.engine.connect() as connection:
        row = (await connection.execute(
            text("SELECT * FROM residents WHERE id = :id"), {"id": resident_id})).mappings().one()

    assert row["national_id_cipher"] and row["national_id_index"] and row["national_id_masked"]
    assert row["national_id_index"] == hub.vault.blind_index(NATIONAL_ID)
    for column, value in row.items():
        assert NATIONAL_ID not in str(value), column
        # Nor the part the mask hides, which is what would identify the person.
        assert NATIONAL_ID[4:14] not in str(value), column


async def test_second_resident_with_the_same_national_id_in_the_site_is_a_conflict(
        hub: Hub) -> None:
    site_id, unit_id = await _lakeside_b3_1201(hub)
    await _register_wang(hub, site_id, unit_id)

    with pytest.raises(Conflict):
        await hub.bus.handle(RegisterResident(ADMIN, site_id=site_id, name="王晓明",
                                              national_id=NATIONAL_ID.lower()))  # ...102x

    async with hub.uow() as uow:
        assert [r.name for r in await uow.find(Resident, site_id=site_id)] == ["王小明"]


async def test_revealing_a_national_id_returns_it_and_writes_one_audit_row_without_it(
        hub: Hub) -> None:
    site_id, unit_id = await _lakeside_b3_1201(hub)
    resident_id = await _register_wang(hub, site_id, unit_id)

    revealed = await hub.bus.handle(
        RevealNationalId(ADMIN, resident_id=resident_id, reason="产权变更 ownership transfer"))

    assert revealed == NATIONAL_ID
    async with hub.uow() as uow:
        entries = (await uow.session.scalars(select(AuditEntry))).all()
        assert [(e.action, e.actor_id, e.target) for e in entries] == [
            (AuditAction.PII_REVEALED, 1, f"resident:{resident_id}")]
        assert NATIONAL_ID not in repr(entries[0].detail)
