"""The decision at a door: pure functions of what the hub knows about a credential, the
door and the time. Every decision carries its reasons, in words a guard reads in the log."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from hub.domain.access.model import AccessCredential, CredentialKind, VisitorPass


@dataclass(frozen=True)
class DoorScope:
    """Whom a door admits: residents (and visitors) of `building_id`, or of the whole site."""

    site_id: int
    building_id: int | None = None


@dataclass(frozen=True)
class Decision:
    allowed: bool
    reasons: tuple[str, ...]
    counts_entry: bool = False  # a visitor's entry to count when the door opens


def refuse(*reasons: str) -> Decision:
    return Decision(False, reasons)


def decide_resident(credential: AccessCredential | None, kind: CredentialKind, *,
                    code_ok: bool, homes: frozenset[int], door: DoorScope,
                    at: datetime) -> Decision:
    """A resident's card or app code. `homes`: the buildings of the site the resident lives
    in on the day of `at`; `code_ok`: the QR code matched its step (cards: True)."""
    if credential is None or credential.kind != kind:
        return refuse(f"{kind.value} credential not known")
    name = f"{kind.value} credential {credential.id} of resident {credential.resident_id}"
    problems = []
    if credential.revoked_at is not None and credential.revoked_at <= at:
        problems.append(f"{name} was revoked at {credential.revoked_at.isoformat()}")
    if not code_ok:
        problems.append(f"{name}: code wrong or expired")
    if credential.site_id != door.site_id:
        problems.append(f"{name} belongs to another site")
    elif not homes:
        problems.append(f"resident {credential.resident_id} lives in no unit of this site "
                        "today")
    elif door.building_id is not None and door.building_id not in homes:
        problems.append(f"resident {credential.resident_id} does not live in building "
                        f"{door.building_id}")
    if problems:
        return refuse(*problems)
    where = "the site" if door.building_id is None else f"building {door.building_id}"
    return Decision(True, (f"{name} valid", f"lives in {where}"))


def decide_visitor(visitor_pass: VisitorPass | None, *, code_ok: bool,
                   visit_building: int | None, door: DoorScope, at: datetime) -> Decision:
    """A visitor's code. `visit_building`: the building of the household that invited them.
    Admissions within one visit (hub.domain.access.model.VISIT_SPAN) count one entry."""
    if visitor_pass is None:
        return refuse("visitor pass not known")
    problems = _visitor_problems(visitor_pass, code_ok, visit_building, door, at)
    if problems:
        return refuse(*problems)
    valid = f"visitor pass {visitor_pass.id} valid"
    if visitor_pass.same_visit(at):
        assert visitor_pass.last_entry_at is not None
        return Decision(True, (valid, "same visit as the entry at "
                                      f"{visitor_pass.last_entry_at.isoformat()}"))
    if visitor_pass.entries_left() == 0:
        return refuse(f"visitor pass {visitor_pass.id}: all {visitor_pass.entries_allowed} "
                      "entries used")
    return Decision(True, (valid, f"entry {visitor_pass.entries_used + 1} of "
                                  f"{visitor_pass.entries_allowed}"), counts_entry=True)


def _visitor_problems(visitor_pass: VisitorPass, code_ok: bool, visit_building: int | None,
                      door: DoorScope, at: datetime) -> list[str]:
    if not code_ok:
        return [f"visitor pass {visitor_pass.id}: code does not match"]
    if visitor_pass.site_id != door.site_id:
        return [f"visitor pass {visitor_pass.id} belongs to another site"]
    problems = visitor_pass.problems_at(at)
    if door.building_id is not None and door.building_id != visit_building:
        problems.append(f"the visit is to building {visit_building}, not this door's "
                        f"building {door.building_id}")
    return problems


def check_visitor(visitor_pass: VisitorPass, at: datetime) -> Decision:
    """What a guard checking a visitor's code learns: would the pass admit them now (at a
    door of the household's building). Counts nothing."""
    problems = visitor_pass.problems_at(at)
    if not problems and not visitor_pass.same_visit(at) and visitor_pass.entries_left() == 0:
        problems.append(f"all {visitor_pass.entries_allowed} entries used")
    if problems:
        return refuse(*problems)
    return Decision(True, (f"valid until {visitor_pass.valid_until.isoformat()}",
                           f"{visitor_pass.entries_left()} of "
                           f"{visitor_pass.entries_allowed} entries left"))
