from __future__ import annotations

from domain.circuit import BreakerState, CircuitBreaker
from domain.exchange import Usage
from domain.pricing import ModelPrice, PricingTable
from domain.providers import Provider


def test_breaker_opens_probes_and_closes() -> None:
    breaker = CircuitBreaker("storage", failure_threshold=3, recovery_timeout_s=10, half_open_max_calls=2)
    for t in range(3):
        assert breaker.allow(t)
        breaker.on_failure(t)
    assert breaker.state is BreakerState.OPEN
    assert not breaker.allow(5)
    assert breaker.allow(12) and breaker.state is BreakerState.HALF_OPEN  # probe 1
    assert breaker.allow(12)  # probe 2
    assert not breaker.allow(12)  # no third probe
    breaker.on_failure(12)
    assert breaker.state is BreakerState.OPEN and breaker.times_opened == 2
    assert breaker.allow(23)
    breaker.on_success()
    assert breaker.state is BreakerState.CLOSED and breaker.consecutive_failures == 0


def test_success_resets_consecutive_failures() -> None:
    breaker = CircuitBreaker("x", failure_threshold=2)
    breaker.on_failure(0)
    breaker.on_success()
    breaker.on_failure(1)
    assert breaker.state is BreakerState.CLOSED


def test_pricing_lookup_order() -> None:
    table = PricingTable(
        custom_models={"gpt-4o": ModelPrice(input_per_million=1, output_per_million=1)},
        file_prices={"gpt-4o-2024": ModelPrice(input_per_million=2, output_per_million=2)},
    )
    usage = Usage(prompt_tokens=1_000_000, completion_tokens=0)
    assert table.estimate(Provider.OPENAI, "GPT-4o", usage) == 1.0  # inline custom, case-insensitive
    assert table.estimate(Provider.OPENAI, "gpt-4o-2024-08-06", usage) == 2.0  # file, longest prefix
    assert table.estimate(Provider.OPENAI, "gpt-4o-mini-2024-07-18", usage) == 0.15  # built-in prefix
    assert table.estimate(Provider.OPENAI, "unknown-model", usage) is None
    assert table.estimate(Provider.VLLM, "gpt-4o", usage) is None  # self-hosted costs nothing we can price
    assert table.estimate(Provider.OPENAI, "gpt-4o", Usage()) is None
