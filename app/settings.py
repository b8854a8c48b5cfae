"""Proxy configuration: YAML file, then ``LLMTRACE_*`` environment variables, then CLI flags (reference section 11).

Every key has a default. Loading collects every error at once; unknown keys are warnings, not errors, so the
original project's ``config.example.yaml`` validates.
"""

from __future__ import annotations

import difflib
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import attrs
import cattrs
import cattrs.gen
import yaml

from domain.anomaly import MIN_SAMPLES, RECENT, AnomalyKind, AnomalyPolicy
from domain.protection import ProtectionPolicy, parse_policy
from domain.traffic import parse_cost_caps, parse_rate_limiting


def _section(cls: type) -> Any:
    return attrs.field(factory=cls)


@attrs.frozen(kw_only=True)
class StorageSettings:
    profile: str = "lite"
    database_path: str = "llmtrace.db"
    clickhouse_url: str | None = None
    clickhouse_database: str = "llmtrace"
    postgres_url: str | None = None
    redis_url: str | None = None
    auto_migrate: bool = True
    batch_size: int = 256
    flush_interval_ms: int = 100
    queue_capacity: int = 10_000
    # Spans still unwritten at shutdown are spilled here and written at the next start. Default: next to
    # database_path for lite, ./llmtrace-spill.jsonl otherwise; "" turns spilling off.
    spill_path: str | None = None


@attrs.frozen(kw_only=True)
class LoggingSettings:
    level: str = "info"
    format: str = "text"


@attrs.frozen(kw_only=True)
class RateLimitingSettings:
    """A token bucket per tenant (per tenant and credential with auth on), refilled continuously; 0 = unlimited."""

    enabled: bool = True
    requests_per_second: float = 100.0
    burst_size: int = 200
    window_seconds: int = 60  # accepted for compatibility: a continuously refilled bucket has no window
    tenant_overrides: dict[str, dict[str, Any]] = attrs.field(factory=dict)


@attrs.frozen(kw_only=True)
class CircuitBreakerSettings:
    enabled: bool = True
    failure_threshold: int = 10
    recovery_timeout_ms: int = 30_000
    half_open_max_calls: int = 3


@attrs.frozen(kw_only=True)
class HealthCheckSettings:
    enabled: bool = True
    path: str = "/health"
    interval_seconds: int = 10
    timeout_ms: int = 5000
    retries: int = 3


@attrs.frozen(kw_only=True)
class CostEstimationSettings:
    enabled: bool = True
    pricing_file: str | None = None
    custom_models: dict[str, dict[str, float]] = attrs.field(factory=dict)


@attrs.frozen(kw_only=True)
class AlertsSettings:
    enabled: bool = False
    webhook_url: str = ""
    min_severity: str = "High"
    min_security_score: int = 70
    cooldown_seconds: float = 300.0
    channels: list[dict[str, Any]] = attrs.field(factory=list)
    escalation: dict[str, Any] | None = None


@attrs.frozen(kw_only=True)
class CostCapsSettings:
    enabled: bool = False
    default_budget_caps: list[dict[str, Any]] = attrs.field(factory=list)
    default_token_cap: dict[str, Any] | None = None
    agents: list[dict[str, Any]] = attrs.field(factory=list)


