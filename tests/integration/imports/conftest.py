"""Import tests run on the API tests' seeded world (lakeside, riverside, every role)."""

from __future__ import annotations

from tests.integration.api.conftest import api, template

__all__ = ["api", "template"]
