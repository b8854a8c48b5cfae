"""Traffic controls: request rate (token buckets) and spend (budget windows, token caps). Pure rules; the counters
that hold the state across requests and replicas are a port (``SharedCounters``)."""

from __future__ import annotations

import calendar
import datetime as dt
import math
from collections.abc import Mapping, Sequence
from typing import Any

import attrs

# ---------------------------------------------------------------------------------------------------------------------
# Rate limits


@attrs.frozen
class BucketLimit:
    """A token bucket: ``burst`` requests at once, refilled continuously at ``rate_per_s``. Rate 0 = unlimited."""

    rate_per_s: float
    burst: int

    @property
    def unlimited(self) -> bool:
        return self.rate_per_s <= 0


@attrs.frozen
class BucketVerdict:
    allowed: bool
    remaining: int  # whole requests left in the bucket after this one
    retry_after_s: int  # when refused: seconds until one request fits
    reset_s: int  # seconds until the bucket is full again


def take_token(tokens: float, last_s: float, now_s: float, limit: BucketLimit) -> tuple[float, BucketVerdict]:
    """One step of a continuously refilled bucket (``tokens`` at ``last_s``; a new bucket is full). The Redis
    adapter runs the same arithmetic in one Lua call, so replicas share one bucket."""
    elapsed = max(0.0, now_s - last_s)
    tokens = min(float(limit.burst), tokens + elapsed * limit.rate_per_s)
    allowed = tokens >= 1.0
    if allowed:
        tokens -= 1.0
    return tokens, bucket_verdict(allowed, tokens, limit)


def bucket_verdict(allowed: bool, tokens: float, limit: BucketLimit) -> BucketVerdict:
    """The headers' figures from the bucket's level after the step."""
    retry = 0 if allowed else max(1, math.ceil((1.0 - tokens) / limit.rate_per_s))
    reset = max(0, math.ceil((limit.burst - tokens) / limit.rate_per_s))
    return BucketVerdict(allowed, int(tokens), retry, reset)


@attrs.frozen
class RateLimitPolicy:
    """``rate_limiting`` from config; a tenant's own ``rate_limit_rpm`` (tenant settings) wins over both."""

    enabled: bool = True
    default: BucketLimit = BucketLimit(100.0, 200)
    tenant_overrides: Mapping[str, BucketLimit] = attrs.field(factory=dict)

    def limit_for(self, tenant_id: str, tenant_rpm: int | None) -> BucketLimit | None:
        """The bucket that applies, or None when unlimited."""
        if tenant_rpm:
            # N per minute: refill N/60 per second; a minute's worth may come at once.
            return BucketLimit(tenant_rpm / 60.0, tenant_rpm)
        if not self.enabled:
            return None
        limit = self.tenant_overrides.get(tenant_id, self.default)
        return None if limit.unlimited else limit


def parse_rate_limiting(
    enabled: bool, requests_per_second: float, burst_size: int, overrides: Mapping[str, Any] | None
) -> tuple[RateLimitPolicy, list[str]]:
    errors: list[str] = []
    if requests_per_second < 0:
        errors.append("rate_limiting.requests_per_second must not be negative (0 = unlimited)")
    if burst_size < 1:
        errors.append("rate_limiting.burst_size must be at least 1")
    default = BucketLimit(float(requests_per_second), max(1, burst_size))
    parsed: dict[str, BucketLimit] = {}
    for tenant, entry in (overrides or {}).items():
        key = f"rate_limiting.tenant_overrides.{tenant}"
        if not isinstance(entry, Mapping):
            errors.append(f"{key} must be a mapping with requests_per_second and burst_size")
            continue
        unknown = set(entry) - {"requests_per_second", "burst_size"}
        if unknown:
            errors.append(f"{key}: unknown keys {', '.join(sorted(map(str, unknown)))}")
        rps = entry.get("requests_per_second", requests_per_second)
        burst = entry.get("burst_size", burst_size)
        if not _number(rps) or rps < 0 or not isinstance(burst, int) or isinstance(burst, bool) or burst < 1:
            errors.append(f"{key}: requests_per_second must be >= 0 and burst_size an integer >= 1")
            continue
        parsed[str(tenant)] = BucketLimit(float(rps), burst)
    return RateLimitPolicy(enabled=enabled, default=default, tenant_overrides=parsed), errors


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


# ---------------------------------------------------------------------------------------------------------------------
# Budgets and token caps

