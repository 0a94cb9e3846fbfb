"""Load on the read path against the local stack (loopback only, bounded in count and time):
every resident opens the app at once after an emergency alert."""
from __future__ import annotations

import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
REQUESTS = int(os.environ.get("BENCH_LOAD_REQUESTS", "800"))
# `chalice local` serves with Python's http.server, whose listen backlog is 5: more concurrent
# clients than that measure the kernel's SYN retries, not the app (Lambda scales out instead).
CONCURRENCY = int(os.environ.get("BENCH_LOAD_CONCURRENCY", "4"))
MAX_SECONDS = 120


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _start() -> tuple[subprocess.Popen[str], str, str]:
    ports = {"MOTO_PORT": _free_port(), "API_PORT": _free_port(), "WEB_PORT": _free_port()}
    state = os.path.join(tempfile.mkdtemp(), "stack.json")
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update({k: str(v) for k, v in ports.items()})
    env["LOCAL_STATE_FILE"] = state
    proc = subprocess.Popen([sys.executable, "-m", "infra.local"], cwd=ROOT, env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    assert proc.stdout is not None
    for line in proc.stdout:
        if line.startswith("staff password:"):
            break
    return proc, f"http://127.0.0.1:{ports['API_PORT']}", state


def run(report: Callable[[str, str, bool | None], None]) -> None:
    import requests

    print(f"read path under load: {REQUESTS} GET /v1/alerts, {CONCURRENCY} at a time, loopback")
    proc, api, state = _start()
    try:
        token = subprocess.run([sys.executable, "-m", "infra.local", "token", "publisher"],
                               cwd=ROOT, env={**os.environ, "LOCAL_STATE_FILE": state},
                               capture_output=True, text=True, check=True).stdout.strip()
        auth = {"Authorization": f"Bearer {token}"}
        body: dict[str, Any] = {"category": "emergency", "severity": "extreme", "districts": [],
                "title": {"pl": "Skażenie wody - nie pić wody z kranu"},
                "body": {"pl": "Woda w całym mieście nie nadaje się do picia."},
                "expires_at": "2099-01-01T00:00:00+01:00"}
        alert = requests.post(f"{api}/v1/admin/alerts", json=body, headers=auth, timeout=10).json()
        requests.post(f"{api}/v1/admin/alerts/{alert['id']}/publish", headers=auth, timeout=10)
        first = requests.get(f"{api}/v1/alerts", timeout=10)
        etag = first.headers["ETag"]
        session_local = requests.Session

        def one(i: int) -> tuple[float, int]:
            s = session_local()
            # half the residents' apps already hold the list and ask conditionally
            headers = {"If-None-Match": etag} if i % 2 else {}
            t = time.perf_counter()
            try:
                status = s.get(f"{api}/v1/alerts", headers=headers, timeout=30).status_code
            except requests.RequestException:
                status = 599  # counted as a failed request
            return time.perf_counter() - t, status

        started = time.perf_counter()
        with ThreadPoolExecutor(max_workers=CONCURRENCY) as pool:
            results = list(pool.map(one, range(REQUESTS), timeout=MAX_SECONDS))
        elapsed = time.perf_counter() - started
        latencies = sorted(r[0] for r in results)
        statuses = [r[1] for r in results]
        p95 = latencies[int(len(latencies) * 0.95) - 1]
        errors = sum(1 for s in statuses if s >= 500)
        conditional = statuses[1::2]
        report("requests per second held", f"{REQUESTS / elapsed:.0f}/s over {elapsed:.1f} s "
               f"(median {statistics.median(latencies) * 1000:.0f} ms, {errors} failed)", errors == 0)
        report("p95 latency of GET /v1/alerts", f"{p95 * 1000:.0f} ms (chalice local, one "
               "process; Lambda scales out instead)", None)
        report("conditional requests answered 304",
               f"{conditional.count(304)} of {len(conditional)}",
               conditional.count(304) == len(conditional))
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
