"""Where plates are: rows of characters inside regions of plate colour or dense strokes.

1. Regions of interest, on a copy scaled to at most WORK_WIDTH pixels wide: blobs of the
   blue, yellow and green plate backgrounds (a blue plate on a blue car is one blob with the
   car: that is fine, it only bounds the search), and bands of dense vertical strokes (white
   and black plates, whose colours are everywhere, and coloured plates in poor light).
2. In each region, at full resolution: the characters, as connected components of the
   character colour (Otsu on the channel that separates it from that background), chained
   left to right by equal height, alignment and spacing. A chain of four or more is a row.
3. The row's place in the GA 36 layout (the wide gap after the second character tells where
   it is; otherwise the row ends at the last character) gives, for each character, its
   position in millimetres on the plate; a homography fitted to the characters' tops and
   bottoms maps the plate's outline into the image. That is the candidate's four corners:
   exact even when the plate's own edge is invisible against the car.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from hub.devices.plates.arrays import Array
from hub.devices.plates.layout import (
    CHAR_HEIGHT_MM,
    CHAR_TOP_MM,
    NEW_ENERGY,
    PLATE_HEIGHT_MM,
    STANDARD,
    Layout,
)

ROW_WIDTH = 640        # rows of characters are looked for at this width (or less)
REGION_WIDTH = 320     # regions of interest at this one
MIN_REGION_WORK = 12   # px at region scale
MIN_CHAR_PX = 8        # character height at row scale
MAX_CANDIDATES = 10
MAX_REGIONS = 14

# HSV ranges (OpenCV hue 0-180) of plate backgrounds, generous for dusk and glare.
_COLOR_RANGES: dict[str, tuple[tuple[int, int, int], tuple[int, int, int]]] = {
    "blue": ((98, 90, 40), (128, 255, 255)),
    "yellow": ((12, 90, 60), (34, 255, 255)),
    "green": ((38, 40, 50), (90, 255, 255)),
}
# For each background: how its characters look (bright or dark) in which channel.
BRIGHT, DARK = "bright", "dark"


@dataclass(frozen=True, slots=True)
class Candidate:
    corners: Array  # 4×2, TL TR BR BL, full-image pixels
    color_hint: str | None         # the background whose region found it, None for strokes
    area: float                    # of the character row, for ordering


@dataclass(frozen=True, slots=True)
class _Region:
    x0: int
    y0: int
    x1: int
    y1: int
    color: str | None


def find_candidates(image: Array) -> list[Candidate]:
    scale = min(1.0, ROW_WIDTH / image.shape[1])
    rows_image = _scaled(image, scale)
    found: list[Candidate] = []
    for region in find_regions(rows_image):
        found.extend(_rows_in(rows_image, region))
        if region.color is not None:
            found.extend(_outline_in(rows_image, region))
    found.sort(key=lambda c: -c.area)
    return [Candidate((c.corners / scale).astype(np.float32), c.color_hint, c.area)
            for c in _distinct(found)[:MAX_CANDIDATES]]


def _scaled(image: Array, scale: float) -> Array:
    if scale == 1.0:
        return image
    h, w = image.shape[:2]
    return cv2.resize(image, (round(w * scale), round(h * scale)), interpolation=cv2.INTER_AREA)


def find_regions(image: Array) -> list[_Region]:
    scale = min(1.0, REGION_WIDTH / image.shape[1])
    small = _scaled(image, scale)
    hsv = cv2.cvtColor(small, cv2.COLOR_BGR2HSV)
    close = cv2.getStructuringElement(cv2.MORPH_RECT, (5, 3))
    regions: list[tuple[float, _Region]] = []
    for color, (low, high) in _COLOR_RANGES.items():
        mask = cv2.inRange(hsv, np.array(low, np.uint8), np.array(high, np.uint8))
        mask = cv2.morphologyEx(mask, cv2.MORPH_CLOSE, close)
        regions.extend(_boxes(mask, color, scale, image.shape, max_aspect=12.0))
    regions.extend(_boxes(_stroke_mask(small), None, scale, image.shape, max_aspect=9.0))
    regions.sort(key=lambda r: -r[0])
    return [r for _, r in regions[:MAX_REGIONS]]


def _stroke_mask(small: Array) -> Array:
    grey = cv2.cvtColor(small, cv2.COLOR_BGR2GRAY)
    grad = cv2.convertScaleAbs(cv2.Sobel(grey, cv2.CV_16S, 1, 0, ksize=3))
    _, mask = cv2.threshold(grad, 0, 255, cv2.THRESH_BINARY | cv2.THRESH_OTSU)
    mask = cv2.morphologyEx(mask, cv2.MORPH_CLOSE,
                            cv2.getStructuringElement(cv2.MORPH_RECT, (7, 3)))
    return cv2.morphologyEx(mask, cv2.MORPH_OPEN,
                            cv2.getStructuringElement(cv2.MORPH_RECT, (5, 3)))


def _boxes(mask: Array, color: str | None, scale: float,
           shape: tuple[int, ...], max_aspect: float) -> list[tuple[float, _Region]]:
    contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    out = []
    h, w = shape[:2]
    for contour in contours:
        x, y, bw, bh = cv2.boundingRect(contour)
        if bw < MIN_REGION_WORK or bh < 4 or bw > max_aspect * bh * 3 or bh > 3 * bw:
            continue
        area = cv2.contourArea(contour)
        if color is None and not (1.5 <= bw / bh <= max_aspect and area > 0.4 * bw * bh):
            continue
        # A colour blob may be part of its plate (a green plate is white at the top).
        pad_x, pad_y = (bw * 0.08 + 2, bh * 0.15 + 2) if color is None else (bw * 0.15 + 2,
                                                                             bh * 0.6 + 2)
        region = _Region(max(0, int((x - pad_x) / scale)), max(0, int((y - pad_y) / scale)),
                         min(w, int((x + bw + pad_x) / scale)),
                         min(h, int((y + bh + pad_y) / scale)), color)
        out.append((float(area), region))
    return out


def _outline_in(image: Array, region: _Region) -> list[Candidate]:
    """The plate's own outline when its colour stands apart from what is around it."""
    assert region.color is not None
    roi = image[region.y0:region.y1, region.x0:region.x1]
    low, high = _COLOR_RANGES[region.color]
    mask = cv2.inRange(cv2.cvtColor(roi, cv2.COLOR_BGR2HSV), np.array(low, np.uint8),
                       np.array(high, np.uint8))
    mask = cv2.morphologyEx(mask, cv2.MORPH_CLOSE,
                            cv2.getStructuringElement(cv2.MORPH_RECT, (9, 5)))
    contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    out = []
    for contour in contours:
        rect = cv2.minAreaRect(contour)
        (rw, rh) = rect[1]
        long_side, short_side = max(rw, rh), min(rw, rh)
        if short_side < MIN_CHAR_PX or not 2.2 <= long_side / short_side <= 4.6:
            continue
        area = cv2.contourArea(contour)
        if area < 0.7 * long_side * short_side:
            continue
        corners = _quad(contour, rect) + np.array([region.x0, region.y0], np.float32)
        out.append(Candidate(corners.astype(np.float32), region.color, float(area) * 0.5))
    return out


