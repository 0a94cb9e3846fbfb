"""Turn Chalice's packaged template (build/sam.yaml) into the deployable one (build/template.yaml).

Run by `make package` after `chalice package --merge-template infra/template.yaml`. It adds what
production needs and Chalice cannot express:
- per-function IAM policies from `infra/policies.py`, naming exact resources (a function without
  an entry, or an entry naming a resource the template lacks, stops the build);
- explicit function names `${Prefix}-<name>`, a log group with retention for each, the
  environment wired to the resources (Ref/GetAtt/Sub), event sources bound to the template's own
  queue/topic (so the Prefix parameter really renames everything);
- alarms (function errors, every DLQ's depth, SMS month-to-date spend, a stale feed) to an alarm
  topic with an e-mail subscription;
- the static site bucket behind CloudFront (OAC, strict CSP);
- SMS and push settings as parameters, applied by a small custom resource (infra/deploy_steps.py,
  inlined) since CloudFormation has no resource for SNS platform applications or SMS attributes.
"""
from __future__ import annotations

import argparse
import copy
import json
import re
import sys
from pathlib import Path
from typing import Any

import yaml

from infra import deploy_steps
from infra.policies import FEED_STALE_METRIC, METRIC_NAMESPACE, POLICIES, Grant

ROOT = Path(__file__).resolve().parent.parent
FUNCTION = "AWS::Serverless::Function"
MAX_APP_ZIP = 1024 * 1024
MAX_LAYER_UNZIPPED = 250 * 1024 * 1024


class PackageError(Exception):
    """The packaged template cannot be made deployable as it is; the message says what to fix."""


def sub(text: str) -> dict[str, Any]:
    return {"Fn::Sub": text}


def ref(name: str) -> dict[str, Any]:
    return {"Ref": name}


def kebab(logical_id: str) -> str:
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "-", logical_id).lower()


def function_name(logical_id: str) -> str:
    return "api" if logical_id == "APIHandler" else kebab(logical_id)


# ---- parameters ---------------------------------------------------------------------------------

PARAMETERS: dict[str, dict[str, Any]] = {
    "AlarmEmail": {"Type": "String", "Default": "",
                   "Description": "Where alarms are e-mailed (confirm the subscription e-mail)."},
    "SiteUrl": {"Type": "String", "Default": "",
                "Description": "Public site URL, e.g. https://informator.ciechanow.pl; "
                               "empty: the CloudFront domain."},
    "ApiUrl": {"Type": "String", "Default": "",
               "Description": "API base URL (custom domain); empty: the API Gateway stage URL."},
    "TileOrigin": {"Type": "String", "Default": "https://tile.openstreetmap.org",
                   "Description": "Origin of the map tiles (the site's CSP allows images "
                                  "from it)."},
    "LogRetentionDays": {"Type": "Number", "Default": 90,
                         "AllowedValues": [7, 14, 30, 60, 90, 180, 365],
                         "Description": "Days every function's logs are kept."},
    "SmsSenderId": {"Type": "String", "Default": "Ciechanow", "AllowedPattern": "[A-Za-z0-9]{1,11}",
                    "Description": "Alphanumeric SMS sender ID (1-11 letters/digits)."},
    "SmsType": {"Type": "String", "Default": "Transactional",
                "AllowedValues": ["Transactional", "Promotional"],
                "Description": "Transactional: highest delivery reliability (warnings)."},
    "SmsMonthlySpendLimit": {"Type": "Number", "Default": 1, "MinValue": 0,
                             "Description": "Account SMS spend limit, USD/month; above 1 only "
                                            "after AWS raised the quota (docs/operations.md)."},
    "SmsSpendAlarmUSD": {"Type": "Number", "Default": 1, "MinValue": 0,
                         "Description": "Alarm when SMS month-to-date spend reaches this "
                                        "(e.g. 80% of the limit)."},
    "FcmSecretName": {"Type": "String", "Default": "",
                      "Description": "Secrets Manager secret: JSON of the SNS FCM platform "
                                     "attributes ({\"PlatformCredential\": ...}); empty: no FCM."},
    "ApnsSecretName": {"Type": "String", "Default": "",
                       "Description": "Secrets Manager secret: JSON of the SNS APNs platform "
                                      "attributes; empty: no APNs."},
    "ApnsPlatform": {"Type": "String", "Default": "APNS", "AllowedValues": ["APNS", "APNS_SANDBOX"],
                     "Description": "APNs production or sandbox."},
    "VapidParameterName": {"Type": "String", "Default": "/informator/webpush/vapid-private-key",
                           "AllowedPattern": "/[A-Za-z0-9_./-]+",
                           "Description": "SSM SecureString holding the Web Push VAPID "
                                          "private key (PEM)."},
    "VapidSubject": {"Type": "String", "Default": "mailto:informator@ciechanow.pl",
                     "Description": "VAPID subject: a mailto: or https: contact of the city."},
    "StaffMfa": {"Type": "String", "Default": "ON", "AllowedValues": ["ON", "OPTIONAL"],
                 "Description": "TOTP for staff sign-in: ON requires it of every staff account "
                                "(Cognito cannot require it per group); the admin page sets it "
                                "up at first sign-in."},
    "FeedStaleMinutes": {"Type": "Number", "Default": 180, "MinValue": 10,
                         "Description": "Alarm when a feed has not refreshed for this long."},
}

