"""Persistence: SQLAlchemy tables, mappings, the unit of work and migrations."""
