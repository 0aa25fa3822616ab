"""The plate glyph atlas: every character a plate can carry, drawn once from Noto Sans CJK
(SIL OFL 1.1, see assets/OFL.txt) by scripts/make_glyph_atlas.py and committed, so that
drawing a plate needs neither the font nor Pillow."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

import cv2
import numpy as np
from numpy.typing import NDArray

ASSETS = Path(__file__).resolve().parent / "assets"


@cache
def _atlas() -> tuple[NDArray[np.uint8], dict[str, tuple[int, int]], tuple[int, int]]:
    index = json.loads((ASSETS / "glyphs.json").read_text(encoding="utf-8"))
    image = cv2.imread(str(ASSETS / "glyphs.png"), cv2.IMREAD_GRAYSCALE)
    if image is None:
        raise FileNotFoundError(ASSETS / "glyphs.png")
    width, height = index["cell"]
    columns = index["columns"]
    cells = {ch: (i // columns * height, i % columns * width)
             for i, ch in enumerate(index["chars"])}
    return image.astype(np.uint8, copy=False), cells, (int(width), int(height))


def characters() -> str:
    """Every character the atlas holds."""
    return "".join(_atlas()[1])


def glyph(char: str) -> NDArray[np.uint8]:
    """The character as ink coverage (0 paper, 255 ink), the full 45x90 mm GA 36 cell at
    2 px/mm. A read-only view: copy before writing."""
    image, cells, (width, height) = _atlas()
    try:
        top, left = cells[char]
    except KeyError:
        raise KeyError(f"no glyph for {char!r} in the plate atlas") from None
    cell = image[top:top + height, left:left + width]
    cell.flags.writeable = False
    return cell
