"""The OpenAPI 3 description, built from the route table so it always matches the routes."""
from __future__ import annotations

import re
from typing import Any

from chalice import Blueprint

from .http import api

bp = Blueprint(__name__)
ERROR = {"$ref": "#/components/schemas/Error"}
OPEN311_ERROR = {"type": "array", "items": {"type": "object", "required": ["code", "description"]}}
_SCHEMAS: dict[str, Any] = {
    "Error": {"type": "object", "required": ["error"], "properties": {"error": {
        "type": "object", "required": ["code", "message"],
        "properties": {"code": {"type": "string"}, "message": {"type": "string"},
                       "fields": {"type": "object", "additionalProperties": {"type": "string"}}}}}},
    "Texts": {"type": "object", "properties": {lang: {"type": "string"} for lang in ("pl", "en", "uk")}},
    "AlertInput": {"type": "object", "required": ["category", "severity", "title", "body",
                                                  "expires_at"], "properties": {
        "category": {"type": "string", "enum": ["water", "electricity", "gas", "heating", "roads",
                                                "events", "weather", "emergency", "other"]},
        "severity": {"type": "string", "enum": ["extreme", "severe", "moderate", "minor",
                                                "unknown"]},
        "urgency": {"type": "string"}, "certainty": {"type": "string"},
        "title": {"$ref": "#/components/schemas/Texts"},
        "body": {"$ref": "#/components/schemas/Texts"},
        "instruction": {"$ref": "#/components/schemas/Texts"},
        "districts": {"type": "array", "items": {"type": "string"}},
        "area": {"type": "object"}, "starts_at": {"type": "string", "format": "date-time"},
        "expires_at": {"type": "string", "format": "date-time"}}},
    "Alert": {"type": "object", "required": ["id", "category", "severity", "status", "title",
                                             "body", "districts", "expires_at", "updated_at"]},
    "AlertPage": {"type": "object", "required": ["items", "next"], "properties": {
        "items": {"type": "array", "items": {"$ref": "#/components/schemas/Alert"}},
        "next": {"type": ["string", "null"]}}},
    "SmsSubscription": {"type": "object", "required": ["phone"], "properties": {
        "phone": {"type": "string"}, "categories": {"type": "array", "items": {"type": "string"}},
        "districts": {"type": "array", "items": {"type": "string"}},
        "lang": {"type": "string", "enum": ["pl", "en", "uk"]}}},
    "Device": {"type": "object", "required": ["platform", "token"], "properties": {
        "platform": {"type": "string", "enum": ["fcm", "apns"]}, "token": {"type": "string"},
        "categories": {"type": "array", "items": {"type": "string"}},
        "districts": {"type": "array", "items": {"type": "string"}},
        "lang": {"type": "string", "enum": ["pl", "en", "uk"]}}},
    "WebPushSubscription": {"type": "object", "required": ["endpoint", "keys"], "properties": {
        "endpoint": {"type": "string", "format": "uri"},
        "keys": {"type": "object", "required": ["p256dh", "auth"], "properties": {
            "p256dh": {"type": "string"}, "auth": {"type": "string"}}},
        "categories": {"type": "array", "items": {"type": "string"}},
        "districts": {"type": "array", "items": {"type": "string"}},
        "lang": {"type": "string", "enum": ["pl", "en", "uk"]}}},
}
_BODIES = {
    ("/v1/web-push", "post"): "WebPushSubscription",
    ("/v1/admin/alerts", "post"): "AlertInput",
    ("/v1/sms-subscriptions", "post"): "SmsSubscription",
    ("/v1/devices", "post"): "Device",
    ("/v1/admin/alerts/preview", "post"): "AlertPreviewInput",
    ("/v1/admin/alerts/{alert_id}", "patch"): "AlertPatch",
    ("/v1/admin/alerts/{alert_id}/update", "post"): "AlertPatch",
    ("/v1/admin/alerts/{alert_id}/publish", "post"): "PublishInput",
    ("/v1/admin/alerts/{alert_id}/cancel", "post"): "CancelInput",
    ("/v1/admin/settings", "put"): "SettingsInput",
}
_SCHEMAS.update({  # subscriptions (issue 4)
    "SmsConfirm": {"type": "object", "required": ["phone", "code"], "properties": {
        "phone": {"type": "string"}, "code": {"type": "string", "pattern": "^[0-9]{6}$"}}},
    "SmsLeave": {"type": "object", "required": ["phone"], "properties": {
        "phone": {"type": "string"}, "purpose": {"type": "string", "enum": ["leave", "export"]}}},
    "SubscriberImport": {"type": "object", "required": ["csv"], "properties": {
        "csv": {"type": "string", "description": "telefon;kategorie;osiedla;jezyk"},
        "dry_run": {"type": "boolean"}, "start": {"type": "integer", "minimum": 0},
        "mapping": {"type": "object", "additionalProperties": {"type": "string"}}}},
})
_BODIES.update({
    ("/v1/sms-subscriptions/confirm", "post"): "SmsConfirm",
    ("/v1/sms-subscriptions/leave", "post"): "SmsLeave",
    ("/v1/admin/sms-subscriptions", "post"): "SmsSubscription",
    ("/v1/admin/subscribers/import", "post"): "SubscriberImport",
})
_SCHEMAS.update({
    "AlertPatch": {"type": "object", "description": "Any AlertInput fields to change."},
    "AlertPreviewInput": {"type": "object", "required": ["category", "title", "body"],
                          "properties": {
        "category": {"type": "string"}, "title": {"$ref": "#/components/schemas/Texts"},
        "body": {"$ref": "#/components/schemas/Texts"},
        "districts": {"type": "array", "items": {"type": "string"}}, "area": {"type": "object"},
        "cap_status": {"type": "string", "enum": ["actual", "exercise", "test"]},
        "msg_type": {"type": "string", "enum": ["alert", "update", "cancel"]},
        "id": {"type": "string", "description": "an existing alert's id, for its exact link"}}},
    "PublishInput": {"type": "object", "properties": {"override_reason": {
        "type": "string", "minLength": 10,
        "description": "skip the second staff member's approval; kept in the audit log"}}},
    "CancelInput": {"type": "object", "properties": {
        "body": {"$ref": "#/components/schemas/Texts"}}},
    "SettingsInput": {"type": "object", "description": "Known setting keys and their new values.",
                      "properties": {
        "sender_name": {"type": "string"}, "sms_max_parts": {"type": "integer", "minimum": 1,
                                                             "maximum": 3},
        "sms_keep_diacritics": {"type": "boolean"}, "sms_price_per_part": {"type": "number"},
        "sms_stop_hint": {"type": "string"},
        "approval_categories": {"type": "array", "items": {"type": "string"}},
        "quiet_hours": {"type": "object"}, "consent_version": {"type": "string"},
        "allowed_countries": {"type": "array", "items": {"type": "string"}},
        "staff_test_phones": {"type": "array", "items": {"type": "string"}},
        "staff_test_devices": {"type": "array", "items": {"type": "string"},
                               "description": "ids of registered devices (POST /v1/devices)"},
        "welcome_sms": {"type": "string"}}, "additionalProperties": False},
})


