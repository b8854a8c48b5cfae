"""Security checks that must run on the request path: enforcement before forwarding, and streaming checks on SSE.

Both are opt-in (``enforcement.mode`` other than ``log``; ``streaming_analysis.enabled`` or ``output_enabled``) and
both fail open: a check that errors or runs out of time lets the traffic through and is counted.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence

import attrs
import trio

from domain.exchange import RequestReading, StreamAccumulator, termination_events
from domain.findings import SecurityFinding, Severity
from domain.security.enforcement import ACTION_RANK, EnforcementDecision
from domain.security.ensemble import overruled
from ports.security import SecurityAnalyzer
from ports.telemetry import Telemetry

log = logging.getLogger("llmtrace.inline")

ALLOW = EnforcementDecision("log")


class Enforcer:
    """``enforcement.*``: analyse the request before it is forwarded; block (403), flag (headers) or log."""

    def __init__(
        self,
        analyzer: SecurityAnalyzer,
        telemetry: Telemetry,
        *,
        mode: str,
        min_severity: Severity,
        min_confidence: float,
        timeout_s: float,
        categories: Sequence[Mapping[str, str]] = (),
        limiter: trio.CapacityLimiter | None = None,
    ) -> None:
        """``limiter``: the proxy's one ML limiter when the analyzer runs models (``analysis_depth: full``), so
        enforcement and post-hoc analysis queue for the model in one place, abandoned calls included."""
        self._analyzer = analyzer
        self._telemetry = telemetry
        self.mode = mode
        self.min_severity = min_severity
        self.min_confidence = min_confidence
        self.timeout_s = timeout_s
        self.overrides = {str(c.get("finding_type")): str(c.get("action", mode)) for c in categories}
        self.active = mode != "log" or any(a != "log" for a in self.overrides.values())
        self._limiter = limiter or trio.CapacityLimiter(4)

    async def check(self, request: RequestReading) -> EnforcementDecision:
        if not self.active:
            return ALLOW

        def analyze() -> list[SecurityFinding]:
            # Reading the body (once per exchange; capture reuses it) belongs off the event loop as much as the
            # analysis does: bodies can be large.
            text = request.summary.analysis_text
            return self._analyzer.analyze_request(text) if text else []

        findings: list[SecurityFinding] | None = None
        with trio.move_on_after(self.timeout_s):
            try:
                findings = await trio.to_thread.run_sync(analyze, limiter=self._limiter, abandon_on_cancel=True)
            except Exception:
                log.exception("enforcement analysis failed; request allowed")
                self._telemetry.pipeline_failure("enforcement")
                return ALLOW
        if findings is None:
            self._telemetry.pipeline_failure("enforcement_timeout")
            return ALLOW
        action = "log"
        matched = []
        for finding in findings:
            if finding.severity < self.min_severity or finding.confidence < self.min_confidence:
                continue
            if overruled(finding):  # kept as evidence, never acted on, whatever min_severity says
                continue
            finding_action = self.overrides.get(finding.finding_type, self.mode)
            if finding_action == "log":
                continue
            matched.append(finding)
            if ACTION_RANK[finding_action] > ACTION_RANK[action]:
                action = finding_action
        return EnforcementDecision(action, tuple(matched))


@attrs.frozen
class StreamPolicy:
    token_interval: int = 50
    overlap_chars: int = 256
    security: bool = False  # streaming_analysis.enabled: PII and secret leakage in the output
    output_safety: bool = False  # output_enabled + output_safety.enabled: PII, leakage, toxicity
    toxicity: bool = False
    early_stop: bool = False

    @property
    def active(self) -> bool:
        return self.security or self.output_safety


class StreamGuard:
    """Watches one SSE response. Every ``token_interval`` text deltas it checks the new text plus an overlap window
    (so a secret split across two checks is still seen). With ``early_stop`` a critical finding ends the stream."""

    def __init__(self, analyzer: SecurityAnalyzer, policy: StreamPolicy) -> None:
        self._analyzer = analyzer
        self._policy = policy
        self._accumulator = StreamAccumulator()
        self._checked_upto = 0
        self._pending = 0
        self._seen: set[tuple[str, str]] = set()
        self.findings: list[SecurityFinding] = []
        self.stopped = False

    def feed(self, chunk: bytes) -> bool:
        """Returns True when the stream must stop before this chunk is forwarded."""
        deltas = self._accumulator.feed(chunk)
        if not deltas:
            return False
        self._pending += len(deltas)
        if self._pending < self._policy.token_interval:
            return False
        return self._check()

    def finish(self) -> None:
        self._accumulator.finish()
        if self._accumulator.text[self._checked_upto :]:
            self._check()

    def termination(self) -> bytes:
        return termination_events(self._accumulator)

    def _check(self) -> bool:
        self._pending = 0
        text = self._accumulator.text
        window = text[max(0, self._checked_upto - self._policy.overlap_chars) :]
        self._checked_upto = len(text)
        new: list[SecurityFinding] = []
        detection = "streaming" if self._policy.security else "streaming_output"
        location = "response.content.streaming" if self._policy.security else "response.content.streaming_output"
        found = self._analyzer.analyze_response(
            window, location=location, toxicity=self._policy.output_safety and self._policy.toxicity
        )
        for finding in found:
            key = (finding.finding_type, finding.metadata.get("pattern_name") or finding.metadata.get("pii_type", ""))
            if key in self._seen:
                continue
            self._seen.add(key)
            meta = {**finding.metadata, "detection": detection}
            if not self._policy.security:
                meta["analysis_type"] = "output_safety"
            new.append(attrs.evolve(finding, metadata=meta))
        self.findings.extend(new)
        if not self._policy.early_stop:
            return False
        critical = any(
            f.severity is Severity.CRITICAL
            or (f.finding_type == "output_toxicity" and f.metadata.get("category") in ("severe_toxic", "threat"))
            for f in new
        )
        if critical:
            self.stopped = True
            for index, finding in enumerate(self.findings):
                if finding in new:
                    self.findings[index] = attrs.evolve(finding, metadata={**finding.metadata, "early_stop": "true"})
        return critical


class StreamGuards:
    def __init__(self, analyzer: SecurityAnalyzer, policy: StreamPolicy) -> None:
        self._analyzer = analyzer
        self.policy = policy

    def open(self) -> StreamGuard | None:
        return StreamGuard(self._analyzer, self.policy) if self.policy.active else None
