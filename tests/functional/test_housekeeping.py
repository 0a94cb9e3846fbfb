"""The daily housekeeping job: numbers SNS reports as opted out leave the service.

A resident who replies STOP to AWS's own keyword handling (or whom the operator opts out) never
reaches our inbound handler; SNS only lists the number as opted out. The job removes every SNS
subscription of those numbers and their personal data, audited with the number masked.
"""
from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any

import pytest

from tests.conftest import Stack
from tests.functional.test_subscriptions import last_code, post, sns_subs, stored

KEPT = "+48500100601"
LEFT = ("+48500100602", "+48500100603")
STRANGERS = [f"+4850010070{i}" for i in range(5)]  # opted out, never subscribed here
SCHEDULE_EVENT = {"version": "0", "id": "t", "detail-type": "Scheduled Event",
                  "source": "aws.events", "account": "123456789012",
                  "time": "2026-01-01T03:00:00Z", "region": "eu-central-1", "resources": [],
                  "detail": {}}
PAGE = 2  # AWS answers up to 100 numbers a page; small pages here


@pytest.fixture
def sns_pages(monkeypatch: pytest.MonkeyPatch) -> list[str | None]:
    """moto returns the whole opt-out list at once; AWS pages it with nextToken. Teach moto
    AWS's paging so that a job that reads only the first page misses numbers. Returns the
    tokens the job asked with."""
    from moto.core.responses import ActionResult
    from moto.sns.responses import SNSResponse

    asked: list[str | None] = []

    def paged(self: Any) -> Any:
        token = self._get_param("nextToken")
        asked.append(token)
        numbers = self.backend.list_phone_numbers_opted_out()
        start = int(token or 0)
        result: dict[str, Any] = {"phoneNumbers": numbers[start:start + PAGE]}
        if start + PAGE < len(numbers):
            result["nextToken"] = str(start + PAGE)
        return ActionResult(result)

    monkeypatch.setattr(SNSResponse, "list_phone_numbers_opted_out", paged)
    return asked


def opt_out_at_sns(*numbers: str) -> None:
    """What SNS does when a resident replies STOP to AWS (moto has no call for it)."""
    from infra.outbox import sns_backend

    sns_backend().opt_out_numbers.extend(numbers)


def subscribe(phone: str, **choices: Any) -> None:
    from chalicelib.services.subscriptions import activate_sms

    activate_sms(phone, {"categories": ["water", "roads"], "districts": ["bloki"], **choices})


def housekeeping(client: Any) -> dict[str, int]:
    r = client.lambda_.invoke("housekeeping", SCHEDULE_EVENT)
    return dict(r.payload)


def test_opted_out_numbers_lose_subscriptions_and_data_on_every_page(
        stack: Stack, client: Any, sns_pages: list[str | None],
        caplog: pytest.LogCaptureFixture) -> None:
    from chalicelib.models.ops import CodeModel

    for phone in (KEPT, *LEFT):
        subscribe(phone)
    # one of them has a pending code to change choices (its payload is personal data too)
    r = post(client, "/v1/sms-subscriptions", {"phone": LEFT[1], "categories": ["gas"]})
    assert r.status_code == 202 and last_code(stack, LEFT[1])
    # our subscribers come last: only a job that follows nextToken finds them
    opt_out_at_sns(*STRANGERS, *LEFT)

    caplog.set_level(logging.INFO)
    assert housekeeping(client) == {"devices_removed": 0, "opted_out_removed": 2}
    assert len(sns_pages) >= 4 and sns_pages[0] is None  # every page was read

    for phone in LEFT:
        assert sns_subs(stack, phone) == {}
        assert stored(phone) is None
    with pytest.raises(CodeModel.DoesNotExist):
        CodeModel.get(f"sms#{LEFT[1]}", consistent_read=True)
    assert set(sns_subs(stack, KEPT)) == {"water", "roads", "emergency"}
    assert stored(KEPT) is not None
    assert stored(STRANGERS[0]) is None  # numbers we never had are not created

    from chalicelib.services.audit import list_day

    entries = [e for e in list_day(datetime.now(UTC).strftime("%Y-%m-%d"))
               if e["action"] == "sms.leave"]
    assert sorted(e["target"] for e in entries) == ["+48*****02", "+48*****03"]
    assert all(e["actor"] == "system:housekeeping" and e["details"]["reason"] ==
               "opted out at SNS" for e in entries)
    trail = json.dumps(entries) + caplog.text + json.dumps(
        [r.__dict__.get("phone", "") for r in caplog.records])
    assert not any(p in trail for p in LEFT)

    # the next day: nothing left to do, nobody else touched
    assert housekeeping(client)["opted_out_removed"] == 0
    assert stored(KEPT) is not None


def test_an_empty_opt_out_list_removes_nobody(stack: Stack, client: Any) -> None:
    from infra.outbox import sns_backend

    subscribe(KEPT)
    sns_backend().opt_out_numbers.clear()
    assert housekeeping(client) == {"devices_removed": 0, "opted_out_removed": 0}
    assert set(sns_subs(stack, KEPT)) == {"water", "roads", "emergency"}


def test_a_number_that_signed_up_again_after_opting_in_is_kept(stack: Stack, client: Any) -> None:
    """Opting in at SNS takes the number off the list: the next run leaves it alone."""
    opt_out_at_sns(LEFT[0])
    subscribe(LEFT[0])  # e.g. imported earlier, before the city saw the opt-out
    stack.session.client("sns").opt_in_phone_number(phoneNumber=LEFT[0])
    assert housekeeping(client)["opted_out_removed"] == 0
    assert stored(LEFT[0]) is not None
