"""hub.devices.broker.free_port: a port below the ephemeral range, which no outgoing
connection can take between its choice and its bind; the system's choice where that range
is unknown."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from hub.devices import broker
from hub.devices.broker import LOWEST_CHOSEN_PORT, free_port


def test_a_port_below_the_ephemeral_range_that_can_be_bound(tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch
                                                           ) -> None:
    ranges = tmp_path / "ip_local_port_range"
    ranges.write_text("32768\t60999\n")
    monkeypatch.setattr(broker, "EPHEMERAL_RANGE", ranges)
    ports = {free_port() for _ in range(20)}
    assert all(LOWEST_CHOSEN_PORT <= port < 32768 for port in ports), ports
    assert len(ports) > 1  # chosen at random: parallel test workers do not all pick one
    with socket.socket() as server:
        server.bind(("127.0.0.1", ports.pop()))


def test_a_port_in_use_is_not_chosen(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        ranges = tmp_path / "ip_local_port_range"
        ranges.write_text(f"{port + 1} 60999\n")
        monkeypatch.setattr(broker, "EPHEMERAL_RANGE", ranges)
        monkeypatch.setattr(broker, "LOWEST_CHOSEN_PORT", port)  # only `port` to choose from
        chosen = free_port()
    assert chosen != port  # every try found it taken: the system chose instead


def test_without_a_known_range_the_system_chooses(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(broker, "EPHEMERAL_RANGE", tmp_path / "absent")
    with socket.socket() as server:
        server.bind(("127.0.0.1", free_port()))
