"""Composition of the security analyzer the proxy runs (and ``llmtrace-eval`` measures).

Regex detectors always; with ``security_analysis.ml_enabled`` the ensemble (regex + MiniLM injection head) replaces
them once the model has loaded. If the model cannot load, the proxy keeps running on the regex detectors and /health
says ``ml.status: failed`` with the reason.
"""

from __future__ import annotations

import logging
from typing import Any

from adapters.security.phones import find_phone_numbers
from app.settings import Features, ProxyConfig
from domain.security.analyzer import RegexSecurityAnalyzer
from ports.security import SecurityAnalyzer

log = logging.getLogger("llmtrace.ml")


def build_analyzer(config: ProxyConfig) -> RegexSecurityAnalyzer:
    return RegexSecurityAnalyzer(
        operating_point=config.security_analysis.operating_point,
        phone_finder=find_phone_numbers,
        toxicity_enabled=Features.of(config).toxicity,
    )


# the reference's default NER model cannot be fetched here; its users get the packaged model instead
NER_BUILTIN = ("builtin", "dslim/bert-base-NER")


def load_ensemble(config: ProxyConfig, regex: RegexSecurityAnalyzer) -> tuple[SecurityAnalyzer | None, dict[str, Any]]:
    """Blocking (seconds): call it from a worker thread. Returns the analyzer (or None) and the /health entry."""
    model = config.security_analysis.ml_model
    try:
        from pathlib import Path

        from adapters.ml.ensemble import HEAD_PATH, EnsembleSecurityAnalyzer

        if model == "builtin":
            head = HEAD_PATH
        elif model.endswith(".json"):
            head = Path(model).expanduser()
        else:
            raise ValueError(
                f"model {model!r} is not available offline (no model hub is reachable); use 'builtin' or the path "
                "of a classifier head trained with `just train-detectors`"
            )
        ner_model = config.security_analysis.ner_model
        if config.security_analysis.ner_enabled and ner_model not in NER_BUILTIN:
            raise ValueError(
                f"NER model {ner_model!r} is not available offline; use 'builtin' (spaCy en_core_web_sm, packaged)"
            )
        analyzer, seconds = EnsembleSecurityAnalyzer.load(
            regex,
            config.security_analysis.operating_point,
            head,
            config.security_analysis.over_defence,
            ner_enabled=config.security_analysis.ner_enabled,
            toxicity_model=Features.of(config).toxicity_model,
            toxicity_threshold=config.output_safety.toxicity_threshold,
            harmful_requests=config.security_analysis.harmful_requests_enabled,
            isolation=config.security_analysis.ml_isolation,
            second_opinion=config.security_analysis.second_opinion,
            rule_veto=config.security_analysis.rule_veto,
        )
    except Exception as exc:  # noqa: BLE001 - any load failure means regex-only, reported in /health
        log.error("ML detectors failed to load, running regex-only: %s", exc)
        return None, {"status": "failed", "error": f"{type(exc).__name__}: {exc}"}
    log.info("ML detectors loaded in %.1fs", seconds)
    return analyzer, {"status": "loaded", "load_time_ms": round(seconds * 1000), **analyzer.describe()}
