"""Settings: `config/hub.toml`, then `HUB_` environment variables on top; validated at start.

A bad value stops the hub with a message that names where it came from (the file or the
variable), the key and the reason.
"""

from __future__ import annotations

import base64
import binascii
import os
import tomllib
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

ENV_PREFIX = "HUB_"
ENV_NESTING = "__"

# The values shipped in config/hub.toml and used by `hub demo`. Anything else refuses them.
EXAMPLE_JWT_SECRET = "demo-only-jwt-secret-change-me-0000000000"  # noqa: S105
EXAMPLE_PII_KEY = base64.b64encode(b"demo-only-pii-key-change-me-0000").decode()
EXAMPLE_BLIND_INDEX_KEY = "demo-only-blind-index-key-change-me"


class ConfigError(Exception):
    """Settings could not be loaded; the message lists every problem, one per line."""


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DatabaseSettings(_Section):
    url: str = ""  # empty: SQLite in the data folder
    pool_size: int = Field(default=10, ge=1, le=200)
    echo: bool = False


class ApiSettings(_Section):
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    max_body_bytes: int = Field(default=1_048_576, ge=1024, le=100 * 1_048_576)
    # Routes that take files (repair and complaint photos: up to 5 of 5 MB; imports: 10 MB);
    # every other route keeps max_body_bytes.
    max_upload_bytes: int = Field(default=27 * 1_048_576, ge=1024, le=200 * 1_048_576)
    max_page_size: int = Field(default=200, ge=1, le=10_000)
    login_attempts_per_minute: int = Field(default=10, ge=1, le=10_000)


class SecuritySettings(_Section):
    jwt_secret: SecretStr = SecretStr("")
    access_token_minutes: int = Field(default=15, ge=1, le=120)
    refresh_token_days: int = Field(default=14, ge=1, le=90)
    # Key id -> base64 of 32 bytes. Old keys stay here after a rotation so old rows decrypt.
    pii_keys: dict[str, SecretStr] = Field(default_factory=dict)
    pii_active_key: str = ""
    blind_index_key: SecretStr = SecretStr("")

    @model_validator(mode="after")
    def _keys_are_usable(self) -> SecuritySettings:
        for key_id, value in self.pii_keys.items():
            try:
                raw = base64.b64decode(value.get_secret_value(), validate=True)
            except (binascii.Error, ValueError):
                raise ValueError(f"pii_keys.{key_id} is not base64") from None
            if len(raw) != 32:
                raise ValueError(f"pii_keys.{key_id} must decode to 32 bytes, not {len(raw)}")
        if self.pii_keys and self.pii_active_key not in self.pii_keys:
            raise ValueError("pii_active_key must name one of pii_keys")
        return self


InboundChannel = Literal["telemetry", "event", "status", "cmd/ack"]
INBOUND_CHANNELS: tuple[InboundChannel, ...] = ("telemetry", "event", "status", "cmd/ack")


class MqttSettings(_Section):
    """The hub's connection to the broker; see docs/devices.md for what the broker must allow."""

    url: str = ""  # empty: `hub demo` embeds a broker; `hub run` needs one
    # mqtts:// URLs: the CA that signed the broker's certificate (PEM); empty: the system's.
    ca_file: str = ""
    protocol: Literal["5", "3.1.1"] = "5"  # 3.1.1 only for brokers without MQTT 5 (amqtt)
    client_id: str = Field(default="hub-1", pattern=r"^[A-Za-z0-9_.-]{1,64}$")
    username: str = ""
    password: SecretStr = SecretStr("")
    keepalive_s: int = Field(default=10, ge=5, le=3600)
    # Reconnect delays: full jitter under base x 2^attempt, capped; back to base only after a
    # connection that held 10 s (hub.devices.mqtt.link).
    backoff_base_s: float = Field(default=0.5, ge=0.05, le=60.0)
    backoff_cap_s: float = Field(default=30.0, ge=0.1, le=3600.0)
    session_expiry_s: int = Field(default=86_400, ge=0, le=30 * 86_400)
    receive_maximum: int = Field(default=1000, ge=1, le=65_535)
    incoming_queue: int = Field(default=20_000, ge=10, le=1_000_000)
    incoming_queue_bytes: int = Field(default=32 * 1_048_576, ge=65_536, le=1 << 31)
    shared_group: str = Field(default="", pattern=r"^[A-Za-z0-9_-]{0,64}$")
    sites: list[str] = Field(default_factory=list)  # empty: every site on the broker
    # The inbound channels this worker takes. Workers may split them: telemetry on some,
    # events, status and command acks (a plate read, a trapped passenger) on one of their
    # own, whose loop no telemetry keeps busy (docs/devices.md, "Workers").
    channels: list[InboundChannel] = Field(default_factory=lambda: list(INBOUND_CHANNELS),
                                           min_length=1)
    # The gateway keeps a connection of its own (a plain subscription to command acks).
    command_client_id: str = Field(default="hub-1-cmd", pattern=r"^[A-Za-z0-9_.-]{1,64}$")
    command_username: str = ""
    command_password: SecretStr = SecretStr("")
    ack_timeout_s: float = Field(default=5.0, ge=0.1, le=120.0)
    max_payload_bytes: int = Field(default=65_536, ge=1024, le=16 * 1_048_576)
    future_skew_s: int = Field(default=300, ge=0, le=86_400)

    @model_validator(mode="after")
    def _cap_not_below_base(self) -> MqttSettings:
        if self.backoff_cap_s < self.backoff_base_s:
            raise ValueError("backoff_cap_s must be at least backoff_base_s")
        if self.ca_file and not Path(self.ca_file).is_file():
            raise ValueError(f"ca_file {self.ca_file}: no such file")
        return self


