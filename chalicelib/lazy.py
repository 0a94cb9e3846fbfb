"""Deferred imports: a service module is loaded on its first use, not when `app` is imported.

Every Lambda function of this app imports `app.py` and so every blueprint; with the services
imported eagerly, each cold start would load the whole domain. A request loads only the
services it calls (`make bench` measures the import of `app`).
"""
from __future__ import annotations

import importlib
from typing import Any


class LazyModule:
    __slots__ = ("_name", "_module")

    def __init__(self, name: str) -> None:
        self._name = name
        self._module: Any = None

    def __getattr__(self, attr: str) -> Any:
        if self._module is None:
            self._module = importlib.import_module(self._name)
        return getattr(self._module, attr)


def lazy(name: str) -> Any:
    """A stand-in for `import name` that imports on first attribute access."""
    return LazyModule(name)
