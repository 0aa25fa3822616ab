"""One test's world: its broker, its database, its hub workers and devices, and the waits
that decide when the hub has caught up."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from tests.e2e.devices.fleet import Fleet, Key
from tests.e2e.devices.processes import Broker, HubProcess, hub_command, hub_settings, wait_for
from tests.e2e.devices.store import Store, Tally

# `@pytest.mark.parametrize("database_url", [POSTGRES], indirect=True)`: a fresh PostgreSQL
# database for the test (tests/e2e/devices/conftest.py) instead of SQLite.
POSTGRES = pytest.param("postgres", marks=pytest.mark.postgres)
SITE = "lakeside"
ADMIN, ADMIN_PASSWORD = "e2e-admin", "e2e-admin-password-0001"
CATCH_UP_S = 25.0  # a bound against hangs; the time taken is printed, never asserted
QUIET_S = 1.0
STALL_S = 3.0  # no hub stored anything for this long: what is missing will not come


@dataclass
class Rig:
    folder: Path
    database_url: str
    broker: Broker
    store: Store
    hubs: list[HubProcess] = field(default_factory=list)
    fleets: list[Fleet] = field(default_factory=list)
    codes: list[str] = field(default_factory=list)
    _admin_created: bool = False

    @property
    def devices_file(self) -> Path:
        return self.folder / "devices.yaml"

    def register(self, codes: Sequence[str], kind: str = "light", timeout_s: int = 300) -> None:
        """Declare devices in the registry file every hub loads at start-up."""
        self.codes += list(codes)
        entries = [{"code": code, "kind": kind, "name": code, "timeout_s": timeout_s}
                   for code in self.codes]
        self.devices_file.write_text(yaml.safe_dump({"site": SITE, "devices": entries}),
                                     encoding="utf-8")

    def fleet(self, count: int, *, prefix: str = "lamp", will: bool = False) -> Fleet:
        fleet = Fleet.of(self.broker.port, SITE, count, prefix=prefix, will=will)
        self.register([d.code for d in fleet])
        self.fleets.append(fleet)
        return fleet

    def hub(self, name: str = "hub-1", **mqtt: Any) -> HubProcess:
        settings = hub_settings(self.folder, self.database_url, self.broker.url,
                                self.devices_file, client_id=name, mqtt=mqtt)
        hub = HubProcess(name, self.folder, settings)
        self.hubs.append(hub)
        return hub

    async def prepare(self) -> None:
        """Migrate with `hub db upgrade`, as an operator would, and create the site."""
        migrator = HubProcess("migrate", self.folder, hub_settings(
            self.folder, self.database_url, self.broker.url, self.devices_file))
        await hub_command(migrator.write_config(), "db", "upgrade")
        await self.store.add_site(SITE)

    async def admin(self, hub: HubProcess) -> dict[str, str]:
        """Bearer headers of an administrator made with `hub user create`."""
        if not self._admin_created:
            await hub_command(hub.write_config(), "user", "create", ADMIN, "--role", "admin",
                              "--password", ADMIN_PASSWORD)
            self._admin_created = True
        async with httpx.AsyncClient(timeout=10) as client:
            answer = await client.post(f"{hub.base_url}/api/v1/auth/login",
                                       data={"username": ADMIN, "password": ADMIN_PASSWORD})
        assert answer.status_code == 200, answer.text
        return {"Authorization": f"Bearer {answer.json()['access_token']}"}

    async def tally(self, *fleets: Fleet) -> Tally:
        chosen = fleets or tuple(self.fleets)
        published = set().union(*(f.published() for f in chosen))
        acked = set().union(*(f.acked() for f in chosen))
        return Tally(published, acked, await self.store.rows())

    async def caught_up(self, expected: set[Key], within: float = CATCH_UP_S) -> float:
        """Wait until every expected message is stored, or until the hubs have stored nothing
        for STALL_S (the test's assertions then say what is missing); then until they are
        quiet, so that a late duplicate would show. The seconds until the wait ended."""
        started = last_change = time.monotonic()
        marks: list[int] = []
        while time.monotonic() - started < within:
            if expected <= set(await self.store.rows()):
                break
            now = [(await h.ingest())["items"] for h in self.hubs if h.running]
            if now != marks:
                marks, last_change = now, time.monotonic()
            elif time.monotonic() - last_change >= STALL_S:
                break
            await asyncio.sleep(0.1)
        took = time.monotonic() - started
        await self.quiet()
        return took

    async def quiet(self, within: float = CATCH_UP_S) -> float:
        """Wait until no running hub has stored anything for QUIET_S, with empty queues."""
        running = [h for h in self.hubs if h.running]
        last: list[Any] = []
        since = time.monotonic()

        async def still() -> bool:
            nonlocal last, since
            now = [await h.ingest() for h in running]
            marks = [(n["items"], n["queue_depth"]) for n in now]
            if marks != last or any(depth for _, depth in marks):
                last, since = marks, time.monotonic()
                return False
            return time.monotonic() - since >= QUIET_S
        return await wait_for(still, "hubs quiet", within, every=0.1)

    def crashes(self) -> str:
        """What crashed in any hub worker, as an assertion message; empty when nothing did."""
        return "\n".join(line for hub in self.hubs for line in hub.crashes())

    async def close(self) -> None:
        for fleet in self.fleets:
            await fleet.halt()
            await asyncio.to_thread(fleet.stop)
        for hub in self.hubs:
            if hub.running:
                await hub.stop()
        await self.broker.stop()
        await self.store.close()


async def api_get(hub: HubProcess, path: str, headers: dict[str, str], **params: Any) -> Any:
    async with httpx.AsyncClient(timeout=10) as client:
        answer = await client.get(f"{hub.base_url}{path}", headers=headers, params=params)
    assert answer.status_code == 200, f"GET {path}: {answer.status_code} {answer.text}"
    return answer.json()
