"""The walking skeleton over HTTP against the running local stack (what `make run` starts)."""
from __future__ import annotations

import socket
import time
from datetime import UTC, datetime, timedelta

import pytest
import requests

from tests.conftest import LiveStack

pytestmark = pytest.mark.stack


def _wait_for(predicate, seconds: float = 20.0):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.3)
    return predicate()


def test_staff_publish_reaches_the_seeded_subscriber_only(live_stack: LiveStack) -> None:
    token = live_stack.token("publisher")
    assert token.count(".") == 2
    auth = {"Authorization": f"Bearer {token}"}
    body = {"category": "water", "severity": "severe", "districts": ["srodmiescie"],
            "title": {"pl": "Awaria sieci wodociągowej"},
            "body": {"pl": "Brak wody w Śródmieściu do godz. 20:00. Beczkowozy przy ratuszu."},
            "expires_at": (datetime.now(UTC) + timedelta(hours=6)).isoformat()}
    r = requests.post(f"{live_stack.api}/v1/admin/alerts", json=body, headers=auth, timeout=10)
    assert r.status_code == 201, r.text
    alert_id = r.json()["id"]
    r = requests.post(f"{live_stack.api}/v1/admin/alerts/{alert_id}/publish", headers=auth,
                      timeout=10)
    assert r.status_code == 200 and r.json()["status"] == "published"

    def delivered() -> list[dict]:
        return [d for d in live_stack.outbox() if alert_id in d["text"]]

    got = _wait_for(delivered)
    to = sorted(d["to"] for d in got if d["channel"] == "sms")
    # seeded: +48500100101 water/srodmiescie, +48500100104 water/whole city;
    # +48500100102 (events only) and +48500100103 (water, zachod) get nothing.
    # (The stack is shared by the session: residents other tests signed up may appear too.)
    assert {"+48500100101", "+48500100104"} <= set(to)
    assert not {"+48500100102", "+48500100103"} & set(to)
    assert to.count("+48500100101") == 1
    assert all(set(d) >= {"channel", "to", "text", "at"} for d in got)

    items = requests.get(f"{live_stack.api}/v1/alerts", timeout=10).json()["items"]
    assert alert_id in [a["id"] for a in items]
    one = requests.get(f"{live_stack.api}/v1/alerts/{alert_id}", timeout=10).json()
    assert one["title"] == "Awaria sieci wodociągowej"


def test_staff_routes_refuse_bad_tokens_over_http(live_stack: LiveStack) -> None:
    url = f"{live_stack.api}/v1/admin/alerts"
    assert requests.get(url, timeout=10).status_code == 401
    assert requests.get(url, headers={"Authorization": "Bearer abc.def.ghi"},
                        timeout=10).status_code == 401
    editor = live_stack.token("editor")
    r = requests.post(f"{live_stack.api}/v1/admin/alerts/x/publish",
                      headers={"Authorization": f"Bearer {editor}"}, timeout=10)
    assert r.status_code == 403 and r.json()["error"]["code"] == "forbidden"


def test_pages_and_outbox_are_served(live_stack: LiveStack) -> None:
    for path in ("/", "/admin/", "/dev/outbox", "/config.js"):
        assert requests.get(live_stack.web + path, timeout=10).status_code == 200, path
    assert isinstance(live_stack.outbox(), list)


def test_scheduled_alert_goes_out_on_the_local_schedule_tick(live_stack: LiveStack) -> None:
    auth = {"Authorization": f"Bearer {live_stack.token('publisher')}"}
    start = datetime.now(UTC) + timedelta(seconds=40)
    body = {"category": "roads", "severity": "minor", "districts": [],
            "title": {"pl": "Zamknięcie ul. Sienkiewicza"}, "body": {"pl": "Objazd ul. Płońską."},
            "starts_at": start.isoformat(), "expires_at": (start + timedelta(hours=2)).isoformat()}
    alert_id = requests.post(f"{live_stack.api}/v1/admin/alerts", json=body, headers=auth,
                             timeout=10).json()["id"]
    r = requests.post(f"{live_stack.api}/v1/admin/alerts/{alert_id}/publish", headers=auth,
                      timeout=10)
    assert r.json()["status"] == "scheduled"
    assert not [d for d in live_stack.outbox() if alert_id in d["text"]]
    got = _wait_for(lambda: [d for d in live_stack.outbox() if alert_id in d["text"]], 70)
    assert got, "the schedule tick did not release the scheduled alert"


def _port_free(url: str) -> bool:
    port = int(url.rsplit(":", 1)[1])
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) != 0


def test_ctrl_c_frees_every_port(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import os
    import signal
    import subprocess
    import sys

    from tests.conftest import ROOT, _free_port

    ports = {"MOTO_PORT": _free_port(), "API_PORT": _free_port(), "WEB_PORT": _free_port()}
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "USER_POOL",
                                                                     "PLATFORM_APP", "JWKS"))}
    env.update({k: str(v) for k, v in ports.items()})
    env["LOCAL_STATE_FILE"] = str(tmp_path / "s.json")
    for _ in range(2):  # a second start works at once
        proc = subprocess.Popen([sys.executable, "-m", "infra.local"], cwd=ROOT, env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        assert proc.stdout is not None
        for line in proc.stdout:
            if line.startswith("staff password:"):
                break
        proc.send_signal(signal.SIGINT)
        proc.wait(20)
        for port in ports.values():
            assert _port_free(f"http://127.0.0.1:{port}"), port
