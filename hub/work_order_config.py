"""config/work_orders.yaml: dispatch mode and SLA terms per category, the relapse window and
the warning lead; validated at start-up into the domain's OrderPolicy.

A bad file stops start-up with `file: key: reason` (WorkOrderConfigError).
"""

from __future__ import annotations

import re
from datetime import timedelta
from functools import cache
from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import BaseModel, BeforeValidator, ConfigDict, ValidationError, model_validator

from hub.domain.outcomes import Priority
from hub.domain.work_orders import (
    DEFAULT_POLICY,
    CategoryPolicy,
    DispatchMode,
    OrderPolicy,
    SlaTerms,
)

_DURATION = re.compile(r"^(\d+)\s*(s|m|min|h|d)$")
_UNITS = {"s": 1, "m": 60, "min": 60, "h": 3600, "d": 86400}


class WorkOrderConfigError(Exception):
    pass


def parse_duration(value: Any) -> timedelta:
    """"5m", "30 min", "4h", "2d", "90s"; nothing else (no floats, no "5 parsecs")."""
    if isinstance(value, timedelta):
        return value
    match = _DURATION.fullmatch(str(value).strip())
    if match is None or int(match.group(1)) <= 0:
        raise ValueError(f"{value!r} is not a duration like 5m, 4h or 2d")
    return timedelta(seconds=int(match.group(1)) * _UNITS[match.group(2)])


Duration = Annotated[timedelta, BeforeValidator(parse_duration)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TermsModel(_Model):
    respond: Duration
    resolve: Duration
    arrive: Duration | None = None

    @model_validator(mode="after")
    def _ordered(self) -> TermsModel:
        if self.resolve < self.respond:
            raise ValueError("resolve must not be shorter than respond")
        if self.arrive is not None and not self.respond <= self.arrive <= self.resolve:
            raise ValueError("arrive must lie between respond and resolve")
        return self


class CategoryModel(_Model):
    dispatch: DispatchMode = DispatchMode.ASSIGN
    sla: dict[Priority, TermsModel] = {}


class WorkOrderConfig(_Model):
    relapse_window: Duration = DEFAULT_POLICY.relapse_window
    warning_lead: Duration = DEFAULT_POLICY.warning_lead
    default: CategoryModel
    categories: dict[str, CategoryModel] = {}

    @model_validator(mode="after")
    def _default_covers_every_priority(self) -> WorkOrderConfig:
        missing = [p.value for p in Priority if p not in self.default.sla]
        if missing:
            raise ValueError(f"default.sla needs every priority; missing {', '.join(missing)}")
        return self

    def policy(self) -> OrderPolicy:
        def category(model: CategoryModel) -> CategoryPolicy:
            return CategoryPolicy(model.dispatch, {
                p: SlaTerms(t.respond, t.resolve, t.arrive) for p, t in model.sla.items()})

        return OrderPolicy(default=category(self.default),
                           categories={k: category(v) for k, v in self.categories.items()},
                           relapse_window=self.relapse_window, warning_lead=self.warning_lead)


def load_order_policy(path: Path) -> OrderPolicy:
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise WorkOrderConfigError(f"{path}: file not found") from None
    except yaml.YAMLError as err:
        raise WorkOrderConfigError(f"{path}: not valid YAML: {err}") from None
    try:
        return WorkOrderConfig.model_validate(raw).policy()
    except ValidationError as err:
        lines = [f"{path}: {'.'.join(str(p) for p in e['loc']) or 'file'}: "
                 f"{str(e['msg']).removeprefix('Value error, ')}" for e in err.errors()]
        raise WorkOrderConfigError("\n".join(lines)) from None


@cache
def shipped_policy() -> OrderPolicy:
    """The repository's config/work_orders.yaml when it is there (the demo, a checkout), else
    the built-in defaults it repeats."""
    path = Path(__file__).resolve().parent.parent / "config" / "work_orders.yaml"
    return load_order_policy(path) if path.exists() else DEFAULT_POLICY