_SCHEMAS["FeedInput"] = {
    "type": "object", "required": ["adapter", "url"], "properties": {
        "name": {"type": "string"},
        "adapter": {"type": "string", "enum": ["imgw_meteo", "imgw_hydro", "energa", "cap_atom",
                                               "rss", "json"]},
        "url": {"type": "string", "format": "uri", "description": "https only (http locally)"},
        "schedule": {"type": "integer", "minimum": 5, "maximum": 1440, "default": 15,
                     "description": "minutes between runs"},
        "category": {"type": ["string", "null"], "description": "null: the item's own"},
        "districts": {"type": "array", "items": {"type": "string"}, "default": []},
        "auto_publish": {"type": "boolean", "default": False},
        "enabled": {"type": "boolean", "default": True},
        "options": {"type": "object", "description": "adapter options; default_hours: validity "
                                                     "of items without an end time"}}}
_BODIES[("/v1/admin/feeds/{feed_id}", "put")] = "FeedInput"

# resident reports (issue 5)
_SCHEMAS.update({
    "ReportInput": {"type": "object", "required": ["category", "description", "lat", "lon"],
                    "properties": {
        "category": {"type": "string", "description": "a report category id (GET /v1/report-categories)"},
        "description": {"type": "string", "maxLength": 4000},
        "lat": {"type": "number"}, "lon": {"type": "number"},
        "address": {"type": "string", "maxLength": 200},
        "photos": {"type": "integer", "minimum": 0, "maximum": 5},
        "contact": {"type": "object", "description": "{device_id, device_secret} or {phone}",
                    "properties": {"device_id": {"type": "string"},
                                   "device_secret": {"type": "string"},
                                   "phone": {"type": "string"}}}}},
    "ReportCreated": {"type": "object", "required": ["id", "secret", "uploads"], "properties": {
        "id": {"type": "string"}, "secret": {"type": "string"},
        "uploads": {"type": "array", "items": {"type": "object", "required": ["url", "fields"]}}}},
    "ReportPatch": {"type": "object", "properties": {
        "status": {"type": "string", "enum": ["new", "acknowledged", "in_progress", "resolved",
                                              "not_ours", "duplicate", "rejected"]},
        "public_note": {"type": ["string", "null"], "maxLength": 2000},
        "duplicate_of": {"type": "string"}, "hidden": {"type": "boolean"},
        "department": {"type": "string"},
        "moderation": {"type": "string", "enum": ["approved", "rejected"],
                       "description": "decide a report held by the moderation queue"}}},
    "Open311KeyInput": {"type": "object", "required": ["name"], "properties": {
        "name": {"type": "string", "maxLength": 100, "description": "who uses the key"}}},
    "ReportMessage": {"type": "object", "required": ["text"], "properties": {
        "text": {"type": "string", "maxLength": 2000}}},
    "ReportFollow": {"type": "object", "required": ["device_id", "device_secret"], "properties": {
        "device_id": {"type": "string"}, "device_secret": {"type": "string"}}},
    "ReportCode": {"type": "object", "required": ["code"], "properties": {
        "code": {"type": "string", "pattern": "^[0-9]{6}$"}}},
})
_BODIES.update({
    ("/v1/reports", "post"): "ReportInput",
    ("/v1/admin/reports/{report_id}", "patch"): "ReportPatch",
    ("/v1/admin/reports/{report_id}/messages", "post"): "ReportMessage",
    ("/v1/reports/{report_id}/messages", "post"): "ReportMessage",
    ("/v1/reports/{report_id}/follow", "post"): "ReportFollow",
    ("/v1/reports/{report_id}/contact/confirm", "post"): "ReportCode",
    ("/v1/admin/open311-keys", "post"): "Open311KeyInput",
})


