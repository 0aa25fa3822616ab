"""Imports from spreadsheets: upload a CSV or .xlsx per kind (a dry run unless `commit=true`),
and the templates to fill in. One route per kind, so the policy table says who imports what."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import APIRouter, File, Query, Request, Response, UploadFile
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from hub.api.deps import ActorDep, BusDep
from hub.api.errors import error_response
from hub.api.schemas.common import Id
from hub.api.schemas.imports import ImportOut
from hub.domain.errors import Invalid
from hub.imports.columns import KINDS, NOT_YET
from hub.imports.parse import MAX_BYTES, MAX_ROWS, parse
from hub.imports.report import Report
from hub.imports.service import RunImport
from hub.imports.templates import XLSX, template_csv, template_xlsx

router = APIRouter(prefix="/api/v1/imports", tags=["imports"])
FORM_FIELDS = frozenset({"file"})
UPLOAD = (f"CSV (UTF-8 or GB18030) or .xlsx, at most {MAX_BYTES // 1_048_576} MB and "
          f"{MAX_ROWS} rows (the API's body limit applies too)")


def _upload(kind: str) -> Callable[..., Awaitable[Any]]:
    async def upload(
        request: Request, actor: ActorDep, bus: BusDep, site_id: Id,
        file: Annotated[UploadFile, File(description=UPLOAD)],
        commit: Annotated[bool, Query(description="write the rows; without it, a dry run "
                                                  "that changes nothing")] = False,
    ) -> ImportOut | JSONResponse:
        unknown = sorted(set((await request.form()).keys()) - FORM_FIELDS)
        if unknown:
            raise Invalid(f"body.{unknown[0]}: unknown field; not accepted",
                          field=f"body.{unknown[0]}")
        data = await file.read(MAX_BYTES + 1)
        if len(data) > MAX_BYTES:
            raise HTTPException(413, f"file larger than {MAX_BYTES} bytes: split it")
        parsed = await asyncio.to_thread(parse, kind, data, file.filename or "")
        report: Report = await bus.handle(RunImport(actor, site_id, parsed, commit))
        if commit and not report.committed:
            return _refused(report)
        return ImportOut.of(report)

    upload.__name__ = f"import_{kind.replace('-', '_')}"
    upload.__doc__ = (f"Import {KINDS[kind].title}: every problem by row and column; "
                      "with commit=true all rows are written in one transaction, or none.")
    return upload


def _refused(report: Report) -> JSONResponse:
    """A commit that found problems: 422, nothing written, every problem in the details."""
    response = error_response(
        422, "invalid", f"{len(report.problems)} problems in {report.rows} rows; nothing was "
                        "imported", "body.file",
        [{"field": f"row {p.row}: {p.column}", "message": p.reason, "row": p.row,
          "column": p.column, "value": p.value} for p in report.problems])
    return response


def _not_yet(kind: str) -> Callable[[], Awaitable[None]]:
    async def refuse() -> None:
        raise Invalid(NOT_YET[kind], field="kind")

    refuse.__name__ = f"import_{kind.replace('-', '_')}"
    refuse.__doc__ = f"Refused: {NOT_YET[kind]}."
    return refuse


def _template(kind: str, form: str) -> Callable[[], Awaitable[Response]]:
    async def template() -> Response:
        if form == "csv":
            return Response(template_csv(kind), media_type="text/csv; charset=utf-8",
                            headers={"Content-Disposition":
                                     f'attachment; filename="{kind}.csv"'})
        return Response(template_xlsx(kind), media_type=XLSX, headers={
            "Content-Disposition": f'attachment; filename="{kind}.xlsx"'})

    template.__name__ = f"template_{kind.replace('-', '_')}_{form}"
    template.__doc__ = f"The {form} template for {KINDS[kind].title}: headers and one example."
    return template


for _kind in KINDS:
    router.add_api_route(f"/{_kind}", _upload(_kind), methods=["POST"],
                         response_model=ImportOut)
    for _form in ("csv", "xlsx"):
        router.add_api_route(f"/templates/{_kind}.{_form}", _template(_kind, _form),
                             methods=["GET"], response_class=Response)
for _kind in NOT_YET:
    router.add_api_route(f"/{_kind}", _not_yet(_kind), methods=["POST"], status_code=422)
