"""Test sends reach the staff's own phones AND devices (issue 3), marked TEST, and nobody else.

Staff register their phones' app tokens like residents do (POST /v1/devices) and name the device
ids in the settings (`staff_test_devices`); a test send publishes the push bodies straight to
those platform endpoints. The dev outbox shows the pushes (channel "push").
"""
from __future__ import annotations

import json
from typing import Any

from tests.conftest import Stack
from tests.functional.test_alerts import call, create, resident

STAFF_PHONE = "+48600700801"
RESIDENT_PHONE = "+48500100301"
FCM = "fcm-staff-token-" + "a" * 40
APNS = "apns-staff-token-" + "b" * 40
RESIDENT_FCM = "fcm-resident-token-" + "c" * 40


def device(client: Any, platform: str, token: str, lang: str = "pl",
           categories: list[str] | None = None) -> dict[str, str]:
    r = client.http.post("/v1/devices", headers={"Content-Type": "application/json"},
                         body=json.dumps({"platform": platform, "token": token, "lang": lang,
                                          "categories": categories or [], "districts": []}))
    assert r.status_code == 201, r.body
    return dict(json.loads(r.body))


def endpoint_of(stack: Stack, token: str) -> str:
    sns = stack.session.client("sns")
    for key in ("PLATFORM_APP_FCM_ARN", "PLATFORM_APP_APNS_ARN"):
        for ep in sns.list_endpoints_by_platform_application(
                PlatformApplicationArn=stack.env[key])["Endpoints"]:
            if ep["Attributes"]["Token"] == token:
                return str(ep["EndpointArn"])
    raise AssertionError(f"no endpoint for {token}")


def pushes(stack: Stack) -> dict[str, list[Any]]:
    """Push deliveries in the dev outbox: endpoint ARN → the platform bodies, parsed."""
    out: dict[str, list[Any]] = {}
    for d in stack.outbox():
        if d["channel"] == "push":
            out.setdefault(d["to"], []).append(json.loads(d["text"]))
    return out


def settings(client: Any, stack: Stack, **values: Any) -> tuple[int, Any]:
    return call(client, stack, "put", "/v1/admin/settings", "admin", values)


def test_a_test_send_reaches_the_staff_devices_and_phones_marked_test(
        stack: Stack, client: Any) -> None:
    from infra.outbox import sns_backend, topic_publishes

    fcm, apns = device(client, "fcm", FCM), device(client, "apns", APNS)
    device(client, "fcm", RESIDENT_FCM, categories=["water"])  # a resident's phone
    resident(RESIDENT_PHONE, ["water"], ["srodmiescie"])
    a = create(client, stack)
    status, out = settings(client, stack, staff_test_phones=[STAFF_PHONE],
                           staff_test_devices=[fcm["id"], apns["id"]])
    assert status == 200 and out["settings"]["staff_test_devices"] == [fcm["id"], apns["id"]]

    status, out = call(client, stack, "post", f"/v1/admin/alerts/{a['id']}/test")
    assert status == 200, out
    assert (out["phones"], out["devices"], out["sent_to"], out["not_reached"]) == (1, 2, 3, [])

    got = pushes(stack)
    assert set(got) == {endpoint_of(stack, FCM), endpoint_of(stack, APNS)}  # not the resident's
    [gcm] = got[endpoint_of(stack, FCM)]
    assert gcm["notification"]["title"] == "TEST: Brak wody na ul. Warszawskiej"
    assert gcm["data"]["alert_id"] == a["id"] and gcm["data"]["exercise"] == "True"
    [ios] = got[endpoint_of(stack, APNS)]
    assert ios["aps"]["alert"]["title"].startswith("TEST: ") and ios["alert_id"] == a["id"]
    assert [t[:6] for t in stack.sms_to(STAFF_PHONE)] == ["TEST: "]
    assert stack.sms_to(RESIDENT_PHONE) == []
    assert topic_publishes(sns_backend()) == []  # nothing went through the category topics
    assert call(client, stack, "get", f"/v1/admin/alerts/{a['id']}", "editor")[1]["status"] == \
        "draft"


def test_devices_alone_are_enough_and_get_their_language(stack: Stack, client: Any) -> None:
    uk = device(client, "fcm", FCM, lang="uk")
    en = device(client, "apns", APNS, lang="en")  # the alert has no English: Polish text
    a = create(client, stack, title={"pl": "Brak wody", "uk": "Немає води"},
               body={"pl": "Awaria wodociągu.", "uk": "Аварія водопроводу."})
    assert settings(client, stack, staff_test_devices=[uk["id"], en["id"]])[0] == 200
    status, out = call(client, stack, "post", f"/v1/admin/alerts/{a['id']}/test")
    assert status == 200 and (out["phones"], out["devices"]) == (0, 2), out
    got = pushes(stack)
    assert got[endpoint_of(stack, FCM)][0]["notification"]["title"] == "ТЕСТ: Немає води"
    assert got[endpoint_of(stack, APNS)][0]["aps"]["alert"]["title"] == "TEST: Brak wody"


def test_a_device_gone_or_disabled_since_is_reported_not_fatal(stack: Stack, client: Any) -> None:
    keep, gone, off = (device(client, "fcm", FCM), device(client, "apns", APNS),
                       device(client, "fcm", RESIDENT_FCM))
    assert settings(client, stack, staff_test_devices=[keep["id"], gone["id"], off["id"]])[0] == 200
    assert client.http.delete(f"/v1/devices/{gone['id']}",
                              headers={"X-Secret": gone["secret"]}).status_code == 204
    stack.session.client("sns").set_endpoint_attributes(
        EndpointArn=endpoint_of(stack, RESIDENT_FCM), Attributes={"Enabled": "false"})
    a = create(client, stack)
    status, out = call(client, stack, "post", f"/v1/admin/alerts/{a['id']}/test")
    assert status == 200 and out["devices"] == 1, out
    assert {r["device"]: r["why"] for r in out["not_reached"]} == {
        gone["id"]: "no longer registered", off["id"]: "EndpointDisabled"}
    assert set(pushes(stack)) == {endpoint_of(stack, FCM)}


def test_settings_accept_only_registered_devices(stack: Stack, client: Any) -> None:
    real = device(client, "fcm", FCM)
    for bad in (["0" * 24], [real["id"], "nope"], "abc", [1], [real["id"]] * 21):
        status, out = settings(client, stack, staff_test_devices=bad)
        assert status == 422 and "staff_test_devices" in out["error"]["fields"], (bad, out)
    assert call(client, stack, "get", "/v1/admin/settings", "admin")[1]["settings"][
        "staff_test_devices"] == []
    assert settings(client, stack, staff_test_devices=[real["id"]])[0] == 200
    assert settings(client, stack, staff_test_devices=[])[0] == 200


def test_without_phones_or_devices_the_test_send_says_what_to_set(stack: Stack,
                                                                 client: Any) -> None:
    a = create(client, stack)
    status, out = call(client, stack, "post", f"/v1/admin/alerts/{a['id']}/test")
    assert status == 409
    assert "staff_test_phones" in out["error"]["message"]
    assert "staff_test_devices" in out["error"]["message"]
    assert pushes(stack) == {} and stack.outbox() == []
