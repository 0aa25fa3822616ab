"""Render the plate glyph atlas (hub/devices/plates/assets/glyphs.png + glyphs.json) from
Noto Sans CJK SC Bold (SIL OFL 1.1), so that nothing at run time needs the font or Pillow.

Every character a plate can carry (hub.domain.parking.plates: PROVINCES, LETTERS, DIGITS,
SPECIALS) is drawn into one cell of 2x the GA 36 character box (45 mm x 90 mm -> 90 x 180 px),
ink white on black, 8-bit grey. The real plate characters are tall and narrow: the glyphs are
cropped to their ink and stretched to fill the cell (the digit 1 keeps its narrow width).

    apt-get install -y fonts-noto-cjk
    .venv/bin/python scripts/make_glyph_atlas.py [--font PATH] [--index 2]

The output is deterministic for a given font file.
"""

from __future__ import annotations

import argparse
import hashlib
import json
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from hub.domain.parking.plates import DIGITS, LETTERS, PROVINCES, SPECIALS

FONT = "/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc"
FONT_INDEX = 2  # Noto Sans CJK SC: the simplified Chinese forms
CELL_W, CELL_H = 90, 180  # 2 px per mm of the 45 mm x 90 mm GA 36 character box
COLUMNS = 12
NARROW = {"1": 0.42}  # share of the cell width a narrow character keeps
OUT = Path(__file__).resolve().parents[1] / "hub" / "devices" / "plates" / "assets"


def ink(font: ImageFont.FreeTypeFont, char: str) -> np.ndarray:
    """The character drawn large, cropped to its ink."""
    size = font.size
    canvas = Image.new("L", (size * 2, size * 2), 0)
    ImageDraw.Draw(canvas).text((size // 2, size // 4), char, fill=255, font=font)
    pixels = np.asarray(canvas)
    rows, cols = np.nonzero(pixels > 32)
    if rows.size == 0:
        raise SystemExit(f"the font has no glyph for {char!r}")
    return pixels[rows.min():rows.max() + 1, cols.min():cols.max() + 1]


def cell(font: ImageFont.FreeTypeFont, char: str) -> np.ndarray:
    glyph = Image.fromarray(ink(font, char))
    width = round(CELL_W * NARROW.get(char, 1.0))
    stretched = np.asarray(glyph.resize((width, CELL_H), Image.Resampling.LANCZOS))
    out = np.zeros((CELL_H, CELL_W), np.uint8)
    left = (CELL_W - width) // 2
    # 16 grey levels: the anti-aliased edge survives, the PNG stays small.
    out[:, left:left + width] = (stretched.astype(np.uint16) + 8) // 17 * 17
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--font", default=FONT)
    parser.add_argument("--index", type=int, default=FONT_INDEX)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    font = ImageFont.truetype(args.font, 400, index=args.index)
    chars = PROVINCES + SPECIALS + LETTERS + DIGITS
    rows = -(-len(chars) // COLUMNS)
    atlas = np.zeros((rows * CELL_H, COLUMNS * CELL_W), np.uint8)
    for i, char in enumerate(chars):
        r, c = divmod(i, COLUMNS)
        atlas[r * CELL_H:(r + 1) * CELL_H, c * CELL_W:(c + 1) * CELL_W] = cell(font, char)
    args.out.mkdir(parents=True, exist_ok=True)
    Image.fromarray(atlas).save(args.out / "glyphs.png", optimize=True)
    index = {
        "chars": chars,
        "cell": [CELL_W, CELL_H],
        "columns": COLUMNS,
        "mm": [45, 90],
        "font": " ".join(font.getname()),
        "font_file": Path(args.font).name,
        "font_sha256": hashlib.sha256(Path(args.font).read_bytes()).hexdigest(),
    }
    (args.out / "glyphs.json").write_text(json.dumps(index, ensure_ascii=False, indent=1) + "\n",
                                          encoding="utf-8")
    print(f"{len(chars)} glyphs -> {args.out / 'glyphs.png'}")


if __name__ == "__main__":
    main()
