"""Subscriptions: SMS numbers confirmed by a code, push devices; SNS subscriptions per category.

Every SNS subscription carries the filter policy of `audience.filter_policy`. `emergency` is
always subscribed. Codes expire after 10 minutes; 5 wrong codes lock the number for an hour; at
most 3 codes per number per hour and a city-set number per client IP per hour. No answer says
whether a number is already subscribed.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import logging
import secrets
import time
import unicodedata
from typing import Any

from ..aws import get_sns
from ..city import CATEGORIES, LANGUAGES, MANDATORY_CATEGORY, district_ids
from ..errors import Forbidden, Invalid, NotFound, TooManyRequests
from ..models.ops import CodeModel
from ..models.subscribers import SubscriberModel
from ..settings import get_settings
from . import audit, config, limits
from .audience import filter_policy
from .clock import now_iso

log = logging.getLogger("informator.subscriptions")
CODE_TTL_S = 600
MAX_WRONG = 5
LOCK_S = 3600
CODES_PER_NUMBER_PER_HOUR = 3
STOP_WORDS = {"STOP", "NIE", "KONIEC", "REZYGNUJE", "REZYGNUJ"}
PURPOSES = ("subscribe", "leave", "export")


def mask(phone: str) -> str:
    """A number as it may appear in a log line: country code and the last two digits."""
    return f"{phone[:3]}*****{phone[-2:]}" if len(phone) > 6 else "***"


def normalize_phone(raw: Any) -> str:
    import phonenumbers

    if not isinstance(raw, str) or not raw.strip() or len(raw) > 32:
        raise Invalid("Enter a mobile phone number.", {"phone": "is required"})
    allowed = config.get("allowed_countries") or ["PL"]
    try:
        num = phonenumbers.parse(raw, allowed[0])
    except phonenumbers.NumberParseException:
        raise Invalid("This is not a phone number.", {"phone": "not a phone number"}) from None
    if not phonenumbers.is_valid_number(num):
        raise Invalid("This is not a valid phone number.", {"phone": "not a valid number"})
    if phonenumbers.region_code_for_number(num) not in allowed:
        raise Invalid("Numbers from this country are not accepted.",
                      {"phone": f"only numbers from {', '.join(allowed)}"})
    if phonenumbers.number_type(num) not in (phonenumbers.PhoneNumberType.MOBILE,
                                             phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE):
        raise Invalid("SMS alerts need a mobile number.", {"phone": "not a mobile number"})
    return str(phonenumbers.format_number(num, phonenumbers.PhoneNumberFormat.E164))


def validate_choices(data: dict[str, Any]) -> dict[str, Any]:
    errors: dict[str, str] = {}
    cats = data.get("categories", [])
    if not isinstance(cats, list) or not all(isinstance(c, str) for c in cats):
        errors["categories"] = "must be a list of category ids"
        cats = []
    bad = [c for c in cats if c not in CATEGORIES]
    if bad:
        errors["categories"] = f"unknown category: {', '.join(bad[:5])}"
    dists = data.get("districts", [])
    if not isinstance(dists, list) or not all(isinstance(d, str) for d in dists):
        errors["districts"] = "must be a list of district ids ([] = the whole city)"
        dists = []
    badd = [d for d in dists if d not in district_ids()]
    if badd:
        errors["districts"] = f"unknown district: {', '.join(badd[:5])}"
    lang = data.get("lang", "pl")
    if lang not in LANGUAGES:
        errors["lang"] = f"must be one of: {', '.join(LANGUAGES)}"
    if errors:
        raise Invalid("Some fields are invalid.", errors)
    categories = sorted(set(cats) | {MANDATORY_CATEGORY})
    return {"categories": categories, "districts": sorted(set(dists)), "lang": lang}


def _code_hash(phone: str, code: str) -> str:
    return hashlib.sha256(f"{phone}:{code}".encode()).hexdigest()


def _send_sms(phone: str, text: str) -> None:
    settings = get_settings()
    get_sns().publish(PhoneNumber=phone, Message=text, MessageAttributes={
        "AWS.SNS.SMS.SMSType": {"DataType": "String", "StringValue": "Transactional"},
        "AWS.SNS.SMS.SenderID": {"DataType": "String", "StringValue": settings.sms_sender_id},
    })


def is_opted_out(phone: str) -> bool:
    resp = get_sns().check_if_phone_number_is_opted_out(phoneNumber=phone)
    return bool(resp.get("isOptedOut"))


# ---- codes ------------------------------------------------------------------------------------

def request_code(phone_raw: Any, purpose: str, payload: dict[str, Any], client_ip: str) -> str:
    """Send a 6-digit code; the same answer whether or not the number is known."""
    phone = normalize_phone(phone_raw)
    limits.hit(f"ip#{client_ip}#code", get_settings().ip_limit_per_hour, 3600,
               "Too many requests from this address; try again later.")
    key = f"sms#{phone}"
    now = int(time.time())
    try:
        item = CodeModel.get(key, consistent_read=True)
    except CodeModel.DoesNotExist:
        item = CodeModel(key=key)
    if item.locked_until and item.locked_until > now:
        raise TooManyRequests("Too many wrong codes; this number is locked for now.",
                              retry_after=int(item.locked_until) - now)
    limits.hit(f"num#{phone}#code", CODES_PER_NUMBER_PER_HOUR, 3600,
               "Too many codes for this number; try again later.")
    if purpose == "subscribe" and is_opted_out(phone):
        raise Invalid("This number has opted out of SMS. Send START to the city's number to opt "
                      "in again, then sign up.", {"phone": "opted out of SMS"})
    code = f"{secrets.randbelow(1_000_000):06d}"
    if item.locked_until and item.locked_until <= now:
        item.attempts, item.locked_until = 0, 0
    item.code_hash, item.purpose, item.payload = _code_hash(phone, code), purpose, payload
    item.expires_at, item.ttl = now + CODE_TTL_S, now + LOCK_S * 2
    item.save()
    sender = config.get("sender_name")
    _send_sms(phone, f"{sender}: Twoj kod potwierdzenia to {code}. Wazny 10 min. "
                     "Jesli to nie Ty, zignoruj te wiadomosc.")
    log.info("code sent", extra={"phone": mask(phone), "purpose": purpose})
    return phone


def check_code(phone_raw: Any, code: Any, purpose: str | None = None) -> tuple[str, CodeModel]:
    phone = normalize_phone(phone_raw)
    if not isinstance(code, str) or not code.isdigit() or len(code) != 6:
        raise Invalid("The code has 6 digits.", {"code": "6 digits"})
    now = int(time.time())
    try:
        item = CodeModel.get(f"sms#{phone}", consistent_read=True)
    except CodeModel.DoesNotExist:
        raise Invalid("The code is wrong or has expired.", {"code": "wrong or expired"}) from None
    if item.locked_until and item.locked_until > now:
        raise TooManyRequests("Too many wrong codes; this number is locked for now.",
                              retry_after=int(item.locked_until) - now)
    valid = bool(item.code_hash) and item.expires_at > now and (purpose is None or item.purpose == purpose)
    if not valid or not hmac.compare_digest(item.code_hash, _code_hash(phone, code)):
        item.attempts = int(item.attempts or 0) + 1
        if item.attempts >= MAX_WRONG:
            item.locked_until, item.code_hash = now + LOCK_S, ""
        item.save()
        log.info("wrong code", extra={"phone": mask(phone), "attempts": item.attempts})
        if item.locked_until and item.locked_until > now:
            raise TooManyRequests("Too many wrong codes; this number is locked for an hour.",
                                  retry_after=LOCK_S)
        raise Invalid("The code is wrong or has expired.", {"code": "wrong or expired"})
    return phone, item


def confirm(phone_raw: Any, code: Any) -> dict[str, Any]:
    """Carry out what the code was requested for."""
    phone, item = check_code(phone_raw, code)
    payload = dict(item.payload or {})
    purpose = item.purpose
    item.delete()
    if purpose == "subscribe":
        sub = activate_sms(phone, payload, consent_by=payload.get("consent_by"))
        return {"status": "subscribed", **sub}
    if purpose == "leave":
        remove_sms(phone, reason="web form")
        return {"status": "removed"}
    if purpose == "export":
        return {"status": "export", "data": export_sms(phone)}
    raise Invalid("The code is wrong or has expired.", {"code": "wrong or expired"})


# ---- SNS subscriptions ------------------------------------------------------------------------

def sync_topics(record: SubscriberModel, protocol: str, channel: str) -> None:
    """Make the SNS subscriptions match the record's choices: update, add, remove; no duplicates."""
    sns, settings = get_sns(), get_settings()
    policy = json.dumps(filter_policy(list(record.districts or []), record.lang, channel))
    current = dict(record.subscription_arns or {})
    wanted = set(record.categories or [])
    for cat in sorted(wanted):
        arn = current.get(cat)
        if arn:
            sns.set_subscription_attributes(SubscriptionArn=arn, AttributeName="FilterPolicy",
                                            AttributeValue=policy)
        else:
            resp = sns.subscribe(TopicArn=settings.topic_arn(cat), Protocol=protocol,
                                 Endpoint=record.address, ReturnSubscriptionArn=True,
                                 Attributes={"FilterPolicy": policy})
            current[cat] = resp["SubscriptionArn"]
    for cat in sorted(set(current) - wanted):
        sns.unsubscribe(SubscriptionArn=current.pop(cat))
    record.subscription_arns = current


