"""The character model's plumbing: the hand-written ONNX computes what numpy computes, the
committed model matches the reader's classes and inputs, and each position only takes
what GA 36 allows there."""

from __future__ import annotations

import json

import numpy as np

from hub.devices.plates.classify import (
    CLASSES,
    INPUT,
    JUNK,
    META_FILE,
    MODEL_FILE,
    CharClassifier,
    choose,
    inputs,
    position_forms,
    position_masks,
)
from hub.devices.plates.layout import NEW_ENERGY, STANDARD
from hub.devices.plates.onnx_mlp import cnn_onnx, mlp_onnx
from hub.devices.plates.reader import PlateReader, PlateView
from hub.devices.plates.segment import CELL_H, CELL_W
from hub.domain.parking.plates import LETTERS, PROVINCES, SPECIALS


def test_onnx_written_by_hand_runs_in_cv2_dnn_as_in_numpy() -> None:
    rng = np.random.default_rng(0)
    w1, b1 = rng.normal(size=(16, 10)).astype(np.float32), rng.normal(size=16).astype(np.float32)
    w2, b2 = rng.normal(size=(5, 16)).astype(np.float32), rng.normal(size=5).astype(np.float32)
    classifier = CharClassifier.from_bytes(mlp_onnx([(w1, b1), (w2, b2)]))
    x = rng.normal(size=(3, 10)).astype(np.float32)
    z = np.maximum(x @ w1.T + b1, 0) @ w2.T + b2
    expected = np.exp(z - z.max(axis=1, keepdims=True))
    expected /= expected.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(classifier.probabilities(x), expected, rtol=1e-4, atol=1e-6)


