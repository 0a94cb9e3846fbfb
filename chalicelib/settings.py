"""One typed settings object, built lazily from the environment."""
from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache


@dataclass(frozen=True)
class Settings:
    stage: str
    region: str
    prefix: str
    topic_arn_prefix: str
    site_url: str
    api_url: str
    user_pool_id: str
    user_pool_client_id: str
    jwks_url: str
    token_issuer: str
    sms_sender_id: str
    ip_limit_per_hour: int
    max_body_bytes: int
    dev_outbox: bool

    def table(self, name: str) -> str:
        return f"{self.prefix}-{name}"

    def queue(self, name: str) -> str:
        return f"{self.prefix}-{name}"

    def topic_arn(self, category: str) -> str:
        return f"{self.topic_arn_prefix}alerts-{category}"


def _env(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    region = _env("AWS_DEFAULT_REGION", _env("AWS_REGION", "eu-central-1"))
    prefix = _env("RESOURCE_PREFIX", "informator-dev")
    account = _env("AWS_ACCOUNT_ID", "123456789012")
    pool = _env("USER_POOL_ID")
    issuer = _env("TOKEN_ISSUER") or f"https://cognito-idp.{region}.amazonaws.com/{pool}"
    return Settings(
        stage=_env("STAGE", "dev"),
        region=region,
        prefix=prefix,
        topic_arn_prefix=_env("TOPIC_ARN_PREFIX") or f"arn:aws:sns:{region}:{account}:{prefix}-",
        site_url=_env("SITE_URL", "http://127.0.0.1:8080").rstrip("/"),
        api_url=_env("API_URL", "http://127.0.0.1:8000").rstrip("/"),
        user_pool_id=pool,
        user_pool_client_id=_env("USER_POOL_CLIENT_ID"),
        jwks_url=_env("JWKS_URL") or f"{issuer}/.well-known/jwks.json",
        token_issuer=issuer,
        sms_sender_id=_env("SMS_SENDER_ID", "Ciechanow"),
        ip_limit_per_hour=int(_env("IP_LIMIT_PER_HOUR", "20")),
        max_body_bytes=int(_env("MAX_BODY_BYTES", "65536")),
        dev_outbox=_env("DEV_OUTBOX", "") == "1",
    )


def reset_settings() -> None:
    """Forget the cached settings (tests change the environment)."""
    get_settings.cache_clear()
