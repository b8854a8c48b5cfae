"""The JSON boundary: one cattrs converter for every domain object that leaves or enters as JSON (the REST API, the
spill file, the stores' JSON columns and alert documents).

Field names are the domain's, which are the reference's, so users of the original API can switch; the few
exceptions are declared here once: a finding's ``confidence`` is ``confidence_score`` on the wire (``confidence``
is read too), an alert carries its sorted ``finding_types``, and credentials' hashes never leave (tenants without
``token_hash``, keys without ``key_hash``). Times are ISO 8601 in UTC with a ``Z``; enums are their values.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any, TypeVar

import cattrs
from cattrs.gen import make_dict_structure_fn, make_dict_unstructure_fn, override

from domain.alerting import Alert
from domain.findings import SecurityFinding, Severity
from domain.providers import Provider, provider_from_name
from domain.queries import StorageStats
from domain.tenancy import ApiKey, AuditEvent, Tenant, TenantSettings
from domain.traces import TraceEvent, TraceSpan
from domain.traffic import WindowSpend
from domain.usage import UsageRow

T = TypeVar("T")


def iso(value: dt.datetime | None) -> str | None:
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def parse_time(text: str | None) -> dt.datetime | None:
    if not text:
        return None
    value = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value


def _string_map(value: Any, _: Any) -> dict[str, str]:
    return {str(k): str(v) for k, v in dict(value or {}).items()}


def _make_converter() -> cattrs.Converter:
    converter = cattrs.Converter(unstruct_collection_overrides={tuple: list})
    converter.register_unstructure_hook(dt.datetime, iso)
    converter.register_structure_hook(dt.datetime, lambda value, _: parse_time(value))
    converter.register_structure_hook(Severity, lambda value, _: Severity.parse(str(value)))
    converter.register_structure_hook(Provider, lambda value, _: provider_from_name(str(value or "custom")))
    converter.register_unstructure_hook(Mapping, dict)
    converter.register_structure_hook_func(lambda t: t == Mapping[str, str] or t == dict[str, str], _string_map)
    converter.register_structure_hook_func(lambda t: t == Mapping[str, Any], lambda value, _: dict(value or {}))

    converter.register_unstructure_hook(
        SecurityFinding,
        make_dict_unstructure_fn(SecurityFinding, converter, confidence=override(rename="confidence_score")),
    )
    finding_from_dict = make_dict_structure_fn(
        SecurityFinding, converter, confidence=override(rename="confidence_score")
    )

    def finding(value: Mapping[str, Any], _: Any) -> SecurityFinding:
        data = dict(value)
        if "confidence_score" not in data:
            data["confidence_score"] = data.pop("confidence", 0.0)
        return finding_from_dict(data, SecurityFinding)

    converter.register_structure_hook(SecurityFinding, finding)

    alert_to_dict = make_dict_unstructure_fn(Alert, converter)
    converter.register_unstructure_hook(
        Alert, lambda alert: {**alert_to_dict(alert), "finding_types": alert.finding_types}
    )
    converter.register_structure_hook(
        Alert,
        lambda value, _: make_dict_structure_fn(Alert, converter)(
            {k: v for k, v in value.items() if k != "finding_types"}, Alert
        ),
    )
    converter.register_unstructure_hook(
        Tenant, make_dict_unstructure_fn(Tenant, converter, token_hash=override(omit=True))
    )
    converter.register_unstructure_hook(
        ApiKey, make_dict_unstructure_fn(ApiKey, converter, key_hash=override(omit=True))
    )
    converter.register_unstructure_hook(
        TenantSettings,
        make_dict_unstructure_fn(TenantSettings, converter, monthly_budget_usd=override(rename="monthly_budget")),
    )
    usage_to_dict = make_dict_unstructure_fn(UsageRow, converter)

    def usage_row(row: UsageRow) -> dict[str, Any]:
        data = usage_to_dict(row)
        group = data.pop("group")
        return {**group, **data, "cost_usd": round(row.cost_usd, 8)}

    converter.register_unstructure_hook(UsageRow, usage_row)
    spend_to_dict = make_dict_unstructure_fn(WindowSpend, converter)
    converter.register_unstructure_hook(
        WindowSpend,
        lambda spend: {
            **spend_to_dict(spend),
            "current_spend_usd": round(spend.current_spend_usd, 8),
            "utilization_pct": spend.utilization_pct,
        },
    )
    return converter


json_converter = _make_converter()


def to_json(value: Any) -> Any:
    """A domain object (or a list of them) as JSON-ready data."""
    return json_converter.unstructure(value)


def from_json(data: Any, cls: type[T]) -> T:
    """JSON data back into a domain object; raises on data that does not fit (cattrs' errors)."""
    return json_converter.structure(data, cls)


# Named for what they carry, for the call sites that read better so.


def span_to_json(span: TraceSpan) -> dict[str, Any]:
    return to_json(span)  # type: ignore[no-any-return]


def span_from_json(data: Mapping[str, Any]) -> TraceSpan:
    return from_json(data, TraceSpan)


def trace_to_json(trace: TraceEvent) -> dict[str, Any]:
    return to_json(trace)  # type: ignore[no-any-return]


def stats_to_json(stats: StorageStats) -> dict[str, Any]:
    return to_json(stats)  # type: ignore[no-any-return]


def alert_to_json(alert: Alert) -> dict[str, Any]:
    return to_json(alert)  # type: ignore[no-any-return]


def alert_from_json(data: Mapping[str, Any]) -> Alert:
    return from_json(data, Alert)


def tenant_to_json(tenant: Tenant) -> dict[str, Any]:
    return to_json(tenant)  # type: ignore[no-any-return]


def key_to_json(key: ApiKey) -> dict[str, Any]:
    return to_json(key)  # type: ignore[no-any-return]


def settings_to_json(settings: TenantSettings) -> dict[str, Any]:
    return to_json(settings)  # type: ignore[no-any-return]


def audit_to_json(event: AuditEvent) -> dict[str, Any]:
    return to_json(event)  # type: ignore[no-any-return]
