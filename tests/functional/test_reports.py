"""Resident reports in-process: create, privacy, department, status and replies, maps, abuse."""
from __future__ import annotations

import json
import re
from typing import Any

from tests.conftest import Stack

CENTRE = (52.881, 20.62)
PHONE = "+48500100177"


def report_body(**over: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"category": "road_damage",
                            "description": "Głęboka dziura w jezdni przy przejściu dla pieszych.",
                            "lat": CENTRE[0], "lon": CENTRE[1], "address": "ul. Warszawska 10"}
    body.update(over)
    return body


def post(client: Any, path: str, body: Any, headers: dict[str, str] | None = None) -> Any:
    return client.http.post(path, headers={"Content-Type": "application/json", **(headers or {})},
                            body=json.dumps(body))


def create(client: Any, **over: Any) -> dict[str, Any]:
    r = post(client, "/v1/reports", report_body(**over))
    assert r.status_code == 201, r.body
    return dict(json.loads(r.body))


def device(client: Any, token: str = "device-token-0001") -> dict[str, str]:
    r = post(client, "/v1/devices", {"platform": "fcm", "token": token, "categories": ["roads"],
                                     "districts": [], "lang": "pl"})
    assert r.status_code == 201, r.body
    return dict(json.loads(r.body))


def pushes_to(device_id: str) -> list[dict[str, Any]]:
    from chalicelib.models.subscribers import SubscriberModel
    from infra.outbox import sns_backend

    arn = SubscriberModel.get(f"dev#{device_id}").address
    endpoint = sns_backend().platform_endpoints[arn]
    return [json.loads(json.loads(m)["GCM"]) for m in endpoint.messages.values()]


def patch(client: Any, stack: Stack, report_id: str, body: dict[str, Any]) -> Any:
    return client.http.patch(f"/v1/admin/reports/{report_id}", headers=stack.auth("editor"),
                             body=json.dumps(body))


def audit_actions() -> list[tuple[str, str, str]]:
    from chalicelib.services import audit
    from chalicelib.services.clock import now

    return [(a["actor"], a["action"], a["target"])
            for a in audit.list_day(now().strftime("%Y-%m-%d"))]


def dept_probe(stack: Stack, department: str) -> str:
    sqs, sns = stack.session.client("sqs"), stack.session.client("sns")
    url = sqs.create_queue(QueueName=f"dept-probe-{department}")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"]
    sns.subscribe(TopicArn=f"arn:aws:sns:eu-central-1:123456789012:informator-dept-{department}",
                  Protocol="sqs", Endpoint=arn, Attributes={"RawMessageDelivery": "true"})
    return str(url)


def test_a_report_is_created_with_upload_forms_and_its_department_is_told(stack: Stack,
                                                                          client: Any) -> None:
    roads, environment = dept_probe(stack, "roads"), dept_probe(stack, "environment")
    made = create(client, photos=2)
    assert set(made) >= {"id", "secret", "uploads"}
    assert len(made["uploads"]) == 2
    for n, form in enumerate(made["uploads"]):
        assert form["url"].startswith("https://") and "informator-photos-" in form["url"]
        assert form["fields"]["key"] == f"uploads/{made['id']}/{n}"
        policy = json.loads(__import__("base64").b64decode(form["fields"]["policy"]))
        assert ["content-length-range", 1, 10 * 1024 * 1024] in policy["conditions"]
        assert ["starts-with", "$Content-Type", "image/"] in policy["conditions"]
    got = stack.probe_messages(roads)
    assert len(got) == 1 and made["id"] in got[0]["Body"] and "dziura" in got[0]["Body"]
    assert stack.probe_messages(environment) == []

    public = json.loads(client.http.get(f"/v1/reports/{made['id']}").body)
    assert public["status"] == "new" and public["category"] == "road_damage"
    assert "secret" not in json.dumps(public) and "contact" not in public
    assert made["secret"] not in json.dumps(public)
    mine = client.http.get(f"/v1/reports/{made['id']}", headers={"X-Secret": made["secret"]})
    assert mine.status_code == 200 and "thread" in json.loads(mine.body)
    assert json.loads(mine.body)["photo_slots"] == 2
    wrong = client.http.get(f"/v1/reports/{made['id']}", headers={"X-Secret": "nope"})
    assert wrong.status_code == 403
    assert client.http.get("/v1/reports/ffffffffffff").status_code == 404
    assert ("resident", "report.create", made["id"]) in audit_actions()


