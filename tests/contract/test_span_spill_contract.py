"""Every span spill (the JSON-lines file, the in-memory fake) keeps spans whole and gives each back once."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

import pytest

from adapters.storage.spill import JsonLinesSpill
from domain.findings import SecurityFinding, Severity
from domain.providers import Provider
from domain.traces import AnalysisStatus, TraceSpan
from ports.repositories import SpanSpill
from tests.unit.fakes import MemorySpill


def make_span(i: int, prompt: str = "hello") -> TraceSpan:
    return TraceSpan(
        span_id=f"span-{i}",
        trace_id=f"trace-{i}",
        tenant_id="tenant",
        operation_name="chat_completion",
        start_time=dt.datetime(2026, 1, 1, tzinfo=dt.UTC) + dt.timedelta(seconds=i),
        provider=Provider.OPENAI,
        model_name="gpt-4o-mini",
        prompt=prompt,
        response="hi",
        status_code=200,
        analysis_status=AnalysisStatus.COMPLETED,
        security_findings=(
            SecurityFinding(
                id="f", severity=Severity.HIGH, finding_type="prompt_injection", description="d", confidence=0.9
            ),
        ),
        tags={"k": "v"},
    )


@pytest.fixture(params=["jsonl", "memory"])
def spill(request: pytest.FixtureRequest, tmp_path: Path) -> SpanSpill:
    factories: dict[str, Callable[[], SpanSpill]] = {
        "jsonl": lambda: JsonLinesSpill(str(tmp_path / "spill.jsonl")),
        "memory": MemorySpill,
    }
    return factories[request.param]()


def test_spans_come_back_whole_and_once(spill: SpanSpill) -> None:
    spans = [make_span(i) for i in range(3)]
    spill.save(spans[:2])
    spill.save(spans[2:])
    assert spill.take() == spans
    assert spill.take() == []


def test_text_no_store_can_encode_survives_the_spill(spill: SpanSpill) -> None:
    span = make_span(1, prompt="lone \ud800 surrogate")
    spill.save([span])
    assert spill.take() == [span]


def test_an_empty_spill_gives_nothing(spill: SpanSpill) -> None:
    assert spill.take() == []
