"""The import routes: templates, who may import into which site (policy, object scope), form
fields that are not declared, kinds that do not exist yet, and meter readings."""

from __future__ import annotations

import io
from datetime import date
from decimal import Decimal

import openpyxl
import pytest

from hub.domain.billing.ledger import OPENING_PERIOD, BalanceEntry, BalanceKind, Bill
from hub.imports.parse import MAX_BYTES, parse
from tests.integration.api.conftest import Api
from tests.integration.api.probing import snapshot
from tests.integration.imports.sheets import as_file, upload

NOWHERE = 2_000_000_000
UNITS = [["楼栋", "单元", "楼层", "建筑面积", "套内面积"], ["b1", "1-1501", 15, "80", "60"]]


@pytest.mark.parametrize("kind", ["buildings", "units", "residents", "meter-readings",
                                  "opening-balances"])
async def test_templates_download_and_parse_clean(api: Api, kind: str) -> None:
    auth = api.world.auth("admin")
    as_csv = await api.client.get(f"/api/v1/imports/templates/{kind}.csv", headers=auth)
    as_xlsx = await api.client.get(f"/api/v1/imports/templates/{kind}.xlsx", headers=auth)
    assert as_csv.status_code == as_xlsx.status_code == 200
    assert as_csv.headers["content-type"].startswith("text/csv")
    assert as_csv.content.startswith(b"\xef\xbb\xbf")
    sheet = openpyxl.load_workbook(io.BytesIO(as_xlsx.content)).worksheets[0]
    assert sheet.max_row == 2
    for name, data in ((f"{kind}.csv", as_csv.content), (f"{kind}.xlsx", as_xlsx.content)):
        parsed = parse(kind, data, name)
        assert (parsed.count, len(parsed.rows), parsed.problems) == (1, 1, []), name


async def test_another_sites_manager_finds_no_site_and_nothing_changes(api: Api) -> None:
    w = api.world
    before = await snapshot(api)
    name, data = as_file(UNITS, "csv")
    foreign = await upload(api, "units", w.lakeside, name, data, commit=True,
                           username="river-manager")
    absent = await upload(api, "units", NOWHERE, name, data, commit=True,
                          username="river-manager")
    assert foreign.status_code == absent.status_code == 404
    assert foreign.text.replace(str(w.lakeside), "?") == absent.text.replace(str(NOWHERE), "?")
    own = await upload(api, "units", w.riverside, name, data, username="river-manager")
    assert [p["reason"] for p in own.json()["problems"]] == \
        ["no building with this code in the site"]  # b1 is lakeside's, unseen from riverside
    assert await snapshot(api) == before


async def test_building_scoped_staff_cannot_import_a_site(api: Api) -> None:
    w = api.world
    promoted = await api.client.patch(f"/api/v1/staff/{w.accounts['b2-tech']}",
                                      headers=w.auth("admin"), json={"role": "manager"})
    assert promoted.status_code == 204
    before = await snapshot(api)
    response = await upload(api, "units", w.lakeside, *as_file(UNITS, "csv"), commit=True,
                            username="b2-tech")
    assert response.status_code == 403
    assert "whole site" in response.json()["error"]["message"]
    assert await snapshot(api) == before


@pytest.mark.parametrize(("username", "kind", "status"), [
    ("desk", "units", 403), ("desk", "residents", 200), ("finance", "residents", 403),
    ("finance", "meter-readings", 200), ("tech", "buildings", 403), ("alice", "units", 403),
])
async def test_roles_import_what_the_policy_grants(api: Api, username: str, kind: str,
                                                   status: int) -> None:
    w = api.world
    response = await upload(api, kind, w.lakeside, "x.csv", b"a,b\n", username=username)
    assert response.status_code == status, response.text


async def test_an_undeclared_form_field_is_refused_by_name(api: Api) -> None:
    w = api.world
    before = await snapshot(api)
    name, data = as_file(UNITS, "csv")
    response = await api.client.post(
        "/api/v1/imports/units", params={"site_id": w.lakeside, "commit": "true"},
        files={"file": (name, data)}, data={"site_id": str(w.riverside)},
        headers=w.auth("manager"))
    assert response.status_code == 422
    assert response.json()["error"]["field"] == "body.site_id"
    assert await snapshot(api) == before


async def test_a_file_over_the_limit_is_refused(api: Api) -> None:
    w = api.world
    over_import = b"a" * (MAX_BYTES + 1)  # under the API's upload limit, over the import's
    response = await upload(api, "units", w.lakeside, "big.csv", over_import)
    assert response.status_code == 413
    assert f"larger than {MAX_BYTES} bytes" in response.json()["error"]["message"]
    over_api = b"a" * (api.settings.api.max_upload_bytes + 1)
    assert (await upload(api, "units", w.lakeside, "big.csv", over_api)).status_code == 413


