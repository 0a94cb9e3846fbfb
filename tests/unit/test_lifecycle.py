"""The alert lifecycle: draft → (approval) → scheduled/published → updated → cancelled/expired,
each transition as staff and residents see it, every version kept, the audit log."""
from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.conftest import Stack
from tests.functional.test_alerts import call, create, later, publish, published, resident

SCHEDULE_EVENT = {"version": "0", "id": "t", "detail-type": "Scheduled Event",
                  "source": "aws.events", "account": "123456789012", "time": "2026-01-01T00:00:00Z",
                  "region": "eu-central-1", "resources": [], "detail": {}}


@pytest.fixture
def move_clock(monkeypatch: pytest.MonkeyPatch) -> Callable[[timedelta], None]:
    """Move the app's clock forward (the alert lifecycle reads time through clock.now)."""
    from chalicelib.services import clock

    real = clock.now

    def move(delta: timedelta) -> None:
        monkeypatch.setattr(clock, "now", lambda: real() + delta)

    return move


def tick() -> dict[str, int]:
    from chalicelib.events import handlers

    return dict(handlers.tick(SCHEDULE_EVENT, None))


def status_of(client: Any, stack: Stack, alert_id: str) -> str:
    return str(call(client, stack, "get", f"/v1/admin/alerts/{alert_id}", "editor")[1]["status"])


def test_draft_publish_update_cancel_each_reach_the_resident_once(stack: Stack,
                                                                   client: Any) -> None:
    resident("+48500100501", ["water"], ["srodmiescie"])
    a = create(client, stack)
    assert a["status"] == "draft" and a["version"] == 0
    status, edited = call(client, stack, "patch", f"/v1/admin/alerts/{a['id']}", "editor",
                          {"title": {"pl": "Brak wody na ul. Sienkiewicza"}})
    assert status == 200 and edited["title"]["pl"] == "Brak wody na ul. Sienkiewicza"

    status, pub = publish(client, stack, a["id"])
    assert status == 200 and pub["status"] == "published" and pub["version"] == 1
    # publishing twice answers the same and sends nothing more
    status, again = publish(client, stack, a["id"])
    assert status == 200 and again == pub
    stack.drain_fanout()
    stack.drain_fanout()
    sms = stack.sms_to("+48500100501")
    assert len(sms) == 1 and "Sienkiewicza" in sms[0]

    # a draft edit is refused once published: updates are versions
    assert call(client, stack, "patch", f"/v1/admin/alerts/{a['id']}", "editor",
                {"title": {"pl": "x"}})[0] == 409
    assert call(client, stack, "post", f"/v1/admin/alerts/{a['id']}/update", "editor",
                {"body": {"pl": "y"}})[0] == 403
    status, upd = call(client, stack, "post", f"/v1/admin/alerts/{a['id']}/update", body={
        "body": {"pl": "Woda wróci dopiero o 20:00."}, "expires_at": later(30)})
    assert status == 200 and upd["version"] == 2 and upd["msg_type"] == "update"
    stack.drain_fanout()
    sms = stack.sms_to("+48500100501")
    assert len(sms) == 2 and sms[1].startswith("AKTUALIZACJA: ") and "20:00" in sms[1]

    status, can = call(client, stack, "post", f"/v1/admin/alerts/{a['id']}/cancel",
                       body={"body": {"pl": "Woda już płynie."}})
    assert status == 200 and can["status"] == "cancelled" and can["version"] == 3
    assert call(client, stack, "post", f"/v1/admin/alerts/{a['id']}/cancel")[1] == can
    stack.drain_fanout()
    sms = stack.sms_to("+48500100501")
    assert len(sms) == 3 and sms[2].startswith("ODWOLANE: ") and "Woda juz plynie" in sms[2]

    status, out = publish(client, stack, a["id"])
    assert status == 409 and out["error"]["code"] == "conflict"
    assert call(client, stack, "post", f"/v1/admin/alerts/{a['id']}/update",
                body={"body": {"pl": "z"}})[0] == 409

    status, versions = call(client, stack, "get", f"/v1/admin/alerts/{a['id']}/versions",
                            "editor")
    assert status == 200
    assert [(v["version"], v["msg_type"]) for v in versions["items"]] == [
        (1, "alert"), (2, "update"), (3, "cancel")]
    assert versions["items"][0]["body"]["pl"].startswith("Awaria wodociągu")
    assert versions["items"][1]["body"]["pl"] == "Woda wróci dopiero o 20:00."


