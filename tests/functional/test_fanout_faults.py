"""Fan-out: constant SNS calls, one publish per language, quiet hours, and exactly-once delivery
under injected faults (throttling, lost connections, timeouts, a worker killed mid-send, a crash
between the state change and the queue)."""
from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError, ReadTimeoutError

from tests.conftest import PREFIX, Stack
from tests.functional.test_alerts import call, create, publish, published, resident

SCHEDULE_EVENT = {"version": "0", "id": "t", "detail-type": "Scheduled Event",
                  "source": "aws.events", "account": "123456789012",
                  "time": "2026-01-01T00:00:00Z", "region": "eu-central-1", "resources": [],
                  "detail": {}}


class WorkerKilled(BaseException):
    """The Lambda dies (timeout, out of memory): no except clause of ours runs."""


def drain(stack: Stack, rounds: int = 30) -> list[str]:
    """Run the fan-out worker on the queue as Lambda + SQS would; a failed run puts the message
    back (made visible at once here instead of after the visibility timeout)."""
    from chalicelib.events import handlers
    from infra.local import sqs_event

    sqs = stack.session.client("sqs")
    url = sqs.get_queue_url(QueueName=f"{PREFIX}-fanout")["QueueUrl"]
    arn = f"arn:aws:sqs:eu-central-1:123456789012:{PREFIX}-fanout"
    failures: list[str] = []
    for _ in range(rounds):
        msgs = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=1,
                                   VisibilityTimeout=30).get("Messages", [])
        if not msgs:
            break
        try:
            handlers.fanout_worker(sqs_event(msgs, arn), None)
        except (Exception, WorkerKilled) as exc:
            failures.append(type(exc).__name__)
            sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=msgs[0]["ReceiptHandle"],
                                          VisibilityTimeout=0)
            continue
        sqs.delete_message(QueueUrl=url, ReceiptHandle=msgs[0]["ReceiptHandle"])
    return failures


def queued(stack: Stack) -> int:
    sqs = stack.session.client("sqs")
    url = sqs.get_queue_url(QueueName=f"{PREFIX}-fanout")["QueueUrl"]
    attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    return int(attrs["ApproximateNumberOfMessages"])


def publishes(topic: str | None = None) -> list[dict[str, Any]]:
    from infra.outbox import sns_backend, topic_publishes

    return [p for p in topic_publishes(sns_backend())
            if topic is None or p["topic"].endswith(f"-alerts-{topic}")]


@pytest.fixture
def faults(stack: Stack, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., list[int]]]:
    """Make the cached SNS publisher's Nth publish call fail in a chosen way."""
    from chalicelib.aws import get_sns_publisher

    client = get_sns_publisher()
    real = client.publish

    def install(plan: dict[int, str]) -> list[int]:
        calls: list[int] = []

        def publish(**kwargs: Any) -> Any:
            calls.append(1)
            n = len(calls)
            kind = plan.get(n)
            if kind == "throttle":
                raise ClientError({"Error": {"Code": "Throttling", "Message": "Rate exceeded"}},
                                  "Publish")
            if kind == "no-connection":
                raise EndpointConnectionError(endpoint_url="https://sns.eu-central-1.amazonaws.com")
            if kind == "timeout-before":
                raise ReadTimeoutError(endpoint_url="https://sns.eu-central-1.amazonaws.com")
            resp = real(**kwargs)
            if kind == "timeout-after":  # SNS took it, the answer never came
                raise ReadTimeoutError(endpoint_url="https://sns.eu-central-1.amazonaws.com")
            if kind == "killed-after":
                raise WorkerKilled()
            return resp

        monkeypatch.setattr(client, "publish", publish)
        return calls

    yield install


@pytest.fixture(autouse=True)
def fresh_metrics() -> None:
    from chalicelib.services import fanout

    for key in fanout.METRICS:
        fanout.METRICS[key] = 0


def bulk_sms_subscribers(category: str, count: int, start: int = 0) -> None:
    """Write SMS subscriptions with a resident's filter policy straight into moto (fast)."""
    from moto.sns.models import Subscription

    from chalicelib.services.audience import filter_policy
    from infra.outbox import sns_backend

    backend = sns_backend()
    topic = backend.get_topic(f"arn:aws:sns:eu-central-1:123456789012:{PREFIX}-alerts-{category}")
    policy = json.dumps(filter_policy(["srodmiescie"], "pl", "sms"))
    for i in range(start, start + count):
        phone = f"+4851{i:07d}"
        sub = Subscription(backend.account_id, topic, phone, "sms")
        sub.attributes = {"PendingConfirmation": False, "Endpoint": phone, "Protocol": "sms",
                          "TopicArn": topic.arn, "SubscriptionArn": sub.arn,
                          "Owner": backend.account_id, "RawMessageDelivery": False}
        backend.subscriptions[sub.arn] = sub
        backend.set_subscription_attributes(sub.arn, "FilterPolicy", policy)


