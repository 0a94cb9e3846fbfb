"""More of the staff admin page in headless Chromium against the running local stack: an area drawn
on the map (no tiles), approval by a second publisher, update/cancel/version history, the test send,
feeds, staff accounts, the legacy CSV import, report photo thumbnails, and one flow by keyboard alone.

The local stack is shared by the whole session: settings changed here are put back, alerts sent
here are cancelled, and imported subscribers use a category and district no other test counts."""
from __future__ import annotations

import io
import json
import re
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests

from tests.browser.test_admin_page import _no_violations, _open, _sign_in, _wait_for
from tests.conftest import LiveStack

pytestmark = pytest.mark.browser

SUBSCRIBER = "+48500100101"  # seeded: water, Śródmieście, pl
TEST_PHONE = "+48500100977"


@pytest.fixture(scope="module")
def tokens(live_stack: LiveStack) -> Iterator[Any]:
    """Authorization headers per role, one token per module (each costs a Cognito sign-in)."""
    cache: dict[str, str] = {}

    def auth(role: str) -> dict[str, str]:
        if role not in cache:
            cache[role] = live_stack.token(role)
        return {"Authorization": f"Bearer {cache[role]}"}

    yield auth


def _settings(live_stack: LiveStack, auth: dict[str, str], **changes: Any) -> dict[str, Any]:
    """Change city settings; answers the values they had before."""
    before = requests.get(f"{live_stack.api}/v1/admin/settings", headers=auth, timeout=10)
    assert before.status_code == 200, before.text
    old = {k: before.json()["settings"][k] for k in changes}
    r = requests.put(f"{live_stack.api}/v1/admin/settings", json=changes, headers=auth, timeout=10)
    assert r.status_code == 200, r.text
    return old


def _alert(live_stack: LiveStack, auth: dict[str, str], alert_id: str) -> dict[str, Any]:
    r = requests.get(f"{live_stack.api}/v1/admin/alerts/{alert_id}", headers=auth, timeout=10)
    assert r.status_code == 200, r.text
    return dict(r.json())


def _cancel_quietly(live_stack: LiveStack, auth: dict[str, str], alert_id: str) -> None:
    requests.post(f"{live_stack.api}/v1/admin/alerts/{alert_id}/cancel", json={}, headers=auth,
                  timeout=10)


def _sms(live_stack: LiveStack, to: str, alert_id: str) -> list[str]:
    return [d["text"] for d in live_stack.outbox()
            if d["channel"] == "sms" and d["to"] == to and alert_id in d["text"]]


def _idp(live_stack: LiveStack) -> tuple[Any, dict[str, Any]]:
    import boto3

    state = json.loads(open(live_stack.state_file).read())
    idp = boto3.client("cognito-idp", region_name="eu-central-1", endpoint_url=live_stack.moto,
                       aws_access_key_id="testing", aws_secret_access_key="testing")
    return idp, state


def _compose(page: Any, category: str, title: str, body: str,
             districts: tuple[str, ...] = ()) -> None:
    page.get_by_role("link", name="Nowy komunikat").click()
    page.get_by_label("Kategoria").select_option(category)
    for name in districts:
        page.get_by_label(name, exact=True).check()
    page.get_by_label("Tytuł (pl)").fill(title)
    page.get_by_label("Treść (pl)").fill(body)


# ---- 1. the map -------------------------------------------------------------------------------

