"""The deployment kit holds together: the Prometheus alert rules pass promtool (syntax and unit tests), and every
metric the rules, the Grafana dashboard and the Helm chart's PrometheusRule name is one the running proxy exports."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import openai
import pytest
import yaml

from tests.conftest import ROOT, MockUpstream

pytestmark = pytest.mark.integration

DEPLOY = ROOT / "deploy"
PROMTOOL = shutil.which("promtool") or "/usr/bin/promtool"
METRIC = re.compile(r"\b(llmtrace_[a-z_]+)")
SUFFIXES = ("_bucket", "_sum", "_count")


def exported_metrics(proxy: Any) -> set[str]:
    families = set()
    for line in proxy.api("/metrics").text.splitlines():
        if line.startswith("# TYPE "):
            families.add(line.split()[2])
    return families


def named(text: str) -> set[str]:
    out = set()
    for name in METRIC.findall(text):
        for suffix in SUFFIXES:
            if name.endswith(suffix):
                name = name[: -len(suffix)]
        out.add(name)
    return out


def test_alert_rules_pass_promtool() -> None:
    assert Path(PROMTOOL).exists(), "the deploy-kit tests need promtool (apt-get install prometheus)"
    checked = subprocess.run(
        [PROMTOOL, "check", "rules", str(DEPLOY / "prometheus/alerts.yml")], capture_output=True, text=True
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    tested = subprocess.run(
        [PROMTOOL, "test", "rules", "alerts_test.yml"], cwd=DEPLOY / "prometheus", capture_output=True, text=True
    )
    assert tested.returncode == 0, tested.stdout + tested.stderr


def test_dashboards_and_rules_chart_only_metrics_the_proxy_exports(
    proxy_factory: Any, mock_upstream: MockUpstream
) -> None:
    proxy = proxy_factory(mock_upstream.url)
    sdk = openai.OpenAI(base_url=f"{proxy.url}/v1", api_key="sk-test", max_retries=0)
    for _chunk in sdk.chat.completions.create(
        model="gpt-4o-mini", stream=True, messages=[{"role": "user", "content": "hello"}]
    ):
        pass
    exported = exported_metrics(proxy)
    dashboard = json.loads((DEPLOY / "grafana/dashboards/llmtrace.json").read_text())
    exprs = " ".join(t["expr"] for panel in dashboard["panels"] for t in panel["targets"])
    rules = (DEPLOY / "prometheus/alerts.yml").read_text()
    template = (DEPLOY / "helm/llmtrace/templates/prometheusrule.yaml").read_text()
    assert '.Files.Get "files/alerts.yml"' in template  # the chart ships the very rules promtool checked
    chart_rules = (DEPLOY / "helm/llmtrace/files/alerts.yml").read_text()
    assert chart_rules == rules
    for source, text in (("grafana", exprs), ("alert rules", rules)):
        unknown = named(text) - exported
        assert not unknown, f"{source} uses metrics the proxy does not export: {sorted(unknown)}"
    assert "llmtrace_time_to_first_token_seconds" in named(exprs)
    # the compose file runs what the kit describes: proxy on the production profile and its services
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    assert {"proxy", "postgres", "redis", "clickhouse", "prometheus", "grafana"} <= set(compose["services"])
    environment = compose["services"]["proxy"]["environment"]
    assert environment["LLMTRACE_STORAGE_PROFILE"] == "production"
