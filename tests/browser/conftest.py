"""Browser fixtures shared by the page tests: one headless Chromium per module, pages that record
every request and console error, screenshots kept as artefacts, an axe-core helper.

Use:
    def test_x(live_stack, new_page):
        rec = new_page(width=360)            # a fresh context + page, requests recorded
        rec.page.goto(live_stack.web + "/")
        assert axe_violations(rec.page) == []
        assert rec.foreign_requests(allowed=[live_stack.web, live_stack.api]) == []

Requests to hosts other than 127.0.0.1/localhost (map tiles, anything third-party) are recorded
and then aborted, so the tests never depend on the internet and can assert what a page asked for.
Screenshots of every page a test opened land in build/browser-artefacts/ (ignored by git).
"""
from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

CHROMIUM = "/usr/bin/chromium"
# Local Network Access: a document the tests fulfil themselves (to add a CSP header) has no
# address, so Chromium would count it as public and refuse its fetches to the loopback API. In
# production the site and the API are both public, so turning the check off changes nothing real.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync",
                 "--disable-features=LocalNetworkAccessChecks,PrivateNetworkAccessSendPreflights"]
ARTEFACTS = Path(__file__).resolve().parents[2] / "build" / "browser-artefacts"
LOCAL_HOSTS = {"127.0.0.1", "localhost", "[::1]", "::1"}


def origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


@dataclass
class RecordedPage:
    """A page in its own browser context, with what it requested and what went wrong in it."""

    page: Any  # playwright.sync_api.Page
    context: Any  # playwright.sync_api.BrowserContext
    requests: list[str] = field(default_factory=list)
    responses: list[Any] = field(default_factory=list)  # playwright Response objects
    errors: list[str] = field(default_factory=list)  # uncaught exceptions + console errors

    def foreign_requests(self, allowed: list[str]) -> list[str]:
        """URLs requested from origins outside `allowed` (data:/blob: URLs are not requests)."""
        ok = {origin(a) for a in allowed}
        return [u for u in self.requests
                if not u.startswith(("data:", "blob:")) and origin(u) not in ok]

    def screenshot(self, name: str) -> Path:
        ARTEFACTS.mkdir(parents=True, exist_ok=True)
        path = ARTEFACTS / f"{re.sub(r'[^A-Za-z0-9_.-]+', '_', name)}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture
def new_page(browser: Any, request: pytest.FixtureRequest) -> Iterator[Callable[..., RecordedPage]]:
    """Factory: `new_page(width=1280, height=900, csp=None, **context_options)`.

    `csp`, when given, is sent as a Content-Security-Policy header on every HTML document from a
    local origin, so a test can prove the pages run under that policy. Service workers are
    blocked unless `service_workers="allow"` is passed (routing cannot see what they fetch).
    """
    made: list[RecordedPage] = []

    def make(width: int = 1280, height: int = 900, csp: str | None = None,
             **options: Any) -> RecordedPage:
        options.setdefault("service_workers", "block")
        options.setdefault("locale", "pl-PL")
        options.setdefault("timezone_id", "Europe/Warsaw")
        ctx = browser.new_context(viewport={"width": width, "height": height}, **options)
        ctx.set_default_timeout(10_000)
        page = ctx.new_page()
        rec = RecordedPage(page=page, context=ctx)
        page.on("request", lambda r: rec.requests.append(r.url))
        page.on("response", lambda r: rec.responses.append(r))
        page.on("pageerror", lambda e: rec.errors.append(f"pageerror: {e}"))
        page.on("console", lambda m: rec.errors.append(f"console: {m.text}")
                if m.type == "error" else None)

        def route(r: Any) -> None:
            host = urlsplit(r.request.url).hostname or ""
            if host not in LOCAL_HOSTS:
                r.abort()  # recorded by the "request" listener already
            elif csp and r.request.resource_type == "document":
                resp = r.fetch()
                r.fulfill(response=resp, headers={**resp.headers, "content-security-policy": csp})
            else:
                r.fallback()

        # Only third-party hosts and (for the CSP) the site's pages are routed: a routed request
        # gets its CORS preflight answered by Playwright, which would hide the API's CORS bugs.
        def routed(url: str) -> bool:
            parts = urlsplit(url)
            if (parts.hostname or "") not in LOCAL_HOSTS:
                return True
            return bool(csp) and (parts.path.endswith((".html", "/")))

        ctx.route(routed, route)
        made.append(rec)
        return rec

    yield make
    for i, rec in enumerate(made):
        try:
            if not rec.page.is_closed():
                rec.screenshot(f"{request.node.name}-{i}")
        except Exception:  # a screenshot is an artefact, never a reason to fail
            pass
        rec.context.close()


def axe_violations(page: Any, disable: tuple[str, ...] = ()) -> list[dict[str, Any]]:
    """Run axe-core (WCAG 2.0/2.1 A and AA rules plus best practices) on the page as it is now.

    Returns the violations as {id, impact, help, targets}, an empty list when there are none.
    """
    from axe_playwright_python.sync_playwright import Axe

    options: dict[str, Any] = {"resultTypes": ["violations"]}
    if disable:
        options["rules"] = {rule: {"enabled": False} for rule in disable}
    results = Axe().run(page, options=options)
    return [{"id": v["id"], "impact": v.get("impact"), "help": v.get("help"),
             "targets": [n.get("target") for n in v.get("nodes", [])][:5]}
            for v in results.response.get("violations", [])]
