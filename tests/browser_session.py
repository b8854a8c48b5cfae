"""One browser session through the dashboard, run in its own interpreter by tests/integration/test_dashboard.py:
``python -m tests.browser_session URL TENANT_ADMIN_KEY SCREENSHOT_DIR``. Exits 0 when every step behaved."""

from __future__ import annotations

import shutil
import sys
import uuid
from pathlib import Path
from typing import Any

READY_MS = 60_000  # waiting for what will appear, however slow the machine
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# Chromium's own background traffic is refused on this closed network; these flags keep it quiet and fast.
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]  # fmt: skip


def run_through(page: Any, url: str, api_key: str, shots: Path, expect: Any) -> None:
    # Signing in: a wrong key is refused, the tenant's admin key opens the overview.
    page.goto(f"{url}/dashboard")
    page.fill("#api_key", "llmt_" + "0" * 64)
    page.click("button[type=submit]")
    expect(page.locator(".error")).to_contain_text("not valid")
    page.fill("#api_key", api_key)
    page.click("button[type=submit]")
    expect(page.locator("#view[data-loaded=overview]")).to_be_visible()
    expect(page.locator(".card").first).to_be_visible()
    page.screenshot(path=str(shots / "overview.png"), full_page=True)

    # The flagged trace, found by filter, opened, its matched phrase marked.
    page.click("#nav a[href='#/traces']")
    expect(page.locator("#view[data-loaded=traces]")).to_be_visible()
    page.fill("input[name=finding_type]", "prompt_injection")
    page.click("form.filters button[type=submit]")
    rows = page.locator("tbody tr.link")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("alice")
    page.screenshot(path=str(shots / "traces-filtered.png"), full_page=True)
    rows.first.click()
    expect(page.locator("#view[data-loaded=span]")).to_be_visible()
    expect(page.locator("#view")).to_contain_text("prompt_injection")
    expect(page.locator("pre.text mark").first).to_contain_text("ignore all previous instructions", ignore_case=True)
    page.screenshot(path=str(shots / "span.png"), full_page=True)

    # The alert, acknowledged.
    page.click("#nav a[href='#/alerts']")
    expect(page.locator("#view[data-loaded=alerts]")).to_be_visible()
    page.locator("button", has_text="Acknowledge").first.click()
    expect(page.locator("td.status").first).to_have_text("acknowledged")
    page.screenshot(path=str(shots / "alerts.png"), full_page=True)

    # A key created (its secret shown once), then revoked.
    page.click("#nav a[href='#/admin']")
    expect(page.locator("#view[data-loaded=admin]")).to_be_visible()
    name = f"ci-{uuid.uuid4().hex[:6]}"
    page.fill("form.filters input[name=name]", name)
    page.select_option("form.filters select[name=role]", "viewer")
    page.click("form.filters button[type=submit]")
    expect(page.locator("#new-key-secret")).to_contain_text("llmt_")
    page.click("text=Done")
    row = page.locator(f"tr[data-key='{name}']")
    row.locator("button", has_text="Revoke").click()
    expect(page.locator(f"tr[data-key='{name}'] td.revoked")).not_to_have_text("—")
    page.screenshot(path=str(shots / "keys.png"), full_page=True)

    # The Swagger UI, from the package's assets.
    page.goto(f"{url}/api-doc")
    expect(page.locator(".swagger-ui .info")).to_be_visible()
    expect(page.locator(".swagger-ui")).to_contain_text("/api/v1/usage")
    page.screenshot(path=str(shots / "api-doc.png"))


def main(url: str, api_key: str, shots: str) -> None:
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=READY_MS)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        page.set_default_timeout(READY_MS)
        run_through(page, url, api_key, Path(shots), expect)
        browser.close()
    print("browser session: every step passed")


if __name__ == "__main__":
    main(*sys.argv[1:4])
