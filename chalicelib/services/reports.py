"""Residents' reports: creation with presigned photo forms, status, threads, followers, maps.

A report is created by a resident (the app, the web form or Open311) and answered with
`{id, secret, uploads}`. The secret is the reporter's key to their view, the thread and replies.
Staff move the status (new → acknowledged → in_progress → resolved | not_ours | duplicate |
rejected), write public notes and messages; the reporter is told by push (a registered device)
or by SMS (a number confirmed by a code); followers' devices are told of status changes.
Maps and "nearby" read two geographic indexes (fine and coarse grid cells), never a table scan.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import logging
import math
import os
import re
import secrets
import unicodedata
from datetime import datetime, timedelta
from typing import Any

from ..aws import get_s3, get_sns
from ..city import city
from ..errors import Conflict, Forbidden, Invalid, NotFound
from ..formats.sms import transliterate
from ..geo import distance_m, in_city
from ..models.ops import SettingModel
from ..models.reports import BlockModel, DeviceStandingModel, ReportEventModel, ReportModel
from ..models.subscribers import SubscriberModel
from ..settings import get_settings
from . import audit, config, limits
from . import subscriptions as subs
from .clock import iso, new_id, now, now_iso, parse_iso
from .clock import now as _clock_now

log = logging.getLogger("informator.reports")

STATUSES = ("new", "acknowledged", "in_progress", "resolved", "not_ours", "duplicate", "rejected")
OPEN = ("new", "acknowledged", "in_progress")
CLOSED = ("resolved", "not_ours", "duplicate", "rejected")
# staff transitions: forward through the open states, to any closed state, and a closed report
# may be taken up again
TRANSITIONS: dict[str, tuple[str, ...]] = {
    "new": ("acknowledged", "in_progress", *CLOSED),
    "acknowledged": ("in_progress", *CLOSED),
    "in_progress": CLOSED,
    **{s: ("acknowledged", "in_progress") for s in CLOSED},
}
STATUS_PL = {"new": "nowe", "acknowledged": "przyjęte", "in_progress": "w realizacji",
             "resolved": "rozwiązane", "not_ours": "poza kompetencjami miasta",
             "duplicate": "duplikat innego zgłoszenia", "rejected": "odrzucone"}
MAX_DESCRIPTION = 4000
MAX_TEXT = 2000
MAX_PHOTOS = 5
MAX_PHOTO_BYTES = 10 * 1024 * 1024
UPLOAD_TTL_S = 900
NEARBY_M = 250.0
REOPEN_DAYS = 14
MAX_FOLLOWERS = 1000
DEVICE_REPORTS_PER_DAY = 10
MESSAGES_PER_HOUR = 20
FINE, COARSE = 100, 20  # grid cells per degree: about 1.1 km and 5.6 km north-south
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_PHONE = re.compile(r"(?<![\w+])\+?\d[\d \-()./]{6,}\d(?!\w)")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


# ---- pure helpers -----------------------------------------------------------------------------

def cell(lat: float, lon: float, per_degree: int = FINE) -> str:
    return f"{math.floor(lat * per_degree)}:{math.floor(lon * per_degree)}"


def cells_covering(south: float, west: float, north: float, east: float,
                   per_degree: int) -> list[str]:
    rows = range(math.floor(south * per_degree), math.floor(north * per_degree) + 1)
    cols = range(math.floor(west * per_degree), math.floor(east * per_degree) + 1)
    return [f"{r}:{c}" for r in rows for c in cols]


def mask_contacts(text: str) -> str:
    """Hide e-mail addresses and phone numbers that residents write into descriptions."""
    text = _EMAIL.sub("[e-mail]", text)
    return _PHONE.sub(lambda m: "[telefon]" if sum(ch.isdigit() for ch in m.group()) >= 9
                      else m.group(), text)


def plain_text(value: Any, field: str, limit: int, *, required: bool = True) -> str | None:
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value.strip():
        if not required and value in ("", None):
            return None
        raise Invalid(f"{field} is required.", {field: "is required"})
    text = _CONTROL.sub("", unicodedata.normalize("NFC", value)).strip()
    if len(text) > limit:
        raise Invalid(f"{field} is too long (at most {limit} characters).",
                      {field: f"at most {limit} characters"})
    if not text:
        raise Invalid(f"{field} is required.", {field: "is required"})
    return text


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        if isinstance(value, str):
            try:
                value = float(value)
            except ValueError:
                return None
        else:
            return None
    value = float(value)
    return value if math.isfinite(value) else None


def parse_bbox(raw: str | None) -> tuple[float, float, float, float]:
    """`west,south,east,north` in degrees → (west, south, east, north), or 422."""
    bad = Invalid("bbox is west,south,east,north in degrees (west < east, south < north).",
                  {"bbox": "west,south,east,north"})
    if not raw:
        raise bad
    parts = raw.split(",")
    if len(parts) != 4:
        raise bad
    nums = [_number(p.strip()) for p in parts]
    if any(n is None for n in nums):
        raise bad
    west, south, east, north = (float(n) for n in nums if n is not None)
    if not (-180 <= west < east <= 180 and -90 <= south < north <= 90):
        raise bad
    return west, south, east, north


def report_categories() -> dict[str, dict[str, Any]]:
    return {c["id"]: c for c in city()["report_categories"]}


def departments() -> set[str]:
    return {str(c["department"]) for c in city()["report_categories"]}


def is_private(category: str) -> bool:
    return bool(report_categories().get(category, {}).get("private"))


def category_name(category: str, lang: str = "pl") -> str:
    names = report_categories().get(category, {}).get("name", {})
    return str(names.get(lang) or names.get("pl") or category)


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def photo_bucket() -> str:
    settings = get_settings()
    account = os.environ.get("AWS_ACCOUNT_ID", "123456789012")
    return os.environ.get("PHOTO_BUCKET") or f"{settings.prefix}-photos-{account}"


# ---- loading and views ------------------------------------------------------------------------

def _load(report_id: Any) -> ReportModel:
    if not isinstance(report_id, str) or not 1 <= len(report_id) <= 64:
        raise NotFound("No such report.")
    try:
        return ReportModel.get(report_id, consistent_read=True)
    except ReportModel.DoesNotExist:
        raise NotFound("No such report.") from None


def _check_secret(report: ReportModel, secret: str | None) -> None:
    if not secret or not hmac.compare_digest(report.secret_hash, _hash(secret)):
        raise Forbidden("The secret does not match this report.")


def _visible(report: ReportModel) -> bool:
    """Public views, the map, nearby and Open311: not hidden, not private, not held by moderation."""
    return (not report.hidden and not is_private(report.category)
            and report.moderation in (None, "approved"))


def _photo_urls(report: ReportModel) -> list[dict[str, Any]]:
    if not report.photos:
        return []
    s3, bucket = get_s3(), photo_bucket()

    def url(key: str) -> str:
        return str(s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": key},
                                             ExpiresIn=3600))

    return [{"n": p["n"], "display": url(p["display"]), "thumb": url(p["thumb"]),
             "width": p.get("width"), "height": p.get("height")}
            for p in sorted(report.photos, key=lambda p: int(p["n"]))]


def _thread(report_id: str, *, public_only: bool) -> list[dict[str, Any]]:
    out = []
    for e in ReportEventModel.query(report_id):
        if public_only and not e.public:
            continue
        item: dict[str, Any] = {"at": e.at_id.split("#")[0], "kind": e.kind, "author": e.author,
                                "text": e.text}
        if e.status:
            item["status"] = e.status
        out.append(item)
    return out


def summary(report: ReportModel, lang: str = "pl") -> dict[str, Any]:
    """What anyone may see of a report (no reporter data; contacts in the text masked)."""
    return {"id": report.id, "category": report.category,
            "category_name": category_name(report.category, lang),
            "department": report.department, "status": report.status,
            "open": report.status in OPEN, "description": mask_contacts(report.description),
            "lat": float(report.lat), "lon": float(report.lon), "address": report.address,
            "public_note": report.public_note, "duplicate_of": report.duplicate_of,
            "created_at": report.created_at, "updated_at": report.updated_at,
            "media_url": report.media_url}


def public_view(report: ReportModel, lang: str = "pl") -> dict[str, Any]:
    return {**summary(report, lang), "photos": _photo_urls(report),
            "followers": len(report.followers or []),
            "thread": _thread(report.id, public_only=True)}


def _contact(report: ReportModel) -> dict[str, Any] | None:
    if report.contact_device:
        return {"kind": "device", "device_id": report.contact_device}
    if report.contact_phone:
        return {"kind": "phone", "phone": subs.mask(report.contact_phone), "confirmed": True}
    if report.pending_phone:
        return {"kind": "phone", "phone": subs.mask(report.pending_phone), "confirmed": False}
    return None


def reporter_view(report: ReportModel, lang: str = "pl") -> dict[str, Any]:
    return {**summary(report, lang), "description": report.description,
            "photos": _photo_urls(report), "refused_photos": list(report.refused_photos or []),
            "photo_slots": int(report.photo_slots), "hidden": bool(report.hidden),
            "contact": _contact(report), "followers": len(report.followers or []),
            "thread": _thread(report.id, public_only=False),
            "can_reopen": _can_reopen(report), "moderation": report.moderation}


def staff_view(report: ReportModel) -> dict[str, Any]:
    view = reporter_view(report)
    view["private_category"] = is_private(report.category)
    view["source"] = report.source
    return view


def get_view(report_id: Any, secret: str | None, lang: str = "pl") -> dict[str, Any]:
    report = _load(report_id)
    if secret is not None:
        _check_secret(report, secret)
        return reporter_view(report, lang)
    if not _visible(report):
        raise NotFound("No such report.")
    return public_view(report, lang)


def get_public(report_id: Any) -> ReportModel:
    report = _load(report_id)
    if not _visible(report):
        raise NotFound("No such report.")
    return report


def get_staff(report_id: Any) -> dict[str, Any]:
    return staff_view(_load(report_id))


# ---- creating -----------------------------------------------------------------------------------

def _validate(data: Any) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise Invalid("The body must be a JSON object.", {"body": "must be an object"})
    errors: dict[str, str] = {}
    out: dict[str, Any] = {}
    category = data.get("category")
    if not isinstance(category, str) or category not in report_categories():
        errors["category"] = f"one of: {', '.join(report_categories())}"
    out["category"] = category
    for field, limit, required in (("description", MAX_DESCRIPTION, True),
                                   ("address", 200, False)):
        try:
            out[field] = plain_text(data.get(field), field, limit, required=required)
        except Invalid as exc:
            errors.update(exc.fields)
    lat, lon = _number(data.get("lat")), _number(data.get("lon"))
    if lat is None or not -90 <= lat <= 90:
        errors["lat"] = "latitude in degrees"
    if lon is None or not -180 <= lon <= 180:
        errors["lon"] = "longitude in degrees"
    if "lat" not in errors and "lon" not in errors:
        assert lat is not None and lon is not None
        if not in_city(lon, lat):
            raise Invalid("This place is outside Ciechanów. The city can only take reports "
                          "from within its boundary; move the pin onto the city map.",
                          {"lat": "outside the city boundary", "lon": "outside the city boundary"})
    out["lat"], out["lon"] = lat, lon
    photos = data.get("photos", 0)
    if isinstance(photos, bool) or not isinstance(photos, int) or not 0 <= photos <= MAX_PHOTOS:
        errors["photos"] = f"the number of photos, 0–{MAX_PHOTOS}"
    out["photos"] = photos
    contact = data.get("contact")
    out["device"], out["phone"] = None, None
    if contact is not None:
        if not isinstance(contact, dict) or not (("device_id" in contact)
                                                 ^ ("phone" in contact)):
            errors["contact"] = "either {device_id, device_secret} or {phone}"
        elif "device_id" in contact:
            out["device"] = (contact.get("device_id"), contact.get("device_secret"))
        else:
            try:
                out["phone"] = subs.normalize_phone(contact.get("phone"))
            except Invalid as exc:
                errors["contact.phone"] = exc.fields.get("phone", exc.message)
    if errors:
        raise Invalid("Some fields are invalid.", errors)
    return out


def is_blocked(device_id: str) -> bool:
    try:
        BlockModel.get(f"dev#{device_id}", consistent_read=True)
    except BlockModel.DoesNotExist:
        return False
    return True


def _approved_count(device_id: str) -> int:
    try:
        return int(DeviceStandingModel.get(f"standing#{device_id}", consistent_read=True).approved)
    except DeviceStandingModel.DoesNotExist:
        return 0


def needs_moderation(device_id: str | None) -> bool:
    """With the city's setting on, a report waits for an editor unless its device already had
    `report_moderation_first_reports` reports approved; a report without a device always waits
    (a phone number, Open311 or no contact: nothing to build trust on)."""
    if not config.get("report_moderation_new_devices"):
        return False
    if not device_id:
        return True
    first = config.get("report_moderation_first_reports")
    first = first if isinstance(first, int) and not isinstance(first, bool) else 1
    return _approved_count(device_id) < first


def _presigned_post(report_id: str, n: int) -> dict[str, Any]:
    form = get_s3().generate_presigned_post(
        Bucket=photo_bucket(), Key=f"uploads/{report_id}/{n}",
        Fields={"Content-Type": "image/jpeg"},
        Conditions=[["content-length-range", 1, MAX_PHOTO_BYTES],
                    ["starts-with", "$Content-Type", "image/"]],
        ExpiresIn=UPLOAD_TTL_S)
    return {"url": form["url"], "fields": form["fields"], "max_bytes": MAX_PHOTO_BYTES,
            "expires_in": UPLOAD_TTL_S}


def create(data: Any, client_ip: str, *, source: str = "app",
           media_url: str | None = None) -> dict[str, Any]:
    """Validate, store, tell the department; answer `{id, secret, uploads}`."""
    clean = _validate(data)
    settings = get_settings()
    limits.hit(f"ip#{client_ip}#report", settings.ip_limit_per_hour, 3600,
               "Too many reports from this address; try again later.")
    device_id = None
    if clean["device"]:
        dev_id, dev_secret = clean["device"]
        try:
            subs.get_device(dev_id, dev_secret)
        except (NotFound, Forbidden):
            raise Invalid("The contact device is not registered or its secret is wrong.",
                          {"contact.device_id": "unknown device or wrong secret"}) from None
        device_id = str(dev_id)
        if is_blocked(device_id):
            raise Forbidden("Reports from this device are not accepted.")
        limits.hit(f"dev#{device_id}#report", DEVICE_REPORTS_PER_DAY, 86400,
                   "Too many reports from this device today; try again tomorrow.")
    moderation = "pending" if needs_moderation(device_id) else None
    report_id = new_id()
    secret = secrets.token_urlsafe(24)
    if clean["phone"]:
        # the code goes out first: a refused number (limits, lock) leaves no report behind
        subs.request_code(clean["phone"], "report_contact", {"report_id": report_id}, client_ip)
    ts = now_iso()
    category = clean["category"]
    report = ReportModel(
        id=report_id, secret_hash=_hash(secret), category=category,
        department=str(report_categories()[category]["department"]),
        description=clean["description"], lat=clean["lat"], lon=clean["lon"],
        cell=cell(clean["lat"], clean["lon"]), area=cell(clean["lat"], clean["lon"], COARSE),
        address=clean["address"], status="new", source=source, media_url=media_url,
        contact_device=device_id, pending_phone=clean["phone"], photo_slots=clean["photos"],
        moderation=moderation, created_at=ts, updated_at=ts)
    report.save(condition=ReportModel.id.does_not_exist())
    audit.record("resident", "report.create", report_id,
                 {"category": category, "source": source, "photos": clean["photos"],
                  "contact": (_contact(report) or {}).get("kind"), "moderation": moderation})
    _tell_department(report)
    uploads = [_presigned_post(report_id, n) for n in range(clean["photos"])]
    out: dict[str, Any] = {"id": report_id, "secret": secret, "uploads": uploads,
                           "status": "new"}
    if moderation:
        out["moderation"] = moderation
    if clean["phone"]:
        out["contact"] = "code_sent"
    return out


def _tell_department(report: ReportModel) -> None:
    settings = get_settings()
    arn = f"{settings.topic_arn_prefix}dept-{report.department}"
    text = (f"Nowe zgłoszenie {report.id}: {category_name(report.category)}\n"
            f"Miejsce: {report.address or ''} ({float(report.lat):.5f}, {float(report.lon):.5f})\n"
            f"https://www.openstreetmap.org/?mlat={float(report.lat):.5f}"
            f"&mlon={float(report.lon):.5f}#map=18/{float(report.lat):.5f}/{float(report.lon):.5f}\n\n"
            f"{report.description}\n\n"
            f"Skrzynka zgłoszeń: {settings.site_url}/admin/#reports/{report.id}")
    if report.moderation == "pending":
        text += "\n\nZgłoszenie czeka na moderację: nie jest publiczne, dopóki redaktor go nie zatwierdzi."
    try:
        get_sns().publish(TopicArn=arn, Subject=f"Zgłoszenie: {category_name(report.category)}"[:99],
                          Message=text)
    except Exception:  # noqa: BLE001 - the report stands; staff still see it in the inbox
        log.exception("department not told", extra={"report_id": report.id,
                                                    "department": report.department})


def confirm_contact(report_id: Any, secret: str | None, data: Any) -> dict[str, Any]:
    """The reporter's number is confirmed by the code sent when the report was made."""
    report = _load(report_id)
    _check_secret(report, secret)
    if not isinstance(data, dict):
        raise Invalid("The body must be a JSON object.", {"body": "must be an object"})
    if not report.pending_phone:
        raise Conflict("This report has no number waiting for a code.")
    phone, item = subs.check_code(report.pending_phone, data.get("code"), "report_contact")
    if (item.payload or {}).get("report_id") != report.id:
        raise Invalid("The code is wrong or has expired.", {"code": "wrong or expired"})
    item.delete()
    report.contact_phone, report.pending_phone, report.updated_at = phone, None, now_iso()
    report.save()
    audit.record("resident", "report.contact_confirmed", report.id, {"phone": subs.mask(phone)})
    return {"contact": _contact(report)}