# ---- constant cost ------------------------------------------------------------------------------

def test_sns_calls_for_one_alert_are_the_same_for_10_and_10000_subscribers(
        stack: Stack, client: Any, faults: Any) -> None:
    calls = faults({})
    bulk_sms_subscribers("water", 10)
    published(client, stack)
    assert drain(stack) == []
    small = (len(calls), len(publishes("water")))

    bulk_sms_subscribers("water", 9_990, start=10)
    from infra.outbox import sns_backend

    assert sum(1 for s in sns_backend().subscriptions.values()
               if s.topic.arn.endswith("-alerts-water") and s.protocol == "sms") == 10_000
    published(client, stack)
    assert drain(stack) == []
    large = (len(calls) - small[0], len(publishes("water")) - small[1])
    assert small == large == (1, 1)


def test_one_publish_per_language_and_pl_serves_the_languages_the_alert_lacks(
        stack: Stack, client: Any) -> None:
    from chalicelib.services.audience import filter_policy

    resident("+48500100601", ["water"], ["srodmiescie"], lang="pl")
    resident("+48500100602", ["water"], ["srodmiescie"], lang="en")
    resident("+48500100603", ["water"], [], lang="uk")
    uk_web = stack.probe("water", filter_policy([], "uk", "web"))
    published(client, stack, title={"pl": "Brak wody", "en": "No water"},
              body={"pl": "Awaria wodociągu.", "en": "Water main failure."})
    assert drain(stack) == []
    langs = sorted(sorted(json.loads(p["attributes"]["lang"]["Value"]))
                   for p in publishes("water"))
    assert langs == [["en"], ["pl", "uk"]]
    assert "Brak wody" in stack.sms_to("+48500100601")[0]
    assert "No water" in stack.sms_to("+48500100602")[0]
    assert "Brak wody" in stack.sms_to("+48500100603")[0]  # no Ukrainian text: Polish
    got = stack.probe_messages(uk_web)
    assert len(got) == 1 and json.loads(got[0]["Body"])["lang"] == "pl"
    assert [len(stack.sms_to(p)) for p in ("+48500100601", "+48500100602", "+48500100603")] == [
        1, 1, 1]


# ---- quiet hours --------------------------------------------------------------------------------

@pytest.fixture
def at_warsaw(monkeypatch: pytest.MonkeyPatch) -> Callable[[int, int], datetime]:
    """Set the app's clock to HH:MM Europe/Warsaw tomorrow (or the day after, for the morning)."""
    from chalicelib.services import clock

    base = (datetime.now(clock.WARSAW) + timedelta(days=1)).replace(second=0, microsecond=0)

    def set_to(hour: int, minute: int = 0, *, next_day: bool = False) -> datetime:
        t = base.replace(hour=hour, minute=minute) + timedelta(days=1 if next_day else 0)
        monkeypatch.setattr(clock, "now", lambda: t)
        return t

    return set_to  # type: ignore[return-value]


def _tick() -> dict[str, int]:
    from chalicelib.events import handlers

    return dict(handlers.tick(SCHEDULE_EVENT, None))


