"""The ceiling: a bare QoS 1 subscriber that only counts, in a process of its own.

It connects as the hub's adapter does (MQTT 5, persistent session, receive maximum 1,000,
QoS 1) and drains a backlog the broker holds for its session. Two ways of reading:

- `aiomqtt`: the adapter's own stack, read the adapter's way (straight from aiomqtt's
  incoming queue while it holds messages; aiomqtt's `async for` starts a task per message,
  which would make the ceiling lower than the hub). paho acknowledges on arrival.
- `paho`: paho's own loop, driven from one thread, counting in `on_message`: no asyncio at
  all, the cheapest way a Python program can take QoS 1 messages off a socket.

`python -m hub.bench.bare` reads a JSON request on stdin and writes a JSON answer on stdout.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
import time
from dataclasses import asdict, dataclass
from typing import Any

import aiomqtt
import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

RECEIVE_MAXIMUM = 1000  # the hub's default (settings mqtt.receive_maximum)
SESSION_EXPIRY_S = 3600


@dataclass(frozen=True)
class BareRequest:
    host: str
    port: int
    client_id: str
    topic: str
    mode: str  # "aiomqtt" | "paho"
    expected: int = 0  # 0: subscribe and leave (the session then collects the backlog)
    within_s: float = 120.0


@dataclass
class BareResult:
    mode: str
    received: int = 0
    seconds: float = 0.0  # from the connection attempt to the last message
    cpu_s: float = 0.0

    @property
    def msgs_per_s(self) -> float:
        return self.received / self.seconds if self.seconds > 0 else 0.0


def _connect_properties() -> Properties:
    props = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
    props.SessionExpiryInterval = SESSION_EXPIRY_S
    props.ReceiveMaximum = RECEIVE_MAXIMUM
    return props


async def _aiomqtt(request: BareRequest, result: BareResult) -> None:
    captured: list[asyncio.Queue[aiomqtt.Message]] = []

    class Captured(asyncio.Queue[aiomqtt.Message]):
        def __init__(self, maxsize: int = 0) -> None:
            super().__init__(maxsize)
            captured.append(self)

    started = time.perf_counter()
    # Unbounded: paho acknowledges on arrival here, so the receive maximum does not bound
    # what waits in the queue, and aiomqtt would drop what does not fit.
    async with aiomqtt.Client(
            request.host, request.port, identifier=request.client_id,
            protocol=aiomqtt.ProtocolVersion.V5, clean_start=False,
            properties=_connect_properties(), queue_type=Captured,
            max_queued_incoming_messages=0) as client:
        await client.subscribe(request.topic, qos=1)
        if not request.expected:
            return
        messages, queue = client.messages, captured[0]
        async with asyncio.timeout(request.within_s):
            while result.received < request.expected:
                _ = queue.get_nowait() if queue.qsize() else await anext(messages)
                result.received += 1
        result.seconds = time.perf_counter() - started


def _paho(request: BareRequest, result: BareResult) -> None:
    client = paho.Client(CallbackAPIVersion.VERSION2, client_id=request.client_id,
                         protocol=paho.MQTTv5)
    last = [0.0]

    def on_message(_c: paho.Client, _u: Any, _m: paho.MQTTMessage) -> None:
        result.received += 1
        last[0] = time.perf_counter()

    client.on_message = on_message
    started = time.perf_counter()
    client.connect(request.host, request.port, keepalive=60, clean_start=False,
                   properties=_connect_properties())
    client.subscribe(request.topic, qos=1)
    deadline = time.perf_counter() + request.within_s
    if not request.expected:
        for _ in range(20):  # enough round trips for the SUBACK
            client.loop(0.05)
    while result.received < request.expected and time.perf_counter() < deadline:
        client.loop(0.1)
    if request.expected and result.received:
        result.seconds = last[0] - started
    client.disconnect()


def serve(request: BareRequest) -> BareResult:
    result = BareResult(request.mode)
    cpu = time.process_time()
    if request.mode == "paho":
        _paho(request, result)
    else:
        with contextlib.suppress(TimeoutError):  # reported: fewer messages than expected
            asyncio.run(_aiomqtt(request, result))
    result.cpu_s = time.process_time() - cpu
    return result


async def run_bare(request: BareRequest) -> BareResult:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "hub.bench.bare", stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE)
    out, _ = await process.communicate(json.dumps(asdict(request)).encode())
    if process.returncode != 0 or not out:
        raise RuntimeError(f"the bare subscriber exited with status {process.returncode}")
    return BareResult(**json.loads(out))


def main() -> None:
    request = BareRequest(**json.loads(sys.stdin.buffer.read()))
    sys.stdout.write(json.dumps(asdict(serve(request))))


if __name__ == "__main__":
    main()
