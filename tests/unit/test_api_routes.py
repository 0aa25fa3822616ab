"""No route of the API can take another route's requests, so the order of the routers (the
resident routes first, for speed) decides nothing but how long a route takes to find."""

from __future__ import annotations

import re
from pathlib import Path

from fastapi import APIRouter, FastAPI
from starlette.routing import BaseRoute, Match

from hub.api.app import ROUTERS, create_app
from hub.settings import load_settings


def routes_in_order(app: FastAPI) -> list[BaseRoute]:
    flat: list[BaseRoute] = []
    for route in app.router.routes:
        contexts = getattr(route, "effective_route_contexts", None)
        flat += [c.original_route for c in contexts()] if contexts else [route]
    return flat


def shadowed(app: FastAPI) -> list[str]:
    """Routes that an earlier route would take a request of theirs from."""
    routes = routes_in_order(app)
    found = []
    for position, route in enumerate(routes):
        path = getattr(route, "path", "")
        # A path parameter's sample value; a literal segment ("/orders/mine") is its own
        # sample, which an earlier parameter route ("/orders/{id}") would take.
        sample = re.sub(r"\{[^}]+\}", "1", path)
        for method in getattr(route, "methods", None) or {"GET"}:
            scope = {"type": "http", "path": sample, "method": method, "root_path": "",
                     "app": app, "headers": []}
            first = next(earlier for earlier in routes[:position + 1]
                         if method in (getattr(earlier, "methods", None) or {"GET"})
                         and earlier.matches(scope)[0] == Match.FULL)
            if first is not route:
                found.append(f"{method} {path} is taken by {getattr(first, 'path', first)}")
    return found


def test_every_route_of_the_api_is_the_first_to_match_its_own_paths(tmp_path: Path) -> None:
    app = create_app(load_settings(None, mode="demo", data_dir=tmp_path))
    assert shadowed(app) == []
    assert len(routes_in_order(app)) > 200  # every router is there: the API's whole surface
    assert len({id(router) for router in ROUTERS}) == len(ROUTERS)  # none included twice


def test_a_parameter_route_listed_before_a_literal_one_is_found() -> None:
    router = APIRouter(prefix="/orders")
    router.add_api_route("/{order_id}", lambda order_id: order_id, methods=["GET"])
    router.add_api_route("/mine", lambda: [], methods=["GET"])
    app = FastAPI()
    app.include_router(router)
    assert shadowed(app) == ["GET /orders/mine is taken by /orders/{order_id}"]


def test_the_resident_routes_come_before_the_staff_routes(tmp_path: Path) -> None:
    app = create_app(load_settings(None, mode="demo", data_dir=tmp_path))
    paths = [getattr(route, "path", "") for route in routes_in_order(app)]
    reads = [paths.index(p) for p in ("/api/v1/me/bills", "/api/v1/me/notifications",
                                      "/api/v1/me/announcements")]
    assert max(reads) < paths.index("/api/v1/sites")
