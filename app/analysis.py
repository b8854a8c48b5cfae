"""Composition of the security analyzer the proxy runs (and ``llmtrace-eval`` measures)."""

from __future__ import annotations

from adapters.security.phones import find_phone_numbers
from app.settings import ProxyConfig
from domain.security.analyzer import RegexSecurityAnalyzer


def build_analyzer(config: ProxyConfig) -> RegexSecurityAnalyzer:
    return RegexSecurityAnalyzer(
        operating_point=config.security_analysis.operating_point,
        phone_finder=find_phone_numbers,
        toxicity_enabled=config.output_safety.toxicity_enabled or config.output_safety.enabled,
    )
