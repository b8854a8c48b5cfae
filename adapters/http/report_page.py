"""A compliance report as a printable HTML page: its figures as tables and its breakdowns as bar charts (inline SVG,
no script, no external asset), so it prints, archives and opens offline exactly as served."""

from __future__ import annotations

import html
from collections.abc import Mapping
from typing import Any

from adapters.codec import iso
from domain.reports import ComplianceReport

TITLES = {
    "soc2": "SOC 2 access and security report",
    "gdpr": "GDPR processing report",
    "hipaa": "HIPAA access report",
    "owasp_llm_top10": "OWASP Top 10 for LLM Applications: coverage report",
}

STYLE = """
body { font: 14px/1.45 system-ui, sans-serif; color: #1b1f24; margin: 2rem auto; max-width: 52rem; padding: 0 1rem; }
h1 { font-size: 1.5rem; margin-bottom: .2rem; } h2 { font-size: 1.1rem; margin-top: 2rem; }
.meta { color: #57606a; } table { border-collapse: collapse; width: 100%; margin: .5rem 0; }
td, th { border-bottom: 1px solid #d0d7de; padding: .3rem .5rem; text-align: left; vertical-align: top; }
td.num { text-align: right; font-variant-numeric: tabular-nums; } .failed { color: #b42318; }
.covered { color: #1a7f37; } .notcovered { color: #9a6700; } svg text { font: 12px system-ui, sans-serif; }
@media print { body { margin: 0; } h2 { break-after: avoid; } svg, table { break-inside: avoid; } }
"""


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def bar_chart(title: str, values: Mapping[str, int | float]) -> str:
    """Horizontal bars, largest first; an empty breakdown says so instead of drawing nothing."""
    items = sorted(values.items(), key=lambda kv: (-kv[1], kv[0]))[:20]
    if not items or not any(v for _, v in items):
        return f"<h2>{_e(title)}</h2><p class='meta'>Nothing in this period.</p>"
    top = max(v for _, v in items) or 1
    row, label_w, bar_w = 24, 220, 380
    height = row * len(items) + 8
    bars = []
    for i, (label, value) in enumerate(items):
        y = 4 + i * row
        width = max(1.0, bar_w * value / top) if value else 0.0
        bars.append(
            f"<text x='{label_w - 8}' y='{y + 16}' text-anchor='end'>{_e(label)[:40]}</text>"
            f"<rect x='{label_w}' y='{y + 3}' width='{width:.1f}' height='{row - 8}' fill='#0969da'/>"
            f"<text x='{label_w + width + 6:.1f}' y='{y + 16}'>{_e(value)}</text>"
        )
    return (
        f"<h2>{_e(title)}</h2><svg role='img' aria-label='{_e(title)}' width='100%' viewBox='0 0 680 {height}' "
        f"xmlns='http://www.w3.org/2000/svg'>{''.join(bars)}</svg>"
    )


def _table(rows: Mapping[str, Any]) -> str:
    cells = "".join(
        f"<tr><th>{_e(k.replace('_', ' '))}</th><td class='num'>{_e(v)}</td></tr>"
        for k, v in rows.items()
        if not isinstance(v, (dict, list))
    )
    return f"<table>{cells}</table>"


def _list(title: str, values: list[Any]) -> str:
    if not values:
        return f"<h2>{_e(title)}</h2><p class='meta'>None in this period.</p>"
    return f"<h2>{_e(title)}</h2><table>" + "".join(f"<tr><td>{_e(v)}</td></tr>" for v in values) + "</table>"


def _owasp(data: Mapping[str, Any]) -> str:
    rows = []
    for category in data["categories"]:
        state = "covered" if category["coverage"] == "covered" else "notcovered"
        rows.append(
            f"<tr><td>{_e(category['id'])}</td><td>{_e(category['name'])}</td>"
            f"<td class='{state}'>{_e(category['coverage'])}</td>"
            f"<td>{_e(', '.join(category['covered_by']) or '—')}</td>"
            f"<td class='num'>{_e(category['findings'])}</td></tr>"
        )
    table = (
        "<h2>Categories</h2><table><tr><th>ID</th><th>Category</th><th>Coverage</th><th>Covered by</th>"
        f"<th>Findings</th></tr>{''.join(rows)}</table>"
    )
    chart = bar_chart("Findings by category", {f"{c['id']} {c['name']}": c["findings"] for c in data["categories"]})
    return chart + table


def render_report(report: ComplianceReport) -> str:
    kind = report.report_type.value
    head = (
        f"<h1>{_e(TITLES.get(kind, kind))}</h1><p class='meta'>Tenant {_e(report.tenant_id)} · period "
        f"{_e(iso(report.period_start))} to {_e(iso(report.period_end))} · requested {_e(iso(report.created_at))} · "
        f"status {_e(report.status.value)}</p>"
    )
    if report.content is None:
        reason = f"<p class='failed'>{_e(report.error)}</p>" if report.error else "<p>Not built yet.</p>"
        body = reason
    else:
        data: Mapping[str, Any] = report.content.get("data", {})
        parts = [_table(data)]
        if kind == "owasp_llm_top10":
            parts.append(_owasp(data))
        else:
            for key, value in data.items():
                title = key.replace("_", " ").capitalize()
                if isinstance(value, dict):
                    parts.append(bar_chart(title, value))
                elif isinstance(value, list):
                    parts.append(_list(title, value))
        body = "".join(parts)
    return (
        f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>{_e(TITLES.get(kind, kind))}</title>"
        f"<style>{STYLE}</style></head><body>{head}{body}</body></html>"
    )