CONDITIONS: dict[str, Any] = {
    "HasAlarmEmail": {"Fn::Not": [{"Fn::Equals": [ref("AlarmEmail"), ""]}]},
    "HasSiteUrl": {"Fn::Not": [{"Fn::Equals": [ref("SiteUrl"), ""]}]},
    "HasApiUrl": {"Fn::Not": [{"Fn::Equals": [ref("ApiUrl"), ""]}]},
    "HasFcm": {"Fn::Not": [{"Fn::Equals": [ref("FcmSecretName"), ""]}]},
    "HasApns": {"Fn::Not": [{"Fn::Equals": [ref("ApnsSecretName"), ""]}]},
    "HasPushSecret": {"Fn::Or": [{"Condition": "HasFcm"}, {"Condition": "HasApns"}]},
}

SITE_URL = {"Fn::If": ["HasSiteUrl", ref("SiteUrl"), sub("https://${SiteDistribution.DomainName}")]}
API_URL = {"Fn::If": ["HasApiUrl", ref("ApiUrl"),
                      sub("https://${RestAPI}.execute-api.${AWS::Region}.${AWS::URLSuffix}/api")]}


def environment() -> dict[str, Any]:
    """Every variable the app reads in production (chalicelib/settings.py and services)."""
    return {
        "RESOURCE_PREFIX": ref("Prefix"),
        "AWS_ACCOUNT_ID": ref("AWS::AccountId"),
        "TOPIC_ARN_PREFIX": sub("arn:${AWS::Partition}:sns:${AWS::Region}:${AWS::AccountId}:"
                                "${Prefix}-"),
        "USER_POOL_ID": ref("StaffUserPool"),
        "USER_POOL_CLIENT_ID": ref("StaffUserPoolClient"),
        "SITE_URL": SITE_URL,
        "API_URL": API_URL,
        "SMS_SENDER_ID": ref("SmsSenderId"),
        "PHOTO_BUCKET": ref("PhotoBucket"),
        "VAPID_PARAMETER": ref("VapidParameterName"),
        "VAPID_SUBJECT": ref("VapidSubject"),
        "PLATFORM_APP_FCM_ARN": {"Fn::GetAtt": ["PushAndSmsSettings", "FcmArn"]},
        "PLATFORM_APP_APNS_ARN": {"Fn::GetAtt": ["PushAndSmsSettings", "ApnsArn"]},
    }


# ---- resource resolution ------------------------------------------------------------------------

