"""`hub rules check [DIR]` and `hub rules replay EVENTS.jsonl [--rules DIR]`: no database."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Annotated

import typer

from hub.rules.actions import describe
from hub.rules.loader import RuleError, RuleSet, load_dir
from hub.rules.replay import replay

DEFAULT_RULES = Path("config/rules")
MAX_PROBLEMS_SHOWN = 20

rules_app = typer.Typer(help="Rules: validate them, replay recorded events through them.",
                        no_args_is_help=True)
RulesDir = Annotated[Path, typer.Option("--rules", "-r", help="The folder of rule files.")]


@rules_app.command("check")
def check(directory: Annotated[Path, typer.Argument(help="The folder of rule files.")]
          = DEFAULT_RULES) -> None:
    """Validate every rule file; print one line per rule, or every problem as file:rule: why."""
    rules = _load(directory)
    for loaded in rules.rules:
        rule = loaded.rule
        actions = ", ".join(a.name for a in rule.then)
        state = "" if rule.enabled else " (disabled)"
        typer.echo(f"{loaded.id}@{loaded.version}: {rule.when.event} -> {actions}{state}")
    kinds = Counter(r.rule.when.event for r in rules.rules)
    typer.echo(f"{len(rules.rules)} rules valid in {len(rules.files)} files ("
               + ", ".join(f"{k} {n}" for k, n in sorted(kinds.items())) + ")")


@rules_app.command("replay")
def replay_file(events: Annotated[Path, typer.Argument(help="Recorded events, one JSON per "
                                                            "line (docs/rules.md).")],
                rules_dir: RulesDir = DEFAULT_RULES) -> None:
    """Print what the rules would have done with the recorded events; touches nothing."""
    rules = _load(rules_dir)
    try:
        with events.open(encoding="utf-8") as lines:
            result = replay(lines, rules)
    except OSError as err:
        typer.secho(f"{events}: {err.strerror or err}", err=True, fg="red")
        raise typer.Exit(2) from None
    for fired in result.fired:
        typer.echo(describe(fired))
    kinds = Counter(f.command_kind for f in result.fired)
    typer.echo(f"{result.events} events, {len(result.fired)} outcomes"
               + "".join(f", {k} {n}" for k, n in sorted(kinds.items())))
    for problem in result.problems[:MAX_PROBLEMS_SHOWN]:
        typer.secho(f"{events}: {problem} (skipped)", err=True, fg="yellow")
    if result.problems:
        typer.secho(f"{len(result.problems)} lines skipped", err=True, fg="yellow")
        raise typer.Exit(1)


def _load(directory: Path) -> RuleSet:
    try:
        return load_dir(directory)
    except RuleError as err:
        for problem in err.problems:
            typer.secho(problem, err=True, fg="red")
        typer.secho(f"{len(err.problems)} problems: no rules loaded", err=True, fg="red")
        raise typer.Exit(1) from None
