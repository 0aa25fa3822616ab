"""A reconnect loop stops when it is cancelled, even when the cancellation comes out of the
MQTT client as a broken link (a disconnect that timed out while the task was cancelled)."""

from __future__ import annotations

import asyncio

import aiomqtt

from hub.devices.backoff import stop_if_cancelled


async def _session() -> None:
    try:
        await asyncio.sleep(0.02)  # a short session each time: the link keeps failing
    finally:  # as aiomqtt's __aexit__ can: its disconnect timed out, and says so
        raise aiomqtt.MqttError("Operation timed out")


async def _reconnect_loop() -> None:
    for _ in range(50):  # forever, in production; bounded so that a failure ends the test
        try:
            await _session()
        except aiomqtt.MqttError as err:
            stop_if_cancelled(err)  # without it: taken for a broken link, and on it runs
        await asyncio.sleep(0.01)


async def test_a_loop_that_checks_stops_when_cancelled() -> None:
    task = asyncio.create_task(_reconnect_loop())
    await asyncio.sleep(0.01)
    task.cancel()
    await asyncio.wait({task}, timeout=5.0)  # not wait_for, which would cancel it again
    assert task.cancelled(), "the loop took its cancellation for a broken link and ran on"

