"""Fan-out: one SNS publish per (alert version × language × channel group), exactly once.

The state change (alerts table) and the send are joined by a durable step: the fan-out queue.
Each send claims an idempotency key `<alert>#v<version>#<lang>#<group>` with a conditional put
before calling SNS and marks it sent afterwards, so an SQS redelivery or a retried publish never
texts twice. The case SNS cannot settle — a timeout after SNS may have accepted the message — is
settled by a written rule: emergency, extreme and severe alerts are sent again (a duplicate is
better than a missed warning); all others are not (marked `unconfirmed`). Both are logged and
counted.
"""
from __future__ import annotations

import json
import logging
import time
from datetime import datetime, timedelta
from types import SimpleNamespace
from typing import Any

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectTimeoutError,
    EndpointConnectionError,
    ParamValidationError,
)
from pynamodb.exceptions import PutError

from ..aws import get_sns_publisher, get_sqs, queue_url
from ..city import LANGUAGES, category_name
from ..models.alerts import AlertModel
from ..models.ops import DeliveryModel
from ..settings import get_settings
from . import clock, config
from .audience import message_attributes
from .clock import WARSAW, iso, parse_iso

log = logging.getLogger("informator.fanout")
STALE_CLAIM_S = 120
Alert = Any  # an alert version snapshot (SimpleNamespace of to_dict())
METRICS: dict[str, int] = {"ambiguous_resent": 0, "ambiguous_dropped": 0, "sent": 0, "skipped": 0}


class RetryLater(Exception):
    """Another worker holds the claim, or a send failed: let the queue deliver again."""


def request_fanout(alert_id: str, version: int) -> None:
    """The durable step: a message on the fan-out queue."""
    get_sqs().send_message(QueueUrl=queue_url(get_settings().queue("fanout")),
                           MessageBody=json.dumps({"alert_id": alert_id, "version": version}))


def is_critical(alert: Alert) -> bool:
    return alert.category == "emergency" or alert.severity in ("extreme", "severe")


def _hm(value: str) -> tuple[int, int]:
    h, m = value.split(":")
    return int(h), int(m)


def sms_release_time(alert: Alert, sent_at: str) -> datetime | None:
    """When SMS for this version may go, if quiet hours hold it back; None means now."""
    quiet = config.get("quiet_hours") or {}
    if alert.category not in quiet.get("categories", []) or is_critical(alert):
        return None  # emergencies (and severe or extreme alerts) always go at once
    local = parse_iso(sent_at).astimezone(WARSAW)
    (sh, sm), (eh, em) = _hm(quiet.get("start", "22:00")), _hm(quiet.get("end", "07:00"))
    minutes, start, end = local.hour * 60 + local.minute, sh * 60 + sm, eh * 60 + em
    in_quiet = (minutes >= start or minutes < end) if start > end else (start <= minutes < end)
    if not in_quiet:
        return None
    release = local.replace(hour=eh, minute=em, second=0, microsecond=0)
    if release <= local:
        release += timedelta(days=1)
    return release


def plan(alert: Alert, version_sent_at: str) -> list[tuple[str, list[str], datetime | None]]:
    """Channel groups for a version: [(group, channels, not_before)]. Deterministic per version."""
    release = sms_release_time(alert, version_sent_at)
    if release is None:
        return [("all", ["sms", "push", "web"], None)]
    return [("app", ["push", "web"], None), ("sms", ["sms"], release)]


def languages_for(alert: Alert) -> list[tuple[str, list[str]]]:
    """(text language, subscriber languages served): pl also serves languages the alert lacks."""
    have = [lang for lang in LANGUAGES if (alert.title or {}).get(lang)]
    out = []
    for lang in have:
        served = [lang] + ([x for x in LANGUAGES if x not in have] if lang == "pl" else [])
        out.append((lang, served))
    return out


