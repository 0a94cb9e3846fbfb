"""/v1/admin/feeds over chalice.test.Client: admin-only, PUT creates or replaces, 422 naming
every bad field, run now answers the run's counts."""
from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from tests.conftest import Stack

FEED = {"adapter": "imgw_meteo", "url": "https://danepubliczne.imgw.pl/api/data/warningsmeteo"}


def put(client: Any, stack: Stack, feed_id: str, body: Any, role: str = "admin") -> Any:
    return client.http.put(f"/v1/admin/feeds/{feed_id}", headers=stack.auth(role),
                           body=json.dumps(body))


def test_admin_only(stack: Stack, client: Any) -> None:
    assert put(client, stack, "meteo", FEED).status_code == 201
    calls = [("GET", "/v1/admin/feeds"), ("GET", "/v1/admin/feeds/meteo"),
             ("PUT", "/v1/admin/feeds/meteo"), ("DELETE", "/v1/admin/feeds/meteo"),
             ("POST", "/v1/admin/feeds/meteo/run")]
    for method, path in calls:
        anon = client.http.request(method, path, headers={"Content-Type": "application/json"},
                                   body=json.dumps(FEED))
        assert anon.status_code == 401, (method, path)
        assert json.loads(anon.body)["error"]["code"] == "unauthorized"
        for role in ("editor", "publisher"):
            resp = client.http.request(method, path, headers=stack.auth(role),
                                       body=json.dumps(FEED))
            assert resp.status_code == 403, (method, path, role)
            assert json.loads(resp.body)["error"]["code"] == "forbidden"
    assert client.http.get("/v1/admin/feeds/meteo", headers=stack.auth("admin")).status_code == 200


def test_put_creates_with_defaults_then_replaces_keeping_run_state(stack: Stack,
                                                                   client: Any) -> None:
    resp = put(client, stack, "meteo", FEED)
    assert resp.status_code == 201, resp.body
    feed = json.loads(resp.body)
    assert feed == {**feed, "id": "meteo", "name": "meteo", "schedule": 15, "category": None,
                    "districts": [], "auto_publish": False, "enabled": True, "options": {},
                    "last_run_at": None, "last_error": None, "consecutive_failures": 0}
    assert feed["updated_by"] == "admin@local.test"

    from chalicelib.services import feeds

    feeds.run_feed("meteo", fetch=lambda url: (500, b"oops"))
    replaced = {**FEED, "schedule": 30, "category": "weather", "districts": ["srodmiescie"],
                "auto_publish": True, "options": {"teryt": "1402"}}
    resp = put(client, stack, "meteo", replaced)
    assert resp.status_code == 200, resp.body
    # PUT replaces the settings: omitted fields go back to their defaults
    resp = put(client, stack, "meteo", {**FEED, "enabled": False})
    got = json.loads(client.http.get("/v1/admin/feeds/meteo", headers=stack.auth("admin")).body)
    assert got["schedule"] == 15 and got["category"] is None and got["districts"] == []
    assert got["enabled"] is False and got["options"] == {}
    assert got["last_error"] and got["consecutive_failures"] == 1  # run state survives a PUT
    # a GET answer can be PUT back as it is
    assert put(client, stack, "meteo", got).status_code == 200

    listed = json.loads(client.http.get("/v1/admin/feeds", headers=stack.auth("admin")).body)
    assert [f["id"] for f in listed["items"]] == ["meteo"]


def test_delete(stack: Stack, client: Any) -> None:
    put(client, stack, "meteo", FEED)
    resp = client.http.delete("/v1/admin/feeds/meteo", headers=stack.auth("admin"))
    assert resp.status_code == 204
    resp = client.http.get("/v1/admin/feeds/meteo", headers=stack.auth("admin"))
    assert resp.status_code == 404 and json.loads(resp.body)["error"]["code"] == "not_found"
    assert client.http.delete("/v1/admin/feeds/meteo",
                              headers=stack.auth("admin")).status_code == 404
    assert client.http.post("/v1/admin/feeds/meteo/run",
                            headers=stack.auth("admin")).status_code == 404