def _named(resources: dict[str, Any], rtype: str, prop: str) -> dict[str, str]:
    """{name suffix after `${Prefix}-`: logical id} for resources named `${Prefix}-<suffix>`."""
    out = {}
    for logical_id, res in resources.items():
        if res.get("Type") != rtype:
            continue
        name = res.get("Properties", {}).get(prop)
        text = name.get("Fn::Sub") if isinstance(name, dict) else None
        if isinstance(text, str) and text.startswith("${Prefix}-"):
            out[text[len("${Prefix}-"):]] = logical_id
    return out


class Resolver:
    """Resolves the notation of infra/policies.py to CloudFormation values for one function."""

    def __init__(self, resources: dict[str, Any]):
        self.resources = resources
        self.tables = _named(resources, "AWS::DynamoDB::Table", "TableName")
        self.queues = _named(resources, "AWS::SQS::Queue", "QueueName")
        self.topics = _named(resources, "AWS::SNS::Topic", "TopicName")

    def _one(self, kind: dict[str, str], name: str, what: str) -> str:
        if name not in kind:
            raise PackageError(f"infra/policies.py names {what} '{name}' (${{Prefix}}-{name}) "
                               f"but the template has none")
        return kind[name]

    def table_arns(self, logical_id: str) -> list[Any]:
        arns: list[Any] = [{"Fn::GetAtt": [logical_id, "Arn"]}]
        props = self.resources[logical_id]["Properties"]
        for index in props.get("GlobalSecondaryIndexes", []) + props.get("LocalSecondaryIndexes",
                                                                         []):
            arns.append(sub(f"${{{logical_id}.Arn}}/index/{index['IndexName']}"))
        return arns

    def resolve(self, spec: str, log_group: str) -> list[Any]:
        kind, _, name = spec.partition(":")
        if spec == "*":
            return ["*"]
        if spec == "log-group":
            return [sub(f"${{{log_group}.Arn}}")]
        if spec == "userpool":
            return [{"Fn::GetAtt": ["StaffUserPool", "Arn"]}]
        if kind == "table":
            return self.table_arns(self._one(self.tables, name, "table"))
        if spec == "tables:all":
            return [arn for suffix, lid in sorted(self.tables.items()) if suffix != "audit"
                    for arn in self.table_arns(lid)]
        if kind == "queue":
            return [{"Fn::GetAtt": [self._one(self.queues, name, "queue"), "Arn"]}]
        if kind == "topic":
            return [ref(self._one(self.topics, name, "topic"))]
        if kind == "topics":
            found = [ref(lid) for suffix, lid in sorted(self.topics.items())
                     if suffix.startswith(name)]
            if not found:
                raise PackageError(f"infra/policies.py names topics '{name}*' but the template "
                                   f"has none")
            return found
        if kind == "bucket":
            return [sub(f"arn:${{AWS::Partition}}:s3:::${{PhotoBucket}}/{name}")]
        if kind == "parameter":
            # the parameter value starts with "/", the ARN wants "parameter/name"
            return [sub(f"arn:${{AWS::Partition}}:ssm:${{AWS::Region}}:${{AWS::AccountId}}:"
                        f"parameter${{{name}}}")]
        raise PackageError(f"infra/policies.py: unknown resource notation {spec!r}")

    def statement(self, grant: Grant, log_group: str) -> dict[str, Any]:
        resources = [r for spec in grant.resources for r in self.resolve(spec, log_group)]
        if "*" in resources and not grant.why:
            raise PackageError(f"grant {grant.sid}: Resource \"*\" needs a documented why")
        out: dict[str, Any] = {"Sid": grant.sid, "Effect": "Allow",
                               "Action": sorted(set(grant.actions)),
                               "Resource": resources[0] if len(resources) == 1 else resources}
        if grant.condition:
            out["Condition"] = grant.condition
        return out


# ---- the transformation -------------------------------------------------------------------------

