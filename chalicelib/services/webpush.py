"""Web Push: browser subscriptions (register, change, leave) and the sender fed by the topics.

Subscriptions live in the `webpush` table (layout in models/webpush.py): a record per browser
(`sub#<id>`, id = hash of the endpoint, so registering the same endpoint again replaces it) and
one index row per (category × district-or-all × language), which lets the sender find the
browsers for a publish with Queries only, never a Scan. Choosing every district is stored as
the whole city (the same audience, 12× fewer rows).

Writes need no transaction (a resident with 9 categories × 11 districts exceeds DynamoDB's 100
items per transaction); their order keeps every row reachable from its record:
  register/change: 1. record.index_keys = old ∪ new; 2. put the new rows; 3. delete the rows no
  longer wanted; 4. record.index_keys = new.      leave: 1. delete every row; 2. the record.
A failure part-way leaves the record owning every row that exists; the resident's retry (or the
sender's 404/410 cleanup) finishes the job.

Sending (SNS category topic → SQS `webpush`, RawMessageDelivery, filter `channel: [web]` → the
worker): one message per alert version × text language; its `lang` attribute names the subscriber
languages it serves, `districts` the targeted districts (["all"] = whole city). Matching browsers
are pushed in batches by at most MAX_WORKERS threads with pywebpush (RFC 8291 aes128gcm, VAPID
RFC 8292, a TTL and an Urgency: high for emergencies and extreme/severe alerts). Each push first
takes a claim `sent#<alert>#v<version>` / `<lang>#<id>` with a conditional put, so a redelivered
message never pushes twice. Outcomes: 2xx sent; 404/410 the subscription is deleted; 429, 5xx or
no answer: the claim is released and only those ids go back on the queue with exponential backoff
(or the push service's Retry-After), up to MAX_ATTEMPTS; other 4xx are logged and not retried.

VAPID: the private key (PEM, P-256) is an SSM SecureString named by env `VAPID_PARAMETER`
(default `/<prefix>/webpush/vapid-private-key`); the local stack generates one at start.

Dev outbox (DEV_OUTBOX=1, the local stack only): each push is also recorded in the table
(pk "outbox") for infra/outbox.py; pushes to non-loopback endpoints (real push services, which
the local stack cannot reach) are recorded only, pushes to loopback stand-ins are really sent.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import logging
import os
import re
import secrets
import threading
import time
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit

from pynamodb.exceptions import PutError

from ..aws import _client, get_sqs, queue_url
from ..city import district_ids
from ..errors import Forbidden, Invalid, NotFound
from ..models.webpush import (
    WebPushClaim,
    WebPushOutboxRecord,
    WebPushSubscription,
    WebPushTarget,
)
from ..settings import get_settings
from . import limits
from .audience import WHOLE_CITY
from .clock import now, now_iso
from .subscriptions import validate_choices

log = logging.getLogger("informator.webpush")

MAX_WORKERS = 8
BATCH = 64
PUSH_TTL_S = 24 * 3600
CLAIM_TTL_S = 7 * 24 * 3600
STALE_CLAIM_S = 120
MAX_ATTEMPTS = 6
MAX_DELAY_S = 900  # SQS's longest DelaySeconds
IDS_PER_RETRY_MESSAGE = 2000
VAPID_CACHE_S = 300
PUSH_SERVICE_HOSTS = ("fcm.googleapis.com", "android.googleapis.com",
                      "push.services.mozilla.com", "push.apple.com", "notify.windows.com")
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")
_B64URL = re.compile(r"[A-Za-z0-9_-]+={0,2}")
METRICS: dict[str, int] = {"sent": 0, "skipped": 0, "gone": 0, "retry": 0, "failed": 0,
                           "gave_up": 0}


# ---- VAPID ------------------------------------------------------------------------------------

_vapid_lock = threading.Lock()
_vapid_cache: dict[str, tuple[float, str]] = {}


def vapid_parameter() -> str:
    return os.environ.get("VAPID_PARAMETER") or f"/{get_settings().prefix}/webpush/vapid-private-key"


def _vapid_pem() -> str:
    """The VAPID private key (PEM) from SSM, cached for a few minutes (rotation takes effect)."""
    name = vapid_parameter()
    with _vapid_lock:
        hit = _vapid_cache.get(name)
        if hit and time.monotonic() - hit[0] < VAPID_CACHE_S:
            return hit[1]
        pem = str(_client("ssm").get_parameter(Name=name, WithDecryption=True)["Parameter"]["Value"])
        _vapid_cache[name] = (time.monotonic(), pem)
        return pem


def reset_vapid_cache() -> None:
    with _vapid_lock:
        _vapid_cache.clear()


def _b64url_encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _b64url_decode(value: str) -> bytes:
    value = value.rstrip("=")
    return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))


def public_key() -> str:
    """The VAPID public key as browsers want it: the uncompressed P-256 point, base64url."""
    from cryptography.hazmat.primitives import serialization

    key: Any = serialization.load_pem_private_key(_vapid_pem().encode(), password=None)
    point = key.public_key().public_bytes(serialization.Encoding.X962,
                                          serialization.PublicFormat.UncompressedPoint)
    return _b64url_encode(point)


def _vapid_subject() -> str:
    subject = os.environ.get("VAPID_SUBJECT", "")
    if subject:
        return subject
    site = get_settings().site_url
    return site if site.startswith("https://") else "mailto:informator@localhost"


# ---- validation -------------------------------------------------------------------------------

def _is_loopback(endpoint: str) -> bool:
    parts = urlsplit(endpoint)
    return parts.scheme in ("http", "https") and (parts.hostname or "") in LOOPBACK_HOSTS


def endpoint_problem(endpoint: Any) -> str | None:
    """Why the server must not POST to this URL, or None. Outside the local stage only https
    endpoints of the known push services; the local stage also takes loopback stand-ins."""
    if not isinstance(endpoint, str) or not 10 <= len(endpoint) <= 2048:
        return "must be the push subscription's endpoint URL"
    try:
        parts = urlsplit(endpoint)
        port = parts.port
    except ValueError:
        return "is not a URL"
    host = (parts.hostname or "").lower()
    if parts.username or parts.password or any(c.isspace() for c in endpoint):
        return "is not a push service URL"
    if get_settings().stage == "local" and _is_loopback(endpoint):
        return None
    if parts.scheme != "https":
        return "must be an https URL"
    if port not in (None, 443) or not any(host == h or host.endswith("." + h)
                                          for h in PUSH_SERVICE_HOSTS):
        return "must be on a known push service (Google, Mozilla, Apple, Microsoft)"
    return None


def _key_problem(value: Any, size: int) -> str | None:
    if not isinstance(value, str) or len(value) > 200 or not _B64URL.fullmatch(value):
        return "must be base64url"
    try:
        raw = _b64url_decode(value)
    except (binascii.Error, ValueError):
        return "must be base64url"
    if len(raw) != size:
        return f"must be {size} bytes"
    if size == 65:
        from cryptography.hazmat.primitives.asymmetric import ec

        try:
            ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), raw)
        except ValueError:
            return "is not a P-256 public key"
    return None


def validate(data: Any) -> dict[str, Any]:
    """The subscription as sent by the page; every problem named in one 422."""
    if not isinstance(data, dict):
        raise Invalid("The body must be a JSON object.", {"body": "must be an object"})
    errors: dict[str, str] = {}
    endpoint = data.get("endpoint")
    problem = endpoint_problem(endpoint)
    if problem:
        errors["endpoint"] = problem
    keys = data.get("keys")
    if not isinstance(keys, dict):
        errors["keys"] = "must be an object with p256dh and auth"
        keys = {}
    for name, size in (("p256dh", 65), ("auth", 16)):
        problem = _key_problem(keys.get(name), size) if "keys" not in errors else None
        if problem:
            errors[f"keys.{name}"] = problem
    try:
        clean = validate_choices(data)
    except Invalid as exc:
        errors.update(exc.fields)
        clean = {}
    if errors:
        raise Invalid("Some fields are invalid.", errors)
    return {**clean, "endpoint": endpoint, "p256dh": str(keys["p256dh"]).rstrip("="),
            "auth": str(keys["auth"]).rstrip("=")}


# ---- subscriptions ----------------------------------------------------------------------------

def _secret_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def subscription_id(endpoint: str) -> str:
    return hashlib.sha256(endpoint.encode()).hexdigest()[:24]


def _index_rows(record: WebPushSubscription, sub_id: str) -> dict[str, WebPushTarget]:
    districts = list(record.districts or [])
    areas = districts if districts and set(districts) != set(district_ids()) else [WHOLE_CITY]
    rows: dict[str, WebPushTarget] = {}
    for cat in record.categories or []:
        for area in areas:
            row = WebPushTarget(pk=f"cat#{cat}#{record.lang}", sk=f"{area}#{sub_id}",
                                sub_id=sub_id, endpoint=record.endpoint, p256dh=record.p256dh,
                                auth=record.auth)
            rows[f"{row.pk}|{row.sk}"] = row
    return rows


def _store(record: WebPushSubscription, sub_id: str) -> None:
    """Save the record and make its index rows match (write order: see the module docstring)."""
    rows = _index_rows(record, sub_id)
    old = set(record.index_keys or [])
    record.index_keys = sorted(old | set(rows))
    record.save()
    with WebPushTarget.batch_write() as batch:
        for row in rows.values():
            batch.save(row)
        for key in sorted(old - set(rows)):
            pk, sk = key.split("|", 1)
            batch.delete(WebPushTarget(pk, sk))
    record.index_keys = sorted(rows)
    record.save()


def _remove(record: WebPushSubscription) -> None:
    with WebPushTarget.batch_write() as batch:
        for key in record.index_keys or []:
            pk, sk = key.split("|", 1)
            batch.delete(WebPushTarget(pk, sk))
    record.delete()


def register(data: Any, client_ip: str) -> dict[str, str]:
    """A browser's subscription → {id, secret}. The same endpoint again replaces, not adds."""
    clean = validate(data)
    limits.hit(f"ip#{client_ip}#webpush", get_settings().ip_limit_per_hour, 3600,
               "Too many sign-ups from this address; try again later.")
    sub_id, secret, ts = subscription_id(clean["endpoint"]), secrets.token_urlsafe(24), now_iso()
    try:
        record = WebPushSubscription.get(f"sub#{sub_id}", "sub", consistent_read=True)
    except WebPushSubscription.DoesNotExist:
        record = WebPushSubscription(pk=f"sub#{sub_id}", sk="sub", created_at=ts)
    record.endpoint, record.p256dh, record.auth = clean["endpoint"], clean["p256dh"], clean["auth"]
    record.categories, record.districts, record.lang = (clean["categories"], clean["districts"],
                                                        clean["lang"])
    record.secret_hash, record.updated_at = _secret_hash(secret), ts
    _store(record, sub_id)
    log.info("web push subscription saved", extra={"id": sub_id})
    return {"id": sub_id, "secret": secret}


