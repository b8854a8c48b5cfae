"""Security findings and the span's security score (reference section 4.1)."""

from __future__ import annotations

import enum
import functools
from collections.abc import Iterable, Mapping

import attrs


@functools.total_ordering
class Severity(enum.Enum):
    """Ordered as severities: Info < Low < Medium < High < Critical."""

    INFO = "Info"
    LOW = "Low"
    MEDIUM = "Medium"
    HIGH = "High"
    CRITICAL = "Critical"

    @property
    def rank(self) -> int:
        return _RANK[self]

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, Severity):
            return NotImplemented
        return self.rank < other.rank

    @classmethod
    def parse(cls, text: str) -> Severity:
        for member in cls:
            if member.value.lower() == text.strip().lower():
                return member
        raise ValueError(f"unknown severity {text!r} (expected one of Info, Low, Medium, High, Critical)")


_RANK = {Severity.INFO: 0, Severity.LOW: 1, Severity.MEDIUM: 2, Severity.HIGH: 3, Severity.CRITICAL: 4}

# Base score of a finding by severity, before confidence weighting (reference 4.1).
_SEVERITY_SCORE = {Severity.INFO: 10, Severity.LOW: 30, Severity.MEDIUM: 60, Severity.HIGH: 80, Severity.CRITICAL: 95}


@attrs.frozen(kw_only=True)
class SecurityFinding:
    id: str
    severity: Severity
    finding_type: str
    description: str
    confidence: float
    location: str | None = None
    detected_at: str = ""
    metadata: Mapping[str, str] = attrs.field(factory=dict)
    requires_alert: bool = False


def one_per_fact(findings: Iterable[SecurityFinding]) -> list[SecurityFinding]:
    """Rules that fire on the same text for the same reason describe one fact: pattern findings of one type at one
    location become one finding, the strongest (severity, then confidence), with the other patterns that matched
    listed in its metadata (``also_matched``). Findings about distinct items (each PII value, each action) stay."""
    out: list[SecurityFinding] = []
    groups: dict[tuple[str, str | None, str], list[SecurityFinding]] = {}
    for finding in findings:
        if "pattern_name" not in finding.metadata:
            out.append(finding)
            continue
        key = (finding.finding_type, finding.location, finding.metadata.get("decoded_from", ""))
        if key not in groups:
            groups[key] = []
            out.append(finding)  # the group's place in the order; replaced below
        groups[key].append(finding)
    merged: dict[str, SecurityFinding] = {}
    for group in groups.values():
        best = max(group, key=lambda f: (f.severity.rank, f.confidence))
        others = [f.metadata["pattern_name"] for f in group if f is not best]
        if others:
            best = attrs.evolve(best, metadata={**best.metadata, "also_matched": ",".join(others)})
        merged[group[0].id] = best
    return [merged.get(f.id, f) if "pattern_name" in f.metadata else f for f in out]


AUXILIARY_FINDING_TYPES = frozenset(
    {
        "is_hypothetical",
        "is_incentive",
        "is_urgent",
        "is_systemic",
        "is_covert",
        "is_immoral",
        "is_repeated_token",
        "context_flooding",
    }
)


# Findings about how the service is used rather than about attacks: they alert on their own (``requires_alert``),
# whatever a channel's security thresholds, and never raise the security score.
OPERATIONAL_FINDING_TYPES = frozenset({"cost_cap_warning"})
OPERATIONAL_PREFIXES = ("anomaly_",)  # anomaly_cost_spike, anomaly_velocity_spike, ...


def is_operational(finding_type: str) -> bool:
    return finding_type in OPERATIONAL_FINDING_TYPES or finding_type.startswith(OPERATIONAL_PREFIXES)


def security_score(findings: Iterable[SecurityFinding]) -> int | None:
    """0-100 per reference 4.1: the maximum base score by severity, with auxiliary finding types capped at 30
    and single-detector ensemble verdicts capped at 60. ``None`` when there are no scored findings.

    Bookkeeping findings (``analysis_*``, e.g. "analysis skipped") are Info notes and do not raise the score.
    """
    best: int | None = None
    for finding in findings:
        if finding.finding_type.startswith("analysis_") or is_operational(finding.finding_type):
            continue
        score = _SEVERITY_SCORE[finding.severity]
        if finding.finding_type in AUXILIARY_FINDING_TYPES:
            score = min(score, 30)
        if finding.metadata.get("voting_result") == "single_detector":
            score = min(score, 60)
        best = score if best is None else max(best, score)
    return best