@attrs.frozen(kw_only=True)
class SecurityAnalysisSettings:
    ml_enabled: bool = True
    ml_model: str = "builtin"  # the packaged MiniLM head, or a path to a head JSON trained by `just train-detectors`
    ml_threshold: float = 0.8
    ml_cache_dir: str = "~/.cache/llmtrace/models"
    ml_preload: bool = True
    ml_download_timeout_seconds: int = 300
    ner_enabled: bool = False
    # the ML head that flags plainly harmful requests (weapons, fraud, abuse); not in the reference
    harmful_requests_enabled: bool = True
    # "builtin" (spaCy en_core_web_sm, packaged) or the reference's "dslim/bert-base-NER", which maps to the builtin
    # model because no model hub is reachable
    ner_model: str = "builtin"
    fusion_enabled: bool = False
    fusion_model_path: str | None = None
    jailbreak_enabled: bool = True
    jailbreak_threshold: float = 0.7
    injecguard_enabled: bool = False
    injecguard_model: str = "leolee99/InjecGuard"
    injecguard_threshold: float = 0.85
    piguard_enabled: bool = False
    piguard_model: str = "leolee99/PIGuard"
    piguard_threshold: float = 0.85
    operating_point: str = "balanced"
    over_defence: bool = False
    # "process": the MiniLM encoder runs in a child process at a lower CPU priority (no GIL shared with the
    # forwarding); "thread": in the proxy's own analysis worker thread (one process, about 45 MB less memory)
    ml_isolation: str = "process"
    # "nanoguard": a borderline injection score (from the head's high_recall threshold up to a higher threshold the
    # head then needs alone) is put to NanoGuard (a packaged 16.8M-parameter injection model, about 65 ms a prompt),
    # which confirms it at its bar; the pair of thresholds and the bar come from the head file, chosen so the pair
    # spends the operating point's false-positive budget (default on; see architecture.md for the evidence). "none":
    # the head decides alone at the plain threshold.
    second_opinion: str = "nanoguard"
    # a non-Critical injection or jailbreak rule hit on text the injection head scores under the head file's
    # rule_veto.below (chosen in training) is kept as Low evidence (voting_result=model_disagrees) and does not flag;
    # false: every rule hit stands, as in the original. Needs ml_enabled (the rules alone cannot be overruled).
    rule_veto: bool = True


@attrs.frozen(kw_only=True)
class EnforcementSettings:
    mode: str = "log"
    analysis_depth: str = "fast"
    min_severity: str = "High"
    min_confidence: float = 0.8
    timeout_ms: int = 2000
    categories: list[Any] = attrs.field(factory=list)


@attrs.frozen(kw_only=True)
class OtelIngestSettings:
    enabled: bool = False


@attrs.frozen(kw_only=True)
class OtelExportSettings:
    enabled: bool = False
    endpoint: str = ""  # OTLP/HTTP traces URL, e.g. http://collector:4318/v1/traces
    headers: dict[str, str] = attrs.field(factory=dict)
    timeout_ms: int = 5000
    only_with_findings: bool = False


@attrs.frozen(kw_only=True)
class AuthSettings:
    enabled: bool = False
    admin_key: str | None = None


@attrs.frozen(kw_only=True)
class GrpcSettings:
    enabled: bool = False
    listen_addr: str = "0.0.0.0:50051"


@attrs.frozen(kw_only=True)
class AnomalyDetectionSettings:
    enabled: bool = False
    window_size: int = 100
    sigma_threshold: float = 3.0
    check_cost: bool = True
    check_tokens: bool = True
    check_velocity: bool = True
    check_latency: bool = True
    check_error_rate: bool = True  # not in the reference: the error rate of the last 20 exchanges


@attrs.frozen(kw_only=True)
class StreamingAnalysisSettings:
    enabled: bool = False
    token_interval: int = 50
    output_enabled: bool = False
    early_stop_on_critical: bool = False


@attrs.frozen(kw_only=True)
class PiiSettings:
    action: str = "alert_only"


@attrs.frozen(kw_only=True)
class DataProtectionSettings:
    """Secrets and personal data in requests, before forwarding: off | redact | pseudonymise | block."""

    mode: str = "off"
    types: list[str] | None = None  # type names, or "secrets" / "pii"; default: every type
    on_error: str = "block"  # when detection fails or times out on a covered request: forward | block
    timeout_ms: int = 1000


@attrs.frozen(kw_only=True)
class OutputSafetySettings:
    enabled: bool = False
    toxicity_enabled: bool = False
    toxicity_threshold: float = 0.7
    # "builtin": the packaged alt-profanity-check model scores outputs alongside the keyword lists (when the ML
    # detectors are enabled); "keywords": the keyword lists only
    toxicity_model: str = "builtin"
    block_on_critical: bool = False
    hallucination_enabled: bool = False
    hallucination_model: str = "vectara/hallucination_evaluation_model"
    hallucination_threshold: float = 0.5
    hallucination_min_response_length: int = 50


