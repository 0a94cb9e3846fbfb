"""Peak memory of the API function's work and of the photo function, each in its own process.

    python -m bench.memory api       a request mix through chalice.test.Client against moto
    python -m bench.memory photo     a ~10 MB, 12-megapixel JPEG through the photo processing

Each prints one JSON line. `ru_maxrss` is the process's peak resident set (what Lambda's memory
size must hold); tracemalloc's peak counts Python allocations only (Pillow's pixel buffers are
C allocations it cannot see, so for the photo the resident set is the figure that matters).
The `run` function below starts them from `make bench` and checks the budgets.
"""
from __future__ import annotations

import gc
import io
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
API_BUDGET_MB = 256
API_COMFORT = 0.7  # "comfortably inside": at least 30 % headroom
PHOTO_BUDGET_MB = 1024
ROUNDS = 20
PHOTO_W, PHOTO_H = 4000, 3000  # 12 megapixels
PHOTO_TARGET = 9_800_000  # just under the 10 MiB upload cap (10,485,760 bytes)
FAKE_ENV = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_SESSION_TOKEN": "testing", "AWS_DEFAULT_REGION": "eu-central-1",
            "AWS_REGION": "eu-central-1", "RESOURCE_PREFIX": "informator",
            "SITE_URL": "https://informator.ciechanow.pl",
            "API_URL": "https://api.informator.ciechanow.pl"}


def _maxrss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def _proc_mb(field: str) -> float:
    """VmHWM (peak) or VmRSS (now) of this process's own memory. Unlike ru_maxrss, VmHWM does
    not inherit the parent's peak across fork+exec (Linux carries ru_maxrss over an exec)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return 0.0


# ---- the API function -------------------------------------------------------------------------

def _api_import_only() -> dict[str, Any]:
    """What a warm API Lambda holds before any request: app plus the services the mix uses."""
    import app  # noqa: F401
    import chalicelib.auth  # noqa: F401
    from chalicelib.services import alerts, reports, subscriptions  # noqa: F401

    return {"maxrss_mb": round(_maxrss_mb(), 1), "hwm_mb": round(_proc_mb("VmHWM"), 1)}


def _api_work() -> dict[str, Any]:
    """The request mix, with AWS (moto server) in another process: this process holds what the
    API Lambda would hold. The stack and a staff token come from `run` in the environment."""
    trace = "--trace" in sys.argv
    before_mb = _proc_mb("VmHWM")
    if trace:
        tracemalloc.start()
    from chalice.test import Client

    from app import app

    app.debug = bool(os.environ.get("BENCH_DEBUG"))
    staff = {"Authorization": f"Bearer {os.environ['BENCH_TOKEN']}",
             "Content-Type": "application/json"}
    plain = {"Content-Type": "application/json"}
    counts: dict[int, int] = {}
    rss: list[float] = []
    t = time.perf_counter()
    with Client(app) as c:
        def ask(method: str, path: str, body: Any = None, headers: Any = None) -> Any:
            r = getattr(c.http, method)(path, headers=headers or plain,
                                        body=json.dumps(body) if body is not None else None)
            counts[r.status_code] = counts.get(r.status_code, 0) + 1
            if r.status_code >= 400:
                print(method, path, r.status_code, r.body[-1500:], file=sys.stderr)
            return r

        for i in range(ROUNDS):
            made = ask("post", "/v1/admin/alerts", {
                "category": "water", "severity": "moderate", "districts": ["srodmiescie"],
                "title": {"pl": f"Brak wody nr {i}", "en": f"No water no. {i}"},
                "body": {"pl": "Awaria wodociągu na ul. Płońskiej. " * 8,
                         "en": "Water main failure. " * 8},
                "expires_at": "2099-01-01T00:00:00+01:00"}, staff).json_body
            ask("post", f"/v1/admin/alerts/{made['id']}/publish", None, staff)
            listed = ask("get", "/v1/alerts?lang=pl")
            ask("get", "/v1/alerts", headers={"If-None-Match": listed.headers["ETag"]})
            ask("get", f"/v1/alerts/{made['id']}")
            ask("post", "/v1/sms-subscriptions", {
                "phone": f"+48 500 200 {i:03d}", "categories": ["water"],
                "districts": ["srodmiescie"], "lang": "pl"})
            ask("post", "/v1/reports", {
                "category": "road_damage", "description": f"Dziura w jezdni nr {i}. " * 10,
                "lat": 52.881, "lon": 20.619, "photos": 3})
            rss.append(round(_proc_mb("VmRSS"), 1))
    elapsed = time.perf_counter() - t
    peak = tracemalloc.get_traced_memory()[1] if trace else 0
    tracemalloc.stop()
    return {"requests": sum(counts.values()), "statuses": counts, "seconds": round(elapsed, 1),
            "tracemalloc_peak_mb": round(peak / 2**20, 1), "maxrss_mb": round(_maxrss_mb(), 1),
            "hwm_mb": round(_proc_mb("VmHWM"), 1), "hwm_before_app_mb": round(before_mb, 1),
            "rss_after_round": rss}


def _local_aws() -> tuple[subprocess.Popen[bytes], dict[str, str]]:
    """moto server in its own process, the infra template in it, a publisher's ID token."""
    import socket
    import urllib.request

    import boto3

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    proc = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p",
                             str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    endpoint = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            urllib.request.urlopen(f"{endpoint}/moto-api/", timeout=1)  # noqa: S310 - loopback
            break
        except OSError:
            time.sleep(0.1)
    env = {**FAKE_ENV, "AWS_ENDPOINT_URL": endpoint, "IP_LIMIT_PER_HOUR": "1000",
           "LOCAL_STAFF_PASSWORD": "Informator-2026!"}
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        import warnings

        from infra.local import create_stack, fixups

        warnings.filterwarnings("ignore", message="Tried to parse")
        session = boto3.session.Session()
        create_stack(session.client("cloudformation"), prefix="informator")
        env.update(fixups(session, prefix="informator"))
        env["JWKS_URL"] = f"{endpoint}/{env['USER_POOL_ID']}/.well-known/jwks.json"
        env["BENCH_TOKEN"] = session.client("cognito-idp").initiate_auth(
            ClientId=env["USER_POOL_CLIENT_ID"], AuthFlow="USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": "publisher@local.test", "PASSWORD": "Informator-2026!"},
        )["AuthenticationResult"]["IdToken"]
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    return proc, env


