"""Open311 GeoReport v2 in both formats, checked against the spec's required fields."""
from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

from defusedxml import ElementTree

from tests.conftest import Stack

FORM = {"Content-Type": "application/x-www-form-urlencoded"}
SERVICE_FIELDS = {"service_code", "service_name", "description", "metadata", "type", "keywords",
                  "group"}
REQUEST_FIELDS = {"service_request_id", "status", "status_notes", "service_name", "service_code",
                  "description", "agency_responsible", "service_notice", "requested_datetime",
                  "updated_datetime", "expected_datetime", "address", "address_id", "zipcode",
                  "lat", "long", "media_url"}


def get(client: Any, path: str) -> Any:
    return client.http.get(f"/open311/v2/{path}")


def submit(client: Any, fields: dict[str, str], fmt: str = "json") -> Any:
    return client.http.post(f"/open311/v2/requests.{fmt}", headers=FORM, body=urlencode(fields))


def xml(resp: Any) -> Any:
    assert resp.headers["Content-Type"].startswith("text/xml")
    return ElementTree.fromstring(resp.body)


def issue_key(stack: Stack, client: Any, name: str = "Aplikacja FixMyStreet") -> dict[str, Any]:
    r = client.http.post("/v1/admin/open311-keys", headers=stack.auth("admin"),
                         body=json.dumps({"name": name}))
    assert r.status_code == 201, r.body
    return dict(json.loads(r.body))


KEY: dict[str, str] = {}


def pothole(**over: str) -> dict[str, str]:
    fields = {"service_code": "road_damage", "lat": "52.881", "long": "20.62",
              "description": "Wyrwa w asfalcie", "address_string": "ul. Płońska 5",
              "email": "jan@example.pl", "api_key": KEY.get("key", "")}
    fields.update(over)
    return fields


def test_discovery_in_json_and_xml(client: Any) -> None:
    doc = json.loads(get(client, "discovery.json").body)
    assert {"changeset", "contact", "endpoints"} <= set(doc)
    ep = doc["endpoints"][0]
    assert ep["specification"] == "http://wiki.open311.org/GeoReport_v2"
    assert ep["url"].endswith("/open311/v2") and ep["type"] == "production"
    assert set(ep["formats"]) == {"application/json", "text/xml"}
    root = xml(get(client, "discovery.xml"))
    assert root.tag == "discovery"
    assert root.find("endpoints/endpoint/specification").text == ep["specification"]
    assert [f.text for f in root.findall("endpoints/endpoint/formats/format")] == ep["formats"]


def test_services_are_the_report_categories_in_both_formats(client: Any) -> None:
    codes = [c["id"] for c in json.loads(client.http.get("/v1/report-categories").body)["items"]]
    services = json.loads(get(client, "services.json").body)
    assert [s["service_code"] for s in services] == codes
    assert all(SERVICE_FIELDS <= set(s) and s["metadata"] is False and s["type"] == "realtime"
               for s in services)
    assert services[0]["service_name"] == "Uszkodzona droga lub chodnik"
    en = json.loads(get(client, "services.json?locale=en").body)
    assert en[0]["service_name"] == "Road or pavement damage"
    root = xml(get(client, "services.xml"))
    assert root.tag == "services"
    assert [s.findtext("service_code") for s in root.findall("service")] == codes
    assert all({c.tag for c in s} >= SERVICE_FIELDS for s in root.findall("service"))
    assert root.find("service/metadata").text == "false"
    definition = json.loads(get(client, "services/waste.json").body)
    assert definition == {"service_code": "waste", "attributes": []}
    assert xml(get(client, "services/waste.xml")).findtext("service_code") == "waste"
    r = get(client, "services/nope.json")
    assert r.status_code == 404 and json.loads(r.body)[0]["code"] == 404
    assert get(client, "services.html").status_code == 404


