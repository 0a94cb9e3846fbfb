"""Push devices: register (idempotent per token), change choices and delete with the secret, prune."""
from __future__ import annotations

import json
from typing import Any

from tests.conftest import Stack

TOKEN = "fcm-token-" + "a" * 40


def register(client: Any, **over: Any) -> Any:
    body = {"platform": "fcm", "token": TOKEN, "categories": ["water", "roads"],
            "districts": ["bloki"], "lang": "uk", **over}
    return client.http.post("/v1/devices", headers={"Content-Type": "application/json"},
                            body=json.dumps(body))


def device_subs(stack: Stack) -> list[dict[str, Any]]:
    sns = stack.session.client("sns")
    out = []
    for page in sns.get_paginator("list_subscriptions").paginate():
        for sub in page["Subscriptions"]:
            if sub["Protocol"] == "application":
                attrs = sns.get_subscription_attributes(
                    SubscriptionArn=sub["SubscriptionArn"])["Attributes"]
                out.append({"topic": sub["TopicArn"].split("-alerts-")[-1],
                            "endpoint": sub["Endpoint"],
                            "policy": json.loads(attrs.get("FilterPolicy") or "{}")})
    return out


def endpoints(stack: Stack) -> list[str]:
    sns = stack.session.client("sns")
    arn = stack.env["PLATFORM_APP_FCM_ARN"]
    return [e["EndpointArn"] for e in sns.list_endpoints_by_platform_application(
        PlatformApplicationArn=arn)["Endpoints"]]


def test_register_subscribes_an_endpoint_with_the_filter_policy(stack: Stack,
                                                               client: Any) -> None:
    r = register(client)
    assert r.status_code == 201, r.body
    dev = json.loads(r.body)
    assert set(dev) == {"id", "secret"}
    subs = device_subs(stack)
    assert sorted(s["topic"] for s in subs) == ["emergency", "roads", "water"]
    assert {s["endpoint"] for s in subs} == set(endpoints(stack))
    for s in subs:
        assert s["policy"] == {"channel": ["push"], "lang": ["uk"], "districts": ["bloki", "all"]}
    r = client.http.get(f"/v1/devices/{dev['id']}", headers={"X-Secret": dev["secret"]})
    assert json.loads(r.body)["categories"] == ["emergency", "roads", "water"]


def test_registering_the_same_token_again_does_not_duplicate(stack: Stack, client: Any) -> None:
    first = json.loads(register(client).body)
    second = json.loads(register(client, categories=["gas"]).body)
    assert first["id"] == second["id"]
    assert len(endpoints(stack)) == 1
    assert sorted(s["topic"] for s in device_subs(stack)) == ["emergency", "gas"]
    # the newest secret is the one that works
    r = client.http.get(f"/v1/devices/{first['id']}", headers={"X-Secret": first["secret"]})
    assert r.status_code == 403
    r = client.http.get(f"/v1/devices/{first['id']}", headers={"X-Secret": second["secret"]})
    assert r.status_code == 200


def test_put_changes_choices_only_with_the_secret(stack: Stack, client: Any) -> None:
    dev = json.loads(register(client).body)
    body = json.dumps({"categories": ["heating"], "districts": [], "lang": "en"})
    for headers, status in (({}, 403), ({"X-Secret": "wrong"}, 403)):
        r = client.http.put(f"/v1/devices/{dev['id']}",
                            headers={"Content-Type": "application/json", **headers}, body=body)
        assert r.status_code == status
        assert json.loads(r.body)["error"]["code"] == "forbidden"
    assert sorted(s["topic"] for s in device_subs(stack)) == ["emergency", "roads", "water"]
    r = client.http.put("/v1/devices/unknown0000", body=body,
                        headers={"Content-Type": "application/json", "X-Secret": dev["secret"]})
    assert r.status_code == 404
    r = client.http.put(f"/v1/devices/{dev['id']}", body=body,
                        headers={"Content-Type": "application/json", "X-Secret": dev["secret"]})
    assert r.status_code == 200, r.body
    subs = device_subs(stack)
    assert sorted(s["topic"] for s in subs) == ["emergency", "heating"]
    assert all(s["policy"] == {"channel": ["push"], "lang": ["en"]} for s in subs)
    r = client.http.put(f"/v1/devices/{dev['id']}", body=json.dumps({"categories": ["beer"]}),
                        headers={"Content-Type": "application/json", "X-Secret": dev["secret"]})
    assert r.status_code == 422


def test_delete_removes_endpoint_and_subscriptions(stack: Stack, client: Any) -> None:
    dev = json.loads(register(client).body)
    assert client.http.delete(f"/v1/devices/{dev['id']}",
                              headers={"X-Secret": "nope"}).status_code == 403
    assert client.http.delete("/v1/devices/unknown0000",
                              headers={"X-Secret": dev["secret"]}).status_code == 404
    assert len(endpoints(stack)) == 1
    r = client.http.delete(f"/v1/devices/{dev['id']}", headers={"X-Secret": dev["secret"]})
    assert r.status_code == 204
    assert endpoints(stack) == [] and device_subs(stack) == []
    assert client.http.get(f"/v1/devices/{dev['id']}",
                           headers={"X-Secret": dev["secret"]}).status_code == 404


def test_invalid_devices_are_refused(stack: Stack, client: Any) -> None:
    r = register(client, platform="blackberry", token="x", lang="de")
    assert r.status_code == 422
    assert set(json.loads(r.body)["error"]["fields"]) == {"platform", "token", "lang"}
    assert endpoints(stack) == []


def test_prune_removes_devices_sns_has_disabled(stack: Stack, client: Any) -> None:
    from chalicelib.services.subscriptions import prune_disabled_endpoints

    keep = json.loads(register(client).body)
    gone = json.loads(register(client, token="fcm-token-" + "b" * 40).body)
    sns = stack.session.client("sns")
    arns = endpoints(stack)
    assert len(arns) == 2
    eps = {sns.get_endpoint_attributes(EndpointArn=a)["Attributes"]["Token"]: a for a in arns}
    gone_endpoint = eps["fcm-token-" + "b" * 40]
    sns.set_endpoint_attributes(EndpointArn=gone_endpoint, Attributes={"Enabled": "false"})
    assert prune_disabled_endpoints() == 1
    assert endpoints(stack) == [eps[TOKEN]]
    assert {s["endpoint"] for s in device_subs(stack)} == {eps[TOKEN]}
    assert client.http.get(f"/v1/devices/{gone['id']}",
                           headers={"X-Secret": gone["secret"]}).status_code == 404
    assert client.http.get(f"/v1/devices/{keep['id']}",
                           headers={"X-Secret": keep["secret"]}).status_code == 200
    assert prune_disabled_endpoints() == 0


def test_registering_again_revives_a_disabled_endpoint(stack: Stack, client: Any) -> None:
    dev = json.loads(register(client).body)
    sns = stack.session.client("sns")
    (arn,) = endpoints(stack)
    sns.set_endpoint_attributes(EndpointArn=arn, Attributes={"Enabled": "false"})
    again = json.loads(register(client).body)
    assert again["id"] == dev["id"]
    (new_arn,) = endpoints(stack)
    assert sns.get_endpoint_attributes(EndpointArn=new_arn)["Attributes"]["Enabled"] == "true"
    subs = device_subs(stack)
    assert {s["endpoint"] for s in subs} == {new_arn} and len(subs) == 3
