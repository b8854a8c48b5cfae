"""Shared fixtures: the shipped mock upstream and the proxy, run as real processes over loopback."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


# How long a test waits for something that will happen (a trace stored, an alert delivered). Waiting returns as soon
# as it happens; the bound only turns a hang into a failure, so it is generous: no test may depend on how fast the
# machine is today. How fast the proxy is belongs in the benchmarks (`just bench ...`).
READY_S = 60.0

SERVICE_PORTS = frozenset({5432, 6379, 8123, 9000})  # PostgreSQL, Redis, ClickHouse HTTP and native


@pytest.fixture(autouse=True)
def unit_tier_isolation(monkeypatch: pytest.MonkeyPatch) -> None:
    """``just test-unit`` (LLMTRACE_TEST_TIER=unit) promises no services and no processes: a test that starts a
    subprocess or connects to a service port there fails at once, instead of quietly needing the machine."""
    if os.environ.get("LLMTRACE_TEST_TIER") != "unit":
        return

    def no_process(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("the unit tier starts no processes: mark the test @pytest.mark.process")

    real_connect = socket.socket.connect

    def connect(self: socket.socket, address: Any) -> Any:
        if isinstance(address, tuple) and len(address) >= 2 and address[1] in SERVICE_PORTS:
            raise AssertionError(f"the unit tier uses no services ({address}): mark the test @pytest.mark.services")
        return real_connect(self, address)

    monkeypatch.setattr(subprocess.Popen, "__init__", no_process)
    monkeypatch.setattr(socket.socket, "connect", connect)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_http(url: str, timeout: float = 20.0, expect: int | None = 200) -> None:
    deadline = time.monotonic() + timeout
    last: object = None
    while time.monotonic() < deadline:
        try:
            response = httpx.get(url, timeout=1.0)
            if expect is None or response.status_code == expect:
                return
            last = response.status_code
        except httpx.HTTPError as exc:
            last = exc
        time.sleep(0.05)
    raise TimeoutError(f"{url} not ready: {last}")


class Process:
    def __init__(self, args: list[str], env: dict[str, str] | None, log: Path, cwd: Path | None = None) -> None:
        self.log_path = log
        self._log = log.open("wb")
        self.popen = subprocess.Popen(
            args, env={**os.environ, **(env or {})}, stdout=self._log, stderr=subprocess.STDOUT, cwd=cwd
        )

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 30.0) -> int:
        if self.popen.poll() is None:
            self.popen.send_signal(sig)
            try:
                self.popen.wait(timeout)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait()
        self._log.close()
        return self.popen.returncode

    def output(self) -> str:
        if not self._log.closed:
            self._log.flush()
        return self.log_path.read_text(errors="replace")


class MockUpstream:
    def __init__(self, process: Process, port: int) -> None:
        self.process = process
        self.port = port
        self.url = f"http://127.0.0.1:{port}"

    def requests(self) -> list[dict[str, object]]:
        return list(httpx.get(f"{self.url}/_mock/requests").json()["requests"])

    def stats(self) -> dict[str, int]:
        return dict(httpx.get(f"{self.url}/_mock/stats").json())

    def clear(self) -> None:
        httpx.delete(f"{self.url}/_mock/requests")


def start_mock(tmp: Path, *extra: str) -> MockUpstream:
    port = free_port()
    process = Process(
        [str(BIN / "llmtrace-mock-upstream"), "--port", str(port), *extra], None, tmp / f"mock-{port}.log"
    )
    mock = MockUpstream(process, port)
    wait_http(f"{mock.url}/_mock/stats")
    return mock


class Proxy:
    def __init__(self, process: Process, port: int, config_path: Path) -> None:
        self.process = process
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.config_path = config_path

    def api(self, path: str, **kwargs: object) -> httpx.Response:
        return httpx.get(f"{self.url}{path}", timeout=10.0, **kwargs)  # type: ignore[arg-type]

    def wait_for_traces(self, count: int, headers: dict[str, str], timeout: float = READY_S, **params: object) -> dict:
        """Poll GET /api/v1/traces until ``count`` traces are listed."""
        deadline = time.monotonic() + timeout
        body: dict = {}
        while time.monotonic() < deadline:
            body = self.api("/api/v1/traces", headers=headers, params=params).json()
            if body.get("total", 0) >= count:
                return body
            time.sleep(0.02)
        raise AssertionError(f"expected {count} traces within {timeout}s, got {body.get('total')}")


def start_proxy(
    tmp: Path, upstream_url: str, config: dict | None = None, env: dict[str, str] | None = None, wait: bool = True
) -> Proxy:
    port = free_port()
    data = {
        "listen_addr": f"127.0.0.1:{port}",
        "upstream_url": upstream_url,
        "storage": {"profile": "lite", "database_path": str(tmp / f"llmtrace-{port}.db")},
        # The ML ensemble is on by default for users; tests that are about the ML path turn it on explicitly,
        # the others run the (deterministic, fast-starting) rules.
        "security_analysis": {"ml_enabled": False},
        # Rate limiting is on by default for users (100 rps, burst 200 per tenant); tests and benchmarks that send
        # more than that turn it off here, and the tests about limits turn it on with their own figures.
        "rate_limiting": {"enabled": False},
    }
    for key, value in (config or {}).items():
        if isinstance(value, dict) and isinstance(data.get(key), dict):
            data[key] = {**data[key], **value}  # type: ignore[dict-item]
        else:
            data[key] = value
    config_path = tmp / f"config-{port}.yaml"
    config_path.write_text(yaml.safe_dump(data))
    process = Process(
        [str(BIN / "llmtrace-proxy"), "--config", str(config_path)], env, tmp / f"proxy-{port}.log", cwd=tmp
    )
    proxy = Proxy(process, port, config_path)
    if wait:
        try:
            # Readiness, however long this machine takes today (models may load before the listener opens).
            wait_http(f"{proxy.url}/health", timeout=180.0)
        except TimeoutError:
            process.stop()
            raise AssertionError(f"proxy did not start:\n{process.output()}") from None
    return proxy


@pytest.fixture(scope="session")
def session_tmp(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("llmtrace")


@pytest.fixture(scope="session")
def mock_upstream(session_tmp: Path) -> Iterator[MockUpstream]:
    mock = start_mock(session_tmp)
    yield mock
    mock.process.stop()


@pytest.fixture(scope="session")
def proxy(session_tmp: Path, mock_upstream: MockUpstream) -> Iterator[Proxy]:
    proxy = start_proxy(session_tmp, mock_upstream.url)
    yield proxy
    proxy.process.stop()


@pytest.fixture
def proxy_factory(tmp_path: Path) -> Iterator[Callable[..., Proxy]]:
    started: list[Proxy] = []

    def factory(
        upstream_url: str, config: dict | None = None, env: dict[str, str] | None = None, wait: bool = True
    ) -> Proxy:
        proxy = start_proxy(tmp_path, upstream_url, config, env, wait)
        started.append(proxy)
        return proxy

    yield factory
    for proxy in started:
        proxy.process.stop()


@pytest.fixture
def tenant_headers() -> dict[str, str]:
    """A fresh tenant per test, so tests sharing the session proxy never see each other's traces."""
    import uuid

    return {"X-LLMTrace-Tenant-ID": str(uuid.uuid4())}


