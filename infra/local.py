"""The local stack: moto server, the infra template, chalice local, the pages, the dev outbox.

    python -m infra.local            start everything (what `make run` does); Ctrl-C stops it
    python -m infra.local token ROLE print an ID token for editor|publisher|admin (stack running)

One process owns moto (in a thread, so the dev outbox can read moto's state), the static server
and the loop that fires the schedule and drains the queues; `chalice local` is a child process.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
STATE = Path(os.environ.get("LOCAL_STATE_FILE", str(ROOT / ".local" / "stack.json")))
REGION = "eu-central-1"
ACCOUNT = "123456789012"
PREFIX = "informator-local"
STAFF = ("editor", "publisher", "admin")


def ports() -> dict[str, int]:
    return {"moto": int(os.environ.get("MOTO_PORT", "5000")),
            "api": int(os.environ.get("API_PORT", "8000")),
            "web": int(os.environ.get("WEB_PORT", "8080"))}


def password() -> str:
    return os.environ.get("LOCAL_STAFF_PASSWORD", "Informator-2026!")


def base_env(moto_port: int) -> dict[str, str]:
    return {
        "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",  # noqa: S105 - fake
        "AWS_SESSION_TOKEN": "testing", "AWS_DEFAULT_REGION": REGION, "AWS_REGION": REGION,
        "AWS_ENDPOINT_URL": f"http://127.0.0.1:{moto_port}", "AWS_ACCOUNT_ID": ACCOUNT,
        "RESOURCE_PREFIX": PREFIX, "STAGE": "local", "DEV_OUTBOX": "1",
        "IP_LIMIT_PER_HOUR": os.environ.get("IP_LIMIT_PER_HOUR", "1000"),
    }


# ---- resources --------------------------------------------------------------------------------

def create_stack(cfn: Any, prefix: str = PREFIX) -> None:
    body = (ROOT / "infra" / "template.yaml").read_text()
    cfn.create_stack(StackName=prefix, TemplateBody=body,
                     Parameters=[{"ParameterKey": "Prefix", "ParameterValue": prefix}])
    status = "?"
    for _ in range(120):
        status = cfn.describe_stacks(StackName=prefix)["Stacks"][0]["StackStatus"]
        if status.endswith("_COMPLETE") or status.endswith("_FAILED"):
            break
        time.sleep(0.25)
    if status != "CREATE_COMPLETE":
        raise SystemExit(f"stack creation ended in {status}")


def fixups(session: Any, prefix: str = PREFIX) -> dict[str, str]:
    """What moto's CloudFormation skips: TTL, Cognito, SNS platform applications."""
    ddb = session.client("dynamodb")
    for table in ("codes", "counters", "webpush"):
        ddb.update_time_to_live(TableName=f"{prefix}-{table}", TimeToLiveSpecification={
            "Enabled": True, "AttributeName": "ttl"})
    idp = session.client("cognito-idp")
    pool = idp.create_user_pool(PoolName=f"{prefix}-staff", UsernameAttributes=["email"],
                                AutoVerifiedAttributes=["email"])["UserPool"]["Id"]
    client = idp.create_user_pool_client(
        UserPoolId=pool, ClientName=f"{prefix}-admin-page", GenerateSecret=False,
        ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH",
                           "ALLOW_USER_SRP_AUTH"])["UserPoolClient"]["ClientId"]
    for precedence, group in enumerate(reversed(STAFF), start=1):
        idp.create_group(GroupName=group, UserPoolId=pool, Precedence=precedence)
    for group in STAFF:
        email = f"{group}@local.test"
        idp.admin_create_user(UserPoolId=pool, Username=email, MessageAction="SUPPRESS",
                              UserAttributes=[{"Name": "email", "Value": email},
                                              {"Name": "email_verified", "Value": "true"}])
        idp.admin_set_user_password(UserPoolId=pool, Username=email, Password=password(),
                                    Permanent=True)
        idp.admin_add_user_to_group(UserPoolId=pool, Username=email, GroupName=group)
    sns = session.client("sns")
    fcm = sns.create_platform_application(Name=f"{prefix}-fcm", Platform="GCM",
                                          Attributes={"PlatformCredential": "local-fake"})
    apns = sns.create_platform_application(Name=f"{prefix}-apns", Platform="APNS_SANDBOX",
                                           Attributes={"PlatformCredential": "local-fake",
                                                       "PlatformPrincipal": "local-fake"})
    sns.set_sms_attributes(attributes={"DefaultSMSType": "Transactional",
                                       "DefaultSenderID": "Ciechanow"})
    # moto's CloudFormation skips the bucket's NotificationConfiguration: uploads → photos queue
    sqs_arn = f"arn:aws:sqs:{session.region_name or REGION}:{ACCOUNT}:{prefix}-photos"
    session.client("s3").put_bucket_notification_configuration(
        Bucket=f"{prefix}-photos-{ACCOUNT}", NotificationConfiguration={"QueueConfigurations": [{
            "QueueArn": sqs_arn, "Events": ["s3:ObjectCreated:*"],
            "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": "uploads/"}]}}}]})
    return {"USER_POOL_ID": pool, "USER_POOL_CLIENT_ID": client,
            "PLATFORM_APP_FCM_ARN": fcm["PlatformApplicationArn"],
            "PLATFORM_APP_APNS_ARN": apns["PlatformApplicationArn"],
            "PHOTO_BUCKET": f"{prefix}-photos-{ACCOUNT}", **webpush_fixups(session, prefix)}


