"""SNS filter-policy limits: the worst case for the city fits (≤ 5 keys, ≤ 150 combinations)."""
from __future__ import annotations

import itertools
import json
import math

from chalicelib.city import CATEGORIES, LANGUAGES, district_ids
from chalicelib.services.audience import CHANNELS, filter_policy

MAX_KEYS = 5
MAX_COMBINATIONS = 150
MAX_POLICY_BYTES = 256 * 1024


def combinations(policy: dict[str, list[str]]) -> int:
    """SNS counts the product of the number of values of every key."""
    return math.prod(len(values) for values in policy.values())


def test_the_city_is_what_the_limits_are_computed_for() -> None:
    assert len(district_ids()) == 12
    assert len(CATEGORIES) == 9
    assert len(LANGUAGES) == 3


def test_every_subscriber_choice_fits_the_sns_limits() -> None:
    """All 12 districts, any language, any channel, for each of the 9 category topics."""
    worst = 0
    districts = district_ids()
    choices = [districts, districts[:1], []]
    for category, dists, lang, channel in itertools.product(CATEGORIES, choices, LANGUAGES,
                                                            CHANNELS):
        policy = filter_policy(dists, lang, channel)
        assert len(policy) <= MAX_KEYS, (category, policy)
        assert all(isinstance(v, list) and v for v in policy.values())
        assert len(json.dumps(policy).encode()) < MAX_POLICY_BYTES
        worst = max(worst, combinations(policy))
    assert worst == 13  # 12 districts + "all", one language, one channel
    assert worst <= MAX_COMBINATIONS


def test_the_worst_case_policy_still_matches_what_it_should() -> None:
    """The largest policy is not degenerate: it matches its districts and the whole city only."""
    from moto.sns.utils import FilterPolicyMatcher

    policy = filter_policy(district_ids(), "pl", "sms")

    def attrs(districts: list[str], lang: str = "pl") -> dict[str, dict[str, str]]:
        return {"districts": {"Type": "String.Array", "Value": json.dumps(districts)},
                "lang": {"Type": "String.Array", "Value": json.dumps([lang])},
                "channel": {"Type": "String.Array", "Value": json.dumps(["sms", "push"])}}

    matcher = FilterPolicyMatcher(policy, None)
    assert matcher.matches(attrs(["zachod"]), "")
    assert matcher.matches(attrs(["all"]), "")
    assert not matcher.matches(attrs(["elsewhere"]), "")
    assert not matcher.matches(attrs(["all"], lang="en"), "")
