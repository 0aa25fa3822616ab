"""Maintenance plan templates (config/maintenance/*.yaml), checked and expanded: a template that
`includes` shorter ones gets their items first (TSG T5002's quarterly service includes the
half-monthly one). Pure: the caller parses the file and names it in errors."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from hub.domain.errors import Invalid
from hub.domain.maintenance import MAX_CHECKLIST, Anchor
from hub.domain.property import CODE_PATTERN

KEYS = frozenset({"id", "name", "every_days", "every_months", "anchor", "lead_hours",
                  "includes", "items", "category"})


@dataclass(frozen=True)
class Template:
    id: str
    name: str
    category: str
    items: tuple[str, ...]  # the included templates' items first
    every_days: int | None = None
    every_months: int | None = None
    anchor: Anchor = Anchor.SCHEDULE
    lead_hours: int = 72
    source: str = ""


def templates_from(data: Any) -> dict[str, Template]:
    """The templates of one parsed file, by id. Errors name the template and the field."""
    if not isinstance(data, Mapping) or not isinstance(data.get("templates"), list):
        raise Invalid("expected a mapping with a `templates` list", field="templates")
    category = str(data.get("category", ""))
    source = str(data.get("source", ""))
    raw: dict[str, Mapping[str, Any]] = {}
    for index, item in enumerate(data["templates"]):
        where = f"templates.{index}"
        if not isinstance(item, Mapping) or not isinstance(item.get("id"), str):
            raise Invalid("each template needs an id", field=where)
        unknown = set(item) - KEYS
        if unknown:
            raise Invalid(f"unknown field {sorted(unknown)[0]!r}", field=f"{item['id']}")
        if not CODE_PATTERN.fullmatch(item["id"]):
            raise Invalid("id must match [a-z0-9][a-z0-9-]{0,62}", field=where)
        if item["id"] in raw:
            raise Invalid(f"duplicate template id {item['id']!r}", field=item["id"])
        raw[item["id"]] = item
    return {name: _build(name, raw, category, source, ()) for name in raw}


def _build(name: str, raw: Mapping[str, Mapping[str, Any]], category: str, source: str,
           seen: tuple[str, ...]) -> Template:
    if name in seen:
        raise Invalid(f"includes itself through {' -> '.join((*seen, name))}", field=name)
    item = raw[name]
    items: list[str] = []
    for included in item.get("includes", []) or []:
        if included not in raw:
            raise Invalid(f"includes unknown template {included!r}", field=f"{name}.includes")
        items += [i for i in _build(included, raw, category, source, (*seen, name)).items
                  if i not in items]
    own = item.get("items", []) or []
    if not isinstance(own, list) or not all(isinstance(i, str) and i.strip() for i in own):
        raise Invalid("items must be a list of non-empty strings", field=f"{name}.items")
    items += [i for i in own if i not in items]
    if not items or len(items) > MAX_CHECKLIST:
        raise Invalid(f"a template has 1-{MAX_CHECKLIST} items", field=f"{name}.items")
    days, months = item.get("every_days"), item.get("every_months")
    if (days is None) == (months is None):
        raise Invalid("give every_days or every_months", field=f"{name}.every_days")
    for key, value in (("every_days", days), ("every_months", months),
                       ("lead_hours", item.get("lead_hours", 72))):
        if value is not None and (not isinstance(value, int) or isinstance(value, bool)
                                  or value < 0 or (value == 0 and key != "lead_hours")):
            raise Invalid(f"{key} must be a positive whole number", field=f"{name}.{key}")
    try:
        anchor = Anchor(item.get("anchor", Anchor.SCHEDULE))
    except ValueError:
        raise Invalid("anchor is schedule or completion", field=f"{name}.anchor") from None
    return Template(id=name, name=str(item.get("name", name)),
                    category=str(item.get("category", category)) or "general",
                    items=tuple(items), every_days=days, every_months=months, anchor=anchor,
                    lead_hours=int(item.get("lead_hours", 72)), source=source)
