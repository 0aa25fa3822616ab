"""Settings: demo defaults, refusal of example secrets, and messages naming source, key, reason."""

from __future__ import annotations

import base64
import os
from pathlib import Path

import pytest

from hub.settings import (
    EXAMPLE_BLIND_INDEX_KEY,
    EXAMPLE_JWT_SECRET,
    EXAMPLE_PII_KEY,
    ConfigError,
    load_settings,
)

OWN_JWT = "lakeside-production-jwt-secret-0123456789abcdef"
OWN_PII_KEY = base64.b64encode(b"lakeside-production-pii-key-0001").decode()
OWN_BLIND = "lakeside-production-blind-index-key"


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """The developer's own HUB_* variables must not leak into these tests."""
    for name in list(os.environ):
        if name.upper().startswith("HUB_"):
            monkeypatch.delenv(name)


def production_toml(**sections: str) -> str:
    security = sections.get("security", f"""
[security]
jwt_secret = "{OWN_JWT}"
pii_active_key = "k2026"
blind_index_key = "{OWN_BLIND}"
[security.pii_keys]
k2026 = "{OWN_PII_KEY}"
""")
    return f'mode = "production"\n{sections.get("api", "")}\n{security}'


def write(tmp_path: Path, text: str, name: str = "hub.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_demo_mode_fills_in_the_example_secrets() -> None:
    settings = load_settings(None, mode="demo")
    assert settings.security.jwt_secret.get_secret_value() == EXAMPLE_JWT_SECRET
    assert settings.security.pii_active_key == "demo"
    assert settings.security.pii_keys["demo"].get_secret_value() == EXAMPLE_PII_KEY
    assert settings.security.blind_index_key.get_secret_value() == EXAMPLE_BLIND_INDEX_KEY


def test_demo_mode_from_a_file_fills_in_the_example_secrets(tmp_path: Path) -> None:
    settings = load_settings(write(tmp_path, 'mode = "demo"\n'))
    assert settings.mode == "demo"
    assert settings.security.pii_active_key == "demo"


def test_demo_mode_keeps_a_secret_given_explicitly() -> None:
    settings = load_settings(None, mode="demo", security={"jwt_secret": OWN_JWT})
    assert settings.security.jwt_secret.get_secret_value() == OWN_JWT
    assert settings.security.pii_active_key == "demo"


def test_production_is_the_default_and_refuses_empty_secrets() -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(None)
    message = str(caught.value)
    assert "security.jwt_secret" in message
    assert "security.pii_keys" in message
    assert "security.blind_index_key" in message


def test_production_refuses_the_example_secrets(tmp_path: Path) -> None:
    example = write(tmp_path, (Path(__file__).parents[2] / "config" / "hub.toml")
                    .read_text(encoding="utf-8").replace('mode = "demo"', 'mode = "production"'))
    with pytest.raises(ConfigError) as caught:
        load_settings(example)
    # One problem a line, each naming the file and the key, as for any other bad value.
    assert str(caught.value).splitlines() == [
        f"{example}: security.jwt_secret: set a secret of your own outside demo mode",
        f"{example}: security.pii_keys: set a key of your own outside demo mode",
        f"{example}: security.blind_index_key: set a key of your own outside demo mode",
    ]


def test_production_refuses_an_example_pii_key_beside_a_real_one() -> None:
    with pytest.raises(ConfigError, match=r"security\.pii_keys"):
        load_settings(None, mode="production", security={
            "jwt_secret": OWN_JWT, "blind_index_key": OWN_BLIND, "pii_active_key": "k2026",
            "pii_keys": {"k2026": OWN_PII_KEY, "demo": EXAMPLE_PII_KEY}})


def test_production_refuses_a_short_jwt_secret() -> None:
    with pytest.raises(ConfigError, match=r"security\.jwt_secret: must be at least 32"):
        load_settings(None, mode="production", security={
            "jwt_secret": "short", "blind_index_key": OWN_BLIND, "pii_active_key": "k2026",
            "pii_keys": {"k2026": OWN_PII_KEY}})


def test_production_accepts_secrets_of_its_own(tmp_path: Path) -> None:
    settings = load_settings(write(tmp_path, production_toml()))
    assert settings.mode == "production"
    assert settings.security.pii_active_key == "k2026"
    assert OWN_JWT not in repr(settings)


def test_a_bad_value_in_the_file_names_the_file_the_key_and_the_reason(tmp_path: Path) -> None:
    path = write(tmp_path, production_toml(api='[api]\nport = "eighty"\n'))
    with pytest.raises(ConfigError) as caught:
        load_settings(path)
    assert str(caught.value).startswith(f"{path}: api.port: ")
    assert "valid integer" in str(caught.value)


def test_an_out_of_range_value_names_the_limit(tmp_path: Path) -> None:
    path = write(tmp_path, production_toml(api="[api]\nport = 70000\n"))
    with pytest.raises(ConfigError, match=r"api\.port: .*less than or equal to 65535"):
        load_settings(path)


def test_mqtt_channels_are_inbound_ones_and_at_least_one(tmp_path: Path) -> None:
    assert load_settings(None, mode="demo").mqtt.channels == [
        "telemetry", "event", "status", "cmd/ack"]
    split = load_settings(None, mode="demo", mqtt={"channels": ["event", "status"]})
    assert split.mqtt.channels == ["event", "status"]
    path = write(tmp_path, production_toml(api='[mqtt]\nchannels = ["cmd"]\n'))
    with pytest.raises(ConfigError, match=r"mqtt\.channels\.0: Input should be 'telemetry'"):
        load_settings(path)
    with pytest.raises(ConfigError, match=r"mqtt\.channels: .*at least 1 item"):
        load_settings(None, mode="demo", mqtt={"channels": []})


def test_every_problem_is_listed_one_per_line(tmp_path: Path) -> None:
    path = write(tmp_path, production_toml(api='[api]\nport = 0\nmax_page_size = "all"\n'))
    with pytest.raises(ConfigError) as caught:
        load_settings(path)
    lines = str(caught.value).splitlines()
    assert len(lines) == 2
    assert any(line.startswith(f"{path}: api.port: ") for line in lines)
    assert any(line.startswith(f"{path}: api.max_page_size: ") for line in lines)


@pytest.mark.parametrize(("toml", "key"), [
    ("[api]\nprot = 8000\n", "api.prot"),
    ("colour = 'blue'\n", "colour"),
])
def test_an_unknown_key_is_named(tmp_path: Path, toml: str, key: str) -> None:
    path = write(tmp_path, production_toml(api=toml))
    with pytest.raises(ConfigError) as caught:
        load_settings(path)
    assert f"{path}: {key}: unknown key" in str(caught.value)


def test_a_file_that_is_not_toml_is_named(tmp_path: Path) -> None:
    path = write(tmp_path, "[api\nport = 1\n")
    with pytest.raises(ConfigError, match="not valid TOML") as caught:
        load_settings(path)
    assert str(path) in str(caught.value)


def test_a_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="file not found") as caught:
        load_settings(tmp_path / "nowhere.toml")
    assert "nowhere.toml" in str(caught.value)


