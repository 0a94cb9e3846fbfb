"""Staff authentication: Cognito ID tokens verified against the pool's JWKS, everywhere.

API Gateway's Cognito authorizer is not run by `chalice local` or `chalice.test.Client`, so the
app verifies the token itself (signature, expiry, issuer, audience, token use) in every stage.
"""
from __future__ import annotations

import json
import time
import urllib.request
from dataclasses import dataclass
from typing import Any

from .errors import Forbidden, Unauthorized
from .settings import get_settings

GROUP_RANK = {"editor": 1, "publisher": 2, "admin": 3}
_jwks: dict[str, Any] = {"keys": {}, "fetched": 0.0}
_REFETCH_S = 60.0


@dataclass(frozen=True)
class Staff:
    sub: str
    email: str
    groups: tuple[str, ...]

    @property
    def rank(self) -> int:
        return max((GROUP_RANK.get(g, 0) for g in self.groups), default=0)

    @property
    def role(self) -> str:
        return next((g for g, r in GROUP_RANK.items() if r == self.rank), "none")


def _load_keys(force: bool = False) -> dict[str, Any]:
    if _jwks["keys"] and not force:
        return dict(_jwks["keys"])
    if force and time.monotonic() - _jwks["fetched"] < _REFETCH_S:
        return dict(_jwks["keys"])
    import jwt

    url = get_settings().jwks_url
    if not url.startswith(("https://", "http://", "file:")):
        raise Unauthorized("Sign-in is not configured.")
    with urllib.request.urlopen(url, timeout=3) as resp:  # noqa: S310 - scheme checked above
        data = json.loads(resp.read())
    _jwks["keys"] = {k["kid"]: jwt.PyJWK(k).key for k in data.get("keys", []) if "kid" in k}
    _jwks["fetched"] = time.monotonic()
    return dict(_jwks["keys"])


def reset_keys() -> None:
    _jwks["keys"], _jwks["fetched"] = {}, 0.0


def verify(authorization: str | None) -> Staff:
    import jwt

    if not authorization or not authorization.startswith("Bearer "):
        raise Unauthorized("Sign in: the Authorization header must carry a Bearer token.")
    token = authorization[7:].strip()
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError:
        raise Unauthorized("The token is malformed.") from None
    kid = header.get("kid")
    keys = _load_keys()
    if kid not in keys:
        keys = _load_keys(force=True)
    if kid not in keys or header.get("alg") != "RS256":
        raise Unauthorized("The token is not signed by the city's sign-in service.")
    settings = get_settings()
    try:
        claims = jwt.decode(token, keys[kid], algorithms=["RS256"],
                            audience=settings.user_pool_client_id or None,
                            issuer=settings.token_issuer,
                            options={"require": ["exp", "iss", "sub"],
                                     "verify_aud": bool(settings.user_pool_client_id)})
    except jwt.ExpiredSignatureError:
        raise Unauthorized("The session has expired; sign in again.") from None
    except jwt.PyJWTError:
        raise Unauthorized("The token is not valid.") from None
    if claims.get("token_use") != "id":
        raise Unauthorized("Use the ID token.")
    groups = claims.get("cognito:groups") or []
    if not isinstance(groups, list):
        groups = []
    return Staff(sub=str(claims["sub"]), email=str(claims.get("email") or claims.get(
        "cognito:username") or claims["sub"]), groups=tuple(str(g) for g in groups))


def require(authorization: str | None, group: str) -> Staff:
    staff = verify(authorization)
    if staff.rank < GROUP_RANK[group]:
        raise Forbidden(f"This needs the {group} role.")
    return staff
