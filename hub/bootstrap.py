"""The composition root: the one place that names concrete classes and wires them together."""

from __future__ import annotations

import base64
import inspect
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

from alembic.runtime.migration import MigrationContext
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from hub.billing_reminders import run_arrears_reminders
from hub.bus import Handler, MessageBus
from hub.devices.gateway import MqttGateway
from hub.devices.modbus.registered import poll_registered
from hub.devices.modbus.registers import load_register_maps
from hub.devices.mqtt.adapter import MqttAdapter
from hub.devices.mqtt.codec import Contract
from hub.devices.mqtt.fields import Limits
from hub.devices.mqtt.link import MqttConfig
from hub.domain import commands as c
from hub.domain.billing.arrears import ArrearsPolicy
from hub.domain.outcomes import Notify
from hub.domain.parking.events import ParkingChargePaid
from hub.handlers import access as access_handlers
from hub.handlers import accounts, billing_runs, devices, premises, residents
from hub.handlers import billing as billing_handlers
from hub.handlers import complaints as complaint_handlers
from hub.handlers import notices as notice_handlers
from hub.handlers import notifications as notification_handlers
from hub.handlers import ownership as ownership_handlers
from hub.handlers import parking_gate as parking_gate_handlers
from hub.handlers import parking_payments as parking_payment_handlers
from hub.handlers import parking_registry as parking_registry_handlers
from hub.handlers import payments as payment_handlers
from hub.handlers import tariffs as tariff_handlers
from hub.handlers import work_orders as work_order_handlers
from hub.handlers.access_common import AccessConfig
from hub.handlers.access_flow import DoorFlow
from hub.handlers.access_retention import AccessLogRetention
from hub.handlers.complaints import run_complaint_escalation
from hub.handlers.maintenance import FACILITY_COMMANDS, FACILITY_EVENTS, load_templates
from hub.handlers.maintenance_schedule import run_due_maintenance
from hub.handlers.maintenance_usage import UsageTracker
from hub.handlers.notices import run_scheduled_announcements
from hub.handlers.ownership import UnitStatusStep
from hub.handlers.work_order_sla import sla_forever
from hub.health import HealthBoard, watch_loop_lag
from hub.imports import service as import_handlers
from hub.ingest.command_log import SqlCommandLog
from hub.ingest.pipeline import IngestPipeline
from hub.leases import LeaseStore, lease_jobs
from hub.notify.services import NoticeServices, build_notice_services, notices_health
from hub.parking.allowlist import publisher_from
from hub.parking.evidence import GateEvidence, evidence_from, evidence_retention
from hub.parking.flow import GateFlow
from hub.parking.offline import OfflineLogs
from hub.parking.steps import gate_steps
from hub.parking.wiring import build_gate_flow, open_exit_when_paid, sql_directory
from hub.payments.sandbox import shipped_providers
from hub.periodic import Step, periodic
from hub.ports import Clock, TelemetryExport, UnitOfWork
from hub.rules.runner import RulesRunner
from hub.rules.wiring import build_rules
from hub.security.pii import PiiVault
from hub.security.tokens import TokenIssuer
from hub.settings import Settings
from hub.store import migrate
from hub.store.access_visitors import count_visitor_entry
from hub.store.billing_runs_sql import SqlBillingRuns
from hub.store.db import make_engine, make_sessions
from hub.store.mapping import start_mappers
from hub.store.parking_directory import SqlParkingDirectory
from hub.store.telemetry import device_keys
from hub.store.turns import process_lock_of
from hub.store.uow import SqlUnitOfWork
from hub.supervise import Job
from hub.telemetry.influx import InfluxExport
from hub.telemetry.jobs import TelemetryJobs
from hub.work_order_config import shipped_policy

COMMAND_HANDLERS: dict[type, Callable[..., Any]] = {
    c.CreateSite: premises.create_site,
    c.CreateBuilding: premises.create_building,
    c.CreateUnit: premises.create_unit,
    c.Change: premises.change,
    c.Delete: premises.delete,
    c.RegisterResident: residents.register_resident,
    c.AddResidency: residents.add_residency,
    c.EndResidency: residents.end_residency,
    c.RevealNationalId: residents.reveal_national_id,
    c.CreateAccount: accounts.create_account,
    c.UpdateAccount: accounts.update_account,
    c.RecordDenial: accounts.record_denial,
    c.Login: accounts.login,
    c.Refresh: accounts.refresh,
    c.Logout: accounts.logout,
    **devices.COMMAND_HANDLERS,
    **FACILITY_COMMANDS,
    **notice_handlers.COMMAND_HANDLERS,
    **notification_handlers.COMMAND_HANDLERS,
    **complaint_handlers.COMMAND_HANDLERS,
    **work_order_handlers.COMMAND_HANDLERS,
    **billing_handlers.COMMAND_HANDLERS,
    **billing_runs.COMMAND_HANDLERS,
    **payment_handlers.COMMAND_HANDLERS,
    **import_handlers.COMMAND_HANDLERS,
    **tariff_handlers.COMMAND_HANDLERS,
    **parking_registry_handlers.COMMAND_HANDLERS,
    **parking_payment_handlers.COMMAND_HANDLERS,
    **ownership_handlers.COMMAND_HANDLERS,
    **access_handlers.COMMAND_HANDLERS,
    **parking_gate_handlers.COMMAND_HANDLERS,
}
EVENT_HANDLERS: dict[type, list[Callable[..., Any]]] = {}

