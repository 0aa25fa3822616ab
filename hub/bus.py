"""The message bus: a command goes to exactly one handler; an event to any number.

A command handler runs in its own unit of work and its result (or error) goes back to the
caller. Event handlers run after the command's transaction committed, each in its own unit of
work; one failing is logged with context and does not stop the others.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

from hub.ports import UnitOfWork

log = logging.getLogger(__name__)

Handler = Callable[[Any, UnitOfWork], Awaitable[Any]]


class MessageBus:
    def __init__(
        self,
        uow_factory: Callable[[], UnitOfWork],
        command_handlers: Mapping[type, Handler],
        event_handlers: Mapping[type, Sequence[Handler]],
    ) -> None:
        self._uow_factory = uow_factory
        self._commands = dict(command_handlers)
        self._events = {kind: list(handlers) for kind, handlers in event_handlers.items()}

    async def handle(self, command: object) -> Any:
        handler = self._commands.get(type(command))
        if handler is None:
            raise LookupError(f"no handler for {type(command).__name__}")
        async with self._uow_factory() as uow:
            result = await handler(command, uow)
            pending = uow.collect_events()
        while pending:
            pending = [*pending[1:], *await self._publish(pending[0])]
        return result

    async def _publish(self, event: object) -> list[object]:
        raised: list[object] = []
        for handler in self._events.get(type(event), []):
            try:
                async with self._uow_factory() as uow:
                    await handler(event, uow)
                    raised.extend(uow.collect_events())
            except Exception:  # an event handler's failure must not undo the command
                log.exception("event handler %s failed on %r",
                              getattr(handler, "__name__", handler), event)
        return raised
