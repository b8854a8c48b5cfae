"""Post-hoc security analysis of captured spans: the policy the analysis actor applies to each batch.

Every captured span gets the request side, the response side and its tool calls analysed; findings and the security
score are attached before the span is stored. Analysis runs in a worker thread (one at a time, through the proxy's
one ML limiter) so the trio thread that forwards requests is never blocked, with a timeout and the security circuit
breaker around it. A span whose analysis was skipped, timed out or failed says so (``analysis_status`` plus an Info
finding), so "no findings" never silently means "not analysed". PII redaction (``pii.action``) happens here too, so
raw PII values never reach storage. Tenant settings (monitoring scope, per-category thresholds) apply per span.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
import uuid
from collections.abc import Mapping, Sequence

import attrs
import trio

from app.messages import CapturedSpan
from app.use_cases.access import TenantSettingsCache
from domain.capture import MAX_ANALYSED_CHARS, analysed_part
from domain.circuit import CircuitBreaker
from domain.findings import SecurityFinding, Severity, security_score
from domain.security.analyzer import category_of
from domain.security.pii import redact
from domain.tenancy import TenantSettings
from domain.traces import AnalysisStatus, TraceSpan
from ports.security import SecurityAnalyzer
from ports.telemetry import Telemetry

log = logging.getLogger("llmtrace.analysis")


@attrs.frozen(kw_only=True)
class AnalysisPolicy:
    enabled: bool = True
    timeout_s: float = 5.0
    pii_action: str = "alert_only"  # alert_only | alert_and_redact | redact_silent
    output_safety: bool = False
    toxicity: bool = False
    monitoring_scope: str = "hybrid"  # hybrid | input_only | output_only

    @property
    def redacts(self) -> bool:
        return self.pii_action in ("alert_and_redact", "redact_silent")


def _note(status: AnalysisStatus, reason: str) -> SecurityFinding:
    return SecurityFinding(
        id=str(uuid.uuid4()),
        severity=Severity.INFO,
        finding_type=f"analysis_{status.value}",
        description=reason,
        confidence=1.0,
        location="analysis",
        detected_at=dt.datetime.now(dt.UTC).isoformat().replace("+00:00", "Z"),
        metadata={"analysis_status": status.value},
    )


def redact_span(span: TraceSpan, analyzer: SecurityAnalyzer) -> TraceSpan:
    def clean(text: str | None) -> str | None:
        if not text:
            return text
        return redact(text, analyzer.pii_matches(text))

    actions = tuple(attrs.evolve(a, arguments=clean(a.arguments), result=clean(a.result)) for a in span.agent_actions)
    return attrs.evolve(span, prompt=clean(span.prompt) or "", response=clean(span.response), agent_actions=actions)


SHED_REASON = "pipeline under load: models skipped"


def analyze_span(
    item: CapturedSpan,
    analyzer: SecurityAnalyzer,
    policy: AnalysisPolicy,
    tenant: TenantSettings | None = None,
    fast: bool = False,
    fast_reason: str = SHED_REASON,
) -> TraceSpan:
    """Synchronous and CPU-bound: the actor runs it in a worker thread. ``fast``: the rules only (models skipped,
    for ``fast_reason``)."""
    span = item.span
    now = dt.datetime.now(dt.UTC)
    scope = tenant.monitoring_scope.value if tenant is not None else policy.monitoring_scope
    findings: list[SecurityFinding] = []
    request_text, request_cut = analysed_part(item.analysis_text)
    response_text, response_cut = analysed_part(span.response or "")
    if scope != "output_only":
        findings += analyzer.analyze_request(request_text, now, fast=fast)
    if scope != "input_only" and response_text:
        findings += analyzer.analyze_response(response_text, now, toxicity=policy.toxicity)
    findings += analyzer.analyze_actions(span.agent_actions, now)
    findings = [
        *(f for f in findings if not _reported_inline(f, item.prior_findings)),
        *with_post_hoc_evidence(item.prior_findings, findings),
    ]
    if tenant is not None and tenant.security_thresholds:
        findings = [f for f in findings if _meets_tenant_threshold(f, tenant)]
    if policy.pii_action == "redact_silent":
        findings = [f for f in findings if f.finding_type != "pii_detected"]
    if policy.redacts:
        span = redact_span(span, analyzer)
    tags = span.tags
    if fast:
        tags = {**tags, "analysis_depth": f"fast ({fast_reason})"}
    if request_cut or response_cut:
        parts = " and ".join(n for n, cut in (("prompt", request_cut), ("response", response_cut)) if cut)
        tags = {**tags, "analysis_scope": f"{parts}: first and last {MAX_ANALYSED_CHARS} characters only"}
    return attrs.evolve(
        span,
        security_findings=tuple(findings),
        security_score=security_score(findings),
        analysis_status=AnalysisStatus.COMPLETED,
        tags=tags,
    )


def _fact(finding: SecurityFinding) -> tuple[str, str | None]:
    return finding.finding_type, finding.location


def _reported_inline(finding: SecurityFinding, prior: Sequence[SecurityFinding]) -> bool:
    """A post-hoc finding about what was already reported on the request path (by enforcement, a stream guard, data
    protection or the secret locator): the inline one stands, so the client's 403, the stored span and the alert
    agree on type, severity and confidence."""
    if finding.finding_type in ("secret_in_request", "pii_in_request"):
        return any(p.finding_type == finding.finding_type for p in prior)  # located there, with more detail
    return any(_fact(p) == _fact(finding) for p in prior)


def with_post_hoc_evidence(prior: Sequence[SecurityFinding], found: Sequence[SecurityFinding]) -> list[SecurityFinding]:
    """The inline findings, each noting what the post-hoc analysis (models included) made of the same fact."""
    out = []
    for finding in prior:
        later = [f for f in found if _fact(f) == _fact(finding)]
        if later:
            strongest = max(later, key=lambda f: (f.severity.rank, f.confidence))
            finding = attrs.evolve(
                finding,
                metadata={
                    **finding.metadata,
                    "post_hoc_severity": strongest.severity.value,
                    "post_hoc_confidence": f"{strongest.confidence:.2f}",
                    # e.g. model_disagrees: a rule hit that blocked on the fast path, overruled by the models
                    **(
                        {"post_hoc_voting_result": strongest.metadata["voting_result"]}
                        if "voting_result" in strongest.metadata
                        else {}
                    ),
                },
            )
        out.append(finding)
    return out


def _meets_tenant_threshold(finding: SecurityFinding, tenant: TenantSettings) -> bool:
    category = category_of(finding.finding_type)
    minimum = tenant.security_thresholds.get(category) if category else None
    return minimum is None or finding.confidence >= minimum


def mark(
    item: CapturedSpan, status: AnalysisStatus, reason: str, analyzer: SecurityAnalyzer | None, policy: AnalysisPolicy
) -> TraceSpan:
    """A span that was not analysed: say so, keep what inline checks found, and still honour redaction."""
    span = item.span
    if policy.redacts:
        try:
            if analyzer is None:
                raise TimeoutError
            span = redact_span(span, analyzer)
        except Exception:  # noqa: BLE001 - a span we cannot redact is stored without prompt, response or arguments
            span = attrs.evolve(
                span,
                prompt="[REDACTED: not analysed]",
                response=None,
                agent_actions=tuple(attrs.evolve(a, arguments=None, result=None) for a in span.agent_actions),
            )
    findings = (*item.prior_findings, _note(status, reason))
    return attrs.evolve(
        span, security_findings=findings, security_score=security_score(findings), analysis_status=status
    )


class PostHocAnalysis:
    """Analyses a batch of captured spans: tenant settings, circuit breaker, worker thread, timeout, marks."""

    def __init__(
        self,
        analyzer: SecurityAnalyzer,
        breaker: CircuitBreaker,
        policy: AnalysisPolicy,
        telemetry: Telemetry,
        *,
        limiter: trio.CapacityLimiter | None = None,
        tenant_settings: TenantSettingsCache | None = None,
    ) -> None:
        self.analyzer = analyzer
        self.breaker = breaker
        self.policy = policy
        self._telemetry = telemetry
        self._limiter = limiter or trio.CapacityLimiter(1)
        self._tenant_settings = tenant_settings

    @property
    def enabled(self) -> bool:
        return self.policy.enabled

    async def tenants_of(self, batch: Sequence[CapturedSpan]) -> dict[str, TenantSettings | None]:
        tenants: dict[str, TenantSettings | None] = {}
        if self._tenant_settings is not None:
            for item in batch:
                if item.span.tenant_id not in tenants:
                    tenants[item.span.tenant_id] = await self._tenant_settings.get(item.span.tenant_id)
        return tenants

    async def analyse(self, batch: Sequence[CapturedSpan], *, fast: bool = False) -> list[TraceSpan]:
        """``fast``: the models are skipped (load shedding); the rules still run and the span says so."""
        return await analyze_batch(
            batch,
            self.analyzer,
            self.breaker,
            self.policy,
            self._telemetry,
            self._limiter,
            await self.tenants_of(batch),
            fast,
        )


async def analyze_batch(
    batch: Sequence[CapturedSpan],
    analyzer: SecurityAnalyzer,
    breaker: CircuitBreaker,
    policy: AnalysisPolicy,
    telemetry: Telemetry,
    limiter: trio.CapacityLimiter,
    tenants: Mapping[str, TenantSettings | None] | None = None,
    fast: bool = False,
) -> list[TraceSpan]:
    tenants = tenants or {}
    if not policy.enabled:
        return [mark(i, AnalysisStatus.DISABLED, "security analysis is disabled", analyzer, policy) for i in batch]
    if not breaker.allow(trio.current_time()):
        telemetry.breaker_state("security", breaker.state.value)
        return [
            mark(i, AnalysisStatus.SKIPPED, "security analysis skipped: circuit breaker open", analyzer, policy)
            for i in batch
        ]
    started = time.perf_counter()

    def work(rules_only: bool, reason: str) -> list[TraceSpan]:
        if not rules_only:
            analyzer.warm([analysed_part(item.analysis_text)[0] for item in batch])
        return [
            analyze_span(item, analyzer, policy, tenants.get(item.span.tenant_id), rules_only, reason) for item in batch
        ]

    result: list[TraceSpan] | None = None
    failure: str | None = None
    with trio.move_on_after(policy.timeout_s * len(batch)) as scope:
        try:
            result = await trio.to_thread.run_sync(work, fast, SHED_REASON, limiter=limiter, abandon_on_cancel=True)
        except Exception as exc:
            log.exception("security analysis failed")
            failure = f"{type(exc).__name__}: {exc}"
        if result is None and not fast:
            # The models failed (a model process that died, say): the rules still analyse the batch, the spans say
            # so, and the failure is counted; only when the rules fail too is the batch marked failed.
            reason = f"models failed, rules only: {failure}"[:300]
            try:
                result = await trio.to_thread.run_sync(work, True, reason, limiter=limiter, abandon_on_cancel=True)
                telemetry.pipeline_failure("analysis")
            except Exception as exc:
                log.exception("security analysis failed with the rules only too")
                failure = f"{type(exc).__name__}: {exc}"
    if result is not None:
        breaker.on_success()
        telemetry.breaker_state("security", breaker.state.value)
        telemetry.analysis_completed(
            [f for s in result for f in s.security_findings], (time.perf_counter() - started) / len(batch)
        )
        return result
    breaker.on_failure(trio.current_time())
    telemetry.breaker_state("security", breaker.state.value)
    telemetry.pipeline_failure("analysis")
    if scope.cancelled_caught:
        status, reason = AnalysisStatus.TIMED_OUT, f"security analysis timed out after {policy.timeout_s:g}s"
    else:
        status, reason = AnalysisStatus.FAILED, f"security analysis failed: {failure}"
    return [mark(i, status, reason, None if status is AnalysisStatus.TIMED_OUT else analyzer, policy) for i in batch]
