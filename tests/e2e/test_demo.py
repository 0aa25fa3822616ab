"""`hub demo` as a newcomer runs it: one process, the banner, the API, Ctrl-C, and a restart."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from hub import demo
from hub.devices.broker import free_port

START_TIMEOUT_S = 120.0  # migrations and seeding 120 units with Argon2 hashes on a slow runner
STOP_TIMEOUT_S = 30.0
SEEDED_UNITS = 120


@dataclass
class DemoProcess:
    data_dir: Path
    log_file: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def output(self) -> str:
        return self.log_file.read_text(encoding="utf-8", errors="replace")

    def start(self) -> None:
        env = {k: v for k, v in os.environ.items() if not k.upper().startswith("HUB_")}
        with self.log_file.open("wb") as log:
            self.process = subprocess.Popen(  # noqa: S603 - our own command
                [sys.executable, "-u", "-m", "hub", "demo", "--data-dir", str(self.data_dir),
                 "--port", str(self.port)],
                cwd=self.data_dir.parent, env=env, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True)
        self.wait_healthy()

    def wait_healthy(self) -> None:
        assert self.process is not None
        deadline = time.monotonic() + START_TIMEOUT_S
        last_problem = "no answer yet"
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"`hub demo` exited with {self.process.returncode} before it was "
                            f"healthy; output:\n{self.output()}")
            try:
                if httpx.get(f"{self.base_url}/health", timeout=2).status_code == 200:
                    return
                last_problem = "status not 200"
            except httpx.TransportError as err:
                last_problem = type(err).__name__
            time.sleep(0.2)
        pytest.fail(f"`hub demo` not healthy within {START_TIMEOUT_S}s ({last_problem}); "
                    f"output:\n{self.output()}")

    def stop(self, signum: int = signal.SIGINT) -> int:
        """Send the signal and wait (bounded) for the process to end; its exit code."""
        assert self.process is not None
        if self.process.poll() is None:
            self.process.send_signal(signum)
        try:
            return self.process.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=STOP_TIMEOUT_S)
            pytest.fail(f"`hub demo` still running {STOP_TIMEOUT_S}s after signal {signum}; "
                        f"output:\n{self.output()}")


@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoProcess]:
    folder = tmp_path_factory.mktemp("demo")
    hub = DemoProcess(data_dir=folder / "data", log_file=folder / "demo-1.log")
    hub.start()
    yield hub
    if hub.process is not None and hub.process.poll() is None:
        hub.stop()


def login(base_url: str, username: str) -> dict[str, str]:
    [account] = [a for a in demo.logins() if a.username == username]
    answer = httpx.post(f"{base_url}/api/v1/auth/login", timeout=10,
                        data={"username": account.username, "password": account.password})
    assert answer.status_code == 200, answer.text
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


def get(base_url: str, path: str, headers: dict[str, str], **params: Any) -> Any:
    answer = httpx.get(f"{base_url}{path}", headers=headers, params=params, timeout=10)
    assert answer.status_code == 200, f"GET {path}: {answer.status_code} {answer.text}"
    return answer.json()


def test_health_is_ok_with_the_database(running: DemoProcess) -> None:
    body = httpx.get(f"{running.base_url}/health", timeout=10).json()
    assert body["status"] == "ok", {name: c for name, c in body["components"].items()
                                    if c["status"] != "ok"}
    assert body["components"]["database"]["status"] == "ok"
    assert body["components"]["database"]["backend"] == "sqlite"
    assert body["components"]["mqtt_broker"]["status"] == "ok"
    assert httpx.get(f"{running.base_url}/ready", timeout=10).json()["ready"] is True


def test_banner_prints_the_api_and_the_logins(running: DemoProcess) -> None:
    banner = running.output()
    assert f"{running.base_url}/api/v1" in banner
    assert f"{running.base_url}/docs" in banner
    assert "mqtt://127.0.0.1:" in banner
    for account in demo.logins():
        assert re.search(rf"{account.username}\s+{re.escape(account.password)}\s+"
                         rf"{account.role.value}", banner), account.username
    assert "Ctrl-C stops the demo." in banner
    assert "Traceback" not in banner


def test_manager_sees_every_unit(running: DemoProcess) -> None:
    manager = login(running.base_url, "manager")
    page = get(running.base_url, "/api/v1/units", manager, limit=200)
    assert page["total"] == SEEDED_UNITS
    assert len(page["items"]) == SEEDED_UNITS
    assert {unit["number"] for unit in page["items"]} >= {"1-0101", "3-2002"}


def test_wrong_password_is_refused(running: DemoProcess) -> None:
    answer = httpx.post(f"{running.base_url}/api/v1/auth/login", timeout=10,
                        data={"username": "manager", "password": "manager-demo-2025"})
    assert answer.status_code == 401


def test_resident_sees_only_their_household(running: DemoProcess) -> None:
    resident = login(running.base_url, "resident1")
    me = get(running.base_url, "/api/v1/auth/me", resident)
    assert me["role"] == "resident" and me["unit_ids"]
    household = set(me["unit_ids"])

    units = get(running.base_url, "/api/v1/units", resident)
    assert units["total"] == len(household)
    assert {unit["id"] for unit in units["items"]} == household

    people = get(running.base_url, "/api/v1/residents", resident)
    assert me["resident_id"] in {person["id"] for person in people["items"]}
    for person in people["items"]:
        assert {r["unit_id"] for r in person["residencies"]} <= household

    # Exactly the people the manager sees living there: nobody missing, nobody from next door.
    manager = login(running.base_url, "manager")
    neighbours: set[int] = set()
    for unit_id in household:
        page = get(running.base_url, "/api/v1/residents", manager, unit_id=unit_id, limit=200)
        neighbours |= {person["id"] for person in page["items"]}
    assert {person["id"] for person in people["items"]} == neighbours
    assert people["total"] == len(neighbours)


def test_resident_cannot_open_another_household(running: DemoProcess) -> None:
    resident = login(running.base_url, "resident1")
    mine = set(get(running.base_url, "/api/v1/auth/me", resident)["unit_ids"])
    manager = login(running.base_url, "manager")
    other = next(unit["id"] for unit in get(running.base_url, "/api/v1/units", manager,
                                            limit=200)["items"] if unit["id"] not in mine)
    answer = httpx.get(f"{running.base_url}/api/v1/units/{other}", headers=resident, timeout=10)
    assert answer.status_code == 404


def test_docs_answer(running: DemoProcess) -> None:
    answer = httpx.get(f"{running.base_url}/docs", timeout=10)
    assert answer.status_code == 200
    assert "swagger" in answer.text.lower()


def test_ctrl_c_stops_and_a_restart_keeps_the_data(running: DemoProcess) -> None:
    first_output_seeded = "Seeding Lakeside Gardens" in running.output()
    assert running.stop(signal.SIGINT) == 128 + signal.SIGINT
    assert "Estate Hub demo stopped." in running.output()
    assert "Traceback" not in running.output()
    assert first_output_seeded

    again = DemoProcess(data_dir=running.data_dir, log_file=running.log_file.with_name(
        "demo-2.log"))
    again.start()
    try:
        manager = login(again.base_url, "manager")
        assert get(again.base_url, "/api/v1/units", manager, limit=1)["total"] == SEEDED_UNITS
        assert get(again.base_url, "/api/v1/sites", manager)["total"] == 1
        assert "Seeding" not in again.output()
    finally:
        # `docker stop` and systemd send SIGTERM: the demo must stop as cleanly as on Ctrl-C.
        code = again.stop(signal.SIGTERM)
    assert code == 128 + signal.SIGTERM
    assert "Estate Hub demo stopped." in again.output()
    assert "Traceback" not in again.output()
