"""Running processes: the API server beside the hub's long-running tasks, stopped cleanly."""

from __future__ import annotations

import logging

import uvicorn
from fastapi import FastAPI
from sqlalchemy.exc import SQLAlchemyError

from hub.bootstrap import Hub
from hub.domain.errors import DomainError

log = logging.getLogger(__name__)


class NotReady(DomainError):
    code = "not_ready"


async def require_current_schema(hub: Hub) -> None:
    """Refuse to serve on a database that is unreachable or not migrated to this code."""
    try:
        status = await hub.health.checks["database"]()
    except (OSError, SQLAlchemyError) as err:
        # First line only: SQLAlchemy appends the statement and a link on later lines.
        first_line = (str(err).splitlines() or [""])[0]
        raise NotReady(f"database unreachable: {type(err).__name__}: {first_line}") from None
    if status.get("status") != "ok":
        raise NotReady(f"database: {status.get('detail')}")


async def serve_api(app: FastAPI, host: str, port: int) -> None:
    """Serve until SIGINT/SIGTERM; uvicorn handles the signals and drains connections."""
    config = uvicorn.Config(app, host=host, port=port, log_level="warning", lifespan="on",
                            server_header=False, timeout_graceful_shutdown=5)
    server = uvicorn.Server(config)
    await server.serve()
    if not server.started:
        raise NotReady(f"could not listen on {host}:{port} (in use?)")