def test_bad_reports_are_refused_with_the_fields_named_and_nothing_stored(stack: Stack,
                                                                         client: Any) -> None:
    from chalicelib.models.reports import ReportModel

    r = post(client, "/v1/reports", report_body(lat=52.2297, lon=21.0122))  # Warsaw
    assert r.status_code == 422
    err = json.loads(r.body)["error"]
    assert "outside Ciechanów" in err["message"] and set(err["fields"]) == {"lat", "lon"}
    cases: list[tuple[dict[str, Any], str]] = [({"category": "potholes"}, "category"), ({"description": "x" * 4001}, "description"),
             ({"description": "   "}, "description"), ({"lat": "north"}, "lat"),
             ({"photos": 6}, "photos"), ({"photos": True}, "photos"),
             ({"contact": {"phone": "12"}}, "contact.phone"),
             ({"contact": {"device_id": "nope", "device_secret": "x"}}, "contact.device_id")]
    for over, field in cases:
        r = post(client, "/v1/reports", report_body(**over))
        assert r.status_code == 422, (over, r.body)
        assert field in json.loads(r.body)["error"]["fields"], over
    r = client.http.post("/v1/reports", headers={"Content-Type": "application/json"}, body="{")
    assert r.status_code == 400
    assert list(ReportModel.scan()) == []


def test_public_views_mask_contacts_written_into_descriptions_and_hide_hidden_reports(
        stack: Stack, client: Any) -> None:
    made = create(client, description="Zadzwońcie: 500 100 200, albo jan.kowalski@example.pl")
    public = json.loads(client.http.get(f"/v1/reports/{made['id']}").body)
    assert "500 100 200" not in public["description"] and "example.pl" not in public["description"]
    assert "[telefon]" in public["description"] and "[e-mail]" in public["description"]
    mine = json.loads(client.http.get(f"/v1/reports/{made['id']}",
                                      headers={"X-Secret": made["secret"]}).body)
    assert "500 100 200" in mine["description"]
    assert patch(client, stack, made["id"], {"hidden": True}).status_code == 200
    assert client.http.get(f"/v1/reports/{made['id']}").status_code == 404
    bbox = "20.57,52.85,20.67,52.905"
    assert json.loads(client.http.get(f"/v1/reports?bbox={bbox}").body)["items"] == []


def test_status_changes_reach_the_reporters_device_and_followers_and_the_thread(
        stack: Stack, client: Any) -> None:
    reporter, follower = device(client, "reporter-token-01"), device(client, "follower-token-01")
    made = create(client, contact={"device_id": reporter["id"], "device_secret": reporter["secret"]})
    r = post(client, f"/v1/reports/{made['id']}/follow",
             {"device_id": follower["id"], "device_secret": follower["secret"]})
    assert r.status_code == 200 and json.loads(r.body)["followers"] == 1
    r = post(client, f"/v1/reports/{made['id']}/follow",
             {"device_id": follower["id"], "device_secret": "wrong"})
    assert r.status_code == 403

    assert client.http.patch(f"/v1/admin/reports/{made['id']}",
                             body=json.dumps({"status": "acknowledged"})).status_code == 401
    r = patch(client, stack, made["id"], {"status": "acknowledged",
                                          "public_note": "Ekipa drogowa przyjedzie w czwartek."})
    assert r.status_code == 200, r.body
    assert json.loads(r.body)["status"] == "acknowledged"
    for dev in (reporter, follower):
        got = pushes_to(dev["id"])
        assert len(got) == 1 and "przyjęte" in got[0]["notification"]["title"]
        assert got[0]["data"]["report_id"] == made["id"]

    r = patch(client, stack, made["id"], {"status": "new"})
    assert r.status_code == 409  # new is only where a report starts
    assert patch(client, stack, made["id"], {"status": "resolved"}).status_code == 200
    r = patch(client, stack, made["id"], {"status": "acknowledged", "hidden": "yes"})
    assert r.status_code == 422 and "hidden" in json.loads(r.body)["error"]["fields"]
    assert len(pushes_to(follower["id"])) == 2

    thread = json.loads(client.http.get(f"/v1/reports/{made['id']}",
                                        headers={"X-Secret": made["secret"]}).body)["thread"]
    assert [e["status"] for e in thread if e["kind"] == "status"] == ["acknowledged", "resolved"]
    assert thread[0]["text"] == "Ekipa drogowa przyjedzie w czwartek."
    public = json.loads(client.http.get(f"/v1/reports/{made['id']}").body)
    assert public["status"] == "resolved" and "editor@" not in json.dumps(public)
    actions = audit_actions()
    assert sum(1 for a in actions if a[1:] == ("report.update", made["id"])) == 2
    assert ("editor@local.test", "report.update", made["id"]) in actions

    # the reporter disagrees within 14 days: the report is new again and in the inbox
    r = post(client, f"/v1/reports/{made['id']}/reopen", {"text": "Dziura nadal jest."},
             headers={"X-Secret": made["secret"]})
    assert r.status_code == 200 and json.loads(r.body)["status"] == "new"
    inbox = json.loads(client.http.get("/v1/admin/reports?status=new",
                                       headers=stack.auth("editor")).body)["items"]
    assert [i["id"] for i in inbox] == [made["id"]]
    r = post(client, f"/v1/reports/{made['id']}/reopen", {}, headers={"X-Secret": made["secret"]})
    assert r.status_code == 409