# ---- photos (called by the photo function) ----------------------------------------------------

def photo_wanted(report_id: str, n: int) -> bool:
    """True when the report exists, offered slot n, and has no processed photo n yet."""
    try:
        report = ReportModel.get(report_id, consistent_read=True)
    except ReportModel.DoesNotExist:
        return False
    if not 0 <= n < int(report.photo_slots):
        return False
    return all(int(p["n"]) != n for p in report.photos or [])


def photo_processed(report_id: str, entry: dict[str, Any]) -> None:
    report = ReportModel.get(report_id, consistent_read=True)
    photos = [p for p in report.photos or [] if int(p["n"]) != int(entry["n"])] + [entry]
    refused = [r for r in report.refused_photos or [] if int(r["n"]) != int(entry["n"])]
    report.update(actions=[ReportModel.photos.set(photos), ReportModel.refused_photos.set(refused),
                           ReportModel.updated_at.set(now_iso())])


def photo_refused(report_id: str, n: int, reason: str) -> None:
    try:
        report = ReportModel.get(report_id, consistent_read=True)
    except ReportModel.DoesNotExist:
        return
    refused = [r for r in report.refused_photos or [] if int(r["n"]) != n] + [
        {"n": n, "reason": reason}]
    report.update(actions=[ReportModel.refused_photos.set(refused)])
    audit.record("photo-function", "report.photo_refused", report_id, {"n": n, "reason": reason})