# ---- the photo function -----------------------------------------------------------------------

def make_photo(target: int = PHOTO_TARGET) -> bytes:
    """A 12-megapixel JPEG of ~10 MB: a gradient under noise, the quality searched for the size."""
    from PIL import Image

    rng = Image.effect_noise((PHOTO_W, PHOTO_H), 64)  # grey Gaussian noise around 128
    grad = Image.linear_gradient("L").resize((PHOTO_W, PHOTO_H))
    noise = Image.merge("RGB", (rng, Image.effect_noise((PHOTO_W, PHOTO_H), 64), grad))
    base = Image.merge("RGB", (grad, grad.transpose(Image.Transpose.FLIP_TOP_BOTTOM),
                               grad.transpose(Image.Transpose.ROTATE_180)))
    mixed = Image.blend(base, noise, 0.5)
    lo, hi, best = 30, 98, b""
    for _ in range(8):
        q = (lo + hi) // 2
        buf = io.BytesIO()
        mixed.save(buf, format="JPEG", quality=q)
        data = buf.getvalue()
        if len(data) <= target:
            best, lo = data, q + 1
        else:
            hi = q - 1
        if lo > hi:
            break
    if not best:
        raise RuntimeError("could not make a photo under the upload cap")
    return best


def _make_photo() -> dict[str, Any]:
    data = make_photo()
    Path(sys.argv[2]).write_bytes(data)
    return {"bytes": len(data)}


