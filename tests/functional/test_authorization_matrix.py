"""Every route × {anonymous, another resource's secret, editor, publisher, admin}.

The matrix is built from Chalice's route table itself: a route missing from ACCESS fails the
test, so a new route cannot be left out of the authorization review.
"""
from __future__ import annotations

import base64
import json
import os
import re

import pytest

from tests.conftest import Stack

PUBLIC, SECRET, PUBLIC_OR_SECRET = "public", "secret", "public-or-secret"
API_KEY = "api-key"  # Open311 submissions: an admin-issued api_key form field, nothing else
EDITOR, PUBLISHER, ADMIN = "editor", "publisher", "admin"
RANK = {EDITOR: 1, PUBLISHER: 2, ADMIN: 3}

ACCESS: dict[tuple[str, str], str] = {
    # public reading and residents' front doors
    ("/v1/categories", "GET"): PUBLIC, ("/v1/districts", "GET"): PUBLIC,
    ("/v1/report-categories", "GET"): PUBLIC, ("/v1/openapi.json", "GET"): PUBLIC,
    ("/v1/alerts", "GET"): PUBLIC, ("/v1/alerts/{alert_id}", "GET"): PUBLIC,
    ("/v1/alerts/{alert_id}/cap", "GET"): PUBLIC, ("/v1/feeds/alerts.atom", "GET"): PUBLIC,
    ("/v1/sms-subscriptions", "POST"): PUBLIC, ("/v1/sms-subscriptions/confirm", "POST"): PUBLIC,
    ("/v1/sms-subscriptions/leave", "POST"): PUBLIC,
    ("/v1/devices", "POST"): PUBLIC, ("/v1/web-push", "POST"): PUBLIC,
    ("/v1/web-push/key", "GET"): PUBLIC,
    ("/v1/reports", "GET"): PUBLIC, ("/v1/reports", "POST"): PUBLIC,
    ("/v1/reports/nearby", "GET"): PUBLIC, ("/v1/reports/{report_id}/follow", "POST"): PUBLIC,
    ("/open311/v2/{name}", "GET"): PUBLIC, ("/open311/v2/{name}", "POST"): API_KEY,
    ("/open311/v2/requests/{name}", "GET"): PUBLIC,
    ("/open311/v2/services/{name}", "GET"): PUBLIC,
    ("/open311/v2/tokens/{name}", "GET"): PUBLIC,
    # a resident's own resources: the secret in X-Secret
    ("/v1/reports/{report_id}", "GET"): PUBLIC_OR_SECRET,
    ("/v1/devices/{device_id}", "GET"): SECRET, ("/v1/devices/{device_id}", "PUT"): SECRET,
    ("/v1/devices/{device_id}", "DELETE"): SECRET,
    ("/v1/web-push/{sub_id}", "GET"): SECRET, ("/v1/web-push/{sub_id}", "PUT"): SECRET,
    ("/v1/web-push/{sub_id}", "DELETE"): SECRET,
    ("/v1/reports/{report_id}/messages", "POST"): SECRET,
    ("/v1/reports/{report_id}/reopen", "POST"): SECRET,
    ("/v1/reports/{report_id}/contact/confirm", "POST"): SECRET,
    # staff
    ("/v1/admin/me", "GET"): EDITOR,
    ("/v1/admin/alerts", "GET"): EDITOR, ("/v1/admin/alerts", "POST"): EDITOR,
    ("/v1/admin/alerts/preview", "POST"): EDITOR,
    ("/v1/admin/alerts/{alert_id}", "GET"): EDITOR, ("/v1/admin/alerts/{alert_id}", "PATCH"): EDITOR,
    ("/v1/admin/alerts/{alert_id}/versions", "GET"): EDITOR,
    ("/v1/admin/alerts/{alert_id}/publish", "POST"): PUBLISHER,
    ("/v1/admin/alerts/{alert_id}/approve", "POST"): PUBLISHER,
    ("/v1/admin/alerts/{alert_id}/update", "POST"): PUBLISHER,
    ("/v1/admin/alerts/{alert_id}/cancel", "POST"): PUBLISHER,
    ("/v1/admin/alerts/{alert_id}/test", "POST"): PUBLISHER,
    ("/v1/admin/reports", "GET"): EDITOR, ("/v1/admin/reports/{report_id}", "GET"): EDITOR,
    ("/v1/admin/reports/{report_id}", "PATCH"): EDITOR,
    ("/v1/admin/reports/{report_id}/messages", "POST"): EDITOR,
    ("/v1/admin/report-blocks/{device_id}", "PUT"): EDITOR,
    ("/v1/admin/report-blocks/{device_id}", "DELETE"): EDITOR,
    ("/v1/admin/sms-subscriptions", "POST"): EDITOR,
    ("/v1/admin/subscribers/counts", "GET"): EDITOR,
    ("/v1/admin/subscribers/import", "POST"): ADMIN,
    ("/v1/admin/audit", "GET"): ADMIN,
    ("/v1/admin/settings", "GET"): ADMIN, ("/v1/admin/settings", "PUT"): ADMIN,
    ("/v1/admin/staff", "GET"): ADMIN, ("/v1/admin/staff", "POST"): ADMIN,
    ("/v1/admin/staff/{email}", "PATCH"): ADMIN,
    ("/v1/admin/feeds", "GET"): ADMIN, ("/v1/admin/feeds/{feed_id}", "GET"): ADMIN,
    ("/v1/admin/feeds/{feed_id}", "PUT"): ADMIN, ("/v1/admin/feeds/{feed_id}", "DELETE"): ADMIN,
    ("/v1/admin/feeds/{feed_id}/run", "POST"): ADMIN,
    ("/v1/admin/open311-keys", "GET"): ADMIN, ("/v1/admin/open311-keys", "POST"): ADMIN,
    ("/v1/admin/open311-keys/{key_id}", "DELETE"): ADMIN,
}