# ---- reading many ----------------------------------------------------------------------------

def _city_bounds() -> tuple[float, float, float, float]:
    ring = city()["boundary"]
    lons, lats = [p[0] for p in ring], [p[1] for p in ring]
    return min(lons), min(lats), max(lons), max(lats)


def in_bbox(west: float, south: float, east: float, north: float, *, status: str | None = None,
            category: str | None = None, lang: str = "pl", limit: int = 500) -> list[dict[str, Any]]:
    """Public reports in a map view, from the geographic indexes (no table scan)."""
    if status is not None and status not in STATUSES and status not in ("open", "closed"):
        raise Invalid("Unknown status.", {"status": f"one of: open, closed, {', '.join(STATUSES)}"})
    cw, cs, ce, cn = _city_bounds()
    w, s, e, n = max(west, cw), max(south, cs), min(east, ce), min(north, cn)
    if w > e or s > n:
        return []
    fine = cells_covering(s, w, n, e, FINE)
    if len(fine) <= 24:
        queries = [ReportModel.by_cell.query(c) for c in fine]
    else:
        queries = [ReportModel.by_area.query(c) for c in cells_covering(s, w, n, e, COARSE)]
    wanted = (OPEN if status == "open" else CLOSED if status == "closed"
              else (status,) if status else STATUSES)
    out = []
    for q in queries:
        for r in q:
            if (r.status in wanted and (not category or r.category == category) and _visible(r)
                    and west <= float(r.lon) <= east and south <= float(r.lat) <= north):
                out.append(summary(r, lang))
    out.sort(key=lambda r: r["created_at"], reverse=True)
    return out[:limit]


