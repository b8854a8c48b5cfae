"""Who may do what: authentication of API and proxy callers, per-tenant settings, rate limits and budgets.

Auth off (the default): every caller is an admin of the tenant resolved from ``X-LLMTrace-Tenant-ID`` / the bearer
token / the default tenant, as in the original. Auth on: API callers present ``Authorization: Bearer`` with an
LLMTrace API key (or the bootstrap ``auth.admin_key``); proxied traffic presents ``X-LLMTrace-Token`` (a tenant token
or an API key) so the client's own ``Authorization`` header still reaches the provider.
"""

from __future__ import annotations

import datetime as dt
import math
import uuid
from collections.abc import Callable, Mapping
from typing import Any

import trio

from domain.capture import DEFAULT_TENANT_ID
from domain.errors import AuthError
from domain.exchange import RequestSummary, requested_tokens
from domain.findings import SecurityFinding, Severity
from domain.tenancy import (
    SECRET_PREFIX,
    Admission,
    Caller,
    Rejection,
    Role,
    TenantSettings,
    hash_secret,
    provider_key_label,
    same_secret,
)
from domain.traffic import (
    DEFAULT_AGENT,
    BudgetCap,
    BudgetWarning,
    CostCapPolicy,
    CostSnapshot,
    RateLimitPolicy,
    WindowSpend,
    judge_budgets,
    spend_entries,
    spend_key,
    token_cap_violation,
    window_bounds,
)
from ports.counters import SharedCounters
from ports.repositories import MetadataRepository, StorageUnavailable

Headers = Mapping[bytes, bytes]


def _header(headers: Headers, name: bytes) -> str | None:
    value = headers.get(name)
    return value.decode("latin-1").strip() if value else None


def _bearer(headers: Headers) -> str | None:
    value = _header(headers, b"authorization")
    if not value:
        return None
    scheme, _, token = value.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def _tenant_header(headers: Headers) -> str | None:
    value = _header(headers, b"x-llmtrace-tenant-id")
    if not value:
        return None
    try:
        return str(uuid.UUID(value))
    except ValueError:
        return None


class AccessControl:
    def __init__(
        self,
        metadata: MetadataRepository,
        *,
        enabled: bool,
        admin_key: str | None,
        anonymous_tenant: Callable[[Headers], str],
        cache_ttl_s: float = 5.0,
    ) -> None:
        self._metadata = metadata
        self.enabled = enabled
        self._admin_key = admin_key
        self._anonymous_tenant = anonymous_tenant
        self._ttl = cache_ttl_s
        self._cache: dict[str, tuple[float, Caller | None]] = {}

    def invalidate(self) -> None:
        """Forget cached credentials (after a key is revoked or a token reset), so the change applies at once."""
        self._cache.clear()

    async def _lookup(self, secret: str) -> Caller | None:
        digest = hash_secret(secret)
        now = trio.current_time()
        cached = self._cache.get(digest)
        if cached is not None and cached[0] > now:
            return cached[1]
        caller: Caller | None = None
        key = await self._metadata.get_api_key_by_hash(digest)
        if key is not None:
            caller = Caller(
                tenant_id=key.tenant_id, role=key.role, actor=f"api-key:{key.id}", credential=key.key_prefix
            )
        else:
            tenant = await self._metadata.get_tenant_by_token_hash(digest)
            if tenant is not None:
                caller = Caller(
                    tenant_id=tenant.id,
                    role=Role.OPERATOR,
                    actor=f"tenant-token:{tenant.id}",
                    credential=tenant.token_prefix,
                )
        if len(self._cache) > 10_000:
            self._cache.clear()
        self._cache[digest] = (now + self._ttl, caller)
        return caller

    def _admin(self, secret: str, headers: Headers) -> Caller | None:
        if self._admin_key and same_secret(secret, self._admin_key):
            return Caller(
                tenant_id=_tenant_header(headers) or DEFAULT_TENANT_ID,
                role=Role.ADMIN,
                actor="admin-key",
                superuser=True,
                credential="admin-key",
            )
        return None

    async def for_api(self, headers: Headers) -> Caller:
        if not self.enabled:
            return Caller(tenant_id=self._anonymous_tenant(headers), role=Role.ADMIN, actor="anonymous", superuser=True)
        secret = _bearer(headers) or _header(headers, b"x-llmtrace-token")
        if not secret:
            raise AuthError("Missing credentials: send Authorization: Bearer <LLMTrace API key>")
        caller = self._admin(secret, headers)
        if caller is None and secret.startswith(SECRET_PREFIX):
            caller = await self._lookup(secret)
        if caller is None:
            raise AuthError("Invalid API key")
        return caller

    def is_own_credential(self, authorization: str) -> bool:
        """A bearer value that is a tenant token, an API key or the admin key: LLMTrace's, not a provider's."""
        scheme, _, secret = authorization.strip().partition(" ")
        secret = secret.strip()
        if scheme.lower() != "bearer" or not secret:
            return False
        return secret.startswith(SECRET_PREFIX) or (
            self._admin_key is not None and same_secret(secret, self._admin_key)
        )

    async def for_proxy(self, headers: Headers) -> Caller:
        if not self.enabled:
            provider_key = _bearer(headers) or _header(headers, b"x-api-key")
            return Caller(
                tenant_id=self._anonymous_tenant(headers),
                role=Role.ADMIN,
                actor="anonymous",
                superuser=True,
                credential=provider_key_label(provider_key) if provider_key else None,
            )
        token = _header(headers, b"x-llmtrace-token")
        if token:
            caller = self._admin(token, headers) or await self._lookup(token)
            if caller is None:
                raise AuthError("Invalid X-LLMTrace-Token")
            return caller
        bearer = _bearer(headers)
        if bearer and (bearer.startswith(SECRET_PREFIX) or self._admin_key):
            caller = self._admin(bearer, headers) or (
                await self._lookup(bearer) if bearer.startswith(SECRET_PREFIX) else None
            )
            if caller is not None:
                return caller
        raise AuthError("Missing credentials: send X-LLMTrace-Token with a tenant token or LLMTrace API key")


