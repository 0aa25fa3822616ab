"""RELIABILITY R7: a hypothesis state machine drives the real work-order handlers (through the
bus, on an in-memory unit of work) with random faults, dispatch and staff actions, and checks
after every step: closed stays closed unless reopened, the reopen counter never goes down,
one open order per (device, fault), and every change of state adds to the timeline."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from hub.bootstrap import _inject
from hub.bus import MessageBus
from hub.domain.accounts import SYSTEM, Account, Actor, Role, ScopeGrant
from hub.domain.errors import DomainError
from hub.domain.outcomes import Cause, ClearFault, Evidence, Priority, RaiseFault
from hub.domain.registry import Device
from hub.domain.work_orders import (
    DEFAULT_POLICY,
    OPEN,
    RosterEntry,
    Rotation,
    Status,
    WorkOrder,
)
from hub.handlers.work_orders import (
    COMMAND_HANDLERS,
    Action,
    ActOnOrder,
    AssignOrder,
    ResolveOrder,
)

SITE = 1
TECHS = (11, 12, 13)
DEVICES = (21, 22)
FAULTS = ("TRAPPED_AT_FLOOR", "OVERSPEED")
T0 = datetime(2026, 11, 27, 8, 0, tzinfo=UTC)


class MemoryStore:
    def __init__(self) -> None:
        self.rows: dict[type, list[Any]] = defaultdict(list)
        self.next_id = 1

    def key(self, obj: Any) -> Any:
        return (obj.site_id, obj.category) if isinstance(obj, Rotation) else obj.id


class MemoryUow:
    """Enough of the UnitOfWork port for the work-order handlers, one writer at a time."""

    def __init__(self, store: MemoryStore) -> None:
        self.store = store
        self._added: list[Any] = []
        self._events: list[object] = []

    async def __aenter__(self) -> MemoryUow:
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._added = []

    async def flush(self) -> None:
        for obj in self._added:
            if getattr(obj, "id", 0) is None:
                obj.id, self.store.next_id = self.store.next_id, self.store.next_id + 1

    async def commit(self) -> None:
        await self.flush()
        for obj in self._added:
            self.store.rows[type(obj)].append(obj)
        self._added = []
        keys = [o.open_key for o in self.store.rows[WorkOrder] if o.open_key is not None]
        assert len(keys) == len(set(keys)), f"two open orders share a key: {keys}"

    async def rollback(self) -> None:
        self._added = []

    def add(self, obj: Any) -> None:
        self._added.append(obj)

    async def get(self, kind: type, ident: Any) -> Any:
        return next((o for o in self.store.rows[kind] if self.store.key(o) == ident), None)

    async def find(self, kind: type, **equal: Any) -> list[Any]:
        return [o for o in self.store.rows[kind]
                if all(getattr(o, k) == v for k, v in equal.items())]

    async def find_one(self, kind: type, **equal: Any) -> Any:
        found = await self.find(kind, **equal)
        return found[0] if found else None

    def emit(self, event: object) -> None:
        self._events.append(event)

    def collect_events(self) -> list[object]:
        events, self._events = self._events, []
        return events


def tech(account_id: int) -> Actor:
    return Actor(account_id, Role.MAINTENANCE, whole_sites=frozenset({SITE}))


BOSS = Actor(99, Role.MANAGER, whole_sites=frozenset({SITE}))


class Lifecycle(RuleBasedStateMachine):
    examples: ClassVar[int] = 0
    steps: ClassVar[int] = 0
    transitions: ClassVar[dict[str, int]] = defaultdict(int)

    def __init__(self) -> None:
        super().__init__()
        Lifecycle.examples += 1
        self.loop = asyncio.new_event_loop()
        self.now = T0
        self.store = MemoryStore()
        for device in DEVICES:
            self.store.rows[Device].append(Device(SITE, f"lift-{device}", "elevator",
                                                  building_id=None, id=device))
        for account in TECHS:
            self.store.rows[Account].append(Account(f"tech-{account}", "x", Role.MAINTENANCE,
                                                    grants=[ScopeGrant(SITE)], id=account))
            self.store.rows[RosterEntry].append(RosterEntry(SITE, account, ["elevator"],
                                                            on_duty=account != 13))
        policy = replace(DEFAULT_POLICY, relapse_window=timedelta(hours=1))  # round-robin
        deps = {"clock": lambda: self.now, "order_policy": policy}
        self.bus = MessageBus(lambda: MemoryUow(self.store),
                              {k: _inject(h, deps) for k, h in COMMAND_HANDLERS.items()}, {})
        self.max_reopens: dict[int, int] = {}

    def teardown(self) -> None:
        self.loop.close()

    def orders(self) -> list[WorkOrder]:
        return list(self.store.rows[WorkOrder])

    def _run(self, command: object, order: WorkOrder | None) -> None:
        Lifecycle.steps += 1
        before = (order.status, order.reopen_count, len(order.timeline)) if order else None
        try:
            self.loop.run_until_complete(self.bus.handle(command))
            outcome = "ok"
        except DomainError:
            outcome = "refused"
        name = command.action.value if isinstance(command, ActOnOrder) else \
            type(command).__name__
        Lifecycle.transitions[f"{name}:{outcome}"] += 1
        if order is None or before is None:
            return
        status, reopens, entries = before
        if outcome == "refused":
            assert (order.status, order.reopen_count, len(order.timeline)) == before
            return
        assert len(order.timeline) > entries, "a change that left no timeline entry"
        if status == Status.CLOSED and order.status != Status.CLOSED:
            assert order.reopen_count == reopens + 1, "closed left closed without a reopen"

    @rule(device=st.sampled_from(DEVICES), fault=st.sampled_from(FAULTS),
          minutes=st.integers(0, 90))
    def fault(self, device: int, fault: str, minutes: int) -> None:
        self.now += timedelta(minutes=minutes)
        key = f"device:{device}:{fault}"
        relapsed = [o for o in self.orders() if o.fault_key == key and o.resolved_at
                    and o.status in (Status.RESOLVED, Status.CLOSED)
                    and self.now - o.resolved_at <= timedelta(hours=1)]
        target = next((o for o in self.orders() if o.open_key == key), None) or max(
            relapsed, key=lambda o: o.resolved_at or T0, default=None)
        self._run(RaiseFault(
            site_id=SITE, fault=fault, category="elevator", priority=Priority.P1,
            title=f"{fault} on lift {device}", at=self.now, device_id=device, actor=SYSTEM,
            cause=Cause(rule_id="elevator", rule_version="1", evidence=(
                Evidence(kind="fault", at=self.now, device_id=device),))), target)

    @rule(device=st.sampled_from(DEVICES), fault=st.sampled_from(FAULTS))
    def clear(self, device: int, fault: str) -> None:
        target = next((o for o in self.orders() if o.open_key == f"device:{device}:{fault}"),
                      None)
        self._run(ClearFault(fault=fault, at=self.now, cause=Cause(), device_id=device,
                             actor=SYSTEM), target)

    @precondition(lambda self: bool(self.orders()))
    @rule(data=st.data(), action=st.sampled_from(list(Action)),
          who=st.sampled_from(("assignee", "assignee", "boss", *TECHS)))
    def act(self, data: st.DataObject, action: Action, who: int | str) -> None:
        if not self.orders():
            return
        order = data.draw(st.sampled_from(self.orders()))
        if who == "assignee":
            who = order.assignee_id or TECHS[0]
        actor = BOSS if who == "boss" else tech(int(who))
        assert order.id is not None
        self._run(ActOnOrder(actor, order.id, action, reason="test"), order)

    @precondition(lambda self: bool(self.orders()))
    @rule(data=st.data(), to=st.sampled_from(TECHS), transfer=st.booleans())
    def assign(self, data: st.DataObject, to: int, transfer: bool) -> None:
        if not self.orders():
            return
        order = data.draw(st.sampled_from(self.orders()))
        assert order.id is not None
        self._run(AssignOrder(BOSS, order.id, to, transfer=transfer), order)

    @precondition(lambda self: bool(self.orders()))
    @rule(data=st.data(), by_assignee=st.booleans())
    def resolve(self, data: st.DataObject, by_assignee: bool) -> None:
        if not self.orders():
            return
        order = data.draw(st.sampled_from(self.orders()))
        actor = tech(order.assignee_id) if by_assignee and order.assignee_id else BOSS
        assert order.id is not None
        self._run(ResolveOrder(actor, order.id, note="fixed"), order)

    @precondition(lambda self: bool(self.orders()))
    @rule(data=st.data())
    def progress(self, data: st.DataObject) -> None:
        """The next sensible step for an order, by whoever should take it: the walk reaches
        deep states far more often than random actions alone."""
        order = data.draw(st.sampled_from(self.orders()))
        assert order.id is not None
        mine = tech(order.assignee_id) if order.assignee_id else BOSS
        command: object = {
            Status.NEW: AssignOrder(BOSS, order.id, TECHS[0]),
            Status.RETURNED: ActOnOrder(tech(TECHS[1]), order.id, Action.CLAIM),
            Status.ASSIGNED: ActOnOrder(mine, order.id, Action.ACCEPT),
            Status.ACCEPTED: ActOnOrder(mine, order.id, Action.START),
            Status.IN_PROGRESS: ResolveOrder(mine, order.id, note="fixed")
            if data.draw(st.booleans()) else ActOnOrder(mine, order.id, Action.PAUSE),
            Status.PAUSED: ActOnOrder(mine, order.id, Action.RESUME),
            Status.RESOLVED: ActOnOrder(BOSS, order.id, Action.CLOSE),
            Status.CLOSED: ActOnOrder(BOSS, order.id, Action.REOPEN),
            Status.CANCELLED: ActOnOrder(BOSS, order.id, Action.REOPEN),
        }[order.status]
        self._run(command, order)

    @invariant()
    def one_open_order_per_fault(self) -> None:
        open_keys = [o.fault_key for o in self.orders() if o.status in OPEN]
        assert len(open_keys) == len(set(open_keys))
        for order in self.orders():
            assert order.open_key == (order.fault_key if order.status in OPEN else None)

    @invariant()
    def reopen_counter_never_goes_down(self) -> None:
        for order in self.orders():
            assert order.id is not None
            assert order.reopen_count >= self.max_reopens.get(order.id, 0)
            self.max_reopens[order.id] = order.reopen_count
            assert order.reopen_count == sum(e.kind == "reopened" for e in order.timeline)

    @invariant()
    def assignee_matches_state(self) -> None:
        for order in self.orders():
            held = order.status in (Status.ASSIGNED, Status.ACCEPTED, Status.IN_PROGRESS,
                                    Status.PAUSED)
            assert (order.assignee_id is not None) == held or order.status in (
                Status.RESOLVED, Status.CLOSED, Status.CANCELLED)


def test_work_order_lifecycle_state_machine() -> None:
    Lifecycle.examples = Lifecycle.steps = 0
    Lifecycle.transitions.clear()
    run_state_machine_as_test(Lifecycle, settings=settings(
        max_examples=150, stateful_step_count=50, deadline=None, derandomize=True))
    ok = {k: v for k, v in sorted(Lifecycle.transitions.items())}
    print(f"R7 work-order lifecycle: examples={Lifecycle.examples} steps={Lifecycle.steps} "
          f"outcomes={ok}")
    assert Lifecycle.examples >= 100
    for reached in ("RaiseFault", "ResolveOrder", "accept", "start", "close", "reopen",
                    "cancel", "return", "pause", "resume"):
        assert ok.get(f"{reached}:ok", 0) > 0, f"{reached} never succeeded"

