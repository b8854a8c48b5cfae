"""Composition root and supervisor: builds the adapters, starts the actors downstream-first, then HTTP.

Startup: listener config (TLS checked) -> open stores -> storage writer -> analysis -> capture actor -> HTTP listener;
ML models load in a worker thread meanwhile (with ``ml_preload`` /health says ``starting`` and analysis waits for
them; the proxy forwards from the moment it is bound).
Shutdown (SIGTERM/SIGINT or the ``shutdown`` event): hypercorn stops accepting and lets in-flight requests and
streams finish within ``shutdown.timeout_seconds``; then the capture channel is closed, EndOfChannel cascades
down the actor graph, and the actors get the rest of the same budget to drain before they are cancelled; finally
the stores are closed.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import resource
import signal
import ssl
import sys
import time
from collections.abc import Mapping
from functools import partial
from importlib import metadata
from pathlib import Path
from typing import Any

import httpx
import hypercorn
import hypercorn.trio
import trio
import trio_asyncio
import yaml

from adapters.grpc.server import GrpcIngest, start_grpc_server
from adapters.http.api import create_api, create_asgi
from adapters.http.forwarder import Forwarder
from adapters.metrics.prometheus import CONTENT_TYPE, PrometheusTelemetry
from adapters.notify.channels import ChannelNotifier
from adapters.otlp_export import OtlpHttpExporter
from adapters.security.phones import find_phone_numbers
from adapters.storage.clickhouse import ClickHouseTraceRepository
from adapters.storage.counters import InMemoryCounters, RedisCounters
from adapters.storage.memory import InMemoryTraceRepository
from adapters.storage.memory_alerts import InMemoryAlertRepository, InMemoryDedupStore
from adapters.storage.memory_metadata import InMemoryMetadataRepository
from adapters.storage.postgres import PostgresMetadataRepository
from adapters.storage.redis_dedup import RedisDedupStore
from adapters.storage.spill import JsonLinesSpill
from adapters.storage.sqlite import SqliteTraceRepository
from adapters.storage.sqlite_alerts import SqliteAlertRepository
from adapters.storage.sqlite_metadata import SqliteMetadataRepository
from app.actors.alerts import AlertEngine, AlertPolicy
from app.actors.analysis import AnalysisPolicy, AnalysisStats, run_analysis
from app.actors.capture import PricingHolder, run_capture
from app.actors.export import ExportActor
from app.actors.storage_writer import StorageWriter
from app.analysis import AnalyzerSwitch, build_analyzer, load_ensemble
from app.messages import CapturedSpan
from app.settings import ProxyConfig, data_protection_policy, redact, to_plain
from app.use_cases.access import AccessControl, ProxyGate, SpendLedger, TenantSettingsCache
from app.use_cases.alert_desk import AlertDesk
from app.use_cases.data_protection import DataProtector
from app.use_cases.health import HealthMonitor
from app.use_cases.inline_security import Enforcer, StreamGuards, StreamPolicy
from app.use_cases.recording import ChannelExchangeRecorder
from app.use_cases.report_action import ActionReports
from app.use_cases.span_ingest import SpanIngest
from app.use_cases.tenants import TenantAdmin
from domain.alerting import parse_channels
from domain.capture import CompletedExchange, resolve_tenant
from domain.circuit import CircuitBreaker
from domain.findings import Severity
from domain.pricing import PricingTable, parse_price_map
from domain.traces import TraceSpan
from domain.traffic import CostCapPolicy, RateLimitPolicy, parse_cost_caps, parse_rate_limiting
from ports.alerting import AlertRepository, DedupStore
from ports.repositories import MetadataRepository, SpanSpill, TraceRepository
from ports.security import SecurityAnalyzer

log = logging.getLogger("llmtrace")

SPAN_CHANNEL_CAPACITY = 1024
CAPTURED_CHANNEL_CAPACITY = 1024


def analysis_policy(config: ProxyConfig) -> AnalysisPolicy:
    return AnalysisPolicy(
        enabled=config.enable_security_analysis,
        timeout_s=config.security_analysis_timeout_ms / 1000,
        pii_action=config.pii.action,
        output_safety=config.output_safety.enabled,
        toxicity=config.output_safety.enabled and config.output_safety.toxicity_enabled,
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


def stream_policy(config: ProxyConfig) -> StreamPolicy:
    s = config.streaming_analysis
    return StreamPolicy(
        token_interval=s.token_interval,
        security=s.enabled,
        output_safety=s.output_enabled and config.output_safety.enabled,
        toxicity=config.output_safety.toxicity_enabled,
        early_stop=s.early_stop_on_critical,
    )


class StartupError(Exception):
    """The proxy cannot start; the message says why in one line (the CLI prints it and exits 1)."""


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


def raise_open_files_limit() -> None:
    """Each proxied stream holds two sockets: lift the soft descriptor limit to the hard one (often 1,024 -> 1M)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or hard > soft:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard if hard != resource.RLIM_INFINITY else 1 << 20, hard))
        except (ValueError, OSError) as exc:
            log.warning("could not raise the open-files limit from %d: %s", soft, exc)


