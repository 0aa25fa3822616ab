"""Camera snapshots with plates in them, for the simulators, the tests and the benchmark.

A scene is what a parking-entrance camera sees: a wall or sky above a road, a barrier, signs,
and the front of a car with its plate, the plate 120-350 px wide at 1280x720 and turned up to
25 degrees either way (yaw and pitch) with a little roll. Scenes without plates still hold
cars and look-alikes (blue and yellow boards, a parking "P", stripes and text-like marks), so
that a reader's false reads can be counted. "hard" adds blur (motion and gaussian), noise, low
light, glare, a shadow across the plate and JPEG artefacts.

Everything random comes from the numpy Generator passed in: the same seed, the same scene.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np
from numpy.typing import NDArray

from hub.devices.plates.glyphs import glyph
from hub.devices.plates.render import (
    PLATE_HEIGHT_MM,
    Image,
    PlateSpec,
    layout_of,
    plate_mask,
    render_plate,
    u8,
)
from hub.domain.parking.plates import DIGITS, LETTERS, PROVINCES

DIFFICULTIES = ("clean", "hard")
Box = tuple[float, float, float, float]  # left, top, right, bottom
MAX_ANGLE_DEG = 25.0
MAX_ROLL_DEG = 5.0
PLATE_WIDTH_PX = (120, 350)  # at 1280 px image width; scaled with the image
_CAR_COLORS = [(235, 235, 235), (200, 200, 200), (130, 130, 130), (40, 40, 40), (20, 20, 25),
               (40, 40, 170), (150, 90, 30), (60, 110, 60), (90, 60, 40), (210, 210, 225)]


@dataclass(frozen=True)
class PlacedPlate:
    spec: PlateSpec
    corners: NDArray[np.float32]  # 4x2: TL, TR, BR, BL of the plate's outline, image pixels


@dataclass(frozen=True)
class Scene:
    image: Image  # BGR uint8
    plates: tuple[PlacedPlate, ...]


def render_scene(rng: np.random.Generator, plates: Sequence[PlateSpec], *,
                 size: tuple[int, int] = (1280, 720), difficulty: str = "clean") -> Scene:
    """A snapshot (width, height = size) holding these plates, none overlapping another."""
    if difficulty not in DIFFICULTIES:
        raise ValueError(f"difficulty must be one of {DIFFICULTIES}, not {difficulty!r}")
    width, height = size
    image = _backdrop(rng, width, height)
    quads = _place(rng, plates, width, height)
    boxes = [_bbox(q) for q in quads]
    for quad in quads:
        _car(rng, image, quad)
    if not plates:  # a car without a readable plate (or none) is what plate-less scenes hold
        for _ in range(int(rng.integers(0, 3))):
            quad = _quad(rng, 2.0 + rng.random() * 1.3, width, height)
            _car(rng, image, quad, plate_holder=True)
            boxes.append(_bbox(quad))
    for _ in range(int(rng.integers(2, 7) if not plates else rng.integers(0, 4))):
        _distractor(rng, image, boxes)
    for spec, quad in zip(plates, quads, strict=True):
        _paste_plate(rng, image, spec, quad, difficulty)
    image = _camera(rng, image, quads, difficulty)
    placed = tuple(PlacedPlate(spec, quad.astype(np.float32))
                   for spec, quad in zip(plates, quads, strict=True))
    return Scene(image, placed)


def front_view(image: Image, corners: NDArray[np.float32], height_px: int = 70,
               color: str = "blue") -> Image:
    """The plate warped back to a straight-on view at render_plate's size for height_px."""
    layout = layout_of(color)
    width = round(layout.width_mm * height_px / PLATE_HEIGHT_MM)
    target = _corners_of(width, height_px)
    matrix = cv2.getPerspectiveTransform(np.asarray(corners, np.float32), target)
    return u8(cv2.warpPerspective(image, matrix, (width, height_px), flags=cv2.INTER_LINEAR,
                                  borderMode=cv2.BORDER_REPLICATE))


def _corners_of(width: int, height: int) -> NDArray[np.float32]:
    """The outline of a width x height image in pixel-centre coordinates."""
    return np.array([[-0.5, -0.5], [width - 0.5, -0.5], [width - 0.5, height - 0.5],
                     [-0.5, height - 0.5]], np.float32)


