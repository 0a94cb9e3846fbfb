"""Alert lifecycle: draft → (pending approval) → scheduled/published → updated → cancelled/expired."""
from __future__ import annotations

import base64
import json
import re
from datetime import datetime, timedelta
from typing import Any

from pynamodb.exceptions import PutError

from ..city import CATEGORIES, LANGUAGES, district_ids
from ..errors import Conflict, Forbidden, Invalid, NotFound
from ..geo import districts_touched, validate_area
from ..models.alerts import AlertModel, AlertVersionModel
from . import audit, clock, config
from .clock import iso, new_id, parse_iso

SEVERITIES = ("extreme", "severe", "moderate", "minor", "unknown")
URGENCIES = ("immediate", "expected", "future", "past", "unknown")
CERTAINTIES = ("observed", "likely", "possible", "unlikely", "unknown")
CAP_STATUSES = ("actual", "exercise", "test")
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
SEVERITY_RANK = {s: i for i, s in enumerate(SEVERITIES)}
TITLE_MAX, BODY_MAX, INSTRUCTION_MAX = 160, 4000, 1000
ACTIVE = ("published",)


def now() -> datetime:
    """The current time, through the clock module (tests and the tick move it)."""
    return clock.now()


def now_iso() -> str:
    return clock.now_iso()


# ---- validation -------------------------------------------------------------------------------

def _texts(data: dict[str, Any], field: str, max_len: int, required: bool,
           errors: dict[str, str]) -> dict[str, str]:
    raw = data.get(field)
    if raw is None:
        raw = {}
    if isinstance(raw, str):
        raw = {"pl": raw}
    if not isinstance(raw, dict):
        errors[field] = "must be an object of texts per language: {\"pl\": …, \"en\": …, \"uk\": …}"
        return {}
    out: dict[str, str] = {}
    for lang, text in raw.items():
        if lang not in LANGUAGES:
            errors[f"{field}.{lang}"] = f"unknown language; use one of {', '.join(LANGUAGES)}"
        elif text is None or text == "":
            continue
        elif not isinstance(text, str):
            errors[f"{field}.{lang}"] = "must be a string"
        elif _CONTROL.search(text):
            errors[f"{field}.{lang}"] = "contains control characters"
        elif len(text.strip()) > max_len:
            errors[f"{field}.{lang}"] = f"at most {max_len} characters"
        elif text.strip():
            out[lang] = text.strip()
    if required and not out.get("pl") and f"{field}.pl" not in errors:
        errors[f"{field}.pl"] = "the Polish text is required"
    return out


def _enum(data: dict[str, Any], field: str, allowed: tuple[str, ...], default: str | None,
          errors: dict[str, str]) -> str:
    value = data.get(field, default)
    if value is None:
        errors[field] = "is required"
        return ""
    if not isinstance(value, str) or value not in allowed:
        errors[field] = f"must be one of: {', '.join(allowed)}"
        return ""
    return value


def _opt_str(data: dict[str, Any], field: str, max_len: int, errors: dict[str, str]) -> str | None:
    value = data.get(field)
    if value is None or value == "":
        return None
    if not isinstance(value, str) or len(value) > max_len:
        errors[field] = f"must be a string of at most {max_len} characters"
        return None
    return value


