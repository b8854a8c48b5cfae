"""The composition root: config in, an assembled proxy out (every adapter, policy, use case and channel).

``assemble(config)`` is an async context manager: it opens the stores, the Redis connection and the upstream
connection pools, hands back a ``Proxy`` bundle, and closes everything it opened when the block ends, also when
something fails half-way through opening. It is the only module that names adapters for the running proxy; the
supervisor only runs the nursery tree over the bundle. Tests pass ``Overrides`` (in-memory stores, an upstream
transport) to get the same wiring with fakes (see tests/unit/in_process.py).

Feature flags are worked out once (``Features.of``), and the proxy has one ML limiter: post-hoc analysis and
enforcement with ``analysis_depth: full`` queue for the model through it, abandoned calls included.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import ssl
import time
from collections.abc import AsyncIterator, Callable, Mapping
from functools import partial
from pathlib import Path
from typing import Any

import attrs
import httpx
import trio
import yaml

from adapters.http.api import create_api, create_asgi
from adapters.http.forwarder import Forwarder, UpstreamPool
from adapters.metrics.prometheus import CONTENT_TYPE, PrometheusTelemetry
from adapters.notify.channels import ChannelNotifier
from adapters.otlp_export import OtlpHttpExporter
from adapters.security.phones import find_phone_numbers
from adapters.storage.clickhouse import ClickHouseTraceRepository
from adapters.storage.counters import InMemoryCounters, RedisCounters
from adapters.storage.memory import InMemoryTraceRepository
from adapters.storage.memory_alerts import InMemoryAlertRepository, InMemoryDedupStore
from adapters.storage.memory_baselines import InMemoryBaselineStore
from adapters.storage.memory_metadata import InMemoryMetadataRepository
from adapters.storage.postgres import PostgresMetadataRepository
from adapters.storage.postgres_alerts import PostgresAlertRepository
from adapters.storage.redis_baselines import RedisBaselineStore
from adapters.storage.redis_client import RedisConnection
from adapters.storage.redis_dedup import RedisDedupStore
from adapters.storage.reports import InMemoryReportRepository, PostgresReportRepository, SqliteReportRepository
from adapters.storage.spill import JsonLinesSpill
from adapters.storage.sqlite import SqliteTraceRepository
from adapters.storage.sqlite_alerts import SqliteAlertRepository
from adapters.storage.sqlite_metadata import SqliteMetadataRepository
from app.actors.alerts import AlertEngine, AlertPolicy
from app.actors.export import ExportActor
from app.actors.storage_writer import StorageWriter
from app.analysis import build_analyzer
from app.holders import AnalysisStats, AnalyzerSwitch, PricingHolder
from app.messages import CapturedSpan, SpanTap
from app.settings import Features, ProxyConfig, anomaly_policy, data_protection_policy, redact, to_plain
from app.use_cases.access import AccessControl, ProxyGate, SpendLedger, TenantSettingsCache
from app.use_cases.alert_desk import AlertDesk
from app.use_cases.anomaly_watch import AnomalyWatch
from app.use_cases.capture import ExchangeCapture
from app.use_cases.compliance import REPORT_QUEUE_CAPACITY, ComplianceReports
from app.use_cases.data_protection import DataProtector
from app.use_cases.health import HealthMonitor
from app.use_cases.inline_security import Enforcer, StreamGuards, StreamPolicy
from app.use_cases.post_hoc_analysis import AnalysisPolicy, PostHocAnalysis
from app.use_cases.recording import ChannelExchangeRecorder
from app.use_cases.report_action import ActionReports
from app.use_cases.span_ingest import SpanIngest
from app.use_cases.tenants import TenantAdmin
from app.version import version
from domain.alerting import parse_channels
from domain.capture import CompletedExchange, resolve_tenant
from domain.circuit import CircuitBreaker
from domain.findings import Severity
from domain.pricing import PricingTable, parse_price_map
from domain.reports import ComplianceReport
from domain.security.analyzer import RegexSecurityAnalyzer
from domain.traces import TraceSpan
from domain.traffic import CostCapPolicy, RateLimitPolicy, parse_cost_caps, parse_rate_limiting
from ports.alerting import AlertRepository, DedupStore
from ports.anomaly import BaselineStore
from ports.counters import SharedCounters
from ports.repositories import MetadataRepository, ReportRepository, SpanSpill, TraceRepository

log = logging.getLogger("llmtrace")

CAPTURED_CHANNEL_CAPACITY = 1024  # captured spans waiting for analysis (OTLP ingest waits here: backpressure)
SPAN_CHANNEL_CAPACITY = 1024  # analysed spans waiting for the storage writer (backpressure to analysis)
UPSTREAM_POOL_SHARDS = 16


class StartupError(Exception):
    """The proxy cannot start; the message says why in one line (the CLI prints it and exits 1)."""


# -- policies: config -> domain and use-case policies ---------------------------------------------------------


def analysis_policy(config: ProxyConfig, features: Features) -> AnalysisPolicy:
    return AnalysisPolicy(
        enabled=features.security_analysis,
        timeout_s=config.security_analysis_timeout_ms / 1000,
        pii_action=config.pii.action,
        output_safety=features.output_safety,
        toxicity=features.toxicity,
    )


def alert_policy(config: ProxyConfig) -> AlertPolicy:
    a = config.alerts
    channels, _errors = parse_channels(a.webhook_url, a.channels, a.min_severity, a.min_security_score)
    escalation = a.escalation or {}
    return AlertPolicy(
        channels=tuple(channels),
        cooldown_s=float(a.cooldown_seconds),
        escalation_enabled=bool(escalation.get("enabled", False)),
        escalate_after_s=float(escalation.get("escalate_after_seconds", 600)),
    )


def stream_policy(config: ProxyConfig, features: Features) -> StreamPolicy:
    s = config.streaming_analysis
    return StreamPolicy(
        token_interval=s.token_interval,
        security=features.stream_security,
        output_safety=features.stream_output_safety,
        toxicity=features.toxicity,
        early_stop=s.early_stop_on_critical,
    )


def rate_limit_policy(config: ProxyConfig) -> RateLimitPolicy:
    rl = config.rate_limiting
    policy, _errors = parse_rate_limiting(rl.enabled, rl.requests_per_second, rl.burst_size, rl.tenant_overrides)
    return policy  # the errors were reported by settings.validate before startup


def cost_cap_policy(config: ProxyConfig) -> CostCapPolicy:
    cc = config.cost_caps
    policy, _errors = parse_cost_caps(cc.enabled, cc.default_budget_caps, cc.default_token_cap, cc.agents)
    return policy


def load_pricing(config: ProxyConfig) -> PricingTable | None:
    """Raises ValueError/OSError when the pricing file is unreadable or malformed."""
    settings = config.cost_estimation
    if not settings.enabled:
        return None
    file_prices: dict[str, Any] = {}
    if settings.pricing_file:
        data = yaml.safe_load(Path(settings.pricing_file).read_text(encoding="utf-8")) or {}
        if isinstance(data, Mapping) and isinstance(data.get("models"), Mapping):
            data = data["models"]
        if not isinstance(data, Mapping):
            raise ValueError(f"pricing file {settings.pricing_file} must map model names to prices")
        file_prices = parse_price_map(data)
    return PricingTable(custom_models=parse_price_map(settings.custom_models), file_prices=file_prices)


def tenant_from_headers(headers: Mapping[bytes, bytes]) -> str:
    tenant = headers.get(b"x-llmtrace-tenant-id")
    auth = headers.get(b"authorization")
    return resolve_tenant(tenant.decode("latin-1") if tenant else None, auth.decode("latin-1") if auth else None)


def spill_for(config: ProxyConfig) -> SpanSpill | None:
    storage = config.storage
    if storage.spill_path == "":
        return None
    if storage.spill_path:
        return JsonLinesSpill(storage.spill_path)
    if storage.profile == "memory":
        return None  # nothing survives a restart of the memory profile anyway
    if storage.profile == "lite" and storage.database_path != ":memory:":
        return JsonLinesSpill(storage.database_path + ".spill.jsonl")
    return JsonLinesSpill("llmtrace-spill.jsonl")


# -- adapters ---------------------------------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class Stores:
    traces: TraceRepository
    metadata: MetadataRepository
    alerts: AlertRepository
    reports: ReportRepository


async def open_stores(config: ProxyConfig, stack: contextlib.AsyncExitStack) -> Stores:
    """The storage profile: memory, lite (one SQLite file), or production (ClickHouse traces, PostgreSQL metadata).
    Production needs a trio-asyncio loop (asyncpg). Each store is registered for closing as soon as it is open."""
    storage = config.storage
    if storage.profile == "memory":
        return Stores(
            traces=InMemoryTraceRepository(),
            metadata=InMemoryMetadataRepository(),
            alerts=InMemoryAlertRepository(),
            reports=InMemoryReportRepository(),
        )
    if storage.profile == "lite":
        sqlite = SqliteTraceRepository.open(storage.database_path, migrate=storage.auto_migrate)
        stack.push_async_callback(sqlite.close)
        return Stores(
            traces=sqlite,
            metadata=SqliteMetadataRepository(sqlite.engine),
            alerts=SqliteAlertRepository(sqlite.engine),
            reports=SqliteReportRepository(sqlite.engine),
        )
    assert storage.clickhouse_url and storage.postgres_url  # validated with the config
    clickhouse = await trio.to_thread.run_sync(
        partial(
            ClickHouseTraceRepository, storage.clickhouse_url, storage.clickhouse_database, create=storage.auto_migrate
        )
    )
    stack.push_async_callback(clickhouse.close)
    postgres = await PostgresMetadataRepository.open(storage.postgres_url, migrate=storage.auto_migrate)
    stack.push_async_callback(postgres.close)
    return Stores(
        traces=clickhouse,
        metadata=postgres,
        alerts=PostgresAlertRepository(postgres),
        reports=PostgresReportRepository(postgres),
    )


@functools.cache
def _tls_context() -> ssl.SSLContext:
    """One certificate store for every upstream pool (loading it costs ~30 ms; there are 17 pools)."""
    return httpx.create_ssl_context()


def _upstream_timeout(config: ProxyConfig) -> httpx.Timeout:
    return httpx.Timeout(
        connect=config.connection_timeout_ms / 1000,
        read=config.timeout_ms / 1000,  # between two reads: long streams that keep flowing are never cut
        write=config.timeout_ms / 1000,
        pool=config.connection_timeout_ms / 1000,
    )


def _upstream_transport(config: ProxyConfig, connections: int) -> httpx.AsyncHTTPTransport:
    limits = httpx.Limits(
        max_connections=connections, max_keepalive_connections=min(256, connections), keepalive_expiry=30
    )
    return httpx.AsyncHTTPTransport(verify=_tls_context(), limits=limits, trust_env=False)


def make_upstream_client(
    config: ProxyConfig, max_connections: int | None = None, transport: httpx.AsyncBaseTransport | None = None
) -> httpx.AsyncClient:
    """The outbound client (webhooks, Slack, PagerDuty, OTLP export); proxied traffic uses ``make_upstream_pool``."""
    client = httpx.AsyncClient(
        timeout=_upstream_timeout(config),
        follow_redirects=False,
        trust_env=False,
        transport=transport or _upstream_transport(config, max_connections or config.max_connections),
    )
    client.headers.clear()  # send exactly the headers given, no library defaults
    return client


@contextlib.asynccontextmanager
async def make_upstream_pool(
    config: ProxyConfig, max_connections: int, transport: httpx.AsyncBaseTransport | None = None
) -> AsyncIterator[UpstreamPool]:
    """One connection pool for proxied traffic, used at the transport level (see ``UpstreamPool``)."""
    async with transport or _upstream_transport(config, max_connections) as opened:
        yield UpstreamPool(opened, _upstream_timeout(config))


@attrs.frozen(kw_only=True)
class Overrides:
    """Adapters a test swaps in; anything left None is built from the config as in production."""

    stores: Stores | None = None
    dedup: DedupStore | None = None
    counters: SharedCounters | None = None
    baselines: BaselineStore | None = None
    upstream_transport: httpx.AsyncBaseTransport | None = None  # proxied traffic
    outbound_transport: httpx.AsyncBaseTransport | None = None  # webhooks, Slack, PagerDuty, OTLP export


# -- the bundle -------------------------------------------------------------------------------------------------


@attrs.define(kw_only=True)
class PipelineChannels:
    """The bounded channels between the actors. Each send end is closed by the one actor that owns it."""

    exchanges_send: trio.MemorySendChannel[CompletedExchange]  # owner: the HTTP side (closed after it stops)
    exchanges_recv: trio.MemoryReceiveChannel[CompletedExchange]
    captured_send: trio.MemorySendChannel[CapturedSpan]  # owner: the capture actor
    captured_recv: trio.MemoryReceiveChannel[CapturedSpan]
    ingest_send: trio.MemorySendChannel[CapturedSpan]  # a clone for OTLP/gRPC ingest; owner: the HTTP side
    spans_send: trio.MemorySendChannel[TraceSpan]  # owner: the analysis actor
    spans_recv: trio.MemoryReceiveChannel[TraceSpan]
    reports_send: trio.MemorySendChannel[ComplianceReport]  # owner: the HTTP side (the report routes)
    reports_recv: trio.MemoryReceiveChannel[ComplianceReport]

    @classmethod
    def open(cls, capture_capacity: int) -> PipelineChannels:
        exchanges_send, exchanges_recv = trio.open_memory_channel[CompletedExchange](capture_capacity)
        captured_send, captured_recv = trio.open_memory_channel[CapturedSpan](CAPTURED_CHANNEL_CAPACITY)
        spans_send, spans_recv = trio.open_memory_channel[TraceSpan](SPAN_CHANNEL_CAPACITY)
        reports_send, reports_recv = trio.open_memory_channel[ComplianceReport](REPORT_QUEUE_CAPACITY)
        return cls(
            reports_send=reports_send,
            reports_recv=reports_recv,
            exchanges_send=exchanges_send,
            exchanges_recv=exchanges_recv,
            captured_send=captured_send,
            captured_recv=captured_recv,
            ingest_send=captured_send.clone(),
            spans_send=spans_send,
            spans_recv=spans_recv,
        )


@attrs.frozen(kw_only=True)
class Proxy:
    """Everything the supervisor runs, assembled from one config."""

    config: ProxyConfig
    features: Features
    telemetry: PrometheusTelemetry
    pricing: PricingHolder
    stores: Stores
    access: AccessControl
    spend: SpendLedger
    capture: ExchangeCapture
    rules: RegexSecurityAnalyzer
    analyzer: AnalyzerSwitch
    analysis: PostHocAnalysis
    analysis_stats: AnalysisStats
    channels: PipelineChannels
    writer: StorageWriter
    alert_engine: AlertEngine | None
    exporter: ExportActor | None
    taps: tuple[SpanTap, ...]  # the analysis actor's optional outputs, which it closes
    watch: AnomalyWatch
    reports: ComplianceReports
    tap_outputs: Mapping[str, trio.MemoryReceiveChannel[TraceSpan]]  # their receiving ends: "alerts", "export"
    span_ingest: SpanIngest
    health: HealthMonitor
    forwarder: Forwarder
    asgi: Any  # the ASGI application: the forwarder, with the REST API on its routes


@contextlib.asynccontextmanager
async def assemble(config: ProxyConfig, overrides: Overrides | None = None) -> AsyncIterator[Proxy]:
    """Open every adapter the config asks for and wire the proxy; close all of it on the way out."""
    overrides = overrides or Overrides()
    features = Features.of(config)
    async with contextlib.AsyncExitStack() as stack:
        # Adapters first: stores, shared state, connection pools. Each is registered for closing once open.
        telemetry = PrometheusTelemetry()
        pricing = PricingHolder(load_pricing(config))
        if overrides.stores is not None:
            stores = overrides.stores
        else:
            try:
                stores = await open_stores(config, stack)
            except Exception as exc:
                where = config.storage.database_path if config.storage.profile == "lite" else config.storage.profile
                raise StartupError(f"cannot open the trace store ({where}): {exc}") from exc
        redis = RedisConnection(config.storage.redis_url) if config.storage.redis_url else None
        if redis is not None:
            stack.push_async_callback(redis.close)
        dedup = overrides.dedup or (RedisDedupStore(redis) if redis is not None else InMemoryDedupStore())
        counters = overrides.counters or (RedisCounters(redis) if redis is not None else InMemoryCounters())
        outbound = await stack.enter_async_context(make_upstream_client(config, transport=overrides.outbound_transport))
        # The proxied traffic's connection pools: max_connections split over shards (see Forwarder).
        shards = max(1, min(UPSTREAM_POOL_SHARDS, config.max_connections // 8))
        per_shard = -(-config.max_connections // shards)
        upstream_pools = [
            await stack.enter_async_context(make_upstream_pool(config, per_shard, overrides.upstream_transport))
            for _ in range(shards)
        ]

        # Use cases and policies.
        access = AccessControl(
            stores.metadata,
            enabled=config.auth.enabled,
            admin_key=config.auth.admin_key,
            anonymous_tenant=tenant_from_headers,
        )
        tenant_settings = TenantSettingsCache(stores.metadata)
        spend = SpendLedger(counters)
        cb = config.circuit_breaker
        storage_breaker = CircuitBreaker(
            "storage", cb.failure_threshold, cb.recovery_timeout_ms / 1000, cb.half_open_max_calls
        )
        security_breaker = CircuitBreaker(
            "security", cb.failure_threshold, cb.recovery_timeout_ms / 1000, cb.half_open_max_calls
        )
        rules = build_analyzer(config)
        analyzer = AnalyzerSwitch(rules)
        ml_limiter = trio.CapacityLimiter(1)
        gate = ProxyGate(
            access,
            tenant_settings,
            spend,
            counters,
            time.time,
            rate_limits=rate_limit_policy(config),
            cost_caps=cost_cap_policy(config),
            on_counter_failure=lambda: telemetry.pipeline_failure("traffic_counters"),
        )
        protector = DataProtector(
            data_protection_policy(config),
            tenant_settings,
            phone_finder=find_phone_numbers,
            timeout_s=config.data_protection.timeout_ms / 1000,
            on_failure=lambda reason: telemetry.pipeline_failure("data_protection"),
        )

        # Actors and the channels between them.
        channels = PipelineChannels.open(config.capture_queue_capacity)
        recorder = ChannelExchangeRecorder(channels.exchanges_send, telemetry)
        writer = StorageWriter(
            stores.traces,
            telemetry,
            storage_breaker,
            capacity=config.storage.queue_capacity,
            batch_size=config.storage.batch_size,
            flush_interval_s=config.storage.flush_interval_ms / 1000,
            spill=spill_for(config),
        )
        analysis = PostHocAnalysis(
            analyzer,
            security_breaker,
            analysis_policy(config, features),
            telemetry,
            limiter=ml_limiter,
            tenant_settings=tenant_settings,
        )
        taps: list[SpanTap] = []
        tap_outputs: dict[str, trio.MemoryReceiveChannel[TraceSpan]] = {}
        alert_engine = exporter = None
        if features.alerts:
            alert_engine = AlertEngine(alert_policy(config), dedup, stores.alerts, ChannelNotifier(outbound), telemetry)
            tap, tap_outputs["alerts"] = alert_engine.intake()
            taps.append(tap)
        if features.otel_export:
            oe = config.otel_export
            exporter = ExportActor(OtlpHttpExporter(outbound, oe.endpoint, oe.headers, oe.timeout_ms / 1000), telemetry)
            tap, tap_outputs["export"] = exporter.intake(only_with_findings=oe.only_with_findings)
            taps.append(tap)
        span_ingest = SpanIngest(channels.ingest_send, pricing, telemetry)
        baselines = overrides.baselines or (RedisBaselineStore(redis) if redis is not None else InMemoryBaselineStore())
        watch = AnomalyWatch(anomaly_policy(config), baselines, telemetry)
        reports = ComplianceReports(stores.reports, stores.traces, stores.metadata, channels.reports_send)

        # The HTTP side: the forwarder on the hot path, the REST API beside it.
        health = HealthMonitor(
            version=version(),
            traces=stores.traces,
            metadata=stores.metadata,
            cache=counters,
            storage_breaker=storage_breaker,
            security_breaker=security_breaker,
            pipeline=lambda: _pipeline_state(proxy, recorder, protector),
        )
        forwarder = Forwarder(
            pools=upstream_pools,
            upstream_url=config.upstream_url,
            max_request_size_bytes=config.max_request_size_bytes,
            recorder=recorder,
            gate=gate,
            active=telemetry.active_connections,
            enforcer=_enforcer(config, features, rules, analyzer, ml_limiter, telemetry),
            protector=protector,
            stream_guards=StreamGuards(rules, stream_policy(config, features)),
            capture_max_body_bytes=config.capture_max_body_bytes,
            client_body_timeout_s=config.client_body_timeout_ms / 1000,
            upstream_seen=_upstream_seen(health, config.upstream_url),
        )
        api = create_api(
            traces=stores.traces,
            health=health,
            access=access,
            render_metrics=telemetry.render,
            metrics_content_type=CONTENT_TYPE,
            max_request_size_bytes=config.max_request_size_bytes,
            actions=ActionReports(stores.traces, analyzer),
            admin=TenantAdmin(stores.metadata, access, tenant_settings),
            live_config=lambda: redact(to_plain(config)),
            alert_desk=AlertDesk(stores.alerts),
            span_ingest=span_ingest,
            otel_ingest_enabled=features.otel_ingest,
            costs=gate,
            reports=reports,
        )
        proxy = Proxy(
            config=config,
            features=features,
            telemetry=telemetry,
            pricing=pricing,
            stores=stores,
            access=access,
            spend=spend,
            capture=ExchangeCapture(pricing, telemetry, spend=spend, max_decoded_bytes=config.capture_max_body_bytes),
            rules=rules,
            analyzer=analyzer,
            analysis=analysis,
            analysis_stats=AnalysisStats(),
            channels=channels,
            writer=writer,
            alert_engine=alert_engine,
            exporter=exporter,
            taps=tuple(taps),
            watch=watch,
            reports=reports,
            tap_outputs=tap_outputs,
            span_ingest=span_ingest,
            health=health,
            forwarder=forwarder,
            asgi=create_asgi(api, forwarder),
        )
        _register_gauges(proxy)
        yield proxy


def _enforcer(
    config: ProxyConfig,
    features: Features,
    rules: RegexSecurityAnalyzer,
    analyzer: AnalyzerSwitch,
    ml_limiter: trio.CapacityLimiter,
    telemetry: PrometheusTelemetry,
) -> Enforcer:
    enforcement = config.enforcement
    full_depth = enforcement.analysis_depth != "fast"
    return Enforcer(
        analyzer if full_depth else rules,
        telemetry,
        mode=enforcement.mode,
        min_severity=Severity.parse(enforcement.min_severity),
        min_confidence=enforcement.min_confidence,
        timeout_s=enforcement.timeout_ms / 1000,
        categories=enforcement.categories,
        limiter=ml_limiter if full_depth and features.ml else None,
    )


def _upstream_seen(health: HealthMonitor, upstream_url: str) -> Callable[[bool, str | None], None]:
    def seen(ok: bool, error: str | None) -> None:
        health.extra["upstream"] = {
            "url": upstream_url,
            "last_answered": ok,
            "last_error": error,
            "at": round(time.time()),
        }

    return seen


def _register_gauges(proxy: Proxy) -> None:
    channels = proxy.channels
    proxy.telemetry.gauge_from(
        "llmtrace_capture_queue_depth",
        "Exchanges waiting for capture",
        lambda: channels.exchanges_send.statistics().current_buffer_used,
    )
    proxy.telemetry.gauge_from(
        "llmtrace_analysis_queue_depth",
        "Spans waiting for security analysis",
        lambda: channels.captured_send.statistics().current_buffer_used,
    )
    proxy.telemetry.gauge_from(
        "llmtrace_storage_buffer_depth", "Spans waiting to be written", lambda: proxy.writer.depth
    )


def _pipeline_state(proxy: Proxy, recorder: ChannelExchangeRecorder, protector: DataProtector) -> dict[str, Any]:
    """The pipeline part of /health: queue depths, drops, writes and what failed last."""
    channels, writer = proxy.channels, proxy.writer
    return {
        "capture_queue": {
            "depth": channels.exchanges_send.statistics().current_buffer_used,
            "capacity": proxy.config.capture_queue_capacity,
            "dropped": recorder.dropped,
        },
        "analysis_queue": {
            "depth": channels.captured_send.statistics().current_buffer_used,
            "capacity": CAPTURED_CHANNEL_CAPACITY,
            "shed_to_rules": proxy.analysis_stats.shed,
        },
        "span_queue": {
            "depth": channels.spans_send.statistics().current_buffer_used,
            "capacity": SPAN_CHANNEL_CAPACITY,
        },
        "storage_buffer": {
            "depth": writer.depth,
            "capacity": writer.capacity,
            "dropped": writer.dropped,
            "written": writer.written,
            "failed_writes": writer.failed_writes,
            "last_error": writer.last_error,
            "writes_failing": writer.failing_since is not None,
            "dropped_recently": writer.last_drop_at is not None and trio.current_time() - writer.last_drop_at < 60,
            "quarantined": writer.quarantined,
            "spilled_at_shutdown": writer.spilled,
            "restored_from_spill": writer.restored,
        },
        "in_flight_requests": proxy.forwarder.in_flight,
        "data_protection": {
            "requests_protected": protector.protected,
            "inspection_failures": protector.failures,
            "last_error": protector.last_error,
        },
    }
