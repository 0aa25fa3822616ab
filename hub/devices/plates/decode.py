"""Decode a camera snapshot safely: the header is read before any pixel is decoded.

A PNG or JPEG header can claim 20000×20000 pixels in a few hundred bytes; decoding it would
allocate 1.2 GB in a worker. So the dimensions come from the PNG IHDR or the JPEG SOF
segment, parsed here, and a payload over the byte or pixel limit is refused before
`cv2.imdecode` sees it. Truncated files are refused too: a JPEG cut short decodes "fine"
into a grey lower half, which would be read as a plate-less image.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

import cv2
import numpy as np

from hub.devices.plates.arrays import Array
from hub.devices.plates.errors import PlateImageRejected

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
JPEG_MAGIC = b"\xff\xd8\xff"
# Snapshots are up to 1920×1080; some slack for cameras that send 2560×1440.
MAX_WIDTH = 2560
MAX_HEIGHT = 1600
MAX_PIXELS = 2560 * 1440
MAX_BYTES = 12 * 1024 * 1024
# SOF markers that carry the frame size (C4 is DHT, C8 JPG extension, CC DAC).
_SOF = frozenset({0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF})
_STANDALONE = frozenset({0x01, *range(0xD0, 0xD8)})
_EOI_SEARCH = 8192  # bytes at the end where the JPEG end marker must be (cameras pad a little)


@dataclass(frozen=True, slots=True)
class ImageHeader:
    kind: str  # "jpeg" | "png"
    width: int
    height: int


def read_header(data: bytes) -> ImageHeader:
    """The format and size the payload claims, checked against the limits. Raises
    PlateImageRejected with the reason."""
    if not data:
        raise PlateImageRejected("empty payload")
    if len(data) > MAX_BYTES:
        raise PlateImageRejected(f"payload of {len(data)} bytes is over the {MAX_BYTES} limit")
    if data.startswith(PNG_MAGIC):
        header = _png_header(data)
    elif data.startswith(JPEG_MAGIC):
        header = _jpeg_header(data)
    else:
        raise PlateImageRejected("not a JPEG or PNG image")
    _check_size(header)
    return header


def decode_image(data: bytes) -> Array:
    """The snapshot as a BGR array, or PlateImageRejected naming why not."""
    header = read_header(data)
    if header.kind == "jpeg":
        if b"\xff\xd9" not in data[-_EOI_SEARCH:]:
            raise PlateImageRejected("truncated JPEG: no end-of-image marker")
    elif data.rstrip(b"\x00")[-8:-4] != b"IEND":
        raise PlateImageRejected("truncated PNG: no IEND chunk at the end")
    image = cv2.imdecode(np.frombuffer(data, dtype=np.uint8), cv2.IMREAD_COLOR)
    if image is None or image.size == 0:
        raise PlateImageRejected(f"corrupt {header.kind.upper()}: it does not decode")
    if image.shape[1] != header.width or image.shape[0] != header.height:
        raise PlateImageRejected(
            f"corrupt {header.kind.upper()}: decoded {image.shape[1]}×{image.shape[0]}, "
            f"header says {header.width}×{header.height}")
    return np.ascontiguousarray(image, dtype=np.uint8)


def check_array(image: object) -> Array:
    """An already decoded image handed in by a caller: BGR uint8, within the limits."""
    if not isinstance(image, np.ndarray):
        raise PlateImageRejected(f"not an image array: {type(image).__name__}")
    if image.dtype != np.uint8:
        raise PlateImageRejected(f"image array of {image.dtype}, not uint8")
    if image.ndim == 2:
        image = cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
    elif image.ndim != 3 or image.shape[2] not in (3, 4):
        raise PlateImageRejected(f"image array of shape {image.shape}, not H×W×3 BGR")
    elif image.shape[2] == 4:
        image = cv2.cvtColor(image, cv2.COLOR_BGRA2BGR)
    _check_size(ImageHeader("array", int(image.shape[1]), int(image.shape[0])))
    return np.ascontiguousarray(image)


def _check_size(header: ImageHeader) -> None:
    w, h = header.width, header.height
    if w <= 0 or h <= 0:
        raise PlateImageRejected(f"{header.kind} header claims an empty image ({w}×{h})")
    if w > MAX_WIDTH or h > MAX_HEIGHT or w * h > MAX_PIXELS:
        raise PlateImageRejected(
            f"{header.kind} of {w}×{h} is over the {MAX_WIDTH}×{MAX_HEIGHT} snapshot limit")


def _png_header(data: bytes) -> ImageHeader:
    # The IHDR chunk is always first: length 13, then width and height big-endian.
    if len(data) < 33:
        raise PlateImageRejected("truncated PNG: no complete IHDR chunk")
    length, kind = struct.unpack(">I4s", data[8:16])
    if kind != b"IHDR" or length != 13:
        raise PlateImageRejected("corrupt PNG: the first chunk is not IHDR")
    width, height = struct.unpack(">II", data[16:24])
    return ImageHeader("png", width, height)


def _jpeg_header(data: bytes) -> ImageHeader:
    """Walk the marker segments from SOI to the first SOF (frame header)."""
    pos, end = 2, len(data)
    while pos < end:
        if data[pos] != 0xFF:
            raise PlateImageRejected(f"corrupt JPEG: no marker at byte {pos}")
        while pos < end and data[pos] == 0xFF:  # fill bytes
            pos += 1
        if pos >= end:
            break
        marker = data[pos]
        pos += 1
        if marker in _STANDALONE:
            continue
        if marker in (0xD9, 0xDA):  # end of image or start of scan before any frame
            raise PlateImageRejected("corrupt JPEG: no frame header before the image data")
        if pos + 2 > end:
            break
        (length,) = struct.unpack(">H", data[pos:pos + 2])
        if length < 2:
            raise PlateImageRejected(f"corrupt JPEG: segment length {length}")
        if marker in _SOF:
            if pos + 7 > end:
                break
            height, width = struct.unpack(">HH", data[pos + 3:pos + 7])
            return ImageHeader("jpeg", width, height)
        pos += length
    raise PlateImageRejected("truncated JPEG: it ends before the frame header")