def _event_sources(fn_id: str, props: dict[str, Any], resolver: Resolver, baked: str) -> None:
    """Bind SQS/SNS event sources to the template's own queue/topic instead of baked names."""
    for event in (props.get("Events") or {}).values():
        ev_props = event.get("Properties", {})
        key = {"SQS": "Queue", "SNS": "Topic"}.get(event.get("Type"))
        if not key:
            continue
        value = ev_props.get(key)
        text = value.get("Fn::Sub") if isinstance(value, dict) else value
        name = str(text).rsplit(":", 1)[-1]
        if not name.startswith(baked + "-"):
            raise PackageError(f"{fn_id}: event source {name!r} does not start with the "
                               f"packaged RESOURCE_PREFIX {baked!r}")
        suffix = name[len(baked) + 1:]
        if key == "Queue":
            ev_props[key] = {"Fn::GetAtt": [resolver._one(resolver.queues, suffix, "queue"),
                                            "Arn"]}
        else:
            ev_props[key] = ref(resolver._one(resolver.topics, suffix, "topic"))


def _alarm(description: str, namespace: str, metric: str, dimensions: list[dict[str, Any]],
           threshold: Any, statistic: str = "Sum", period: int = 300,
           missing: str = "notBreaching") -> dict[str, Any]:
    props: dict[str, Any] = {
        "AlarmDescription": description, "Namespace": namespace, "MetricName": metric,
        "Statistic": statistic, "Period": period, "EvaluationPeriods": 1,
        "Threshold": threshold, "ComparisonOperator": "GreaterThanOrEqualToThreshold",
        "TreatMissingData": missing, "AlarmActions": [ref("AlarmTopic")],
        "OKActions": [ref("AlarmTopic")]}
    if dimensions:
        props["Dimensions"] = dimensions
    return {"Type": "AWS::CloudWatch::Alarm", "Properties": props}


def dead_letter_queues(resources: dict[str, Any]) -> list[str]:
    """Logical ids of every queue some queue's RedrivePolicy sends its failures to."""
    out = set()
    for res in resources.values():
        if res.get("Type") != "AWS::SQS::Queue":
            continue
        target = res.get("Properties", {}).get("RedrivePolicy", {}).get("deadLetterTargetArn")
        if isinstance(target, dict) and "Fn::GetAtt" in target:
            out.add(target["Fn::GetAtt"][0])
    return sorted(out)


def _function(fn_id: str, res: dict[str, Any], resolver: Resolver, baked: str,
              added: dict[str, Any]) -> None:
    if fn_id not in POLICIES:
        raise PackageError(f"function {fn_id} has no policy: add an entry to infra/policies.py "
                           f"(the resources it reads and writes)")
    props = res["Properties"]
    name = function_name(fn_id)
    props["FunctionName"] = sub(f"${{Prefix}}-{name}")
    variables = props.setdefault("Environment", {}).setdefault("Variables", {})
    variables.update(environment())
    _event_sources(fn_id, props, resolver, baked)
    log_group = f"{fn_id}LogGroup"
    added[log_group] = {"Type": "AWS::Logs::LogGroup",
                        "DeletionPolicy": "Delete", "UpdateReplacePolicy": "Delete",
                        "Properties": {"LogGroupName": sub(f"/aws/lambda/${{Prefix}}-{name}"),
                                       "RetentionInDays": ref("LogRetentionDays")}}
    res["DependsOn"] = sorted(set(_as_list(res.get("DependsOn"))) | {log_group})
    role_id = props["Role"]["Fn::GetAtt"][0]
    role = resolver.resources[role_id]["Properties"]
    statements = [resolver.statement(g, log_group) for g in POLICIES[fn_id]]
    role["Policies"] = [{"PolicyName": f"{fn_id}LeastPrivilege",
                         "PolicyDocument": {"Version": "2012-10-17", "Statement": statements}}]
    added[f"{fn_id}ErrorsAlarm"] = _alarm(
        f"{name}: the function failed (see its log group; docs/operations.md#alarms)",
        "AWS/Lambda", "Errors", [{"Name": "FunctionName", "Value": ref(fn_id)}], 1)


