"""`hub bench plates`: the plate reader on a seeded set of generated snapshots.

Three sets of `count` 1280×720 JPEG snapshots each, drawn by the renderer from one seed:
clean (one plate, sometimes two), hard (the same with blur, noise, low light, glare,
shadow, compression) and plate-less (cars without plates, signs and look-alikes). Reported:
exact-plate accuracy on clean and hard (a plate counts when a reading at its place has
exactly its text), per-character accuracy over all plates (a missed plate's characters are
all wrong), false reads (plate-less snapshots with any reading; readings on plate scenes
away from every plate are counted apart), and milliseconds per snapshot from JPEG bytes to
readings on one core (cv2.setNumThreads(1); the rendering is not timed): the process's
CPU time, and the wall clock beside it (they differ when the machine is shared).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import cv2
import numpy as np

from hub.devices.plates.reader import PlateReader, PlateReading
from hub.devices.plates.render import encode_jpeg, random_plate
from hub.devices.plates.scene import PlacedPlate, render_scene


@dataclass(frozen=True)
class PlatesPlan:
    seed: int = 2026
    count: int = 200
    two_plate_share: float = 0.15
    size: tuple[int, int] = (1280, 720)


@dataclass
class _Tally:
    plates: int = 0
    exact: int = 0
    chars: int = 0
    chars_right: int = 0
    spurious: int = 0
    by_color: dict[str, list[int]] = field(default_factory=dict)  # colour: [plates, exact]
    misses: list[str] = field(default_factory=list)


def _overlaps(reading: PlateReading, plate: PlacedPlate) -> bool:
    a0, a1 = reading.corners.min(axis=0).tolist(), reading.corners.max(axis=0).tolist()
    b0, b1 = plate.corners.min(axis=0).tolist(), plate.corners.max(axis=0).tolist()
    iw = max(0.0, min(a1[0], b1[0]) - max(a0[0], b0[0]))
    ih = max(0.0, min(a1[1], b1[1]) - max(a0[1], b0[1]))
    area = (b1[0] - b0[0]) * (b1[1] - b0[1])
    return bool(area > 0 and iw * ih > 0.4 * area)


def _score(tally: _Tally, plates: tuple[PlacedPlate, ...], readings: list[PlateReading]
           ) -> None:
    used: set[int] = set()
    for plate in plates:
        truth = plate.spec.text
        tally.plates += 1
        tally.chars += len(truth)
        colour = tally.by_color.setdefault(plate.spec.color, [0, 0])
        colour[0] += 1
        here = [i for i, r in enumerate(readings) if i not in used and _overlaps(r, plate)]
        if not here:
            tally.misses.append(f"{truth} ({plate.spec.color}): not found")
            continue
        best = max(here, key=lambda i: readings[i].confidence)
        used.add(best)
        text = readings[best].text
        if text == truth:
            tally.exact += 1
            colour[1] += 1
        else:
            tally.misses.append(f"{truth} ({plate.spec.color}): read {text}")
        if len(text) == len(truth):
            tally.chars_right += sum(a == b for a, b in zip(text, truth, strict=True))
    tally.spurious += len(readings) - len(used)


def run(plan: PlatesPlan) -> dict[str, Any]:
    cv2.setNumThreads(1)
    rng = np.random.default_rng(plan.seed)
    reader = PlateReader()
    sets: dict[str, list[tuple[bytes, tuple[PlacedPlate, ...]]]] = {}
    for name in ("clean", "hard", "none"):
        images = []
        for _ in range(plan.count):
            if name == "none":
                specs = []
            else:
                specs = [random_plate(rng)
                         for _ in range(2 if rng.random() < plan.two_plate_share else 1)]
            scene = render_scene(rng, specs, size=plan.size,
                                 difficulty="hard" if name == "hard" else "clean")
            images.append((encode_jpeg(scene.image, 90), scene.plates))
        sets[name] = images
    reader.read(sets["clean"][0][0])  # warm-up: model and caches
    tallies = {name: _Tally() for name in sets}
    false_reads = 0
    elapsed = 0.0
    cpu = 0.0
    count = 0
    for name, items in sets.items():
        for data, plates in items:
            started, started_cpu = time.perf_counter(), time.process_time()
            readings = reader.read(data)
            elapsed += time.perf_counter() - started
            cpu += time.process_time() - started_cpu
            count += 1
            if name == "none":
                false_reads += bool(readings)
                tallies[name].spurious += len(readings)
            else:
                _score(tallies[name], plates, readings)
    clean, hard = tallies["clean"], tallies["hard"]
    chars = clean.chars + hard.chars
    return {
        "scenario": "plates",
        "images": count,
        "exact_clean": round(clean.exact / max(clean.plates, 1), 4),
        "exact_hard": round(hard.exact / max(hard.plates, 1), 4),
        "char_accuracy": round((clean.chars_right + hard.chars_right) / max(chars, 1), 4),
        "false_reads": round(false_reads / max(plan.count, 1), 4),
        # CPU time of this process (one OpenCV thread): the cost on one core even when the
        # machine is shared; the wall clock is reported beside it.
        "ms_per_image": round(cpu * 1000 / max(count, 1), 2),
        "wall_ms_per_image": round(elapsed * 1000 / max(count, 1), 2),
        "seed": plan.seed,
        "plates_clean": clean.plates,
        "plates_hard": hard.plates,
        "spurious_on_plate_scenes": clean.spurious + hard.spurious,
        "by_color": {name: {c: f"{v[1]}/{v[0]}" for c, v in sorted(t.by_color.items())}
                     for name, t in (("clean", clean), ("hard", hard))},
        "misses": {"clean": clean.misses[:12], "hard": hard.misses[:12]},
    }


def describe(result: dict[str, Any]) -> str:
    lines = [
        f"plates: {result['images']} snapshots of 1280x720 (seed {result['seed']}), "
        f"{result['ms_per_image']} ms CPU each from JPEG bytes on one core "
        f"({result['wall_ms_per_image']} ms wall clock)",
        f"  exact plates: clean {result['exact_clean']:.2%} of {result['plates_clean']}, "
        f"hard {result['exact_hard']:.2%} of {result['plates_hard']}",
        f"  characters right: {result['char_accuracy']:.2%}",
        f"  false reads: {result['false_reads']:.2%} of plate-less snapshots; "
        f"{result['spurious_on_plate_scenes']} readings away from any plate on plate scenes",
    ]
    for name, colours in result["by_color"].items():
        lines.append(f"  {name} by colour: " + ", ".join(f"{c} {v}" for c, v in colours.items()))
    for name, misses in result["misses"].items():
        if misses:
            lines.append(f"  {name} misses (first {len(misses)}): " + "; ".join(misses))
    return "\n".join(lines)


def summary(result: dict[str, Any]) -> dict[str, Any]:
    """The JSON line: the DESIGN.md fields for this scenario."""
    keys = ("scenario", "images", "exact_clean", "exact_hard", "char_accuracy", "false_reads",
            "ms_per_image")
    return {k: result[k] for k in keys}
