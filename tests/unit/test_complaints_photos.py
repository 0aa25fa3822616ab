"""Photos for complaints: JPEG/PNG by their bytes, at most 5 MB, stored once by content."""

from __future__ import annotations

from pathlib import Path

import pytest

from hub.domain.errors import Invalid, NotFound
from hub.media import MAX_PHOTO_BYTES, PhotoStore, sniff

JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 64
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def test_jpeg_and_png_are_known_by_their_bytes() -> None:
    assert sniff(JPEG) == "jpg"
    assert sniff(PNG) == "png"


def test_a_text_file_is_refused_whatever_its_name() -> None:
    with pytest.raises(Invalid, match="photos\\[0\\] is not a JPEG or PNG") as err:
        sniff(b"just some text, named lift.jpg", field="photos[0]")
    assert err.value.field == "photos[0]"


def test_a_photo_over_five_megabytes_is_refused() -> None:
    with pytest.raises(Invalid, match="at most 5242880"):
        sniff(JPEG + b"\x00" * MAX_PHOTO_BYTES)


def _files(root: Path) -> int:
    return len([p for p in root.rglob("*") if p.is_file()])


async def test_the_same_photo_is_stored_once_and_read_back(tmp_path: Path) -> None:
    store = PhotoStore(tmp_path)
    first = await store.save(JPEG)
    second = await store.save(JPEG)
    assert first == second
    assert _files(tmp_path) == 1
    assert await store.read(first.ref) == (JPEG, "image/jpeg")


async def test_a_reference_that_is_not_a_stored_photo_is_not_found(tmp_path: Path) -> None:
    store = PhotoStore(tmp_path)
    for ref in ("../../etc/passwd", "a" * 64 + ".jpg", "x.png"):
        with pytest.raises(NotFound):
            await store.read(ref)
