"""The plate renderer: the glyph atlas, GA 36 plates of every colour, seeded scenes whose
plate corners are where the plates are, and the camera's snapshots within the size limit."""

from __future__ import annotations

from itertools import pairwise

import cv2
import numpy as np
import pytest

from hub.devices.plates.camera_images import (
    MAX_IMAGE_BYTES,
    fit_jpeg,
    plate_image_source,
    spec_for,
)
from hub.devices.plates.glyphs import characters, glyph
from hub.devices.plates.render import (
    COLORS,
    SPECIALS_BY_COLOR,
    PlateSpec,
    encode_jpeg,
    layout_of,
    random_plate,
    render_plate,
)
from hub.devices.plates.scene import front_view, render_scene
from hub.domain.parking.plates import DIGITS, LETTERS, PROVINCES, SPECIALS, is_plate

# One plate of each colour and length, and every special ending.
PLATES = [PlateSpec("京A12345", "blue"), PlateSpec("粤BD12345", "green"),
          PlateSpec("鲁C5678F", "yellow"), PlateSpec("沪D1234学", "yellow"),
          PlateSpec("冀E2345挂", "yellow"), PlateSpec("苏F1234警", "white"),
          PlateSpec("粤Z1234港", "black"), PlateSpec("粤Z5678澳", "black"),
          PlateSpec("沪A0023领", "black"), PlateSpec("京A0188使", "black")]
BLUE, YELLOW, WHITE, BLACK, RED = "blue", "yellow", "white", "black", "red"


def _hue(bgr: np.ndarray) -> str:
    b, g, r = (float(v) for v in bgr)
    rules = [(BLACK, max(b, g, r) < 70), (WHITE, min(b, g, r) > 180),
             (BLUE, b > r + 60 and b > g + 40), (YELLOW, r > b + 80 and g > b + 80),
             (RED, r > g + 80 and r > b + 80), ("green", g > r + 40 and g > b)]
    return next((name for name, hit in rules if hit), "other")


def _ink_and_paper(plate: np.ndarray, spec: PlateSpec, index: int) -> tuple[str, str]:
    """The colour of the ink and of the paper inside one character's cell."""
    scale = plate.shape[0] / 140
    left, width = layout_of(spec.color).cells_mm[index]
    x0, x1 = round(left * scale), round((left + width) * scale)
    y0, y1 = round(25 * scale), round(115 * scale)
    coverage = cv2.resize(glyph(spec.text[index]), (x1 - x0, y1 - y0))
    cell = plate[y0:y1, x0:x1].reshape(-1, 3)
    flat = coverage.reshape(-1)
    return _hue(np.median(cell[flat > 230], axis=0)), _hue(np.median(cell[flat < 20], axis=0))


