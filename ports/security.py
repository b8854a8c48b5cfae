"""The security analyzer as the application sees it (regex today, an ensemble with ML models behind the same port)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Protocol

from domain.findings import SecurityFinding
from domain.security.pii import PiiMatch
from domain.traces import AgentAction


class SecurityAnalyzer(Protocol):
    @property
    def name(self) -> str: ...

    def analyze_request(
        self, text: str, now: dt.datetime | None = None, *, fast: bool = False
    ) -> list[SecurityFinding]:
        """``fast``: only the cheap detectors (used under load and for enforcement depth ``fast``)."""

    def analyze_response(
        self,
        text: str,
        now: dt.datetime | None = None,
        *,
        location: str = "response.content",
        toxicity: bool | None = None,
    ) -> list[SecurityFinding]: ...

    def analyze_actions(
        self, actions: Iterable[AgentAction], now: dt.datetime | None = None
    ) -> list[SecurityFinding]: ...

    def pii_matches(self, text: str) -> list[PiiMatch]: ...

    def warm(self, texts: Sequence[str]) -> None:
        """Prepare expensive work for a batch of request texts in one go (no-op for rule-only analyzers)."""