def test_staff_and_reporter_exchange_messages_by_push(stack: Stack, client: Any) -> None:
    reporter = device(client, "reporter-token-02")
    made = create(client, contact={"device_id": reporter["id"], "device_secret": reporter["secret"]})
    r = post(client, f"/v1/admin/reports/{made['id']}/messages",
             {"text": "Czy dziura jest po stronie parku?"}, headers=stack.auth("editor"))
    assert r.status_code == 201 and json.loads(r.body)["delivered_by"] == "push"
    got = pushes_to(reporter["id"])
    assert got[-1]["notification"]["body"] == "Czy dziura jest po stronie parku?"
    r = post(client, f"/v1/reports/{made['id']}/messages", {"text": "Tak, przy parku."},
             headers={"X-Secret": made["secret"]})
    assert r.status_code == 201
    assert post(client, f"/v1/reports/{made['id']}/messages", {"text": "x"},
                headers={"X-Secret": "bad"}).status_code == 403
    full = json.loads(client.http.get(f"/v1/admin/reports/{made['id']}",
                                      headers=stack.auth("editor")).body)
    assert [(e["author"], e["text"]) for e in full["thread"]] == [
        ("staff", "Czy dziura jest po stronie parku?"), ("reporter", "Tak, przy parku.")]
    public = json.loads(client.http.get(f"/v1/reports/{made['id']}").body)
    assert "przy parku" not in json.dumps(public)  # messages are between reporter and staff
    assert ("reporter", "report.message", made["id"]) in audit_actions()


def test_a_phone_contact_gets_no_sms_but_the_code_until_it_is_confirmed(stack: Stack,
                                                                         client: Any) -> None:
    made = create(client, contact={"phone": "500 100 177"})
    assert made["contact"] == "code_sent"
    texts = stack.sms_to(PHONE)
    assert len(texts) == 1
    code = re.search(r"\b(\d{6})\b", texts[0]).group(1)  # type: ignore[union-attr]
    r = post(client, f"/v1/admin/reports/{made['id']}/messages", {"text": "Prosimy o zdjęcie."},
             headers=stack.auth("editor"))
    assert json.loads(r.body)["delivered_by"] is None
    assert len(stack.sms_to(PHONE)) == 1  # nothing went to an unconfirmed number
    wrong = "000000" if code != "000000" else "111111"
    r = post(client, f"/v1/reports/{made['id']}/contact/confirm", {"code": wrong},
             headers={"X-Secret": made["secret"]})
    assert r.status_code == 422
    r = post(client, f"/v1/reports/{made['id']}/contact/confirm", {"code": code},
             headers={"X-Secret": made["secret"]})
    assert r.status_code == 200, r.body
    assert json.loads(r.body)["contact"]["confirmed"] is True
    patch(client, stack, made["id"], {"status": "in_progress", "public_note": "Naprawa jutro."})
    texts = stack.sms_to(PHONE)
    assert len(texts) == 2 and made["id"] in texts[1] and "Naprawa jutro" in texts[1]
    public = json.loads(client.http.get(f"/v1/reports/{made['id']}").body)
    assert "177" not in json.dumps(public)


def test_phone_contacts_share_the_sign_up_pumping_limits(stack: Stack, client: Any) -> None:
    for _ in range(3):
        create(client, contact={"phone": PHONE})
    r = post(client, "/v1/reports", report_body(contact={"phone": PHONE}))
    assert r.status_code == 429 and r.headers.get("Retry-After")
    assert len(stack.sms_to(PHONE)) == 3


