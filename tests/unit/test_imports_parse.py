"""Reading spreadsheets: encodings, headers in Chinese or English, dates, exact decimals,
national IDs (never echoed), row numbers as the sheet shows them, duplicates, limits."""

from __future__ import annotations

import io
import zipfile
from datetime import date, datetime
from decimal import Decimal

import openpyxl
import pytest

from hub.domain.errors import Invalid
from hub.domain.national_id import check_digit
from hub.imports import reading
from hub.imports.columns import KINDS, normalise_header
from hub.imports.parse import parse
from hub.imports.report import Problem, Report
from hub.imports.rows import ResidentRow, UnitRow
from hub.imports.templates import template_csv, template_xlsx

ID = "32010219880808345" + check_digit("32010219880808345")
BAD_ID = ID[:17] + ("0" if ID[17] != "0" else "1")
UNITS = "楼栋,单元,楼层,建筑面积,套内面积\n"
RESIDENTS = ["姓名", "身份证号", "楼栋", "单元", "关系", "入住日期"]


def _xlsx(rows: list[list[object]]) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _problems(kind: str, data: bytes, name: str = "f.csv") -> list[tuple[int, str, str, str]]:
    return [(p.row, p.column, p.value, p.reason) for p in parse(kind, data, name).problems]


@pytest.mark.parametrize("encoded", [
    (UNITS + "b1,1-0101,1,80,60\n").encode("utf-8"),
    b"\xef\xbb\xbf" + (UNITS + "b1,1-0101,1,80,60\n").encode("utf-8"),
    (UNITS + "b1,1-0101,1,80,60\r\n").encode("gb18030"),
], ids=["utf-8", "utf-8 with BOM", "gb18030"])
def test_csv_is_read_in_each_encoding_excel_saves(encoded: bytes) -> None:
    parsed = parse("units", encoded, "units.csv")
    assert parsed.problems == []
    assert parsed.rows == [UnitRow(2, "b1", "1-0101", 1, Decimal(80), Decimal(60), None, None,
                                   None)]


def test_text_in_neither_encoding_is_one_problem_for_the_file() -> None:
    assert _problems("units", b"\x81\x20\xff\xfe") == [
        (0, "file", "", "the file is neither UTF-8 nor GB18030 text")]


@pytest.mark.parametrize("header", [
    "楼栋,单元,楼层,建筑面积,套内面积", "building,unit_number,floor,gross_area,inner_area",
    "Building, Unit Number ,FLOOR,Gross Area,inner-area*",
    "楼栋 (building),单元 (unit_number),楼层 (floor),建筑面积（gross_area）,套内面积 (inner_area)",
    "楼号,房号,所在楼层,gross area,inner area,备注",
])
def test_headers_are_matched_in_chinese_or_english(header: str) -> None:
    parsed = parse("units", f"{header}\nb1,1-0101,1,80,60\n".encode(), "u.csv")
    assert (parsed.problems, len(parsed.rows)) == ([], 1)


def test_an_unknown_a_repeated_and_a_missing_column_are_each_named() -> None:
    found = _problems("units", "楼栋,单元,楼层,建筑面积,building,面积\nb1,1,1,80,b1,60\n".encode())
    assert [(r, c, reason[:24]) for r, c, _, reason in found] == [
        (1, "building", "a second column for buil"), (1, "面积", "unknown column; the colu"),
        (1, "套内面积 (inner_area)", "required column is missi")]


def test_dates_in_iso_slashes_dots_chinese_and_excel_cells() -> None:
    rows: list[list[object]] = [RESIDENTS]
    for i, when in enumerate(["2024-03-01", "2024/3/1", "2024.03.01", "2024年3月1日",
                              datetime(2024, 3, 1, 0, 0), date(2024, 3, 1)]):
        rows.append([f"住户{i}", None, "b1", f"1-010{i}", "业主", when])
    parsed = parse("residents", _xlsx(rows), "r.xlsx")
    assert parsed.problems == []
    assert {r.move_in for r in parsed.rows if isinstance(r, ResidentRow)} == {date(2024, 3, 1)}