def _conv_relu_pool(x: np.ndarray, w: np.ndarray, b: np.ndarray) -> np.ndarray:
    """3×3 convolution (zero padding 1), ReLU, 2×2 max-pool, in plain numpy: N×C×H×W."""
    n, _, h, width = x.shape
    padded = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
    out = np.zeros((n, w.shape[0], h, width), np.float64)
    for dy in range(3):
        for dx in range(3):
            window = padded[:, :, dy:dy + h, dx:dx + width]
            out += np.einsum("nchw,oc->nohw", window, w[:, :, dy, dx])
    out = np.maximum(out + b[None, :, None, None], 0)
    return out.reshape(n, w.shape[0], h // 2, 2, width // 2, 2).max(axis=(3, 5))


def test_convolutional_onnx_runs_in_cv2_dnn_as_in_numpy() -> None:
    rng = np.random.default_rng(1)
    c1 = (rng.normal(size=(3, 1, 3, 3)).astype(np.float32), rng.normal(size=3).astype(np.float32))
    c2 = (rng.normal(size=(4, 3, 3, 3)).astype(np.float32), rng.normal(size=4).astype(np.float32))
    d1 = (rng.normal(size=(6, 4 * 2 * 3)).astype(np.float32), rng.normal(size=6).astype(np.float32))
    d2 = (rng.normal(size=(5, 6)).astype(np.float32), rng.normal(size=5).astype(np.float32))
    classifier = CharClassifier.from_bytes(cnn_onnx([c1, c2], [d1, d2], (8, 12)))
    x = rng.normal(size=(2, 1, 8, 12)).astype(np.float32)
    maps = _conv_relu_pool(_conv_relu_pool(x, *c1), *c2).reshape(2, -1)
    z = np.maximum(maps @ d1[0].T + d1[1], 0) @ d2[0].T + d2[1]
    expected = np.exp(z - z.max(axis=1, keepdims=True))
    expected /= expected.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(classifier.probabilities(x), expected, rtol=1e-3, atol=1e-5)


def test_inputs_are_standardised_cells() -> None:
    dim = np.tile(np.array([40, 80], np.uint8), (CELL_H, CELL_W // 2))
    bright = (dim.astype(np.uint16) * 5 // 2).astype(np.uint8)  # 100 and 200
    x = inputs([dim, bright])
    assert x.shape == (2, 1, CELL_H, CELL_W)
    np.testing.assert_allclose(x.mean(axis=(1, 2, 3)), 0.0, atol=1e-5)
    # a dim cell looks like a bright one (but for the floor under the spread, against noise)
    np.testing.assert_allclose(x[0], x[1], rtol=0.15)
    assert inputs([]).shape == (0, 1, CELL_H, CELL_W)


def test_committed_model_fits_this_reader() -> None:
    meta = json.loads(META_FILE.read_text(encoding="utf-8"))
    assert meta["classes"] == CLASSES and meta["input"] == INPUT
    assert MODEL_FILE.stat().st_size < 2_000_000
    cells = [np.zeros((CELL_H, CELL_W), np.uint8), np.full((CELL_H, CELL_W), 200, np.uint8)]
    probs = CharClassifier.load().probabilities(inputs(cells))
    assert probs.shape == (2, len(CLASSES))
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-5)


def test_positions_take_what_ga36_allows() -> None:
    seven, eight = position_masks(7), position_masks(8)
    allowed = ["".join(c for c, ok in zip(CLASSES, mask, strict=True) if ok) for mask in seven]
    assert allowed[0] == PROVINCES
    assert allowed[1] == LETTERS
    assert all(set(SPECIALS).isdisjoint(a) for a in allowed[:6])
    assert set(SPECIALS) <= set(allowed[6])
    assert len(eight) == 8 and not any(mask[CLASSES.index(JUNK)] for mask in seven + eight)


def test_a_plate_ends_only_in_the_specials_its_colour_carries() -> None:
    def last(color: str) -> set[str]:
        mask = position_masks(7, color)[-1]
        return {c for c, ok in zip(CLASSES, mask, strict=True) if ok} & set(SPECIALS)

    assert last("blue") == set() and last("green") == set()
    assert last("yellow") == set("学挂") and last("white") == {"警"}
    assert last("black") == set("港澳领使")
    assert all(np.array_equal(a, b) for a, b in zip(position_masks(8, "green"),
                                                    position_masks(8), strict=True))


def test_a_special_of_another_colour_is_taken_out_of_the_last_cells_total() -> None:
    row = np.zeros(len(CLASSES), np.float32)
    row[CLASSES.index("领")], row[CLASSES.index("W")], row[CLASSES.index("Y")] = 0.5, 0.3, 0.2
    blue, anywhere = position_masks(7, "blue")[-1], position_masks(7)[-1]
    choice, confidence = choose(row, blue, anywhere)
    assert CLASSES[choice] == "W" and abs(confidence - 0.6) < 1e-6
    choice, confidence = choose(row, position_masks(7, "black")[-1], anywhere)
    assert CLASSES[choice] == "领" and abs(confidence - 0.5) < 1e-6
    province = position_masks(7, "blue")[0]
    choice, confidence = choose(row, province, position_masks(7)[0])  # nothing ruled out
    assert CLASSES[choice] in PROVINCES and confidence == 0.0


def _allowed(mask: np.ndarray) -> str:  # type: ignore[type-arg]
    return "".join(c for c, ok in zip(CLASSES, mask, strict=True) if ok)


def test_a_new_energy_serial_is_a_small_cars_or_a_large_vehicles() -> None:
    small, large = (list(map(_allowed, form)) for form in position_forms(8))
    assert small[2] == "ABCDEFGHJK" and small[4:] == ["0123456789"] * 4
    assert large[2:7] == ["0123456789"] * 5 and large[7] == "DF"
    assert len(position_forms(7, "blue")) == 1


class _Cells:
    """A classifier that answers fixed probabilities, one row per cell."""

    def __init__(self, rows: list[dict[str, float]]) -> None:
        self.rows = rows

    def probabilities(self, x: np.ndarray) -> np.ndarray:  # type: ignore[type-arg]
        out = np.zeros((len(x), len(CLASSES)), np.float32)
        for i, row in enumerate(self.rows[:len(x)]):
            for c, p in row.items():
                out[i, CLASSES.index(c)] = p
        return out


def _view(length: int, color: str) -> PlateView:
    blank = np.zeros((CELL_H, CELL_W), np.uint8)
    layout = NEW_ENERGY if length == 8 else STANDARD
    return PlateView(color, layout, np.zeros((70, 240, 3), np.uint8), [blank] * length,
                     np.zeros((4, 2), np.float32))


def test_a_large_new_energy_plate_ends_in_its_energy_letter() -> None:
    # A blurred last D the network half took for 0: five digits before it make it the
    # large vehicle's serial, whose last character is D or F.
    rows = [{"渝": 1.0}, {"N": 1.0}, {"5": 1.0}, {"4": 1.0}, {"8": 1.0}, {"6": 1.0},
            {"0": 1.0}, {"0": 0.4, "D": 0.3, "F": 0.1, "V": 0.2}]
    reader = PlateReader(_Cells(rows))  # type: ignore[arg-type]
    reading = reader._read_view(_view(8, "green"))
    assert reading is not None and reading.text == "渝N54860D"
    # Given that it is D or F (0 and V are ruled out there): 0.3 of 0.4.
    assert abs(reading.char_confidences[-1] - 0.75) < 1e-6