def test_area_drawn_on_the_map_without_tiles_is_saved_with_its_districts(
        live_stack: LiveStack, new_page: Any, tokens: Any) -> None:
    from chalicelib.geo import districts_touched

    rec = _open(live_stack, new_page)
    page = rec.page
    _sign_in(page, "editor", live_stack.password)
    _compose(page, "roads", "Remont mostu (obszar)", "Objazd przez ul. Płońską do piątku.")
    page.locator("#alert-map").scroll_into_view_if_needed()
    box = page.locator("#alert-map").bounding_box()
    cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2

    # a polygon: four clicks, then a click on the first point closes it
    page.get_by_role("link", name="Narysuj wielokąt").click()  # the draw toolbar speaks Polish
    page.get_by_role("link", name="Zakończ", exact=True).wait_for()
    corners = [(cx - 60, cy - 50), (cx + 60, cy - 50), (cx + 60, cy + 50), (cx - 60, cy + 50)]
    for x, y in corners:
        page.mouse.click(x, y)
        page.wait_for_timeout(150)  # Leaflet.draw takes new points again after 50 ms
    page.mouse.click(*corners[0])
    page.locator("#area-info").filter(has_text="Wielokąt (4 wierzchołków)").wait_for()
    page.get_by_role("button", name="Zapisz szkic").click()
    page.get_by_role("status").filter(has_text="Szkic zapisany").wait_for()
    alert_id = page.evaluate("location.hash").split("/")[-1]
    saved = _alert(live_stack, tokens("editor"), alert_id)
    area = saved["area"]
    assert area["type"] == "Polygon" and len(area["coordinates"][0]) == 5
    lons = [p[0] for p in area["coordinates"][0]]
    lats = [p[1] for p in area["coordinates"][0]]
    assert min(lons) < 20.62 < max(lons) and min(lats) < 52.881 < max(lats)  # around the centre
    assert saved["districts"] and saved["districts"] == sorted(districts_touched(area))

    # a circle replaces it
    page.get_by_role("link", name="Narysuj okrąg").click()
    page.mouse.move(cx + 150, cy + 40)
    page.mouse.down()
    page.mouse.move(cx + 190, cy + 40, steps=6)
    page.mouse.up()
    info = page.locator("#area-info").filter(has_text=re.compile(r"Okrąg o promieniu \d+ m"))
    info.wait_for()
    radius = int(re.search(r"(\d+) m", info.inner_text()).group(1))  # type: ignore[union-attr]
    assert 250 < radius < 900  # 40 px at zoom 13 is about 460 m
    page.get_by_role("button", name="Zapisz szkic").click()
    page.get_by_role("status").filter(has_text="Szkic zapisany").wait_for()
    saved = _wait_for(lambda: (a := _alert(live_stack, tokens("editor"), alert_id))["area"]["type"]
                      == "Circle" and a)
    assert saved, "the circle was not saved"
    assert saved["area"]["radius_m"] == radius
    assert saved["districts"] == sorted(districts_touched(saved["area"]))
    assert saved["districts"] != []

    # the tiles were asked for and refused; the map worked anyway and nothing failed in the page
    assert any("tile" in u or u.endswith(".png") for u in
               rec.foreign_requests(allowed=[live_stack.web, live_stack.api, live_stack.moto]))
    assert [e for e in rec.errors if "pageerror" in e] == []


# ---- 2. approval, update, cancel, history ------------------------------------------------------

