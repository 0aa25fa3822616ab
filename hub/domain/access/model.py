"""What access control keeps: doors, residents' credentials, visitor passes, the access log.

A credential or a pass stores only what verifies it: a card's keyed fingerprint, never its
number; a QR credential's salt, from which (with the hub's secret) its rotating codes are
derived, never a code (hub.domain.access.codes says why).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from hub.domain.errors import Conflict, Invalid

MAX_VISITOR_WINDOW = timedelta(days=7)
MAX_VISITOR_ENTRIES = 50
MAX_FREE_MINUTES = 24 * 60
# Admissions of one pass this close together are one visit: the site gate, then the
# building's door, count one entry, not two.
VISIT_SPAN = timedelta(minutes=30)


class CredentialKind(StrEnum):
    CARD = "card"
    QR = "qr"


class PassStatus(StrEnum):
    PENDING = "pending"  # waits for staff approval
    ACTIVE = "active"
    REJECTED = "rejected"
    CANCELLED = "cancelled"


class Presented(StrEnum):
    """What was held to the reader, as the access log records it."""

    CARD = "card"
    QR = "qr"
    VISITOR = "visitor"
    MANUAL = "manual"  # a guard opened the door
    UNREADABLE = "unreadable"


@dataclass(eq=False)
class Door:
    """A door controller (a registered device of kind `door`) and whom it admits: residents
    of `building_id`, or of the whole site when None (a site gate)."""

    site_id: int
    device_id: int
    name: str
    created_at: datetime
    building_id: int | None = None
    id: int | None = None


@dataclass(eq=False)
class AccessCredential:
    """A resident's card or app QR credential. `live_key` is the card's fingerprint (cards)
    or the resident's id as text (QR) while live, None once revoked: a unique index on
    (site_id, kind, live_key) keeps one live card per number and one live QR per resident."""

    site_id: int
    resident_id: int
    kind: CredentialKind
    issued_at: datetime
    secret: str  # cards: the fingerprint; QR: the salt of its key
    label: str = ""
    issued_by: int | None = None
    live_key: str | None = None
    revoked_at: datetime | None = None
    revoked_by: int | None = None
    id: int | None = None

    def revoke(self, at: datetime, by: int | None) -> None:
        if self.revoked_at is not None:
            raise Conflict("this credential is already revoked")
        self.revoked_at, self.revoked_by, self.live_key = at, by, None


@dataclass(eq=False)
class VisitorPass:
    """A household's invitation: who, when, how many entries, and optionally a car."""

    site_id: int
    unit_id: int
    issued_by: int  # the resident
    visitor_name: str
    valid_from: datetime
    valid_until: datetime
    entries_allowed: int
    created_at: datetime
    salt: str
    visitor_phone: str = ""
    plate: str | None = None
    free_minutes: int = 0
    needs_approval: bool = False
    status: PassStatus = PassStatus.ACTIVE
    entries_used: int = 0
    last_entry_at: datetime | None = None
    decided_by: int | None = None
    decided_at: datetime | None = None
    decision_note: str = ""
    id: int | None = None

    def __post_init__(self) -> None:
        self.check()

    def check(self) -> None:
        name = self.visitor_name.strip()
        if not name or len(name) > 100:
            raise Invalid("visitor_name must be 1 to 100 characters", field="visitor_name")
        if self.valid_until <= self.valid_from:
            raise Invalid("valid_until must be after valid_from", field="valid_until")
        if self.valid_until - self.valid_from > MAX_VISITOR_WINDOW:
            raise Invalid(f"a pass lasts at most {MAX_VISITOR_WINDOW.days} days",
                          field="valid_until")
        if not 1 <= self.entries_allowed <= MAX_VISITOR_ENTRIES:
            raise Invalid(f"entries must be between 1 and {MAX_VISITOR_ENTRIES}",
                          field="entries")
        if not 0 <= self.free_minutes <= MAX_FREE_MINUTES:
            raise Invalid(f"free_minutes must be between 0 and {MAX_FREE_MINUTES}",
                          field="free_minutes")
        if self.free_minutes and self.plate is None:
            raise Invalid("free parking minutes need a plate", field="free_minutes")

    def approve(self, by: int, at: datetime, note: str = "") -> None:
        self._decide(PassStatus.ACTIVE, by, at, note)

    def reject(self, by: int, at: datetime, note: str = "") -> None:
        self._decide(PassStatus.REJECTED, by, at, note)

    def cancel(self, at: datetime) -> None:
        if self.status in (PassStatus.CANCELLED, PassStatus.REJECTED):
            raise Conflict(f"this pass is {self.status.value}")
        if self.valid_until <= at:
            raise Conflict("this pass has already ended")
        self.status = PassStatus.CANCELLED
        self.decided_at = at

    def _decide(self, status: PassStatus, by: int, at: datetime, note: str) -> None:
        if self.status != PassStatus.PENDING:
            raise Conflict(f"only a pending pass is approved or rejected; this one is "
                           f"{self.status.value}")
        self.status, self.decided_by, self.decided_at = status, by, at
        self.decision_note = note

    def entries_left(self) -> int:
        return max(0, self.entries_allowed - self.entries_used)

    def problems_at(self, at: datetime) -> list[str]:
        """Why the pass does not admit its visitor at `at`; empty when it does."""
        problems = []
        if self.status == PassStatus.PENDING:
            problems.append("visitor pass waits for staff approval")
        elif self.status != PassStatus.ACTIVE:
            problems.append(f"visitor pass is {self.status.value}")
        if at < self.valid_from:
            problems.append(f"visitor pass starts at {self.valid_from.isoformat()}")
        elif at >= self.valid_until:
            problems.append(f"visitor pass ended at {self.valid_until.isoformat()}")
        return problems

    def same_visit(self, at: datetime) -> bool:
        return self.last_entry_at is not None and \
            timedelta(0) <= at - self.last_entry_at < VISIT_SPAN


@dataclass(eq=False)
class AccessLogEntry:
    """One decision at a door (or a guard's manual opening). Location data: read only by
    security and managers, and by the resident it is about; removed after the retention."""

    site_id: int
    device_id: int
    presented: Presented
    allowed: bool
    at: datetime
    reasons: list[str] = field(default_factory=list)
    door_id: int | None = None
    credential_id: int | None = None
    resident_id: int | None = None
    visitor_pass_id: int | None = None
    unit_id: int | None = None  # the household a visitor came to
    opened_by: int | None = None  # the guard's account, for a manual opening
    command_id: str | None = None  # the `unlock` sent
    id: int | None = None
