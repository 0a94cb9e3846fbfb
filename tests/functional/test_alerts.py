"""Alerts over HTTP: validation, reading (filters, order, cursor, caching), preview, CAP 1.2,
the Atom index, test sends, exercises and the city settings."""
from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import xmlschema

from tests.conftest import Stack

CAP_XSD = xmlschema.XMLSchema(str(Path(__file__).parent.parent / "events" / "CAP-v1.2.xsd"))
CAP = {"cap": "urn:oasis:names:tc:emergency:cap:1.2"}
ATOM = {"atom": "http://www.w3.org/2005/Atom"}


# ---- helpers shared by the alert test modules ---------------------------------------------------

def later(hours: float = 24) -> str:
    return (datetime.now(UTC) + timedelta(hours=hours)).isoformat(timespec="seconds")


def alert_body(**over: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "category": "water", "severity": "moderate", "districts": ["srodmiescie"],
        "title": {"pl": "Brak wody na ul. Warszawskiej"},
        "body": {"pl": "Awaria wodociągu. Woda wróci do godz. 18:00. Beczkowóz przy ratuszu."},
        "expires_at": later()}
    body.update(over)
    return body


def call(client: Any, stack: Stack, method: str, path: str, role: str | None = "publisher",
         body: Any = None, headers: dict[str, str] | None = None) -> tuple[int, Any]:
    hdrs = dict(stack.auth(role)) if role else {}
    hdrs.update(headers or {})
    kwargs: dict[str, Any] = {"headers": hdrs}
    if body is not None:
        kwargs["body"] = json.dumps(body)
    r = getattr(client.http, method)(path, **kwargs)
    try:
        return r.status_code, json.loads(r.body) if r.body else None
    except ValueError:
        return r.status_code, r.body


def create(client: Any, stack: Stack, role: str = "editor", **over: Any) -> dict[str, Any]:
    status, out = call(client, stack, "post", "/v1/admin/alerts", role, alert_body(**over))
    assert status == 201, out
    return dict(out)


def publish(client: Any, stack: Stack, alert_id: str, role: str = "publisher",
            body: Any = None) -> tuple[int, Any]:
    return call(client, stack, "post", f"/v1/admin/alerts/{alert_id}/publish", role, body)


def published(client: Any, stack: Stack, **over: Any) -> dict[str, Any]:
    a = create(client, stack, **over)
    status, out = publish(client, stack, a["id"])
    assert status == 200 and out["status"] == "published", out
    return dict(out)


def resident(phone: str, categories: list[str], districts: list[str], lang: str = "pl") -> None:
    from chalicelib.services.subscriptions import activate_sms

    activate_sms(phone, {"categories": categories, "districts": districts, "lang": lang})


def district_square(district: str, half: float = 0.001) -> list[list[float]]:
    """A small closed square around the centre of a district's polygon."""
    from chalicelib.city import city

    ring = next(d["polygon"] for d in city()["districts"] if d["id"] == district)
    lon = sum(p[0] for p in ring[:-1]) / (len(ring) - 1)
    lat = sum(p[1] for p in ring[:-1]) / (len(ring) - 1)
    return [[lon - half, lat - half], [lon + half, lat - half], [lon + half, lat + half],
            [lon - half, lat + half], [lon - half, lat - half]]


# ---- validation ---------------------------------------------------------------------------------