def _photo() -> dict[str, Any]:
    """The photo made by another process (making it here would inflate the resident set)."""
    data = Path(sys.argv[2]).read_bytes()
    gc.collect()
    before_mb = _proc_mb("VmHWM")
    tracemalloc.start()
    from chalicelib.services import photos

    t = time.perf_counter()
    made = photos.derivatives(data)  # everything process_upload does between S3 get and put
    elapsed = time.perf_counter() - t
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    from PIL import Image

    with Image.open(io.BytesIO(data)) as im:
        size = im.size
    return {"bytes": len(data), "pixels": size[0] * size[1], "seconds": round(elapsed, 2),
            "display": list(made["display"][1:]), "thumb": list(made["thumb"][1:]),
            "tracemalloc_peak_mb": round(peak / 2**20, 1), "maxrss_mb": round(_maxrss_mb(), 1),
            "hwm_mb": round(_proc_mb("VmHWM"), 1), "hwm_before_mb": round(before_mb, 1)}


# ---- from `make bench` ------------------------------------------------------------------------

def _child(*args: str, extra: dict[str, str] | None = None) -> dict[str, Any]:
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("AWS_")}, **FAKE_ENV,
           **(extra or {})}
    out = subprocess.run([sys.executable, "-m", "bench.memory", *args], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=600)
    if out.returncode != 0:
        raise RuntimeError(f"bench.memory {' '.join(args)} failed:\n{out.stderr[-3000:]}")
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def run(report: Callable[[str, str, bool | None], None]) -> None:
    print(f"peak memory of the API function (budget: comfortably inside {API_BUDGET_MB} MB, "
          f"taken as ≤ {API_COMFORT:.0%} of it) and of the photo function (budget ≤ "
          f"{PHOTO_BUDGET_MB} MB); peaks are VmHWM of the measuring process, ru_maxrss beside")
    idle = _child("api-import")
    moto, aws_env = _local_aws()
    try:
        work = _child("api", extra=aws_env)
        traced = _child("api", "--trace", extra=aws_env)
    finally:
        moto.terminate()
        moto.wait(10)
    ok_statuses = all(200 <= int(s) < 400 for s in work["statuses"])
    report("API function: resident after `import app` + the services of the mix",
           f"{idle['hwm_mb']} MB (ru_maxrss {idle['maxrss_mb']} MB)", None)
    rss = work["rss_after_round"]
    report(f"API function: peak over {work['requests']} requests ({ROUNDS} × create+publish an "
           "alert as staff, list, list→304, get one, SMS code request, report with 3 photos; "
           "AWS in another process)",
           f"{work['hwm_mb']} MB of {API_BUDGET_MB} MB = {work['hwm_mb'] / API_BUDGET_MB:.0%} "
           f"(ru_maxrss {work['maxrss_mb']} MB; before `import app` {work['hwm_before_app_mb']} "
           f"MB; statuses {work['statuses']})", ok_statuses and work["hwm_mb"] <= API_BUDGET_MB * API_COMFORT)
    report("API function: resident after round 1 / last round (growth would be a leak)",
           f"{rss[0]} MB / {rss[-1]} MB", rss[-1] - rss[0] <= 16)
    report("API function: Python allocations peak (tracemalloc, separate run)",
           f"{traced['tracemalloc_peak_mb']} MB", None)
    with tempfile.TemporaryDirectory() as tmp:
        path = str(Path(tmp) / "photo.jpg")
        _child("photo-make", path)
        photo = _child("photo", path)
    report(f"photo function: {photo['bytes'] / 1e6:.1f} MB, {photo['pixels'] / 1e6:.0f}-megapixel"
           " JPEG → display + thumbnail",
           f"peak {photo['hwm_mb']} MB of {PHOTO_BUDGET_MB} MB = "
           f"{photo['hwm_mb'] / PHOTO_BUDGET_MB:.0%} (ru_maxrss {photo['maxrss_mb']} MB; photo "
           f"read in: {photo['hwm_before_mb']} MB; Python allocations peak "
           f"{photo['tracemalloc_peak_mb']} MB); {photo['seconds']} s",
           photo["hwm_mb"] <= PHOTO_BUDGET_MB and photo["bytes"] >= 9_000_000)


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    part = sys.argv[1] if len(sys.argv) > 1 else ""
    fn = {"api-import": _api_import_only, "api": _api_work, "photo": _photo,
          "photo-make": _make_photo}[part]
    print(json.dumps(fn()))
