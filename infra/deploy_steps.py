"""SNS settings CloudFormation has no resource for: SMS account attributes and push platform apps.

The code between the `inline` markers is the custom resource `PushAndSmsSettings` of the deployable
template: `infra/package.py` inlines it as the Lambda's ZipFile (it imports only boto3 and the
standard library). The same `apply()` runs from a shell as a documented deploy step:

    python -m infra.deploy_steps --prefix informator --sender-id Ciechanow \
        --spend-limit 700 --fcm-secret informator/fcm --apns-secret informator/apns

Each push secret (Secrets Manager) holds a JSON object of the SNS platform application
attributes, at least {"PlatformCredential": "..."} (docs/operations.md#push-credentials).
"""
# --- inline start
import json
import urllib.request

import boto3


def platform_app(sns, secrets, name, platform, secret_name):
    """Create the platform application, or update the one of that name; returns its ARN."""
    attrs = json.loads(secrets.get_secret_value(SecretId=secret_name)["SecretString"])
    if not isinstance(attrs, dict) or not attrs.get("PlatformCredential"):
        raise ValueError(f"secret {secret_name}: not a JSON object with PlatformCredential")
    attrs = {k: str(v) for k, v in attrs.items()}
    for page in sns.get_paginator("list_platform_applications").paginate():
        for app in page["PlatformApplications"]:
            arn = app["PlatformApplicationArn"]
            if arn.endswith(f":app/{platform}/{name}"):
                sns.set_platform_application_attributes(PlatformApplicationArn=arn,
                                                        Attributes=attrs)
                return arn
    return sns.create_platform_application(Name=name, Platform=platform,
                                           Attributes=attrs)["PlatformApplicationArn"]


def apply(props, sns=None, secrets=None):
    """Set the SMS attributes and the platform applications; returns {FcmArn, ApnsArn}."""
    sns = sns or boto3.client("sns")
    secrets = secrets or boto3.client("secretsmanager")
    sns.set_sms_attributes(attributes={"DefaultSMSType": props["SmsType"],
                                       "DefaultSenderID": props["SenderId"]})
    limit = str(props["MonthlySpendLimit"])
    try:
        sns.set_sms_attributes(attributes={"MonthlySpendLimit": limit})
    except sns.exceptions.ClientError as exc:
        raise RuntimeError(f"MonthlySpendLimit {limit} USD refused ({exc}); it cannot exceed "
                           "the account's SMS quota: ask AWS to raise it first") from exc
    prefix, out = props["Prefix"], {}
    for key, platform, secret in (
            ("FcmArn", "GCM", props.get("FcmSecretName")),
            ("ApnsArn", props.get("ApnsPlatform") or "APNS", props.get("ApnsSecretName"))):
        name = f"{prefix}-{platform.lower()}"
        out[key] = platform_app(sns, secrets, name, platform, secret) if secret else ""
    return out


def remove(props, sns=None):
    """Stack deleted: delete the platform applications (SMS attributes stay as they are)."""
    sns = sns or boto3.client("sns")
    for page in sns.get_paginator("list_platform_applications").paginate():
        for app in page["PlatformApplications"]:
            arn = app["PlatformApplicationArn"]
            if arn.rsplit("/", 1)[-1] in (f"{props['Prefix']}-gcm", f"{props['Prefix']}-apns",
                                          f"{props['Prefix']}-apns_sandbox"):
                sns.delete_platform_application(PlatformApplicationArn=arn)


def handler(event, context):
    props = event.get("ResourceProperties", {})
    status, reason, data = "SUCCESS", "", {}
    try:
        if event["RequestType"] == "Delete":
            remove(props)
        else:
            data = apply(props)
    except Exception as exc:
        print(f"failed: {exc!r}")
        if event["RequestType"] != "Delete":  # never block deleting the stack
            status, reason = "FAILED", str(exc)[:800]
    body = json.dumps({
        "Status": status, "Reason": reason or "ok",
        "PhysicalResourceId": f"{props.get('Prefix', 'informator')}-push-sms-settings",
        "StackId": event["StackId"], "RequestId": event["RequestId"],
        "LogicalResourceId": event["LogicalResourceId"], "Data": data}).encode()
    request = urllib.request.Request(event["ResponseURL"], data=body, method="PUT",
                                     headers={"Content-Type": ""})
    with urllib.request.urlopen(request, timeout=30) as resp:
        return resp.status
# --- inline end


def inline_source() -> str:
    """The custom resource's code, as it goes into the template's ZipFile."""
    from pathlib import Path

    text = Path(__file__).read_text()
    return text.split("# --- inline start\n", 1)[1].split("# --- inline end", 1)[0]


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(description="Set SNS SMS attributes and push apps.")
    parser.add_argument("--prefix", default="informator")
    parser.add_argument("--sender-id", default="Ciechanow")
    parser.add_argument("--sms-type", default="Transactional",
                        choices=["Transactional", "Promotional"])
    parser.add_argument("--spend-limit", default="1")
    parser.add_argument("--fcm-secret", default="")
    parser.add_argument("--apns-secret", default="")
    parser.add_argument("--apns-platform", default="APNS", choices=["APNS", "APNS_SANDBOX"])
    a = parser.parse_args(argv)
    out = apply({"Prefix": a.prefix, "SenderId": a.sender_id, "SmsType": a.sms_type,
                 "MonthlySpendLimit": a.spend_limit, "FcmSecretName": a.fcm_secret,
                 "ApnsSecretName": a.apns_secret, "ApnsPlatform": a.apns_platform})
    print(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
