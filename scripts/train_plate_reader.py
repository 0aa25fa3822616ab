"""Train the plate reader's character classifier from images the renderer draws.

PyTorch (2.13.0, the CPU build) is needed to train, and only to train: the hub reads with
cv2.dnn from the committed ONNX file. Install it in a venv of its own, never in the hub's:

    python3.11 -m venv /tmp/trainvenv
    /tmp/trainvenv/bin/pip install -c constraints.txt -e . 'torch==2.13.0'
    /tmp/trainvenv/bin/python scripts/train_plate_reader.py --seed 7 --threads 2

(the defaults are the committed model's: 6,000 scenes, 32,000 front views, 8 epochs; add
--cache DIR to keep the drawn cells for a re-run).

Samples are cut by the reader's own pipeline (hub.devices.plates.reader.plate_views), so the
classifier learns the cells it will see:
- scenes (render_scene, a third clean, two thirds hard): every candidate the locator finds
  on a plate gives that plate's characters; candidates away from every plate give JUNK for
  their first cell (where a sign or a grille would have to pass for a province character);
  candidates that overlap a plate askew give nothing (their first cell may be half a
  province character);
- front views (render_plate) warped with jittered corners, half of them through the
  scenes' hard camera (low light, shadow, glare, motion or gaussian blur, noise, JPEG), half
  blurred, dimmed and noised more mildly: many more characters, provinces and special
  endings drawn evenly;
- random patches of plate-less scenes: JUNK.
A convolutional network (three 3×3 convolutions of 16, 32 and 64 channels, each with ReLU
and a 2×2 max-pool, then 128 ReLU → classes, softmax) is trained with PyTorch on CPU and
written as ONNX for cv2.dnn (hub/devices/plates/models/chars.onnx, by onnx_mlp.cnn_onnx,
checked against torch before it is written) with chars.json (classes, seed, counts,
held-out accuracy). Everything random comes from the seed: the samples (each job of 100
scenes or 400 front views seeded from the seed and its index), the held-out split, the
starting weights and the batches; torch runs with deterministic algorithms, so the same
seed and --threads should give the same model on the same machine (not yet checked bit for
bit by a second run).
"""

from __future__ import annotations

import argparse
import itertools
import json
import multiprocessing
import sys
import time
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from numpy.typing import NDArray

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from hub.devices.plates.classify import (
    CLASSES,
    INDEX,
    INPUT,
    JUNK,
    META_FILE,
    MODEL_FILE,
    CharClassifier,
    inputs,
)
from hub.devices.plates.locate import find_candidates
from hub.devices.plates.onnx_mlp import cnn_onnx
from hub.devices.plates.reader import plate_views
from hub.devices.plates.render import (
    COLORS,
    SPECIALS_BY_COLOR,
    PlateSpec,
    random_plate,
    render_plate,
)
from hub.devices.plates.scene import _camera as camera
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
        truth = np.array([[0, 0], [pw, 0], [pw, ph], [0, ph]], np.float32) + margin - 0.5
        if rng.random() < 0.5:
            # the scenes' hard camera (two or three of low light, shadow, glare, motion or
            # gaussian blur, noise, JPEG 20-45) on the plate alone
            image = camera(rng, canvas, [truth.astype(np.float64)], "hard")
        else:
            image = _soft_camera(rng, canvas)
        jitter = rng.normal(0, 1, (4, 2)) * np.array([pw * 0.012, ph * 0.04])
        corners = (truth + jitter).astype(np.float32)
        for view in plate_views(image, corners, None):
            if view.layout.length == len(spec.text):
                cells.extend(view.cells)
                labels.extend(INDEX[c] for c in spec.text)
    return cells, labels


def _soft_camera(rng: np.random.Generator, canvas: NDArray[np.uint8]) -> NDArray[np.uint8]:
    """Gaussian blur, dimming, noise and JPEG, each milder than the hard scenes' worst."""
    image = canvas.astype(np.float32)
    if rng.random() < 0.5:
        image = cv2.GaussianBlur(image, (0, 0), rng.uniform(0.3, 1.6))
    image *= rng.uniform(0.3, 1.15)
    image += rng.normal(0, rng.uniform(0, 10), image.shape).astype(np.float32)
    out = np.clip(image, 0, 255).astype(np.uint8)
    if rng.random() < 0.3:
        quality = int(rng.integers(25, 80))
        out = cv2.imdecode(cv2.imencode(".jpg", out, [cv2.IMWRITE_JPEG_QUALITY, quality])[1],
                           cv2.IMREAD_COLOR)
    return out


