"""The evidence behind a gate decision: the camera's snapshot, kept compressed, and the plate
crop the reader cut from it, as files under `<data_dir>/evidence`.

    evidence = GateEvidence(EvidenceFiles(root), pool)      # pool: hub.devices.plates
    flow = GateFlow(gate, clock, reader=evidence.reader, evidence=evidence)

A snapshot is known by the SHA-256 of the bytes the camera sent (`<sha256>.jpg`, the
decision's `snapshot_ref`); its crop is named after it (`<sha256>.crop.png`), so one
reference finds both and the decision record needs no second column. The name is known
before any pixel is touched, so the decision is stored at once and the files are written
just after it, in a thread (decoding and re-encoding is CPU work, never on the event loop):
a snapshot of at most `max_side` pixels on its longest side at a moderate JPEG quality (or
the camera's own bytes when they are smaller), and the crop as a lossless PNG.

The crop comes from the read that needed the image (no text, or text below
`read_confidence`); a confident camera read with a picture keeps the snapshot only. A payload
the reader refuses (corrupt, truncated, too large) keeps no file and leaves its reason on the
decision, which is then held for a guard.

Files go with the plate logs: the gate's retention deletes decisions after
`log_retention_days` (hub.parking.steps), and `parking.evidence.retention` then removes the
files no decision references any more (after an hour, so that a file written just before its
decision is committed is not taken for an orphan).

OpenCV and the reader are imported where they are used: a hub that never sees a snapshot (an
API-only process, most tests) does not load them.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import re
import tempfile
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub.devices.plates.errors import PlateImageRejected
from hub.domain.errors import NotFound
from hub.parking.reading import PlateImageReader, PlateReadingLike
from hub.store.parking_session_tables import parking_gate_decisions

if TYPE_CHECKING:
    from hub.parking.gate import Read
    from hub.settings import Settings

log = logging.getLogger(__name__)

SNAPSHOT_REF = re.compile(r"^([0-9a-f]{64})\.jpg$")
CROP_SUFFIX = ".crop.png"
ORPHAN_GRACE = timedelta(hours=1)
MAX_PENDING = 256  # snapshots waiting to be written; beyond it one is dropped, not queued
MAX_NOTES = 256  # reads whose crop or refusal waits for its decision
CHUNK = 500


@dataclass(frozen=True)
class _Note:
    crop: Any = None  # the plate's rectified image (BGR array), if a reading had one
    refused: str | None = None  # why the reader could not read the snapshot


def is_snapshot_ref(ref: str) -> bool:
    return bool(SNAPSHOT_REF.match(ref))


class EvidenceFiles:
    """Snapshots and crops under `root/ab/`, written aside then renamed (never half a file)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def snapshot_path(self, ref: str) -> Path:
        if not is_snapshot_ref(ref):
            raise NotFound("snapshot", ref)
        return self.root / ref[:2] / ref

    def crop_path(self, ref: str) -> Path:
        path = self.snapshot_path(ref)
        return path.with_name(ref.removesuffix(".jpg") + CROP_SUFFIX)

    def write(self, path: Path, data: bytes) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".part")
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(data)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    async def snapshot(self, ref: str) -> bytes:
        return await self._read(self.snapshot_path(ref), "snapshot", ref)

    async def crop(self, ref: str) -> bytes:
        return await self._read(self.crop_path(ref), "plate crop", ref)

    @staticmethod
    async def _read(path: Path, kind: str, ref: str) -> bytes:
        try:
            return await asyncio.to_thread(path.read_bytes)
        except FileNotFoundError:
            raise NotFound(kind, ref) from None

    def stored(self) -> Iterator[tuple[str, Path]]:
        """(snapshot ref, path) of every evidence file, crops under their snapshot's ref."""
        if not self.root.is_dir():
            return
        for folder in self.root.iterdir():
            if not folder.is_dir():
                continue
            for path in folder.iterdir():
                name = path.name
                ref = name.removesuffix(CROP_SUFFIX) + ".jpg" if name.endswith(CROP_SUFFIX) \
                    else name
                if is_snapshot_ref(ref):
                    yield ref, path


