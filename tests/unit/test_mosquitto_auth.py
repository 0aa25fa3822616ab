"""Mosquitto accounts: the password hash format, usernames that cannot be misread (MS4),
ACLs that grant each account only its own topics, and the shipped configuration."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from hub.devices.mosquitto_auth import (
    UnsafeAccount,
    acl_text,
    check_hub_account,
    check_username,
    device_username,
    hash_password,
    render_conf,
)
from hub.domain.observations import DeviceKey

SHIPPED = Path(__file__).resolve().parents[2] / "config" / "mosquitto" / "mosquitto.conf"
# Written by `mosquitto_passwd -b pw alice s3cret` (Mosquitto 2.0.11).
MOSQUITTO_LINE = ("alice:$7$101$txA+r6eg1Sxv6Y08$tKeaAWRnlyQnxHGI9zcveSL4eseTOEuxmTk8MP4AZLtJ"
                  "pEgDdIWEEefDf+eeLFLD/sE016KO6Fh6OA+YacDpFg==")
NORTH = DeviceKey("lakeside", "gate", "gate-north")


def grants(acl: str) -> dict[str, set[str]]:
    """`user` -> its `topic` lines, and "" for any line outside a user block."""
    blocks: dict[str, set[str]] = {"": set()}
    user = ""
    for line in acl.splitlines():
        if line.startswith("user "):
            user = line.removeprefix("user ")
            blocks[user] = set()
        elif line and not line.startswith("#"):
            blocks[user].add(line)
    return blocks


def test_password_hash_is_the_one_mosquitto_passwd_writes() -> None:
    _, stored = MOSQUITTO_LINE.split(":", 1)
    _, _, iterations, salt, _ = stored.split("$")

    assert hash_password("s3cret", salt=base64.b64decode(salt),
                         iterations=int(iterations)) == stored


def test_each_hash_has_its_own_salt() -> None:
    first, second = hash_password("s3cret"), hash_password("s3cret")
    assert first != second and first.startswith("$7$101$")


def test_device_username_joins_site_kind_and_device_with_dots() -> None:
    assert device_username(NORTH) == "lakeside.gate.gate-north"
    # With hyphens as the joint these two would share one account.
    assert device_username(DeviceKey("a-light", "gate", "x")) != \
        device_username(DeviceKey("a", "light-gate", "x"))


@pytest.mark.parametrize("name", ["hub/#", "hub+", "#", "lakeside/gate", "hub:x", "hub x",
                                  "hub\n", "", "hub\x00"])
def test_usernames_with_wildcard_level_separator_or_blank_characters_are_refused(
        name: str) -> None:
    with pytest.raises(UnsafeAccount):
        check_username(name)


@pytest.mark.parametrize("key", [DeviceKey("lakeside", "gate", "gate+north"),
                                 DeviceKey("lakeside", "gate", "#"),
                                 DeviceKey("lake/side", "gate", "gate-north"),
                                 DeviceKey("lakeside", "Gate", "gate-north")])
def test_device_outside_the_id_grammar_gets_no_account(key: DeviceKey) -> None:
    with pytest.raises(UnsafeAccount, match="must match"):
        device_username(key)


def test_hub_account_may_not_take_a_device_shaped_name() -> None:
    assert check_hub_account("hub-2") == "hub-2"
    with pytest.raises(UnsafeAccount):
        check_hub_account("lakeside.gate.gate-north")


def test_acl_grants_a_device_only_its_own_channels_and_the_hub_reads_all_writes_commands(
        ) -> None:
    acl = grants(acl_text([NORTH, DeviceKey("lakeside", "light", "light-1")], ["hub"]))
    root = "estate/lakeside/gate/gate-north"

    assert acl["lakeside.gate.gate-north"] == {
        f"topic write {root}/telemetry", f"topic write {root}/event",
        f"topic write {root}/status", f"topic write {root}/cmd/ack", f"topic read {root}/cmd",
        f"topic read {root}/allowlist"}  # a gate reads its allow-list; a light does not
    light = "estate/lakeside/light/light-1"
    assert f"topic read {light}/cmd" in acl["lakeside.light.light-1"]
    assert not any("allowlist" in line for line in acl["lakeside.light.light-1"])
    assert acl["hub"] == {"topic read estate/#", "topic read $share/+/estate/#",
                          "topic write estate/+/+/+/cmd", "topic write estate/+/gate/+/allowlist"}
    assert acl[""] == set(), "nothing is granted to everyone: deny by default"
    assert not any(line.startswith("pattern") for lines in acl.values() for line in lines)


def test_rendered_configuration_changes_only_the_port_and_the_file_locations(
        tmp_path: Path) -> None:
    shipped = SHIPPED.read_text(encoding="utf-8")
    rendered = render_conf(shipped, tmp_path, 18830)
    changed = {(a, b) for a, b in zip(shipped.splitlines(), rendered.splitlines(), strict=True)
               if a != b}

    assert {b for _, b in changed} == {
        "listener 18830 127.0.0.1", f"password_file {tmp_path}/passwd",
        f"acl_file {tmp_path}/acl", f"persistence_location {tmp_path}/data"}


def test_shipped_configuration_is_closed_by_default_and_queues_generously() -> None:
    settings: dict[str, list[str]] = {}
    for line in SHIPPED.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            key, _, value = line.partition(" ")
            settings.setdefault(key, []).append(value)

    assert settings["listener"] == ["1883 127.0.0.1"], "one listener, loopback only"
    assert settings["allow_anonymous"] == ["false"]
    assert settings["per_listener_settings"] == ["false"]
    assert settings["use_username_as_clientid"] == ["true"]
    assert {"password_file", "acl_file", "persistence_location"} <= set(settings)
    assert settings["persistence"] == ["true"] and int(settings["autosave_interval"][0]) <= 300
    assert int(settings["max_queued_messages"][0]) >= 100_000
    assert 64 * 1024 < int(settings["max_packet_size"][0]) <= 1024 * 1024
    assert int(settings["max_inflight_messages"][0]) >= 20
    assert "debug" not in settings["log_type"] and "all" not in settings["log_type"]
