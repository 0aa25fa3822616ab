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


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Drop the PostgreSQL template databases the store fixtures made for this session."""
    from tests.integration.store.conftest import drop_pg_templates
    drop_pg_templates()