def validate_input(data: Any, *, base: dict[str, Any] | None = None) -> dict[str, Any]:
    """Check every field of an alert body; raise Invalid naming each bad field."""
    if not isinstance(data, dict):
        raise Invalid("The body must be a JSON object.", {"body": "must be an object"})
    if base:
        data = {**base, **data}
    errors: dict[str, str] = {}
    out: dict[str, Any] = {
        "category": _enum(data, "category", CATEGORIES, None, errors),
        "severity": _enum(data, "severity", SEVERITIES, None, errors),
        "urgency": _enum(data, "urgency", URGENCIES, "unknown", errors),
        "certainty": _enum(data, "certainty", CERTAINTIES, "unknown", errors),
        "cap_status": _enum(data, "cap_status", CAP_STATUSES, "actual", errors),
        "title": _texts(data, "title", TITLE_MAX, True, errors),
        "body": _texts(data, "body", BODY_MAX, True, errors),
        "instruction": _texts(data, "instruction", INSTRUCTION_MAX, False, errors),
        "link": _opt_str(data, "link", 500, errors),
        "contact": _opt_str(data, "contact", 200, errors),
    }
    if out["link"] and not out["link"].startswith(("https://", "http://")):
        errors["link"] = "must be an http(s) URL"
    districts = data.get("districts", [])
    if not isinstance(districts, list) or not all(isinstance(d, str) for d in districts):
        errors["districts"] = "must be a list of district ids ([] = the whole city)"
        districts = []
    unknown = [d for d in districts if d not in district_ids()]
    if unknown:
        errors["districts"] = f"unknown district: {', '.join(unknown[:5])}"
    out["districts"] = sorted(set(districts))
    out["area"] = None
    if data.get("area") is not None:
        area, err = validate_area(data["area"])
        if err:
            errors["area"] = err
        else:
            out["area"] = area
            out["districts"] = sorted(set(out["districts"]) | set(districts_touched(area)))
    starts = data.get("starts_at")
    expires = data.get("expires_at")
    s_dt = e_dt = None
    if starts is not None:
        try:
            s_dt = parse_iso(starts)
            out["starts_at"] = iso(s_dt)
        except (ValueError, TypeError):
            errors["starts_at"] = "must be an ISO 8601 time with an offset"
    else:
        out["starts_at"] = None
    if expires is None:
        errors["expires_at"] = "is required"
    else:
        try:
            e_dt = parse_iso(expires)
            out["expires_at"] = iso(e_dt)
        except (ValueError, TypeError):
            errors["expires_at"] = "must be an ISO 8601 time with an offset"
    if e_dt and s_dt and e_dt <= s_dt:
        errors["expires_at"] = "must be after starts_at"
    elif e_dt and not base and e_dt <= now():
        errors["expires_at"] = "must be in the future"
    if errors:
        raise Invalid("Some fields are invalid.", errors)
    return out


# ---- views ------------------------------------------------------------------------------------

def _pick(texts: dict[str, str], lang: str) -> str:
    return texts.get(lang) or texts.get("pl") or ""


def effective_status(a: AlertModel, at: str | None = None) -> str:
    if a.status == "published" and parse_iso(a.expires_at) <= (parse_iso(at) if at else now()):
        return "expired"
    return a.status


def to_dict(a: AlertModel) -> dict[str, Any]:
    """The full (staff) view of an alert, all languages."""
    return {
        "id": a.id, "version": int(a.version), "status": effective_status(a),
        "category": a.category, "severity": a.severity, "urgency": a.urgency,
        "certainty": a.certainty, "cap_status": a.cap_status, "msg_type": a.msg_type,
        "title": dict(a.title), "body": dict(a.body), "instruction": dict(a.instruction or {}),
        "districts": list(a.districts or []), "area": a.area,
        "starts_at": a.starts_at, "expires_at": a.expires_at, "created_at": a.created_at,
        "updated_at": a.updated_at, "published_at": a.published_at, "sent_at": a.sent_at,
        "created_by": a.created_by, "approved_by": a.approved_by, "link": a.link,
        "contact": a.contact, "source": a.source, "references": a.references or [],
    }


def public_view(full: dict[str, Any], lang: str) -> dict[str, Any]:
    lang = lang if lang in LANGUAGES else "pl"
    return {
        "id": full["id"], "version": full["version"], "category": full["category"],
        "severity": full["severity"], "urgency": full["urgency"], "certainty": full["certainty"],
        "status": full["status"], "msg_type": full["msg_type"],
        "exercise": full["cap_status"] != "actual",
        "title": _pick(full["title"], lang), "body": _pick(full["body"], lang),
        "instruction": _pick(full["instruction"], lang) or None,
        "lang": lang if full["title"].get(lang) else "pl",
        "languages": sorted(full["title"]),
        "districts": full["districts"], "area": full["area"],
        "starts_at": full["starts_at"] or full["published_at"], "expires_at": full["expires_at"],
        "updated_at": full["updated_at"], "link": full["link"], "contact": full["contact"],
        "source": full["source"], "url": f"/alert.html?id={full['id']}",
    }


