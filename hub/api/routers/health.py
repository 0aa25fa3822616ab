"""Liveness with per-component status, and readiness."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from hub import __version__
from hub.api.deps import HubDep
from hub.health import overall

router = APIRouter(tags=["health"])


@router.get("/health")
async def health(hub: HubDep) -> dict[str, Any]:
    """The process is alive; each component says how it is."""
    report = await hub.health.report()
    return {"status": overall(report), "version": __version__, "components": report}


@router.get("/ready", response_model=None)
async def ready(hub: HubDep) -> JSONResponse:
    """503 until the critical components (the database, its schema) are ok."""
    report = await hub.health.report()
    failing = [name for name in hub.health.critical if report.get(name, {}).get("status") != "ok"]
    status = 503 if failing else 200
    return JSONResponse({"ready": not failing, "failing": failing}, status_code=status)
