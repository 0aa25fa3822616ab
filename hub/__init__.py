"""Estate Hub: devices, work orders, billing, parking and one API for a residential community."""

__version__ = "0.1.0"