# ---- store helpers ----------------------------------------------------------------------------

def get_model(alert_id: str) -> AlertModel:
    if not isinstance(alert_id, str) or not alert_id or len(alert_id) > 64:
        raise NotFound("No such alert.")
    try:
        return AlertModel.get(alert_id)
    except AlertModel.DoesNotExist:
        raise NotFound("No such alert.") from None


def get(alert_id: str) -> dict[str, Any]:
    return to_dict(get_model(alert_id))


def _apply(a: AlertModel, fields: dict[str, Any]) -> None:
    for key, value in fields.items():
        setattr(a, key, value)


class _Raced(Exception):
    """Another request changed the alert between our read and our write."""


def _save_if(a: AlertModel, status: str, version: int) -> None:
    """Optimistic write: only if nobody else moved the alert on since we read it."""
    try:
        a.save(condition=(AlertModel.status == status) & (AlertModel.version == version))
    except PutError as exc:
        if getattr(exc, "cause_response_code", "") == "ConditionalCheckFailedException":
            raise _Raced() from None
        raise


def _audience(a: AlertModel) -> list[str]:
    """Districts a version goes to: its own plus every earlier version's, so residents who got
    the alert also get its update or cancellation ([] = the whole city)."""
    own = list(a.districts or [])
    if int(a.version) <= 1:
        return sorted(own)
    try:
        prev = AlertVersionModel.get(a.id, int(a.version) - 1).snapshot
    except AlertVersionModel.DoesNotExist:
        return sorted(own)
    before = list(prev.get("audience", prev.get("districts")) or [])
    if not before or not own:
        return []
    return sorted(set(before) | set(own))


def _snapshot(a: AlertModel) -> None:
    """Keep every version: write it once, never overwrite."""
    snap = {**to_dict(a), "audience": _audience(a)}
    try:
        AlertVersionModel(alert_id=a.id, version=int(a.version), snapshot=snap,
                          created_at=now_iso()).save(
            condition=AlertVersionModel.version.does_not_exist())
    except PutError as exc:
        if getattr(exc, "cause_response_code", "") != "ConditionalCheckFailedException":
            raise
        # already written by an earlier attempt of the same step


def ensure_snapshot(a: AlertModel) -> None:
    """Repair after a crash between the state change and the version snapshot."""
    try:
        AlertVersionModel.get(a.id, int(a.version))
    except AlertVersionModel.DoesNotExist:
        _snapshot(a)


def versions(alert_id: str) -> list[dict[str, Any]]:
    get_model(alert_id)
    return [dict(v.snapshot) for v in AlertVersionModel.query(alert_id)]


# ---- lifecycle --------------------------------------------------------------------------------

def create_draft(data: Any, actor: str, *, source: str = "manual",
                 external_id: str | None = None, alert_id: str | None = None) -> dict[str, Any]:
    """A new draft. With `alert_id` (an importer that reserved the id) creating is idempotent:
    the existing alert is returned instead of a second one."""
    fields = validate_input(data)
    ts = now_iso()
    a = AlertModel(id=alert_id or new_id(), status="draft", version=0, created_at=ts,
                   updated_at=ts, created_by=actor, source=source, external_id=external_id,
                   msg_type="alert")
    _apply(a, fields)
    try:
        a.save(condition=AlertModel.id.does_not_exist())
    except PutError as exc:
        if alert_id and getattr(exc, "cause_response_code", "") == "ConditionalCheckFailedException":
            return to_dict(get_model(alert_id))
        raise
    audit.record(actor, "alert.create", a.id, {"category": a.category, "source": source})
    return to_dict(a)


