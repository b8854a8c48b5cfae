"""``just bench dashboard``: how long each dashboard page takes to load in a real browser with 100,000 stored spans,
and how many bytes of assets the dashboard and the Swagger UI ship.

The spans are written through the SQLite adapter (the default store), the proxy is started on that file, and
Debian's headless Chromium (driven by Playwright) opens each page ``--rounds`` times: the time from navigation until
the page has rendered its data. Results: ``bench/results/dashboard.json``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import trio

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from adapters.http.routes.dashboard import ASSETS, _swagger_dir
from adapters.storage.sqlite import SqliteTraceRepository
from bench.usage import TENANT, spans_for_sqlite
from tests.browser_session import CHROMIUM, CHROMIUM_ARGS
from tests.conftest import start_mock, start_proxy

PAGES = ["overview", "traces", "findings", "costs", "alerts", "reports"]


async def fill(path: Path, n: int) -> None:
    store = SqliteTraceRepository.open(str(path))
    spans = spans_for_sqlite(n)
    for i in range(0, len(spans), 5000):
        await store.store_spans(spans[i : i + 5000])
    await store.close()


def asset_sizes() -> dict[str, int]:
    sizes = {f"dashboard/{p.name}": p.stat().st_size for p in sorted(ASSETS.iterdir())}
    swagger = _swagger_dir()
    if swagger is not None:
        for name in ("swagger-ui-bundle.js", "swagger-ui.css"):
            sizes[f"swagger-ui/{name}"] = (swagger / name).stat().st_size
    return sizes


def main() -> None:
    from playwright.sync_api import sync_playwright

    parser = argparse.ArgumentParser(prog="just bench dashboard")
    parser.add_argument("--spans", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--out", default="bench/results/dashboard.json")
    args = parser.parse_args()
    results: dict[str, Any] = {"spans": args.spans, "rounds": args.rounds, "asset_bytes": asset_sizes()}
    dashboard_total = sum(v for k, v in results["asset_bytes"].items() if k.startswith("dashboard/"))
    print(f"dashboard assets: {dashboard_total} bytes; Swagger UI: "
          f"{sum(v for k, v in results['asset_bytes'].items() if k.startswith('swagger-ui/'))} bytes")  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        database = Path(tmp) / "dashboard.db"
        trio.run(fill, database, args.spans)
        print(f"{args.spans} spans stored")
        mock = start_mock(Path(tmp))
        proxy = start_proxy(Path(tmp), mock.url, {"storage": {"profile": "lite", "database_path": str(database)}})
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                page = browser.new_page(extra_http_headers={"X-LLMTrace-Tenant-ID": TENANT})
                page.set_default_timeout(120_000)
                timings: dict[str, dict[str, float]] = {}
                for name in PAGES:
                    samples = []
                    for _ in range(args.rounds + 1):  # the first load warms the store's caches, as a user's would
                        page.goto("about:blank")
                        started = time.perf_counter()
                        page.goto(f"{proxy.url}/dashboard#/{name}")
                        page.wait_for_selector(f"#view[data-loaded={name}]")
                        samples.append((time.perf_counter() - started) * 1000)
                    kept = samples[1:]
                    timings[name] = {"p50_ms": round(statistics.median(kept), 1), "max_ms": round(max(kept), 1)}
                    print(f"  {name}: p50 {timings[name]['p50_ms']} ms, max {timings[name]['max_ms']} ms")
                browser.close()
            results["page_load"] = timings
        finally:
            proxy.process.stop()
            mock.process.stop()
    Path(args.out).write_text(json.dumps(results, indent=2) + "\n")
    print(f"written to {args.out}")


if __name__ == "__main__":
    main()