def _unsubscribe_all(record: SubscriberModel) -> None:
    sns = get_sns()
    for arn in dict(record.subscription_arns or {}).values():
        try:
            sns.unsubscribe(SubscriptionArn=arn)
        except sns.exceptions.NotFoundException:
            pass


def activate_sms(phone: str, choices: dict[str, Any], *, consent_by: str | None = None,
                 source: str = "self") -> dict[str, Any]:
    clean = validate_choices(choices)
    ts = now_iso()
    try:
        record = SubscriberModel.get(f"sms#{phone}", consistent_read=True)
    except SubscriberModel.DoesNotExist:
        record = SubscriberModel(id=f"sms#{phone}", kind="sms", address=phone, created_at=ts,
                                 source=source)
    record.categories, record.districts, record.lang = (clean["categories"], clean["districts"],
                                                        clean["lang"])
    record.consent_at, record.consent_version = ts, str(config.get("consent_version"))
    record.consent_by, record.updated_at = consent_by or "self", ts
    sync_topics(record, "sms", "sms")
    record.save()
    audit.record(consent_by or "resident", "sms.subscribe", mask(phone), clean)
    return clean


def remove_sms(phone: str, reason: str) -> bool:
    try:
        record = SubscriberModel.get(f"sms#{phone}", consistent_read=True)
    except SubscriberModel.DoesNotExist:
        return False
    _unsubscribe_all(record)
    record.delete()
    audit.record("resident", "sms.leave", mask(phone), {"reason": reason})
    log.info("sms subscriber removed", extra={"phone": mask(phone), "reason": reason})
    return True