@attrs.frozen(kw_only=True)
class ShutdownSettings:
    timeout_seconds: int = 30


@attrs.frozen(kw_only=True)
class ProxyConfig:
    listen_addr: str = "0.0.0.0:8080"
    upstream_url: str = "https://api.openai.com"
    timeout_ms: int = 30_000
    connection_timeout_ms: int = 5000
    max_connections: int = 1000
    enable_tls: bool = False
    tls_cert_file: str | None = None
    tls_key_file: str | None = None
    enable_security_analysis: bool = True
    enable_trace_storage: bool = True
    enable_streaming: bool = True
    max_request_size_bytes: int = 52_428_800
    security_analysis_timeout_ms: int = 5000
    trace_storage_timeout_ms: int = 10_000
    capture_queue_capacity: int = 4096
    # Request and response bodies up to this size are captured whole; larger ones are streamed through and only
    # their first bytes are captured and analysed (the span is tagged capture_truncated).
    capture_max_body_bytes: int = 1_048_576
    # Longest silence while a client uploads a request body before it gets 408.
    client_body_timeout_ms: int = 15_000
    # Pending-connection queue of the listening socket (the kernel caps it at net.core.somaxconn).
    listen_backlog: int = 4096
    storage: StorageSettings = _section(StorageSettings)
    logging: LoggingSettings = _section(LoggingSettings)
    rate_limiting: RateLimitingSettings = _section(RateLimitingSettings)
    circuit_breaker: CircuitBreakerSettings = _section(CircuitBreakerSettings)
    health_check: HealthCheckSettings = _section(HealthCheckSettings)
    cost_estimation: CostEstimationSettings = _section(CostEstimationSettings)
    alerts: AlertsSettings = _section(AlertsSettings)
    cost_caps: CostCapsSettings = _section(CostCapsSettings)
    security_analysis: SecurityAnalysisSettings = _section(SecurityAnalysisSettings)
    enforcement: EnforcementSettings = _section(EnforcementSettings)
    otel_ingest: OtelIngestSettings = _section(OtelIngestSettings)
    otel_export: OtelExportSettings = _section(OtelExportSettings)
    auth: AuthSettings = _section(AuthSettings)
    grpc: GrpcSettings = _section(GrpcSettings)
    anomaly_detection: AnomalyDetectionSettings = _section(AnomalyDetectionSettings)
    streaming_analysis: StreamingAnalysisSettings = _section(StreamingAnalysisSettings)
    pii: PiiSettings = _section(PiiSettings)
    data_protection: DataProtectionSettings = _section(DataProtectionSettings)
    output_safety: OutputSafetySettings = _section(OutputSafetySettings)
    shutdown: ShutdownSettings = _section(ShutdownSettings)

    @property
    def listen_host_port(self) -> tuple[str, int]:
        host, _, port = self.listen_addr.rpartition(":")
        return host.strip("[]") or "0.0.0.0", int(port)


@attrs.frozen(kw_only=True)
class Features:
    """What is on, worked out once from the config: every component asks here, never re-derives it."""

    security_analysis: bool
    ml: bool
    ml_preload: bool
    output_safety: bool  # post-hoc analysis of responses for unsafe output
    toxicity: bool  # toxicity scoring of responses (keyword lists; the packaged model with ml)
    toxicity_model: bool  # load the packaged toxicity model
    stream_security: bool  # inline checks of streamed output
    stream_output_safety: bool
    alerts: bool
    otel_export: bool
    otel_ingest: bool
    grpc: bool

    @classmethod
    def of(cls, config: ProxyConfig) -> Features:
        output_safety = config.output_safety.enabled
        toxicity = output_safety and config.output_safety.toxicity_enabled
        ml = config.security_analysis.ml_enabled
        return cls(
            security_analysis=config.enable_security_analysis,
            ml=ml,
            ml_preload=ml and config.security_analysis.ml_preload,
            output_safety=output_safety,
            toxicity=toxicity,
            toxicity_model=ml and toxicity and config.output_safety.toxicity_model == "builtin",
            stream_security=config.streaming_analysis.enabled,
            stream_output_safety=config.streaming_analysis.output_enabled and output_safety,
            alerts=config.alerts.enabled,
            otel_export=config.otel_export.enabled,
            otel_ingest=config.otel_ingest.enabled,
            grpc=config.grpc.enabled,
        )