# --- where the plates go ---------------------------------------------------------------------

def _quad(rng: np.random.Generator, aspect: float, width: int, height: int,
          centre: tuple[float, float] | None = None) -> NDArray[np.float64]:
    """A plate outline: a rectangle of this aspect turned in 3-D and seen through a pinhole."""
    low, high = (p * width / 1280 for p in PLATE_WIDTH_PX)
    plate_w = rng.uniform(low, high)
    yaw, pitch = (math.radians(rng.uniform(-MAX_ANGLE_DEG, MAX_ANGLE_DEG)) for _ in range(2))
    roll = math.radians(rng.uniform(-MAX_ROLL_DEG, MAX_ROLL_DEG))
    half_w, half_h = 0.5, 0.5 / aspect  # in plate widths
    points = np.array([[-half_w, -half_h, 0], [half_w, -half_h, 0], [half_w, half_h, 0],
                       [-half_w, half_h, 0]], np.float64)
    cy, sy = math.cos(yaw), math.sin(yaw)
    cp, sp = math.cos(pitch), math.sin(pitch)
    cr, sr = math.cos(roll), math.sin(roll)
    rot_y = np.array([[cy, 0, sy], [0, 1, 0], [-sy, 0, cy]])
    rot_x = np.array([[1, 0, 0], [0, cp, -sp], [0, sp, cp]])
    rot_z = np.array([[cr, -sr, 0], [sr, cr, 0], [0, 0, 1]])
    turned = points @ (rot_z @ rot_y @ rot_x).T
    distance = rng.uniform(4.0, 9.0)  # plate widths from the camera: the perspective strength
    focal = plate_w * distance
    projected = focal * turned[:, :2] / (distance + turned[:, 2:3])
    if centre is None:
        span = projected.max(axis=0) - projected.min(axis=0)
        margin = 12.0
        cx = rng.uniform(span[0] / 2 + margin, width - span[0] / 2 - margin)
        cyy = rng.uniform(max(span[1] / 2 + margin, height * 0.3),
                          height - span[1] / 2 - margin)
        centre = (cx, cyy)
    quad: NDArray[np.float64] = projected + np.array(centre)
    return quad


def _bbox(quad: NDArray[np.float64]) -> Box:
    return (float(quad[:, 0].min()), float(quad[:, 1].min()), float(quad[:, 0].max()),
            float(quad[:, 1].max()))


def _apart(a: Box, b: Box,
           margin: float) -> bool:
    return (a[2] + margin < b[0] or b[2] + margin < a[0] or a[3] + margin < b[1]
            or b[3] + margin < a[1])


def _place(rng: np.random.Generator, plates: Sequence[PlateSpec], width: int,
           height: int) -> list[NDArray[np.float64]]:
    """Outlines for the plates, each inside the image and well apart from the others (a car's
    width: two plates in one snapshot are two cars)."""
    for _ in range(200):
        quads: list[NDArray[np.float64]] = []
        for spec in plates:
            aspect = layout_of(spec.color).width_mm / PLATE_HEIGHT_MM
            quads.append(_quad(rng, aspect, width, height))
        boxes = [_bbox(q) for q in quads]
        if all(_apart(boxes[i], boxes[j], (boxes[i][2] - boxes[i][0]) * 0.6)
               for i in range(len(boxes)) for j in range(i + 1, len(boxes))):
            return quads
    raise ValueError(f"{len(plates)} plates do not fit apart in a {width}x{height} image")


# --- what is around them ---------------------------------------------------------------------

