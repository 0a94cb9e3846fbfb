"""Cached boto3 clients, created on first use (never at import time)."""
from __future__ import annotations

import threading
from functools import cache, lru_cache
from typing import Any

from botocore.config import Config

_CONFIG = Config(retries={"max_attempts": 3, "mode": "standard"}, connect_timeout=3, read_timeout=5)


_lock = threading.Lock()


@cache
def _session() -> Any:
    """One boto3 session for every client: each session loads botocore's models again
    (about 40 MB for six clients in the API function, measured in `make bench`)."""
    import boto3

    return boto3.session.Session()


@cache
def _client(service: str) -> Any:
    with _lock:  # creating clients from one session is not thread-safe
        return _session().client(service, config=_CONFIG)


def get_sns() -> Any:
    return _client("sns")


@lru_cache(maxsize=1)
def get_sns_publisher() -> Any:
    """SNS for alert publishes: no silent client retries; the fan-out owns retries."""
    cfg = Config(retries={"max_attempts": 1, "mode": "standard"}, connect_timeout=3, read_timeout=5)
    with _lock:
        return _session().client("sns", config=cfg)


def get_sqs() -> Any:
    return _client("sqs")


def get_s3() -> Any:
    return _client("s3")


def get_cognito() -> Any:
    return _client("cognito-idp")


@cache
def queue_url(name: str) -> str:
    return str(get_sqs().get_queue_url(QueueName=name)["QueueUrl"])


def reset_clients() -> None:
    """Drop cached clients (tests start a fresh moto per test)."""
    _client.cache_clear()
    _session.cache_clear()
    get_sns_publisher.cache_clear()
    queue_url.cache_clear()
