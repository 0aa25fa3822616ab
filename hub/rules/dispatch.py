"""Sending a rule's outcome through the bus, and what became of it.

Done, skipped (no handler in this hub yet: recorded, logged once per kind), refused (the
handler said no: a domain error, not retried), or failed (anything else: retried later).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from hub.domain.accounts import SYSTEM
from hub.domain.errors import DomainError
from hub.handlers.devices import CommandSent, SendDeviceCommand
from hub.rules.actions import CommandDevice, Fired

log = logging.getLogger(__name__)

Handle = Callable[[object], Awaitable[Any]]
ORDER_COMMANDS = frozenset({"RaiseFault", "ClearFault", "AnnotateOrder"})


@dataclass(frozen=True)
class Result:
    status: str  # "done", "skipped", "refused", "failed"
    detail: str | None = None


def bus_command(command: object) -> object:
    """The command the bus knows: a rule's device command goes as the API's does."""
    if isinstance(command, CommandDevice):
        return SendDeviceCommand(SYSTEM, command.device_id, command.action,
                                 dict(command.args), command.expires_in_s)
    return command


class Dispatcher:
    def __init__(self, handle: Handle) -> None:
        self._handle = handle
        self._unhandled: set[str] = set()

    async def send(self, fired: Fired) -> Result:
        try:
            result = await self._handle(bus_command(fired.command))
        except LookupError as err:
            if not str(err).startswith("no handler for"):
                return _failed(fired, err)
            if fired.command_kind not in self._unhandled:
                self._unhandled.add(fired.command_kind)
                log.warning("rules: no handler for %s in this hub yet; its outcomes are "
                            "recorded as skipped (first: rule %s)", fired.command_kind,
                            fired.rule_id)
            return Result("skipped", str(err))
        except DomainError as err:
            log.info("rules: %s of rule %s refused: %s", fired.command_kind, fired.rule_id, err)
            return Result("refused", f"{type(err).__name__}: {err}")
        except Exception as err:  # noqa: BLE001 - like the bus: retried, then dead-lettered
            return _failed(fired, err)
        return Result("done", _summary(fired, result))


def _failed(fired: Fired, err: Exception) -> Result:
    log.warning("rules: %s of rule %s failed: %r", fired.command_kind, fired.rule_id, err)
    return Result("failed", f"{type(err).__name__}: {err}")


def _summary(fired: Fired, result: Any) -> str | None:
    if isinstance(result, CommandSent):
        return f"command {result.command.id} {result.status.value}"
    if fired.command_kind in ORDER_COMMANDS and isinstance(result, int):
        return f"work order {result}"  # opened, added to, reopened, or noted on
    return None if result is None else repr(result)[:200]
