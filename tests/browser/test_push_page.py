"""The browser-notifications page in headless Chromium against the running local stack.

Headless Chromium here cannot get a real push subscription: in a Playwright (incognito) context
Chrome refuses the Push API outright, and in a persistent profile `PushManager.subscribe` waits
forever for FCM (no network). So `PushManager.subscribe`/`getSubscription` are replaced by a stub
(init script) that hands the page a subscription whose endpoint is a stand-in push service on
127.0.0.1 and whose keys were made in this test. Everything else is real: the page, its service
worker (/sw.js importing /push-sw.js), the API, SNS → SQS → the worker in the local stack, the
encrypted POST to the stand-in (decrypted here with the subscription's private key), and the
service worker's push handler, driven through DevTools' ServiceWorker.deliverPushMessage.
"""
from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests

from tests.browser.conftest import RecordedPage, axe_violations
from tests.conftest import LiveStack
from tests.functional.test_webpush import Browser, PushService, check_vapid

pytestmark = pytest.mark.browser

STUB = """
(() => {
  const sub = %s;
  window.__push = {subscribed: null, unsubscribed: 0, key: null};
  function b64url(buf) {
    let s = ''; new Uint8Array(buf).forEach(b => { s += String.fromCharCode(b); });
    return btoa(s).replace(/\\+/g, '-').replace(/\\//g, '_').replace(/=+$/, '');
  }
  function make(key) {
    return {endpoint: sub.endpoint, expirationTime: null, options: {applicationServerKey: key,
              userVisibleOnly: true},
            toJSON() { return {endpoint: sub.endpoint, expirationTime: null, keys: sub.keys}; },
            unsubscribe() { window.__push.subscribed = null; window.__push.unsubscribed++;
                            return Promise.resolve(true); }};
  }
  if (window.PushManager) {
    PushManager.prototype.subscribe = function (opts) {
      let key = opts.applicationServerKey;
      if (typeof key === 'string') {
        const s = atob(key.replace(/-/g, '+').replace(/_/g, '/'));
        key = Uint8Array.from(s, c => c.charCodeAt(0));
      }
      const keyBuf = new Uint8Array(key).buffer;
      window.__push.key = b64url(keyBuf);
      window.__push.subscribed = make(keyBuf);
      return Promise.resolve(window.__push.subscribed);
    };
    PushManager.prototype.getSubscription = function () {
      return Promise.resolve(window.__push.subscribed);
    };
  }
})();
"""


def wait_for(predicate: Callable[[], Any], seconds: float = 30.0) -> Any:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.3)
    return predicate()


@pytest.fixture
def push_service() -> Iterator[PushService]:
    service = PushService()
    yield service
    service.close()


def open_page(live_stack: LiveStack, new_page: Callable[..., RecordedPage], stub: str | None,
              grant: bool = True) -> RecordedPage:
    rec = new_page(width=390, height=900, service_workers="allow")
    if grant:
        rec.context.grant_permissions(["notifications"], origin=live_stack.web)
    if stub:
        rec.page.add_init_script(stub)
    rec.page.goto(live_stack.web + "/push.html")
    rec.page.wait_for_selector("#push-categories input#push-cat-water")
    rec.page.wait_for_selector("#push-districts input#push-district-srodmiescie")
    return rec


def publish(live_stack: LiveStack, title: str) -> str:
    headers = {"Authorization": f"Bearer {live_stack.token('publisher')}",
               "Content-Type": "application/json"}
    body = {"category": "water", "severity": "moderate", "districts": ["srodmiescie"],
            "title": {"pl": title}, "body": {"pl": "Awaria wodociągu. Woda wróci do 18:00."},
            "expires_at": (datetime.now(UTC) + timedelta(days=1)).isoformat(timespec="seconds")}
    resp = requests.post(f"{live_stack.api}/v1/admin/alerts", headers=headers, json=body,
                         timeout=10)
    assert resp.status_code == 201, resp.text
    alert_id = str(resp.json()["id"])
    resp = requests.post(f"{live_stack.api}/v1/admin/alerts/{alert_id}/publish", headers=headers,
                         timeout=10)
    assert resp.status_code == 200, resp.text
    return alert_id


def deliver_to_service_worker(rec: RecordedPage, origin: str, data: str) -> None:
    """What the browser does when its push service hands it a message: a push event in the SW."""
    cdp = rec.context.new_cdp_session(rec.page)
    regs: list[dict[str, Any]] = []
    cdp.on("ServiceWorker.workerRegistrationUpdated", lambda e: regs.extend(e["registrations"]))
    cdp.send("ServiceWorker.enable")
    for _ in range(20):
        if any(r["scopeURL"].startswith(origin) and not r["isDeleted"] for r in regs):
            break
        rec.page.wait_for_timeout(250)
    reg = next(r for r in regs if r["scopeURL"].startswith(origin) and not r["isDeleted"])
    cdp.send("ServiceWorker.deliverPushMessage",
             {"origin": origin, "registrationId": reg["registrationId"], "data": data})


