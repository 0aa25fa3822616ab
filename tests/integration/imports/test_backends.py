"""The import's one transaction on SQLite, PostgreSQL and MariaDB: a commit writes every row,
a refusal at the last row leaves none, and the same file again creates nothing."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from hub.bootstrap import Hub, bootstrap
from hub.domain import commands as c
from hub.domain.accounts import SYSTEM
from hub.domain.national_id import check_digit
from hub.imports.columns import Header
from hub.imports.parse import Parsed, parse
from hub.imports.rows import UnitRow
from hub.imports.service import RunImport
from hub.settings import load_settings
from hub.store.db import make_engine
from hub.store.tables import residencies, residents, units
from tests.integration.store.conftest import database_url, empty_database_url

__all__ = ["database_url", "empty_database_url"]

ID = "32010219880808345" + check_digit("32010219880808345")
UNITS = ("楼栋,单元,楼层,建筑面积,套内面积\n"
         "b1,1-0201,2,80.00,60.00\nb1,1-0202,2,95.50,71.25\nb1,1-0101,1,80,60\n").encode()
RESIDENTS = ("姓名,身份证号,手机,楼栋,单元,关系,入住日期\n"
             f"赵敏,{ID},13900001111,b1,1-0201,业主,2024-03-01\n"
             f"赵敏,{ID},,b1,1-0202,业主,2024-03-01\n"
             "赵小敏,,,b1,1-0201,家属,2024-03-01\n").encode()


@pytest.fixture
async def hub(database_url: str) -> AsyncIterator[Hub]:
    settings = load_settings(None, mode="demo", database={"url": database_url})
    app = bootstrap(settings, engine=make_engine(database_url))
    try:
        yield app
    finally:
        await app.close()


async def _site(hub: Hub) -> int:
    site = int(await hub.bus.handle(c.CreateSite(SYSTEM, code="lakeside", name="Lakeside")))
    b1 = await hub.bus.handle(c.CreateBuilding(SYSTEM, site_id=site, code="b1",
                                               name="Building 1", floors=18))
    await hub.bus.handle(c.CreateUnit(SYSTEM, building_id=b1, number="1-0101", floor=1,
                                      gross_area=Decimal("80"), inner_area=Decimal("60")))
    return site


async def _count(hub: Hub, table: object) -> int:
    async with hub.engine.connect() as connection:
        return int(await connection.scalar(select(func.count()).select_from(table)) or 0)


async def test_units_and_residents_import_once_in_one_transaction(hub: Hub) -> None:
    site = await _site(hub)
    dry = await hub.bus.handle(RunImport(SYSTEM, site, parse("units", UNITS, "u.csv")))
    assert (dry.problems, dry.created, dry.unchanged, await _count(hub, units)) == ([], 2, 1, 1)
    done = await hub.bus.handle(RunImport(SYSTEM, site, parse("units", UNITS, "u.csv"),
                                          commit=True))
    assert (done.created, done.unchanged, done.committed) == (2, 1, True)
    people = await hub.bus.handle(RunImport(SYSTEM, site, parse("residents", RESIDENTS,
                                                                "r.csv"), commit=True))
    assert (people.problems, people.created) == ([], 3)
    assert (await _count(hub, residents), await _count(hub, residencies)) == (2, 3)
    async with hub.engine.connect() as connection:
        sealed = (await connection.execute(select(residents.c.national_id_cipher,
                                                  residents.c.national_id_index))).all()
    assert ID not in str(sealed)
    assert hub.vault.blind_index(ID) in {row.national_id_index for row in sealed}
    again = [await hub.bus.handle(RunImport(SYSTEM, site, parse(kind, data, "f.csv"),
                                            commit=True))
             for kind, data in (("units", UNITS), ("residents", RESIDENTS))]
    assert [(r.created, r.unchanged) for r in again] == [(0, 3), (0, 3)]
    assert (await _count(hub, units), await _count(hub, residents)) == (3, 2)


async def test_a_refusal_at_the_last_row_leaves_no_row_written(hub: Hub) -> None:
    site = await _site(hub)

    def unit(number: int, inner: str) -> UnitRow:
        return UnitRow(number, "b1", f"1-03{number:02d}", 3, Decimal("80"), Decimal(inner),
                       None, None, None)

    parsed = Parsed("units", rows=[unit(n, "60") for n in range(2, 12)] + [unit(12, "90")],
                    count=11, header=Header({}, {}))
    report = await hub.bus.handle(RunImport(SYSTEM, site, parsed, commit=True))
    assert [(p.row, p.reason) for p in report.problems] == [
        (12, "inner_area cannot exceed gross_area")]
    assert (report.created, report.committed, await _count(hub, units)) == (0, False, 1)


async def test_two_imports_of_one_file_at_once_write_it_once(hub: Hub) -> None:
    site = await _site(hub)
    results = await asyncio.gather(
        *(hub.bus.handle(RunImport(SYSTEM, site, parse("units", UNITS, "u.csv"), commit=True))
          for _ in range(2)), return_exceptions=True)
    outcomes = sorted(repr(r)[:80] if isinstance(r, BaseException) else
                      (r.created, r.committed, [p.reason for p in r.problems])
                      for r in results)
    print(f"\n{hub.engine.dialect.name}: {outcomes}")
    assert await _count(hub, units) == 3
    assert sum(1 for r in results if not isinstance(r, BaseException) and r.committed) >= 1