def edit_draft(alert_id: str, data: Any, actor: str) -> dict[str, Any]:
    a = get_model(alert_id)
    if a.status not in ("draft", "pending_approval"):
        raise Conflict(f"Only drafts can be edited; this alert is {effective_status(a)}. "
                       "Use update for a published alert.")
    fields = validate_input(data, base=_editable(a))
    before = a.status
    _apply(a, fields)
    a.status, a.approved_by = "draft", None  # an edit needs a fresh approval
    a.updated_at = now_iso()
    try:
        _save_if(a, before, int(a.version))
    except _Raced:
        raise Conflict("The alert changed meanwhile; reload it and edit again.") from None
    audit.record(actor, "alert.edit", a.id)
    return to_dict(a)


def _editable(a: AlertModel) -> dict[str, Any]:
    d = to_dict(a)
    return {k: d[k] for k in ("category", "severity", "urgency", "certainty", "cap_status", "title",
                              "body", "instruction", "districts", "area", "starts_at",
                              "expires_at", "link", "contact")}


def _needs_approval(category: str) -> bool:
    return category in (config.get("approval_categories") or [])


def _submitter(a: AlertModel) -> str | None:
    for step in reversed(a.history or []):
        if step.get("do") == "submit":
            return str(step.get("by"))
    return None


def _override(reason: Any) -> str | None:
    if reason is None:
        return None
    if not isinstance(reason, str) or len(reason.strip()) < 10:
        raise Invalid("An override needs a written reason.",
                      {"override_reason": "explain in at least 10 characters"})
    return reason.strip()[:1000]


def publish(alert_id: str, actor: str, *, override_reason: str | None = None,
            enqueue: Any = None) -> dict[str, Any]:
    """Publish a draft now, or schedule it for starts_at. Publishing twice answers the same.

    When the city requires approval for the category, the first publish submits the alert and a
    second staff member (neither its author nor its submitter) publishes it by approving; a
    publisher may skip that with a written override reason, which the audit log keeps.
    """
    a = get_model(alert_id)
    status = effective_status(a)
    if status in ("published", "scheduled"):
        return to_dict(a)  # idempotent: no second send
    if status in ("cancelled", "expired"):
        raise Conflict(f"This alert is {status} and cannot be published.")
    reason = _override(override_reason)
    if parse_iso(a.expires_at) <= now():
        raise Conflict("This alert has already expired; change expires_at first.")
    before, version = a.status, int(a.version)
    ts = now()
    if (_needs_approval(a.category) or status == "pending_approval") and reason is None:
        if status == "draft":
            a.status, a.updated_at = "pending_approval", iso(ts)
            a.history = [*(a.history or []), {"at": a.updated_at, "by": actor, "do": "submit"}]
            try:
                _save_if(a, before, version)
            except _Raced:
                return get(alert_id)
            audit.record(actor, "alert.submit_for_approval", a.id)
            return to_dict(a)
        if actor in (a.created_by, _submitter(a)):
            raise Conflict("This alert waits for another staff member's approval.")
        a.approved_by = actor
    if a.starts_at and parse_iso(a.starts_at) > ts + timedelta(seconds=30):
        a.status = "scheduled"
    else:
        _go_live(a)
    a.published_at, a.updated_at = iso(ts), iso(ts)
    step = {"at": iso(ts), "by": actor, "do": a.status}
    if reason:
        step["override_reason"] = reason
    a.history = [*(a.history or []), step]
    try:
        _save_if(a, before, version)
    except _Raced:
        return get(alert_id)  # a concurrent publish won; same answer, its send only
    # the durable steps first: a failing audit write must not strand a published alert unsent
    if a.status == "published":
        _snapshot(a)
        _enqueue(a, enqueue)
    audit.record(actor, "alert.publish", a.id, {"status": a.status, "override_reason": reason,
                                               "approved_by": a.approved_by,
                                               "version": int(a.version)})
    return to_dict(a)


def _go_live(a: AlertModel) -> None:
    a.status = "published"
    a.version = int(a.version or 0) + 1
    a.msg_type = "alert"
    a.sent_at = now_iso()


def _enqueue(a: AlertModel, enqueue: Any) -> None:
    from .fanout import request_fanout

    (enqueue or request_fanout)(a.id, int(a.version))


