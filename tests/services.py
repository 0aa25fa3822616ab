"""The suite's convention for real services: a URL in an environment variable, or a skip.

`ESTATE_TEST_POSTGRES_URL`, `ESTATE_TEST_MARIADB_URL` and `ESTATE_TEST_MQTT_URL` name the
servers a test may use. Without one (or when it does not answer) a test that needs it skips
with the reason; under `CI=true` it fails instead, so that a green CI run means it ran.
"""

from __future__ import annotations

import os
import shutil
import socket
from functools import cache
from urllib.parse import urlsplit

import pytest

SERVICES = {
    "postgres": ("ESTATE_TEST_POSTGRES_URL", 5432),
    "mariadb": ("ESTATE_TEST_MARIADB_URL", 3306),
    "mqtt": ("ESTATE_TEST_MQTT_URL", 1883),
}
CONNECT_TIMEOUT_S = 2.0
# Servers a test starts itself: the variable names the binary, else it is looked up on PATH.
BINARIES = {
    "victoria-metrics": ("ESTATE_TEST_VICTORIA_METRICS", "victoria-metrics"),
}


def require_service(name: str) -> str:
    """The service's URL, or skip (fail under CI=true) with a reason that says what to set."""
    variable, default_port = SERVICES[name]
    url = os.environ.get(variable, "").strip()
    if not url:
        _unavailable(f"{name}: set {variable} to run this test")
    problem = _unreachable(url, default_port)
    if problem:
        _unavailable(f"{name}: {variable} does not answer ({problem})")
    return url


def require_binary(name: str) -> str:
    """The binary's path, or skip (fail under CI=true) with a reason that says what to do."""
    variable, command = BINARIES[name]
    path = shutil.which(os.environ.get(variable, "").strip() or command)
    if path is None:
        _unavailable(f"{name}: install it (apt-get install {name}) or set {variable}")
    return str(path)


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() == "true"


def _unavailable(reason: str) -> None:
    if in_ci():
        pytest.fail(f"{reason}; CI=true needs every service", pytrace=False)
    pytest.skip(reason)


@cache
def _unreachable(url: str, default_port: int) -> str | None:
    """Why a TCP connection to the URL's host and port fails, or None when it succeeds."""
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or default_port
    try:
        with socket.create_connection((host, port), timeout=CONNECT_TIMEOUT_S):
            return None
    except OSError as err:
        return f"{host}:{port}: {err.strerror or err}"
