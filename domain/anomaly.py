"""Anomaly detection: is this exchange's cost, size, latency, pace or failure unusual for its tenant (or agent)?

Per scope (the tenant, and the tenant's agent when the request names one) and per kind, a baseline of the last
``window_size`` values; a value is judged against the baseline *before* it joins it. Kinds:

- ``cost_spike`` (estimated cost), ``token_spike`` (total tokens), ``latency_spike`` (the exchange's duration: the
  reference passed 0 here, so its latency anomalies never fired), ``velocity_spike`` (the scope's requests in the
  60 s up to this one): z-score against the baseline, and at least ``MIN_RATIO`` times the baseline mean (a spike
  is a jump, not the far tail of ordinary noise: at 3 sigma alone, normal noise fires once in ~750 exchanges);
  The velocity baseline keeps one value every ``VELOCITY_SAMPLE_S`` (so its window covers minutes, not the last
  hundred requests of a burst);
- ``error_rate_spike``: the error rate of the last ``RECENT`` exchanges against the rate before them (binomial z),
  when it is also at least ``ERROR_RATE_RATIO`` times the usual rate and at least ``ERROR_RATE_MIN``.

A baseline needs ``MIN_SAMPLES`` values. Its spread has a floor (10% of the mean, and a per-kind minimum), so a
perfectly steady baseline (spread 0) neither stays blind (as in the reference) nor fires on a one-token wobble.
Severity by deviation: z >= t Medium, >= 5/3·t High, >= 10/3·t Critical (t = ``sigma_threshold``, 3 by default).
Anomalies are operational findings: they never raise the security score; High and above ask for an alert.
"""

from __future__ import annotations

import datetime as dt
import enum
import math
import uuid
from collections.abc import Sequence

import attrs

from domain.findings import SecurityFinding, Severity
from domain.traces import TraceSpan

MIN_SAMPLES = 10
RECENT = 20  # exchanges in the recent error-rate window
VELOCITY_WINDOW_S = 60.0
VELOCITY_SAMPLE_S = 10.0  # the velocity baseline keeps one value per 10 s: a burst must not become its own baseline
BASELINE_TTL_S = 86_400


class AnomalyKind(enum.Enum):
    COST = "cost_spike"
    TOKENS = "token_spike"
    LATENCY = "latency_spike"
    VELOCITY = "velocity_spike"
    ERROR_RATE = "error_rate_spike"


# The least spread a baseline is taken to have, per kind (in the kind's unit).
SPREAD_FLOOR = {
    AnomalyKind.COST: 1e-6,  # USD
    AnomalyKind.TOKENS: 5.0,
    AnomalyKind.LATENCY: 25.0,  # ms: a machine or network hiccup of tens of ms on a fast baseline is not an incident
    AnomalyKind.VELOCITY: 2.0,  # requests a minute
}
ERROR_RATE_FLOOR = 0.02
MIN_RATIO = 2.0
ERROR_RATE_RATIO = 5.0
ERROR_RATE_MIN = 0.25  # 5 of the last 20


@attrs.frozen(kw_only=True)
class AnomalyPolicy:
    enabled: bool = False
    window_size: int = 100
    sigma_threshold: float = 3.0
    kinds: frozenset[AnomalyKind] = frozenset(AnomalyKind)


@attrs.frozen(kw_only=True)
class Scope:
    """Whose baseline: the tenant's, or one agent's within it."""

    tenant_id: str
    agent_id: str | None = None

    @property
    def key(self) -> str:
        return f"anomaly:{self.tenant_id}" + (f":agent:{self.agent_id}" if self.agent_id else "")

    @property
    def location(self) -> str:
        return f"agent:{self.agent_id}" if self.agent_id else f"tenant:{self.tenant_id}"


def scopes_of(span: TraceSpan) -> list[Scope]:
    scopes = [Scope(tenant_id=span.tenant_id)]
    if span.agent_id:
        scopes.append(Scope(tenant_id=span.tenant_id, agent_id=span.agent_id))
    return scopes