def approve(alert_id: str, actor: str, enqueue: Any = None) -> dict[str, Any]:
    a = get_model(alert_id)
    if a.status != "pending_approval":
        raise Conflict(f"Only alerts waiting for approval can be approved; this one is {a.status}.")
    if actor in (a.created_by, _submitter(a)):
        raise Forbidden("A second staff member must approve this alert.")
    return publish(alert_id, actor, enqueue=enqueue)


def _future_expiry(data: Any, fields: dict[str, Any]) -> None:
    if isinstance(data, dict) and data.get("expires_at") is not None \
            and parse_iso(fields["expires_at"]) <= now():
        raise Invalid("Some fields are invalid.",
                      {"expires_at": "must be in the future (cancel the alert to end it now)"})


def update(alert_id: str, data: Any, actor: str, enqueue: Any = None) -> dict[str, Any]:
    """A new version of a published alert; residents who got it get the update."""
    a = get_model(alert_id)
    status = effective_status(a)
    if status not in ("published", "scheduled"):
        raise Conflict(f"Only published alerts can be updated; this one is {status}.")
    fields = validate_input(data, base=_editable(a))
    _future_expiry(data, fields)
    before, version = a.status, int(a.version)
    if status == "scheduled":
        _apply(a, fields)
        a.updated_at = now_iso()
        try:
            _save_if(a, before, version)
        except _Raced:
            raise Conflict("The alert changed meanwhile; reload it and try again.") from None
        audit.record(actor, "alert.update_scheduled", a.id)
        return to_dict(a)
    if fields["category"] != a.category:
        raise Invalid("The category of a published alert cannot change.",
                      {"category": "cancel and publish a new alert instead"})
    refs = [*(a.references or []), {"identifier": f"{a.id}-v{version}", "sent": a.sent_at}]
    _apply(a, fields)
    a.version = version + 1
    a.msg_type, a.references, a.sent_at = "update", refs, now_iso()
    a.updated_at = a.sent_at
    a.history = [*(a.history or []), {"at": a.sent_at, "by": actor, "do": "update"}]
    try:
        _save_if(a, before, version)
    except _Raced:
        raise Conflict("The alert changed meanwhile; reload it and try again.") from None
    _snapshot(a)
    _enqueue(a, enqueue)
    audit.record(actor, "alert.update", a.id, {"version": int(a.version)})
    return to_dict(a)


def cancel(alert_id: str, actor: str, data: Any = None, enqueue: Any = None) -> dict[str, Any]:
    """Cancel (all-clear). Residents who got it are told; an unsent alert is simply withdrawn."""
    a = get_model(alert_id)
    status = effective_status(a)
    if status == "cancelled":
        return to_dict(a)
    if status == "expired":
        raise Conflict("This alert has already expired.")
    note = data.get("body") if isinstance(data, dict) else None
    if note is not None:
        errors: dict[str, str] = {}
        texts = _texts({"body": note}, "body", BODY_MAX, False, errors)
        if errors:
            raise Invalid("Some fields are invalid.", errors)
    before, version = a.status, int(a.version)
    was_sent = status == "published"
    if was_sent:
        refs = [*(a.references or []), {"identifier": f"{a.id}-v{version}", "sent": a.sent_at}]
        a.version = version + 1
        a.msg_type, a.references, a.sent_at = "cancel", refs, now_iso()
        if note is not None and texts.get("pl"):
            a.body = texts
    a.status, a.updated_at = "cancelled", now_iso()
    a.history = [*(a.history or []), {"at": a.updated_at, "by": actor, "do": "cancel"}]
    try:
        _save_if(a, before, version)
    except _Raced:
        return cancel(alert_id, actor, data, enqueue)
    if was_sent:
        _snapshot(a)
        _enqueue(a, enqueue)
    audit.record(actor, "alert.cancel", a.id, {"was_sent": was_sent, "version": int(a.version)})
    return to_dict(a)