def _job(args: tuple[str, int, int, Path | None]) -> Samples:
    kind, seed, count, cache = args
    cached = cache / f"{kind}-{seed}-{count}.npz" if cache is not None else None
    if cached is not None and cached.exists():
        with np.load(cached) as data:
            return list(data["cells"]), [int(v) for v in data["labels"]]
    cv2.setNumThreads(1)
    samples = scene_samples(seed, count) if kind == "scene" else front_samples(seed, count)
    if cached is not None:
        cells = np.stack(samples[0]) if samples[0] else np.zeros((0, CELL_H, CELL_W), np.uint8)
        np.savez(cached, cells=cells, labels=np.asarray(samples[1], np.int64))
    return samples


def collect(seed: int, scenes: int, fronts: int, workers: int, cache: Path | None = None
            ) -> tuple[NDArray[np.uint8], NDArray[np.int64]]:
    """Every cell (CELL_H×CELL_W uint8) with its class index. Jobs of 100 scenes or 400
    front views, each seeded from the seed and its index, so a job gives the same cells
    whatever the totals; with a cache directory each job's cells are kept there (a longer
    run re-uses the shorter one's)."""
    chunk = 100
    scene_jobs = [("scene", seed * 1000 + i, min(chunk, scenes - i * chunk), cache)
                  for i in range((scenes + chunk - 1) // chunk)]
    front_jobs = [("front", seed * 1000 + 500 + i, min(chunk * 4, fronts - i * chunk * 4), cache)
                  for i in range((fronts + chunk * 4 - 1) // (chunk * 4))]
    # Run scenes and front views interleaved (a cache filled part way holds both), then
    # put the cells in job order: the same whatever the scheduling.
    jobs = [job for pair in itertools.zip_longest(scene_jobs, front_jobs) for job in pair
            if job is not None]
    if cache is not None:
        cache.mkdir(parents=True, exist_ok=True)
    with multiprocessing.get_context("spawn").Pool(workers) as pool:
        done = dict(zip(jobs, pool.map(_job, jobs, chunksize=1), strict=True))
    parts = [done[job] for job in scene_jobs + front_jobs]
    cells: list[NDArray[np.uint8]] = []
    labels: list[int] = []
    for part_cells, part_labels in parts:
        cells.extend(part_cells)
        labels.extend(part_labels)
    return np.stack(cells).astype(np.uint8), np.asarray(labels, np.int64)


CONVS = (16, 32, 64)  # channels of the three 3×3 convolutions, each followed by a 2×2 max-pool
HIDDEN = 128


def train(x: NDArray[np.float32], y: NDArray[np.int64], seed: int, epochs: int,
          threads: int) -> tuple[list[tuple[NDArray[np.float32], NDArray[np.float32]]],
                                 list[tuple[NDArray[np.float32], NDArray[np.float32]]], Any]:
    """The convolutional network trained with PyTorch (CPU, deterministic, `threads`
    threads): Adam, class-balanced cross-entropy, one cosine cycle of the learning rate, a
    pixel or two of random shift per batch. Returns the convolutions' and the dense layers'
    (weight, bias) as float32 arrays, and the torch model for the held-out check."""
    import torch
    from torch import nn

    torch.manual_seed(seed)
    torch.set_num_threads(threads)
    torch.use_deterministic_algorithms(True)
    classes = len(CLASSES)
    layers: list[nn.Module] = []
    channels = 1
    for width in CONVS:
        layers += [nn.Conv2d(channels, width, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2)]
        channels = width
    flat = channels * (CELL_H >> len(CONVS)) * (CELL_W >> len(CONVS))
    layers += [nn.Flatten(), nn.Dropout(0.2), nn.Linear(flat, HIDDEN), nn.ReLU(),
               nn.Linear(HIDDEN, classes)]
    model = nn.Sequential(*layers)
    # Rare classes (provinces, specials) weigh as much as common ones.
    counts = np.bincount(y, minlength=classes).astype(np.float32)
    class_weight = np.where(counts > 0, counts.sum() / (classes * np.maximum(counts, 1)), 0)
    class_weight = np.clip(class_weight, 0.2, 5.0).astype(np.float32)
    loss_fn = nn.CrossEntropyLoss(weight=torch.from_numpy(class_weight))
    batch = 256
    steps = epochs * ((len(y) + batch - 1) // batch)
    optimiser = torch.optim.Adam(model.parameters(), lr=2e-3, weight_decay=1e-5)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimiser, max_lr=3e-3, total_steps=steps)
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)
    generator = torch.Generator().manual_seed(seed)
    for epoch in range(epochs):
        model.train()
        order = torch.randperm(len(yt), generator=generator)
        loss_sum = 0.0
        for start in range(0, len(order), batch):
            idx = order[start:start + batch]
            xb = xt[idx]
            dy, dx = (int(v) for v in torch.randint(-1, 2, (2,), generator=generator))
            xb = torch.roll(xb, shifts=(dy, dx), dims=(2, 3))  # the cutter is a pixel off
            loss = loss_fn(model(xb), yt[idx])
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            schedule.step()
            loss_sum += float(loss.detach()) * len(idx)
        print(f"  epoch {epoch + 1}/{epochs}: loss {loss_sum / len(yt):.4f}", flush=True)
    model.eval()
    params = [(m.weight.detach().numpy().astype(np.float32).copy(),
               m.bias.detach().numpy().astype(np.float32).copy())
              for m in model if isinstance(m, nn.Conv2d | nn.Linear)]
    return params[:len(CONVS)], params[len(CONVS):], model


def predict(model: Any, x: NDArray[np.float32]) -> NDArray[np.int64]:
    import torch

    with torch.no_grad():
        return np.concatenate([model(torch.from_numpy(x[i:i + 4096])).argmax(1).numpy()
                               for i in range(0, len(x), 4096)])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--scenes", type=int, default=6000)
    parser.add_argument("--fronts", type=int, default=32000)
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2, help="processes drawing samples")
    parser.add_argument("--threads", type=int, default=2, help="torch threads training")
    parser.add_argument("--cache", type=Path, default=None,
                        help="keep each job's cells here (a re-run draws nothing again)")
    parser.add_argument("--out", type=Path, default=MODEL_FILE)
    args = parser.parse_args()
    started = time.perf_counter()
    cells, y = collect(args.seed, args.scenes, args.fronts, args.workers, args.cache)
    x = inputs(list(cells))
    print(f"{len(y)} cells ({int((y == INDEX[JUNK]).sum())} junk), "
          f"{time.perf_counter() - started:.0f} s", flush=True)
    rng = np.random.default_rng(args.seed)
    order = rng.permutation(len(y))
    held = order[: len(y) // 10]
    kept = np.sort(order[len(y) // 10:])
    convs, layers, model = train(x[kept], y[kept], args.seed, args.epochs, args.threads)
    accuracy = float((predict(model, x[held]) == y[held]).mean())
    print(f"held-out cell accuracy {accuracy:.4f}", flush=True)
    onnx = cnn_onnx(convs, layers, (CELL_H, CELL_W))
    # What cv2.dnn computes from the file must be what torch computed.
    check = CharClassifier.from_bytes(onnx).probabilities(x[held[:256]])
    if not np.array_equal(check.argmax(axis=1), predict(model, x[held[:256]])):
        raise SystemExit("cv2.dnn disagrees with torch on the written model")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_bytes(onnx)
    meta = {"classes": CLASSES, "input": INPUT, "convolutions": list(CONVS),
            "hidden": HIDDEN, "seed": args.seed, "scenes": args.scenes, "fronts": args.fronts,
            "epochs": args.epochs, "threads": args.threads, "cells": len(y),
            "junk_cells": int((y == INDEX[JUNK]).sum()),
            "held_out_accuracy": round(accuracy, 4)}
    meta_file = args.out.with_name(META_FILE.name) if args.out != MODEL_FILE else META_FILE
    meta_file.write_text(json.dumps(meta, ensure_ascii=False, indent=1) + "\n",
                         encoding="utf-8")
    print(f"wrote {args.out} ({args.out.stat().st_size} bytes) and {meta_file}, "
          f"{time.perf_counter() - started:.0f} s in all")


if __name__ == "__main__":
    main()