class TelemetrySettings(_Section):
    """Rollups and retention of stored telemetry (hub.telemetry.jobs)."""

    raw_retention_days: int = Field(default=7, ge=1, le=3650)
    minute_retention_days: int = Field(default=90, ge=1, le=3650)
    rollup_interval_s: float = Field(default=60.0, ge=1.0, le=3600.0)
    retention_interval_s: float = Field(default=3600.0, ge=10.0, le=86_400.0)
    delete_chunk_rows: int = Field(default=5000, ge=100, le=1_000_000)

    @model_validator(mode="after")
    def _rollups_outlive_raw_rows(self) -> TelemetrySettings:
        # 1-hour buckets are rebuilt from 1-minute ones, which must still be there.
        if self.minute_retention_days < self.raw_retention_days:
            raise ValueError("minute_retention_days must be at least raw_retention_days")
        return self


class GatesSettings(_Section):
    """Offline gates (hub.parking.allowlist): the retained allow-list of every gate, read from
    the registry every `allowlist_poll_s`, published when it changes and at least every
    `allowlist_refresh_s`, trusted by the gate for `allowlist_validity_s` after it was issued.
    Its own broker connection: `client_id` (empty: `{mqtt.client_id}-gates`) and, with the
    shipped `use_username_as_clientid`, an account of its own."""

    allowlist_poll_s: float = Field(default=10.0, ge=0.05, le=3600.0)
    allowlist_refresh_s: float = Field(default=300.0, ge=1.0, le=86_400.0)
    allowlist_validity_s: float = Field(default=3600.0, ge=10.0, le=7 * 86_400.0)
    client_id: str = Field(default="", pattern=r"^[A-Za-z0-9_.-]{0,64}$")
    username: str = ""
    password: SecretStr = SecretStr("")

    @model_validator(mode="after")
    def _refreshed_before_it_runs_out(self) -> GatesSettings:
        if not self.allowlist_poll_s <= self.allowlist_refresh_s < self.allowlist_validity_s:
            raise ValueError("allow-lists need allowlist_poll_s <= allowlist_refresh_s < "
                             "allowlist_validity_s")
        return self


class InfluxSettings(_Section):
    """Optional copy of telemetry to InfluxDB v2 (hub.telemetry.influx); empty url: off."""

    url: str = ""
    org: str = ""
    bucket: str = ""
    token: SecretStr = SecretStr("")
    batch_size: int = Field(default=5000, ge=1, le=100_000)
    flush_interval_s: float = Field(default=1.0, ge=0.05, le=60.0)
    buffer_max: int = Field(default=100_000, ge=1, le=10_000_000)
    timeout_s: float = Field(default=10.0, ge=0.5, le=120.0)

    @model_validator(mode="after")
    def _complete_when_enabled(self) -> InfluxSettings:
        if not self.url:
            return self
        if not self.url.startswith(("http://", "https://")):
            raise ValueError("url must start with http:// or https://")
        missing = [k for k in ("org", "bucket") if not getattr(self, k)]
        if not self.token.get_secret_value():
            missing.append("token")
        if missing:
            raise ValueError(f"{', '.join(missing)} must be set when url is set")
        if self.buffer_max < self.batch_size:
            raise ValueError("buffer_max must be at least batch_size")
        return self


