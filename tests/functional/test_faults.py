"""Faults beyond publishing (that is test_fanout_faults.py): DynamoDB throttling and SNS errors
at each step of subscribing, reporting and importing. The API answers a 503 with Retry-After in
the error shape; the client's retry finishes the job; nothing is lost or sent twice."""
from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import botocore.client
import pytest
from botocore.exceptions import ClientError, ReadTimeoutError

from tests.conftest import PREFIX, Stack

JSON = {"Content-Type": "application/json"}
Plan = dict[tuple[str, str, str], set[int]]


@pytest.fixture
def faults(stack: Stack, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[Plan], Counter[
        tuple[str, str, str]]]]:
    """Fail the Nth call of (service, operation, table or "") for every botocore client,
    PynamoDB's included, as AWS would after the SDK's own retries gave up."""
    real = botocore.client.BaseClient._make_api_call

    def install(plan: Plan) -> Counter[tuple[str, str, str]]:
        calls: Counter[tuple[str, str, str]] = Counter()

        def call(self: Any, operation: str, params: dict[str, Any]) -> Any:
            service = self.meta.service_model.service_name
            key = (service, operation, str(params.get("TableName", "")).removeprefix(
                f"{PREFIX}-"))
            calls[key] += 1
            if calls[key] in plan.get(key, set()):
                if service == "dynamodb":
                    raise ClientError({"Error": {
                        "Code": "ProvisionedThroughputExceededException",
                        "Message": "The level of configured provisioned throughput for the table "
                                   "was exceeded."}}, operation)
                if operation == "Subscribe":
                    raise ReadTimeoutError(endpoint_url="https://sns.eu-central-1.amazonaws.com")
                raise ClientError({"Error": {"Code": "Throttling", "Message": "Rate exceeded"}},
                                  operation)
            return real(self, operation, params)

        monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", call)
        return calls

    yield install


def post(client: Any, path: str, body: Any) -> Any:
    return client.http.post(path, headers=JSON, body=json.dumps(body))


def assert_503(resp: Any) -> None:
    assert resp.status_code == 503, resp.body
    assert resp.headers["Retry-After"] == "5"
    assert resp.json_body["error"]["code"] == "service_unavailable"


def codes(stack: Stack, phone: str) -> list[str]:
    return [m.group(1) for t in stack.sms_to(phone) if (m := re.search(r"\b(\d{6})\b", t))]


def sns_subscriptions(stack: Stack, phone: str) -> Counter[str]:
    sns = stack.session.client("sns")
    subs = sns.list_subscriptions()["Subscriptions"]
    return Counter(s["TopicArn"].rsplit("-", 1)[1] for s in subs if s["Endpoint"] == phone)


SIGN_UP: dict[str, Any] = {"phone": "+48500300401", "categories": ["water", "roads"], "districts": ["srodmiescie"],
           "lang": "pl"}


# ---- subscribing ------------------------------------------------------------------------------

@pytest.mark.parametrize("step", [("dynamodb", "PutItem", "codes"), ("sns", "Publish", "")])
def test_a_throttled_code_request_is_a_503_and_the_retry_sends_one_code(
        stack: Stack, client: Any, faults: Any, step: tuple[str, str, str]) -> None:
    faults({step: {1}})
    assert_503(post(client, "/v1/sms-subscriptions", SIGN_UP))
    assert codes(stack, SIGN_UP["phone"]) == []
    assert post(client, "/v1/sms-subscriptions", SIGN_UP).status_code == 202
    sent = codes(stack, SIGN_UP["phone"])
    assert len(sent) == 1
    done = post(client, "/v1/sms-subscriptions/confirm", {"phone": SIGN_UP["phone"],
                                                          "code": sent[0]})
    assert done.status_code == 201, done.body


@pytest.mark.parametrize("step", [
    (("sns", "Subscribe", ""), 2),            # SNS times out on the second topic
    (("dynamodb", "PutItem", "subscribers"), 1),  # every topic subscribed, the record not saved
    (("dynamodb", "DeleteItem", "codes"), 1),  # all done but the code could not be spent
])
def test_a_confirm_that_fails_midway_is_finished_by_the_retry_with_one_subscription_per_topic(
        stack: Stack, client: Any, faults: Any, step: tuple[tuple[str, str, str], int]) -> None:
    from chalicelib.models.subscribers import SubscriberModel

    assert post(client, "/v1/sms-subscriptions", SIGN_UP).status_code == 202
    code = codes(stack, SIGN_UP["phone"])[0]
    key, nth = step
    faults({key: {nth}})
    body = {"phone": SIGN_UP["phone"], "code": code}
    assert_503(post(client, "/v1/sms-subscriptions/confirm", body))
    retry = post(client, "/v1/sms-subscriptions/confirm", body)
    if key[1] == "DeleteItem":
        # the subscription was complete; the code is spent on the retry or the retry says so
        assert retry.status_code in (201, 422)
    else:
        assert retry.status_code == 201, retry.body
    assert sns_subscriptions(stack, SIGN_UP["phone"]) == {"emergency": 1, "roads": 1, "water": 1}
    record = SubscriberModel.get(f"sms#{SIGN_UP['phone']}")
    assert sorted(record.categories) == ["emergency", "roads", "water"]
    assert sorted(dict(record.subscription_arns.as_dict())) == ["emergency", "roads", "water"]
    # the code is spent now: a third try is refused, and no further SMS went out
    again = post(client, "/v1/sms-subscriptions/confirm", body)
    assert again.status_code == 422
    assert len(stack.sms_to(SIGN_UP["phone"])) == 1  # the code; nothing sent twice


