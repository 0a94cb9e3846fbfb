"""The cost model (infra/costs.py → docs/costs.md): current with the code and the prices, SMS part
counts from the real builder, prices that actually drive the numbers."""
from __future__ import annotations

import dataclasses
import datetime
import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from chalicelib.formats.sms import analyze, is_gsm7, transliterate
from infra import costs


@pytest.fixture(scope="module")
def doc() -> str:
    return costs.render()


@pytest.fixture(scope="module")
def samples() -> list[costs.SmsSample]:
    return costs.sms_samples()


def test_docs_costs_md_is_current(doc: str) -> None:
    on_disk = costs.DOC.read_text() if costs.DOC.exists() else ""
    assert on_disk == doc, ("docs/costs.md is not what the code and infra/prices.json give now: "
                            "run `make costs` and commit docs/costs.md")


def test_a_transliterated_alert_is_one_gsm7_part_with_its_title_and_link(
        samples: list[costs.SmsSample]) -> None:
    for sample in samples:
        info = analyze(sample.sent)
        assert (info.encoding, info.parts) == ("gsm7", 1), sample.sent
        assert transliterate(sample.title) in sample.sent
        assert f"{costs.SITE_URL}/alert.html?id={costs.ALERT_ID}" in sample.sent


def test_the_same_words_with_polish_letters_take_two_or_three_ucs2_parts(
        samples: list[costs.SmsSample]) -> None:
    for sample in samples:
        info = analyze(sample.same_words)
        assert info.encoding == "ucs2" and 2 <= info.parts <= 3, sample.same_words
        assert not is_gsm7(sample.title) and sample.title in sample.same_words
        # the same words: transliterated back they are exactly what is sent
        assert transliterate(sample.same_words) == sample.sent
        # kept within one part, Polish letters leave no room for the title
        assert sample.title not in sample.only_one_part
        assert analyze(sample.only_one_part).parts == 1
        assert sample.full_ucs2_parts > sample.full_gsm7_parts >= 2


def test_sign_up_code_sms_is_one_part() -> None:
    info = analyze(costs.code_sms())
    assert (info.encoding, info.parts) == ("gsm7", 1)
    assert "123456" in costs.code_sms()


def test_ciechanow_numbers(doc: str) -> None:
    price = costs.load_prices()["sms_poland_per_part"]
    worst = 10 * 1_500 * 1 * price
    assert f"10 alerts × 1,500 × 100% = 15,000 SMS × 1 part × {price}" in doc
    assert f"Worst case: {costs.usd(worst)} for alert SMS" in doc
    # transliteration saves the difference between 3 UCS-2 parts and 1 GSM-7 part
    assert (f"| Ciechanów, worst | 15,000 | 15,000 × 1 × {price} = {costs.usd(worst)} | "
            f"15,000 × 3 × {price} = {costs.usd(3 * worst)} | **{costs.usd(2 * worst)}** |"
            in doc)
    assert "| residents | 43,000 | 1,000,000 |" in doc


def test_the_prices_file_drives_every_number(doc: str) -> None:
    prices = costs.load_prices()
    table = json.loads(json.dumps(prices.table))
    table["sms_poland_per_part"]["value"] = 0.09
    table["api_gateway_rest_per_million"]["value"] = 7.40
    dearer = costs.render(dataclasses.replace(prices, table=table))
    assert "15,000 SMS × 1 part × 0.09 | 1,350.00" not in doc
    assert "= 15,000 SMS × 1 part × 0.09), **" in dearer
    assert "300,000 requests × 7.4 per million | 2.22 |" in dearer
    assert "300,000 requests × 3.7 per million | 1.11 |" in doc


def test_prices_have_a_date_a_unit_and_an_aws_source() -> None:
    prices = costs.load_prices()
    datetime.date.fromisoformat(prices.recorded_on)
    assert prices.region == "eu-central-1" and "check" in prices.status.lower()
    wanted = {"sms_poland_per_part", "sns_mobile_push_per_million", "lambda_per_gb_second",
              "lambda_per_million_requests", "api_gateway_rest_per_million",
              "dynamodb_per_million_reads", "dynamodb_per_million_writes",
              "dynamodb_per_gb_month", "s3_per_gb_month", "s3_per_thousand_puts",
              "cloudfront_per_gb", "sqs_per_million", "cloudwatch_logs_per_gb"}
    assert wanted <= set(prices.table)
    for key, row in prices.table.items():
        assert row["value"] > 0 and row["unit"], key
        assert row["source"].startswith("https://aws.amazon.com/"), key


