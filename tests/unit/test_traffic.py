"""Traffic rules: token buckets, budget windows, budget judgements, token caps, config parsing."""

from __future__ import annotations

import datetime as dt

import pytest

from domain.traffic import (
    BucketLimit,
    RateLimitPolicy,
    TokenCap,
    WindowSpend,
    judge_budgets,
    parse_cost_caps,
    parse_rate_limiting,
    spend_entries,
    take_token,
    token_cap_violation,
    window_bounds,
)


def test_a_bucket_allows_the_burst_then_refills_continuously() -> None:
    limit = BucketLimit(rate_per_s=2.0, burst=3)
    tokens, now = 3.0, 100.0
    verdicts = []
    for _ in range(4):
        tokens, verdict = take_token(tokens, now, now, limit)
        verdicts.append(verdict)
    assert [v.allowed for v in verdicts] == [True, True, True, False]
    assert [v.remaining for v in verdicts[:3]] == [2, 1, 0]
    assert verdicts[3].retry_after_s == 1  # half a second to one token, rounded up
    # Half a second later one token is back: not a reset to the full burst as a per-minute key would give.
    tokens, verdict = take_token(tokens, now, now + 0.5, limit)
    assert verdict.allowed and verdict.remaining == 0
    tokens, verdict = take_token(tokens, now + 0.5, now + 0.6, limit)
    assert not verdict.allowed
    assert verdict.reset_s == 2  # (3 - 0.2) / 2 per second


def test_the_tenant_setting_wins_and_zero_is_unlimited() -> None:
    policy, errors = parse_rate_limiting(True, 0, 10, {"t1": {"requests_per_second": 5, "burst_size": 2}})
    assert errors == []
    assert policy.limit_for("other", None) is None  # 0 rps: unlimited
    assert policy.limit_for("t1", None) == BucketLimit(5.0, 2)
    assert policy.limit_for("t1", 120) == BucketLimit(2.0, 120)  # rate_limit_rpm from the tenant's settings
    assert RateLimitPolicy(enabled=False).limit_for("t1", None) is None


def test_bad_rate_limit_config_is_named() -> None:
    _, errors = parse_rate_limiting(True, -1, 0, {"t": {"requests_per_second": "fast"}, "u": 3})
    assert len(errors) == 4 and any("tenant_overrides.t" in e for e in errors)


@pytest.mark.parametrize(
    ("window", "start", "end"),
    [
        ("hourly", dt.datetime(2026, 12, 2, 13), dt.datetime(2026, 12, 2, 14)),
        ("daily", dt.datetime(2026, 12, 2), dt.datetime(2026, 12, 3)),
        ("weekly", dt.datetime(2026, 11, 30), dt.datetime(2026, 12, 7)),  # ISO week: from Monday
        ("monthly", dt.datetime(2026, 12, 1), dt.datetime(2027, 1, 1)),
    ],
)
def test_windows_are_utc_calendar_periods(window: str, start: dt.datetime, end: dt.datetime) -> None:
    now = dt.datetime(2026, 12, 2, 13, 45, 12, tzinfo=dt.UTC)
    assert window_bounds(window, now) == (start.replace(tzinfo=dt.UTC), end.replace(tzinfo=dt.UTC))


def test_spend_goes_to_every_window_of_the_agent() -> None:
    at = dt.datetime(2026, 12, 2, 13, 45, tzinfo=dt.UTC)
    entries = spend_entries("t", None, 0.25, at)
    assert [key.split(":")[3] for key, _, _ in entries] == ["hourly", "daily", "weekly", "monthly"]
    assert all(key.startswith("cost:t:_default:") and amount == 0.25 for key, amount, _ in entries)
    assert entries[0][2] == 3600 + 300


def test_hard_limit_refuses_soft_and_eighty_percent_warn() -> None:
    spends = [
        WindowSpend("hourly", 0.5, 1.0, 0.4, 100),  # soft reached
        WindowSpend("daily", 8.5, 10.0, None, 100),  # 85 % of hard
        WindowSpend("weekly", 1.0, 100.0, None, 100),  # fine
    ]
    judgement = judge_budgets(spends)
    assert judgement.exceeded is None
    assert [w.soft_limit_reached for w in judgement.warnings] == [True, False]
    assert "soft limit" in judgement.warnings[0].message and "85%" in judgement.warnings[1].message
    over = judge_budgets([WindowSpend("monthly", 10.0, 10.0, None, 5)])
    assert over.exceeded is not None and over.exceeded.window == "monthly" and over.warnings == ()


def test_token_caps() -> None:
    cap = TokenCap(max_prompt_tokens=100, max_completion_tokens=50, max_total_tokens=120)
    assert token_cap_violation(cap, 101, None) is not None
    assert token_cap_violation(cap, 10, 51) is not None
    assert "total" in (token_cap_violation(cap, 80, 45) or "")
    assert token_cap_violation(cap, 10, 50) is None
    assert token_cap_violation(None, 10**9, 10**9) is None


def test_agent_entries_replace_defaults_field_by_field() -> None:
    policy, errors = parse_cost_caps(
        True,
        [{"window": "daily", "hard_limit_usd": 10}],
        {"max_prompt_tokens": 5},
        [{"agent_id": "a", "budget_caps": [{"window": "hourly", "hard_limit_usd": 1, "soft_limit_usd": 0.5}]}],
    )
    assert errors == []
    caps = policy.caps_for("a")
    assert [b.window for b in caps.budgets] == ["hourly"] and caps.tokens == TokenCap(max_prompt_tokens=5)
    assert [b.window for b in policy.caps_for(None).budgets] == ["daily"]


def test_bad_cost_caps_are_named() -> None:
    _, errors = parse_cost_caps(
        True,
        [{"window": "yearly", "hard_limit_usd": 1}, {"window": "daily", "hard_limit_usd": 1, "soft_limit_usd": 2}],
        {"max_prompt_tokens": 0, "max_words": 3},
        [{"budget_caps": []}],
    )
    assert len(errors) == 5


def test_a_budget_warning_alerts_past_security_thresholds_and_leaves_the_score_alone() -> None:
    from domain.alerting import AlertChannel, ChannelKind
    from domain.findings import SecurityFinding, Severity, security_score

    warning = SecurityFinding(
        id="w", severity=Severity.HIGH, finding_type="cost_cap_warning", description="daily soft limit reached",
        confidence=0.9, requires_alert=True,
    )  # fmt: skip
    medium_injection = SecurityFinding(
        id="i", severity=Severity.MEDIUM, finding_type="prompt_injection", description="d", confidence=0.9
    )
    channel = AlertChannel(name="ops", kind=ChannelKind.WEBHOOK, url="http://x", min_severity=Severity.HIGH)
    assert channel.accepts(None, [warning, medium_injection]) == [warning]
    critical_only = AlertChannel(name="pager", kind=ChannelKind.WEBHOOK, url="http://x", min_severity=Severity.CRITICAL)
    assert critical_only.accepts(None, [warning]) == []
    assert security_score([warning]) is None