def nearby(lat_raw: Any, lon_raw: Any, category: Any, lang: str = "pl") -> list[dict[str, Any]]:
    """Open reports of the same category within 250 m, nearest first."""
    lat, lon = _number(lat_raw), _number(lon_raw)
    errors = {}
    if lat is None or not -90 <= lat <= 90:
        errors["lat"] = "latitude in degrees"
    if lon is None or not -180 <= lon <= 180:
        errors["lon"] = "longitude in degrees"
    if not isinstance(category, str) or category not in report_categories():
        errors["category"] = f"one of: {', '.join(report_categories())}"
    if errors:
        raise Invalid("Some parameters are invalid.", errors)
    assert lat is not None and lon is not None
    dlat = NEARBY_M / 111_320.0
    dlon = NEARBY_M / (111_320.0 * max(0.1, math.cos(math.radians(lat))))
    out = []
    for c in cells_covering(lat - dlat, lon - dlon, lat + dlat, lon + dlon, FINE):
        for r in ReportModel.by_cell.query(c):
            if r.category != category or r.status not in OPEN or not _visible(r):
                continue
            d = distance_m(lon, lat, float(r.lon), float(r.lat))
            if d <= NEARBY_M:
                out.append({**summary(r, lang), "distance_m": round(d)})
    out.sort(key=lambda r: r["distance_m"])
    return out