def _quad(contour: Array, rect: tuple) -> Array:  # type: ignore[type-arg]
    """Four corners: the hull simplified to a quadrilateral when it is one (a plate seen at
    an angle is a trapezoid, which the minimum-area rectangle would cut), else that
    rectangle."""
    hull = cv2.convexHull(contour)
    perimeter = cv2.arcLength(hull, True)
    for eps in (0.02, 0.04, 0.06):
        approx = cv2.approxPolyDP(hull, eps * perimeter, True)
        if len(approx) == 4:
            return order_corners(approx.reshape(4, 2).astype(np.float32))
    return order_corners(cv2.boxPoints(rect).astype(np.float32))


def order_corners(pts: Array) -> Array:
    """TL, TR, BR, BL of a wide quadrilateral rolled less than 45°."""
    s = pts.sum(axis=1)
    d = pts[:, 1] - pts[:, 0]
    return np.array([pts[np.argmin(s)], pts[np.argmin(d)], pts[np.argmax(s)],
                     pts[np.argmax(d)]], dtype=np.float32)


def _channels(roi: Array, color: str | None) -> list[tuple[str | None, Array]]:
    """Binary images of the characters in a region (255 = character), one per way the
    plate in it may be coloured. Dark ink is looked for in the brightest channel: every
    light background (yellow, the green gradient, white) is bright there, while in the
    darkest channel a green plate's lower half is as dark as its ink. A region of one colour
    may hold a plate of another (a green plate on a blue car): the other polarity is always
    tried too, colour unknown."""
    b, g, r = cv2.split(roi)
    brightest = cv2.max(cv2.max(b, g), r)
    out: list[tuple[str | None, Array]] = []
    if color == "blue":
        out.append((color, _otsu(r, bright=True)))  # white on blue: red separates them
        out.append((None, _otsu(brightest, bright=False)))
    elif color in ("yellow", "green"):
        out.append((color, _otsu(brightest, bright=False)))
        out.append((None, _otsu(cv2.cvtColor(roi, cv2.COLOR_BGR2GRAY), bright=True)))
    else:
        out.append((None, _otsu(cv2.cvtColor(roi, cv2.COLOR_BGR2GRAY), bright=True)))
        out.append((None, _otsu(brightest, bright=False)))
    return out