BAD = [
    ({"category": "parking"}, "category"),
    ({"severity": "awful"}, "severity"),
    ({"starts_at": later(5), "expires_at": later(2)}, "expires_at"),
    ({"expires_at": "tomorrow"}, "expires_at"),
    ({"expires_at": "2026-05-01T10:00:00"}, "expires_at"),  # no offset
    ({"title": {"pl": ""}}, "title.pl"),
    ({"title": {"en": "Only English"}}, "title.pl"),
    ({"title": {"pl": "x" * 161}}, "title.pl"),
    ({"body": {"pl": "x" * 4001}}, "body.pl"),
    ({"instruction": {"pl": "x" * 1001}}, "instruction.pl"),
    ({"title": {"pl": "Ok", "de": "Nein"}}, "title.de"),
    ({"districts": ["atlantis"]}, "districts"),
    ({"link": "javascript:alert(1)"}, "link"),
    ({"area": {"type": "Polygon", "coordinates": [[[20.61, 52.87], [20.62, 52.87],
                                                   [20.62, 52.88], [20.61, 52.88]]]}}, "area"),
    ({"area": {"type": "Polygon", "coordinates": [[[20.61, 52.87], [20.63, 52.89],
                                                   [20.63, 52.87], [20.61, 52.89],
                                                   [20.61, 52.87]]]}}, "area"),
    ({"area": {"type": "Polygon", "coordinates": [[[21.5, 52.2], [21.6, 52.2], [21.6, 52.3],
                                                   [21.5, 52.3], [21.5, 52.2]]]}}, "area"),
    ({"area": {"type": "Circle", "center": [21.0, 52.2], "radius_m": 500}}, "area"),
    ({"area": {"type": "Circle", "center": [20.62, 52.88], "radius_m": 0}}, "area"),
    ({"area": {"type": "LineString", "coordinates": [[20.61, 52.87], [20.62, 52.88]]}}, "area"),
]


@pytest.mark.parametrize(("over", "field"), BAD, ids=[f"{f}-{i}" for i, (_, f) in enumerate(BAD)])
def test_each_bad_field_gets_a_422_naming_it_and_nothing_is_written(stack: Stack, client: Any,
                                                                     over: dict[str, Any],
                                                                     field: str) -> None:
    status, out = call(client, stack, "post", "/v1/admin/alerts", "editor", alert_body(**over))
    assert status == 422, out
    assert out["error"]["code"] and field in out["error"]["fields"], out
    assert call(client, stack, "get", "/v1/admin/alerts", "editor")[1]["items"] == []


def test_several_bad_fields_are_named_at_once(stack: Stack, client: Any) -> None:
    status, out = call(client, stack, "post", "/v1/admin/alerts", "editor",
                       alert_body(category="nope", title={"pl": ""}, expires_at=None))
    assert status == 422
    assert {"category", "title.pl", "expires_at"} <= set(out["error"]["fields"])


def test_a_drawn_area_reaches_the_districts_it_touches(stack: Stack, client: Any) -> None:
    square = district_square("kargoszyn")
    a = create(client, stack, districts=[], area={"type": "Polygon", "coordinates": [square]})
    assert "kargoszyn" in a["districts"] and len(a["districts"]) < 12
    lon, lat = square[0][0] + 0.001, square[0][1] + 0.001
    c = create(client, stack, districts=[], area={"type": "Circle", "center": [lon, lat],
                                                  "radius_m": 50})
    assert c["districts"] == ["kargoszyn"]
    assert c["area"]["type"] == "Circle"


# ---- reading ------------------------------------------------------------------------------------

