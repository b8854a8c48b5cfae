"""The regression guard of the benchmarks: it must say when a recorded figure got worse beyond its noise."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench.compare import compare_last


def _hop_run(p50: float, throughput: float, calibration: float) -> dict:
    proxy = {
        "sequential_non_streaming": {"added_p50_ms": {"median": p50}, "added_p99_ms": {"median": 3.0}},
        "concurrent_non_streaming": {"throughput_vs_direct": {"median": throughput}},
    }
    return {"rules_only": proxy, "defaults": proxy, "machine": {"calibration_ms_before": calibration}}


def test_a_hop_run_slower_than_the_last_beyond_noise_is_reported_worse(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "20261201T000000.json").write_text(json.dumps(_hop_run(1.5, 0.80, 10.0)))
    (tmp_path / "20261202T000000.json").write_text(json.dumps(_hop_run(2.5, 0.81, 12.0)))
    assert compare_last(tmp_path, hop=True) == 1
    out = capsys.readouterr().out
    assert "rules_only: added p50 ms (sequential)" in out and "WORSE" in out
    assert "throughput vs direct (c32)" in out and "same (within noise)" in out
    assert "machine calibration 10.0 -> 12.0 ms" in out


def test_a_hop_run_within_noise_passes(tmp_path: Path) -> None:
    (tmp_path / "20261201T000000.json").write_text(json.dumps(_hop_run(1.5, 0.80, 10.0)))
    (tmp_path / "20261202T000000.json").write_text(json.dumps(_hop_run(1.6, 0.78, 10.0)))
    assert compare_last(tmp_path, hop=True) == 0


def test_one_recorded_run_has_nothing_to_compare(tmp_path: Path) -> None:
    (tmp_path / "20261201T000000.json").write_text(json.dumps(_hop_run(1.5, 0.80, 10.0)))
    assert compare_last(tmp_path, hop=True) == 0
