"""Compliance reports (reference section 12) and an OWASP LLM Top 10 coverage report: what they contain, from
aggregates the stores compute, as pure functions.

A report is requested for a tenant and a period, stored ``pending``, built off the request path, and stored again
``completed`` with its content ``{"report_type": ..., "data": {...}}`` or ``failed`` with the reason. A report still
``pending`` when the proxy restarts is marked ``failed`` (never left pending for ever).
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import attrs

from domain.tenancy import AuditEvent


class ReportType(enum.Enum):
    SOC2 = "soc2"
    GDPR = "gdpr"
    HIPAA = "hipaa"
    OWASP_LLM_TOP10 = "owasp_llm_top10"


class ReportStatus(enum.Enum):
    PENDING = "pending"
    COMPLETED = "completed"
    FAILED = "failed"


@attrs.frozen(kw_only=True)
class ComplianceReport:
    id: str
    tenant_id: str
    report_type: ReportType
    status: ReportStatus
    period_start: dt.datetime
    period_end: dt.datetime
    created_at: dt.datetime
    completed_at: dt.datetime | None = None
    content: Mapping[str, Any] | None = None
    error: str | None = None


MAX_PERIOD = dt.timedelta(days=366)


def parse_report_request(body: Mapping[str, Any]) -> tuple[ReportType, dt.datetime, dt.datetime]:
    """``{report_type, period_start, period_end}``; raises ValueError naming what is wrong."""
    try:
        report_type = ReportType(str(body.get("report_type", "")))
    except ValueError:
        allowed = ", ".join(t.value for t in ReportType)
        raise ValueError(f"report_type must be one of {allowed}") from None
    bounds = []
    for name in ("period_start", "period_end"):
        raw = body.get(name)
        if not isinstance(raw, str):
            raise ValueError(f"{name} must be an RFC 3339 timestamp")
        try:
            value = dt.datetime.fromisoformat(raw.replace("Z", "+00:00"))
        except ValueError:
            raise ValueError(f"{name} must be an RFC 3339 timestamp, got {raw!r}") from None
        bounds.append(value if value.tzinfo else value.replace(tzinfo=dt.UTC))
    start, end = bounds
    if end <= start:
        raise ValueError("period_end must be after period_start")
    if end - start > MAX_PERIOD:
        raise ValueError("a report covers at most 366 days")
    return report_type, start, end


@attrs.frozen(kw_only=True)
class FindingCount:
    finding_type: str
    severity: str  # Info, Low, Medium, High, Critical
    count: int


@attrs.frozen(kw_only=True)
class ReportInputs:
    """What a report is built from, all for one tenant and period."""

    audit_events: Sequence[AuditEvent]
    findings: Sequence[FindingCount]
    requests: int
    errors: int
    by_provider: Mapping[str, int]
    by_model: Mapping[str, int]
    by_operation: Mapping[str, int]
    credentials: Sequence[str]  # display prefixes of the keys and tokens that made calls


# OWASP Top 10 for LLM Applications (2025): which findings belong to each category, and what covers it here.
OWASP_LLM_TOP10: tuple[tuple[str, str, tuple[str, ...], tuple[str, ...]], ...] = (
    (
        "LLM01", "Prompt Injection",
        ("prompt_injection", "jailbreak", "role_injection", "ml_prompt_injection", "encoding_attack",
         "header_injection", "context_flooding", "is_hypothetical", "is_incentive", "is_urgent", "is_systemic",
         "is_covert", "is_immoral", "is_shot_attack"),
        ("injection and jailbreak rules (normalised text, decoded evasions)", "MiniLM injection/jailbreak head",
         "enforcement (log, flag, block)"),
    ),
    (
        "LLM02", "Sensitive Information Disclosure",
        ("pii_detected", "pii_in_request", "secret_leakage", "secret_in_request", "data_leakage",
         "data_exfiltration"),
        ("PII detectors (validated) and spaCy NER", "secret patterns", "data protection (redact, pseudonymise, block)",
         "streaming output checks"),
    ),
    ("LLM03", "Supply Chain", (), ()),
    ("LLM04", "Data and Model Poisoning", (), ()),
    (
        "LLM05", "Improper Output Handling",
        ("shell_injection", "p2sql_injection", "output_toxicity", "suspicious_url"),
        ("shell and SQL injection rules", "toxicity (keywords, packaged model)", "streaming early stop"),
    ),
    (
        "LLM06", "Excessive Agency",
        ("dangerous_command", "sensitive_file_access"),
        ("agent action analysis (commands, files, URLs)", "reported actions (POST /api/v1/traces/{id}/actions)"),
    ),
    ("LLM07", "System Prompt Leakage", ("prompt_extraction",), ("prompt extraction rules",)),
    ("LLM08", "Vector and Embedding Weaknesses", (), ()),
    ("LLM09", "Misinformation", (), ()),
    (
        "LLM10", "Unbounded Consumption",
        ("cost_cap_warning", "anomaly_cost_spike", "anomaly_token_spike", "anomaly_velocity_spike",
         "anomaly_latency_spike", "anomaly_error_rate_spike"),
        ("rate limits", "cost and token caps", "anomaly detection"),
    ),
)  # fmt: skip


def _by_severity(findings: Iterable[FindingCount]) -> dict[str, int]:
    out = {s: 0 for s in ("Critical", "High", "Medium", "Low", "Info")}
    for f in findings:
        out[f.severity] = out.get(f.severity, 0) + f.count
    return out


def _events_by_type(events: Iterable[AuditEvent]) -> dict[str, int]:
    out: dict[str, int] = {}
    for event in events:
        out[event.event_type] = out.get(event.event_type, 0) + 1
    return dict(sorted(out.items()))


def _matching(events: Iterable[AuditEvent], *words: str) -> int:
    return sum(1 for e in events if any(w in e.event_type for w in words))


def build_content(report_type: ReportType, inputs: ReportInputs) -> dict[str, Any]:
    findings = [f for f in inputs.findings if not f.finding_type.startswith("analysis_")]
    total_findings = sum(f.count for f in findings)
    events = inputs.audit_events
    if report_type is ReportType.SOC2:
        data: dict[str, Any] = {
            "total_audit_events": len(events),
            "events_by_type": _events_by_type(events),
            "total_security_findings": total_findings,
            "findings_by_severity": _by_severity(findings),
            "total_traces_processed": inputs.requests,
            "unique_actors": sorted({e.actor for e in events}),
            "access_control_events": _matching(events, "key", "auth"),
        }
    elif report_type is ReportType.GDPR:
        data = {
            "total_processing_activities": inputs.requests,
            "processing_by_provider": dict(inputs.by_provider),
            "processing_by_model": dict(inputs.by_model),
            "pii_findings": sum(f.count for f in findings if "pii" in f.finding_type),
            "secrets_found": sum(f.count for f in findings if "secret" in f.finding_type),
            "data_lifecycle_events": _matching(events, "delete", "create", "update"),
            "tenants_processed": 1,
        }
    elif report_type is ReportType.HIPAA:
        data = {
            "total_access_events": inputs.requests,
            "access_by_operation": dict(inputs.by_operation),
            "unique_accessors": sorted({*(e.actor for e in events), *inputs.credentials}),
            "unauthorized_access_findings": sum(
                f.count for f in findings if "injection" in f.finding_type or "unauthorized" in f.finding_type
            ),
            "failed_access_attempts": inputs.errors,
            "access_control_changes": _matching(events, "key", "auth", "tenant"),
        }
    else:
        data = owasp_coverage(findings, inputs.requests)
    return {"report_type": report_type.value, "data": data}


def owasp_coverage(findings: Sequence[FindingCount], requests: int) -> dict[str, Any]:
    categories = []
    counted: set[str] = set()
    for code, name, types, detectors in OWASP_LLM_TOP10:
        mine = [f for f in findings if f.finding_type in types]
        counted.update(f.finding_type for f in mine)
        by_type: dict[str, int] = {}
        for f in mine:
            by_type[f.finding_type] = by_type.get(f.finding_type, 0) + f.count
        categories.append(
            {
                "id": code,
                "name": name,
                "coverage": "covered" if detectors else "not covered",
                "covered_by": list(detectors),
                "findings": sum(f.count for f in mine),
                "findings_by_severity": _by_severity(mine),
                "findings_by_type": dict(sorted(by_type.items())),
            }
        )
    other = sum(f.count for f in findings if f.finding_type not in counted)
    return {
        "total_requests": requests,
        "total_findings": sum(f.count for f in findings),
        "categories_covered": sum(1 for c in categories if c["coverage"] == "covered"),
        "categories": categories,
        "uncategorised_findings": other,
    }
