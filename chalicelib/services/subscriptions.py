"""Subscriptions: SMS numbers confirmed by a code, push devices; SNS subscriptions per category.

Every SNS subscription carries the filter policy of `audience.filter_policy`. `emergency` is
always subscribed. Codes expire after 10 minutes; 5 wrong codes lock the number for an hour; at
most 3 codes per number per hour and a city-set number per client IP per hour. No answer says
whether a number is already subscribed: a code request does the same work and gives the same
answer for every valid number. Numbers never reach a log line or a rate-limit key in full.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import logging
import re
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
STAFF_CODES_PER_HOUR = 200  # a staff member signing up residents who phone the office
STOP_WORDS = {"STOP", "NIE", "KONIEC", "REZYGNUJE", "REZYGNUJ"}
PURPOSES = ("subscribe", "leave", "export", "report_contact")  # report_contact: issue 5
SOURCES = ("self", "staff", "legacy-import", "demo")


def mask(phone: str) -> str:
    """A number as it may appear in a log line: country code and the last two digits."""
    return f"{phone[:3]}*****{phone[-2:]}" if len(phone) > 6 else "***"


def _digest(phone: str) -> str:
    """A stable, non-reversible stand-in for a number in rate-limit keys."""
    return hashlib.sha256(f"informator:{phone}".encode()).hexdigest()[:20]


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


def validate_sign_up(data: dict[str, Any]) -> dict[str, Any]:
    """Choices of a sign-up; a bad number and bad choices are reported together."""
    errors: dict[str, str] = {}
    try:
        normalize_phone(data.get("phone"))
    except Invalid as exc:
        errors.update(exc.fields)
    try:
        clean = validate_choices(data)
    except Invalid as exc:
        errors.update(exc.fields)
    if errors:
        raise Invalid("Some fields are invalid.", errors)
    return clean


def _code_hash(phone: str, code: str) -> str:
    return hashlib.sha256(f"{phone}:{code}".encode()).hexdigest()


def leave_hint() -> str:
    return str(config.get("sms_stop_hint") or "")


def with_leave_hint(text: str) -> str:
    """Every SMS under a sender ID says where to leave: add the city's hint unless it is there."""
    from ..formats.sms import transliterate

    hint = leave_hint()
    if not hint:
        return text
    addresses = [w for w in hint.split() if "/" in w or "." in w.strip(".")]
    if hint in text or any(a in text for a in addresses):
        return text
    return f"{text.rstrip()} {transliterate(hint)}"


def send_sms(phone: str, text: str) -> None:
    settings = get_settings()
    get_sns().publish(PhoneNumber=phone, Message=text, MessageAttributes={
        "AWS.SNS.SMS.SMSType": {"DataType": "String", "StringValue": "Transactional"},
        "AWS.SNS.SMS.SenderID": {"DataType": "String", "StringValue": settings.sms_sender_id},
    })


def is_opted_out(phone: str) -> bool:
    resp = get_sns().check_if_phone_number_is_opted_out(phoneNumber=phone)
    return bool(resp.get("isOptedOut"))


def opted_out_numbers() -> set[str]:
    """Every number SNS will not text (it replied STOP to AWS), all pages of the account's list."""
    out: set[str] = set()
    for page in get_sns().get_paginator("list_phone_numbers_opted_out").paginate():
        out.update(page.get("phoneNumbers", []))
    return out


# ---- codes ------------------------------------------------------------------------------------

