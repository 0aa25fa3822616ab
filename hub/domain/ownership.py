"""Ownership history (产权变更), leases and a unit's occupancy, as pure rules.

An ownership is one period in a unit's chain of owners: it starts on a date and stays current
until the next change closes it on that change's date. History is never rewritten: a change
dated on or before the current ownership's start is refused, naming both dates.

Dates follow residencies: a period runs from its first day up to, not including, its end.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from hub.domain.errors import Conflict, Invalid
from hub.domain.property import UnitStatus
from hub.domain.residents import Relation, Residency

WHOLE = Decimal("100")
MAX_OWNERS = 20


class TransferReason(StrEnum):
    FIRST_REGISTRATION = "first_registration"  # 首次登记: the developer's first sale
    SALE = "sale"  # 买卖
    INHERITANCE = "inheritance"  # 继承
    GIFT = "gift"  # 赠与
    COURT_ORDER = "court_order"  # 法院判决


@dataclass(eq=False)
class OwnerShare:
    """One owner's share of a unit in percent (共有份额); the shares of an ownership sum to 100."""

    resident_id: int
    share: Decimal
    ownership_id: int | None = None
    id: int | None = None


@dataclass(eq=False)
class Ownership:
    unit_id: int
    started_on: date
    reason: TransferReason
    document_ref: str  # contract or certificate number (合同号 / 不动产权证号)
    recorded_by: int
    recorded_at: datetime
    ended_on: date | None = None
    note: str = ""
    owners: list[OwnerShare] = field(default_factory=list)
    # The unit's id while current, None once closed: a unique column, so that of two changes
    # recorded at once for one unit, the second fails instead of leaving two current owners.
    open_unit_id: int | None = None
    id: int | None = None

    def current_on(self, day: date) -> bool:
        return self.started_on <= day and (self.ended_on is None or day < self.ended_on)


@dataclass(eq=False)
class LeaseTenant:
    resident_id: int
    lease_id: int | None = None
    id: int | None = None


@dataclass(eq=False)
class Lease:
    """A rental registration (租赁登记): the tenants live in the unit from `starts_on` until
    `ends_on` (the day they are due out, not leased any more)."""

    unit_id: int
    starts_on: date
    ends_on: date
    document_ref: str
    recorded_by: int
    recorded_at: datetime
    monthly_rent: Decimal | None = None
    tenants: list[LeaseTenant] = field(default_factory=list)
    id: int | None = None

    def __post_init__(self) -> None:
        if self.ends_on <= self.starts_on:
            raise Invalid(f"ends_on {self.ends_on} must be after starts_on {self.starts_on}",
                          field="ends_on")
        if self.monthly_rent is not None and (not self.monthly_rent.is_finite()
                                              or self.monthly_rent < 0):
            raise Invalid("monthly_rent must be zero or more", field="monthly_rent")
        check_document_ref(self.document_ref)

    def current_on(self, day: date) -> bool:
        return self.starts_on <= day < self.ends_on


def check_document_ref(ref: str) -> str:
    if not ref.strip():
        raise Invalid("document_ref must name the contract or certificate", field="document_ref")
    return ref


def check_shares(shares: Sequence[tuple[int, Decimal]]) -> None:
    """At least one owner, each once, with positive shares of two decimals summing to 100."""
    if not shares:
        raise Invalid("an ownership needs at least one owner", field="owners")
    if len(shares) > MAX_OWNERS:
        raise Invalid(f"at most {MAX_OWNERS} owners", field="owners")
    seen: set[int] = set()
    for n, (resident_id, share) in enumerate(shares):
        if resident_id in seen:
            raise Invalid(f"resident {resident_id} is named twice", field=f"owners.{n}")
        seen.add(resident_id)
        if not share.is_finite() or share <= 0 or share > WHOLE:
            raise Invalid("a share is a percentage above 0 and at most 100",
                          field=f"owners.{n}.share")
        if share != share.quantize(Decimal("0.01")):
            raise Invalid("a share has at most two decimal places", field=f"owners.{n}.share")
    total = sum((share for _, share in shares), Decimal(0))
    if total != WHOLE:
        raise Invalid(f"the owners' shares sum to {total}, not 100", field="owners")


