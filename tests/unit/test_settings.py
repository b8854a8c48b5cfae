"""Configuration: file, then env, then flags; every error at once; unknown keys are warnings."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from app.settings import ConfigError, load_config, redact, to_plain

CLI = str(Path(sys.executable).parent / "llmtrace-proxy")
EXAMPLE = """
listen_addr: "0.0.0.0:8080"
upstream_url: "https://api.openai.com"
timeout_ms: 30000
connection_timeout_ms: 5000
max_connections: 1000
enable_tls: false
enable_security_analysis: true
enable_trace_storage: true
enable_streaming: true
max_request_size_bytes: 52428800
security_analysis_timeout_ms: 5000
trace_storage_timeout_ms: 10000
rate_limiting: {enabled: true, requests_per_second: 100, burst_size: 200, window_seconds: 60}
circuit_breaker: {enabled: true, failure_threshold: 10, recovery_timeout_ms: 30000, half_open_max_calls: 3}
health_check: {enabled: true, path: "/health", interval_seconds: 10, timeout_ms: 5000, retries: 3}
storage: {profile: "lite", database_path: "llmtrace.db"}
alerts:
  enabled: false
  channels: [{type: slack, url: "https://hooks.slack.com/x", min_severity: "High"}]
security_analysis: {ml_enabled: true, ml_preload: true, operating_point: balanced, future_option: 3}
dashboard: {enabled: true}
"""


def test_minimal_file_is_valid(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("listen_addr: 127.0.0.1:9999\nupstream_url: http://localhost:1234\n")
    loaded = load_config(str(path), {})
    assert loaded.config.listen_host_port == ("127.0.0.1", 9999)
    assert loaded.config.storage.profile == "lite"
    assert loaded.config.shutdown.timeout_seconds == 30
    assert loaded.warnings == []


def test_original_example_validates_with_warnings(tmp_path: Path) -> None:
    path = tmp_path / "config.example.yaml"
    path.write_text(EXAMPLE)
    loaded = load_config(str(path), {})
    assert "unknown key dashboard (ignored)" in loaded.warnings
    assert "unknown key security_analysis.future_option (ignored)" in loaded.warnings
    assert loaded.config.alerts.channels[0]["type"] == "slack"


def test_precedence_file_env_flags(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("listen_addr: 127.0.0.1:1\nupstream_url: http://file\nstorage: {profile: memory}\n")
    env = {
        "LLMTRACE_UPSTREAM_URL": "http://env",
        "LLMTRACE_LISTEN_ADDR": "127.0.0.1:2",
        "LLMTRACE_AUTH_ENABLED": "yes",
        "LLMTRACE_STORAGE_PROFILE": "lite",
    }
    config = load_config(str(path), env, {"listen_addr": "127.0.0.1:3"}).config
    assert config.upstream_url == "http://env"
    assert config.listen_addr == "127.0.0.1:3"
    assert config.auth.enabled is True
    assert config.storage.profile == "lite"


def test_every_error_reported_at_once(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(
        "listen_addr: ''\nupstream_url: ftp://x\ntimeout_ms: -1\nstorage: {profile: cloud}\n"
        "logging: {level: loud, format: xml}\nenforcement: {min_confidence: 2}\nmax_connections: lots\n"
    )
    with pytest.raises(ConfigError) as caught:
        load_config(str(path), {})
    text = "\n".join(caught.value.errors)
    for expected in (
        "listen_addr",
        "upstream_url",
        "timeout_ms",
        "storage.profile",
        "logging.level",
        "logging.format",
        "enforcement.min_confidence",
        "max_connections: expected an integer",
    ):
        assert expected in text


@pytest.mark.process
def test_validate_cli_exit_codes(tmp_path: Path) -> None:
    good = tmp_path / "good.yaml"
    good.write_text(EXAMPLE)
    ok = subprocess.run([CLI, "validate", "--config", str(good)], capture_output=True, text=True)
    assert ok.returncode == 0, ok.stderr
    assert "Configuration is valid" in ok.stdout
    assert "***redacted***" in ok.stdout and "hooks.slack.com" not in ok.stdout
    assert "warning: unknown key dashboard" in ok.stderr
    bad = tmp_path / "bad.yaml"
    bad.write_text("upstream_url: nope\nstorage: {profile: x}\n")
    failed = subprocess.run([CLI, "validate", "--config", str(bad)], capture_output=True, text=True)
    assert failed.returncode != 0
    assert "2 errors" in failed.stderr
    version = subprocess.run([CLI, "--version"], capture_output=True, text=True)
    assert version.stdout.startswith("llmtrace-proxy ")


def test_redaction() -> None:
    data = {
        "auth": {"admin_key": "k"},
        "storage": {"postgres_url": "postgres://u:p@h/db", "profile": "lite"},
        "x": {"db_password": "p", "client_secret": "s"},
    }
    assert redact(data) == {
        "auth": {"admin_key": "***redacted***"},
        "storage": {"postgres_url": "***redacted***", "profile": "lite"},
        "x": {"db_password": "***redacted***", "client_secret": "***redacted***"},
    }
    from app.settings import ProxyConfig

    assert to_plain(ProxyConfig())["streaming_analysis"]["token_interval"] == 50


def test_ml_detector_settings(tmp_path: Path) -> None:
    path = tmp_path / "ml.yaml"
    path.write_text(
        "output_safety: {toxicity_model: perspective-api, toxicity_threshold: 1.5}\n"
        "security_analysis: {ml_isolation: container, second_opinion: llama-guard}\n"
    )
    with pytest.raises(ConfigError) as caught:
        load_config(str(path), {})
    text = "\n".join(caught.value.errors)
    assert "output_safety.toxicity_model must be builtin or keywords" in text
    assert "output_safety.toxicity_threshold must be between 0 and 1" in text
    assert "security_analysis.ml_isolation must be process or thread, got 'container'" in text
    assert "security_analysis.second_opinion must be none or nanoguard, got 'llama-guard'" in text
    path.write_text("security_analysis: {ner_enabled: true, ner_model: dslim/bert-base-NER}\n")
    loaded = load_config(str(path), {})
    config = loaded.config
    assert loaded.warnings == []
    assert config.security_analysis.harmful_requests_enabled and config.output_safety.toxicity_model == "builtin"
    assert config.security_analysis.rule_veto  # on by default
    path.write_text("security_analysis: {rule_veto: false}\n")
    assert load_config(str(path), {}).config.security_analysis.rule_veto is False
    path.write_text("security_analysis: {rule_veto: sometimes}\n")
    with pytest.raises(ConfigError) as caught:
        load_config(str(path), {})
    assert any("rule_veto" in e for e in caught.value.errors), caught.value.errors


def test_an_ner_model_that_cannot_load_offline_means_rules_only_with_the_reason() -> None:
    from app.analysis import build_analyzer, load_ensemble
    from app.settings import ProxyConfig, SecurityAnalysisSettings

    config = ProxyConfig(security_analysis=SecurityAnalysisSettings(ner_enabled=True, ner_model="someone/ner-large"))
    analyzer, status = load_ensemble(config, build_analyzer(config))
    assert analyzer is None
    assert status["status"] == "failed" and "someone/ner-large" in status["error"] and "offline" in status["error"]


def test_model_settings_without_the_models_are_warned_about(tmp_path: Path) -> None:
    path = tmp_path / "rules.yaml"
    path.write_text(
        "security_analysis: {ml_enabled: false, ner_enabled: true, ml_isolation: thread}\n"
        "output_safety: {toxicity_enabled: true}\n"
    )
    warnings = "\n".join(load_config(str(path), {}).warnings)
    assert "ner_enabled has no effect" in warnings and "keyword lists are used" in warnings
    assert "ml_isolation has no effect while security_analysis.ml_enabled is false" in warnings
    path.write_text("security_analysis: {operating_point: high_recall}\n")
    assert any(
        "second_opinion (default nanoguard) has no effect at operating_point high_recall" in w
        for w in load_config(str(path), {}).warnings
    )
