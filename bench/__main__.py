"""`make bench`: the budgets of DESIGN.md, measured in one run and printed as ratios.

    python -m bench            everything
    python -m bench import     one part: import | request | fanout | feeds | package | memory | load
"""
from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
FAKE_ENV = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": "eu-central-1", "RESOURCE_PREFIX": "informator"}
RESULTS: list[tuple[str, str, bool | None]] = []


def report(name: str, value: str, ok: bool | None) -> None:
    RESULTS.append((name, value, ok))
    mark = {True: "PASS", False: "FAIL", None: "info"}[ok]
    print(f"  [{mark}] {name}: {value}", flush=True)


def _median_import_s(code: str, runs: int = 7) -> float:
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("AWS_")}, **FAKE_ENV}
    times = []
    for _ in range(runs):
        out = subprocess.run([sys.executable, "-c", f"import time;t=time.perf_counter();{code};"
                              "print(time.perf_counter()-t)"], cwd=ROOT, env=env,
                             capture_output=True, text=True, check=True)
        times.append(float(out.stdout.strip().splitlines()[-1]))
    return statistics.median(times)


def bench_import() -> None:
    print("import of `app` for the API function (budget ≤ 1.5 × `import chalice, boto3`)")
    floor = _median_import_s("import chalice, boto3")
    full = _median_import_s("import app")
    ratio = full / floor
    report("import app / import chalice,boto3", f"{full * 1000:.0f} ms / {floor * 1000:.0f} ms "
           f"= {ratio:.2f}×", ratio <= 1.5)
    # Services load on first use (chalicelib/lazy.py): show what a cold GET /v1/alerts pays too.
    first = _median_import_s("import app; import chalicelib.services.alerts")
    report("import app + the alerts service (a cold GET /v1/alerts)",
           f"{first * 1000:.0f} ms = {first / floor:.2f}× the floor", None)
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("AWS_")}, **FAKE_ENV}
    heavy = subprocess.run([sys.executable, "-c", "import app, sys, json; print(json.dumps(sorted("
                            "m for m in ('PIL','lxml','feedparser','defusedxml','pywebpush',"
                            "'cryptography','jwt') if m in sys.modules)))"],
                           cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    loaded = json.loads(heavy.stdout.strip().splitlines()[-1])
    bad = [m for m in loaded if m in ("PIL", "lxml", "feedparser")]
    report("heavy modules imported by `import app`", ", ".join(loaded) or "none", not bad)


def _timeit(fn: Callable[[], Any], n: int) -> float:
    for _ in range(20):
        fn()
    t = time.perf_counter()
    for _ in range(n):
        fn()
    return (time.perf_counter() - t) / n


def _moto() -> Any:
    os.environ.update(FAKE_ENV)
    os.environ.pop("AWS_ENDPOINT_URL", None)
    from moto import mock_aws

    return mock_aws()


def _stack() -> Any:
    import boto3

    from infra.local import create_stack, fixups

    session = boto3.session.Session()
    create_stack(session.client("cloudformation"), prefix="informator")
    os.environ.update(fixups(session, prefix="informator"))
    return session


def bench_request() -> None:
    print("warm request, one DynamoDB read, in-process (budget ≤ 1.5 × a bare Chalice route)")
    with _moto():
        session = _stack()
        from chalice import Chalice
        from chalice.test import Client

        from app import app
        from chalicelib.services import alerts

        alert = alerts.create_draft({
            "category": "water", "severity": "minor", "title": {"pl": "Test"},
            "body": {"pl": "Treść"}, "expires_at": "2099-01-01T00:00:00+01:00"}, "bench")
        alerts.publish(alert["id"], "bench", enqueue=lambda *_: None)
        bare = Chalice(app_name="bare")
        ddb = session.client("dynamodb")

        @bare.route("/raw/{alert_id}")
        def raw(alert_id: str) -> dict[str, Any]:
            item = ddb.get_item(TableName="informator-alerts", Key={"id": {"S": alert_id}})["Item"]
            return {"id": item["id"]["S"], "title": item["title"]["S"]}

        n = 300
        with Client(bare) as c1, Client(app) as c2:
            assert c1.http.get(f"/raw/{alert['id']}").status_code == 200
            assert c2.http.get(f"/v1/alerts/{alert['id']}").status_code == 200
            t_bare = _timeit(lambda: c1.http.get(f"/raw/{alert['id']}"), n)
            t_app = _timeit(lambda: c2.http.get(f"/v1/alerts/{alert['id']}"), n)
        ratio = t_app / t_bare
        report("GET /v1/alerts/{id} / bare raw GetItem route",
               f"{t_app * 1e3:.2f} ms / {t_bare * 1e3:.2f} ms = {ratio:.2f}×", ratio <= 1.5)


def bench_fanout() -> None:
    print("SNS calls for one alert (budget: the same for 10 and 10,000 subscribers)")
    counts = {}
    for subscribers in (10, 10_000):
        with _moto():
            _stack()
            from chalicelib.aws import reset_clients
            from chalicelib.services import alerts, fanout
            from chalicelib.services.audience import filter_policy
            from infra.outbox import sns_backend, topic_publishes

            reset_clients()
            backend = sns_backend()
            topic = "arn:aws:sns:eu-central-1:123456789012:informator-alerts-water"
            policy = json.dumps(filter_policy(["srodmiescie"], "pl", "sms"))
            for i in range(subscribers):
                sub = backend.subscribe(topic, f"+48500{i:06d}", "sms")
                backend.set_subscription_attributes(sub.arn, "FilterPolicy", policy)
            calls: list[str] = []
            from chalicelib.aws import get_sns_publisher

            client = get_sns_publisher()
            def count(model: Any, calls: list[str] = calls, **_: Any) -> None:
                calls.append(model.name)

            client.meta.events.register("before-call.sns.*", count)
            alert = alerts.create_draft({
                "category": "water", "severity": "minor", "districts": ["srodmiescie"],
                "title": {"pl": "Brak wody", "en": "No water"}, "body": {"pl": "Awaria.",
                                                                         "en": "Failure."},
                "expires_at": "2099-01-01T00:00:00+01:00"}, "bench")
            alerts.publish(alert["id"], "bench", enqueue=lambda *_: None)
            fanout.deliver(alert["id"], 1)
            counts[subscribers] = len(calls)
            assert len(topic_publishes(backend)) == len(calls)
    report("SNS calls for 10 / 10,000 subscribers", f"{counts[10]} / {counts[10_000]}",
           counts[10] == counts[10_000])


def bench_feeds() -> None:
    print("feed import, 1,000 items (budget: a re-run writes nothing and sends nothing)")
    try:
        from bench.feeds import run as feeds_run
    except ImportError:
        report("feed re-run", "not measured: bench/feeds.py is not there yet", None)
        return
    feeds_run(report, _moto, _stack)


def bench_package() -> None:
    print("deployment package (budget: app zip ≤ 1 MB; the layer's size reported)")
    build = ROOT / "build"
    app_zip, layer = build / "deployment.zip", build / "layer-deployment.zip"
    if not app_zip.exists():
        report("package", "not measured: run `make package` first (needs the registry)", None)
        return
    import zipfile

    size = app_zip.stat().st_size
    report("app zip", f"{size / 1024:.0f} KB", size <= 1024 * 1024)
    if layer.exists():
        unzipped = sum(i.file_size for i in zipfile.ZipFile(layer).infolist())
        report("layer", f"{layer.stat().st_size / 2**20:.1f} MB zipped, "
               f"{unzipped / 2**20:.1f} MB unzipped (Lambda allows 250 MB)", unzipped < 250 * 2**20)


def bench_memory() -> None:
    from bench.memory import run as memory_run

    memory_run(report)


def bench_load() -> None:
    from bench.load import run as load_run

    load_run(report)


PARTS = {"import": bench_import, "request": bench_request, "fanout": bench_fanout,
         "feeds": bench_feeds, "package": bench_package, "memory": bench_memory, "load": bench_load}


def main(argv: list[str]) -> int:
    chosen = argv or list(PARTS)
    for name in chosen:
        PARTS[name]()
    failed = [r for r in RESULTS if r[2] is False]
    print(f"\n{len(RESULTS)} measurements, {len(failed)} over budget")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    raise SystemExit(main(sys.argv[1:]))
