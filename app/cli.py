"""``llmtrace-proxy``: run the proxy, ``validate`` a config, or ``migrate`` the stores."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import Sequence
from typing import Any

import trio
import yaml

from app.settings import ConfigError, LoadedConfig, load_config, redact, to_plain


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        data: dict[str, Any] = {
            "timestamp": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"),
            "level": record.levelname,
            "target": record.name,
            "message": record.getMessage(),
            "thread": record.threadName,
        }
        if record.exc_info:
            data["exception"] = self.formatException(record.exc_info)
        return json.dumps(data)


def setup_logging(level: str, fmt: str) -> None:
    level_name = {"trace": "DEBUG", "warn": "WARNING"}.get(level.lower(), level.upper())
    handler = logging.StreamHandler(sys.stderr)
    if fmt == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level_name)
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("httpcore").setLevel(logging.WARNING)


def build_parser() -> argparse.ArgumentParser:
    from app.version import version

    def add_common(p: argparse.ArgumentParser, default: object) -> None:
        p.add_argument("-c", "--config", default=default, help="YAML config file (env LLMTRACE_CONFIG)")
        p.add_argument("--listen-addr", default=default, help="HOST:PORT to listen on (env LLMTRACE_LISTEN_ADDR)")
        p.add_argument("--upstream-url", default=default, help="provider base URL (env LLMTRACE_UPSTREAM_URL)")
        p.add_argument(
            "--log-level", default=default, help="trace, debug, info, warn or error (env LLMTRACE_LOG_LEVEL)"
        )
        p.add_argument("--log-format", default=default, help="text or json (env LLMTRACE_LOG_FORMAT)")

    parser = argparse.ArgumentParser(
        prog="llmtrace-proxy", description="LLMTrace: transparent LLM security and observability proxy"
    )
    add_common(parser, None)
    parser.add_argument("--version", action="version", version=f"llmtrace-proxy {version()}")
    sub = parser.add_subparsers(dest="command")
    commands = {
        "validate": "check the configuration, report every error, print the resolved config",
        "migrate": "apply storage migrations and exit",
        "serve": "run the proxy (the default)",
    }
    for name, help_text in commands.items():
        # Flags are accepted before or after the command; after it they override (SUPPRESS keeps the earlier).
        add_common(sub.add_parser(name, help=help_text), argparse.SUPPRESS)
    return parser


def _load(args: argparse.Namespace) -> LoadedConfig:
    overrides = {
        "listen_addr": args.listen_addr,
        "upstream_url": args.upstream_url,
        "logging.level": args.log_level,
        "logging.format": args.log_format,
    }
    return load_config(args.config, os.environ, overrides)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        loaded = _load(args)
    except ConfigError as exc:
        for warning in exc.warnings:
            print(f"warning: {warning}", file=sys.stderr)
        print(
            f"✗ Configuration is invalid ({len(exc.errors)} error{'s' if len(exc.errors) != 1 else ''}):",
            file=sys.stderr,
        )
        for error in exc.errors:
            print(f"  - {error}", file=sys.stderr)
        return 2
    for warning in loaded.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    config = loaded.config
    if args.command == "validate":
        print("✓ Configuration is valid.")
        print(yaml.safe_dump(redact(to_plain(config)), sort_keys=False))
        return 0
    setup_logging(config.logging.level, config.logging.format)
    if args.command == "migrate":
        from app.migrations import run_migrations

        for line in run_migrations(config):
            print(line)
        return 0
    taken = _address_taken(config.listen_addr)
    if taken is not None:
        # Before importing the adapters and opening anything: a port in use is one line, at once.
        print(f"llmtrace-proxy: cannot listen on {config.listen_addr}: {taken}", file=sys.stderr)
        return 1
    from app.supervisor import StartupError, serve_proxy

    try:
        profile_path = os.environ.get("LLMTRACE_PROFILE_OUT")
        if profile_path:  # `just bench overhead --profile`: a cProfile of the whole proxy process, written at exit
            import cProfile

            profiler = cProfile.Profile()
            try:
                profiler.runcall(lambda: trio.run(serve_proxy, config))
            finally:
                profiler.dump_stats(profile_path)
        else:
            trio.run(serve_proxy, config)
    except BaseException as error:
        reason = _startup_failure(error, StartupError, config.listen_addr)
        if reason is None:
            raise
        print(f"llmtrace-proxy: {reason}", file=sys.stderr)
        return 1
    return 0


def _address_taken(listen_addr: str) -> str | None:
    """Whether the listen address cannot be bound now (a probe; the real bind still reports its own error)."""
    import socket

    host, _, port = listen_addr.rpartition(":")
    host = host.strip("[]") or "0.0.0.0"
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        with socket.socket(family, socket.SOCK_STREAM) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as hypercorn binds
            probe.bind((host, int(port)))
    except OSError as exc:
        return exc.strerror or str(exc)
    return None


def _startup_failure(error: BaseException, startup_error: type[Exception], listen_addr: str) -> str | None:
    """The one-line reason of a failed start (a store that cannot open, a port in use), or None."""
    leaves: list[BaseException] = []
    pending = [error]
    while pending:
        item = pending.pop()
        if isinstance(item, BaseExceptionGroup):
            pending.extend(item.exceptions)
        else:
            leaves.append(item)
    for leaf in leaves:
        if isinstance(leaf, startup_error):
            return str(leaf)
        if isinstance(leaf, OSError) and leaf.errno is not None:
            return f"cannot listen on {listen_addr}: {leaf.strerror or leaf}"
    return None


if __name__ == "__main__":
    sys.exit(main())
