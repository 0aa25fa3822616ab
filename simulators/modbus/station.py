"""One Modbus TCP endpoint — a device, or a gateway with several units behind it — and the
ways it can misbehave:

- per station (`set_mode`): `healthy` (a pymodbus server answering from the models), `down`
  (nothing listens: connections are refused), `hung` (accepts connections and reads requests,
  never answers), `garbage` (answers every request with random bytes);
- per unit while healthy (`behave`): `delay_s` (slow: answers after a delay) and
  `exception_codes` (answers Modbus exception responses, cycling through the codes).

The port stays the same across modes, so a client sees one device go away and come back.
"""

from __future__ import annotations

import asyncio
import functools
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import TracebackType
from typing import Protocol, Self

from pymodbus.constants import ExcCodes
from pymodbus.server import ModbusTcpServer
from pymodbus.simulator import DataType, SimData, SimDevice


class Model(Protocol):
    def start(self, now: float) -> None: ...
    def advance(self, now: float) -> None: ...
    def registers(self) -> list[int]: ...


class Mode(StrEnum):
    HEALTHY = "healthy"
    DOWN = "down"
    HUNG = "hung"
    GARBAGE = "garbage"


@dataclass
class Behaviour:
    delay_s: float = 0.0
    exception_codes: tuple[int, ...] = ()
    answered_exceptions: int = 0


class Station:
    def __init__(self, units: Mapping[int, Model], *, host: str = "127.0.0.1", port: int = 0,
                 clock: Callable[[], float] = time.monotonic,
                 rng: random.Random | None = None) -> None:
        self.units = dict(units)
        self.host, self.port = host, port
        self.mode = Mode.DOWN
        self.requests = 0  # requests received, answered or not
        self.connections = 0
        self._clock = clock
        self._rng = rng or random.Random()  # noqa: S311 - a simulation, not a secret
        self._behaviour = {unit: Behaviour() for unit in self.units}
        self._modbus: ModbusTcpServer | None = None
        self._raw: asyncio.Server | None = None
        self._raw_peers: set[asyncio.StreamWriter] = set()
        now = clock()
        for model in self.units.values():
            model.start(now)

    async def __aenter__(self) -> Self:
        await self.set_mode(Mode.HEALTHY)
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        await self.set_mode(Mode.DOWN)

    def behave(self, unit: int | None = None, *, delay_s: float = 0.0,
               exception_codes: tuple[int, ...] = ()) -> None:
        """Make one unit (or all) slow or refusing; `behave()` alone makes them well again."""
        for each in [unit] if unit is not None else list(self.units):
            self._behaviour[each] = Behaviour(delay_s, exception_codes)

    def exceptions_answered(self, unit: int) -> int:
        return self._behaviour[unit].answered_exceptions

    async def set_mode(self, mode: Mode) -> None:
        await self._close()
        if mode is Mode.HEALTHY:
            await self._serve_modbus()
        elif mode in (Mode.HUNG, Mode.GARBAGE):
            handler = self._hung_peer if mode is Mode.HUNG else self._garbage_peer
            self._raw = await asyncio.start_server(handler, self.host, self.port)
            self.port = self._raw.sockets[0].getsockname()[1]
        self.mode = mode

    async def _serve_modbus(self) -> None:
        devices = [SimDevice(id=unit, simdata=[SimData(0, values=model.registers(),
                                                       datatype=DataType.REGISTERS)],
                             action=functools.partial(self._answer, unit))
                   for unit, model in self.units.items()]
        server = ModbusTcpServer(devices, address=(self.host, self.port),
                                 trace_connect=self._connected)
        await server.serve_forever(background=True)
        self._modbus = server
        # The TCP listener: an asyncio.Server, or uvloop's own Server class (not a subclass).
        sockets = getattr(server.transport, "sockets", None)
        if not sockets:
            raise RuntimeError(f"modbus simulator: no listening socket on {self.host}")
        self.port = sockets[0].getsockname()[1]

    async def _answer(self, unit: int, _function_code: int, _start: int, _address: int,
                      _count: int, registers: list[int],
                      written: list[int] | list[bool] | None) -> ExcCodes | None:
        """pymodbus calls this on every request, before it answers from `registers`."""
        self.requests += 1
        behaviour = self._behaviour[unit]
        if behaviour.delay_s:
            await asyncio.sleep(behaviour.delay_s)
        if behaviour.exception_codes:
            code = behaviour.exception_codes[
                behaviour.answered_exceptions % len(behaviour.exception_codes)]
            behaviour.answered_exceptions += 1
            return ExcCodes(code)
        if written is not None:
            return ExcCodes.ILLEGAL_FUNCTION  # a monitor: read-only
        model = self.units[unit]
        model.advance(self._clock())
        values = model.registers()
        registers[:len(values)] = values
        return None

    def _connected(self, connected: bool) -> None:
        self.connections += int(connected)

    async def _hung_peer(self, reader: asyncio.StreamReader,
                         writer: asyncio.StreamWriter) -> None:
        await self._serve_raw(reader, writer, answer=False)

    async def _garbage_peer(self, reader: asyncio.StreamReader,
                            writer: asyncio.StreamWriter) -> None:
        await self._serve_raw(reader, writer, answer=True)

    async def _serve_raw(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, *,
                         answer: bool) -> None:
        self.connections += 1
        self._raw_peers.add(writer)
        try:
            while await reader.read(260):  # one Modbus TCP frame at most
                self.requests += 1
                if answer:
                    writer.write(self._rng.randbytes(self._rng.randint(3, 40)))
                    await writer.drain()
        except ConnectionError:
            pass  # the client gave up on us: that is the point
        finally:
            self._raw_peers.discard(writer)
            writer.close()

    async def _close(self) -> None:
        if self._modbus is not None:
            await self._modbus.shutdown()  # type: ignore[no-untyped-call]
            self._modbus = None
        if self._raw is not None:
            self._raw.close()
            for writer in list(self._raw_peers):
                writer.close()
            await self._raw.wait_closed()
            self._raw = None