# Environment variables of the reference, mapped to dotted keys.
ENV_KEYS: Mapping[str, str] = {
    "LLMTRACE_LOG_LEVEL": "logging.level",
    "LLMTRACE_LOG_FORMAT": "logging.format",
    "LLMTRACE_LISTEN_ADDR": "listen_addr",
    "LLMTRACE_UPSTREAM_URL": "upstream_url",
    "LLMTRACE_STORAGE_PROFILE": "storage.profile",
    "LLMTRACE_STORAGE_DATABASE_PATH": "storage.database_path",
    "LLMTRACE_CLICKHOUSE_URL": "storage.clickhouse_url",
    "LLMTRACE_CLICKHOUSE_DATABASE": "storage.clickhouse_database",
    "LLMTRACE_POSTGRES_URL": "storage.postgres_url",
    "LLMTRACE_REDIS_URL": "storage.redis_url",
    "LLMTRACE_AUTH_ENABLED": "auth.enabled",
    "LLMTRACE_AUTH_ADMIN_KEY": "auth.admin_key",
    "LLMTRACE_ML_ENABLED": "security_analysis.ml_enabled",
    "LLMTRACE_ML_PRELOAD": "security_analysis.ml_preload",
    "LLMTRACE_ML_CACHE_DIR": "security_analysis.ml_cache_dir",
}

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


class ConfigError(Exception):
    def __init__(self, errors: list[str], warnings: list[str]) -> None:
        super().__init__("; ".join(errors))
        self.errors = errors
        self.warnings = warnings


@attrs.frozen
class LoadedConfig:
    config: ProxyConfig
    warnings: list[str]


def _scalar_error(expected: str, value: Any) -> ValueError:
    return ValueError(f"expected {expected}, got {value!r}")


def _structure_bool(value: Any, _: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
        return value.strip().lower() in _TRUE  # environment variables arrive as text
    raise _scalar_error("true or false", value)


def _structure_int(value: Any, _: Any) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str):
        try:
            return int(value.strip())
        except ValueError:
            pass
    raise _scalar_error("an integer", value)


def _structure_float(value: Any, _: Any) -> float:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value.strip())
        except ValueError:
            pass
    raise _scalar_error("a number", value)


def _structure_str(value: Any, _: Any) -> str:
    if isinstance(value, (str, int, float)) and not isinstance(value, bool):
        return str(value)
    raise _scalar_error("a string", value)


def _scalars(converter: cattrs.Converter) -> cattrs.Converter:
    converter.register_structure_hook(bool, _structure_bool)
    converter.register_structure_hook(int, _structure_int)
    converter.register_structure_hook(float, _structure_float)
    converter.register_structure_hook(str, _structure_str)
    return converter


def _config_converter() -> cattrs.Converter:
    """The config boundary: YAML/env values -> the settings classes. Scalars are coerced from text (environment
    variables); a section or collection written with only commented children (null) is empty, not an error."""
    converter = _scalars(cattrs.Converter(detailed_validation=True))
    elements = _scalars(cattrs.Converter(detailed_validation=True))  # inside lists and mappings

    def mapping(value: Any, _: Any) -> dict[str, Any]:
        if not isinstance(value, Mapping):
            raise ValueError(f"expected a mapping, got {type(value).__name__}")
        return dict(value)

    elements.register_structure_hook_func(lambda t: t == dict[str, Any], mapping)

    def section_hook(cls: type) -> Any:
        structure: Any = cattrs.gen.make_dict_structure_fn(cls, converter)

        def hook(value: Any, _: Any) -> Any:
            if value is None:
                return cls()
            if not isinstance(value, Mapping):
                raise ValueError(f"expected a mapping, got {type(value).__name__}")
            return structure(value, cls)

        return hook

    def collection_hook(annotation: Any) -> Any:
        origin = typing.get_origin(annotation)

        def hook(value: Any, _: Any) -> Any:
            if value is None:
                return origin()
            if origin is list and not isinstance(value, list):
                raise ValueError(f"expected a list, got {type(value).__name__}")
            if origin is dict and not isinstance(value, Mapping):
                raise ValueError(f"expected a mapping, got {type(value).__name__}")
            return elements.structure(value, annotation)

        return hook

    converter.register_structure_hook_factory(attrs.has, section_hook)
    converter.register_structure_hook_factory(lambda t: typing.get_origin(t) in (list, dict), collection_hook)
    return converter