def _owned(sub_id: Any, secret: str | None) -> WebPushSubscription:
    if not isinstance(sub_id, str) or not re.fullmatch(r"[0-9a-f]{24}", sub_id):
        raise NotFound("No such web push subscription.")
    try:
        record = WebPushSubscription.get(f"sub#{sub_id}", "sub", consistent_read=True)
    except WebPushSubscription.DoesNotExist:
        raise NotFound("No such web push subscription.") from None
    if not secret or not hmac.compare_digest(record.secret_hash or "", _secret_hash(secret)):
        raise Forbidden("The secret does not match this subscription.")
    return record


def _view(sub_id: str, r: WebPushSubscription) -> dict[str, Any]:
    return {"id": sub_id, "endpoint": r.endpoint, "categories": list(r.categories or []),
            "districts": list(r.districts or []), "lang": r.lang, "created_at": r.created_at,
            "updated_at": r.updated_at}


def get(sub_id: str, secret: str | None) -> dict[str, Any]:
    return _view(sub_id, _owned(sub_id, secret))


def update(sub_id: str, secret: str | None, data: Any) -> dict[str, Any]:
    record = _owned(sub_id, secret)
    if not isinstance(data, dict):
        raise Invalid("The body must be a JSON object.", {"body": "must be an object"})
    clean = validate_choices({"categories": data.get("categories", record.categories),
                              "districts": data.get("districts", record.districts),
                              "lang": data.get("lang", record.lang)})
    record.categories, record.districts, record.lang = (clean["categories"], clean["districts"],
                                                        clean["lang"])
    record.updated_at = now_iso()
    _store(record, sub_id)
    return _view(sub_id, record)