def transfer(chain: Sequence[Ownership], new: Ownership, today: date) -> Ownership | None:
    """Check `new` against the unit's chain and close the current ownership at its date.

    Returns the ownership that was closed (None for the unit's first record). Nothing is
    changed when the change is refused.
    """
    check_shares([(o.resident_id, o.share) for o in new.owners])
    check_document_ref(new.document_ref)
    if new.started_on > today:
        raise Invalid(f"a change is recorded once it has happened: {new.started_on} is after "
                      f"today, {today}", field="on")
    current = [o for o in chain if o.ended_on is None]
    last = max(chain, key=lambda o: o.started_on, default=None)
    if new.reason == TransferReason.FIRST_REGISTRATION and chain:
        raise Conflict("first_registration is only the first record of a unit; this unit's "
                       f"history begins on {min(o.started_on for o in chain)}", field="reason")
    if last is not None and new.started_on <= last.started_on:
        raise Conflict(f"a change on {new.started_on} overlaps the ownership from "
                       f"{last.started_on}" + (f" to {last.ended_on}" if last.ended_on else "")
                       + "; history is not rewritten: changes must come after "
                       f"{last.started_on}", field="on")
    if current:
        now = current[0]
        if _holders(now) == _holders(new):
            raise Conflict("the owners and shares are the same as the current ownership's "
                           f"since {now.started_on}", field="owners")
        now.ended_on, now.open_unit_id = new.started_on, None
        new.open_unit_id = new.unit_id
        return now
    new.open_unit_id = new.unit_id
    return None


def _holders(ownership: Ownership) -> set[tuple[int, Decimal]]:
    return {(o.resident_id, o.share) for o in ownership.owners}


def check_lease(leases: Iterable[Lease], new: Lease) -> None:
    """Leases of one unit never overlap; the refusal names the lease in the way."""
    if not new.tenants:
        raise Invalid("a lease needs at least one tenant", field="tenant_ids")
    ids = [t.resident_id for t in new.tenants]
    if len(set(ids)) != len(ids):
        raise Invalid("a tenant is named twice", field="tenant_ids")
    for lease in leases:
        if lease.starts_on < new.ends_on and new.starts_on < lease.ends_on:
            raise Conflict(f"the lease from {new.starts_on} to {new.ends_on} overlaps the "
                           f"lease from {lease.starts_on} to {lease.ends_on}",
                           field="starts_on")


def derive_status(current: UnitStatus, residencies: Iterable[Residency],
                  leases: Iterable[Lease], day: date) -> UnitStatus:
    """The unit's status on `day`: rented while a lease runs, occupied while an owner or their
    family lives there, rented while only tenants do, vacant otherwise. Decorating (装修) is
    staff's to set and to end, so it stays."""
    if current == UnitStatus.DECORATING:
        return current
    if any(lease.current_on(day) for lease in leases):
        return UnitStatus.RENTED
    living = [r for r in residencies if r.active_on(day)]
    if any(r.relation in (Relation.OWNER, Relation.FAMILY) for r in living):
        return UnitStatus.OCCUPIED
    if living:
        return UnitStatus.RENTED
    return UnitStatus.VACANT


def vacant_from(residencies: Iterable[Residency], leases: Iterable[Lease],
                day: date) -> date | None:
    """The day the unit became (or becomes) empty of residents and leases, seen from `day`:
    None while someone lives there or a lease runs; the day the last of them ended otherwise
    (or None when the unit never had any)."""
    stays = list(residencies)
    lets = list(leases)
    if any(r.active_on(day) for r in stays) or any(lease.current_on(day) for lease in lets):
        return None
    ends = [r.moved_out for r in stays if r.moved_out is not None and r.moved_out <= day]
    ends += [lease.ends_on for lease in lets if lease.ends_on <= day]
    return max(ends, default=None)
