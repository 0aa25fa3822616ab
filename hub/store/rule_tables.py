"""Tables of the rules: the engine's state (one JSON row per item) and every outcome a rule
caused, with its evidence and what became of it (the chain the API shows)."""

from __future__ import annotations

from sqlalchemy import JSON, BigInteger, Column, Index, Integer, String, Table

from hub.store.tables import metadata
from hub.store.types import UtcDateTime

# SQLite autoincrements only an INTEGER PRIMARY KEY; elsewhere this table needs 64 bits.
BigId = BigInteger().with_variant(Integer(), "sqlite")

# "dev:7", "ep:elevator.trapped|7|TRAPPED_AT_FLOOR", "sched:lighting.dusk|lakeside"
rule_state = Table(
    "rule_state", metadata,
    Column("key", String(200), primary_key=True),
    Column("value", JSON, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
)

rule_outcomes = Table(
    "rule_outcomes", metadata,
    Column("id", BigId, primary_key=True),
    Column("rule_id", String(64), nullable=False),
    Column("rule_version", String(32), nullable=False),
    Column("command", String(40), nullable=False),  # RaiseFault, Notify, CommandDevice, ...
    Column("site_id", Integer, nullable=True),
    Column("device_id", Integer, nullable=True),
    Column("at", UtcDateTime, nullable=False),  # the event time the rule decided at
    Column("recorded_at", UtcDateTime, nullable=False),
    # done, skipped (no handler in this hub yet), refused (the handler said no),
    # dead_letter (failed every attempt)
    Column("status", String(16), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("error", String(500), nullable=True),
    Column("result", String(200), nullable=True),
    Column("detail", JSON, nullable=False),  # the command's own values
    Column("evidence", JSON, nullable=False),  # the events behind it
    Column("line", String(1000), nullable=False),  # as `hub rules replay` prints it
    Index("ix_rule_outcomes_rule_id_at", "rule_id", "at"),
    Index("ix_rule_outcomes_device_id_at", "device_id", "at"),
    Index("ix_rule_outcomes_status", "status"),
)