_CONFIG = _config_converter()


def _warn_unknown_keys(cls: type, data: Mapping[str, Any], prefix: str, warnings: list[str]) -> dict[str, Any]:
    """The data without keys the settings do not have, each named in a warning (with a did-you-mean)."""
    hints = typing.get_type_hints(cls)
    known: dict[str, Any] = {}
    for key, value in data.items():
        if key not in hints:
            close = difflib.get_close_matches(str(key), sorted(hints), n=1, cutoff=0.75)
            hint = f"; did you mean {prefix}{close[0]}?" if close else ""
            warnings.append(f"unknown key {prefix}{key} (ignored){hint}")
            continue
        if attrs.has(hints[key]) and isinstance(value, Mapping):
            value = _warn_unknown_keys(hints[key], value, f"{prefix}{key}.", warnings)
        known[key] = value
    return known


def _drop(data: dict[str, Any], path: list[str]) -> None:
    node: Any = data
    for part in path[:-1]:
        node = node.get(part) if isinstance(node, dict) else None
    if isinstance(node, dict):
        node.pop(path[-1], None)


def _structure_config(data: dict[str, Any], errors: list[str], warnings: list[str]) -> ProxyConfig:
    """Every key's type error at once (``key: expected ..., got ...``); the keys in error fall back to their
    defaults so that ``validate`` can still report everything else in the same run."""
    data = _warn_unknown_keys(ProxyConfig, data, "", warnings)
    try:
        return _CONFIG.structure(data, ProxyConfig)
    except cattrs.BaseValidationError as exc:
        for line in cattrs.transform_error(exc, path="$", format_exception=lambda e, _t: str(e)):
            message, _, where = line.rpartition(" @ ")
            path = [part for part in where.removeprefix("$").split(".") if part]
            path = [part.split("[", 1)[0] for part in path]  # a bad list or dict element: the whole key
            errors.append(f"{'.'.join(path)}: {message}")
            _drop(data, path)
    return _CONFIG.structure(data, ProxyConfig)


def _set_dotted(data: dict[str, Any], dotted: str, value: Any) -> None:
    parts = dotted.split(".")
    node = data
    for part in parts[:-1]:
        child = node.get(part)
        if not isinstance(child, dict):
            child = {}
            node[part] = child
        node = child
    node[parts[-1]] = value