def webpush_fixups(session: Any, prefix: str) -> dict[str, str]:
    """Web Push: a VAPID key made at start (SSM SecureString, as in production) and the
    category topics → webpush queue subscriptions that moto's CloudFormation skips."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    from chalicelib.city import CATEGORIES

    pem = ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()).decode()
    name = f"/{prefix}/webpush/vapid-private-key"
    session.client("ssm").put_parameter(Name=name, Value=pem, Type="SecureString",
                                        Overwrite=True)
    sns, region = session.client("sns"), session.region_name or REGION
    queue_arn = f"arn:aws:sqs:{region}:{ACCOUNT}:{prefix}-webpush"
    for category in CATEGORIES:
        topic = f"arn:aws:sns:{region}:{ACCOUNT}:{prefix}-alerts-{category}"
        existing = sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]
        if not any(sub["Endpoint"] == queue_arn for sub in existing):
            sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn, Attributes={
                "RawMessageDelivery": "true", "FilterPolicy": json.dumps({"channel": ["web"]})})
    return {"VAPID_PARAMETER": name}


def seed() -> None:
    """Demo data: a few alerts and SMS subscribers (numbers from a range nobody holds)."""
    from datetime import timedelta

    from chalicelib.services import alerts, subscriptions
    from chalicelib.services.clock import iso, now

    demo_subscribers = [
        ("+48500100101", ["water"], ["srodmiescie"], "pl"),
        ("+48500100102", ["events"], [], "pl"),
        ("+48500100103", ["water"], ["zachod"], "pl"),
        ("+48500100104", ["water", "electricity", "heating", "roads", "weather"], [], "en"),
        ("+48500100105", ["electricity", "gas"], ["plonska", "kargoszyn"], "uk"),
    ]
    for phone, cats, dists, lang in demo_subscribers:
        subscriptions.activate_sms(phone, {"categories": cats, "districts": dists, "lang": lang},
                                   consent_by="seed", source="demo")
    t = now()
    demo_alerts = [
        {"category": "roads", "severity": "minor", "districts": ["srodmiescie"],
         "title": {"pl": "Remont ul. Warszawskiej", "en": "Roadworks on Warszawska Street"},
         "body": {"pl": "Utrudnienia w ruchu na ul. Warszawskiej między ul. Sienkiewicza a "
                        "pl. Jana Pawła II. Objazd przez ul. Płońską.",
                  "en": "Traffic disruption on Warszawska Street. Detour via Płońska Street."},
         "expires_at": iso(t + timedelta(days=5))},
        {"category": "weather", "severity": "moderate", "districts": [],
         "title": {"pl": "Silny wiatr", "uk": "Сильний вітер"},
         "body": {"pl": "IMGW ostrzega przed silnym wiatrem do 70 km/h. Zabezpiecz rzeczy na "
                        "balkonach.", "uk": "IMGW попереджає про сильний вітер до 70 км/год."},
         "expires_at": iso(t + timedelta(hours=20))},
    ]
    for body in demo_alerts:
        draft = alerts.create_draft(body, "publisher@local.test")
        alerts.publish(draft["id"], "publisher@local.test")
    from chalicelib.services import feeds

    # the seeded feeds read the samples the web server serves under /dev/feeds/, not the internet
    feeds.seed_feeds(local_base=os.environ.get("SITE_URL", f"http://127.0.0.1:{ports()['web']}"))


# ---- the static pages and the dev outbox ------------------------------------------------------

def make_web_handler(conf: dict[str, Any]) -> type[SimpleHTTPRequestHandler]:
    from infra.outbox import deliveries, sns_backend

    web_root = str(ROOT / "web")

    class Handler(SimpleHTTPRequestHandler):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, directory=web_root, **kwargs)

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            pass

        def _send(self, body: bytes, ctype: str) -> None:
            self.send_response(200)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:  # noqa: N802
            path = self.path.split("?")[0]
            if path == "/config.js":
                self._send(("window.INFORMATOR_CONFIG = " + json.dumps(conf) + ";\n").encode(),
                           "text/javascript; charset=utf-8")
            elif path == "/dev/outbox.json":
                self._send(json.dumps(deliveries(sns_backend()), ensure_ascii=False).encode(),
                           "application/json; charset=utf-8")
            elif path.startswith("/dev/feeds/"):
                body = dev_feed(path)
                if body is None:
                    self.send_error(404)
                else:
                    self._send(body, "application/xml" if path.endswith(".xml") else
                               "application/json; charset=utf-8")
            elif path in ("/dev/outbox", "/dev/outbox/"):
                self.path = "/dev/outbox.html"
                super().do_GET()
            else:
                super().do_GET()

    return Handler


def dev_feed(path: str) -> bytes | None:
    """A sample feed from web/dev/feeds/ with its dates moved to today (@DAY+N@, @RFC822+N@),
    so the local feeds import current warnings without calling the internet."""
    import re
    from datetime import datetime, timedelta
    from email.utils import format_datetime
    from zoneinfo import ZoneInfo

    name = path.rsplit("/", 1)[-1]
    file = ROOT / "web" / "dev" / "feeds" / name
    if "/" in path[len("/dev/feeds/"):] or not file.is_file():
        return None
    today = datetime.now(ZoneInfo("Europe/Warsaw")).replace(hour=6, minute=0, second=0,
                                                            microsecond=0)
    text = file.read_text(encoding="utf-8")
    text = re.sub(r"@DAY([+-]\d+)@", lambda m: (today + timedelta(days=int(m[1]))).strftime(
        "%Y-%m-%d"), text)
    text = re.sub(r"@RFC822([+-]\d+)@", lambda m: format_datetime(
        today + timedelta(days=int(m[1]))), text)
    return text.encode("utf-8")


# ---- the loop: schedule ticks and queue drains ------------------------------------------------

def sqs_event(messages: list[dict[str, Any]], queue_arn: str) -> dict[str, Any]:
    return {"Records": [{"messageId": m["MessageId"], "receiptHandle": m["ReceiptHandle"],
                         "body": m["Body"], "attributes": m.get("Attributes", {}),
                         "messageAttributes": {k: {"stringValue": v.get("StringValue"),
                                                   "dataType": v.get("DataType")}
                                               for k, v in m.get("MessageAttributes", {}).items()},
                         "md5OfBody": m.get("MD5OfBody", ""),
                         "eventSource": "aws:sqs", "eventSourceARN": queue_arn,
                         "awsRegion": REGION} for m in messages]}


def drain(session: Any, queue: str, handler: Any, prefix: str = PREFIX,
          raise_errors: bool = False) -> int:
    """Deliver queue messages to a handler as Lambda would: delete on success, retry on error."""
    sqs = session.client("sqs")
    url = sqs.get_queue_url(QueueName=f"{prefix}-{queue}")["QueueUrl"]
    arn = f"arn:aws:sqs:{REGION}:{ACCOUNT}:{prefix}-{queue}"
    done = 0
    for _ in range(50):
        msgs = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=1, VisibilityTimeout=5,
                                   MessageAttributeNames=["All"],
                                   AttributeNames=["All"]).get("Messages", [])
        if not msgs:
            break
        try:
            handler(sqs_event(msgs, arn), None)
        except Exception as exc:  # a failed run: the message comes back after its visibility
            print(f"[local] {queue} handler failed, will retry: {exc!r}", flush=True)
            if raise_errors:
                raise
            break
        sqs.delete_message(QueueUrl=url, ReceiptHandle=msgs[0]["ReceiptHandle"])
        done += 1
    return done


def schedule_event() -> dict[str, Any]:
    return {"version": "0", "id": "local", "detail-type": "Scheduled Event", "source": "aws.events",
            "account": ACCOUNT, "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "region": REGION, "resources": [], "detail": {}}


def loop(session: Any, stop: threading.Event) -> None:
    import app as app_module  # noqa: F401 - registers the blueprints' handlers
    from chalicelib.events import feeds as feed_events
    from chalicelib.events import handlers
    from chalicelib.events import photos as photo_events
    from chalicelib.events import retention as retention_events
    from chalicelib.events import webpush as webpush_events
    from infra.outbox import sns_backend, stamp

    tick_s = float(os.environ.get("LOCAL_TICK_SECONDS", "15"))
    next_tick = 0.0
    while not stop.is_set():
        try:
            if time.monotonic() >= next_tick:
                handlers.tick(schedule_event(), None)
                feed_events.import_feeds(schedule_event(), None)  # runs only the due feeds
                retention_events.retention(schedule_event(), None)  # daily in AWS; idempotent
                next_tick = time.monotonic() + tick_s
            stamp(sns_backend())  # the outbox's order of subscriptions and messages
            drain(session, "fanout", handlers.fanout_worker)
            drain(session, "photos", photo_events.photo_worker)
            drain(session, "webpush", webpush_events.webpush_worker)
        except Exception as exc:
            print(f"[local] loop error: {exc!r}", flush=True)
        stop.wait(0.5)


# ---- start and stop ---------------------------------------------------------------------------

def wait_http(url: str, seconds: float = 30) -> None:
    import urllib.error
    import urllib.request

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url, timeout=1).close()
            return
        except urllib.error.HTTPError:
            return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"{url} did not answer within {seconds}s")


def run() -> None:
    p = ports()
    env = base_env(p["moto"])
    os.environ.update(env)
    import logging
    import warnings

    warnings.filterwarnings("ignore", message="Tried to parse AWS::Cognito")
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    logging.getLogger("moto").setLevel(logging.ERROR)
    from moto.server import ThreadedMotoServer

    moto = ThreadedMotoServer(ip_address="127.0.0.1", port=p["moto"], verbose=False)
    moto.start()
    import boto3

    session = boto3.session.Session()
    create_stack(session.client("cloudformation"))
    extra = fixups(session)
    os.environ.update(extra)
    conf_env = {**env, **extra,
                "JWKS_URL": f"http://127.0.0.1:{p['moto']}/{extra['USER_POOL_ID']}/.well-known/jwks.json",
                "SITE_URL": f"http://127.0.0.1:{p['web']}", "API_URL": f"http://127.0.0.1:{p['api']}"}
    os.environ.update(conf_env)
    seed()
    STATE.parent.mkdir(exist_ok=True)
    STATE.write_text(json.dumps({**conf_env, "ports": p}, indent=1))

    chalice = subprocess.Popen(
        [str(Path(sys.executable).parent / "chalice"), "local", "--no-autoreload", "--stage", "local",
         "--host", "127.0.0.1", "--port", str(p["api"])],
        cwd=ROOT, env={**os.environ, **conf_env}, start_new_session=True)
    page_conf = {"api": conf_env["API_URL"], "region": REGION,
                 "cognito": {"endpoint": f"http://127.0.0.1:{p['moto']}",
                             "user_pool_id": extra["USER_POOL_ID"],
                             "client_id": extra["USER_POOL_CLIENT_ID"]},
                 "tiles": {"url": os.environ.get("TILE_URL",
                                                 "https://tile.openstreetmap.org/{z}/{x}/{y}.png"),
                           "attribution": "© OpenStreetMap contributors"},
                 "stage": "local"}
    web = ThreadingHTTPServer(("127.0.0.1", p["web"]), make_web_handler(page_conf))
    threading.Thread(target=web.serve_forever, daemon=True).start()
    stop = threading.Event()
    worker = threading.Thread(target=loop, args=(session, stop), daemon=True)
    worker.start()

    def shutdown(*_: Any) -> None:
        stop.set()

    signal.signal(signal.SIGINT, shutdown)
    signal.signal(signal.SIGTERM, shutdown)
    try:
        wait_http(f"http://127.0.0.1:{p['api']}/v1/categories")
        print(f"""
