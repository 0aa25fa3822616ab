"""A lean HTTP/1.1 keep-alive client for load generation, so the load costs little CPU.

`hub bench api` measures the hub; the clients share its two cores. httpx costs about 3 ms of
CPU a request here (its transport layers, anyio, h11), more than the hub's own share at the
rates the target asks for. This client keeps one connection, sends prepared request bytes
and reads the answer's status line, headers and body (Content-Length or chunked) without
interpreting the body. Every answer is still read to its last byte before the next request
goes out, so latency is a full round trip as a browser or app would see it.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass


class HttpLoadError(Exception):
    """The server's answer could not be read as HTTP/1.1, or the connection closed."""


@dataclass(frozen=True)
class Answer:
    status: int
    body: bytes


def get_request(host: str, path: str, headers: dict[str, str]) -> bytes:
    """The bytes of a keep-alive GET request."""
    lines = [f"GET {path} HTTP/1.1", f"Host: {host}", "Accept: application/json"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


class _Reader(asyncio.Protocol):
    """Collects bytes until one whole answer is in, then resolves the waiting request."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self._buffer = bytearray()
        self._waiting: asyncio.Future[Answer] | None = None
        self._lost: Exception | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self._buffer += data
        self._try_answer()

    def connection_lost(self, exc: Exception | None) -> None:
        self._lost = exc or HttpLoadError("the server closed the connection")
        if self._waiting is not None and not self._waiting.done():
            self._waiting.set_exception(self._lost)

    def expect(self) -> asyncio.Future[Answer]:
        if self._lost is not None:
            raise HttpLoadError(str(self._lost))
        self._waiting = asyncio.get_running_loop().create_future()
        return self._waiting

    def _try_answer(self) -> None:
        if self._waiting is None or self._waiting.done():
            return
        try:
            parsed = parse_answer(self._buffer)
        except HttpLoadError as err:
            self._waiting.set_exception(err)
            return
        if parsed is not None:
            answer, used = parsed
            del self._buffer[:used]
            self._waiting.set_result(answer)


def parse_answer(buffer: bytes | bytearray) -> tuple[Answer, int] | None:
    """One whole answer at the start of `buffer` and the bytes it used; None if incomplete."""
    head_end = buffer.find(b"\r\n\r\n")
    if head_end < 0:
        return None
    head = bytes(buffer[:head_end]).decode("latin-1").split("\r\n")
    parts = head[0].split(" ", 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP/1.") or not parts[1].isdigit():
        raise HttpLoadError(f"not an HTTP/1.1 status line: {head[0][:80]!r}")
    status = int(parts[1])
    fields = {}
    for line in head[1:]:
        name, _, value = line.partition(":")
        fields[name.strip().lower()] = value.strip()
    start = head_end + 4
    if "chunked" in fields.get("transfer-encoding", "").lower():
        return _chunked(buffer, start, status)
    length = int(fields.get("content-length", "0"))
    if len(buffer) - start < length:
        return None
    return Answer(status, bytes(buffer[start:start + length])), start + length


def _chunked(buffer: bytes | bytearray, at: int, status: int) -> tuple[Answer, int] | None:
    body = bytearray()
    while True:
        line_end = buffer.find(b"\r\n", at)
        if line_end < 0:
            return None
        size = int(bytes(buffer[at:line_end]).split(b";")[0], 16)
        at = line_end + 2
        if size == 0:
            trailer_end = buffer.find(b"\r\n", at)  # no trailers are expected: one empty line
            return None if trailer_end < 0 else (Answer(status, bytes(body)), trailer_end + 2)
        if len(buffer) < at + size + 2:
            return None
        body += buffer[at:at + size]
        at += size + 2


class HttpLoadClient:
    """One keep-alive connection; one request at a time, as one app would send them."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self._reader: _Reader | None = None

    async def __aenter__(self) -> HttpLoadClient:
        await self._connect()
        return self

    async def __aexit__(self, *_: object) -> None:
        if self._reader is not None and self._reader.transport is not None:
            self._reader.transport.close()

    async def _connect(self) -> _Reader:
        loop = asyncio.get_running_loop()
        _, reader = await loop.create_connection(_Reader, self.host, self.port)
        self._reader = reader
        return reader

    async def send(self, request: bytes, timeout_s: float = 10.0) -> Answer:
        """Send prepared request bytes, wait for the whole answer; reconnects if closed."""
        reader = self._reader
        if reader is None or reader.transport is None or reader.transport.is_closing():
            reader = await self._connect()
        waiting = reader.expect()
        assert reader.transport is not None
        reader.transport.write(request)
        try:
            async with asyncio.timeout(timeout_s):
                return await waiting
        except BaseException:
            # A late or half-read answer would be taken for the next request's: start afresh.
            reader.transport.close()
            self._reader = None
            raise
