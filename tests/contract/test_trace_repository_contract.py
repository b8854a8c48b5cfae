"""The contract every trace store passes: the in-memory fake and each real adapter, the same assertions."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import attrs
import pytest

from adapters.storage.memory import InMemoryTraceRepository
from adapters.storage.sqlite import SqliteTraceRepository
from domain.findings import SecurityFinding, Severity
from domain.providers import Provider
from domain.queries import TraceQuery
from domain.traces import ActionType, AgentAction, AnalysisStatus, TraceSpan
from domain.usage import TimeBucket, UsageDimension, UsageQuery, sort_rows, usage_rows
from ports.repositories import TraceRepository

T0 = dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.UTC)


def make_span(tenant: str, trace: str | None = None, minute: int = 0, **fields: object) -> TraceSpan:
    defaults: dict[str, object] = {
        "span_id": str(uuid.uuid4()),
        "trace_id": trace or str(uuid.uuid4()),
        "tenant_id": tenant,
        "operation_name": "chat_completion",
        "start_time": T0 + dt.timedelta(minutes=minute),
        "provider": Provider.OPENAI,
        "model_name": "gpt-4o-mini",
        "prompt": "user: hi",
        "response": "hello",
    }
    defaults.update(fields)
    return TraceSpan(**defaults)  # type: ignore[arg-type]


def clickhouse(tmp: Path) -> TraceRepository:
    """The production adapter on the embedded ClickHouse engine (chDB): the same SQL a server runs."""
    from adapters.storage.clickhouse import ClickHouseTraceRepository

    return ClickHouseTraceRepository(f"chdb://{tmp / 'clickhouse'}", "llmtrace_contract")


REPOSITORIES: dict[str, Callable[[Path], TraceRepository]] = {
    "memory": lambda tmp: InMemoryTraceRepository(),
    "sqlite": lambda tmp: SqliteTraceRepository.open(str(tmp / "contract.db")),
    "clickhouse": clickhouse,
}


@pytest.fixture(params=[*sorted(REPOSITORIES), pytest.param("clickhouse-http", marks=pytest.mark.services)])
async def repo(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[TraceRepository]:
    if request.param == "clickhouse-http":
        # The same adapter over ClickHouse's HTTP interface (the path a ClickHouse server uses).
        from adapters.storage.clickhouse import ClickHouseTraceRepository

        front = request.getfixturevalue("clickhouse_front")
        repository: TraceRepository = ClickHouseTraceRepository(front.url, f"contract_{uuid.uuid4().hex[:8]}")
    else:
        repository = REPOSITORIES[request.param](tmp_path)
    yield repository
    await repository.close()


async def test_round_trip_keeps_every_field(repo: TraceRepository) -> None:
    tenant = str(uuid.uuid4())
    finding = SecurityFinding(
        id="f1",
        severity=Severity.HIGH,
        finding_type="prompt_injection",
        description="d",
        confidence=0.9,
        location="request.prompt",
        metadata={"pattern_name": "ignore_previous"},
        requires_alert=True,
    )
    action = AgentAction(
        id="a1",
        action_type=ActionType.TOOL_CALL,
        name="get_weather",
        timestamp=T0,
        arguments='{"city":"Paris"}',
        metadata={"tool_call_id": "call_1"},
    )
    span = make_span(
        tenant,
        end_time=T0 + dt.timedelta(milliseconds=1500),
        prompt_tokens=10,
        completion_tokens=5,
        total_tokens=15,
        tokens_estimated=True,
        time_to_first_token_ms=120,
        duration_ms=1500,
        status_code=200,
        estimated_cost_usd=0.000123,
        security_score=80,
        security_findings=(finding,),
        analysis_status=AnalysisStatus.COMPLETED,
        tags={"env": "prod"},
        agent_actions=(action,),
        agent_id="bot",
        parent_span_id="p1",
        error_message=None,
        end_user_id="user-42",
        request_metadata={"feature": "search", "session": "s-1"},
        credential="llmt_0123456…",
        cached_prompt_tokens=4,
    )
    await repo.store_spans([span])
    assert await repo.get_span(tenant, span.span_id) == span
    trace = await repo.get_trace(tenant, span.trace_id)
    assert trace is not None and trace.spans == (span,) and trace.created_at == span.start_time


async def test_storing_twice_keeps_one(repo: TraceRepository) -> None:
    tenant = str(uuid.uuid4())
    span = make_span(tenant)
    await repo.store_spans([span])
    await repo.store_spans([span, span])
    page = await repo.query_spans(TraceQuery(tenant_id=tenant))
    assert page.total == 1
    assert (await repo.stats(tenant)).total_traces == 1


async def test_tenants_are_isolated(repo: TraceRepository) -> None:
    a, b = str(uuid.uuid4()), str(uuid.uuid4())
    span_a = make_span(a)
    await repo.store_spans([span_a, make_span(b)])
    assert (await repo.query_traces(TraceQuery(tenant_id=a))).total == 1
    assert await repo.get_span(b, span_a.span_id) is None
    assert await repo.get_trace(b, span_a.trace_id) is None
    assert (await repo.stats(b)).total_spans == 1
    assert (await repo.stats(None)).total_spans >= 2


async def test_filters_order_and_pages(repo: TraceRepository) -> None:
    tenant = str(uuid.uuid4())
    trace = str(uuid.uuid4())
    spans = [
        make_span(tenant, trace, 0, model_name="gpt-4o"),
        make_span(tenant, trace, 1, model_name="gpt-4o-mini", security_score=90),
        make_span(tenant, None, 2, provider=Provider.ANTHROPIC, model_name="claude", operation_name="messages"),
        make_span(tenant, None, 3, security_score=40),
        make_span(tenant, None, 4),
    ]
    await repo.store_spans(spans)
    traces = await repo.query_traces(TraceQuery(tenant_id=tenant))
    assert traces.total == 4
    assert [t.trace_id for t in traces.items] == [spans[4].trace_id, spans[3].trace_id, spans[2].trace_id, trace]
    assert [s.span_id for s in traces.items[-1].spans] == [spans[0].span_id, spans[1].span_id]
    page = await repo.query_traces(TraceQuery(tenant_id=tenant, limit=2, offset=1))
    assert (page.total, [t.trace_id for t in page.items]) == (4, [spans[3].trace_id, spans[2].trace_id])
    by_model = await repo.query_traces(TraceQuery(tenant_id=tenant, model_name="gpt-4o"))
    assert [t.trace_id for t in by_model.items] == [trace]
    assert len(by_model.items[0].spans) == 2  # a matching trace comes back whole
    anthropic = await repo.query_spans(TraceQuery(tenant_id=tenant, provider=Provider.ANTHROPIC))
    assert [s.span_id for s in anthropic.items] == [spans[2].span_id]
    window = await repo.query_spans(
        TraceQuery(tenant_id=tenant, start_time=T0 + dt.timedelta(minutes=1), end_time=T0 + dt.timedelta(minutes=3))
    )
    assert [s.span_id for s in window.items] == [spans[3].span_id, spans[2].span_id, spans[1].span_id]
    risky = await repo.query_spans(TraceQuery(tenant_id=tenant, min_security_score=50))
    assert [s.span_id for s in risky.items] == [spans[1].span_id]
    low = await repo.query_spans(TraceQuery(tenant_id=tenant, min_security_score=1, max_security_score=50))
    assert [s.span_id for s in low.items] == [spans[3].span_id]
    ops = await repo.query_spans(TraceQuery(tenant_id=tenant, operation_name="messages"))
    assert ops.total == 1
    spans_page = await repo.query_spans(TraceQuery(tenant_id=tenant, limit=2, offset=0))
    assert [s.span_id for s in spans_page.items] == [spans[4].span_id, spans[3].span_id]
    assert spans_page.total == 5


async def test_stats(repo: TraceRepository) -> None:
    tenant = str(uuid.uuid4())
    empty = await repo.stats(tenant)
    assert (empty.total_traces, empty.total_spans, empty.oldest_trace) == (0, 0, None)
    await repo.store_spans([make_span(tenant, minute=0, prompt="abc", response="de"), make_span(tenant, minute=5)])
    stats = await repo.stats(tenant)
    assert (stats.total_traces, stats.total_spans) == (2, 2)
    assert stats.storage_size_bytes == len("abc") + len("de") + len("user: hi") + len("hello")
    assert stats.oldest_trace == T0 and stats.newest_trace == T0 + dt.timedelta(minutes=5)


async def test_health_check_passes(repo: TraceRepository) -> None:
    await repo.health_check()


def usage_traffic(tenant: str) -> list[TraceSpan]:
    """Scripted traffic over two hours: two models, two agents, users and keys, errors, findings, latencies."""
    high = SecurityFinding(
        id="h", severity=Severity.HIGH, finding_type="prompt_injection", description="d", confidence=0.9
    )
    note = SecurityFinding(
        id="n", severity=Severity.INFO, finding_type="analysis_skipped", description="d", confidence=1.0
    )
    spans = []
    for i in range(40):
        model = "gpt-4o" if i % 3 else "claude-3-5-haiku"
        spans.append(
            make_span(
                tenant,
                start_time=T0 + dt.timedelta(minutes=3 * i),
                model_name=model,
                provider=Provider.OPENAI if model == "gpt-4o" else Provider.ANTHROPIC,
                agent_id=None if i % 4 == 0 else f"agent-{i % 2}",
                end_user_id=f"user-{i % 5}",
                credential="sk-proj-…abcd" if i % 2 else "llmt_0123456…",
                operation_name="chat_completion_stream" if i % 2 else "chat_completion",
                prompt_tokens=10 + i,
                completion_tokens=5,
                total_tokens=15 + i,
                cached_prompt_tokens=i % 3 or None,
                estimated_cost_usd=0.001 * (i + 1) if model == "gpt-4o" else None,
                duration_ms=100 + (i * 37) % 250,
                time_to_first_token_ms=(20 + i) if i % 2 else None,
                status_code=500 if i % 7 == 0 else 200,
                error_message="upstream returned HTTP 500" if i % 7 == 0 else None,
                security_findings=(high, note) if i % 5 == 0 else (),
            )
        )
    return spans


USAGE_QUERIES = [
    {},
    {"group_by": (UsageDimension.MODEL,)},
    {"group_by": (UsageDimension.AGENT, UsageDimension.USER)},
    {
        "group_by": (UsageDimension.API_KEY, UsageDimension.PROVIDER, UsageDimension.OPERATION),
        "bucket": TimeBucket.HOUR,
    },
    {"bucket": TimeBucket.MINUTE},
    {"bucket": TimeBucket.DAY, "group_by": (UsageDimension.MODEL,)},
    {"start_time": T0 + dt.timedelta(minutes=30), "end_time": T0 + dt.timedelta(minutes=90)},
    {"group_by": (UsageDimension.MODEL,), "bucket": TimeBucket.HOUR, "percentiles": False},
]


async def test_usage_is_computed_by_the_store_as_domain_usage_defines_it(repo: TraceRepository) -> None:
    tenant, other = str(uuid.uuid4()), str(uuid.uuid4())
    spans = usage_traffic(tenant)
    await repo.store_spans([*spans, make_span(other, span_id="elsewhere")])
    for params in USAGE_QUERIES:
        query = UsageQuery(tenant_id=tenant, **params)  # type: ignore[arg-type]
        got = sort_rows(await repo.usage(query), query)
        expected = usage_rows(spans, query)
        assert [attrs.evolve(r, cost_usd=round(r.cost_usd, 9)) for r in got] == [
            attrs.evolve(r, cost_usd=round(r.cost_usd, 9)) for r in expected
        ], params


async def test_usage_figures_a_user_would_check_by_hand(repo: TraceRepository) -> None:
    tenant = str(uuid.uuid4())
    spans = usage_traffic(tenant)
    await repo.store_spans(spans)
    (total,) = await repo.usage(UsageQuery(tenant_id=tenant))
    assert total.requests == 40
    assert total.errors == 6  # i = 0, 7, 14, 21, 28, 35
    assert total.prompt_tokens == sum(10 + i for i in range(40))
    assert total.findings == {"info": 0, "low": 0, "medium": 0, "high": 8, "critical": 0}  # notes not counted
    durations = sorted(100 + (i * 37) % 250 for i in range(40))
    assert total.latency_ms.p50 == durations[19] and total.latency_ms.p99 == durations[39]
    assert total.ttft_ms.p50 == sorted(20 + i for i in range(1, 40, 2))[9]
    by_model = {
        r.group["model"]: r for r in await repo.usage(UsageQuery(tenant_id=tenant, group_by=(UsageDimension.MODEL,)))
    }
    assert by_model["claude-3-5-haiku"].requests == 14 and by_model["claude-3-5-haiku"].cost_usd == 0
    assert abs(by_model["gpt-4o"].cost_usd - sum(0.001 * (i + 1) for i in range(40) if i % 3)) < 1e-9
    assert await repo.usage(UsageQuery(tenant_id=str(uuid.uuid4()))) == []  # another tenant sees nothing


async def test_finding_counts_per_type_and_severity_in_a_period(repo: TraceRepository) -> None:
    tenant = str(uuid.uuid4())
    await repo.store_spans(usage_traffic(tenant))
    counts = await repo.finding_counts(tenant, None, None)
    assert [(c.finding_type, c.severity, c.count) for c in counts] == [
        ("analysis_skipped", "Info", 8),
        ("prompt_injection", "High", 8),
    ]
    # spans i = 0, 5, 10 start in the first 30 minutes (every 3 minutes)
    early = await repo.finding_counts(tenant, T0, T0 + dt.timedelta(minutes=30))
    assert [(c.finding_type, c.count) for c in early] == [("analysis_skipped", 2), ("prompt_injection", 2)]
    assert await repo.finding_counts(str(uuid.uuid4()), None, None) == []


async def test_spans_filter_by_agent_end_user_and_finding_type(repo: TraceRepository) -> None:
    tenant = str(uuid.uuid4())
    spans = usage_traffic(tenant)
    await repo.store_spans(spans)
    by_agent = await repo.query_spans(TraceQuery(tenant_id=tenant, agent_id="agent-1", limit=100))
    assert {s.span_id for s in by_agent.items} == {s.span_id for s in spans if s.agent_id == "agent-1"}
    by_user = await repo.query_spans(
        TraceQuery(tenant_id=tenant, end_user_id="user-3", finding_type="prompt_injection")
    )
    expected = {s.span_id for s in spans if s.end_user_id == "user-3" and s.security_findings}
    assert {s.span_id for s in by_user.items} == expected
    traces = await repo.query_traces(TraceQuery(tenant_id=tenant, end_user_id="user-3"))
    assert traces.total == sum(1 for s in spans if s.end_user_id == "user-3")