def validate(config: ProxyConfig) -> list[str]:
    errors: list[str] = []
    if not config.listen_addr.strip():
        errors.append("listen_addr must not be empty")
    else:
        try:
            _host, port = config.listen_host_port
            if not 1 <= port <= 65535:
                raise ValueError
        except ValueError:
            errors.append(f"listen_addr must be HOST:PORT with a port in 1-65535, got {config.listen_addr!r}")
    if not config.upstream_url.startswith(("http://", "https://")):
        errors.append(f"upstream_url must start with http:// or https://, got {config.upstream_url!r}")
    ad = config.anomaly_detection
    needed = MIN_SAMPLES + RECENT if ad.check_error_rate else MIN_SAMPLES
    if ad.window_size < needed:
        errors.append(
            f"anomaly_detection.window_size must be at least {needed} (a baseline needs {MIN_SAMPLES} values"
            + (f", and the error rate compares the last {RECENT} with those before)" if ad.check_error_rate else ")")
        )
    if ad.sigma_threshold <= 0:
        errors.append("anomaly_detection.sigma_threshold must be greater than 0")
    if config.storage.profile not in ("memory", "lite", "production"):
        errors.append(f"storage.profile must be memory, lite or production, got {config.storage.profile!r}")
    if config.logging.level.lower() not in ("trace", "debug", "info", "warn", "warning", "error"):
        errors.append(f"logging.level must be trace, debug, info, warn or error, got {config.logging.level!r}")
    if config.logging.format not in ("text", "json"):
        errors.append(f"logging.format must be text or json, got {config.logging.format!r}")
    for name in (
        "timeout_ms",
        "connection_timeout_ms",
        "max_request_size_bytes",
        "security_analysis_timeout_ms",
        "capture_max_body_bytes",
        "client_body_timeout_ms",
        "listen_backlog",
    ):
        if getattr(config, name) <= 0:
            errors.append(f"{name} must be greater than 0")
    if config.enable_tls and not (config.tls_cert_file and config.tls_key_file):
        errors.append("enable_tls requires tls_cert_file and tls_key_file")
    if not 0.0 <= config.enforcement.min_confidence <= 1.0:
        errors.append("enforcement.min_confidence must be between 0 and 1")
    if config.enforcement.timeout_ms <= 0:
        errors.append("enforcement.timeout_ms must be greater than 0")
    if config.enforcement.mode not in ("log", "flag", "block"):
        errors.append(f"enforcement.mode must be log, flag or block, got {config.enforcement.mode!r}")
    if config.output_safety.toxicity_model not in ("builtin", "keywords"):
        errors.append(
            f"output_safety.toxicity_model must be builtin or keywords, got {config.output_safety.toxicity_model!r}"
        )
    if not 0 <= config.output_safety.toxicity_threshold <= 1:
        errors.append("output_safety.toxicity_threshold must be between 0 and 1")
    if config.security_analysis.ml_isolation not in ("process", "thread"):
        errors.append(
            f"security_analysis.ml_isolation must be process or thread, got {config.security_analysis.ml_isolation!r}"
        )
    if config.security_analysis.second_opinion not in ("none", "nanoguard"):
        errors.append(
            "security_analysis.second_opinion must be none or nanoguard, "
            f"got {config.security_analysis.second_opinion!r}"
        )
    if config.security_analysis.operating_point not in ("high_recall", "balanced", "high_precision"):
        errors.append(
            "security_analysis.operating_point must be high_recall, balanced or high_precision, "
            f"got {config.security_analysis.operating_point!r}"
        )
    if config.streaming_analysis.token_interval <= 0:
        errors.append("streaming_analysis.token_interval must be greater than 0")
    if config.storage.batch_size <= 0 or config.storage.queue_capacity <= 0 or config.capture_queue_capacity <= 0:
        errors.append("storage.batch_size, storage.queue_capacity and capture_queue_capacity must be positive")
    if config.shutdown.timeout_seconds < 0:
        errors.append("shutdown.timeout_seconds must not be negative")
    if config.alerts.enabled:
        from domain.alerting import parse_channels

        channels, channel_errors = parse_channels(
            config.alerts.webhook_url,
            config.alerts.channels,
            config.alerts.min_severity,
            config.alerts.min_security_score,
        )
        errors.extend(channel_errors)
        if not channels and not channel_errors:
            errors.append("alerts.enabled needs at least one channel (alerts.channels or alerts.webhook_url)")
        escalation = config.alerts.escalation or {}
        if escalation and float(escalation.get("escalate_after_seconds", 600)) <= 0:
            errors.append("alerts.escalation.escalate_after_seconds must be greater than 0")
    if config.otel_export.enabled and not config.otel_export.endpoint.startswith(("http://", "https://")):
        errors.append("otel_export.endpoint must be an http(s) URL when otel_export.enabled is true")
    try:
        data_protection_policy(config)
    except ValueError as exc:
        errors.append(str(exc))
    if config.data_protection.timeout_ms <= 0:
        errors.append("data_protection.timeout_ms must be greater than 0")
    rl = config.rate_limiting
    errors.extend(parse_rate_limiting(rl.enabled, rl.requests_per_second, rl.burst_size, rl.tenant_overrides)[1])
    cc = config.cost_caps
    errors.extend(parse_cost_caps(cc.enabled, cc.default_budget_caps, cc.default_token_cap, cc.agents)[1])
    if config.enable_tls:
        for key in ("tls_cert_file", "tls_key_file"):
            path = getattr(config, key)
            if path and not Path(path).is_file():
                errors.append(f"{key}: no such file {path!r}")
    if config.storage.profile == "production":
        for key in ("clickhouse_url", "postgres_url", "redis_url"):
            if not getattr(config.storage, key):
                errors.append(f"storage.{key} is required by the production profile")
    return errors