BAD = [
    ({"adapter": "rss2"}, ["adapter"]),
    ({"adapter": None}, ["adapter"]),
    ({"url": "http://example.org/feed"}, ["url"]),
    ({"url": "ftp://example.org/feed"}, ["url"]),
    ({"url": "https://127.0.0.1/feed"}, ["url"]),
    ({"url": "https://10.1.2.3/feed"}, ["url"]),
    ({"url": "https://localhost:8080/feed"}, ["url"]),
    ({"url": "https://user:pw@example.org/"}, ["url"]),
    ({"url": ""}, ["url"]),
    ({"schedule": 1}, ["schedule"]),
    ({"schedule": 100000}, ["schedule"]),
    ({"schedule": "15"}, ["schedule"]),
    ({"schedule": True}, ["schedule"]),
    ({"category": "floods"}, ["category"]),
    ({"districts": ["atlantyda"]}, ["districts"]),
    ({"districts": "srodmiescie"}, ["districts"]),
    ({"auto_publish": "yes"}, ["auto_publish"]),
    ({"options": ["teryt"]}, ["options"]),
    ({"options": {"default_hours": 0}}, ["options.default_hours"]),
    ({"colour": "red"}, ["colour"]),
    ({"adapter": "x", "url": "http://x", "schedule": 0, "category": "y"},
     ["adapter", "url", "schedule", "category"]),
]


@pytest.mark.parametrize(("change", "fields"), BAD, ids=[",".join(b[1]) + str(i)
                                                           for i, b in enumerate(BAD)])
def test_bad_feed_bodies_are_422_naming_each_field_and_store_nothing(
        stack: Stack, client: Any, change: dict[str, Any], fields: list[str]) -> None:
    resp = put(client, stack, "meteo", {**FEED, **change})
    assert resp.status_code == 422, resp.body
    err = json.loads(resp.body)["error"]
    assert err["code"] == "invalid" and sorted(err["fields"]) == sorted(fields)
    assert client.http.get("/v1/admin/feeds/meteo",
                           headers=stack.auth("admin")).status_code == 404


def test_bad_ids_and_bodies(stack: Stack, client: Any) -> None:
    resp = put(client, stack, "Bad_Id!", FEED)
    assert resp.status_code == 422 and "id" in json.loads(resp.body)["error"]["fields"]
    resp = put(client, stack, "meteo", [FEED])
    assert resp.status_code == 422
    resp = client.http.put("/v1/admin/feeds/meteo", headers=stack.auth("admin"), body="{nope")
    assert resp.status_code == 400 and json.loads(resp.body)["error"]["code"] == "bad_request"


def test_http_urls_are_allowed_in_the_local_stage_only(stack: Stack, client: Any,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    from chalicelib.settings import reset_settings

    monkeypatch.setenv("STAGE", "local")
    reset_settings()
    assert put(client, stack, "local", {**FEED, "url": "http://127.0.0.1:8080/dev/feeds/x.json"}
               ).status_code == 201


class _Source(BaseHTTPRequestHandler):
    """A loopback stand-in for IMGW (no internet in tests)."""

    payload: bytes = b"[]"
    status: int = 200

    def do_GET(self) -> None:  # noqa: N802
        self.send_response(self.status)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(self.payload)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def source(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, type[_Source]]]:
    from chalicelib.settings import reset_settings

    monkeypatch.setenv("STAGE", "local")  # the only stage that may fetch from 127.0.0.1
    reset_settings()
    handler = type("Source", (_Source,), {})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/warningsmeteo", handler
    finally:
        server.shutdown()
        server.server_close()


def _warning(wid: str) -> dict[str, Any]:
    t = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)

    def fmt(dt: datetime) -> str:
        from zoneinfo import ZoneInfo

        return dt.astimezone(ZoneInfo("Europe/Warsaw")).strftime("%Y-%m-%d %H:%M:%S")

    return {"id": wid, "nazwa_zdarzenia": "Silny wiatr", "stopien": "2",
            "prawdopodobienstwo": "80", "obowiazuje_od": fmt(t - timedelta(hours=1)),
            "obowiazuje_do": fmt(t + timedelta(hours=12)), "opublikowano": fmt(t),
            "tresc": "Porywy do 90 km/h.", "komentarz": "", "biuro": "CBPM",
            "teryt": ["1402"]}