@pytest.mark.parametrize(("written", "reason"), [
    ("27/11/2026", "not a date: write YYYY-MM-DD, YYYY/MM/DD or an Excel date cell"),
    ("11/27/2026", "not a date: write YYYY-MM-DD, YYYY/MM/DD or an Excel date cell"),
    ("2026-02-30", "no such day"),
    (46353, "not a date: write YYYY-MM-DD, YYYY/MM/DD or an Excel date cell"),
])
def test_dates_that_are_not_year_first_days_are_problems(written: object, reason: str) -> None:
    data = _xlsx([RESIDENTS, ["赵敏", None, "b1", "1-0101", "owner", written]])
    assert _problems("residents", data, "r.xlsx") == [(2, "入住日期", str(written), reason)]


def test_areas_are_exact_decimals_from_excel_floats_and_text() -> None:
    data = _xlsx([UNITS.strip().split(","), ["b1", "1-0101", 3, 89.75, "72.10"],
                  ["b1", "1-0102", 3, "1,234.5", 72.125]])
    parsed = parse("units", data, "u.xlsx")
    assert [(r.gross_area, r.inner_area) for r in parsed.rows if isinstance(r, UnitRow)] == \
        [(Decimal("89.75"), Decimal("72.10"))]
    assert [(p.row, p.column, p.reason) for p in parsed.problems] == [
        (3, "套内面积", "more than 2 decimal places; round it in the file")]


@pytest.mark.parametrize(("gross", "reason"), [
    ("-88.5", "must be more than 0"), ("0", "must be more than 0"),
    ("abc", "must be a number like 89.75"), ("NaN", "must be a number like 89.75"),
    ("1e3", "must be a number like 89.75"), ("80.001", "more than 2 decimal places; round it "
                                                       "in the file"),
])
def test_an_area_that_is_no_positive_amount_is_a_problem(gross: str, reason: str) -> None:
    data = (UNITS + f"b1,1-0101,1,{gross},60\n").encode()
    assert _problems("units", data) == [(2, "建筑面积", gross, reason)]


def test_inner_area_above_gross_area_is_the_domains_refusal() -> None:
    assert _problems("units", (UNITS + "b1,1-0101,1,60,80\n").encode()) == [
        (2, "套内面积", "80", "inner_area cannot exceed gross_area")]


def test_national_ids_are_checked_and_only_their_mask_is_shown() -> None:
    rows: list[list[object]] = [RESIDENTS, ["甲", BAD_ID, "b1", "1-0101", "业主", "2024-03-01"],
                                ["乙", int(ID[:17] + "1"), "b1", "1-0102", "业主", "2024-03-01"],
                                ["丙", ID[:10] + "9913" + ID[14:], "b1", "1-0103", "业主",
                                 "2024-03-01"]]
    parsed = parse("residents", _xlsx(rows), "r.xlsx")
    shown = " ".join(f"{p.value} {p.reason}" for p in parsed.problems)
    assert [(p.row, p.column) for p in parsed.problems] == [(2, "身份证号"), (3, "身份证号"),
                                                           (4, "身份证号")]
    assert parsed.problems[0].value == BAD_ID[:4] + "*" * 10 + BAD_ID[-4:]
    assert "stored as a number" in parsed.problems[1].reason
    assert "impossible birth date" in parsed.problems[2].reason
    assert BAD_ID not in shown and ID[:17] not in shown and BAD_ID[:17] not in shown


def test_a_lower_case_x_is_the_same_number_and_repr_hides_it() -> None:
    number = "11010519491231002X"
    assert check_digit(number[:17]) == "X"
    data = _xlsx([RESIDENTS, ["赵敏", number.lower(), "b1", "1-0101", "业主", "2024-03-01"]])
    row = parse("residents", data, "r.xlsx").rows[0]
    assert isinstance(row, ResidentRow) and row.national_id == number
    assert number not in repr(row)


def test_rows_are_numbered_as_the_sheet_numbers_them() -> None:
    text = (UNITS + ",,,,\n" + 'b1,"1-01\n01",1,80,60\n' + "b1,1-0102,1,-1,60\n").encode()
    assert _problems("units", text) == [(4, "建筑面积", "-1", "must be more than 0")]