def delete(sub_id: str, secret: str | None) -> None:
    _remove(_owned(sub_id, secret))


def _forget(target: Target) -> None:
    """The push service says this subscription is gone (404/410): remove it and its rows."""
    try:
        _remove(WebPushSubscription.get(f"sub#{target.sub_id}", "sub", consistent_read=True))
    except WebPushSubscription.DoesNotExist:
        pass
    if target.row_key:  # an orphan row the record no longer lists
        pk, sk = target.row_key.split("|", 1)
        WebPushTarget(pk, sk).delete()


# ---- finding the browsers for a publish -------------------------------------------------------

@dataclass(frozen=True)
class Target:
    sub_id: str
    endpoint: str
    p256dh: str
    auth: str
    row_key: str = ""


def find_targets(category: str, districts: list[str], langs: list[str]) -> Iterator[Target]:
    """Browsers subscribed to the category, in a targeted district or the whole city, speaking
    one of the served languages. Queries only (see models/webpush.py)."""
    whole_city = not districts or WHOLE_CITY in districts
    seen: set[str] = set()
    for lang in langs:
        pk = f"cat#{category}#{lang}"
        if whole_city:
            queries = [WebPushTarget.query(pk)]
        else:
            queries = [WebPushTarget.query(pk, WebPushTarget.sk.startswith(f"{area}#"))
                       for area in [*sorted(set(districts)), WHOLE_CITY]]
        for rows in queries:
            for row in rows:
                if row.sub_id not in seen:
                    seen.add(row.sub_id)
                    yield Target(row.sub_id, row.endpoint, row.p256dh, row.auth,
                                 f"{row.pk}|{row.sk}")


