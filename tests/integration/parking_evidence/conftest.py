"""The gate flow with its evidence keeper on a fresh SQLite database per test: the gate
flow's own fixtures (tests/integration/parking_gate: the schema made once, copied per test)."""

from tests.integration.parking_gate.conftest import engine, schema_file

__all__ = ["engine", "schema_file"]
