"""One character cell to class probabilities: gradient-orientation histograms (HOG-like)
and the cell's pixels into a small multilayer perceptron, run by cv2.dnn from an ONNX file
that scripts/train_plate_reader.py trains and writes (models/chars.onnx).

The classes are every character a plate can hold plus JUNK, trained on cells cut from
things that are not plates, so that a grille or a sign read as characters says so instead
of being forced into the nearest letter.
"""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np

from hub.devices.plates.arrays import Array
from hub.devices.plates.segment import CELL_H, CELL_W
from hub.domain.parking.plates import DIGITS, LETTERS, PROVINCES, SPECIALS

JUNK = "?"
CLASSES = PROVINCES + LETTERS + DIGITS + SPECIALS + JUNK
INDEX = {c: i for i, c in enumerate(CLASSES)}
MODELS = Path(__file__).parent / "models"
MODEL_FILE = MODELS / "chars.onnx"
META_FILE = MODELS / "chars.json"

_BINS = 9
_POOL = (4, 8)  # orientation histograms over 6×6-pixel cells of the 24×48 character cell
_PIXELS = (12, 24)
FEATURES = _BINS * _POOL[0] * _POOL[1] + _PIXELS[0] * _PIXELS[1]
_POOL_ROW = np.arange(CELL_H) // (CELL_H // _POOL[1])
_POOL_COL = np.arange(CELL_W) // (CELL_W // _POOL[0])


def _mask(chars: str) -> Array:
    mask = np.zeros(len(CLASSES), dtype=bool)
    for c in chars:
        mask[INDEX[c]] = True
    return mask


PROVINCE_MASK = _mask(PROVINCES)
LETTER_MASK = _mask(LETTERS)
ALNUM_MASK = _mask(LETTERS + DIGITS)
LAST_MASK = _mask(LETTERS + DIGITS + SPECIALS)


def position_masks(length: int) -> list[Array]:
    """What each position may hold (GA 36): province, letter, then letters and digits; a
    seven-character plate may end in a special character."""
    if length == 8:
        return [PROVINCE_MASK, LETTER_MASK] + [ALNUM_MASK] * 6
    return [PROVINCE_MASK, LETTER_MASK] + [ALNUM_MASK] * 4 + [LAST_MASK]


def features(cells: list[Array]) -> Array:
    """One row per CELL_W×CELL_H cell: unsigned gradient orientations in 9 bins, weighted
    by magnitude and summed over 6×6 pixels (L2-normalised per cell), then the pixels at
    half size, centred."""
    if not cells:
        return np.zeros((0, FEATURES), np.float32)
    x = np.stack(cells).astype(np.float32) * np.float32(1 / 255)  # N×H×W
    n = x.shape[0]
    gx = np.zeros_like(x)
    gy = np.zeros_like(x)
    gx[:, :, 1:-1] = x[:, :, 2:] - x[:, :, :-2]
    gy[:, 1:-1, :] = x[:, 2:, :] - x[:, :-2, :]
    flat_shape = (n * CELL_H, CELL_W)  # cv2 wants 2-D; numpy's arctan2 is ten times slower
    magnitude, angle = cv2.cartToPolar(gx.reshape(flat_shape), gy.reshape(flat_shape),
                                       angleInDegrees=True)
    bins = np.minimum((np.mod(angle, 180.0) * (_BINS / 180.0)).astype(np.int64), _BINS - 1)
    bins = bins.reshape(x.shape)
    # One pass: each pixel's magnitude added to (cell, bin, pooled row, pooled column).
    idx = ((np.arange(n)[:, None, None] * _BINS + bins) * _POOL[1] + _POOL_ROW[None, :, None]
           ) * _POOL[0] + _POOL_COL[None, None, :]
    hist = np.bincount(idx.ravel(), weights=magnitude.ravel(),
                       minlength=n * _BINS * _POOL[0] * _POOL[1]).astype(np.float32)
    flat = hist.reshape(n, -1)
    flat /= np.linalg.norm(flat, axis=1, keepdims=True) + 1e-6
    pixels = x.reshape(n, _PIXELS[1], 2, _PIXELS[0], 2).mean(axis=(2, 4)).reshape(n, -1)
    pixels = pixels - pixels.mean(axis=1, keepdims=True)
    return np.concatenate([flat, pixels * 0.25], axis=1).astype(np.float32)


class CharClassifier:
    def __init__(self, net: cv2.dnn.Net) -> None:
        self.net = net

    @classmethod
    def load(cls, path: Path = MODEL_FILE, meta: Path = META_FILE) -> CharClassifier:
        if not path.exists():
            raise FileNotFoundError(
                f"{path} is missing: run scripts/train_plate_reader.py to create it")
        info = json.loads(meta.read_text(encoding="utf-8")) if meta.exists() else {}
        if info.get("classes", CLASSES) != CLASSES or info.get("features", FEATURES) != FEATURES:
            raise ValueError(f"{path} was trained for other classes or features than this reader")
        return cls(cv2.dnn.readNetFromONNX(str(path)))

    @classmethod
    def from_bytes(cls, onnx: bytes) -> CharClassifier:
        return cls(cv2.dnn.readNetFromONNX(np.frombuffer(onnx, np.uint8)))

    def probabilities(self, feats: Array) -> Array:
        """One row per cell, one column per class, rows summing to 1."""
        if len(feats) == 0:
            return np.zeros((0, len(CLASSES)), np.float32)
        self.net.setInput(np.ascontiguousarray(feats, dtype=np.float32))
        return np.asarray(self.net.forward(), dtype=np.float32)
