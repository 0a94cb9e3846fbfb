"""HTTP plumbing shared by the blueprints: body parsing, errors, caching headers."""
from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable
from typing import Any

from chalice import Response
from chalice.app import ChaliceUnhandledError, Request

from ..errors import BadRequest, DomainError, Invalid, PayloadTooLarge, UnsupportedMediaType
from ..settings import get_settings

log = logging.getLogger("informator.api")
JSON = "application/json"
ANY_BODY = ["application/json", "text/plain", "application/x-www-form-urlencoded",
            "multipart/form-data", "application/xml", "text/xml", "application/octet-stream"]
_CHALICE_STATUS = {400: "bad_request", 403: "forbidden", 404: "not_found", 405: "method_not_allowed",
                   415: "unsupported_media_type", 500: "internal_error"}


class ApiError(ChaliceUnhandledError):
    """Carries a DomainError through Chalice to the error middleware."""

    def __init__(self, error: DomainError) -> None:
        super().__init__(error.message)
        self.error = error


def error_response(error: DomainError) -> Response:
    # Error answers leave through the middleware, past Chalice's CORS handling: without these
    # headers a browser on the site's origin could not read a 422's fields or a 429's wait.
    headers: dict[str, str | list[str]] = {"Content-Type": JSON, "Access-Control-Allow-Origin": "*",
                                           "Access-Control-Expose-Headers": "Retry-After",
                                           **error.headers}
    return Response(body=json.dumps(error.body(), ensure_ascii=False), status_code=error.status,
                    headers=headers)


def error_middleware(event: Request, get_response: Callable[[Request], Response]) -> Response:
    """Every error leaves in DESIGN.md's shape, including Chalice's own 405/415."""
    try:
        response = get_response(event)
    except ApiError as exc:
        response = error_response(exc.error)
    except DomainError as exc:
        response = error_response(exc)
    body = response.body
    if response.status_code >= 400 and isinstance(body, dict) and "Code" in body:
        code = _CHALICE_STATUS.get(response.status_code, "error")
        response.body = json.dumps({"error": {"code": code, "message": body.get("Message", "")}})
        response.headers["Content-Type"] = JSON
    if (response.status_code >= 400 and (getattr(event, "path", "") or "").startswith("/open311/")
            and str(response.headers.get("Content-Type", "")).startswith(JSON)):
        response.body = _open311_error(response)
    return response


def _open311_error(response: Response) -> str:
    """Open311 GeoReport v2 errors are `[{"code", "description"}]`, whatever raised them."""
    try:
        data = json.loads(response.body) if isinstance(response.body, str) else response.body
    except (TypeError, ValueError):
        return str(response.body)
    if isinstance(data, dict) and isinstance(data.get("error"), dict):
        return json.dumps([{"code": response.status_code,
                            "description": data["error"].get("message", "")}], ensure_ascii=False)
    return json.dumps(data, ensure_ascii=False) if not isinstance(data, str) else data


class ServiceUnavailable(DomainError):
    status, code = 503, "service_unavailable"


# AWS refusing or not answering is a server-side fault the client may retry, not a bare 500
_THROTTLED = {"ProvisionedThroughputExceededException", "ThrottlingException", "Throttling",
              "RequestLimitExceeded", "TooManyRequestsException", "SlowDown",
              "ServiceUnavailable", "ServiceUnavailableException"}
RETRY_AFTER_S = 5


def aws_fault(exc: BaseException) -> DomainError | None:
    """A 503 with Retry-After for AWS throttling, timeouts and lost connections (also when
    PynamoDB wraps them); None for anything else."""
    from botocore.exceptions import ClientError, ConnectionError, HTTPClientError

    cause: BaseException | None = exc
    for _ in range(3):  # PynamoDB's errors carry botocore's as `cause`
        if cause is None:
            return None
        if isinstance(cause, ClientError):
            if cause.response.get("Error", {}).get("Code") not in _THROTTLED:
                return None
            break
        if isinstance(cause, (ConnectionError, HTTPClientError)):
            break
        cause = getattr(cause, "cause", None) or cause.__cause__
    else:
        return None
    log.warning("AWS fault answered 503", extra={"fault": type(cause).__name__})
    return ServiceUnavailable("The service is busy; try again in a few seconds.",
                              headers={"Retry-After": str(RETRY_AFTER_S)})


def api(view: Callable[..., Any]) -> Callable[..., Any]:
    """Map domain errors raised in a view to answers (through the middleware)."""
    import functools

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return view(*args, **kwargs)
        except DomainError as exc:
            raise ApiError(exc) from None
        except Exception as exc:
            fault = aws_fault(exc)
            if fault is None:
                raise
            raise ApiError(fault) from None

    return wrapper


def json_body(request: Request, *, required: bool = True) -> Any:
    """The parsed JSON body, or a 400/413/415 in DESIGN.md's shape."""
    raw_body = request.raw_body or b""
    raw = raw_body.encode() if isinstance(raw_body, str) else raw_body
    if len(raw) > get_settings().max_body_bytes:
        raise PayloadTooLarge(f"The body is larger than {get_settings().max_body_bytes} bytes.")
    ctype = (request.headers.get("content-type") or JSON).split(";")[0].strip().lower()
    if raw and ctype not in (JSON, "text/plain"):
        raise UnsupportedMediaType("Send JSON with Content-Type: application/json.")
    if not raw:
        if required:
            raise BadRequest("The request needs a JSON body.")
        return {}
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
        raise BadRequest("The body is not valid JSON.") from None
    if not required and not isinstance(data, dict):
        # optional bodies are always objects: `null` or a list is a client error, not "no body"
        raise Invalid("The body must be a JSON object.", {"body": "must be an object"})
    return data


def client_ip(request: Request) -> str:
    ctx = request.context or {}
    return str((ctx.get("identity") or {}).get("sourceIp") or "unknown")


def cached_json(request: Request, payload: Any, max_age: int = 30) -> Response:
    """JSON with an ETag and Cache-Control; 304 when the client already has it."""
    body = json.dumps(payload, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
    etag = '"' + hashlib.sha256(body.encode()).hexdigest()[:32] + '"'
    headers: dict[str, str | list[str]] = {"ETag": etag, "Cache-Control": f"public, max-age={max_age}",
               "Content-Type": "application/json; charset=utf-8"}
    inm = request.headers.get("if-none-match") or ""
    if etag in [t.strip() for t in inm.split(",")] or inm.strip() == "*":
        return Response(body="", status_code=304, headers=headers)
    return Response(body=body, status_code=200, headers=headers)


def query(request: Request) -> dict[str, str]:
    return dict(request.query_params or {})