def test_a_request_submitted_by_form_is_read_back_in_both_formats(stack: Stack,
                                                                  client: Any) -> None:
    KEY.update(issue_key(stack, client))
    r = submit(client, pothole(media_url="https://example.org/dziura.jpg"))
    assert r.status_code == 201, r.body
    created = json.loads(r.body)
    rid = created[0]["service_request_id"]
    assert rid
    one = json.loads(get(client, f"requests/{rid}.json").body)
    assert len(one) == 1 and REQUEST_FIELDS <= set(one[0])
    item = one[0]
    assert item["status"] == "open" and item["service_code"] == "road_damage"
    assert item["lat"] == 52.881 and item["long"] == 20.62
    assert item["media_url"] == "https://example.org/dziura.jpg"  # stored, never fetched
    assert item["address"] == "ul. Płońska 5" and "jan@example.pl" not in r.body.decode()
    root = xml(get(client, f"requests/{rid}.xml"))
    assert root.tag == "service_requests"
    req = root.find("request")
    assert {c.tag for c in req} >= REQUEST_FIELDS and req.findtext("service_request_id") == rid
    assert req.findtext("status") == "open"
    # the same report through the app's API, and the staff's inbox
    assert json.loads(client.http.get(f"/v1/reports/{rid}").body)["category"] == "road_damage"
    inbox = json.loads(client.http.get("/v1/admin/reports", headers=stack.auth("editor")).body)
    assert [i["source"] for i in inbox["items"]] == ["open311"]
    token = json.loads(get(client, f"tokens/{rid}.json").body)
    assert token[0]["service_request_id"] == rid
    xml_created = xml(submit(client, pothole(), "xml"))
    assert xml_created.find("request/service_request_id").text


def test_submission_errors_are_the_spec_list_with_http_codes(stack: Stack, client: Any) -> None:
    KEY.update(issue_key(stack, client))
    cases = [(pothole(service_code=""), 400, "service_code"),
             (pothole(service_code="potholes"), 404, "potholes"),
             (pothole(lat="", long=""), 400, "lat"),
             (pothole(lat="52.2297", long="21.0122"), 400, "outside"),
             (pothole(description=""), 400, "description"),
             (pothole(media_url="file:///etc/passwd"), 400, "media_url")]
    for fields, status, word in cases:
        r = submit(client, fields)
        assert r.status_code == status, (fields, r.body)
        body = json.loads(r.body)
        assert isinstance(body, list) and set(body[0]) == {"code", "description"}
        assert body[0]["code"] == status and word in body[0]["description"], body
    r = submit(client, pothole(service_code=""), "xml")
    root = xml(r)
    assert root.tag == "errors" and root.findtext("error/code") == "400"
    r = client.http.post("/open311/v2/requests.json", headers={"Content-Type": "application/json"},
                         body=json.dumps(pothole()))
    assert r.status_code == 415
    r = client.http.post("/open311/v2/requests.json", headers=FORM, body=b"service_code=%ff")
    assert r.status_code == 400
    assert json.loads(get(client, "requests.json").body) == []  # nothing was half-written


def test_request_lists_filter_by_status_code_and_dates(stack: Stack, client: Any) -> None:
    KEY.update(issue_key(stack, client))
    ids = [json.loads(submit(client, pothole(service_code=code)).body)[0]["service_request_id"]
           for code in ("road_damage", "waste", "road_damage")]
    r = client.http.patch(f"/v1/admin/reports/{ids[0]}", headers=stack.auth("editor"),
                          body=json.dumps({"status": "resolved", "public_note": "Załatane."}))
    assert r.status_code == 200

    def listed(q: str) -> list[dict[str, Any]]:
        resp = get(client, f"requests.json{q}")
        assert resp.status_code == 200, resp.body
        return list(json.loads(resp.body))

    assert {i["service_request_id"] for i in listed("")} == set(ids)
    closed = listed("?status=closed")
    assert [i["service_request_id"] for i in closed] == [ids[0]]
    assert closed[0]["status_notes"] == "Załatane."
    assert {i["service_request_id"] for i in listed("?status=open")} == set(ids[1:])
    assert [i["service_request_id"] for i in listed("?service_code=waste")] == [ids[1]]
    assert listed("?start_date=2099-01-01T00:00:00Z") == []
    assert len(listed("?end_date=2099-01-01T00:00:00Z")) == 3
    assert listed("?start_date=2099-01-01T00:00:00Z&end_date=2000-01-01T00:00:00Z") == []
    assert len(listed("?page_size=2")) == 2 and len(listed("?page_size=2&page=2")) == 1
    picked = listed(f"?service_request_id={ids[1]},{ids[2]}")
    assert {i["service_request_id"] for i in picked} == {ids[1], ids[2]}
    for bad in ("?start_date=yesterday", "?status=pending", "?service_code=nope", "?page=0"):
        r = get(client, f"requests.json{bad}")
        assert r.status_code == 400 and json.loads(r.body)[0]["code"] == 400, bad
    hidden = client.http.patch(f"/v1/admin/reports/{ids[2]}", headers=stack.auth("editor"),
                               body=json.dumps({"hidden": True}))
    assert hidden.status_code == 200
    assert ids[2] not in {i["service_request_id"] for i in listed("")}
    assert get(client, f"requests/{ids[2]}.json").status_code == 404
    root = xml(get(client, "requests.xml?status=closed"))
    assert [r.findtext("service_request_id") for r in root.findall("request")] == [ids[0]]