def test_quiet_hours_hold_event_sms_until_seven_and_let_push_and_web_go(
        stack: Stack, client: Any, at_warsaw: Any) -> None:
    from chalicelib.services import fanout
    from chalicelib.services.audience import filter_policy

    resident("+48500100701", ["events"], [])
    web = stack.probe("events", filter_policy([], "pl", "web"))
    push = stack.probe("events", filter_policy([], "pl", "push"))
    night = at_warsaw(23, 0)
    a = published(client, stack, category="events", severity="minor", districts=[],
                  title={"pl": "Koncert na placu Jana Pawła II"},
                  body={"pl": "Utrudnienia w ruchu do 23:30."},
                  expires_at=(night + timedelta(days=2)).isoformat())
    assert drain(stack) == []
    assert stack.sms_to("+48500100701") == []
    assert len(stack.probe_messages(web)) == 1 and len(stack.probe_messages(push)) == 1
    assert [json.loads(p["attributes"]["channel"]["Value"]) for p in publishes("events")] == [
        ["push", "web"]]

    assert fanout.release_held(now=night + timedelta(hours=7, minutes=59)) == 0  # 06:59
    assert stack.sms_to("+48500100701") == []
    at_warsaw(7, 0, next_day=True)
    assert _tick()["held_sent"] == 1
    assert _tick()["held_sent"] == 0  # released once
    texts = stack.sms_to("+48500100701")
    assert len(texts) == 1 and "Koncert" in texts[0] and a["id"] in texts[0]
    assert [json.loads(p["attributes"]["channel"]["Value"]) for p in publishes("events")] == [
        ["push", "web"], ["sms"]]
    assert stack.probe_messages(web) == []


def test_emergencies_go_at_once_at_night(stack: Stack, client: Any, at_warsaw: Any) -> None:
    call(client, stack, "put", "/v1/admin/settings", "admin",
         {"quiet_hours": {"start": "22:00", "end": "07:00", "categories": ["events", "water"]}})
    resident("+48500100711", ["water"], [])  # every resident has emergency too
    night = at_warsaw(23, 30)
    expires = (night + timedelta(days=1)).isoformat()
    published(client, stack, category="emergency", severity="extreme", districts=[],
              title={"pl": "Skażenie wody"}, body={"pl": "Nie pij wody z kranu."},
              expires_at=expires)
    published(client, stack, category="water", severity="severe", districts=[],
              title={"pl": "Awaria magistrali"}, body={"pl": "Brak wody w całym mieście."},
              expires_at=expires)
    published(client, stack, category="water", severity="minor", districts=[],
              title={"pl": "Płukanie sieci"}, body={"pl": "Woda może być mętna."},
              expires_at=expires)
    assert drain(stack) == []
    texts = stack.sms_to("+48500100711")
    assert len(texts) == 2
    assert any("Skazenie" in t for t in texts) and any("magistrali" in t for t in texts)


def test_a_held_sms_superseded_by_a_cancellation_is_never_sent(stack: Stack, client: Any,
                                                                at_warsaw: Any) -> None:
    resident("+48500100721", ["events"], [])
    night = at_warsaw(22, 30)
    a = published(client, stack, category="events", severity="minor", districts=[],
                  expires_at=(night + timedelta(days=2)).isoformat())
    drain(stack)
    call(client, stack, "post", f"/v1/admin/alerts/{a['id']}/cancel")
    drain(stack)
    at_warsaw(7, 5, next_day=True)
    assert _tick()["held_sent"] == 0
    assert stack.sms_to("+48500100721") == []  # neither the alert nor its cancellation


# ---- faults -------------------------------------------------------------------------------------

@pytest.mark.parametrize("fault", ["throttle", "no-connection"])
def test_refused_or_unreachable_sns_is_retried_and_each_resident_gets_one_sms(
        stack: Stack, client: Any, faults: Any, fault: str) -> None:
    resident("+48500100801", ["water"], ["srodmiescie"], lang="pl")
    resident("+48500100802", ["water"], ["srodmiescie"], lang="en")
    calls = faults({1: fault, 3: fault})  # the first call of both runs fails
    published(client, stack, title={"pl": "Brak wody", "en": "No water"},
              body={"pl": "Awaria.", "en": "Failure."})
    failures = drain(stack)
    assert len(failures) == 2 and queued(stack) == 0
    assert len(calls) == 4  # pl fails | pl sent, en fails | pl skipped (no call), en sent
    assert len(stack.sms_to("+48500100801")) == 1 and len(stack.sms_to("+48500100802")) == 1
    assert drain(stack) == [] and len(stack.sms_to("+48500100801")) == 1


@pytest.mark.parametrize(("over", "resent"), [
    ({"severity": "severe"}, True), ({"severity": "extreme"}, True),
    ({"category": "emergency", "severity": "moderate"}, True),
    ({"severity": "minor"}, False), ({"severity": "moderate"}, False)])