def test_a_second_publisher_approves_what_the_first_submitted(
        live_stack: LiveStack, new_page: Any, tokens: Any) -> None:
    idp, state = _idp(live_stack)
    second, password = "publisher2@local.test", "Second-Pub-2026!"
    try:
        idp.admin_create_user(UserPoolId=state["USER_POOL_ID"], Username=second,
                              MessageAction="SUPPRESS",
                              UserAttributes=[{"Name": "email", "Value": second},
                                              {"Name": "email_verified", "Value": "true"}])
        idp.admin_set_user_password(UserPoolId=state["USER_POOL_ID"], Username=second,
                                    Password=password, Permanent=True)
        idp.admin_add_user_to_group(UserPoolId=state["USER_POOL_ID"], Username=second,
                                    GroupName="publisher")
    except idp.exceptions.UsernameExistsException:
        pass
    old = _settings(live_stack, tokens("admin"), approval_categories=["heating"])
    alert_id = None
    try:
        page = _open(live_stack, new_page).page
        _sign_in(page, "publisher", live_stack.password)
        title = f"Przerwa w dostawie ciepła {uuid.uuid4().hex[:4]}"
        _compose(page, "heating", title, "Brak ogrzewania w całym mieście do 16:00.",
                 districts=("Całe miasto",))
        page.get_by_role("button", name="Opublikuj").click()
        page.get_by_role("dialog").get_by_role("button", name="Tak, opublikuj").click()
        page.get_by_role("status").filter(has_text="czeka na zatwierdzenie").wait_for()
        page.wait_for_url("**#/alerts/pending_approval")
        row = page.locator("#alerts-pending_approval tr", has_text=title)
        alert_id = row.get_attribute("data-id")
        assert alert_id
        # its author cannot approve it: the page says so instead of offering the button
        row.get_by_role("link").click()
        page.locator("#approval-note").get_by_text("Czeka na zatwierdzenie przez drugą osobę").wait_for()
        assert page.get_by_role("button", name="Zatwierdź i opublikuj").count() == 0
        assert _alert(live_stack, tokens("publisher"), alert_id)["status"] == "pending_approval"
        assert _sms(live_stack, "+48500100104", alert_id) == []  # nothing sent yet

        page2 = _open(live_stack, new_page).page
        page2.get_by_label("E-mail").fill(second)
        page2.get_by_label("Hasło").fill(password)
        page2.get_by_role("button", name="Zaloguj się").click()
        page2.get_by_role("link", name="Do zatwierdzenia").click()
        page2.locator(f"#alerts-pending_approval tr[data-id='{alert_id}'] a").click()
        page2.get_by_role("button", name="Zatwierdź i opublikuj").click()
        dialog = page2.get_by_role("dialog")
        dialog.get_by_text("Zatwierdzić komunikat?").wait_for()
        dialog.get_by_role("button", name="Tak, zatwierdź").click()
        page2.wait_for_url("**#/alerts/published")
        page2.locator(f"#alerts-published tr[data-id='{alert_id}']").wait_for()
        saved = _alert(live_stack, tokens("admin"), alert_id)
        assert saved["status"] == "published" and saved["approved_by"] == second
        assert saved["created_by"] == "publisher@local.test"
        # the whole-city heating subscriber (English) gets it
        assert _wait_for(lambda: _sms(live_stack, "+48500100104", alert_id))
    finally:
        _settings(live_stack, tokens("admin"), **old)
        if alert_id:
            _cancel_quietly(live_stack, tokens("admin"), alert_id)


def test_update_cancel_with_confirmation_and_version_history(
        live_stack: LiveStack, new_page: Any, tokens: Any) -> None:
    auth = tokens("publisher")
    title = f"Awaria sieci {uuid.uuid4().hex[:4]}"
    r = requests.post(f"{live_stack.api}/v1/admin/alerts", headers=auth, timeout=10, json={
        "category": "water", "severity": "moderate", "districts": ["srodmiescie"],
        "title": {"pl": title}, "body": {"pl": "Brak wody przy ul. Warszawskiej do 14:00."},
        "expires_at": (datetime.now(UTC) + timedelta(hours=4)).isoformat()})
    assert r.status_code == 201, r.text
    alert_id = r.json()["id"]
    r = requests.post(f"{live_stack.api}/v1/admin/alerts/{alert_id}/publish", json={},
                      headers=auth, timeout=10)
    assert r.json()["status"] == "published", r.text
    assert _wait_for(lambda: _sms(live_stack, SUBSCRIBER, alert_id))

    page = _open(live_stack, new_page).page
    _sign_in(page, "publisher", live_stack.password)
    page.get_by_role("link", name="Aktywne").click()
    page.locator(f"#alerts-published tr[data-id='{alert_id}'] a").click()
    body = page.get_by_label("Treść (pl)")
    body.fill("Woda wróci o 18:00; beczkowóz przy ul. Warszawskiej 5.")
    page.get_by_role("button", name="Wyślij aktualizację").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_text("Wysłać aktualizację?").wait_for()
    dialog.get_by_role("button", name="Tak, wyślij aktualizację").click()
    page.get_by_role("status").filter(has_text="wersja 2").wait_for()
    page.wait_for_url("**#/alerts/published")
    update = _wait_for(lambda: [t for t in _sms(live_stack, SUBSCRIBER, alert_id)
                                if t.startswith("AKTUALIZACJA")])
    assert update and "Woda wroci" in update[0], _sms(live_stack, SUBSCRIBER, alert_id)

    # the cancel asks first; stepping back sends nothing
    page.locator(f"#alerts-published tr[data-id='{alert_id}'] a").click()
    page.get_by_role("button", name="Odwołaj komunikat").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_text("Odwołać komunikat?").wait_for()
    dialog.get_by_role("button", name="Wróć").click()
    assert page.get_by_role("dialog").count() == 0
    assert _alert(live_stack, auth, alert_id)["status"] == "published"
    page.get_by_role("button", name="Odwołaj komunikat").click()
    page.get_by_role("dialog").get_by_role("button", name="Tak, odwołaj").click()
    page.get_by_role("status").filter(has_text="Komunikat odwołany").wait_for()
    page.wait_for_url("**#/alerts/ended")
    page.locator(f"#alerts-ended tr[data-id='{alert_id}']").get_by_text("odwołany").wait_for()
    cancelled = _wait_for(lambda: [t for t in _sms(live_stack, SUBSCRIBER, alert_id)
                                   if re.match(r"ODWO[ŁL]ANE", t)])
    assert cancelled, _sms(live_stack, SUBSCRIBER, alert_id)
    assert len(_sms(live_stack, SUBSCRIBER, alert_id)) == 3  # alert, update, cancel: once each

    page.locator(f"#alerts-ended tr[data-id='{alert_id}'] a").click()
    page.get_by_role("button", name="Historia wersji").click()
    versions = page.locator("section.history li")
    versions.nth(2).wait_for()
    texts = versions.all_inner_texts()
    assert [t.split(" · ")[:2] for t in texts] == [["v1", "komunikat"], ["v2", "aktualizacja"],
                                                   ["v3", "odwołanie"]], texts
    assert "Brak wody przy ul. Warszawskiej" in texts[0] and "18:00" in texts[1]


