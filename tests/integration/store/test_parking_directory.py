"""The registry's answers to the gate over SQL, on each backend: lanes by camera, lots, a
plate's standing (in the site's calendar, with its household) and the offline allow-list."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import pytest_asyncio
from sqlalchemy.ext.asyncio import AsyncEngine

from hub.domain.parking.registry import (
    Lane,
    Lot,
    MonthlyPass,
    PlateList,
    PlateListEntry,
    Space,
    SpaceKind,
    Vehicle,
)
from hub.domain.parking.standing import Direction, LaneInfo, PlateStanding, Standing
from hub.domain.parking.tariff import PlateColor, VehicleClass
from hub.domain.property import Building, Site, Unit
from hub.domain.registry import Device
from hub.domain.residents import Relation, Residency, Resident
from hub.store.db import make_engine, make_sessions
from hub.store.mapping import start_mappers
from hub.store.parking_directory import SqlParkingDirectory
from hub.store.schema import metadata
from hub.store.uow import SqlUnitOfWork
from tests.integration.store.conftest import BACKENDS, fresh_database
from tests.services import require_service

# The tests only read: one database per backend for the module, seeded once (the schema from
# the table definitions; the migrations are tested against them in test_migrations.py).
pytestmark = pytest.mark.asyncio(loop_scope="module")

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOON = datetime(2026, 11, 27, 12, 0, tzinfo=SHANGHAI)
RESIDENT_CAR, PASS_CAR, GRACE_CAR, BANNED_CAR, GUEST_CAR = (
    "沪A12345", "沪B22222", "沪C33333", "沪D44444", "沪E55555")


class _Visitors:
    def __init__(self) -> None:
        self.asked: list[str] = []

    async def visitor_vehicle(self, site_id: int, plate: str, at: datetime
                              ) -> PlateStanding | None:
        self.asked.append(plate)
        if plate != GUEST_CAR:
            return None
        return PlateStanding(plate, Standing.VISITOR, ("visitor pass 4",), visitor_pass_id=4)


async def _lakeside(new_uow: Callable[[], SqlUnitOfWork]) -> dict[str, int]:
    ids: dict[str, int] = {}
    async with new_uow() as uow:
        site = Site(code="lakeside", name="湖畔花园")
        uow.add(site)
        await uow.flush()
        assert site.id is not None
        building = Building(site_id=site.id, code="b3", name="3号楼", floors=18)
        uow.add(building)
        await uow.flush()
        assert building.id is not None
        unit = Unit(site_id=site.id, building_id=building.id, number="3-1-201", floor=2,
                    gross_area=Decimal("90"), inner_area=Decimal("75"))
        wang, li = Resident(site_id=site.id, name="王"), Resident(site_id=site.id, name="李")
        camera = Device(site_id=site.id, code="cam-north-in", kind="camera")
        gate = Device(site_id=site.id, code="gate-north", kind="gate")
        for thing in (unit, wang, li, camera, gate):
            uow.add(thing)
        await uow.flush()
        assert unit.id and wang.id and li.id and camera.id and gate.id
        uow.add(Residency(wang.id, unit.id, Relation.OWNER, date(2020, 1, 1)))
        uow.add(Residency(li.id, unit.id, Relation.TENANT, date(2020, 1, 1), date(2026, 6, 1)))
        lot = Lot(site_id=site.id, code="north", name="北区", temporary_capacity=40)
        uow.add(lot)
        await uow.flush()
        assert lot.id is not None
        basement = Lot(site_id=site.id, code="b1", name="B1", parent_id=lot.id)
        lane = Lane(site_id=site.id, lot_id=lot.id, code="north-in", direction=Direction.IN,
                    camera_device_id=camera.id, barrier_device_id=gate.id,
                    plate_colors=["green", "blue"])
        space = Space(site_id=site.id, lot_id=lot.id, code="B1-023", kind=SpaceKind.OWNED,
                      unit_id=unit.id)
        uow.add(basement)
        uow.add(lane)
        uow.add(space)
        await uow.flush()
        assert space.id is not None and basement.id is not None
        uow.add(Vehicle(site_id=site.id, unit_id=unit.id, plate=RESIDENT_CAR,
                        plate_color=PlateColor.BLUE, vehicle_class=VehicleClass.SMALL,
                        resident_id=wang.id, space_id=space.id))
        uow.add(MonthlyPass(site_id=site.id, plate=PASS_CAR, valid_from=date(2026, 11, 1),
                            valid_to=date(2026, 11, 30), lot_ids=[basement.id]))
        uow.add(MonthlyPass(site_id=site.id, plate=PASS_CAR, valid_from=date(2025, 1, 1),
                            valid_to=date(2025, 1, 31)))
        uow.add(MonthlyPass(site_id=site.id, plate=GRACE_CAR, valid_from=date(2026, 10, 25),
                            valid_to=date(2026, 11, 25), grace_days=3))
        uow.add(PlateListEntry(site_id=site.id, list=PlateList.BLACK, plate=BANNED_CAR,
                               reason="rammed the barrier",
                               valid_from=NOON - timedelta(days=30)))
        uow.add(PlateListEntry(site_id=site.id, list=PlateList.WHITE, plate=BANNED_CAR,
                               reason="old entry", valid_from=NOON - timedelta(days=60),
                               valid_to=NOON - timedelta(days=31)))
        await uow.commit()
        ids.update(site=site.id, camera=camera.id, gate=gate.id, lot=lot.id, lane=lane.id or 0,
                   basement=basement.id, wang=wang.id, li=li.id)
    return ids


Lakeside = tuple[AsyncEngine, dict[str, int]]


@pytest_asyncio.fixture(scope="module", loop_scope="module", params=BACKENDS)
async def lakeside(request: pytest.FixtureRequest,
                   tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Lakeside]:
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('directory') / 'hub.db'}"
        async for seeded in _seeded(url):
            yield seeded
        return
    async with fresh_database(require_service(request.param)) as url:
        async for seeded in _seeded(url):
            yield seeded


async def _seeded(url: str) -> AsyncIterator[Lakeside]:
    start_mappers()
    engine = make_engine(url)
    try:
        async with engine.begin() as connection:
            await connection.run_sync(metadata.create_all)
        sessions = make_sessions(engine)
        yield engine, await _lakeside(lambda: SqlUnitOfWork(sessions))
    finally:
        await engine.dispose()


def _directory(engine: AsyncEngine, visitors: _Visitors | None = None) -> SqlParkingDirectory:
    return SqlParkingDirectory(make_sessions(engine), visitors)


async def test_a_lane_is_found_by_its_camera_and_code(
        lakeside: Lakeside) -> None:
    engine, ids = lakeside
    directory = _directory(engine)

    lane = await directory.lane_of_camera(ids["camera"], "north-in")

    assert lane == LaneInfo(ids["lane"], ids["site"], ids["lot"], "north-in", Direction.IN,
                            ids["camera"], ids["gate"], None, frozenset(),
                            frozenset({PlateColor.BLUE, PlateColor.GREEN}))
    assert await directory.lane_of_camera(ids["camera"], "south-in") is None
    assert await directory.lane_of_barrier(ids["gate"], "north-in") == lane
    assert await directory.lane_of_barrier(ids["gate"], None) == lane  # its only lane
    assert await directory.lane_of_barrier(ids["gate"], "south-in") is None
    assert await directory.lane_of_barrier(ids["camera"], "north-in") is None
    assert await directory.lane_by_id(ids["lane"]) == lane
    assert await directory.lane_by_id(ids["lane"] + 100) is None
    basement = await directory.lot(ids["basement"])
    assert basement is not None and basement.parent_id == ids["lot"]
    assert (basement.code, basement.temporary_capacity, basement.tariff_id) == ("b1", 0, None)
    assert await directory.lot(ids["basement"] + 100) is None


async def test_standings_come_with_reasons_and_the_household(
        lakeside: Lakeside) -> None:
    engine, ids = lakeside
    visitors = _Visitors()
    directory = _directory(engine, visitors)

    resident = await directory.standing(ids["site"], "沪a·12345", NOON)
    assert resident.standing == Standing.REGISTERED
    assert resident.reasons == ("registered to unit 3-1-201, space B1-023 (owned)",)
    assert resident.resident_ids == (ids["wang"],)  # the tenant moved out in June
    monthly = await directory.standing(ids["site"], PASS_CAR, NOON)
    assert (monthly.standing, monthly.lot_ids) == (Standing.MONTHLY, (ids["basement"],))
    grace = await directory.standing(ids["site"], GRACE_CAR, NOON)
    assert grace.reasons == ("monthly pass 3 expired after 2026-11-25, grace day 2 of 3",)
    banned = await directory.standing(ids["site"], BANNED_CAR, NOON)
    assert banned.reasons == ("blacklisted: rammed the barrier",)
    assert visitors.asked == []  # only a car nobody else knows is a visitor's question
    guest = await directory.standing(ids["site"], GUEST_CAR, NOON)
    assert (guest.standing, guest.visitor_pass_id) == (Standing.VISITOR, 4)
    stranger = await directory.standing(ids["site"], "沪F66666", NOON)
    assert stranger.standing == Standing.TEMPORARY
    misread = await directory.standing(ids["site"], "沪F666", NOON)
    assert misread.standing == Standing.TEMPORARY and misread.reasons[0].startswith("not a")
    assert visitors.asked == [GUEST_CAR, "沪F66666"]


async def test_a_pass_ends_at_midnight_in_the_sites_time_zone(
        lakeside: Lakeside) -> None:
    engine, ids = lakeside
    directory = _directory(engine)
    last_minute = datetime(2026, 11, 30, 23, 59, tzinfo=SHANGHAI)

    assert (await directory.standing(ids["site"], PASS_CAR, last_minute)).standing \
        == Standing.MONTHLY
    assert (await directory.standing(ids["site"], PASS_CAR, last_minute
                                     + timedelta(minutes=1))).standing == Standing.TEMPORARY


async def test_the_allow_list_holds_registered_monthly_and_grace_plates(
        lakeside: Lakeside) -> None:
    engine, ids = lakeside

    allowed = await _directory(engine).allow_list(ids["site"], NOON)

    assert [(a.plate, a.standing, a.until) for a in allowed] == [
        (RESIDENT_CAR, Standing.REGISTERED, None),
        (PASS_CAR, Standing.MONTHLY, datetime(2026, 12, 1, tzinfo=SHANGHAI)),
        (GRACE_CAR, Standing.MONTHLY_GRACE, datetime(2026, 11, 29, tzinfo=SHANGHAI)),
    ]