def tick(enqueue: Any = None) -> dict[str, int]:
    """The schedule: release scheduled alerts due now, expire old ones (without a notification)."""
    ts = now()
    released = expired = 0
    for a in list(AlertModel.by_status.query("scheduled")):
        if not a.starts_at or parse_iso(a.starts_at) > ts:
            continue
        version = int(a.version)
        if parse_iso(a.expires_at) <= ts:  # its whole window passed unsent: nobody is told
            a.status, a.updated_at = "expired", iso(ts)
            try:
                _save_if(a, "scheduled", version)
            except _Raced:
                continue
            audit.record("scheduler", "alert.expire_unsent", a.id)
            expired += 1
            continue
        _go_live(a)
        a.updated_at = iso(ts)
        a.history = [*(a.history or []), {"at": iso(ts), "by": "scheduler", "do": "published"}]
        try:
            _save_if(a, "scheduled", version)
        except _Raced:
            continue  # another tick released it
        _snapshot(a)
        _enqueue(a, enqueue)
        audit.record("scheduler", "alert.publish_scheduled", a.id, {"version": int(a.version)})
        released += 1
    for a in list(AlertModel.by_status.query("published")):
        if parse_iso(a.expires_at) <= ts:
            a.status, a.updated_at = "expired", iso(ts)
            try:
                _save_if(a, "published", int(a.version))
            except _Raced:
                continue
            audit.record("scheduler", "alert.expire", a.id)
            expired += 1
    return {"released": released, "expired": expired}


# ---- reading ----------------------------------------------------------------------------------

def _cursor_encode(offset: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"o": offset}).encode()).decode().rstrip("=")


def _cursor_decode(cursor: str | None) -> int:
    if not cursor:
        return 0
    try:
        pad = "=" * (-len(cursor) % 4)
        value = int(json.loads(base64.urlsafe_b64decode(cursor + pad))["o"])
        if value < 0:
            raise ValueError
        return value
    except (ValueError, KeyError, TypeError, json.JSONDecodeError, UnicodeDecodeError):
        raise Invalid("The cursor is not valid.", {"cursor": "use the value of `next`"}) from None


def list_public(*, category: str | None, district: str | None, lang: str,
                include_expired: bool, cursor: str | None, limit: int) -> dict[str, Any]:
    errors = {}
    if category and category not in CATEGORIES:
        errors["category"] = f"must be one of: {', '.join(CATEGORIES)}"
    if district and district not in district_ids():
        errors["district"] = "unknown district"
    if lang not in LANGUAGES:
        errors["lang"] = f"must be one of: {', '.join(LANGUAGES)}"
    if errors:
        raise Invalid("Some parameters are invalid.", errors)
    offset = _cursor_decode(cursor)
    statuses = ["published"] + (["expired", "cancelled"] if include_expired else [])
    items: list[dict[str, Any]] = []
    horizon = now() - timedelta(days=30)
    for status in statuses:
        for a in AlertModel.by_status.query(status):
            full = to_dict(a)
            if not include_expired and full["status"] != "published":
                continue
            if include_expired and parse_iso(a.updated_at) < horizon:
                continue
            if category and a.category != category:
                continue
            if district and a.districts and district not in a.districts:
                continue
            items.append(full)
    active_first = {"published": 0, "expired": 1, "cancelled": 1}
    # newest first; within the same second (times have second precision) the later id wins:
    # ids begin with the creation time in milliseconds
    items.sort(key=lambda x: (x["updated_at"], x["id"]), reverse=True)
    items.sort(key=lambda x: (active_first.get(x["status"], 2), SEVERITY_RANK[x["severity"]]))
    page = items[offset:offset + limit]
    nxt = _cursor_encode(offset + limit) if offset + limit < len(items) else None
    return {"items": [public_view(i, lang) for i in page], "next": nxt}


def list_admin(status: str | None) -> list[dict[str, Any]]:
    statuses = [status] if status else ["draft", "pending_approval", "scheduled", "published",
                                        "cancelled", "expired"]
    out: list[dict[str, Any]] = []
    for s in statuses:
        out.extend(to_dict(a) for a in AlertModel.by_status.query(s, scan_index_forward=False))
    return out


# ---- preview and test sends -------------------------------------------------------------------

