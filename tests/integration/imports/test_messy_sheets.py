"""A messy spreadsheet gets a complete row-level report in the dry run, and changes nothing;
committing it is refused with the same report, and changes nothing either."""

from __future__ import annotations

from datetime import date

import pytest

from hub.domain.national_id import mask
from tests.integration.api.conftest import Api
from tests.integration.api.probing import snapshot
from tests.integration.api.world import ALICE_ID, valid_national_id
from tests.integration.imports.sheets import as_file, counts, upload

UNIT_HEADER = ["楼栋", "单元", "楼层", "建筑面积", "套内面积", "户型"]
MESSY_UNITS = [
    UNIT_HEADER,
    ["b1", "1-0501", 5, 89.75, 72.10, "3室2厅1卫"],  # 2: fine
    ["b9", "9-0101", 1, 60, 50, ""],  # 3: no building b9 in lakeside
    ["b1", "1-0601", 6, "90.00", "70.00", ""],  # 4: fine, the first time
    ["b1", "1-0601", 6, "90.00", "70.00", ""],  # 5: the same unit again
    ["b1", "1-0301", 3, "100.00", "72.10", ""],  # 6: stored with 89.75 m²
    ["b2", "2-0701", 7, -88.5, 70, ""],  # 7: a negative area
    [None, None, None, None, None, None],  # blank: skipped, not a problem
    ["b2", "2-0801", 8, "80", "60.5", "2室"],  # 9: fine
]
EXPECTED_UNITS = [
    (3, "楼栋", "b9", "no building with this code in the site"),
    (5, "单元", "1-0601", "duplicate: the same record as row 4"),
    (6, "建筑面积", "100.00",
     "unit 1-0301 of b1 exists with gross_area 89.75; an import does not change existing "
     "records"),
    (7, "建筑面积", "-88.5", "must be more than 0"),
]

BAD_CHECKSUM = "440106199001011230"  # the check digit is 5
ZHAO_ID = valid_national_id("32010219880808345")
ZHOU_ID = valid_national_id("33010619750412567")
RESIDENT_HEADER = ["姓名", "身份证号", "手机", "楼栋", "单元", "关系", "入住日期"]
MESSY_RESIDENTS = [
    RESIDENT_HEADER,
    ["赵敏", ZHAO_ID, "13900001111", "b1", "1-0302", "租户", "2024-03-01"],  # 2: fine
    ["钱多多", BAD_CHECKSUM, "", "b1", "1-0302", "family", "2024/3/1"],  # 3: check digit
    ["孙悟空", "", "", "b9", "9-0101", "owner", "2024-01-01"],  # 4: no building b9
    ["周杰", ZHOU_ID, "", "b2", "2-0301", "owner", "27/11/2026"],  # 5: day first
    ["张伟", ALICE_ID, "13812345678", "b1", "1-0301", "业主", date(2020, 5, 1)],  # 6: stored
]
EXPECTED_RESIDENTS = [
    (3, "身份证号", mask(BAD_CHECKSUM), "national_id check digit does not match (GB 11643)"),
    (4, "楼栋", "b9", "no building with this code in the site"),
    (5, "入住日期", "27/11/2026",
     "not a date: write YYYY-MM-DD, YYYY/MM/DD or an Excel date cell"),
]


def _for_csv(rows: list[list[object]]) -> list[list[object]]:
    """A CSV holds text: the Excel date cell becomes the ISO date a CSV export writes."""
    return [[c.isoformat() if isinstance(c, date) else c for c in row] for row in rows]


@pytest.mark.parametrize("form", ["xlsx", "csv"])
async def test_messy_units_get_every_problem_and_change_nothing(api: Api, form: str) -> None:
    w = api.world
    name, data = as_file(MESSY_UNITS, form)
    before, rows_before = await snapshot(api), await counts(api)
    response = await upload(api, "units", w.lakeside, name, data)
    assert response.status_code == 200, response.text
    report = response.json()
    found = [(p["row"], p["column"], p["value"], p["reason"]) for p in report["problems"]]
    print(f"\n{form}: {report['rows']} rows, {report['valid']} valid, "
          f"{len(found)} problems: {found}")
    assert found == EXPECTED_UNITS
    assert (report["rows"], report["valid"], report["created"], report["unchanged"],
            report["committed"]) == (7, 3, 3, 0, False)
    assert await counts(api) == rows_before
    assert await snapshot(api) == before


@pytest.mark.parametrize("form", ["xlsx", "csv"])
async def test_messy_residents_get_every_problem_masked(api: Api, form: str) -> None:
    w = api.world
    rows = MESSY_RESIDENTS if form == "xlsx" else _for_csv(MESSY_RESIDENTS)
    name, data = as_file(rows, form)
    before = await snapshot(api)
    response = await upload(api, "residents", w.lakeside, name, data, username="desk")
    assert response.status_code == 200, response.text
    report = response.json()
    found = [(p["row"], p["column"], p["value"], p["reason"]) for p in report["problems"]]
    assert found == EXPECTED_RESIDENTS
    assert (report["rows"], report["valid"], report["created"], report["unchanged"]) == \
        (5, 2, 1, 1)
    for number in (BAD_CHECKSUM, ZHAO_ID, ZHOU_ID, ALICE_ID):
        assert number not in response.text
        assert number[:17] not in response.text
    assert await snapshot(api) == before


@pytest.mark.parametrize(("kind", "rows"), [("units", MESSY_UNITS),
                                            ("residents", MESSY_RESIDENTS)])
async def test_committing_a_messy_sheet_is_refused_with_the_report(
        api: Api, kind: str, rows: list[list[object]]) -> None:
    w = api.world
    before = await snapshot(api)
    response = await upload(api, kind, w.lakeside, "messy.xlsx", as_file(rows, "xlsx")[1],
                            commit=True)
    assert response.status_code == 422
    error = response.json()["error"]
    expected = EXPECTED_UNITS if kind == "units" else EXPECTED_RESIDENTS
    assert error["message"].endswith("nothing was imported")
    assert [(d["row"], d["column"], d["value"], d["message"]) for d in error["details"]] == \
        expected
    assert await snapshot(api) == before


async def test_a_file_with_a_missing_and_an_unknown_column_names_both(api: Api) -> None:
    w = api.world
    rows = [["楼栋", "单元", "楼层", "建筑面积", "面积2", "备注"], ["b1", "1-0901", 9, 80, 60, "x"]]
    response = await upload(api, "units", w.lakeside, "units.csv", as_file(rows, "csv")[1])
    problems = [(p["row"], p["column"], p["reason"][:30]) for p in response.json()["problems"]]
    assert problems == [(1, "面积2", "unknown column; the columns ar"),
                        (1, "套内面积 (inner_area)", "required column is missing")]
    assert response.json()["valid"] == 0  # no row was judged: the header was wrong


async def test_a_file_that_is_no_table_is_one_problem(api: Api) -> None:
    w = api.world
    for name, data, reason in (
            ("units.xls", b"\xd0\xcf\x11\xe0" + b"\x00" * 64, "an old Excel .xls file"),
            ("units.xlsx", b"PK\x03\x04garbage", "not a valid .xlsx file"),
            ("units.csv", b"", "the file is empty")):
        response = await upload(api, "units", w.lakeside, name, data)
        assert response.status_code == 200
        problems = response.json()["problems"]
        assert len(problems) == 1 and problems[0]["row"] == 0, problems
        assert problems[0]["reason"].startswith(reason), problems
