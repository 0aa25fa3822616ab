"""`hub.runtime.warm_routes`: the routes are prepared before the first caller, and the app
answers as before. (FastAPI prepares an included router's routes on the first request that
reaches it; the check below reads where FastAPI keeps that, so a FastAPI that changes it
makes this test say so.)"""

from __future__ import annotations

from fastapi.routing import APIRoute

from hub.runtime import warm_routes
from tests.integration.api.conftest import Api


def _unprepared(api: Api) -> list[str]:
    return [str(getattr(route, "original_router", route))[:60] for route in api.app.router.routes
            if not isinstance(route, APIRoute)
            and getattr(route, "_effective_candidates_version", 0) is None]


async def test_every_router_is_prepared_before_the_first_request(api: Api) -> None:
    assert _unprepared(api), "FastAPI no longer prepares routers lazily: warm_routes is moot"
    await warm_routes(api.app)
    assert _unprepared(api) == []


async def test_the_warmed_app_answers_as_before(api: Api) -> None:
    await warm_routes(api.app)
    answer = await api.client.get("/api/v1/me/bills", headers=api.world.auth("alice"))
    assert answer.status_code == 200, answer.text
    assert (await api.client.get("/api/v1/.warm-up")).status_code == 404
