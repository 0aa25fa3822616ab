"""Draw Chinese licence plates as they look from the front (GA 36-2018 proportions).

Geometry in millimetres, from GA 36: a plate is 140 mm high, its characters 90 mm high from
25 mm below the top edge.
- blue, yellow, white, black: 440 mm wide, seven characters 45 mm wide, 12 mm apart, except a
  34 mm gap after the second that holds the separator dot (10 mm);
- green (small new-energy car): 480 mm wide, eight characters, the province 45 mm and the rest
  43 mm wide, 9 mm apart, with a 49 mm gap and the dot after the second.
Colours: white on blue, black on yellow, black on a white-to-green gradient, black on white
(a police plate's trailing 警 in red), white on black (港, 澳, 领, 使). Each plate has a frame
line, rounded corners and two rivets in the top margin.

Everything random comes from the numpy Generator passed in: the same seed draws the same plate.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
from numpy.typing import NDArray

from hub.devices.plates.glyphs import glyph
from hub.domain.parking.plates import DIGITS, LETTERS, PROVINCES

Image = NDArray[np.uint8]
COLORS = ("blue", "green", "yellow", "white", "black")
PLATE_HEIGHT_MM = 140.0
CHAR_TOP_MM = 25.0
CHAR_HEIGHT_MM = 90.0
DOT_MM = 10.0
# Which special endings each colour carries: 学 (driving school) and 挂 (trailer) on yellow,
# 警 on the white police plate, the cross-border and consular ones on black.
SPECIALS_BY_COLOR = {"blue": "", "green": "", "yellow": "学挂", "white": "警", "black": "港澳领使"}
_COLOR_WEIGHTS = {"blue": 0.5, "green": 0.25, "yellow": 0.12, "white": 0.06, "black": 0.07}

# BGR. The backgrounds are the painted colours in daylight; scenes shift them further.
_BACKGROUND = {"blue": (170, 68, 18), "yellow": (24, 190, 244), "white": (238, 240, 238),
               "black": (24, 22, 22)}
_GREEN_TOP, _GREEN_BOTTOM = (236, 248, 238), (96, 196, 60)
_INK = {"blue": (246, 246, 246), "green": (20, 20, 20), "yellow": (22, 22, 22),
        "white": (22, 22, 22), "black": (240, 240, 240)}
_POLICE_RED = (30, 24, 200)


def u8(image: NDArray[np.generic]) -> Image:
    """cv2 returns loosely typed arrays; every image here is uint8."""
    return image.astype(np.uint8, copy=False)


@dataclass(frozen=True)
class PlateSpec:
    text: str  # normal form: no separator, e.g. "京A12345"
    color: str  # blue | green | yellow | white | black

    def __post_init__(self) -> None:
        if self.color not in COLORS:
            raise ValueError(f"color must be one of {COLORS}, not {self.color!r}")
        want = 8 if self.color == "green" else 7
        if len(self.text) != want:
            raise ValueError(f"a {self.color} plate has {want} characters, not {self.text!r}")


@dataclass(frozen=True)
class Layout:
    width_mm: float
    cells_mm: tuple[tuple[float, float], ...]  # (left, width) of each character, in mm
    dot_mm: tuple[float, float]  # centre of the separator dot (x, y)

    @property
    def height_mm(self) -> float:
        return PLATE_HEIGHT_MM


def _layout(width: float, margin: float, widths: list[float], spacing: float,
            gap: float) -> Layout:
    cells, x = [], margin
    dot_x = 0.0
    for i, w in enumerate(widths):
        cells.append((x, w))
        if i == 1:
            dot_x = x + w + gap / 2
        x += w + (gap if i == 1 else spacing)
    return Layout(width, tuple(cells), (dot_x, CHAR_TOP_MM + CHAR_HEIGHT_MM / 2))


STANDARD = _layout(440.0, 15.5, [45.0] * 7, 12.0, 34.0)
NEW_ENERGY = _layout(480.0, 15.5, [45.0] + [43.0] * 7, 9.0, 49.0)


def layout_of(color: str) -> Layout:
    """Where a plate of this colour puts its characters (mm from the top-left corner)."""
    return NEW_ENERGY if color == "green" else STANDARD


def random_plate(rng: np.random.Generator, color: str | None = None,
                 special: bool | None = None) -> PlateSpec:
    """A plausible plate: the colour's length and, where the colour has them, a special
    ending (always on white and black plates, sometimes on yellow ones). special=True asks
    for one (choosing a colour that has them when none is given); special=False forbids it."""
    if color is None:
        choices = [c for c in COLORS if special is not True or SPECIALS_BY_COLOR[c]]
        if special is False:
            choices = [c for c in choices if c in ("blue", "green", "yellow")]
        weights = np.array([_COLOR_WEIGHTS[c] for c in choices])
        color = str(rng.choice(choices, p=weights / weights.sum()))
    if color not in COLORS:
        raise ValueError(f"color must be one of {COLORS}, not {color!r}")
    endings = SPECIALS_BY_COLOR[color]
    if special and not endings:
        raise ValueError(f"a {color} plate has no special ending")
    if special is None:
        special = color in ("white", "black") or (bool(endings) and rng.random() < 0.25)
    if special is False and color in ("white", "black"):
        endings = ""  # a plain white or black plate: allowed if asked for explicitly

    def pick(alphabet: str, n: int = 1) -> str:
        return "".join(alphabet[int(i)] for i in rng.integers(0, len(alphabet), n))

    def serial_char() -> str:
        return pick(DIGITS) if rng.random() < 0.65 else pick(LETTERS)

    province = pick(PROVINCES)
    authority = pick(LETTERS)
    if color == "black" and special and rng.random() < 0.5:
        province, authority = "粤", "Z"  # the cross-border plates of Guangdong
    if color == "green":
        if rng.random() < 0.8:  # small car: D (electric) or F (hybrid) first
            serial = pick("DF") + serial_char() + pick(DIGITS, 4)
        else:  # large vehicle: D or F last
            serial = pick(DIGITS, 5) + pick("DF")
    elif special and endings:
        serial = "".join(serial_char() for _ in range(4)) + pick(endings)
    else:
        serial = "".join(serial_char() for _ in range(5))
    return PlateSpec(province + authority + serial, color)


def _background(color: str, height: int, width: int) -> Image:
    if color != "green":
        return np.full((height, width, 3), _BACKGROUND[color], np.uint8)
    t = np.linspace(0.0, 1.0, height, dtype=np.float32)[:, None] ** 1.3
    top, bottom = np.array(_GREEN_TOP, np.float32), np.array(_GREEN_BOTTOM, np.float32)
    rows = (top[None, :] * (1 - t) + bottom[None, :] * t).astype(np.uint8)
    return np.repeat(rows[:, None, :], width, axis=1)


def _paint(image: Image, coverage: NDArray[np.uint8], left: int, top: int,
           ink: tuple[int, int, int]) -> None:
    h, w = coverage.shape
    region = image[top:top + h, left:left + w].astype(np.float32)
    alpha = coverage.astype(np.float32)[:, :, None] / 255.0
    region = region * (1 - alpha) + np.array(ink, np.float32) * alpha
    image[top:top + h, left:left + w] = region.astype(np.uint8)


def plate_mask(spec: PlateSpec, *, height_px: int = 140) -> Image:
    """The plate's outline (rounded corners) at render_plate's size: 255 inside, 0 outside."""
    layout = layout_of(spec.color)
    scale = height_px / PLATE_HEIGHT_MM
    width = round(layout.width_mm * scale)
    mask = np.zeros((height_px, width), np.uint8)
    _rounded_rect(mask, 0, 0, width - 1, height_px - 1, max(1, round(6 * scale)), 255, -1)
    return mask


def _rounded_rect(image: Image, x0: int, y0: int, x1: int, y1: int, radius: int,
                  color: int | tuple[int, int, int], thickness: int) -> None:
    """A rounded rectangle outline (thickness > 0) or filled (thickness -1)."""
    r = min(radius, (x1 - x0) // 2, (y1 - y0) // 2)
    if thickness < 0:
        cv2.rectangle(image, (x0 + r, y0), (x1 - r, y1), color, -1)
        cv2.rectangle(image, (x0, y0 + r), (x1, y1 - r), color, -1)
        for cx, cy in ((x0 + r, y0 + r), (x1 - r, y0 + r), (x1 - r, y1 - r), (x0 + r, y1 - r)):
            cv2.circle(image, (cx, cy), r, color, -1, cv2.LINE_AA)
        return
    cv2.line(image, (x0 + r, y0), (x1 - r, y0), color, thickness, cv2.LINE_AA)
    cv2.line(image, (x0 + r, y1), (x1 - r, y1), color, thickness, cv2.LINE_AA)
    cv2.line(image, (x0, y0 + r), (x0, y1 - r), color, thickness, cv2.LINE_AA)
    cv2.line(image, (x1, y0 + r), (x1, y1 - r), color, thickness, cv2.LINE_AA)
    for (cx, cy), start in (((x0 + r, y0 + r), 180), ((x1 - r, y0 + r), 270),
                            ((x1 - r, y1 - r), 0), ((x0 + r, y1 - r), 90)):
        cv2.ellipse(image, (cx, cy), (r, r), 0, start, start + 90, color, thickness,
                    cv2.LINE_AA)


def render_plate(spec: PlateSpec, *, height_px: int = 140) -> Image:
    """The plate seen straight on, BGR, height_px high (width by the plate's proportions:
    440/140 or 480/140). The corners outside the rounded outline are plate colour too; use
    plate_mask for the outline."""
    if height_px < 14:
        raise ValueError(f"height_px must be at least 14, not {height_px}")
    layout = layout_of(spec.color)
    scale = height_px / PLATE_HEIGHT_MM
    width = round(layout.width_mm * scale)
    image = _background(spec.color, height_px, width)
    ink = _INK[spec.color]
    # The frame: a line about 1.5 mm wide, 2.5 mm in from the edge, in the ink colour.
    inset, line = max(1, round(2.5 * scale)), max(1, round(1.5 * scale))
    _rounded_rect(image, inset, inset, width - 1 - inset, height_px - 1 - inset,
                  max(1, round(5 * scale)), ink, line)
    top = round(CHAR_TOP_MM * scale)
    char_h = round(CHAR_HEIGHT_MM * scale)
    for i, (char, (left_mm, width_mm)) in enumerate(zip(spec.text, layout.cells_mm,
                                                        strict=True)):
        left = round(left_mm * scale)
        char_w = max(1, round((left_mm + width_mm) * scale) - left)
        coverage = u8(cv2.resize(glyph(char), (char_w, char_h), interpolation=cv2.INTER_AREA))
        police = spec.color == "white" and char == "警" and i == len(spec.text) - 1
        _paint(image, coverage, left, top, _POLICE_RED if police else ink)
    dot_x, dot_y = layout.dot_mm
    cv2.circle(image, (round(dot_x * scale), round(dot_y * scale)),
               max(1, round(DOT_MM / 2 * scale)), ink, -1, cv2.LINE_AA)
    _rivets(image, layout, scale)
    return image


def _rivets(image: Image, layout: Layout, scale: float) -> None:
    """Two mounting rivets in the top margin, over the gaps after the 2nd and the 6th cell."""
    radius = max(1, round(4.5 * scale))
    y = round(CHAR_TOP_MM / 2 * scale)
    cells = layout.cells_mm
    for i in (1, len(cells) - 2):
        left, width = cells[i]
        x = round((left + width + (cells[i + 1][0] - left - width) / 2) * scale)
        cv2.circle(image, (x, y), radius, (150, 150, 150), -1, cv2.LINE_AA)
        cv2.circle(image, (x, y), radius, (90, 90, 90), max(1, round(scale)), cv2.LINE_AA)
        cv2.circle(image, (x - radius // 3, y - radius // 3), max(1, radius // 3),
                   (215, 215, 215), -1, cv2.LINE_AA)


def encode_jpeg(image: Image, quality: int = 85) -> bytes:
    ok, buffer = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, int(quality)])
    if not ok:
        raise ValueError("the image could not be encoded as JPEG")
    return buffer.tobytes()