def export_sms(phone: str) -> dict[str, Any] | None:
    try:
        r = SubscriberModel.get(f"sms#{phone}", consistent_read=True)
    except SubscriberModel.DoesNotExist:
        return None
    return {"phone": r.address, "categories": list(r.categories or []),
            "districts": list(r.districts or []), "lang": r.lang, "consent_at": r.consent_at,
            "consent_version": r.consent_version, "consent_by": r.consent_by,
            "created_at": r.created_at, "updated_at": r.updated_at, "source": r.source}


def handle_inbound_sms(message: dict[str, Any]) -> bool:
    """An SMS reply from a resident (SNS two-way SMS): STOP, NIE, KONIEC or REZYGNUJĘ leave."""
    body = str(message.get("messageBody", ""))
    word = unicodedata.normalize("NFKD", body).encode("ascii", "ignore").decode().strip().upper()
    word = word.strip(" .!").split()[0] if word.strip(" .!") else ""
    number = str(message.get("originationNumber", ""))
    if word not in STOP_WORDS or not number.startswith("+"):
        return False
    return remove_sms(number, reason=f"reply {word}")


# ---- push devices -----------------------------------------------------------------------------

def _secret_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _platform_arn(platform: str) -> str:
    import os

    arn = os.environ.get(f"PLATFORM_APP_{platform.upper()}_ARN", "")
    if not arn:
        raise Invalid("Push for this platform is not configured.", {"platform": "not available"})
    return arn