def targets_by_id(ids: list[str]) -> Iterator[Target]:
    keys = [(f"sub#{i}", "sub") for i in sorted(set(ids))]
    for r in WebPushSubscription.batch_get(keys):
        yield Target(str(r.pk)[4:], r.endpoint, r.p256dh, r.auth)


# ---- sending ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Push:
    alert_id: str
    version: int
    lang: str
    title: str
    body: str
    url: str
    payload: str
    urgency: str
    critical: bool

    @classmethod
    def from_message(cls, msg: dict[str, Any]) -> Push:
        critical = msg.get("category") == "emergency" or msg.get("severity") in ("extreme",
                                                                                 "severe")
        title, body = str(msg.get("title") or "")[:160], str(msg.get("body") or "")
        payload = json.dumps({
            "title": title, "body": body, "url": msg.get("url"), "alert_id": msg["alert_id"],
            "version": int(msg["version"]), "type": msg.get("type"),
            "category": msg.get("category"), "category_name": msg.get("category_name"),
            "severity": msg.get("severity"), "lang": msg.get("lang"),
            "exercise": bool(msg.get("exercise")), "tag": f"alert-{msg['alert_id']}"},
            ensure_ascii=False)
        return cls(alert_id=str(msg["alert_id"]), version=int(msg["version"]),
                   lang=str(msg.get("lang") or "pl"), title=title, body=body,
                   url=str(msg.get("url") or ""), payload=payload,
                   urgency="high" if critical else "normal", critical=critical)

    def claim_key(self, sub_id: str) -> tuple[str, str]:
        return f"sent#{self.alert_id}#v{self.version}", f"{self.lang}#{sub_id}"


@dataclass(frozen=True)
class Outcome:
    sub_id: str
    result: str  # sent | skipped | gone | retry | failed
    status: int = 0
    retry_after: int = 0


def _claim(push: Push, sub_id: str) -> str:
    """'go' (this worker pushes now), 'skipped' (done before) or 'retry' (in flight elsewhere)."""
    pk, sk = push.claim_key(sub_id)
    now = int(time.time())
    try:
        WebPushClaim(pk, sk, state="sending", started_at=now, ttl=now + CLAIM_TTL_S).save(
            condition=WebPushClaim.pk.does_not_exist())
        return "go"
    except PutError as exc:
        if getattr(exc, "cause_response_code", "") != "ConditionalCheckFailedException":
            raise
    existing = WebPushClaim.get(pk, sk, consistent_read=True)
    if existing.state != "sending":
        return "skipped"
    if now - int(existing.started_at) < STALE_CLAIM_S:
        return "retry"
    # A worker died between claiming and confirming: the push may or may not have gone out.
    # As in fanout: emergencies and extreme/severe alerts go again, the rest do not.
    if push.critical:
        log.warning("ambiguous web push resent (critical)", extra={"key": f"{pk}|{sk}"})
        WebPushClaim(pk, sk, state="sending", started_at=now, ttl=now + CLAIM_TTL_S).save()
        return "go"
    _finish(push, sub_id, "unconfirmed", 0)
    return "skipped"


