"""All the Modbus devices one process polls: one supervised coordinator per connection.

The composition root builds `ModbusPolling` from the registry (`targets.target_for`) and the
register maps (`registers.load_register_maps`), then runs `await polling.run()` in its task
group. Devices are spread evenly over their period (by connection, then unit), so a thousand
devices at 1 Hz make a steady thousand reads a second rather than a burst every second.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime

from hub.devices.backoff import Backoff
from hub.devices.modbus.codec import MapDecoder
from hub.devices.modbus.device import PolledDevice
from hub.devices.modbus.link import LinkFactory, PymodbusLink
from hub.devices.modbus.poller import Coordinator, Reachability
from hub.devices.modbus.registers import RegisterMap
from hub.devices.modbus.stats import Observer
from hub.devices.modbus.targets import ModbusTarget
from hub.domain.observations import DeviceKey
from hub.health import HealthBoard
from hub.ports import Clock, Ingest
from hub.supervise import supervised

BackoffFactory = Callable[[], Backoff]

# The first polls start this long after `run()`: connections open before their first slot.
START_DELAY_S = 0.1


def default_backoff() -> Backoff:
    return Backoff(base=0.5, cap=30.0)


def _utc_now() -> datetime:
    return datetime.now(UTC)


class ModbusPolling:
    def __init__(self, targets: Sequence[ModbusTarget], maps: Mapping[str, RegisterMap], *,
                 ingest: Ingest, health: HealthBoard, on_reachability: Reachability,
                 clock: Clock = _utc_now, link_factory: LinkFactory = PymodbusLink,
                 backoff: BackoffFactory = default_backoff, observer: Observer | None = None,
                 boot: str | None = None, phase_offset: float = 0.0) -> None:
        self.boot = boot or f"modbus-{secrets.token_hex(4)}"
        self._health = health
        decoders = {name: MapDecoder(regmap) for name, regmap in maps.items()}
        self.devices: dict[DeviceKey, PolledDevice] = {}
        self.coordinators: list[Coordinator] = []
        groups = _by_endpoint(targets)
        for index, ((host, port), group) in enumerate(sorted(groups.items())):
            devices = [self._device(t, decoders, backoff,
                                    ((j + index / len(groups)) / len(group) + phase_offset) % 1)
                       for j, t in enumerate(sorted(group, key=lambda t: t.unit))]
            timeout = max(t.request_timeout_s for t in group)
            self.coordinators.append(Coordinator(
                host, port, devices, link=link_factory(host, port, timeout), backoff=backoff(),
                ingest=ingest, health=health, on_reachability=on_reachability, clock=clock,
                observer=observer))

    def _device(self, target: ModbusTarget, decoders: Mapping[str, MapDecoder],
                backoff: BackoffFactory, phase: float) -> PolledDevice:
        if target.register_map not in decoders:
            raise ValueError(f"device {target.key}: unknown register map "
                             f"{target.register_map!r} (known: {', '.join(sorted(decoders))})")
        if target.key in self.devices:
            raise ValueError(f"device {target.key} appears twice")
        device = PolledDevice(target, decoders[target.register_map], self.boot, backoff(), phase)
        self.devices[target.key] = device
        return device

    async def run(self) -> None:
        """Poll until cancelled; each connection restarts with backoff if it ever crashes."""
        _quiet_pymodbus()
        start = asyncio.get_running_loop().time() + START_DELAY_S
        async with asyncio.TaskGroup() as group:
            for coordinator in self.coordinators:
                coordinator.start(start)
                group.create_task(supervised(coordinator.name, coordinator.run, self._health),
                                  name=coordinator.name)


def _by_endpoint(targets: Sequence[ModbusTarget]) -> dict[tuple[str, int], list[ModbusTarget]]:
    groups: dict[tuple[str, int], list[ModbusTarget]] = {}
    for target in targets:
        group = groups.setdefault(target.endpoint, [])
        if any(t.unit == target.unit for t in group):
            raise ValueError(f"device {target.key}: {target.host}:{target.port} unit "
                             f"{target.unit} is already polled for another device")
        group.append(target)
    return groups


def _quiet_pymodbus() -> None:
    """pymodbus logs every failed request at ERROR, every poll of a dead device; the
    coordinators log an outage once instead. An explicit level set by the operator stays."""
    pymodbus_log = logging.getLogger("pymodbus")
    if pymodbus_log.level == logging.NOTSET:
        pymodbus_log.setLevel(logging.CRITICAL)
