"""Who spends what: end users and keys captured from the request, usage and totals served by the REST API."""

from __future__ import annotations

import httpx

from tests.unit.in_process import in_process_proxy

TENANT = {"x-llmtrace-tenant-id": "5d0f7e8a-0c1b-4d2e-9f3a-1b2c3d4e5f60"}


def completion(request: httpx.Request) -> httpx.Response:
    model = "gpt-4o" if b'gpt-4o"' in request.content else "gpt-4o-mini"
    return httpx.Response(
        200,
        json={
            "object": "chat.completion",
            "model": model,
            "choices": [{"index": 0, "message": {"role": "assistant", "content": "ok"}, "finish_reason": "stop"}],
            "usage": {
                "prompt_tokens": 100,
                "completion_tokens": 20,
                "total_tokens": 120,
                "prompt_tokens_details": {"cached_tokens": 40},
            },
        },
    )


async def test_usage_by_user_and_model_with_key_and_metadata_captured() -> None:
    async with in_process_proxy(completion) as proxy:
        calls = [
            ({"user": "alice", "metadata": {"feature": "search"}}, "gpt-4o", {}),
            ({"user": "alice"}, "gpt-4o-mini", {}),
            ({}, "gpt-4o", {"x-llmtrace-user-id": "bob"}),  # the header names the user
            ({"metadata": {"user_id": "carol"}}, "gpt-4o", {}),  # Anthropic's way
        ]
        for extra, model, headers in calls:
            body = {"model": model, "messages": [{"role": "user", "content": "hi"}], **extra}
            headers = {**TENANT, **headers, "authorization": "Bearer sk-proj-0123456789abcdefghijWXYZ"}
            assert (await proxy.client.post("/v1/chat/completions", json=body, headers=headers)).status_code == 200
        spans = {s.end_user_id: s for s in await proxy.stored_spans(4)}
        assert set(spans) == {"alice", "bob", "carol"}
        assert spans["carol"].request_metadata == {"user_id": "carol"}
        assert spans["bob"].credential == "sk-proj-…WXYZ"  # recognisable, never the key
        assert spans["bob"].cached_prompt_tokens == 40

        response = await proxy.client.get("/api/v1/usage", params={"group_by": "user,model"}, headers=TENANT)
        assert response.status_code == 200
        rows = {(r["user"], r["model"]): r for r in response.json()["data"]}
        assert set(rows) == {("alice", "gpt-4o"), ("alice", "gpt-4o-mini"), ("bob", "gpt-4o"), ("carol", "gpt-4o")}
        alice = rows[("alice", "gpt-4o")]
        assert (alice["requests"], alice["prompt_tokens"], alice["cached_prompt_tokens"]) == (1, 100, 40)
        assert alice["cost_usd"] > 0 and alice["latency_ms"]["p50"] is not None
        assert alice["findings"] == {"info": 0, "low": 0, "medium": 0, "high": 0, "critical": 0}

        by_key = (await proxy.client.get("/api/v1/usage?group_by=api_key&bucket=hour", headers=TENANT)).json()
        assert [r["api_key"] for r in by_key["data"]] == ["sk-proj-…WXYZ"] and by_key["data"][0]["requests"] == 4
        assert by_key["data"][0]["bucket_start"].endswith(":00:00Z")

        stats = (await proxy.client.get("/api/v1/stats", headers=TENANT)).json()
        assert stats["total_requests"] == 4 and stats["total_prompt_tokens"] == 400
        assert stats["total_cost_usd"] > 0 and stats["findings_by_severity"]["high"] == 0


async def test_usage_parameters_are_checked() -> None:
    async with in_process_proxy(completion) as proxy:
        bad = await proxy.client.get("/api/v1/usage?group_by=colour", headers=TENANT)
        assert bad.status_code == 400 and "colour" in bad.json()["error"]["message"]
        assert (await proxy.client.get("/api/v1/usage?bucket=week", headers=TENANT)).status_code == 400
        backwards = "/api/v1/usage?start_time=2026-01-02T00:00:00Z&end_time=2026-01-01T00:00:00Z"
        assert (await proxy.client.get(backwards, headers=TENANT)).status_code == 400