def _validate_preview(data: Any) -> dict[str, Any]:
    """Only what the SMS text and the audience need: category, texts, districts/area, status."""
    if not isinstance(data, dict):
        raise Invalid("The body must be a JSON object.", {"body": "must be an object"})
    errors: dict[str, str] = {}
    out: dict[str, Any] = {
        "category": _enum(data, "category", CATEGORIES, None, errors),
        "cap_status": _enum(data, "cap_status", CAP_STATUSES, "actual", errors),
        "msg_type": _enum(data, "msg_type", ("alert", "update", "cancel"), "alert", errors),
        "title": _texts(data, "title", TITLE_MAX, True, errors),
        "body": _texts(data, "body", BODY_MAX, True, errors),
    }
    districts = data.get("districts", [])
    if not isinstance(districts, list) or not all(isinstance(d, str) for d in districts):
        errors["districts"] = "must be a list of district ids ([] = the whole city)"
        districts = []
    unknown = [d for d in districts if d not in district_ids()]
    if unknown:
        errors["districts"] = f"unknown district: {', '.join(unknown[:5])}"
    out["districts"] = sorted(set(districts))
    if data.get("area") is not None:
        area, err = validate_area(data["area"])
        if err:
            errors["area"] = err
        else:
            out["districts"] = sorted(set(out["districts"]) | set(districts_touched(area)))
    alert_id = data.get("id")
    if alert_id is not None and (not isinstance(alert_id, str) or not 1 <= len(alert_id) <= 64):
        errors["id"] = "must be the alert id (or left out for a new draft)"
    if errors:
        raise Invalid("Some fields are invalid.", errors)
    out["id"] = alert_id or new_id()  # a new id has the length of the real one
    return out


def _reaches(sub_districts: list[str], alert_districts: list[str]) -> bool:
    return not sub_districts or not alert_districts or bool(set(sub_districts) & set(alert_districts))


def audience_counts(category: str, districts: list[str]) -> dict[str, dict[str, int]]:
    """{lang: {"sms": n, "push": n}} of the subscribers an alert would reach (nothing is sent)."""
    from ..models.subscribers import SubscriberModel

    out = {lang: {"sms": 0, "push": 0} for lang in LANGUAGES}
    for s in SubscriberModel.scan(SubscriberModel.categories.contains(category)):
        if not _reaches(list(s.districts or []), districts):
            continue
        channel = "sms" if s.kind == "sms" else "push"
        lang = s.lang if s.lang in out else "pl"
        out[lang][channel] += 1
    return out


def preview(data: Any) -> dict[str, Any]:
    """The SMS each language would get, its encoding and parts, whom it reaches, what it costs."""
    from types import SimpleNamespace

    from ..formats.sms import analyze, cost_estimate
    from .fanout import languages_for, sms_text

    fields = _validate_preview(data)
    alert = SimpleNamespace(**fields)
    counts = audience_counts(fields["category"], fields["districts"])
    price = float(config.get("sms_price_per_part") or 0)
    languages: dict[str, Any] = {}
    for lang, served in languages_for(alert):
        text = sms_text(alert, lang)
        info = analyze(text)
        recipients = {ch: sum(counts[x][ch] for x in served) for ch in ("sms", "push")}
        languages[lang] = {
            "sms": {"text": text, "encoding": info.encoding, "parts": info.parts,
                    "chars": info.chars, "units": info.units},
            "recipients": recipients, "serves": served,
            "cost": {"per_part": price, "total": cost_estimate(info.parts, recipients["sms"], price),
                     "currency": "PLN"},
        }
    pl = languages["pl"]
    return {
        "sms": pl["sms"],
        "recipients": {ch: sum(v["recipients"][ch] for v in languages.values())
                       for ch in ("sms", "push")},
        "cost": {"per_part": price, "currency": "PLN",
                 "total": round(sum(v["cost"]["total"] for v in languages.values()), 2)},
        "max_parts": int(config.get("sms_max_parts") or 1),
        "fits": all(v["sms"]["parts"] <= int(config.get("sms_max_parts") or 1)
                    for v in languages.values()),
        "languages": languages,
    }


