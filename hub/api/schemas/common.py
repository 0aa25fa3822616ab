"""Shapes shared by every router: the strict input base, pages and the error body."""

from __future__ import annotations

from typing import Annotated, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field

T = TypeVar("T")

# Ids are SQL INTEGER columns. A larger number names no row, and drivers fail on it (SQLite
# overflows, PostgreSQL refuses it) where it should simply be a 422 naming the field.
MAX_ID = 2**31 - 1
Id = Annotated[int, Field(ge=1, le=MAX_ID)]


class In(BaseModel):
    """Every request body: unknown fields are refused, strings trimmed."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class Page(BaseModel, Generic[T]):
    items: list[T]
    total: int
    limit: int
    offset: int


class Created(BaseModel):
    id: int


class ErrorDetail(BaseModel):
    field: str | None
    message: str


class ErrorInfo(BaseModel):
    code: str
    message: str
    field: str | None = None
    details: list[ErrorDetail] = []


class ErrorBody(BaseModel):
    """The one shape of every error response."""

    error: ErrorInfo