# ---- 3. test send ------------------------------------------------------------------------------

def test_test_send_goes_only_to_the_staff_test_phone(live_stack: LiveStack, new_page: Any,
                                                     tokens: Any) -> None:
    old = _settings(live_stack, tokens("admin"), staff_test_phones=[TEST_PHONE])
    try:
        page = _open(live_stack, new_page).page
        _sign_in(page, "publisher", live_stack.password)
        title = f"Płukanie sieci {uuid.uuid4().hex[:4]}"
        _compose(page, "water", title, "Woda może być mętna do wieczora.",
                 districts=("Śródmieście",))
        page.get_by_role("button", name="Wyślij test do siebie").click()
        dialog = page.get_by_role("dialog")
        dialog.get_by_text("Wysłać test?").wait_for()
        dialog.get_by_role("button", name="Wyślij test").click()
        page.get_by_role("status").filter(has_text="Wysłano test na telefony pracowników (1)"
                                          ).wait_for()
        alert_id = page.evaluate("location.hash").split("/")[-1]
        saved = _alert(live_stack, tokens("publisher"), alert_id)
        assert saved["status"] == "draft" and saved["title"]["pl"] == title
        got = _wait_for(lambda: _sms(live_stack, TEST_PHONE, alert_id))
        assert len(got) == 1 and got[0].startswith("TEST:"), got
        time.sleep(2.5)  # one more local tick: a resident would have had it by now
        everyone = [d for d in live_stack.outbox() if alert_id in d["text"]]
        assert [d["to"] for d in everyone] == [TEST_PHONE]
    finally:
        _settings(live_stack, tokens("admin"), **old)


# ---- 4. feeds ----------------------------------------------------------------------------------