def build_spec(routes: dict[str, dict[str, Any]]) -> dict[str, Any]:
    paths: dict[str, Any] = {}
    for path, methods in sorted(routes.items()):
        item: dict[str, Any] = {}
        for method, entry in sorted(methods.items()):
            m = method.lower()
            doc = (entry.view_function.__doc__ or entry.view_name).strip().splitlines()[0]
            op: dict[str, Any] = {
                "operationId": f"{entry.view_name}_{m}", "summary": doc,
                "responses": {"default": {"description": "error", "content": {
                                  "application/json": {"schema": OPEN311_ERROR
                                                       if path.startswith("/open311/")
                                                       else ERROR}}},
                              "2XX": {"description": "success"}}}
            params = [{"name": n, "in": "path", "required": True, "schema": {"type": "string"}}
                      for n in re.findall(r"{(\w+)}", path)]
            if path.startswith("/v1/admin"):
                op["security"] = [{"cognito": []}]
            if params:
                op["parameters"] = params
            if m in ("post", "put", "patch"):
                schema = _BODIES.get((path, m))
                ctype = ("application/x-www-form-urlencoded" if path.startswith("/open311/")
                         else "application/json")
                op["requestBody"] = {"required": schema is not None, "content": {
                    ctype: {"schema": {"$ref": f"#/components/schemas/{schema}"}
                            if schema else {"type": "object"}}}}
            item[m] = op
        paths[path] = item
    return {"openapi": "3.1.0",
            "info": {"title": "Informator API", "version": "1",
                     "description": "The city of Ciechanów's warning and information system."},
            "paths": paths,
            "components": {"schemas": _SCHEMAS, "securitySchemes": {"cognito": {
                "type": "http", "scheme": "bearer", "bearerFormat": "Cognito ID token"}}}}


@bp.route("/v1/openapi.json", methods=["GET"], cors=True)
@api
def openapi() -> dict[str, Any]:
    """The OpenAPI 3 description of this API."""
    return build_spec(bp.current_app.routes)