def test_nearby_lists_open_reports_of_the_same_category_within_250_m(stack: Stack,
                                                                      client: Any) -> None:
    near = create(client, lat=52.8815, lon=20.6210)  # about 90 m away
    far = create(client, lat=52.8850, lon=20.6200)  # about 450 m
    other = create(client, category="waste", lat=52.8811, lon=20.6201)
    closed = create(client, lat=52.8811, lon=20.6201)
    assert patch(client, stack, closed["id"], {"status": "resolved"}).status_code == 200
    r = client.http.get(f"/v1/reports/nearby?lat={CENTRE[0]}&lon={CENTRE[1]}"
                        "&category=road_damage")
    assert r.status_code == 200, r.body
    items = json.loads(r.body)["items"]
    assert [i["id"] for i in items] == [near["id"]] and items[0]["distance_m"] < 250
    ids = {far["id"], other["id"], closed["id"]}
    assert not ids & {i["id"] for i in items}
    assert client.http.get("/v1/reports/nearby?lat=x&lon=1&category=waste").status_code == 422


def test_the_map_lists_reports_in_a_bbox_and_refuses_a_bad_bbox(stack: Stack,
                                                                 client: Any) -> None:
    a = create(client, lat=52.881, lon=20.62)
    b = create(client, category="waste", lat=52.895, lon=20.60)
    whole = json.loads(client.http.get("/v1/reports?bbox=20.0,52.0,21.0,53.0").body)["items"]
    assert {i["id"] for i in whole} == {a["id"], b["id"]}
    small = json.loads(client.http.get("/v1/reports?bbox=20.615,52.878,20.625,52.884").body)
    assert [i["id"] for i in small["items"]] == [a["id"]]
    waste = json.loads(client.http.get(
        "/v1/reports?bbox=20.57,52.85,20.67,52.905&category=waste").body)["items"]
    assert [i["id"] for i in waste] == [b["id"]]
    for bad in ("", "1,2,3", "20.7,52.8,20.6,52.9", "a,b,c,d", "nan,52,21,53",
                "20,52,200,53"):
        r = client.http.get(f"/v1/reports?bbox={bad}")
        assert r.status_code == 422, bad
        assert "bbox" in json.loads(r.body)["error"]["fields"]


def test_duplicates_link_the_original_and_transitions_are_checked(stack: Stack,
                                                                  client: Any) -> None:
    original, copy = create(client), create(client)
    r = patch(client, stack, copy["id"], {"status": "duplicate"})
    assert r.status_code == 422 and "duplicate_of" in json.loads(r.body)["error"]["fields"]
    r = patch(client, stack, copy["id"], {"status": "duplicate", "duplicate_of": "ffffffffff"})
    assert r.status_code == 422
    r = patch(client, stack, copy["id"], {"status": "duplicate", "duplicate_of": original["id"]})
    assert r.status_code == 200 and json.loads(r.body)["duplicate_of"] == original["id"]
    public = json.loads(client.http.get(f"/v1/reports/{copy['id']}").body)
    assert public["duplicate_of"] == original["id"] and public["open"] is False
    r = patch(client, stack, original["id"], {"department": "nowhere"})
    assert r.status_code == 422
    r = patch(client, stack, original["id"], {"department": "general"})
    assert json.loads(r.body)["department"] == "general"
    assert patch(client, stack, "ffffffffff", {"status": "resolved"}).status_code == 404


def test_a_blocked_device_cannot_report(stack: Stack, client: Any) -> None:
    dev = device(client, "spammer-token-01")
    contact = {"device_id": dev["id"], "device_secret": dev["secret"]}
    create(client, contact=contact)
    r = client.http.put(f"/v1/admin/report-blocks/{dev['id']}", headers=stack.auth("editor"),
                        body=json.dumps({"reason": "spam"}))
    assert r.status_code == 200
    r = post(client, "/v1/reports", report_body(contact=contact))
    assert r.status_code == 403 and json.loads(r.body)["error"]["code"] == "forbidden"
    assert ("editor@local.test", "report.block_device", dev["id"]) in audit_actions()
    r = client.http.delete(f"/v1/admin/report-blocks/{dev['id']}", headers=stack.auth("editor"))
    assert r.status_code == 204
    create(client, contact=contact)


def test_the_inbox_filters_by_status_and_category(stack: Stack, client: Any) -> None:
    a, b = create(client), create(client, category="waste")
    patch(client, stack, a["id"], {"status": "in_progress"})
    auth = stack.auth("editor")

    def ids(q: str) -> list[str]:
        r = client.http.get(f"/v1/admin/reports{q}", headers=auth)
        assert r.status_code == 200, r.body
        return [i["id"] for i in json.loads(r.body)["items"]]

    assert set(ids("")) == {a["id"], b["id"]}
    assert ids("?status=in_progress") == [a["id"]]
    assert ids("?category=waste") == [b["id"]]
    assert client.http.get("/v1/admin/reports?status=nope", headers=auth).status_code == 422
    assert client.http.get("/v1/admin/reports").status_code == 401


