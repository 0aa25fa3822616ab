"""The `hub bench` commands. Each prints a human summary, then one JSON object on its last
line. Heavy imports wait until a command runs, so `hub --help` stays quick."""

from __future__ import annotations

import asyncio
import json
import logging
from pathlib import Path
from typing import Annotated

import typer

from hub import loops

# The hub's event loop in the benchmark, as `event_loop` in the settings (hub.loops).
LoopOption = Annotated[str, typer.Option(
    "--loop", help="The hub's event loop: uvloop (as `hub run` by default) or asyncio.")]

# Scale-out as DESIGN.md §1 has it (hub.bench.workers).
WorkersOption = Annotated[int, typer.Option(
    "--workers", min=1, max=16, help="Hub processes on one MQTT 5 shared subscription and one "
    "database (DESIGN.md §1); 1: the hub runs in the benchmark's process.")]

EventsApartOption = Annotated[bool, typer.Option(
    "--events-apart", help="With --workers: events, status and command acks on the last "
    "worker (mqtt.channels), telemetry on the others.")]

bench_app = typer.Typer(help="Benchmarks against real components; the last line is JSON.",
                        no_args_is_help=True)


@bench_app.command("modbus")
def modbus(
    devices: Annotated[int, typer.Option(min=1, help="Simulated elevators.")] = 1000,
    hung_share: Annotated[float, typer.Option(
        min=0.0, max=0.9, help="Share of the gateways that accept, never answer.")] = 0.1,
    seconds: Annotated[float, typer.Option(min=1.0, help="Measured window.")] = 30.0,
    warmup: Annotated[float, typer.Option(min=0.0, help="Seconds before measuring.")] = 5.0,
    period: Annotated[float, typer.Option(min=0.1, help="Poll period of every device.")] = 1.0,
    units_per_port: Annotated[int, typer.Option(
        min=1, max=247, help="Devices behind one TCP port (one gateway).")] = 4,
    sim_processes: Annotated[int, typer.Option(
        min=1, help="Processes the simulators are spread over.")] = 1,
    registers: Annotated[Path | None, typer.Option(help="Register maps folder.")] = None,
) -> None:
    """Poll N simulated elevators at 1 Hz from this one process, while a share is hung."""
    from hub.bench.modbus import REPO_REGISTERS, BenchPlan, describe, run

    logging.basicConfig(level=logging.ERROR)
    plan = BenchPlan(devices=devices, hung_share=hung_share, seconds=seconds, warmup_s=warmup,
                     period_s=period, units_per_port=units_per_port,
                     sim_processes=sim_processes, registers=registers or REPO_REGISTERS)
    result = asyncio.run(run(plan))
    typer.echo(describe(result))
    typer.echo(json.dumps(result))


@bench_app.command("ingest")
def ingest(
    devices: Annotated[int, typer.Option(min=1, help="Simulated meters.")] = 50,
    rate: Annotated[float, typer.Option(min=1.0, help="Messages/s from all devices.")] = 10_000,
    seconds: Annotated[float, typer.Option(min=1.0, help="Measured window.")] = 20.0,
    warmup: Annotated[float, typer.Option(min=0.0, help="Seconds before measuring.")] = 3.0,
    broker: Annotated[str | None, typer.Option(
        help="mqtt://host:port of a broker to use instead of starting Mosquitto.")] = None,
    database: Annotated[str | None, typer.Option(
        help="SQLAlchemy URL (migrated first); default: SQLite in a temporary folder.")] = None,
    publishers: Annotated[int, typer.Option(min=1, help="Publisher processes.")] = 2,
    client: Annotated[str, typer.Option(
        help="The publishers' MQTT client: raw (a few µs per message) or paho.")] = "raw",
    backlog: Annotated[int, typer.Option(
        min=1000, max=60_000, help="Messages the hub, then each bare subscriber, drain alone "
        "(at most 60,000: Mosquitto 2.0.11 reuses packet ids beyond 65,535 in flight).")
    ] = 50_000,
    incoming_queue: Annotated[int, typer.Option(
        min=10, help="The hub's MQTT incoming queue: reading from the broker pauses when it "
        "is full.")] = 20_000,
    workers: WorkersOption = 1,
    loop: LoopOption = "uvloop",
) -> None:
    """MQTT telemetry (QoS 1) through the hub's ingestion into storage: messages/s sustained,
    latency, and the ceiling of a bare subscriber on the same broker."""
    from hub.bench.ingest import IngestPlan, run
    from hub.bench.report import describe

    if client not in ("raw", "paho"):
        raise typer.BadParameter("raw or paho", param_hint="--client")
    logging.basicConfig(level=logging.ERROR)
    plan = IngestPlan(devices=devices, rate=rate, seconds=seconds, warmup_s=warmup,
                      broker=broker, database=database, publishers=publishers, backlog=backlog,
                      client=client, incoming_queue=incoming_queue, workers=workers,
                      event_loop=_loop(loop))
    result = loops.run(run(plan), _loop(loop)) | {"event_loop": loop}
    typer.echo(describe(result))
    typer.echo(json.dumps(result))


