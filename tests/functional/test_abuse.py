"""SMS pumping and payload caps: a burst gets no more than the configured limit through."""
from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

from chalicelib.errors import TooManyRequests
from tests.conftest import Stack


def test_a_burst_of_100_code_requests_from_one_client_sends_at_most_the_limit(stack: Stack,
                                                                             monkeypatch) -> None:
    from chalicelib.services import subscriptions
    from chalicelib.settings import reset_settings

    monkeypatch.setenv("IP_LIMIT_PER_HOUR", "7")
    reset_settings()

    def ask(i: int) -> str:
        try:
            subscriptions.request_code(f"+4850020{i:03d}1", "subscribe",
                                       {"categories": ["water"], "districts": [], "lang": "pl"},
                                       "203.0.113.9")
            return "sent"
        except TooManyRequests as exc:
            assert exc.headers["Retry-After"].isdigit()
            return "429"

    with ThreadPoolExecutor(max_workers=10) as pool:
        results = list(pool.map(ask, range(100)))
    assert results.count("sent") == 7
    assert results.count("429") == 93
    codes = [d for d in stack.outbox() if d["channel"] == "sms" and "kod" in d["text"].lower()]
    assert len(codes) == 7
    # another client address is not held back by the first one's limit
    subscriptions.request_code("+48500209988", "subscribe", {"categories": []}, "198.51.100.1")


def test_over_the_http_limit_the_answer_is_429_with_retry_after(stack: Stack, client,
                                                                monkeypatch) -> None:
    from chalicelib.settings import reset_settings

    monkeypatch.setenv("IP_LIMIT_PER_HOUR", "3")
    reset_settings()
    statuses = []
    for i in range(6):
        r = client.http.post("/v1/sms-subscriptions", headers={"Content-Type": "application/json"},
                             body=json.dumps({"phone": f"+4850030{i:03d}1", "categories": ["water"],
                                              "districts": [], "lang": "pl"}))
        statuses.append(r.status_code)
        if r.status_code == 429:
            assert int(r.headers["Retry-After"]) > 0
            assert json.loads(r.body)["error"]["code"] == "too_many_requests"
    assert statuses == [202, 202, 202, 429, 429, 429]


def test_payload_caps_hold_on_every_resident_front_door(stack: Stack, client) -> None:
    big = json.dumps({"description": "x" * 80_000})
    for path in ("/v1/sms-subscriptions", "/v1/devices", "/v1/reports", "/v1/web-push"):
        r = client.http.post(path, headers={"Content-Type": "application/json"}, body=big)
        assert r.status_code == 413, (path, r.status_code)
        assert json.loads(r.body)["error"]["code"] == "payload_too_large"
    r = client.http.post("/v1/reports", headers={"Content-Type": "application/json"},
                         body=json.dumps({"category": "other", "description": "y" * 4001,
                                          "lat": 52.875, "lon": 20.61, "photos": 0}))
    assert r.status_code == 422 and "description" in json.loads(r.body)["error"]["fields"]
    r = client.http.post("/v1/reports", headers={"Content-Type": "application/json"},
                         body=json.dumps({"category": "other", "description": "ok",
                                          "lat": 52.875, "lon": 20.61, "photos": 6}))
    assert r.status_code == 422 and "photos" in json.loads(r.body)["error"]["fields"]