class TenantSettingsCache:
    """Per-tenant settings, read through a short cache so the request path rarely waits on the store."""

    def __init__(self, metadata: MetadataRepository, ttl_s: float = 5.0) -> None:
        self._metadata = metadata
        self._ttl = ttl_s
        self._cache: dict[str, tuple[float, TenantSettings]] = {}

    def invalidate(self, tenant_id: str) -> None:
        self._cache.pop(tenant_id, None)

    async def get(self, tenant_id: str) -> TenantSettings:
        now = trio.current_time()
        cached = self._cache.get(tenant_id)
        if cached is not None and cached[0] > now:
            return cached[1]
        try:
            settings = await self._metadata.get_settings(tenant_id) or TenantSettings(tenant_id=tenant_id)
        except Exception:  # noqa: BLE001 - a store outage falls back to defaults (fail open)
            settings = cached[1] if cached else TenantSettings(tenant_id=tenant_id)
        self._cache[tenant_id] = (now + self._ttl, settings)
        return settings


class SpendLedger:
    """Estimated spend per tenant in the current calendar month (UTC), fed by the capture actor.

    Kept in the shared counters (Redis when configured), so budgets hold across replicas and restarts."""

    def __init__(self, counters: SharedCounters) -> None:
        self._counters = counters

    @staticmethod
    def _key(tenant_id: str, at: dt.datetime) -> str:
        return f"spend:{tenant_id}:{at.strftime('%Y-%m')}"

    async def add(self, tenant_id: str, cost_usd: float, at: dt.datetime, agent_id: str | None = None) -> None:
        """The tenant's month, and every budget window of (tenant, agent), in one atomic step."""
        entries = [(self._key(tenant_id, at), cost_usd, 40 * 86400), *spend_entries(tenant_id, agent_id, cost_usd, at)]
        await self._counters.add_many(entries)

    async def month_to_date(self, tenant_id: str, at: dt.datetime) -> float:
        return await self._counters.total(self._key(tenant_id, at))


