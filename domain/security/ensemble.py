"""How rule and model verdicts combine (reference section 4.6), as a pure function.

Ballots: the regex analyzer and the ML classifier. When both find an injection, every injection finding gains 0.10
confidence, takes the higher severity and is marked ``voting_result=majority``. When only one does, its injection
findings are marked ``single_detector`` (the span score caps them at 60: still flagged, but below the default
alerting score of 70). High-precision types (shell, SQL, exfiltration) and Critical pattern matches are decisive on
their own and bypass the vote. A rule hit the model positively disagrees with (``veto_rules``) is kept as Low
evidence and does not vote.
"""

from __future__ import annotations

import datetime as dt
import uuid

import attrs

from domain.findings import SecurityFinding, Severity
from domain.security.analyzer import INJECTION_TYPES
from domain.security.normalise import Decoded, decode_evasions, normalise
from domain.security.patterns import SUSPICIOUS_DECODED

VOTED_TYPES = (INJECTION_TYPES | {"jailbreak"}) - {"shell_injection", "p2sql_injection", "data_exfiltration"}
BYPASS_TYPES = frozenset({"shell_injection", "p2sql_injection", "data_exfiltration"})


def _model_finding(
    finding_type: str,
    severity: Severity,
    description: str,
    confidence: float,
    location: str,
    now: dt.datetime,
    metadata: dict[str, str],
) -> SecurityFinding:
    """A finding raised by a model (the rules build theirs in the analyzer's collector)."""
    return SecurityFinding(
        id=str(uuid.uuid4()),
        severity=severity,
        finding_type=finding_type,
        description=description,
        confidence=round(confidence, 4),
        location=location,
        detected_at=now.isoformat().replace("+00:00", "Z"),
        metadata=metadata,
        requires_alert=severity >= Severity.HIGH,
    )


def _scored(score: float, threshold: float, detector: str) -> dict[str, str]:
    return {"ml_score": f"{score:.4f}", "ml_threshold": f"{threshold:.4f}", "detector": detector}


def _graded(score: float) -> Severity:
    return Severity.CRITICAL if score >= 0.95 else Severity.HIGH if score >= 0.85 else Severity.MEDIUM


def ml_finding(
    score: float, threshold: float, detector: str, now: dt.datetime, location: str = "request.prompt"
) -> SecurityFinding | None:
    if score < threshold:
        return None
    return _model_finding(
        "ml_prompt_injection",
        _graded(score),
        f"Classifier {detector} scores this as a prompt injection or jailbreak ({score:.2f})",
        score,
        location,
        now,
        _scored(score, threshold, detector),
    )


def second_opinion_finding(
    head_score: float,
    second_score: float,
    threshold: float,
    detectors: str,
    now: dt.datetime,
    location: str = "request.prompt",
) -> SecurityFinding | None:
    """A borderline head score (below the operating point, above the high-recall point) that a second model confirms
    (``second_score >= threshold``) is one model verdict: Medium, with both scores in its metadata."""
    if second_score < threshold:
        return None
    return _model_finding(
        "ml_prompt_injection",
        Severity.MEDIUM,
        f"Borderline classifier score ({head_score:.2f}) confirmed by a second model ({second_score:.2f}) as a prompt "
        "injection or jailbreak",
        second_score,
        location,
        now,
        {
            "ml_score": f"{head_score:.4f}",
            "second_opinion_score": f"{second_score:.4f}",
            "second_opinion_threshold": f"{threshold:.4f}",
            "detector": detectors,
        },
    )


def hidden_payloads(text: str) -> list[Decoded]:
    """Texts worth a second look by the model (reference ML-034): every base64 or hex payload, and a rot13, reversed
    or leetspeak reading only when it reads as instructions and the text as written does not."""
    plain_suspicious = bool(SUSPICIOUS_DECODED.search(text))
    out = []
    for decoded in decode_evasions(text):
        readable = normalise(decoded.text)
        if decoded.encoding in ("base64", "hex") or (not plain_suspicious and SUSPICIOUS_DECODED.search(readable)):
            out.append(Decoded(decoded.encoding, readable))
    return out


def harmful_request_finding(
    score: float, threshold: float, detector: str, now: dt.datetime, location: str = "request.prompt"
) -> SecurityFinding | None:
    """A request for plainly harmful help (weapons, abuse, fraud...). Not an injection: it is not voted with the
    injection rules and stands on its own (Medium, High when the model is near certain)."""
    if score < threshold:
        return None
    return _model_finding(
        "harmful_request",
        Severity.HIGH if score >= 0.99 else Severity.MEDIUM,
        f"Classifier {detector} scores this as a request for harmful help ({score:.2f})",
        score,
        location,
        now,
        _scored(score, threshold, detector),
    )


MODEL_DISAGREES = "model_disagrees"


def vetoable(finding: SecurityFinding) -> bool:
    """A rule hit the model may overrule: a voted type, below Critical, found in the text as written (a hit on a
    decoded payload is about text the model did not read)."""
    return (
        finding.finding_type in VOTED_TYPES
        and finding.severity < Severity.CRITICAL
        and "decoded_from" not in finding.metadata
    )


