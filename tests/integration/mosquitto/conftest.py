"""A Mosquitto of the test's own, on a free loopback port, configured by `hub mosquitto
config` from the shipped template and a small device file; stopped after the test."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import aiomqtt
import pytest
import yaml
from typer.testing import CliRunner

from hub.cli import app
from hub.devices.broker import free_port
from tests.integration.simulators.watch import client
from tests.services import in_ci

SHIPPED = Path(__file__).resolve().parents[3] / "config" / "mosquitto" / "mosquitto.conf"
DEVICES = {"site": "lakeside", "devices": [
    {"code": "gate-north", "kind": "gate"},
    {"code": "gate-south", "kind": "gate"},
    {"code": "light-1", "kind": "light"},
    {"code": "b3-lift-1", "kind": "elevator", "protocol": "modbus",
     "register_map": "elevator-std", "connection": {"host": "127.0.0.1", "port": 15020}},
]}
# Two hub accounts: the broker takes the username as client id, so the test's two hub-side
# clients (one listening, one commanding) each need their own, as hub workers do.
HUB_ACCOUNTS = ("hub", "hub-2")
START_WAIT_S = 10.0


@dataclass(frozen=True)
class SecuredBroker:
    host: str
    port: int
    folder: Path
    passwords: dict[str, str]

    @property
    def url(self) -> str:
        return f"mqtt://{self.host}:{self.port}"

    def login(self, username: str, password: str | None = None) -> aiomqtt.Client:
        return client(self.host, self.port, username,
                      self.passwords[username] if password is None else password)


def mosquitto_binary() -> str:
    binary = shutil.which("mosquitto") or (
        "/usr/sbin/mosquitto" if os.path.exists("/usr/sbin/mosquitto") else None)
    if binary is None:
        reason = "mosquitto: not installed (apt-get install mosquitto)"
        if in_ci():
            pytest.fail(f"{reason}; CI=true needs every service", pytrace=False)
        pytest.skip(reason)
    return binary


def generate(tmp_path: Path, port: int) -> Path:
    devices = tmp_path / "devices.yaml"
    devices.write_text(yaml.safe_dump(DEVICES), encoding="utf-8")
    out = tmp_path / "broker"
    args = ["mosquitto", "config", "--devices", str(devices), "--out", str(out),
            "--port", str(port), "--template", str(SHIPPED)]
    for account in HUB_ACCOUNTS:
        args += ["--hub-account", account]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    return out


@pytest.fixture
def secured_broker(tmp_path: Path) -> Iterator[SecuredBroker]:
    binary = mosquitto_binary()
    port = free_port()
    out = generate(tmp_path, port)
    conf = out / "mosquitto.conf"
    if os.geteuid() == 0:
        # Started by root, Mosquitto drops to the `mosquitto` user, which cannot enter
        # pytest's private tmp folder. Who the broker runs as is the operator's choice;
        # every security setting of the shipped file stays as it is.
        conf.write_text(conf.read_text(encoding="utf-8") + "user root\n", encoding="utf-8")
    log = (tmp_path / "mosquitto.log").open("w")
    process = subprocess.Popen([binary, "-c", str(conf)], stdout=log,  # noqa: S603
                               stderr=subprocess.STDOUT)
    try:
        _wait_until_listening(process, port, tmp_path / "mosquitto.log")
        passwords = yaml.safe_load((out / "credentials.yaml").read_text(encoding="utf-8"))
        yield SecuredBroker("127.0.0.1", port, out, passwords)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def _wait_until_listening(process: subprocess.Popen[bytes], port: int, log: Path) -> None:
    deadline = time.monotonic() + START_WAIT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"mosquitto exited with {process.returncode}:\n{log.read_text()}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    pytest.fail(f"mosquitto did not listen on {port}:\n{log.read_text()}")
