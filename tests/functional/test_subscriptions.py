"""SMS sign-up with a code, changing choices, leaving (web form, STOP reply), export, staff sign-up.

Every flow and every refusal of issue 4, in-process with moto: codes are read from the outbox the
way a resident reads them from their phone.
"""
from __future__ import annotations

import json
import logging
import re
import time
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Stack
from tests.functional.test_skeleton import water_alert

PHONE = "+48500100201"
OTHER = "+48500100202"
EVENTS = Path(__file__).resolve().parent.parent / "events"


def post(client: Any, path: str, body: Any, headers: dict[str, str] | None = None) -> Any:
    return client.http.post(path, headers=headers or {"Content-Type": "application/json"},
                            body=json.dumps(body))


def last_code(stack: Stack, phone: str) -> str:
    texts = stack.sms_to(phone)
    assert texts, f"no SMS to {phone}"
    found = re.findall(r"\b(\d{6})\b", texts[-1])
    assert found, texts[-1]
    return found[0]


def sign_up(stack: Stack, client: Any, phone: str = PHONE, **choices: Any) -> dict[str, Any]:
    body = {"phone": phone, "categories": ["water"], "districts": ["srodmiescie"], "lang": "pl",
            **choices}
    r = post(client, "/v1/sms-subscriptions", body)
    assert r.status_code == 202, r.body
    r = post(client, "/v1/sms-subscriptions/confirm", {"phone": phone,
                                                       "code": last_code(stack, phone)})
    assert r.status_code == 201, r.body
    return dict(json.loads(r.body))


def sns_subs(stack: Stack, phone: str) -> dict[str, dict[str, Any]]:
    """The number's SNS subscriptions: topic name → attributes (FilterPolicy parsed)."""
    sns = stack.session.client("sns")
    out: dict[str, dict[str, Any]] = {}
    for page in sns.get_paginator("list_subscriptions").paginate():
        for sub in page["Subscriptions"]:
            if sub["Endpoint"] == phone:
                topic = sub["TopicArn"].split(":")[-1].removeprefix("informator-alerts-")
                assert topic not in out, f"duplicate subscription on {topic}"
                attrs = sns.get_subscription_attributes(
                    SubscriptionArn=sub["SubscriptionArn"])["Attributes"]
                out[topic] = {"protocol": sub["Protocol"],
                              "policy": json.loads(attrs.get("FilterPolicy") or "{}")}
    return out


def stored(phone: str) -> Any:
    from chalicelib.models.subscribers import SubscriberModel

    try:
        return SubscriberModel.get(f"sms#{phone}", consistent_read=True)
    except SubscriberModel.DoesNotExist:
        return None


# ---- sign-up --------------------------------------------------------------------------------

def test_sign_up_with_code_subscribes_chosen_topics_plus_emergency_and_alerts_arrive(
        stack: Stack, client: Any) -> None:
    r = post(client, "/v1/sms-subscriptions", {"phone": "500 100 201", "categories": ["water"],
                                               "districts": ["srodmiescie"], "lang": "pl"})
    assert r.status_code == 202
    assert json.loads(r.body) == {"status": "code_sent", "expires_in": 600}
    assert stored(PHONE) is None and sns_subs(stack, PHONE) == {}  # nothing before the code
    code_sms = stack.sms_to(PHONE)[-1]
    assert "informator.ciechanow.pl/sms" in code_sms  # where to leave, in every SMS

    r = post(client, "/v1/sms-subscriptions/confirm",
             {"phone": "+48 500-100-201", "code": last_code(stack, PHONE)})
    assert r.status_code == 201, r.body
    assert json.loads(r.body)["categories"] == ["emergency", "water"]

    subs = sns_subs(stack, PHONE)
    assert set(subs) == {"water", "emergency"}
    for sub in subs.values():
        assert sub["protocol"] == "sms"
        assert sub["policy"] == {"channel": ["sms"], "lang": ["pl"],
                                 "districts": ["srodmiescie", "all"]}
    record = stored(PHONE)
    assert record.consent_at and record.consent_version == "2026-11-01"
    assert record.consent_by == "self" and record.source == "self"

    # a water alert for the district reaches the number
    alert = json.loads(post(client, "/v1/admin/alerts", water_alert(),
                            stack.auth("publisher")).body)
    r = client.http.post(f"/v1/admin/alerts/{alert['id']}/publish",
                         headers=stack.auth("publisher"))
    assert r.status_code == 200, r.body
    stack.drain_fanout()
    alert_sms = [t for t in stack.sms_to(PHONE) if alert["id"] in t]
    assert len(alert_sms) == 1 and "Brak wody" in alert_sms[0]


