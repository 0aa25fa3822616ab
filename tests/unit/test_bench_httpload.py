"""The benchmark's lean HTTP client reads whole answers, however the bytes arrive."""

from __future__ import annotations

import pytest

from hub.bench.httpload import Answer, HttpLoadError, get_request, parse_answer

PLAIN = (b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 9\r\n\r\n"
         b"{\"a\": 1}\n")
CHUNKED = (b"HTTP/1.1 401 Unauthorized\r\nTransfer-Encoding: chunked\r\n\r\n"
           b"4\r\n{\"a\"\r\n5;ext=1\r\n: 12}\r\n0\r\n\r\n")


@pytest.mark.parametrize(("raw", "answer"), [
    (PLAIN, Answer(200, b"{\"a\": 1}\n")),
    (CHUNKED, Answer(401, b"{\"a\": 12}")),
])
def test_an_answer_is_read_whole_and_only_once_all_its_bytes_are_in(raw: bytes,
                                                                    answer: Answer) -> None:
    for cut in range(len(raw)):
        assert parse_answer(raw[:cut]) is None
    assert parse_answer(raw + b"HTTP/1.1 204") == (answer, len(raw))


def test_what_is_not_http_is_an_error() -> None:
    with pytest.raises(HttpLoadError, match="status line"):
        parse_answer(b"SSH-2.0-OpenSSH\r\n\r\n")


def test_a_request_is_a_keep_alive_get_with_its_headers() -> None:
    assert get_request("127.0.0.1:8000", "/api/v1/me/bills", {"Authorization": "Bearer t"}) == (
        b"GET /api/v1/me/bills HTTP/1.1\r\nHost: 127.0.0.1:8000\r\nAccept: application/json\r\n"
        b"Authorization: Bearer t\r\n\r\n")
