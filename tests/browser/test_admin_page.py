"""The staff admin page in headless Chromium against the running local stack: sign-in, compose with
a live SMS preview, publish with confirmation into the dev outbox, roles, an expired session that
keeps the draft, resident text rendered as text, a report taken from new to resolved, axe-core."""
from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests

from tests.browser.conftest import axe_violations
from tests.conftest import LiveStack

pytestmark = pytest.mark.browser

XSS = '<img src=x onerror="window.__xss=1"><script>window.__xss=2</script>'


def _wait_for(predicate: Any, seconds: float = 20.0) -> Any:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.3)
    return predicate()


def _open(live_stack: LiveStack, new_page: Any, path: str = "/admin/") -> Any:
    rec = new_page(width=1280, height=900)
    rec.page.on("dialog", lambda d: (rec.errors.append(f"js dialog: {d.message}"), d.dismiss()))
    rec.page.goto(live_stack.web + path)
    return rec


def _sign_in(page: Any, role: str, password: str) -> None:
    page.get_by_label("E-mail").fill(f"{role}@local.test")
    page.get_by_label("Hasło").fill(password)
    page.get_by_role("button", name="Zaloguj się").click()
    page.locator("#nav a").first.wait_for()


def _api(live_stack: LiveStack, role: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {live_stack.token(role)}"}


def _no_violations(page: Any) -> None:
    found = axe_violations(page)
    assert found == [], found


def test_login_page_is_accessible_and_refuses_a_wrong_password(live_stack: LiveStack,
                                                               new_page: Any) -> None:
    rec = _open(live_stack, new_page)
    page = rec.page
    page.get_by_role("heading", name="Logowanie pracownika").wait_for()
    _no_violations(page)
    page.get_by_label("E-mail").fill("publisher@local.test")
    page.get_by_label("Hasło").fill("not-the-password")
    page.get_by_role("button", name="Zaloguj się").click()
    page.get_by_role("alert").filter(has_text="Nieprawidłowy e-mail lub hasło").wait_for()
    assert page.evaluate("sessionStorage.length") == 0
    # English is one click away
    page.get_by_role("button", name="English").click()
    page.get_by_role("heading", name="Staff sign-in").wait_for()
    assert page.evaluate("document.documentElement.lang") == "en"
    page.get_by_role("button", name="Polski").click()
    assert rec.foreign_requests(allowed=[live_stack.web, live_stack.api, live_stack.moto]) == []


def test_publisher_composes_sees_live_preview_and_publishes_to_the_outbox(
        live_stack: LiveStack, new_page: Any) -> None:
    rec = _open(live_stack, new_page)
    page = rec.page
    _sign_in(page, "publisher", live_stack.password)
    _no_violations(page)  # the drafts list
    page.get_by_role("link", name="Nowy komunikat").click()
    page.get_by_label("Kategoria").select_option("water")
    page.get_by_label("Śródmieście").check()
    page.get_by_label("Tytuł (pl)").fill("Awaria")
    preview = page.locator("#sms-preview")
    preview.get_by_text("Treść (pl)").wait_for()  # the preview says what it still needs
    page.get_by_label("Treść (pl)").press_sequentially("Brak wody na ul. Pułtuskiej do 18:00.",
                                                       delay=5)
    pl = preview.locator("article[data-lang=pl]")
    pl.locator(".sms-text").filter(has_text="Brak wody na ul. Pultuskiej").wait_for()
    assert pl.locator(".encoding").inner_text() == "GSM-7"  # Polish letters transliterated
    assert pl.locator(".parts").inner_text() == "1"
    assert int(pl.locator(".chars").inner_text()) <= 160
    # the preview follows the typing (and shortens the body to keep one part)
    title = page.get_by_label("Tytuł (pl)")
    title.press("End")
    title.press_sequentially(" wodociągu", delay=5)
    pl.locator(".sms-text").filter(has_text="Awaria wodociagu. Brak wody").wait_for()
    assert pl.locator(".parts").inner_text() == "1"
    recipients = preview.locator(".recipients").all_inner_texts()
    assert any("SMS: 1" in r or "SMS: 2" in r for r in recipients), recipients
    _no_violations(page)  # the compose view with the map and the preview

    page.get_by_role("button", name="Opublikuj").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_text("Opublikować komunikat?").wait_for()
    dialog.get_by_role("button", name="Tak, opublikuj").click()
    page.wait_for_url("**#/alerts/published")
    row = page.locator("#alerts-published tr", has_text="Awaria wodociągu")
    row.wait_for()
    alert_id = row.get_attribute("data-id")
    assert alert_id

    def sms() -> list[dict[str, Any]]:
        return [d for d in live_stack.outbox()
                if d["channel"] == "sms" and d["to"] == "+48500100101" and alert_id in d["text"]]

    got = _wait_for(sms)
    assert len(got) == 1 and "Awaria wodociagu" in got[0]["text"]
    rec.screenshot("admin-published")


def test_editor_drafts_but_sees_no_publish_button(live_stack: LiveStack, new_page: Any) -> None:
    page = _open(live_stack, new_page).page
    _sign_in(page, "editor", live_stack.password)
    nav = page.locator("#nav").inner_text()
    assert "Komunikaty" in nav and "Zgłoszenia" in nav
    assert "Pracownicy" not in nav and "Źródła danych" not in nav and "Dziennik" not in nav
    page.get_by_role("link", name="Nowy komunikat").click()
    page.get_by_label("Tytuł (pl)").wait_for()
    assert page.get_by_role("button", name="Zapisz szkic").is_visible()
    assert page.get_by_role("button", name="Opublikuj").count() == 0
    assert page.locator("[data-action=cancel], [data-action=approve], [data-action=update]").count() == 0


def test_expired_session_asks_to_sign_in_and_keeps_the_draft(live_stack: LiveStack,
                                                             new_page: Any) -> None:
    page = _open(live_stack, new_page).page
    _sign_in(page, "publisher", live_stack.password)
    page.get_by_role("link", name="Nowy komunikat").click()
    page.get_by_label("Kategoria").select_option("roads")
    page.get_by_label("Całe miasto").check()
    title = "Zamknięcie ul. Sienkiewicza (sesja)"
    page.get_by_label("Tytuł (pl)").fill(title)
    page.get_by_label("Treść (pl)").fill("Ulica zamknięta do piątku, objazd ul. Mikołajczyka.")
    # the session expires while the staff member is writing
    page.evaluate("sessionStorage.setItem('informator.admin.idToken', 'expired.token.value')")
    page.get_by_role("button", name="Zapisz szkic").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_text("Sesja wygasła").wait_for()
    dialog.get_by_label("Hasło").fill(live_stack.password)
    dialog.get_by_role("button", name="Zaloguj się").click()
    page.get_by_role("status").filter(has_text="Szkic zapisany").wait_for()
    assert page.get_by_label("Tytuł (pl)").input_value() == title
    assert page.get_by_role("dialog").count() == 0
    drafts = requests.get(f"{live_stack.api}/v1/admin/alerts?status=draft",
                          headers=_api(live_stack, "publisher"), timeout=10).json()["items"]
    assert title in [a["title"]["pl"] for a in drafts]


def test_resident_and_feed_text_is_rendered_as_text(live_stack: LiveStack, new_page: Any) -> None:
    auth = _api(live_stack, "admin")
    body: dict[str, Any] = {"category": "other", "severity": "minor", "districts": [],
            "title": {"pl": f"Tytuł {XSS}"}, "body": {"pl": f"Treść {XSS}"},
            "expires_at": (datetime.now(UTC) + timedelta(hours=3)).isoformat()}
    r = requests.post(f"{live_stack.api}/v1/admin/alerts", json=body, headers=auth, timeout=10)
    assert r.status_code == 201, r.text
    alert_id = r.json()["id"]
    r = requests.post(f"{live_stack.api}/v1/reports", timeout=10, json={
        "category": "road_damage", "description": f"Dziura {XSS}", "lat": 52.881, "lon": 20.62,
        "photos": 0})
    assert r.status_code == 201, r.text
    report_id = r.json()["id"]

    rec = _open(live_stack, new_page)
    page = rec.page
    _sign_in(page, "admin", live_stack.password)
    page.locator("#alerts-draft").get_by_text(f"Tytuł {XSS}").wait_for()
    page.goto(f"{live_stack.web}/admin/#/alert/{alert_id}")
    page.locator("#sms-preview article").first.wait_for()
    assert page.get_by_label("Tytuł (pl)").input_value() == f"Tytuł {XSS}"
    page.goto(f"{live_stack.web}/admin/#/reports")
    page.locator("#reports-table").get_by_text("Dziura <img src=x").wait_for()
    page.goto(f"{live_stack.web}/admin/#/report/{report_id}")
    assert page.locator("#report-description").inner_text() == f"Dziura {XSS}"
    assert page.evaluate("window.__xss") is None
    assert page.locator("img[src=x], main script").count() == 0
    assert not [e for e in rec.errors if "js dialog" in e]


def test_report_goes_from_new_to_resolved_with_a_reply(live_stack: LiveStack,
                                                       new_page: Any) -> None:
    r = requests.post(f"{live_stack.api}/v1/reports", timeout=10, json={
        "category": "street_lighting", "description": "Nie świeci latarnia przy ul. Orylskiej 5.",
        "lat": 52.872, "lon": 20.6, "photos": 0})
    assert r.status_code == 201, r.text
    report_id, secret = r.json()["id"], r.json()["secret"]
    rec = _open(live_stack, new_page)
    page = rec.page
    _sign_in(page, "editor", live_stack.password)
    page.get_by_role("link", name="Zgłoszenia").click()
    page.get_by_label("Kategoria").select_option("street_lighting")
    page.locator(f"#reports-table tr[data-id='{report_id}'] a").click()
    page.locator("#report-description").filter(has_text="Orylskiej").wait_for()
    _no_violations(page)
    page.get_by_label("Nowy stan").select_option("in_progress")
    page.get_by_label("Notatka publiczna").fill("Zlecono naprawę energetykom.")
    page.get_by_role("button", name="Zapisz stan").click()
    page.locator("#report-status").filter(has_text="w realizacji").wait_for()
    page.get_by_label("Odpowiedź do zgłaszającego").fill("Dziękujemy, naprawa w tym tygodniu.")
    page.get_by_role("button", name="Wyślij odpowiedź").click()
    page.locator("#thread").get_by_text("Dziękujemy, naprawa w tym tygodniu.").wait_for()
    page.get_by_label("Nowy stan").select_option("resolved")
    page.get_by_label("Notatka publiczna").fill("Latarnia naprawiona.")
    page.get_by_role("button", name="Zapisz stan").click()
    page.locator("#report-status").filter(has_text="rozwiązane").wait_for()
    rec.screenshot("admin-report-resolved")
    mine = requests.get(f"{live_stack.api}/v1/reports/{report_id}", headers={"X-Secret": secret},
                        timeout=10).json()
    assert mine["status"] == "resolved" and mine["public_note"] == "Latarnia naprawiona."
    assert "Dziękujemy, naprawa w tym tygodniu." in [e["text"] for e in mine["thread"]]


def test_admin_views_work_and_pass_axe(live_stack: LiveStack, new_page: Any) -> None:
    page = _open(live_stack, new_page).page
    _sign_in(page, "admin", live_stack.password)
    page.get_by_role("link", name="Odbiorcy").click()
    page.locator("#by-category").wait_for()
    assert "+48" not in page.locator("main").inner_text()  # counts only, no numbers
    _no_violations(page)
    page.get_by_role("link", name="Źródła danych").click()
    page.locator("#feeds-table").wait_for()
    _no_violations(page)
    page.get_by_role("link", name="Pracownicy").click()
    page.locator("#staff-table").get_by_text("editor@local.test").wait_for()
    _no_violations(page)
    page.get_by_role("link", name="Dziennik zdarzeń").click()
    page.locator("#audit-table").wait_for()
    _no_violations(page)
    page.get_by_role("link", name="Zgłoszenia").click()
    page.locator("#reports-map").wait_for()
    _no_violations(page)
    page.get_by_role("button", name="Wyloguj").click()
    page.get_by_role("heading", name="Logowanie pracownika").wait_for()
    assert page.evaluate("sessionStorage.getItem('informator.admin.idToken')") is None


def test_first_sign_in_sets_a_new_password(live_stack: LiveStack, new_page: Any) -> None:
    import json

    import boto3

    state = json.loads(open(live_stack.state_file).read())
    idp = boto3.client("cognito-idp", region_name="eu-central-1", endpoint_url=live_stack.moto,
                       aws_access_key_id="testing", aws_secret_access_key="testing")
    pool, email = state["USER_POOL_ID"], "newcomer@local.test"
    idp.admin_create_user(UserPoolId=pool, Username=email, TemporaryPassword="Temp-Pass-2026!",
                          MessageAction="SUPPRESS",
                          UserAttributes=[{"Name": "email", "Value": email},
                                          {"Name": "email_verified", "Value": "true"}])
    idp.admin_add_user_to_group(UserPoolId=pool, Username=email, GroupName="editor")
    page = _open(live_stack, new_page).page
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Hasło").fill("Temp-Pass-2026!")
    page.get_by_role("button", name="Zaloguj się").click()
    page.get_by_text("To pierwsze logowanie").wait_for()
    page.get_by_label("Nowe hasło", exact=True).fill("Moje-Nowe-Haslo-2026!")
    page.get_by_label("Powtórz nowe hasło").fill("Moje-Inne-Haslo-2026!")
    page.get_by_role("button", name="Ustaw hasło i zaloguj").click()
    page.get_by_role("alert").filter(has_text="Hasła muszą być takie same").wait_for()
    page.get_by_label("Powtórz nowe hasło").fill("Moje-Nowe-Haslo-2026!")
    page.get_by_role("button", name="Ustaw hasło i zaloguj").click()
    page.locator("#user").get_by_text(f"{email} · redaktor").wait_for()
    # the new password is the one that works from now on
    resp = idp.initiate_auth(ClientId=state["USER_POOL_CLIENT_ID"], AuthFlow="USER_PASSWORD_AUTH",
                             AuthParameters={"USERNAME": email, "PASSWORD": "Moje-Nowe-Haslo-2026!"})
    assert "AuthenticationResult" in resp


def test_an_account_with_totp_is_asked_for_the_code(live_stack: LiveStack, new_page: Any) -> None:
    """The challenge step in the page (moto accepts any 6-digit code; AWS checks it)."""
    import json

    import boto3

    state = json.loads(open(live_stack.state_file).read())
    idp = boto3.client("cognito-idp", region_name="eu-central-1", endpoint_url=live_stack.moto,
                       aws_access_key_id="testing", aws_secret_access_key="testing")
    pool, email, password = state["USER_POOL_ID"], "totp@local.test", "Totp-Pass-2026!"
    idp.admin_create_user(UserPoolId=pool, Username=email, MessageAction="SUPPRESS",
                          UserAttributes=[{"Name": "email", "Value": email}])
    idp.admin_set_user_password(UserPoolId=pool, Username=email, Password=password, Permanent=True)
    idp.admin_add_user_to_group(UserPoolId=pool, Username=email, GroupName="publisher")
    access = idp.initiate_auth(ClientId=state["USER_POOL_CLIENT_ID"], AuthFlow="USER_PASSWORD_AUTH",
                               AuthParameters={"USERNAME": email, "PASSWORD": password}
                               )["AuthenticationResult"]["AccessToken"]
    idp.associate_software_token(AccessToken=access)
    idp.verify_software_token(AccessToken=access, UserCode="123456")
    idp.set_user_mfa_preference(AccessToken=access, SoftwareTokenMfaSettings={
        "Enabled": True, "PreferredMfa": True})
    page = _open(live_stack, new_page).page
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Hasło").fill(password)
    page.get_by_role("button", name="Zaloguj się").click()
    code = page.get_by_label("Kod z aplikacji uwierzytelniającej")
    code.fill("123456")
    page.get_by_role("button", name="Potwierdź").click()
    page.locator("#user").get_by_text(f"{email} · publikujący").wait_for()
