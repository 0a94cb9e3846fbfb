"""Retention: personal data of reports closed longer than the city's setting is removed daily;
the anonymised report (category, place, status, public notes) stays for statistics."""
from __future__ import annotations

import json
import re
from datetime import timedelta
from typing import Any

from tests.conftest import Stack
from tests.functional.test_reports import audit_actions, create, device, patch, post

PHONE = "+48500100188"


def backdate(report_id: str, days: int) -> None:
    """Created `days + 20` days ago, closed `days` days ago (timestamps set directly)."""
    from chalicelib.models.reports import ReportModel
    from chalicelib.services.clock import iso, now

    r = ReportModel.get(report_id)
    r.update(actions=[ReportModel.created_at.set(iso(now() - timedelta(days=days + 20))),
                      ReportModel.closed_at.set(iso(now() - timedelta(days=days)))])


def with_photo(stack: Stack, report_id: str) -> list[str]:
    from chalicelib.models.reports import ReportModel
    from chalicelib.services.reports import photo_bucket

    keys = [f"photos/{report_id}/0/display.jpg", f"photos/{report_id}/0/thumb.jpg"]
    s3 = stack.session.client("s3")
    for k in keys:
        s3.put_object(Bucket=photo_bucket(), Key=k, Body=b"\xff\xd8jpeg")
    ReportModel.get(report_id).update(actions=[ReportModel.photos.set(
        [{"n": 0, "display": keys[0], "thumb": keys[1], "width": 10, "height": 10}])])
    return keys


def objects(stack: Stack, report_id: str) -> list[str]:
    from chalicelib.services.reports import photo_bucket

    got = stack.session.client("s3").list_objects_v2(Bucket=photo_bucket(),
                                                     Prefix=f"photos/{report_id}/")
    return [o["Key"] for o in got.get("Contents", [])]


def reporter_report(stack: Stack, client: Any, token: str, **over: Any) -> dict[str, Any]:
    """A report with a device contact, a follower, a private exchange, a reopen and a photo,
    resolved with a public note."""
    dev, fan = device(client, f"{token}-reporter"), device(client, f"{token}-follower")
    made = create(client, contact={"device_id": dev["id"], "device_secret": dev["secret"]},
                  description="Dziura. Proszę dzwonić: 500 100 999, jan@example.pl", **over)
    assert post(client, f"/v1/reports/{made['id']}/follow",
                {"device_id": fan["id"], "device_secret": fan["secret"]}).status_code == 200
    secret = {"X-Secret": made["secret"]}
    assert post(client, f"/v1/reports/{made['id']}/messages", {"text": "Mieszkam obok, Jan K."},
                headers=secret).status_code == 201
    assert post(client, f"/v1/admin/reports/{made['id']}/messages", {"text": "Dziękujemy, Panie Janie."},
                headers=stack.auth("editor")).status_code == 201
    assert patch(client, stack, made["id"], {"status": "resolved"}).status_code == 200
    assert post(client, f"/v1/reports/{made['id']}/reopen", {"text": "Nadal jest, Jan z nr 5."},
                headers=secret).status_code == 200
    assert patch(client, stack, made["id"], {"status": "resolved",
                                             "public_note": "Załatano 12 maja."}).status_code == 200
    made["keys"] = with_photo(stack, made["id"])
    made["device"], made["follower"] = dev["id"], fan["id"]
    return made