@bench_app.command("fault")
def fault(
    faults: Annotated[int, typer.Option(min=1, help="Lifts, one fault each.")] = 200,
    rate: Annotated[float, typer.Option(
        min=0.0, help="Background telemetry, messages/s from all meters.")] = 5000,
    meters: Annotated[int, typer.Option(min=1, help="Meters publishing the background.")] = 50,
    warmup: Annotated[float, typer.Option(min=0.0, help="Seconds of background first.")] = 3.0,
    interval: Annotated[float, typer.Option(
        min=0.01, help="Seconds between two faults (open loop: not waiting for orders).")
    ] = 0.25,
    broker: Annotated[str | None, typer.Option(
        help="mqtt://host:port of a broker to use instead of starting Mosquitto.")] = None,
    database: Annotated[str | None, typer.Option(
        help="SQLAlchemy URL (migrated first); default: SQLite in a temporary folder.")] = None,
    publishers: Annotated[int, typer.Option(min=1, help="Publisher processes.")] = 2,
    workers: WorkersOption = 1,
    events_apart: EventsApartOption = False,
    loop: LoopOption = "uvloop",
) -> None:
    """A lift's fault event published to the broker until its work order is visible through
    the API, under background telemetry: p50/p99."""
    from hub.bench.fault import FaultPlan, describe, run

    logging.basicConfig(level=logging.ERROR)
    plan = FaultPlan(faults=faults, rate=rate, meters=meters, warmup_s=warmup,
                     interval_s=interval, broker=broker, database=database,
                     publishers=publishers, workers=workers,
                     events_apart=_apart(events_apart, workers), event_loop=_loop(loop))
    result = loops.run(run(plan), _loop(loop)) | {"event_loop": loop}
    typer.echo(describe(result))
    typer.echo(json.dumps(result))


@bench_app.command("gate")
def gate(
    events: Annotated[int, typer.Option(min=1, help="Measured plate reads.")] = 300,
    lanes: Annotated[int, typer.Option(min=1, help="Entry lanes, a camera and gate each.")
                     ] = 4,
    rate: Annotated[float, typer.Option(
        min=0.0, help="Background telemetry, messages/s from all meters.")] = 2000,
    meters: Annotated[int, typer.Option(min=1, help="Meters publishing the background.")] = 50,
    warmup: Annotated[int, typer.Option(min=1, help="Reads before the measured ones.")] = 20,
    interval: Annotated[float, typer.Option(
        min=0.005, help="Seconds between two reads (open loop: not waiting for barriers).")
    ] = 0.1,
    broker: Annotated[str | None, typer.Option(
        help="mqtt://host:port of a broker to use instead of starting Mosquitto.")] = None,
    database: Annotated[str | None, typer.Option(
        help="SQLAlchemy URL of a server: a fresh database is created there, migrated and "
        "dropped afterwards; default: SQLite in a temporary folder.")] = None,
    publishers: Annotated[int, typer.Option(min=1, help="Publisher processes.")] = 2,
    workers: WorkersOption = 1,
    events_apart: EventsApartOption = False,
    loop: LoopOption = "uvloop",
) -> None:
    """A camera's plate read (with its text) published to the broker until the barrier's
    `open` reaches the simulated gate, under background telemetry: p50/p99."""
    from hub.bench.gate import GatePlan, describe, run

    logging.basicConfig(level=logging.ERROR)
    plan = GatePlan(events=events, lanes=lanes, rate=rate, meters=meters, warmup=warmup,
                    interval_s=interval, broker=broker, database=database,
                    publishers=publishers, workers=workers,
                    events_apart=_apart(events_apart, workers), event_loop=_loop(loop))
    result = loops.run(run(plan), _loop(loop)) | {"event_loop": loop}
    typer.echo(describe(result))
    typer.echo(json.dumps(result))


