"""Configured controls do what they say: TLS, rate limits (memory and Redis), cost and token caps, honest config."""

from __future__ import annotations

import ssl
import subprocess
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest
import redis
import yaml

from tests.conftest import BIN, READY_S, MockUpstream, free_port, start_proxy

pytestmark = pytest.mark.integration

CHAT = "/v1/chat/completions"


def chat(content: str = "hi", **extra: Any) -> dict[str, Any]:
    return {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": content}], **extra}


def tenant() -> dict[str, str]:
    return {"X-LLMTrace-Tenant-ID": str(uuid.uuid4())}


# --- TLS ------------------------------------------------------------------------------------------------------------


def make_certificate(directory: Path) -> tuple[Path, Path]:
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(cert),
         "-days", "1", "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"],
        check=True, capture_output=True,
    )  # fmt: skip
    return cert, key


def wait_https(url: str, cert: Path, timeout: float = 180.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, verify=ssl.create_default_context(cafile=str(cert)), timeout=1.0).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.05)
    raise TimeoutError(url)


def test_tls_serves_https_to_the_openai_sdk_over_http1_and_http2(tmp_path: Path, mock_upstream: MockUpstream) -> None:
    cert, key = make_certificate(tmp_path)
    proxy = start_proxy(
        tmp_path,
        mock_upstream.url,
        {"enable_tls": True, "tls_cert_file": str(cert), "tls_key_file": str(key)},
        wait=False,
    )
    try:
        https = f"https://127.0.0.1:{proxy.port}"
        wait_https(f"{https}/health", cert)
        with httpx.Client(verify=ssl.create_default_context(cafile=str(cert))) as http1:
            client = openai.OpenAI(base_url=f"{https}/v1", api_key="sk-test", http_client=http1, max_retries=0)
            reply = client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}])
            assert reply.choices[0].message.content
        with httpx.Client(verify=ssl.create_default_context(cafile=str(cert)), http2=True) as http2:
            response = http2.post(f"{https}{CHAT}", json=chat())
            assert response.status_code == 200 and response.http_version == "HTTP/2"
        # Plain HTTP on the TLS port is not served.
        with pytest.raises(httpx.HTTPError):
            httpx.get(f"http://127.0.0.1:{proxy.port}/health", timeout=5)
    finally:
        proxy.process.stop()


def test_a_bad_certificate_is_one_line_and_exit_1(tmp_path: Path) -> None:
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert.write_text("not a certificate")
    key.write_text("not a key")
    config = tmp_path / "config.yaml"
    config.write_text(
        yaml.safe_dump(
            {"listen_addr": f"127.0.0.1:{free_port()}", "enable_tls": True, "tls_cert_file": str(cert),
             "tls_key_file": str(key), "storage": {"database_path": str(tmp_path / "t.db")}}
        )
    )  # fmt: skip
    done = subprocess.run([str(BIN / "llmtrace-proxy"), "--config", str(config)], capture_output=True, timeout=120)
    assert done.returncode == 1
    lines = [line for line in done.stderr.decode().splitlines() if "TLS certificate" in line]
    assert len(lines) == 1 and str(cert) in lines[0]


# --- Rate limits ----------------------------------------------------------------------------------------------------


def test_token_bucket_refuses_past_the_burst_with_headers(tmp_path: Path, mock_upstream: MockUpstream) -> None:
    limits = {"rate_limiting": {"enabled": True, "requests_per_second": 0.5, "burst_size": 3}}
    proxy = start_proxy(tmp_path, mock_upstream.url, limits)
    try:
        headers = tenant()
        responses = [httpx.post(f"{proxy.url}{CHAT}", json=chat(), headers=headers) for _ in range(4)]
        assert [r.status_code for r in responses] == [200, 200, 200, 429]
        # Successful responses carry the remaining count too.
        assert [r.headers["x-ratelimit-remaining"] for r in responses[:3]] == ["2", "1", "0"]
        assert responses[0].headers["x-ratelimit-limit"] == "3"
        refused = responses[3]
        error = refused.json()["error"]
        assert error["type"] == "rate_limit_exceeded" and error["tenant_id"] == headers["X-LLMTrace-Tenant-ID"]
        assert 1 <= int(refused.headers["retry-after"]) <= 2  # one token at 0.5/s
        assert refused.headers["x-ratelimit-remaining"] == "0" and int(refused.headers["x-ratelimit-reset"]) >= 5
        # Another tenant has its own bucket.
        assert httpx.post(f"{proxy.url}{CHAT}", json=chat(), headers=tenant()).status_code == 200
    finally:
        proxy.process.stop()


