"""The thresholds of Prepaid Guard's risk signals (collapsing redemptions, a complaint spike,
missed settlements) are the published policy's prepaid section: checked when a version is
published (an old client's section without them keeps the defaults), edited on the console's
policy form in Chinese with errors at the field, and read per provider by the freeze run."""

import pytest

from evaluation.enforcement import freeze, policy, prepaid_rules
from marketplace.core.errors import Invalid
from tests.console.helpers import HTML, post, web_login
from tests.console.test_policy_console import form_values
from tests.points.test_ledger import operator
from tests.prepaid_risk.test_freeze import NOW, complaints

DEFAULTS = policy.DEFAULT_RULES["prepaid"]


def test_the_signal_thresholds_take_the_rules_given():
    assert freeze.redemption_collapse(5, 80) is not None  # 2.5 a week against 10: below 30 %
    assert freeze.redemption_collapse(5, 80, {**DEFAULTS, "collapse_below_percent": 20}) is None
    assert freeze.redemption_collapse(5, 80, {**DEFAULTS, "collapse_min_weekly": 11}) is None
    assert freeze.complaint_spike(12, 16, {**DEFAULTS, "spike_times": 4}) is None
    assert freeze.complaint_spike(5, 0, {**DEFAULTS, "spike_min": 6}) is None


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("collapse_below_percent", 0),
        ("collapse_below_percent", 100),
        ("spike_times", 1),
        ("spike_min", 2.5),
        ("missed_days", 91),
        ("missed_min", None),
        ("collapse_min_weekly", True),
    ],
)
def test_a_threshold_out_of_range_is_refused_at_its_field(key, value):
    with pytest.raises(Invalid) as refused:
        policy.check_prepaid({**DEFAULTS, key: value})
    assert refused.value.field == f"rules.prepaid.{key}"


def test_a_section_without_the_thresholds_keeps_their_defaults():
    earlier = {key: value for key, value in DEFAULTS.items() if key not in policy.PREPAID_SIGNALS}
    assert policy.check_prepaid(earlier) == DEFAULTS
    assert prepaid_rules.effective(earlier)["spike_times"] == 3


@pytest.mark.integration
@pytest.mark.usefixtures("clean_state")
async def test_the_freeze_run_reads_the_thresholds_of_the_providers_policy(world):
    provider = world.providers["chaoyang"]["id"]
    await complaints(world, provider, [20 + i * 3 for i in range(16)])  # 2 a week before
    await complaints(world, provider, [0.5 + i for i in range(12)])  # 12 in two weeks: 3× the usual 4
    rules = {**policy.DEFAULT_RULES, "prepaid": {**DEFAULTS, "spike_times": 4}}
    await policy.publish_policy(await operator(world, "chaoyang"), world.nodes["chaoyang"], rules)
    assert await freeze.evaluate_provider(provider, NOW) == []  # the node asks for 4× the usual
    rules["prepaid"]["spike_times"] = 3
    await policy.publish_policy(await operator(world, "chaoyang"), world.nodes["chaoyang"], rules)
    assert await freeze.evaluate_provider(provider, NOW) == ["complaint_spike"]


@pytest.mark.integration
@pytest.mark.usefixtures("clean_state")
async def test_the_policy_form_edits_the_thresholds_in_chinese_with_errors_at_the_field(client, world):
    await web_login(client, "console", world.operators["chaoyang"])
    page = await client.get("/console/policy", headers=HTML)
    assert 'data-testid="policy-prepaid-signals"' in page.text and "投诉激增" in page.text and "核销骤降" in page.text
    values = form_values(page.text)
    assert (values["prepaid.spike_times"], values["prepaid.missed_days"]) == ("3", "14")
    wrong = await post(client, "/console/policy", {**values, "prepaid.spike_times": "1"})
    assert wrong.status_code == 422
    assert "请输入 2 到 50 之间的整数" in wrong.text.split('id="f-prepaid.spike_times"')[1][:1000]
    done = await post(client, "/console/policy", {**values, "prepaid.collapse_below_percent": "25", "confirm": "1"})
    assert done.status_code in (302, 303), done.text
    section = await prepaid_rules.prepaid_rules(world.nodes["chaoyang"])
    assert section["collapse_below_percent"] == 25 and section["spike_times"] == 3
