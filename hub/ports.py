"""What the service layer needs from the outside world, as Protocols."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, Protocol, Self, TypeVar

from hub.domain.audit import AuditEntry
from hub.domain.device_commands import CommandStatus, DeviceCommand
from hub.domain.observations import Observation, Rejected, Sample

T = TypeVar("T")

Clock = Callable[[], datetime]

# Called once the message it belongs to is durably stored (or dead-lettered): only then may an
# MQTT adapter acknowledge it to the broker, so a crash before that means redelivery, not loss.
Ack = Callable[[], None]


class Ingest(Protocol):
    """Where device adapters hand decoded messages. `put` may wait (backpressure); it never
    raises for a bad message, which becomes a dead letter instead."""

    async def put(self, item: Observation | Rejected, ack: Ack | None = None) -> None: ...


class DeviceGateway(Protocol):
    """Routes a command to the adapter that owns the device and reports what became of it."""

    async def send(self, command: DeviceCommand) -> CommandStatus: ...


class DeviceCommandLog(Protocol):
    """Where every device command and its outcome is kept (the device_commands table)."""

    async def record(self, command: DeviceCommand) -> None: ...

    async def settle(self, command_id: str, status: CommandStatus, at: datetime,
                     error: str | None = None) -> None:
        """Store the outcome, unless the device's own `cmd/ack`, stored by ingestion, came
        first: what the device said wins over a timeout."""
        ...


class UnitOfWork(Protocol):
    """One transaction. Leaving the block without `commit()` rolls everything back."""

    async def __aenter__(self) -> Self: ...
    async def __aexit__(self, *exc: object) -> None: ...
    async def commit(self) -> None: ...
    async def rollback(self) -> None: ...
    async def flush(self) -> None: ...

    def add(self, entity: object) -> None: ...
    async def delete(self, entity: object) -> None: ...
    async def get(self, kind: type[T], ident: Any) -> T | None: ...
    async def find(self, kind: type[T], **equal: Any) -> Sequence[T]: ...
    async def find_one(self, kind: type[T], **equal: Any) -> T | None: ...
    def audit(self, entry: AuditEntry) -> None: ...
    def emit(self, event: object) -> None: ...
    def collect_events(self) -> list[object]: ...


class TelemetryExport(Protocol):
    """A copy of stored telemetry for an outside time-series store (InfluxDB). `offer` never
    blocks ingestion: an exporter buffers (bounded), retries, and counts what it drops."""

    def offer(self, samples: Sequence[Sample]) -> None: ...