def test_zero_rate_is_unlimited_and_tenant_overrides_apply(tmp_path: Path, mock_upstream: MockUpstream) -> None:
    strict = tenant()
    limits = {
        "rate_limiting": {
            "enabled": True,
            "requests_per_second": 0,
            "burst_size": 1,
            "tenant_overrides": {strict["X-LLMTrace-Tenant-ID"]: {"requests_per_second": 0.1, "burst_size": 1}},
        }
    }
    proxy = start_proxy(tmp_path, mock_upstream.url, limits)
    try:
        free = tenant()
        assert all(httpx.post(f"{proxy.url}{CHAT}", json=chat(), headers=free).status_code == 200 for _ in range(15))
        statuses = [httpx.post(f"{proxy.url}{CHAT}", json=chat(), headers=strict).status_code for _ in range(2)]
        assert statuses == [200, 429]
    finally:
        proxy.process.stop()


def test_replicas_share_one_bucket_through_redis(tmp_path: Path, mock_upstream: MockUpstream) -> None:
    limits = {"enabled": True, "requests_per_second": 0.2, "burst_size": 4}
    storage = {"redis_url": "redis://127.0.0.1:6379/0"}
    a = start_proxy(tmp_path, mock_upstream.url, {"rate_limiting": limits, "storage": storage})
    b = start_proxy(tmp_path, mock_upstream.url, {"rate_limiting": limits, "storage": storage})
    try:
        headers = tenant()
        statuses = [
            httpx.post(f"{proxy.url}{CHAT}", json=chat(), headers=headers).status_code for proxy in (a, b, a, b, a, b)
        ]
        assert statuses == [200, 200, 200, 200, 429, 429]  # one bucket of 4 in total, not 4 per replica
    finally:
        a.process.stop()
        b.process.stop()


# --- Cost and token caps --------------------------------------------------------------------------------------------

PRICED = {"cost_estimation": {"custom_models": {"gpt-4o-mini": {"input_per_million": 1000.0, "output_per_million": 0}}}}


def spans_of(proxy: Any, headers: dict[str, str], count: int) -> list[dict[str, Any]]:
    deadline = time.monotonic() + 30
    spans: list[dict[str, Any]] = []
    while time.monotonic() < deadline:
        spans = proxy.api("/api/v1/spans", headers=headers).json()["data"]
        if len(spans) >= count:
            return spans
        time.sleep(0.05)
    raise AssertionError(f"expected {count} spans, got {len(spans)}")


def wait_for_spend(proxy: Any, headers: dict[str, str], at_least: float, agent: str | None = None) -> dict:
    deadline = time.monotonic() + 30
    snapshot: dict = {}
    while time.monotonic() < deadline:
        params = {"agent_id": agent} if agent else {}
        snapshot = proxy.api("/api/v1/costs/current", headers=headers, params=params).json()
        if snapshot["windows"] and snapshot["windows"][0]["current_spend_usd"] >= at_least:
            return snapshot
        time.sleep(0.05)
    raise AssertionError(f"spend never reached {at_least}: {snapshot}")


def test_hard_budget_refuses_and_soft_budget_warns(tmp_path: Path, mock_upstream: MockUpstream) -> None:
    caps = {
        "enabled": True,
        "default_budget_caps": [{"window": "hourly", "hard_limit_usd": 0.05, "soft_limit_usd": 0.001}],
    }
    proxy = start_proxy(tmp_path, mock_upstream.url, {**PRICED, "cost_caps": caps})
    try:
        headers = tenant()
        assert httpx.post(f"{proxy.url}{CHAT}", json=chat(), headers=headers).status_code == 200
        # "hi" is ~1 prompt token at $1000/M = $0.001: the soft limit is reached, the hard one is not.
        snapshot = wait_for_spend(proxy, headers, 0.001)
        window = snapshot["windows"][0]
        assert snapshot["agent_id"] == "_default" and window["window"] == "hourly"
        assert window["hard_limit_usd"] == 0.05 and 0 < window["resets_in_secs"] <= 3600
        warned = httpx.post(f"{proxy.url}{CHAT}", json=chat(), headers=headers)
        assert warned.status_code == 200
        spans = spans_of(proxy, headers, 2)
        warnings = [f for s in spans for f in s["security_findings"] if f["finding_type"] == "cost_cap_warning"]
        assert len(warnings) == 1 and "soft limit" in warnings[0]["description"]
        # Spend past the hard limit: refused before forwarding, with the seconds until the hour ends.
        mock_upstream.clear()
        big = chat("word " * 400)  # ~500 tokens = $0.5
        assert httpx.post(f"{proxy.url}{CHAT}", json=big, headers=headers).status_code == 200
        wait_for_spend(proxy, headers, 0.05)
        refused = httpx.post(f"{proxy.url}{CHAT}", json=chat(), headers=headers)
        assert refused.status_code == 429
        error = refused.json()["error"]
        assert error["type"] == "cost_cap_exceeded" and error["window"] == "hourly"
        assert 0 < error["retry_after_secs"] <= 3600 and refused.headers["retry-after"] == str(
            error["retry_after_secs"]
        )
        assert len(mock_upstream.requests()) == 1  # the refused request never reached the provider
    finally:
        proxy.process.stop()


