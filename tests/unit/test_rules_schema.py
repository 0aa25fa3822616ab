"""Rule files: bad rules are refused with the file and the rule named; good ones load."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from hub.rules.durations import parse_count, parse_duration
from hub.rules.loader import RuleError, load_dir, load_texts

GOOD = """
rules:
  - id: lift.trapped
    description: trapped
    when: {event: fault, kind: [elevator], codes: [TRAPPED_AT_FLOOR]}
    then:
      - raise_fault: {priority: P1, title: "Trapped in {device}"}
"""


def problems_of(text: str, name: str = "config/rules/lifts.yaml") -> tuple[str, ...]:
    with pytest.raises(RuleError) as caught:
        load_texts([(name, text)])
    return caught.value.problems


def test_a_good_rule_loads_with_a_content_version() -> None:
    rules = load_texts([("lifts.yaml", GOOD)])
    (loaded,) = rules.rules
    assert loaded.id == "lift.trapped" and loaded.file == "lifts.yaml"
    assert loaded.version.startswith("h:") and len(loaded.version) == 14
    # The same content, the same version; another content, another.
    assert load_texts([("x.yaml", GOOD)]).rules[0].version == loaded.version
    changed = GOOD.replace("P1", "P2")
    assert load_texts([("x.yaml", changed)]).rules[0].version != loaded.version


def test_an_explicit_version_is_kept() -> None:
    text = GOOD.replace("    description: trapped", "    version: '7'\n    description: trapped")
    assert load_texts([("x.yaml", text)]).rules[0].version == "7"


def test_unknown_field_names_file_rule_and_field() -> None:
    text = GOOD.replace("kind: [elevator]", "kind: [elevator], colour: red")
    assert problems_of(text) == ("config/rules/lifts.yaml:lift.trapped: when.colour: "
                                 "unknown field",)


def test_unknown_action_is_named() -> None:
    text = GOOD.replace("raise_fault:", "open_door:")
    (problem,) = problems_of(text)
    assert problem.startswith("config/rules/lifts.yaml:lift.trapped: then.0: "
                              "unknown action 'open_door'")


def test_five_parsecs_is_not_a_duration() -> None:
    text = GOOD.replace("codes: [TRAPPED_AT_FLOOR]}", "codes: [TRAPPED_AT_FLOOR]}\n"
                        "    if: {for: 5 parsecs}")
    (problem,) = problems_of(text)
    assert problem.startswith("config/rules/lifts.yaml:lift.trapped: if.for: "
                              "bad duration '5 parsecs'")


def test_duplicate_id_across_files_names_both() -> None:
    with pytest.raises(RuleError) as caught:
        load_texts([("a.yaml", GOOD), ("b.yaml", GOOD)])
    assert caught.value.problems == ("b.yaml:lift.trapped: duplicate rule id (also in a.yaml)",)


def test_unknown_operator_and_wrong_operand() -> None:
    text = GOOD.replace("codes: [TRAPPED_AT_FLOOR]}", "codes: [TRAPPED_AT_FLOOR]}\n"
                        "    if: {all: [{metric: speed, op: '=~', value: 3}]}")
    (problem,) = problems_of(text)
    assert problem.startswith("config/rules/lifts.yaml:lift.trapped: if.all.0.op:")
    text = GOOD.replace("codes: [TRAPPED_AT_FLOOR]}", "codes: [TRAPPED_AT_FLOOR]}\n"
                        "    if: {all: [{metric: speed, op: '>', value: fast}]}")
    assert "needs a number" in problems_of(text)[0]


def test_unknown_mode_placeholder_and_after() -> None:
    text = GOOD.replace("codes: [TRAPPED_AT_FLOOR]}", "codes: [TRAPPED_AT_FLOOR]}\n"
                        "    if: {unless_mode: [holiday], after: [nope]}")
    (problem,) = problems_of(text)
    assert "if.unless_mode.0" in problem
    text = GOOD.replace("{device}", "{password}")
    assert "unknown placeholder {password}" in problems_of(text)[0]
    text = GOOD.replace("codes: [TRAPPED_AT_FLOOR]}", "codes: [TRAPPED_AT_FLOOR]}\n"
                        "    if: {after: [nope]}")
    assert problems_of(text) == ("config/rules/lifts.yaml:lift.trapped: if.after: "
                                 "no rule 'nope'",)


def test_every_problem_is_listed_and_a_rule_without_id_is_named_by_question_mark() -> None:
    text = GOOD + """
  - description: no id
    when: {event: offline}
    then: [{withdraw: {}}]
  - id: b
    description: wrong field for the event
    when: {event: offline, codes: [X]}
    then: [{withdraw: {}}]
"""
    found = problems_of(text, "f.yaml")
    assert found[0] == "f.yaml:?: id: Field required"
    assert found[1] == "f.yaml:b: when: codes and active apply to event: fault only"


def test_yaml_errors_and_stray_top_level_keys() -> None:
    assert problems_of("rules: [", "f.yaml")[0].startswith("f.yaml:-: not valid YAML")
    assert problems_of("rulez: []", "f.yaml") == ("f.yaml:-: rulez: unknown field",)


def test_durations_and_counts() -> None:
    assert parse_duration("90s") == timedelta(seconds=90)
    assert parse_duration("1h30m") == timedelta(minutes=90)
    assert parse_duration("250ms") == timedelta(milliseconds=250)
    for bad in ("5 parsecs", "5", 5, "", "m5", "5 s s"):
        with pytest.raises(ValueError, match=r"bad duration|duration must be text"):
            parse_duration(bad)
    assert parse_count("3 within 10m") == (3, timedelta(minutes=10))
    with pytest.raises(ValueError, match="bad count"):
        parse_count("three within 10m")


def test_the_shipped_packs_load() -> None:
    rules = load_dir(Path(__file__).parents[2] / "config" / "rules")
    ids = {r.id for r in rules.rules}
    assert {"elevator.trapped", "lighting.lamp-dead", "gate.barrier-stuck", "device.offline",
            "downtime.offline", "lighting.dusk"} <= ids
    assert all(r.version == "1" for r in rules.rules)
