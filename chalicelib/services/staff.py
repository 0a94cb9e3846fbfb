"""Staff accounts in the Cognito user pool: invite, disable or enable, change group."""
from __future__ import annotations

import re
from typing import Any

from ..auth import GROUP_RANK
from ..aws import get_cognito
from ..errors import Conflict, Invalid, NotFound
from ..settings import get_settings
from . import audit

EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,190}\.[^@\s]{2,}$")


def _pool() -> str:
    return get_settings().user_pool_id


def _user_view(user: dict[str, Any], groups: list[str]) -> dict[str, Any]:
    attrs = {a["Name"]: a["Value"] for a in user.get("Attributes", user.get("UserAttributes", []))}
    group = max(groups, key=lambda g: GROUP_RANK.get(g, 0)) if groups else None
    return {"email": attrs.get("email", user["Username"]), "group": group,
            "enabled": bool(user.get("Enabled", True)), "status": user.get("UserStatus"),
            "mfa": bool(user.get("MFAOptions") or user.get("UserMFASettingList"))}


def list_staff() -> list[dict[str, Any]]:
    idp = get_cognito()
    members: dict[str, list[str]] = {}
    for group in GROUP_RANK:
        for u in idp.list_users_in_group(UserPoolId=_pool(), GroupName=group).get("Users", []):
            members.setdefault(u["Username"], []).append(group)
    users = idp.list_users(UserPoolId=_pool()).get("Users", [])
    return sorted((_user_view(u, members.get(u["Username"], [])) for u in users),
                  key=lambda s: s["email"])


def _validate(email: Any, group: Any, need_group: bool = True) -> None:
    errors = {}
    if not isinstance(email, str) or not EMAIL.match(email):
        errors["email"] = "must be an e-mail address"
    if (need_group or group is not None) and (not isinstance(group, str) or group not in GROUP_RANK):
        errors["group"] = f"must be one of: {', '.join(GROUP_RANK)}"
    if errors:
        raise Invalid("Some fields are invalid.", errors)


def invite(data: Any, actor: str) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise Invalid("The body must be a JSON object.", {"body": "must be an object"})
    email, group = data.get("email"), data.get("group")
    _validate(email, group)
    idp = get_cognito()
    try:
        user = idp.admin_create_user(
            UserPoolId=_pool(), Username=email, DesiredDeliveryMediums=["EMAIL"],
            UserAttributes=[{"Name": "email", "Value": email},
                            {"Name": "email_verified", "Value": "true"}])["User"]
    except idp.exceptions.UsernameExistsException:
        raise Conflict("A staff account with this e-mail already exists.") from None
    idp.admin_add_user_to_group(UserPoolId=_pool(), Username=email, GroupName=group)
    audit.record(actor, "staff.invite", str(email), {"group": group})
    return _user_view(user, [str(group)])


def change(email: str, data: Any, actor: str) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise Invalid("The body must be a JSON object.", {"body": "must be an object"})
    group, enabled = data.get("group"), data.get("enabled")
    _validate(email, group, need_group=False)
    if enabled is not None and not isinstance(enabled, bool):
        raise Invalid("enabled is true or false.", {"enabled": "must be a boolean"})
    if email == actor and (enabled is False or (group and group != "admin")):
        raise Conflict("You cannot disable or demote your own account.")
    idp = get_cognito()
    try:
        user = idp.admin_get_user(UserPoolId=_pool(), Username=email)
    except idp.exceptions.UserNotFoundException:
        raise NotFound("No such staff account.") from None
    current = [g["GroupName"] for g in idp.admin_list_groups_for_user(
        UserPoolId=_pool(), Username=email).get("Groups", [])]
    if group:
        for g in current:
            if g != group:
                idp.admin_remove_user_from_group(UserPoolId=_pool(), Username=email, GroupName=g)
        idp.admin_add_user_to_group(UserPoolId=_pool(), Username=email, GroupName=group)
        current = [group]
    if enabled is False:
        idp.admin_disable_user(UserPoolId=_pool(), Username=email)
        idp.admin_user_global_sign_out(UserPoolId=_pool(), Username=email)
        user["Enabled"] = False
    elif enabled is True:
        idp.admin_enable_user(UserPoolId=_pool(), Username=email)
        user["Enabled"] = True
    audit.record(actor, "staff.change", email, {"group": group, "enabled": enabled})
    return _user_view(user, current)