def test_token_caps_and_agent_entries_are_checked_before_forwarding(
    tmp_path: Path, mock_upstream: MockUpstream
) -> None:
    caps = {
        "enabled": True,
        "default_token_cap": {"max_prompt_tokens": 50, "max_completion_tokens": 100},
        "agents": [{"agent_id": "batch", "token_cap": {"max_completion_tokens": 1000}}],
    }
    proxy = start_proxy(tmp_path, mock_upstream.url, {"cost_caps": caps})
    try:
        mock_upstream.clear()
        headers = tenant()
        long_prompt = httpx.post(f"{proxy.url}{CHAT}", json=chat("word " * 400), headers=headers)
        assert long_prompt.status_code == 429 and long_prompt.json()["error"]["type"] == "cost_cap_exceeded"
        assert "prompt" in long_prompt.json()["error"]["message"]
        too_many = httpx.post(f"{proxy.url}{CHAT}", json=chat(max_tokens=500), headers=headers)
        assert too_many.status_code == 429 and "max_tokens 500" in too_many.json()["error"]["message"]
        assert mock_upstream.requests() == []
        # The agent's own entry replaces the default cap.
        batch = {**headers, "X-LLMTrace-Agent-ID": "batch"}
        assert httpx.post(f"{proxy.url}{CHAT}", json=chat(max_tokens=500), headers=batch).status_code == 200
        assert httpx.post(f"{proxy.url}{CHAT}", json=chat(max_tokens=50), headers=headers).status_code == 200
        assert proxy.api("/api/v1/costs/current", headers=headers).status_code == 200
    finally:
        proxy.process.stop()


def test_costs_current_is_404_when_caps_are_off(tmp_path: Path, mock_upstream: MockUpstream) -> None:
    proxy = start_proxy(tmp_path, mock_upstream.url)
    try:
        response = proxy.api("/api/v1/costs/current")
        assert response.status_code == 404 and response.json()["error"]["message"] == "Cost caps are not enabled"
    finally:
        proxy.process.stop()


def test_spend_is_recorded_atomically_in_redis(tmp_path: Path, mock_upstream: MockUpstream) -> None:
    caps = {"enabled": True, "default_budget_caps": [{"window": "daily", "hard_limit_usd": 1000}]}
    storage = {"redis_url": "redis://127.0.0.1:6379/0"}
    a = start_proxy(tmp_path, mock_upstream.url, {**PRICED, "cost_caps": caps, "storage": storage})
    b = start_proxy(tmp_path, mock_upstream.url, {**PRICED, "cost_caps": caps, "storage": storage})
    try:
        headers = tenant()
        for proxy in (a, b) * 5:
            assert httpx.post(f"{proxy.url}{CHAT}", json=chat(), headers=headers).status_code == 200
        costs = [s["estimated_cost_usd"] for proxy in (a, b) for s in spans_of(proxy, headers, 5)]
        expected = sum(costs)
        snapshot = wait_for_spend(a, headers, expected - 1e-9)
        assert snapshot["windows"][0]["current_spend_usd"] == pytest.approx(expected, rel=1e-9)
        keys = redis.Redis.from_url(storage["redis_url"]).keys(f"llmtrace:cost:{headers['X-LLMTrace-Tenant-ID']}:*")
        assert len(keys) == 4  # hourly, daily, weekly, monthly
    finally:
        a.process.stop()
        b.process.stop()


# --- Honest configuration -------------------------------------------------------------------------------------------


def validate(tmp_path: Path, data: Any) -> subprocess.CompletedProcess[str]:
    config = tmp_path / f"config-{uuid.uuid4().hex[:6]}.yaml"
    config.write_text(data if isinstance(data, str) else yaml.safe_dump(data))
    return subprocess.run(
        [str(BIN / "llmtrace-proxy"), "--config", str(config), "validate"], capture_output=True, text=True, timeout=60
    )