def _prefix(alert: Alert, lang: str) -> str:
    marks = {
        "pl": {"update": "AKTUALIZACJA: ", "cancel": "ODWOŁANE: ", "exercise": "ĆWICZENIA: ",
               "test": "TEST: "},
        "en": {"update": "UPDATE: ", "cancel": "CANCELLED: ", "exercise": "EXERCISE: ",
               "test": "TEST: "},
        "uk": {"update": "ОНОВЛЕННЯ: ", "cancel": "СКАСОВАНО: ", "exercise": "НАВЧАННЯ: ",
               "test": "ТЕСТ: "},
    }[lang]
    out = marks.get(alert.cap_status, "") if alert.cap_status != "actual" else ""
    return out + marks.get(alert.msg_type, "")


def sms_text(alert: Alert, lang: str) -> str:
    """The alert's SMS within the city's part budget. The leave hint goes first when the budget
    cannot hold it together with the whole title and the essential sentence."""
    from ..formats.sms import build_alert_sms, transliterate

    settings = get_settings()
    keep = bool(config.get("sms_keep_diacritics"))
    title = alert.title.get(lang) or alert.title["pl"]
    link = f"{settings.site_url}/alert.html?id={alert.id}"
    common: dict[str, Any] = {
        "sender_name": str(config.get("sender_name")), "title": title,
        "body": alert.body.get(lang) or alert.body["pl"], "link": link,
        "max_parts": int(config.get("sms_max_parts") or 1), "keep_diacritics": keep,
        "prefix": _prefix(alert, lang)}
    hint = str(config.get("sms_stop_hint") or "")
    text = build_alert_sms(**common, stop_hint=hint)
    if not hint:
        return text
    shown_title = " ".join((title if keep else transliterate(title)).split()).rstrip(".!?…:")
    before_link = text.split(link)[0]
    after_title = before_link.split(shown_title, 1)[1] if shown_title in before_link else ""
    if after_title.strip(" .!?…:"):
        return text
    return build_alert_sms(**common, stop_hint="")


def build_message(alert: Alert, lang: str) -> str:
    """MessageStructure=json bodies: default (web), sms, GCM, APNS, APNS_SANDBOX."""
    title = _prefix(alert, lang) + (alert.title.get(lang) or alert.title["pl"])
    body = alert.body.get(lang) or alert.body["pl"]
    short = body if len(body) <= 180 else body[:177] + "…"
    url = f"{get_settings().site_url}/alert.html?id={alert.id}"
    data = {"alert_id": alert.id, "version": int(alert.version), "type": alert.msg_type,
            "category": alert.category, "severity": alert.severity, "lang": lang, "url": url,
            "exercise": alert.cap_status != "actual"}
    apns = json.dumps({"aps": {"alert": {"title": title, "body": short}, "sound": "default"},
                       **data}, ensure_ascii=False)
    return json.dumps({
        "default": json.dumps({**data, "title": title, "body": short,
                               "category_name": category_name(alert.category, lang)},
                              ensure_ascii=False),
        "sms": sms_text(alert, lang),
        "GCM": json.dumps({"notification": {"title": title, "body": short},
                           "data": {k: str(v) for k, v in data.items()}}, ensure_ascii=False),
        "APNS": apns, "APNS_SANDBOX": apns,
    }, ensure_ascii=False)


DONE_STATES = ("sent", "unconfirmed", "skipped")
# Errors that prove SNS did not take the message: the claim is released and the queue retries.
NOT_ACCEPTED = (ClientError, ConnectTimeoutError, EndpointConnectionError, ParamValidationError)


def _claim(key: str, alert: Alert) -> bool:
    """Take the idempotency key. True: send now. False: already done. RetryLater: in flight."""
    now = int(time.time())
    try:
        DeliveryModel(key=key, state="sending", alert_id=alert.id, started_at=now).save(
            condition=DeliveryModel.key.does_not_exist())
        return True
    except PutError as exc:
        if getattr(exc, "cause_response_code", "") != "ConditionalCheckFailedException":
            raise
    existing = DeliveryModel.get(key, consistent_read=True)
    if existing.state in DONE_STATES:
        return False
    if now - int(existing.started_at) < STALE_CLAIM_S:
        raise RetryLater(f"{key} is being sent by another worker")
    # A worker died between calling SNS and confirming: SNS may or may not have the message.
    return _ambiguous(key, alert, "stale claim")


