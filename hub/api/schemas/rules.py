"""Shapes of the rules API: the rule set, validation, replay and recorded outcomes."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from hub.api.schemas.common import In, Out

MAX_RULES_TEXT = 256 * 1024


class RuleOut(BaseModel):
    id: str
    version: str
    file: str
    description: str
    enabled: bool
    event: str
    actions: list[str]


class RulesOut(BaseModel):
    directory: str | None
    items: list[RuleOut]
    total: int


class ValidateIn(In):
    """A rule file to try (`yaml`), named `name` in the problems; nothing is loaded."""

    yaml: str = Field(max_length=MAX_RULES_TEXT)
    name: str = Field(default="request.yaml", min_length=1, max_length=100,
                      pattern=r"^[\w.-]+$")


class ValidationOut(BaseModel):
    valid: bool
    rules: int
    problems: list[str]


class ReloadOut(BaseModel):
    rules: int
    versions: dict[str, str]


class ReplayedOut(BaseModel):
    at: datetime
    rule_id: str
    rule_version: str
    command: str
    device_id: int | None
    line: str


class ReplayOut(BaseModel):
    events: int
    outcomes: list[ReplayedOut]
    truncated: bool
    problems: list[str]


class OutcomeOut(Out):
    id: int
    rule_id: str
    rule_version: str
    command: str
    site_id: int | None
    device_id: int | None
    at: datetime
    recorded_at: datetime
    status: str
    attempts: int
    error: str | None
    result: str | None
    detail: dict[str, Any]
    evidence: list[dict[str, Any]]
    line: str
