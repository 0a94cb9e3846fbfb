"""The staff admin page's report moderation (the "Do moderacji" tab, approve / reject in the report
detail) and its Open311 API keys view (issue a key shown once, revoke it), in headless Chromium
against the running local stack.

The local stack is shared by the whole session: the moderation setting is put back at the end and
the Open311 key made here is deleted by the test itself."""
from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from tests.browser.test_admin_page import _no_violations, _open, _sign_in, _wait_for
from tests.conftest import LiveStack

pytestmark = pytest.mark.browser

LAT, LON = 52.8805, 20.6165  # Śródmieście
BBOX = f"{LON - 0.01},{LAT - 0.01},{LON + 0.01},{LAT + 0.01}"


@pytest.fixture(scope="module")
def tokens(live_stack: LiveStack) -> Iterator[Any]:
    cache: dict[str, str] = {}

    def auth(role: str) -> dict[str, str]:
        if role not in cache:
            cache[role] = live_stack.token(role)
        return {"Authorization": f"Bearer {cache[role]}"}

    yield auth


@pytest.fixture
def moderation_on(live_stack: LiveStack, tokens: Any) -> Iterator[None]:
    """Reports without a device wait for an editor while the test runs; the old value is restored."""
    url = f"{live_stack.api}/v1/admin/settings"
    before = requests.get(url, headers=tokens("admin"), timeout=10)
    assert before.status_code == 200, before.text
    old = before.json()["settings"]["report_moderation_new_devices"]
    r = requests.put(url, json={"report_moderation_new_devices": True}, headers=tokens("admin"),
                     timeout=10)
    assert r.status_code == 200, r.text
    try:
        yield
    finally:
        back = requests.put(url, json={"report_moderation_new_devices": old},
                            headers=tokens("admin"), timeout=10)
        assert back.status_code == 200, back.text


def _report(live_stack: LiveStack, text: str) -> str:
    r = requests.post(f"{live_stack.api}/v1/reports", timeout=10, json={
        "category": "road_damage", "description": text, "lat": LAT, "lon": LON, "photos": 0})
    assert r.status_code == 201, r.text
    assert r.json().get("moderation") == "pending"  # no device: it waits
    return str(r.json()["id"])


def _public_ids(live_stack: LiveStack) -> set[str]:
    r = requests.get(f"{live_stack.api}/v1/reports", params={"bbox": BBOX}, timeout=10)
    assert r.status_code == 200, r.text
    return {i["id"] for i in r.json()["items"]}


def test_editor_approves_one_waiting_report_and_rejects_another(
        live_stack: LiveStack, new_page: Any, tokens: Any, moderation_on: None) -> None:
    tag = uuid.uuid4().hex[:6]
    good = _report(live_stack, f"Dziura w jezdni przy ul. Warszawskiej ({tag}).")
    bad = _report(live_stack, f"Treść do odrzucenia ({tag}).")
    # waiting reports are not public
    assert requests.get(f"{live_stack.api}/v1/reports/{good}", timeout=10).status_code == 404
    assert good not in _public_ids(live_stack)

    rec = _open(live_stack, new_page)
    page = rec.page
    _sign_in(page, "editor", live_stack.password)
    page.goto(f"{live_stack.web}/admin/#/reports")
    page.get_by_role("link", name="Do moderacji").click()
    table = page.locator("#reports-table")
    table.wait_for()
    assert page.get_by_role("link", name="Do moderacji").get_attribute("aria-current") == "page"
    rows = table.locator("tbody tr")
    waiting = {rows.nth(i).get_attribute("data-id") for i in range(rows.count())}
    assert {good, bad} <= waiting
    assert "czeka na moderację" in table.locator(f'tr[data-id="{good}"]').inner_text()
    # any status waits here, not only the open ones
    assert page.get_by_label("Stan").locator("option:checked").inner_text() == "wszystkie stany"
    _no_violations(page)

    # approve the first
    table.locator(f'tr[data-id="{good}"] a').click()
    decision = page.locator("#moderation-decision")
    decision.get_by_role("heading", name="Decyzja moderacji").wait_for()
    assert page.locator("#report-moderation").inner_text() == "czeka na decyzję"
    _no_violations(page)
    decision.get_by_role("button", name="Zatwierdź i opublikuj").click()
    page.locator("#report-moderation").filter(has_text="zatwierdzone").wait_for()
    assert page.locator("#moderation-decision").count() == 0
    assert requests.get(f"{live_stack.api}/v1/reports/{good}", timeout=10).status_code == 200
    assert _wait_for(lambda: good in _public_ids(live_stack), seconds=10)

    # reject the second: the confirmation step first, and "Wróć" changes nothing
    page.goto(f"{live_stack.web}/admin/#/report/{bad}")
    reject = page.locator("#moderation-decision").get_by_role("button", name="Odrzuć zgłoszenie")
    reject.click()
    dialog = page.get_by_role("dialog", name="Odrzucić zgłoszenie?")
    dialog.wait_for()
    dialog.get_by_role("button", name="Wróć").click()
    dialog.wait_for(state="detached")
    staff = requests.get(f"{live_stack.api}/v1/admin/reports/{bad}", headers=tokens("editor"),
                         timeout=10).json()
    assert staff["moderation"] == "pending"
    reject.click()
    page.get_by_role("dialog", name="Odrzucić zgłoszenie?").get_by_role(
        "button", name="Odrzuć zgłoszenie").click()
    page.locator("#report-moderation").filter(has_text="odrzucone").wait_for()
    assert page.locator("#report-status").inner_text() == "odrzucone"
    staff = requests.get(f"{live_stack.api}/v1/admin/reports/{bad}", headers=tokens("editor"),
                         timeout=10).json()
    assert (staff["moderation"], staff["status"]) == ("rejected", "rejected")
    assert requests.get(f"{live_stack.api}/v1/reports/{bad}", timeout=10).status_code == 404
    assert bad not in _public_ids(live_stack)

    # neither waits any more
    page.goto(f"{live_stack.web}/admin/#/reports/moderation")
    page.get_by_role("heading", name="Zgłoszenia mieszkańców").wait_for()
    page.wait_for_function("() => !document.querySelector('main section[aria-live]')"
                           ".textContent.includes('Ładowanie')")
    assert page.locator(f'tr[data-id="{good}"], tr[data-id="{bad}"]').count() == 0
    assert not [e for e in rec.errors if "js dialog" in e or "pageerror" in e]


