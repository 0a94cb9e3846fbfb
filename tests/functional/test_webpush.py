"""Web Push end to end in-process: the API, the SNS → SQS → worker path in moto, and a stand-in
push service on 127.0.0.1 that pywebpush really POSTs to. The stand-in checks the VAPID JWT
(RFC 8292) and decrypts the payload with the browser's private key (RFC 8291, aes128gcm), so a
pass means a real browser could read what the worker sent."""
from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import PREFIX, Stack

ROOT = Path(__file__).resolve().parents[2]
IN_A_DAY = (datetime.now(UTC) + timedelta(days=1)).isoformat(timespec="seconds")


def b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def unb64url(value: str) -> bytes:
    return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))


# ---- the stand-in push service ----------------------------------------------------------------

class PushService:
    """Records every POST; answers with the statuses a test queued for a path (else 201)."""

    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        self.plan: dict[str, list[int]] = {}
        self._lock = threading.Lock()
        service = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                pass

            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with service._lock:
                    queued = service.plan.get(self.path) or []
                    status = queued.pop(0) if queued else 201
                    service.received.append({"path": self.path, "status": status, "body": body,
                                             "headers": {k.lower(): v for k, v in
                                                         self.headers.items()}})
                self.send_response(status)
                if status == 429:
                    self.send_header("Retry-After", "0")
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def to(self, path: str) -> list[dict[str, Any]]:
        return [r for r in self.received if r["path"] == path]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class Browser:
    """What a browser's PushManager holds: a key pair, an auth secret, an endpoint."""

    def __init__(self, service: PushService, name: str) -> None:
        from cryptography.hazmat.primitives.asymmetric import ec

        self.private_key = ec.generate_private_key(ec.SECP256R1())
        self.auth = os.urandom(16)
        self.path = f"/push/{name}"
        self.endpoint = service.url + self.path

    def subscription(self) -> dict[str, Any]:
        from cryptography.hazmat.primitives import serialization

        point = self.private_key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
        return {"endpoint": self.endpoint, "keys": {"p256dh": b64url(point),
                                                    "auth": b64url(self.auth)}}

    def read(self, request: dict[str, Any]) -> dict[str, Any]:
        import http_ece

        assert request["headers"]["content-encoding"] == "aes128gcm"
        plain = http_ece.decrypt(request["body"], private_key=self.private_key,
                                 auth_secret=self.auth, version="aes128gcm")
        return dict(json.loads(plain))


def check_vapid(request: dict[str, Any], service_url: str, public_key: str) -> dict[str, Any]:
    """RFC 8292: `vapid t=<JWT ES256>, k=<the server's public key>`; aud = the push origin."""
    import jwt
    from cryptography.hazmat.primitives.asymmetric import ec

    scheme, _, params = request["headers"]["authorization"].partition(" ")
    assert scheme == "vapid"
    parts = dict(p.strip().split("=", 1) for p in params.split(","))
    assert parts["k"] == public_key
    key = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), unb64url(parts["k"]))
    claims = jwt.decode(parts["t"], key=key, algorithms=["ES256"], audience=service_url)
    assert time.time() < claims["exp"] <= time.time() + 24 * 3600
    assert claims["sub"].startswith(("mailto:", "https://"))
    return dict(claims)


# ---- fixtures and helpers ---------------------------------------------------------------------

@pytest.fixture
def push_service() -> Iterator[PushService]:
    service = PushService()
    yield service
    service.close()


