"""The pymodbus boundary: one TCP connection and its reads. Library errors become one of two
exceptions here and nowhere else:

- `LinkError`: the link broke or never answered (`ModbusException`, `OSError`, a timeout,
  bytes that are not an answer). The whole connection is closed and backs off.
- `DeviceRefused`: the device answered with a Modbus exception response (`rr.isError()`).
  The link is fine; only that device backs off.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from pymodbus.client import AsyncModbusTcpClient
from pymodbus.exceptions import ConnectionException, ModbusException, ModbusIOException

from hub.devices.modbus.codec import ReadBlock
from hub.devices.modbus.registers import RegisterKind

# Modbus Application Protocol §7: the exception codes a device may answer with.
EXCEPTION_NAMES = {
    1: "illegal function", 2: "illegal data address", 3: "illegal data value",
    4: "device failure", 5: "acknowledge", 6: "device busy", 8: "memory parity error",
    10: "gateway path unavailable", 11: "gateway target failed to respond",
}

# pymodbus reconnects by itself after a loss it notices while idle. `0` would disable that,
# but pymodbus#1794 spun at 100% CPU on a zero delay; a link closes its client after every
# error anyway, which cancels pymodbus's own reconnect task, so this delay rarely matters.
_PYMODBUS_RECONNECT_DELAY_S = 1.0
_PYMODBUS_RECONNECT_DELAY_MAX_S = 30.0


class LinkError(Exception):
    def __init__(self, kind: str, detail: str) -> None:
        super().__init__(f"{kind}: {detail}")
        self.kind = kind  # connect | timeout | garbage | closed | protocol
        self.detail = detail


class DeviceRefused(Exception):
    def __init__(self, code: int) -> None:
        self.code = code
        self.name = EXCEPTION_NAMES.get(code, "unknown")
        super().__init__(f"exception {code} ({self.name})")

    @property
    def kind(self) -> str:
        return f"exception_{self.code}"


Registers = list[int] | list[bool]


class Link(Protocol):
    """One connection to one (host, port); reads are one at a time."""

    @property
    def connected(self) -> bool: ...
    async def connect(self) -> None: ...
    async def read(self, block: ReadBlock, unit: int, within_s: float) -> Registers: ...
    def close(self) -> None: ...


LinkFactory = Callable[[str, int, float], Link]


class PymodbusLink:
    """A `Link` over `AsyncModbusTcpClient`; a new client for every new connection."""

    def __init__(self, host: str, port: int, timeout: float) -> None:
        self.host, self.port, self.timeout = host, port, timeout
        self._client: AsyncModbusTcpClient | None = None
        self._bytes_in = 0  # since the last request: tells garbage from silence

    @property
    def connected(self) -> bool:
        return self._client is not None and self._client.connected

    async def connect(self) -> None:
        self.close()
        client = AsyncModbusTcpClient(
            self.host, port=self.port, timeout=self.timeout, retries=0,
            reconnect_delay=_PYMODBUS_RECONNECT_DELAY_S,
            reconnect_delay_max=_PYMODBUS_RECONNECT_DELAY_MAX_S,
            name=f"{self.host}:{self.port}", trace_packet=self._trace)
        try:
            async with asyncio.timeout(self.timeout * 2):
                ok = await client.connect()
        except (TimeoutError, OSError, ModbusException) as err:
            client.close()
            raise LinkError("connect", f"{type(err).__name__}: {err}") from None
        if not ok:
            client.close()
            raise LinkError("connect", f"cannot connect to {self.host}:{self.port}")
        self._client = client

    async def read(self, block: ReadBlock, unit: int, within_s: float) -> Registers:
        if self._client is None or not self._client.connected:
            raise LinkError("closed", "not connected")
        self._bytes_in = 0
        call = _READS[block.kind](self._client)
        try:
            async with asyncio.timeout(within_s):
                answer = await call(block.address, count=block.count, device_id=unit)
        except (TimeoutError, ModbusIOException) as err:
            if self._bytes_in:
                raise LinkError("garbage", f"{self._bytes_in} bytes, no answer") from None
            raise LinkError("timeout", f"no answer in {within_s:g}s") from err
        except ConnectionException as err:
            raise LinkError("closed", str(err)) from None
        except ModbusException as err:
            raise LinkError("protocol", str(err)) from None
        except OSError as err:
            raise LinkError("closed", f"{type(err).__name__}: {err}") from None
        if answer.isError():
            raise DeviceRefused(int(getattr(answer, "exception_code", 0)))
        return _payload(answer, block)

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    def _trace(self, sending: bool, data: bytes) -> bytes:
        if not sending:
            self._bytes_in += len(data)
        return data


def _payload(answer: Any, block: ReadBlock) -> Registers:
    """The values of an answer, refusing one that does not fit the request (a frame that
    parsed by chance, or a device answering another question)."""
    values = answer.bits if block.kind.is_bit else answer.registers
    # Bits come padded to whole bytes; registers come exactly as asked.
    fits = len(values) >= block.count if block.kind.is_bit else len(values) == block.count
    if not isinstance(values, list) or not fits:
        raise LinkError("garbage", f"answer of {len(values or [])} values for {block.count}")
    return values[:block.count] if block.kind.is_bit else values


_READS: dict[RegisterKind, Callable[[AsyncModbusTcpClient], Callable[..., Awaitable[Any]]]] = {
    RegisterKind.HOLDING: lambda c: c.read_holding_registers,
    RegisterKind.INPUT: lambda c: c.read_input_registers,
    RegisterKind.COIL: lambda c: c.read_coils,
    RegisterKind.DISCRETE: lambda c: c.read_discrete_inputs,
}