def search(statuses: tuple[str, ...] = STATUSES, *, category: str | None = None,
           start: str | None = None, end: str | None = None, include_hidden: bool = False,
           limit: int = 1000) -> list[ReportModel]:
    """Reports by status (the by-status index), newest first; optional category and dates."""
    out: list[ReportModel] = []
    if start and end and start > end:
        return out  # DynamoDB refuses BETWEEN with the bounds reversed
    for status in statuses:
        cond: Any = None
        if start and end:
            cond = ReportModel.created_at.between(start, end)
        elif start:
            cond = ReportModel.created_at >= start
        elif end:
            cond = ReportModel.created_at <= end
        for r in ReportModel.by_status.query(status, range_key_condition=cond,
                                             scan_index_forward=False, limit=limit):
            if category and r.category != category:
                continue
            if not include_hidden and not _visible(r):
                continue
            out.append(r)
    out.sort(key=lambda r: r.created_at, reverse=True)
    return out[:limit]


def inbox(status: str | None, category: str | None, limit: int = 200,
          moderation: str | None = None) -> list[dict[str, Any]]:
    """The staff inbox; `moderation=pending` lists what waits for an editor (any status)."""
    if status and status not in STATUSES:
        raise Invalid("Unknown status.", {"status": f"one of: {', '.join(STATUSES)}"})
    if moderation and moderation not in ("pending", "approved", "rejected"):
        raise Invalid("Unknown moderation state.",
                      {"moderation": "one of: pending, approved, rejected"})
    if category and category not in report_categories():
        raise Invalid("Unknown category.", {"category": f"one of: {', '.join(report_categories())}"})
    statuses = (status,) if status else STATUSES if moderation else OPEN
    items = []
    for r in search(statuses, category=category, include_hidden=True, limit=limit):
        if moderation and r.moderation != moderation:
            continue
        items.append({**summary(r), "description": r.description, "hidden": bool(r.hidden),
                      "moderation": r.moderation,
                      "contact": (_contact(r) or {}).get("kind"),
                      "photos": len(r.photos or []), "source": r.source})
    return items


# ---- threads and notifications ---------------------------------------------------------------

def _event(report_id: str, kind: str, author: str, text: str, *, status: str | None = None,
           staff: str | None = None, public: bool = False) -> dict[str, Any]:
    ts = now_iso()
    ReportEventModel(report_id=report_id, at_id=f"{ts}#{new_id()}", kind=kind, author=author,
                     staff=staff, status=status, text=text, public=public).save()
    out: dict[str, Any] = {"at": ts, "kind": kind, "author": author, "text": text}
    if status:
        out["status"] = status
    return out


def _push_message(title: str, body: str, report_id: str) -> str:
    url = f"{get_settings().site_url}/report.html?id={report_id}"
    data = {"report_id": report_id, "type": "report", "url": url}
    apns = json.dumps({"aps": {"alert": {"title": title, "body": body}, "sound": "default"},
                       **data}, ensure_ascii=False)
    return json.dumps({"default": json.dumps({**data, "title": title, "body": body},
                                             ensure_ascii=False),
                       "GCM": json.dumps({"notification": {"title": title, "body": body},
                                          "data": data}, ensure_ascii=False),
                       "APNS": apns, "APNS_SANDBOX": apns}, ensure_ascii=False)


