"""A plate's background colour told from its rectified front view, also when light falls
unevenly across it."""

from __future__ import annotations

import numpy as np
import pytest

from hub.devices.plates.rectify import plate_color
from hub.devices.plates.render import PlateSpec, render_plate


def _shadowed(plate: np.ndarray, depth: float) -> np.ndarray:  # type: ignore[type-arg]
    """A shadow over the right half of the plate, its edge soft: that half `depth` as
    bright."""
    w = plate.shape[1]
    ramp = np.clip((np.arange(w) - 0.45 * w) / (0.1 * w), 0, 1)
    light = (1 - (1 - depth) * ramp)[None, :, None]
    return (plate * light).astype(np.uint8)


@pytest.mark.parametrize(("text", "color"), [
    ("京A0123警", "white"),
    ("粤Z1234港", "black"),
    ("新K5WG2港", "black"),  # dense characters: the gaps between strokes as thin as strokes
    ("京A12345", "blue"),
    ("粤BD12345", "green"),
])
@pytest.mark.parametrize("depth", [1.0, 0.35])
def test_colour_survives_a_shadow_across_the_plate(text: str, color: str, depth: float
                                                   ) -> None:
    plate = _shadowed(render_plate(PlateSpec(text, color), height_px=70), depth)
    assert plate_color(plate) == color