@bench_app.command("billing")
def billing(
    units: Annotated[int, typer.Option(min=1, help="Units of the seeded community.")] = 10_000,
    database: Annotated[str | None, typer.Option(
        help="SQLAlchemy URL of a server: a fresh database is created there, migrated and "
        "dropped afterwards; default: SQLite in a temporary folder.")] = None,
    parking_share: Annotated[float, typer.Option(
        min=0.0, max=1.0, help="Share of the units renting a parking space.")] = 0.3,
    history: Annotated[bool, typer.Option(
        help="Bill the previous month first (untimed).")] = True,
) -> None:
    """A monthly billing run (three fee items) of N units: preview, commit, commit again."""
    from hub.bench.billing import BillingPlan, describe, run

    logging.basicConfig(level=logging.ERROR)
    result = asyncio.run(run(BillingPlan(units=units, database=database,
                                         parking_share=parking_share, history=history)))
    typer.echo(describe(result))
    typer.echo(json.dumps(result))


@bench_app.command("api")
def api(
    accounts: Annotated[int, typer.Option(min=1, help="Resident accounts (households).")] = 200,
    clients: Annotated[int, typer.Option(min=1, help="Concurrent clients.")] = 32,
    seconds: Annotated[float, typer.Option(min=1.0, help="Measured window.")] = 10.0,
    warmup: Annotated[float, typer.Option(min=0.0, help="Seconds before measuring.")] = 2.0,
    database: Annotated[str | None, typer.Option(
        help="SQLAlchemy URL of a server: a fresh database is created there, migrated and "
        "dropped afterwards; default: SQLite in a temporary folder.")] = None,
    workers: Annotated[int, typer.Option(
        min=1, max=8, help="Hub processes, each on its own loopback port.")] = 1,
    loop: LoopOption = "uvloop",
) -> None:
    """Residents reading their bills, notifications and announcements at once, against the
    hub served by uvicorn on a loopback port: requests/s, p50/p99, errors."""
    from hub.bench.api import ApiPlan, describe, run

    logging.basicConfig(level=logging.ERROR)
    result = asyncio.run(run(ApiPlan(accounts=accounts, clients=clients, seconds=seconds,
                                     warmup_s=warmup, database=database,
                                     workers=workers, event_loop=_loop(loop))))
    result["event_loop"] = loop
    typer.echo(describe(result))
    typer.echo(json.dumps(result))


@bench_app.command("plates")
def plates(
    seed: Annotated[int, typer.Option(help="Seed of the generated snapshots.")] = 2026,
    count: Annotated[int, typer.Option(
        min=1, help="Snapshots in each set: clean, hard and plate-less.")] = 200,
) -> None:
    """The plate reader on seeded generated snapshots: exact plates clean and hard,
    characters, false reads on plate-less snapshots, milliseconds per 1280x720 on one core."""
    from hub.bench.plates import PlatesPlan, describe, run, summary

    result = run(PlatesPlan(seed=seed, count=count))
    typer.echo(describe(result))
    typer.echo(json.dumps(summary(result), ensure_ascii=False))


def _apart(events_apart: bool, workers: int) -> bool:
    if events_apart and workers < 2:
        raise typer.BadParameter("needs --workers 2 or more", param_hint="--events-apart")
    return events_apart


def _loop(name: str) -> loops.EventLoopKind:
    if name == "uvloop":
        return "uvloop"
    if name == "asyncio":
        return "asyncio"
    raise typer.BadParameter("uvloop or asyncio", param_hint="--loop")