def test_submitting_needs_an_admin_issued_key_shown_once_and_stored_hashed(
        stack: Stack, client: Any) -> None:
    from chalicelib.models.ops import SettingModel

    KEY.clear()
    for fields in (pothole(), pothole(api_key="made-up-key-0123456789")):
        for fmt in ("json", "xml"):
            r = submit(client, fields, fmt)
            assert r.status_code == 403, r.body
            if fmt == "json":
                err = json.loads(r.body)
                assert err[0]["code"] == 403 and "api_key" in err[0]["description"]
            else:
                assert xml(r).findtext("error/code") == "403"
    # a staff token is no API key
    r = client.http.post("/open311/v2/requests.json", body=urlencode(pothole()),
                         headers={**stack.auth("admin"), **FORM})
    assert r.status_code == 403
    assert json.loads(get(client, "requests.json").body) == []  # nothing was stored

    for role in ("editor", "publisher"):
        r = client.http.post("/v1/admin/open311-keys", headers=stack.auth(role),
                             body=json.dumps({"name": "x"}))
        assert r.status_code == 403
    r = client.http.post("/v1/admin/open311-keys", headers=stack.auth("admin"),
                         body=json.dumps({"name": ""}))
    assert r.status_code == 422 and "name" in json.loads(r.body)["error"]["fields"]
    made = issue_key(stack, client)
    other = issue_key(stack, client, "Partner B")
    assert set(made) >= {"id", "key", "name"} and len(made["key"]) >= 40
    stored = json.dumps([i.attribute_values for i in SettingModel.scan()], default=str)
    assert made["key"] not in stored and other["key"] not in stored  # only hashes are kept
    listed = json.loads(client.http.get("/v1/admin/open311-keys",
                                        headers=stack.auth("admin")).body)["items"]
    assert [i["name"] for i in listed] == ["Aplikacja FixMyStreet", "Partner B"]
    assert made["key"] not in json.dumps(listed) and all("key" not in i for i in listed)

    r = submit(client, pothole(api_key=made["key"]))
    assert r.status_code == 201, r.body
    rid = json.loads(r.body)[0]["service_request_id"]
    assert get(client, f"requests/{rid}.json").status_code == 200  # reading stays open

    r = client.http.delete(f"/v1/admin/open311-keys/{made['id']}", headers=stack.auth("admin"))
    assert r.status_code == 204
    assert submit(client, pothole(api_key=made["key"])).status_code == 403
    assert submit(client, pothole(api_key=other["key"])).status_code == 201
    r = client.http.delete(f"/v1/admin/open311-keys/{made['id']}", headers=stack.auth("admin"))
    assert r.status_code == 404
    from tests.functional.test_reports import audit_actions
    assert ("admin@local.test", "open311_key.create", made["id"]) in audit_actions()
    assert ("admin@local.test", "open311_key.delete", made["id"]) in audit_actions()


def test_held_by_moderation_a_submission_gets_a_token_and_no_public_request(
        stack: Stack, client: Any) -> None:
    KEY.update(issue_key(stack, client))
    r = client.http.put("/v1/admin/settings", headers=stack.auth("admin"),
                        body=json.dumps({"report_moderation_new_devices": True}))
    assert r.status_code == 200, r.body
    r = submit(client, pothole())
    assert r.status_code == 201, r.body
    answer = json.loads(r.body)[0]
    assert "service_request_id" not in answer and answer["token"]
    token = answer["token"]
    assert get(client, f"requests/{token}.json").status_code == 404
    assert json.loads(get(client, "requests.json").body) == []
    assert json.loads(get(client, f"tokens/{token}.json").body) == [{"token": token}]
    r = client.http.patch(f"/v1/admin/reports/{token}", headers=stack.auth("editor"),
                          body=json.dumps({"moderation": "approved"}))
    assert r.status_code == 200, r.body
    assert json.loads(get(client, f"tokens/{token}.json").body)[0]["service_request_id"] == token
    assert get(client, f"requests/{token}.json").status_code == 200
