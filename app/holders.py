"""State shared between actors, use cases and the HTTP side, each replaced or counted as a whole.

Nothing here does I/O. A holder is the one place a value that changes at run time lives (the pricing table on
SIGHUP, the analyzer once the models load), so readers always see a whole, consistent value.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence

import attrs

from domain.findings import SecurityFinding
from domain.pricing import PricingTable
from domain.security.pii import PiiMatch
from domain.traces import AgentAction
from ports.security import SecurityAnalyzer


class PricingHolder:
    """The current pricing table; replaced as a whole on SIGHUP, so readers never see a half-loaded table."""

    def __init__(self, table: PricingTable | None) -> None:
        self.table = table


class AnalyzerSwitch:
    """The analyzer in use; starts with the rules and switches to the ensemble when (if) it loads."""

    def __init__(self, initial: SecurityAnalyzer) -> None:
        self.current = initial

    @property
    def name(self) -> str:
        return self.current.name

    def warm(self, texts: Sequence[str]) -> None:
        self.current.warm(texts)

    def analyze_request(
        self, text: str, now: dt.datetime | None = None, *, fast: bool = False
    ) -> list[SecurityFinding]:
        return self.current.analyze_request(text, now, fast=fast)

    def analyze_response(
        self,
        text: str,
        now: dt.datetime | None = None,
        *,
        location: str = "response.content",
        toxicity: bool | None = None,
    ) -> list[SecurityFinding]:
        return self.current.analyze_response(text, now, location=location, toxicity=toxicity)

    def analyze_actions(self, actions: Iterable[AgentAction], now: dt.datetime | None = None) -> list[SecurityFinding]:
        return self.current.analyze_actions(actions, now)

    def pii_matches(self, text: str) -> list[PiiMatch]:
        return self.current.pii_matches(text)


@attrs.define
class AnalysisStats:
    """What /health shows of the analysis actor."""

    shed: int = 0  # exchanges analysed by the rules only because the queue was more than half full