def test_changing_choices_goes_through_a_code_and_updates_without_duplicates(
        stack: Stack, client: Any) -> None:
    sign_up(stack, client)
    before = sns_subs(stack, PHONE)
    sign_up(stack, client, categories=["water", "roads"], districts=[], lang="en")
    after = sns_subs(stack, PHONE)  # raises on a duplicate
    assert set(after) == {"water", "roads", "emergency"}
    for sub in after.values():
        assert sub["policy"] == {"channel": ["sms"], "lang": ["en"]}  # whole city: no districts
    sign_up(stack, client, categories=["roads"], districts=["zachod"])
    final = sns_subs(stack, PHONE)
    assert set(final) == {"roads", "emergency"}
    assert final["roads"]["policy"]["districts"] == ["zachod", "all"]
    assert len(before) == 2
    record = stored(PHONE)
    assert set(record.subscription_arns.as_dict()) == {"roads", "emergency"}


def test_the_answer_never_says_whether_a_number_is_subscribed(stack: Stack, client: Any) -> None:
    from chalicelib.services.subscriptions import activate_sms

    activate_sms(PHONE, {"categories": ["water"]})  # subscribed (without spending a code)
    answers = []
    for phone in (PHONE, OTHER):
        for path, body in (("/v1/sms-subscriptions", {"phone": phone, "categories": ["gas"]}),
                           ("/v1/sms-subscriptions/leave", {"phone": phone}),
                           ("/v1/sms-subscriptions/leave", {"phone": phone,
                                                            "purpose": "export"})):
            r = post(client, path, body)
            answers.append((path, r.status_code, r.body, sorted(r.headers.items())))
    known, unknown = answers[:3], answers[3:]
    assert known == unknown
    # and both numbers got the same kind of code SMS (same work done)
    assert len(stack.sms_to(PHONE)) == len(stack.sms_to(OTHER)) == 3


# ---- refusals ---------------------------------------------------------------------------------

@pytest.mark.parametrize("phone,field", [
    ("12", "not a"),
    ("+49 1512 3456789", "only numbers from PL"),  # a German mobile
    ("+48 23 672 20 00", "not a mobile number"),  # Ciechanów landline
    ("", "is required"),
    (48500100201, "is required"),
])
def test_invalid_foreign_and_landline_numbers_are_refused(stack: Stack, client: Any, phone: Any,
                                                          field: str) -> None:
    r = post(client, "/v1/sms-subscriptions", {"phone": phone, "categories": ["water"]})
    assert r.status_code == 422, r.body
    assert field in json.loads(r.body)["error"]["fields"]["phone"]
    assert stack.outbox() == []


def test_bad_choices_and_bad_number_are_reported_together(stack: Stack, client: Any) -> None:
    r = post(client, "/v1/sms-subscriptions", {"phone": "12", "categories": ["beer"],
                                               "districts": ["mars"], "lang": "de"})
    assert r.status_code == 422
    assert set(json.loads(r.body)["error"]["fields"]) == {"phone", "categories", "districts",
                                                          "lang"}
    assert stack.outbox() == []


