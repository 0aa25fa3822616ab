"""A simulated plate camera: `plate` events from vehicles arriving (an `in` lane) and leaving
(an `out` lane), with the habits of real ones: the same vehicle read again within a few
seconds, and now and then one character misread.

The cameras of a site share one `Vehicles` pool, so that a vehicle leaves only after it came
in. `image_source` is the hook of the plate-recognition work: when it returns a JPEG, the
camera sends the picture (`image`, base64, at most 48 KiB) and no plate of its own;
`rendered_plates()` is such a source drawn by hub.devices.plates.render when that is there.
`see(plate, image=True)` sends one picture whatever the camera's habit.

A camera and the gate of its lane share a lane controller: `lane_gate` hears of every read
(the plate as the camera read it, None when it sent only a picture) before the event goes
out, so that the gate can decide alone when the hub does not answer.
"""

from __future__ import annotations

import asyncio
import base64
import importlib.util
import random
from collections.abc import Callable, Iterable
from typing import Any, ClassVar, Protocol

from simulators.mqtt.device import Link, SimulatedDevice

ImageSource = Callable[[str, str], bytes | None]  # (plate, color) -> JPEG bytes, or None
MISREAD = "misread"
PROVINCES = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼"
# Pairs recognisers confuse; I and O never occur on a plate, which is why a misread shows.
CONFUSABLE = {"0": "D", "D": "0", "8": "B", "B": "8", "2": "Z", "Z": "2", "1": "I", "I": "1"}
MAX_REPEATS = 2
MAX_IMAGE_BYTES = 48 * 1024  # the contract's limit (docs/devices.md §5)


class LaneGate(Protocol):
    """The gate of the camera's lane (simulators.mqtt.gates.BarrierGate)."""

    lane: str

    async def vehicle_read(self, plate: str | None, direction: str,
                           lane: str | None = None) -> None: ...


def rendered_plates(height_px: int = 70) -> ImageSource | None:
    """JPEGs of the plate drawn straight on by the plate-recognition work's renderer; None
    when hub.devices.plates.render is not there (or cannot be imported)."""
    if importlib.util.find_spec("hub.devices.plates.render") is None:
        return None
    try:
        from hub.devices.plates import render
    except ImportError:  # its dependencies (OpenCV, numpy) missing
        return None

    def draw(plate: str, color: str) -> bytes | None:
        try:
            image = render.encode_jpeg(render.render_plate(
                render.PlateSpec(plate, color), height_px=height_px))
        except ValueError:  # a plate the renderer cannot draw: the camera reads it itself
            return None
        return image if len(image) <= MAX_IMAGE_BYTES else None
    return draw


def plate_color(plate: str) -> str:
    """Blue for the 7 characters of an ordinary plate, green for the 8 of a new-energy one."""
    return "green" if len(plate) == 8 else "blue"


def misread(plate: str, rng: random.Random) -> str:
    """The plate with one character read wrong: a confusable letter or digit, or the
    province character."""
    positions = [i for i, ch in enumerate(plate) if i > 0 and ch in CONFUSABLE]
    if positions and rng.random() < 0.75:
        i = rng.choice(positions)
        return plate[:i] + CONFUSABLE[plate[i]] + plate[i + 1:]
    return rng.choice([p for p in PROVINCES if p != plate[0]]) + plate[1:]


class Vehicles:
    """The vehicles of one site: residents' and visitors', and which of them are inside."""

    def __init__(self, residents: Iterable[str], visitors: Iterable[str] = (), *,
                 visitor_share: float = 0.3, rng: random.Random | None = None) -> None:
        self.residents = [p.replace(" ", "") for p in residents]
        self.visitors = [p.replace(" ", "") for p in visitors]
        self.visitor_share = visitor_share
        self.inside: set[str] = set()
        self._rng = rng or random.Random()  # noqa: S311 - a simulation, not a secret

    def arriving(self) -> str | None:
        first, second = self.residents, self.visitors
        if self._rng.random() < self.visitor_share:
            first, second = second, first
        outside = [p for p in first if p not in self.inside] or \
                  [p for p in second if p not in self.inside]
        if not outside:
            return None
        plate = self._rng.choice(outside)
        self.inside.add(plate)
        return plate

    def leaving(self) -> str | None:
        if not self.inside:
            return None
        plate = self._rng.choice(sorted(self.inside))
        self.inside.discard(plate)
        return plate