def version() -> str:
    try:
        return metadata.version("llmtrace")
    except metadata.PackageNotFoundError:
        return "0.0.0+local"


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


async def open_stores(config: ProxyConfig) -> tuple[TraceRepository, MetadataRepository]:
    """The storage profile: memory, lite (one SQLite file), or production (ClickHouse traces, PostgreSQL metadata;
    Redis for shared state is picked up from ``storage.redis_url``). Production needs a trio-asyncio loop."""
    storage = config.storage
    if storage.profile == "memory":
        return InMemoryTraceRepository(), InMemoryMetadataRepository()
    if storage.profile == "lite":
        traces = SqliteTraceRepository.open(storage.database_path, migrate=storage.auto_migrate)
        return traces, SqliteMetadataRepository(traces.engine)
    assert storage.clickhouse_url and storage.postgres_url  # validated with the config
    clickhouse = await trio.to_thread.run_sync(
        partial(
            ClickHouseTraceRepository, storage.clickhouse_url, storage.clickhouse_database, create=storage.auto_migrate
        )
    )
    try:
        postgres = await PostgresMetadataRepository.open(storage.postgres_url, migrate=storage.auto_migrate)
    except BaseException:
        await clickhouse.close()
        raise
    return clickhouse, postgres


UPSTREAM_POOL_SHARDS = 16
GIL_SWITCH_INTERVAL_S = 0.002


def rate_limit_policy(config: ProxyConfig) -> RateLimitPolicy:
    rl = config.rate_limiting
    policy, _errors = parse_rate_limiting(rl.enabled, rl.requests_per_second, rl.burst_size, rl.tenant_overrides)
    return policy  # the errors were reported by settings.validate before startup


def cost_cap_policy(config: ProxyConfig) -> CostCapPolicy:
    cc = config.cost_caps
    policy, _errors = parse_cost_caps(cc.enabled, cc.default_budget_caps, cc.default_token_cap, cc.agents)
    return policy


@functools.cache
def _tls_context() -> ssl.SSLContext:
    """One certificate store for every upstream pool (loading it costs ~30 ms; there are 17 pools)."""
    return httpx.create_ssl_context()


def make_upstream_client(config: ProxyConfig, max_connections: int | None = None) -> httpx.AsyncClient:
    timeout = httpx.Timeout(
        connect=config.connection_timeout_ms / 1000,
        read=config.timeout_ms / 1000,  # between two reads: long streams that keep flowing are never cut
        write=config.timeout_ms / 1000,
        pool=config.connection_timeout_ms / 1000,
    )
    connections = max_connections or config.max_connections
    limits = httpx.Limits(
        max_connections=connections, max_keepalive_connections=min(256, connections), keepalive_expiry=30
    )
    client = httpx.AsyncClient(
        timeout=timeout, limits=limits, follow_redirects=False, trust_env=False, verify=_tls_context()
    )
    client.headers.clear()  # forward exactly the client's headers, no library defaults
    return client


def hypercorn_config(config: ProxyConfig) -> hypercorn.Config:
    hconfig = hypercorn.Config()
    host, port = config.listen_host_port
    hconfig.bind = [f"[{host}]:{port}" if ":" in host else f"{host}:{port}"]
    hconfig.graceful_timeout = float(config.shutdown.timeout_seconds)
    hconfig.backlog = config.listen_backlog
    hconfig.keep_alive_timeout = 75
    hconfig.accesslog = None
    hconfig.errorlog = logging.getLogger("hypercorn.error")
    if config.enable_tls:
        # HTTPS on the same listener; ALPN offers HTTP/2 and HTTP/1.1 (hypercorn's default alpn_protocols).
        hconfig.certfile = config.tls_cert_file
        hconfig.keyfile = config.tls_key_file
        try:
            hconfig.create_ssl_context()
        except (OSError, ValueError) as exc:  # ssl.SSLError is an OSError
            raise StartupError(
                f"cannot load the TLS certificate {config.tls_cert_file} / key {config.tls_key_file}: {exc}"
            ) from exc
    return hconfig


