"""The offline gates' allow-lists (issue 6): for every gate of a site, the plates it may admit
on its own while the hub is unreachable, published RETAINED on
`estate/{site}/gate/{device}/allowlist` (QoS 1; docs/devices.md §7.1).

    {"version": 7, "issued": "...Z", "valid_until": "...Z", "digest": "9f2c...",
     "plates": [{"plate": "沪A12345", "until": null}, {"plate": "沪B67890", "until": "...Z"}]}

The registry's answer (ParkingDirectory.allow_list) is read every `poll_s`; a gate's list is
published again when its content changed (the digest differs: `version` + 1), and at least
every `refresh_s` with the same version, so that `valid_until` (issued + `validity_s`) stays
ahead of the gate's clock while the hub lives and runs out when it does not. Versions survive
a restart and a lease moving to another worker: the retained lists are read back from the
broker (with their digests) before anything is published. One worker publishes (the job is
a SINGLETON under a lease).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import aiomqtt
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from hub.devices.mqtt.codec import iso_utc
from hub.devices.mqtt.link import Link, MqttConfig, keep_connected, make_client
from hub.domain.parking.standing import AllowedPlate, ParkingDirectory
from hub.domain.registry import Approval, DeviceKind
from hub.health import HealthBoard
from hub.ports import Clock
from hub.settings import Settings
from hub.store.device_tables import devices
from hub.store.parking_registry_tables import parking_lanes, parking_lots
from hub.store.tables import sites

log = logging.getLogger(__name__)

CHANNEL = "allowlist"
# The retained lists arrive right after the subscription; waited for before the first publish.
RETAINED_WAIT_S = 0.5


@dataclass(frozen=True)
class GateTarget:
    """A gate to publish to, and the lots its lanes lead into (with the lots around them)."""

    device_id: int
    site_id: int
    site: str
    code: str
    lots: frozenset[int] = frozenset()  # empty: the registry names no lane for it

    @property
    def topic(self) -> str:
        return f"estate/{self.site}/gate/{self.code}/{CHANNEL}"


Gates = Callable[[], Awaitable[Sequence[GateTarget]]]
Entry = tuple[str, datetime | None]


def entries_for(allowed: Iterable[AllowedPlate], lots: frozenset[int]) -> list[Entry]:
    """One line per plate, sorted, for a gate leading into `lots`: a pass limited to other
    lots is left out. A plate allowed twice (a pass and a white list entry) keeps the later
    end; None (open-ended) is the latest."""
    ends: dict[str, datetime | None] = {}
    for item in allowed:
        if item.lot_ids and lots and not lots.intersection(item.lot_ids):
            continue
        if item.plate in ends:
            known = ends[item.plate]
            if known is None or (item.until is not None and item.until <= known):
                continue
        ends[item.plate] = item.until
    return sorted(ends.items())


def digest_of(entries: Sequence[Entry]) -> str:
    text = json.dumps([[plate, None if until is None else iso_utc(until)]
                       for plate, until in entries], ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def payload_of(version: int, issued: datetime, valid_until: datetime, digest: str,
               entries: Sequence[Entry]) -> bytes:
    body = {"version": version, "issued": iso_utc(issued), "valid_until": iso_utc(valid_until),
            "digest": digest,
            "plates": [{"plate": plate, "until": None if until is None else iso_utc(until)}
                       for plate, until in entries]}
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()


@dataclass(frozen=True)
class Sent:
    version: int
    digest: str
    issued: datetime | None  # None: read back from the broker, to be refreshed at once


@dataclass
class AllowListStats:
    published: int = 0
    changed: int = 0  # published with a new version
    gates: int = 0
    sites: int = 0
    last_error: str = ""
    versions: dict[str, int] = field(default_factory=dict)  # topic -> version published


class AllowListPublisher:
    """`await publisher.run()` under supervision (and a lease): connected for ever."""

    def __init__(self, config: MqttConfig, directory: ParkingDirectory, gates: Gates,
                 health: HealthBoard, clock: Clock, *, poll_s: float = 10.0,
                 refresh_s: float = 300.0, validity_s: float = 3600.0,
                 name: str = "parking.allowlist") -> None:
        if not poll_s <= refresh_s < validity_s:
            raise ValueError("allow-lists need poll_s <= refresh_s < validity_s")
        self._config = config
        self._directory = directory
        self._gates = gates
        self._clock = clock
        self._poll_s, self._refresh = poll_s, timedelta(seconds=refresh_s)
        self._validity = timedelta(seconds=validity_s)
        self._link = Link(name, config, health)
        self._backoff = config.backoff()
        self._sent: dict[str, Sent] = {}
        self.stats = AllowListStats()
        self.published = asyncio.Event()  # set after each pass that published something

    async def run(self) -> None:
        sites = list(self._config.sites) or ["+"]
        filters = [f"estate/{site}/gate/+/{CHANNEL}" for site in sites]
        await keep_connected(self._connect, filters, self._serve, self._link, self._backoff)

    def _connect(self) -> aiomqtt.Client:
        return make_client(self._config, session_expiry_s=0)  # nothing to keep while away

    async def _serve(self, client: aiomqtt.Client) -> None:
        reader = asyncio.create_task(self._read_back(client))
        try:
            await asyncio.sleep(RETAINED_WAIT_S)
            while True:
                if reader.done():
                    reader.result()  # the connection broke: its MqttError ends the session
                try:
                    await self.publish_due(client)
                except aiomqtt.MqttError:
                    raise
                except Exception as err:  # the registry's database away: try at the next poll
                    self.stats.last_error = f"{type(err).__name__}: {err}"[:200]
                    log.exception("allow-lists not published this time")
                await asyncio.sleep(self._poll_s)
        finally:
            reader.cancel()

    async def _read_back(self, client: aiomqtt.Client) -> None:
        """What the broker holds (and our own publishes coming back): the highest version
        per topic, and its digest."""
        async for message in client.messages:
            if not isinstance(message.payload, bytes | bytearray) or not message.payload:
                continue
            try:
                data = json.loads(message.payload)
                version, digest = int(data["version"]), str(data.get("digest", ""))
            except (ValueError, KeyError, TypeError):
                continue  # not ours to judge: a newer list overwrites it
            topic = message.topic.value
            known = self._sent.get(topic)
            if known is None or version > known.version:
                self._sent[topic] = Sent(version, digest, None)

    async def publish_due(self, client: aiomqtt.Client) -> int:
        """One pass: the lists that changed or are due for a refresh; how many were sent."""
        now = self._clock()
        gates = await self._gates()
        by_site: dict[int, list[GateTarget]] = {}
        for gate in gates:
            by_site.setdefault(gate.site_id, []).append(gate)
        sent = 0
        for site_id, site_gates in by_site.items():
            allowed = await self._directory.allow_list(site_id, now)
            for gate in site_gates:
                sent += await self._publish_one(client, gate, entries_for(allowed, gate.lots),
                                                now)
        self.stats.gates, self.stats.sites = len(gates), len(by_site)
        self._link.beat()
        if sent:
            self.published.set()
        return sent

    async def _publish_one(self, client: aiomqtt.Client, gate: GateTarget,
                           entries: Sequence[Entry], now: datetime) -> int:
        digest = digest_of(entries)
        last = self._sent.get(gate.topic)
        if last is not None and last.digest == digest and last.issued is not None \
                and now - last.issued < self._refresh:
            return 0
        changed = last is None or last.digest != digest
        version = 1 if last is None else last.version + changed
        await client.publish(gate.topic, payload_of(version, now, now + self._validity, digest,
                                                    entries), qos=1, retain=True)
        self._sent[gate.topic] = Sent(version, digest, now)
        self.stats.published += 1
        self.stats.changed += changed
        self.stats.versions[gate.topic] = version
        if changed:
            log.info("allow-list v%d of %s: %d plates", version, gate.topic, len(entries))
        return 1


def sql_gates(engine: AsyncEngine, site_codes: Sequence[str] = ()) -> Gates:
    """The active gates of the registry (of `site_codes`, or all), each with the lots its
    lanes lead into, the lots those are inside (a pass for the community is good at the
    basement's barrier) and the lots inside them (a basement's pass holder drives through
    the community's gate to reach it)."""
    async def gates() -> list[GateTarget]:
        query = (select(devices.c.id, devices.c.site_id, sites.c.code.label("site"),
                        devices.c.code)
                 .join(sites, sites.c.id == devices.c.site_id)
                 .where(devices.c.kind == DeviceKind.GATE.value,
                        devices.c.approval == Approval.ACTIVE.value))
        if site_codes:
            query = query.where(sites.c.code.in_(list(site_codes)))
        async with engine.connect() as connection:
            rows = (await connection.execute(query)).all()
            lanes = (await connection.execute(
                select(parking_lanes.c.barrier_device_id, parking_lanes.c.lot_id))).all()
            parents = {r.id: r.parent_id for r in await connection.execute(
                select(parking_lots.c.id, parking_lots.c.parent_id))}
        lots: dict[int, set[int]] = {}
        for lane in lanes:
            lots.setdefault(lane.barrier_device_id, set()).update(
                _related(lane.lot_id, parents))
        return [GateTarget(r.id, r.site_id, r.site, r.code, frozenset(lots.get(r.id, ())))
                for r in rows]
    return gates


def _related(lot_id: int, parents: Mapping[int, int | None]) -> set[int]:
    """The lot, the lots it is inside and the lots inside it."""
    found: set[int] = set()
    current: int | None = lot_id
    while current is not None and current not in found:  # a loop in the registry ends here
        found.add(current)
        current = parents.get(current)
    inside, grew = {lot_id}, True
    while grew:
        more = {child for child, parent in parents.items() if parent in inside} - inside
        inside |= more
        grew = bool(more)
    return found | inside


def publisher_from(settings: Settings, engine: AsyncEngine, directory: ParkingDirectory,
                   health: HealthBoard, clock: Clock) -> AllowListPublisher | None:
    """The publisher of `hub run` (None without a broker): its own connection, as [gates]
    names it, to the broker of [mqtt]."""
    mqtt, gates = settings.mqtt, settings.gates
    if not mqtt.url:
        return None
    config = MqttConfig(
        url=mqtt.url, client_id=gates.client_id or f"{mqtt.client_id}-gates"[:64],
        ca_file=mqtt.ca_file or None, username=gates.username or mqtt.username or None,
        password=(gates.password.get_secret_value() or mqtt.password.get_secret_value()
                  or None),
        keepalive_s=mqtt.keepalive_s, sites=tuple(mqtt.sites), protocol=mqtt.protocol,
        backoff_base_s=mqtt.backoff_base_s, backoff_cap_s=mqtt.backoff_cap_s)
    return AllowListPublisher(config, directory, sql_gates(engine, mqtt.sites), health, clock,
                              poll_s=gates.allowlist_poll_s,
                              refresh_s=gates.allowlist_refresh_s,
                              validity_s=gates.allowlist_validity_s)
