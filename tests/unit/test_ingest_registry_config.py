"""config/devices.yaml: the shipped file loads; a broken copy names file, item and reason."""

from __future__ import annotations

from pathlib import Path

import pytest

from hub.devices.registry_config import (
    RegistryConfigError,
    load_devices,
    with_ports,
)
from hub.domain.registry import Protocol

SHIPPED = Path("config/devices.yaml")


def test_the_shipped_lakeside_file_loads() -> None:
    specs = load_devices(SHIPPED)
    by_kind: dict[str, list[str]] = {}
    for spec in specs:
        by_kind.setdefault(spec.kind, []).append(spec.code)
    assert {spec.site for spec in specs} == {"lakeside"}
    assert by_kind["elevator"] == ["b1-lift-1", "b1-lift-2", "b2-lift-1", "b3-lift-1"]
    assert sorted(by_kind["gate"]) == ["gate-north", "gate-south"]
    assert len(by_kind["camera"]) == 4
    assert {"light", "door", "meter"} <= set(by_kind)
    assert all(s.register_map and s.connection for s in specs if s.protocol == Protocol.MODBUS)


def _broken(tmp_path: Path, text: str) -> str:
    path = tmp_path / "devices.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(RegistryConfigError) as raised:
        load_devices(path)
    return str(raised.value).replace(str(path), "devices.yaml")


def test_a_broken_copy_names_file_item_and_reason_for_every_problem(tmp_path: Path) -> None:
    shipped = SHIPPED.read_text(encoding="utf-8")
    text = shipped.replace("connection: {host: 127.0.0.1, port: 15020, unit: 3}",
                           "connection: {host: 127.0.0.1, unit: 3}")
    text = text.replace("{code: light-3, kind: light,", "{code: light-3, kind: Lamp Post,")
    text = text.replace("register_map: meter-water,\n     poll_period_s: 10, timeout_s: 120, "
                        "connection: {host: 127.0.0.1, port: 15021, unit: 4}",
                        "register_map: meter-gas,\n     poll_period_s: 10, timeout_s: 120, "
                        "connection: {host: 127.0.0.1, port: 15021, unit: 4}")
    text = text.replace("code: door-2,", "code: door-1,")
    assert text.count("\n") == shipped.count("\n")

    lines = _broken(tmp_path, text).splitlines()

    assert lines[0] == "devices.yaml:lakeside/b2-lift-1: connection.port: Field required"
    assert lines[1] == ("devices.yaml:lakeside/b3-meter-water: register_map: "
                        "no config/registers/meter-gas.yaml")
    assert lines[2].startswith("devices.yaml:lakeside/light-3: kind: String should match")
    assert lines[3] == "devices.yaml:lakeside/door-1: listed twice"
    assert len(lines) == 4


@pytest.mark.parametrize(("text", "expected"), [
    ("site: lakeside\ndevices:\n  - {kind: gate}\n",
     "devices.yaml:devices[0]: code: Field required"),
    ("site: lakeside\ndevices:\n  - {code: gate-west, kind: gate, colour: red}\n",
     "devices.yaml:lakeside/gate-west: colour: Extra inputs are not permitted"),
    ("devices:\n  - {code: gate-west, kind: gate}\n",
     "devices.yaml:devices[0]: site: missing (set it on the device or at the top of the file)"),
    ("site: lakeside\ndevices:\n  - {code: gate-west, kind: gate, timeout_s: 1}\n",
     "devices.yaml:lakeside/gate-west: timeout_s: Input should be greater than or equal to 5"),
    ("site: lakeside\ndevices:\n  - {code: lamp-9, kind: light, "
     "connection: {host: 127.0.0.1, port: 502}}\n",
     "devices.yaml:lakeside/lamp-9: entry: an MQTT device has no connection: it connects to "
     "the broker"),
    ("site: lakeside\ndevices: {gate-west: gate}\n",
     "devices.yaml: expected `site:` and a list under `devices:`"),
    ("site: lakeside\ndevices: [\n", "devices.yaml: not valid YAML"),
])
def test_each_kind_of_mistake_is_named(tmp_path: Path, text: str, expected: str) -> None:
    assert _broken(tmp_path, text).startswith(expected)


def test_a_missing_file_is_named() -> None:
    with pytest.raises(RegistryConfigError, match=r"^nowhere/devices.yaml: cannot read"):
        load_devices(Path("nowhere/devices.yaml"))


def test_the_demo_moves_modbus_devices_to_its_own_ports() -> None:
    moved = with_ports(load_devices(SHIPPED), {"b1-lift-1": 41000, "light-1": 41001})
    by_code = {spec.code: spec for spec in moved}
    assert by_code["b1-lift-1"].connection is not None
    assert (by_code["b1-lift-1"].connection.port, by_code["b1-lift-1"].connection.unit) == (
        41000, 1)
    assert by_code["light-1"].connection is None
