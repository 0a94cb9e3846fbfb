"""The walking skeleton in-process: staff draft → publish → one SNS publish → the right phones."""
from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from tests.conftest import Stack

IN_A_DAY = (datetime.now(UTC) + timedelta(days=1)).isoformat(timespec="seconds")


def water_alert(**over: object) -> dict[str, object]:
    body: dict[str, object] = {
        "category": "water", "severity": "moderate", "districts": ["srodmiescie"],
        "title": {"pl": "Brak wody na ul. Warszawskiej"},
        "body": {"pl": "Awaria wodociągu. Woda wróci do godz. 18:00. Beczkowóz przy ratuszu."},
        "expires_at": IN_A_DAY}
    body.update(over)
    return body


def seed_residents() -> None:
    from chalicelib.services.subscriptions import activate_sms

    activate_sms("+48500100101", {"categories": ["water"], "districts": ["srodmiescie"]})
    activate_sms("+48500100102", {"categories": ["events"], "districts": []})
    activate_sms("+48500100103", {"categories": ["water"], "districts": ["zachod"]})


def test_publish_reaches_only_the_matching_sms_subscriber(stack: Stack, client) -> None:
    seed_residents()
    resp = client.http.post("/v1/admin/alerts", headers=stack.auth("publisher"),
                            body=json.dumps(water_alert()))
    assert resp.status_code == 201, resp.body
    alert = json.loads(resp.body)
    assert alert["status"] == "draft"

    resp = client.http.post(f"/v1/admin/alerts/{alert['id']}/publish",
                            headers=stack.auth("publisher"))
    assert resp.status_code == 200, resp.body
    assert json.loads(resp.body)["status"] == "published"
    stack.drain_fanout()

    from infra.outbox import sns_backend, topic_publishes

    publishes = topic_publishes(sns_backend())
    assert [p["topic"].split(":")[-1] for p in publishes] == ["informator-alerts-water"]
    attrs = publishes[0]["attributes"]
    assert json.loads(attrs["districts"]["Value"]) == ["srodmiescie"]
    assert "pl" in json.loads(attrs["lang"]["Value"])

    texts = stack.sms_to("+48500100101")
    assert len(texts) == 1 and alert["id"] in texts[0]
    assert "Brak wody" in texts[0]
    assert stack.sms_to("+48500100102") == []
    assert stack.sms_to("+48500100103") == []

    listed = json.loads(client.http.get("/v1/alerts").body)["items"]
    assert [a["id"] for a in listed] == [alert["id"]]
    one = json.loads(client.http.get(f"/v1/alerts/{alert['id']}").body)
    assert one["title"] == "Brak wody na ul. Warszawskiej" and one["status"] == "published"


def test_probe_subscriptions_with_the_same_filter_policies_see_the_filtering(stack: Stack,
                                                                              client) -> None:
    from chalicelib.services.audience import filter_policy

    inside = stack.probe("water", filter_policy(["srodmiescie"], "pl", "sms"))
    other_district = stack.probe("water", filter_policy(["zachod"], "pl", "sms"))
    whole_city = stack.probe("water", filter_policy([], "en", "sms"))
    other_topic = stack.probe("events", filter_policy([], "pl", "sms"))
    alert = json.loads(client.http.post("/v1/admin/alerts", headers=stack.auth("editor"),
                                        body=json.dumps(water_alert())).body)
    client.http.post(f"/v1/admin/alerts/{alert['id']}/publish", headers=stack.auth("publisher"))
    stack.drain_fanout()
    assert len(stack.probe_messages(inside)) == 1
    assert stack.probe_messages(other_district) == []
    # an English speaker gets the Polish text when the alert has no English
    got = stack.probe_messages(whole_city)
    assert len(got) == 1 and "Brak wody" in json.loads(got[0]["Body"])["title"]
    assert stack.probe_messages(other_topic) == []


def test_publishing_twice_sends_once(stack: Stack, client) -> None:
    seed_residents()
    alert = json.loads(client.http.post("/v1/admin/alerts", headers=stack.auth("publisher"),
                                        body=json.dumps(water_alert())).body)
    for _ in range(2):
        r = client.http.post(f"/v1/admin/alerts/{alert['id']}/publish",
                             headers=stack.auth("publisher"))
        assert r.status_code == 200
        stack.drain_fanout()
    assert len(stack.sms_to("+48500100101")) == 1


def test_an_editor_cannot_publish(stack: Stack, client) -> None:
    alert = json.loads(client.http.post("/v1/admin/alerts", headers=stack.auth("editor"),
                                        body=json.dumps(water_alert())).body)
    r = client.http.post(f"/v1/admin/alerts/{alert['id']}/publish", headers=stack.auth("editor"))
    assert r.status_code == 403
    assert json.loads(r.body)["error"]["code"] == "forbidden"
    assert json.loads(client.http.get("/v1/alerts").body)["items"] == []