def test_public_list_filters_orders_pages_and_caches(stack: Stack, client: Any) -> None:
    minor = published(client, stack, severity="minor", districts=["zachod"])
    severe = published(client, stack, severity="severe", category="electricity",
                       districts=["srodmiescie"],
                       title={"pl": "Brak prądu", "en": "Power cut"},
                       body={"pl": "Awaria sieci.", "en": "Grid failure."})
    newer_minor = published(client, stack, severity="minor", districts=[])
    create(client, stack)  # a draft stays out of public view

    status, page = call(client, stack, "get", "/v1/alerts", None)
    assert status == 200
    # most severe first, then newest
    assert [a["id"] for a in page["items"]] == [severe["id"], newer_minor["id"], minor["id"]]
    assert page["next"] is None

    _, en = call(client, stack, "get", "/v1/alerts?lang=en", None)
    by_id = {a["id"]: a for a in en["items"]}
    assert by_id[severe["id"]]["title"] == "Power cut" and by_id[severe["id"]]["lang"] == "en"
    assert by_id[minor["id"]]["title"] == "Brak wody na ul. Warszawskiej"  # pl fallback
    assert by_id[minor["id"]]["lang"] == "pl"

    _, water = call(client, stack, "get", "/v1/alerts?category=water", None)
    assert {a["id"] for a in water["items"]} == {minor["id"], newer_minor["id"]}
    _, zachod = call(client, stack, "get", "/v1/alerts?district=zachod", None)
    # the whole-city alert reaches every district
    assert {a["id"] for a in zachod["items"]} == {minor["id"], newer_minor["id"]}

    _, first = call(client, stack, "get", "/v1/alerts?limit=2", None)
    assert len(first["items"]) == 2 and first["next"]
    _, second = call(client, stack, "get", f"/v1/alerts?limit=2&cursor={first['next']}", None)
    assert [a["id"] for a in first["items"] + second["items"]] == [a["id"] for a in page["items"]]
    assert second["next"] is None

    r = client.http.get("/v1/alerts")
    assert r.headers["ETag"] and "max-age" in r.headers["Cache-Control"]
    again = client.http.get("/v1/alerts", headers={"If-None-Match": r.headers["ETag"]})
    assert again.status_code == 304
    # a change makes a new ETag
    call(client, stack, "post", f"/v1/admin/alerts/{minor['id']}/cancel")
    changed = client.http.get("/v1/alerts", headers={"If-None-Match": r.headers["ETag"]})
    assert changed.status_code == 200


def test_history_includes_expired_and_cancelled_only_on_request(stack: Stack, client: Any,
                                                               monkeypatch: pytest.MonkeyPatch
                                                               ) -> None:
    from chalicelib.services import clock

    short = published(client, stack, expires_at=later(1))
    gone = published(client, stack)
    call(client, stack, "post", f"/v1/admin/alerts/{gone['id']}/cancel")
    assert [a["id"] for a in call(client, stack, "get", "/v1/alerts", None)[1]["items"]] == [
        short["id"]]
    real = clock.now
    monkeypatch.setattr(clock, "now", lambda: real() + timedelta(hours=2))
    assert call(client, stack, "get", "/v1/alerts", None)[1]["items"] == []
    _, hist = call(client, stack, "get", "/v1/alerts?include=expired", None)
    assert {a["id"]: a["status"] for a in hist["items"]} == {short["id"]: "expired",
                                                             gone["id"]: "cancelled"}


@pytest.mark.parametrize(("query", "field"), [
    ("category=parking", "category"), ("district=atlantis", "district"), ("lang=de", "lang"),
    ("limit=0", "limit"), ("include=all", "include"), ("cursor=%%%", "cursor")])
def test_bad_list_parameters_get_a_422(stack: Stack, client: Any, query: str, field: str) -> None:
    status, out = call(client, stack, "get", f"/v1/alerts?{query}", None)
    assert status == 422 and field in out["error"]["fields"]


def test_unpublished_alerts_are_not_public(stack: Stack, client: Any) -> None:
    draft = create(client, stack)
    for path in (f"/v1/alerts/{draft['id']}", f"/v1/alerts/{draft['id']}/cap",
                 "/v1/alerts/nope", "/v1/alerts/nope/cap"):
        status, out = call(client, stack, "get", path, None)
        assert status == 404 and out["error"]["code"] == "not_found", path


# ---- preview ------------------------------------------------------------------------------------

