"""Every proxied exchange becomes a trace that the REST API lists (issue: trace capture)."""

from __future__ import annotations

import time
import uuid
from typing import Any

import anthropic
import httpx
import openai
import pytest

from tests.conftest import MockUpstream, Proxy

pytestmark = pytest.mark.integration

TOOLS: list[Any] = [
    {
        "type": "function",
        "function": {
            "name": "get_weather",
            "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
        },
    }
]


def only_span(body: dict) -> dict:
    assert body["total"] == 1, body
    spans = body["data"][0]["spans"]
    assert len(spans) == 1
    return dict(spans[0])


def test_openai_chat_is_listed_within_a_second(proxy: Proxy, tenant_headers: dict) -> None:
    headers = {**tenant_headers, "X-LLMTrace-Agent-ID": "billing-agent"}
    client = openai.OpenAI(base_url=f"{proxy.url}/v1", api_key="sk-test", default_headers=headers, max_retries=0)
    client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "What is 2+2?"}])
    span = only_span(proxy.wait_for_traces(1, tenant_headers))
    assert span["provider"] == "openai"
    assert span["model_name"] == "gpt-4o-mini"
    assert span["operation_name"] == "chat_completion"
    assert span["prompt"] == "user: What is 2+2?"
    assert span["response"].startswith("mock")
    assert span["prompt_tokens"] == 3 and span["completion_tokens"] == 12 and span["total_tokens"] == 15
    assert span["tokens_estimated"] is False
    assert span["agent_id"] == "billing-agent"
    assert span["status_code"] == 200
    assert span["tenant_id"] == tenant_headers["X-LLMTrace-Tenant-ID"]
    # gpt-4o-mini: 0.15 $/M in, 0.60 $/M out
    assert span["estimated_cost_usd"] == pytest.approx((3 * 0.15 + 12 * 0.60) / 1e6)
    assert span["time_to_first_token_ms"] is None
    assert span["duration_ms"] is not None and span["duration_ms"] >= 0


def test_openai_stream_records_ttft_and_reassembled_text(proxy: Proxy, tenant_headers: dict) -> None:
    client = openai.OpenAI(base_url=f"{proxy.url}/v1", api_key="sk-test", default_headers=tenant_headers, max_retries=0)
    chunks = list(
        client.chat.completions.create(
            model="gpt-4o",
            messages=[{"role": "user", "content": "stream"}],
            stream=True,
            extra_headers={"x-mock-ttft-ms": "150", "x-mock-inter-token-ms": "5"},
        )
    )
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    span = only_span(proxy.wait_for_traces(1, tenant_headers))
    assert span["operation_name"] == "chat_completion_stream"
    assert span["response"] == text
    assert 150 <= span["time_to_first_token_ms"] < 1000
    assert span["duration_ms"] >= span["time_to_first_token_ms"]
    # No usage chunk was asked for: tokens are estimated and marked so.
    assert span["tokens_estimated"] is True
    assert span["completion_tokens"] == 12


@pytest.mark.parametrize("stream", [False, True])
def test_openai_tool_calls_become_agent_actions(proxy: Proxy, tenant_headers: dict, stream: bool) -> None:
    client = openai.OpenAI(base_url=f"{proxy.url}/v1", api_key="sk-test", default_headers=tenant_headers, max_retries=0)
    result = client.chat.completions.create(
        model="gpt-4o", messages=[{"role": "user", "content": "weather?"}], tools=TOOLS, stream=stream
    )
    if stream:
        list(result)  # type: ignore[arg-type]
    span = only_span(proxy.wait_for_traces(1, tenant_headers))
    actions = span["agent_actions"]
    assert len(actions) == 1
    assert actions[0]["action_type"] == "tool_call"
    assert actions[0]["name"] == "get_weather"
    assert actions[0]["arguments"] == '{"city": "mock"}'
    assert actions[0]["metadata"]["tool_call_id"].startswith("call_")


@pytest.mark.parametrize("stream", [False, True])
def test_anthropic_messages_captured(proxy: Proxy, tenant_headers: dict, stream: bool) -> None:
    client = anthropic.Anthropic(base_url=proxy.url, api_key="sk-ant", default_headers=tenant_headers, max_retries=0)
    kwargs: dict[str, Any] = {
        "model": "claude-3-5-sonnet-latest",
        "max_tokens": 100,
        "system": "Be brief.",
        "messages": [
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "Hello"},
                    {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "iVBORw0KGgo="}},
                ],
            }
        ],
    }
    if stream:
        with client.messages.stream(**kwargs, extra_headers={"x-mock-ttft-ms": "100"}) as s:
            final = s.get_final_message()
    else:
        final = client.messages.create(**kwargs)
    span = only_span(proxy.wait_for_traces(1, tenant_headers))
    assert span["provider"] == "anthropic"
    assert span["operation_name"] == ("messages_stream" if stream else "messages")
    assert span["prompt"] == "system: Be brief.\nuser: Hello\n[image]"
    assert span["response"] == final.content[0].text  # type: ignore[union-attr]
    assert span["prompt_tokens"] == final.usage.input_tokens
    assert span["completion_tokens"] == final.usage.output_tokens
    assert span["tokens_estimated"] is False
    # claude-3-5-sonnet: 3 $/M in, 15 $/M out
    expected = (final.usage.input_tokens * 3 + final.usage.output_tokens * 15) / 1e6
    assert span["estimated_cost_usd"] == pytest.approx(expected)
    if stream:
        assert span["time_to_first_token_ms"] >= 100


