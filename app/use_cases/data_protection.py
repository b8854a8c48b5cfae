"""Data protection on the request path: the tenant's policy (or the config's), detection in a worker thread under a
deadline, and what a failure means (``on_error``). The rules are in ``domain.protection``."""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Callable
from functools import partial

import trio

from app.use_cases.access import TenantSettingsCache
from domain.protection import ProtectionDecision, ProtectionPolicy, decide, parse_policy, protect_request
from domain.rejection import Rejection
from domain.security.pii import PhoneFinder

log = logging.getLogger("llmtrace.protection")

# Bodies below this are scanned on the event loop: a thread hop costs more than the scan.
INLINE_BYTES = 8_192


class DataProtector:
    def __init__(
        self,
        default: ProtectionPolicy,
        tenant_settings: TenantSettingsCache,
        *,
        phone_finder: PhoneFinder | None = None,
        timeout_s: float = 1.0,
        on_failure: Callable[[str], None] = lambda reason: None,
    ) -> None:
        self._default = default
        self._settings = tenant_settings
        self._phone_finder = phone_finder
        self._timeout = timeout_s
        self._failed = on_failure
        self.failures = 0
        self.last_error: str | None = None
        self.protected = 0

    async def policy_for(self, tenant_id: str) -> ProtectionPolicy:
        own = (await self._settings.get(tenant_id)).data_protection
        if own is None:
            return self._default
        try:
            return parse_policy(own)
        except ValueError:
            return self._default

    async def protect(self, tenant_id: str, path: str, body: bytes, complete: bool) -> ProtectionDecision | None:
        """None when no policy applies; otherwise the body to forward, or why the request is refused."""
        policy = await self.policy_for(tenant_id)
        if not policy.active:
            return None
        if not complete:
            return self._failure(policy, body, "the body is larger than capture_max_body_bytes, so it cannot be read")
        now = dt.datetime.now(dt.UTC).isoformat().replace("+00:00", "Z")
        work = partial(protect_request, body, policy, self._phone_finder)
        try:
            if len(body) <= INLINE_BYTES:
                protection = work()
            else:
                with trio.fail_after(self._timeout):
                    protection = await trio.to_thread.run_sync(work, abandon_on_cancel=True)
        except trio.TooSlowError:
            return self._failure(policy, body, f"detection took longer than {self._timeout:g}s")
        except Exception as exc:  # noqa: BLE001 - undecodable or unforeseen input: the policy decides
            return self._failure(policy, body, f"{type(exc).__name__}: {exc}")
        decision = decide(protection, policy, now, uuid.uuid4)
        if protection.found:
            self.protected += 1
        return decision

    def _failure(self, policy: ProtectionPolicy, body: bytes, reason: str) -> ProtectionDecision:
        self.failures += 1
        self.last_error = reason
        self._failed(reason)
        log.warning("data protection could not inspect a request (%s); on_error=%s", reason, policy.on_error)
        if policy.on_error == "forward":
            return ProtectionDecision(body=body, tag=f"not inspected ({reason}); forwarded (on_error forward)")
        return ProtectionDecision(
            body=b"",
            rejection=Rejection(
                503,
                {
                    "error": {
                        "message": f"request not forwarded: data protection could not inspect it ({reason})",
                        "type": "data_protection_error",
                    }
                },
            ),
            tag=f"not inspected ({reason}); refused (on_error block)",
        )
