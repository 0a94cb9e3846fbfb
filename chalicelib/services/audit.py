"""The audit log: who did what and when. Append-only; there is no update or delete here."""
from __future__ import annotations

from typing import Any

from ..models.ops import AuditModel
from .clock import new_id, now


def record(actor: str, action: str, target: str, details: dict[str, Any] | None = None) -> None:
    t = now()
    AuditModel(day=t.strftime("%Y-%m-%d"), at_id=f"{t.isoformat(timespec='milliseconds')}#{new_id()}",
               actor=actor, action=action, target=target, details=details or {}).save()


def list_day(day: str, limit: int = 200) -> list[dict[str, Any]]:
    return [{"at": item.at_id.split("#")[0], "actor": item.actor, "action": item.action,
             "target": item.target, "details": item.details}
            for item in AuditModel.query(day, scan_index_forward=False, limit=limit)]
