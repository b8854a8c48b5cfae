"""Driving ports: what the HTTP adapter calls into."""

from __future__ import annotations

from typing import Protocol

from domain.capture import CompletedExchange
from domain.findings import SecurityFinding
from domain.security.enforcement import EnforcementDecision
from domain.traces import AgentAction


class ExchangeRecorder(Protocol):
    def record(self, exchange: CompletedExchange) -> bool:
        """Hand a finished exchange to the capture pipeline without waiting. Never raises.

        Returns False when the pipeline is full and the exchange was dropped (and counted).
        """


class RequestEnforcer(Protocol):
    active: bool

    async def check(self, path: str, body: bytes) -> EnforcementDecision:
        """Analyse a request before it is forwarded. Fails open (returns a ``log`` decision) on error or timeout."""


class OutputStreamGuard(Protocol):
    findings: list[SecurityFinding]
    stopped: bool

    def feed(self, chunk: bytes) -> bool:
        """True when the stream must end before this chunk is forwarded."""

    def finish(self) -> None: ...

    def termination(self) -> bytes:
        """SSE events that end the stream cleanly for the client's SDK."""


class OutputStreamGuards(Protocol):
    def open(self) -> OutputStreamGuard | None:
        """A guard for one SSE response, or None when streaming checks are off."""


class ActionReporter(Protocol):
    async def report(self, tenant_id: str, trace_id: str, action: AgentAction) -> bool:
        """Append an agent action to the trace's first span, analyse it, store it. False if there is no such trace."""
