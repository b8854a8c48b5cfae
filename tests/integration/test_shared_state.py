"""Replicas on the production profile share PostgreSQL and Redis: a tenant's rate limit holds across them."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from tests.conftest import READY_S, MockUpstream, create_database, drop_database, start_proxy

pytestmark = pytest.mark.integration


def test_rate_limit_and_metadata_are_shared_by_replicas(tmp_path: Any, mock_upstream: MockUpstream) -> None:
    name = f"llmtrace_shared_{uuid.uuid4().hex[:10]}"
    dsn = create_database(name)
    admin = "shared-admin-" + uuid.uuid4().hex
    env = {"LLMTRACE_AUTH_ENABLED": "true", "LLMTRACE_AUTH_ADMIN_KEY": admin}

    def replica(label: str) -> Any:
        # Each replica has its own embedded ClickHouse (chDB cannot be opened by two processes); metadata and
        # counters are the shared stores under test.
        storage = {
            "profile": "production",
            "clickhouse_url": f"chdb://{tmp_path / ('ch-' + label)}",
            "postgres_url": dsn,
            "redis_url": "redis://127.0.0.1:6379/0",
        }
        return start_proxy(tmp_path, mock_upstream.url, {"storage": storage}, env=env)

    a = replica("a")
    b = replica("b")
    try:
        health = b.api("/health").json()
        assert health["storage"]["metadata"]["healthy"] and health["storage"]["cache"]["healthy"]
        created = httpx.post(
            f"{a.url}/api/v1/tenants", json={"name": "shared"}, headers={"Authorization": f"Bearer {admin}"}
        ).json()
        key = created["api_key"]
        # The key made on replica A works on replica B at once (shared metadata).
        settings = httpx.put(
            f"{b.url}/api/v1/tenants/{created['id']}/settings",
            json={"rate_limit_rpm": 4},
            headers={"Authorization": f"Bearer {key}"},
        )
        assert settings.status_code == 200
        body = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}
        token = {"X-LLMTrace-Token": created["api_token"]}
        statuses = [
            httpx.post(f"{proxy.url}/v1/chat/completions", json=body, headers=token).status_code
            for proxy in (a, b, a, b, a, b)
        ]
        assert statuses == [200, 200, 200, 200, 429, 429]  # four per minute in total, not four per replica
    finally:
        a.process.stop()
        b.process.stop()
        drop_database(name)


def test_two_replicas_share_traces(tmp_path: Any, mock_upstream: MockUpstream, clickhouse_front: Any) -> None:
    """Two proxy processes on the production profile sharing ClickHouse (over HTTP), PostgreSQL and Redis."""
    import openai

    name = f"llmtrace_replicas_{uuid.uuid4().hex[:10]}"
    dsn = create_database(name)
    storage = {
        "profile": "production",
        "clickhouse_url": clickhouse_front.url,
        "clickhouse_database": f"replicas_{uuid.uuid4().hex[:8]}",
        "postgres_url": dsn,
        "redis_url": "redis://127.0.0.1:6379/0",
    }
    a = start_proxy(tmp_path, mock_upstream.url, {"storage": storage})
    b = start_proxy(tmp_path, mock_upstream.url, {"storage": storage})
    try:
        tenant = {"X-LLMTrace-Tenant-ID": str(uuid.uuid4())}
        for proxy, text in ((a, "via replica a"), (b, "via replica b")):
            client = openai.OpenAI(base_url=f"{proxy.url}/v1", api_key="k", default_headers=tenant, max_retries=0)
            client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": text}])
        for proxy in (a, b):
            body = proxy.wait_for_traces(2, tenant, timeout=READY_S)
            assert {s["prompt"] for t in body["data"] for s in t["spans"]} == {
                "user: via replica a",
                "user: via replica b",
            }
    finally:
        a.process.stop()
        b.process.stop()
        drop_database(name)


def test_clickhouse_outage_loses_nothing(tmp_path: Any, mock_upstream: MockUpstream) -> None:
    """ClickHouse goes down: proxied requests still succeed at once; when it is back, every span is stored once."""
    import sys
    import time

    import httpx

    from tests.conftest import ROOT, Process, free_port, wait_http

    port = free_port()
    data = tmp_path / "ch-outage"

    def start_front() -> Process:
        process = Process(
            [sys.executable, "-m", "tests.clickhouse_front", str(data), str(port)],
            None,
            tmp_path / f"front-{time.monotonic_ns()}.log",
            cwd=ROOT,
        )
        wait_http(f"http://127.0.0.1:{port}/ping")
        return process

    front = start_front()
    name = f"llmtrace_outage_{uuid.uuid4().hex[:10]}"
    storage = {
        "profile": "production",
        "clickhouse_url": f"http://127.0.0.1:{port}",
        "postgres_url": create_database(name),
        "redis_url": "redis://127.0.0.1:6379/0",
    }
    proxy = start_proxy(tmp_path, mock_upstream.url, {"storage": storage})
    tenant = {"X-LLMTrace-Tenant-ID": str(uuid.uuid4())}
    body = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "during the outage"}]}
    try:
        front.stop()  # ClickHouse is down
        started = time.monotonic()
        statuses = [
            httpx.post(f"{proxy.url}/v1/chat/completions", json=body, headers=tenant).status_code for _ in range(20)
        ]
        assert statuses == [200] * 20 and time.monotonic() - started < 5  # never failed, never slowed much
        health = proxy.api("/health").json()
        assert health["status"] == "degraded" and health["storage"]["traces"]["healthy"] is False
        time.sleep(1)
        assert proxy.api("/health").json()["pipeline"]["storage_buffer"]["failed_writes"] >= 1
        front = start_front()  # back
        spans = proxy.wait_for_traces(20, tenant, timeout=READY_S, limit=100)
        assert spans["total"] == 20
        ids = [s["span_id"] for t in spans["data"] for s in t["spans"]]
        assert len(ids) == len(set(ids)) == 20  # stored once each
        assert proxy.api("/health").json()["pipeline"]["storage_buffer"]["dropped"] == 0
    finally:
        proxy.process.stop()
        front.stop()
        drop_database(name)
