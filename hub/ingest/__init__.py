"""Ingestion: decoded device messages to storage, once each, in batches, with their events."""
