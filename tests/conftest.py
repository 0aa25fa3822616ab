"""Root fixtures: the URLs of the real services (see tests/services.py)."""

from __future__ import annotations

import pytest

from tests.services import require_service

pytest_plugins = ["tests.timeouts"]


@pytest.fixture
def postgres_url() -> str:
    return require_service("postgres")


@pytest.fixture
def mariadb_url() -> str:
    return require_service("mariadb")


@pytest.fixture
def mqtt_url() -> str:
    return require_service("mqtt")


# Fixtures that hand out the shared broker of ESTATE_TEST_MQTT_URL. Under pytest-xdist
# (`make test` runs `-n auto --dist loadgroup`) the tests using them share one worker: each
# keeps to a site of its own, but hubs in one shared-subscription group, or clients reusing
# an id, would take each other's messages if two such tests ran at once.
SHARED_BROKER_FIXTURES = frozenset({"mqtt_url", "broker_url"})


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if SHARED_BROKER_FIXTURES.intersection(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.xdist_group("shared-broker"))


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Drop the PostgreSQL template databases the store fixtures made for this session."""
    from tests.integration.store.conftest import drop_pg_templates
    drop_pg_templates()
