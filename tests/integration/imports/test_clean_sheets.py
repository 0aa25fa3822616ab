"""A clean spreadsheet imports atomically: all rows in one transaction, or none; the same
file again creates nothing; national ID numbers are stored sealed, as the resident routes do."""

from __future__ import annotations

import logging
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import text

from hub.domain.accounts import SYSTEM
from hub.imports.columns import Header
from hub.imports.parse import Parsed
from hub.imports.rows import UnitRow
from hub.imports.service import RunImport
from tests.integration.api.conftest import Api
from tests.integration.api.probing import audit_rows, snapshot
from tests.integration.api.world import valid_national_id
from tests.integration.imports.sheets import as_file, counts, upload

UNIT_HEADER = ["楼栋 (building)", "单元 (unit_number)", "楼层", "gross_area", "inner_area",
               "朝向", "状态"]
CLEAN_UNITS = [
    UNIT_HEADER,
    ["b1", "1-1001", 10, 89.75, 72.1, "南北", "已入住"],
    ["b1", "1-1002", 10, "120.50", "98.00", "S", "vacant"],
    ["B1", "1-1101", 11, 89.75, 72.1, "", ""],
    ["b2", "2-1001", 10, "64", "50.25", "东", "出租"],
    ["b2", "2-1002", 10, 64, 50.25, None, None],
]
ZHAO_ID = valid_national_id("32010219880808345")
ZHOU_ID = valid_national_id("33010619750412567")
CLEAN_RESIDENTS = [
    ["姓名", "身份证号", "手机", "楼栋", "单元", "关系", "入住日期"],
    ["赵敏", ZHAO_ID, "13900001111", "b1", "1-0302", "租户", "2024-03-01"],
    ["赵敏", ZHAO_ID, "", "b2", "2-0301", "业主", date(2021, 7, 15)],  # one person, two units
    ["赵小敏", "", "", "b1", "1-0302", "家属", "2024/3/1"],  # a child: no number
    ["周杰", ZHOU_ID.lower(), "13700009999", "b2", "2-0301", "family", "2024.03.01"],
]


@pytest.mark.parametrize("form", ["xlsx", "csv"])
async def test_a_clean_unit_sheet_imports_once(api: Api, form: str) -> None:
    w = api.world
    name, data = as_file(CLEAN_UNITS, form)
    before = await counts(api)
    dry = (await upload(api, "units", w.lakeside, name, data)).json()
    assert (dry["problems"], dry["created"], dry["committed"]) == ([], 5, False)
    assert await counts(api) == before
    done = await upload(api, "units", w.lakeside, name, data, commit=True)
    assert done.status_code == 200, done.text
    assert (done.json()["created"], done.json()["unchanged"], done.json()["committed"]) == \
        (5, 0, True)
    after = await counts(api)
    assert after["units"] == before["units"] + 5
    units = (await api.client.get("/api/v1/units", params={"building_id": w.b2, "limit": 200},
                                  headers=w.auth("admin"))).json()["items"]
    two = {u["number"]: u for u in units}["2-1001"]
    assert (Decimal(two["gross_area"]), Decimal(two["inner_area"]), two["orientation"],
            two["status"]) == (Decimal("64"), Decimal("50.25"), "E", "rented")
    again = (await upload(api, "units", w.lakeside, name, data, commit=True)).json()
    print(f"\n{form}: first commit created {done.json()['created']}; again: created "
          f"{again['created']}, unchanged {again['unchanged']}")
    assert (again["problems"], again["created"], again["unchanged"]) == ([], 0, 5)
    assert (await counts(api))["units"] == after["units"]
    audit = await audit_rows(api, "data_imported")
    assert [a["detail"] for a in audit] == [
        {"kind": "units", "rows": "5", "created": "5", "unchanged": "0"},
        {"kind": "units", "rows": "5", "created": "0", "unchanged": "5"}]
    assert audit[0]["target"] == f"site:{w.lakeside}"


async def test_one_bad_last_row_keeps_every_row_out(api: Api) -> None:
    w = api.world
    rows = [*CLEAN_UNITS, ["b2", "2-1003", 10, "64", "-1", "", ""]]
    before = await snapshot(api)
    response = await upload(api, "units", w.lakeside, "units.xlsx", as_file(rows, "xlsx")[1],
                            commit=True)
    assert response.status_code == 422
    assert [(d["row"], d["column"]) for d in response.json()["error"]["details"]] == \
        [(7, "inner_area")]
    assert await snapshot(api) == before