Informator local stack is up.
  public site     http://127.0.0.1:{p['web']}/
  admin page      http://127.0.0.1:{p['web']}/admin/
  dev outbox      http://127.0.0.1:{p['web']}/dev/outbox   (json: /dev/outbox.json)
  API             http://127.0.0.1:{p['api']}/v1/alerts   (OpenAPI: /v1/openapi.json)
  local AWS       http://127.0.0.1:{p['moto']}   (moto server)
  staff accounts  editor@local.test, publisher@local.test, admin@local.test
staff password: {password()}
Ctrl-C stops everything.""", flush=True)
        while not stop.is_set() and chalice.poll() is None:
            stop.wait(0.5)
    finally:
        stop.set()
        if chalice.poll() is None:
            os.killpg(chalice.pid, signal.SIGTERM)
            try:
                chalice.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(chalice.pid, signal.SIGKILL)
        web.shutdown()
        web.server_close()
        moto.stop()
        print("stopped; ports freed.", flush=True)


def token(role: str) -> str:
    """An ID token for a seeded staff account, from the running stack's Cognito (moto)."""
    if role not in STAFF:
        raise SystemExit(f"role is one of {', '.join(STAFF)}")
    state = json.loads(STATE.read_text())
    import boto3

    idp = boto3.client("cognito-idp", region_name=REGION, endpoint_url=state["AWS_ENDPOINT_URL"],
                       aws_access_key_id="testing", aws_secret_access_key="testing")  # noqa: S106
    resp = idp.initiate_auth(ClientId=state["USER_POOL_CLIENT_ID"], AuthFlow="USER_PASSWORD_AUTH",
                             AuthParameters={"USERNAME": f"{role}@local.test",
                                             "PASSWORD": password()})
    return str(resp["AuthenticationResult"]["IdToken"])


if __name__ == "__main__":
    if len(sys.argv) >= 3 and sys.argv[1] == "token":
        print(token(sys.argv[2]))
    else:
        run()