def test_config_says_what_does_nothing_and_what_was_meant(tmp_path: Path) -> None:
    # The reference's example: a section whose children are all commented out is null, and loads as empty.
    done = validate(tmp_path, "rate_limiting:\n  enabled: true\n  tenant_overrides:\n    # uuid: {}\n")
    assert done.returncode == 0, done.stderr
    done = validate(tmp_path, {"enable_streaming": False, "rate_limting": {}, "health_check": {"path": "/hc"}})
    assert done.returncode == 0
    output = done.stdout + done.stderr
    assert "enable_streaming is accepted for compatibility and has no effect" in output
    assert "health_check.path is accepted for compatibility and has no effect" in output
    assert "did you mean rate_limiting?" in output
    bad = validate(tmp_path, {"listen_addr": "0.0.0.0:70000", "cost_caps": {"default_budget_caps": [{"window": "x"}]}})
    assert bad.returncode != 0
    assert "port in 1-65535" in bad.stderr + bad.stdout and "window must be one of" in bad.stderr + bad.stdout


# --- Startup a user can read ----------------------------------------------------------------------------------------


def test_a_port_in_use_is_one_line_and_exit_1_even_with_models_to_load(tmp_path: Path) -> None:
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        config = tmp_path / "config.yaml"
        config.write_text(
            yaml.safe_dump(
                {"listen_addr": f"127.0.0.1:{port}", "storage": {"database_path": str(tmp_path / "t.db")},
                 "security_analysis": {"ml_enabled": True, "ml_preload": True}}
            )
        )  # fmt: skip
        done = subprocess.run([str(BIN / "llmtrace-proxy"), "--config", str(config)], capture_output=True, timeout=120)
    assert done.returncode == 1
    lines = [line for line in done.stderr.decode().splitlines() if f"cannot listen on 127.0.0.1:{port}" in line]
    assert len(lines) == 1, done.stderr.decode()[-2000:]
    assert "Traceback" not in done.stderr.decode()


def test_the_listener_is_up_while_models_load_and_ready_only_after(tmp_path: Path, mock_upstream: MockUpstream) -> None:
    proxy = start_proxy(
        tmp_path, mock_upstream.url, {"security_analysis": {"ml_enabled": True, "ml_preload": True}}, wait=False
    )
    try:
        deadline = time.monotonic() + 180
        seen: list[tuple[int, str]] = []
        while time.monotonic() < deadline:
            try:
                response = proxy.api("/health")
            except httpx.HTTPError:
                time.sleep(0.05)
                continue
            body = response.json()
            seen.append((response.status_code, body["ml"]["status"]))
            if response.status_code == 200:
                break
            assert response.status_code == 503 and body["status"] == "starting"
            time.sleep(0.05)
        # Never ready before the models are in; the first exchange is then analysed by the ensemble.
        assert seen and seen[-1] == (200, "loaded"), seen[-5:]
        assert all(status == 503 for status, ml in seen if ml != "loaded")
    finally:
        proxy.process.stop()


def test_a_reached_soft_limit_alerts_the_webhook(tmp_path: Path, mock_upstream: MockUpstream) -> None:
    from tests.receivers import HttpReceiver

    receiver = HttpReceiver()
    caps = {
        "enabled": True,
        "default_budget_caps": [{"window": "daily", "hard_limit_usd": 10, "soft_limit_usd": 0.001}],
    }
    alerts = {"enabled": True, "channels": [{"type": "webhook", "url": receiver.url + "/hook", "min_severity": "High"}]}
    proxy = start_proxy(tmp_path, mock_upstream.url, {**PRICED, "cost_caps": caps, "alerts": alerts})
    try:
        headers = tenant()
        assert httpx.post(f"{proxy.url}{CHAT}", json=chat(), headers=headers).status_code == 200
        wait_for_spend(proxy, headers, 0.001)
        assert httpx.post(f"{proxy.url}{CHAT}", json=chat(), headers=headers).status_code == 200
        alert = receiver.wait(1, timeout=READY_S)[0]["body"]
        assert alert["tenant_id"] == headers["X-LLMTrace-Tenant-ID"]
        assert [f["finding_type"] for f in alert["findings"]] == ["cost_cap_warning"]
        assert alert["severity"] == "High"
    finally:
        proxy.process.stop()
        receiver.close()