def test_anthropic_streamed_tool_use_captured(proxy: Proxy, tenant_headers: dict) -> None:
    client = anthropic.Anthropic(base_url=proxy.url, api_key="sk-ant", default_headers=tenant_headers, max_retries=0)
    tools: list[Any] = [
        {
            "name": "run_query",
            "input_schema": {"type": "object", "properties": {"sql": {"type": "string"}}, "required": ["sql"]},
        }
    ]
    with client.messages.stream(
        model="claude-sonnet-4", max_tokens=50, tools=tools, messages=[{"role": "user", "content": "count users"}]
    ) as s:
        s.get_final_message()
    span = only_span(proxy.wait_for_traces(1, tenant_headers))
    assert [(a["name"], a["arguments"]) for a in span["agent_actions"]] == [("run_query", '{"sql": "mock"}')]
    assert span["agent_actions"][0]["metadata"]["tool_call_id"].startswith("toolu_")


def test_embeddings_and_errors_are_captured(proxy: Proxy, tenant_headers: dict) -> None:
    client = openai.OpenAI(base_url=f"{proxy.url}/v1", api_key="sk-test", default_headers=tenant_headers, max_retries=0)
    client.embeddings.create(model="text-embedding-3-small", input="embed me")
    with pytest.raises(openai.InternalServerError):
        client.chat.completions.create(
            model="gpt-4o", messages=[{"role": "user", "content": "x"}], extra_headers={"x-mock-error-status": "500"}
        )
    body = proxy.wait_for_traces(2, tenant_headers)
    spans = {s["operation_name"]: s for t in body["data"] for s in t["spans"]}
    assert spans["embedding"]["prompt"] == "embed me"
    assert spans["embedding"]["prompt_tokens"] == 2
    assert spans["chat_completion"]["status_code"] == 500
    assert spans["chat_completion"]["error_message"] == "mock upstream error 500"


def test_tenant_from_bearer_token_and_default(proxy: Proxy) -> None:
    token = f"sk-{uuid.uuid4().hex}"
    client = openai.OpenAI(base_url=f"{proxy.url}/v1", api_key=token, max_retries=0)
    client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}])
    expected = str(uuid.uuid5(uuid.NAMESPACE_URL, token))
    body = proxy.wait_for_traces(1, {"Authorization": f"Bearer {token}"})
    assert body["data"][0]["tenant_id"] == expected
    # The same tenant seen through the explicit header; another tenant sees nothing.
    assert proxy.api("/api/v1/traces", headers={"X-LLMTrace-Tenant-ID": expected}).json()["total"] == 1
    assert proxy.api("/api/v1/traces", headers={"X-LLMTrace-Tenant-ID": str(uuid.uuid4())}).json()["total"] == 0


def test_query_api_filters_pages_and_errors(proxy: Proxy, tenant_headers: dict) -> None:
    client = openai.OpenAI(base_url=f"{proxy.url}/v1", api_key="sk-test", default_headers=tenant_headers, max_retries=0)
    for model in ("gpt-4o", "gpt-4o-mini", "gpt-4o-mini"):
        client.chat.completions.create(model=model, messages=[{"role": "user", "content": "hi"}])
    proxy.wait_for_traces(3, tenant_headers)
    h = tenant_headers
    assert proxy.api("/api/v1/traces", headers=h, params={"model": "gpt-4o-mini"}).json()["total"] == 2
    page = proxy.api("/api/v1/traces", headers=h, params={"limit": 2, "offset": 2}).json()
    assert (page["total"], page["limit"], page["offset"], len(page["data"])) == (3, 2, 2, 1)
    first = proxy.api("/api/v1/traces", headers=h, params={"limit": 1}).json()["data"][0]
    newest = proxy.api("/api/v1/spans", headers=h, params={"limit": 1}).json()["data"][0]
    assert first["trace_id"] == newest["trace_id"]
    assert proxy.api(f"/api/v1/traces/{first['trace_id']}", headers=h).json()["trace_id"] == first["trace_id"]
    span_id = newest["span_id"]
    assert proxy.api(f"/api/v1/spans/{span_id}", headers=h).json()["span_id"] == span_id
    assert proxy.api(f"/api/v1/spans/{span_id}", headers={"X-LLMTrace-Tenant-ID": str(uuid.uuid4())}).status_code == 404
    assert proxy.api("/api/v1/traces", headers=h, params={"provider": "anthropic"}).json()["total"] == 0
    future = "2999-01-01T00:00:00Z"
    assert proxy.api("/api/v1/traces", headers=h, params={"start_time": future}).json()["total"] == 0
    assert proxy.api("/api/v1/spans", headers=h, params={"operation_name": "chat_completion"}).json()["total"] == 3
    stats = proxy.api("/api/v1/stats", headers=h).json()
    assert stats["total_traces"] == 3 and stats["total_spans"] == 3 and stats["storage_size_bytes"] > 0
    for params in (
        {"limit": "abc"},
        {"limit": 0},
        {"limit": 1001},
        {"offset": -1},
        {"start_time": "yesterday"},
        {"security_score_min": 200},
    ):
        bad = proxy.api("/api/v1/spans", headers=h, params=params)
        assert bad.status_code == 400, params
        assert bad.json()["error"]["type"] == "api_error"
    missing = proxy.api(f"/api/v1/traces/{uuid.uuid4()}", headers=h)
    assert missing.status_code == 404 and missing.json()["error"]["type"] == "api_error"


