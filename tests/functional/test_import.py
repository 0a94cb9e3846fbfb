"""Import of the ~1,500 people of the city's previous SMS system: API and CLI, dry run, idempotence."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Stack
from tests.functional.test_subscriptions import sns_subs, stored

LEGACY_CSV = (
    "\ufefftelefon;kategorie;osiedla;jezyk\n"
    "500100401;woda, prąd;Śródmieście;pl\n"
    "+48 500 100 402;Utrudnienia drogowe|imprezy;;\n"
    "0048500100403;pogoda,ogrzewanie,gaz,inne;os. Bloki, Kwiatowe;ukraiński\n"
    "500100404;energia;całe miasto;angielski\n"
    "23 672 20 00;woda;;pl\n"  # a landline
    "+49 1512 3456789;woda;;pl\n"  # a German mobile
    "abc;woda;;pl\n"
    "500100401;gaz;;pl\n"  # the same person again
    "500100405;karaoke;;pl\n"  # unknown category
    "\n"
)
IMPORTED = ["+48500100401", "+48500100402", "+48500100403", "+48500100404"]


def run(stack: Stack, client: Any, csv_text: str, role: str = "admin", **options: Any) -> Any:
    return client.http.post("/v1/admin/subscribers/import", headers=stack.auth(role),
                            body=json.dumps({"csv": csv_text, **options}))


def everything_sent(stack: Stack) -> list[dict[str, Any]]:
    return [d for d in stack.outbox() if d["channel"] == "sms"]


def test_dry_run_reports_and_writes_nothing(stack: Stack, client: Any) -> None:
    r = run(stack, client, LEGACY_CSV, dry_run=True)
    assert r.status_code == 200, r.body
    report = json.loads(r.body)
    assert report["dry_run"] is True
    assert (report["added"], report["updated"], report["unchanged"], report["skipped"]) == \
        (4, 0, 0, 5)
    assert report["welcome_sent"] == 0
    assert len(report["lines"]) == 5  # one line per skipped row
    assert all(p not in r.body.decode() for p in IMPORTED)  # numbers masked in the report
    assert all(stored(p) is None for p in IMPORTED)
    assert everything_sent(stack) == []
    assert all(sns_subs(stack, p) == {} for p in IMPORTED)


def test_import_maps_legacy_names_and_welcomes_once(stack: Stack, client: Any) -> None:
    r = run(stack, client, LEGACY_CSV)
    assert r.status_code == 200, r.body
    report = json.loads(r.body)
    assert (report["added"], report["skipped"], report["welcome_sent"]) == (4, 5, 4)
    assert report["complete"] is True
    lines = "\n".join(report["lines"])
    assert "line 6: skipped: not a mobile number" in lines
    assert "line 7: skipped: only numbers from PL" in lines
    assert "line 8: skipped" in lines
    assert "line 9: skipped: +48*****01 is already on line 2" in lines
    assert "line 10: skipped" in lines and "karaoke" in lines

    assert set(sns_subs(stack, IMPORTED[0])) == {"water", "electricity", "emergency"}
    assert sns_subs(stack, IMPORTED[0])["water"]["policy"] == {
        "channel": ["sms"], "lang": ["pl"], "districts": ["srodmiescie", "all"]}
    assert set(sns_subs(stack, IMPORTED[1])) == {"roads", "events", "emergency"}
    third = sns_subs(stack, IMPORTED[2])
    assert set(third) == {"weather", "heating", "gas", "other", "emergency"}
    assert third["gas"]["policy"] == {"channel": ["sms"], "lang": ["uk"],
                                      "districts": ["bloki", "kwiatowe", "all"]}
    assert sns_subs(stack, IMPORTED[3])["electricity"]["policy"] == {"channel": ["sms"],
                                                                     "lang": ["en"]}
    record = stored(IMPORTED[0])
    assert record.source == "legacy-import" and record.consent_by == "legacy-import"
    assert record.consent_version == "legacy" and record.consent_at
    for phone in IMPORTED:
        texts = stack.sms_to(phone)
        assert len(texts) == 1
        assert "informator.ciechanow.pl/sms" in texts[0]  # how to leave

    # running it again changes nothing and texts nobody
    before = everything_sent(stack)
    again = json.loads(run(stack, client, LEGACY_CSV).body)
    assert (again["added"], again["updated"], again["unchanged"], again["skipped"],
            again["welcome_sent"]) == (0, 0, 4, 5, 0)
    assert everything_sent(stack) == before
    assert set(sns_subs(stack, IMPORTED[0])) == {"water", "electricity", "emergency"}


def test_a_corrected_file_updates_without_a_second_welcome(stack: Stack, client: Any) -> None:
    run(stack, client, "telefon;kategorie\n500100401;woda\n")
    r = run(stack, client, "telefon;kategorie\n500100401;gaz\n500100402;gaz\n")
    report = json.loads(r.body)
    assert (report["added"], report["updated"], report["welcome_sent"]) == (1, 1, 1)
    assert set(sns_subs(stack, "+48500100401")) == {"gas", "emergency"}
    assert len(stack.sms_to("+48500100401")) == 1


def test_people_who_signed_up_themselves_keep_their_choices(stack: Stack, client: Any) -> None:
    from chalicelib.services.subscriptions import activate_sms

    activate_sms("+48500100401", {"categories": ["events"], "lang": "en"})
    report = json.loads(run(stack, client, "telefon;kategorie\n500100401;woda\n").body)
    assert report["unchanged"] == 1 and report["welcome_sent"] == 0
    assert set(sns_subs(stack, "+48500100401")) == {"events", "emergency"}
    assert stored("+48500100401").source == "self"
    assert stack.sms_to("+48500100401") == []


def test_numbers_opted_out_at_sns_are_not_imported(stack: Stack, client: Any) -> None:
    from infra.outbox import sns_backend

    sns_backend().opt_out_numbers.append("+48500100402")
    report = json.loads(run(stack, client, "telefon\n500100401\n500100402\n").body)
    assert report["added"] == 1 and report["skipped"] == 1
    assert "opted out" in report["lines"][0]
    assert stored("+48500100402") is None and stack.sms_to("+48500100402") == []


def test_comma_csv_in_windows_1250_as_text_csv(stack: Stack, client: Any) -> None:
    body = ('phone,categories,districts,lang\r\n'
            '500100401,"woda,prąd",Płońska,pl\r\n').encode("cp1250")
    r = client.http.post("/v1/admin/subscribers/import?dry_run=true",
                         headers={**stack.auth("admin"), "Content-Type": "text/csv"}, body=body)
    assert r.status_code == 200, r.body
    report = json.loads(r.body)
    assert report["dry_run"] is True and report["added"] == 1 and report["lines"] == []
    r = client.http.post("/v1/admin/subscribers/import",
                         headers={**stack.auth("admin"), "Content-Type": "text/csv"}, body=body)
    assert json.loads(r.body)["added"] == 1
    subs = sns_subs(stack, "+48500100401")
    assert set(subs) == {"water", "electricity", "emergency"}
    assert subs["water"]["policy"]["districts"] == ["plonska", "all"]


def test_an_extra_mapping_teaches_new_legacy_names(stack: Stack, client: Any) -> None:
    report = json.loads(run(stack, client, "telefon;kategorie\n500100405;karaoke\n",
                            mapping={"Karaoke": "events"}).body)
    assert report["added"] == 1
    assert set(sns_subs(stack, "+48500100405")) == {"events", "emergency"}


@pytest.mark.parametrize("body,status,field", [
    ({"csv": "kategorie\nwoda\n"}, 422, "csv"),
    ({"csv": ""}, 422, "csv"),
    ({"data": "x"}, 422, "csv"),
    ({"csv": "telefon\n500100401\n", "dry_run": "yes"}, 422, "dry_run"),
    ({"csv": "telefon\n500100401\n", "mapping": {"x": "beer"}}, 422, "mapping"),
    ({"csv": "telefon\n500100401\n", "start": -1}, 422, "start"),
])
def test_bad_imports_are_refused_and_write_nothing(stack: Stack, client: Any, body: Any,
                                                   status: int, field: str) -> None:
    r = client.http.post("/v1/admin/subscribers/import", headers=stack.auth("admin"),
                         body=json.dumps(body))
    assert r.status_code == status, r.body
    assert field in json.loads(r.body)["error"]["fields"]
    assert stored("+48500100401") is None and everything_sent(stack) == []


def test_only_admins_import(stack: Stack, client: Any) -> None:
    assert run(stack, client, LEGACY_CSV, role="publisher").status_code == 403
    r = client.http.post("/v1/admin/subscribers/import",
                         headers={"Content-Type": "application/json"},
                         body=json.dumps({"csv": LEGACY_CSV}))
    assert r.status_code == 401
    assert all(stored(p) is None for p in IMPORTED)


def test_a_long_import_stops_in_time_and_resumes(stack: Stack, client: Any,
                                                 monkeypatch: Any) -> None:
    from chalicelib.api import admin_subscribers

    monkeypatch.setattr(admin_subscribers, "API_TIME_BUDGET_S", 0.0)
    first = json.loads(run(stack, client, LEGACY_CSV).body)
    assert first["complete"] is False and first["next_start"] == 0
    monkeypatch.setattr(admin_subscribers, "API_TIME_BUDGET_S", 20.0)
    rest = json.loads(run(stack, client, LEGACY_CSV, start=first["next_start"]).body)
    assert rest["complete"] is True and rest["added"] == 4


# ---- the command line ------------------------------------------------------------------------

def test_cli_dry_run_then_import_then_again(stack: Stack, tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    from infra.admin import main

    path = tmp_path / "legacy.csv"
    path.write_text(LEGACY_CSV, encoding="utf-8")
    mapping = tmp_path / "mapping.json"
    mapping.write_text(json.dumps({"karaoke": "events"}), encoding="utf-8")

    assert main(["import-subscribers", str(path), "--dry-run", "--aws"]) == 0
    out = capsys.readouterr().out
    assert "4 would be added" in out and "5 skipped" in out and "dry run" in out
    assert stored(IMPORTED[0]) is None

    assert main(["import-subscribers", str(path), "--aws", "--mapping", str(mapping)]) == 0
    out = capsys.readouterr().out
    assert "5 were added" in out and "4 skipped" in out and "5 welcome SMS sent" in out
    assert out.count("\nline ") + out.startswith("line ") == 4
    assert not any(p in out for p in IMPORTED)

    assert main(["import-subscribers", str(path), "--aws", "--mapping", str(mapping)]) == 0
    out = capsys.readouterr().out
    assert "0 were added" in out and "5 unchanged" in out and "0 welcome SMS sent" in out


def test_cli_reads_the_local_stack_state_file(tmp_path: Path) -> None:
    from infra.admin import local_env

    state = tmp_path / "stack.json"
    state.write_text(json.dumps({"AWS_ENDPOINT_URL": "http://127.0.0.1:5000",
                                 "RESOURCE_PREFIX": "informator-local",
                                 "ports": {"moto": 5000}}))
    env = local_env(state)
    assert env == {"AWS_ENDPOINT_URL": "http://127.0.0.1:5000",
                   "RESOURCE_PREFIX": "informator-local"}
    with pytest.raises(SystemExit, match="start the local stack"):
        local_env(tmp_path / "missing.json")


# ---- the welcome SMS survives a failed or interrupted run --------------------------------------

class ImportKilled(BaseException):
    """The process dies (Lambda timeout, Ctrl-C): no except clause of ours runs."""


def fail_publishes(monkeypatch: pytest.MonkeyPatch, fail: dict[str, BaseException]) -> None:
    """SNS publishes to these numbers fail the first time, as chosen; the rest go through."""
    from chalicelib.aws import get_sns

    client = get_sns()
    real = client.publish
    pending = dict(fail)

    def publish(**kwargs: Any) -> Any:
        exc = pending.pop(kwargs.get("PhoneNumber", ""), None)
        if exc is not None:
            raise exc
        return real(**kwargs)

    monkeypatch.setattr(client, "publish", publish)


def test_a_welcome_sns_refused_goes_out_on_the_next_run_exactly_once(
        stack: Stack, client: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from botocore.exceptions import ClientError

    throttled = ClientError({"Error": {"Code": "Throttling", "Message": "Rate exceeded"}},
                            "Publish")
    fail_publishes(monkeypatch, {IMPORTED[1]: throttled})
    first = json.loads(run(stack, client, LEGACY_CSV).body)
    assert (first["added"], first["welcome_sent"], first["welcome_failed"]) == (4, 3, 1)
    assert any("welcome not sent" in ln and "+48*****02" in ln for ln in first["lines"])
    assert stack.sms_to(IMPORTED[1]) == []
    assert stored(IMPORTED[1]).welcomed_at is None  # saved and subscribed, welcome still owed
    assert set(sns_subs(stack, IMPORTED[1])) == {"roads", "events", "emergency"}
    assert stored(IMPORTED[0]).welcomed_at

    second = json.loads(run(stack, client, LEGACY_CSV).body)
    assert (second["added"], second["unchanged"], second["welcome_sent"],
            second["welcome_failed"]) == (0, 4, 1, 0)
    third = json.loads(run(stack, client, LEGACY_CSV).body)
    assert third["welcome_sent"] == 0
    for phone in IMPORTED:
        assert len(stack.sms_to(phone)) == 1, phone


def test_an_import_killed_between_save_and_send_welcomes_once_on_the_rerun(
        stack: Stack, client: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from chalicelib.services import importer

    fail_publishes(monkeypatch, {IMPORTED[2]: ImportKilled()})
    with pytest.raises(ImportKilled):
        importer.import_csv(LEGACY_CSV, dry_run=False, actor="cli:test")
    # the first two were welcomed; the third was saved and subscribed but never texted
    assert [len(stack.sms_to(p)) for p in IMPORTED] == [1, 1, 0, 0]
    assert stored(IMPORTED[2]) is not None and stored(IMPORTED[2]).welcomed_at is None

    again = importer.import_csv(LEGACY_CSV, dry_run=False, actor="cli:test")
    assert (again["added"], again["unchanged"], again["welcome_sent"]) == (1, 3, 2)
    assert [len(stack.sms_to(p)) for p in IMPORTED] == [1, 1, 1, 1]
    assert importer.import_csv(LEGACY_CSV, dry_run=False, actor="cli:test")["welcome_sent"] == 0
    assert [len(stack.sms_to(p)) for p in IMPORTED] == [1, 1, 1, 1]


def test_cli_says_when_welcomes_failed_and_the_rerun_sends_them(
        stack: Stack, tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    from botocore.exceptions import EndpointConnectionError

    from infra.admin import main

    path = tmp_path / "legacy.csv"
    path.write_text(LEGACY_CSV, encoding="utf-8")
    fail_publishes(monkeypatch, {
        IMPORTED[0]: EndpointConnectionError(endpoint_url="https://sns.eu-central-1.amazonaws.com")})
    assert main(["import-subscribers", str(path), "--aws"]) == 1
    out = capsys.readouterr()
    assert "3 welcome SMS sent" in out.out and "1 welcome SMS not sent" in out.err
    assert "run the same command again" in out.err
    assert main(["import-subscribers", str(path), "--aws"]) == 0
    assert "1 welcome SMS sent" in capsys.readouterr().out
    assert [len(stack.sms_to(p)) for p in IMPORTED] == [1, 1, 1, 1]
