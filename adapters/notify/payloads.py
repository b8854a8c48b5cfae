"""What each channel receives for an alert (reference section 7 formats, severities ordered properly)."""

from __future__ import annotations

from typing import Any

from adapters.codec import iso
from domain.alerting import Alert
from domain.findings import Severity

EMOJI = {Severity.CRITICAL: "🛑", Severity.HIGH: "🚨", Severity.MEDIUM: "⚠️"}
PAGERDUTY_SEVERITY = {Severity.CRITICAL: "critical", Severity.HIGH: "error", Severity.MEDIUM: "warning"}


def _findings(alert: Alert) -> list[dict[str, Any]]:
    return [
        {
            "severity": f.severity.value,
            "finding_type": f.finding_type,
            "description": f.description,
            "confidence_score": f.confidence,
        }
        for f in alert.findings
    ]


def webhook(alert: Alert, escalation: bool) -> dict[str, Any]:
    return {
        "alert_type": "security_finding_escalation" if escalation else "security_finding",
        "alert_id": alert.id,
        "trace_id": alert.trace_id,
        "span_id": alert.span_id,
        "tenant_id": alert.tenant_id,
        "timestamp": iso(alert.created_at),
        "severity": alert.severity.value,
        "security_score": alert.security_score,
        "suppressed_count": alert.suppressed_count,
        "escalation_level": alert.escalation_level,
        "findings": _findings(alert),
    }


def slack(alert: Alert, escalation: bool) -> dict[str, Any]:
    prefix = "ESCALATED: " if escalation else ""
    title = f"{EMOJI.get(alert.severity, 'ℹ️')} {prefix}LLMTrace Security Alert — {alert.severity.value}"
    lines = "\n".join(
        f"• *{f.severity.value}* `{f.finding_type}`: {f.description} (confidence: {round(f.confidence * 100)}%)"
        for f in alert.findings
    )
    suppressed = (
        f"\n_{alert.suppressed_count} similar finding(s) suppressed by the cooldown since the last alert_"
        if alert.suppressed_count
        else ""
    )
    return {
        "text": title,
        "blocks": [
            {"type": "header", "text": {"type": "plain_text", "text": title}},
            {
                "type": "section",
                "text": {
                    "type": "mrkdwn",
                    "text": (
                        f"*Trace:* `{alert.trace_id}`\n*Tenant:* `{alert.tenant_id}`\n*Time:* {iso(alert.created_at)}\n"
                        f"*Findings ({len(alert.findings)}):*\n{lines}{suppressed}"
                    ),
                },
            },
            {
                "type": "context",
                "elements": [
                    {
                        "type": "mrkdwn",
                        "text": (f"LLMTrace Alert Engine | {len(alert.findings)} finding(s) | alert {alert.id}"),
                    }
                ],
            },
        ],
    }


def pagerduty(alert: Alert, escalation: bool, routing_key: str) -> dict[str, Any]:
    if len(alert.findings) == 1:
        f = alert.findings[0]
        summary = f"LLMTrace: {f.finding_type} — {f.description}"
    else:
        summary = f"LLMTrace: {len(alert.findings)} security finding(s) on trace {alert.trace_id}"
    if escalation:
        summary = "ESCALATED " + summary
    return {
        "routing_key": routing_key,
        "event_action": "trigger",
        "dedup_key": f"llmtrace-{alert.trace_id}",
        "payload": {
            "summary": summary[:1024],
            "severity": PAGERDUTY_SEVERITY.get(alert.severity, "info"),
            "source": "llmtrace-proxy",
            "component": "security-analysis",
            "group": alert.tenant_id,
            "timestamp": iso(alert.created_at),
            "custom_details": {
                "alert_id": alert.id,
                "trace_id": alert.trace_id,
                "tenant_id": alert.tenant_id,
                "suppressed_count": alert.suppressed_count,
                "escalation_level": alert.escalation_level,
                "findings": _findings(alert),
            },
        },
    }


def email(alert: Alert, escalation: bool) -> tuple[str, str]:
    subject = (
        f"[LLMTrace] {'ESCALATED ' if escalation else ''}{alert.severity.value} security alert on trace "
        f"{alert.trace_id}"
    )
    body = [
        f"Alert {alert.id}",
        f"Tenant: {alert.tenant_id}",
        f"Trace: {alert.trace_id}",
        f"Time: {iso(alert.created_at)}",
        f"Security score: {alert.security_score}",
        "",
        "Findings:",
    ]
    body += [
        f"- [{f.severity.value}] {f.finding_type}: {f.description} (confidence {f.confidence:.2f})"
        for f in alert.findings
    ]
    if alert.suppressed_count:
        body.append(f"\n{alert.suppressed_count} similar finding(s) were suppressed by the cooldown.")
    return subject, "\n".join(body)