def test_the_api_does_not_import_pillow() -> None:
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-c",
                          "import app, sys; assert 'PIL' not in sys.modules; "
                          "assert 'pillow_heif' not in sys.modules"],
                         capture_output=True, text=True, cwd=str(__import__("pathlib").Path(
                             __file__).resolve().parents[2]))
    assert out.returncode == 0, out.stderr


def moderation_on(client: Any, stack: Stack, first: int = 1) -> None:
    r = client.http.put("/v1/admin/settings", headers=stack.auth("admin"), body=json.dumps(
        {"report_moderation_new_devices": True, "report_moderation_first_reports": first}))
    assert r.status_code == 200, r.body


def test_moderation_holds_first_reports_of_a_new_device_until_an_editor_approves(
        stack: Stack, client: Any) -> None:
    plain = create(client)  # the setting is off by default: public at once
    assert "moderation" not in plain
    r = client.http.put("/v1/admin/settings", headers=stack.auth("admin"),
                        body=json.dumps({"report_moderation_first_reports": 0}))
    assert r.status_code == 422
    moderation_on(client, stack)
    dev = device(client, "new-device-token-01")
    contact = {"device_id": dev["id"], "device_secret": dev["secret"]}
    held = create(client, contact=contact, lat=52.8812, lon=20.6202)
    anonymous = create(client, lat=52.8813, lon=20.6203)  # no device: always held
    assert held["moderation"] == "pending" and anonymous["moderation"] == "pending"
    bbox = "20.57,52.85,20.67,52.905"

    def public_ids() -> set[str]:
        items = json.loads(client.http.get(f"/v1/reports?bbox={bbox}").body)["items"]
        near = json.loads(client.http.get(f"/v1/reports/nearby?lat={CENTRE[0]}&lon={CENTRE[1]}"
                                          "&category=road_damage").body)["items"]
        o311 = json.loads(client.http.get("/open311/v2/requests.json").body)
        assert {i["id"] for i in near} <= {i["id"] for i in items}
        assert {i["service_request_id"] for i in o311} == {i["id"] for i in items}
        return {i["id"] for i in items}

    assert public_ids() == {plain["id"]}
    for made in (held, anonymous):
        assert client.http.get(f"/v1/reports/{made['id']}").status_code == 404
        mine = json.loads(client.http.get(f"/v1/reports/{made['id']}",
                                          headers={"X-Secret": made["secret"]}).body)
        assert mine["moderation"] == "pending"  # the reporter sees it waits
    follower = device(client, "follower-token-09")
    r = post(client, f"/v1/reports/{held['id']}/follow",
             {"device_id": follower["id"], "device_secret": follower["secret"]})
    assert r.status_code == 404

    def queue() -> list[str]:
        r = client.http.get("/v1/admin/reports?moderation=pending", headers=stack.auth("editor"))
        assert r.status_code == 200, r.body
        return [i["id"] for i in json.loads(r.body)["items"]]

    assert set(queue()) == {held["id"], anonymous["id"]}
    r = client.http.get("/v1/admin/reports?moderation=maybe", headers=stack.auth("editor"))
    assert r.status_code == 422
    assert patch(client, stack, held["id"], {"moderation": "pending"}).status_code == 422
    assert patch(client, stack, plain["id"], {"moderation": "approved"}).status_code == 409
    r = patch(client, stack, held["id"], {"moderation": "approved"})
    assert r.status_code == 200 and json.loads(r.body)["moderation"] == "approved"
    r = patch(client, stack, anonymous["id"], {"moderation": "rejected"})
    assert r.status_code == 200 and json.loads(r.body)["status"] == "rejected"
    assert queue() == []
    assert public_ids() == {plain["id"], held["id"]}
    assert client.http.get(f"/v1/reports/{anonymous['id']}").status_code == 404
    actions = audit_actions()
    assert ("editor@local.test", "report.update", held["id"]) in actions

    # the device's first report was approved: its next one is public at once
    trusted = create(client, contact=contact)
    assert "moderation" not in trusted
    assert client.http.get(f"/v1/reports/{trusted['id']}").status_code == 200


def test_moderation_can_hold_more_than_the_first_report(stack: Stack, client: Any) -> None:
    moderation_on(client, stack, first=2)
    dev = device(client, "new-device-token-02")
    contact = {"device_id": dev["id"], "device_secret": dev["secret"]}
    first = create(client, contact=contact)
    assert patch(client, stack, first["id"], {"moderation": "approved"}).status_code == 200
    second = create(client, contact=contact)
    assert second["moderation"] == "pending"
    assert patch(client, stack, second["id"], {"moderation": "approved"}).status_code == 200
    assert "moderation" not in create(client, contact=contact)