def test_a_resident_turns_on_changes_and_turns_off_browser_notifications(
        live_stack: LiveStack, new_page: Callable[..., RecordedPage],
        push_service: PushService) -> None:
    browser = Browser(push_service, "page")
    rec = open_page(live_stack, new_page, STUB % json.dumps(browser.subscription()))
    page = rec.page
    assert page.locator("h1").inner_text() == "Powiadomienia w przeglądarce"
    assert page.locator("#push-cat-emergency").is_checked()
    assert page.locator("#push-cat-emergency").is_disabled()
    assert axe_violations(page) == []

    page.check("#push-cat-water")
    page.check("#push-district-srodmiescie")
    page.get_by_role("button", name="Włącz powiadomienia").click()
    page.wait_for_selector("#push-on:not([hidden])")
    assert "Gotowe" in page.locator("#push-on-text").inner_text()
    assert "Śródmieście" in page.locator("#push-on-text").inner_text()

    # the page subscribed with the city's VAPID key and registered the subscription
    key = requests.get(f"{live_stack.api}/v1/web-push/key", timeout=5).json()["public_key"]
    assert page.evaluate("window.__push.key") == key
    mine = json.loads(page.evaluate("localStorage.getItem('informator.webpush')"))
    stored = requests.get(f"{live_stack.api}/v1/web-push/{mine['id']}",
                          headers={"X-Secret": mine["secret"]}, timeout=5).json()
    assert stored["categories"] == ["emergency", "water"]
    assert stored["districts"] == ["srodmiescie"] and stored["endpoint"] == browser.endpoint
    scripts = page.evaluate("navigator.serviceWorker.getRegistration().then(r => "
                            "(r.active || r.waiting || r.installing).scriptURL)")
    assert scripts.endswith("/sw.js")

    # an alert for the district reaches the stand-in push service, encrypted for this browser
    alert_id = publish(live_stack, "Brak wody — test powiadomień")
    assert wait_for(lambda: push_service.to(browser.path), 40), "no push arrived"
    request = push_service.to(browser.path)[0]
    check_vapid(request, push_service.url, key)
    message = browser.read(request)
    assert message["title"] == "Brak wody — test powiadomień"
    assert message["url"].endswith(f"/alert.html?id={alert_id}")
    outbox = wait_for(lambda: [d for d in live_stack.outbox()
                               if d["channel"] == "web" and d["to"] == mine["id"]])
    assert outbox and outbox[0]["text"].startswith("Brak wody — test powiadomień — Awaria")

    # the service worker shows it as a notification that leads to the alert's page
    deliver_to_service_worker(rec, live_stack.web, json.dumps(message, ensure_ascii=False))
    shown = wait_for(lambda: page.evaluate(
        "navigator.serviceWorker.ready.then(r => r.getNotifications())"
        ".then(ns => ns.map(n => ({title: n.title, body: n.body, data: n.data, tag: n.tag})))"),
        10)
    assert shown == [{"title": message["title"], "body": message["body"],
                      "data": {"url": message["url"]}, "tag": f"alert-{alert_id}"}]

    # change the choices
    page.reload()
    page.wait_for_selector("#push-on:not([hidden])")
    assert page.locator("#push-district-srodmiescie").is_checked()
    page.uncheck("#push-district-srodmiescie")
    page.check("#push-district-zachod")
    page.get_by_role("button", name="Zapisz zmiany").click()
    page.locator("#push-on-text", has_text="Zapisano").wait_for()
    stored = requests.get(f"{live_stack.api}/v1/web-push/{mine['id']}",
                          headers={"X-Secret": mine["secret"]}, timeout=5).json()
    assert stored["districts"] == ["zachod"]

    # turn it off
    page.get_by_role("button", name="Wyłącz powiadomienia").click()
    page.wait_for_selector("#push-on", state="hidden")
    assert "wyłączone" in page.locator("#push-status").inner_text()
    assert page.evaluate("window.__push.unsubscribed") == 1
    assert page.evaluate("localStorage.getItem('informator.webpush')") is None
    assert requests.get(f"{live_stack.api}/v1/web-push/{mine['id']}",
                        headers={"X-Secret": mine["secret"]}, timeout=5).status_code == 404
    assert page.get_by_role("button", name="Włącz powiadomienia").is_visible()
    assert rec.errors == []


def test_without_permission_nothing_is_registered(
        live_stack: LiveStack, new_page: Callable[..., RecordedPage],
        push_service: PushService) -> None:
    browser = Browser(push_service, "denied")
    rec = open_page(live_stack, new_page, STUB % json.dumps(browser.subscription()), grant=False)
    posts: list[str] = []
    rec.page.on("request", lambda r: posts.append(r.url) if r.method == "POST" else None)
    rec.page.get_by_role("button", name="Włącz powiadomienia").click()
    rec.page.locator("#push-status.err").wait_for()
    assert "Nie zezwolono" in rec.page.locator("#push-status").inner_text()
    assert rec.page.evaluate("window.__push.subscribed") is None
    assert not any("/v1/web-push" in u for u in posts)


def test_a_browser_without_push_is_told_what_to_do(
        live_stack: LiveStack, new_page: Callable[..., RecordedPage]) -> None:
    rec = new_page(width=390, height=900, service_workers="allow")
    rec.page.add_init_script("delete window.PushManager;")
    rec.page.goto(live_stack.web + "/push.html?lang=en")
    rec.page.wait_for_selector("#push-unsupported:not([hidden])")
    assert "Home Screen" in rec.page.locator("#push-unsupported").inner_text()
    assert rec.page.locator("#push-form-section").is_hidden()
