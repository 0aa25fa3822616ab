"""GA 36 plate geometry, in millimetres, and the canonical size a plate is rectified to.

A small-car plate is 440×140 mm with seven characters 45×90 mm, 12 mm apart, except a
34 mm gap (with the separator dot) after the second; a new-energy plate is 480×140 mm with
eight characters 43 mm wide (the province 45 mm), 9 mm apart and a 49 mm gap after the
second. The reader rectifies every plate to PX_PER_MM and then looks for the characters
where these tables put them, refined by the ink it finds.
"""

from __future__ import annotations

from dataclasses import dataclass

PX_PER_MM = 0.5
PLATE_HEIGHT_MM = 140.0
CHAR_TOP_MM = 25.0
CHAR_HEIGHT_MM = 90.0


@dataclass(frozen=True, slots=True)
class Layout:
    name: str
    width_mm: float
    cells_mm: tuple[tuple[float, float], ...]  # (left, width) of each character

    @property
    def length(self) -> int:
        return len(self.cells_mm)

    @property
    def aspect(self) -> float:
        return self.width_mm / PLATE_HEIGHT_MM

    @property
    def size_px(self) -> tuple[int, int]:
        return round(self.width_mm * PX_PER_MM), round(PLATE_HEIGHT_MM * PX_PER_MM)


def _cells(margin: float, widths: list[float], spacing: float, gap: float
           ) -> tuple[tuple[float, float], ...]:
    cells, x = [], margin
    for i, width in enumerate(widths):
        cells.append((x, width))
        x += width + (gap if i == 1 else spacing)
    return tuple(cells)


STANDARD = Layout("standard", 440.0, _cells(15.5, [45.0] * 7, 12.0, 34.0))
NEW_ENERGY = Layout("new_energy", 480.0, _cells(15.5, [45.0] + [43.0] * 7, 9.0, 49.0))
LAYOUTS = (STANDARD, NEW_ENERGY)


def layout_for(color: str) -> Layout:
    return NEW_ENERGY if color == "green" else STANDARD
