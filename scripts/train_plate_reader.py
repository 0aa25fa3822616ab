"""Train the plate reader's character classifier from images the renderer draws.

    .venv/bin/python scripts/train_plate_reader.py --seed 7

Samples are cut by the reader's own pipeline (hub.devices.plates.reader.plate_views), so the
classifier learns the cells it will see:
- scenes (render_scene, clean and hard): every candidate the locator finds on a plate gives
  that plate's characters; candidates away from every plate give JUNK for their first cell
  (where a sign or a grille would have to pass for a province character); candidates that
  overlap a plate askew give nothing (their first cell may be half a province character);
- front views (render_plate) warped with jittered corners, blurred, darkened and noised:
  many more characters, provinces and special endings drawn evenly;
- random patches of plate-less scenes: JUNK.
A multilayer perceptron (features → 256 ReLU → classes, softmax) is trained in numpy with
Adam, the feature standardisation folded into its first layer, and written as ONNX for
cv2.dnn (hub/devices/plates/models/chars.onnx) with chars.json (classes, seed, accuracy).
Everything random comes from the seed: the same seed draws the same samples and starting
weights; the trained weights match up to float rounding in the BLAS threads.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import sys
import time
from pathlib import Path

import cv2
import numpy as np
from numpy.typing import NDArray

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from hub.devices.plates.classify import (
    CLASSES,
    FEATURES,
    INDEX,
    JUNK,
    META_FILE,
    MODEL_FILE,
    features,
)
from hub.devices.plates.locate import find_candidates
from hub.devices.plates.onnx_mlp import mlp_onnx
from hub.devices.plates.reader import plate_views
from hub.devices.plates.render import (
    COLORS,
    SPECIALS_BY_COLOR,
    PlateSpec,
    random_plate,
    render_plate,
)
from hub.devices.plates.scene import render_scene
from hub.devices.plates.segment import CELL_H, CELL_W
from hub.domain.parking.plates import DIGITS, LETTERS, PROVINCES

Samples = tuple[list[NDArray[np.uint8]], list[int]]


def even_plate(rng: np.random.Generator) -> PlateSpec:
    """A plate with its colour, province and ending drawn evenly (random_plate draws them
    as they occur, which leaves the rare ones short of samples)."""
    color = COLORS[int(rng.integers(len(COLORS)))]
    spec = random_plate(rng, color=color)
    province = PROVINCES[int(rng.integers(len(PROVINCES)))]
    text = province + spec.text[1:]
    if SPECIALS_BY_COLOR[color] and rng.random() < 0.5:
        endings = SPECIALS_BY_COLOR[color]
        text = text[:-1] + endings[int(rng.integers(len(endings)))]
    elif color not in ("white", "black") and rng.random() < 0.5:
        alnum = LETTERS + DIGITS
        text = text[:2] + "".join(alnum[int(i)] for i in rng.integers(0, len(alnum),
                                                                       len(text) - 2))
    return PlateSpec(text, color)


def _matches(corners: NDArray[np.float32], truth: NDArray[np.float32]) -> bool:
    height = float(np.linalg.norm(truth[3] - truth[0]))
    return float(np.abs(corners - truth).max()) < 0.3 * height


def _touches(a: NDArray[np.float32], b: NDArray[np.float32]) -> bool:
    a0, a1 = a.min(axis=0), a.max(axis=0)
    b0, b1 = b.min(axis=0), b.max(axis=0)
    return bool(np.all(a0 < b1) and np.all(b0 < a1))


def scene_samples(seed: int, count: int) -> Samples:
    rng = np.random.default_rng(seed)
    cells: list[NDArray[np.uint8]] = []
    labels: list[int] = []
    for i in range(count):
        difficulty = "clean" if i % 3 == 0 else "hard"  # hard cells are the scarce ones
        n = int(rng.choice([0, 1, 1, 1, 2]))
        specs = [even_plate(rng) for _ in range(n)]
        scene = render_scene(rng, specs, difficulty=difficulty)
        for candidate in find_candidates(scene.image):
            truth = next((p for p in scene.plates if _matches(candidate.corners, p.corners)),
                         None)
            if truth is None and any(_touches(candidate.corners, p.corners)
                                     for p in scene.plates):
                continue  # a plate seen askew: neither its characters nor junk
            for view in plate_views(scene.image, candidate.corners, candidate.color_hint):
                if truth is None:
                    cells.append(view.cells[0])
                    labels.append(INDEX[JUNK])
                elif view.layout.length == len(truth.spec.text):
                    cells.extend(view.cells)
                    labels.extend(INDEX[c] for c in truth.spec.text)
        if n == 0:  # random patches of what is not a plate
            h, w = scene.image.shape[:2]
            grey = cv2.cvtColor(scene.image, cv2.COLOR_BGR2GRAY)
            for _ in range(4):
                ph = int(rng.integers(16, 90))
                pw = max(4, int(ph * rng.uniform(0.3, 0.8)))
                x, y = int(rng.integers(0, w - pw)), int(rng.integers(0, h - ph))
                patch = grey[y:y + ph, x:x + pw]
                if rng.random() < 0.5:
                    patch = 255 - patch
                patch = cv2.normalize(patch, None, 0, 255, cv2.NORM_MINMAX)
                cells.append(cv2.resize(patch, (CELL_W, CELL_H), interpolation=cv2.INTER_AREA))
                labels.append(INDEX[JUNK])
    return cells, labels


def front_samples(seed: int, count: int) -> Samples:
    """Plates drawn straight on, then seen through jittered corners (a locator a few pixels
    off), at camera resolutions, blurred, dimmed and noised."""
    rng = np.random.default_rng(seed)
    cells: list[NDArray[np.uint8]] = []
    labels: list[int] = []
    for _ in range(count):
        spec = even_plate(rng)
        height = int(rng.integers(28, 90))
        plate = render_plate(spec, height_px=height)
        ph, pw = plate.shape[:2]
        margin = int(ph * 0.4)
        canvas = cv2.copyMakeBorder(plate, margin, margin, margin, margin,
                                    cv2.BORDER_CONSTANT,
                                    value=[int(v) for v in rng.integers(0, 255, 3)])
        canvas = canvas.astype(np.float32)
        if rng.random() < 0.5:
            canvas = cv2.GaussianBlur(canvas, (0, 0), rng.uniform(0.3, 1.6))
        canvas *= rng.uniform(0.3, 1.15)
        canvas += rng.normal(0, rng.uniform(0, 10), canvas.shape).astype(np.float32)
        image = np.clip(canvas, 0, 255).astype(np.uint8)
        if rng.random() < 0.3:
            quality = int(rng.integers(25, 80))
            image = cv2.imdecode(cv2.imencode(".jpg", image,
                                              [cv2.IMWRITE_JPEG_QUALITY, quality])[1],
                                 cv2.IMREAD_COLOR)
        truth = np.array([[0, 0], [pw, 0], [pw, ph], [0, ph]], np.float32) + margin - 0.5
        jitter = rng.normal(0, 1, (4, 2)) * np.array([pw * 0.012, ph * 0.04])
        corners = (truth + jitter).astype(np.float32)
        for view in plate_views(image, corners, None):
            if view.layout.length == len(spec.text):
                cells.extend(view.cells)
                labels.extend(INDEX[c] for c in spec.text)
    return cells, labels


def _job(args: tuple[str, int, int]) -> Samples:
    kind, seed, count = args
    cv2.setNumThreads(1)
    return scene_samples(seed, count) if kind == "scene" else front_samples(seed, count)


def collect(seed: int, scenes: int, fronts: int, workers: int) -> tuple[NDArray[np.float32],
                                                                         NDArray[np.int64]]:
    chunk = 100
    jobs = [("scene", seed * 1000 + i, min(chunk, scenes - i * chunk))
            for i in range((scenes + chunk - 1) // chunk)]
    jobs += [("front", seed * 1000 + 500 + i, min(chunk * 4, fronts - i * chunk * 4))
             for i in range((fronts + chunk * 4 - 1) // (chunk * 4))]
    with multiprocessing.get_context("spawn").Pool(workers) as pool:
        parts = pool.map(_job, jobs)  # in job order: reproducible whatever the scheduling
    feats, labels = [], []
    for cells, part_labels in parts:
        if cells:
            feats.append(features(cells))
            labels.extend(part_labels)
    return np.concatenate(feats), np.asarray(labels, np.int64)


def train(x: NDArray[np.float32], y: NDArray[np.int64], seed: int, epochs: int,
          hidden: int) -> list[tuple[NDArray[np.float32], NDArray[np.float32]]]:
    """Softmax MLP, one hidden ReLU layer, Adam, minibatches; weights as [out, in]."""
    rng = np.random.default_rng(seed)
    classes = len(CLASSES)
    mean = x.mean(axis=0)
    std = x.std(axis=0) + 1e-3
    xs = (x - mean) / std
    w1 = (rng.normal(0, np.sqrt(2 / x.shape[1]), (x.shape[1], hidden))).astype(np.float32)
    b1 = np.zeros(hidden, np.float32)
    w2 = (rng.normal(0, np.sqrt(1 / hidden), (hidden, classes))).astype(np.float32)
    b2 = np.zeros(classes, np.float32)
    params = [w1, b1, w2, b2]
    moments = [np.zeros_like(p) for p in params]
    squares = [np.zeros_like(p) for p in params]
    # Rare classes (provinces, specials) weigh as much as common ones.
    counts = np.bincount(y, minlength=classes).astype(np.float32)
    class_weight = np.where(counts > 0, counts.sum() / (classes * np.maximum(counts, 1)), 0)
    class_weight = np.clip(class_weight, 0.2, 5.0).astype(np.float32)
    step, batch, rate, decay = 0, 256, 2e-3, 1e-4
    for epoch in range(epochs):
        order = rng.permutation(len(xs))
        lr = rate * (0.5 ** (epoch // max(1, epochs // 3)))
        loss_sum = 0.0
        for start in range(0, len(order), batch):
            idx = order[start:start + batch]
            xb, yb = xs[idx], y[idx]
            h = np.maximum(xb @ w1 + b1, 0)
            z = h @ w2 + b2
            z -= z.max(axis=1, keepdims=True)
            p = np.exp(z)
            p /= p.sum(axis=1, keepdims=True)
            weight = class_weight[yb][:, None]
            loss_sum += float(-(np.log(p[np.arange(len(yb)), yb] + 1e-9)
                                * weight[:, 0]).sum())
            grad_z = p
            grad_z[np.arange(len(yb)), yb] -= 1
            grad_z *= weight / len(yb)
            grads = [None, None, h.T @ grad_z + decay * w2, grad_z.sum(axis=0)]
            grad_h = (grad_z @ w2.T) * (h > 0)
            grads[0] = xb.T @ grad_h + decay * w1
            grads[1] = grad_h.sum(axis=0)
            step += 1
            for i, grad in enumerate(grads):
                moments[i] = 0.9 * moments[i] + 0.1 * grad
                squares[i] = 0.999 * squares[i] + 0.001 * grad * grad
                m_hat = moments[i] / (1 - 0.9 ** step)
                v_hat = squares[i] / (1 - 0.999 ** step)
                params[i] -= (lr * m_hat / (np.sqrt(v_hat) + 1e-8)).astype(np.float32)
        print(f"  epoch {epoch + 1}/{epochs}: loss {loss_sum / len(xs):.4f}", flush=True)
    # Fold the standardisation into the first layer: (x - mean) / std @ w1 + b1.
    first_w = (w1 / std[:, None]).T.astype(np.float32)
    first_b = (b1 - (mean / std) @ w1).astype(np.float32)
    return [(first_w, first_b), (w2.T.astype(np.float32), b2.astype(np.float32))]


def predict(layers: list[tuple[NDArray[np.float32], NDArray[np.float32]]],
            x: NDArray[np.float32]) -> NDArray[np.int64]:
    h = np.maximum(x @ layers[0][0].T + layers[0][1], 0)
    return np.argmax(h @ layers[1][0].T + layers[1][1], axis=1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--scenes", type=int, default=3000)
    parser.add_argument("--fronts", type=int, default=12000)
    parser.add_argument("--epochs", type=int, default=18)
    parser.add_argument("--hidden", type=int, default=256)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--out", type=Path, default=MODEL_FILE)
    args = parser.parse_args()
    started = time.perf_counter()
    x, y = collect(args.seed, args.scenes, args.fronts, args.workers)
    print(f"{len(y)} cells ({int((y == INDEX[JUNK]).sum())} junk), {FEATURES} features, "
          f"{time.perf_counter() - started:.0f} s", flush=True)
    rng = np.random.default_rng(args.seed)
    order = rng.permutation(len(y))
    held = order[: len(y) // 10]
    kept = order[len(y) // 10:]
    layers = train(x[kept], y[kept], args.seed, args.epochs, args.hidden)
    accuracy = float((predict(layers, x[held]) == y[held]).mean())
    print(f"held-out cell accuracy {accuracy:.4f}", flush=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_bytes(mlp_onnx(layers))
    meta = {"classes": CLASSES, "features": FEATURES, "seed": args.seed,
            "scenes": args.scenes, "fronts": args.fronts, "epochs": args.epochs,
            "hidden": args.hidden, "cells": len(y), "held_out_accuracy": round(accuracy, 4)}
    meta_file = args.out.with_name(META_FILE.name) if args.out != MODEL_FILE else META_FILE
    meta_file.write_text(json.dumps(meta, ensure_ascii=False, indent=1) + "\n",
                         encoding="utf-8")
    print(f"wrote {args.out} ({args.out.stat().st_size} bytes) and {meta_file}, "
          f"{time.perf_counter() - started:.0f} s in all")


if __name__ == "__main__":
    main()