def test_a_timeout_follows_the_written_rule_counted_and_logged(
        stack: Stack, client: Any, faults: Any, caplog: pytest.LogCaptureFixture,
        over: dict[str, Any], resent: bool) -> None:
    from chalicelib.models.ops import DeliveryModel
    from chalicelib.services import fanout

    category = over.get("category", "water")
    resident("+48500100811", [category], ["srodmiescie"])
    faults({1: "timeout-before"})  # SNS never got it, but we cannot know that
    caplog.set_level(logging.WARNING, logger="informator.fanout")
    a = published(client, stack, **over)
    drain(stack)
    assert len(stack.sms_to("+48500100811")) == (1 if resent else 0)
    assert fanout.METRICS["ambiguous_resent"] == (1 if resent else 0)
    assert fanout.METRICS["ambiguous_dropped"] == (0 if resent else 1)
    rule = "resend" if resent else "no resend"
    assert [r for r in caplog.records if getattr(r, "rule", None) == rule]
    state = DeliveryModel.get(f"{a['id']}#v1#pl#all").state
    assert state == ("sent" if resent else "unconfirmed")


@pytest.mark.parametrize(("severity", "sms"), [("minor", 1), ("severe", 2)])
def test_a_timeout_after_sns_took_the_message(stack: Stack, client: Any, faults: Any,
                                              severity: str, sms: int) -> None:
    """The one case SNS cannot settle: a critical alert may arrive twice (by the rule),
    others exactly once."""
    resident("+48500100821", ["water"], ["srodmiescie"])
    faults({1: "timeout-after"})
    published(client, stack, severity=severity)
    drain(stack)
    assert len(stack.sms_to("+48500100821")) == sms


def test_a_worker_killed_after_sns_took_the_message_does_not_text_twice(
        stack: Stack, client: Any, faults: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from chalicelib.services import fanout

    resident("+48500100831", ["water"], ["srodmiescie"])
    faults({1: "killed-after"})
    published(client, stack, severity="moderate")
    # killed, then redelivered while the claim is fresh: the retries wait, nothing is sent
    assert drain(stack, rounds=3) == ["WorkerKilled", "RetryLater", "RetryLater"]
    assert len(stack.sms_to("+48500100831")) == 1
    monkeypatch.setattr(fanout, "STALE_CLAIM_S", 0)  # the claim has gone stale
    assert drain(stack) == []
    assert len(stack.sms_to("+48500100831")) == 1
    assert fanout.METRICS["ambiguous_dropped"] == 1 and queued(stack) == 0


def test_a_crash_between_the_state_change_and_the_queue_is_repaired_by_the_tick(
        stack: Stack, client: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from chalicelib.services import alerts, clock, fanout

    resident("+48500100841", ["water"], ["srodmiescie"])
    a = create(client, stack)

    def crash(*_: Any) -> None:
        raise WorkerKilled()

    monkeypatch.setattr(fanout, "request_fanout", crash)
    with pytest.raises(WorkerKilled):
        alerts.publish(a["id"], "publisher@local.test")
    monkeypatch.undo()
    assert queued(stack) == 0
    assert publish(client, stack, a["id"])[1]["status"] == "published"  # same answer, no send
    assert queued(stack) == 0 and stack.sms_to("+48500100841") == []
    assert _tick()["rerequested"] == 0  # within the grace period the request may be in flight
    real = clock.now
    monkeypatch.setattr(clock, "now", lambda: real() + timedelta(minutes=2))
    assert _tick()["rerequested"] == 1
    assert drain(stack) == []
    assert len(stack.sms_to("+48500100841")) == 1
    assert _tick()["rerequested"] == 0
    assert drain(stack) == [] and len(stack.sms_to("+48500100841")) == 1


def test_a_crash_before_the_version_snapshot_is_repaired_too(
        stack: Stack, client: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from chalicelib.services import alerts, clock

    resident("+48500100851", ["water"], ["srodmiescie"])
    a = published(client, stack)
    drain(stack)

    def crash(*_: Any) -> None:
        raise WorkerKilled()

    monkeypatch.setattr(alerts, "_snapshot", crash)
    with pytest.raises(WorkerKilled):
        alerts.update(a["id"], {"body": {"pl": "Woda wróci o 20:00."}}, "publisher@local.test")
    monkeypatch.undo()
    real = clock.now
    monkeypatch.setattr(clock, "now", lambda: real() + timedelta(minutes=2))
    assert _tick()["rerequested"] == 1
    assert drain(stack) == []
    texts = stack.sms_to("+48500100851")
    assert len(texts) == 2 and texts[1].startswith("AKTUALIZACJA") and "20:00" in texts[1]
    assert [v["version"] for v in alerts.versions(a["id"])] == [1, 2]