def test_preview_counts_recipients_and_cost_without_sending(stack: Stack, client: Any) -> None:
    resident("+48500100201", ["water"], ["srodmiescie"])
    resident("+48500100202", ["water"], [])  # the whole city
    resident("+48500100203", ["water"], ["zachod"])  # another district
    resident("+48500100204", ["events"], ["srodmiescie"])  # another category
    resident("+48500100205", ["water"], ["srodmiescie"], lang="uk")  # gets pl (no uk text)
    resident("+48500100206", ["water"], ["srodmiescie"], lang="en")
    before = len(stack.outbox())
    body = alert_body(title={"pl": "Brak wody na ul. Warszawskiej", "en": "No water"},
                      body={"pl": "Awaria wodociągu. Woda wróci do godz. 18:00.",
                            "en": "Water main failure. Back by 6 pm."})
    del body["expires_at"]  # not needed for a preview
    status, out = call(client, stack, "post", "/v1/admin/alerts/preview", "editor", body)
    assert status == 200, out
    pl, en = out["languages"]["pl"], out["languages"]["en"]
    assert pl["recipients"]["sms"] == 3 and en["recipients"]["sms"] == 1
    assert out["recipients"] == {"sms": 4, "push": 0}
    assert pl["sms"]["encoding"] == "gsm7" and pl["sms"]["parts"] == 1
    assert "Brak wody" in pl["sms"]["text"] and "UM Ciechanow" in pl["sms"]["text"]
    assert "https://informator.ciechanow.pl/alert.html?id=" in pl["sms"]["text"]
    assert pl["sms"]["chars"] == len(pl["sms"]["text"])
    assert out["sms"] == pl["sms"]
    assert out["cost"] == {"per_part": 0.17, "total": 0.68, "currency": "PLN"}
    assert len(stack.outbox()) == before  # nothing was sent


def test_preview_follows_the_diacritics_and_parts_settings(stack: Stack, client: Any) -> None:
    body = {"category": "water", "title": {"pl": "Zażółć gęślą jaźń"},
            "body": {"pl": "Łódź, Źródła, Ćma. " * 20}}
    _, plain = call(client, stack, "post", "/v1/admin/alerts/preview", "editor", body)
    assert plain["sms"]["encoding"] == "gsm7" and plain["sms"]["parts"] == 1
    assert "Zazolc gesla jazn" in plain["sms"]["text"]
    call(client, stack, "put", "/v1/admin/settings", "admin",
         {"sms_keep_diacritics": True, "sms_max_parts": 3})
    _, kept = call(client, stack, "post", "/v1/admin/alerts/preview", "editor", body)
    assert kept["sms"]["encoding"] == "ucs2" and kept["sms"]["parts"] == 3
    assert kept["max_parts"] == 3 and kept["fits"] is True
    assert "Zażółć gęślą jaźń" in kept["sms"]["text"]


@pytest.mark.parametrize(("body", "field"), [
    ({"title": {"pl": "x"}, "body": {"pl": "y"}}, "category"),
    ({"category": "water", "body": {"pl": "y"}}, "title.pl"),
    ({"category": "water", "title": {"pl": "x"}, "body": {"pl": "y"}, "districts": ["x"]},
     "districts"),
])
def test_preview_rejects_what_it_needs_and_is_missing(stack: Stack, client: Any,
                                                      body: dict[str, Any], field: str) -> None:
    status, out = call(client, stack, "post", "/v1/admin/alerts/preview", "editor", body)
    assert status == 422 and field in out["error"]["fields"]
    assert call(client, stack, "post", "/v1/admin/alerts/preview", None, body)[0] == 401


# ---- CAP 1.2 and Atom ---------------------------------------------------------------------------

def _cap(client: Any, alert_id: str) -> ET.Element:
    r = client.http.get(f"/v1/alerts/{alert_id}/cap")
    assert r.status_code == 200, r.body
    assert r.headers["Content-Type"].startswith("application/cap+xml")
    CAP_XSD.validate(r.body)
    return ET.fromstring(r.body)


