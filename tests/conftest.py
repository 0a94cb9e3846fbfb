"""Fixtures: fake credentials first, a fresh moto per test with the infra template created in it."""
from __future__ import annotations

import gzip
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

os.environ.update({
    "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing", "AWS_DEFAULT_REGION": "eu-central-1",
    "AWS_REGION": "eu-central-1", "RESOURCE_PREFIX": "informator",
    "SITE_URL": "https://informator.ciechanow.pl", "API_URL": "https://api.informator.ciechanow.pl",
})
os.environ.pop("AWS_ENDPOINT_URL", None)  # with it set, mock_aws would be bypassed

import boto3  # noqa: E402
import pytest  # noqa: E402
from moto import mock_aws  # noqa: E402

PREFIX = "informator"
PASSWORD = "Informator-2026!"
_JWKS_FILE = Path(tempfile.gettempdir()) / "informator-moto-jwks.json"


def _moto_jwks() -> str:
    if not _JWKS_FILE.exists():
        import moto.cognitoidp

        src = Path(moto.cognitoidp.__file__).parent / "resources" / "jwks-public.json.gz"
        _JWKS_FILE.write_bytes(gzip.decompress(src.read_bytes()))
    return _JWKS_FILE.as_uri()


@dataclass
class Stack:
    session: Any
    env: dict[str, str]

    def token(self, role: str) -> str:
        idp = self.session.client("cognito-idp")
        resp = idp.initiate_auth(ClientId=self.env["USER_POOL_CLIENT_ID"],
                                 AuthFlow="USER_PASSWORD_AUTH",
                                 AuthParameters={"USERNAME": f"{role}@local.test",
                                                 "PASSWORD": PASSWORD})
        return str(resp["AuthenticationResult"]["IdToken"])

    def auth(self, role: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(role)}", "Content-Type": "application/json"}

    def drain_fanout(self) -> int:
        from chalicelib.events import handlers
        from infra.local import drain

        return drain(self.session, "fanout", handlers.fanout_worker, prefix=PREFIX,
                     raise_errors=True)

    def outbox(self) -> list[dict[str, Any]]:
        from infra.outbox import deliveries, sns_backend

        return deliveries(sns_backend())

    def sms_to(self, phone: str) -> list[str]:
        return [d["text"] for d in self.outbox() if d["channel"] == "sms" and d["to"] == phone]

    def probe(self, category: str, policy: dict[str, Any] | None) -> str:
        """An SQS queue subscribed to a category topic with a subscriber's filter policy."""
        import json

        sqs, sns = self.session.client("sqs"), self.session.client("sns")
        name = f"probe-{category}-{len(sqs.list_queues().get('QueueUrls', []))}"
        url = sqs.create_queue(QueueName=name)["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"]
        attrs = {"RawMessageDelivery": "true"}
        if policy:
            attrs["FilterPolicy"] = json.dumps(policy)
        sns.subscribe(TopicArn=f"arn:aws:sns:eu-central-1:123456789012:{PREFIX}-alerts-{category}",
                      Protocol="sqs", Endpoint=arn, Attributes=attrs)
        return str(url)

    def probe_messages(self, url: str) -> list[dict[str, Any]]:
        sqs = self.session.client("sqs")
        out: list[dict[str, Any]] = []
        while True:
            msgs = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10,
                                       MessageAttributeNames=["All"]).get("Messages", [])
            if not msgs:
                return out
            for m in msgs:
                out.append(m)
                sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])


def reset_app_caches() -> None:
    from chalicelib import auth
    from chalicelib.aws import reset_clients
    from chalicelib.services import config
    from chalicelib.settings import reset_settings

    reset_settings()
    reset_clients()
    config.clear_cache()
    auth.reset_keys()


@pytest.fixture
def stack() -> Iterator[Stack]:
    with mock_aws():
        from infra.local import create_stack, fixups

        session = boto3.session.Session()
        create_stack(session.client("cloudformation"), prefix=PREFIX)
        os.environ["LOCAL_STAFF_PASSWORD"] = PASSWORD
        env = fixups(session, prefix=PREFIX)
        env["JWKS_URL"] = _moto_jwks()
        old = {k: os.environ.get(k) for k in env}
        os.environ.update(env)
        reset_app_caches()
        try:
            yield Stack(session=session, env=env)
        finally:
            for k, v in old.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v
            reset_app_caches()


@pytest.fixture
def client(stack: Stack) -> Iterator[Any]:
    from chalice.test import Client

    from app import app

    with Client(app) as c:
        yield c


# ---- the whole local stack, as `make run` starts it (for HTTP and browser tests) ----------------

@dataclass
class LiveStack:
    api: str
    web: str
    moto: str
    state_file: str
    password: str

    def token(self, role: str) -> str:
        import subprocess
        import sys

        out = subprocess.run([sys.executable, "-m", "infra.local", "token", role], check=True,
                             capture_output=True, text=True, cwd=ROOT,
                             env={**os.environ, "LOCAL_STATE_FILE": self.state_file})
        return out.stdout.strip()

    def outbox(self) -> list[dict[str, Any]]:
        import requests

        return list(requests.get(f"{self.web}/dev/outbox.json", timeout=5).json())


ROOT = Path(__file__).resolve().parent.parent


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def live_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveStack]:
    """Start `python -m infra.local` on free ports; stop it with Ctrl-C (SIGINT) at the end."""
    import signal
    import subprocess
    import sys
    import time

    ports = {"MOTO_PORT": _free_port(), "API_PORT": _free_port(), "WEB_PORT": _free_port()}
    state = str(tmp_path_factory.mktemp("stack") / "stack.json")
    log = open(tmp_path_factory.mktemp("stacklog") / "local.log", "w+")  # noqa: SIM115
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "USER_POOL",
                                                                     "PLATFORM_APP", "JWKS"))}
    env.update({k: str(v) for k, v in ports.items()})
    env.update({"LOCAL_STATE_FILE": state, "LOCAL_TICK_SECONDS": "2", "PYTHONUNBUFFERED": "1"})
    proc = subprocess.Popen([sys.executable, "-m", "infra.local"], cwd=ROOT, env=env,
                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.monotonic() + 90
    password = ""
    while time.monotonic() < deadline:
        log.seek(0)
        text = log.read()
        if "staff password:" in text:
            password = text.split("staff password:")[1].split()[0]
            break
        if proc.poll() is not None:
            raise RuntimeError(f"the local stack exited:\n{text[-3000:]}")
        time.sleep(0.3)
    else:
        proc.kill()
        raise RuntimeError("the local stack did not start in 90 s")
    try:
        yield LiveStack(api=f"http://127.0.0.1:{ports['API_PORT']}",
                        web=f"http://127.0.0.1:{ports['WEB_PORT']}",
                        moto=f"http://127.0.0.1:{ports['MOTO_PORT']}", state_file=state,
                        password=password)
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
        log.close()
