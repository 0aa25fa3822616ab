"""`hub plates read IMAGE...`: what the plate reader reads in snapshots, with timing."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer

plates_app = typer.Typer(help="Licence plates in camera snapshots.", no_args_is_help=True)


@plates_app.command("read")
def read(
    images: Annotated[list[Path], typer.Argument(help="JPEG or PNG snapshots.")],
    threads: Annotated[int, typer.Option(
        min=1, help="OpenCV threads (1 measures one core).")] = 1,
) -> None:
    """Print each plate read: text, colour, confidence, corners and milliseconds. A file
    that is not a snapshot is named with the reason; the exit status is 1 if any was."""
    import cv2

    from hub.devices.plates.errors import PlateImageRejected
    from hub.devices.plates.reader import default_reader

    cv2.setNumThreads(threads)
    reader = default_reader()
    failed = False
    for path in images:
        try:
            data = path.read_bytes()
        except OSError as err:
            typer.secho(f"{path}: {err.strerror or err}", err=True, fg="red")
            failed = True
            continue
        started = time.perf_counter()
        try:
            readings = reader.read(data)
        except PlateImageRejected as err:
            typer.secho(f"{path}: rejected: {err}", err=True, fg="red")
            failed = True
            continue
        ms = (time.perf_counter() - started) * 1000
        if not readings:
            typer.echo(f"{path}: no plate ({ms:.1f} ms)")
        for reading in readings:
            corners = " ".join(f"{x:.0f},{y:.0f}" for x, y in reading.corners.tolist())
            chars = " ".join(f"{c:.2f}" for c in reading.char_confidences)
            typer.echo(f"{path}: {reading.text} {reading.color} confidence "
                       f"{reading.confidence:.3f} [{chars}] corners {corners} ({ms:.1f} ms)")
    if failed:
        raise typer.Exit(1)
