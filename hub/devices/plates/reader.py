"""Read the plates in a snapshot: locate, rectify, segment, classify, check the grammar.

    readings = read_plates(jpeg_bytes)      # or a BGR array
    for r in readings: print(r.text, r.color, r.confidence)

A reading's confidence is the least confident of its characters (a plate is only as right
as its worst character). What keeps signs, grilles and banners from being read as plates is
the JUNK class (any cell more likely junk than not rejects the candidate) and the grammar;
readings under MIN_CONFIDENCE are dropped too. The caller sets its own, higher thresholds
(read, or flag for a guard) on the confidence returned.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

import cv2
import numpy as np

from hub.devices.plates.arrays import Array
from hub.devices.plates.classify import (
    CLASSES,
    INDEX,
    JUNK,
    CharClassifier,
    choose,
    inputs,
    position_forms,
    position_masks,
)
from hub.devices.plates.decode import check_array, decode_image
from hub.devices.plates.layout import LAYOUTS, NEW_ENERGY, STANDARD, Layout
from hub.devices.plates.locate import Candidate, find_candidates
from hub.devices.plates.rectify import character_channel, plate_color, rectify, to_image
from hub.devices.plates.segment import CELL_H, CELL_W, outline
from hub.devices.plates.segment import cells as cut_cells
from hub.domain.parking.plates import is_plate

MIN_CONFIDENCE = 0.3
WIDEN = 0.06  # each candidate is also read stretched by this share of its width at either end
OVERLAP = 0.3  # two readings whose boxes overlap more than this are one plate


@dataclass(slots=True)
class PlateReading:
    text: str
    color: str
    confidence: float
    char_confidences: tuple[float, ...]
    corners: Array  # 4×2 TL TR BR BL, image pixels
    crop: Array = field(repr=False)  # the rectified plate, BGR

    @property
    def plate(self) -> str:
        """The plate text, under the name the gate flow uses."""
        return self.text

    @property
    def crop_jpeg(self) -> bytes:
        """The rectified plate as JPEG, for the evidence kept with a charge."""
        ok, buf = cv2.imencode(".jpg", self.crop, [cv2.IMWRITE_JPEG_QUALITY, 90])
        return buf.tobytes() if ok else b""


class PlateReader:
    """The pipeline with its classifier loaded once (a worker process holds one)."""

    def __init__(self, classifier: CharClassifier | None = None,
                 min_confidence: float = MIN_CONFIDENCE) -> None:
        self.classifier = classifier or CharClassifier.load()
        self.min_confidence = min_confidence
        # cv2.dnn sets its graph up on the first forward (hundreds of ms): not in a read.
        self.classifier.probabilities(inputs([np.zeros((CELL_H, CELL_W), np.uint8)]))

    def read(self, image: bytes | Array) -> list[PlateReading]:
        """Every plate read in the image, most confident first. Raises PlateImageRejected
        for payloads that are not a snapshot."""
        bgr = check_array(image) if isinstance(image, np.ndarray) else decode_image(bytes(image))
        readings = []
        for candidate in find_candidates(bgr):
            reading = self.read_candidate(bgr, candidate)
            if reading is not None and reading.confidence >= self.min_confidence:
                readings.append(reading)
        return _distinct(readings)

    def read_candidate(self, bgr: Array, candidate: Candidate
                       ) -> PlateReading | None:
        best: PlateReading | None = None
        best_view: PlateView | None = None
        views = plate_views(bgr, candidate.corners, candidate.color_hint)
        views += plate_views(bgr, widened(candidate.corners), candidate.color_hint)
        for view in views:
            reading = self._read_view(view)
            if reading is not None and (best is None or _likelihood(reading) > _likelihood(best)):
                best, best_view = reading, view
        if best is not None and best_view is not None:
            # The evidence crop, cut again along the corners the characters corrected.
            best.crop = rectify(bgr, best.corners, best_view.layout)
        return best

    def _read_view(self, view: PlateView) -> PlateReading | None:
        probs = self.classifier.probabilities(inputs(view.cells))
        if bool(np.any(probs[:, INDEX[JUNK]] > 0.5)):
            return None
        best: PlateReading | None = None
        anywhere = position_masks(view.layout.length)
        for form in position_forms(view.layout.length, view.color):
            text, confs = [], []
            for row, allowed, possible in zip(probs, form, anywhere, strict=True):
                choice, confidence = choose(row, allowed, possible)
                text.append(CLASSES[choice])
                confs.append(confidence)
            plate_text = "".join(text)
            reading = PlateReading(plate_text, view.color, min(confs), tuple(confs),
                                   view.corners, view.plate)
            if is_plate(plate_text) and (best is None
                                         or _likelihood(reading) > _likelihood(best)):
                best = reading
        return best


@dataclass(slots=True)
class PlateView:
    """One way to read a candidate: its colour, layout, front view and character cells."""
    color: str
    layout: Layout
    plate: Array
    cells: list[Array]
    corners: Array  # the plate's outline in the image, as its characters place it


def plate_views(bgr: Array, corners: Array,
                color_hint: str | None = None) -> list[PlateView]:
    """The candidate rectified and cut into cells, once per layout its colour allows (a
    pale green plate in low light looks white: both are tried). The trainer cuts its
    samples with this same function."""
    if not _sound(corners):
        return []
    probe = rectify(bgr, corners, STANDARD)
    color = plate_color(probe)
    layouts: tuple[Layout, ...] = (NEW_ENERGY,) if color == "green" else (STANDARD,)
    if color == "white" or (color_hint == "green" and color != "green"):
        layouts = LAYOUTS
    views = []
    for layout in layouts:
        plate = probe if layout is STANDARD else rectify(bgr, corners, layout)
        view_color = "green" if layout is NEW_ENERGY else color
        crops, columns, band = cut_cells(character_channel(plate, view_color), layout)
        if len(crops) == layout.length:
            refined = to_image(outline(layout, columns, band), corners, layout)
            views.append(PlateView(view_color, layout, plate, crops, refined))
    return views


def widened(corners: Array, share: float = WIDEN) -> Array:
    """The quadrilateral stretched by `share` of its width at either end: a candidate that
    shadow or glare cut short of the plate's last character (or its first) gets it back;
    the cells are then fitted to the ink inside."""
    quad = corners.astype(np.float32).reshape(4, 2)
    top, bottom = (quad[1] - quad[0]) * share, (quad[2] - quad[3]) * share
    return np.array([quad[0] - top, quad[1] + top, quad[2] + bottom, quad[3] - bottom],
                    np.float32)


def _sound(corners: Array) -> bool:
    """A convex quadrilateral of some size, wider than high: anything else (three corners in
    a line, a bow tie, a sliver) has no plate to rectify."""
    quad = corners.astype(np.float32).reshape(4, 2)
    if not bool(np.all(np.isfinite(quad))) or not cv2.isContourConvex(quad):
        return False
    width = float(np.linalg.norm(quad[1] - quad[0]))
    height = float(np.linalg.norm(quad[3] - quad[0]))
    return cv2.contourArea(quad) >= 60.0 and width > height > 4.0


def _likelihood(reading: PlateReading) -> float:
    """How likely the whole text is (the product of its characters' probabilities): what
    decides between two readings of one plate. Two views that differ in one character are
    told apart by it; the least confident character alone (the reading's confidence) would
    prefer a view that is a little unsure of every character to one that is unsure of one."""
    return float(np.prod(reading.char_confidences))


def _distinct(readings: list[PlateReading]) -> list[PlateReading]:
    """One reading per plate (the likeliest of those that overlap), most confident first."""
    readings.sort(key=lambda r: -_likelihood(r))
    kept: list[PlateReading] = []
    for reading in readings:
        if all(_overlap(reading.corners, other.corners) <= OVERLAP for other in kept):
            kept.append(reading)
    return sorted(kept, key=lambda r: -r.confidence)


def _overlap(a: Array, b: Array) -> float:
    """Intersection over the smaller of the two axis-aligned boxes."""
    ax0, ay0 = a.min(axis=0)
    ax1, ay1 = a.max(axis=0)
    bx0, by0 = b.min(axis=0)
    bx1, by1 = b.max(axis=0)
    iw = max(0.0, min(ax1, bx1) - max(ax0, bx0))
    ih = max(0.0, min(ay1, by1) - max(ay0, by0))
    smaller = min((ax1 - ax0) * (ay1 - ay0), (bx1 - bx0) * (by1 - by0))
    return float(iw * ih / smaller) if smaller > 0 else 0.0


@functools.cache
def default_reader() -> PlateReader:
    """One reader per process, its model loaded on first use."""
    return PlateReader()


def read_plates(image: bytes | Array) -> list[PlateReading]:
    return default_reader().read(image)
