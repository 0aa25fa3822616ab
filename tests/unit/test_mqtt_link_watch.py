"""The hub's MQTT client asks the loop to watch its socket for writing only while that makes
sense: not a closed socket, and not one whose watcher uvloop has already closed."""

from __future__ import annotations

import socket
from collections.abc import Callable
from typing import Any

import pytest

from hub.devices.mqtt.link import Client


class Loop:
    """Records what the client asks of the event loop; add_writer fails as told."""

    def __init__(self, fail: Exception | None = None) -> None:
        self.soon: list[Callable[[], None]] = []
        self.writers: list[int] = []
        self.fail = fail

    def call_soon_threadsafe(self, callback: Callable[[], None]) -> None:
        self.soon.append(callback)

    def add_writer(self, fileno: int, _callback: Any) -> None:
        if self.fail is not None:
            raise self.fail
        self.writers.append(fileno)


def client_on(loop: Loop) -> Client:
    client = Client.__new__(Client)  # only the callback is under test, not a connection
    client._loop = loop  # type: ignore[assignment]
    return client


def test_an_open_socket_is_watched() -> None:
    loop = Loop()
    with socket.socket() as sock:
        client_on(loop)._on_socket_register_write(None, None, sock)
        loop.soon[0]()
        assert loop.writers == [sock.fileno()]


def test_a_socket_closed_before_the_loop_gets_to_it_is_not_watched() -> None:
    loop = Loop()
    sock = socket.socket()
    client_on(loop)._on_socket_register_write(None, None, sock)
    sock.close()
    loop.soon[0]()
    assert loop.writers == []


def test_a_socket_whose_watcher_uvloop_closed_is_left_alone() -> None:
    loop = Loop(RuntimeError("unable to perform operation on <UVPoll closed=True>; the "
                             "handler is closed"))
    with socket.socket() as sock:
        client_on(loop)._on_socket_register_write(None, None, sock)
        loop.soon[0]()  # no exception for the loop to log with its traceback
    assert loop.writers == []


def test_other_failures_are_not_hidden() -> None:
    loop = Loop(OSError("bad file descriptor"))
    with socket.socket() as sock:
        client_on(loop)._on_socket_register_write(None, None, sock)
        with pytest.raises(OSError):
            loop.soon[0]()