def test_feed_edit_run_now_summary_and_last_error(live_stack: LiveStack, new_page: Any,
                                                  tokens: Any) -> None:
    feed_id = f"kopia-pwik-{uuid.uuid4().hex[:4]}"
    r = requests.put(f"{live_stack.api}/v1/admin/feeds/{feed_id}", headers=tokens("admin"),
                     timeout=10, json={
                         "name": "Kopia PWiK", "adapter": "rss", "schedule": 1440,
                         "url": f"{live_stack.web}/dev/feeds/missing.xml", "category": "water",
                         "districts": [], "auto_publish": False, "enabled": False,
                         "options": {"default_hours": 24}})
    assert r.status_code == 201, r.text
    page = _open(live_stack, new_page).page
    _sign_in(page, "admin", live_stack.password)
    page.get_by_role("link", name="Źródła danych").click()
    row = page.locator(f"#feeds-table tr[data-id='{feed_id}']")
    assert row.locator("td").nth(3).inner_text() == "—"  # never run

    row.get_by_role("button", name=f"Pobierz teraz {feed_id}").click()
    summary = page.locator("#feed-run")
    summary.filter(has_text="błąd").wait_for()
    assert "404" in summary.inner_text()
    row = page.locator(f"#feeds-table tr[data-id='{feed_id}']")
    assert row.locator("td").nth(3).inner_text() != "—"  # last run
    assert "404" in row.locator("td").nth(4).inner_text()  # last error

    row.get_by_role("button", name=f"Edytuj {feed_id}").click()
    form = page.locator("form", has=page.get_by_role("heading", name=f"Edycja źródła {feed_id}"))
    form.get_by_label("Adres (https)").fill(f"{live_stack.web}/dev/feeds/pwik_rss.xml")
    form.get_by_label("Nazwa").fill("Kopia PWiK (RSS)")
    form.get_by_role("button", name="Zapisz źródło").click()
    page.get_by_role("status").filter(has_text="Źródło zapisane").wait_for()
    row = page.locator(f"#feeds-table tr[data-id='{feed_id}']")
    row.get_by_text(f"Kopia PWiK (RSS) ({feed_id})").wait_for()
    stored = requests.get(f"{live_stack.api}/v1/admin/feeds/{feed_id}", headers=tokens("admin"),
                          timeout=10).json()
    assert stored["url"].endswith("/dev/feeds/pwik_rss.xml") and stored["name"] == "Kopia PWiK (RSS)"
    assert stored["auto_publish"] is False and stored["category"] == "water"

    row.get_by_role("button", name=f"Pobierz teraz {feed_id}").click()
    summary.filter(has_text="pobrano poprawnie").wait_for()
    created = int(re.search(r"nowe: (\d+)", summary.inner_text()).group(1))  # type: ignore[union-attr]
    assert created >= 1, summary.inner_text()
    row = page.locator(f"#feeds-table tr[data-id='{feed_id}']")
    assert row.locator("td").nth(4).inner_text() == "—"  # the error is gone
    after = requests.get(f"{live_stack.api}/v1/admin/feeds/{feed_id}", headers=tokens("admin"),
                         timeout=10).json()
    assert after["last_summary"]["created"] == created and not after.get("last_error")
    _no_violations(page)  # with the run summary


# ---- 5. staff accounts -------------------------------------------------------------------------

def test_admin_invites_changes_role_and_disables_a_staff_account(
        live_stack: LiveStack, new_page: Any, tokens: Any) -> None:
    email = f"nowy.{uuid.uuid4().hex[:6]}@local.test"

    def account() -> dict[str, Any]:
        items = requests.get(f"{live_stack.api}/v1/admin/staff", headers=tokens("admin"),
                             timeout=10).json()["items"]
        return next((s for s in items if s["email"] == email), {})

    page = _open(live_stack, new_page).page
    _sign_in(page, "admin", live_stack.password)
    page.get_by_role("link", name="Pracownicy").click()
    invite = page.locator("form", has=page.get_by_role("heading", name="Zaproś pracownika"))
    invite.get_by_label("E-mail").fill(email)
    invite.get_by_label("Rola").select_option("editor")
    invite.get_by_role("button", name="Zaproś pracownika").click()
    page.get_by_role("status").filter(has_text="Zaproszenie wysłane").wait_for()
    row = page.locator("#staff-table tr", has=page.get_by_role("rowheader", name=email))
    row.get_by_text("czeka na pierwsze logowanie").wait_for()
    assert row.get_by_label(f"Rola: {email}").input_value() == "editor"
    assert account()["group"] == "editor" and account()["enabled"] is True

    row.get_by_label(f"Rola: {email}").select_option("publisher")
    row.get_by_role("button", name=f"Zmień rolę: {email}").click()
    page.get_by_role("dialog").get_by_role("button", name="Zmień rolę").click()
    page.get_by_role("status").filter(has_text="Zapisano").wait_for()
    _wait_for(lambda: account().get("group") == "publisher")
    assert account()["group"] == "publisher"
    row = page.locator("#staff-table tr", has=page.get_by_role("rowheader", name=email))
    assert row.get_by_label(f"Rola: {email}").input_value() == "publisher"

    row.get_by_role("button", name=f"Wyłącz konto: {email}").click()
    page.get_by_role("dialog").get_by_role("button", name="Wyłącz konto").click()
    row = page.locator("#staff-table tr", has=page.get_by_role("rowheader", name=email))
    row.get_by_text("wyłączone").wait_for()
    assert row.get_by_role("button", name=f"Włącz konto: {email}").is_visible()
    assert account()["enabled"] is False
    _no_violations(page)
    # the other accounts are as they were
    assert page.locator("#staff-table tr", has_text="editor@local.test").get_by_label(
        "Rola: editor@local.test").input_value() == "editor"


