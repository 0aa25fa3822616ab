"""A short-lived cache of checked callers, so that a request does not read the login session,
the account, its grants and its household from the database every time.

What stays true with it:

- The access token is still decoded and verified (signature, expiry) on every request; only
  the database check of the login session behind it is cached, per (session id, account id).
- A hit is re-checked against the cached session's own expiry and revocation on the hub's
  clock, so an expired login is refused as before.
- In this process, invalidation is immediate: any flush of the ORM that adds, changes or
  deletes a login session, an account, a grant or a residency (logout, a password reset, a
  disabled account, a role or grant change, a move-out) empties every cache before the
  commit, and again after it; a check that started before such a commit does not store what
  it read (a generation number), so a logged-out token is refused on the very next request.
- Across workers (several processes behind one port) a change made in another process is seen
  after at most `ttl_s` seconds (2 s by default): that is the bound of staleness there.
- Bounded in size (`max_entries`, the oldest entries go first).
"""

from __future__ import annotations

import time
import weakref
from collections import OrderedDict
from collections.abc import Callable
from itertools import chain
from typing import Any, Generic, TypeVar

from sqlalchemy import event
from sqlalchemy.orm import Session

from hub.domain.accounts import Account, AuthSession, ScopeGrant
from hub.domain.residents import Residency

T = TypeVar("T")
WATCHED = (AuthSession, Account, ScopeGrant, Residency)
_caches: weakref.WeakSet[CallerCache[Any]] = weakref.WeakSet()


class CallerCache(Generic[T]):
    def __init__(self, ttl_s: float = 2.0, max_entries: int = 10_000,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl_s, self.max_entries, self._clock = ttl_s, max_entries, clock
        self._entries: OrderedDict[tuple[str, int], tuple[float, T]] = OrderedDict()
        self.generation = 0
        _caches.add(self)

    def get(self, key: tuple[str, int]) -> T | None:
        found = self._entries.get(key)
        if found is None:
            return None
        if self._clock() - found[0] > self.ttl_s:
            del self._entries[key]
            return None
        return found[1]

    def put(self, key: tuple[str, int], value: T, generation: int) -> None:
        """Store what a check that began at `generation` found, unless something was
        invalidated since it began."""
        if generation != self.generation or self.ttl_s <= 0:
            return
        self._entries[key] = (self._clock(), value)
        self._entries.move_to_end(key)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)

    def clear(self) -> None:
        self.generation += 1
        self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)


def _clear_all() -> None:
    for cache in list(_caches):
        cache.clear()


@event.listens_for(Session, "after_flush")
def _after_flush(session: Session, _context: Any) -> None:
    if any(isinstance(obj, WATCHED)
           for obj in chain(session.new, session.dirty, session.deleted)):
        session.info["callers_changed"] = True
        _clear_all()


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    if session.info.pop("callers_changed", False):
        _clear_all()


@event.listens_for(Session, "after_rollback")
def _after_rollback(session: Session) -> None:
    session.info.pop("callers_changed", None)