def load_config(
    path: str | None,
    environ: Mapping[str, str],
    overrides: Mapping[str, Any] | None = None,
) -> LoadedConfig:
    """Raise ConfigError listing every problem; otherwise return the config and any warnings."""
    errors: list[str] = []
    warnings: list[str] = []
    data: dict[str, Any] = {}
    path = path or environ.get("LLMTRACE_CONFIG")
    if path:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError([f"cannot read config file {path}: {exc.strerror or exc}"], []) from exc
        try:
            parsed = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise ConfigError([f"config file {path} is not valid YAML: {exc}"], []) from exc
        if parsed is None:
            parsed = {}
        if not isinstance(parsed, dict):
            raise ConfigError([f"config file {path} must contain a mapping at the top level"], [])
        data = parsed
    for env_name, dotted in ENV_KEYS.items():
        if env_name in environ and environ[env_name] != "":
            _set_dotted(data, dotted, environ[env_name])
    for dotted, value in (overrides or {}).items():
        if value is not None:
            _set_dotted(data, dotted, value)
    config = _structure_config(data, errors, warnings)
    errors.extend(validate(config))
    warnings.extend(ineffective_settings(config))
    if errors:
        raise ConfigError(errors, warnings)
    return LoadedConfig(config=config, warnings=warnings)


# Keys of the reference's config that this version accepts so its config files load, but that change nothing.
# Set to anything but the default, each is named once at startup and by ``validate``.
NO_EFFECT: Mapping[str, str] = {
    "enable_streaming": "streams are always relayed as they arrive",
    "enable_trace_storage": "every exchange is stored; use storage.profile memory to keep nothing on disk",
    "trace_storage_timeout_ms": "writes are batched by the storage writer (storage.flush_interval_ms)",
    "rate_limiting.window_seconds": "the token bucket refills continuously; there is no window",
    "circuit_breaker.enabled": "the storage and security breakers are always on",
    "health_check.enabled": "GET /health is always served",
    "health_check.path": "health is served at /health",
    "health_check.interval_seconds": "health is computed when asked",
    "health_check.timeout_ms": "health is computed when asked",
    "health_check.retries": "health is computed when asked",
    "security_analysis.ml_cache_dir": "models ship inside installed packages; nothing is downloaded",
    "security_analysis.ml_download_timeout_seconds": "models ship inside installed packages; nothing is downloaded",
    "security_analysis.jailbreak_enabled": "jailbreak patterns are part of the injection rules and the ML ensemble",
    "security_analysis.jailbreak_threshold": "jailbreak patterns are part of the injection rules and the ML ensemble",
    "security_analysis.fusion_enabled": "no fusion model ships with this version",
    "security_analysis.fusion_model_path": "no fusion model ships with this version",
    "security_analysis.injecguard_enabled": "InjecGuard cannot be downloaded offline; the builtin ensemble is used",
    "security_analysis.injecguard_model": "InjecGuard cannot be downloaded offline; the builtin ensemble is used",
    "security_analysis.injecguard_threshold": "InjecGuard cannot be downloaded offline; the builtin ensemble is used",
    "security_analysis.piguard_enabled": "PIGuard cannot be downloaded offline; the builtin ensemble is used",
    "security_analysis.piguard_model": "PIGuard cannot be downloaded offline; the builtin ensemble is used",
    "security_analysis.piguard_threshold": "PIGuard cannot be downloaded offline; the builtin ensemble is used",
    "output_safety.block_on_critical": "use streaming_analysis.early_stop_on_critical to stop critical output",
    "output_safety.hallucination_enabled": "no hallucination model ships with this version",
    "output_safety.hallucination_model": "no hallucination model ships with this version",
    "output_safety.hallucination_threshold": "no hallucination model ships with this version",
    "output_safety.hallucination_min_response_length": "no hallucination model ships with this version",
}