def _push(device_id: str, title: str, body: str, report_id: str) -> bool:
    try:
        device = SubscriberModel.get(f"dev#{device_id}")
    except SubscriberModel.DoesNotExist:
        return False
    try:
        get_sns().publish(TargetArn=device.address, MessageStructure="json",
                          Message=_push_message(title, body, report_id))
    except Exception:  # noqa: BLE001 - a disabled endpoint must not undo the staff's change
        log.warning("push to a report contact failed", extra={"report_id": report_id})
        return False
    return True


def _sms(phone: str, text: str) -> bool:
    settings = get_settings()
    try:
        get_sns().publish(PhoneNumber=phone, Message=transliterate(text)[:300], MessageAttributes={
            "AWS.SNS.SMS.SMSType": {"DataType": "String", "StringValue": "Transactional"},
            "AWS.SNS.SMS.SenderID": {"DataType": "String", "StringValue": settings.sms_sender_id}})
    except Exception:  # noqa: BLE001
        log.warning("SMS to a report contact failed", extra={"report_id": "?"})
        return False
    return True


def _tell_reporter(report: ReportModel, title: str, body: str) -> str | None:
    """Push to the reporter's device, else SMS to a confirmed number; the channel used."""
    if report.contact_device:
        return "push" if _push(report.contact_device, title, body, report.id) else None
    if report.contact_phone:
        link = f"{get_settings().site_url}/report.html?id={report.id}"
        sender = config.get("sender_name") or "UM"
        short = body if len(body) <= 110 else body[:107] + "..."
        return "sms" if _sms(report.contact_phone, f"{sender}: {title}. {short} {link}") else None
    return None


def _status_texts(report: ReportModel) -> tuple[str, str]:
    title = f"Zgłoszenie {report.id}: {STATUS_PL[report.status]}"
    return title, report.public_note or category_name(report.category)


def _tell_followers(report: ReportModel) -> int:
    title, body = _status_texts(report)
    return sum(1 for d in report.followers or [] if d != report.contact_device
               and _push(d, title, body, report.id))


# ---- staff -----------------------------------------------------------------------------------

def staff_update(report_id: Any, data: Any, staff: str) -> dict[str, Any]:
    """Status with a public note, duplicate link, hidden flag, department; all in the audit log."""
    report = _load(report_id)
    if not isinstance(data, dict):
        raise Invalid("The body must be a JSON object.", {"body": "must be an object"})
    known = {"status", "public_note", "duplicate_of", "hidden", "department", "moderation"}
    if not known & set(data):
        raise Invalid(f"Send at least one of: {', '.join(sorted(known))}.",
                      {"body": "nothing to change"})
    errors: dict[str, str] = {}
    status = data.get("status", report.status)
    if status not in STATUSES:
        errors["status"] = f"one of: {', '.join(STATUSES)}"
    note: str | None = report.public_note
    if "public_note" in data:
        try:
            note = plain_text(data["public_note"], "public_note", MAX_TEXT, required=False)
        except Invalid as exc:
            errors.update(exc.fields)
    hidden = data.get("hidden", report.hidden)
    if not isinstance(hidden, bool):
        errors["hidden"] = "true or false"
    department = data.get("department", report.department)
    if not isinstance(department, str) or department not in departments():
        errors["department"] = f"one of: {', '.join(sorted(departments()))}"
    duplicate_of = data.get("duplicate_of")
    if status == "duplicate" and status != report.status:
        if not isinstance(duplicate_of, str) or duplicate_of == report.id:
            errors["duplicate_of"] = "the id of the original report"
        else:
            try:
                _load(duplicate_of)
            except NotFound:
                errors["duplicate_of"] = "no such report"
    elif duplicate_of is not None:
        errors["duplicate_of"] = "only with status duplicate"
    moderation = data.get("moderation", report.moderation)
    if "moderation" in data and moderation not in ("approved", "rejected"):
        errors["moderation"] = "approved or rejected"
    if errors:
        raise Invalid("Some fields are invalid.", errors)
    moderated = moderation != report.moderation
    if moderated and report.moderation != "pending":
        raise Conflict("This report is not waiting for moderation.")
    if moderated and moderation == "rejected" and "status" not in data:
        status = "rejected"  # a refused report leaves the open inbox (and is purged in time)
    changed_status = status != report.status
    if changed_status and status not in TRANSITIONS[report.status]:
        raise Conflict(f"A report that is {report.status} cannot become {status}.")
    ts = now_iso()
    if changed_status:
        report.status = status
        report.closed_at = ts if status in CLOSED else None
        report.duplicate_of = duplicate_of if status == "duplicate" else None
    note_changed = note != report.public_note
    report.public_note = note
    hidden_changed, dept_changed = hidden != report.hidden, department != report.department
    report.hidden, report.department, report.updated_at = hidden, department, ts
    report.moderation = moderation
    report.save()
    if moderated and moderation == "approved" and report.contact_device:
        DeviceStandingModel(f"standing#{report.contact_device}").update(
            actions=[DeviceStandingModel.approved.add(1)])
    if changed_status or note_changed:
        _event(report.id, "status", "staff", note or "", status=report.status, staff=staff,
               public=True)
    details: dict[str, Any] = {}
    if changed_status:
        details["status"] = report.status
        if report.duplicate_of:
            details["duplicate_of"] = report.duplicate_of
    if note_changed:
        details["public_note"] = note
    if hidden_changed:
        details["hidden"] = hidden
    if dept_changed:
        details["department"] = department
    if moderated:
        details["moderation"] = moderation
    if details:
        audit.record(staff, "report.update", report.id, details)
    if changed_status:
        title, body = _status_texts(report)
        _tell_reporter(report, title, body)
        _tell_followers(report)
    return staff_view(report)