def register_device(data: Any) -> dict[str, str]:
    if not isinstance(data, dict):
        raise Invalid("The body must be a JSON object.", {"body": "must be an object"})
    errors: dict[str, str] = {}
    platform, token = data.get("platform"), data.get("token")
    if platform not in ("fcm", "apns"):
        errors["platform"] = "must be fcm or apns"
    if not isinstance(token, str) or not 8 <= len(token) <= 4096:
        errors["token"] = "must be the device token (8–4096 characters)"  # noqa: S105
    try:
        clean = validate_choices(data)
    except Invalid as exc:
        errors.update(exc.fields)
    if errors:
        raise Invalid("Some fields are invalid.", errors)
    assert isinstance(token, str) and isinstance(platform, str)
    device_id = hashlib.sha256(f"{platform}:{token}".encode()).hexdigest()[:24]
    secret = secrets.token_urlsafe(24)
    sns, ts = get_sns(), now_iso()
    try:
        record = SubscriberModel.get(f"dev#{device_id}", consistent_read=True)
    except SubscriberModel.DoesNotExist:
        endpoint = sns.create_platform_endpoint(PlatformApplicationArn=_platform_arn(platform),
                                                Token=token)["EndpointArn"]
        record = SubscriberModel(id=f"dev#{device_id}", kind="device", address=endpoint,
                                 platform=platform, created_at=ts)
    record.categories, record.districts, record.lang = (clean["categories"], clean["districts"],
                                                        clean["lang"])
    record.secret_hash, record.updated_at = _secret_hash(secret), ts
    sync_topics(record, "application", "push")
    record.save()
    return {"id": device_id, "secret": secret}


def _device(device_id: str, secret: str | None) -> SubscriberModel:
    if not isinstance(device_id, str) or len(device_id) > 64:
        raise NotFound("No such device.")
    try:
        record = SubscriberModel.get(f"dev#{device_id}", consistent_read=True)
    except SubscriberModel.DoesNotExist:
        raise NotFound("No such device.") from None
    if not secret or not hmac.compare_digest(record.secret_hash or "", _secret_hash(secret)):
        raise Forbidden("The secret does not match this device.")
    return record


def get_device(device_id: str, secret: str | None) -> dict[str, Any]:
    r = _device(device_id, secret)
    return {"id": device_id, "platform": r.platform, "categories": list(r.categories or []),
            "districts": list(r.districts or []), "lang": r.lang}


def update_device(device_id: str, secret: str | None, data: Any) -> dict[str, Any]:
    record = _device(device_id, secret)
    if not isinstance(data, dict):
        raise Invalid("The body must be a JSON object.", {"body": "must be an object"})
    clean = validate_choices({"categories": data.get("categories", record.categories),
                              "districts": data.get("districts", record.districts),
                              "lang": data.get("lang", record.lang)})
    record.categories, record.districts, record.lang = (clean["categories"], clean["districts"],
                                                        clean["lang"])
    record.updated_at = now_iso()
    sync_topics(record, "application", "push")
    record.save()
    return get_device(device_id, secret)


def delete_device(device_id: str, secret: str | None) -> None:
    record = _device(device_id, secret)
    _unsubscribe_all(record)
    try:
        get_sns().delete_endpoint(EndpointArn=record.address)
    finally:
        record.delete()


def prune_disabled_endpoints() -> int:
    """Scheduled: remove devices whose platform endpoint SNS has disabled."""
    sns, removed = get_sns(), 0
    for record in SubscriberModel.scan(SubscriberModel.kind == "device"):
        try:
            attrs = sns.get_endpoint_attributes(EndpointArn=record.address)["Attributes"]
            enabled = attrs.get("Enabled", "true") == "true"
        except sns.exceptions.NotFoundException:
            enabled = False
        if not enabled:
            _unsubscribe_all(record)
            try:
                sns.delete_endpoint(EndpointArn=record.address)
            finally:
                record.delete()
            removed += 1
    return removed


def counts() -> dict[str, Any]:
    """Subscriber counts by channel, category, district and language (no numbers)."""
    out: dict[str, Any] = {"total": 0, "by_channel": {}, "by_category": {}, "by_district": {},
                           "by_lang": {}}
    for r in SubscriberModel.scan():
        out["total"] += 1
        out["by_channel"][r.kind] = out["by_channel"].get(r.kind, 0) + 1
        out["by_lang"][r.lang] = out["by_lang"].get(r.lang, 0) + 1
        for c in r.categories or []:
            out["by_category"][c] = out["by_category"].get(c, 0) + 1
        for d in (r.districts or ["all"]):
            out["by_district"][d] = out["by_district"].get(d, 0) + 1
    return out
