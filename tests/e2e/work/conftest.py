"""The broker of the work-order end-to-end tests: ESTATE_TEST_MQTT_URL when set (a unique site
keeps the test's topics apart), else a Mosquitto of the test's own on a free port."""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.integration.devices.mqtt_support import mosquitto
from tests.services import require_service


@pytest.fixture
async def broker_url(tmp_path: Path) -> AsyncIterator[str]:
    if os.environ.get("ESTATE_TEST_MQTT_URL", "").strip() or shutil.which("mosquitto") is None:
        yield require_service("mqtt")
        return
    folder = tmp_path / "broker"
    folder.mkdir()
    async with mosquitto(folder, persistence=False) as broker:
        yield broker.url