def staff_message(report_id: Any, data: Any, staff: str) -> dict[str, Any]:
    report = _load(report_id)
    if not isinstance(data, dict):
        raise Invalid("The body must be a JSON object.", {"body": "must be an object"})
    text = plain_text(data.get("text"), "text", MAX_TEXT)
    assert text is not None
    event = _event(report.id, "message", "staff", text, staff=staff)
    audit.record(staff, "report.message", report.id, {"to": "reporter", "length": len(text)})
    event["delivered_by"] = _tell_reporter(report, f"Urząd odpowiada na zgłoszenie {report.id}",
                                           text)
    return event


def block_device(device_id: Any, data: Any, staff: str) -> dict[str, Any]:
    if not isinstance(device_id, str) or not 1 <= len(device_id) <= 64:
        raise NotFound("No such device.")
    reason = ""
    if not isinstance(data, dict):  # an empty body arrives as {}; JSON null or a list is wrong
        raise Invalid("The body must be a JSON object.", {"body": "must be an object"})
    if isinstance(data, dict) and data.get("reason") is not None:
        reason = plain_text(data.get("reason"), "reason", 500) or ""
    BlockModel(key=f"dev#{device_id}", by=staff, reason=reason, at=now_iso()).save()
    audit.record(staff, "report.block_device", device_id, {"reason": reason})
    return {"device_id": device_id, "blocked": True}


def unblock_device(device_id: Any, staff: str) -> None:
    if not isinstance(device_id, str) or not is_blocked(device_id):
        raise NotFound("This device is not blocked.")
    BlockModel(key=f"dev#{device_id}").delete()
    audit.record(staff, "report.unblock_device", device_id, {})


# ---- the reporter and followers -------------------------------------------------------------

def reporter_message(report_id: Any, secret: str | None, data: Any) -> dict[str, Any]:
    report = _load(report_id)
    _check_secret(report, secret)
    if not isinstance(data, dict):
        raise Invalid("The body must be a JSON object.", {"body": "must be an object"})
    text = plain_text(data.get("text"), "text", MAX_TEXT)
    assert text is not None
    limits.hit(f"report#{report.id}#msg", MESSAGES_PER_HOUR, 3600,
               "Too many messages on this report; try again later.")
    event = _event(report.id, "message", "reporter", text)
    audit.record("reporter", "report.message", report.id, {"to": "staff", "length": len(text)})
    return event


def _can_reopen(report: ReportModel) -> bool:
    if report.status != "resolved" or not report.closed_at:
        return False
    return now() - parse_iso(report.closed_at) <= timedelta(days=REOPEN_DAYS)


def reopen(report_id: Any, secret: str | None, data: Any) -> dict[str, Any]:
    """The reporter disagrees with `resolved` (within 14 days): the report is new again."""
    report = _load(report_id)
    _check_secret(report, secret)
    if not _can_reopen(report):
        raise Conflict(f"Only a report resolved in the last {REOPEN_DAYS} days can be reopened.")
    text = ""
    if isinstance(data, dict) and data.get("text") is not None:
        text = plain_text(data.get("text"), "text", MAX_TEXT) or ""
    report.status, report.closed_at, report.updated_at = "new", None, now_iso()
    report.save()
    _event(report.id, "status", "reporter", text, status="new", public=True)
    audit.record("reporter", "report.reopen", report.id, {})
    return reporter_view(report)


def follow(report_id: Any, data: Any) -> dict[str, Any]:
    """A registered device follows a public report and is told of its status changes."""
    report = get_public(report_id)
    if not isinstance(data, dict):
        raise Invalid("The body must be a JSON object.", {"body": "must be an object"})
    device_id = data.get("device_id")
    if not isinstance(device_id, str):
        raise Invalid("device_id is required.", {"device_id": "a registered device id"})
    subs.get_device(device_id, data.get("device_secret"))  # 404 / 403
    followers = list(report.followers or [])
    if device_id not in followers:
        if len(followers) >= MAX_FOLLOWERS:
            raise Conflict("This report has as many followers as it can take.")
        report.update(actions=[ReportModel.followers.set(
            ReportModel.followers.append([str(device_id)]))])
        followers.append(str(device_id))
    return {"id": report.id, "following": True, "followers": len(followers)}


# ---- retention --------------------------------------------------------------------------------