def veto_rules(regex: list[SecurityFinding], injection_score: float, below: float | None) -> list[SecurityFinding]:
    """Rule hits the model positively disagrees with (its injection score under ``below``, chosen in training) stay
    as evidence but stop flagging: Low, ``voting_result=model_disagrees``, the rule's own severity in
    ``rule_severity``. A trigger word in a benign sentence ("ignore the old tax rules") is the rules' commonest false
    positive; Critical patterns, shell/SQL/exfiltration and hits on decoded payloads are never overruled."""
    if below is None or injection_score >= below:
        return regex
    return [
        attrs.evolve(
            f,
            severity=Severity.LOW,
            requires_alert=False,
            metadata={
                **f.metadata,
                "voting_result": MODEL_DISAGREES,
                "rule_severity": f.severity.value,
                "ml_score": f"{injection_score:.4f}",
                "ml_veto_below": f"{below:.4f}",
            },
        )
        if vetoable(f)
        else f
        for f in regex
    ]


def overruled(finding: SecurityFinding) -> bool:
    """A rule hit the model positively disagreed with (``veto_rules``): evidence only."""
    return finding.metadata.get("voting_result") == MODEL_DISAGREES


def votes(finding: SecurityFinding) -> bool:
    """A rule finding that takes part in the vote (a voted type the model has not overruled)."""
    return finding.finding_type in VOTED_TYPES and not overruled(finding)


def combine(regex: list[SecurityFinding], ml: list[SecurityFinding]) -> list[SecurityFinding]:
    """Rule findings the model overruled (``veto_rules``) pass through as they are: they neither vote nor flag."""
    voted_regex = [f for f in regex if votes(f)]
    out: list[SecurityFinding] = []
    if voted_regex and ml:
        top = max(f.severity for f in (*voted_regex, *ml))
        for finding in regex:
            if votes(finding):
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
        if votes(finding):
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


# -- named entities as PII (reference section 4.6 step 5) ----------------------------------------------------------
@attrs.frozen
class NamedEntity:
    """A span a named-entity recogniser found: ``kind`` is person, organization or location."""

    text: str
    kind: str
    start: int
    end: int


# kind -> (pii_type, severity, confidence), as the reference maps PER/ORG/LOC
ENTITY_PII: dict[str, tuple[str, Severity, float]] = {
    "person": ("person_name", Severity.MEDIUM, 0.85),
    "organization": ("organization", Severity.LOW, 0.75),
    "location": ("location", Severity.LOW, 0.70),
}


def merge_entities(
    findings: list[SecurityFinding],
    entities: list[NamedEntity],
    detector: str,
    now: dt.datetime,
    location: str = "request.prompt",
) -> list[SecurityFinding]:
    """Add one ``pii_detected`` finding per entity kind. Where the rules already found that PII type at the same
    location, corroborate it (+0.05 confidence, ``ner_corroborated``) instead of adding a second finding."""
    out = list(findings)
    for kind, (pii_type, severity, confidence) in ENTITY_PII.items():
        found = [e for e in entities if e.kind == kind]
        if not found:
            continue
        existing = next(
            (
                i
                for i, f in enumerate(out)
                if f.finding_type == "pii_detected"
                and f.metadata.get("pii_type") == pii_type
                and f.location == location
            ),
            None,
        )
        if existing is not None:
            f = out[existing]
            out[existing] = attrs.evolve(
                f,
                confidence=min(round(f.confidence + 0.05, 4), 1.0),
                metadata={**f.metadata, "ner_corroborated": "true"},
            )
            continue
        out.append(
            _model_finding(
                "pii_detected",
                severity,
                f"PII detected: {pii_type.replace('_', ' ')} ({len(found)}) by named-entity recognition",
                confidence,
                location,
                now,
                {"pii_type": pii_type, "count": str(len(found)), "detection_method": "ner", "detector": detector},
            )
        )
    return out


# -- model-scored toxicity on outputs ------------------------------------------------------------------------------
def ml_toxicity(
    findings: list[SecurityFinding],
    score: float,
    threshold: float,
    detector: str,
    now: dt.datetime,
    location: str = "response.content",
) -> list[SecurityFinding]:
    """Add an ``output_toxicity`` finding when the model's score clears ``threshold``. Keyword findings that agree
    gain 0.10 confidence and are marked ``ensemble_agreement``; keyword findings the model does not confirm stay."""
    if score < threshold:
        return findings
    out = [
        attrs.evolve(
            f,
            confidence=min(round(f.confidence + 0.1, 4), 1.0),
            metadata={**f.metadata, "ensemble_agreement": "true", "agreeing_detectors": f"keywords,{detector}"},
        )
        if f.finding_type == "output_toxicity"
        else f
        for f in findings
    ]
    out.append(
        _model_finding(
            "output_toxicity",
            _graded(score),
            f"Toxic content: classifier {detector} scores {score:.2f}",
            score,
            location,
            now,
            {"category": "toxic", "detection_method": "ml", **_scored(score, threshold, detector)},
        )
    )
    return out
