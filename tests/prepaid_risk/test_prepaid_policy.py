"""The prepaid section of the enforcement policy (issue 17): Shanghai's caps by default, each
cap a package breaks named in Chinese, the section checked when a version is published and
edited on the console's policy form with the problem at its field."""

import pytest

from evaluation.enforcement import policy, prepaid_rules
from evaluation.enforcement.prepaid_rules import package_violations
from marketplace.core.errors import Invalid
from marketplace.core.web import i18n
from tests.console.helpers import HTML, post, web_login
from tests.console.test_policy_console import form_values

DEFAULTS = policy.DEFAULT_RULES["prepaid"]


def rules_of(violations) -> list[str]:
    return [violation.rule for violation in violations]


def test_shanghai_caps_are_the_defaults():
    assert DEFAULTS["membership_max_fen"] == 500000 and DEFAULTS["membership_max_months"] == 24
    assert DEFAULTS["package_max_fen"] == 2000000 and DEFAULTS["package_max_sessions"] == 60
    assert DEFAULTS["member_total_max_fen"] == 2000000 and DEFAULTS["provider_outstanding_max_fen"] is None
    assert DEFAULTS["cooling_off_days"] == 7 and DEFAULTS["release"] == "per_session"
    assert DEFAULTS["refund_subsidy_to_node"] is True


@pytest.mark.parametrize(
    ("price_fen", "sessions", "months", "broken"),
    [
        (500000, None, 24, []),  # a membership exactly at both caps
        (500001, None, 24, ["membership_max_fen"]),
        (300000, None, 25, ["membership_max_months"]),
        (2000000, 60, 12, []),  # a class package at its caps
        (2000001, 60, 12, ["package_max_fen", "member_total_max_fen"]),
        (1000000, 61, 12, ["package_max_sessions"]),
        (1000000, 20, None, ["membership_max_months"]),  # a package must end
        (600000, 20, 12, []),  # a class package may cost more than a membership
    ],
)
def test_package_violations(price_fen, sessions, months, broken):
    assert rules_of(package_violations(DEFAULTS, price_fen=price_fen, sessions=sessions, months=months)) == broken


def test_a_violation_names_its_rule_in_chinese():
    (violation,) = package_violations(DEFAULTS, price_fen=600000, sessions=None, months=12)
    text = violation.text()
    assert "¥5,000" in text and "¥6,000" in text and "会员卡" in text, text
    token = i18n.current_locale.set("en")
    try:
        assert violation.text() == "A period membership may cost at most ¥5,000 (this one: ¥6,000)."
    finally:
        i18n.current_locale.reset(token)


def test_a_section_published_by_a_node_replaces_the_defaults_and_an_old_version_takes_them():
    stricter = {**DEFAULTS, "package_max_sessions": 30}
    assert rules_of(package_violations(stricter, price_fen=100000, sessions=31, months=6)) == ["package_max_sessions"]
    assert prepaid_rules.effective(None) == DEFAULTS
    assert prepaid_rules.effective({"cooling_off_days": 10})["cooling_off_days"] == 10


def test_check_prepaid_refuses_each_wrong_value_at_its_field():
    assert policy.check_prepaid(None) == DEFAULTS
    assert policy.check_prepaid(dict(DEFAULTS)) == DEFAULTS
    for key, value, field in [
        ("cooling_off_days", -1, "rules.prepaid.cooling_off_days"),
        ("package_max_sessions", 2.5, "rules.prepaid.package_max_sessions"),
        ("membership_max_fen", None, "rules.prepaid.membership_max_fen"),
        ("release", "yearly", "rules.prepaid.release"),
        ("refund_subsidy_to_node", "yes", "rules.prepaid.refund_subsidy_to_node"),
        ("member_total_max_fen", 100000, "rules.prepaid.member_total_max_fen"),
    ]:
        with pytest.raises(Invalid) as refused:
            policy.check_prepaid({**DEFAULTS, key: value})
        assert refused.value.field == field, key
    assert (
        policy.check_prepaid({**DEFAULTS, "provider_outstanding_max_fen": None})["provider_outstanding_max_fen"] is None
    )


@pytest.mark.integration
@pytest.mark.usefixtures("clean_state")
async def test_prepaid_rules_follow_the_nearest_published_version(world):
    chaoyang = world.nodes["chaoyang"]
    assert await prepaid_rules.prepaid_rules(chaoyang) == DEFAULTS
    rules = policy.check_rules({**policy.DEFAULT_RULES, "prepaid": {**DEFAULTS, "cooling_off_days": 10}})
    from marketplace.core.db import engine

    await engine().run_ddl(
        "INSERT INTO enforcement_policy (node, version, rules, created_at) "
        f"VALUES ({chaoyang}, 1, '{__import__('json').dumps(rules)}'::jsonb, now())"
    )
    assert (await prepaid_rules.prepaid_rules(chaoyang))["cooling_off_days"] == 10
    # A version from before prepaid packages (no section) reads as the defaults.
    old = {key: value for key, value in rules.items() if key != "prepaid"}
    await engine().run_ddl(
        "INSERT INTO enforcement_policy (node, version, rules, created_at) "
        f"VALUES ({chaoyang}, 2, '{__import__('json').dumps(old)}'::jsonb, now())"
    )
    assert await prepaid_rules.prepaid_rules(chaoyang) == DEFAULTS


@pytest.mark.integration
async def test_the_policy_form_edits_the_prepaid_caps_in_yuan_with_errors_at_the_field(client, world):
    await web_login(client, "console", world.operators["chaoyang"])
    page = await client.get("/console/policy", headers=HTML)
    assert page.status_code == 200 and 'data-testid="policy-prepaid"' in page.text
    assert ("预付" in page.text and "冷静期" in page.text) or "反悔" in page.text
    values = form_values(page.text)
    assert values["prepaid.membership_max_fen"] == "5000" and values["prepaid.package_max_sessions"] == "60"
    assert values["prepaid.provider_outstanding_max_fen"] == ""
    values |= {"prepaid.release": "per_session", "prepaid.refund_subsidy_to_node": "yes"}
    wrong = await post(client, "/console/policy", {**values, "prepaid.cooling_off_days": "一周"})
    assert wrong.status_code == 422 and 'aria-invalid="true"' in wrong.text
    assert "请输入 0 到 90 之间的整数" in wrong.text, wrong.text
    wrong = await post(client, "/console/policy", {**values, "prepaid.membership_max_fen": "0.5"})
    assert wrong.status_code == 422 and "元" in wrong.text.split('id="f-prepaid.membership_max_fen"')[1][:800]
    changed = {
        **values,
        "prepaid.membership_max_fen": "4000",
        "prepaid.release": "monthly",
        "prepaid.provider_outstanding_max_fen": "100000",
        "confirm": "1",
    }
    done = await post(client, "/console/policy", changed)
    assert done.status_code in (302, 303), done.text
    section = await prepaid_rules.prepaid_rules(world.nodes["chaoyang"])
    assert section["membership_max_fen"] == 400000 and section["release"] == "monthly"
    assert section["provider_outstanding_max_fen"] == 10000000 and section["cooling_off_days"] == 7
