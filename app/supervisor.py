"""The supervisor: runs the nursery tree over the proxy that ``app.bootstrap.assemble`` built.

Startup: listener config (TLS checked) -> assemble (stores, pools, wiring) -> storage writer, alert engine and
exporter -> analysis -> capture -> HTTP listener (and gRPC ingest); ML models load in a worker thread once the
listener is bound (with ``ml_preload`` /health says ``starting`` and analysis waits for them; the proxy forwards
from the moment it is bound).

Shutdown (SIGTERM/SIGINT or the ``shutdown`` event): hypercorn stops accepting and lets in-flight requests and
streams finish within ``shutdown.timeout_seconds``; then the HTTP side closes its channels (exchanges, ingest), and
EndOfChannel cascades down the actor graph, each actor closing the channels it owns; the actors get the rest of the
same budget to drain before they are cancelled; finally ``assemble`` closes the stores and pools.
"""

from __future__ import annotations

import contextlib
import logging
import resource
import signal
import sys
from collections.abc import AsyncIterator
from functools import partial

import hypercorn
import hypercorn.trio
import trio
import trio_asyncio

from adapters.grpc.server import GrpcIngest, start_grpc_server
from app.actors.analysis import run_analysis
from app.actors.capture import run_capture
from app.actors.reports import run_reports
from app.analysis import load_ensemble
from app.bootstrap import Overrides, Proxy, StartupError, assemble, load_pricing
from app.settings import ProxyConfig

log = logging.getLogger("llmtrace")

GIL_SWITCH_INTERVAL_S = 0.0005

__all__ = ["GIL_SWITCH_INTERVAL_S", "StartupError", "hypercorn_config", "open_pipeline", "serve_proxy"]