# ---- 6. the legacy CSV import ------------------------------------------------------------------

LEGACY = ("telefon;kategorie;osiedla;jezyk\n"
          "500100911;gaz;Bloki;pl\n"
          "500100912;gaz;Bloki;pl\n"
          "23 672 20 00;gaz;;pl\n"  # a landline
          "500100911;gaz;;pl\n"  # the same person again
          "500100913;karaoke;;pl\n")  # an unknown category


def test_legacy_import_dry_run_reports_then_the_real_run_adds(
        live_stack: LiveStack, new_page: Any, tokens: Any) -> None:
    def counts() -> dict[str, Any]:
        return dict(requests.get(f"{live_stack.api}/v1/admin/subscribers/counts",
                                 headers=tokens("admin"), timeout=10).json())

    before = counts()
    page = _open(live_stack, new_page).page
    _sign_in(page, "admin", live_stack.password)
    page.get_by_role("link", name="Odbiorcy").click()
    total = page.locator("#subs-total")
    total.filter(has_text=str(before["total"])).wait_for()
    gas_row = page.locator("#by-category tr", has=page.get_by_role("rowheader", name="Gaz"))
    gas_before = int(gas_row.locator("td").inner_text())

    page.get_by_label("Plik CSV").set_input_files(files=[{
        "name": "eksport.csv", "mimeType": "text/csv", "buffer": LEGACY.encode("utf-8")}])
    assert page.get_by_label("Próba (niczego nie zmienia)").is_checked()
    page.get_by_role("button", name="Importuj").click()
    report = page.locator("#import-report")
    report.get_by_role("heading", name="Raport próby").wait_for()
    text = report.inner_text()
    assert re.search(r"Dodane\s+2", text) and re.search(r"Pominięte\s+3", text), text
    lines = report.locator("li").all_inner_texts()
    assert len(lines) == 3, lines
    assert "line 4" in lines[0] and "not a mobile number" in lines[0]
    assert "line 5" in lines[1] and "already on line 2" in lines[1]
    assert "line 6" in lines[2] and "karaoke" in lines[2]
    assert all("500100911" not in line for line in lines)  # numbers masked
    assert counts() == before  # the dry run wrote nothing
    assert [d for d in live_stack.outbox() if d["to"] in ("+48500100911", "+48500100912")] == []

    page.get_by_label("Próba (niczego nie zmienia)").uncheck()
    page.get_by_role("button", name="Importuj").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_text("Zaimportować naprawdę?").wait_for()
    dialog.get_by_role("button", name="Importuj").click()
    report.get_by_role("heading", name="Raport importu").wait_for()
    assert re.search(r"Dodane\s+2", report.inner_text())
    _no_violations(page)  # with the report
    # the counts on the page follow
    total.filter(has_text=str(before["total"] + 2)).wait_for()
    gas_row = page.locator("#by-category tr", has=page.get_by_role("rowheader", name="Gaz"))
    assert int(gas_row.locator("td").inner_text()) == gas_before + 2
    after = counts()
    assert after["total"] == before["total"] + 2
    assert after["by_district"].get("bloki", 0) == before["by_district"].get("bloki", 0) + 2
    # one welcome each
    assert _wait_for(lambda: len([d for d in live_stack.outbox()
                                  if d["to"] in ("+48500100911", "+48500100912")]) == 2)


# ---- 7. report photos --------------------------------------------------------------------------

def _jpeg() -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (800, 600), (200, 60, 40)).save(buf, "JPEG")
    return buf.getvalue()