def run_asyncio(coroutine: Any) -> Any:
    """Run an asyncio coroutine on a plain selector loop (trio-asyncio replaces the default policy in-process)."""
    import asyncio

    loop = asyncio.SelectorEventLoop()
    try:
        return loop.run_until_complete(coroutine)
    finally:
        loop.close()


def create_database(name: str) -> str:
    """A fresh PostgreSQL database on 127.0.0.1 for one test (the production profile's metadata store)."""

    import asyncpg

    async def run() -> None:
        conn = await asyncpg.connect("postgresql://postgres@127.0.0.1:5432/postgres")
        try:
            await conn.execute(f"DROP DATABASE IF EXISTS {name}")
            await conn.execute(f"CREATE DATABASE {name}")
        finally:
            await conn.close()

    run_asyncio(run())
    return f"postgresql://postgres@127.0.0.1:5432/{name}"


def drop_database(name: str) -> None:

    import asyncpg

    async def run() -> None:
        conn = await asyncpg.connect("postgresql://postgres@127.0.0.1:5432/postgres")
        try:
            await conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        finally:
            await conn.close()

    run_asyncio(run())


def production_storage(tmp: Path, name: str) -> dict[str, object]:
    """``storage`` config of the production profile: ClickHouse (embedded chDB engine), PostgreSQL, Redis."""
    return {
        "profile": "production",
        "clickhouse_url": f"chdb://{tmp / ('clickhouse-' + name)}",
        "postgres_url": create_database(name),
        "redis_url": "redis://127.0.0.1:6379/0",
    }


class ClickHouseFront:
    def __init__(self, process: Process, port: int) -> None:
        self.process = process
        self.url = f"http://127.0.0.1:{port}"


@pytest.fixture(scope="session")
def clickhouse_front(session_tmp: Path) -> Iterator[ClickHouseFront]:
    """A real ClickHouse engine (chDB) behind ClickHouse's HTTP interface, shareable by several processes."""
    port = free_port()
    process = Process(
        [sys.executable, "-m", "tests.clickhouse_front", str(session_tmp / "chfront"), str(port)],
        None,
        session_tmp / "chfront.log",
        cwd=ROOT,
    )
    front = ClickHouseFront(process, port)
    wait_http(f"{front.url}/ping")
    yield front
    process.stop()