def measured(span: TraceSpan, kind: AnomalyKind) -> float | None:
    """The span's value for a z-scored kind (velocity is counted by the store), or None when it has none."""
    if kind is AnomalyKind.COST:
        return span.estimated_cost_usd
    if kind is AnomalyKind.TOKENS:
        return None if span.total_tokens is None else float(span.total_tokens)
    if kind is AnomalyKind.LATENCY:
        return None if span.duration_ms is None else float(span.duration_ms)
    if kind is AnomalyKind.ERROR_RATE:
        failed = span.status_code is None or span.status_code >= 400 or span.error_message is not None
        return 1.0 if failed else 0.0
    return None


@attrs.frozen(kw_only=True)
class Deviation:
    kind: AnomalyKind
    scope: Scope
    value: float
    mean: float
    spread: float
    z: float


def severity_for(z: float, threshold: float) -> Severity | None:
    if z >= threshold * 10 / 3:
        return Severity.CRITICAL
    if z >= threshold * 5 / 3:
        return Severity.HIGH
    if z >= threshold:
        return Severity.MEDIUM
    return None


def spike(
    kind: AnomalyKind, scope: Scope, value: float, baseline: Sequence[float], threshold: float
) -> Deviation | None:
    """A z-scored kind: the value against the baseline before it."""
    if len(baseline) < MIN_SAMPLES:
        return None
    mean = sum(baseline) / len(baseline)
    sigma = math.sqrt(sum((x - mean) ** 2 for x in baseline) / len(baseline))
    spread = max(sigma, 0.1 * abs(mean), SPREAD_FLOOR[kind])
    z = (value - mean) / spread
    if severity_for(z, threshold) is None or value < MIN_RATIO * mean:
        return None
    return Deviation(kind=kind, scope=scope, value=value, mean=mean, spread=spread, z=z)


def error_burst(scope: Scope, outcome: float, history: Sequence[float], threshold: float) -> Deviation | None:
    """The error rate of the last ``RECENT`` exchanges (this one included) against the rate of the ones before."""
    recent = [*history[-(RECENT - 1) :], outcome] if RECENT > 1 else [outcome]
    before = history[: max(0, len(history) - (RECENT - 1))]
    if len(before) < MIN_SAMPLES or len(recent) < RECENT:
        return None
    rate = sum(recent) / len(recent)
    base = max(sum(before) / len(before), ERROR_RATE_FLOOR)
    spread = math.sqrt(base * (1 - base) / len(recent))
    z = (rate - base) / spread
    if severity_for(z, threshold) is None or rate < max(ERROR_RATE_RATIO * base, ERROR_RATE_MIN):
        return None
    return Deviation(kind=AnomalyKind.ERROR_RATE, scope=scope, value=rate, mean=base, spread=spread, z=z)


def finding_for(deviation: Deviation, threshold: float, at: dt.datetime) -> SecurityFinding:
    severity = severity_for(deviation.z, threshold) or Severity.MEDIUM
    kind = deviation.kind.value
    unit = {"cost_spike": " USD", "latency_spike": " ms", "velocity_spike": " requests/min"}.get(kind, "")
    return SecurityFinding(
        id=str(uuid.uuid4()),
        severity=severity,
        finding_type=f"anomaly_{kind}",
        description=(
            f"{kind.replace('_', ' ')} for {deviation.scope.location}: {deviation.value:g}{unit} is "
            f"{deviation.z:.1f} standard deviations above the baseline mean {deviation.mean:g}{unit}"
        ),
        confidence=min(1.0, max(0.5, deviation.z / 20)),
        location=deviation.scope.location,
        detected_at=at.isoformat().replace("+00:00", "Z"),
        metadata={
            "anomaly_type": kind,
            "value": f"{deviation.value:g}",
            "mean": f"{deviation.mean:g}",
            "std_dev": f"{deviation.spread:g}",
            "sigma": f"{deviation.z:.2f}",
            "scope": deviation.scope.location,
        },
        requires_alert=severity >= Severity.HIGH,
    )


def strongest(deviations: Sequence[Deviation]) -> list[Deviation]:
    """One finding per kind and span: the scope where the deviation is largest."""
    best: dict[AnomalyKind, Deviation] = {}
    for deviation in deviations:
        if deviation.kind not in best or deviation.z > best[deviation.kind].z:
            best[deviation.kind] = deviation
    return list(best.values())