@pytest.fixture
def local_stage(stack: Stack, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The local stage (loopback stand-in endpoints allowed), retries without waiting."""
    from chalicelib.services import webpush
    from chalicelib.settings import reset_settings

    monkeypatch.setenv("STAGE", "local")
    monkeypatch.setenv("WEBPUSH_RETRY_BASE_S", "0")
    reset_settings()
    webpush.reset_vapid_cache()
    yield
    reset_settings()
    webpush.reset_vapid_cache()


def subscribe(client: Any, browser: Browser, **choices: Any) -> dict[str, str]:
    resp = client.http.post("/v1/web-push", headers={"Content-Type": "application/json"},
                            body=json.dumps({**browser.subscription(), **choices}))
    assert resp.status_code == 201, resp.body
    return dict(json.loads(resp.body))


def publish(stack: Stack, client: Any, **over: Any) -> str:
    body: dict[str, Any] = {
        "category": "water", "severity": "moderate", "districts": ["srodmiescie"],
        "title": {"pl": "Brak wody na ul. Warszawskiej", "en": "No water on Warszawska Street"},
        "body": {"pl": "Awaria wodociągu. Woda wróci do 18:00.",
                 "en": "Water main failure. Water back by 6 pm."},
        "expires_at": IN_A_DAY, **over}
    resp = client.http.post("/v1/admin/alerts", headers=stack.auth("publisher"),
                            body=json.dumps(body))
    assert resp.status_code == 201, resp.body
    alert_id = str(json.loads(resp.body)["id"])
    resp = client.http.post(f"/v1/admin/alerts/{alert_id}/publish",
                            headers=stack.auth("publisher"))
    assert resp.status_code == 200, resp.body
    stack.drain_fanout()
    return alert_id


def drain_webpush(stack: Stack) -> int:
    from chalicelib.events.webpush import webpush_worker
    from infra.local import drain

    return drain(stack.session, "webpush", webpush_worker, prefix=PREFIX, raise_errors=True)


def district_ids() -> list[str]:
    from chalicelib.city import district_ids as ids

    return ids()


def server_key(client: Any) -> str:
    resp = client.http.get("/v1/web-push/key")
    assert resp.status_code == 200
    return str(json.loads(resp.body)["public_key"])


def index_rows(stack: Stack, sub_id: str) -> list[str]:
    """The fan-out rows of one subscription (a test-side Scan; the worker never scans)."""
    items = stack.session.client("dynamodb").scan(TableName=f"{PREFIX}-webpush")["Items"]
    return sorted(f"{i['pk']['S']}|{i['sk']['S']}" for i in items
                  if i["pk"]["S"].startswith("cat#") and i["sk"]["S"].endswith(sub_id))


# ---- the key and the subscription API ---------------------------------------------------------

def test_public_key_is_the_p256_point_of_the_key_in_ssm(stack: Stack, client: Any,
                                                        local_stage: None) -> None:
    from cryptography.hazmat.primitives import serialization

    key = server_key(client)
    raw = unb64url(key)
    assert len(raw) == 65 and raw[0] == 4
    param = stack.session.client("ssm").get_parameter(Name=stack.env["VAPID_PARAMETER"],
                                                      WithDecryption=True)["Parameter"]
    assert param["Type"] == "SecureString"
    private: Any = serialization.load_pem_private_key(param["Value"].encode(), password=None)
    assert private.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint) == raw


def test_bad_subscriptions_get_a_422_naming_each_field_and_store_nothing(
        stack: Stack, client: Any, push_service: PushService) -> None:
    good = Browser(push_service, "x").subscription()
    fcm = "https://fcm.googleapis.com/fcm/send/abc123"
    cases = [
        ({**good}, "endpoint"),  # loopback http outside the local stage
        ({**good, "endpoint": "http://fcm.googleapis.com/fcm/send/abc"}, "endpoint"),
        ({**good, "endpoint": "https://evil.example.com/push/abc"}, "endpoint"),
        ({**good, "endpoint": "https://fcm.googleapis.com.evil.example/x"}, "endpoint"),
        ({**good, "endpoint": "https://fcm.googleapis.com:8443/fcm/send/x"}, "endpoint"),
        ({**good, "endpoint": fcm, "keys": {"p256dh": "not base64!", "auth": good["keys"]["auth"]}},
         "keys.p256dh"),
        ({**good, "endpoint": fcm, "keys": {"p256dh": b64url(b"\x04" + b"\x01" * 64),
                                            "auth": good["keys"]["auth"]}}, "keys.p256dh"),
        ({**good, "endpoint": fcm, "keys": {"p256dh": good["keys"]["p256dh"],
                                            "auth": b64url(b"short")}}, "keys.auth"),
        ({**good, "endpoint": fcm, "keys": "x"}, "keys"),
        ({**good, "endpoint": fcm, "categories": ["water", "lava"]}, "categories"),
        ({**good, "endpoint": fcm, "districts": ["atlantis"]}, "districts"),
        ({**good, "endpoint": fcm, "lang": "de"}, "lang"),
    ]
    for body, field in cases:
        resp = client.http.post("/v1/web-push", headers={"Content-Type": "application/json"},
                                body=json.dumps(body))
        assert resp.status_code == 422, (body, resp.body)
        assert field in json.loads(resp.body)["error"]["fields"], (body, resp.body)
    resp = client.http.post("/v1/web-push", headers={"Content-Type": "application/json"},
                            body="{not json")
    assert resp.status_code == 400 and json.loads(resp.body)["error"]["code"] == "bad_request"
    items = stack.session.client("dynamodb").scan(TableName=f"{PREFIX}-webpush")["Items"]
    assert items == []


def test_subscription_lifecycle_with_the_secret(stack: Stack, client: Any,
                                                push_service: PushService,
                                                local_stage: None) -> None:
    browser = Browser(push_service, "life")
    made = subscribe(client, browser, categories=["water"], districts=["zachod"], lang="en")
    sid, secret = made["id"], made["secret"]
    resp = client.http.get(f"/v1/web-push/{sid}", headers={"X-Secret": secret})
    assert resp.status_code == 200
    # the public site is another origin: its preflight must allow the X-Secret header
    assert "x-secret" in resp.headers["Access-Control-Allow-Headers"].lower()
    view = json.loads(resp.body)
    assert view["categories"] == ["emergency", "water"]  # emergency always
    assert view["districts"] == ["zachod"] and view["lang"] == "en"
    assert view["endpoint"] == browser.endpoint
    assert client.http.get(f"/v1/web-push/{sid}", headers={"X-Secret": "wrong"}).status_code == 403
    assert client.http.get(f"/v1/web-push/{sid}").status_code == 403
    assert client.http.get("/v1/web-push/" + "0" * 24,
                           headers={"X-Secret": secret}).status_code == 404
    resp = client.http.put(f"/v1/web-push/{sid}", headers={"X-Secret": secret,
                                                            "Content-Type": "application/json"},
                           body=json.dumps({"districts": ["srodmiescie", "plonska"]}))
    assert resp.status_code == 200, resp.body
    assert json.loads(resp.body)["districts"] == ["plonska", "srodmiescie"]
    assert index_rows(stack, sid) == sorted(
        f"cat#{c}#en|{d}#{sid}" for c in ("emergency", "water") for d in ("plonska",
                                                                           "srodmiescie"))
    bad = client.http.put(f"/v1/web-push/{sid}", headers={"X-Secret": secret,
                                                           "Content-Type": "application/json"},
                          body=json.dumps({"categories": ["lava"]}))
    assert bad.status_code == 422
    assert json.loads(client.http.get(f"/v1/web-push/{sid}", headers={"X-Secret": secret})
                      .body)["categories"] == ["emergency", "water"]

    # the same endpoint again: the same subscription, a new secret, no duplicate rows
    again = subscribe(client, browser, categories=["roads"], districts=[], lang="pl")
    assert again["id"] == sid and again["secret"] != secret
    assert client.http.get(f"/v1/web-push/{sid}", headers={"X-Secret": secret}).status_code == 403
    assert index_rows(stack, sid) == [f"cat#emergency#pl|all#{sid}", f"cat#roads#pl|all#{sid}"]
    records = [i for i in stack.session.client("dynamodb").scan(
        TableName=f"{PREFIX}-webpush")["Items"] if i["pk"]["S"].startswith("sub#")]
    assert len(records) == 1

    # every district chosen is the whole city: one row per category, same audience
    subscribe(client, browser, categories=["water"], districts=district_ids())
    assert index_rows(stack, sid) == [f"cat#emergency#pl|all#{sid}", f"cat#water#pl|all#{sid}"]

    fresh = subscribe(client, browser, categories=["water"])
    assert client.http.delete(f"/v1/web-push/{sid}",
                              headers={"X-Secret": secret}).status_code == 403
    assert client.http.delete(f"/v1/web-push/{sid}",
                              headers={"X-Secret": fresh["secret"]}).status_code == 204
    assert client.http.get(f"/v1/web-push/{sid}",
                           headers={"X-Secret": fresh["secret"]}).status_code == 404
    assert index_rows(stack, sid) == []


# ---- the worker -------------------------------------------------------------------------------

def test_an_alert_reaches_exactly_the_matching_browsers_readably_without_a_scan(
        stack: Stack, client: Any, push_service: PushService, local_stage: None) -> None:
    from chalicelib.models.webpush import (
        WebPushClaim,
        WebPushOutboxRecord,
        WebPushSubscription,
        WebPushTarget,
    )

    every = district_ids()
    people = {
        "a_pl_srodmiescie": (["water"], ["srodmiescie"], "pl"),
        "b_pl_zachod": (["water"], ["zachod"], "pl"),
        "c_en_whole_city": (["water"], [], "en"),
        "d_pl_other_category": (["electricity"], ["srodmiescie"], "pl"),
        "e_uk_two_districts": (["water"], ["srodmiescie", "plonska"], "uk"),
        "f_en_every_district": (["water", "roads"], every, "en"),
    }
    browsers = {name: Browser(push_service, name) for name in people}
    for name, (cats, dists, lang) in people.items():
        subscribe(client, browsers[name], categories=cats, districts=dists, lang=lang)

    calls: list[str] = []
    for model in (WebPushSubscription, WebPushTarget, WebPushClaim, WebPushOutboxRecord):
        model._get_connection().connection.client.meta.events.register(
            "before-call.dynamodb", lambda model, **_: calls.append(model.name))
    alert_id = publish(stack, client)
    assert drain_webpush(stack) == 2  # one message per text language (pl, en)

    assert "Query" in calls and "Scan" not in calls, calls
    got = {name: push_service.to(b.path) for name, b in browsers.items()}
    assert {n: len(v) for n, v in got.items()} == {
        "a_pl_srodmiescie": 1, "b_pl_zachod": 0, "c_en_whole_city": 1, "d_pl_other_category": 0,
        "e_uk_two_districts": 1, "f_en_every_district": 1}

    key = server_key(client)
    for name in ("a_pl_srodmiescie", "c_en_whole_city", "e_uk_two_districts"):
        request = got[name][0]
        message = browsers[name].read(request)
        check_vapid(request, push_service.url, key)
        assert request["headers"]["ttl"] == str(24 * 3600)
        assert request["headers"]["urgency"] == "normal"
        assert message["alert_id"] == alert_id
        assert message["url"] == f"https://informator.ciechanow.pl/alert.html?id={alert_id}"
        expected = "No water on Warszawska Street" if name.startswith("c_") else \
            "Brak wody na ul. Warszawskiej"
        assert message["title"] == expected  # the Ukrainian reader gets Polish: no uk text
    assert "Awaria wodociągu" in browsers["a_pl_srodmiescie"].read(got["a_pl_srodmiescie"][0])[
        "body"]


def test_emergency_is_urgent_and_reaches_everyone_in_the_district(
        stack: Stack, client: Any, push_service: PushService, local_stage: None) -> None:
    roads_only = Browser(push_service, "roads")
    subscribe(client, roads_only, categories=["roads"], districts=["srodmiescie"], lang="pl")
    publish(stack, client, category="emergency", severity="extreme",
            title={"pl": "Zagrożenie powodziowe"}, body={"pl": "Ewakuacja ul. Nadrzecznej."})
    drain_webpush(stack)
    [request] = push_service.to(roads_only.path)
    assert request["headers"]["urgency"] == "high"
    assert roads_only.read(request)["title"] == "Zagrożenie powodziowe"


@pytest.mark.parametrize("status", [404, 410])
def test_a_gone_subscription_is_deleted(stack: Stack, client: Any, push_service: PushService,
                                        local_stage: None, status: int) -> None:
    gone, alive = Browser(push_service, "gone"), Browser(push_service, "alive")
    sub = subscribe(client, gone, categories=["water"], districts=[], lang="pl")
    subscribe(client, alive, categories=["water"], districts=[], lang="pl")
    push_service.plan[gone.path] = [status]
    publish(stack, client)
    drain_webpush(stack)
    assert len(push_service.to(gone.path)) == 1 and len(push_service.to(alive.path)) == 1
    assert client.http.get(f"/v1/web-push/{sub['id']}",
                           headers={"X-Secret": sub["secret"]}).status_code == 404
    assert index_rows(stack, sub["id"]) == []
    publish(stack, client, title={"pl": "Drugi komunikat"})
    drain_webpush(stack)
    assert len(push_service.to(gone.path)) == 1 and len(push_service.to(alive.path)) == 2


@pytest.mark.parametrize("status", [429, 503])
def test_a_refused_push_is_retried_and_nobody_gets_it_twice(
        stack: Stack, client: Any, push_service: PushService, local_stage: None,
        status: int) -> None:
    busy, fine = Browser(push_service, "busy"), Browser(push_service, "fine")
    subscribe(client, busy, categories=["water"], districts=[], lang="pl")
    subscribe(client, fine, categories=["water"], districts=[], lang="pl")
    push_service.plan[busy.path] = [status, status]
    publish(stack, client, title={"pl": "Brak wody"}, body={"pl": "Awaria."})
    handled = drain_webpush(stack)  # the publish, then two retries of the refused browser only
    assert handled == 3
    assert [r["status"] for r in push_service.to(busy.path)] == [status, status, 201]
    assert len(push_service.to(fine.path)) == 1
    assert busy.read(push_service.to(busy.path)[-1])["title"] == "Brak wody"

    # SQS delivers the original message again: every push is already claimed
    sqs = stack.session.client("sqs")
    url = sqs.get_queue_url(QueueName=f"{PREFIX}-webpush")["QueueUrl"]
    from infra.outbox import sns_backend, topic_publishes

    [original] = topic_publishes(sns_backend())
    msg = json.loads(json.loads(next(iter(
        t for t in sns_backend().topics.values() if t.sent_notifications)).sent_notifications[0][1])
        ["default"])
    sqs.send_message(QueueUrl=url, MessageBody=json.dumps(msg, ensure_ascii=False),
                     MessageAttributes={k: {"DataType": v["Type"], "StringValue": str(v["Value"])}
                                        for k, v in original["attributes"].items()})
    assert drain_webpush(stack) == 1
    assert len(push_service.to(busy.path)) == 3 and len(push_service.to(fine.path)) == 1


def test_dev_outbox_lists_web_pushes(stack: Stack, client: Any, push_service: PushService,
                                     local_stage: None, monkeypatch: pytest.MonkeyPatch) -> None:
    from chalicelib.settings import reset_settings

    monkeypatch.setenv("DEV_OUTBOX", "1")
    reset_settings()
    stand_in = Browser(push_service, "stand-in")
    real = Browser(push_service, "real")
    real.endpoint = "https://fcm.googleapis.com/fcm/send/dev-outbox-test"
    local_sub = subscribe(client, stand_in, categories=["water"], districts=[], lang="pl")
    fcm_sub = subscribe(client, real, categories=["water"], districts=[], lang="pl")
    publish(stack, client, title={"pl": "Brak wody"}, body={"pl": "Awaria wodociągu."})
    drain_webpush(stack)
    web = [d for d in stack.outbox() if d["channel"] == "web"]
    assert sorted(d["to"] for d in web) == sorted([local_sub["id"], fcm_sub["id"]])
    assert all(d["text"] == "Brak wody — Awaria wodociągu." for d in web)
    assert all(datetime.fromisoformat(d["at"]).tzinfo is not None for d in web)
    assert len(push_service.to(stand_in.path)) == 1  # the loopback stand-in is really pushed


def test_import_app_does_not_load_the_push_libraries() -> None:
    code = ("import sys, app\n"
            "heavy = ('pywebpush', 'http_ece', 'py_vapid', 'aiohttp', 'cryptography', 'requests')\n"
            "print(sorted({m.split('.')[0] for m in sys.modules} & set(heavy)))\n")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                         check=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert out.stdout.strip() == "[]", out.stdout + out.stderr
