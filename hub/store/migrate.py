"""`hub db upgrade|downgrade|current`: Alembic driven from code, no alembic.ini to find."""

from __future__ import annotations

import asyncio
from functools import cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory

SCRIPTS = Path(__file__).parent / "alembic"


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(SCRIPTS))
    # ConfigParser interpolation would read a '%' in a password as a template.
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


@cache
def head() -> str | None:
    """The revision this code's schema is at."""
    return ScriptDirectory(str(SCRIPTS)).get_current_head()


def upgrade(url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(url), revision)


def downgrade(url: str, revision: str) -> None:
    command.downgrade(alembic_config(url), revision)


async def upgrade_async(url: str, revision: str = "head") -> None:
    """env.py runs its own event loop, so from async code it runs in a worker thread."""
    await asyncio.to_thread(upgrade, url, revision)
