"""A simulated barrier gate: `open`/`close`/`display` commands, `barrier` events (open, closed,
stuck), and a `passed` event from the loop detector when a vehicle drives through.

After an `open`, the waiting vehicle passes and the barrier closes by itself after
`hold_s`. The stuck fault jams the barrier where it is: it reports `stuck`, refuses
commands with the error "stuck", and reports `closed` again when the fault clears.
`display` shows a text (a fee to pay) on the lane's screen; the gate keeps what it showed.

Offline (issue 6): the gate keeps the hub's retained allow-list (`allowlist` channel,
docs/devices.md §7). The camera of its lane tells it of every read (`vehicle_read`, called as
the camera sees the car, before its event goes out); when no `open`, `close` or `display`
comes from the hub within `hub_timeout_s`, the gate decides alone: a plate on a valid entry of
a valid list opens the barrier, any other stays closed. Every such decision is logged, and
reported in `offline_log` events as soon as the hub shows it is back (a command, or an
allow-list published live rather than replayed from the broker's store).
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, ClassVar

import aiomqtt

from simulators.mqtt.commands import Action, Refused
from simulators.mqtt.device import Link, SimulatedDevice

log = logging.getLogger(__name__)

STUCK = "stuck"
HUB_TIMEOUT_S = 2.0
# Two reads of one car this close together are one car (a camera's repeated read).
REPEAT_WINDOW_S = 5.0
# The contract's bound on one offline_log event (hub.devices.mqtt.codec.MAX_OFFLINE_ENTRIES).
ENTRIES_PER_EVENT = 200
# What the gate remembers of a long outage; older decisions are dropped, and counted.
MAX_LOGGED = 5000


class BadAllowList(ValueError):
    pass


@dataclass(frozen=True)
class AllowList:
    """The hub's list of plates this gate may admit alone, as last received."""

    version: int
    issued: datetime
    valid_until: datetime
    plates: Mapping[str, datetime | None]  # normalised plate -> end of its entry, or open

    def admits(self, plate: str, at: datetime) -> bool:
        if at > self.valid_until or plate not in self.plates:
            return False
        until = self.plates[plate]
        return until is None or at <= until


def parse_allowlist(payload: bytes) -> AllowList:
    try:
        data = json.loads(payload)
        plates: dict[str, datetime | None] = {}
        for entry in data["plates"]:
            until = entry.get("until")
            plates[_plain(entry["plate"])] = None if until is None else _instant(until)
        version = data["version"]
        if not isinstance(version, int) or isinstance(version, bool) or version < 1:
            raise BadAllowList("version")
        return AllowList(version, _instant(data["issued"]), _instant(data["valid_until"]),
                         plates)
    except (ValueError, KeyError, TypeError, AttributeError) as err:
        raise BadAllowList(f"not an allow-list: {err}") from None


def _instant(value: Any) -> datetime:
    at = datetime.fromisoformat(value)
    if at.tzinfo is None:
        raise BadAllowList("a time without offset")
    return at


def _plain(plate: str) -> str:
    """The gate compares plates as the hub writes them: upper case, no separators."""
    return "".join(ch for ch in plate if ch.isalnum()).upper()


@dataclass(frozen=True)
class Shown:
    """What a `display` command put on the lane's screen."""

    text: str
    amount: str | None
    session_id: int | str | None
    at: datetime