def _otsu(channel: Array, bright: bool) -> Array:
    """Ink against its neighbourhood (a block about half the region high): a shadow or a
    glare across the plate moves a global threshold off the characters on one side."""
    block = int(np.clip(channel.shape[0] * 0.35, 9, 61)) | 1
    kind = cv2.THRESH_BINARY if bright else cv2.THRESH_BINARY_INV
    mask: Array = cv2.adaptiveThreshold(channel, 255, cv2.ADAPTIVE_THRESH_MEAN_C, kind, block,
                                        -6 if bright else 6)
    return mask


def _rows_in(image: Array, region: _Region) -> list[Candidate]:
    roi = image[region.y0:region.y1, region.x0:region.x1]
    if roi.shape[0] < MIN_CHAR_PX or roi.shape[1] < 2 * MIN_CHAR_PX:
        return []
    out = []
    for hint, binary in _channels(roi, region.color):
        count, _, stats, _ = cv2.connectedComponentsWithStats(binary, connectivity=8)
        boxes = stats[1:count, :4].astype(np.float64)
        areas = stats[1:count, 4].astype(np.float64)
        keep = ((boxes[:, 3] >= MIN_CHAR_PX) & (boxes[:, 3] <= roi.shape[0])
                & (boxes[:, 2] <= boxes[:, 3] * 1.1) & (boxes[:, 3] <= boxes[:, 2] * 9)
                & (areas >= 0.12 * boxes[:, 2] * boxes[:, 3]))
        chars = boxes[keep]
        chars[:, 0] += region.x0
        chars[:, 1] += region.y0
        for chain in _chains(chars):
            for layout in _layouts_for(hint):
                corners = None
                # The strokes of a province character may have joined the row's start.
                for skip in range(min(3, len(chain) - 3)):
                    corners = _plate_corners(chars[chain[skip:]], layout)
                    if corners is not None:
                        break
                if corners is not None:
                    row_area = float(np.sum(chars[chain, 2] * chars[chain, 3]))
                    out.append(Candidate(corners, hint, row_area))
    return out


def _layouts_for(hint: str | None) -> tuple[Layout, ...]:
    if hint == "green":
        return (NEW_ENERGY,)
    if hint in ("blue", "yellow"):
        return (STANDARD,)
    return (STANDARD, NEW_ENERGY)


def _chains(chars: Array) -> list[list[int]]:
    """Runs of four or more boxes left to right, each like the one before: height within
    20 %, centre within a quarter height vertically, the next centre 0.45-1.45 heights on
    (characters are 0.58-0.63 heights apart, 0.88-1.02 across the gap)."""
    if len(chars) < 4:
        return []
    # Plain floats: this loop runs per region and channel, numpy scalars would dominate it.
    cx = (chars[:, 0] + chars[:, 2] / 2).tolist()
    cy = (chars[:, 1] + chars[:, 3] / 2).tolist()
    hh = chars[:, 3].tolist()
    order = sorted(range(len(cx)), key=cx.__getitem__)
    used: set[int] = set()
    chains = []
    for start in order:
        if start in used:
            continue
        chain = [start]
        while True:
            last = chain[-1]
            x, y, h = cx[last], cy[last], hh[last]
            best, best_dx = -1, 1e9
            for j in order:
                dx = cx[j] - x
                if dx < 0.45 * h or dx > 1.45 * h or dx >= best_dx:
                    continue
                if abs(hh[j] / h - 1) > 0.2 or abs(cy[j] - y) > 0.25 * h:
                    continue
                best, best_dx = j, dx
            if best < 0:
                break
            chain.append(best)
        if len(chain) >= 4:
            chains.append(chain)
            used.update(chain)
    return chains


