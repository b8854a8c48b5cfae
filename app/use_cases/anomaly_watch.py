"""Anomaly detection on analysed spans (``anomaly_detection.*``): each span is judged against its tenant's and its
agent's baselines, and unusual cost, tokens, latency, pace or failure becomes an ``anomaly_*`` finding on it (so the
alert engine sees it). A baseline store that fails is counted and the span passes unjudged (fail open)."""

from __future__ import annotations

import datetime as dt
import logging

import attrs

from domain.anomaly import (
    VELOCITY_WINDOW_S,
    AnomalyKind,
    AnomalyPolicy,
    Deviation,
    Scope,
    error_burst,
    finding_for,
    measured,
    scopes_of,
    spike,
    strongest,
)
from domain.traces import TraceSpan
from ports.anomaly import BaselineStore
from ports.telemetry import Telemetry

log = logging.getLogger("llmtrace.anomaly")

SCORED = (AnomalyKind.COST, AnomalyKind.TOKENS, AnomalyKind.LATENCY, AnomalyKind.ERROR_RATE)


class AnomalyWatch:
    def __init__(self, policy: AnomalyPolicy, baselines: BaselineStore, telemetry: Telemetry) -> None:
        self.policy = policy
        self._baselines = baselines
        self._telemetry = telemetry

    @property
    def enabled(self) -> bool:
        return self.policy.enabled and bool(self.policy.kinds)

    async def inspect(self, span: TraceSpan) -> TraceSpan:
        if not self.enabled:
            return span
        policy = self.policy
        scopes = scopes_of(span)
        samples: list[tuple[AnomalyKind, Scope, float]] = []
        try:
            if AnomalyKind.VELOCITY in policy.kinds:
                at = span.start_time.timestamp()
                counts = await self._baselines.count_recent(
                    [(f"{scope.key}:requests", at) for scope in scopes], VELOCITY_WINDOW_S
                )
                samples += [(AnomalyKind.VELOCITY, scope, float(n)) for scope, n in zip(scopes, counts, strict=True)]
            for kind in SCORED:
                value = measured(span, kind) if kind in policy.kinds else None
                if value is not None:
                    samples += [(kind, scope, value) for scope in scopes]
            histories = await self._baselines.observe(
                [(f"{scope.key}:{kind.value}", value) for kind, scope, value in samples], policy.window_size
            )
        except Exception as exc:  # noqa: BLE001 - baselines unavailable: the span passes unjudged, counted
            log.warning("anomaly baselines unavailable: %s", exc)
            self._telemetry.pipeline_failure("anomaly_baselines")
            return span
        deviations: list[Deviation] = []
        for (kind, scope, value), history in zip(samples, histories, strict=True):
            if kind is AnomalyKind.ERROR_RATE:
                found = error_burst(scope, value, history, policy.sigma_threshold)
            else:
                found = spike(kind, scope, value, history, policy.sigma_threshold)
            if found is not None:
                deviations.append(found)
        if not deviations:
            return span
        now = dt.datetime.now(dt.UTC)
        findings = [finding_for(d, policy.sigma_threshold, now) for d in strongest(deviations)]
        for finding in findings:
            self._telemetry.anomaly_detected(finding.metadata["anomaly_type"])
        return attrs.evolve(span, security_findings=(*span.security_findings, *findings))
