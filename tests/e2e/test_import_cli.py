"""The legacy import command against the running local stack, as the city's administrator runs it:
`python -m infra.admin import-subscribers FILE.csv [--dry-run]` with the stack's state file."""
from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.conftest import ROOT, LiveStack

pytestmark = pytest.mark.stack

# numbers and choices of their own (no water in Śródmieście: the walking-skeleton test counts
# exactly who gets that), so that the seeded subscribers and other live tests do not interfere
CSV = ("telefon;kategorie;osiedla;jezyk\n"
       "500 100 901;gaz, ogrzewanie;Kargoszyn;pl\n"
       "+48500100902;pogoda;;angielski\n"
       "23 672 20 00;woda;;pl\n")  # a landline: skipped with one line
NEW = ["+48500100901", "+48500100902"]


def cli(live_stack: LiveStack, *args: str) -> subprocess.CompletedProcess[str]:
    # the test process carries moto-in-process settings (fake keys, prefix "informator"); the
    # command must take everything from the stack's state file, as on an administrator's machine
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("AWS_", "RESOURCE_PREFIX", "USER_POOL", "PLATFORM_APP", "JWKS",
                                "SITE_URL", "API_URL"))}
    env["LOCAL_STATE_FILE"] = live_stack.state_file
    return subprocess.run([sys.executable, "-m", "infra.admin", "import-subscribers", *args],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)


def counts(live_stack: LiveStack) -> dict[str, Any]:
    r = requests.get(f"{live_stack.api}/v1/admin/subscribers/counts", timeout=10,
                     headers={"Authorization": f"Bearer {live_stack.token('admin')}"})
    assert r.status_code == 200, r.text
    return dict(r.json())


def welcomes_to(live_stack: LiveStack, phone: str) -> list[str]:
    # only the welcome: the dev outbox also lists, for every subscription, the topic publishes
    # made before it existed (moto keeps no time for either), e.g. the seeded alerts
    return [d["text"] for d in live_stack.outbox()
            if d["channel"] == "sms" and d["to"] == phone and d["topic"] is None]


def test_dry_run_then_import_then_again_on_the_running_stack(live_stack: LiveStack,
                                                              tmp_path: Path) -> None:
    path = tmp_path / "legacy.csv"
    path.write_text(CSV, encoding="utf-8")
    before = counts(live_stack)

    dry = cli(live_stack, str(path), "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert "2 would be added" in dry.stdout and "1 skipped" in dry.stdout
    assert "line 4: skipped: not a mobile number" in dry.stdout
    assert not any(p in dry.stdout for p in NEW)  # numbers masked
    assert counts(live_stack) == before
    assert all(welcomes_to(live_stack, p) == [] for p in NEW)

    run = cli(live_stack, str(path))
    assert run.returncode == 0, run.stderr
    assert "2 were added" in run.stdout and "2 welcome SMS sent" in run.stdout
    after = counts(live_stack)
    assert after["total"] == before["total"] + 2
    assert after["by_channel"]["sms"] == before["by_channel"].get("sms", 0) + 2
    assert after["by_lang"]["en"] == before["by_lang"].get("en", 0) + 1
    assert after["by_category"]["weather"] == before["by_category"].get("weather", 0) + 1
    for phone in NEW:
        deadline = time.monotonic() + 10
        while not welcomes_to(live_stack, phone) and time.monotonic() < deadline:
            time.sleep(0.3)
        texts = welcomes_to(live_stack, phone)
        assert len(texts) == 1, texts
        assert "zapisano" in texts[0] and "/sms" in texts[0]  # the welcome says how to leave

    again = cli(live_stack, str(path))
    assert again.returncode == 0, again.stderr
    assert "0 were added" in again.stdout and "2 unchanged" in again.stdout
    assert "0 welcome SMS sent" in again.stdout
    assert counts(live_stack) == after
    assert [len(welcomes_to(live_stack, p)) for p in NEW] == [1, 1]


def test_without_a_running_stack_the_command_says_so(tmp_path: Path) -> None:
    path = tmp_path / "legacy.csv"
    path.write_text(CSV, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env["LOCAL_STATE_FILE"] = str(tmp_path / "no-stack.json")
    out = subprocess.run([sys.executable, "-m", "infra.admin", "import-subscribers", str(path)],
                         cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert out.returncode != 0
    assert "start the local stack" in out.stderr