def _centres_mm(layout: Layout) -> Array:
    return np.array([left + width / 2 for left, width in layout.cells_mm])


def _positions(cx: Array, layout: Layout) -> list[int] | None:
    """Which layout position each character of a row is: walking the row, each step is one
    position on (a pitch, or the wide gap after the second), or two or three where a
    character was lost (glare, a broken stroke); the scale follows the steps, since the far
    end of a turned plate is smaller. Of the start positions that fit, the one ending at the
    plate's last character wins a near tie (a row seen only after the gap fits anywhere)."""
    mm = _centres_mm(layout).tolist()
    n = len(mm)
    steps = np.diff(cx).tolist()
    pitch_mm = mm[3] - mm[2]
    pitch_px = sorted(steps)[int(0.3 * (len(steps) - 1))]
    fits: list[tuple[float, int, list[int]]] = []
    for start in range(n - 1):
        scale = pitch_px / pitch_mm
        j, positions, error = start, [start], 0.0
        for step in steps:
            options = [(abs(step - scale * (mm[j + a] - mm[j])) / (scale * pitch_mm), a)
                       for a in (1, 2, 3) if j + a < n]
            if not options:
                break
            miss, advance = min(options)
            if miss > 0.3:
                break
            scale = 0.6 * scale + 0.4 * step / (mm[j + advance] - mm[j])
            error += miss + 0.15 * (advance - 1)
            j += advance
            positions.append(j)
        else:
            fits.append((error, start, positions))
    if not fits:
        return None
    least = min(f[0] for f in fits)
    near = [f for f in fits if f[0] <= least + 0.15]
    ending = [f for f in near if f[2][-1] == n - 1]
    return min(ending or near)[2]


def _plate_corners(row: Array, layout: Layout) -> Array | None:
    """The plate's outline from a row of character boxes, placed in the layout."""
    cx = row[:, 0] + row[:, 2] / 2
    positions = _positions(cx, layout)
    if positions is None:
        return None
    mm_x = _centres_mm(layout)[positions]
    # The first and the last character's top and bottom: four points, one homography.
    first, last = 0, len(row) - 1
    src = np.array([[mm_x[first], CHAR_TOP_MM], [mm_x[last], CHAR_TOP_MM],
                    [mm_x[last], CHAR_TOP_MM + CHAR_HEIGHT_MM],
                    [mm_x[first], CHAR_TOP_MM + CHAR_HEIGHT_MM]], np.float32)
    dst = np.array([[cx[first], row[first, 1]], [cx[last], row[last, 1]],
                    [cx[last], row[last, 1] + row[last, 3]],
                    [cx[first], row[first, 1] + row[first, 3]]], np.float32)
    matrix = cv2.getPerspectiveTransform(src, dst)
    outline = np.array([[[0, 0], [layout.width_mm, 0], [layout.width_mm, PLATE_HEIGHT_MM],
                         [0, PLATE_HEIGHT_MM]]], np.float64)
    corners: Array = cv2.perspectiveTransform(outline, matrix)[0].astype(np.float32)
    return corners if bool(np.all(np.isfinite(corners))) else None


def _distinct(candidates: list[Candidate]) -> list[Candidate]:
    """Drop candidates whose outline is nearly the same as a bigger one's (the same row
    found from a colour region and a stroke band)."""
    kept: list[Candidate] = []
    for cand in candidates:
        h = float(np.linalg.norm(cand.corners[3] - cand.corners[0])) or 1.0
        if all(float(np.abs(cand.corners - k.corners).max()) > 0.15 * h
               or (k.color_hint is None and cand.color_hint is not None) for k in kept):
            kept.append(cand)
    return kept
