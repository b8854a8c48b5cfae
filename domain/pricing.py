"""Cost estimation from a pricing table (reference section 6).

Lookup: inline custom models (exact) -> pricing file (exact, then longest prefix) -> built-ins (exact, then
longest prefix). Cached input is priced at the cached rate where the model has one; reasoning tokens are part of
the completion tokens and priced as output (never counted twice).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

from domain.exchange import Usage
from domain.providers import Provider


@attrs.frozen(kw_only=True)
class ModelPrice:
    input_per_million: float
    output_per_million: float
    cached_input_per_million: float | None = None
    cache_write_per_million: float | None = None

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> ModelPrice:
        def opt(key: str) -> float | None:
            value = data.get(key)
            return None if value is None else float(value)

        return cls(
            input_per_million=float(data["input_per_million"]),
            output_per_million=float(data["output_per_million"]),
            cached_input_per_million=opt("cached_input_per_million"),
            cache_write_per_million=opt("cache_write_per_million"),
        )


def _p(inp: float, out: float, cached: float | None = None, write: float | None = None) -> ModelPrice:
    return ModelPrice(
        input_per_million=inp, output_per_million=out, cached_input_per_million=cached, cache_write_per_million=write
    )


# USD per million tokens. The reference's built-ins plus current models users run most.
BUILTIN_PRICES: Mapping[str, ModelPrice] = {
    "gpt-4o-mini": _p(0.15, 0.60, 0.075),
    "gpt-4o": _p(2.50, 10.0, 1.25),
    "gpt-4.1-nano": _p(0.10, 0.40, 0.025),
    "gpt-4.1-mini": _p(0.40, 1.60, 0.10),
    "gpt-4.1": _p(2.0, 8.0, 0.50),
    "gpt-4-turbo": _p(10.0, 30.0),
    "gpt-4": _p(30.0, 60.0),
    "gpt-3.5-turbo": _p(0.50, 1.50),
    "gpt-5-nano": _p(0.05, 0.40, 0.005),
    "gpt-5-mini": _p(0.25, 2.0, 0.025),
    "gpt-5": _p(1.25, 10.0, 0.125),
    "o1-mini": _p(1.10, 4.40, 0.55),
    "o1": _p(15.0, 60.0, 7.50),
    "o3-mini": _p(1.10, 4.40, 0.55),
    "o3": _p(2.0, 8.0, 0.50),
    "o4-mini": _p(1.10, 4.40, 0.275),
    "text-embedding-3-small": _p(0.02, 0.0),
    "text-embedding-3-large": _p(0.13, 0.0),
    "text-embedding-ada-002": _p(0.10, 0.0),
    "claude-3-5-sonnet": _p(3.0, 15.0, 0.30, 3.75),
    "claude-3.5-sonnet": _p(3.0, 15.0, 0.30, 3.75),
    "claude-3-5-haiku": _p(0.80, 4.0, 0.08, 1.0),
    "claude-3.5-haiku": _p(0.80, 4.0, 0.08, 1.0),
    "claude-3-7-sonnet": _p(3.0, 15.0, 0.30, 3.75),
    "claude-3-opus": _p(15.0, 75.0, 1.50, 18.75),
    "claude-3-haiku": _p(0.25, 1.25, 0.03, 0.30),
    "claude-sonnet-4": _p(3.0, 15.0, 0.30, 3.75),
    "claude-opus-4": _p(15.0, 75.0, 1.50, 18.75),
    "claude-haiku-4": _p(1.0, 5.0, 0.10, 1.25),
}


def _longest_prefix(table: Mapping[str, ModelPrice], model: str) -> ModelPrice | None:
    best: tuple[int, ModelPrice] | None = None
    for key, price in table.items():
        if model.startswith(key) and (best is None or len(key) > best[0]):
            best = (len(key), price)
    return best[1] if best else None


@attrs.frozen(kw_only=True)
class PricingTable:
    custom_models: Mapping[str, ModelPrice] = attrs.field(factory=dict)
    file_prices: Mapping[str, ModelPrice] = attrs.field(factory=dict)
    builtin: Mapping[str, ModelPrice] = BUILTIN_PRICES

    def price_for(self, model: str) -> ModelPrice | None:
        name = model.strip().lower()
        if not name:
            return None
        if name in self.custom_models:
            return self.custom_models[name]
        if name in self.file_prices:
            return self.file_prices[name]
        found = _longest_prefix(self.file_prices, name)
        if found:
            return found
        if name in self.builtin:
            return self.builtin[name]
        return _longest_prefix(self.builtin, name)

    def estimate(self, provider: Provider, model: str, usage: Usage) -> float | None:
        if provider.self_hosted:
            return None
        price = self.price_for(model)
        if price is None or (usage.prompt_tokens is None and usage.completion_tokens is None):
            return None
        prompt = usage.prompt_tokens or 0
        cached = min(usage.cached_prompt_tokens, prompt)
        written = min(usage.cache_write_tokens, prompt - cached)
        fresh = prompt - cached - written
        cached_rate = price.cached_input_per_million
        write_rate = price.cache_write_per_million
        cost = fresh * price.input_per_million
        cost += cached * (cached_rate if cached_rate is not None else price.input_per_million)
        cost += written * (write_rate if write_rate is not None else price.input_per_million)
        cost += (usage.completion_tokens or 0) * price.output_per_million
        return round(cost / 1_000_000, 10)


def parse_price_map(data: Mapping[str, Any]) -> dict[str, ModelPrice]:
    """A pricing file or ``custom_models`` block: ``model -> {input_per_million, output_per_million, ...}``.

    Raises ValueError naming the first bad entry.
    """
    prices: dict[str, ModelPrice] = {}
    for model, entry in data.items():
        if not isinstance(entry, Mapping):
            raise ValueError(f"price for {model!r} must be a mapping")
        try:
            prices[str(model).lower()] = ModelPrice.from_mapping(entry)
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"price for {model!r} is invalid: {exc}") from exc
    return prices
