"""Photos attached to records (complaints, repair requests): validated, stored by content.

A photo is accepted only if its bytes are a JPEG or PNG (by magic bytes, whatever its name
says) and at most `MAX_PHOTO_BYTES`. It is stored once under `<data_dir>/media/ab/<sha256>.<ext>`
and known by a reference `<sha256>.<ext>`; the record that owns it keeps the reference, and a
route that serves it first finds the record in the caller's scope, then reads by reference.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

from hub.domain.errors import Invalid, NotFound

MAX_PHOTO_BYTES = 5 * 1024 * 1024
MAX_PHOTOS = 5

_JPEG = b"\xff\xd8\xff"
_PNG = b"\x89PNG\r\n\x1a\n"
_REF = re.compile(r"^[0-9a-f]{64}\.(jpg|png)$")
MEDIA_TYPES = {"jpg": "image/jpeg", "png": "image/png"}


@dataclass(frozen=True)
class Photo:
    ref: str  # "<sha256>.<ext>"
    media_type: str
    size: int


def sniff(data: bytes, *, field: str = "photo") -> str:
    """The extension the bytes really are ("jpg" or "png"), or Invalid naming the field."""
    if len(data) > MAX_PHOTO_BYTES:
        raise Invalid(f"{field} is {len(data)} bytes; at most {MAX_PHOTO_BYTES} are accepted",
                      field=field)
    if data.startswith(_JPEG):
        return "jpg"
    if data.startswith(_PNG):
        return "png"
    raise Invalid(f"{field} is not a JPEG or PNG image (checked by its content, not its name)",
                  field=field)


def is_ref(ref: str) -> bool:
    return bool(_REF.match(ref))


class PhotoStore:
    """Content-addressed files under `root`; the same photo twice is stored once."""

    def __init__(self, root: Path) -> None:
        self._root = root

    def _path(self, ref: str) -> Path:
        return self._root / ref[:2] / ref

    def check(self, data: bytes, *, field: str = "photo") -> Photo:
        ext = sniff(data, field=field)
        ref = f"{hashlib.sha256(data).hexdigest()}.{ext}"
        return Photo(ref=ref, media_type=MEDIA_TYPES[ext], size=len(data))

    def save_sync(self, data: bytes, *, field: str = "photo") -> Photo:
        photo = self.check(data, field=field)
        path = self._path(photo.ref)
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            # Written aside then renamed: a reader never sees half a photo.
            fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".part")
            try:
                with os.fdopen(fd, "wb") as out:
                    out.write(data)
                os.replace(tmp, path)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
        return photo

    async def save(self, data: bytes, *, field: str = "photo") -> Photo:
        return await asyncio.to_thread(self.save_sync, data, field=field)

    def read_sync(self, ref: str) -> tuple[bytes, str]:
        if not is_ref(ref):
            raise NotFound("photo", ref)
        try:
            data = self._path(ref).read_bytes()
        except FileNotFoundError:
            raise NotFound("photo", ref) from None
        return data, MEDIA_TYPES[ref.rsplit(".", 1)[1]]

    async def read(self, ref: str) -> tuple[bytes, str]:
        return await asyncio.to_thread(self.read_sync, ref)


def photo_store_for(data_dir: Path) -> PhotoStore:
    return PhotoStore(data_dir / "media")