def _ambiguous(key: str, alert: Alert, why: str) -> bool:
    """The written rule for a send SNS may or may not have accepted: critical alerts go again
    (a duplicate beats a missed warning), others are marked unconfirmed. Logged and counted."""
    if is_critical(alert):
        METRICS["ambiguous_resent"] += 1
        log.warning("ambiguous send resent (critical alert)",
                    extra={"key": key, "why": why, "rule": "resend"})
        DeliveryModel(key=key, state="sending", alert_id=alert.id,
                      started_at=int(time.time())).save()
        return True
    METRICS["ambiguous_dropped"] += 1
    log.warning("ambiguous send not repeated (non-critical alert)",
                extra={"key": key, "why": why, "rule": "no resend"})
    DeliveryModel(key=key, state="unconfirmed", alert_id=alert.id, started_at=int(time.time()),
                  finished_at=int(time.time())).save()
    return False


def _settle(key: str, alert: Alert, why: str) -> str:
    """Record that a held send will never go (superseded, expired) so nobody retries it."""
    try:
        DeliveryModel(key=key, state="skipped", alert_id=alert.id, message_id=why,
                      started_at=int(time.time()), finished_at=int(time.time())).save(
            condition=DeliveryModel.key.does_not_exist())
    except PutError as exc:
        if getattr(exc, "cause_response_code", "") != "ConditionalCheckFailedException":
            raise
    return why


def _send(key: str, alert: Alert, lang: str, served: list[str], channels: list[str]) -> str:
    # Everything that can fail is done before the claim: only the SNS call sits inside it.
    message = build_message(alert, lang)
    attributes = message_attributes(
        districts=list(alert.audience), langs=served, channels=channels,
        category=alert.category, alert_id=alert.id, version=int(alert.version))
    if not _claim(key, alert):
        METRICS["skipped"] += 1
        return "skipped"
    try:
        resp = get_sns_publisher().publish(
            TopicArn=get_settings().topic_arn(alert.category), Message=message,
            MessageStructure="json", MessageAttributes=attributes)
    except NOT_ACCEPTED as exc:
        DeliveryModel(key).delete()  # SNS refused or was never reached: safe to send again
        log.warning("send failed, will retry", extra={"key": key, "error": repr(exc)})
        raise
    except BotoCoreError as exc:  # read timeout, closed connection: SNS may have the message
        if _ambiguous(key, alert, repr(exc)):
            DeliveryModel(key).delete()
            raise RetryLater(f"{key}: no answer from SNS, will send again") from None
        return "unconfirmed"
    # Anything else propagates with the claim left `sending`, like a crash: the stale-claim
    # rule in _claim settles it.
    DeliveryModel(key=key, state="sent", alert_id=alert.id, message_id=resp.get("MessageId"),
                  started_at=int(time.time()), finished_at=int(time.time())).save()
    METRICS["sent"] += 1
    log.info("alert sent", extra={"key": key, "channels": channels, "langs": served})
    return "sent"


def _snapshot(alert_id: str, version: int) -> dict[str, Any] | None:
    from .alerts import AlertVersionModel, ensure_snapshot

    try:
        return dict(AlertVersionModel.get(alert_id, version).snapshot)
    except AlertVersionModel.DoesNotExist:
        pass
    try:  # the process died between the state change and the snapshot: write it now
        a = AlertModel.get(alert_id)
    except AlertModel.DoesNotExist:
        return None
    if int(a.version) != version:
        return None
    ensure_snapshot(a)
    return dict(AlertVersionModel.get(alert_id, version).snapshot)


def _sms_reached(alert_id: str, before: int, langs: list[str]) -> bool:
    """Did any earlier version of this alert go out by SMS?"""
    for v in range(1, before):
        for lang in langs:
            for group in ("all", "sms"):
                try:
                    if DeliveryModel.get(f"{alert_id}#v{v}#{lang}#{group}").state != "skipped":
                        return True
                except DeliveryModel.DoesNotExist:
                    continue
    return False


def _held_obsolete(alert: Alert) -> str | None:
    """Why SMS held by quiet hours should not go at all, if so."""
    try:
        current = int(AlertModel.get(alert.id).version)
    except AlertModel.DoesNotExist:
        return "deleted"
    if current > int(alert.version):
        return "superseded"  # the newer version's SMS says it all
    if alert.msg_type == "cancel" and not _sms_reached(alert.id, int(alert.version),
                                                       list(LANGUAGES)):
        return "nothing to cancel"  # nobody got the alert by SMS
    return None


