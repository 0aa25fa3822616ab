"""The `hub` command: demo, run, db, user, import, config, pii, rules."""

from __future__ import annotations

import asyncio
import logging
import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer

from hub import loops
from hub.bench.cli import bench_app
from hub.devices.mosquitto_cli import mosquitto_app
from hub.plates_cli import plates_app
from hub.rules.cli import rules_app
from hub.settings import ConfigError, Settings, load_settings

app = typer.Typer(help="Estate Hub: devices, work orders, billing, parking, and one API.",
                  no_args_is_help=True, pretty_exceptions_enable=False)
db_app = typer.Typer(help="Database schema migrations (Alembic).", no_args_is_help=True)
user_app = typer.Typer(help="Accounts.", no_args_is_help=True)
config_app = typer.Typer(help="Settings.", no_args_is_help=True)
pii_app = typer.Typer(help="Personal data at rest.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(user_app, name="user")
app.add_typer(config_app, name="config")
app.add_typer(pii_app, name="pii")
app.add_typer(mosquitto_app, name="mosquitto")
app.add_typer(bench_app, name="bench")
app.add_typer(rules_app, name="rules")
app.add_typer(plates_app, name="plates")

DEFAULT_CONFIG = Path("config/hub.toml")
ConfigOption = Annotated[Path | None, typer.Option(
    "--config", "-c", help="TOML settings file; HUB_* environment variables override it. "
                           "Default: config/hub.toml when present.")]


def _settings(config: Path | None, **overrides: Any) -> Settings:
    path = config if config is not None else (DEFAULT_CONFIG if DEFAULT_CONFIG.exists() else None)
    try:
        return load_settings(path, **overrides)
    except ConfigError as err:
        typer.secho(f"configuration error:\n{err}", err=True, fg="red")
        raise typer.Exit(2) from None


def _logging(settings: Settings) -> None:
    logging.basicConfig(level=settings.log_level,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # Third-party chatter that says nothing an operator acts on.
    for noisy in ("transitions", "amqtt", "alembic.runtime.migration"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, logging.root.level))


@app.command()
def demo(
    data_dir: Annotated[Path, typer.Option(help="Where the demo keeps its SQLite file.")] =
        Path("data/demo"),
    port: Annotated[int, typer.Option(help="API port on 127.0.0.1.")] = 8000,
    fresh: Annotated[bool, typer.Option(help="Delete the demo data first.")] = False,
) -> None:
    """Run everything in one process on embedded defaults: an MQTT broker, SQLite, the API,
    seeded with the community "Lakeside Gardens". Ctrl-C stops it."""
    from hub.launch import run_demo

    try:
        settings = load_settings(None, mode="demo", data_dir=data_dir,
                                 api={"host": "127.0.0.1", "port": port})
    except ConfigError as err:  # HUB_* variables still apply to the demo
        typer.secho(f"configuration error:\n{err}", err=True, fg="red")
        raise typer.Exit(2) from None
    _logging(settings)
    received = loops.run(run_demo(settings, fresh=fresh), settings.event_loop)
    if received:  # stopped by a signal: the conventional status, 130 for Ctrl-C
        raise typer.Exit(128 + received)


@app.command()
def run(config: ConfigOption = None) -> None:
    """Run the hub for production: external broker and database from the settings.
    The database must be migrated first (`hub db upgrade`)."""
    from hub.launch import run_production

    settings = _settings(config)
    _logging(settings)
    code = loops.run(run_production(settings), settings.event_loop)
    raise typer.Exit(code)


@db_app.command("upgrade")
def db_upgrade(config: ConfigOption = None,
               revision: Annotated[str, typer.Option(help="Target revision.")] = "head") -> None:
    """Migrate the configured database up to REVISION (default: the newest)."""
    from hub.store import migrate

    settings = _settings(config)
    with _database_errors(settings):
        migrate.upgrade(settings.database_url, revision)
    typer.echo(f"database at {revision} ({_backend(settings)})")


@db_app.command("downgrade")
def db_downgrade(revision: Annotated[str, typer.Argument(help="Target revision, or 'base'.")],
                 config: ConfigOption = None) -> None:
    """Migrate the configured database down to REVISION. Data in dropped tables is lost."""
    from hub.store import migrate

    settings = _settings(config)
    with _database_errors(settings):
        migrate.downgrade(settings.database_url, revision)
    typer.echo(f"database at {revision} ({_backend(settings)})")


@user_app.command("create")
def user_create(
    username: str,
    role: Annotated[str, typer.Option(help="admin, manager, finance, maintenance, "
                                           "service_desk, security")],
    site: Annotated[list[str] | None, typer.Option(
        help="Site code this account works in (repeat for several); not for admin.")] = None,
    display_name: Annotated[str, typer.Option(help="Name shown to colleagues.")] = "",
    password: Annotated[str, typer.Option(prompt=True, hide_input=True,
                                          confirmation_prompt=True)] = "",
    config: ConfigOption = None,
) -> None:
    """Create a staff account (the first administrator, typically)."""
    from hub.launch import create_user

    settings = _settings(config)
    try:
        account_id = asyncio.run(create_user(settings, username, role, site or [],
                                             display_name, password))
    except ValueError as err:
        typer.secho(str(err), err=True, fg="red")
        raise typer.Exit(2) from None
    typer.echo(f"account {account_id} created: {username} ({role})")


@app.command("import")
def import_rows(
    kind: Annotated[str, typer.Argument(
        help="buildings, units, residents, meter-readings or opening-balances")],
    file: Annotated[Path, typer.Argument(help="A CSV (UTF-8 or GB18030) or .xlsx file.",
                                         exists=True, dir_okay=False, readable=True)],
    commit: Annotated[bool, typer.Option(
        "--commit", help="Write the rows, all or none. Without it: a dry run.")] = False,
    site: Annotated[str | None, typer.Option(
        help="Code of the site to import into; needed when there are several.")] = None,
    config: ConfigOption = None,
) -> None:
    """Import a spreadsheet: every problem as FILE:row N: column: value: reason; exit 1 on any."""
    from hub.imports.console import import_parsed, read_file, report_lines

    settings = _settings(config)
    with _database_errors(settings):
        try:
            parsed = read_file(kind, file)
            report = asyncio.run(import_parsed(settings, parsed, commit=commit,
                                               site_code=site))
        except ValueError as err:
            typer.secho(str(err), err=True, fg="red")
            raise typer.Exit(2) from None
    for line in report_lines(report, str(file)):
        typer.echo(line)
    raise typer.Exit(1 if report.problems else 0)


@config_app.command("check")
def config_check(config: ConfigOption = None) -> None:
    """Validate the settings (file and environment) and print them with secrets hidden."""
    settings = _settings(config)
    typer.echo(f"settings valid: mode={settings.mode}, database={_backend(settings)}, "
               f"api={settings.api.host}:{settings.api.port}")


@pii_app.command("rotate")
def pii_rotate(config: ConfigOption = None) -> None:
    """Re-encrypt every stored national ID number with the active key."""
    from hub.launch import rotate_pii
    from hub.runtime import NotReady

    settings = _settings(config)
    try:
        changed = asyncio.run(rotate_pii(settings))
    except NotReady as err:
        typer.secho(f"not rotating: {err.message}", err=True, fg="red")
        raise typer.Exit(1) from None
    typer.echo(f"re-encrypted {changed} national ID numbers with key "
               f"{settings.security.pii_active_key!r}")


@contextmanager
def _database_errors(settings: Settings) -> Iterator[None]:
    """An unreachable database is an operator's problem to fix, not a traceback to read."""
    from sqlalchemy.exc import SQLAlchemyError

    try:
        yield
    except (OSError, SQLAlchemyError) as err:
        first_line = (str(err).splitlines() or [""])[0]
        typer.secho(f"database {_backend(settings)} unreachable: {type(err).__name__}: "
                    f"{first_line}", err=True, fg="red")
        raise typer.Exit(1) from None


def _backend(settings: Settings) -> str:
    from sqlalchemy.engine import make_url

    url = make_url(settings.database_url)
    return url.render_as_string(hide_password=True)


def _stop(signum: int, _frame: object) -> None:
    raise SystemExit(128 + signum)


def main() -> None:
    # uvicorn re-raises the SIGTERM it caught once it has drained; by default that kills the
    # process before `finally` blocks close the database and the broker. As an exception,
    # the unwinding runs them, as it does for Ctrl-C.
    signal.signal(signal.SIGTERM, _stop)
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)
