"""Routers, one per resource. Each is a few lines: build a command or call a view."""