def test_environment_overrides_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(tmp_path, production_toml(api="[api]\nport = 8000\nhost = '0.0.0.0'\n"))
    monkeypatch.setenv("HUB_API__PORT", "9100")
    settings = load_settings(path)
    assert settings.api.port == 9100
    assert settings.api.host == "0.0.0.0"  # noqa: S104 - read back, not bound


def test_environment_supplies_a_secret(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HUB_SECURITY__JWT_SECRET", "x" * 40)
    assert load_settings(write(tmp_path, production_toml())).security.jwt_secret \
        .get_secret_value() == "x" * 40


def test_a_bad_environment_value_names_the_variable(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HUB_API__PORT", "eighty")
    with pytest.raises(ConfigError) as caught:
        load_settings(write(tmp_path, production_toml(api="[api]\nport = 8000\n")))
    assert str(caught.value).startswith("environment HUB_API__PORT: api.port: ")


def test_overrides_win_over_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HUB_API__PORT", "9100")
    assert load_settings(None, mode="demo", api={"port": 9200}).api.port == 9200


def test_environment_chooses_demo_mode(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HUB_MODE", "demo")
    assert load_settings(None).security.pii_active_key == "demo"


def test_sqlite_in_the_data_dir_when_no_url(tmp_path: Path) -> None:
    settings = load_settings(None, mode="demo", data_dir=tmp_path)
    assert settings.database_url == f"sqlite+aiosqlite:///{tmp_path / 'hub.db'}"


def pii_settings(keys: dict[str, str], active: str) -> dict[str, object]:
    return {"jwt_secret": OWN_JWT, "blind_index_key": OWN_BLIND, "pii_keys": keys,
            "pii_active_key": active}


def test_pii_key_that_is_not_base64_is_refused() -> None:
    with pytest.raises(ConfigError, match=r"pii_keys\.k2026 is not base64"):
        load_settings(None, security=pii_settings({"k2026": "not base64!"}, "k2026"))


@pytest.mark.parametrize("length", [16, 31, 33, 64])
def test_pii_key_of_the_wrong_length_is_refused(length: int) -> None:
    key = base64.b64encode(b"k" * length).decode()
    expected = rf"pii_keys\.k2026 must decode to 32 bytes, not {length}"
    with pytest.raises(ConfigError, match=expected):
        load_settings(None, security=pii_settings({"k2026": key}, "k2026"))


def test_pii_active_key_must_be_one_of_the_keys() -> None:
    with pytest.raises(ConfigError, match="pii_active_key must name one of pii_keys"):
        load_settings(None, security=pii_settings({"k2026": OWN_PII_KEY}, "k2027"))


def test_pii_key_errors_never_show_the_key() -> None:
    bad = base64.b64encode(b"k" * 31).decode()
    with pytest.raises(ConfigError) as caught:
        load_settings(None, security=pii_settings({"k2026": bad}, "k2026"))
    assert bad not in str(caught.value)


def test_the_arrears_reminder_policy_is_configuration(tmp_path: Path) -> None:
    settings = load_settings(write(tmp_path, 'mode = "demo"\n[billing]\n'
                                             'reminder_overdue_days = 45\n'
                                             'reminder_min_amount = "100.50"\n'))
    assert settings.billing.reminder_overdue_days == 45
    assert str(settings.billing.reminder_min_amount) == "100.50"
    assert settings.billing.reminder_repeat_days == 14
    with pytest.raises(ConfigError, match="reminder_repeat_days"):
        load_settings(write(tmp_path, 'mode = "demo"\n[billing]\nreminder_repeat_days = 0\n'))