class RulesSettings(_Section):
    """The rules engine (hub.rules): its folder of rule files and its worker."""

    enabled: bool = True
    directory: str = "config/rules"  # every *.yaml in it; a bad rule stops start-up
    queue_size: int = Field(default=10_000, ge=10, le=1_000_000)
    max_attempts: int = Field(default=5, ge=1, le=100)  # then the outcome is dead-lettered
    retry_base_s: float = Field(default=0.5, ge=0.01, le=60.0)
    retry_cap_s: float = Field(default=30.0, ge=0.1, le=3600.0)
    save_interval_s: float = Field(default=1.0, ge=0.05, le=600.0)
    tick_s: float = Field(default=60.0, ge=1.0, le=3600.0)  # schedules and `for` timers
    record_file: str = ""  # append every event the rules saw, as JSONL for `hub rules replay`


class BillingSettings(_Section):
    """Arrears reminders (催缴提醒, hub.billing_reminders): who is reminded, and how often.
    Reminders only: nothing ever cuts a service."""

    reminder_overdue_days: int = Field(default=30, ge=0, le=3650)  # overdue longer than this
    reminder_repeat_days: int = Field(default=14, ge=1, le=365)  # at most once per this
    reminder_min_amount: Decimal = Field(default=Decimal("0.00"), ge=0, max_digits=14,
                                         decimal_places=2)  # owing more than this
    reminder_every_s: float = Field(default=3600.0, ge=60.0, le=86_400.0)  # the pass's period


class IngestSettings(_Section):
    """The ingestion pipeline (hub.ingest) and the device registry file."""

    queue_size: int = Field(default=10_000, ge=10, le=1_000_000)
    batch_max_items: int = Field(default=500, ge=1, le=10_000)
    batch_max_ms: float = Field(default=10.0, ge=0.0, le=10_000.0)
    # Unknown devices are dead-lettered either way; with this on they also wait as "pending".
    auto_register: bool = False
    dead_letters_keep: int = Field(default=10_000, ge=10, le=10_000_000)
    sweep_interval_s: float = Field(default=5.0, ge=0.1, le=3600.0)
    registry_refresh_s: float = Field(default=10.0, ge=0.1, le=3600.0)
    inbox_keep_hours: float = Field(default=72.0, ge=1.0, le=24 * 365.0)
    devices_file: str = "config/devices.yaml"  # empty: no registry file


class AccessSettings(_Section):
    """Doors and visitors (hub.handlers.access): QR codes, visitor approval, the access log."""

    qr_step_s: int = Field(default=60, ge=10, le=3600)  # a resident's app code lasts this
    log_retention_days: int = Field(default=180, ge=1, le=3650)  # access log rows kept
    visitor_approval_default: bool = False  # every visitor pass waits for staff approval
    queue_size: int = Field(default=1000, ge=10, le=100_000)  # credentials waiting at doors