def compress_snapshot(image: bytes, max_side: int, quality: int) -> bytes:
    """The snapshot as a JPEG of at most `max_side` pixels on its longest side at `quality`,
    or the camera's own bytes when those are already that small and smaller. Raises
    PlateImageRejected (hub.devices.plates) for what is not a snapshot."""
    import cv2

    from hub.devices.plates.decode import decode_image

    bgr = decode_image(image)
    height, width = bgr.shape[:2]
    longest = max(height, width)
    if longest > max_side:
        scale = max_side / longest
        bgr = cv2.resize(bgr, (max(1, round(width * scale)), max(1, round(height * scale))),
                         interpolation=cv2.INTER_AREA)
    ok, buf = cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise ValueError("the snapshot could not be re-encoded")
    encoded: bytes = buf.tobytes()
    if longest <= max_side and image.startswith(b"\xff\xd8\xff") and len(image) <= len(encoded):
        return image
    return encoded


def encode_crop(crop: Any) -> bytes:
    import cv2

    ok, buf = cv2.imencode(".png", crop)
    if not ok:
        raise ValueError("the plate crop could not be encoded")
    data: bytes = buf.tobytes()
    return data


class GateEvidence:
    """Keeps the evidence of the gate flow's reads and, given a plate reader, reads for it.

    `reader` (the flow's PlateImageReader) is this object when a pool was given: it reads
    through the pool and notes the crop, or the refusal, of each image until the flow
    `attach`es that image to its decision."""

    def __init__(self, files: EvidenceFiles, pool: PlateImageReader | None = None, *,
                 max_side: int = 1280, quality: int = 75) -> None:
        self.files = files
        self._pool = pool
        self.max_side = max_side
        self.quality = quality
        self._notes: OrderedDict[str, _Note] = OrderedDict()
        self._pending: set[asyncio.Task[None]] = set()
        self.kept = 0
        self.dropped = 0
        self.failed = 0

    @property
    def reader(self) -> PlateImageReader | None:
        return self if self._pool is not None else None

    async def read(self, image: bytes) -> PlateReadingLike | None:
        """Read through the pool; a refused payload or a failed worker is no plate, with its
        reason noted for the decision (never an exception through the gate)."""
        from hub.devices.plates.pool import PlateReadFailed

        assert self._pool is not None
        key = _digest(image)
        try:
            reading = await self._pool.read(image)
        except PlateImageRejected as err:
            log.warning("plate reader refused a snapshot: %s", err)
            self._note(key, _Note(refused=f"the snapshot was refused by the plate reader: {err}"))
            return None
        except PlateReadFailed as err:
            log.warning("plate reader failed: %s", err)
            self._note(key, _Note(refused=f"the plate reader failed on the snapshot: {err}"))
            return None
        if reading is not None:
            self._note(key, _Note(crop=getattr(reading, "crop", None)))
        return reading

    def _note(self, key: str, note: _Note) -> None:
        self._notes[key] = note
        self._notes.move_to_end(key)
        while len(self._notes) > MAX_NOTES:  # reads whose decision never came (unknown lane)
            self._notes.popitem(last=False)

    async def attach(self, read: Read) -> None:
        """Before the decision is stored: name its snapshot (and crop) and have them written;
        a refused payload adds its reason instead."""
        image = read.source.image
        if image is None:
            return
        key = _digest(image)
        note = self._notes.pop(key, None) or _Note()
        if note.refused is not None:
            read.reasons.append(note.refused)
            return
        if not image:
            return
        ref = f"{key}.jpg"
        read.snapshot_ref = ref
        if len(self._pending) >= MAX_PENDING:
            self.dropped += 1
            log.error("evidence writer behind (%d pending): snapshot %s not kept",
                      len(self._pending), ref)
            return
        task = asyncio.create_task(self._keep(ref, image, note.crop))
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def _keep(self, ref: str, image: bytes, crop: Any) -> None:
        try:
            await asyncio.to_thread(self.keep_sync, ref, image, crop)
            self.kept += 1
        except (ValueError, OSError) as err:  # the decision stands; only its picture is lost
            self.failed += 1
            log.warning("evidence %s not kept: %s", ref, err)

    def keep_sync(self, ref: str, image: bytes, crop: Any = None) -> None:
        snapshot = self.files.snapshot_path(ref)
        if not snapshot.exists():
            self.files.write(snapshot, compress_snapshot(image, self.max_side, self.quality))
        if crop is not None:
            path = self.files.crop_path(ref)
            if not path.exists():
                self.files.write(path, encode_crop(crop))

    async def warm(self) -> None:
        """Start the reader's workers now (their model loaded), not at the first car; a
        no-op without a pool."""
        start = getattr(self._pool, "worker_pids", None)
        if start is not None:
            await start()

    async def drain(self) -> None:
        """Wait for the files being written (tests; shutdown)."""
        while self._pending:
            await asyncio.gather(*list(self._pending), return_exceptions=True)

    async def aclose(self) -> None:
        await self.drain()
        close = getattr(self._pool, "aclose", None)
        if close is not None:
            await close()


