"""Staff accounts through Cognito: only admins manage them; every change is audited."""
from __future__ import annotations

import json

from tests.conftest import Stack


def test_admin_invites_changes_group_and_disables(stack: Stack, client) -> None:
    admin = stack.auth("admin")
    r = client.http.post("/v1/admin/staff", headers=admin,
                         body=json.dumps({"email": "nowy@um.ciechanow.pl", "group": "editor"}))
    assert r.status_code == 201, r.body
    listed = {s["email"]: s for s in json.loads(client.http.get("/v1/admin/staff",
                                                                headers=admin).body)["items"]}
    assert listed["nowy@um.ciechanow.pl"]["group"] == "editor"
    assert listed["publisher@local.test"]["group"] == "publisher"

    r = client.http.patch("/v1/admin/staff/nowy@um.ciechanow.pl", headers=admin,
                          body=json.dumps({"group": "publisher"}))
    assert r.status_code == 200 and json.loads(r.body)["group"] == "publisher"
    groups = stack.session.client("cognito-idp").admin_list_groups_for_user(
        UserPoolId=stack.env["USER_POOL_ID"], Username="nowy@um.ciechanow.pl")["Groups"]
    assert [g["GroupName"] for g in groups] == ["publisher"]

    r = client.http.patch("/v1/admin/staff/nowy@um.ciechanow.pl", headers=admin,
                          body=json.dumps({"enabled": False}))
    assert r.status_code == 200 and json.loads(r.body)["enabled"] is False
    audit = json.loads(client.http.get("/v1/admin/audit", headers=admin).body)["items"]
    assert {"staff.invite", "staff.change"} <= {a["action"] for a in audit}


def test_staff_management_is_admin_only_and_validated(stack: Stack, client) -> None:
    body = json.dumps({"email": "x@um.ciechanow.pl", "group": "editor"})
    assert client.http.post("/v1/admin/staff", headers=stack.auth("publisher"),
                            body=body).status_code == 403
    assert client.http.get("/v1/admin/staff").status_code == 401
    r = client.http.post("/v1/admin/staff", headers=stack.auth("admin"),
                         body=json.dumps({"email": "not-an-email", "group": "boss"}))
    assert r.status_code == 422 and set(json.loads(r.body)["error"]["fields"]) == {"email", "group"}
    r = client.http.post("/v1/admin/staff", headers=stack.auth("admin"),
                         body=json.dumps({"email": "editor@local.test", "group": "editor"}))
    assert r.status_code == 409
    r = client.http.patch("/v1/admin/staff/nobody@local.test", headers=stack.auth("admin"),
                          body=json.dumps({"enabled": False}))
    assert r.status_code == 404
