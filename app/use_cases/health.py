"""/health: a one-way ready latch, store connectivity, queue depths, drop counts and breaker states."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import trio

from domain.circuit import BreakerState, CircuitBreaker
from ports.repositories import MetadataRepository, TraceRepository

_BREAKER_NAMES = {BreakerState.CLOSED: "Closed", BreakerState.OPEN: "Open", BreakerState.HALF_OPEN: "HalfOpen"}


class HealthMonitor:
    def __init__(
        self,
        *,
        version: str,
        traces: TraceRepository,
        metadata: MetadataRepository | None = None,
        cache: Any = None,
        storage_breaker: CircuitBreaker,
        security_breaker: CircuitBreaker,
        pipeline: Callable[[], dict[str, Any]],
        check_timeout_s: float = 2.0,
    ) -> None:
        self._version = version
        self._traces = traces
        self._metadata = metadata
        self._cache = cache if hasattr(cache, "health_check") else None
        self._storage_breaker = storage_breaker
        self._security_breaker = security_breaker
        self._pipeline = pipeline
        self._timeout = check_timeout_s
        self._started = time.monotonic()
        self.serving = False  # set once the HTTP listener is bound and the actors run
        self.ready = False
        self.loading_models = False  # preloaded ML models still loading: not ready yet
        self.ml: dict[str, Any] = {"status": "disabled"}
        self.extra: dict[str, Any] = {}

    async def _check(self, store: Any) -> dict[str, Any]:
        if store is None:
            return {"healthy": True}
        try:
            with trio.fail_after(self._timeout):
                await store.health_check()
        except trio.TooSlowError:
            return {"healthy": False, "error": f"health check timed out after {self._timeout}s"}
        except Exception as exc:  # noqa: BLE001 - reported, never raised
            return {"healthy": False, "error": f"{type(exc).__name__}: {exc}"}
        return {"healthy": True}

    async def report(self) -> tuple[int, dict[str, Any]]:
        traces = await self._check(self._traces)
        metadata = await self._check(self._metadata)
        cache = await self._check(self._cache)
        storage_breaker = _BREAKER_NAMES[self._storage_breaker.state]
        security_breaker = _BREAKER_NAMES[self._security_breaker.state]
        pipeline = self._pipeline()
        if not self.ready and self.serving and traces["healthy"] and not self.loading_models:
            self.ready = True
        buffer = pipeline.get("storage_buffer") or {}
        reasons = [
            text
            for failing, text in (
                (not traces["healthy"], "trace store unreachable"),
                (not metadata["healthy"], "metadata store unreachable"),
                (not cache["healthy"], "shared cache unreachable"),
                (storage_breaker != "Closed", "storage circuit breaker open"),
                (security_breaker != "Closed", "security circuit breaker open"),
                (self.ml.get("status") == "failed", "ML models failed to load"),
                (bool(buffer.get("writes_failing")), f"trace writes failing: {buffer.get('last_error')}"),
                (bool(buffer.get("dropped_recently")), "spans dropped in the last minute"),
            )
            if failing
        ]
        degraded = bool(reasons)
        status = "starting" if not self.ready else ("degraded" if degraded else "healthy")
        body = {
            "status": status,
            "starting": not self.ready,
            "degraded_reasons": reasons,
            "version": self._version,
            "uptime_seconds": round(time.monotonic() - self._started, 1),
            "storage": {
                "traces": traces,
                "metadata": metadata,
                "cache": cache,
                "circuit_breaker": storage_breaker,
            },
            "security": {"healthy": security_breaker == "Closed", "circuit_breaker": security_breaker},
            "ml": self.ml,
            "pipeline": pipeline,
            **self.extra,
        }
        return (503 if not self.ready else 200), body