def _digest(image: bytes) -> str:
    return hashlib.sha256(image).hexdigest()


async def run_evidence_retention(sessions: async_sessionmaker[AsyncSession],
                                 files: EvidenceFiles, now: datetime,
                                 grace: timedelta = ORPHAN_GRACE) -> int:
    """Remove the snapshots and crops no decision references any more (their decisions were
    deleted by the plate logs' retention), once older than `grace`. Returns how many files."""
    horizon = (now - grace).timestamp()
    by_ref: dict[str, list[Path]] = {}
    for ref, path in await asyncio.to_thread(lambda: list(files.stored())):
        by_ref.setdefault(ref, []).append(path)
    refs = sorted(by_ref)
    removed = 0
    for start in range(0, len(refs), CHUNK):
        chunk = refs[start:start + CHUNK]
        async with sessions() as db:
            referenced = set((await db.execute(
                select(parking_gate_decisions.c.snapshot_ref).distinct()
                .where(parking_gate_decisions.c.snapshot_ref.in_(chunk)))).scalars())
        for ref in chunk:
            if ref not in referenced:
                removed += await asyncio.to_thread(_unlink_older, by_ref[ref], horizon)
    return removed


def _unlink_older(paths: list[Path], horizon: float) -> int:
    removed = 0
    for path in paths:
        try:
            if path.stat().st_mtime < horizon:
                path.unlink()
                removed += 1
        except FileNotFoundError:
            pass
    return removed


def evidence_from(settings: Settings) -> GateEvidence:
    """The composition root's evidence keeper, with a plate reader pool of
    `parking.reader_workers` processes (none when 0); the pool starts its workers at the
    first read."""
    parking = settings.parking
    pool: PlateImageReader | None = None
    if parking.reader_workers > 0:
        from hub.devices.plates.pool import PlateReaderPool

        pool = PlateReaderPool(workers=parking.reader_workers,
                               timeout_s=parking.reader_timeout_s)
    return GateEvidence(EvidenceFiles(settings.data_dir / "evidence"), pool,
                        max_side=parking.evidence_max_side, quality=parking.evidence_quality)


def evidence_retention(sessions: async_sessionmaker[AsyncSession], evidence: GateEvidence
                       ) -> tuple[float, Any]:
    """(every seconds, step) of `parking.evidence.retention` for the composition root."""
    async def step(now: datetime) -> int:
        return await run_evidence_retention(sessions, evidence.files, now)

    return 3600.0, step