WINDOWS = ("hourly", "daily", "weekly", "monthly")


def window_bounds(window: str, now: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    """The UTC calendar period that ``now`` falls in: the hour, the day, the ISO week (from Monday), the month."""
    now = now.astimezone(dt.UTC)
    if window == "hourly":
        start = now.replace(minute=0, second=0, microsecond=0)
        return start, start + dt.timedelta(hours=1)
    day = now.replace(hour=0, minute=0, second=0, microsecond=0)
    if window == "daily":
        return day, day + dt.timedelta(days=1)
    if window == "weekly":
        start = day - dt.timedelta(days=day.weekday())
        return start, start + dt.timedelta(days=7)
    if window == "monthly":
        start = day.replace(day=1)
        days = calendar.monthrange(start.year, start.month)[1]
        return start, start + dt.timedelta(days=days)
    raise ValueError(f"unknown budget window {window!r}")


@attrs.frozen
class BudgetCap:
    window: str
    hard_limit_usd: float
    soft_limit_usd: float | None = None


@attrs.frozen
class TokenCap:
    max_prompt_tokens: int | None = None
    max_completion_tokens: int | None = None
    max_total_tokens: int | None = None


@attrs.frozen
class AgentCaps:
    budgets: tuple[BudgetCap, ...] = ()
    tokens: TokenCap | None = None


DEFAULT_AGENT = "_default"


@attrs.frozen
class CostCapPolicy:
    """``cost_caps``: spend per (tenant, agent) in each window. An agent's own entry replaces the defaults, field by
    field (its budget caps when it lists any, its token cap when it has one)."""

    enabled: bool = False
    defaults: AgentCaps = AgentCaps()
    agents: Mapping[str, AgentCaps] = attrs.field(factory=dict)

    def caps_for(self, agent_id: str | None) -> AgentCaps:
        own = self.agents.get(agent_id or DEFAULT_AGENT)
        if own is None:
            return self.defaults
        return AgentCaps(own.budgets or self.defaults.budgets, own.tokens or self.defaults.tokens)


def spend_key(tenant_id: str, agent_id: str | None, window: str, start: dt.datetime) -> str:
    return f"cost:{tenant_id}:{agent_id or DEFAULT_AGENT}:{window}:{int(start.timestamp())}"


def spend_entries(
    tenant_id: str, agent_id: str | None, cost_usd: float, at: dt.datetime
) -> list[tuple[str, float, int]]:
    """(key, amount, ttl seconds) for every window: recorded whatever the caps, so a cap added later sees spend."""
    out = []
    for window in WINDOWS:
        start, end = window_bounds(window, at)
        out.append((spend_key(tenant_id, agent_id, window, start), cost_usd, int((end - start).total_seconds()) + 300))
    return out


@attrs.frozen
class WindowSpend:
    window: str
    current_spend_usd: float
    hard_limit_usd: float
    soft_limit_usd: float | None
    resets_in_secs: int

    @property
    def utilization_pct(self) -> float:
        return 0.0 if self.hard_limit_usd <= 0 else round(100.0 * self.current_spend_usd / self.hard_limit_usd, 2)


@attrs.frozen
class CostSnapshot:
    """Spend against each budget window of one tenant (and agent), as ``GET /api/v1/costs/current`` shows it."""

    tenant_id: str
    agent_id: str
    windows: tuple[WindowSpend, ...]


@attrs.frozen
class BudgetWarning:
    message: str
    soft_limit_reached: bool  # else: 80 % of the hard limit


@attrs.frozen
class BudgetJudgement:
    exceeded: WindowSpend | None  # the first window whose hard limit is reached
    warnings: tuple[BudgetWarning, ...]


WARN_FRACTION = 0.8


def judge_budgets(spends: Sequence[WindowSpend]) -> BudgetJudgement:
    exceeded = next((s for s in spends if s.current_spend_usd >= s.hard_limit_usd), None)
    warnings = []
    for s in spends:
        if s is exceeded:
            continue
        if s.soft_limit_usd is not None and s.current_spend_usd >= s.soft_limit_usd:
            message = f"{s.window} budget soft limit reached: ${s.current_spend_usd:.4f} / ${s.soft_limit_usd:.2f}"
            warnings.append(BudgetWarning(message, True))
        elif s.current_spend_usd >= WARN_FRACTION * s.hard_limit_usd:
            message = f"{s.window} budget at {s.utilization_pct:.0f}% of ${s.hard_limit_usd:.2f}"
            warnings.append(BudgetWarning(message, False))
    return BudgetJudgement(exceeded, tuple(warnings))


def token_cap_violation(cap: TokenCap | None, prompt_tokens: int, completion_tokens: int | None) -> str | None:
    """Checked before forwarding: the estimated prompt and the completion the request asks for (``max_tokens``)."""
    if cap is None:
        return None
    if cap.max_prompt_tokens is not None and prompt_tokens > cap.max_prompt_tokens:
        return f"prompt of about {prompt_tokens} tokens exceeds the cap of {cap.max_prompt_tokens}"
    if completion_tokens is not None:
        if cap.max_completion_tokens is not None and completion_tokens > cap.max_completion_tokens:
            return f"max_tokens {completion_tokens} exceeds the completion cap of {cap.max_completion_tokens}"
        if cap.max_total_tokens is not None and prompt_tokens + completion_tokens > cap.max_total_tokens:
            return (
                f"prompt (~{prompt_tokens}) plus max_tokens ({completion_tokens}) exceeds the total cap of "
                f"{cap.max_total_tokens}"
            )
    elif cap.max_total_tokens is not None and prompt_tokens > cap.max_total_tokens:
        return f"prompt of about {prompt_tokens} tokens exceeds the total cap of {cap.max_total_tokens}"
    return None


def _parse_budgets(raw: Any, key: str, errors: list[str]) -> tuple[BudgetCap, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list):
        errors.append(f"{key} must be a list of {{window, hard_limit_usd, soft_limit_usd?}}")
        return ()
    caps = []
    for i, entry in enumerate(raw):
        where = f"{key}[{i}]"
        if not isinstance(entry, Mapping):
            errors.append(f"{where} must be a mapping")
            continue
        window = entry.get("window")
        hard: Any = entry.get("hard_limit_usd")
        soft: Any = entry.get("soft_limit_usd")
        if window not in WINDOWS:
            errors.append(f"{where}.window must be one of {', '.join(WINDOWS)}, got {window!r}")
            continue
        if not _number(hard) or hard < 0:
            errors.append(f"{where}.hard_limit_usd must be a non-negative number")
            continue
        if soft is not None and (not _number(soft) or soft < 0 or soft > hard):
            errors.append(f"{where}.soft_limit_usd must be a number between 0 and hard_limit_usd")
            continue
        caps.append(BudgetCap(window, float(hard), None if soft is None else float(soft)))
    return tuple(caps)


def _parse_token_cap(raw: Any, key: str, errors: list[str]) -> TokenCap | None:
    if raw is None:
        return None
    if not isinstance(raw, Mapping):
        errors.append(f"{key} must be a mapping of max_prompt_tokens, max_completion_tokens, max_total_tokens")
        return None
    fields = ("max_prompt_tokens", "max_completion_tokens", "max_total_tokens")
    unknown = set(raw) - set(fields)
    if unknown:
        errors.append(f"{key}: unknown keys {', '.join(sorted(map(str, unknown)))}")
    values: dict[str, int | None] = {}
    for name in fields:
        value = raw.get(name)
        if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value < 1):
            errors.append(f"{key}.{name} must be a positive integer")
            value = None
        values[name] = value
    return TokenCap(**values)


def parse_cost_caps(
    enabled: bool, default_budget_caps: Any, default_token_cap: Any, agents: Any
) -> tuple[CostCapPolicy, list[str]]:
    errors: list[str] = []
    defaults = AgentCaps(
        _parse_budgets(default_budget_caps, "cost_caps.default_budget_caps", errors),
        _parse_token_cap(default_token_cap, "cost_caps.default_token_cap", errors),
    )
    parsed: dict[str, AgentCaps] = {}
    for i, entry in enumerate(agents or []):
        key = f"cost_caps.agents[{i}]"
        if not isinstance(entry, Mapping) or not entry.get("agent_id"):
            errors.append(f"{key} must be a mapping with agent_id")
            continue
        parsed[str(entry["agent_id"])] = AgentCaps(
            _parse_budgets(entry.get("budget_caps"), f"{key}.budget_caps", errors),
            _parse_token_cap(entry.get("token_cap"), f"{key}.token_cap", errors),
        )
    return CostCapPolicy(enabled=enabled, defaults=defaults, agents=parsed), errors
