"""Anomaly detection on analysed spans (``anomaly_detection.*``): each span is judged against its tenant's and its
agent's baselines, and unusual cost, tokens, latency, pace or failure becomes an ``anomaly_*`` finding on it (so the
alert engine sees it). A baseline store that fails is counted and the span passes unjudged (fail open)."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence

import attrs

from domain.anomaly import (
    VELOCITY_SAMPLE_S,
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
        self._velocity_kept: dict[str, float] = {}  # scope key -> when its velocity baseline last kept a value

    @property
    def enabled(self) -> bool:
        return self.policy.enabled and bool(self.policy.kinds)

    async def inspect(self, span: TraceSpan) -> TraceSpan:
        return (await self.inspect_many([span]))[0]

    async def inspect_many(self, spans: Sequence[TraceSpan]) -> list[TraceSpan]:
        """Each span judged, in order, against the baselines as they stood before it: two store calls a batch."""
        if not self.enabled or not spans:
            return list(spans)
        policy = self.policy
        scopes = [scopes_of(span) for span in spans]
        samples: list[list[tuple[AnomalyKind, Scope, float, bool]]] = [[] for _ in spans]
        try:
            if AnomalyKind.VELOCITY in policy.kinds:
                events = [
                    (f"{scope.key}:requests", span.start_time.timestamp())
                    for span, mine in zip(spans, scopes, strict=True)
                    for scope in mine
                ]
                counts = iter(await self._baselines.count_recent(events, VELOCITY_WINDOW_S))
                for span, mine, out in zip(spans, scopes, samples, strict=True):
                    at = span.start_time.timestamp()
                    out += [(AnomalyKind.VELOCITY, s, float(next(counts)), self._keep_velocity(s, at)) for s in mine]
            for span, mine, out in zip(spans, scopes, samples, strict=True):
                for kind in SCORED:
                    value = measured(span, kind) if kind in policy.kinds else None
                    if value is not None:
                        out += [(kind, scope, value, True) for scope in mine]
            flat = [(f"{scope.key}:{kind.value}", value, keep) for out in samples for kind, scope, value, keep in out]
            histories = iter(await self._baselines.observe(flat, policy.window_size))
        except Exception as exc:  # noqa: BLE001 - baselines unavailable: the spans pass unjudged, counted
            log.warning("anomaly baselines unavailable: %s", exc)
            self._telemetry.pipeline_failure("anomaly_baselines")
            return list(spans)
        judged = []
        for span, out in zip(spans, samples, strict=True):
            deviations: list[Deviation] = []
            for kind, scope, value, _keep in out:
                history = next(histories)
                if kind is AnomalyKind.ERROR_RATE:
                    found = error_burst(scope, value, history, policy.sigma_threshold)
                else:
                    found = spike(kind, scope, value, history, policy.sigma_threshold)
                if found is not None:
                    deviations.append(found)
            judged.append(self._with_findings(span, deviations))
        return judged

    def _with_findings(self, span: TraceSpan, deviations: list[Deviation]) -> TraceSpan:
        if not deviations:
            return span
        now = dt.datetime.now(dt.UTC)
        findings = [finding_for(d, self.policy.sigma_threshold, now) for d in strongest(deviations)]
        for finding in findings:
            self._telemetry.anomaly_detected(finding.metadata["anomaly_type"])
        return attrs.evolve(span, security_findings=(*span.security_findings, *findings))

    def _keep_velocity(self, scope: Scope, at: float) -> bool:
        """One velocity value per scope every ``VELOCITY_SAMPLE_S`` joins the baseline (per replica)."""
        last = self._velocity_kept.get(scope.key)
        if last is not None and 0 <= at - last < VELOCITY_SAMPLE_S:
            return False
        if len(self._velocity_kept) > 100_000:
            self._velocity_kept.clear()
        self._velocity_kept[scope.key] = at
        return True
