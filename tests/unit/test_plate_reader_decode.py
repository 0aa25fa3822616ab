"""Payloads the plate reader refuses, each with its reason, before decoding big buffers."""

from __future__ import annotations

import struct
import zlib

import cv2
import numpy as np
import pytest

from hub.devices.plates import decode
from hub.devices.plates.decode import check_array, decode_image, read_header
from hub.devices.plates.errors import PlateImageRejected


def _jpeg(width: int = 64, height: int = 32) -> bytes:
    image = np.full((height, width, 3), 128, np.uint8)
    image[:, : width // 2] = (200, 40, 10)
    return cv2.imencode(".jpg", image)[1].tobytes()


def _png(width: int = 64, height: int = 32) -> bytes:
    return cv2.imencode(".png", np.full((height, width, 3), 90, np.uint8))[1].tobytes()


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(
        ">I", zlib.crc32(kind + body) & 0xFFFFFFFF)


def _png_claiming(width: int, height: int) -> bytes:
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (decode.PNG_MAGIC + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", zlib.compress(b"\0" * 64))
            + _chunk(b"IEND", b""))


def _jpeg_claiming(width: int, height: int) -> bytes:
    """A real JPEG whose frame header (SOF0) is rewritten to claim width×height."""
    data = bytearray(_jpeg())
    at = data.index(b"\xff\xc0")
    data[at + 5:at + 9] = struct.pack(">HH", height, width)
    return bytes(data)


def test_good_jpeg_and_png_decode_to_bgr() -> None:
    assert decode_image(_jpeg()).shape == (32, 64, 3)
    assert decode_image(_png()).shape == (32, 64, 3)
    assert read_header(_jpeg(640, 480)).width == 640


@pytest.mark.parametrize(("payload", "reason"), [
    (b"", "empty payload"),
    (b"hello, this is not a picture", "not a JPEG or PNG"),
    (b"GIF89a" + b"\0" * 100, "not a JPEG or PNG"),
    (b"%PDF-1.4\n" + b"x" * 100, "not a JPEG or PNG"),
    (b"\xff\xd8\xff", "truncated JPEG"),
    (b"\x89PNG\r\n\x1a\n\0\0", "truncated PNG"),
    (_jpeg()[:40], "truncated JPEG"),
    (_jpeg()[: len(_jpeg()) // 2], "truncated JPEG"),
    (_png()[:-12], "truncated PNG"),
    (_png_claiming(20000, 20000), "20000×20000 is over"),
    (_jpeg_claiming(20000, 20000), "20000×20000 is over"),
    (_jpeg_claiming(0, 100), "empty image"),
    (decode.PNG_MAGIC + _chunk(b"IDAT", b"x" * 20), "first chunk is not IHDR"),
    (b"\xff\xd8\xff\xda\x00\x02" + b"\0" * 40, "no frame header"),
    (b"\xff\xd8\xff\xe0\x00\x01", "segment length"),
    (b"\xff\xd8\xff" + b"\0" * (decode.MAX_BYTES + 1), "over the"),
])
def test_refused_with_a_reason(payload: bytes, reason: str) -> None:
    with pytest.raises(PlateImageRejected, match=reason):
        decode_image(payload)


def test_a_huge_header_is_refused_before_any_decoding(monkeypatch: pytest.MonkeyPatch) -> None:
    def never(*_: object) -> None:
        raise AssertionError("imdecode must not run on a payload the header refuses")

    monkeypatch.setattr(cv2, "imdecode", never)
    for payload in (_png_claiming(20000, 20000), _jpeg_claiming(20000, 20000)):
        with pytest.raises(PlateImageRejected):
            decode_image(payload)


def test_corrupt_png_data_is_refused() -> None:
    data = bytearray(_png(200, 100))
    at = data.index(b"IDAT") + 8
    data[at:at + 30] = b"\xde\xad\xbe\xef" * 7 + b"\0\0"
    with pytest.raises(PlateImageRejected, match="corrupt PNG"):
        decode_image(bytes(data))


@pytest.mark.parametrize(("array", "reason"), [
    ("a string", "not an image array"),
    (np.zeros((10, 10, 3), np.float32), "not uint8"),
    (np.zeros((10, 10, 2), np.uint8), "not H×W×3"),
    (np.zeros((4000, 10, 3), np.uint8), "over the"),
])
def test_arrays_checked(array: object, reason: str) -> None:
    with pytest.raises(PlateImageRejected, match=reason):
        check_array(array)


def test_grey_and_bgra_arrays_become_bgr() -> None:
    assert check_array(np.zeros((10, 20), np.uint8)).shape == (10, 20, 3)
    assert check_array(np.zeros((10, 20, 4), np.uint8)).shape == (10, 20, 3)