def _finish(push: Push, sub_id: str, state: str, status: int) -> None:
    pk, sk = push.claim_key(sub_id)
    now = int(time.time())
    WebPushClaim(pk, sk, state=state, started_at=now, finished_at=now, status=status or None,
                 ttl=now + CLAIM_TTL_S).save()


def _release(push: Push, sub_id: str) -> None:
    WebPushClaim(*push.claim_key(sub_id)).delete()


_local = threading.local()


def _http() -> Any:
    """One requests session per worker thread (keep-alive to the push services)."""
    if getattr(_local, "session", None) is None:
        import requests

        _local.session = requests.Session()
    return _local.session


def _retry_after(value: str | None) -> int:
    if not value:
        return 0
    if value.strip().isdigit():
        return int(value.strip())
    try:
        return max(0, int(parsedate_to_datetime(value).timestamp() - time.time()))
    except (TypeError, ValueError):
        return 0


def _post(push: Push, target: Target, vapid: Any) -> tuple[int, int]:
    """POST the encrypted push; (HTTP status, Retry-After seconds); status 0 = no answer."""
    import requests
    from pywebpush import WebPushException, webpush

    headers: dict[str, str | int | float] = {"Urgency": push.urgency}
    topic = re.sub(r"[^A-Za-z0-9_-]", "", f"a{push.alert_id}")[:32]
    if topic:
        headers["Topic"] = topic  # a newer version replaces an undelivered older one
    try:
        resp: Any = webpush(
            subscription_info={"endpoint": target.endpoint,
                               "keys": {"p256dh": target.p256dh, "auth": target.auth}},
            data=push.payload, vapid_private_key=vapid,
            vapid_claims={"sub": _vapid_subject()},  # a fresh dict: pywebpush adds aud and exp
            content_encoding="aes128gcm", ttl=PUSH_TTL_S, headers=headers, timeout=10,
            requests_session=_http())
        return int(resp.status_code), 0
    except WebPushException as exc:
        return int(exc.status_code or 0), _retry_after(exc.retry_after)
    except requests.RequestException as exc:
        log.warning("push service unreachable", extra={"id": target.sub_id, "error": repr(exc)})
        return 0, 0


def _record_outbox(push: Push, target: Target) -> None:
    at = now().isoformat(timespec="seconds")  # UTC, as the other outbox entries
    WebPushOutboxRecord(
        "outbox", f"{at}#{target.sub_id}#{push.alert_id}#v{push.version}#{push.lang}",
        to=target.sub_id, text=f"{push.title} — {push.body}", at=at, alert_id=push.alert_id,
        version=push.version, lang=push.lang, url=push.url, endpoint=target.endpoint,
        ttl=int(time.time()) + CLAIM_TTL_S).save()


def push_one(push: Push, target: Target, vapid: Any) -> Outcome:
    """One browser, at most once per (alert version, language, subscription)."""
    state = _claim(push, target.sub_id)
    if state != "go":
        return Outcome(target.sub_id, state)
    try:
        if endpoint_problem(target.endpoint):
            _finish(push, target.sub_id, "failed", 0)
            log.error("stored endpoint refused", extra={"id": target.sub_id})
            return Outcome(target.sub_id, "failed")
        if get_settings().dev_outbox:
            _record_outbox(push, target)
            if not _is_loopback(target.endpoint):  # the local stack reaches no real push service
                _finish(push, target.sub_id, "sent", 0)
                return Outcome(target.sub_id, "sent")
        status, retry_after = _post(push, target, vapid)
    except Exception:
        _release(push, target.sub_id)
        raise
    if 200 <= status < 300:
        _finish(push, target.sub_id, "sent", status)
        return Outcome(target.sub_id, "sent", status)
    if status in (404, 410):
        _finish(push, target.sub_id, "gone", status)
        _forget(target)
        log.info("web push subscription gone; removed", extra={"id": target.sub_id})
        return Outcome(target.sub_id, "gone", status)
    if status == 429 or status >= 500 or status == 0:
        _release(push, target.sub_id)
        return Outcome(target.sub_id, "retry", status, retry_after)
    _finish(push, target.sub_id, "failed", status)
    log.error("push refused", extra={"id": target.sub_id, "status": status})
    return Outcome(target.sub_id, "failed", status)


