"""Health of the running proxy, as the /health route reports it."""

from __future__ import annotations

from typing import Any, Protocol


class HealthReporter(Protocol):
    async def report(self) -> tuple[int, dict[str, Any]]:
        """HTTP status (503 while starting) and the health document."""