def _months_ago(when: datetime, months: int) -> datetime:
    year, month = divmod(when.year * 12 + (when.month - 1) - months, 12)
    month += 1
    day = min(when.day, [31, 29 if year % 4 == 0 and (year % 100 or year % 400 == 0) else 28,
                         31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1])
    return when.replace(year=year, month=month, day=day)


def _erase_photos(report: ReportModel) -> None:
    s3, bucket = get_s3(), photo_bucket()
    for p in report.photos or []:
        for key in (p.get("display"), p.get("thumb")):
            if isinstance(key, str) and key.startswith("photos/"):
                s3.delete_object(Bucket=bucket, Key=key)


def purge_report(report: ReportModel, ts: str) -> None:
    """Remove a closed report's personal data; keep what statistics need (category, place,
    status, department, dates, public notes) and the description with contacts masked."""
    _erase_photos(report)
    for e in list(ReportEventModel.query(report.id)):
        if e.kind == "message" and not e.public:
            e.delete()  # the private thread between the reporter and staff (X-Secret only)
        elif e.author == "reporter" and e.text:
            e.update(actions=[ReportEventModel.text.set("")])  # e.g. the reporter's reopen text
    report.update(actions=[
        ReportModel.contact_device.remove(), ReportModel.contact_phone.remove(),
        ReportModel.pending_phone.remove(), ReportModel.media_url.remove(),
        ReportModel.followers.set([]), ReportModel.photos.set([]),
        ReportModel.description.set(mask_contacts(report.description)),
        # nobody holds the reporter's key to this report any more
        ReportModel.secret_hash.set(_hash(secrets.token_urlsafe(24))),
        ReportModel.purged_at.set(ts)])


def purge_closed_reports(now: datetime | None = None) -> int:
    """The daily retention job: reports closed more than `report_retention_months` ago (city
    setting, default 12) lose their personal data. Reads the by-status index (a report is created
    before it is closed, so created_at bounds the query); returns how many reports were purged."""
    when = now or _clock_now()
    months = config.get("report_retention_months")
    if isinstance(months, bool) or not isinstance(months, int) or months < 1:
        months = 12
    cutoff = _months_ago(when, months)
    # times are stored with the Warsaw offset (+01:00/+02:00), so strings compare within an
    # hour: the index bound gets a day of slack, the decision parses closed_at
    bound = iso(cutoff + timedelta(days=1))
    ts = iso(when)
    purged: list[str] = []
    for status in CLOSED:
        for r in ReportModel.by_status.query(status, range_key_condition=ReportModel.created_at
                                             <= bound):
            if r.purged_at or not r.closed_at or parse_iso(r.closed_at) > cutoff:
                continue
            purge_report(r, ts)
            purged.append(r.id)
    if purged:
        audit.record("retention", "report.purge", f"{len(purged)} reports",
                     {"months": months, "before": iso(cutoff), "ids": purged[:200]})
    log.info("retention purge", extra={"purged": len(purged), "before": iso(cutoff)})
    return len(purged)


# ---- Open311 API keys (stored as sha256 hashes in the settings table) --------------------------

OPEN311_KEY = "open311-key#"
MAX_OPEN311_KEYS = 50


def _key_items() -> list[SettingModel]:
    return list(SettingModel.scan(SettingModel.key.startswith(OPEN311_KEY)))


def create_open311_key(data: Any, staff: str) -> dict[str, Any]:
    """A new key for an Open311 client: `{id, name, key}`; the key is shown only here."""
    if not isinstance(data, dict):
        raise Invalid("The body must be a JSON object.", {"body": "must be an object"})
    name = plain_text(data.get("name"), "name", 100)
    if len(_key_items()) >= MAX_OPEN311_KEYS:
        raise Conflict(f"There are already {MAX_OPEN311_KEYS} keys; delete unused ones first.")
    key = secrets.token_urlsafe(32)
    key_id = new_id()
    entry = {"id": key_id, "name": name, "created_at": now_iso(), "created_by": staff}
    SettingModel(key=OPEN311_KEY + _hash(key), value=entry).save()
    audit.record(staff, "open311_key.create", key_id, {"name": name})
    return {**entry, "key": key}


def list_open311_keys() -> list[dict[str, Any]]:
    items = [dict(i.value) for i in _key_items() if isinstance(i.value, dict)]
    return sorted(items, key=lambda e: (str(e.get("created_at")), str(e.get("id"))))


def delete_open311_key(key_id: Any, staff: str) -> None:
    for item in _key_items():
        if isinstance(item.value, dict) and item.value.get("id") == key_id:
            item.delete()
            audit.record(staff, "open311_key.delete", str(key_id),
                         {"name": item.value.get("name")})
            return
    raise NotFound("No such key.")


def open311_key_valid(key: Any) -> bool:
    if not isinstance(key, str) or not 10 <= len(key) <= 200:
        return False
    try:
        SettingModel.get(OPEN311_KEY + _hash(key), consistent_read=True)
    except SettingModel.DoesNotExist:
        return False
    return True


def token_state(token: Any) -> str | None:
    """Open311 tokens: "public" for a public request, "pending" while moderation holds it."""
    try:
        report = _load(token)
    except NotFound:
        return None
    if _visible(report):
        return "public"
    if report.moderation == "pending" and not report.hidden and not is_private(report.category):
        return "pending"
    return None