def test_report_detail_shows_the_photo_thumbnail_and_links_the_full_size(
        live_stack: LiveStack, new_page: Any, tokens: Any) -> None:
    from PIL import Image

    r = requests.post(f"{live_stack.api}/v1/reports", timeout=10, json={
        "category": "road_damage", "description": "Zapadnięta studzienka przy ul. 17 Stycznia.",
        "lat": 52.879, "lon": 20.615, "photos": 1})
    assert r.status_code == 201, r.text
    made = r.json()
    form = made["uploads"][0]
    up = requests.post(form["url"], data=form["fields"],
                       files={"file": ("studzienka.jpg", _jpeg(), "image/jpeg")}, timeout=10)
    assert up.status_code in (200, 201, 204), up.text
    assert _wait_for(lambda: requests.get(f"{live_stack.api}/v1/admin/reports/{made['id']}",
                                          headers=tokens("editor"), timeout=10).json()["photos"],
                     seconds=30)

    page = _open(live_stack, new_page).page
    _sign_in(page, "editor", live_stack.password)
    page.goto(f"{live_stack.web}/admin/#/report/{made['id']}")
    img = page.get_by_role("img", name="Zdjęcie 1 — otwórz w pełnym rozmiarze")
    img.wait_for()
    page.wait_for_function("() => { const i = document.querySelector('.photos img');"
                           " return i && i.complete && i.naturalWidth > 0; }")
    shown = page.evaluate("(() => { const i = document.querySelector('.photos img');"
                          " return [i.naturalWidth, i.naturalHeight]; })()")
    assert max(shown) == 320  # the thumbnail, not the original
    link = page.locator(".photos a")
    assert link.get_attribute("target") == "_blank"
    full = requests.get(str(link.get_attribute("href")), timeout=10)
    assert full.status_code == 200
    assert Image.open(io.BytesIO(full.content)).size == (800, 600)  # the full size


# ---- 8. keyboard alone -------------------------------------------------------------------------

def _tab_to(page: Any, matches: str, limit: int = 120) -> None:
    """Press Tab until the focused element satisfies the JS predicate `matches` (on `el`)."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate(f"(() => {{ const el = document.activeElement; return !!({matches}); }})()"):
            visible = page.evaluate("document.activeElement.matches(':focus-visible')")
            assert visible, f"no visible focus on {matches}"
            return
    raise AssertionError(f"Tab never reached {matches}")


def test_compose_and_save_a_draft_by_keyboard_alone(live_stack: LiveStack, new_page: Any,
                                                    tokens: Any) -> None:
    page = _open(live_stack, new_page).page
    page.get_by_label("E-mail").wait_for()
    assert page.evaluate("document.activeElement.name") == "email"  # focus starts in the form
    page.keyboard.type("editor@local.test")
    page.keyboard.press("Tab")
    page.keyboard.type(live_stack.password)
    page.keyboard.press("Enter")
    page.locator("#user").get_by_text("editor@local.test").wait_for()

    _tab_to(page, "el.textContent === 'Nowy komunikat'")
    page.keyboard.press("Enter")
    page.get_by_label("Tytuł (pl)").wait_for()
    _tab_to(page, "el.name === 'category'")
    for _ in range(30):  # arrows move through the options of a closed select
        if page.evaluate("document.activeElement.value") == "roads":
            break
        page.keyboard.press("ArrowDown")
    assert page.get_by_label("Kategoria").input_value() == "roads"
    _tab_to(page, "el.id === 'title-pl'")
    title = f"Objazd ul. Sienkiewicza {uuid.uuid4().hex[:4]}"
    page.keyboard.type(title)
    page.keyboard.press("Tab")
    page.keyboard.type("Zamknięte do piątku, objazd ul. Mikołajczyka.")
    _tab_to(page, "el.id === 'district-srodmiescie'")
    page.keyboard.press("Space")
    assert page.get_by_label("Śródmieście", exact=True).is_checked()
    # the live preview follows what was typed
    page.locator("#sms-preview article[data-lang=pl] .sms-text").filter(
        has_text="Objazd ul. Sienkiewicza").wait_for()
    _tab_to(page, "el.dataset && el.dataset.action === 'save'")
    page.keyboard.press("Enter")
    page.get_by_role("status").filter(has_text="Szkic zapisany").wait_for()
    alert_id = page.evaluate("location.hash").split("/")[-1]
    saved = _alert(live_stack, tokens("editor"), alert_id)
    assert saved["status"] == "draft" and saved["title"]["pl"] == title
    assert saved["category"] == "roads" and saved["districts"] == ["srodmiescie"]