def anomaly_policy(config: ProxyConfig) -> AnomalyPolicy:
    ad = config.anomaly_detection
    checks = {
        AnomalyKind.COST: ad.check_cost,
        AnomalyKind.TOKENS: ad.check_tokens,
        AnomalyKind.VELOCITY: ad.check_velocity,
        AnomalyKind.LATENCY: ad.check_latency,
        AnomalyKind.ERROR_RATE: ad.check_error_rate,
    }
    return AnomalyPolicy(
        enabled=ad.enabled,
        window_size=ad.window_size,
        sigma_threshold=ad.sigma_threshold,
        kinds=frozenset(kind for kind, on in checks.items() if on),
    )


def data_protection_policy(config: ProxyConfig) -> ProtectionPolicy:
    dp = config.data_protection
    return parse_policy({"mode": dp.mode, "types": dp.types, "on_error": dp.on_error})


def _dotted(config: Any, dotted: str) -> Any:
    for part in dotted.split("."):
        config = getattr(config, part)
    return config


def ineffective_settings(config: ProxyConfig) -> list[str]:
    """Settings that are valid but do nothing (said once at startup and by ``validate``)."""
    defaults = ProxyConfig()
    out = [
        f"{key} is accepted for compatibility and has no effect in this version ({why})"
        for key, why in NO_EFFECT.items()
        if _dotted(config, key) != _dotted(defaults, key)
    ]
    if not config.security_analysis.ml_enabled:
        if config.security_analysis.ner_enabled:
            out.append("security_analysis.ner_enabled has no effect while security_analysis.ml_enabled is false")
        if config.security_analysis.ml_isolation != defaults.security_analysis.ml_isolation:
            out.append("security_analysis.ml_isolation has no effect while security_analysis.ml_enabled is false")
        if config.output_safety.toxicity_enabled and config.output_safety.toxicity_model == "builtin":
            out.append(
                "output_safety.toxicity_model builtin needs security_analysis.ml_enabled; the keyword lists are used"
            )
    elif (
        config.security_analysis.second_opinion != "none" and config.security_analysis.operating_point == "high_recall"
    ):
        out.append(
            "security_analysis.second_opinion (default nanoguard) has no effect at operating_point high_recall "
            "(no score lies between the high_recall threshold and itself)"
        )
    return out


def to_plain(config: Any) -> Any:
    """The resolved config as plain data (for ``validate`` output and /api/v1/config/live)."""
    if attrs.has(type(config)):
        return {f.name: to_plain(getattr(config, f.name)) for f in attrs.fields(type(config))}
    if isinstance(config, dict):
        return {k: to_plain(v) for k, v in config.items()}
    if isinstance(config, list):
        return [to_plain(v) for v in config]
    return config


SECRET_KEYS = {
    "headers",
    "admin_key",
    "api_token",
    "postgres_url",
    "redis_url",
    "clickhouse_url",
    "webhook_url",
    "url",
    "routing_key",
}


def redact(data: Any) -> Any:
    if isinstance(data, dict):
        out = {}
        for key, value in data.items():
            lowered = str(key).lower()
            if value is not None and (lowered in SECRET_KEYS or "password" in lowered or "secret" in lowered):
                out[key] = "***redacted***"
            else:
                out[key] = redact(value)
        return out
    if isinstance(data, list):
        return [redact(v) for v in data]
    return data