class ProxyGate:
    """Admission of one proxied request: authentication, the rate limit, budgets and token caps.

    Rate limits are token buckets per tenant (per tenant and credential when auth is on); budgets are spend per
    (tenant, agent) in calendar windows; both live in the shared counters (Redis when configured), so replicas
    agree. A counter store that is down fails open (traffic flows, limits pause) and is counted."""

    def __init__(
        self,
        access: AccessControl,
        settings: TenantSettingsCache,
        spend: SpendLedger,
        counters: SharedCounters,
        clock: Callable[[], float],
        rate_limits: RateLimitPolicy | None = None,
        cost_caps: CostCapPolicy | None = None,
        on_counter_failure: Callable[[], None] = lambda: None,
    ) -> None:
        self._access = access
        self._settings = settings
        self._spend = spend
        self._counters = counters
        self._clock = clock
        self._rate_limits = rate_limits or RateLimitPolicy(enabled=False)
        self._cost_caps = cost_caps or CostCapPolicy()
        self._counter_failed = on_counter_failure
        self.enabled = access.enabled

    def is_proxy_credential(self, authorization: bytes) -> bool:
        return self._access.is_own_credential(authorization.decode("latin-1"))

    async def admit(self, headers: Headers) -> Admission:
        try:
            caller = await self._access.for_proxy(headers)
        except AuthError as exc:
            return Admission("", Rejection(401, {"error": {"message": str(exc), "type": "auth_error"}}))
        except StorageUnavailable:
            # Credentials cannot be checked: refuse (auth fails closed), clearly and retryably, never with a 500.
            return Admission(
                "",
                Rejection(
                    503,
                    {"error": {"message": "the credential store is unavailable; retry shortly", "type": "auth_error"}},
                    ((b"retry-after", b"5"),),
                ),
            )
        tenant_id = caller.tenant_id
        settings = await self._settings.get(tenant_id)
        response_headers: tuple[tuple[bytes, bytes], ...] = ()
        limit = self._rate_limits.limit_for(tenant_id, settings.rate_limit_rpm)
        if limit is not None:
            bucket = f"ratelimit:{tenant_id}" if not self.enabled else f"ratelimit:{tenant_id}:{caller.actor}"
            try:
                verdict = await self._counters.take(bucket, limit)
            except Exception:  # noqa: BLE001 - a dead counter store fails open: traffic flows, limits pause
                self._counter_failed()
                verdict = None
            if verdict is not None:
                response_headers = (
                    (b"x-ratelimit-limit", str(limit.burst).encode()),
                    (b"x-ratelimit-remaining", str(verdict.remaining).encode()),
                    (b"x-ratelimit-reset", str(verdict.reset_s).encode()),
                )
                if not verdict.allowed:
                    body: dict[str, Any] = {
                        "message": f"Rate limit exceeded for tenant {tenant_id}",
                        "type": "rate_limit_exceeded",
                        "tenant_id": tenant_id,
                        "limit_requests_per_second": limit.rate_per_s,
                        "burst_size": limit.burst,
                        "retry_after_secs": verdict.retry_after_s,
                    }
                    if settings.rate_limit_rpm:
                        body["limit_requests_per_minute"] = settings.rate_limit_rpm
                    return Admission(
                        tenant_id,
                        Rejection(
                            429,
                            {"error": body},
                            ((b"retry-after", str(verdict.retry_after_s).encode()), *response_headers),
                        ),
                    )
        if settings.monthly_budget_usd is not None:
            try:
                spent = await self._spend.month_to_date(tenant_id, dt.datetime.now(dt.UTC))
            except Exception:  # noqa: BLE001 - fail open
                self._counter_failed()
                spent = 0.0
            if spent >= settings.monthly_budget_usd:
                _, end = window_bounds("monthly", dt.datetime.now(dt.UTC))
                retry = _seconds_until(end)
                return Admission(
                    tenant_id,
                    Rejection(
                        429,
                        {
                            "error": {
                                "message": f"monthly budget exceeded: ${spent:.4f} / "
                                f"${settings.monthly_budget_usd:.2f}",
                                "type": "cost_cap_exceeded",
                                "retry_after_secs": retry,
                            }
                        },
                        ((b"retry-after", str(retry).encode()),),
                    ),
                )
        if not self._cost_caps.enabled:
            return Admission(tenant_id, None, response_headers, credential=caller.credential)
        agent_id = _header(headers, b"x-llmtrace-agent-id") or None
        caps = self._cost_caps.caps_for(agent_id)
        findings: tuple[SecurityFinding, ...] = ()
        if caps.budgets:
            try:
                spends = await self.window_spends(tenant_id, agent_id, caps.budgets)
            except Exception:  # noqa: BLE001 - fail open
                self._counter_failed()
                spends = []
            judgement = judge_budgets(spends)
            if judgement.exceeded is not None:
                over = judgement.exceeded
                return Admission(
                    tenant_id,
                    Rejection(
                        429,
                        {
                            "error": {
                                "message": f"{over.window} budget exceeded: ${over.current_spend_usd:.4f} / "
                                f"${over.hard_limit_usd:.2f}",
                                "type": "cost_cap_exceeded",
                                "window": over.window,
                                "retry_after_secs": over.resets_in_secs,
                            }
                        },
                        ((b"retry-after", str(over.resets_in_secs).encode()), *response_headers),
                    ),
                )
            findings = tuple(cost_warning(warning, tenant_id, agent_id) for warning in judgement.warnings)
        return Admission(tenant_id, None, response_headers, findings, caps.tokens, credential=caller.credential)

    def check_tokens(self, admission: Admission, request: RequestSummary) -> Rejection | None:
        """Token caps, once the body is read: the estimated prompt and the completion the request asks for."""
        if admission.token_cap is None:
            return None
        prompt_tokens, completion_tokens = requested_tokens(request)
        violation = token_cap_violation(admission.token_cap, prompt_tokens, completion_tokens)
        if violation is None:
            return None
        return Rejection(
            429,
            {
                "error": {
                    "message": f"token cap exceeded: {violation}",
                    "type": "cost_cap_exceeded",
                    "retry_after_secs": 0,
                }
            },
        )

    async def window_spends(
        self, tenant_id: str, agent_id: str | None, budgets: tuple[BudgetCap, ...]
    ) -> list[WindowSpend]:
        now = dt.datetime.now(dt.UTC)
        bounds = [window_bounds(cap.window, now) for cap in budgets]
        totals = await self._counters.totals(
            [spend_key(tenant_id, agent_id, cap.window, start) for cap, (start, _) in zip(budgets, bounds, strict=True)]
        )
        return [
            WindowSpend(cap.window, spent, cap.hard_limit_usd, cap.soft_limit_usd, _seconds_until(end))
            for cap, (_, end), spent in zip(budgets, bounds, totals, strict=True)
        ]

    async def current_costs(self, tenant_id: str, agent_id: str | None) -> CostSnapshot | None:
        """``GET /api/v1/costs/current``: None when cost caps are off."""
        if not self._cost_caps.enabled:
            return None
        caps = self._cost_caps.caps_for(agent_id)
        spends = await self.window_spends(tenant_id, agent_id, caps.budgets)
        return CostSnapshot(tenant_id, agent_id or DEFAULT_AGENT, tuple(spends))


def _seconds_until(end: dt.datetime) -> int:
    return max(1, math.ceil((end - dt.datetime.now(dt.UTC)).total_seconds()))


def cost_warning(warning: BudgetWarning, tenant_id: str, agent_id: str | None) -> SecurityFinding:
    """High when a soft limit is reached (alert channels at their default High hear of it), Medium at 80% of a hard
    limit; never Critical, so a budget never pages a Critical-only channel."""
    return SecurityFinding(
        id=str(uuid.uuid4()),
        severity=Severity.HIGH if warning.soft_limit_reached else Severity.MEDIUM,
        finding_type="cost_cap_warning",
        description=warning.message,
        confidence=0.9,
        location=f"tenant:{tenant_id}" + (f" agent:{agent_id}" if agent_id else ""),
        detected_at=dt.datetime.now(dt.UTC).isoformat().replace("+00:00", "Z"),
        metadata={"agent_id": agent_id or DEFAULT_AGENT},
        requires_alert=True,
    )
