"""The character cells of a rectified plate: where GA 36 puts them, shifted and scaled to
where the ink is (the corners found in a snapshot are a few pixels off)."""

from __future__ import annotations

import cv2
import numpy as np

from hub.devices.plates.arrays import Array
from hub.devices.plates.layout import CHAR_HEIGHT_MM, CHAR_TOP_MM, PX_PER_MM, Layout

CELL_W, CELL_H = 24, 48  # what the classifier sees
_SHIFTS = np.arange(-14, 15)
_SCALES = (0.88, 0.91, 0.94, 0.97, 1.0, 1.03, 1.06, 1.09, 1.12)


def ink(channel: Array) -> Array:
    """Characters as 1, background as 0 (Otsu over the plate)."""
    _, mask = cv2.threshold(channel, 0, 1, cv2.THRESH_BINARY | cv2.THRESH_OTSU)
    return mask


def fit_rows(mask: Array) -> tuple[int, int]:
    """Top and bottom of the character row: the expected band, moved and scaled to the rows
    with ink, scoring ink inside the band against ink in the four rows either side."""
    h, w = mask.shape
    rows = mask[:, w // 20: w - w // 20].mean(axis=1, dtype=np.float32)
    cum = np.concatenate([[0.0], np.cumsum(rows)])
    top0, height0 = CHAR_TOP_MM * PX_PER_MM, CHAR_HEIGHT_MM * PX_PER_MM
    heights = np.array([0.9, 0.95, 1.0, 1.05, 1.1])[:, None] * height0
    tops = top0 + np.arange(-10, 11)[None, :]
    a = np.clip(np.round(tops), 0, h).astype(np.int64) + np.zeros_like(heights, np.int64)
    b = np.clip(np.round(tops + heights), 0, h).astype(np.int64)
    inside = cum[b] - cum[a]
    outside = (cum[a] - cum[np.clip(a - 4, 0, h)]) + (cum[np.clip(b + 4, 0, h)] - cum[b])
    score = inside - 2.0 * outside
    score[(tops + heights > h + 2) | (tops < -2) + np.zeros_like(score, bool)] = -1e9
    k = np.unravel_index(int(np.argmax(score)), score.shape)
    return int(a[k]), int(b[k])


def fit_columns(mask: Array, band: tuple[int, int],
                layout: Layout) -> list[tuple[int, int]]:
    """Left and right of each character: the layout shifted and scaled to the columns with
    ink, scoring ink density inside the cells against ink density between them."""
    w = mask.shape[1]
    cols = mask[band[0]:band[1]].mean(axis=0, dtype=np.float32)
    cum = np.concatenate([[0.0], np.cumsum(cols)])
    centre = w / 2
    left_mm = np.array([c[0] for c in layout.cells_mm]) * PX_PER_MM
    width_mm = np.array([c[1] for c in layout.cells_mm]) * PX_PER_MM
    scales = np.array(_SCALES)[:, None, None]
    shifts = _SHIFTS[None, :, None].astype(np.float64)
    left = centre + (left_mm[None, None, :] - centre) * scales + shifts
    right = left + width_mm[None, None, :] * scales
    li = np.clip(np.round(left), 0, w).astype(np.int64)
    ri = np.clip(np.round(right), 0, w).astype(np.int64)
    inside = (cum[ri] - cum[li]).sum(axis=2)
    covered = (ri - li).sum(axis=2)
    span = ri[:, :, -1] - li[:, :, 0]
    outside = (cum[ri[:, :, -1]] - cum[li[:, :, 0]]) - inside
    score = inside / np.maximum(covered, 1) - 1.5 * outside / np.maximum(span - covered, 1)
    score[(left[:, :, 0] < -4) | (right[:, :, -1] > w + 4)] = -1e9
    k = np.unravel_index(int(np.argmax(score)), score.shape)
    return [(int(a), int(b)) for a, b in
            zip(np.round(left[k]).astype(int), np.round(right[k]).astype(int), strict=True)]


def cells(channel: Array, layout: Layout
          ) -> tuple[list[Array], list[tuple[int, int]], tuple[int, int]]:
    """Each character cell of the bright-ink channel at CELL_W×CELL_H, with where the
    characters were found in the rectified plate: (left, right) of each, and the row's
    (top, bottom)."""
    mask = ink(channel)
    top, bottom = fit_rows(mask)
    columns = fit_columns(mask, (top, bottom), layout)
    h, w = channel.shape
    crops = []
    pad_y = 2
    for left, right in columns:
        x0, x1 = max(0, left - 1), min(w, right + 1)
        y0, y1 = max(0, top - pad_y), min(h, bottom + pad_y)
        crop = channel[y0:y1, x0:x1]
        if crop.size == 0:
            crop = np.zeros((CELL_H, CELL_W), np.uint8)
        crops.append(cv2.resize(crop, (CELL_W, CELL_H), interpolation=cv2.INTER_AREA))
    return crops, columns, (top, bottom)


def outline(layout: Layout, columns: list[tuple[int, int]], band: tuple[int, int]) -> Array:
    """The plate's outline in the rectified image (4×2, TL TR BR BL), moved and scaled as the
    characters were found to be: corrects corners that were a few pixels off."""
    first_mm, last_mm = layout.cells_mm[0], layout.cells_mm[-1]
    nominal_left, nominal_right = first_mm[0] * PX_PER_MM, sum(last_mm) * PX_PER_MM
    nominal_top = CHAR_TOP_MM * PX_PER_MM
    nominal_bottom = (CHAR_TOP_MM + CHAR_HEIGHT_MM) * PX_PER_MM
    sx = (columns[-1][1] - columns[0][0]) / (nominal_right - nominal_left)
    sy = (band[1] - band[0]) / (nominal_bottom - nominal_top)
    ox, oy = columns[0][0] - sx * nominal_left, band[0] - sy * nominal_top
    w, h = layout.size_px
    xs, ys = (ox, ox + sx * (w - 1)), (oy, oy + sy * (h - 1))
    return np.array([[xs[0], ys[0]], [xs[1], ys[0]], [xs[1], ys[1]], [xs[0], ys[1]]],
                    np.float32)
