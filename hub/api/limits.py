"""Request size and rate limits."""

from __future__ import annotations

import json
import time
from collections import OrderedDict, deque
from collections.abc import Callable

from fastapi import params
from fastapi.routing import APIRoute, iter_route_contexts
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.routing import compile_path
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hub.domain.errors import DomainError


class TooManyAttempts(DomainError):
    """A rate limit refused the request; the client may try again after `retry_after` s."""

    code = "too_many_requests"

    def __init__(self, message: str, *, retry_after: int, field: str | None = None) -> None:
        super().__init__(message, field=field)
        self.retry_after = retry_after


class BodyTooLarge(HTTPException):
    """An HTTPException, so that FastAPI's body parsing re-raises it instead of a 400."""

    def __init__(self, max_bytes: int) -> None:
        super().__init__(413, f"request body larger than {max_bytes} bytes")


Uploads = Callable[[str, str], bool]  # (method, path): a route that takes files


def upload_routes(app: Starlette) -> Uploads:
    """Which of the app's routes take files (a `File` parameter), found once from the app:
    only they get the larger upload limit, so that no JSON route buffers 27 MB."""
    taking_files = [(compile_path(context.path_format)[0], set(context.methods or ()))
                    for context in iter_route_contexts(app.routes)
                    if isinstance(context.route, APIRoute) and context.path_format
                    and any(isinstance(p.field_info, params.File)
                            for p in context.route.dependant.body_params)]

    def takes_files(method: str, path: str) -> bool:
        return any(method in methods and regex.match(path) for regex, methods in taking_files)

    return takes_files


class BodySizeLimit:
    """Refuse bodies over `max_bytes` with 413, by header and while streaming (starlette#890).
    Routes that take files (`uploads`, decided on first use) may send `max_upload_bytes`."""

    def __init__(self, app: ASGIApp, max_bytes: int, max_upload_bytes: int | None = None,
                 uploads: Callable[[], Uploads] | None = None) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.max_upload_bytes = max_upload_bytes or max_bytes
        self._uploads_factory = uploads
        self._uploads: Uploads | None = None

    def _limit(self, scope: Scope) -> int:
        if self._uploads_factory is None or self.max_upload_bytes <= self.max_bytes:
            return self.max_bytes
        if self._uploads is None:
            self._uploads = self._uploads_factory()
        return (self.max_upload_bytes if self._uploads(scope["method"], scope["path"])
                else self.max_bytes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        declared = headers.get(b"content-length")
        if declared is None and b"transfer-encoding" not in headers:
            # No body can follow (HTTP/1.1 frames a body by one or the other): nothing to
            # count. Most requests are such GETs.
            await self.app(scope, receive, send)
            return
        limit = self._limit(scope)
        if declared is not None and (not declared.isdigit() or int(declared) > limit):
            await self._refuse(send, limit)
            return
        seen = 0
        started = False

        async def counting_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise BodyTooLarge(limit)
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counting_receive, tracking_send)
        except BodyTooLarge:
            if not started:
                await self._refuse(send, limit)

    async def _refuse(self, send: Send, limit: int) -> None:
        body = json.dumps({"error": {
            "code": "too_large", "field": "body", "details": [],
            "message": f"request body larger than {limit} bytes"}}).encode()
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", b"application/json"),
                                (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})


class SlidingWindow:
    """At most `limit` events per key in the last `window` seconds (per process).

    Memory is bounded by `max_keys`: past it, the key used least recently is forgotten, so a
    flood of made-up keys cannot wipe the counts of the keys under attack.
    """

    def __init__(self, limit: int, window: float = 60.0, max_keys: int = 100_000) -> None:
        self.limit = limit
        self.window = window
        self.max_keys = max_keys
        self._hits: OrderedDict[str, deque[float]] = OrderedDict()

    def allow(self, key: str, now: float | None = None) -> bool:
        now = time.monotonic() if now is None else now
        hits = self._hits.get(key)
        if hits is None:
            hits = self._hits[key] = deque()
            if len(self._hits) > self.max_keys:
                self._hits.popitem(last=False)
        self._hits.move_to_end(key)
        while hits and hits[0] <= now - self.window:
            hits.popleft()
        if len(hits) >= self.limit:
            return False
        hits.append(now)
        return True

    def retry_after(self, key: str, now: float | None = None) -> int:
        now = time.monotonic() if now is None else now
        hits = self._hits.get(key)
        return max(1, int(hits[0] + self.window - now) + 1) if hits else 1
