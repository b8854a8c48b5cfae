"""Alert policies, alerts and their lifecycle (reference section 7, without its quirks).

Severities compare as severities (the original compared their names as strings), the cooldown is per tenant and
finding type (the original shared one cooldown across all tenants), suppressed findings are counted and reported in
the next alert, and an unacknowledged alert escalates.
"""

from __future__ import annotations

import datetime as dt
import enum
import uuid
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import attrs

from domain.findings import SecurityFinding, Severity, is_operational


class ChannelKind(enum.Enum):
    WEBHOOK = "webhook"
    SLACK = "slack"
    PAGERDUTY = "pagerduty"
    EMAIL = "email"


PAGERDUTY_EVENTS_URL = "https://events.pagerduty.com/v2/enqueue"


@attrs.frozen(kw_only=True)
class AlertChannel:
    name: str
    kind: ChannelKind
    url: str = ""
    routing_key: str = ""
    min_severity: Severity = Severity.HIGH
    min_security_score: int = 70
    escalation: bool = False  # also (or only, with escalation_only) receives escalations
    escalation_only: bool = False
    smtp_host: str = "localhost"
    smtp_port: int = 25
    email_from: str = "llmtrace@localhost"
    email_to: tuple[str, ...] = ()

    def accepts(self, span_score: int | None, findings: Iterable[SecurityFinding]) -> list[SecurityFinding]:
        """The findings this channel is told about: severity at least the channel's, and span score at least its
        (operational findings that ask for an alert, such as a budget warning, pass the score gate: they have none)."""
        passes_score = (span_score or 0) >= self.min_security_score
        return [
            f
            for f in findings
            if f.severity >= self.min_severity
            and (passes_score or (is_operational(f.finding_type) and f.requires_alert))
        ]


def parse_channels(
    legacy_webhook_url: str, channels: Sequence[Mapping[str, Any]], min_severity: str, min_security_score: int
) -> tuple[list[AlertChannel], list[str]]:
    """Channels from config (the ``channels`` list wins over the legacy ``webhook_url``); returns (channels, errors)."""
    out: list[AlertChannel] = []
    errors: list[str] = []
    if not channels and legacy_webhook_url:
        kind = (
            ChannelKind.SLACK
            if "hooks.slack.com" in legacy_webhook_url or "hooks.slack-gov.com" in legacy_webhook_url
            else ChannelKind.WEBHOOK
        )
        channels = [
            {
                "type": kind.value,
                "url": legacy_webhook_url,
                "min_severity": min_severity,
                "min_security_score": min_security_score,
            }
        ]
    for index, raw in enumerate(channels):
        where = f"alerts.channels[{index}]"
        try:
            kind = ChannelKind(str(raw.get("type", "")).lower())
        except ValueError:
            errors.append(f"{where}.type must be webhook, slack, pagerduty or email")
            continue
        url = str(raw.get("url") or raw.get("webhook_url") or "")
        if kind is ChannelKind.PAGERDUTY:
            url = url or PAGERDUTY_EVENTS_URL
            if not raw.get("routing_key"):
                errors.append(f"{where}: pagerduty needs routing_key")
                continue
        elif kind is not ChannelKind.EMAIL and not url.startswith(("http://", "https://")):
            errors.append(f"{where}: {kind.value} needs an http(s) url")
            continue
        to = raw.get("to") or ()
        if kind is ChannelKind.EMAIL and not to:
            errors.append(f"{where}: email needs a 'to' list")
            continue
        try:
            severity = Severity.parse(str(raw.get("min_severity", min_severity)))
        except ValueError as exc:
            errors.append(f"{where}.min_severity: {exc}")
            continue
        out.append(
            AlertChannel(
                name=str(raw.get("name") or f"{kind.value}-{index}"),
                kind=kind,
                url=url,
                routing_key=str(raw.get("routing_key") or ""),
                min_severity=severity,
                min_security_score=int(raw.get("min_security_score", min_security_score)),
                escalation=bool(raw.get("escalation", False)),
                escalation_only=bool(raw.get("escalation_only", False)),
                smtp_host=str(raw.get("smtp_host", "localhost")),
                smtp_port=int(raw.get("smtp_port", 25)),
                email_from=str(raw.get("from", "llmtrace@localhost")),
                email_to=tuple(str(t) for t in (to if isinstance(to, list) else [to])),
            )
        )
    return out, errors


class AlertStatus(enum.Enum):
    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    ESCALATED = "escalated"


@attrs.frozen(kw_only=True)
class Alert:
    id: str
    tenant_id: str
    trace_id: str
    span_id: str
    created_at: dt.datetime
    severity: Severity
    security_score: int | None
    findings: tuple[SecurityFinding, ...]
    suppressed_count: int = 0  # findings of the same tenant and types suppressed by the cooldown since the last alert
    channels: tuple[str, ...] = ()
    status: AlertStatus = AlertStatus.OPEN
    acknowledged_at: dt.datetime | None = None
    acknowledged_by: str | None = None
    escalated_at: dt.datetime | None = None
    escalation_level: int = 0

    @property
    def finding_types(self) -> list[str]:
        return sorted({f.finding_type for f in self.findings})


def escalated_severity(severity: Severity) -> Severity:
    order = list(Severity)
    return order[min(order.index(severity) + 1, len(order) - 1)]


def new_alert(
    tenant_id: str,
    trace_id: str,
    span_id: str,
    score: int | None,
    findings: Sequence[SecurityFinding],
    suppressed: int,
    now: dt.datetime,
) -> Alert:
    return Alert(
        id=str(uuid.uuid4()),
        tenant_id=tenant_id,
        trace_id=trace_id,
        span_id=span_id,
        created_at=now,
        severity=max(f.severity for f in findings),
        security_score=score,
        findings=tuple(findings),
        suppressed_count=suppressed,
    )


def alertable(findings: Iterable[SecurityFinding]) -> list[SecurityFinding]:
    """Bookkeeping notes (analysis skipped, ...) never alert."""
    return [f for f in findings if not f.finding_type.startswith("analysis_")]


def dedup_key(tenant_id: str, finding_type: str) -> str:
    return f"alert:{tenant_id}:{finding_type}"
