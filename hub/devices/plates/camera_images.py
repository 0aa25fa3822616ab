"""Snapshots for the simulated plate camera (simulators/mqtt/cameras.py, its `image_source`).

On a configurable share of its reads the camera sends a picture instead of the plate text:
a rendered scene holding the vehicle's plate, JPEG-encoded within the camera contract's size
limit (48 KiB). On the other reads the source returns None and the camera sends text as before.

    from hub.devices.plates.camera_images import plate_image_source
    PlateCamera(..., image_source=plate_image_source(share=0.3, seed=7))
"""

from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy as np

from hub.devices.plates.glyphs import characters
from hub.devices.plates.render import COLORS, Image, PlateSpec, encode_jpeg, u8
from hub.devices.plates.scene import DIFFICULTIES, render_scene

ImageSource = Callable[[str, str], bytes | None]  # (plate, color) -> JPEG bytes, or None
MAX_IMAGE_BYTES = 48 * 1024  # hub.devices.mqtt.fields: the largest `image` a camera may send
_QUALITIES = (70, 60, 50, 40, 30)
_SPECIAL_COLOR = {"学": "yellow", "挂": "yellow", "警": "white", "港": "black", "澳": "black",
                  "领": "black", "使": "black"}


def plate_image_source(*, share: float = 1.0, hard_share: float = 0.2,
                       plateless_share: float = 0.0, seed: int | None = None,
                       size: tuple[int, int] = (1280, 720),
                       max_bytes: int = MAX_IMAGE_BYTES) -> ImageSource:
    """A camera image source: on `share` of the reads a JPEG of a scene with the plate
    (`hard_share` of them with the hard-camera effects, `plateless_share` of them with no
    readable plate at all, as when a plate is covered), otherwise None. Seeded: the same seed
    and the same sequence of plates give the same images."""
    for name, value in (("share", share), ("hard_share", hard_share),
                        ("plateless_share", plateless_share)):
        if not 0.0 <= value <= 1.0:
            raise ValueError(f"{name} must be between 0 and 1, not {value}")
    rng = np.random.default_rng(seed)
    drawable = set(characters())

    def source(plate: str, color: str) -> bytes | None:
        if rng.random() >= share:
            return None
        spec = spec_for(plate, color, drawable)
        if spec is None:
            return None  # a plate the renderer cannot draw: the camera sends its text
        difficulty = DIFFICULTIES[1] if rng.random() < hard_share else DIFFICULTIES[0]
        plates = [] if rng.random() < plateless_share else [spec]
        scene = render_scene(rng, plates, size=size, difficulty=difficulty)
        return fit_jpeg(scene.image, max_bytes)

    return source


def spec_for(plate: str, color: str, drawable: set[str] | None = None) -> PlateSpec | None:
    """The plate to draw for what the camera was told: the colour follows a special ending
    (警 white, 港 black, ...) and the length (8: green), else the camera's colour."""
    text = plate.replace(" ", "").replace("·", "")
    if drawable is not None and not set(text) <= drawable:
        return None
    if len(text) == 8:
        color = "green"
    elif text[-1:] in _SPECIAL_COLOR:
        color = _SPECIAL_COLOR[text[-1]]
    elif color not in COLORS or color == "green":
        color = "blue"
    try:
        return PlateSpec(text, color)
    except ValueError:
        return None


def fit_jpeg(image: Image, max_bytes: int = MAX_IMAGE_BYTES) -> bytes:
    """The image as a JPEG of at most max_bytes: lower quality first (down to 30), then
    smaller (3/4 at a time), as a camera set to a bitrate budget does."""
    while True:
        for quality in _QUALITIES:
            data = encode_jpeg(image, quality)
            if len(data) <= max_bytes:
                return data
        height, width = image.shape[:2]
        if width < 160:
            raise ValueError(f"no JPEG of this image fits in {max_bytes} bytes")
        image = u8(cv2.resize(image, (width * 3 // 4, height * 3 // 4),
                              interpolation=cv2.INTER_AREA))