def _gray(image: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(image, cv2.COLOR_BGR2GRAY).astype(np.float32)


def _correlation(a: np.ndarray, b: np.ndarray) -> float:
    a, b = a - a.mean(), b - b.mean()
    return float((a * b).sum() / np.sqrt((a * a).sum() * (b * b).sum()))


def _boxes_apart(a: np.ndarray, b: np.ndarray) -> bool:
    return bool(a[:, 0].max() < b[:, 0].min() or b[:, 0].max() < a[:, 0].min()
                or a[:, 1].max() < b[:, 1].min() or b[:, 1].max() < a[:, 1].min())


def test_the_atlas_holds_every_character_a_plate_can_carry() -> None:
    needed = set(PROVINCES + LETTERS + DIGITS + SPECIALS)
    assert needed <= set(characters())
    assert not {"I", "O"} & set(characters())
    for char in needed:
        cell = glyph(char)
        assert cell.shape == (180, 90)
        ink = (cell > 128).mean()
        assert 0.1 < ink < 0.8, char  # drawn, and not a filled box
    # distinct glyphs: no two characters share a drawing (a missing glyph renders as tofu)
    drawings = {glyph(c).tobytes() for c in needed}
    assert len(drawings) == len(needed)


@pytest.mark.parametrize("spec", PLATES, ids=lambda s: f"{s.color}-{s.text}")
def test_every_colour_and_length_renders_at_ga36_size_and_colours(spec: PlateSpec) -> None:
    plate = render_plate(spec, height_px=140)
    assert plate.shape == (140, 480 if spec.color == "green" else 440, 3)
    assert plate.dtype == np.uint8
    half = render_plate(spec, height_px=70)
    assert half.shape == (70, 240 if spec.color == "green" else 220, 3)
    ink, paper = {"blue": (WHITE, BLUE), "green": (BLACK, "green"), "yellow": (BLACK, YELLOW),
                  "white": (BLACK, WHITE), "black": (WHITE, BLACK)}[spec.color]
    last = len(spec.text) - 1
    for index in range(len(spec.text)):
        want_ink = RED if spec.color == "white" and index == last else ink
        got_ink, got_paper = _ink_and_paper(plate, spec, index)
        assert got_ink == want_ink, (spec, index)
        if spec.color != "green":  # the green plate's paper is a white-to-green gradient
            assert got_paper == paper, (spec, index)
    if spec.color == "green":
        assert _hue(plate[10, 240]) == WHITE and _hue(plate[128, 240]) == "green"


def test_a_plate_of_the_wrong_length_or_colour_is_refused() -> None:
    with pytest.raises(ValueError, match="8 characters"):
        PlateSpec("京A12345", "green")
    with pytest.raises(ValueError, match="color"):
        PlateSpec("京A12345", "red")


def test_random_plates_are_valid_plates_of_their_colour() -> None:
    rng = np.random.default_rng(3)
    seen = set()
    for _ in range(400):
        spec = random_plate(rng)
        assert is_plate(spec.text), spec
        assert len(spec.text) == (8 if spec.color == "green" else 7)
        if spec.text[-1] in SPECIALS:
            assert spec.text[-1] in SPECIALS_BY_COLOR[spec.color], spec
        seen.add(spec.color)
    assert seen == set(COLORS)
    for _ in range(50):
        special = random_plate(rng, special=True)
        assert special.text[-1] in SPECIALS_BY_COLOR[special.color]
        assert random_plate(rng, "yellow", special=False).text[-1] not in SPECIALS
    with pytest.raises(ValueError, match="no special"):
        random_plate(rng, "blue", special=True)


@pytest.mark.parametrize("seed", range(6))
def test_the_corners_are_where_the_plate_is(seed: int) -> None:
    rng = np.random.default_rng(seed)
    spec = random_plate(rng, COLORS[seed % len(COLORS)])
    scene = render_scene(rng, [spec], difficulty="clean")
    assert scene.image.shape == (720, 1280, 3) and scene.image.dtype == np.uint8
    (placed,) = scene.plates
    assert placed.spec == spec and placed.corners.shape == (4, 2)
    corners = placed.corners
    width = np.linalg.norm(corners[1] - corners[0])
    assert 100 < width < 360
    assert (corners >= 0).all() and (corners[:, 0] < 1280).all() and (corners[:, 1] < 720).all()
    straight = render_plate(spec, height_px=70)
    back = front_view(scene.image, corners, 70, spec.color)
    inner = (slice(8, 62), slice(8, straight.shape[1] - 8))  # leave out the rounded corners
    assert _correlation(_gray(back)[inner], _gray(straight)[inner]) > 0.9
    # and a plate outline a fifth of a plate off is not where the plate is
    shifted = corners + (corners[1] - corners[0]) * 0.2
    off = front_view(scene.image, shifted, 70, spec.color)
    assert _correlation(_gray(off)[inner], _gray(straight)[inner]) < 0.6


def test_a_scene_is_reproducible_from_its_seed() -> None:
    def scene(seed: int, difficulty: str) -> tuple[bytes, list[tuple[str, bytes]]]:
        rng = np.random.default_rng(seed)
        s = render_scene(rng, [random_plate(rng), random_plate(rng)], difficulty=difficulty)
        return s.image.tobytes(), [(p.spec.text, p.corners.tobytes()) for p in s.plates]

    for difficulty in ("clean", "hard"):
        assert scene(11, difficulty) == scene(11, difficulty)
        assert scene(11, difficulty)[0] != scene(12, difficulty)[0]


def test_plateless_scenes_have_no_plates_but_look_alikes() -> None:
    for seed in range(4):
        rng = np.random.default_rng(seed)
        scene = render_scene(rng, [], difficulty="hard" if seed % 2 else "clean")
        assert scene.plates == ()
        assert scene.image.shape == (720, 1280, 3)
        assert scene.image.std() > 10  # not a blank frame


@pytest.mark.parametrize("seed", range(5))
def test_two_plates_in_one_scene_do_not_overlap(seed: int) -> None:
    rng = np.random.default_rng(100 + seed)
    specs = [random_plate(rng), random_plate(rng)]
    scene = render_scene(rng, specs, difficulty="hard")
    assert [p.spec for p in scene.plates] == specs
    first, second = (p.corners for p in scene.plates)
    assert _boxes_apart(first, second)


def test_a_scene_can_be_any_size() -> None:
    rng = np.random.default_rng(5)
    scene = render_scene(rng, [random_plate(rng)], size=(1920, 1080))
    assert scene.image.shape == (1080, 1920, 3)
    with pytest.raises(ValueError, match="difficulty"):
        render_scene(rng, [], difficulty="medium")


def test_clean_snapshots_fit_the_camera_limit_at_quality_70() -> None:
    for seed in range(6):
        rng = np.random.default_rng(seed)
        scene = render_scene(rng, [random_plate(rng)], difficulty="clean")
        data = encode_jpeg(scene.image, 70)
        assert data[:3] == b"\xff\xd8\xff"
        assert len(data) <= MAX_IMAGE_BYTES, (seed, len(data))


def test_fit_jpeg_brings_any_scene_under_the_limit() -> None:
    rng = np.random.default_rng(8)
    noisy = rng.integers(0, 256, (720, 1280, 3), dtype=np.uint8)  # the worst case: pure noise
    data = fit_jpeg(noisy)
    assert len(data) <= MAX_IMAGE_BYTES
    decoded = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    assert decoded is not None and decoded.shape[1] < 1280  # it had to shrink
    scene = render_scene(rng, [random_plate(rng)], difficulty="hard")
    assert len(fit_jpeg(scene.image)) <= MAX_IMAGE_BYTES


def test_the_camera_source_sends_images_on_its_share_of_reads() -> None:
    never = plate_image_source(share=0.0, seed=1)
    assert all(never("京A12345", "blue") is None for _ in range(20))
    always = plate_image_source(share=1.0, hard_share=0.5, seed=1)
    for plate, color in (("京A12345", "blue"), ("粤BD12345", "green")):
        data = always(plate, color)
        assert data is not None and len(data) <= MAX_IMAGE_BYTES
        image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
        assert image is not None and image.shape[0] > 0
    some = plate_image_source(share=0.5, seed=2)
    sent = sum(some("京A12345", "blue") is not None for _ in range(40))
    assert 8 < sent < 32
    with pytest.raises(ValueError, match="share"):
        plate_image_source(share=1.5)


def test_the_camera_source_draws_the_plate_in_its_colour() -> None:
    assert spec_for("苏F1234警", "blue") == PlateSpec("苏F1234警", "white")
    assert spec_for("粤Z1234港", "blue") == PlateSpec("粤Z1234港", "black")
    assert spec_for("粤BD12345", "blue") == PlateSpec("粤BD12345", "green")
    assert spec_for("京A 12345", "yellow") == PlateSpec("京A12345", "yellow")
    assert spec_for("京A1234", "blue") is None  # too short: the camera sends text instead
    assert spec_for("京AI2345", "blue", set(characters())) is None  # no I on a plate


def test_hard_scenes_are_harder_to_read_back_than_clean_ones() -> None:
    clean, hard = [], []
    for seed in range(8):
        for difficulty, scores in (("clean", clean), ("hard", hard)):
            rng = np.random.default_rng(300 + seed)
            spec = random_plate(rng, "blue")
            scene = render_scene(rng, [spec], difficulty=difficulty)
            straight = _gray(render_plate(spec, height_px=70))[8:62, 8:212]
            back = _gray(front_view(scene.image, scene.plates[0].corners, 70))[8:62, 8:212]
            scores.append(_correlation(back, straight))
    assert min(clean) > 0.9
    assert float(np.mean(hard)) < float(np.mean(clean)) - 0.05


def test_the_camera_source_is_reproducible_from_its_seed() -> None:
    first, second = plate_image_source(seed=4), plate_image_source(seed=4)
    assert first("京A12345", "blue") == second("京A12345", "blue")


def test_the_layouts_follow_ga36() -> None:
    for color, width, count in (("blue", 440, 7), ("green", 480, 8)):
        layout = layout_of(color)
        cells = layout.cells_mm
        assert layout.width_mm == width and len(cells) == count
        right_margin = width - (cells[-1][0] + cells[-1][1])
        assert cells[0][0] == right_margin == 15.5  # centred
        gaps = [b[0] - (a[0] + a[1]) for a, b in pairwise(cells)]
        assert gaps[1] == (34 if color == "blue" else 49)  # the separator's gap
        assert set(gaps[:1] + gaps[2:]) == {12 if color == "blue" else 9}
        dot_x, _ = layout.dot_mm
        assert cells[1][0] + cells[1][1] < dot_x < cells[2][0]