def test_an_expired_code_is_refused(stack: Stack, client: Any, monkeypatch: Any) -> None:
    from chalicelib.services import subscriptions

    post(client, "/v1/sms-subscriptions", {"phone": PHONE, "categories": ["water"]})
    code = last_code(stack, PHONE)

    class Later:
        @staticmethod
        def time() -> float:
            return time.time() + 601

    monkeypatch.setattr(subscriptions, "time", Later)
    r = post(client, "/v1/sms-subscriptions/confirm", {"phone": PHONE, "code": code})
    assert r.status_code == 422
    assert json.loads(r.body)["error"]["fields"] == {"code": "wrong or expired"}
    assert stored(PHONE) is None and sns_subs(stack, PHONE) == {}


def test_five_wrong_codes_lock_the_number_for_an_hour(stack: Stack, client: Any) -> None:
    post(client, "/v1/sms-subscriptions", {"phone": PHONE, "categories": ["water"]})
    code = last_code(stack, PHONE)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    for _ in range(4):
        r = post(client, "/v1/sms-subscriptions/confirm", {"phone": PHONE, "code": wrong})
        assert r.status_code == 422
    r = post(client, "/v1/sms-subscriptions/confirm", {"phone": PHONE, "code": wrong})
    assert r.status_code == 429
    assert int(r.headers["Retry-After"]) == 3600
    # locked: even the right code no longer works, and no new code is sent
    r = post(client, "/v1/sms-subscriptions/confirm", {"phone": PHONE, "code": code})
    assert r.status_code == 429 and 3500 < int(r.headers["Retry-After"]) <= 3600
    sent = len(stack.sms_to(PHONE))
    r = post(client, "/v1/sms-subscriptions", {"phone": PHONE, "categories": ["water"]})
    assert r.status_code == 429 and r.headers["Retry-After"]
    assert len(stack.sms_to(PHONE)) == sent
    assert stored(PHONE) is None


def test_a_fourth_code_for_a_number_within_an_hour_is_refused(stack: Stack, client: Any) -> None:
    for _ in range(3):
        assert post(client, "/v1/sms-subscriptions", {"phone": PHONE}).status_code == 202
    r = post(client, "/v1/sms-subscriptions/leave", {"phone": PHONE})
    assert r.status_code == 429
    assert 0 < int(r.headers["Retry-After"]) <= 3600
    assert json.loads(r.body)["error"]["code"] == "too_many_requests"
    assert len(stack.sms_to(PHONE)) == 3


def test_the_client_ip_limit_stops_sms_pumping(stack: Stack, client: Any,
                                               monkeypatch: Any) -> None:
    from chalicelib.settings import reset_settings

    monkeypatch.setenv("IP_LIMIT_PER_HOUR", "3")
    reset_settings()
    for i in range(3):
        assert post(client, "/v1/sms-subscriptions", {"phone": f"+4850010030{i}"}).status_code == 202
    r = post(client, "/v1/sms-subscriptions", {"phone": "+48500100309"})
    assert r.status_code == 429 and int(r.headers["Retry-After"]) > 0
    assert stack.sms_to("+48500100309") == []


def test_a_number_opted_out_at_sns_is_refused_until_it_opts_in(stack: Stack,
                                                                client: Any) -> None:
    opted_out = "+48500100299"  # moto reports numbers ending in 99 as opted out
    assert stack.session.client("sns").check_if_phone_number_is_opted_out(
        phoneNumber=opted_out)["isOptedOut"]
    r = post(client, "/v1/sms-subscriptions", {"phone": opted_out, "categories": ["water"]})
    assert r.status_code == 422
    assert json.loads(r.body)["error"]["fields"] == {"phone": "opted out of SMS"}
    assert stack.sms_to(opted_out) == []


def test_a_code_for_another_number_does_not_work(stack: Stack, client: Any) -> None:
    post(client, "/v1/sms-subscriptions", {"phone": PHONE})
    r = post(client, "/v1/sms-subscriptions/confirm", {"phone": OTHER,
                                                       "code": last_code(stack, PHONE)})
    assert r.status_code == 422
    assert stored(OTHER) is None


