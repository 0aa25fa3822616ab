"""The [telemetry] and [influx] settings: off and safe by default, refused when incomplete."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from hub.settings import ConfigError, load_settings

SHIPPED = Path(__file__).resolve().parents[2] / "config" / "hub.toml"


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.upper().startswith("HUB_"):
            monkeypatch.delenv(name)


def test_the_shipped_file_keeps_the_export_off_and_a_week_of_raw_rows() -> None:
    settings = load_settings(SHIPPED)

    assert settings.influx.url == ""
    assert (settings.telemetry.raw_retention_days,
            settings.telemetry.minute_retention_days) == (7, 90)


def test_an_export_url_without_org_bucket_and_token_is_refused_naming_them() -> None:
    with pytest.raises(ConfigError) as refused:
        load_settings(None, mode="demo", influx={"url": "http://127.0.0.1:8086"})

    assert "influx: org, bucket, token must be set when url is set" in str(refused.value)


def test_the_token_comes_from_the_environment_and_is_never_printed(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HUB_INFLUX__TOKEN", "lakeside-influx-token")

    settings = load_settings(None, mode="demo", influx={
        "url": "https://influx.lakeside.example", "org": "estate", "bucket": "telemetry"})

    assert settings.influx.token.get_secret_value() == "lakeside-influx-token"
    assert "lakeside-influx-token" not in repr(settings)


@pytest.mark.parametrize(("section", "values", "reason"), [
    ("influx", {"url": "udp://127.0.0.1:8089", "org": "o", "bucket": "b", "token": "t"},
     "url must start with http:// or https://"),
    ("influx", {"url": "http://i:8086", "org": "o", "bucket": "b", "token": "t",
                "batch_size": 5000, "buffer_max": 100}, "buffer_max must be at least batch_size"),
    ("influx", {"buffer_max": 0}, "influx.buffer_max"),
    ("telemetry", {"raw_retention_days": 30, "minute_retention_days": 7},
     "minute_retention_days must be at least raw_retention_days"),
    ("telemetry", {"delete_chunk_rows": 1}, "telemetry.delete_chunk_rows"),
    ("telemetry", {"rollup_interval_s": 0}, "telemetry.rollup_interval_s"),
])
def test_unsafe_values_are_refused_with_the_reason(section: str, values: dict[str, object],
                                                   reason: str) -> None:
    with pytest.raises(ConfigError) as refused:
        load_settings(None, mode="demo", **{section: values})

    assert reason in str(refused.value)
