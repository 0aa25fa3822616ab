"""The work order: its states, the transitions between them, a timeline entry for each change.

An action from a state that does not allow it raises InvalidTransition (a Conflict) naming the
order, its state and the action. `open_key` is set while an order for a fault is open and
cleared when it is resolved or cancelled: a unique index on it keeps one open order per
(device or asset, fault) without a lock.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Any

from hub.domain.errors import Conflict, Invalid
from hub.domain.outcomes import OrderSource, Priority
from hub.domain.work_orders.policy import SlaTerms
from hub.domain.work_orders.records import By, MaterialLine, Occurrence, TimelineEntry


class Status(StrEnum):
    NEW = "new"
    ASSIGNED = "assigned"
    ACCEPTED = "accepted"
    IN_PROGRESS = "in_progress"
    PAUSED = "paused"
    RETURNED = "returned"  # handed back to the pool by its assignee
    RESOLVED = "resolved"
    CLOSED = "closed"
    CANCELLED = "cancelled"


OPEN = frozenset({Status.NEW, Status.ASSIGNED, Status.ACCEPTED, Status.IN_PROGRESS,
                  Status.PAUSED, Status.RETURNED})
IN_POOL = frozenset({Status.NEW, Status.RETURNED})
HELD = frozenset({Status.ASSIGNED, Status.ACCEPTED, Status.IN_PROGRESS, Status.PAUSED})
WORKING = frozenset({Status.ACCEPTED, Status.IN_PROGRESS, Status.PAUSED})
DONE = frozenset({Status.RESOLVED, Status.CLOSED})
EDITABLE = frozenset(Status) - {Status.CLOSED, Status.CANCELLED}


class InvalidTransition(Conflict):
    def __init__(self, order_id: int | None, status: Status, action: str,
                 allowed: frozenset[Status]) -> None:
        needs = " or ".join(sorted(s.value for s in allowed))
        super().__init__(f"work order {order_id} is {status.value}: cannot {action} it "
                         f"(only when {needs})")
        self.status = status
        self.action = action


def fault_key(device_id: int | None, asset_id: int | None, fault: str) -> str:
    """What "the same fault" means: one open order per (device or asset, fault)."""
    if device_id is not None:
        return f"device:{device_id}:{fault}"
    if asset_id is not None:
        return f"asset:{asset_id}:{fault}"
    raise Invalid("a fault needs a device_id or an asset_id", field="device_id")


@dataclass(eq=False)
class WorkOrder:
    site_id: int
    title: str
    category: str
    priority: Priority
    source: OrderSource
    opened_at: datetime
    description: str = ""
    fault: str | None = None
    device_id: int | None = None
    asset_id: int | None = None
    building_id: int | None = None
    unit_id: int | None = None  # a household's repair
    area: str = ""  # a public area, in words ("B1 lobby, east stairwell")
    reporter_id: int | None = None  # the account that filed it
    status: Status = Status.NEW
    assignee_id: int | None = None
    respond_by: datetime | None = None
    arrive_by: datetime | None = None
    resolve_by: datetime | None = None
    due_at: datetime | None = None  # a planned order: when the work is due
    accepted_at: datetime | None = None
    started_at: datetime | None = None
    resolved_at: datetime | None = None
    closed_at: datetime | None = None
    reopen_count: int = 0
    fault_key: str | None = None
    open_key: str | None = None
    checklist: list[str] = field(default_factory=list)
    checklist_result: list[dict[str, Any]] = field(default_factory=list)
    rating: int | None = None
    rating_comment: str = ""
    sla_flags: list[str] = field(default_factory=list)
    cause: dict[str, Any] = field(default_factory=dict)
    photos: list[str] = field(default_factory=list)
    timeline: list[TimelineEntry] = field(default_factory=list)
    occurrences: list[Occurrence] = field(default_factory=list)
    materials: list[MaterialLine] = field(default_factory=list)
    id: int | None = None

    def __post_init__(self) -> None:
        if not self.title.strip():
            raise Invalid("title must not be empty", field="title")
        if self.fault is not None:
            self.fault_key = fault_key(self.device_id, self.asset_id, self.fault)
            self.open_key = self.fault_key if self.status in OPEN else None

    # -- opening ---------------------------------------------------------------------------

    def opened(self, by: By, terms: SlaTerms, occurrence: dict[str, Any] | None = None) -> None:
        """Start the SLA clocks and record the opening (and the first occurrence of a fault)."""
        self.set_clocks(self.opened_at, terms)
        self.cause = by.cause or {}
        self._log(self.opened_at, by, "opened",
                  f"opened ({self.source.value}, {self.priority.value}): {self.title}")
        if self.fault is not None:
            self.occurrences.append(Occurrence(at=self.opened_at, data=occurrence or {}))

    def set_clocks(self, start: datetime, terms: SlaTerms) -> None:
        self.respond_by = start + terms.respond
        self.arrive_by = start + terms.arrive if terms.arrive is not None else None
        self.resolve_by = start + terms.resolve
        self.sla_flags = []

    # -- dispatch ----------------------------------------------------------------------------

    def assign(self, assignee: int, at: datetime, by: By, how: str = "assigned") -> None:
        self._require("assign", IN_POOL)
        self.status, self.assignee_id = Status.ASSIGNED, assignee
        self._log(at, by, "assigned", f"{how} to account {assignee}", {"assignee_id": assignee})

    def claim(self, account: int, at: datetime) -> None:
        """Taken from the pool by a technician: claiming is acknowledging."""
        self._require("claim", IN_POOL)
        self.status, self.assignee_id = Status.ACCEPTED, account
        self.accepted_at = self.accepted_at or at
        self._log(at, By.account(account), "claimed", f"claimed by account {account}",
                  {"assignee_id": account})

    def transfer(self, to: int, at: datetime, by: By, reason: str = "") -> None:
        self._require("transfer", HELD)
        if to == self.assignee_id:
            raise Conflict(f"work order {self.id} is already with account {to}",
                           field="assignee_id")
        before, self.status, self.assignee_id = self.assignee_id, Status.ASSIGNED, to
        self._log(at, by, "transferred", _with_reason(
            f"transferred from account {before} to account {to}", reason),
            {"from": before, "to": to})

    def hand_back(self, account: int, at: datetime, reason: str = "") -> None:
        """The assignee returns the order to the pool (the dispatcher)."""
        self._require("return", HELD)
        self._assignee_only(account, "return")
        self.status, self.assignee_id = Status.RETURNED, None
        self._log(at, By.account(account), "returned",
                  _with_reason("returned to the pool", reason))

    # -- work ------------------------------------------------------------------------------

    def accept(self, account: int, at: datetime) -> None:
        self._require("accept", frozenset({Status.ASSIGNED}))
        self._assignee_only(account, "accept")
        self.status = Status.ACCEPTED
        self.accepted_at = self.accepted_at or at
        self._log(at, By.account(account), "accepted", "accepted")

    def start(self, account: int, at: datetime) -> None:
        self._require("start", frozenset({Status.ACCEPTED}))
        self._assignee_only(account, "start")
        self.status = Status.IN_PROGRESS
        self.started_at = self.started_at or at  # arrival: the first start counts
        self._log(at, By.account(account), "started", "work started on site")

    def pause(self, account: int, at: datetime, reason: str = "") -> None:
        self._require("pause", frozenset({Status.IN_PROGRESS}))
        self._assignee_only(account, "pause")
        self.status = Status.PAUSED
        self._log(at, By.account(account), "paused", _with_reason("paused", reason))

    def resume(self, account: int, at: datetime) -> None:
        """Back to work; the resolve clock stood still while paused (waiting for a part)."""
        self._require("resume", frozenset({Status.PAUSED}))
        self._assignee_only(account, "resume")
        self.status = Status.IN_PROGRESS
        paused = next((e.at for e in reversed(self.timeline) if e.kind == "paused"), None)
        held = max(at - paused, timedelta(0)) if paused is not None else timedelta(0)
        if self.resolve_by is not None:
            self.resolve_by += held
        self._log(at, By.account(account), "resumed", "resumed",
                  {"paused_s": int(held.total_seconds())})

    def resolve(self, at: datetime, by: By, done: Mapping[str, bool] | None = None,
                note: str = "") -> tuple[tuple[str, bool], ...]:
        """Resolved, with each checklist item done or not (an item not mentioned: not done)."""
        self._require("resolve", WORKING)
        done = done or {}
        unknown = sorted(set(done) - set(self.checklist))
        if unknown:
            raise Invalid(f"checklist item {unknown[0]!r} is not on work order {self.id}",
                          field="checklist")
        results = tuple((item, bool(done.get(item, False))) for item in self.checklist)
        self.checklist_result = [{"item": item, "done": ok} for item, ok in results]
        self.status, self.resolved_at, self.open_key = Status.RESOLVED, at, None
        undone = sum(1 for _, ok in results if not ok)
        text = "resolved" + (f"; {undone} of {len(results)} checklist items not done"
                             if undone else "")
        self._log(at, by, "resolved", _with_reason(text, note),
                  {"checklist": self.checklist_result})
        return results

    def close(self, at: datetime, by: By) -> None:
        self._require("close", frozenset({Status.RESOLVED}))
        self.status, self.closed_at = Status.CLOSED, at
        self._log(at, by, "closed", "closed")

    def confirm(self, at: datetime, by: By, rating: int, comment: str = "") -> None:
        """The household confirms the repair and rates it (1-5); a resolved order closes."""
        if not 1 <= rating <= 5:
            raise Invalid("rating must be 1 to 5", field="rating")
        self._require("confirm", DONE)
        if self.rating is not None:
            raise Conflict(f"work order {self.id} is already rated")
        self.rating, self.rating_comment = rating, comment
        self._log(at, by, "confirmed", _with_reason(f"confirmed by the household, rated "
                                                    f"{rating}/5", comment), {"rating": rating})
        if self.status == Status.RESOLVED:
            self.status, self.closed_at = Status.CLOSED, at
            self._log(at, by, "closed", "closed on the household's confirmation")

    def cancel(self, at: datetime, by: By, reason: str = "") -> None:
        self._require("cancel", OPEN)
        self.status, self.open_key = Status.CANCELLED, None
        self._log(at, by, "cancelled", _with_reason("cancelled", reason))

    def reopen(self, at: datetime, by: By, reason: str = "",
               terms: SlaTerms | None = None) -> None:
        """Back to work: to its last assignee if it had one, else to the pool; the SLA clocks
        restart when terms are given."""
        self._require("reopen", DONE)
        self.status = Status.ASSIGNED if self.assignee_id is not None else Status.NEW
        self.reopen_count += 1
        self.open_key = self.fault_key
        self.resolved_at = self.closed_at = None
        self.rating, self.rating_comment, self.checklist_result = None, "", []
        if terms is not None:  # a new round: acknowledged and attended again, in time
            self.accepted_at = self.started_at = None
            self.set_clocks(at, terms)
        self._log(at, by, "reopened", _with_reason(f"reopened (#{self.reopen_count})", reason),
                  {"reopen_count": self.reopen_count})

    # -- notes ----------------------------------------------------------------------------

    def note(self, at: datetime, by: By, text: str, kind: str = "note") -> None:
        if not text.strip():
            raise Invalid("text must not be empty", field="text")
        self._log(at, by, kind, text)

    def add_occurrence(self, at: datetime, by: By, data: dict[str, Any]) -> int:
        """The same fault reported again while the order is open."""
        self._require("add an occurrence to", OPEN)
        self.occurrences.append(Occurrence(at=at, data=data))
        self._log(at, by, "occurrence", "the fault was reported again")
        return len(self.occurrences)

    def recovered(self, at: datetime, by: By) -> None:
        """The device says the fault is gone; the order stays open until staff resolve it."""
        self._require("note a recovery on", OPEN)
        self._log(at, by, "recovered", "device reports recovered")

    def add_material(self, line: MaterialLine, at: datetime, by: By) -> None:
        self._require("add materials to", EDITABLE)
        line.added_at, line.added_by = at, by.account_id
        self.materials.append(line)
        self._log(at, by, "material", f"{line.quantity} x {line.name} at {line.unit_price}",
                  {"amount": str(line.amount), "chargeable": line.chargeable})

    def cost(self) -> tuple[Decimal, Decimal]:
        """(all materials, the part the household pays)."""
        total = sum((m.amount for m in self.materials), Decimal("0.00"))
        charged = sum((m.amount for m in self.materials if m.chargeable), Decimal("0.00"))
        return total, charged

    # -- helpers --------------------------------------------------------------------------

    @property
    def is_open(self) -> bool:
        return self.status in OPEN

    def _require(self, action: str, allowed: frozenset[Status]) -> None:
        if self.status not in allowed:
            raise InvalidTransition(self.id, self.status, action, allowed)

    def _assignee_only(self, account: int, action: str) -> None:
        if account != self.assignee_id:
            raise Conflict(f"work order {self.id} is assigned to another account: only its "
                           f"assignee may {action} it")

    def _log(self, at: datetime, by: By, kind: str, text: str,
             data: dict[str, Any] | None = None) -> None:
        payload = dict(data or {})
        if by.cause is not None:
            payload["cause"] = by.cause
        self.timeline.append(TimelineEntry(at=at, kind=kind, text=text, actor_id=by.account_id,
                                           rule=by.rule, data=payload))


def _with_reason(text: str, reason: str) -> str:
    return f"{text}: {reason}" if reason.strip() else text
