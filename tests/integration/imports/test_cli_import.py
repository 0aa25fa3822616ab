"""`hub import KIND FILE` as an operator runs it: one line per problem, exit 1 on any, a dry
run by default, `--commit` writes all rows or none, and the same file again creates nothing."""

from __future__ import annotations

import sqlite3
from decimal import Decimal
from pathlib import Path

import pytest

from hub.bootstrap import bootstrap
from hub.domain import commands as c
from hub.domain.accounts import SYSTEM
from hub.settings import load_settings
from hub.store.migrate import upgrade_async
from tests.integration.api.world import valid_national_id
from tests.integration.imports.sheets import csv_bytes, xlsx
from tests.integration.test_cli import demo_config, hub

BAD_ID = "440106199001011230"  # check digit 5
GOOD_ID = valid_national_id("32010219880808345")


@pytest.fixture
async def seeded(tmp_path: Path) -> Path:
    """A migrated demo database with two sites; lakeside has building b1 with unit 1-0101."""
    config = demo_config(tmp_path / "data")
    settings = load_settings(config)
    await upgrade_async(settings.database_url)
    app = bootstrap(settings)
    try:
        lakeside = await app.bus.handle(c.CreateSite(SYSTEM, code="lakeside", name="Lakeside"))
        await app.bus.handle(c.CreateSite(SYSTEM, code="riverside", name="Riverside"))
        b1 = await app.bus.handle(c.CreateBuilding(SYSTEM, site_id=lakeside, code="b1",
                                                   name="Building 1", floors=18))
        await app.bus.handle(c.CreateUnit(SYSTEM, building_id=b1, number="1-0101", floor=1,
                                          gross_area=Decimal("80"),
                                          inner_area=Decimal("60")))
    finally:
        await app.close()
    return config


def _count(config: Path, table: str) -> int:
    settings = load_settings(config)
    db_file = settings.database_url.split("///", 1)[1]
    with sqlite3.connect(db_file) as connection:
        return int(connection.execute(f"SELECT count(*) FROM {table}").fetchone()[0])


async def test_problems_are_printed_one_per_line_and_exit_1(seeded: Path, tmp_path: Path) \
        -> None:
    sheet = tmp_path / "住户.xlsx"
    sheet.write_bytes(xlsx([
        ["姓名", "身份证号", "楼栋", "单元", "关系", "入住日期"],
        ["赵敏", GOOD_ID, "b1", "1-0101", "业主", "2024-03-01"],
        ["钱多多", BAD_ID, "b1", "1-0101", "家属", "2024-03-01"],
        ["孙悟空", "", "b9", "9-0101", "租户", "01/03/2024"]]))
    before = _count(seeded, "residents")
    done = hub("import", "residents", str(sheet), "--site", "lakeside", "--commit",
               "-c", str(seeded), cwd=tmp_path)
    print(done.stdout)
    assert done.returncode == 1, done.stderr
    assert done.stdout.splitlines() == [
        f"{sheet}:row 3: 身份证号: 4401**********1230: national_id check digit does not "
        "match (GB 11643)",
        f"{sheet}:row 4: 楼栋: b9: no building with this code in the site",
        f"{sheet}:row 4: 入住日期: 01/03/2024: not a date: write YYYY-MM-DD, YYYY/MM/DD or an "
        "Excel date cell",
        "residents: 3 rows, 1 valid, 3 problems; would create 1, unchanged 0; nothing written"]
    assert BAD_ID not in done.stdout + done.stderr and GOOD_ID not in done.stdout + done.stderr
    assert _count(seeded, "residents") == before


async def test_a_clean_file_dry_runs_commits_and_reimports(seeded: Path, tmp_path: Path) \
        -> None:
    sheet = tmp_path / "units.csv"
    sheet.write_bytes(csv_bytes([["楼栋", "单元", "楼层", "建筑面积", "套内面积"],
                                 ["b1", "1-0201", 2, "80.00", "60.00"],
                                 ["b1", "1-0202", 2, "95.50", "71.25"],
                                 ["b1", "1-0101", 1, "80", "60"]], "gb18030"))
    dry = hub("import", "units", str(sheet), "--site", "lakeside", "-c", str(seeded),
              cwd=tmp_path)
    assert (dry.returncode, dry.stdout.strip()) == (
        0, "units: 3 rows, 3 valid, 0 problems; would create 2, unchanged 1; nothing written")
    assert _count(seeded, "units") == 1
    first = hub("import", "units", str(sheet), "--site", "lakeside", "--commit",
                "-c", str(seeded), cwd=tmp_path)
    again = hub("import", "units", str(sheet), "--site", "lakeside", "--commit",
                "-c", str(seeded), cwd=tmp_path)
    print(first.stdout, again.stdout)
    assert (first.returncode, first.stdout.strip()) == (
        0, "units: 3 rows, 3 valid, 0 problems; created 2, unchanged 1; imported")
    assert (again.returncode, again.stdout.strip()) == (
        0, "units: 3 rows, 3 valid, 0 problems; created 0, unchanged 3; imported")
    assert _count(seeded, "units") == 3


async def test_refusals_before_reading_exit_2_with_the_reason(seeded: Path, tmp_path: Path) \
        -> None:
    sheet = tmp_path / "cars.csv"
    sheet.write_text("车牌,车位\n沪A12345,B1-001\n", encoding="utf-8")
    owners = hub("import", "owners", str(sheet), "-c", str(seeded), cwd=tmp_path)
    assert owners.returncode == 2
    assert "no import of 'owners'" in owners.stderr
    no_site = hub("import", "units", str(sheet), "-c", str(seeded), cwd=tmp_path)
    assert no_site.returncode == 2
    assert "--site: say which site to import into (lakeside, riverside)" in no_site.stderr
