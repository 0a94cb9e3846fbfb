"""The city's static configuration: categories, districts and their approximate geometry."""
from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

CATEGORIES = ("water", "electricity", "gas", "heating", "roads", "events", "weather",
              "emergency", "other")
LANGUAGES = ("pl", "en", "uk")
MANDATORY_CATEGORY = "emergency"


@lru_cache(maxsize=1)
def city() -> dict[str, Any]:
    path = Path(__file__).parent / "data" / "city.json"
    return dict(json.loads(path.read_text(encoding="utf-8")))


def district_ids() -> list[str]:
    return [d["id"] for d in city()["districts"]]


def district_names() -> dict[str, str]:
    return {d["id"]: d["name"] for d in city()["districts"]}


def report_category_ids() -> list[str]:
    return [c["id"] for c in city()["report_categories"]]


def category_name(category: str, lang: str = "pl") -> str:
    for c in city()["categories"]:
        if c["id"] == category:
            return str(c["name"].get(lang) or c["name"]["pl"])
    return category
