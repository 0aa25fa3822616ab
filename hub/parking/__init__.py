"""The gate flow: plate reads become parking sessions, decisions, charges and barrier
commands (docs/parking.md, "Sessions and gate decisions")."""