class BarrierGate(SimulatedDevice):
    kind: ClassVar[str] = "gate"
    faults: ClassVar[frozenset[str]] = SimulatedDevice.faults | {STUCK}

    def __init__(self, site: str, device: str, link: Link, *, lane: str = "main",
                 pass_after_s: float = 1.5, hold_s: float = 5.0, pass_probability: float = 1.0,
                 hub_timeout_s: float = HUB_TIMEOUT_S, **options: Any) -> None:
        super().__init__(site, device, link, **options)
        self.lane = lane
        self.pass_after_s, self.hold_s = pass_after_s, hold_s
        self.pass_probability = pass_probability
        self.hub_timeout_s = hub_timeout_s
        self.state = "closed"
        self.passes = 0
        self.allowlist: AllowList | None = None
        self.shown: list[Shown] = []
        self.decided_alone: list[dict[str, Any]] = []  # every offline decision, for a test
        self.unreported: deque[dict[str, Any]] = deque(maxlen=MAX_LOGGED)
        self.reported: list[dict[str, Any]] = []
        self._heard = 0  # commands from the hub carried out: the hub is there
        self._recent: dict[tuple[str, str], datetime] = {}  # (plate, direction) -> decided at
        self._reporting = asyncio.Lock()
        self._cycle: asyncio.Task[None] | None = None

    def actions(self) -> Mapping[str, Action]:
        return {"open": self._open, "close": self._close, "display": self._display}

    def metrics(self) -> dict[str, Any]:
        return {"barrier": self.state, "passes": self.passes,
                "allowlist_version": self.allowlist.version if self.allowlist else 0}

    async def on_fault(self, fault: str, active: bool) -> None:
        if fault != STUCK:
            return
        self._stop_cycle()
        await self._move("stuck" if active else "closed")

    # --- the hub's commands -----------------------------------------------------------

    async def _open(self, args: Mapping[str, Any]) -> None:
        self._hub_heard()
        await self._raise_barrier()

    async def _close(self, args: Mapping[str, Any]) -> None:
        self._hub_heard()
        self._refuse_if_stuck()
        self._stop_cycle()
        if self.state != "closed":
            await self._move("closed")

    async def _display(self, args: Mapping[str, Any]) -> None:
        text, amount, session = args.get("text"), args.get("amount"), args.get("session_id")
        if not isinstance(text, str) or not 0 < len(text) <= 200:
            raise Refused("invalid: text")
        if amount is not None and not isinstance(amount, str | int | float):
            raise Refused("invalid: amount")
        self._hub_heard()
        self.shown.append(Shown(text, None if amount is None else str(amount),
                                session if isinstance(session, int | str) else None,
                                self._clock()))

    async def _raise_barrier(self) -> None:
        self._refuse_if_stuck()
        if self.state == "open":  # open twice is open: the hold time starts again
            self._stop_cycle()
        else:
            await self._move("open")
        self._cycle = self.spawn(self._let_through())

    async def _let_through(self) -> None:
        await asyncio.sleep(self.pass_after_s)
        if self.rng.random() < self.pass_probability:
            self.passes += 1
            await self.event("passed", lane=self.lane)
        await asyncio.sleep(self.hold_s)
        if self.state == "open":
            await self._move("closed")

    def _refuse_if_stuck(self) -> None:
        if STUCK in self.active_faults:
            raise Refused("stuck")

    def _stop_cycle(self) -> None:
        if self._cycle is not None and self._cycle is not asyncio.current_task():
            self._cycle.cancel()
        self._cycle = None

    async def _move(self, state: str) -> None:
        self.state = state
        await self.event("barrier", state=state)

    # --- alone: the allow-list and the offline log ------------------------------------

    async def vehicle_read(self, plate: str | None, direction: str,
                           lane: str | None = None) -> None:
        """The lane's camera saw a car (plate None: it could not read it). Called before the
        camera's event goes out, so that a quick answer from the hub is never missed."""
        heard, at = self._heard, self._clock()
        self.spawn(self._decide_if_unanswered(heard, plate, direction, lane or self.lane, at))

    async def _decide_if_unanswered(self, heard: int, plate: str | None, direction: str,
                                    lane: str, at: datetime) -> None:
        await asyncio.sleep(self.hub_timeout_s)
        if self._heard == heard:
            await self._decide_alone(plate, direction, lane, at)

    async def _decide_alone(self, plate: str | None, direction: str, lane: str,
                            at: datetime) -> None:
        if plate is None:
            log.info("%s: no answer from the hub and no plate read: stays closed", self.key)
            return  # nothing to admit and nothing the hub could match an entry to
        plain = _plain(plate)
        last = self._recent.get((plain, direction))
        if last is not None and at - last < timedelta(seconds=REPEAT_WINDOW_S):
            return  # the camera's repeated read of a car already decided
        self._recent = {k: v for k, v in self._recent.items()
                        if at - v < timedelta(seconds=REPEAT_WINDOW_S)}
        self._recent[(plain, direction)] = at
        # A stuck barrier cannot open whatever the list says.
        opened = self.allowlist is not None and self.allowlist.admits(plain, at) \
            and STUCK not in self.active_faults
        entry = {"plate": plain, "direction": direction,
                 "at": at.astimezone(self._tz).isoformat(timespec="milliseconds"),
                 "opened": opened, "lane": lane}
        if len(self.unreported) == self.unreported.maxlen:
            self.counters["offline_dropped"] += 1
        self.unreported.append(entry)
        self.decided_alone.append(entry)
        log.info("%s: no answer from the hub within %.1fs: %s %s %s from allow-list v%s",
                 self.key, self.hub_timeout_s, plain, direction,
                 "opened" if opened else "kept closed",
                 self.allowlist.version if self.allowlist else "none")
        if opened:
            await self._raise_barrier()

    def _hub_heard(self) -> None:
        self._heard += 1
        if self.unreported:
            self.spawn(self._report())

    async def _report(self) -> None:
        """The log, in events of at most ENTRIES_PER_EVENT; what cannot be sent stays for
        the next sign of the hub."""
        async with self._reporting:
            while self.unreported:
                chunk = list(self.unreported)[:ENTRIES_PER_EVENT]
                if not await self.event("offline_log", entries=chunk):
                    return
                for _ in chunk:
                    self.unreported.popleft()
                self.reported += chunk

    def _on_allowlist(self, payload: bytes, *, retained: bool) -> None:
        if not payload:
            return  # the retained list was cleared
        try:
            received = parse_allowlist(payload)
        except BadAllowList as bad:
            self.counters["bad_allowlists"] += 1
            log.warning("%s: allow-list refused: %s", self.key, bad)
            return
        current = self.allowlist
        if current is not None and (received.version, received.issued) <= \
                (current.version, current.issued):
            return  # older than what the gate has: a replay
        self.allowlist = received
        if not retained:  # published just now: the hub is there
            self._hub_heard()

    # The base device subscribes to `cmd` only; a gate also reads its `allowlist`.
    async def _session(self, client: aiomqtt.Client) -> None:
        await client.subscribe(self.topic("allowlist"), qos=1)
        await super()._session(client)

    async def _read_commands(self, client: aiomqtt.Client) -> None:
        allowlist = self.topic("allowlist")
        async for message in client.messages:
            if not isinstance(message.payload, bytes | bytearray):
                continue
            if message.topic.value == allowlist:
                self._on_allowlist(bytes(message.payload), retained=bool(message.retain))
            else:
                await self._on_command(bytes(message.payload), retained=bool(message.retain))
