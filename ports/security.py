"""The security analyzer as the application sees it (regex today, an ensemble with ML models behind the same port)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Protocol

from domain.findings import SecurityFinding
from domain.security.pii import PiiMatch
from domain.traces import AgentAction


class SecurityAnalyzer(Protocol):
    name: str

    def analyze_request(self, text: str, now: dt.datetime | None = None) -> list[SecurityFinding]: ...

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