def test_reports_closed_13_months_ago_lose_personal_data_and_11_months_ago_keep_it(
        stack: Stack, client: Any) -> None:
    from chalicelib.events import retention as retention_events
    from chalicelib.models.reports import ReportEventModel, ReportModel
    from chalicelib.services import reports
    from chalicelib.services.clock import iso, now
    from infra.local import schedule_event

    old = reporter_report(stack, client, "old")
    recent = reporter_report(stack, client, "recent")
    phone = create(client, contact={"phone": PHONE})  # a confirmed number, closed long ago
    code = re.search(r"\b(\d{6})\b", stack.sms_to(PHONE)[0]).group(1)  # type: ignore[union-attr]
    assert post(client, f"/v1/reports/{phone['id']}/contact/confirm", {"code": code},
                headers={"X-Secret": phone["secret"]}).status_code == 200
    assert patch(client, stack, phone["id"], {"status": "not_ours"}).status_code == 200
    still_open = create(client)
    backdate(old["id"], 396)  # 13 months
    backdate(phone["id"], 400)
    backdate(recent["id"], 335)  # 11 months
    ReportModel.get(still_open["id"]).update(actions=[ReportModel.created_at.set(
        iso(now() - timedelta(days=500)))])
    before_recent = ReportModel.get(recent["id"]).attribute_values.copy()

    assert retention_events.retention(schedule_event(), None) == {"reports_purged": 2}

    r = ReportModel.get(old["id"])
    assert r.contact_device is None and r.followers == [] and r.photos == []
    assert r.purged_at and r.media_url is None
    assert objects(stack, old["id"]) == []  # photos erased (the lifecycle rule is a backstop)
    assert "500 100 999" not in r.description and "example.pl" not in r.description
    assert "Dziura" in r.description
    stored = json.dumps([e.attribute_values for e in ReportEventModel.query(old["id"])],
                        default=str)
    for private in ("Jan K.", "Panie Janie", "Jan z nr 5", old["device"], old["follower"]):
        assert private not in stored and private not in json.dumps(r.attribute_values,
                                                                   default=str)
    p = ReportModel.get(phone["id"])
    # no trace of the number (hashes are left out: their hex digits may match by chance)
    kept = json.dumps({k: v for k, v in p.attribute_values.items() if not k.endswith("_hash")},
                      default=str)
    assert p.contact_phone is None and p.pending_phone is None
    assert "500100188" not in kept
    # the reporter's key no longer opens anything; the anonymised report stays public
    assert client.http.get(f"/v1/reports/{old['id']}",
                           headers={"X-Secret": old["secret"]}).status_code == 403
    public = json.loads(client.http.get(f"/v1/reports/{old['id']}").body)
    assert (public["category"], public["status"], public["public_note"]) == (
        "road_damage", "resolved", "Załatano 12 maja.")
    assert public["lat"] == 52.881 and public["address"] == "ul. Warszawska 10"
    assert [e["status"] for e in public["thread"]] == ["resolved", "new", "resolved"]
    inbox = json.loads(client.http.get("/v1/admin/reports?status=resolved",
                                       headers=stack.auth("editor")).body)["items"]
    assert {i["id"] for i in inbox} == {old["id"], recent["id"]}  # still counted

    # 11 months after closing and still open reports are untouched
    assert ReportModel.get(recent["id"]).attribute_values == before_recent
    assert objects(stack, recent["id"]) == recent["keys"]
    mine = json.loads(client.http.get(f"/v1/reports/{recent['id']}",
                                      headers={"X-Secret": recent["secret"]}).body)
    assert "Mieszkam obok, Jan K." in json.dumps(mine)
    assert ReportModel.get(still_open["id"]).purged_at is None
    assert ("retention", "report.purge", "2 reports") in audit_actions()

    assert reports.purge_closed_reports() == 0  # the next day finds nothing new
    assert reports.purge_closed_reports(now() + timedelta(days=40)) == 1  # recent's turn


def test_the_retention_period_is_a_city_setting(stack: Stack, client: Any) -> None:
    from chalicelib.models.reports import ReportModel
    from chalicelib.services import reports

    dev = device(client, "setting-dev")
    kept = create(client, contact={"device_id": dev["id"], "device_secret": dev["secret"]})
    assert patch(client, stack, kept["id"], {"status": "rejected"}).status_code == 200
    backdate(kept["id"], 396)
    for bad in (0, "12", 121, True):
        r = client.http.put("/v1/admin/settings", headers=stack.auth("admin"),
                            body=json.dumps({"report_retention_months": bad}))
        assert r.status_code == 422, bad
    r = client.http.put("/v1/admin/settings", headers=stack.auth("admin"),
                        body=json.dumps({"report_retention_months": 24}))
    assert r.status_code == 200
    assert reports.purge_closed_reports() == 0
    assert ReportModel.get(kept["id"]).contact_device == dev["id"]
    r = client.http.put("/v1/admin/settings", headers=stack.auth("admin"),
                        body=json.dumps({"report_retention_months": 6}))
    assert r.status_code == 200
    assert reports.purge_closed_reports() == 1
    assert ReportModel.get(kept["id"]).contact_device is None
