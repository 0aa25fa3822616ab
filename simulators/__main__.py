"""`python -m simulators [mqtt|modbus] ...`: one entry point, one module per protocol.

Each module named below has `main(argv: list[str]) -> int`. Without a subcommand the MQTT
simulators run, so `python -m simulators --broker mqtt://... --site lakeside` works.
"""

from __future__ import annotations

import importlib
import sys

SUBCOMMANDS = {
    "mqtt": "simulators.mqtt.cli",  # lights, gates, cameras, doors
    "modbus": "simulators.modbus.cli",  # elevators and meters as Modbus TCP servers
}
DEFAULT = "mqtt"


def main(argv: list[str]) -> int:
    name = argv[0] if argv and argv[0] in SUBCOMMANDS else DEFAULT
    rest = argv[1:] if argv and argv[0] in SUBCOMMANDS else argv
    try:
        module = importlib.import_module(SUBCOMMANDS[name])
    except ModuleNotFoundError as err:
        if err.name != SUBCOMMANDS[name]:
            raise
        print(f"the {name} simulators are not available: no module {err.name}", file=sys.stderr)
        return 2
    code: int = module.main(rest)
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