async def test_meter_readings_import_with_their_period_once(api: Api) -> None:
    w = api.world
    rows = [["楼栋", "单元", "表计", "读数", "抄表日期", "账期"],
            ["b1", "1-0301", "水表", "1234.5", "2026-12-02", ""],  # early December: November
            ["b1", "1-0302", "电表", 5678, "2026-11-28", "2026-11"],
            ["b1", "1-0302", "电表", 5678, "2026-11-28", "2026-11"],  # twice: a duplicate
            ["b2", "2-0301", "water", "-3", "2026-11-28", "2026-Q4"]]
    report = (await upload(api, "meter-readings", w.lakeside, *as_file(rows, "xlsx"),
                           username="finance")).json()
    assert [(p["row"], p["column"], p["reason"]) for p in report["problems"]] == [
        (4, "账期", "duplicate: the same record as row 3"),
        (5, "读数", "must not be negative"),
        (5, "账期", "a reading bills one month, like 2026-11")]
    clean = rows[:3]
    done = await upload(api, "meter-readings", w.lakeside, *as_file(clean, "xlsx"),
                        commit=True, username="finance")
    assert (done.json()["created"], done.json()["committed"]) == (2, True), done.text
    listed = (await api.client.get("/api/v1/meter-readings", params={"unit_id": w.unit_a},
                                   headers=w.auth("finance"))).json()["items"]
    water = [r for r in listed if r["meter"] == "water"]
    assert [(r["period"], Decimal(r["value"]), r["source"]) for r in water] == \
        [("2026-11", Decimal("1234.5"), "import")]
    again = (await upload(api, "meter-readings", w.lakeside, *as_file(clean, "xlsx"),
                          commit=True, username="finance")).json()
    assert (again["created"], again["unchanged"]) == (0, 2)


async def test_buildings_import_and_a_changed_one_is_named(api: Api) -> None:
    w = api.world
    rows = [["楼栋编号", "楼栋名称", "楼层数"], ["B3", "3号楼", 11], ["b4", "4号楼", "26"],
            ["b1", "Building 1", 18], ["b2", "二号楼", 18], ["b 5", "5号楼", 0]]
    report = (await upload(api, "buildings", w.lakeside, *as_file(rows, "xlsx"))).json()
    assert [(p["row"], p["column"], p["reason"][:40]) for p in report["problems"]] == [
        (5, "楼栋名称", "building b2 exists with name Building 2;"),
        (6, "楼栋编号", "code must match [a-z0-9][a-z0-9-]{0,62}"),
        (6, "楼层数", "floors must be at least 1")]
    clean = rows[:4]
    done = await upload(api, "buildings", w.lakeside, *as_file(clean, "csv"), commit=True)
    assert (done.json()["created"], done.json()["unchanged"]) == (2, 1), done.text
    listed = (await api.client.get("/api/v1/buildings", params={"site_id": w.lakeside},
                                   headers=w.auth("admin"))).json()["items"]
    assert {b["code"]: b["floors"] for b in listed} == {"b1": 18, "b2": 18, "b3": 11, "b4": 26}


async def test_opening_balances_import_through_billing_once(api: Api) -> None:
    w = api.world
    rows = [["楼栋", "单元", "期初欠费", "期初预存", "截至日期"],
            ["b1", "1-0301", "1280.50", "", "2026-06-01"],  # arrears: a bill of 'opening'
            ["b1", "1-0302", "", 300, "2026/6/1"],  # paid ahead: prepaid balance
            ["b2", "2-0301", "10", "20", "2026-06-01"],  # both
            ["b2", "2-0301", "", "", "2026-06-01"],  # neither
            ["b1", "1-9999", "5.5", "", "2026-06-01"],  # no such unit
            ["b1", "1-0302", "-3", "", "2026-06-01"]]  # negative
    report = (await upload(api, "opening-balances", w.lakeside, *as_file(rows, "xlsx"),
                           username="finance")).json()
    assert [(p["row"], p["column"], p["value"], p["reason"]) for p in report["problems"]] == [
        (4, "期初欠费", "10", "give either 期初欠费 or 期初预存, more than zero"),
        (5, "期初预存", "", "give either 期初欠费 or 期初预存, more than zero"),
        (6, "单元", "1-9999", "no unit with this number in building b1"),
        (7, "期初欠费", "-3", "must not be negative")]
    clean = rows[:3]
    done = await upload(api, "opening-balances", w.lakeside, *as_file(clean, "csv"),
                        commit=True, username="finance")
    assert (done.json()["created"], done.json()["committed"]) == (2, True), done.text
    async with api.hub.uow() as uow:
        arrears = await uow.find_one(Bill, unit_id=w.unit_a, period=OPENING_PERIOD)
        credit = [e for e in await uow.find(BalanceEntry, unit_id=w.unit_b)
                  if e.kind == BalanceKind.OPENING]
    assert arrears is not None and (arrears.total, arrears.due_date) == \
        (Decimal("1280.50"), date(2026, 6, 1))
    assert [e.amount for e in credit] == [Decimal("300.00")]
    again = (await upload(api, "opening-balances", w.lakeside, *as_file(clean, "csv"),
                          commit=True, username="finance")).json()
    assert (again["created"], again["unchanged"]) == (0, 2)
    changed = [clean[0], ["b1", "1-0301", "1300", "", "2026-06-01"]]
    report = (await upload(api, "opening-balances", w.lakeside, *as_file(changed, "csv"),
                           username="finance")).json()
    assert [p["reason"] for p in report["problems"]] == [
        "the opening balance of unit 1-0301 of b1 exists with owed 1280.50; an import does "
        "not change existing records"]