# ---- leaving, export, erasure ------------------------------------------------------------------

def test_leaving_by_web_form_removes_every_subscription_and_all_data(stack: Stack,
                                                                      client: Any) -> None:
    sign_up(stack, client, categories=["water", "gas", "weather"])
    assert len(sns_subs(stack, PHONE)) == 4
    r = post(client, "/v1/sms-subscriptions/leave", {"phone": PHONE})
    assert r.status_code == 202
    assert "informator.ciechanow.pl/sms" in stack.sms_to(PHONE)[-1]
    r = post(client, "/v1/sms-subscriptions/confirm", {"phone": PHONE,
                                                       "code": last_code(stack, PHONE)})
    assert r.status_code == 200 and json.loads(r.body) == {"status": "removed"}
    assert sns_subs(stack, PHONE) == {}
    assert stored(PHONE) is None
    from chalicelib.models.ops import CodeModel

    assert CodeModel.count(f"sms#{PHONE}") == 0
    # the data export now finds nothing
    post(client, "/v1/sms-subscriptions/leave", {"phone": PHONE, "purpose": "export"})
    r = post(client, "/v1/sms-subscriptions/confirm", {"phone": PHONE,
                                                       "code": last_code(stack, PHONE)})
    assert json.loads(r.body) == {"status": "export", "data": None}


def test_export_after_a_code_shows_everything_stored(stack: Stack, client: Any) -> None:
    sign_up(stack, client, categories=["gas"], districts=["bloki"], lang="uk")
    assert post(client, "/v1/sms-subscriptions/leave",
                {"phone": PHONE, "purpose": "export"}).status_code == 202
    r = post(client, "/v1/sms-subscriptions/confirm", {"phone": PHONE,
                                                       "code": last_code(stack, PHONE)})
    assert r.status_code == 200
    data = json.loads(r.body)["data"]
    assert data["phone"] == PHONE and data["categories"] == ["emergency", "gas"]
    assert data["districts"] == ["bloki"] and data["lang"] == "uk"
    assert data["consent_at"] and data["consent_version"] and data["consent_by"] == "self"
    assert set(data["sns_subscriptions"]) == {"emergency", "gas"}
    assert stored(PHONE) is not None  # an export changes nothing


def test_leave_with_an_unknown_purpose_is_refused(stack: Stack, client: Any) -> None:
    r = post(client, "/v1/sms-subscriptions/leave", {"phone": PHONE, "purpose": "subscribe"})
    assert r.status_code == 422 and "purpose" in json.loads(r.body)["error"]["fields"]


# ---- inbound SMS (two-way number) -------------------------------------------------------------

def inbound_event(body: str, number: str = PHONE) -> dict[str, Any]:
    event = json.loads((EVENTS / "inbound_sms_stop.json").read_text())
    message = json.loads(event["Records"][0]["Sns"]["Message"])
    message.update({"messageBody": body, "originationNumber": number})
    event["Records"][0]["Sns"]["Message"] = json.dumps(message)
    return dict(event)


def test_the_sample_inbound_event_removes_the_number(stack: Stack, client: Any) -> None:
    sign_up(stack, client, categories=["water", "roads"])
    event = json.loads((EVENTS / "inbound_sms_stop.json").read_text())
    assert json.loads(event["Records"][0]["Sns"]["Message"])["originationNumber"] == PHONE
    client.lambda_.invoke("inbound_sms", event)
    assert sns_subs(stack, PHONE) == {}
    assert stored(PHONE) is None


@pytest.mark.parametrize("reply", ["REZYGNUJĘ", "nie", "Stop.", " koniec! ", "rezygnuje"])
def test_every_leave_keyword_works(stack: Stack, client: Any, reply: str) -> None:
    sign_up(stack, client)
    client.lambda_.invoke("inbound_sms", inbound_event(reply))
    assert sns_subs(stack, PHONE) == {} and stored(PHONE) is None


