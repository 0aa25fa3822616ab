"""Scenarios and plates without a broker: what a file may say, how a misread looks, and the
community the demo runs; then `python -m simulators` end to end on the shared broker."""

from __future__ import annotations

import asyncio
import os
import random
import signal
import sys
from pathlib import Path

import pytest

from simulators.__main__ import main as simulators_main
from simulators.mqtt.cameras import CONFUSABLE, PROVINCES, misread, plate_color
from simulators.mqtt.runner import build_devices, community
from simulators.mqtt.scenario import ScenarioError, load_scenario, parse_duration
from tests.integration.simulators.conftest import clear_retained
from tests.integration.simulators.watch import split_url, watching


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "lakeside.yaml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(("text", "seconds"), [
    ("500ms", 0.5), ("120s", 120.0), ("2m", 120.0), ("1.5h", 5400.0), (30, 30)])
def test_durations_read_with_their_unit(text: str | int, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize(("faults", "message"), [
    ("[{at: 1s, device: gate-south, fault: stuck}]", "faults.0: no device 'gate-south'"),
    ("[{at: 1s, device: gate-north, fault: lamp_failure}]",
     "faults.0: a gate cannot have fault 'lamp_failure'"),
    ("[{at: soon, device: gate-north, fault: stuck}]", "faults.0.at"),
    ("[{at: 1s, device: gate-north, fault: stuck, for: 2m, every: 1m}]",
     "`for` shorter than `every`"),
])
def test_bad_scenario_names_the_file_the_item_and_the_reason(
        tmp_path: Path, faults: str, message: str) -> None:
    path = write(tmp_path, f"site: lakeside\ndevices: [{{kind: gate, device: gate-north}}]\n"
                           f"faults: {faults}\n")
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    assert str(path) in str(caught.value) and message in str(caught.value)


def test_device_ids_outside_the_topic_grammar_are_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "devices: [{kind: gate, device: gate/#}]\n")
    with pytest.raises(ScenarioError, match=r"devices\.0\.gate\.device"):
        load_scenario(path)


def test_misread_changes_exactly_one_character_the_way_recognisers_do() -> None:
    rng = random.Random(2026)
    kinds = set()
    for plate in ["沪A12345", "沪AD12345", "粤BD12345", "沪B67890"] * 50:
        wrong = misread(plate, rng)
        changed = [i for i, (a, b) in enumerate(zip(plate, wrong, strict=True)) if a != b]
        assert len(changed) == 1
        i = changed[0]
        if i == 0:
            assert wrong[0] in PROVINCES
            kinds.add("province")
        else:
            assert CONFUSABLE[plate[i]] == wrong[i]
            kinds.add("character")
    assert kinds == {"province", "character"}


def test_plate_colour_follows_its_length() -> None:
    assert (plate_color("沪A12345"), plate_color("沪AD12345")) == ("blue", "green")


def test_demo_community_has_gates_with_entry_and_exit_cameras_and_recurring_faults() -> None:
    scenario = community("lakeside", lights=3, gates=2, doors=1, fault_every=300)
    devices = build_devices(scenario, "mqtt://127.0.0.1:1883")
    kinds = sorted(d.kind for d in devices.values())
    assert kinds == ["camera"] * 4 + ["door"] + ["gate"] * 2 + ["light"] * 3
    assert {(f.device, f.fault) for f in scenario.faults} == {
        ("light-1", "lamp_failure"), ("light-3", "offline"), ("gate-north", "stuck"),
        ("cam-north-in", "misread")}
    assert all(f.every == 300 and f.for_ is not None and f.for_ < 300 for f in scenario.faults)


@pytest.mark.mqtt
async def test_python_m_simulators_runs_a_scenario_file_until_terminated(
        tmp_path: Path, site: str, mqtt_url: str) -> None:
    path = write(tmp_path, """
        devices:
          - {kind: light, device: light-b3-1, lit: true}
          - {kind: gate, device: gate-north}
        faults:
          - {at: 0s, device: gate-north, fault: stuck}
    """)
    host, port = split_url(mqtt_url)
    async with watching(host, port, f"estate/{site}/#") as watch:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "simulators", "--broker", mqtt_url, "--site", site,
            "--scenario", str(path), "--log-level", "WARNING",
            stdout=asyncio.subprocess.PIPE, env={**os.environ, "PYTHONUNBUFFERED": "1"})
        try:
            stuck = await watch.wait_for(lambda s: s.topic.endswith("/gate/gate-north/event"))
            await watch.wait_for(lambda s: s.topic.endswith("/light/light-b3-1/telemetry"))
            process.send_signal(signal.SIGTERM)
            out, _ = await asyncio.wait_for(process.communicate(), 15)
            await watch.wait_for(lambda s: s.topic.endswith("/status")
                                 and s.payload == b'"offline"', count=2)
        finally:
            if process.returncode is None:
                process.kill()
                await process.wait()
            await clear_retained(mqtt_url, {s.topic for s in watch.seen if s.retain})

    assert process.returncode == 0
    assert f"simulating 2 devices of {site}" in out.decode()
    assert stuck[0].body["state"] == "stuck"


@pytest.mark.parametrize(("argv", "program"), [
    (["--help"], "python -m simulators mqtt"), (["mqtt", "--help"], "python -m simulators mqtt"),
    (["modbus", "--help"], "python -m simulators modbus")])
def test_python_m_simulators_dispatches_to_the_protocol_named_first(
        argv: list[str], program: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stopped:
        simulators_main(argv)
    assert stopped.value.code == 0
    assert capsys.readouterr().out.startswith(f"usage: {program}")
