"""`python -m simulators [mqtt] --broker mqtt://127.0.0.1:1883 --site lakeside ...`: run the
MQTT device simulators from a scenario file, or a community built from counts."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
from collections.abc import Coroutine
from pathlib import Path
from typing import Any

from simulators.mqtt.runner import community, read_passwords, run_scenario
from simulators.mqtt.scenario import Scenario, ScenarioError, load_scenario, scenario_from


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m simulators mqtt",
                                description="Simulated street lights, barrier gates, plate "
                                            "cameras and door controllers over MQTT.")
    p.add_argument("--broker", default="mqtt://127.0.0.1:1883", help="mqtt://host:port")
    p.add_argument("--site", help="site code (overrides the scenario's)")
    p.add_argument("--scenario", type=Path, help="scenario YAML (see simulators/mqtt/"
                                                 "scenario.py); without it, --lights etc.")
    p.add_argument("--credentials", type=Path,
                   help="credentials.yaml from `hub mosquitto config` (username: password)")
    p.add_argument("--lights", type=int, default=4)
    p.add_argument("--gates", type=int, default=2, help="each with an entry and exit camera")
    p.add_argument("--doors", type=int, default=2)
    p.add_argument("--fault-every", type=float, default=600.0,
                   help="seconds between recurring faults; 0 for none")
    p.add_argument("--fault", action="append", default=[], metavar="AT:DEVICE:FAULT[:FOR]",
                   help="one more fault, e.g. 120s:gate-north:stuck:60s (repeatable)")
    p.add_argument("--seed", type=int, help="repeat the same run")
    p.add_argument("--log-level", default="INFO")
    return p


def _scenario(args: argparse.Namespace) -> Scenario:
    overrides = {"site": args.site} if args.site else {}
    if args.scenario is not None:
        base = load_scenario(args.scenario, **overrides)
    else:
        base = community(args.site or "lakeside", lights=args.lights, gates=args.gates,
                         doors=args.doors, fault_every=args.fault_every or None)
    extra = [_fault(text) for text in args.fault]
    data = base.model_dump(by_alias=True)
    return scenario_from({**data, "faults": data["faults"] + extra}, "--fault")


def _fault(text: str) -> dict[str, str]:
    parts = text.split(":")
    if len(parts) not in (3, 4):
        raise ScenarioError(f"--fault {text!r}: expected AT:DEVICE:FAULT[:FOR]")
    return dict(zip(("at", "device", "fault", "for"), parts, strict=False))


def main(argv: list[str]) -> int:
    args = parser().parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        scenario = _scenario(args)
        passwords = read_passwords(args.credentials) if args.credentials else {}
    except ScenarioError as err:
        print(f"scenario error:\n{err}")
        return 2
    print(f"simulating {len(scenario.devices)} devices of {scenario.site} on {args.broker} "
          f"({len(scenario.faults)} faults scheduled); Ctrl-C stops", flush=True)
    asyncio.run(_until_stopped(run_scenario(scenario, args.broker, passwords,
                                            seed=args.seed)))
    return 0


async def _until_stopped(work: Coroutine[Any, Any, None]) -> None:
    """Run until Ctrl-C or SIGTERM, then let every device say "offline" on its way out.
    Handlers are installed explicitly: a process started in the background inherits an
    ignored SIGINT, and SIGTERM would otherwise end it without unwinding."""
    task = asyncio.ensure_future(work)
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, task.cancel)
    with contextlib.suppress(asyncio.CancelledError):
        await task
