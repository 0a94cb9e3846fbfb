"""Feed import of 1,000 items: the re-run of the same payload writes nothing and sends nothing."""
from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

WRITES = {"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems"}


def _payload(n: int) -> bytes:
    items = [{"nr": f"W-{i}", "tytul": f"Przerwa w dostawie wody nr {i}",
              "opis": f"Ulica Testowa {i}: brak wody od 8:00 do 14:00.",
              "od": "2099-01-01T08:00:00+01:00", "do": "2099-01-01T14:00:00+01:00"}
             for i in range(n)]
    return json.dumps({"komunikaty": items}, ensure_ascii=False).encode()


def run(report: Callable[[str, str, bool | None], None], moto: Callable[[], Any],
        stack: Callable[[], Any]) -> None:
    import botocore.client

    with moto():
        stack()
        from chalicelib.services import feeds
        from infra.outbox import sns_backend, topic_publishes

        feeds.put("bench-water", {
            "adapter": "json", "url": "https://pwik.example.pl/komunikaty.json", "schedule": 15,
            "category": "water", "districts": [], "auto_publish": True, "enabled": True,
            "options": {"items_path": "komunikaty", "id": "nr", "title": "tytul", "body": "opis",
                        "start": "od", "end": "do"}}, "bench")
        payload = _payload(1000)
        calls: Counter[str] = Counter()
        original = botocore.client.BaseClient._make_api_call

        def counting(self: Any, operation: str, params: dict[str, Any]) -> Any:
            if operation in WRITES:
                calls[f"{operation} {params.get('TableName', '')}"] += 1
            if self.meta.service_model.service_name in ("sns", "sqs") and operation in (
                    "Publish", "PublishBatch", "SendMessage", "SendMessageBatch"):
                calls[f"{operation} (send)"] += 1
            return original(self, operation, params)

        botocore.client.BaseClient._make_api_call = counting  # type: ignore[method-assign]
        try:
            t = time.perf_counter()
            first = feeds.run_feed("bench-water", fetch=lambda _url: (200, payload))
            t_first = time.perf_counter() - t
            first_writes = sum(calls.values())
            calls.clear()
            publishes = len(topic_publishes(sns_backend()))
            t = time.perf_counter()
            second = feeds.run_feed("bench-water", fetch=lambda _url: (200, payload))
            t_second = time.perf_counter() - t
        finally:
            botocore.client.BaseClient._make_api_call = original  # type: ignore[method-assign]
        state_writes = sum(n for k, n in calls.items() if k.endswith("-feeds"))
        other = {k: n for k, n in calls.items() if not k.endswith("-feeds")}
        report("first import of 1,000 items",
               f"{first['created']} alerts created, {first_writes} writes/sends, {t_first:.1f} s",
               first["created"] == 1000)
        report("re-run of the same 1,000 items",
               f"{second['unchanged']} unchanged; alert/ledger writes and sends: "
               f"{sum(other.values())} {dict(other) or ''}; feed run-state writes: "
               f"{state_writes}; {t_second:.1f} s",
               not other and second["unchanged"] == 1000
               and len(topic_publishes(sns_backend())) == publishes)