def _as_list(value: Any) -> list[str]:
    if value is None:
        return []
    return [value] if isinstance(value, str) else list(value)


def _api_without_cycle(resources: dict[str, Any]) -> None:
    """The API's integration names the handler by name, so that the handler's API_URL can name
    the API (RestAPI → APIHandler.Arn → ... → RestAPI would be a circular dependency)."""
    api = resources.get("RestAPI")
    if not api:
        return
    arn = ("arn:${AWS::Partition}:lambda:${AWS::Region}:${AWS::AccountId}:function:"
           "${Prefix}-api")
    text = json.dumps(api).replace("${APIHandler.Arn}", arn)
    resources["RestAPI"] = json.loads(text)


def _site(resources: dict[str, Any]) -> dict[str, Any]:
    """The static site bucket behind CloudFront: private bucket, OAC, strict security headers."""
    api_origin = {"Fn::If": ["HasApiUrl", ref("ApiUrl"),
                             sub("https://${RestAPI}.execute-api.${AWS::Region}.${AWS::URLSuffix}")]}
    csp = {"Fn::Join": ["", [
        "default-src 'self'; script-src 'self'; style-src 'self'; font-src 'self'; "
        "object-src 'none'; base-uri 'self'; frame-ancestors 'none'; form-action 'self'; "
        "manifest-src 'self'; worker-src 'self'; img-src 'self' data: blob: ", ref("TileOrigin"),
        " ", sub("https://${PhotoBucket.RegionalDomainName}"),
        "; connect-src 'self' ", api_origin, " ",
        sub("https://cognito-idp.${AWS::Region}.${AWS::URLSuffix}"), " ",
        sub("https://${PhotoBucket.RegionalDomainName}")]]}
    return {
        "SiteBucket": {
            "Type": "AWS::S3::Bucket", "DeletionPolicy": "Retain", "UpdateReplacePolicy": "Retain",
            "Properties": {
                "BucketName": sub("${Prefix}-site-${AWS::AccountId}"),
                "PublicAccessBlockConfiguration": {
                    "BlockPublicAcls": True, "BlockPublicPolicy": True,
                    "IgnorePublicAcls": True, "RestrictPublicBuckets": True},
                "BucketEncryption": {"ServerSideEncryptionConfiguration": [
                    {"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]},
                "OwnershipControls": {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]},
                "VersioningConfiguration": {"Status": "Enabled"},
                "LifecycleConfiguration": {"Rules": [{
                    "Id": "drop-old-site-versions", "Status": "Enabled",
                    "NoncurrentVersionExpiration": {"NoncurrentDays": 30}}]}}},
        "SiteBucketPolicy": {
            "Type": "AWS::S3::BucketPolicy",
            "Properties": {"Bucket": ref("SiteBucket"), "PolicyDocument": {
                "Version": "2012-10-17", "Statement": [
                    {"Sid": "CloudFrontReadsTheSite", "Effect": "Allow",
                     "Principal": {"Service": "cloudfront.amazonaws.com"},
                     "Action": "s3:GetObject",
                     "Resource": sub("arn:${AWS::Partition}:s3:::${SiteBucket}/*"),
                     "Condition": {"StringEquals": {"AWS:SourceArn": sub(
                         "arn:${AWS::Partition}:cloudfront::${AWS::AccountId}:"
                         "distribution/${SiteDistribution}")}}},
                    {"Sid": "TlsOnly", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
                     "Resource": [sub("arn:${AWS::Partition}:s3:::${SiteBucket}"),
                                  sub("arn:${AWS::Partition}:s3:::${SiteBucket}/*")],
                     "Condition": {"Bool": {"aws:SecureTransport": "false"}}}]}}},
        "SiteOriginAccessControl": {
            "Type": "AWS::CloudFront::OriginAccessControl",
            "Properties": {"OriginAccessControlConfig": {
                "Name": sub("${Prefix}-site"), "OriginAccessControlOriginType": "s3",
                "SigningBehavior": "always", "SigningProtocol": "sigv4"}}},
        "SiteHeaders": {
            "Type": "AWS::CloudFront::ResponseHeadersPolicy",
            "Properties": {"ResponseHeadersPolicyConfig": {
                "Name": sub("${Prefix}-site-headers"),
                "SecurityHeadersConfig": {
                    "ContentSecurityPolicy": {"ContentSecurityPolicy": csp, "Override": True},
                    "ContentTypeOptions": {"Override": True},
                    "FrameOptions": {"FrameOption": "DENY", "Override": True},
                    "ReferrerPolicy": {"ReferrerPolicy": "strict-origin-when-cross-origin",
                                       "Override": True},
                    "StrictTransportSecurity": {"AccessControlMaxAgeSec": 63072000,
                                                "IncludeSubdomains": True, "Override": True}}}}},
        "SiteDistribution": {
            "Type": "AWS::CloudFront::Distribution",
            "Properties": {"DistributionConfig": {
                "Enabled": True, "Comment": sub("${Prefix} public site and admin page"),
                "DefaultRootObject": "index.html", "HttpVersion": "http2and3",
                "PriceClass": "PriceClass_100",
                "Origins": [{"Id": "site", "DomainName": {"Fn::GetAtt": [
                    "SiteBucket", "RegionalDomainName"]},
                    "OriginAccessControlId": {"Fn::GetAtt": ["SiteOriginAccessControl", "Id"]},
                    "S3OriginConfig": {"OriginAccessIdentity": ""}}],
                "DefaultCacheBehavior": {
                    "TargetOriginId": "site", "ViewerProtocolPolicy": "redirect-to-https",
                    "Compress": True,
                    # AWS managed policy "CachingOptimized"
                    "CachePolicyId": "658327ea-f89d-4fab-a63d-7e88639e58f6",
                    "ResponseHeadersPolicyId": ref("SiteHeaders")}}}},
    }


def _settings_resource(code: str) -> dict[str, Any]:
    """The custom resource that creates the push platform applications and sets SMS attributes."""
    secret_arn = ("arn:${AWS::Partition}:secretsmanager:${AWS::Region}:${AWS::AccountId}:"  # noqa: S105
                  "secret:${%s}-??????")
    return {
        "PushAndSmsSettingsRole": {
            "Type": "AWS::IAM::Role",
            "Properties": {
                "AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": [{
                    "Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"},
                    "Action": "sts:AssumeRole"}]},
                "Policies": [{"PolicyName": "PushAndSmsSettings", "PolicyDocument": {
                    "Version": "2012-10-17", "Statement": [
                        {"Sid": "OwnLogs", "Effect": "Allow",
                         "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                         "Resource": sub("${PushAndSmsSettingsLogGroup.Arn}")},
                        # Secrets Manager appends 6 random characters to a secret's ARN: "-??????"
                        # is AWS's documented way to name one secret exactly.
                        {"Fn::If": ["HasPushSecret", {
                            "Sid": "PushCredentials", "Effect": "Allow",
                            "Action": "secretsmanager:GetSecretValue",
                            "Resource": [
                                {"Fn::If": ["HasFcm", sub(secret_arn % "FcmSecretName"),
                                            ref("AWS::NoValue")]},
                                {"Fn::If": ["HasApns", sub(secret_arn % "ApnsSecretName"),
                                            ref("AWS::NoValue")]}]}, ref("AWS::NoValue")]},
                        # These SNS actions have no resource types (Service Authorization
                        # Reference): account-wide SMS settings and platform applications.
                        {"Sid": "SnsAccountSettings", "Effect": "Allow",
                         "Action": ["sns:SetSMSAttributes", "sns:ListPlatformApplications",
                                    "sns:CreatePlatformApplication",
                                    "sns:SetPlatformApplicationAttributes",
                                    "sns:DeletePlatformApplication"],
                         "Resource": "*"}]}}]}},
        "PushAndSmsSettingsLogGroup": {
            "Type": "AWS::Logs::LogGroup", "DeletionPolicy": "Delete",
            "UpdateReplacePolicy": "Delete",
            "Properties": {"LogGroupName": sub("/aws/lambda/${Prefix}-push-sms-settings"),
                           "RetentionInDays": ref("LogRetentionDays")}},
        "PushAndSmsSettingsFunction": {
            "Type": "AWS::Lambda::Function", "DependsOn": ["PushAndSmsSettingsLogGroup"],
            "Properties": {
                "FunctionName": sub("${Prefix}-push-sms-settings"),
                "Description": "Creates the SNS platform applications and sets SMS attributes",
                "Runtime": "python3.11", "Handler": "index.handler", "Timeout": 60,
                "Role": {"Fn::GetAtt": ["PushAndSmsSettingsRole", "Arn"]},
                "Code": {"ZipFile": code}}},
        "PushAndSmsSettings": {
            "Type": "Custom::PushAndSmsSettings",
            "Properties": {
                "ServiceToken": {"Fn::GetAtt": ["PushAndSmsSettingsFunction", "Arn"]},
                "Prefix": ref("Prefix"),
                "SenderId": ref("SmsSenderId"), "SmsType": ref("SmsType"),
                "MonthlySpendLimit": ref("SmsMonthlySpendLimit"),
                "FcmSecretName": ref("FcmSecretName"), "ApnsSecretName": ref("ApnsSecretName"),
                "ApnsPlatform": ref("ApnsPlatform")}},
    }


def build(sam: dict[str, Any], baked_prefix: str = "informator") -> dict[str, Any]:
    """The deployable template from Chalice's merged one (pure: no files, no network)."""
    out = copy.deepcopy(sam)
    resources: dict[str, Any] = out["Resources"]
    resolver = Resolver(resources)
    _api_without_cycle(resources)
    added: dict[str, Any] = {}
    functions = sorted(k for k, v in resources.items() if v.get("Type") == FUNCTION)
    for fn_id in functions:
        _function(fn_id, resources[fn_id], resolver, baked_prefix, added)
    for dlq in dead_letter_queues(resources):
        added[f"{dlq}DepthAlarm"] = _alarm(
            "Messages failed 5 times and wait in the dead-letter queue "
            "(docs/operations.md#dead-letter-queues)", "AWS/SQS",
            "ApproximateNumberOfMessagesVisible",
            [{"Name": "QueueName", "Value": {"Fn::GetAtt": [dlq, "QueueName"]}}], 1,
            statistic="Maximum")
    added["SmsSpendAlarm"] = _alarm(
        "SMS month-to-date spend reached SmsSpendAlarmUSD; at SmsMonthlySpendLimit SNS stops "
        "sending SMS (docs/operations.md#sms-spend)", "AWS/SNS", "SMSMonthToDateSpentUSD", [],
        ref("SmsSpendAlarmUSD"), statistic="Maximum")
    # Missing data counts as stale: the importer that should emit the metric is not running.
    added["FeedStaleAlarm"] = _alarm(
        f"A feed has not refreshed for FeedStaleMinutes ({METRIC_NAMESPACE}/{FEED_STALE_METRIC}, "
        "emitted by the feed importer; docs/operations.md#feeds)", METRIC_NAMESPACE,
        FEED_STALE_METRIC, [], ref("FeedStaleMinutes"), statistic="Maximum", period=900,
        missing="breaching")
    added["AlarmTopic"] = {"Type": "AWS::SNS::Topic", "Properties": {
        "TopicName": sub("${Prefix}-alarms"), "DisplayName": "Informator alarms"}}
    added["AlarmEmailSubscription"] = {
        "Type": "AWS::SNS::Subscription", "Condition": "HasAlarmEmail",
        "Properties": {"TopicArn": ref("AlarmTopic"), "Protocol": "email",
                       "Endpoint": ref("AlarmEmail")}}
    added.update(_site(resources))
    added.update(_settings_resource(deploy_steps.inline_source()))
    clash = set(added) & set(resources)
    if clash:
        raise PackageError(f"logical ids already in the template: {sorted(clash)}")
    resources.update(added)
    pool = resources.get("StaffUserPool", {}).get("Properties")
    if pool is not None:
        pool["MfaConfiguration"] = ref("StaffMfa")
        pool["EnabledMfas"] = ["SOFTWARE_TOKEN_MFA"]
    layer = resources.get("ManagedLayer", {}).get("Properties")
    if layer:
        layer["LayerName"] = sub("${Prefix}-managed-layer")
    out.setdefault("Parameters", {}).update(PARAMETERS)
    out.setdefault("Conditions", {}).update(CONDITIONS)
    outputs = out.setdefault("Outputs", {})
    outputs.update({
        "SiteUrl": {"Value": SITE_URL}, "ApiUrl": {"Value": API_URL},
        "SiteBucketName": {"Value": ref("SiteBucket")},
        "SiteDistributionId": {"Value": ref("SiteDistribution")},
        "AlarmTopicArn": {"Value": ref("AlarmTopic")}})
    if "TopicArnPrefix" in outputs:
        outputs["TopicArnPrefix"] = {"Value": sub(
            "arn:${AWS::Partition}:sns:${AWS::Region}:${AWS::AccountId}:${Prefix}-")}
    return out


# ---- the command ------------------------------------------------------------------------------

def baked_prefix(sam: dict[str, Any]) -> str:
    """The RESOURCE_PREFIX Chalice saw at package time (it names the event sources)."""
    for res in sam["Resources"].values():
        if res.get("Type") == FUNCTION:
            value = res["Properties"].get("Environment", {}).get("Variables", {}).get(
                "RESOURCE_PREFIX")
            if isinstance(value, str):
                return value
    return "informator"


def sizes(build_dir: Path) -> dict[str, int]:
    import zipfile

    out = {}
    for name in ("deployment.zip", "layer-deployment.zip"):
        path = build_dir / name
        if path.exists():
            with zipfile.ZipFile(path) as zf:
                out[name] = path.stat().st_size
                out[name + ":unzipped"] = sum(i.file_size for i in zf.infolist())
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("build_dir", nargs="?", default=str(ROOT / "build"))
    args = parser.parse_args(argv)
    build_dir = Path(args.build_dir)
    sam = yaml.safe_load((build_dir / "sam.yaml").read_text())
    try:
        template = build(sam, baked_prefix(sam))
    except PackageError as exc:
        print(f"package: {exc}", file=sys.stderr)
        return 1
    (build_dir / "template.yaml").write_text(yaml.safe_dump(template, sort_keys=False,
                                                            width=100, allow_unicode=True))
    print(f"package: wrote {build_dir / 'template.yaml'}")
    return 0


def report(build_dir: Path) -> int:
    """Print the package sizes; non-zero if the app zip or the unzipped layer is over budget."""
    s = sizes(build_dir)
    mb = 1024 * 1024
    app, layer = s.get("deployment.zip", 0), s.get("layer-deployment.zip", 0)
    print(f"app zip   deployment.zip       {app / mb:7.2f} MB zipped "
          f"{s.get('deployment.zip:unzipped', 0) / mb:7.2f} MB unzipped (budget 1 MB zipped)")
    print(f"layer     layer-deployment.zip {layer / mb:7.2f} MB zipped "
          f"{s.get('layer-deployment.zip:unzipped', 0) / mb:7.2f} MB unzipped "
          f"(Lambda allows 250 MB unzipped)")
    ok = app <= MAX_APP_ZIP and s.get("layer-deployment.zip:unzipped", 0) <= MAX_LAYER_UNZIPPED
    if not ok:
        print("package: over budget", file=sys.stderr)
    return 0 if ok else 1


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--sizes":
        sys.exit(report(Path(sys.argv[2] if len(sys.argv) > 2 else ROOT / "build")))
    sys.exit(main())
