"""The one gate every route passes: look the route up in the policy table, default deny."""

from __future__ import annotations

from fastapi import Request
from fastapi.security.utils import get_authorization_scheme_param

from hub.api.deps import HubDep, current_caller
from hub.api.policy import PUBLIC, allowed
from hub.domain.commands import RecordDenial
from hub.domain.errors import PermissionDenied


async def authorize(request: Request, hub: HubDep) -> None:
    route = request.scope.get("route")
    path = getattr(route, "path_format", None) or request.url.path
    rule = allowed(request.method, path)
    if rule == PUBLIC:
        return
    scheme, token = get_authorization_scheme_param(request.headers.get("Authorization"))
    caller = await current_caller(request, hub,
                                  token if scheme.lower() == "bearer" else None)
    if rule is None or caller.actor.role not in rule:
        await hub.bus.handle(RecordDenial(caller.actor, route=f"{request.method} {path}"))
        raise PermissionDenied("your role may not do this")