async def _analysis_then_close_alerts(
    engine: AlertEngine | None,
    exporter: ExportActor | None,
    export_all: bool,
    captured: trio.MemoryReceiveChannel[CapturedSpan],
    spans: trio.MemorySendChannel[TraceSpan],
    analyzer: SecurityAnalyzer,
    breaker: CircuitBreaker,
    policy: AnalysisPolicy,
    telemetry: PrometheusTelemetry,
    tenant_settings: TenantSettingsCache,
    stats: AnalysisStats,
    models_ready: trio.Event,
    *,
    task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED,
) -> None:
    """The analysis actor feeds the alert engine and the exporter; when analysis ends, their intakes close too.

    While preloaded models load, captured spans wait in the bounded channel, so the first exchanges are analysed by
    the ensemble as well; the proxy already forwards traffic meanwhile."""

    def sink(span: TraceSpan) -> None:
        if engine is not None:
            engine.offer(span)
        if exporter is not None and (export_all or span.security_findings):
            exporter.offer(span)

    task_status.started()
    try:
        await models_ready.wait()
        await run_analysis(
            captured,
            spans,
            analyzer,
            breaker,
            policy,
            telemetry,
            tenant_settings=tenant_settings,
            alert_sink=sink,
            stats=stats,
        )
    finally:
        if engine is not None:
            engine.close()
        if exporter is not None:
            exporter.close()


async def _watch_signals(shutdown: trio.Event, pricing: PricingHolder, config: ProxyConfig) -> None:
    with trio.open_signal_receiver(signal.SIGTERM, signal.SIGINT, signal.SIGHUP) as signals:
        async for signum in signals:
            if signum == signal.SIGHUP:
                try:
                    pricing.table = load_pricing(config)
                    log.info("pricing reloaded on SIGHUP")
                except (OSError, ValueError) as exc:
                    log.error("pricing reload failed, keeping the previous table: %s", exc)
            else:
                log.info("received %s: shutting down", signal.Signals(signum).name)
                shutdown.set()


async def serve_proxy(
    config: ProxyConfig,
    *,
    shutdown: trio.Event | None = None,
    install_signal_handlers: bool = True,
    task_status: trio.TaskStatus[list[str]] = trio.TASK_STATUS_IGNORED,
) -> None:
    if config.storage.profile == "production":
        # asyncpg is asyncio-only: run the whole proxy inside a trio-asyncio loop (confined to the Postgres adapter).
        async with trio_asyncio.open_loop():
            await _serve_proxy(config, shutdown, install_signal_handlers, task_status)
    else:
        await _serve_proxy(config, shutdown, install_signal_handlers, task_status)