def request_code(phone_raw: Any, purpose: str, payload: dict[str, Any], client_ip: str, *,
                 staff: str | None = None) -> str:
    """Send a 6-digit code; the same work and answer whether or not the number is known.

    Residents are limited per client IP; staff signing up a resident by phone per staff member.
    """
    if purpose not in PURPOSES:
        raise Invalid("Unknown purpose.", {"purpose": "subscribe, leave or export"})
    phone = normalize_phone(phone_raw)
    if staff:
        limits.hit(f"staff#{staff}#code", STAFF_CODES_PER_HOUR, 3600,
                   "Too many codes sent by this staff account; try again later.")
    else:
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
    limits.hit(f"num#{_digest(phone)}#code", CODES_PER_NUMBER_PER_HOUR, 3600,
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
    send_sms(phone, code_text(code))
    log.info("code sent", extra={"phone": mask(phone), "purpose": purpose})
    return phone


def code_text(code: str) -> str:
    from ..formats.sms import transliterate

    sender = transliterate(str(config.get("sender_name") or ""))
    return with_leave_hint(f"{sender}: Twoj kod to {code} (wazny 10 min). "
                           "Jesli to nie Ty, zignoruj te wiadomosc.")


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
    if purpose == "subscribe":
        source = str(payload["source"]) if payload.get("source") in SOURCES else "self"
        sub = activate_sms(phone, payload, consent_by=payload.get("consent_by"), source=source)
        # spent only once done: an SNS or DynamoDB fault midway leaves the code valid, and the
        # resident's retry finishes the sign-up (sync_topics adopts what already exists)
        item.delete()
        return {"status": "subscribed", **sub}
    item.delete()
    if purpose == "leave":
        remove_sms(phone, reason="web form")
        return {"status": "removed"}
    if purpose == "export":
        return {"status": "export", "data": export_sms(phone)}
    raise Invalid("The code is wrong or has expired.", {"code": "wrong or expired"})


# ---- SNS subscriptions ------------------------------------------------------------------------

def _arns(record: SubscriberModel) -> dict[str, str]:
    """category → subscription ARN; a record read back from DynamoDB holds a MapAttribute."""
    raw: Any = record.subscription_arns
    if raw is None:
        return {}
    if hasattr(raw, "as_dict"):
        raw = raw.as_dict()
    return {str(k): str(v) for k, v in dict(raw).items()}


def sync_topics(record: SubscriberModel, protocol: str, channel: str) -> None:
    """Make the SNS subscriptions match the record's choices: update, add, remove; no duplicates."""
    sns, settings = get_sns(), get_settings()
    policy = json.dumps(filter_policy(list(record.districts or []), record.lang, channel))
    current = _arns(record)
    wanted = set(record.categories or [])
    try:
        for cat in sorted(wanted):
            arn = current.get(cat)
            if arn:
                try:
                    sns.set_subscription_attributes(SubscriptionArn=arn,
                                                    AttributeName="FilterPolicy",
                                                    AttributeValue=policy)
                    continue
                except sns.exceptions.NotFoundException:
                    current.pop(cat)  # removed behind our back: subscribe again
            current[cat] = _subscribe(settings.topic_arn(cat), protocol, record.address, policy)
        for cat in sorted(set(current) - wanted):
            try:
                sns.unsubscribe(SubscriptionArn=current[cat])
            except sns.exceptions.NotFoundException:
                pass
            current.pop(cat)
    finally:
        # whatever happened, the record knows every subscription that exists, so that leaving
        # can remove them all (callers save the record in a finally block)
        record.subscription_arns = current


def _subscribe(topic_arn: str, protocol: str, endpoint: str, policy: str) -> str:
    """Subscribe, or adopt the subscription SNS already has for this endpoint (no duplicates)."""
    sns = get_sns()
    try:
        resp = sns.subscribe(TopicArn=topic_arn, Protocol=protocol, Endpoint=endpoint,
                             ReturnSubscriptionArn=True, Attributes={"FilterPolicy": policy})
        return str(resp["SubscriptionArn"])
    except sns.exceptions.InvalidParameterException as exc:
        if "already exists" not in str(exc):
            raise
    # AWS refuses a second subscription of the same endpoint with other attributes
    for page in sns.get_paginator("list_subscriptions_by_topic").paginate(TopicArn=topic_arn):
        for sub in page.get("Subscriptions", []):
            if sub.get("Endpoint") == endpoint and sub.get("Protocol") == protocol:
                sns.set_subscription_attributes(SubscriptionArn=sub["SubscriptionArn"],
                                                AttributeName="FilterPolicy",
                                                AttributeValue=policy)
                return str(sub["SubscriptionArn"])
    raise RuntimeError("SNS reported an existing subscription it does not list")


def _unsubscribe_all(record: SubscriberModel) -> None:
    sns = get_sns()
    for arn in _arns(record).values():
        try:
            sns.unsubscribe(SubscriptionArn=arn)
        except sns.exceptions.NotFoundException:
            pass


def activate_sms(phone: str, choices: dict[str, Any], *, consent_by: str | None = None,
                 source: str = "self", consent_version: str | None = None) -> dict[str, Any]:
    """Create or update a number's subscriptions; records the consent (time, text version, by)."""
    clean = validate_choices(choices)
    ts = now_iso()
    try:
        record = SubscriberModel.get(f"sms#{phone}", consistent_read=True)
    except SubscriberModel.DoesNotExist:
        record = SubscriberModel(id=f"sms#{phone}", kind="sms", address=phone, created_at=ts,
                                 source=source)
    record.categories, record.districts, record.lang = (clean["categories"], clean["districts"],
                                                        clean["lang"])
    record.consent_at = ts
    record.consent_version = consent_version or str(config.get("consent_version"))
    record.consent_by, record.updated_at = consent_by or "self", ts
    try:
        sync_topics(record, "sms", "sms")
    finally:
        record.save()
    audit.record(consent_by or "resident", "sms.subscribe", mask(phone),
                 {**clean, "source": source})
    return clean


def remove_sms(phone: str, reason: str, actor: str = "resident") -> bool:
    """Leave: every SNS subscription goes, then the stored data (record and pending code)."""
    _forget_code(phone)
    try:
        record = SubscriberModel.get(f"sms#{phone}", consistent_read=True)
    except SubscriberModel.DoesNotExist:
        log.info("leave for an unknown number", extra={"phone": mask(phone), "reason": reason})
        return False
    _unsubscribe_all(record)
    record.delete()
    audit.record(actor, "sms.leave", mask(phone), {"reason": reason})
    log.info("sms subscriber removed", extra={"phone": mask(phone), "reason": reason})
    return True


def remove_opted_out() -> int:
    """Scheduled: numbers that opted out at SNS (STOP to AWS's own keyword handling, which our
    inbound handler never sees) leave the service: subscriptions and personal data go."""
    opted_out = opted_out_numbers()
    if not opted_out:
        return 0
    removed = 0
    for record in SubscriberModel.scan(SubscriberModel.kind == "sms"):
        if record.address in opted_out and remove_sms(record.address, reason="opted out at SNS",
                                                      actor="system:housekeeping"):
            removed += 1
    if removed:
        log.info("opted-out numbers removed", extra={"removed": removed})
    return removed


def _forget_code(phone: str) -> None:
    """Drop a pending code with its payload (choices), unless it holds a lock (kept for the hour)."""
    try:
        item = CodeModel.get(f"sms#{phone}", consistent_read=True)
    except CodeModel.DoesNotExist:
        return
    if item.locked_until and item.locked_until > time.time():
        item.code_hash, item.payload, item.purpose = "", {}, ""
        item.save()
    else:
        item.delete()


def export_sms(phone: str) -> dict[str, Any] | None:
    try:
        r = SubscriberModel.get(f"sms#{phone}", consistent_read=True)
    except SubscriberModel.DoesNotExist:
        return None
    return {"phone": r.address, "categories": list(r.categories or []),
            "districts": list(r.districts or []), "lang": r.lang, "consent_at": r.consent_at,
            "consent_version": r.consent_version, "consent_by": r.consent_by,
            "created_at": r.created_at, "updated_at": r.updated_at, "source": r.source,
            "welcomed_at": r.welcomed_at, "sns_subscriptions": _arns(r)}


def stop_word(body: str) -> str | None:
    """The leave keyword when the whole reply is one ("Stop.", "nie", "REZYGNUJĘ!"), else None.

    A longer text ("Nie wiem, o co chodzi") is not a request to leave.
    """
    ascii_text = unicodedata.normalize("NFKD", body).encode("ascii", "ignore").decode()
    word = re.sub(r"[\s.,!?;:'\"()-]+", " ", ascii_text).strip().upper()
    return word if word in STOP_WORDS else None


def handle_inbound_sms(message: dict[str, Any]) -> bool:
    """An SMS reply from a resident (SNS two-way SMS): STOP, NIE, KONIEC or REZYGNUJĘ leave."""
    import phonenumbers

    word = stop_word(str(message.get("messageBody") or ""))
    raw = str(message.get("originationNumber") or "")
    try:
        num = phonenumbers.parse(raw, None)
        number = str(phonenumbers.format_number(num, phonenumbers.PhoneNumberFormat.E164))
    except phonenumbers.NumberParseException:
        log.warning("inbound SMS without a usable sender number; ignored")
        return False
    if word is None:
        log.info("inbound SMS is not a leave keyword; ignored", extra={"phone": mask(number)})
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
    ts = now_iso()
    try:
        record = SubscriberModel.get(f"dev#{device_id}", consistent_read=True)
        if not _endpoint_usable(record.address):
            # SNS lost or disabled the endpoint: a fresh one, and fresh subscriptions on it
            _unsubscribe_all(record)
            record.subscription_arns = {}
            record.address = _create_endpoint(platform, token)
    except SubscriberModel.DoesNotExist:
        record = SubscriberModel(id=f"dev#{device_id}", kind="device",
                                 address=_create_endpoint(platform, token), platform=platform,
                                 created_at=ts)
    record.categories, record.districts, record.lang = (clean["categories"], clean["districts"],
                                                        clean["lang"])
    record.secret_hash, record.updated_at = _secret_hash(secret), ts
    try:
        sync_topics(record, "application", "push")
    finally:
        record.save()
    return {"id": device_id, "secret": secret}


def _is_enabled(attrs: dict[str, Any]) -> bool:
    return str(attrs.get("Enabled", "true")).lower() == "true"


def _endpoint_usable(endpoint_arn: str) -> bool:
    sns = get_sns()
    try:
        attrs = sns.get_endpoint_attributes(EndpointArn=endpoint_arn)["Attributes"]
    except sns.exceptions.NotFoundException:
        return False
    return _is_enabled(attrs)


def _create_endpoint(platform: str, token: str) -> str:
    """A platform endpoint for the token; re-enables the one SNS already holds for it."""
    sns = get_sns()
    try:
        return str(sns.create_platform_endpoint(PlatformApplicationArn=_platform_arn(platform),
                                                Token=token)["EndpointArn"])
    except sns.exceptions.InvalidParameterException as exc:
        found = re.search(r"Endpoint (arn:\S+) already exists", str(exc))
        if not found:
            raise
        arn = found.group(1)
        sns.set_endpoint_attributes(EndpointArn=arn, Attributes={"Token": token,
                                                                 "Enabled": "true"})
        return arn


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


def unknown_devices(device_ids: list[str]) -> list[str]:
    """The ids among these that no registered device has (staff test-device settings)."""
    return [d for d in device_ids if not _device_record(d)]


def _device_record(device_id: str) -> SubscriberModel | None:
    if not isinstance(device_id, str) or not 1 <= len(device_id) <= 64:
        return None
    try:
        return SubscriberModel.get(f"dev#{device_id}", consistent_read=True)
    except SubscriberModel.DoesNotExist:
        return None


def device_endpoints(device_ids: list[str]) -> dict[str, SubscriberModel | None]:
    """device id → its record (platform endpoint in `address`), None for one deleted since."""
    return {d: _device_record(d) for d in device_ids}


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
        if not _endpoint_usable(record.address):
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