class ParkingSettings(_Section):
    """The gate flow (hub.parking): sessions from plate reads, decisions, retention."""

    duplicate_window_s: float = Field(default=10.0, ge=0.0, le=600.0)  # repeated reads merged
    exit_without_entry: Literal["charge_first_period", "hold_for_guard"] = "charge_first_period"
    overstay_hours: float = Field(default=72.0, ge=1.0, le=24 * 365.0)
    pay_grace_minutes: int = Field(default=15, ge=0, le=24 * 60)  # paid in the app: to leave
    log_retention_days: int = Field(default=180, ge=1, le=3650)  # plate logs, decisions
    read_confidence: float = Field(default=0.8, ge=0.0, le=1.0)  # below it the image is read
    guard_confidence: float = Field(default=0.5, ge=0.0, le=1.0)  # below it: for a guard
    max_clock_skew_s: int = Field(default=600, ge=0, le=86_400)  # a camera behind the hub
    queue_size: int = Field(default=1000, ge=10, le=100_000)
    # hub.parking.evidence: the plate reader's worker processes (0: no reader, reads without
    # text are held for a guard), and the snapshots kept as evidence (longest side, quality).
    reader_workers: int = Field(default=1, ge=0, le=16)
    reader_timeout_s: float = Field(default=5.0, ge=0.5, le=60.0)
    evidence_max_side: int = Field(default=1280, ge=320, le=4096)
    evidence_quality: int = Field(default=75, ge=30, le=95)

    @model_validator(mode="after")
    def _guard_below_read(self) -> ParkingSettings:
        if self.guard_confidence > self.read_confidence:
            raise ValueError("guard_confidence must be at most read_confidence")
        return self


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, env_nested_delimiter=ENV_NESTING, extra="forbid", frozen=True,
    )

    mode: Literal["demo", "production"] = "production"
    data_dir: Path = Path("data")
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    event_loop: Literal["uvloop", "asyncio"] = "uvloop"  # hub.loops: asyncio's own as a way back
    database: DatabaseSettings = DatabaseSettings()
    api: ApiSettings = ApiSettings()
    security: SecuritySettings = SecuritySettings()
    mqtt: MqttSettings = MqttSettings()
    ingest: IngestSettings = IngestSettings()
    telemetry: TelemetrySettings = TelemetrySettings()
    gates: GatesSettings = GatesSettings()
    influx: InfluxSettings = InfluxSettings()
    billing: BillingSettings = BillingSettings()
    rules: RulesSettings = RulesSettings()
    parking: ParkingSettings = ParkingSettings()
    access: AccessSettings = AccessSettings()

    @model_validator(mode="before")
    @classmethod
    def _demo_fills_in_example_secrets(cls, data: Any) -> Any:
        if isinstance(data, dict) and data.get("mode") == "demo":
            data = dict(data)
            data["security"] = _merge(demo_security(), dict(data.get("security") or {}))
        return data

    @model_validator(mode="after")
    def _secrets_are_real_outside_demo(self) -> Settings:
        if self.mode == "demo":
            return self
        sec = self.security
        problems = []
        jwt = sec.jwt_secret.get_secret_value()
        if not jwt or jwt == EXAMPLE_JWT_SECRET:
            problems.append("security.jwt_secret: set a secret of your own outside demo mode")
        elif len(jwt) < 32:
            problems.append("security.jwt_secret: must be at least 32 characters")
        if not sec.pii_keys or any(v.get_secret_value() == EXAMPLE_PII_KEY
                                   for v in sec.pii_keys.values()):
            problems.append("security.pii_keys: set a key of your own outside demo mode")
        blind = sec.blind_index_key.get_secret_value()
        if not blind or blind == EXAMPLE_BLIND_INDEX_KEY:
            problems.append("security.blind_index_key: set a key of your own outside demo mode")
        if problems:
            raise ValueError("\n".join(problems))
        return self

    @property
    def database_url(self) -> str:
        return self.database.url or f"sqlite+aiosqlite:///{self.data_dir / 'hub.db'}"


def demo_security() -> dict[str, Any]:
    return {
        "jwt_secret": EXAMPLE_JWT_SECRET,
        "pii_keys": {"demo": EXAMPLE_PII_KEY},
        "pii_active_key": "demo",
        "blind_index_key": EXAMPLE_BLIND_INDEX_KEY,
    }


def load_settings(config_file: Path | None = None, **overrides: Any) -> Settings:
    """Read the TOML file (if any), the environment on top of it, then `overrides`; validate."""
    if config_file is not None:
        try:
            tomllib.loads(config_file.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ConfigError(f"{config_file}: file not found") from None
        except tomllib.TOMLDecodeError as err:
            raise ConfigError(f"{config_file}: not valid TOML: {err}") from None

    class _Layered(Settings):
        @classmethod
        def settings_customise_sources(
            cls, settings_cls: type[BaseSettings], init_settings: PydanticBaseSettingsSource,
            env_settings: PydanticBaseSettingsSource, dotenv_settings: PydanticBaseSettingsSource,
            file_secret_settings: PydanticBaseSettingsSource,
        ) -> tuple[PydanticBaseSettingsSource, ...]:
            sources = [init_settings, env_settings]
            if config_file is not None:
                sources.append(TomlConfigSettingsSource(settings_cls, toml_file=config_file))
            return tuple(sources)

    try:
        return _Layered(**overrides)
    except ValidationError as err:
        raise ConfigError("\n".join(_describe(e, config_file) for e in err.errors())) from None


def _merge(base: dict[str, Any], top: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in top.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _describe(error: Any, config_file: Path | None) -> str:
    key = ".".join(str(part) for part in error["loc"]) or "settings"
    env_name = ENV_PREFIX + ENV_NESTING.join(str(p) for p in error["loc"]).upper()
    if env_name in os.environ:
        where = f"environment {env_name}"
    elif config_file is not None:
        where = str(config_file)
    else:
        where = "settings"
    reason = str(error["msg"]).removeprefix("Value error, ")
    if error["type"] == "extra_forbidden":
        reason = "unknown key"
    if not error["loc"]:  # a check across sections: each line already names its key
        return "\n".join(f"{where}: {line}" for line in reason.splitlines())
    return f"{where}: {key}: {reason}"
