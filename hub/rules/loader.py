"""Loading rule files: every problem reported as `file:rule-id: reason`, all of them at once."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from hub.rules.schema import Rule, RuleFile


class RuleError(Exception):
    """Rules that cannot be used; `problems` holds one `file:rule-id: reason` per line."""

    def __init__(self, problems: Sequence[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = tuple(problems)


@dataclass(frozen=True)
class LoadedRule:
    rule: Rule
    file: str
    version: str  # as written, or "h:" and a hash of the rule's content

    @property
    def id(self) -> str:
        return self.rule.id


@dataclass(frozen=True)
class RuleSet:
    rules: tuple[LoadedRule, ...]
    files: tuple[str, ...] = ()

    def get(self, rule_id: str) -> LoadedRule | None:
        return next((r for r in self.rules if r.id == rule_id), None)

    @property
    def enabled(self) -> tuple[LoadedRule, ...]:
        return tuple(r for r in self.rules if r.rule.enabled)


def load_dir(directory: Path) -> RuleSet:
    """Every `*.yaml` of the folder, in name order. Raises RuleError."""
    if not directory.is_dir():
        raise RuleError([f"{directory}: not a folder of rule files"])
    files = sorted(directory.glob("*.yaml"))
    return load_texts((str(f), f.read_text(encoding="utf-8")) for f in files)


def load_texts(sources: Iterable[tuple[str, str]]) -> RuleSet:
    """`sources`: (name, YAML text) pairs. Raises RuleError naming every bad rule."""
    problems: list[str] = []
    loaded: list[LoadedRule] = []
    names: list[str] = []
    seen: dict[str, str] = {}
    for name, text in sources:
        names.append(name)
        for item in _rules_of(name, text, problems):
            rule_id = str(item.get("id") or "?") if isinstance(item, dict) else "?"
            try:
                rule = Rule.model_validate(item)
            except ValidationError as err:
                problems += [f"{name}:{rule_id}: {reason}" for reason in _reasons(err)]
                continue
            if rule.id in seen:
                problems.append(f"{name}:{rule.id}: duplicate rule id (also in {seen[rule.id]})")
                continue
            seen[rule.id] = name
            loaded.append(LoadedRule(rule, name, rule.version or content_version(item)))
    for loaded_rule in loaded:
        problems += [f"{loaded_rule.file}:{loaded_rule.id}: if.after: no rule {other!r}"
                     for other in loaded_rule.rule.if_.after if other not in seen]
    if problems:
        raise RuleError(problems)
    return RuleSet(tuple(loaded), tuple(names))


def content_version(item: Any) -> str:
    canonical = json.dumps(item, sort_keys=True, ensure_ascii=False, default=str)
    return "h:" + hashlib.sha256(canonical.encode()).hexdigest()[:12]


def _rules_of(name: str, text: str, problems: list[str]) -> list[Any]:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as err:
        problems.append(f"{name}:-: not valid YAML: {err}".replace("\n", " "))
        return []
    if data is None:
        return []
    try:
        return list(RuleFile.model_validate(data).rules)
    except ValidationError as err:
        problems += [f"{name}:-: {reason}" for reason in _reasons(err)]
        return []


def _reasons(err: ValidationError) -> list[str]:
    reasons = []
    errors = err.errors()
    inner = {e["loc"][:i] for e in errors for i in range(1, len(e["loc"]))}
    for e in errors:
        if e["loc"] in inner:  # "at least one item" after the only item failed
            continue
        where = ".".join(str(p) for p in e["loc"])
        message = e["msg"].removeprefix("Value error, ")
        if e["type"] == "extra_forbidden":
            message = "unknown field"
        reasons.append(f"{where}: {message}" if where else message)
    return reasons
