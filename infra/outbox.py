"""The dev outbox: what SNS would have delivered, computed from moto's in-process state.

moto records topic publishes but drops deliveries to `sms` and `application` subscriptions, so
the outbox multiplies every topic publish by every sms/application subscription whose filter
policy matches (moto's own FilterPolicyMatcher), and adds direct SMS publishes and direct
publishes to platform endpoints (channel "push"). Web pushes are
sent by our own worker, which records each one (DEV_OUTBOX=1) in the webpush table under
pk "outbox"; they are read from there.
"""
from __future__ import annotations

import json
import threading
from datetime import UTC, datetime
from typing import Any

from moto.sns.utils import FilterPolicyMatcher

_seen: dict[str, tuple[int, str]] = {}
_lock = threading.Lock()


def _first_seen(key: str) -> tuple[int, str]:
    """(order, time) when the outbox first saw a message or a subscription. moto keeps no
    times, so the local stack stamps them every loop turn (`stamp`) and tests on each read."""
    with _lock:
        if key not in _seen:
            _seen[key] = (len(_seen), datetime.now(UTC).isoformat(timespec="seconds"))
        return _seen[key]


def _at(key: str) -> str:
    return _first_seen(key)[1]


def stamp(backend: Any) -> None:
    """Note every subscription, then every message, not seen before (cheap; no output)."""
    for sub in list(backend.subscriptions.values()):
        _first_seen(sub.arn)
    for topic in list(backend.topics.values()):
        for notification in list(topic.sent_notifications):
            _first_seen(notification[0])
    for message_id in list(backend.sms_messages):
        _first_seen(message_id)


def _pick(message: str, key: str) -> str:
    try:
        data = json.loads(message)
    except ValueError:
        return message
    if isinstance(data, dict) and "default" in data:
        return str(data.get(key, data["default"]))
    return message


def sns_backend(account: str = "123456789012", region: str = "eu-central-1") -> Any:
    from moto.backends import get_backend

    return get_backend("sns")[account][region]


def deliveries(backend: Any) -> list[dict[str, Any]]:
    """Every message SNS would deliver, oldest first. A topic publish reaches the subscriptions
    that existed when it was published, not residents who signed up later."""
    stamp(backend)
    out: list[dict[str, Any]] = []
    subs_by_topic: dict[str, list[Any]] = {}
    for sub in list(backend.subscriptions.values()):
        subs_by_topic.setdefault(sub.topic.arn, []).append(sub)
    endpoints = getattr(backend, "platform_endpoints", {})
    for topic in list(backend.topics.values()):
        for message_id, message, _subject, attrs, _group in list(topic.sent_notifications):
            for sub in subs_by_topic.get(topic.arn, []):
                if sub.protocol not in ("sms", "application"):
                    continue
                if _first_seen(sub.arn)[0] > _first_seen(message_id)[0]:
                    continue  # subscribed after this publish
                raw_policy = sub._filter_policy or None
                if raw_policy:
                    matcher = FilterPolicyMatcher(raw_policy, sub.attributes.get("FilterPolicyScope"))
                    if not matcher.matches(attrs, message):
                        continue
                if sub.protocol == "sms":
                    channel, text = "sms", _pick(message, "sms")
                else:
                    ep = endpoints.get(sub.endpoint)
                    platform = getattr(getattr(ep, "application", None), "platform", "GCM")
                    key = "APNS" if str(platform).startswith("APNS") else "GCM"
                    channel, text = "push", _pick(message, key)
                out.append({
                    "channel": channel, "to": sub.endpoint, "text": text,
                    "at": _at(message_id), "topic": topic.arn.split(":")[-1],
                    "message_id": message_id,
                    "attributes": {k: v.get("Value") for k, v in (attrs or {}).items()},
                })
    for message_id, (phone, text) in list(backend.sms_messages.items()):
        out.append({"channel": "sms", "to": phone, "text": text, "at": _at(message_id),
                    "topic": None, "message_id": message_id, "attributes": {}})
    for arn, ep in list(endpoints.items()):
        # direct publishes to one platform endpoint (TargetArn=...), e.g. staff test pushes;
        # moto keeps them on the endpoint (topic deliveries to endpoints are not recorded there)
        platform = str(getattr(getattr(ep, "application", None), "platform", "GCM"))
        key = "APNS" if platform.startswith("APNS") else "GCM"
        for message_id, message in list(getattr(ep, "messages", {}).items()):
            out.append({"channel": "push", "to": arn, "text": _pick(message, key),
                        "at": _at(message_id), "topic": None, "message_id": message_id,
                        "attributes": {}})
    out.extend(web_pushes())
    for d in out:
        d["seq"] = _first_seen(f"{d['message_id']}#{d['to']}" if d["channel"] == "web"
                               else d["message_id"])[0]
    out.sort(key=lambda d: (d["at"], d["seq"]))
    return out


def web_pushes() -> list[dict[str, Any]]:
    """Web pushes the worker recorded (DEV_OUTBOX=1): the `outbox` rows of the webpush table."""
    import os

    import boto3

    table = f"{os.environ.get('RESOURCE_PREFIX', 'informator-local')}-webpush"
    ddb = boto3.client("dynamodb")
    out: list[dict[str, Any]] = []
    try:
        pages = ddb.get_paginator("query").paginate(
            TableName=table, KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues={":pk": {"S": "outbox"}})
        for page in pages:
            for item in page["Items"]:
                out.append({"channel": "web", "to": item["to"]["S"], "text": item["text"]["S"],
                            "at": item["at"]["S"], "topic": None,
                            "message_id": f"{item['alert_id']['S']}#v{item['version']['N']}",
                            "attributes": {"lang": item["lang"]["S"], "url": item["url"]["S"]}})
    except ddb.exceptions.ResourceNotFoundException:
        pass
    return out


def topic_publishes(backend: Any) -> list[dict[str, Any]]:
    """Raw topic publishes (for counting SNS calls)."""
    return [{"topic": t.arn, "message_id": m[0], "attributes": m[3]}
            for t in backend.topics.values() for m in t.sent_notifications]
