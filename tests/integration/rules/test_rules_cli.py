"""`hub rules check` and `hub rules replay` as an operator runs them (in process)."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from hub.cli import app
from hub.launch import run_production
from hub.rules.actions import describe
from hub.rules.events import to_line
from hub.settings import load_settings
from tests.unit.test_rules_engine import PACKS, Feed, story

cli = CliRunner()


def test_check_prints_a_summary_of_the_shipped_packs() -> None:
    result = cli.invoke(app, ["rules", "check", str(PACKS)])
    assert result.exit_code == 0, result.output
    assert "elevator.trapped@1: fault -> raise_fault, notify" in result.output
    assert result.output.splitlines()[-1].startswith("18 rules valid in 4 files")


def test_check_names_every_bad_rule_and_fails(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(
        "rules:\n  - id: x\n    description: d\n    when: {event: offline}\n"
        "    then: [{withdraw: {}}]\n", encoding="utf-8")
    (tmp_path / "b.yaml").write_text(
        "rules:\n  - id: x\n    description: d\n    when: {event: offline, colour: red}\n"
        "    if: {for: 5 parsecs}\n    then: [{open_door: {}}]\n", encoding="utf-8")
    result = cli.invoke(app, ["rules", "check", str(tmp_path)])
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert f"{tmp_path / 'b.yaml'}:x: when.colour: unknown field" in lines
    assert any(line.startswith(f"{tmp_path / 'b.yaml'}:x: if.for: bad duration '5 parsecs'")
               for line in lines)
    assert any(line.startswith(f"{tmp_path / 'b.yaml'}:x: then.0: unknown action 'open_door'")
               for line in lines)


def test_replay_prints_what_a_live_feed_of_the_same_events_decided(tmp_path: Path) -> None:
    events = tmp_path / "events.jsonl"
    events.write_text("".join(to_line(e) + "\n" for e in story()), encoding="utf-8")
    live = Feed()
    live(*story())
    result = cli.invoke(app, ["rules", "replay", str(events), "--rules", str(PACKS)])
    assert result.exit_code == 0, result.output
    *printed, summary = result.output.splitlines()
    assert printed == [describe(f) for f in live.fired]
    assert summary.startswith(f"{len(list(story()))} events, {len(live.fired)} outcomes")


def test_replay_skips_and_reports_bad_lines(tmp_path: Path) -> None:
    events = tmp_path / "events.jsonl"
    events.write_text('{"kind": "fault", "ts": "2026-11-27T08:00:00Z"}\nnot json\n',
                      encoding="utf-8")
    result = cli.invoke(app, ["rules", "replay", str(events), "--rules", str(PACKS)])
    assert result.exit_code == 1
    assert "line 1: a fault event needs its device (skipped)" in result.output
    assert "line 2: not JSON" in result.output


async def test_a_bad_rule_stops_the_hub_naming_file_and_rule(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    (tmp_path / "rules").mkdir()
    bad = tmp_path / "rules" / "lifts.yaml"
    bad.write_text("rules:\n  - id: lift.x\n    description: d\n    when: {event: offline}\n"
                   "    if: {for: 5 parsecs}\n    then: [{withdraw: {}}]\n", encoding="utf-8")
    settings = load_settings(None, mode="demo", data_dir=tmp_path,
                             rules={"directory": str(tmp_path / "rules")},
                             ingest={"devices_file": ""})
    assert await run_production(settings) == 2
    assert f"not starting: rules:\n{bad}:lift.x: if.for: bad duration '5 parsecs'" in caplog.text