class PlateCamera(SimulatedDevice):
    kind: ClassVar[str] = "camera"
    faults: ClassVar[frozenset[str]] = SimulatedDevice.faults | {MISREAD}

    def __init__(self, site: str, device: str, link: Link, *, vehicles: Vehicles,
                 lane: str = "main", direction: str = "in", per_minute: float = 2.0,
                 repeat_probability: float = 0.3, misread_probability: float = 0.05,
                 image_source: ImageSource | None = None, lane_gate: LaneGate | None = None,
                 **options: Any) -> None:
        options.setdefault("period_s", 60.0)
        super().__init__(site, device, link, **options)
        if direction not in ("in", "out"):
            raise ValueError(f"direction must be in or out, not {direction!r}")
        self.vehicles, self.lane, self.direction = vehicles, lane, direction
        self.per_minute = per_minute
        self.repeat_probability, self.misread_probability = repeat_probability, misread_probability
        self.image_source = image_source
        self.lane_gate = lane_gate
        self.reads = 0

    def metrics(self) -> dict[str, Any]:
        return {"reads": self.reads}

    async def behave(self) -> None:
        async with asyncio.TaskGroup() as group:
            group.create_task(super().behave())
            group.create_task(self._traffic())

    async def _traffic(self) -> None:
        if self.per_minute <= 0:
            return
        while True:
            await asyncio.sleep(self.rng.expovariate(self.per_minute / 60))
            plate = self.vehicles.arriving() if self.direction == "in" else \
                self.vehicles.leaving()
            if plate is not None:
                await self.see(plate)

    async def see(self, plate: str, *, image: bool | None = None,
                  repeats: bool = True) -> None:
        """One vehicle in front of the camera: a read, perhaps repeated a moment later
        (`repeats=False`: exactly one read). `image` True sends only its picture (from
        `image_source`), False only the text, None as the camera's habit has it."""
        await self._read(plate, image)
        for _ in range(MAX_REPEATS if repeats else 0):
            if self.rng.random() >= self.repeat_probability:
                break
            await asyncio.sleep(self.rng.uniform(0.3, 3.0))
            await self._read(plate, image)

    async def _read(self, plate: str, image_wanted: bool | None = None) -> None:
        self.reads += 1
        color = plate_color(plate)
        image = None
        if image_wanted is not False and self.image_source is not None:
            image = self.image_source(plate, color)
        if image_wanted and image is None:
            raise ValueError(f"{self.key}: no picture of {plate} (no image_source, or it "
                             "cannot draw this plate)")
        if image is not None:
            await self._tell_gate(None)
            await self.event("plate", lane=self.lane, direction=self.direction, plate=None,
                             color=None, confidence=None,
                             image=base64.b64encode(image).decode("ascii"))
            return
        wrong = MISREAD in self.active_faults or self.rng.random() < self.misread_probability
        confidence = self.rng.uniform(0.55, 0.8) if wrong else self.rng.uniform(0.9, 0.99)
        text = misread(plate, self.rng) if wrong else plate
        await self._tell_gate(text)
        await self.event("plate", lane=self.lane, direction=self.direction, plate=text,
                         color=color, confidence=round(confidence, 2))

    async def _tell_gate(self, plate: str | None) -> None:
        if self.lane_gate is not None:
            await self.lane_gate.vehicle_read(plate, self.direction, self.lane)


def pair_lanes(gates: Iterable[LaneGate], cameras: Iterable[PlateCamera]) -> None:
    """Give every camera the gate of its lane, as one lane controller would: the gate whose
    `lane` is the camera's, or its prefix (a gate "north" serves "north-in", "north-out")."""
    by_lane = {gate.lane: gate for gate in gates}
    for camera in cameras:
        name = camera.lane
        gate = by_lane.get(name) or by_lane.get(name.rsplit("-", 1)[0] if "-" in name else "")
        if gate is not None:
            camera.lane_gate = gate