# The asset's and the maintenance plans' side of work orders.
for _kind, _followers in FACILITY_EVENTS.items():
    EVENT_HANDLERS.setdefault(_kind, []).extend(_followers)
# A paid parking session's car waiting at an exit is let out.
EVENT_HANDLERS.setdefault(ParkingChargePaid, []).append(open_exit_when_paid)


# Work that one worker of several does (under a lease, hub.leases): the pollers (a device
# polled twice is two load and two sequences), rollups and retention, and the schedulers.
SINGLETON_JOBS = ("modbus", "telemetry.rollup", "telemetry.retention", "work_orders.sla",
                  "maintenance.due", "announcements.scheduled", "complaints.escalation",
                  "billing.reminders", "units.status", "notifications.deferred",
                  "access.retention", "parking.overstay", "parking.retention",
                  "parking.allowlist", "parking.evidence.retention")

def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class Hub:
    """Everything a process needs, built once."""

    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    bus: MessageBus
    tokens: TokenIssuer
    vault: PiiVault
    clock: Clock
    health: HealthBoard
    pipeline: IngestPipeline
    gateway: MqttGateway | None
    # Long-running work, started supervised by hub.runtime; `inputs` are stopped first on
    # shutdown so that the pipeline can drain what they already handed over.
    jobs: dict[str, Job]
    inputs: set[str]
    # Announcements, notifications, complaints: live feed broker, providers, photo store.
    notices: NoticeServices
    rules: RulesRunner | None = None  # None: disabled, or no rules folder
    # The gate's plate reader (worker processes) and the snapshots and crops it keeps.
    plate_evidence: GateEvidence | None = None

    def uow(self) -> UnitOfWork:
        return SqlUnitOfWork(self.sessions)

    async def close(self) -> None:
        if self.plate_evidence is not None:
            await self.plate_evidence.aclose()
        await self.engine.dispose()


def make_vault(settings: Settings) -> PiiVault:
    sec = settings.security
    keys = {key_id: base64.b64decode(v.get_secret_value()) for key_id, v in sec.pii_keys.items()}
    return PiiVault(keys, sec.pii_active_key, sec.blind_index_key.get_secret_value().encode())


