"""What the plate reader refuses, and why."""

from __future__ import annotations


class PlateImageRejected(ValueError):
    """The payload is not an image the reader will decode: empty, not JPEG or PNG, truncated,
    corrupt, or larger than a camera snapshot. The message says which, for the log and the
    guard; nothing was decoded when the header alone decided."""
