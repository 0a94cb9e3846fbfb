"""The OpenAPI 3 description, built from the route table so it always matches the routes."""
from __future__ import annotations

import re
from typing import Any

from chalice import Blueprint

from .http import api

bp = Blueprint(__name__)
ERROR = {"$ref": "#/components/schemas/Error"}
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
}


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


def build_spec(routes: dict[str, dict[str, Any]]) -> dict[str, Any]:
    paths: dict[str, Any] = {}
    for path, methods in sorted(routes.items()):
        item: dict[str, Any] = {}
        for method, entry in sorted(methods.items()):
            m = method.lower()
            doc = (entry.view_function.__doc__ or entry.view_name).strip().splitlines()[0]
            op: dict[str, Any] = {
                "operationId": f"{entry.view_name}_{m}", "summary": doc,
                "responses": {"default": {"description": "error",
                                          "content": {"application/json": {"schema": ERROR}}},
                              "200": {"description": "OK"}}}
            params = [{"name": n, "in": "path", "required": True, "schema": {"type": "string"}}
                      for n in re.findall(r"{(\w+)}", path)]
            if path.startswith("/v1/admin"):
                op["security"] = [{"cognito": []}]
            if params:
                op["parameters"] = params
            if m in ("post", "put", "patch"):
                schema = _BODIES.get((path, m))
                op["requestBody"] = {"required": schema is not None, "content": {
                    "application/json": {"schema": {"$ref": f"#/components/schemas/{schema}"}
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
