"""PynamoDB models, one module per table; table names come from the stage's prefix."""
from __future__ import annotations

import os


def table_name(suffix: str) -> str:
    return f"{os.environ.get('RESOURCE_PREFIX', 'informator-dev')}-{suffix}"


def region() -> str:
    return os.environ.get("AWS_DEFAULT_REGION", os.environ.get("AWS_REGION", "eu-central-1"))
