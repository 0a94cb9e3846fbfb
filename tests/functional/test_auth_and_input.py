"""Staff auth is the same everywhere (401/403), and bad input gets a clear 4xx, never a 500."""
from __future__ import annotations

import gzip
import json
import time
from pathlib import Path

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.conftest import Stack
from tests.functional.test_skeleton import water_alert


def _moto_private_key() -> tuple[object, str]:
    import moto.cognitoidp

    raw = (Path(moto.cognitoidp.__file__).parent / "resources" / "jwks-private.json.gz").read_bytes()
    jwk = json.loads(gzip.decompress(raw))
    return jwt.PyJWK(jwk).key, jwk["kid"]


def _claims(stack: Stack, **over: object) -> dict[str, object]:
    now = int(time.time())
    claims: dict[str, object] = {
        "iss": f"https://cognito-idp.eu-central-1.amazonaws.com/{stack.env['USER_POOL_ID']}",
        "sub": "abc", "aud": stack.env["USER_POOL_CLIENT_ID"], "token_use": "id",
        "cognito:groups": ["admin"], "email": "admin@local.test", "iat": now, "exp": now + 600}
    claims.update(over)
    return claims


def _status(client, token: str | None) -> tuple[int, dict]:  # type: ignore[no-untyped-def]
    headers = {"Authorization": token} if token is not None else {}
    r = client.http.get("/v1/admin/alerts", headers=headers)
    return r.status_code, json.loads(r.body)


def test_valid_tokens_pass(stack: Stack, client) -> None:
    key, kid = _moto_private_key()
    token = jwt.encode(_claims(stack), key, algorithm="RS256", headers={"kid": kid})
    assert _status(client, f"Bearer {token}")[0] == 200
    assert _status(client, f"Bearer {stack.token('editor')}")[0] == 200


@pytest.mark.parametrize("case", ["missing", "not-bearer", "malformed", "expired", "wrong-key",
                                  "wrong-issuer", "wrong-audience", "access-token", "alg-none"])
def test_bad_tokens_get_401(stack: Stack, client, case: str) -> None:
    key, kid = _moto_private_key()
    sign = lambda c, k=key, h=None: jwt.encode(c, k, algorithm="RS256",  # noqa: E731
                                               headers=h or {"kid": kid})
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    token = {
        "missing": None,
        "not-bearer": "Basic abc",
        "malformed": "Bearer not.a.jwt",
        "expired": "Bearer " + sign(_claims(stack, exp=int(time.time()) - 5)),
        "wrong-key": "Bearer " + sign(_claims(stack), other),
        "wrong-issuer": "Bearer " + sign(_claims(stack, iss="https://evil.example/pool")),
        "wrong-audience": "Bearer " + sign(_claims(stack, aud="someone-else")),
        "access-token": "Bearer " + sign(_claims(stack, token_use="access")),
        "alg-none": "Bearer " + jwt.encode(_claims(stack), None, algorithm="none",
                                           headers={"kid": kid}),
    }[case]
    status, body = _status(client, token)
    assert status == 401
    assert body["error"]["code"] == "unauthorized" and body["error"]["message"]


def test_token_without_the_needed_group_gets_403(stack: Stack, client) -> None:
    key, kid = _moto_private_key()
    for groups in ([], ["editor"], ["residents"]):
        token = jwt.encode(_claims(stack, **{"cognito:groups": groups}), key, algorithm="RS256",
                           headers={"kid": kid})
        r = client.http.post("/v1/admin/alerts/x/publish",
                             headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 403, groups
    no_group = jwt.encode(_claims(stack, **{"cognito:groups": []}), key, algorithm="RS256",
                          headers={"kid": kid})
    assert _status(client, f"Bearer {no_group}")[0] == 403


def _alert_count(client, stack: Stack) -> int:  # type: ignore[no-untyped-def]
    return len(json.loads(client.http.get("/v1/admin/alerts", headers=stack.auth("editor")).body)[
        "items"])


@pytest.mark.parametrize("body,ctype,status,field", [
    (b"{not json", "application/json", 400, None),
    (b"\xff\xfe", "application/json", 400, None),
    (b"[1, 2]", "application/json", 422, "body"),
    (b"x" * 70_000, "application/json", 413, None),
    (b"<alert/>", "application/xml", 415, None),
    (json.dumps(water_alert(category="volcano")).encode(), "application/json", 422, "category"),
    (json.dumps(water_alert(districts=["atlantis"])).encode(), "application/json", 422, "districts"),
    (json.dumps(water_alert(severity=5)).encode(), "application/json", 422, "severity"),
    (json.dumps(water_alert(title={"pl": ""})).encode(), "application/json", 422, "title.pl"),
    (json.dumps(water_alert(expires_at="tomorrow")).encode(), "application/json", 422, "expires_at"),
    (json.dumps({k: v for k, v in water_alert().items() if k != "expires_at"}).encode(),
     "application/json", 422, "expires_at"),
    (json.dumps(water_alert(districts="srodmiescie")).encode(), "application/json", 422, "districts"),
])
def test_bad_alert_bodies_get_a_clear_4xx_and_write_nothing(stack: Stack, client, body: bytes,
                                                             ctype: str, status: int,
                                                             field: str | None) -> None:
    headers = {**stack.auth("editor"), "Content-Type": ctype}
    r = client.http.post("/v1/admin/alerts", headers=headers, body=body)
    assert r.status_code == status, r.body
    err = json.loads(r.body)["error"]
    assert err["code"] and err["message"]
    if field:
        assert field in err["fields"]
    assert _alert_count(client, stack) == 0


def test_unknown_alert_is_404_and_unknown_method_405(stack: Stack, client) -> None:
    r = client.http.get("/v1/alerts/does-not-exist")
    assert r.status_code == 404 and json.loads(r.body)["error"]["code"] == "not_found"
    r = client.http.delete("/v1/categories")
    assert r.status_code == 405 and "error" in json.loads(r.body)


def test_openapi_describes_every_route(client) -> None:
    from app import app

    spec = json.loads(client.http.get("/v1/openapi.json").body)
    assert spec["openapi"].startswith("3.")
    for path, methods in app.routes.items():
        assert path in spec["paths"], path
        for method in methods:
            assert method.lower() in spec["paths"][path], (path, method)
    assert set(spec["paths"]) == set(app.routes)
