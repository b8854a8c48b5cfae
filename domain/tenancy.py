"""Tenants, API keys, roles, audit events and the per-tenant settings the proxy applies (reference section 9).

Secrets (API keys, tenant tokens) exist in plain text only at the moment they are generated; everything stored holds
their SHA-256 and a short display prefix.
"""

from __future__ import annotations

import datetime as dt
import enum
import functools
import hashlib
import hmac
import secrets
from collections.abc import Mapping
from typing import Any

import attrs

from domain.findings import SecurityFinding
from domain.protection import parse_policy, policy_to_json
from domain.rejection import Rejection
from domain.traffic import TokenCap

SECRET_PREFIX = "llmt_"


def generate_secret() -> str:
    """``llmt_`` + 64 lowercase hex characters (32 random bytes)."""
    return SECRET_PREFIX + secrets.token_hex(32)


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def display_prefix(secret: str) -> str:
    return secret[:12] + "…"


def provider_key_label(secret: str) -> str:
    """How a provider's API key (auth off: the credential the caller sent) appears on traces and in usage:
    recognisable (its kind and last four characters, as providers' consoles show keys) but never usable."""
    if len(secret) >= 24:
        return secret[:8] + "…" + secret[-4:]
    return "key#" + hash_secret(secret)[:8]


def same_secret(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode("utf-8"), b.encode("utf-8"))


@functools.total_ordering
class Role(enum.Enum):
    VIEWER = "viewer"
    OPERATOR = "operator"
    ADMIN = "admin"

    @property
    def rank(self) -> int:
        return {Role.VIEWER: 0, Role.OPERATOR: 1, Role.ADMIN: 2}[self]

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, Role):
            return NotImplemented
        return self.rank < other.rank

    @classmethod
    def parse(cls, text: str) -> Role:
        try:
            return cls(text.strip().lower())
        except ValueError:
            raise ValueError(f"role must be admin, operator or viewer, got {text!r}") from None


class MonitoringScope(enum.Enum):
    HYBRID = "hybrid"
    INPUT_ONLY = "input_only"
    OUTPUT_ONLY = "output_only"


@attrs.frozen(kw_only=True)
class Tenant:
    id: str
    name: str
    plan: str
    created_at: dt.datetime
    token_hash: str
    token_prefix: str
    config: Mapping[str, Any] = attrs.field(factory=dict)


@attrs.frozen(kw_only=True)
class TenantSettings:
    """What the proxy applies per tenant: analysis scope, confidence thresholds per category, limits."""

    tenant_id: str
    monitoring_scope: MonitoringScope = MonitoringScope.HYBRID
    security_thresholds: Mapping[str, float] = attrs.field(factory=dict)  # category -> min confidence
    feature_flags: Mapping[str, bool] = attrs.field(factory=dict)
    rate_limit_rpm: int | None = None
    monthly_budget_usd: float | None = None
    # the tenant's own data_protection (mode, types, on_error), validated by domain.protection.parse_policy;
    # None: the config's applies
    data_protection: Mapping[str, Any] | None = None


THRESHOLD_CATEGORIES = ("injection", "jailbreak", "pii", "toxicity", "leakage")


def parse_settings(tenant_id: str, data: Mapping[str, Any], base: TenantSettings | None = None) -> TenantSettings:
    """Validate a (partial) settings document; raises ValueError naming the bad field."""
    current = base or TenantSettings(tenant_id=tenant_id)
    unknown = set(data) - {"monitoring_scope", "security_thresholds", "feature_flags", "rate_limit_rpm",
                           "monthly_budget", "data_protection"}  # fmt: skip
    if unknown:
        raise ValueError(f"unknown settings: {', '.join(sorted(unknown))}")
    scope = current.monitoring_scope
    if "monitoring_scope" in data:
        try:
            scope = MonitoringScope(str(data["monitoring_scope"]))
        except ValueError:
            raise ValueError("monitoring_scope must be hybrid, input_only or output_only") from None
    thresholds = dict(current.security_thresholds)
    if "security_thresholds" in data:
        raw = data["security_thresholds"]
        if not isinstance(raw, Mapping):
            raise ValueError("security_thresholds must be an object")
        thresholds = {}
        for category, value in raw.items():
            if category not in THRESHOLD_CATEGORIES:
                raise ValueError(f"security_thresholds keys are {', '.join(THRESHOLD_CATEGORIES)}; got {category!r}")
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
                raise ValueError(f"security_thresholds.{category} must be a number between 0 and 1")
            thresholds[category] = float(value)
    flags = dict(current.feature_flags)
    if "feature_flags" in data:
        if not isinstance(data["feature_flags"], Mapping):
            raise ValueError("feature_flags must be an object")
        flags = {str(k): bool(v) for k, v in data["feature_flags"].items()}
    rpm = current.rate_limit_rpm
    if "rate_limit_rpm" in data:
        rpm = data["rate_limit_rpm"]
        if rpm is not None and (isinstance(rpm, bool) or not isinstance(rpm, int) or rpm < 0):
            raise ValueError("rate_limit_rpm must be a non-negative integer or null")
    budget = current.monthly_budget_usd
    if "monthly_budget" in data:
        budget = data["monthly_budget"]
        if budget is not None and (isinstance(budget, bool) or not isinstance(budget, (int, float)) or budget < 0):
            raise ValueError("monthly_budget must be a non-negative number or null")
        budget = None if budget is None else float(budget)
    protection = current.data_protection
    if "data_protection" in data:
        protection = data["data_protection"]
        if protection is not None:
            protection = policy_to_json(parse_policy(protection))  # raises ValueError naming the field
    return TenantSettings(
        tenant_id=tenant_id,
        monitoring_scope=scope,
        security_thresholds=thresholds,
        feature_flags=flags,
        rate_limit_rpm=rpm,
        monthly_budget_usd=budget,
        data_protection=protection,
    )


@attrs.frozen(kw_only=True)
class ApiKey:
    id: str
    tenant_id: str
    name: str
    key_hash: str
    key_prefix: str
    role: Role
    created_at: dt.datetime
    revoked_at: dt.datetime | None = None


@attrs.frozen
class CreatedKey:
    key: ApiKey
    secret: str  # shown once, never stored


@attrs.frozen(kw_only=True)
class AuditEvent:
    id: str
    tenant_id: str
    event_type: str
    actor: str
    resource: str
    timestamp: dt.datetime
    data: Mapping[str, Any] = attrs.field(factory=dict)


@attrs.frozen(kw_only=True)
class Caller:
    """Who is calling: the tenant every read and write is scoped to, and the role that gates routes."""

    tenant_id: str
    role: Role
    actor: str  # "api-key:<id>", "tenant-token:<tenant>", "admin-key", "anonymous"
    superuser: bool = False  # the bootstrap admin key: may manage every tenant and switch tenant explicitly
    credential: str | None = None  # the display prefix of the key or token that made the call (never the secret)


@attrs.frozen
class CreatedTenant:
    tenant: Tenant
    api_token: str  # shown once, never stored
    api_key: ApiKey
    api_key_secret: str  # shown once, never stored


@attrs.frozen
class Admission:
    """The gate's answer for one proxied request: the tenant, or why it is refused; headers for the response
    (rate-limit figures), findings to attach to its trace (budget warnings), the token cap checked on its body."""

    tenant_id: str
    rejection: Rejection | None = None
    headers: tuple[tuple[bytes, bytes], ...] = ()
    findings: tuple[SecurityFinding, ...] = ()
    token_cap: TokenCap | None = None
    credential: str | None = None  # who made the call, as traces and usage show it (a display prefix)