def test_check_mode_fails_on_a_stale_document(tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    stale = tmp_path / "costs.md"
    stale.write_text("# Cost model\n\nold numbers\n")
    monkeypatch.setattr(costs, "DOC", stale)
    assert costs.main(["--check"]) == 1
    assert costs.main([]) == 0  # what `make costs` runs
    assert costs.main(["--check"]) == 0
    assert stale.read_text() == costs.render()


# ---- docs/privacy.md and docs/operations.md cite the code: they fail here when it changes ------

DOCS = costs.ROOT / "docs"


class _CfnLoader(yaml.SafeLoader):
    """infra/template.yaml with its short-form intrinsics (!Sub, !GetAtt …) read as plain values."""


_CfnLoader.add_multi_constructor("!", lambda loader, suffix, node: (
    loader.construct_scalar(node) if isinstance(node, yaml.ScalarNode)
    else loader.construct_sequence(node) if isinstance(node, yaml.SequenceNode)
    else loader.construct_mapping(node)))


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    return yaml.load(costs.TEMPLATE.read_text(), Loader=_CfnLoader)  # noqa: S506


def _defined(name: str) -> bool:
    pattern = re.compile(rf"^\s*def {re.escape(name)}\(", re.M)
    return any(pattern.search(f.read_text()) for folder in ("chalicelib", "infra")
               for f in (costs.ROOT / folder).rglob("*.py"))


def test_privacy_doc_names_functions_and_files_that_exist() -> None:
    text = (DOCS / "privacy.md").read_text()
    functions = set(re.findall(r"`(?:[\w.]+\.)?(\w+)\(\)`", text))
    assert {"remove_sms", "purge_closed_reports", "hit", "request_code"} <= functions
    assert [f for f in sorted(functions) if not _defined(f)] == []
    paths = set(re.findall(r"`((?:chalicelib|infra|web)/[\w/.-]+\.(?:py|yaml|js|html))`", text))
    assert paths and [p for p in sorted(paths) if not (costs.ROOT / p).exists()] == []


def test_privacy_doc_periods_are_the_code_s(template: dict[str, Any]) -> None:
    from chalicelib.services import config, subscriptions, webpush
    from infra import package

    text = (DOCS / "privacy.md").read_text()
    res = template["Resources"]
    rules = {r["Id"]: r["ExpirationInDays"] for r in
             res["PhotoBucket"]["Properties"]["LifecycleConfiguration"]["Rules"]}
    dlq_days = {r["Properties"]["MessageRetentionPeriod"] // 86400 for r in res.values()
                if r["Type"] == "AWS::SQS::Queue" and "RedrivePolicy" not in r["Properties"]}
    assert (subscriptions.CODE_TTL_S, subscriptions.LOCK_S * 2) == (600, 7200)
    assert "valid **10 minutes**" in text and "**2 hours** after it was sent" in text
    assert webpush.CLAIM_TTL_S == 7 * 86400 and "| **7 days** |" in text
    assert (rules["drop-unprocessed-uploads"], rules["drop-report-photos-after-retention"]) == (
        2, 400)
    assert "`drop-unprocessed-uploads` (2 days)" in text
    assert "`drop-report-photos-after-retention` (400 days)" in text
    assert package.PARAMETERS["LogRetentionDays"]["Default"] == 90 and "**90 days**" in text
    assert config.DEFAULTS["report_retention_months"] == 12 and "default 12" in text
    assert dlq_days == {14} and "**14 days** in a dead-letter queue" in text
    # the tables the doc says expire by TTL are exactly those with a TTL; the audit log has none
    with_ttl = {k for k, r in res.items() if "TimeToLiveSpecification" in r.get("Properties", {})}
    assert with_ttl == {"CodesTable", "CountersTable", "WebpushTable"}
    assert all(f"`{t}`" in text for t in with_ttl)
    assert "Audit log: kept forever" in text


def test_operations_doc_names_every_function_and_dead_letter_queue(
        template: dict[str, Any]) -> None:
    from infra import package, policies

    text = (DOCS / "operations.md").read_text()
    dlqs = sorted(r["Properties"]["QueueName"].replace("${Prefix}", "informator")
                  for r in template["Resources"].values()
                  if r["Type"] == "AWS::SQS::Queue" and "RedrivePolicy" not in r["Properties"])
    assert len(dlqs) == 3
    assert [q for q in dlqs if f"| `{q}` |" not in text] == []
    assert [f for f in policies.POLICIES
            if f"`informator-{package.function_name(f)}`" not in text] == []
    assert "aws sqs start-message-move-task --source-arn" in text
    assert "python -m infra.deploy_steps" in text and "--spend-limit <SmsMonthlySpendLimit>" in text
    assert "restore-table-to-point-in-time" in text and "[docs/costs.md](costs.md)" in text
    assert "| item | arithmetic |" not in text  # the cost table lives in docs/costs.md only