def raise_open_files_limit() -> None:
    """Each proxied stream holds two sockets: lift the soft descriptor limit to the hard one (often 1,024 -> 1M)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or hard > soft:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard if hard != resource.RLIM_INFINITY else 1 << 20, hard))
        except (ValueError, OSError) as exc:
            log.warning("could not raise the open-files limit from %d: %s", soft, exc)


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


async def serve_proxy(
    config: ProxyConfig,
    *,
    shutdown: trio.Event | None = None,
    install_signal_handlers: bool = True,
    overrides: Overrides | None = None,
    task_status: trio.TaskStatus[list[str]] = trio.TASK_STATUS_IGNORED,
) -> None:
    listener = hypercorn_config(config)  # a bad certificate fails here, before any store or model is opened
    # The actors' worker threads (capture, analysis: regex and models) hold the GIL in long stretches; the event
    # loop that forwards waits up to one switch interval to get it back. Python's 5 ms let a small request wait
    # behind the analysis of a large one (head-of-line worst 127 ms against 81 ms at 2 ms). Since capture batches
    # its work (the actors hold the GIL in fewer, longer stretches), 0.5 ms took the added p99 of sequential calls in
    # `just bench hop` from 6.2 to 1.8 ms (2 ms before); an earlier measurement found 1 ms cost 15% more CPU with
    # 1,000 concurrent streams (2 ms: 5-10%).
    sys.setswitchinterval(GIL_SWITCH_INTERVAL_S)
    raise_open_files_limit()
    shutdown = shutdown or trio.Event()
    if config.storage.profile == "production":
        # asyncpg is asyncio-only: run the whole proxy inside a trio-asyncio loop (confined to the Postgres adapter).
        async with trio_asyncio.open_loop():
            async with assemble(config, overrides) as proxy:
                await supervise(proxy, listener, shutdown, install_signal_handlers, task_status)
    else:
        async with assemble(config, overrides) as proxy:
            await supervise(proxy, listener, shutdown, install_signal_handlers, task_status)
    log.info("llmtrace proxy stopped")


async def supervise(
    proxy: Proxy,
    listener: hypercorn.Config,
    shutdown: trio.Event,
    install_signal_handlers: bool,
    task_status: trio.TaskStatus[list[str]],
) -> None:
    """The nursery tree: root (signals, model loading) > pipeline (actors, downstream first) > HTTP."""
    models_ready = trio.Event()  # post-hoc analysis waits for preloaded models
    proxy.health.loading_models = proxy.features.ml_preload
    if not proxy.features.ml_preload:
        models_ready.set()
    async with trio.open_nursery() as root:
        if install_signal_handlers:
            root.start_soon(_watch_signals, shutdown, proxy)
        async with open_pipeline(proxy, models_ready):
            channels = proxy.channels
            async with channels.exchanges_send, channels.ingest_send, channels.reports_send:  # the HTTP side's
                await _serve_http(proxy, listener, shutdown, root, models_ready, task_status)
            log.info("HTTP stopped; draining the capture pipeline")
            models_ready.set()  # shutting down while models load: the rules analyse what is queued
        root.cancel_scope.cancel()


@contextlib.asynccontextmanager
async def open_pipeline(proxy: Proxy, models_ready: trio.Event) -> AsyncIterator[trio.Nursery]:
    """The actors, started downstream first (storage, alerts, export, analysis, reports, capture). The block that
    uses them must close the HTTP side's channels (``exchanges_send``, ``ingest_send``, ``reports_send``) before it
    ends; the actors then get
    ``shutdown.timeout_seconds`` to drain before they are cancelled."""
    channels, config = proxy.channels, proxy.config
    async with trio.open_nursery() as pipeline:
        if proxy.alert_engine is not None:
            await pipeline.start(proxy.alert_engine.run, proxy.tap_outputs["alerts"])
        if proxy.exporter is not None:
            await pipeline.start(proxy.exporter.run, proxy.tap_outputs["export"])
        proxy.writer.restore_spilled()
        await pipeline.start(proxy.writer.run, channels.spans_recv)
        await pipeline.start(
            partial(
                run_analysis,
                channels.captured_recv,
                channels.spans_send,
                proxy.analysis,
                proxy.telemetry,
                taps=proxy.taps,
                watch=proxy.watch,
                stats=proxy.analysis_stats,
                ready=models_ready,
            )
        )
        await pipeline.start(run_reports, channels.reports_recv, proxy.reports, proxy.telemetry)
        await pipeline.start(partial(run_capture, channels.exchanges_recv, channels.captured_send, proxy.capture))
        yield pipeline
        pipeline.cancel_scope.deadline = trio.current_time() + max(config.shutdown.timeout_seconds, 1)


async def _serve_http(
    proxy: Proxy,
    listener: hypercorn.Config,
    shutdown: trio.Event,
    root: trio.Nursery,
    models_ready: trio.Event,
    task_status: trio.TaskStatus[list[str]],
) -> None:
    """The listener (and gRPC ingest) until shutdown; in-flight requests finish within the graceful timeout."""
    config, health = proxy.config, proxy.health
    grpc_server = None
    if proxy.features.grpc:
        grpc_server, grpc_port = start_grpc_server(
            config.grpc.listen_addr,
            GrpcIngest(proxy.access.for_api, proxy.span_ingest.submit, trio.lowlevel.current_trio_token()),
        )
        health.extra["grpc"] = {"listening": True, "port": grpc_port}
    try:
        async with trio.open_nursery() as http:
            binds = await http.start(
                partial(hypercorn.trio.serve, proxy.asgi, listener, shutdown_trigger=shutdown.wait)
            )
            health.serving = True
            if proxy.features.ml:
                # Once the listener is bound (a port in use fails before any model loads); with ml_preload /health
                # says starting and analysis waits until the models are in; without it, the rules analyse meanwhile.
                root.start_soon(_load_models, proxy, models_ready)
            log.info("llmtrace proxy listening on %s, forwarding to %s", binds, config.upstream_url)
            task_status.started(binds)
    finally:
        if grpc_server is not None:
            stopping = grpc_server.stop(grace=2.0)
            await trio.to_thread.run_sync(stopping.wait)


async def _load_models(proxy: Proxy, models_ready: trio.Event) -> None:
    proxy.health.ml = {"status": "loading"}
    try:
        ensemble, status = await trio.to_thread.run_sync(
            load_ensemble, proxy.config, proxy.rules, abandon_on_cancel=True
        )
        proxy.health.ml = status
        if ensemble is not None:
            proxy.analyzer.current = ensemble
            proxy.telemetry.detector_name = "ensemble"
    finally:
        proxy.health.loading_models = False
        models_ready.set()


async def _watch_signals(shutdown: trio.Event, proxy: Proxy) -> None:
    with trio.open_signal_receiver(signal.SIGTERM, signal.SIGINT, signal.SIGHUP) as signals:
        async for signum in signals:
            if signum == signal.SIGHUP:
                try:
                    proxy.pricing.table = load_pricing(proxy.config)
                    log.info("pricing reloaded on SIGHUP")
                except (OSError, ValueError) as exc:
                    log.error("pricing reload failed, keeping the previous table: %s", exc)
            else:
                log.info("received %s: shutting down", signal.Signals(signum).name)
                shutdown.set()