@pytest.mark.parametrize("reply", ["Nie wiem o co chodzi", "Dziękuję", "STOPA", "", "START"])
def test_other_replies_do_nothing(stack: Stack, client: Any, reply: str) -> None:
    sign_up(stack, client)
    client.lambda_.invoke("inbound_sms", inbound_event(reply))
    assert set(sns_subs(stack, PHONE)) == {"water", "emergency"}
    assert stored(PHONE) is not None


def test_a_stop_from_another_number_leaves_this_one_alone(stack: Stack, client: Any) -> None:
    sign_up(stack, client)
    client.lambda_.invoke("inbound_sms", inbound_event("STOP", number=OTHER))
    assert stored(PHONE) is not None


# ---- staff sign-up -------------------------------------------------------------------------------

def test_staff_sign_up_records_who_and_the_resident_still_confirms(stack: Stack,
                                                                  client: Any) -> None:
    body = {"phone": PHONE, "categories": ["heating"], "districts": ["kwiatowe"], "lang": "pl"}
    r = post(client, "/v1/admin/sms-subscriptions", body)
    assert r.status_code == 401
    r = post(client, "/v1/admin/sms-subscriptions", body, stack.auth("editor"))
    assert r.status_code == 202, r.body
    assert stored(PHONE) is None and sns_subs(stack, PHONE) == {}
    code = last_code(stack, PHONE)
    r = post(client, "/v1/sms-subscriptions/confirm", {"phone": PHONE, "code": code})
    assert r.status_code == 201
    record = stored(PHONE)
    assert record.consent_by == "editor@local.test" and record.source == "staff"
    assert set(sns_subs(stack, PHONE)) == {"heating", "emergency"}
    r = client.http.get("/v1/admin/subscribers/counts", headers=stack.auth("editor"))
    assert r.status_code == 200
    counts = json.loads(r.body)
    assert counts["total"] == 1 and counts["by_category"]["heating"] == 1
    assert PHONE not in r.body.decode()


def test_staff_sign_up_refuses_bad_numbers(stack: Stack, client: Any) -> None:
    r = post(client, "/v1/admin/sms-subscriptions", {"phone": "+48 23 672 20 00"},
             stack.auth("editor"))
    assert r.status_code == 422 and "phone" in json.loads(r.body)["error"]["fields"]


# ---- logs -----------------------------------------------------------------------------------------

def test_no_log_line_carries_a_full_number(stack: Stack, client: Any,
                                          caplog: pytest.LogCaptureFixture) -> None:
    # Chalice gives the app's logger ("informator") its own handler and no propagation
    app_log = logging.getLogger("informator")
    app_log.addHandler(caplog.handler)
    caplog.set_level(logging.INFO)
    caplog.set_level(logging.DEBUG, logger="informator")
    try:
        _exercise_every_logging_path(stack, client)
    finally:
        app_log.removeHandler(caplog.handler)
    assert any("*****01" in str(r.__dict__) for r in caplog.records)  # masked ones are logged
    digits = {PHONE[1:], OTHER[1:], "48500100299"}
    for record in caplog.records:
        text = record.getMessage() + " " + json.dumps(record.__dict__, default=str)
        flat = re.sub(r"[\s-]", "", text)
        assert not any(d in flat or d[2:] in flat for d in digits), text


def _exercise_every_logging_path(stack: Stack, client: Any) -> None:
    sign_up(stack, client)
    post(client, "/v1/sms-subscriptions/confirm", {"phone": PHONE, "code": "000000"})
    post(client, "/v1/sms-subscriptions", {"phone": "+48500100299"})  # opted out
    post(client, "/v1/admin/sms-subscriptions", {"phone": OTHER}, stack.auth("editor"))
    client.lambda_.invoke("inbound_sms", inbound_event("hello"))
    client.lambda_.invoke("inbound_sms", inbound_event("STOP"))
    client.lambda_.invoke("inbound_sms", inbound_event("STOP"))  # unknown by now