def test_update_reaches_residents_of_districts_the_new_version_dropped(stack: Stack,
                                                                       client: Any) -> None:
    resident("+48500100511", ["water"], ["zachod"])
    resident("+48500100512", ["water"], ["srodmiescie"])
    a = published(client, stack, districts=["srodmiescie", "zachod"])
    stack.drain_fanout()
    call(client, stack, "post", f"/v1/admin/alerts/{a['id']}/update",
         body={"districts": ["srodmiescie"], "body": {"pl": "Zachód ma już wodę."}})
    stack.drain_fanout()
    # the resident of Zachód got the alert, so gets the update that concerns them
    assert [t[:13] for t in stack.sms_to("+48500100511")] == ["UM Ciechanow:", "AKTUALIZACJA:"]
    assert len(stack.sms_to("+48500100512")) == 2


def test_cancelling_a_draft_or_a_scheduled_alert_sends_nothing(stack: Stack, client: Any) -> None:
    resident("+48500100521", ["water"], [])
    d = create(client, stack)
    s = create(client, stack, starts_at=later(2))
    assert publish(client, stack, s["id"])[1]["status"] == "scheduled"
    for alert_id in (d["id"], s["id"]):
        status, out = call(client, stack, "post", f"/v1/admin/alerts/{alert_id}/cancel")
        assert status == 200 and out["status"] == "cancelled"
        assert publish(client, stack, alert_id)[0] == 409
    stack.drain_fanout()
    assert stack.sms_to("+48500100521") == []
    assert call(client, stack, "get", f"/v1/alerts/{d['id']}", None)[0] == 404


def test_a_scheduled_alert_goes_out_at_starts_at_by_the_tick(stack: Stack, client: Any,
                                                             move_clock: Any) -> None:
    resident("+48500100531", ["water"], ["srodmiescie"])
    a = create(client, stack, starts_at=later(2))
    status, out = publish(client, stack, a["id"])
    assert status == 200 and out["status"] == "scheduled" and out["version"] == 0
    assert publish(client, stack, a["id"])[1]["status"] == "scheduled"
    assert tick()["released"] == 0
    stack.drain_fanout()
    assert stack.sms_to("+48500100531") == []
    assert call(client, stack, "get", "/v1/alerts", None)[1]["items"] == []

    move_clock(timedelta(hours=2, minutes=1))
    assert tick()["released"] == 1
    assert tick()["released"] == 0  # released once
    stack.drain_fanout()
    assert len(stack.sms_to("+48500100531")) == 1
    assert status_of(client, stack, a["id"]) == "published"
    assert [x["id"] for x in call(client, stack, "get", "/v1/alerts", None)[1]["items"]] == [
        a["id"]]


def test_a_scheduled_alert_whose_window_passed_expires_unsent(stack: Stack, client: Any,
                                                              move_clock: Any) -> None:
    resident("+48500100541", ["water"], [])
    a = create(client, stack, starts_at=later(1), expires_at=later(2))
    publish(client, stack, a["id"])
    move_clock(timedelta(hours=3))
    assert tick() == {"released": 0, "expired": 1, "held_sent": 0, "rerequested": 0}
    stack.drain_fanout()
    assert stack.sms_to("+48500100541") == []
    assert status_of(client, stack, a["id"]) == "expired"


def test_an_expired_alert_leaves_the_active_list_without_a_notification(stack: Stack, client: Any,
                                                                        move_clock: Any) -> None:
    resident("+48500100551", ["water"], ["srodmiescie"])
    a = published(client, stack, expires_at=later(1))
    stack.drain_fanout()
    assert len(stack.sms_to("+48500100551")) == 1
    move_clock(timedelta(hours=1, minutes=1))
    assert call(client, stack, "get", "/v1/alerts", None)[1]["items"] == []  # before the tick too
    assert tick()["expired"] == 1
    stack.drain_fanout()
    assert len(stack.sms_to("+48500100551")) == 1
    assert status_of(client, stack, a["id"]) == "expired"
    assert publish(client, stack, a["id"])[0] == 409
    assert call(client, stack, "post", f"/v1/admin/alerts/{a['id']}/cancel")[0] == 409
    hist = call(client, stack, "get", "/v1/alerts?include=expired", None)[1]["items"]
    assert [(x["id"], x["status"]) for x in hist] == [(a["id"], "expired")]


def test_an_update_cannot_move_the_expiry_into_the_past(stack: Stack, client: Any) -> None:
    a = published(client, stack)
    past = (datetime.now(UTC) - timedelta(hours=1)).isoformat(timespec="seconds")
    status, out = call(client, stack, "post", f"/v1/admin/alerts/{a['id']}/update",
                       body={"expires_at": past})
    assert status == 422 and "expires_at" in out["error"]["fields"]
    status, out = call(client, stack, "post", f"/v1/admin/alerts/{a['id']}/update",
                       body={"category": "gas"})
    assert status == 422 and "category" in out["error"]["fields"]
    assert call(client, stack, "get", f"/v1/admin/alerts/{a['id']}", "editor")[1]["version"] == 1