def bootstrap(settings: Settings, *, clock: Clock = utc_now,
              engine: AsyncEngine | None = None, registers: Path | None = None) -> Hub:
    """`registers`: the folder of Modbus register maps (config/registers); without it, or
    when it does not exist, nothing is polled. A bad map stops start-up (RegisterMapError)."""
    start_mappers()
    engine = engine or make_engine(settings.database_url, pool_size=settings.database.pool_size,
                                   echo=settings.database.echo)
    sessions = make_sessions(engine)
    tokens = TokenIssuer(settings.security.jwt_secret.get_secret_value(),
                         timedelta(minutes=settings.security.access_token_minutes))
    vault = make_vault(settings)
    health = HealthBoard()
    health.register("database", partial(database_health, engine), critical=True)
    jobs: dict[str, Job] = {"event_loop": partial(watch_loop_lag, health)}
    export = _telemetry(settings, engine, clock, health, jobs)
    pipeline = IngestPipeline(engine, settings.ingest, clock, export=export)
    health.register("ingest", pipeline.health)
    jobs |= {"ingest": pipeline.run, "ingest.sweeper": pipeline.sweep_forever}
    gateway, inputs = _mqtt(settings, pipeline, engine, health, clock, jobs)
    if registers is not None and registers.is_dir():
        jobs["modbus"] = partial(
            poll_registered, lambda: SqlUnitOfWork(sessions), load_register_maps(registers),
            ingest=pipeline, health=health, on_reachability=pipeline.reachability, clock=clock)
        inputs.add("modbus")
    dependencies: dict[str, Any] = {
        "clock": clock, "tokens": tokens, "vault": vault,
        "refresh_ttl": timedelta(days=settings.security.refresh_token_days),
        "command_log": SqlCommandLog(engine), "gateway": gateway,
        "access": AccessConfig.from_settings(settings),  # door codes' key, QR step
        "run_store": SqlBillingRuns(),  # billing runs: bulk reads and inserts
        # Who a plate is, for guards asking at the barrier: the gate's own directory
        # (registry and visitor passes).
        "parking_directory": sql_directory(sessions),
        "registry_changed": pipeline.registry_changed,
        "maintenance_templates": load_templates(),  # a bad template stops start-up
        "order_policy": shipped_policy(),
        "pay_grace_minutes": settings.parking.pay_grace_minutes,  # parking payments
        "payment_providers": shipped_providers(
            settings.security.jwt_secret.get_secret_value().encode()),
    }
    # Parking gates: plate reads become sessions, decisions, charges and barrier commands,
    # per site in order; a blacklisted car alerts security through the bus (built below).
    # Reads without text are read from their snapshot in worker processes; the snapshot and
    # the plate crop are kept as the decision's evidence (hub.parking.evidence).
    evidence = evidence_from(settings)
    gate_flow = build_gate_flow(settings, sessions, gateway, dependencies["command_log"], clock,
                                notify=lambda command: bus.handle(command),  # noqa: PLW0108
                                reader=evidence.reader, evidence=evidence,
                                urgency=pipeline.urgency)
    dependencies["parking_gate"] = gate_flow
    notices = build_notice_services(sessions, settings.data_dir)
    health.register("notifications", partial(notices_health, notices))
    dependencies |= notices.dependencies()
    bus = MessageBus(
        uow_factory=lambda: SqlUnitOfWork(sessions),
        command_handlers={kind: _inject(h, dependencies) for kind, h in COMMAND_HANDLERS.items()},
        event_handlers={kind: [_inject(h, dependencies) for h in hs]
                        for kind, hs in EVENT_HANDLERS.items()},
    )
    rules = build_rules(settings, engine, bus.handle, pipeline, health, clock, jobs)
    # Offline gates: every gate's retained allow-list, published by one worker (a lease:
    # two publishers would race each other's versions).
    allowlists = publisher_from(settings, engine, SqlParkingDirectory(sessions), health, clock)
    if allowlists is not None:
        jobs["parking.allowlist"] = allowlists.run
    # SLA warnings and escalations; the manager is notified when a Notify handler exists.
    jobs["work_orders.sla"] = partial(
        sla_forever, lambda: SqlUnitOfWork(sessions), clock,
        policy=dependencies["order_policy"],
        notify=bus.handle if Notify in COMMAND_HANDLERS else None)
    # Usage counters (lift trips, run hours) of devices linked to assets, and their
    # offline/online/mode changes, for maintenance plans and asset status.
    usage = UsageTracker(bus.handle)
    pipeline.observers.subscribe(usage.observe, *UsageTracker.KINDS)
    # Doors: a credential at a door controller decided, logged and answered with `unlock`;
    # the access log (location data) kept only access.log_retention_days.
    doors = DoorFlow(lambda: SqlUnitOfWork(sessions), dependencies["access"], clock,
                     gateway=gateway, command_log=dependencies["command_log"],
                     queue_size=settings.access.queue_size,
                     count_entry=partial(count_visitor_entry, engine))
    pipeline.observers.subscribe(doors.observe, *DoorFlow.KINDS)
    jobs["access.doors"] = doors.run
    pipeline.observers.subscribe(gate_flow.observe, *GateFlow.KINDS)
    jobs["parking.gate"] = gate_flow.run
    jobs["parking.evidence.retention"] = periodic(
        "parking.evidence.retention", *evidence_retention(sessions, evidence), clock, health)
    # What a gate did alone while the hub was away, recorded once it reports it.
    offline = OfflineLogs(gate_flow, clock)
    pipeline.observers.subscribe(offline.observe, *OfflineLogs.KINDS)
    jobs["parking.offline"] = offline.run
    for name, (every_s, step) in gate_steps(sessions, settings.parking).items():
        jobs[name] = periodic(name, every_s, step, clock, health)
    jobs["access.retention"] = periodic("access.retention", 3600.0, AccessLogRetention(
        engine, settings.access.log_retention_days), clock, health)
    _schedule(jobs, bus, lambda: SqlUnitOfWork(sessions), clock, health, settings)
    # Texts held back by quiet hours go out when the hours end.
    jobs["notifications.deferred"] = periodic("notifications.deferred", 60.0,
                                              notices.notifier.send_deferred, clock, health)
    # With several workers on one database, these run in the one holding their lease.
    lease_jobs(jobs, SINGLETON_JOBS, LeaseStore(engine), settings.mqtt.client_id, health, clock)
    return Hub(settings, engine, sessions, bus, tokens, vault, clock, health, pipeline, gateway,
               jobs, inputs, rules=rules, notices=notices, plate_evidence=evidence)


