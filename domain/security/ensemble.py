"""How rule and model verdicts combine (reference section 4.6), as a pure function.

Ballots: the regex analyzer and the ML classifier. When both find an injection, every injection finding gains 0.10
confidence, takes the higher severity and is marked ``voting_result=majority``. When only one does, its injection
findings are marked ``single_detector`` (the span score caps them at 60: still flagged, but below the default
alerting score of 70). High-precision types (shell, SQL, exfiltration) and Critical pattern matches are decisive on
their own and bypass the vote.
"""

from __future__ import annotations

import datetime as dt
import uuid

import attrs

from domain.findings import SecurityFinding, Severity
from domain.security.analyzer import INJECTION_TYPES

VOTED_TYPES = (INJECTION_TYPES | {"jailbreak"}) - {"shell_injection", "p2sql_injection", "data_exfiltration"}
BYPASS_TYPES = frozenset({"shell_injection", "p2sql_injection", "data_exfiltration"})


def ml_finding(
    score: float, threshold: float, detector: str, now: dt.datetime, location: str = "request.prompt"
) -> SecurityFinding | None:
    if score < threshold:
        return None
    severity = Severity.CRITICAL if score >= 0.95 else Severity.HIGH if score >= 0.85 else Severity.MEDIUM
    return SecurityFinding(
        id=str(uuid.uuid4()),
        severity=severity,
        finding_type="ml_prompt_injection",
        description=f"Classifier {detector} scores this as a prompt injection or jailbreak ({score:.2f})",
        confidence=round(score, 4),
        location=location,
        detected_at=now.isoformat().replace("+00:00", "Z"),
        metadata={"ml_score": f"{score:.4f}", "ml_threshold": f"{threshold:.4f}", "detector": detector},
        requires_alert=severity >= Severity.HIGH,
    )


def combine(regex: list[SecurityFinding], ml: list[SecurityFinding]) -> list[SecurityFinding]:
    voted_regex = [f for f in regex if f.finding_type in VOTED_TYPES]
    out: list[SecurityFinding] = []
    if voted_regex and ml:
        top = max(f.severity for f in (*voted_regex, *ml))
        for finding in regex:
            if finding.finding_type in VOTED_TYPES:
                finding = attrs.evolve(
                    finding,
                    confidence=min(round(finding.confidence + 0.1, 4), 1.0),
                    severity=max(finding.severity, top),
                    metadata={
                        **finding.metadata,
                        "voting_result": "majority",
                        "agreeing_detectors": "regex,ml",
                        "ensemble_agreement": "true",
                    },
                )
            out.append(_bypass(finding))
        out.extend(
            attrs.evolve(
                f,
                confidence=min(round(f.confidence + 0.1, 4), 1.0),
                severity=max(f.severity, top),
                metadata={**f.metadata, "voting_result": "majority", "agreeing_detectors": "regex,ml"},
            )
            for f in ml
        )
        return out
    for finding in regex:
        if finding.finding_type in VOTED_TYPES:
            if finding.severity is Severity.CRITICAL:
                finding = attrs.evolve(finding, metadata={**finding.metadata, "voting_bypass": "critical_pattern"})
            else:
                finding = attrs.evolve(
                    finding,
                    metadata={**finding.metadata, "voting_result": "single_detector", "agreeing_detectors": "regex"},
                )
        out.append(_bypass(finding))
    out.extend(
        attrs.evolve(f, metadata={**f.metadata, "voting_result": "single_detector", "agreeing_detectors": "ml"})
        for f in ml
    )
    return out


def _bypass(finding: SecurityFinding) -> SecurityFinding:
    if finding.finding_type in BYPASS_TYPES:
        return attrs.evolve(finding, metadata={**finding.metadata, "voting_bypass": "high_precision"})
    return finding
