"""Errors to responses, in one place, with one body shape: {"error": {code, message, field}}."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError, OperationalError
from starlette.exceptions import HTTPException

from hub.api.limits import TooManyAttempts
from hub.domain.errors import (
    Conflict,
    DomainError,
    Invalid,
    NotFound,
    PermissionDenied,
    Unauthenticated,
)

log = logging.getLogger(__name__)

STATUS: dict[type[DomainError], int] = {
    NotFound: 404,
    Conflict: 409,
    PermissionDenied: 403,
    Invalid: 422,
    Unauthenticated: 401,
    TooManyAttempts: 429,
}


def error_response(status: int, code: str, message: str, field: str | None = None,
                   details: list[dict[str, Any]] | None = None,
                   headers: dict[str, str] | None = None) -> JSONResponse:
    body = {"error": {"code": code, "message": message, "field": field,
                      "details": details or []}}
    return JSONResponse(body, status_code=status, headers=headers)


def install(app: FastAPI) -> None:
    # Starlette types handlers as taking any Exception; each of these takes its own class.
    app.add_exception_handler(DomainError, _domain)  # type: ignore[arg-type]
    app.add_exception_handler(RequestValidationError, _validation)  # type: ignore[arg-type]
    app.add_exception_handler(HTTPException, _http)  # type: ignore[arg-type]
    app.add_exception_handler(OperationalError, _database_down)
    app.add_exception_handler(DBAPIError, _database_down)


async def _domain(request: Request, err: DomainError) -> JSONResponse:
    status = next((code for kind, code in STATUS.items() if isinstance(err, kind)), 400)
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    if isinstance(err, TooManyAttempts):
        headers = {"Retry-After": str(err.retry_after)}
    return error_response(status, err.code, err.message, err.field, headers=headers)


async def _validation(request: Request, err: RequestValidationError) -> JSONResponse:
    # The offending value is never echoed: it may be a national ID number or a password.
    details = [{"field": _where(e["loc"]), "message": _message(e)} for e in err.errors()]
    first = details[0] if details else {"field": None, "message": "invalid request"}
    return error_response(422, "invalid", f"{first['field']}: {first['message']}",
                          first["field"], details)


async def _http(request: Request, err: HTTPException) -> JSONResponse:
    codes = {404: "not_found", 405: "method_not_allowed", 413: "too_large",
             429: "too_many_requests", 401: "unauthenticated", 403: "forbidden"}
    return error_response(err.status_code, codes.get(err.status_code, "http_error"),
                          str(err.detail), "body" if err.status_code == 413 else None,
                          headers=getattr(err, "headers", None))


async def _database_down(request: Request, err: Exception) -> JSONResponse:
    log.warning("database unavailable on %s %s: %s", request.method, request.url.path,
                type(err).__name__)
    return error_response(503, "unavailable", "the database is unavailable; try again shortly",
                          headers={"Retry-After": "5"})


def _where(loc: tuple[Any, ...] | list[Any]) -> str:
    return ".".join(str(part) for part in loc)


def _message(error: dict[str, Any]) -> str:
    if error["type"] == "extra_forbidden":
        return "unknown or protected field; not accepted"
    if error["type"] == "json_invalid":
        return f"malformed JSON: {error.get('ctx', {}).get('error', 'cannot parse')}"
    return str(error["msg"])