def test_duplicates_in_the_file_name_the_first_row() -> None:
    data = _xlsx([RESIDENTS, ["赵敏", ID, "b1", "1-0101", "业主", "2024-03-01"],
                  ["赵敏", ID, "b2", "2-0101", "业主", "2024-03-01"],
                  ["赵敏", ID, "b1", "1-0101", "家属", "2024-04-01"],
                  ["赵小敏", ID, "b1", "1-0102", "业主", "2024-03-01"]])
    assert [(r, c, reason) for r, c, _, reason in _problems("residents", data, "r.xlsx")] == [
        (4, "单元", "duplicate: the same record as row 2"),
        (5, "姓名", "row 2 has this national_id with the name '赵敏'")]


def test_more_rows_than_the_limit_is_refused_before_any_row_is_judged() -> None:
    text = (UNITS + "b1,1-0101,1,80,60\n" * 4).encode()
    parsed = parse("units", text, "u.csv", max_rows=3)
    assert [(p.row, p.reason) for p in parsed.problems] == [(1, "more than 3 rows: split "
                                                                "the file")]
    assert parsed.rows == []


@pytest.mark.parametrize(("kind", "words"), [
    ("owners", "the kinds are buildings, units, residents, meter-readings, "
               "opening-balances, parking-spaces, vehicles"),
])
def test_kinds_that_are_not_here_are_refused_with_the_reason(kind: str, words: str) -> None:
    with pytest.raises(Invalid) as refused:
        parse(kind, b"a\n", "x.csv")
    assert words in refused.value.message


@pytest.mark.parametrize("kind", list(KINDS))
def test_templates_hold_every_column_and_an_example_that_parses(kind: str) -> None:
    for name, data in ((f"{kind}.csv", template_csv(kind)), (f"{kind}.xlsx",
                                                            template_xlsx(kind))):
        parsed = parse(kind, data, name)
        assert (parsed.count, len(parsed.rows), parsed.problems) == (1, 1, []), name
        assert set(parsed.header.index) == {c.field for c in KINDS[kind].columns}


def test_a_problem_line_and_the_summary_read_as_the_console_prints_them() -> None:
    problem = Problem(7, "建筑面积", "-88.5", "must be more than 0")
    report = Report("units", rows=9, problems=[problem], created=0, unchanged=2)
    assert problem.line("units.xlsx") == "units.xlsx:row 7: 建筑面积: -88.5: must be more than 0"
    assert Problem(0, "file", "", "the file is empty").line("u.csv") == "u.csv: the file is empty"
    assert report.valid == 8
    assert report.summary() == ("units: 9 rows, 8 valid, 1 problems; would create 0, "
                                "unchanged 2; nothing written")
    assert normalise_header("建筑面积（gross_area）*") == ("建筑面积", "grossarea")


def _damaged() -> list[bytes]:
    good = template_xlsx("units")
    members = zipfile.ZipFile(io.BytesIO(good))
    broken = [good[: len(good) // 2], good[:30] + bytes(200) + good[230:]]
    for name in ("xl/worksheets/sheet1.xml", "xl/workbook.xml", "[Content_Types].xml"):
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w") as copy:
            for member in members.namelist():
                copy.writestr(member, b"<unclosed" if member == name else members.read(member))
        broken.append(out.getvalue())
    return broken


@pytest.mark.parametrize("data", _damaged(), ids=["truncated", "zeroed", "sheet xml",
                                                  "workbook xml", "content types"])
def test_a_damaged_workbook_is_one_problem_not_an_error(data: bytes) -> None:
    problems = parse("units", data, "units.xlsx").problems
    assert [(p.row, p.column) for p in problems] == [(0, "file")]
    assert "xlsx" in problems[0].reason or "worksheet" in problems[0].reason


def test_a_workbook_that_unpacks_too_large_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(reading, "MAX_UNPACKED_BYTES", 1000)
    problems = parse("units", template_xlsx("units"), "units.xlsx").problems
    assert [p.reason for p in problems] == ["the workbook unpacks to more than 1000 bytes"]
