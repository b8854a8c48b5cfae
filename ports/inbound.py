"""Driving ports: what the HTTP adapter calls into."""

from __future__ import annotations

from typing import Protocol

from domain.capture import CompletedExchange


class ExchangeRecorder(Protocol):
    def record(self, exchange: CompletedExchange) -> bool:
        """Hand a finished exchange to the capture pipeline without waiting. Never raises.

        Returns False when the pipeline is full and the exchange was dropped (and counted).
        """