def test_approval_by_a_second_staff_member(stack: Stack, client: Any) -> None:
    resident("+48500100561", ["water"], ["srodmiescie"])
    call(client, stack, "put", "/v1/admin/settings", "admin", {"approval_categories": ["water"]})
    a = create(client, stack, role="editor")
    other = create(client, stack, role="editor", category="gas")  # no approval for gas

    status, out = publish(client, stack, a["id"])
    assert status == 200 and out["status"] == "pending_approval"
    assert publish(client, stack, other["id"])[1]["status"] == "published"
    # the submitter can neither publish it again nor approve it; an editor cannot approve
    assert publish(client, stack, a["id"])[0] == 409
    assert call(client, stack, "post", f"/v1/admin/alerts/{a['id']}/approve")[0] == 403
    assert call(client, stack, "post", f"/v1/admin/alerts/{a['id']}/approve", "editor")[0] == 403
    stack.drain_fanout()
    assert stack.sms_to("+48500100561") == []

    status, out = call(client, stack, "post", f"/v1/admin/alerts/{a['id']}/approve", "admin")
    assert status == 200 and out["status"] == "published"
    assert out["approved_by"] == "admin@local.test"
    assert call(client, stack, "post", f"/v1/admin/alerts/{a['id']}/approve", "admin")[0] == 409
    stack.drain_fanout()
    assert len(stack.sms_to("+48500100561")) == 1


def test_an_edit_after_submitting_needs_a_fresh_approval(stack: Stack, client: Any) -> None:
    call(client, stack, "put", "/v1/admin/settings", "admin", {"approval_categories": ["water"]})
    a = create(client, stack, role="publisher")
    publish(client, stack, a["id"])
    call(client, stack, "patch", f"/v1/admin/alerts/{a['id']}", "editor",
         {"title": {"pl": "Zmieniony tytuł"}})
    assert status_of(client, stack, a["id"]) == "draft"
    assert publish(client, stack, a["id"], role="admin")[1]["status"] == "pending_approval"
    # the author approves what the admin submitted? no: the author wrote it
    assert call(client, stack, "post", f"/v1/admin/alerts/{a['id']}/approve")[0] == 403


def test_an_override_needs_a_written_reason_and_is_audited(stack: Stack, client: Any) -> None:
    call(client, stack, "put", "/v1/admin/settings", "admin", {"approval_categories": ["water"]})
    a = create(client, stack)
    status, out = publish(client, stack, a["id"], body={"override_reason": "pilne"})
    assert status == 422 and "override_reason" in out["error"]["fields"]
    assert status_of(client, stack, a["id"]) == "draft"
    reason = "Nocna awaria, drugi dyżurny nieosiągalny"
    status, out = publish(client, stack, a["id"], body={"override_reason": reason})
    assert status == 200 and out["status"] == "published" and out["approved_by"] is None
    day = datetime.now(UTC).strftime("%Y-%m-%d")
    entries = call(client, stack, "get", f"/v1/admin/audit?day={day}", "admin")[1]["items"]
    pub = [e for e in entries if e["action"] == "alert.publish" and e["target"] == a["id"]]
    assert pub[0]["details"]["override_reason"] == reason
    assert pub[0]["actor"] == "publisher@local.test"


def test_the_audit_log_records_who_did_what_and_cannot_be_edited(stack: Stack,
                                                                 client: Any) -> None:
    a = create(client, stack, role="editor")
    publish(client, stack, a["id"])
    call(client, stack, "post", f"/v1/admin/alerts/{a['id']}/update", body={"body": {"pl": "x"}})
    call(client, stack, "post", f"/v1/admin/alerts/{a['id']}/cancel")
    day = datetime.now(UTC).strftime("%Y-%m-%d")
    assert call(client, stack, "get", f"/v1/admin/audit?day={day}", "publisher")[0] == 403
    status, out = call(client, stack, "get", f"/v1/admin/audit?day={day}", "admin")
    assert status == 200
    mine = [(e["actor"], e["action"]) for e in reversed(out["items"]) if e["target"] == a["id"]]
    assert mine == [("editor@local.test", "alert.create"), ("publisher@local.test", "alert.publish"),
                    ("publisher@local.test", "alert.update"),
                    ("publisher@local.test", "alert.cancel")]
    assert all(e["at"][:4].isdigit() for e in out["items"])
    for method in ("put", "delete", "patch", "post"):
        assert call(client, stack, method, "/v1/admin/audit", "admin", {})[0] in (403, 405)