def send_test(alert_id: str, actor: str, send_sms: Any,
              send_push: Any = None) -> dict[str, Any]:
    """Send the alert only to the staff's own phones and devices, marked TEST; residents get
    nothing. Devices get the push bodies (GCM, APNS) published to their platform endpoint."""
    from types import SimpleNamespace

    from botocore.exceptions import ClientError

    from . import subscriptions
    from .fanout import build_message, sms_text

    a = get_model(alert_id)
    phones = [p for p in (config.get("staff_test_phones") or []) if isinstance(p, str)]
    device_ids = [d for d in (config.get("staff_test_devices") or []) if isinstance(d, str)]
    if not phones and not device_ids:
        raise Conflict("No staff test phones or devices are set; add them in the settings "
                       "(staff_test_phones, staff_test_devices).")
    full = to_dict(a)
    view = SimpleNamespace(**{**full, "cap_status": "test", "msg_type": "alert"})
    text = sms_text(view, "pl")
    for phone in phones:
        send_sms(phone, text)
    push = send_push or push_direct
    devices, not_reached = 0, []
    for device_id, record in subscriptions.device_endpoints(device_ids).items():
        if record is None:  # deleted since it was named in the settings
            not_reached.append({"device": device_id, "why": "no longer registered"})
            continue
        lang = record.lang if (view.title or {}).get(record.lang) else "pl"
        try:
            push(record.address, build_message(view, lang))
            devices += 1
        except ClientError as exc:  # e.g. EndpointDisabled: the app was removed from the phone
            not_reached.append({"device": device_id,
                                "why": str(exc.response.get("Error", {}).get("Code", "refused"))})
    audit.record(actor, "alert.test_send", a.id, {"phones": len(phones), "devices": devices})
    return {"sent_to": len(phones) + devices, "phones": len(phones), "devices": devices,
            "not_reached": not_reached, "text": text}


def push_direct(endpoint_arn: str, message: str) -> None:
    """One push to one platform endpoint (staff test sends), outside the topics."""
    from ..aws import get_sns_publisher

    get_sns_publisher().publish(TargetArn=endpoint_arn, Message=message,
                                MessageStructure="json")


# ---- CAP 1.2 and the Atom index ---------------------------------------------------------------

def _district_geo() -> dict[str, dict[str, Any]]:
    from ..city import city

    geo: dict[str, dict[str, Any]] = {d["id"]: {"name": d["name"], "polygon": d["polygon"]}
                                      for d in city()["districts"]}
    geo["_city"] = {"name": city()["name"], "polygon": city()["boundary"]}
    return geo


def _cap_sender() -> str:
    from urllib.parse import urlparse

    from ..settings import get_settings

    return urlparse(get_settings().site_url).hostname or "informator"


def public_model(alert_id: str) -> AlertModel:
    """An alert the public may see: one that went out (published, updated, cancelled, expired)."""
    a = get_model(alert_id)
    if a.status in ("draft", "pending_approval", "scheduled") or not a.sent_at:
        raise NotFound("No such alert.")
    return a


def cap_xml(alert_id: str) -> bytes:
    """The current version of an alert as CAP 1.2 (a cancelled one as msgType Cancel)."""
    from ..formats.cap import build_cap
    from ..settings import get_settings

    full = to_dict(public_model(alert_id))
    return build_cap(full, sender=_cap_sender(), web_base_url=get_settings().site_url,
                     district_geo=_district_geo())


def atom_xml() -> bytes:
    """An Atom index of the active CAP alerts (under 900 KB)."""
    from ..formats.cap import build_atom
    from ..settings import get_settings

    settings = get_settings()
    active = [to_dict(a) for a in AlertModel.by_status.query("published")]
    active = [a for a in active if a["status"] == "published"]
    # An empty feed says "now" to the minute, so its ETag holds for a minute.
    updated = max((a["updated_at"] for a in active), key=parse_iso, default=None) \
        or iso(now().replace(second=0, microsecond=0))
    return build_atom(active, feed_url=f"{settings.api_url}/v1/feeds/alerts.atom",
                      api_base_url=settings.api_url, title="Informator Ciechanów: alerty",
                      updated=updated, max_bytes=900_000)