async def test_a_refusal_inside_the_writes_rolls_back_the_rows_written_before(api: Api) -> None:
    """Rows the checks pass but a module's handler refuses (here inner area above gross
    area, which only a row made by hand can carry past `parse`): the first four were
    flushed when the fifth failed, and none of them is stored."""
    w = api.world

    def unit(number: int, name: str, inner: str) -> UnitRow:
        return UnitRow(number, "b1", name, 12, Decimal("80"), Decimal(inner), None, None, None)

    parsed = Parsed("units", rows=[unit(2, "1-1201", "60"), unit(3, "1-1202", "60"),
                                   unit(4, "1-1203", "60"), unit(5, "1-1204", "60"),
                                   unit(6, "1-1205", "99")], count=5,
                    header=Header({}, {"inner_area": "套内面积"}))
    before = await snapshot(api)
    report = await api.hub.bus.handle(RunImport(SYSTEM, w.lakeside, parsed, commit=True))
    assert [(p.row, p.column, p.reason) for p in report.problems] == \
        [(6, "套内面积", "inner_area cannot exceed gross_area")]
    assert (report.created, report.committed) == (0, False)
    assert await snapshot(api) == before


async def test_residents_import_sealed_and_once(api: Api, caplog: pytest.LogCaptureFixture) \
        -> None:
    caplog.set_level(logging.DEBUG)
    w = api.world
    name, data = as_file(CLEAN_RESIDENTS, "xlsx")
    before = await counts(api)
    done = await upload(api, "residents", w.lakeside, name, data, commit=True,
                        username="desk")
    assert done.status_code == 200, done.text
    assert (done.json()["created"], done.json()["unchanged"]) == (4, 0)
    after = await counts(api)
    assert (after["residents"] - before["residents"],
            after["residencies"] - before["residencies"]) == (3, 4)
    found = await api.client.post("/api/v1/residents/lookup", json={"national_id": ZHAO_ID},
                                  headers=w.auth("manager"))
    zhao = found.json()["items"]
    assert [(r["name"], r["national_id"]) for r in zhao] == \
        [("赵敏", ZHAO_ID[:4] + "*" * 10 + ZHAO_ID[-4:])]
    assert sorted(r["unit_id"] for r in zhao[0]["residencies"]) == sorted([w.unit_b, w.unit_c])
    revealed = await api.client.post(f"/api/v1/residents/{zhao[0]['id']}/reveal",
                                     json={"reason": "import check 2026"},
                                     headers=w.auth("manager"))
    assert revealed.json()["national_id"] == ZHAO_ID  # sealed as the resident routes seal
    again = (await upload(api, "residents", w.lakeside, name, data, commit=True)).json()
    assert (again["problems"], again["created"], again["unchanged"]) == ([], 0, 4)
    assert (await counts(api))["residents"] == after["residents"]
    stored = await _stored_bytes(api)
    assert "赵小敏".encode() in stored, "the scan reads no data"
    for number in (ZHAO_ID, ZHOU_ID):
        assert number.encode() not in stored and number[:17].encode() not in stored
        assert number not in caplog.text and number[:17] not in caplog.text
        assert number not in str(await audit_rows(api, "data_imported"))


async def test_a_changed_record_is_a_problem_not_an_update(api: Api) -> None:
    w = api.world
    rows = [CLEAN_RESIDENTS[0], ["张伟改", valid_national_id("31010119850315123"), "", "b1",
                                 "1-0301", "owner", "2020-05-01"],
            ["李娜", valid_national_id("11010519790622456"), "", "b1", "1-0302", "owner",
             "2020-05-01"]]
    response = await upload(api, "residents", w.lakeside, "r.csv", as_file(rows, "csv")[1])
    problems = [(p["row"], p["column"], p["value"], p["reason"])
                for p in response.json()["problems"]]
    assert problems == [
        (2, "姓名", "张伟改", "this resident exists with name 张伟; an import does not change "
                           "existing records"),
        (3, "关系", "owner", "this resident is tenant of this unit already")]


async def _stored_bytes(api: Api) -> bytes:
    async with api.hub.engine.connect() as connection:
        await connection.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
    await api.hub.engine.dispose()
    files = [api.db_file, *(api.db_file.with_name(api.db_file.name + s)
                            for s in ("-wal", "-journal"))]
    return b"".join(f.read_bytes() for f in files if f.exists())
