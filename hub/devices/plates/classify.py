"""One character cell to class probabilities: the cell's pixels, standardised, into a small
convolutional network (three 3×3 convolutions with max-pooling, then two dense layers), run
by cv2.dnn from an ONNX file that scripts/train_plate_reader.py trains and writes
(models/chars.onnx).

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

INPUT = f"cell {CELL_H}x{CELL_W} standardised"  # what the model was trained on (chars.json)


def _mask(chars: str) -> Array:
    mask = np.zeros(len(CLASSES), dtype=bool)
    for c in chars:
        mask[INDEX[c]] = True
    return mask


PROVINCE_MASK = _mask(PROVINCES)
LETTER_MASK = _mask(LETTERS)
ALNUM_MASK = _mask(LETTERS + DIGITS)
LAST_MASK = _mask(LETTERS + DIGITS + SPECIALS)


# The special endings each background carries (GA 36): 学 (coach) and 挂 (trailer) on yellow,
# 警 on white (police), 港 澳 领 使 on black; blue and green plates have none.
SPECIALS_OF = {"blue": "", "green": "", "yellow": "学挂", "white": "警", "black": "港澳领使"}


def position_masks(length: int, color: str | None = None) -> list[Array]:
    """What each position may hold (GA 36): province, letter, then letters and digits; a
    seven-character plate may end in a special character, of those its colour carries when
    the colour is given (a blue plate's blurred W is not 领)."""
    if length == 8:
        return [PROVINCE_MASK, LETTER_MASK] + [ALNUM_MASK] * 6
    last = LAST_MASK if color is None else _mask(LETTERS + DIGITS + SPECIALS_OF[color])
    return [PROVINCE_MASK, LETTER_MASK] + [ALNUM_MASK] * 4 + [last]


# A new-energy plate's serial (GA 36-2018) takes one of two forms: a small car's starts with
# its energy letter (D A B C E electric, F G H J K not), then a letter or digit and four
# digits; a large vehicle's is five digits and then D or F.
_SMALL_ENERGY, _LARGE_ENERGY = _mask("DABCEFGHJK"), _mask("DF")
_DIGIT_MASK = _mask(DIGITS)
NEW_ENERGY_FORMS = (
    [PROVINCE_MASK, LETTER_MASK, _SMALL_ENERGY, ALNUM_MASK] + [_DIGIT_MASK] * 4,
    [PROVINCE_MASK, LETTER_MASK] + [_DIGIT_MASK] * 5 + [_LARGE_ENERGY],
)


def position_forms(length: int, color: str | None = None) -> list[list[Array]]:
    """Each way a plate of this length may be written, as the classes each position allows:
    one for seven characters (`position_masks`), the small and the large car's serial for
    eight."""
    if length == 8:
        return [list(form) for form in NEW_ENERGY_FORMS]
    return [position_masks(length, color)]


def choose(row: Array, allowed: Array, possible: Array) -> tuple[int, float]:
    """The likeliest class a position allows, and its probability given that the cell is
    not one of the classes ruled out by the plate's colour alone (`possible` is the mask
    without the colour, `allowed` with it): a blue plate's blurred last W that the network
    half took for 领 keeps its share of the rest instead of falling under the threshold."""
    choice = int(np.argmax(np.where(allowed, row, -1.0)))
    ruled_out = float(row[possible & ~allowed].sum())
    return choice, float(row[choice]) / max(1.0 - ruled_out, 1e-6)


def inputs(cells: list[Array]) -> Array:
    """The network's input, N×1×CELL_H×CELL_W: each cell's pixels less their mean, over their
    standard deviation (a dim or washed-out cell looks like a bright one)."""
    if not cells:
        return np.zeros((0, 1, CELL_H, CELL_W), np.float32)
    x = np.stack(cells).astype(np.float32) * np.float32(1 / 255)
    x -= x.mean(axis=(1, 2), keepdims=True)
    x /= x.std(axis=(1, 2), keepdims=True) + np.float32(0.02)
    return x[:, None, :, :]


class CharClassifier:
    def __init__(self, net: cv2.dnn.Net) -> None:
        self.net = net

    @classmethod
    def load(cls, path: Path = MODEL_FILE, meta: Path = META_FILE) -> CharClassifier:
        if not path.exists():
            raise FileNotFoundError(
                f"{path} is missing: run scripts/train_plate_reader.py to create it")
        info = json.loads(meta.read_text(encoding="utf-8")) if meta.exists() else {}
        if info.get("classes") != CLASSES or info.get("input") != INPUT:
            raise ValueError(f"{path} was trained for other classes or inputs than this reader")
        return cls(cv2.dnn.readNetFromONNX(str(path)))

    @classmethod
    def from_bytes(cls, onnx: bytes) -> CharClassifier:
        return cls(cv2.dnn.readNetFromONNX(np.frombuffer(onnx, np.uint8)))

    def probabilities(self, x: Array) -> Array:
        """One row per input row (`inputs(cells)`), one column per class, rows summing to 1."""
        if len(x) == 0:
            return np.zeros((0, len(CLASSES)), np.float32)
        self.net.setInput(np.ascontiguousarray(x, dtype=np.float32))
        return np.asarray(self.net.forward(), dtype=np.float32)