def _open311_post(live_stack: LiveStack, key: str) -> requests.Response:
    return requests.post(f"{live_stack.api}/open311/v2/requests.json", timeout=10, data={
        "api_key": key, "service_code": "road_damage", "lat": str(LAT), "long": str(LON),
        "description": "Zgłoszenie z aplikacji partnera (test klucza)."})


def test_admin_issues_an_open311_key_shown_once_and_deletes_it(
        live_stack: LiveStack, new_page: Any, tokens: Any) -> None:
    name = f"Aplikacja testowa {uuid.uuid4().hex[:6]}"
    rec = _open(live_stack, new_page)
    page = rec.page
    _sign_in(page, "admin", live_stack.password)
    page.locator("#nav").get_by_role("link", name="Klucze Open311").click()
    page.get_by_role("heading", name="Klucze Open311", level=1).wait_for()
    _no_violations(page)

    page.get_by_label("Nazwa (dla kogo)").fill(name)
    page.get_by_role("button", name="Utwórz klucz").click()
    shown = page.locator("#open311-key-shown")
    shown.wait_for()
    assert "nie zostanie pokazany ponownie" in shown.inner_text()
    shown.get_by_role("button", name="Kopiuj klucz").wait_for()
    key = page.locator("#open311-new-key").input_value()
    assert len(key) >= 20
    row = page.locator("#open311-keys tbody tr").filter(has_text=name)
    row.wait_for()
    assert key not in page.locator("#open311-keys").inner_text()  # the list never holds keys
    _no_violations(page)

    made = _open311_post(live_stack, key)
    assert made.status_code == 201, made.text
    assert made.json()[0].get("service_request_id") or made.json()[0].get("token")

    # the key is gone once the page is left
    page.goto(f"{live_stack.web}/admin/#/alerts/draft")
    page.goto(f"{live_stack.web}/admin/#/open311")
    row.wait_for()
    assert page.locator("#open311-key-shown").count() == 0
    assert key not in page.content()

    # delete: the confirmation step first
    row.get_by_role("button", name=f"Usuń klucz: {name}").click()
    dialog = page.get_by_role("dialog", name="Usunąć klucz?")
    dialog.get_by_role("button", name="Tak, usuń klucz").click()
    row.wait_for(state="detached")
    listed = requests.get(f"{live_stack.api}/v1/admin/open311-keys", headers=tokens("admin"),
                          timeout=10).json()["items"]
    assert name not in {k["name"] for k in listed}
    refused = _open311_post(live_stack, key)
    assert refused.status_code == 403, refused.text
    assert not [e for e in rec.errors if "js dialog" in e or "pageerror" in e]


def test_open311_keys_are_not_in_an_editors_menu(live_stack: LiveStack, new_page: Any) -> None:
    page = _open(live_stack, new_page).page
    _sign_in(page, "editor", live_stack.password)
    page.locator("#nav").get_by_role("link", name="Zgłoszenia").wait_for()
    assert page.locator("#nav").get_by_role("link", name="Klucze Open311").count() == 0
