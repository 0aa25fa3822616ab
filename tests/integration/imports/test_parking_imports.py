"""Imports of parking spaces and vehicles: every problem by row, column and value; all rows or
none; a second import of the same file creates nothing; templates that import cleanly."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from hub.bootstrap import bootstrap
from hub.domain import commands as c
from hub.domain.accounts import SYSTEM
from hub.imports.console import import_parsed, read_file, report_lines
from hub.imports.parse import parse
from hub.settings import load_settings
from hub.store.migrate import upgrade_async
from tests.integration.api.conftest import Api
from tests.integration.api.probing import snapshot
from tests.integration.imports.sheets import as_file, csv_bytes, upload
from tests.integration.parking_registry.seed import PLATE_A
from tests.integration.test_cli import demo_config

SPACES = [["车场", "车位编号", "车位类型", "楼栋", "单元", "起租日期", "到期日期"],
          ["north", "B1-101", "产权", "b1", "1-0301", None, None],
          ["north", "B1-102", "租赁", "b1", "1-0302", "2026/1/1", "2026-12-31"],
          ["north", "P-001", "公共", None, None, None, None]]
VEHICLES = [["车牌号", "楼栋", "单元", "车牌颜色", "车型", "车位"],
            ["沪A·66666", "b1", "1-0301", "蓝", "小型车", "B1-A"],
            ["沪AD12345", "b1", "1-0302", None, None, None],
            [PLATE_A, "b1", "1-0301", None, None, "B1-A"]]  # registered already: unchanged


def _problems(response: Any) -> list[tuple[int, str, str, str]]:
    return [(p["row"], p["column"], p["value"], p["reason"])
            for p in response.json()["problems"]]


@pytest.mark.parametrize("form", ["csv", "xlsx"])
async def test_spaces_dry_run_commit_and_again(api: Api, form: str) -> None:
    w = api.world
    name, data = as_file(SPACES, form)
    dry = await upload(api, "parking-spaces", w.lakeside, name, data)
    assert dry.status_code == 200, dry.text
    assert (dry.json()["created"], dry.json()["problems"]) == (3, [])
    first = await upload(api, "parking-spaces", w.lakeside, name, data, commit=True)
    again = await upload(api, "parking-spaces", w.lakeside, name, data, commit=True)
    assert (first.json()["committed"], first.json()["created"]) == (True, 3)
    assert (again.json()["created"], again.json()["unchanged"]) == (0, 3)
    rented = (await api.client.get("/api/v1/parking/spaces", params={"code": "B1-102"},
                                   headers=w.auth("manager"))).json()["items"]
    assert [(s["kind"], s["unit_id"], s["valid_from"], s["valid_to"]) for s in rented] == [
        ("rented", w.unit_b, "2026-01-01", "2026-12-31")]


async def test_every_problem_of_a_spaces_file_is_reported_and_nothing_written(api: Api) -> None:
    w = api.world
    rows = [SPACES[0],
            ["south", "S-1", "产权", "b1", "1-0301", None, None],
            ["north", "B1-201", "产权", None, None, None, None],
            ["north", "B1-202", "租赁", "b1", "1-0302", None, "2026-12-31"],
            ["north", "B1-203", "leased", "b1", "9-9999", None, None],
            ["north", "B1-204", "公共", "b1", "1-0301", None, None],
            ["north", "B1-A", "产权", "b1", "1-0302", None, None],
            ["north", "P-9", "public", None, None, None, None],
            ["north", "P-9", "public", None, None, None, None]]
    before = await snapshot(api)
    response = await upload(api, "parking-spaces", w.lakeside, *as_file(rows, "csv"),
                            commit=True)
    assert response.status_code == 422
    details = [(d["row"], d["column"], d["value"], d["message"])
               for d in response.json()["error"]["details"]]
    assert details == [
        (2, "车场", "south", "no lot with this code in the site"),
        (3, "单元", "", "an owned space needs the unit it belongs to"),
        (4, "起租日期", "", "a rented space needs valid_from"),
        (5, "车位类型", "leased", "must be one of owned, public, rented (or its Chinese name)"),
        (5, "单元", "9-9999", "no unit with this number in building b1"),
        (6, "单元", "1-0301", "a public space belongs to no unit"),
        (7, "单元", "1-0302", "space B1-A of lot north exists with unit 1-0301; an import "
                              "does not change existing records"),
        (9, "车位编号", "P-9", "duplicate: the same record as row 8"),
    ]
    assert await snapshot(api) == before


async def test_vehicles_commit_link_spaces_and_reimport_as_unchanged(api: Api) -> None:
    w = api.world
    name, data = as_file(VEHICLES, "xlsx")
    first = await upload(api, "vehicles", w.lakeside, name, data, commit=True)
    assert first.status_code == 200, first.text
    assert (first.json()["created"], first.json()["unchanged"]) == (2, 1)
    again = await upload(api, "vehicles", w.lakeside, name, data, commit=True)
    assert (again.json()["created"], again.json()["unchanged"]) == (0, 3)
    cars = (await api.client.get("/api/v1/parking/vehicles", params={"limit": 200},
                                 headers=w.auth("desk"))).json()["items"]
    by_plate = {c["plate"]: c for c in cars}
    assert (by_plate["沪A66666"]["space_id"], by_plate["沪A66666"]["unit_id"]) == \
        (w.space_a, w.unit_a)
    assert (by_plate["沪AD12345"]["plate_color"], by_plate["沪AD12345"]["new_energy"]) == \
        ("green", True)
    standing = (await api.client.get("/api/v1/parking/standing", headers=w.auth("guard"),
                                     params={"site_id": w.lakeside, "plate": "沪A66666"})).json()
    assert standing["standing"] == "registered"


async def test_every_problem_of_a_vehicles_file_is_reported(api: Api) -> None:
    w = api.world
    rows = [VEHICLES[0],
            ["沪O12345", "b1", "1-0301", None, None, None],
            ["沪B77777", "b1", "1-0302", "粉", None, "B1-A"],
            ["沪B88888", "b1", "1-0302", None, None, "B1-ZZZ"],
            [PLATE_A, "b1", "1-0302", None, None, None],
            ["沪B99999", "b9", "1-0101", None, None, None],
            ["沪B66666", "b1", "1-0302", None, None, "B1-A"],
            ["沪b 66666", "b1", "1-0302", None, None, None]]
    before = await snapshot(api)
    dry = await upload(api, "vehicles", w.lakeside, *as_file(rows, "csv"))
    assert dry.status_code == 200
    assert _problems(dry) == [
        (2, "车牌号", "沪O12345", "plates never contain the letters I and O"),
        (3, "车牌颜色", "粉", "must be one of black, blue, green, white, yellow (or its "
                            "Chinese name)"),
        (4, "车位", "B1-ZZZ", "no space with this code in the site"),
        (5, "单元", "1-0302", f"vehicle {PLATE_A} exists with unit 1-0301; an import does "
                              "not change existing records"),
        (6, "楼栋", "b9", "no building with this code in the site"),
        (7, "车位", "B1-A", "not a space of unit 1-0302"),
        (8, "车牌号", "沪B66666", "duplicate: the same record as row 7"),
    ]
    assert await snapshot(api) == before


@pytest.mark.parametrize("kind", ["parking-spaces", "vehicles"])
async def test_templates_download_and_parse_clean(api: Api, kind: str) -> None:
    auth = api.world.auth("manager")
    for form in ("csv", "xlsx"):
        response = await api.client.get(f"/api/v1/imports/templates/{kind}.{form}",
                                        headers=auth)
        assert response.status_code == 200
        parsed = parse(kind, response.content, f"{kind}.{form}")
        assert (parsed.count, len(parsed.rows), parsed.problems) == (1, 1, [])


async def test_the_command_line_path_imports_vehicles_once(tmp_path: Path) -> None:
    """What `hub import vehicles FILE --site lakeside --commit` runs (hub.imports.console),
    in process: a subprocess would spend its time importing the hub."""
    settings = load_settings(demo_config(tmp_path / "data"))
    await upgrade_async(settings.database_url)
    app = bootstrap(settings)
    try:
        site = await app.bus.handle(c.CreateSite(SYSTEM, code="lakeside", name="Lakeside"))
        b1 = await app.bus.handle(c.CreateBuilding(SYSTEM, site_id=site, code="b1",
                                                   name="Building 1", floors=18))
        await app.bus.handle(c.CreateUnit(SYSTEM, building_id=b1, number="1-0101", floor=1,
                                          gross_area=Decimal("80"), inner_area=Decimal("60")))
    finally:
        await app.close()
    sheet = tmp_path / "车辆.csv"
    sheet.write_bytes(csv_bytes([["车牌号", "楼栋", "单元"], ["沪A12345", "b1", "1-0101"],
                                 ["沪AD12345", "b1", "1-0101"]], "gb18030"))
    lines = []
    for _ in range(2):
        report = await import_parsed(settings, read_file("vehicles", sheet), commit=True,
                                     site_code="lakeside")
        lines += report_lines(report, str(sheet))
    assert lines == [
        "vehicles: 2 rows, 2 valid, 0 problems; created 2, unchanged 0; imported",
        "vehicles: 2 rows, 2 valid, 0 problems; created 0, unchanged 2; imported"]
