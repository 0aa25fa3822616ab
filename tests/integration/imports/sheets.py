"""Spreadsheets built in the tests: the same rows as .xlsx (openpyxl) or as CSV."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from typing import Any

import httpx
import openpyxl
from sqlalchemy import func, select

from hub.store.tables import metadata
from tests.integration.api.conftest import Api

Rows = Sequence[Sequence[Any]]


def xlsx(rows: Rows) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    for row in rows:
        sheet.append(list(row))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def csv_bytes(rows: Rows, encoding: str = "utf-8-sig") -> bytes:
    out = io.StringIO(newline="")
    csv.writer(out).writerows([["" if c is None else c for c in row] for row in rows])
    return out.getvalue().encode(encoding)


def as_file(rows: Rows, form: str) -> tuple[str, bytes]:
    """("units.xlsx", bytes) or ("units.csv", GB18030 bytes as Chinese Excel saves them)."""
    if form == "xlsx":
        return "sheet.xlsx", xlsx(rows)
    return "sheet.csv", csv_bytes(rows, "gb18030")


async def upload(api: Api, kind: str, site_id: int, name: str, data: bytes, *,
                 commit: bool = False, username: str = "manager") -> httpx.Response:
    return await api.client.post(
        f"/api/v1/imports/{kind}", params={"site_id": site_id, "commit": str(commit).lower()},
        files={"file": (name, data)}, headers=api.world.auth(username))


async def counts(api: Api) -> dict[str, int]:
    """Rows per table: what "the database is unchanged" is compared by."""
    async with api.hub.engine.connect() as connection:
        return {t.name: int(await connection.scalar(select(func.count()).select_from(t)) or 0)
                for t in metadata.sorted_tables}
