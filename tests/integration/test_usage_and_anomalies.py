"""Usage analytics and anomaly detection through the running proxy, with the official SDK as the client."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import openai
import pytest

from tests.conftest import READY_S, MockUpstream, Proxy
from tests.receivers import HttpReceiver, wait_for

pytestmark = pytest.mark.integration


@pytest.fixture
def webhook() -> Iterator[HttpReceiver]:
    receiver = HttpReceiver()
    yield receiver
    receiver.close()


def client(proxy: Proxy, tenant: str, **headers: str) -> openai.OpenAI:
    return openai.OpenAI(
        base_url=f"{proxy.url}/v1",
        api_key="sk-proj-integration0000000000test",
        max_retries=0,
        default_headers={"X-LLMTrace-Tenant-ID": tenant, **headers},
    )


def test_usage_by_end_user_and_model(proxy_factory: Any, mock_upstream: MockUpstream) -> None:
    proxy = proxy_factory(mock_upstream.url)
    tenant = str(uuid.uuid4())
    sdk = client(proxy, tenant)
    for user, model in (("alice", "gpt-4o-mini"), ("alice", "gpt-4o-mini"), ("bob", "gpt-4o")):
        sdk.chat.completions.create(model=model, user=user, messages=[{"role": "user", "content": "hello"}])
    client(proxy, tenant, **{"X-LLMTrace-User-ID": "carol"}).chat.completions.create(
        model="gpt-4o", messages=[{"role": "user", "content": "hello"}]
    )
    headers = {"X-LLMTrace-Tenant-ID": tenant}
    proxy.wait_for_traces(4, headers, timeout=READY_S)
    data = proxy.api("/api/v1/usage", headers=headers, params={"group_by": "user,model"}).json()["data"]
    rows = {(r["user"], r["model"]): r for r in data}
    assert {k: r["requests"] for k, r in rows.items()} == {
        ("alice", "gpt-4o-mini"): 2,
        ("bob", "gpt-4o"): 1,
        ("carol", "gpt-4o"): 1,
    }
    assert all(r["prompt_tokens"] > 0 and r["cost_usd"] > 0 and r["latency_ms"]["p50"] is not None for r in data)
    keys = proxy.api("/api/v1/usage", headers=headers, params={"group_by": "api_key"}).json()["data"]
    assert [r["api_key"] for r in keys] == ["sk-proj-…test"]
    stats = proxy.api("/api/v1/stats", headers=headers).json()
    assert stats["total_requests"] == 4 and stats["total_tokens"] > 0


def test_a_latency_spike_after_a_steady_baseline_alerts_the_webhook(
    proxy_factory: Any, mock_upstream: MockUpstream, webhook: HttpReceiver
) -> None:
    proxy = proxy_factory(
        mock_upstream.url,
        {
            "anomaly_detection": {"enabled": True},
            "alerts": {
                "enabled": True,
                "channels": [{"type": "webhook", "url": webhook.url + "/hook", "min_severity": "High"}],
            },
        },
    )
    tenant = str(uuid.uuid4())
    sdk = client(proxy, tenant)
    for _ in range(40):  # steady: fast answers of the same size
        sdk.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "ping"}])
    headers = {"X-LLMTrace-Tenant-ID": tenant}
    proxy.wait_for_traces(40, headers, timeout=READY_S)
    steady = proxy.api("/api/v1/security/findings", headers=headers).json()
    assert steady["total"] == 0  # no anomaly raised while traffic was steady

    slow = client(proxy, tenant, **{"x-mock-latency-ms": "1500"})
    slow.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "ping"}])
    delivery = webhook.wait(1, timeout=READY_S)[0]
    assert "anomaly_latency_spike" in str(delivery)
    params = {"finding_type": "anomaly_latency_spike"}
    found = wait_for(
        lambda: proxy.api("/api/v1/security/findings", headers=headers, params=params).json()["data"],
        READY_S,
        "the flagged span to be stored",
    )
    span = found[0]
    finding = next(f for f in span["security_findings"] if f["finding_type"] == "anomaly_latency_spike")
    assert finding["severity"] in ("High", "Critical") and finding["location"] == f"tenant:{tenant}"
    assert span["security_score"] is None  # an anomaly is not an attack
    metrics = proxy.api("/metrics").text
    assert 'llmtrace_anomalies_total{anomaly_type="latency_spike"}' in metrics
