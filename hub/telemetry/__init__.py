"""Telemetry after it is stored: rollup and retention jobs, and the InfluxDB export."""