def test_cap_validates_and_follows_the_lifecycle(stack: Stack, client: Any) -> None:
    a = published(client, stack, title={"pl": "Brak wody", "en": "No water"},
                  body={"pl": "Awaria.", "en": "Failure."},
                  instruction={"pl": "Zrób zapas wody."}, contact="tel. 23 672 20 20")
    doc = _cap(client, a["id"])
    assert doc.findtext("cap:msgType", namespaces=CAP) == "Alert"
    assert doc.findtext("cap:identifier", namespaces=CAP) == f"{a['id']}-v1"
    assert [i.findtext("cap:language", namespaces=CAP) for i in doc.findall("cap:info", CAP)] == [
        "pl-PL", "en-GB"]
    area = doc.find("cap:info/cap:area", CAP)
    assert area is not None and area.findtext("cap:areaDesc", namespaces=CAP) == "Śródmieście"
    poly = area.findtext("cap:polygon", namespaces=CAP) or ""
    pairs = poly.split()
    assert len(pairs) >= 4 and pairs[0] == pairs[-1]
    assert area.findtext("cap:geocode/cap:value", namespaces=CAP) == "1402011"
    sent = doc.findtext("cap:sent", namespaces=CAP) or ""
    assert sent[-6] in "+-" and "Z" not in sent

    call(client, stack, "post", f"/v1/admin/alerts/{a['id']}/update", body={
        "body": {"pl": "Awaria usunięta częściowo.", "en": "Partly fixed."}})
    upd = _cap(client, a["id"])
    assert upd.findtext("cap:msgType", namespaces=CAP) == "Update"
    refs = upd.findtext("cap:references", namespaces=CAP) or ""
    assert f",{a['id']}-v1," in refs

    call(client, stack, "post", f"/v1/admin/alerts/{a['id']}/cancel")
    can = _cap(client, a["id"])
    assert can.findtext("cap:msgType", namespaces=CAP) == "Cancel"
    assert can.findtext("cap:identifier", namespaces=CAP) == f"{a['id']}-v3"
    assert len((can.findtext("cap:references", namespaces=CAP) or "").split()) == 2


def test_cap_of_a_whole_city_alert_uses_the_boundary_and_a_circle(stack: Stack,
                                                                  client: Any) -> None:
    a = published(client, stack, districts=[], category="emergency", severity="extreme",
                  area={"type": "Circle", "center": [20.62, 52.88], "radius_m": 300})
    doc = _cap(client, a["id"])
    assert doc.findtext("cap:info/cap:area/cap:circle", namespaces=CAP) == "52.88,20.62 0.3"
    assert doc.findtext("cap:info/cap:severity", namespaces=CAP) == "Extreme"
    city = published(client, stack, districts=[])
    cdoc = _cap(client, city["id"])
    assert cdoc.findtext("cap:info/cap:area/cap:areaDesc", namespaces=CAP) == "Ciechanów"
    assert cdoc.find("cap:info/cap:area/cap:polygon", CAP) is not None


def test_cap_and_atom_carry_etags(stack: Stack, client: Any) -> None:
    a = published(client, stack)
    for path in (f"/v1/alerts/{a['id']}/cap", "/v1/feeds/alerts.atom"):
        r = client.http.get(path)
        assert r.headers["ETag"] and "max-age" in r.headers["Cache-Control"]
        assert client.http.get(path, headers={"If-None-Match": r.headers["ETag"]}
                               ).status_code == 304


def test_atom_lists_the_active_alerts_with_links_to_cap(stack: Stack, client: Any) -> None:
    active = published(client, stack)
    gone = published(client, stack)
    call(client, stack, "post", f"/v1/admin/alerts/{gone['id']}/cancel")
    create(client, stack)
    r = client.http.get("/v1/feeds/alerts.atom")
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("application/atom+xml")
    assert len(r.body) < 900_000
    feed = ET.fromstring(r.body)
    entries = feed.findall("atom:entry", ATOM)
    assert [e.findtext("atom:id", namespaces=ATOM) for e in entries] == [
        f"urn:informator:alert:{active['id']}"]
    link = entries[0].find("atom:link", ATOM)
    assert link is not None and link.get("type") == "application/cap+xml"
    assert link.get("href", "").endswith(f"/v1/alerts/{active['id']}/cap")


# ---- test sends and exercises -------------------------------------------------------------------

def test_a_test_send_reaches_only_the_staff_phones(stack: Stack, client: Any) -> None:
    resident("+48500100301", ["water"], ["srodmiescie"])
    a = create(client, stack)
    status, out = call(client, stack, "post", f"/v1/admin/alerts/{a['id']}/test")
    assert status == 409 and "staff_test_phones" in out["error"]["message"]
    call(client, stack, "put", "/v1/admin/settings", "admin",
         {"staff_test_phones": ["+48600700801", "+48600700802"]})
    assert call(client, stack, "post", f"/v1/admin/alerts/{a['id']}/test", "editor")[0] == 403
    status, out = call(client, stack, "post", f"/v1/admin/alerts/{a['id']}/test")
    assert status == 200 and out["sent_to"] == 2
    for phone in ("+48600700801", "+48600700802"):
        texts = stack.sms_to(phone)
        assert len(texts) == 1 and texts[0].startswith("TEST: ") and a["id"] in texts[0]
    assert stack.sms_to("+48500100301") == []
    assert call(client, stack, "get", f"/v1/admin/alerts/{a['id']}", "editor")[1]["status"] == "draft"


