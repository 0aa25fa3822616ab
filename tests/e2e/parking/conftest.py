"""The broker of the parking end-to-end tests: ESTATE_TEST_MQTT_URL when set (a site of the
test's own keeps its topics apart), else a Mosquitto of the test's own (tests/e2e/work)."""

from tests.e2e.work.conftest import broker_url

__all__ = ["broker_url"]
