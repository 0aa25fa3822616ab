"""Stored telemetry of one device, for charts: raw readings or 1-minute/1-hour buckets."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import AwareDatetime

from hub.api.deps import ActorDep, HubDep, SessionDep
from hub.api.schemas.common import Id
from hub.api.schemas.telemetry import BucketPoint, RawPoint, TelemetryOut
from hub.domain.errors import Invalid
from hub.views import telemetry as views

router = APIRouter(prefix="/api/v1", tags=["telemetry"])

# As devices name their metrics (hub.devices.mqtt.fields.METRIC_NAME).
METRIC = r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}$"


@router.get("/devices/{device_id}/telemetry", response_model_by_alias=True)
async def device_telemetry(
    device_id: Id, actor: ActorDep, db: SessionDep, hub: HubDep,
    metric: Annotated[str | None, Query(pattern=METRIC, description="e.g. floor")] = None,
    start: Annotated[AwareDatetime | None, Query(
        alias="from", description="ISO 8601 with offset; default: an hour before `to`")] = None,
    end: Annotated[AwareDatetime | None, Query(
        alias="to", description="ISO 8601 with offset, excluded; default: now")] = None,
    step: Annotated[views.Step, Query(
        description="raw, 1m, 1h, or auto: the finest step that fits "
                    f"{views.MAX_POINTS} points and whose data is still kept")] = "auto",
) -> TelemetryOut:
    """Points in [from, to), oldest first, at most 2,000; a range that needs more at the
    requested step is a 422 naming `step` (or `from` when no step fits)."""
    # Scope first: a device the caller may not see is a 404 whatever else is wrong.
    await views.visible_device(db, actor, device_id)
    if metric is None:
        raise Invalid("metric is required, e.g. metric=floor", field="query.metric")
    now, limits = hub.clock(), hub.settings.telemetry
    start, end = views.window(start, end, now)
    kept = views.Kept(raw_since=now - timedelta(days=limits.raw_retention_days),
                      minutes_since=now - timedelta(days=limits.minute_retention_days))
    found = await views.series(db, device_id, metric, start, end, step, kept)
    model = RawPoint if found["step"] == "raw" else BucketPoint
    return TelemetryOut(device_id=device_id, metric=metric, step=found["step"], start=start,
                        end=end, points=[model.model_validate(p) for p in found["points"]])
