"""Idempotency keys of payment requests: claimed alone and first, answered with the work.

`claim_key` inserts the key's row and commits it before any work, so that a unique index picks
the one request that does the work; the work's handler calls `answer` in its own transaction,
so the payment and the key's answer are stored together.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from hub.domain.accounts import Actor
from hub.domain.billing.idempotency import IdempotencyKey, KeyState
from hub.domain.commands import Command
from hub.domain.errors import Conflict, Invalid
from hub.ports import Clock, UnitOfWork


@dataclass(frozen=True)
class ClaimKey(Command):
    key: str
    request_hash: str


@dataclass(frozen=True)
class Claim:
    fresh: bool  # True: go ahead; False: `status_code` and `response` are the first answer
    status_code: int | None = None
    response: dict[str, Any] | None = None


@dataclass(frozen=True)
class SettleKey(Command):
    """After a failed attempt: keep its error as the key's answer, or (None) free the key."""

    key: str
    status_code: int | None
    response: dict[str, Any] | None


async def claim_key(cmd: ClaimKey, uow: UnitOfWork, clock: Clock) -> Claim:
    found = await uow.find_one(IdempotencyKey, account_id=cmd.actor.account_id, key=cmd.key)
    if found is None:
        uow.add(IdempotencyKey(account_id=cmd.actor.account_id, key=cmd.key,
                               request_hash=cmd.request_hash, state=KeyState.IN_FLIGHT,
                               created_at=clock()))
        try:
            await uow.commit()
            return Claim(fresh=True)
        except Conflict:  # another request with this key inserted it first
            found = await uow.find_one(IdempotencyKey, account_id=cmd.actor.account_id,
                                       key=cmd.key)
            if found is None:
                raise Conflict("a request with this Idempotency-Key is in progress; "
                               "retry shortly", field="header.Idempotency-Key") from None
    if found.request_hash != cmd.request_hash:
        raise Invalid("this Idempotency-Key was used with other parameters; use a new key "
                      "for a new request", field="header.Idempotency-Key")
    if found.state == KeyState.IN_FLIGHT:
        raise Conflict("a request with this Idempotency-Key is in progress; retry shortly",
                       field="header.Idempotency-Key")
    return Claim(fresh=False, status_code=found.status_code, response=dict(found.response))


async def settle_key(cmd: SettleKey, uow: UnitOfWork) -> None:
    found = await uow.find_one(IdempotencyKey, account_id=cmd.actor.account_id, key=cmd.key)
    if found is None or found.state != KeyState.IN_FLIGHT:
        return
    if cmd.response is None:
        await uow.delete(found)
    else:
        found.state, found.status_code, found.response = (KeyState.DONE, cmd.status_code,
                                                          cmd.response)
    await uow.commit()


async def answer(uow: UnitOfWork, actor: Actor, key: str, status: int,
                  response: dict[str, Any]) -> dict[str, Any]:
    found = await uow.find_one(IdempotencyKey, account_id=actor.account_id, key=key)
    if found is None or found.state != KeyState.IN_FLIGHT:
        raise Conflict("this Idempotency-Key was not claimed", field="header.Idempotency-Key")
    found.state, found.status_code, found.response = KeyState.DONE, status, response
    return response


def jsonable(values: dict[str, Any]) -> dict[str, Any]:
    """Decimals as exact strings, times as ISO 8601: what the key row keeps and replays."""
    def one(value: Any) -> Any:
        if isinstance(value, Decimal):
            return str(value)
        if isinstance(value, datetime | date):
            return value.isoformat()
        return value
    return {name: one(value) for name, value in values.items()}
