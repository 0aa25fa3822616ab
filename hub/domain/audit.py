"""What the audit log records. Entries carry ids and outcomes, never personal data."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from hub.domain.accounts import Actor


class AuditAction(StrEnum):
    LOGIN = "login"
    LOGIN_FAILED = "login_failed"
    LOGOUT = "logout"
    PERMISSION_DENIED = "permission_denied"
    ROLE_CHANGED = "role_changed"
    ACCOUNT_CREATED = "account_created"
    ACCOUNT_DISABLED = "account_disabled"
    PASSWORD_RESET = "password_reset"  # noqa: S105 - an action's name, not a password
    PII_REVEALED = "pii_revealed"
    CONFIG_CHANGED = "config_changed"
    PII_KEY_ROTATED = "pii_key_rotated"
    DEVICE_CHANGED = "device_changed"  # registered, changed, approved, disabled
    DEVICE_COMMAND = "device_command"  # a command sent to a device by staff
    REFUND = "refund"  # money returned on a payment, with its reason kept in refunds
    WRITE_OFF = "write_off"  # an unpaid amount given up, with its reason kept in write_offs
    DATA_IMPORTED = "data_imported"  # a committed import: its kind and counts, no row data
    OWNERSHIP_CHANGED = "ownership_changed"  # 产权变更: a unit's owners from a date
    LEASE_REGISTERED = "lease_registered"  # a rental registration: unit, dates, tenant ids
    MOVED_IN = "moved_in"  # a residency opened by staff at a date
    MOVED_OUT = "moved_out"  # residencies ended by staff at a date
    ARREARS_REMINDED = "arrears_reminded"  # a household told of overdue bills: unit, bill ids
    DOOR_OPENED = "door_opened"  # a guard opened a door by hand; the reason is in access_log
    ACCESS_VERIFIED = "access_verified"  # a guard checked a visitor's code: pass id, valid
    CREDENTIAL_CHANGED = "credential_changed"  # a card issued or a credential revoked
    VISITOR_PASS_DECIDED = "visitor_pass_decided"  # noqa: S105 - staff approved or rejected a pass
    PARKING_OVERRIDE = "parking_override"  # a guard opened a lane, closed a session, took cash


@dataclass(eq=False)
class AuditEntry:
    at: datetime
    action: AuditAction
    actor_id: int | None
    actor_role: str | None
    target: str = ""  # "resident:12", "account:3", "route:GET /api/v1/sites"
    detail: dict[str, str] = field(default_factory=dict)
    id: int | None = None


def entry_by(actor: Actor, at: datetime, action: AuditAction, target: str,
             detail: dict[str, str] | None = None) -> AuditEntry:
    return AuditEntry(at=at, action=action, actor_id=actor.account_id,
                      actor_role=actor.role.value, target=target, detail=detail or {})
