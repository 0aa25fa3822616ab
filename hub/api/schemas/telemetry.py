"""Shapes of the telemetry route: raw points, or buckets with their aggregates."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class RawPoint(BaseModel):
    """One stored reading: a number (booleans as 0/1) in `value`, or a word in `text`."""

    time: datetime
    value: float | None
    text: str | None


class BucketPoint(BaseModel):
    """The numeric readings of one minute or hour; `time` is the bucket's start."""

    time: datetime
    count: int
    sum: float
    min: float
    max: float
    avg: float
    last: float


class TelemetryOut(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    device_id: int
    metric: str
    step: Literal["raw", "1m", "1h"]
    start: datetime = Field(alias="from")
    end: datetime = Field(alias="to")
    points: list[RawPoint] | list[BucketPoint]