def _routes() -> list[tuple[str, str]]:
    from app import app

    return sorted((path, method) for path, methods in app.routes.items() for method in methods)


def test_every_route_has_a_declared_access_rule() -> None:
    missing = [r for r in _routes() if r not in ACCESS]
    stale = [r for r in ACCESS if r not in _routes()]
    assert not missing, f"routes without an access rule: {missing}"
    assert not stale, f"access rules for routes that no longer exist: {stale}"


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _resources(client, n: int) -> dict[str, list[tuple[str, str]]]:  # type: ignore[no-untyped-def]
    """n of each resident resource: (id, secret)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    out: dict[str, list[tuple[str, str]]] = {"device_id": [], "sub_id": [], "report_id": []}
    for i in range(n):
        r = client.http.post("/v1/devices", headers={"Content-Type": "application/json"},
                             body=json.dumps({"platform": "fcm", "token": f"token-{i}-" + "x" * 40,
                                              "categories": ["water"], "districts": []}))
        assert r.status_code == 201, r.body
        d = json.loads(r.body)
        out["device_id"].append((d["id"], d["secret"]))
        key = ec.generate_private_key(ec.SECP256R1()).public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
        r = client.http.post("/v1/web-push", headers={"Content-Type": "application/json"},
                             body=json.dumps({"endpoint": f"https://fcm.googleapis.com/fcm/send/matrix-{i}",
                                              "keys": {"p256dh": _b64(key), "auth": _b64(os.urandom(16))},
                                              "categories": ["water"], "districts": []}))
        assert r.status_code == 201, r.body
        w = json.loads(r.body)
        out["sub_id"].append((w["id"], w["secret"]))
        r = client.http.post("/v1/reports", headers={"Content-Type": "application/json"},
                             body=json.dumps({"category": "road_damage", "photos": 0,
                                              "description": "Dziura w jezdni na ul. Płońskiej.",
                                              "lat": 52.875, "lon": 20.61}))
        assert r.status_code == 201, r.body
        rep = json.loads(r.body)
        out["report_id"].append((rep["id"], rep["secret"]))
    return out


def _call(client, method: str, path: str, headers: dict[str, str]):  # type: ignore[no-untyped-def]
    body = json.dumps({}) if method in ("POST", "PUT", "PATCH") else None
    return client.http.request(method, path, headers={"Content-Type": "application/json",
                                                      **headers}, body=body)


def test_authorization_matrix(stack: Stack, client) -> None:
    res = _resources(client, 2)
    tokens = {role: {"Authorization": f"Bearer {stack.token(role)}"} for role in RANK}
    failures: list[str] = []

    def expect(ok: bool, what: str) -> None:
        if not ok:
            failures.append(what)

    for path, method in _routes():
        rule = ACCESS[(path, method)]
        params = re.findall(r"{(\w+)}", path)
        mine = {p: res[p][0] if p in res else ("nobody@local.test" if p == "email" else "x1")
                for p in params}
        url = path
        for p, v in mine.items():
            url = url.replace("{" + p + "}", v[0] if isinstance(v, tuple) else v)
        other_secret = {"X-Secret": next((res[p][1][1] for p in params if p in res),
                                         "not-a-secret")}
        who = f"{method} {path}"
        if rule == API_KEY:  # a form without a valid key: refused for everyone, staff included
            form = {"Content-Type": "application/x-www-form-urlencoded"}
            body = ("service_code=road_damage&lat=52.875&long=20.61&description=Dziura"
                    "&api_key=not-a-key-0123456789")
            got = [client.http.post(path.replace("{name}", "requests.json"), body=body,
                                    headers={**h, **form}).status_code
                   for h in ({}, other_secret, *tokens.values())]
            expect(all(s == 403 for s in got), f"{who}: without a valid api_key got {got}")
            continue
        anon = _call(client, method, url, {}).status_code
        foreign = _call(client, method, url, other_secret).status_code
        by_role = {role: _call(client, method, url, tokens[role]).status_code for role in RANK}
        if rule == PUBLIC:
            expect(anon not in (401, 403), f"{who}: anonymous got {anon}")
            expect(anon < 500 and all(s < 500 for s in by_role.values()), f"{who}: 5xx")
        elif rule == PUBLIC_OR_SECRET:
            expect(anon == 200, f"{who}: anonymous public view got {anon}")
            expect(foreign == 403, f"{who}: another resource's secret got {foreign}")
        elif rule == SECRET:
            expect(anon == 403, f"{who}: no secret got {anon}")
            expect(foreign == 403, f"{who}: another resource's secret got {foreign}")
            expect(all(s == 403 for s in by_role.values()),
                   f"{who}: a staff token is not a resident's secret: {by_role}")
        else:
            expect(anon == 401, f"{who}: anonymous got {anon}")
            expect(foreign == 401, f"{who}: a resident's secret got {foreign}")
            for role, status in by_role.items():
                if RANK[role] < RANK[rule]:
                    expect(status == 403, f"{who}: {role} got {status}, wanted 403")
                else:
                    expect(status not in (401, 403) and status < 500,
                           f"{who}: {role} got {status}")
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize("kind", ["device_id", "sub_id", "report_id"])
def test_own_secret_opens_own_resource(stack: Stack, client, kind: str) -> None:
    res = _resources(client, 1)
    rid, secret = res[kind][0]
    path = {"device_id": f"/v1/devices/{rid}", "sub_id": f"/v1/web-push/{rid}",
            "report_id": f"/v1/reports/{rid}"}[kind]
    r = client.http.get(path, headers={"X-Secret": secret})
    assert r.status_code == 200, r.body
    r = client.http.get(path.rsplit("/", 1)[0] + "/unknown-id", headers={"X-Secret": secret})
    assert r.status_code == 404
