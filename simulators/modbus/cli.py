"""`python -m simulators.modbus` (or `python -m simulators modbus`): run a fleet of simulated
Modbus devices until interrupted. The first line on stdout is JSON describing every station
(host, port, mode, unit -> register map), so a harness can poll them."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import signal
import sys
from collections.abc import Sequence

from simulators.modbus.fleet import Fleet, FleetPlan


def parse(argv: Sequence[str] | None = None) -> FleetPlan:
    parser = argparse.ArgumentParser(
        prog="python -m simulators modbus",
        description="Simulated elevators and meters as Modbus TCP servers on loopback.")
    parser.add_argument("--elevators", type=int, default=4)
    parser.add_argument("--meters", type=int, default=4,
                        help="meters, half energy (kWh) and half water (m³)")
    parser.add_argument("--units-per-port", type=int, default=4,
                        help="devices behind one TCP port, as behind one gateway")
    parser.add_argument("--port-base", type=int, default=15020,
                        help="first port; stations take consecutive ports (0: any free)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--hung-share", type=float, default=0.0,
                        help="share of the stations that accept connections, never answer")
    parser.add_argument("--fault-every", type=float, default=0.0,
                        help="mean seconds between elevator faults (0: none)")
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args(argv)
    if not 0 <= args.hung_share <= 1:
        parser.error("--hung-share must be between 0 and 1")
    return FleetPlan(elevators=args.elevators, energy_meters=(args.meters + 1) // 2,
                     water_meters=args.meters // 2, units_per_port=args.units_per_port,
                     port_base=args.port_base, host=args.host, hung_share=args.hung_share,
                     seed=args.seed, fault_every_s=args.fault_every)


async def serve(plan: FleetPlan) -> None:
    # SIGTERM (a harness stopping us) unwinds like Ctrl-C: the stations close their ports.
    asyncio.get_running_loop().add_signal_handler(
        signal.SIGTERM, asyncio.current_task().cancel)  # type: ignore[union-attr]
    fleet = Fleet(plan)
    await fleet.start()
    try:
        print(json.dumps({"stations": fleet.describe()}), flush=True)
        await fleet.inject_faults()
        await asyncio.Event().wait()  # until cancelled
    finally:
        await fleet.stop()


def main(argv: Sequence[str] | None = None) -> int:
    plan = parse(argv)
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # pymodbus logs a line per refused or broken request; a simulator of sick devices makes
    # plenty of those on purpose.
    logging.getLogger("pymodbus").setLevel(logging.CRITICAL)
    with contextlib.suppress(KeyboardInterrupt, asyncio.CancelledError):
        asyncio.run(serve(plan))
    return 0
