"""`create_app(settings)`: the FastAPI application, its middleware, errors and routers."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI

from hub import __version__
from hub.api import errors
from hub.api.guard import authorize
from hub.api.limits import BodySizeLimit, SlidingWindow, upload_routes
from hub.api.routers import access as access_routes
from hub.api.routers import announcements as announcement_routes
from hub.api.routers import assets as asset_routes
from hub.api.routers import auth, health, property, residents, staff
from hub.api.routers import billing as billing_routes
from hub.api.routers import complaints as complaint_routes
from hub.api.routers import devices as device_routes
from hub.api.routers import imports as import_routes
from hub.api.routers import maintenance as maintenance_routes
from hub.api.routers import me as me_routes
from hub.api.routers import me_access as me_access_routes
from hub.api.routers import me_parking as me_parking_routes
from hub.api.routers import my_parking as my_parking_routes
from hub.api.routers import notifications as notification_routes
from hub.api.routers import ownership as ownership_routes
from hub.api.routers import parking as parking_routes
from hub.api.routers import parking_evidence as parking_evidence_routes
from hub.api.routers import parking_payments as parking_payment_routes
from hub.api.routers import parking_sessions as parking_session_routes
from hub.api.routers import payments as payment_routes
from hub.api.routers import rules as rule_routes
from hub.api.routers import tariffs as tariff_routes
from hub.api.routers import telemetry as telemetry_routes
from hub.api.routers import work_orders as work_order_routes
from hub.bootstrap import Hub, bootstrap
from hub.settings import Settings

# One address (a guard house, an office behind NAT) may sign in many people, but not many
# times more than one account may try.
ADDRESS_ATTEMPTS_FACTOR = 5
# Starlette tries routes in order, so the routes residents' apps call all day come first
# (the most requests, by far); tests/unit/test_api_routes.py checks that no route can take
# another's requests, so the order changes nothing but the time it takes to find a route.
RESIDENT_ROUTERS = (notification_routes.router, billing_routes.router,
                    announcement_routes.router, me_routes.router, payment_routes.router,
                    complaint_routes.router, work_order_routes.router, me_access_routes.router,
                    me_parking_routes.router, parking_payment_routes.router,
                    my_parking_routes.router)
ROUTERS = (health.router, auth.router, *RESIDENT_ROUTERS,
           property.router, residents.router, staff.router,
           telemetry_routes.router, device_routes.router, rule_routes.router,
           parking_evidence_routes.router, asset_routes.router, maintenance_routes.router,
           import_routes.router, ownership_routes.router, access_routes.router,
           parking_routes.router, tariff_routes.router,
           parking_session_routes.router, parking_session_routes.lane_router)


def create_app(settings: Settings, hub: Hub | None = None) -> FastAPI:
    """The API. Given a `hub`, it uses it (and leaves closing it to the caller)."""
    owns_hub = hub is None

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        if owns_hub:
            await app.state.hub.close()

    app = FastAPI(
        title="Estate Hub", version=__version__, lifespan=lifespan,
        description="One API for a residential community: residents, units, staff and "
                    "(with later modules) devices, work orders, billing and parking.",
        dependencies=[Depends(authorize)],
    )
    app.state.hub = hub or bootstrap(settings)
    attempts = settings.api.login_attempts_per_minute
    app.state.login_limiter = SlidingWindow(attempts)
    app.state.address_limiter = SlidingWindow(attempts * ADDRESS_ATTEMPTS_FACTOR)
    app.add_middleware(BodySizeLimit, max_bytes=settings.api.max_body_bytes,
                       max_upload_bytes=settings.api.max_upload_bytes,
                       uploads=lambda: upload_routes(app))
    errors.install(app)
    for router in ROUTERS:
        app.include_router(router)
    return app