def test_health_and_metrics(proxy: Proxy, tenant_headers: dict) -> None:
    httpx.post(
        f"{proxy.url}/v1/chat/completions",
        headers=tenant_headers,
        json={"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "count me"}]},
    )
    proxy.wait_for_traces(1, tenant_headers)
    health = proxy.api("/health").json()
    assert health["status"] == "healthy"
    assert health["storage"]["traces"]["healthy"] is True
    assert health["storage"]["circuit_breaker"] == "Closed"
    assert health["pipeline"]["storage_buffer"]["dropped"] == 0
    assert health["pipeline"]["capture_queue"]["capacity"] > 0
    metrics = proxy.api("/metrics")
    assert metrics.headers["content-type"].startswith("text/plain; version=0.0.4")
    text = metrics.text
    assert 'llmtrace_requests_total{model="gpt-4o-mini",provider="openai",status_code="200"}' in text
    assert "llmtrace_pipeline_dropped_total" in text or "llmtrace_capture_queue_depth" in text
    assert 'llmtrace_circuit_breaker_state{state="closed",subsystem="storage"} 1.0' in text
    assert "llmtrace_storage_buffer_depth" in text


def test_traces_survive_restart(proxy_factory: Any, mock_upstream: MockUpstream, tmp_path: Any) -> None:
    db = str(tmp_path / "persist.db")
    tenant = {"X-LLMTrace-Tenant-ID": str(uuid.uuid4())}
    first = proxy_factory(mock_upstream.url, {"storage": {"profile": "lite", "database_path": db}})
    for _ in range(3):
        httpx.post(
            f"{first.url}/v1/chat/completions",
            headers=tenant,
            json={"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "remember me"}]},
        )
    first.wait_for_traces(3, tenant)
    assert first.process.stop() == 0
    second = proxy_factory(mock_upstream.url, {"storage": {"profile": "lite", "database_path": db}})
    body = second.api("/api/v1/traces", headers=tenant).json()
    assert body["total"] == 3
    assert {s["prompt"] for t in body["data"] for s in t["spans"]} == {"user: remember me"}


def test_exchanges_in_flight_at_shutdown_are_stored(
    proxy_factory: Any, mock_upstream: MockUpstream, tmp_path: Any
) -> None:
    """SIGTERM: in-flight streams finish, then the actors drain, so the stream's trace is stored."""
    import threading

    db = str(tmp_path / "drain.db")
    tenant = {"X-LLMTrace-Tenant-ID": str(uuid.uuid4())}
    proxy = proxy_factory(
        mock_upstream.url, {"storage": {"profile": "lite", "database_path": db}, "shutdown": {"timeout_seconds": 10}}
    )
    received: list[str] = []

    def stream() -> None:
        with httpx.stream(
            "POST",
            f"{proxy.url}/v1/chat/completions",
            timeout=20,
            headers={**tenant, "x-mock-tokens": "30", "x-mock-inter-token-ms": "50"},
            json={"model": "gpt-4o-mini", "stream": True, "messages": [{"role": "user", "content": "drain"}]},
        ) as response:
            received.extend(response.iter_lines())

    worker = threading.Thread(target=stream)
    worker.start()
    time.sleep(0.4)  # the stream is under way
    proxy.process.popen.terminate()
    time.sleep(0.2)
    with pytest.raises(httpx.ConnectError):  # no longer accepting new connections
        httpx.get(f"{proxy.url}/health", timeout=1)
    worker.join(15)
    assert proxy.process.popen.wait(15) == 0
    assert any("[DONE]" in line for line in received)  # the in-flight stream finished
    restarted = proxy_factory(mock_upstream.url, {"storage": {"profile": "lite", "database_path": db}})
    span = only_span(restarted.api("/api/v1/traces", headers=tenant).json())
    assert span["operation_name"] == "chat_completion_stream"
    assert span["response"].endswith("token29")
    assert span["error_message"] is None