def test_an_exercise_is_marked_in_every_channel(stack: Stack, client: Any) -> None:
    from chalicelib.services.audience import filter_policy

    resident("+48500100401", ["water"], ["srodmiescie"])
    web = stack.probe("water", filter_policy([], "pl", "web"))
    push = stack.probe("water", filter_policy([], "pl", "push"))
    a = published(client, stack, cap_status="exercise")
    stack.drain_fanout()
    sms = stack.sms_to("+48500100401")
    assert len(sms) == 1 and sms[0].startswith("CWICZENIA: ")
    web_msg = json.loads(stack.probe_messages(web)[0]["Body"])
    assert web_msg["title"].startswith("ĆWICZENIA: ") and web_msg["exercise"] is True
    assert len(stack.probe_messages(push)) == 1
    _, public = call(client, stack, "get", f"/v1/alerts/{a['id']}", None)
    assert public["exercise"] is True
    doc = _cap(client, a["id"])
    assert doc.findtext("cap:status", namespaces=CAP) == "Exercise"


# ---- city settings ------------------------------------------------------------------------------

def test_settings_are_read_and_changed_by_admins_only(stack: Stack, client: Any) -> None:
    status, out = call(client, stack, "get", "/v1/admin/settings", "admin")
    assert status == 200 and out["settings"]["sms_max_parts"] == 1
    assert call(client, stack, "get", "/v1/admin/settings", "publisher")[0] == 403
    assert call(client, stack, "put", "/v1/admin/settings", "publisher",
                {"sms_max_parts": 2})[0] == 403
    status, out = call(client, stack, "put", "/v1/admin/settings", "admin",
                       {"sms_max_parts": 2, "approval_categories": ["emergency"]})
    assert status == 200 and out["settings"]["sms_max_parts"] == 2
    assert call(client, stack, "get", "/v1/admin/settings", "admin")[1]["settings"][
        "approval_categories"] == ["emergency"]
    day = datetime.now(UTC).strftime("%Y-%m-%d")
    audit = call(client, stack, "get", f"/v1/admin/audit?day={day}", "admin")[1]["items"]
    assert any(e["action"] == "settings.change" and e["actor"] == "admin@local.test"
               for e in audit)


@pytest.mark.parametrize(("body", "field"), [
    ({"colour": "red"}, "colour"),
    ({"sms_max_parts": 4}, "sms_max_parts"),
    ({"sms_max_parts": "1"}, "sms_max_parts"),
    ({"sms_keep_diacritics": "yes"}, "sms_keep_diacritics"),
    ({"approval_categories": ["parking"]}, "approval_categories"),
    ({"staff_test_phones": ["600700800"]}, "staff_test_phones"),
    ({"quiet_hours": {"start": "25:00", "end": "07:00", "categories": []}}, "quiet_hours"),
    ({"quiet_hours": {"start": "22:00", "end": "07:00", "categories": ["emergency"]}},
     "quiet_hours"),
    ({"sms_price_per_part": -1}, "sms_price_per_part"),
    ({"sender_name": ""}, "sender_name"),
])
def test_bad_settings_get_a_422_and_change_nothing(stack: Stack, client: Any,
                                                   body: dict[str, Any], field: str) -> None:
    status, out = call(client, stack, "put", "/v1/admin/settings", "admin",
                       {**body, "sms_keep_diacritics": True} if field != "sms_keep_diacritics"
                       else body)
    assert status == 422 and field in out["error"]["fields"], out
    assert call(client, stack, "get", "/v1/admin/settings", "admin")[1]["settings"][
        "sms_keep_diacritics"] is False
