"""The character model's plumbing: the hand-written ONNX computes what numpy computes, the
committed model matches the reader's classes and features, and each position only takes
what GA 36 allows there."""

from __future__ import annotations

import json

import numpy as np

from hub.devices.plates.classify import (
    CLASSES,
    FEATURES,
    JUNK,
    META_FILE,
    MODEL_FILE,
    CharClassifier,
    features,
    position_masks,
)
from hub.devices.plates.onnx_mlp import mlp_onnx
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


def test_committed_model_fits_this_reader() -> None:
    meta = json.loads(META_FILE.read_text(encoding="utf-8"))
    assert meta["classes"] == CLASSES and meta["features"] == FEATURES
    assert MODEL_FILE.stat().st_size < 3_000_000
    cells = [np.zeros((CELL_H, CELL_W), np.uint8), np.full((CELL_H, CELL_W), 200, np.uint8)]
    probs = CharClassifier.load().probabilities(features(cells))
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
