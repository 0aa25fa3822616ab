"""Simulated meters publishing QoS 1 telemetry, from processes of their own (so that
publishing does not take the hub's core), each reporting what the broker acknowledged.

One connection per process carries the topics of its share of the devices: the hub sees the
same messages as from one connection per device. Two clients: `raw` (hub.bench.rawmqtt, a
few µs of CPU per message, the default, so that the load generator leaves the two cores to
the broker and the hub, as real devices would) and `paho` (some 50 µs). Each payload follows
DESIGN.md §2 with `ts` in epoch milliseconds at the time of the publish, for the latency.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import sys
import time
from dataclasses import dataclass, field

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion

from hub.bench.rawmqtt import RawPublisher

INFLIGHT = 1000  # unacknowledged publishes per connection (MQTT 3.1.1: the client's own cap)
ACKS_WITHIN_S = 30.0
TICK_S = 0.001
PAYLOAD = (b'{"seq":%d,"boot":"%s","ts":%d,'
           b'"metrics":{"energy_kwh":%.2f,"power_w":%d,"voltage_v":%.1f}}')


@dataclass(frozen=True)
class PublishPlan:
    host: str
    port: int
    client_id: str
    site: str
    devices: tuple[str, ...]  # device codes (kind "meter")
    boot: str
    first_seq: int  # the same for every device of this process
    count: int  # messages in all, round robin over the devices
    rate: float = 0.0  # messages/s; 0: as fast as the broker acknowledges (a backlog)
    start_at: float = 0.0  # time.time() of the first message
    client: str = "raw"  # "raw" | "paho"


@dataclass
class PublishReport:
    client_id: str
    devices: tuple[str, ...]
    first_seq: int
    sent: int = 0
    unacked: list[tuple[str, int]] = field(default_factory=list)  # (device, seq)
    cpu_s: float = 0.0
    seconds: float = 0.0  # from the first publish to the last acknowledgement
    behind_s: float = 0.0  # how late the last publish was on its schedule

    def seqs(self, device_index: int) -> range:
        """The seqs sent to one device of this process."""
        n = len(self.devices)
        count = self.sent // n + (1 if device_index < self.sent % n else 0)
        return range(self.first_seq, self.first_seq + count)


def publish(plan: PublishPlan) -> PublishReport:
    """Run a plan in this process (blocking); the publisher processes call this."""
    return _publish_paho(plan) if plan.client == "paho" else _publish_raw(plan)


def _payload(plan: PublishPlan, seq: int, ms: int) -> bytes:
    return PAYLOAD % (seq, plan.boot.encode(), ms, seq / 100, 400 + seq % 50,
                      220 + seq % 20 / 2)


def _publish_raw(plan: PublishPlan) -> PublishReport:
    cpu_before = time.process_time()
    client = RawPublisher(plan.host, plan.port, plan.client_id, inflight=INFLIGHT)
    topics = [f"estate/{plan.site}/meter/{code}/telemetry".encode() for code in plan.devices]
    n = len(topics)
    report = PublishReport(plan.client_id, plan.devices, plan.first_seq)
    try:
        _sleep_until(plan.start_at)
        started = time.time()
        sent = 0
        while sent < plan.count:
            now = time.time()
            due = min(plan.count, int((now - started) * plan.rate) + 1) if plan.rate \
                else plan.count
            due = min(due, sent + client.room())
            if due <= sent:
                client.flush()
                time.sleep(TICK_S)
                continue
            ms = int(now * 1000)
            while sent < due:
                client.publish(topics[sent % n], _payload(plan, plan.first_seq + sent // n, ms))
                sent += 1
            client.flush()
        if plan.rate:
            report.behind_s = max(0.0, time.time() - started - plan.count / plan.rate)
        client.wait(ACKS_WITHIN_S)
        report.seconds = time.time() - started
        report.sent = sent
        report.unacked = [(plan.devices[i % n], plan.first_seq + i // n)
                          for i in range(sent) if not client.acked(i)]
    finally:
        client.close()
    report.cpu_s = time.process_time() - cpu_before
    return report


def _publish_paho(plan: PublishPlan) -> PublishReport:
    cpu_before = time.process_time()
    client = paho.Client(CallbackAPIVersion.VERSION2, client_id=plan.client_id,
                         protocol=paho.MQTTv311)
    client.max_inflight_messages_set(INFLIGHT)
    client.max_queued_messages_set(0)
    client.connect(plan.host, plan.port, keepalive=60)
    client.loop_start()
    try:
        report, infos = _send(client, plan)
        _wait_for_acks(infos)
        report.seconds = time.time() - max(plan.start_at, report.seconds)
        n = len(plan.devices)
        report.unacked = [(plan.devices[i % n], plan.first_seq + i // n)
                          for i, info in enumerate(infos) if not info.is_published()]
    finally:
        client.disconnect()
        client.loop_stop()
    report.cpu_s = time.process_time() - cpu_before
    return report


def _send(client: paho.Client, plan: PublishPlan
          ) -> tuple[PublishReport, list[paho.MQTTMessageInfo]]:
    topics = [f"estate/{plan.site}/meter/{code}/telemetry" for code in plan.devices]
    n = len(topics)
    infos: list[paho.MQTTMessageInfo] = []
    report = PublishReport(plan.client_id, plan.devices, plan.first_seq)
    _sleep_until(plan.start_at)
    started = time.time()
    report.seconds = started  # replaced by the duration once acknowledged
    sent = 0
    while sent < plan.count:
        now = time.time()
        if plan.rate:
            due = min(plan.count, int((now - started) * plan.rate) + 1)
        else:  # a backlog: keep INFLIGHT outstanding, no more, so paho's thread can run
            due = min(plan.count, sent + INFLIGHT)
            if sent >= INFLIGHT and not infos[sent - INFLIGHT].is_published():
                due = sent
        if due <= sent:
            time.sleep(TICK_S)
            continue
        ms = int(now * 1000)
        while sent < due:
            payload = _payload(plan, plan.first_seq + sent // n, ms)
            infos.append(client.publish(topics[sent % n], payload, qos=1))
            sent += 1
    if plan.rate:
        report.behind_s = max(0.0, time.time() - started - plan.count / plan.rate)
    report.sent = sent
    return report, infos


def _wait_for_acks(infos: list[paho.MQTTMessageInfo]) -> None:
    deadline = time.time() + ACKS_WITHIN_S
    checked = 0
    while checked < len(infos) and time.time() < deadline:
        if infos[checked].is_published():
            checked += 1
        else:
            time.sleep(0.005)


def _sleep_until(at: float) -> None:
    delay = at - time.time()
    if delay > 0:
        time.sleep(delay)


async def run_publishers(plans: list[PublishPlan]) -> list[PublishReport]:
    """Each plan in a process of its own (`python -m hub.bench.publishers`: a fresh
    interpreter, nothing of the hub's loop inherited), the plan in and the report out as JSON."""
    processes = [await asyncio.create_subprocess_exec(
        sys.executable, "-m", "hub.bench.publishers", stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE) for _ in plans]
    try:
        outputs = await asyncio.gather(*(
            process.communicate(json.dumps(dataclasses.asdict(plan)).encode())
            for process, plan in zip(processes, plans, strict=True)))
    finally:
        for process in processes:
            if process.returncode is None:
                process.kill()
                await process.wait()
    reports = []
    for process, (out, _) in zip(processes, outputs, strict=True):
        if process.returncode != 0 or not out:
            raise RuntimeError(f"a publisher exited with status {process.returncode}")
        data = json.loads(out)
        data["devices"] = tuple(data["devices"])
        data["unacked"] = [tuple(pair) for pair in data["unacked"]]
        reports.append(PublishReport(**data))
    return reports


def main() -> None:
    data = json.loads(sys.stdin.buffer.read())
    data["devices"] = tuple(data["devices"])
    report = publish(PublishPlan(**data))
    sys.stdout.write(json.dumps(dataclasses.asdict(report)))


if __name__ == "__main__":
    main()