def _schedule(jobs: dict[str, Job], bus: MessageBus, uow_factory: Callable[[], UnitOfWork],
              clock: Clock, health: HealthBoard, settings: Settings) -> None:
    """The periodic passes: each decides from `now` what is due, so a late pass catches up."""
    billing = settings.billing
    arrears = ArrearsPolicy(overdue_days=billing.reminder_overdue_days,
                            repeat_days=billing.reminder_repeat_days,
                            min_amount=billing.reminder_min_amount)
    steps: dict[str, tuple[float, Step]] = {
        "maintenance.due": (60.0, partial(run_due_maintenance, bus, uow_factory)),
        "announcements.scheduled": (60.0, partial(run_scheduled_announcements, bus,
                                                   uow_factory)),
        "complaints.escalation": (300.0, partial(run_complaint_escalation, bus, uow_factory)),
        "billing.reminders": (billing.reminder_every_s,
                              partial(run_arrears_reminders, bus, uow_factory, policy=arrears)),
        "units.status": (3600.0, UnitStatusStep(uow_factory)),
    }
    for name, (every_s, step) in steps.items():
        jobs[name] = periodic(name, every_s, step, clock, health)


def _telemetry(settings: Settings, engine: AsyncEngine, clock: Clock, health: HealthBoard,
               jobs: dict[str, Job]) -> TelemetryExport | None:
    jobs |= TelemetryJobs(engine, settings.telemetry, health, clock).jobs()
    if not settings.influx.url:
        return None
    export = InfluxExport(settings.influx, partial(device_keys, engine), health)
    jobs[export.component] = export.run
    return export


def _mqtt(settings: Settings, pipeline: IngestPipeline, engine: AsyncEngine,
          health: HealthBoard, clock: Clock,
          jobs: dict[str, Job]) -> tuple[MqttGateway | None, set[str]]:
    """The broker side: none without `mqtt.url` (tests, a hub that only serves the API)."""
    mqtt = settings.mqtt
    if not mqtt.url:
        return None, set()
    config = MqttConfig(
        url=mqtt.url, client_id=mqtt.client_id, ca_file=mqtt.ca_file or None,
        username=mqtt.username or None,
        password=mqtt.password.get_secret_value() or None, keepalive_s=mqtt.keepalive_s,
        session_expiry_s=mqtt.session_expiry_s, receive_maximum=mqtt.receive_maximum,
        incoming_queue=mqtt.incoming_queue, incoming_queue_bytes=mqtt.incoming_queue_bytes,
        shared_group=mqtt.shared_group, sites=tuple(mqtt.sites), channels=tuple(mqtt.channels),
        protocol=mqtt.protocol,
        backoff_base_s=mqtt.backoff_base_s, backoff_cap_s=mqtt.backoff_cap_s)
    contract = Contract(limits=Limits(max_payload_bytes=mqtt.max_payload_bytes,
                                      future_skew=timedelta(seconds=mqtt.future_skew_s)))
    adapter = MqttAdapter(config, pipeline, health, clock, contract=contract,
                          others=process_lock_of(engine))
    # Commands go over a connection of their own, with a plain subscription to the acks,
    # so that an ack reaches the worker waiting for it even when inbound load is shared.
    gateway = MqttGateway(
        replace(config, client_id=mqtt.command_client_id,
                username=mqtt.command_username or config.username,
                password=mqtt.command_password.get_secret_value() or config.password,
                shared_group=""),
        health, clock, ack_timeout_s=mqtt.ack_timeout_s, contract=contract)
    jobs |= {"mqtt": adapter.run, "mqtt.commands": gateway.run}
    return gateway, {"mqtt"}


async def database_health(engine: AsyncEngine) -> dict[str, Any]:
    """Reachable, and migrated to the revision this code expects."""
    async with engine.connect() as connection:
        found = await connection.run_sync(
            lambda sync: MigrationContext.configure(sync).get_current_revision())
    expected = migrate.head()
    if found != expected:
        return {"status": "down", "detail": f"schema at {found}, expected {expected}: "
                                            "run `hub db upgrade`"}
    return {"status": "ok", "detail": f"schema at {found}", "backend": engine.dialect.name}


def _inject(handler: Callable[..., Any], dependencies: dict[str, Any]) -> Handler:
    """Bind the handler's keyword dependencies by parameter name (cosmicpython's bootstrap)."""
    wanted = inspect.signature(handler).parameters
    bound = {name: value for name, value in dependencies.items() if name in wanted}
    return partial(handler, **bound)
