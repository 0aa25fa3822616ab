"""The `hub` command as an operator runs it: a real process, its exit code and its words."""

from __future__ import annotations

import asyncio
import base64
import os
import sqlite3
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import pytest

from hub import demo
from hub.bootstrap import bootstrap
from hub.devices.broker import free_port
from hub.handlers.residents import context
from hub.security.pii import PiiVault
from hub.settings import EXAMPLE_BLIND_INDEX_KEY, EXAMPLE_JWT_SECRET, EXAMPLE_PII_KEY, load_settings
from hub.store.migrate import head, upgrade, upgrade_async

COMMAND_TIMEOUT_S = 120
NEW_PII_KEY = b"lakeside-pii-key-2026-rotation-1"


def hub(*args: str, cwd: Path, env: dict[str, str] | None = None,
        stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    """Run `python -m hub ARGS` in `cwd`, with no HUB_* variables but those in `env`."""
    clean = {k: v for k, v in os.environ.items() if not k.upper().startswith("HUB_")}
    clean.update({"COLUMNS": "200", "NO_COLOR": "1", "TERM": "dumb", **(env or {})})
    try:
        # A new session has no controlling terminal: a password prompt reads stdin, not a tty.
        return subprocess.run(  # noqa: S603 - our own command, arguments from the tests
            [sys.executable, "-m", "hub", *args], cwd=cwd, env=clean, input=stdin,
            capture_output=True, text=True, timeout=COMMAND_TIMEOUT_S, check=False,
            start_new_session=True)
    except subprocess.TimeoutExpired as err:
        pytest.fail(f"`hub {' '.join(args)}` did not finish in {COMMAND_TIMEOUT_S}s; "
                    f"output so far:\n{err.stdout!r}\n{err.stderr!r}")


def demo_config(folder: Path) -> Path:
    """A demo-mode settings file keeping its SQLite database in `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "hub.toml"
    path.write_text(f'mode = "demo"\ndata_dir = "{folder.as_posix()}"\n'
                    f"[api]\nport = {free_port()}\n", encoding="utf-8")
    return path


def tables(db_file: Path) -> set[str]:
    with sqlite3.connect(db_file) as connection:
        rows = connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        return {name for (name,) in rows}


def revision(db_file: Path) -> str | None:
    with sqlite3.connect(db_file) as connection:
        row = connection.execute("SELECT version_num FROM alembic_version").fetchone()
    return row[0] if row else None


def test_help_names_every_command(tmp_path: Path) -> None:
    done = hub("--help", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    for command in ("demo", "run", "db", "user", "config", "pii"):
        assert command in done.stdout
    assert "Estate Hub" in done.stdout


def test_no_arguments_shows_the_help(tmp_path: Path) -> None:
    done = hub(cwd=tmp_path)
    assert "Usage" in done.stdout + done.stderr
    assert "demo" in done.stdout + done.stderr


HELP = [
    (["demo"], ["--data-dir", "--port", "--fresh", "Lakeside Gardens"]),
    (["run"], ["--config", "hub db upgrade"]),
    (["db"], ["upgrade", "downgrade", "Alembic"]),
    (["db", "upgrade"], ["--revision", "--config"]),
    (["db", "downgrade"], ["REVISION", "base"]),
    (["user"], ["create"]),
    (["user", "create"], ["--role", "--site", "--password", "service_desk"]),
    (["config"], ["check"]),
    (["config", "check"], ["Validate", "--config"]),
    (["pii"], ["rotate"]),
    (["pii", "rotate"], ["Re-encrypt", "active key"]),
]


@pytest.mark.parametrize(("command", "phrases"), HELP, ids=[" ".join(c) for c, _ in HELP])
def test_every_command_explains_itself(tmp_path: Path, command: list[str],
                                       phrases: Sequence[str]) -> None:
    done = hub(*command, "--help", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    for phrase in phrases:
        assert phrase in done.stdout, f"{phrase!r} missing from `hub {' '.join(command)} --help`"


def test_config_check_accepts_the_demo_settings(tmp_path: Path) -> None:
    done = hub("config", "check", "--config", str(demo_config(tmp_path)), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "settings valid: mode=demo" in done.stdout
    assert EXAMPLE_JWT_SECRET not in done.stdout


def test_config_check_reads_config_hub_toml_by_default(tmp_path: Path) -> None:
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "hub.toml").write_text('mode = "demo"\n[api]\nport = 8123\n')
    done = hub("config", "check", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "api=127.0.0.1:8123" in done.stdout


def test_config_check_names_file_key_and_reason_of_a_bad_value(tmp_path: Path) -> None:
    broken = tmp_path / "broken.toml"
    broken.write_text('mode = "demo"\n[api]\nport = "eighty"\nprot = 8000\n', encoding="utf-8")
    done = hub("config", "check", "-c", str(broken), cwd=tmp_path)
    assert done.returncode == 2
    assert f"{broken}: api.port: Input should be a valid integer" in done.stderr
    assert f"{broken}: api.prot: unknown key" in done.stderr
    assert "Traceback" not in done.stderr


def test_config_check_names_a_file_that_is_not_toml(tmp_path: Path) -> None:
    broken = tmp_path / "broken.toml"
    broken.write_text("[api\nport = 8000\n", encoding="utf-8")
    done = hub("config", "check", "-c", str(broken), cwd=tmp_path)
    assert done.returncode == 2
    assert f"{broken}: not valid TOML" in done.stderr


def test_config_check_names_a_missing_file(tmp_path: Path) -> None:
    done = hub("config", "check", "-c", "nowhere.toml", cwd=tmp_path)
    assert done.returncode == 2
    assert "nowhere.toml: file not found" in done.stderr


def test_config_check_names_a_bad_environment_variable(tmp_path: Path) -> None:
    done = hub("config", "check", "-c", str(demo_config(tmp_path)), cwd=tmp_path,
               env={"HUB_API__PORT": "eighty"})
    assert done.returncode == 2
    assert "environment HUB_API__PORT: api.port:" in done.stderr


def test_config_check_refuses_example_secrets_in_production(tmp_path: Path) -> None:
    settings_file = tmp_path / "hub.toml"
    settings_file.write_text(f"""mode = "production"
[security]
jwt_secret = "{EXAMPLE_JWT_SECRET}"
pii_active_key = "demo"
blind_index_key = "{EXAMPLE_BLIND_INDEX_KEY}"
[security.pii_keys]
demo = "{EXAMPLE_PII_KEY}"
""", encoding="utf-8")
    done = hub("config", "check", "-c", str(settings_file), cwd=tmp_path)
    assert done.returncode == 2
    assert f"{settings_file}: security.jwt_secret: set a secret of your own" in done.stderr
    assert f"{settings_file}: security.pii_keys:" in done.stderr
    assert f"{settings_file}: security.blind_index_key:" in done.stderr
    assert EXAMPLE_JWT_SECRET not in done.stderr


def test_demo_reports_a_bad_environment_variable(tmp_path: Path) -> None:
    done = hub("demo", "--data-dir", str(tmp_path / "demo"), cwd=tmp_path,
               env={"HUB_LOG_LEVEL": "LOUD"})
    assert done.returncode == 2
    assert "environment HUB_LOG_LEVEL: log_level:" in done.stderr
    assert "Traceback" not in done.stderr


def test_db_upgrade_downgrade_and_upgrade_again(tmp_path: Path) -> None:
    settings_file = demo_config(tmp_path / "data")
    db_file = tmp_path / "data" / "hub.db"

    done = hub("db", "upgrade", "-c", str(settings_file), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "database at head" in done.stdout and "sqlite" in done.stdout
    assert revision(db_file) == head()
    assert {"sites", "buildings", "units", "residents", "accounts", "audit_log"} <= tables(db_file)

    done = hub("db", "downgrade", "base", "-c", str(settings_file), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "database at base" in done.stdout
    assert tables(db_file) <= {"alembic_version"}

    done = hub("db", "upgrade", "-c", str(settings_file), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert revision(db_file) == head()
    assert "residents" in tables(db_file)


def test_db_upgrade_uses_the_data_dir_from_the_environment(tmp_path: Path) -> None:
    done = hub("db", "upgrade", cwd=tmp_path,
               env={"HUB_MODE": "demo", "HUB_DATA_DIR": str(tmp_path / "from-env")})
    assert done.returncode == 0, done.stderr
    assert revision(tmp_path / "from-env" / "hub.db") == head()


def test_db_upgrade_on_an_unreachable_database_says_so(tmp_path: Path) -> None:
    closed = f"postgresql+asyncpg://hub:secret@127.0.0.1:{free_port()}/hub"
    done = hub("db", "upgrade", "-c", str(demo_config(tmp_path / "data")), cwd=tmp_path,
               env={"HUB_DATABASE__URL": closed})
    assert done.returncode == 1
    assert "unreachable" in done.stderr and "127.0.0.1" in done.stderr
    assert "Traceback" not in done.stderr
    assert "secret" not in done.stderr


@pytest.fixture
def migrated(tmp_path: Path) -> Path:
    """A migrated SQLite database (in-process: the command itself is tested above)."""
    settings_file = demo_config(tmp_path / "data")
    upgrade(load_settings(settings_file).database_url)
    return settings_file


def test_user_create_makes_an_administrator(tmp_path: Path, migrated: Path) -> None:
    done = hub("user", "create", "root", "--role", "admin", "--password", "lakeside-root-2026",
               "--display-name", "Site admin", "-c", str(migrated), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "created: root (admin)" in done.stdout
    assert "lakeside-root-2026" not in done.stdout
    with sqlite3.connect(tmp_path / "data" / "hub.db") as connection:
        role, password_hash = connection.execute(
            "SELECT role, password_hash FROM accounts WHERE username = 'root'").fetchone()
    assert role == "admin"
    assert password_hash.startswith("$argon2id$")


def test_user_create_asks_for_the_password_twice(tmp_path: Path, migrated: Path) -> None:
    done = hub("user", "create", "root", "--role", "admin", "-c", str(migrated), cwd=tmp_path,
               stdin="lakeside-root-2026\nlakeside-root-2026\n")
    assert done.returncode == 0, done.stderr
    assert "created: root (admin)" in done.stdout


@pytest.mark.parametrize("role", ["wizard", "resident", "Admin"])
def test_user_create_refuses_a_role_it_cannot_make(tmp_path: Path, migrated: Path,
                                                   role: str) -> None:
    done = hub("user", "create", "root", "--role", role, "--password", "lakeside-root-2026",
               "-c", str(migrated), cwd=tmp_path)
    assert done.returncode == 2
    assert f"--role: {role!r} is not one of admin, manager" in done.stderr
    assert "Traceback" not in done.stderr


def test_user_create_refuses_a_taken_username(tmp_path: Path, migrated: Path) -> None:
    first = hub("user", "create", "root", "--role", "admin", "--password", "lakeside-root-2026",
                "-c", str(migrated), cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    again = hub("user", "create", "root", "--role", "admin", "--password", "other-pass-2026",
                "-c", str(migrated), cwd=tmp_path)
    assert again.returncode == 2
    assert "--username:" in again.stderr and "'root'" in again.stderr
    assert "taken" in again.stderr


def test_user_create_refuses_a_short_password(tmp_path: Path, migrated: Path) -> None:
    done = hub("user", "create", "root", "--role", "admin", "--password", "short",
               "-c", str(migrated), cwd=tmp_path)
    assert done.returncode == 2
    assert "--password: password must be at least 8 characters" in done.stderr


def test_user_create_staff_needs_a_known_site(tmp_path: Path, migrated: Path) -> None:
    without = hub("user", "create", "wang", "--role", "manager", "--password", "manager-2026",
                  "-c", str(migrated), cwd=tmp_path)
    assert without.returncode == 2
    assert "--site:" in without.stderr
    unknown = hub("user", "create", "wang", "--role", "manager", "--site", "hilltop",
                  "--password", "manager-2026", "-c", str(migrated), cwd=tmp_path)
    assert unknown.returncode == 2
    assert "--site: no site with code 'hilltop'" in unknown.stderr


def test_user_create_on_an_unmigrated_database_says_to_upgrade(tmp_path: Path) -> None:
    done = hub("user", "create", "root", "--role", "admin", "--password", "lakeside-root-2026",
               "-c", str(demo_config(tmp_path / "data")), cwd=tmp_path)
    assert done.returncode == 2
    assert "hub db upgrade" in done.stderr


def test_run_on_an_unmigrated_database_refuses_to_start(tmp_path: Path) -> None:
    done = hub("run", "-c", str(demo_config(tmp_path / "data")), cwd=tmp_path)
    assert done.returncode != 0
    assert "run `hub db upgrade`" in done.stderr
    assert "Traceback" not in done.stderr


def test_run_on_an_unreachable_database_refuses_to_start(tmp_path: Path) -> None:
    closed = f"postgresql+asyncpg://hub:secret@127.0.0.1:{free_port()}/hub"
    done = hub("run", "-c", str(demo_config(tmp_path / "data")), cwd=tmp_path,
               env={"HUB_DATABASE__URL": closed})
    assert done.returncode != 0
    assert "database unreachable" in done.stderr
    assert "Traceback" not in done.stderr
    assert "secret" not in done.stderr


def seed_demo(settings_file: Path) -> None:
    """The demo community, seeded in this process through the ordinary bus."""
    settings = load_settings(settings_file)

    async def seed() -> None:
        await upgrade_async(settings.database_url)
        seeded = bootstrap(settings)
        try:
            await demo.seed(seeded.bus)
        finally:
            await seeded.close()

    asyncio.run(seed())


def sealed_ids(db_file: Path) -> dict[int, str]:
    with sqlite3.connect(db_file) as connection:
        rows = connection.execute("SELECT id, national_id_cipher FROM residents "
                                  "WHERE national_id_cipher IS NOT NULL").fetchall()
    return dict(rows)


def test_pii_rotate_reseals_every_number_with_the_new_key(tmp_path: Path) -> None:
    folder = tmp_path / "data"
    seed_demo(demo_config(folder))
    before = sealed_ids(folder / "hub.db")
    assert len(before) > 100
    assert all(sealed.startswith("demo:") for sealed in before.values())

    new_key = base64.b64encode(NEW_PII_KEY).decode()
    rotation = tmp_path / "rotation.toml"
    rotation.write_text(f"""mode = "demo"
data_dir = "{folder.as_posix()}"
[security]
pii_active_key = "k2026"
[security.pii_keys]
demo = "{EXAMPLE_PII_KEY}"
k2026 = "{new_key}"
""", encoding="utf-8")
    done = hub("pii", "rotate", "-c", str(rotation), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert f"re-encrypted {len(before)} national ID numbers with key 'k2026'" in done.stdout

    after = sealed_ids(folder / "hub.db")
    assert after.keys() == before.keys()
    assert all(sealed.startswith("k2026:") for sealed in after.values())
    # The old key can go now: the new key alone opens every number, and they are unchanged.
    old_only = PiiVault({"demo": base64.b64decode(EXAMPLE_PII_KEY)}, "demo", b"unused")
    new_only = PiiVault({"k2026": NEW_PII_KEY}, "k2026", b"unused")
    for resident_id, sealed in after.items():
        assert new_only.decrypt(sealed, context(resident_id)) == \
            old_only.decrypt(before[resident_id], context(resident_id))

    again = hub("pii", "rotate", "-c", str(rotation), cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert "re-encrypted 0 national ID numbers" in again.stdout
    with sqlite3.connect(folder / "hub.db") as connection:
        audited = connection.execute(
            "SELECT count(*) FROM audit_log WHERE action = 'pii_key_rotated'").fetchone()[0]
    assert audited == 2


def test_pii_rotate_on_an_unmigrated_database_says_to_upgrade(tmp_path: Path) -> None:
    done = hub("pii", "rotate", "-c", str(demo_config(tmp_path / "data")), cwd=tmp_path)
    assert done.returncode == 1
    assert "hub db upgrade" in done.stderr
    assert "Traceback" not in done.stderr