def _smooth_noise(rng: np.random.Generator, width: int, height: int, cells: int,
                  amplitude: float) -> NDArray[np.float32]:
    coarse = rng.normal(0, amplitude, (cells, max(2, cells * width // height))).astype(np.float32)
    smooth = cv2.resize(coarse, (width, height), interpolation=cv2.INTER_CUBIC)
    return smooth.astype(np.float32, copy=False)


def _backdrop(rng: np.random.Generator, width: int, height: int) -> Image:
    """A wall or sky above a road, with a lane line, a kerb and a pillar or a barrier."""
    horizon = int(height * rng.uniform(0.25, 0.55))
    top_color = rng.uniform(90, 220, 3)
    road_color = np.full(3, rng.uniform(60, 130)) + rng.uniform(-8, 8, 3)
    # smooth shading and texture, made at 1/4 size: a cheap upscale of something smooth
    small_w, small_h, small_horizon = width // 4, height // 4, horizon // 4
    rows = np.empty((small_h, 3), np.float32)
    t = np.linspace(0, 1, small_horizon)[:, None]
    rows[:small_horizon] = top_color * (1.05 - 0.15 * t)
    t = np.linspace(0, 1, small_h - small_horizon)[:, None]
    rows[small_horizon:] = road_color * (0.85 + 0.25 * t)
    texture = _smooth_noise(rng, small_w, small_h, 6, 10)
    small = np.clip(rows[:, None, :] + texture[:, :, None], 0, 255).astype(np.uint8)
    canvas = u8(cv2.resize(small, (width, height), interpolation=cv2.INTER_LINEAR))
    # lane markings in perspective
    for _ in range(int(rng.integers(1, 3))):
        x0 = rng.uniform(0, width)
        x1 = x0 + rng.uniform(-0.6, 0.6) * width
        pts = np.array([[x0 - 4, horizon], [x0 + 4, horizon], [x1 + 30, height],
                        [x1 - 30, height]], np.int32)
        cv2.fillPoly(canvas, [pts], (200, 205, 205) if rng.random() < 0.6 else (40, 190, 220),
                     cv2.LINE_AA)
    # a pillar or a wall edge
    for _ in range(int(rng.integers(0, 3))):
        x = int(rng.uniform(0, width))
        w = int(rng.uniform(20, 120))
        color = tuple(int(v) for v in rng.uniform(60, 220, 3))
        cv2.rectangle(canvas, (x, 0), (x + w, horizon + int(rng.uniform(0, height / 3))),
                      color, -1)
    if rng.random() < 0.5:  # a barrier arm, red and white
        y = int(rng.uniform(height * 0.15, height * 0.5))
        x0, x1 = sorted(int(v) for v in rng.uniform(0, width, 2))
        thickness = int(rng.uniform(8, 20))
        step = max(20, (x1 - x0) // 8)
        for i, x in enumerate(range(x0, x1, step)):
            color = (30, 30, 200) if i % 2 else (235, 235, 235)
            cv2.rectangle(canvas, (x, y), (min(x + step, x1), y + thickness), color, -1)
    return canvas


def _car(rng: np.random.Generator, image: Image, quad: NDArray[np.float64], *,
         plate_holder: bool = False) -> None:
    """The front of a car around a plate outline: body, windscreen, grille, lights, bumper."""
    x0, y0, x1, y1 = _bbox(quad)
    pw = x1 - x0
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    body_w = pw * rng.uniform(3.0, 4.0)
    top = cy - pw * rng.uniform(0.7, 1.1)
    bottom = cy + pw * rng.uniform(0.3, 0.55)
    color = _CAR_COLORS[int(rng.integers(len(_CAR_COLORS)))]
    shade = tuple(int(c * 0.6) for c in color)
    lean = (quad[1, 0] - quad[0, 0] - (quad[2, 0] - quad[3, 0])) * 2  # follow the plate's turn
    windscreen = np.array([[cx - body_w * 0.38 + lean, top - pw * 0.75],
                           [cx + body_w * 0.38 + lean, top - pw * 0.75],
                           [cx + body_w * 0.46, top], [cx - body_w * 0.46, top]], np.int32)
    cv2.fillPoly(image, [windscreen], (int(rng.uniform(30, 70)),) * 3, cv2.LINE_AA)
    body = np.array([[cx - body_w / 2, top], [cx + body_w / 2, top],
                     [cx + body_w / 2 * 0.97, bottom], [cx - body_w / 2 * 0.97, bottom]],
                    np.int32)
    cv2.fillPoly(image, [body], color, cv2.LINE_AA)
    cv2.line(image, (int(cx - body_w / 2), int(top + 2)), (int(cx + body_w / 2), int(top + 2)),
             shade, max(1, int(pw * 0.02)), cv2.LINE_AA)
    grille_top = top + (y0 - top) * 0.3
    cv2.rectangle(image, (int(cx - pw * 0.8), int(grille_top)), (int(cx + pw * 0.8), int(y0 - 4)),
                  (25, 25, 25), -1)
    for y in np.arange(grille_top + 5, y0 - 6, max(4.0, pw * 0.05)):
        cv2.line(image, (int(cx - pw * 0.78), int(y)), (int(cx + pw * 0.78), int(y)),
                 (70, 70, 70), 1)
    for side in (-1, 1):
        centre = (int(cx + side * body_w * 0.36), int(top + (y0 - top) * 0.45))
        axes = (int(pw * 0.32), int(pw * 0.1))
        cv2.ellipse(image, centre, axes, 0, 0, 360, (225, 235, 240), -1, cv2.LINE_AA)
        cv2.ellipse(image, centre, axes, 0, 0, 360, shade, 2, cv2.LINE_AA)
    cv2.rectangle(image, (int(cx - body_w * 0.45), int(bottom - pw * 0.08)),
                  (int(cx + body_w * 0.45), int(bottom)), (35, 35, 35), -1)
    if plate_holder:  # an empty plate recess
        cv2.fillPoly(image, [quad.astype(np.int32)], shade, cv2.LINE_AA)


def _distractor(rng: np.random.Generator, image: Image, avoid: list[Box]) -> None:
    """Something a careless reader takes for a plate, where it covers nothing in `avoid`."""
    height, width = image.shape[:2]
    for _ in range(30):
        w = rng.uniform(60, 320) * width / 1280
        h = w / rng.uniform(1.0, 5.0)
        x, y = rng.uniform(0, width - w), rng.uniform(0, height - h)
        box = (x, y, x + w, y + h)
        if all(_apart(box, other, 10) for other in avoid):
            break
    else:
        return
    avoid.append(box)
    draw = _DISTRACTORS[int(rng.integers(len(_DISTRACTORS)))]
    draw(rng, image, box)


def _board(rng: np.random.Generator, image: Image, box: Box) -> None:
    """A blue or yellow board, maybe with a white frame: a plate's colours, no characters."""
    x0, y0, x1, y1 = (int(v) for v in box)
    cv2.rectangle(image, (x0, y0), (x1, y1),
                  (170, 70, 20) if rng.random() < 0.5 else (30, 190, 240), -1)
    if rng.random() < 0.5:
        cv2.rectangle(image, (x0 + 4, y0 + 4), (x1 - 4, y1 - 4), (240, 240, 240), 2)


def _parking_sign(rng: np.random.Generator, image: Image, box: Box) -> None:
    """A white P on blue."""
    x0, y0, x1, y1 = (int(v) for v in box)
    side = min(x1 - x0, y1 - y0)
    cv2.rectangle(image, (x0, y0), (x0 + side, y0 + side), (170, 70, 20), -1)
    p = u8(cv2.resize(glyph("P"), (max(1, side // 2), max(1, side * 3 // 4)),
                      interpolation=cv2.INTER_AREA))
    _ink(image, p, x0 + side // 4, y0 + side // 8, (245, 245, 245))


def _hazard(rng: np.random.Generator, image: Image, box: Box) -> None:
    """Black and yellow stripes."""
    x0, y0, x1, y1 = (int(v) for v in box)
    cv2.rectangle(image, (x0, y0), (x1, y1), (20, 200, 240), -1)
    step = max(8, y1 - y0)
    for sx in range(x0 - step, x1, step):
        pts = np.array([[sx, y1], [sx + step // 2, y1], [sx + step, y0], [sx + step // 2, y0]],
                       np.int32)
        cv2.fillPoly(image, [pts], (25, 25, 25))
    cv2.rectangle(image, (x0, y0), (x1, y1), (20, 200, 240), 2)


def _direction_sign(rng: np.random.Generator, image: Image, box: Box) -> None:
    """A few white Chinese characters on blue or green: the closest look-alike of a plate."""
    x, y, x1, y1 = box
    w, h = x1 - x, y1 - y
    cv2.rectangle(image, (int(x), int(y)), (int(x1), int(y1)),
                  (160, 80, 20) if rng.random() < 0.5 else (70, 130, 20), -1)
    cv2.rectangle(image, (int(x) + 3, int(y) + 3), (int(x1) - 3, int(y1) - 3),
                  (240, 240, 240), 1)
    count = int(rng.integers(2, 5))
    size = max(4, int(min(h * 0.6, w * 0.8 / count)))
    for i in range(count):
        ch = PROVINCES[int(rng.integers(len(PROVINCES)))]
        mark = u8(cv2.resize(glyph(ch), (size, size), interpolation=cv2.INTER_AREA))
        _ink(image, mark, int(x + w * 0.1 + i * size * 1.15), int(y + (h - size) / 2),
             (240, 240, 240))


def _marks(rng: np.random.Generator, image: Image, box: Box, *, letters: bool) -> None:
    """Text-like marks on a light or dark board (a banner, a shop sign): bars, and with
    `letters` some Latin letters and digits too."""
    x, y, x1, y1 = box
    w, h = x1 - x, y1 - y
    light = rng.random() < 0.5
    cv2.rectangle(image, (int(x), int(y)), (int(x1), int(y1)),
                  (225, 225, 220) if light else (40, 40, 40), -1)
    ink = (30, 30, 30) if light else (235, 235, 235)
    count = int(rng.integers(2, 12))
    mark_h = max(4, int(h * rng.uniform(0.35, 0.7)))
    mark_w = max(2, int(w / (count * 1.5)))
    top = int(y + (h - mark_h) / 2)
    alphabet = LETTERS + DIGITS
    for i in range(count):
        left = int(x + w * 0.05 + i * w * 0.9 / count)
        if letters and rng.random() < 0.5:
            ch = alphabet[int(rng.integers(len(alphabet)))]
            mark = u8(cv2.resize(glyph(ch), (mark_w, mark_h), interpolation=cv2.INTER_AREA))
            _ink(image, mark, left, top, ink)
        else:
            cv2.rectangle(image, (left, top + int(rng.uniform(0, mark_h / 3))),
                          (left + max(1, mark_w // int(rng.integers(1, 4))), top + mark_h),
                          ink, -1)


def _text_marks(rng: np.random.Generator, image: Image, box: Box) -> None:
    _marks(rng, image, box, letters=True)


def _bar_marks(rng: np.random.Generator, image: Image, box: Box) -> None:
    _marks(rng, image, box, letters=False)


_DISTRACTORS = (_board, _parking_sign, _hazard, _text_marks, _bar_marks, _direction_sign)


def _ink(image: Image, coverage: NDArray[np.uint8], left: int, top: int,
         color: tuple[int, int, int]) -> None:
    height, width = image.shape[:2]
    h, w = coverage.shape
    h, w = min(h, height - top), min(w, width - left)
    if h <= 0 or w <= 0:
        return
    region = image[top:top + h, left:left + w].astype(np.float32)
    alpha = coverage[:h, :w].astype(np.float32)[:, :, None] / 255
    image[top:top + h, left:left + w] = (region * (1 - alpha)
                                         + np.array(color, np.float32) * alpha).astype(np.uint8)


# --- the plate itself, and the camera --------------------------------------------------------

def _paste_plate(rng: np.random.Generator, image: Image, spec: PlateSpec,
                 quad: NDArray[np.float64], difficulty: str) -> None:
    """Warp the front view onto the outline (only the window around it is touched); uneven
    paint and dirt before the warp."""
    x0, y0, x1, y1 = _bbox(quad)
    height_px = int(np.clip((y1 - y0) * 1.6, 24, 280))
    if rng.random() < 0.5:
        _bracket(rng, image, spec, quad)
    plate = render_plate(spec, height_px=height_px).astype(np.float32)
    plate *= rng.uniform(0.85, 1.05, 3).astype(np.float32)
    ph, pw = plate.shape[:2]
    plate += _smooth_noise(rng, pw, ph, 3, 6 if difficulty == "clean" else 14)[:, :, None]
    plate_img = np.clip(plate, 0, 255).astype(np.uint8)
    mask = plate_mask(spec, height_px=height_px)
    left, top = max(0, int(x0) - 2), max(0, int(y0) - 2)
    right = min(image.shape[1], math.ceil(x1) + 3)
    bottom = min(image.shape[0], math.ceil(y1) + 3)
    local = (quad - np.array([left, top])).astype(np.float32)
    matrix = cv2.getPerspectiveTransform(_corners_of(pw, ph), local)
    size = (right - left, bottom - top)
    warped = cv2.warpPerspective(plate_img, matrix, size, flags=cv2.INTER_LINEAR)
    alpha = cv2.warpPerspective(mask, matrix, size, flags=cv2.INTER_LINEAR)
    a = alpha.astype(np.float32)[:, :, None] / 255
    region = image[top:bottom, left:right]
    region[:] = (region * (1 - a) + warped * a).astype(np.uint8)


def _bracket(rng: np.random.Generator, image: Image, spec: PlateSpec,
             quad: NDArray[np.float64]) -> None:
    """The plastic or chrome holder many plates sit in: a few mm wider, deeper at the bottom
    (where dealers print their name), seen in the same perspective as the plate."""
    width_mm = layout_of(spec.color).width_mm
    side, top, bottom = rng.uniform(4, 12), rng.uniform(4, 12), rng.uniform(8, 30)
    outline = np.array([[[-side, -top], [width_mm + side, -top],
                         [width_mm + side, PLATE_HEIGHT_MM + bottom],
                         [-side, PLATE_HEIGHT_MM + bottom]]], np.float32)
    plate_mm = np.array([[0, 0], [width_mm, 0], [width_mm, PLATE_HEIGHT_MM],
                         [0, PLATE_HEIGHT_MM]], np.float32)
    matrix = cv2.getPerspectiveTransform(plate_mm, quad.astype(np.float32))
    corners = cv2.perspectiveTransform(outline, matrix)[0]
    shade = int(rng.choice([20, 35, 170, 200]))
    cv2.fillPoly(image, [np.round(corners).astype(np.int32)], (shade, shade, shade + 5),
                 cv2.LINE_AA)


HARD_EFFECTS = ("dark", "shadow", "glare", "motion", "gauss", "noise", "jpeg")


def _camera(rng: np.random.Generator, image: Image, quads: list[NDArray[np.float64]],
            difficulty: str) -> Image:
    """Optics and sensor: shadow, glare, light level, blur, noise, compression. "hard" draws
    two or three of them; "clean" only a mild exposure change, softness and noise."""
    effects: set[str] = set()
    if difficulty == "hard":
        count = int(rng.integers(2, 4))
        effects = {str(e) for e in rng.choice(HARD_EFFECTS, size=count, replace=False)}
    out = image
    if "shadow" in effects:
        out = _shadow(rng, out, quads)
    if "glare" in effects:
        for quad in quads:
            _glare(rng, out, quad)
    if "motion" in effects:
        out = _motion_blur(rng, out)
    sigma = rng.uniform(0.8, 1.5) if "gauss" in effects else rng.uniform(0.0, 0.6)
    if sigma > 0.3:
        out = u8(cv2.GaussianBlur(out, (0, 0), sigma))
    # exposure and white balance: one gain, a few per cent apart per channel
    gains = rng.uniform(0.8, 1.15) * rng.uniform(0.93, 1.07, 3)
    levels = np.arange(256, dtype=np.float64) / 255
    if "dark" in effects:
        out = _dark(rng, out, quads, levels, gains)
    else:
        table = np.clip(levels[:, None] * gains[None, :] * 255, 0, 255).astype(np.uint8)
        out = u8(cv2.LUT(out, table.reshape(1, 256, 3)))
    noise = rng.uniform(5, 12) if "noise" in effects else \
        rng.uniform(3, 7) if "dark" in effects else rng.uniform(0, 1.5)
    if noise > 0.5:
        grain = rng.standard_normal(out.shape[:2], dtype=np.float32) * np.float32(noise)
        out = u8(cv2.add(out, cv2.merge([grain, grain, grain]), dtype=cv2.CV_8U))
    if "jpeg" in effects:
        ok, buffer = cv2.imencode(".jpg", out, [cv2.IMWRITE_JPEG_QUALITY,
                                                int(rng.integers(20, 45))])
        decoded = cv2.imdecode(buffer, cv2.IMREAD_COLOR) if ok else None
        out = out if decoded is None else u8(decoded)
    return out


def _dark(rng: np.random.Generator, image: Image, quads: list[NDArray[np.float64]],
          levels: NDArray[np.float64], gains: NDArray[np.float64]) -> Image:
    """Dusk or an underground car park: the scene dim (gamma 1.2-1.8, gain 0.3-0.55); the
    plates, retroreflective under the camera's fill light, keep more of their light."""
    gamma = rng.uniform(1.2, 1.8)
    scene_gain, plate_gain = rng.uniform(0.3, 0.55), rng.uniform(0.55, 0.85)

    def table(gain: float) -> NDArray[np.uint8]:
        curve = levels[:, None] ** gamma * gain * gains[None, :]
        return np.clip(curve * 255, 0, 255).astype(np.uint8).reshape(1, 256, 3)

    dim = u8(cv2.LUT(image, table(scene_gain)))
    lit = u8(cv2.LUT(image, table(plate_gain)))
    height, width = image.shape[:2]
    for quad in quads:
        x0, y0, x1, y1 = _bbox(quad)
        left, top = max(0, int(x0) - 4), max(0, int(y0) - 4)
        right, bottom = min(width, math.ceil(x1) + 5), min(height, math.ceil(y1) + 5)
        mask = np.zeros((bottom - top, right - left), np.float32)
        cv2.fillPoly(mask, [np.round(quad - [left, top]).astype(np.int32)], 1.0, cv2.LINE_AA)
        a = cv2.GaussianBlur(mask, (0, 0), 1.0)[:, :, None]
        window = dim[top:bottom, left:right].astype(np.float32)
        dim[top:bottom, left:right] = (window * (1 - a)
                                       + lit[top:bottom, left:right] * a).astype(np.uint8)
    return dim


def _shadow(rng: np.random.Generator, image: Image,
            quads: list[NDArray[np.float64]]) -> Image:
    """A soft-edged shadow (a half-plane, drawn at 1/4 size) across part of each plate."""
    height, width = image.shape[:2]
    small = np.zeros((height // 4 + 1, width // 4 + 1), np.float32)
    for quad in quads:
        centre = (quad.mean(axis=0) + rng.uniform(-0.3, 0.3, 2) * (quad[1] - quad[0])) / 4
        angle = rng.uniform(0, math.pi)
        normal = np.array([math.cos(angle), math.sin(angle)])
        far, along = normal * width, np.array([-normal[1], normal[0]]) * width
        pts = np.array([centre + along, centre + along + far, centre - along + far,
                        centre - along], np.int32)
        cv2.fillPoly(small, [pts], 1.0)
    small = cv2.GaussianBlur(small, (0, 0), rng.uniform(0.5, 3.0))
    light = 1 - np.float32(rng.uniform(0.35, 0.6)) * cv2.resize(small, (width, height))
    return u8(cv2.multiply(image, cv2.merge([light, light, light]), dtype=cv2.CV_8U))


def _glare(rng: np.random.Generator, image: Image, quad: NDArray[np.float64]) -> None:
    """A bright spot on the plate (in place; only the window around it is computed)."""
    height, width = image.shape[:2]
    x0, y0, x1, y1 = _bbox(quad)
    gx, gy = rng.uniform(x0, x1), rng.uniform(y0, y1)
    radius = (x1 - x0) * rng.uniform(0.08, 0.25)
    reach = int(radius * 3)
    left, top = max(0, int(gx) - reach), max(0, int(gy) - reach)
    right, bottom = min(width, int(gx) + reach), min(height, int(gy) + reach)
    ys, xs = np.ogrid[top:bottom, left:right]
    spot = rng.uniform(60, 130) * np.exp(-((xs - gx) ** 2 + (ys - gy) ** 2) / (2 * radius ** 2))
    region = image[top:bottom, left:right].astype(np.float32) + spot[:, :, None]
    image[top:bottom, left:right] = np.clip(region, 0, 255).astype(np.uint8)


def _motion_blur(rng: np.random.Generator, image: Image) -> Image:
    length = int(rng.integers(3, 8))
    kernel = np.zeros((length, length), np.float32)
    kernel[length // 2, :] = 1
    rot = cv2.getRotationMatrix2D(((length - 1) / 2, (length - 1) / 2), rng.uniform(0, 180), 1)
    kernel = cv2.warpAffine(kernel, rot, (length, length)).astype(np.float32)
    return u8(cv2.filter2D(image, -1, kernel / max(float(kernel.sum()), 1e-6)))