def _batches(items: Iterable[Target], size: int) -> Iterator[list[Target]]:
    batch: list[Target] = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def _vapid() -> Any:
    from py_vapid import Vapid

    return Vapid.from_pem(_vapid_pem().encode())


def send_all(push: Push, targets: Iterable[Target]) -> list[Outcome]:
    """Push to every target: batches of BATCH, at most MAX_WORKERS pushes at a time."""
    vapid = _vapid()
    out: list[Outcome] = []
    with ThreadPoolExecutor(max_workers=MAX_WORKERS, thread_name_prefix="webpush") as pool:
        for batch in _batches(targets, BATCH):
            out.extend(pool.map(lambda t: push_one(push, t, vapid), batch))
    for o in out:
        METRICS[o.result] = METRICS.get(o.result, 0) + 1
    return out


def _array(value: Any) -> list[str]:
    if value is None or value == "":
        return []
    if isinstance(value, list):
        return [str(v) for v in value]
    try:
        parsed = json.loads(value)
    except (TypeError, ValueError):
        return [str(value)]
    return [str(v) for v in parsed] if isinstance(parsed, list) else [str(parsed)]


def _requeue(body: str, attributes: dict[str, str], ids: list[str], attempt: int,
             retry_after: int) -> None:
    base = float(os.environ.get("WEBPUSH_RETRY_BASE_S", "30"))
    delay = int(min(MAX_DELAY_S, max(retry_after, base * 2 ** (attempt - 1))))
    kept = {k: v for k, v in attributes.items() if k not in ("only", "attempt")}
    sqs, url = get_sqs(), queue_url(get_settings().queue("webpush"))
    for i in range(0, len(ids), IDS_PER_RETRY_MESSAGE):
        attrs: dict[str, Any] = {
            k: {"DataType": "String.Array" if k in ("districts", "lang", "channel") else "String",
                "StringValue": v} for k, v in kept.items() if k in (
                    "districts", "lang", "channel", "category", "alert_id")}
        attrs["only"] = {"DataType": "String.Array",
                         "StringValue": json.dumps(ids[i:i + IDS_PER_RETRY_MESSAGE])}
        attrs["attempt"] = {"DataType": "Number", "StringValue": str(attempt)}
        sqs.send_message(QueueUrl=url, MessageBody=body, DelaySeconds=delay,
                         MessageAttributes=attrs)


def handle_message(body: str, attributes: dict[str, str]) -> dict[str, int]:
    """One SQS message (an SNS publish, raw): push it to every matching browser once."""
    if attributes.get("channel") and "web" not in _array(attributes.get("channel")):
        return {}
    msg = json.loads(body)
    push = Push.from_message(msg)
    only = _array(attributes.get("only"))
    attempt = int(float(attributes.get("attempt") or 0))
    if only:
        targets: Iterable[Target] = targets_by_id(only)
    else:
        langs = _array(attributes.get("lang")) or [push.lang]
        districts = _array(attributes.get("districts")) or [WHOLE_CITY]
        targets = find_targets(str(msg["category"]), districts, langs)
    outcomes = send_all(push, targets)
    counts: dict[str, int] = {}
    for o in outcomes:
        counts[o.result] = counts.get(o.result, 0) + 1
    retry = [o for o in outcomes if o.result == "retry"]
    if retry:
        if attempt + 1 > MAX_ATTEMPTS:
            METRICS["gave_up"] += len(retry)
            log.error("web push gave up after retries",
                      extra={"alert_id": push.alert_id, "count": len(retry)})
        else:
            _requeue(body, attributes, [o.sub_id for o in retry], attempt + 1,
                     max(o.retry_after for o in retry))
    log.info("web push done", extra={"alert_id": push.alert_id, "version": push.version,
                                     "lang": push.lang, "results": counts})
    return counts
