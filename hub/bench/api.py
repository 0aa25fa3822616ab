"""`hub bench api`: residents reading their bills, notifications and announcements at once.

A fresh database (SQLite in a temporary folder, or a new database on the `--database` server)
gets one site with N households: a unit, a resident and a resident account each, six months
of bills, twenty notifications per account and a dozen announcements. The hub then runs as
in production (`hub.runtime.run_hub`: uvicorn and the hub's jobs) in a process of its own on a
free loopback port (`--workers W`: W processes on W ports, the clients spread over them as a
load balancer would, its own cost not counted), and C clients in this process
(hub.bench.httpload: one keep-alive connection each, a lean client so that the load does
not take the hub's cores) cycle through GET /me/bills,
/me/notifications and /me/announcements with
the tokens of the N accounts for a measured window: requests/s, p50/p99 latency, errors.

The tokens are signed sessions opened as a login opens them (one auth_sessions row each),
because N password checks (Argon2) would take longer than the benchmark; one account logs in
through the API to show the path works.
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import statistics
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import insert

from hub import loops
from hub.bench.freshdb import backend_of, fresh_database
from hub.bench.httpload import HttpLoadClient, HttpLoadError, get_request
from hub.bootstrap import Hub, bootstrap
from hub.devices.broker import free_port
from hub.domain import commands as c
from hub.domain.accounts import SYSTEM, Account, AuthSession, Role
from hub.domain.billing.fees import FeeKind
from hub.domain.property import UnitStatus
from hub.domain.residents import Relation
from hub.handlers.billing import CreateFeeItem
from hub.handlers.billing_runs import CommitRun
from hub.security.passwords import hash_password
from hub.security.tokens import new_refresh_token, refresh_token_hash
from hub.settings import Settings, load_settings
from hub.store.notice_tables import announcements, notifications
from hub.store.tables import accounts, residencies, residents, units

PATHS = ("/api/v1/me/bills", "/api/v1/me/notifications", "/api/v1/me/announcements")
MONTHS = ("2026-05", "2026-06", "2026-07", "2026-08", "2026-09", "2026-10")
IDLE_S = 2.0
PASSWORD = "bench-resident-password"  # noqa: S105 - of a throw-away database


@dataclass(frozen=True)
class ApiPlan:
    accounts: int = 200
    clients: int = 32
    seconds: float = 10.0
    warmup_s: float = 2.0
    database: str | None = None  # a server URL; None: SQLite in a temporary folder
    workers: int = 1  # hub processes, each on its own port; clients spread over them
    event_loop: str = "uvloop"  # the hub processes' (hub.loops), as `hub run` by default


def _settings(url: str, folder: Path, secret: str, port: int) -> Settings:
    return load_settings(None, mode="demo", data_dir=folder, log_level="WARNING",
                         database={"url": url}, api={"host": "127.0.0.1", "port": port},
                         security={"jwt_secret": secret, "access_token_minutes": 120})


async def run(plan: ApiPlan) -> dict[str, Any]:
    secret = secrets.token_urlsafe(32)
    ports = [free_port() for _ in range(plan.workers)]
    with tempfile.TemporaryDirectory(prefix="hub-bench-api-") as folder:
        async with fresh_database(plan.database, "api") as url:
            settings = _settings(url, Path(folder), secret, ports[0])
            hub = bootstrap(settings)
            try:
                t0 = time.perf_counter()
                usernames = await seed(hub, plan)
                tokens = await _sessions(hub, usernames)
                seed_s = time.perf_counter() - t0
            finally:
                await hub.close()
            servers = [await asyncio.create_subprocess_exec(
                sys.executable, "-m", "hub.bench.api", env=os.environ | {
                    "HUB_BENCH_API": json.dumps({"url": url, "folder": folder,
                                                 "secret": secret, "port": port,
                                                 "loop": plan.event_loop})})
                for port in ports]
            try:
                bases = [f"http://127.0.0.1:{port}" for port in ports]
                for base, server in zip(bases, servers, strict=True):
                    await _until_up(base, server)
                await _log_in_once(bases[0], usernames[0])
                idle0 = _cpu_of(*(s.pid for s in servers))
                await asyncio.sleep(IDLE_S)  # the hub's own jobs, with no request
                idle = (_cpu_of(*(s.pid for s in servers)) - idle0) / IDLE_S
                cpu0, own0 = _cpu_of(*(s.pid for s in servers)), time.process_time()
                measured = await _load(ports, tokens, plan)
                server_cpu = _cpu_of(*(s.pid for s in servers)) - cpu0
                client_cpu = time.process_time() - own0
            finally:
                for server in servers:
                    server.terminate()
                for server in servers:
                    await server.wait()
    latencies = sorted(measured["latencies"])
    window = measured["window_s"]
    return {
        "scenario": "api",
        "requests_per_s": round(len(latencies) / window, 1),
        "p50_ms": round(_quantile(latencies, 0.50) * 1000, 2),
        "p99_ms": round(_quantile(latencies, 0.99) * 1000, 2),
        "errors": measured["errors"],
        "backend": backend_of(plan.database),
        "requests": len(latencies),
        "max_ms": round(latencies[-1] * 1000, 2) if latencies else 0.0,
        "mean_ms": round(statistics.fmean(latencies) * 1000, 2) if latencies else 0.0,
        "by_path": {p: round(n / window, 1) for p, n in measured["by_path"].items()},
        "error_kinds": measured["error_kinds"],
        "accounts": plan.accounts,
        "clients": plan.clients,
        "workers": plan.workers,
        "seconds": round(window, 2),
        "server_cpu_percent": round(server_cpu / (window + plan.warmup_s) * 100, 1),
        "server_idle_cpu_percent": round(idle * 100, 1),
        "client_cpu_percent": round(client_cpu / (window + plan.warmup_s) * 100, 1),
        "server_cpu_ms_per_request": round(server_cpu / max(1, measured["sent"]) * 1000, 2),
        "seed_s": round(seed_s, 2),
        "cores": os.cpu_count(),
    }


def describe(result: dict[str, Any]) -> str:
    return "\n".join((
        f"api: {result['clients']} clients, {result['accounts']} resident accounts,"
        f" {result['workers']} hub process(es),"
        f" {result['backend']}, {result['seconds']} s measured",
        f"  {result['requests_per_s']:8.1f} requests/s  (target >= 1500)",
        f"  p50 {result['p50_ms']} ms, p99 {result['p99_ms']} ms (target < 50),"
        f" max {result['max_ms']} ms",
        f"  errors {result['errors']} {result['error_kinds'] or ''}",
        f"  per path: {result['by_path']}",
        f"  the hub process(es) used {result['server_cpu_percent']} % of one core"
        f" ({result['server_cpu_ms_per_request']} ms CPU a request), the clients"
        f" {result['client_cpu_percent']} % ({result['cores']} cores)",
    ))


async def seed(hub: Hub, plan: ApiPlan) -> list[str]:
    """N households with bills, notifications and announcements; returns the usernames."""
    site = await hub.bus.handle(c.CreateSite(SYSTEM, code="bench", name="Bench Gardens"))
    building = await hub.bus.handle(c.CreateBuilding(SYSTEM, site_id=site, code="b1",
                                                     name="1号楼", floors=40))
    password_hash = hash_password(PASSWORD)
    now = datetime.now(UTC)
    names = [f"resident{i:05d}" for i in range(plan.accounts)]
    async with hub.engine.begin() as conn:
        unit_ids = [row[0] for row in await conn.execute(
            insert(units).returning(units.c.id, sort_by_parameter_order=True),
            [{"site_id": site, "building_id": building, "number": f"1-{i + 1:05d}",
              "floor": 1 + i // 50, "gross_area": Decimal("89.50"),
              "inner_area": Decimal("75.00"), "layout": "", "status": UnitStatus.OCCUPIED}
             for i in range(plan.accounts)])]
        resident_ids = [row[0] for row in await conn.execute(
            insert(residents).returning(residents.c.id, sort_by_parameter_order=True),
            [{"site_id": site, "name": f"住户{i}", "phone": ""} for i in range(plan.accounts)])]
        await conn.execute(insert(residencies), [
            {"resident_id": r, "unit_id": u, "relation": Relation.OWNER,
             "moved_in": date(2020, 1, 1), "moved_out": None}
            for r, u in zip(resident_ids, unit_ids, strict=True)])
        account_ids = [row[0] for row in await conn.execute(
            insert(accounts).returning(accounts.c.id, sort_by_parameter_order=True),
            [{"username": name, "password_hash": password_hash, "role": Role.RESIDENT,
              "display_name": "", "active": True, "resident_id": r}
             for name, r in zip(names, resident_ids, strict=True)])]
        await conn.execute(insert(notifications), [
            {"account_id": a, "site_id": site, "category": "billing",
             "title": f"账单提醒 {k}", "body": "本月物业费账单已生成，请及时缴纳。",
             "link": None, "rule_id": None, "created_at": now - timedelta(hours=k),
             "read_at": None if k % 3 else now}
            for a in account_ids for k in range(20)])
        await conn.execute(insert(announcements), [
            {"site_id": site, "title": f"社区公告 {k}", "body": "本周六上午停水检修。" * 5,
             "audience": "site", "pinned": k == 0, "status": "published",
             "publish_at": now - timedelta(days=k + 1), "expires_at": None, "key": None,
             "live_key": None, "created_at": now - timedelta(days=k + 1), "created_by": 0}
            for k in range(12)])
    fee = await hub.bus.handle(CreateFeeItem(
        SYSTEM, site_id=site, code="property", name="物业费", kind=FeeKind.AREA,
        unit_price=Decimal("2.35"), effective_from=date(2026, 1, 1)))
    for month in MONTHS:
        await hub.bus.handle(CommitRun(SYSTEM, site_id=site, period=month, fee_item_ids=(fee,)))
    return names


async def _sessions(hub: Hub, usernames: list[str]) -> list[str]:
    """An access token per account, its session opened as a login opens it."""
    now = datetime.now(UTC)
    tokens = []
    async with hub.uow() as uow:
        for name in usernames:
            account = await uow.find_one(Account, username=name)
            assert account is not None and account.id is not None
            session = AuthSession(id=str(uuid.uuid4()), account_id=account.id,
                                  refresh_hash=refresh_token_hash(new_refresh_token()),
                                  created_at=now, expires_at=now + timedelta(days=1))
            uow.add(session)
            tokens.append(hub.tokens.access_token(account.id, session.id, now))
        await uow.commit()
    return tokens


async def _until_up(base: str, server: asyncio.subprocess.Process) -> None:
    async with httpx.AsyncClient(base_url=base) as client:
        for _ in range(600):
            if server.returncode is not None:
                raise RuntimeError(f"the hub exited with {server.returncode}")
            try:
                if (await client.get("/api/v1/health")).status_code < 500:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.1)
    raise RuntimeError("the hub did not answer within 60 s")


async def _log_in_once(base: str, username: str) -> None:
    async with httpx.AsyncClient(base_url=base) as client:
        answer = await client.post("/api/v1/auth/login",
                                   data={"username": username, "password": PASSWORD})
        token = answer.json().get("access_token") if answer.status_code == 200 else None
        check = await client.get(PATHS[0], headers={"Authorization": f"Bearer {token}"})
        if check.status_code != 200:
            raise RuntimeError(f"login then /me/bills: {answer.status_code} {check.status_code}")


async def _load(ports: list[int], tokens: list[str], plan: ApiPlan) -> dict[str, Any]:
    latencies: list[float] = []
    by_path = dict.fromkeys(PATHS, 0)
    errors: dict[str, int] = {}
    started = time.perf_counter()
    measure_from = started + plan.warmup_s
    stop_at = measure_from + plan.seconds

    sent = 0

    async def client(n: int) -> None:
        nonlocal sent
        port = ports[n % len(ports)]
        async with HttpLoadClient("127.0.0.1", port) as http:
            k = n
            while (now := time.perf_counter()) < stop_at:
                path = PATHS[k % len(PATHS)]
                token = tokens[(k * 7 + n) % len(tokens)]
                request = get_request(f"127.0.0.1:{port}", path,
                                      {"Authorization": f"Bearer {token}"})
                k += 1
                try:
                    sent += 1
                    answer = await http.send(request)
                    failed = None if answer.status == 200 else str(answer.status)
                except (OSError, HttpLoadError, TimeoutError) as err:
                    failed = type(err).__name__
                done = time.perf_counter()
                if now < measure_from or done > stop_at:
                    continue
                if failed:
                    errors[failed] = errors.get(failed, 0) + 1
                else:
                    latencies.append(done - now)
                    by_path[path] += 1

    await asyncio.gather(*(client(n) for n in range(plan.clients)))
    return {"latencies": latencies, "by_path": by_path, "error_kinds": errors,
            "errors": sum(errors.values()), "window_s": plan.seconds, "sent": sent}


def _quantile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    return values[min(len(values) - 1, int(q * len(values)))]


def _cpu_of(*pids: int) -> float:
    """User + system CPU seconds of processes (Linux /proc), 0 elsewhere."""
    total = 0.0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def _serve() -> None:
    """The server process: the hub as `hub run` runs it, on the benchmark's database."""
    from hub.api.app import create_app  # only in the server process
    from hub.runtime import run_hub

    given = json.loads(os.environ["HUB_BENCH_API"])
    settings = _settings(given["url"], Path(given["folder"]), given["secret"], given["port"])

    async def main() -> None:
        hub = bootstrap(settings)
        try:
            await run_hub(hub, create_app(settings, hub))
        finally:
            await hub.close()

    loops.run(main(), "asyncio" if given["loop"] == "asyncio" else "uvloop")


if __name__ == "__main__":
    _serve()