async def _serve_proxy(
    config: ProxyConfig,
    shutdown: trio.Event | None,
    install_signal_handlers: bool,
    task_status: trio.TaskStatus[list[str]],
) -> None:
    listener = hypercorn_config(config)  # a bad certificate fails here, before any store or model is opened
    # The actors' worker threads (capture, analysis: regex and models) hold the GIL in long stretches; the event
    # loop that forwards waits up to one switch interval to get it back. Python's 5 ms let a small request wait
    # behind the analysis of a large one (head-of-line worst 127 ms against 81 ms at 2 ms); 1 ms measured -0.2 to
    # -0.8 ms p50 with 2 KB prompts but cost 15% more CPU with 1,000 concurrent streams (2 ms: 5-10%).
    sys.setswitchinterval(GIL_SWITCH_INTERVAL_S)
    shutdown = shutdown or trio.Event()
    raise_open_files_limit()
    telemetry = PrometheusTelemetry()
    pricing = PricingHolder(load_pricing(config))
    try:
        repository, metadata = await open_stores(config)
    except Exception as exc:
        where = config.storage.database_path if config.storage.profile == "lite" else config.storage.profile
        raise StartupError(f"cannot open the trace store ({where}): {exc}") from exc
    alert_store: AlertRepository = (
        SqliteAlertRepository(repository.engine)
        if isinstance(repository, SqliteTraceRepository)
        else InMemoryAlertRepository()
    )
    dedup: DedupStore = RedisDedupStore(config.storage.redis_url) if config.storage.redis_url else InMemoryDedupStore()
    access = AccessControl(
        metadata, enabled=config.auth.enabled, admin_key=config.auth.admin_key, anonymous_tenant=tenant_from_headers
    )
    tenant_settings = TenantSettingsCache(metadata)
    counters: Any = RedisCounters(config.storage.redis_url) if config.storage.redis_url else InMemoryCounters()
    spend = SpendLedger(counters)
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
    cb = config.circuit_breaker
    storage_breaker = CircuitBreaker(
        "storage", cb.failure_threshold, cb.recovery_timeout_ms / 1000, cb.half_open_max_calls
    )
    security_breaker = CircuitBreaker(
        "security", cb.failure_threshold, cb.recovery_timeout_ms / 1000, cb.half_open_max_calls
    )
    exchanges_send, exchanges_recv = trio.open_memory_channel[CompletedExchange](config.capture_queue_capacity)
    captured_send, captured_recv = trio.open_memory_channel[CapturedSpan](CAPTURED_CHANNEL_CAPACITY)
    spans_send, spans_recv = trio.open_memory_channel[TraceSpan](SPAN_CHANNEL_CAPACITY)
    regex = build_analyzer(config)
    analyzer = AnalyzerSwitch(regex)
    enforcement = config.enforcement
    enforcer = Enforcer(
        regex if enforcement.analysis_depth == "fast" else analyzer,
        telemetry,
        mode=enforcement.mode,
        min_severity=Severity.parse(enforcement.min_severity),
        min_confidence=enforcement.min_confidence,
        timeout_s=enforcement.timeout_ms / 1000,
        categories=enforcement.categories,
    )
    recorder = ChannelExchangeRecorder(exchanges_send, telemetry)
    writer = StorageWriter(
        repository,
        telemetry,
        storage_breaker,
        capacity=config.storage.queue_capacity,
        batch_size=config.storage.batch_size,
        flush_interval_s=config.storage.flush_interval_ms / 1000,
        spill=spill_for(config),
    )

    analysis_stats = AnalysisStats()

    def pipeline_state() -> dict[str, Any]:
        return {
            "capture_queue": {
                "depth": exchanges_send.statistics().current_buffer_used,
                "capacity": config.capture_queue_capacity,
                "dropped": recorder.dropped,
            },
            "analysis_queue": {
                "depth": captured_send.statistics().current_buffer_used,
                "capacity": CAPTURED_CHANNEL_CAPACITY,
                "shed_to_rules": analysis_stats.shed,
            },
            "span_queue": {
                "depth": spans_send.statistics().current_buffer_used,
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
            "in_flight_requests": forwarder.in_flight,
            "data_protection": {
                "requests_protected": protector.protected,
                "inspection_failures": protector.failures,
                "last_error": protector.last_error,
            },
        }

    health = HealthMonitor(
        version=version(),
        traces=repository,
        metadata=metadata,
        cache=counters,
        storage_breaker=storage_breaker,
        security_breaker=security_breaker,
        pipeline=pipeline_state,
    )
    telemetry.gauge_from(
        "llmtrace_capture_queue_depth",
        "Exchanges waiting for capture",
        lambda: exchanges_send.statistics().current_buffer_used,
    )
    telemetry.gauge_from(
        "llmtrace_analysis_queue_depth",
        "Spans waiting for security analysis",
        lambda: captured_send.statistics().current_buffer_used,
    )
    telemetry.gauge_from("llmtrace_storage_buffer_depth", "Spans waiting to be written", lambda: writer.depth)
    span_ingest = SpanIngest(captured_send, pricing, telemetry)

    def upstream_seen(ok: bool, error: str | None) -> None:
        health.extra["upstream"] = {
            "url": config.upstream_url,
            "last_answered": ok,
            "last_error": error,
            "at": round(time.time()),
        }

    # The proxied traffic's connection pools: max_connections split over shards (see Forwarder).
    shards = max(1, min(UPSTREAM_POOL_SHARDS, config.max_connections // 8))
    per_shard = -(-config.max_connections // shards)
    async with make_upstream_client(config) as client, contextlib.AsyncExitStack() as pools:
        upstream_clients = [
            await pools.enter_async_context(make_upstream_client(config, per_shard)) for _ in range(shards)
        ]
        engine = (
            AlertEngine(alert_policy(config), dedup, alert_store, ChannelNotifier(client), telemetry)
            if config.alerts.enabled
            else None
        )
        oe = config.otel_export
        exporter = (
            ExportActor(OtlpHttpExporter(client, oe.endpoint, oe.headers, oe.timeout_ms / 1000), telemetry)
            if oe.enabled
            else None
        )
        forwarder = Forwarder(
            clients=upstream_clients,
            upstream_url=config.upstream_url,
            max_request_size_bytes=config.max_request_size_bytes,
            recorder=recorder,
            gate=gate,
            active=telemetry.active_connections,
            enforcer=enforcer,
            protector=protector,
            stream_guards=StreamGuards(regex, stream_policy(config)),
            capture_max_body_bytes=config.capture_max_body_bytes,
            client_body_timeout_s=config.client_body_timeout_ms / 1000,
            upstream_seen=upstream_seen,
        )
        api = create_api(
            traces=repository,
            health=health,
            access=access,
            render_metrics=telemetry.render,
            metrics_content_type=CONTENT_TYPE,
            max_request_size_bytes=config.max_request_size_bytes,
            actions=ActionReports(repository, analyzer),
            admin=TenantAdmin(metadata, access, tenant_settings),
            live_config=lambda: redact(to_plain(config)),
            alert_desk=AlertDesk(alert_store),
            span_ingest=span_ingest,
            otel_ingest_enabled=config.otel_ingest.enabled,
            costs=gate,
        )
        asgi: Any = create_asgi(api, forwarder)

        preload = config.security_analysis.ml_enabled and config.security_analysis.ml_preload
        models_ready = trio.Event()  # post-hoc analysis waits for preloaded models
        health.loading_models = preload

        async def load_models() -> None:
            health.ml = {"status": "loading"}
            try:
                ensemble, status = await trio.to_thread.run_sync(load_ensemble, config, regex, abandon_on_cancel=True)
                health.ml = status
                if ensemble is not None:
                    analyzer.current = ensemble
                    telemetry.detector_name = "ensemble"
            finally:
                health.loading_models = False
                models_ready.set()

        if not preload:
            models_ready.set()
        try:
            async with trio.open_nursery() as root:
                if install_signal_handlers:
                    root.start_soon(_watch_signals, shutdown, pricing, config)
                async with trio.open_nursery() as pipeline:
                    if engine is not None:
                        await pipeline.start(engine.run)
                    if exporter is not None:
                        await pipeline.start(exporter.run)
                    writer.restore_spilled()
                    await pipeline.start(writer.run, spans_recv)
                    await pipeline.start(
                        partial(
                            _analysis_then_close_alerts,
                            engine,
                            exporter,
                            not config.otel_export.only_with_findings,
                            captured_recv,
                            spans_send,
                            analyzer,
                            security_breaker,
                            analysis_policy(config),
                            telemetry,
                            tenant_settings,
                            analysis_stats,
                            models_ready,
                        )
                    )
                    await pipeline.start(
                        partial(
                            run_capture,
                            exchanges_recv,
                            captured_send,
                            pricing,
                            telemetry,
                            spend=spend,
                            max_decoded_bytes=config.capture_max_body_bytes,
                        )
                    )
                    async with exchanges_send:
                        grpc_server = None
                        if config.grpc.enabled:
                            grpc_server, grpc_port = start_grpc_server(
                                config.grpc.listen_addr,
                                GrpcIngest(access.for_api, span_ingest.submit, trio.lowlevel.current_trio_token()),
                            )
                            health.extra["grpc"] = {"listening": True, "port": grpc_port}
                        async with trio.open_nursery() as http:
                            binds = await http.start(
                                partial(
                                    hypercorn.trio.serve,
                                    asgi,
                                    listener,
                                    shutdown_trigger=shutdown.wait,
                                )
                            )
                            health.serving = True
                            if config.security_analysis.ml_enabled:
                                # Once the listener is bound (a port in use fails before any model loads); with
                                # ml_preload /health says starting and analysis waits until the models are in;
                                # without it, the rules analyse meanwhile.
                                root.start_soon(load_models)
                            log.info("llmtrace proxy listening on %s, forwarding to %s", binds, config.upstream_url)
                            task_status.started(binds)
                        if grpc_server is not None:
                            stopping = grpc_server.stop(grace=2.0)
                            await trio.to_thread.run_sync(stopping.wait)
                    log.info("HTTP stopped; draining the capture pipeline")
                    models_ready.set()  # shutting down while models load: the rules analyse what is queued
                    pipeline.cancel_scope.deadline = trio.current_time() + max(config.shutdown.timeout_seconds, 1)
                root.cancel_scope.cancel()
        finally:
            await metadata.close()
            await repository.close()
            log.info("llmtrace proxy stopped")
