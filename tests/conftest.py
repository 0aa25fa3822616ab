"""Root fixtures: the URLs of the real services (see tests/services.py)."""

from __future__ import annotations

import pytest

from tests.services import require_service


@pytest.fixture
def postgres_url() -> str:
    return require_service("postgres")


@pytest.fixture
def mariadb_url() -> str:
    return require_service("mariadb")


@pytest.fixture
def mqtt_url() -> str:
    return require_service("mqtt")