def test_run_now_answers_the_runs_counts(stack: Stack, client: Any,
                                         source: tuple[str, type[_Source]]) -> None:
    url, handler = source
    handler.payload = json.dumps([_warning("Wa1")]).encode()
    assert put(client, stack, "meteo", {**FEED, "url": url, "auto_publish": True}
               ).status_code == 201
    resp = client.http.post("/v1/admin/feeds/meteo/run", headers=stack.auth("admin"))
    assert resp.status_code == 200, resp.body
    out = json.loads(resp.body)
    assert out == {**out, "ok": True, "created": 1, "updated": 0, "cancelled": 0,
                   "unchanged": 0, "errors": []}
    public = json.loads(client.http.get("/v1/alerts?category=weather").body)["items"]
    assert [a["title"] for a in public] == ["Silny wiatr – ostrzeżenie 2. stopnia"]
    assert public[0]["source"] == "meteo"

    out = json.loads(client.http.post("/v1/admin/feeds/meteo/run",
                                      headers=stack.auth("admin")).body)
    assert out["unchanged"] == 1 and out["created"] == 0

    # IMGW's "no warnings" answer is a 404 with a known body: the warning ends
    handler.status, handler.payload = 404, b'{"status":false,"message":"No products were found"}'
    out = json.loads(client.http.post("/v1/admin/feeds/meteo/run",
                                      headers=stack.auth("admin")).body)
    assert out["ok"] and out["cancelled"] == 1
    assert json.loads(client.http.get("/v1/alerts?category=weather").body)["items"] == []

    # any other error answer: recorded on the feed, visible to admins
    handler.status, handler.payload = 502, b"<html>Bad Gateway</html>"
    out = json.loads(client.http.post("/v1/admin/feeds/meteo/run",
                                      headers=stack.auth("admin")).body)
    assert not out["ok"] and "502" in out["errors"][0]
    feed = json.loads(client.http.get("/v1/admin/feeds/meteo", headers=stack.auth("admin")).body)
    assert "502" in feed["last_error"] and feed["consecutive_failures"] == 1


def test_an_oversized_answer_is_refused(stack: Stack, source: tuple[str, type[_Source]],
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    from chalicelib.services import feeds

    url, handler = source
    handler.payload = b"[" + b" " * 2048 + b"]"
    with pytest.raises(feeds.FetchError, match="larger than 1024"):
        feeds.http_fetch(url, max_bytes=1024)
    assert feeds.http_fetch(url, max_bytes=4096) == (200, handler.payload)


def test_outside_the_local_stage_private_addresses_are_never_fetched(stack: Stack) -> None:
    from chalicelib.services import feeds

    for url in ("http://example.org/x", "https://127.0.0.1/x", "https://192.168.1.1/x",
                "file:///etc/passwd"):
        with pytest.raises(feeds.FetchError):
            feeds.http_fetch(url)


def test_openapi_describes_the_feed_routes(client: Any) -> None:
    spec = json.loads(client.http.get("/v1/openapi.json").body)
    assert {"get", "put", "delete"} <= set(spec["paths"]["/v1/admin/feeds/{feed_id}"])
    assert "post" in spec["paths"]["/v1/admin/feeds/{feed_id}/run"]
    assert "get" in spec["paths"]["/v1/admin/feeds"]
    body = spec["paths"]["/v1/admin/feeds/{feed_id}"]["put"]["requestBody"]
    assert body["content"]["application/json"]["schema"]["$ref"].endswith("/FeedInput")


def test_importing_the_app_loads_no_feed_parser() -> None:
    import subprocess
    import sys

    code = ("import app, sys; assert 'feedparser' not in sys.modules and "
            "'defusedxml' not in sys.modules, sorted(m for m in sys.modules if 'xml' in m)")
    subprocess.run([sys.executable, "-c", code], check=True)
