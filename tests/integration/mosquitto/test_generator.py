"""`hub mosquitto config`: what it writes, how it keeps secrets, and what it refuses (MS4)."""

from __future__ import annotations

import os
import pwd
import stat
from collections.abc import Mapping
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner, Result

from hub.cli import app
from tests.integration.mosquitto.conftest import DEVICES, SHIPPED


def run(tmp_path: Path, *extra: str, devices: Mapping[str, object] | None = None) -> Result:
    path = tmp_path / "devices.yaml"
    path.write_text(yaml.safe_dump(devices or DEVICES, allow_unicode=True), encoding="utf-8")
    return CliRunner().invoke(app, ["mosquitto", "config", "--devices", str(path),
                                    "--out", str(tmp_path / "broker"),
                                    "--template", str(SHIPPED), *extra])


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_generator_writes_one_account_per_mqtt_device_and_keeps_secrets_private(
        tmp_path: Path) -> None:
    result = run(tmp_path)
    out = tmp_path / "broker"

    assert result.exit_code == 0, result.output
    passwords = yaml.safe_load((out / "credentials.yaml").read_text(encoding="utf-8"))
    assert sorted(passwords) == ["hub", "lakeside.gate.gate-north", "lakeside.gate.gate-south",
                                 "lakeside.light.light-1"], "the Modbus lift gets none"
    assert len(set(passwords.values())) == 4
    users = [line.split(":")[0] for line in (out / "passwd").read_text().splitlines()]
    assert sorted(users) == sorted(passwords)
    assert all(":$7$101$" in line for line in (out / "passwd").read_text().splitlines())
    assert (mode(out / "passwd"), mode(out / "credentials.yaml")) == (0o600, 0o600)
    assert mode(out / "acl") == 0o644
    assert f"password_file {out}/passwd" in (out / "mosquitto.conf").read_text()


def test_generator_shows_the_hub_password_once_and_keeps_passwords_until_rotated(
        tmp_path: Path) -> None:
    first = run(tmp_path)
    out = tmp_path / "broker"
    before = yaml.safe_load((out / "credentials.yaml").read_text(encoding="utf-8"))
    second = run(tmp_path)
    kept = yaml.safe_load((out / "credentials.yaml").read_text(encoding="utf-8"))
    third = run(tmp_path, "--rotate")
    rotated = yaml.safe_load((out / "credentials.yaml").read_text(encoding="utf-8"))

    assert f"hub account hub: password {before['hub']}" in first.output
    assert "password" not in second.output.replace("passwords in", "")
    assert "(0 new)" in second.output and kept == before
    assert third.exit_code == 0 and "(4 new)" in third.output
    assert not set(rotated.values()) & set(before.values())


@pytest.mark.parametrize(("code", "account"), [
    ("gate+north", "hub"), ("gate-#", "hub"), ("gate/north", "hub"),
    ("gate-north", "hub/#"), ("gate-north", "hub+1"), ("gate-north", "hub:admin"),
    ("gate-north", "lakeside.gate.gate-north")])
def test_generator_refuses_wildcards_in_any_name_and_writes_nothing(
        tmp_path: Path, code: str, account: str) -> None:
    devices = {"site": "lakeside", "devices": [{"code": code, "kind": "gate"}]}
    result = run(tmp_path, "--hub-account", account, devices=devices)

    assert result.exit_code == 2
    assert "not written" in result.output
    assert not (tmp_path / "broker").exists()


def test_broker_user_may_read_the_password_file_and_write_its_data(tmp_path: Path) -> None:
    try:
        broker = pwd.getpwnam("mosquitto")
    except KeyError:
        pytest.skip("no mosquitto system user")
    if os.geteuid() != 0:
        pytest.skip("handing files to another user needs root")
    result = run(tmp_path, "--broker-user", "mosquitto")
    out = tmp_path / "broker"

    assert result.exit_code == 0, result.output
    assert (mode(out / "passwd"), (out / "passwd").stat().st_gid) == (0o640, broker.pw_gid)
    assert (out / "data").stat().st_uid == broker.pw_uid
    assert mode(out / "credentials.yaml") == 0o600, "plain passwords stay the owner's"
