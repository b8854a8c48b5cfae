"""Who may do what: authentication of API and proxy callers, per-tenant settings, rate limits and budgets.

Auth off (the default): every caller is an admin of the tenant resolved from ``X-LLMTrace-Tenant-ID`` / the bearer
token / the default tenant, as in the original. Auth on: API callers present ``Authorization: Bearer`` with an
LLMTrace API key (or the bootstrap ``auth.admin_key``); proxied traffic presents ``X-LLMTrace-Token`` (a tenant token
or an API key) so the client's own ``Authorization`` header still reaches the provider.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Mapping

import trio

from domain.capture import DEFAULT_TENANT_ID
from domain.errors import AuthError
from domain.tenancy import (
    SECRET_PREFIX,
    Caller,
    Rejection,
    Role,
    TenantSettings,
    hash_secret,
    same_secret,
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
            caller = Caller(tenant_id=key.tenant_id, role=key.role, actor=f"api-key:{key.id}")
        else:
            tenant = await self._metadata.get_tenant_by_token_hash(digest)
            if tenant is not None:
                caller = Caller(tenant_id=tenant.id, role=Role.OPERATOR, actor=f"tenant-token:{tenant.id}")
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
            return Caller(tenant_id=self._anonymous_tenant(headers), role=Role.ADMIN, actor="anonymous", superuser=True)
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

    async def add(self, tenant_id: str, cost_usd: float, at: dt.datetime) -> None:
        await self._counters.add(self._key(tenant_id, at), cost_usd, ttl_s=40 * 86400)

    async def month_to_date(self, tenant_id: str, at: dt.datetime) -> float:
        return await self._counters.total(self._key(tenant_id, at))


class ProxyGate:
    """Admission of one proxied request: authentication, the tenant's rate limit and monthly budget."""

    def __init__(
        self,
        access: AccessControl,
        settings: TenantSettingsCache,
        spend: SpendLedger,
        counters: SharedCounters,
        clock: Callable[[], float],
    ) -> None:
        self._access = access
        self._settings = settings
        self._spend = spend
        self._counters = counters
        self._clock = clock
        self.enabled = access.enabled

    def is_proxy_credential(self, authorization: bytes) -> bool:
        return self._access.is_own_credential(authorization.decode("latin-1"))

    async def admit(self, headers: Headers) -> tuple[str, Rejection | None]:
        try:
            caller = await self._access.for_proxy(headers)
        except AuthError as exc:
            return "", Rejection(401, {"error": {"message": str(exc), "type": "auth_error"}})
        except StorageUnavailable:
            # Credentials cannot be checked: refuse (auth fails closed), clearly and retryably, never with a 500.
            return "", Rejection(
                503,
                {"error": {"message": "the credential store is unavailable; retry shortly", "type": "auth_error"}},
                ((b"retry-after", b"5"),),
            )
        settings = await self._settings.get(caller.tenant_id)
        if settings.rate_limit_rpm:
            try:
                allowed, retry_after = await self._counters.hit(
                    f"ratelimit:{caller.tenant_id}", self._clock(), 60.0, settings.rate_limit_rpm
                )
            except Exception:  # noqa: BLE001 - a dead counter store fails open: traffic flows, limits pause
                allowed, retry_after = True, 0
            if not allowed:
                return caller.tenant_id, Rejection(
                    429,
                    {
                        "error": {
                            "message": f"Rate limit exceeded for tenant {caller.tenant_id}",
                            "type": "rate_limit_exceeded",
                            "tenant_id": caller.tenant_id,
                            "limit_requests_per_minute": settings.rate_limit_rpm,
                            "retry_after_secs": retry_after,
                        }
                    },
                    (
                        (b"retry-after", str(retry_after).encode()),
                        (b"x-ratelimit-limit", str(settings.rate_limit_rpm).encode()),
                        (b"x-ratelimit-remaining", b"0"),
                    ),
                )
        if settings.monthly_budget_usd is not None:
            try:
                spent = await self._spend.month_to_date(caller.tenant_id, dt.datetime.now(dt.UTC))
            except Exception:  # noqa: BLE001 - fail open
                spent = 0.0
            if spent >= settings.monthly_budget_usd:
                return caller.tenant_id, Rejection(
                    429,
                    {
                        "error": {
                            "message": f"monthly budget exceeded: ${spent:.4f} / ${settings.monthly_budget_usd:.2f}",
                            "type": "cost_cap_exceeded",
                            "retry_after_secs": 0,
                        }
                    },
                )
        return caller.tenant_id, None
