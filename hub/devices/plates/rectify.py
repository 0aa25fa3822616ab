"""From four corners in the snapshot to a front view of the plate, its colour, and a grey
image in which the characters are bright on dark whatever the plate colour."""

from __future__ import annotations

import cv2
import numpy as np

from hub.devices.plates.arrays import Array
from hub.devices.plates.layout import CHAR_HEIGHT_MM, CHAR_TOP_MM, PLATE_HEIGHT_MM, Layout

COLORS = ("blue", "yellow", "green", "white", "black")
# Plates whose characters are darker than their background.
DARK_CHARACTERS = frozenset({"yellow", "green", "white"})
_FRAME_MM = 6.0  # the plate's edge and frame line, left out of its margins
_INK_CONTRAST = 10.0  # value steps: differences smaller than this are not ink


def rectify(image: Array, corners: Array, layout: Layout) -> Array:
    """The plate warped to its layout's canonical size (PX_PER_MM)."""
    w, h = layout.size_px
    return cv2.warpPerspective(image, to_plate(corners, layout), (w, h),
                               flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


def to_plate(corners: Array, layout: Layout) -> Array:
    """The homography from the image to the rectified plate."""
    w, h = layout.size_px
    target = np.array([[0, 0], [w - 1, 0], [w - 1, h - 1], [0, h - 1]], dtype=np.float32)
    matrix: Array = cv2.getPerspectiveTransform(corners.astype(np.float32), target)
    return matrix


def to_image(points: Array, corners: Array, layout: Layout) -> Array:
    """Points of the rectified plate back in the image."""
    ok, inverse = cv2.invert(to_plate(corners, layout))
    if not ok:  # a degenerate outline: the points stay where they are
        return points.astype(np.float32)
    mapped: Array = cv2.perspectiveTransform(points.reshape(1, -1, 2).astype(np.float64),
                                             inverse)[0].astype(np.float32)
    return mapped


def plate_color(plate: Array) -> str:
    """The background colour: the hue most of the plate has, or for unsaturated plates
    whether the background is the light or the dark side of the plate's pixels."""
    h, w = plate.shape[:2]
    inner = plate[h // 8: h - h // 8, w // 20: w - w // 20]
    hsv = cv2.cvtColor(inner, cv2.COLOR_BGR2HSV).reshape(-1, 3).astype(np.int32)
    hue, sat, val = hsv[:, 0], hsv[:, 1], hsv[:, 2]
    coloured = (sat > 60) & (val > 40)
    share = float(coloured.mean())
    if share > 0.3:
        hues = hue[coloured]
        votes = {"blue": int(((hues >= 95) & (hues <= 132)).sum()),
                 "yellow": int(((hues >= 10) & (hues < 36)).sum()),
                 "green": int(((hues >= 36) & (hues < 95)).sum())}
        best = max(votes, key=lambda k: votes[k])
        if votes[best] > 0.5 * len(hues):
            return best
    # Green new-energy plates fade to white at the top but are green at the bottom; a white
    # plate under a greenish white balance is pale all over.
    bottom = cv2.cvtColor(plate[h * 2 // 3: h - h // 10, w // 20: w - w // 20],
                          cv2.COLOR_BGR2HSV).reshape(-1, 3).astype(np.int32)
    greenish = (bottom[:, 0] >= 36) & (bottom[:, 0] < 95) & (bottom[:, 1] > 55) & (
        bottom[:, 2] > 40)
    if float(greenish.mean()) > 0.3:
        return "green"
    # Unsaturated: white or black by the ink's polarity, the character band against the
    # margins above and below it (background only), column by column so that glare or a
    # shadow across the plate shifts both alike. The share of pixels above one threshold,
    # the obvious test, calls a white plate black when half its background is in shadow.
    value = cv2.cvtColor(plate, cv2.COLOR_BGR2HSV)[:, :, 2].astype(np.float32)
    y = h / PLATE_HEIGHT_MM
    top, bottom = round(CHAR_TOP_MM * y), round((CHAR_TOP_MM + CHAR_HEIGHT_MM) * y)
    margins = np.vstack([value[round(_FRAME_MM * y): top - 1],
                         value[bottom + 1: h - round(_FRAME_MM * y)]])
    background = cv2.blur(np.median(margins, axis=0)[None, :], (w // 20 | 1, 1))
    ink = value[top:bottom, w // 20: w - w // 20] - background[:, w // 20: w - w // 20]
    dark = float(np.clip(-ink - _INK_CONTRAST, 0, None).sum())
    light = float(np.clip(ink - _INK_CONTRAST, 0, None).sum())
    return "white" if dark > light else "black"


def character_channel(plate: Array, color: str) -> Array:
    """One channel where the characters are bright and the background dark, contrast
    stretched."""
    # White on blue: red separates them best (blue is dark in red, white is not).
    channel = plate[:, :, 2] if color == "blue" else cv2.cvtColor(plate, cv2.COLOR_BGR2GRAY)
    if color in DARK_CHARACTERS:
        channel = 255 - channel
    cumulative = np.cumsum(np.bincount(channel.ravel(), minlength=256))
    low, high = (int(np.searchsorted(cumulative, q * cumulative[-1])) for q in (0.02, 0.98))
    if high - low < 1:
        return np.zeros_like(channel)
    stretched = (channel.astype(np.float32) - low) * (255.0 / (high - low))
    out: Array = np.clip(stretched, 0, 255).astype(np.uint8)
    return out