def deliver(alert_id: str, version: int, *, now: datetime | None = None) -> dict[str, str]:
    """Send every due publish of one alert version; held SMS wait for the schedule tick."""
    snap = _snapshot(alert_id, version)
    if snap is None:
        log.warning("no such alert version; nothing sent", extra={"alert_id": alert_id,
                                                                   "version": version})
        return {}
    snap.setdefault("audience", snap.get("districts") or [])
    alert = SimpleNamespace(**snap)
    results: dict[str, str] = {}
    current = now or clock.now()
    expired = parse_iso(snap["expires_at"]) <= current
    for group, channels, not_before in plan(alert, snap["sent_at"]):
        obsolete: str | None = None
        if not_before is not None and current >= not_before:
            obsolete = _held_obsolete(alert)
        for lang, served in languages_for(alert):
            key = f"{alert_id}#v{version}#{lang}#{group}"
            if not_before is not None and current < not_before and not expired:
                results[key] = f"held until {iso(not_before)}"
            elif expired or obsolete:
                results[key] = _settle(key, alert, "expired" if expired else str(obsolete))
            else:
                results[key] = _send(key, alert, lang, served, channels)
    return results


def release_held(now: datetime | None = None) -> int:
    """Schedule tick: send SMS that quiet hours held back, once their time has come."""
    from .alerts import AlertVersionModel

    current = now or clock.now()
    horizon = current - timedelta(hours=12)
    quiet = (config.get("quiet_hours") or {}).get("categories") or []
    count = 0
    for status in ("published", "cancelled", "expired"):
        for a in AlertModel.by_status.query(status):
            if a.category not in quiet or not a.sent_at or parse_iso(a.sent_at) < horizon:
                continue
            for v in AlertVersionModel.query(a.id, AlertVersionModel.version > 0):
                sent_at = v.snapshot.get("sent_at")
                if not sent_at or parse_iso(sent_at) < horizon:
                    continue
                try:
                    res = deliver(a.id, int(v.version), now=current)
                except Exception:  # the next tick tries again; other alerts go on
                    log.exception("held release failed", extra={"alert_id": a.id})
                    continue
                count += sum(1 for r in res.values() if r == "sent")
    return count


def rerequest_missing(now: datetime | None = None, grace_s: int = 60) -> int:
    """Schedule tick: a version whose fan-out request was lost (crash after the state change)
    gets requested again. Safe because every send is guarded by its idempotency key."""
    from .alerts import ensure_snapshot

    current = now or clock.now()
    count = 0
    for status in ("published", "cancelled"):
        for a in AlertModel.by_status.query(status):
            if not a.sent_at or not int(a.version):
                continue
            age = (current - parse_iso(a.sent_at)).total_seconds()
            if not grace_s <= age <= 6 * 3600:
                continue
            ensure_snapshot(a)
            snap = _snapshot(a.id, int(a.version)) or {}
            alert = SimpleNamespace(**snap)
            group = plan(alert, snap["sent_at"])[0][0]
            keys = [f"{a.id}#v{int(a.version)}#{lang}#{group}" for lang, _ in languages_for(alert)]
            if any(_missing(k) for k in keys):
                request_fanout(a.id, int(a.version))
                log.warning("fan-out re-requested", extra={"alert_id": a.id,
                                                           "version": int(a.version)})
                count += 1
    return count


def _missing(key: str) -> bool:
    try:
        DeliveryModel.get(key)
        return False
    except DeliveryModel.DoesNotExist:
        return True


def send_direct_sms(phone: str, text: str) -> None:
    """One SMS to one number (staff test sends), outside the topics and filter policies."""
    get_sns_publisher().publish(PhoneNumber=phone, Message=text, MessageAttributes={
        "AWS.SNS.SMS.SMSType": {"DataType": "String", "StringValue": "Transactional"},
        "AWS.SNS.SMS.SenderID": {"DataType": "String",
                                 "StringValue": get_settings().sms_sender_id},
    })