# ---- reporting --------------------------------------------------------------------------------

REPORT = {"category": "road_damage", "description": "Dziura w jezdni na ul. Płońskiej.",
          "lat": 52.881, "lon": 20.619, "photos": 2}


def test_a_throttled_report_write_is_a_503_and_the_retry_leaves_one_report(
        stack: Stack, client: Any, faults: Any) -> None:
    from chalicelib.models.reports import ReportModel

    faults({("dynamodb", "PutItem", "reports"): {1}})
    assert_503(post(client, "/v1/reports", REPORT))
    assert list(ReportModel.scan()) == []
    made = post(client, "/v1/reports", REPORT)
    assert made.status_code == 201 and len(made.json_body["uploads"]) == 2
    assert [r.id for r in ReportModel.scan()] == [made.json_body["id"]]


def test_a_throttle_after_the_report_write_leaves_the_first_report_as_a_known_duplicate(
        stack: Stack, client: Any, faults: Any) -> None:
    """Documented behaviour: the report is written, then the audit write (the one AWS call left
    before the answer; presigning is local) is throttled. The client sees a 503 and retries; the
    first report stays in the staff inbox without photos or a reporter who holds its secret, so
    staff close it as a duplicate. Preventing it needs a client-sent idempotency key."""
    from chalicelib.models.reports import ReportModel

    faults({("dynamodb", "PutItem", "audit"): {1}})
    assert_503(post(client, "/v1/reports", REPORT))
    made = post(client, "/v1/reports", REPORT)
    assert made.status_code == 201
    reports = list(ReportModel.scan())
    assert len(reports) == 2
    first = next(r for r in reports if r.id != made.json_body["id"])
    assert first.status == "new" and not (first.photos or [])


# ---- importing --------------------------------------------------------------------------------

def _payload(n: int) -> bytes:
    items = [{"nr": f"W-{i}", "tytul": f"Przerwa w dostawie wody nr {i}",
              "opis": f"Ulica Testowa {i}: brak wody od 8:00 do 14:00.",
              # already running: the alerts go out at once (a future start would schedule them)
              "od": (datetime.now(UTC) - timedelta(hours=1)).isoformat(timespec="seconds"),
              "do": "2099-01-01T14:00:00+01:00"}
             for i in range(n)]
    return json.dumps({"komunikaty": items}, ensure_ascii=False).encode()


@pytest.mark.parametrize("step", [("dynamodb", "PutItem", "alerts"),
                                  ("dynamodb", "PutItem", "feed-items"),
                                  ("dynamodb", "PutItem", "audit")])
def test_a_feed_run_throttled_midway_is_completed_by_the_next_run_without_duplicates(
        stack: Stack, client: Any, faults: Any, step: tuple[str, str, str]) -> None:
    from chalicelib.services import feeds
    from tests.functional.test_fanout_faults import drain, publishes

    feeds.put("water-json", {
        "adapter": "json", "url": "https://pwik.example.pl/komunikaty.json", "schedule": 15,
        "category": "water", "districts": [], "auto_publish": True, "enabled": True,
        "options": {"items_path": "komunikaty", "id": "nr", "title": "tytul", "body": "opis",
                    "start": "od", "end": "do"}}, "admin@local.test")
    payload = _payload(12)
    calls = faults({step: {6}})
    first = feeds.run_feed("water-json", fetch=lambda _url: (200, payload))
    assert calls[step] >= 6 and first["ok"] is False
    drain(stack)
    second = feeds.run_feed("water-json", fetch=lambda _url: (200, payload))
    assert second["ok"] is True, second
    third = feeds.run_feed("water-json", fetch=lambda _url: (200, payload))
    assert third["unchanged"] == 12 and third["created"] == 0
    assert drain(stack) == []
    from chalicelib.models.alerts import AlertModel

    stored = Counter(str(a.title.as_dict()["pl"]) if hasattr(a.title, "as_dict") else str(a.title)
                     for a in AlertModel.scan())
    assert len(stored) == 12 and set(stored.values()) == {1}, stored
    sent = Counter(p["attributes"]["alert_id"]["Value"] for p in publishes("water"))
    assert len(publishes("water")) == 12 and set(sent.values()) == {1}
