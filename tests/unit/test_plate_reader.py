"""The plate reader on generated snapshots: every colour and length, the special endings,
turned, blurred, dark and noisy images, two plates, none. Uses the committed model."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from hub.devices.plates.reader import MIN_CONFIDENCE, PlateReading, read_plates
from hub.devices.plates.render import PlateSpec, encode_jpeg
from hub.devices.plates.scene import render_scene
from hub.domain.parking.plates import normalise_plate


def _scene(seed: int, *specs: PlateSpec) -> tuple[np.ndarray, tuple]:  # type: ignore[type-arg]
    scene = render_scene(np.random.default_rng(seed), list(specs))
    return scene.image, scene.plates


def _only(readings: list[PlateReading]) -> PlateReading:
    assert len(readings) == 1, [r.text for r in readings]
    return readings[0]


@pytest.mark.parametrize(("text", "color"), [
    ("京A12345", "blue"),
    ("沪B8K9D2", "blue"),
    ("粤BD12345", "green"),      # new energy: eight characters
    ("浙A12345F", "green"),
    ("鲁Q7X3M5", "yellow"),
    ("豫C1234学", "yellow"),      # driving school
    ("冀D5678挂", "yellow"),      # trailer
    ("京A0123警", "white"),       # police, the 警 in red
    ("粤Z1234港", "black"),       # cross-border
    ("粤Z5678澳", "black"),
    ("川A1234领", "black"),       # consular
    ("云A3456使", "black"),
])
def test_reads_every_colour_length_and_ending(text: str, color: str) -> None:
    image, plates = _scene(sum(map(ord, text)), PlateSpec(text, color))
    reading = _only(read_plates(encode_jpeg(image, 92)))
    assert (reading.text, reading.color) == (text, color)
    assert normalise_plate(reading.text) == reading.text
    assert len(reading.char_confidences) == len(text)
    assert reading.confidence == min(reading.char_confidences) >= MIN_CONFIDENCE
    # Corners within a fifth of the plate's height of the true outline.
    height = float(np.linalg.norm(plates[0].corners[3] - plates[0].corners[0]))
    assert float(np.abs(reading.corners - plates[0].corners).max()) < 0.2 * height + 2
    assert reading.crop.ndim == 3 and reading.crop.shape[1] > reading.crop.shape[0] * 3


def _rotated(image: np.ndarray) -> np.ndarray:  # type: ignore[type-arg]
    h, w = image.shape[:2]
    return cv2.warpAffine(image, cv2.getRotationMatrix2D((w / 2, h / 2), 9, 1.0), (w, h),
                          borderMode=cv2.BORDER_REPLICATE)


def _blurred(image: np.ndarray) -> np.ndarray:  # type: ignore[type-arg]
    return cv2.GaussianBlur(image, (0, 0), 1.3)


def _dark(image: np.ndarray) -> np.ndarray:  # type: ignore[type-arg]
    levels = ((np.arange(256) / 255) ** 1.5 * 0.35 * 255).astype(np.uint8)
    return cv2.LUT(image, levels)


def _noisy(image: np.ndarray) -> np.ndarray:  # type: ignore[type-arg]
    noise = np.random.default_rng(3).normal(0, 10, image.shape)
    return np.clip(image + noise, 0, 255).astype(np.uint8)


@pytest.mark.parametrize("spoil", [_rotated, _blurred, _dark, _noisy],
                         ids=["rotated", "blurred", "dark", "noisy"])
def test_reads_spoilt_snapshots(spoil) -> None:  # type: ignore[no-untyped-def]
    for text, color in (("晋K3Y6P8", "blue"), ("闽DF20518", "green")):
        image, _ = _scene(5, PlateSpec(text, color))
        assert _only(read_plates(spoil(image))).text == text


def test_reads_two_plates() -> None:
    image, _ = _scene(21, PlateSpec("湘A7B2C9", "blue"), PlateSpec("黑MD66601", "green"))
    assert sorted(r.text for r in read_plates(image)) == ["湘A7B2C9", "黑MD66601"]


@pytest.mark.parametrize("seed", range(8))
def test_no_plate_no_reading(seed: int) -> None:
    image, plates = _scene(1000 + seed)
    assert plates == ()
    assert read_plates(image) == []


def test_a_blank_image_has_no_plate() -> None:
    assert read_plates(np.zeros((720, 1280, 3), np.uint8)) == []
    assert read_plates(np.full((100, 100, 3), 255, np.uint8)) == []
