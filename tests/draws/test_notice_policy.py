"""The 公示's notice period comes from the node's published policy (rules["draws"]
["notice_days"], default 30): checked 1–365 days when published, inherited from the
nearest node above, edited on the policy form with a Chinese message at the field."""

import re
from datetime import timedelta

import pytest

from evaluation.enforcement import policy
from marketplace.core.errors import Invalid
from marketplace.core.federation import services as federation
from marketplace.draws import services as draws
from tests.console.helpers import HTML, post, web_login
from tests.draws.test_draws import members, new_draw, operator

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("clean_state")]


def rules_with(notice_days) -> dict:
    rules = {key: value for key, value in policy.DEFAULT_RULES.items() if key != "draws"}
    return {**rules, "draws": {"notice_days": notice_days}}


def test_the_notice_period_is_checked_and_defaults_when_left_out():
    assert policy.DEFAULT_RULES["draws"] == {"notice_days": 30}
    for wrong in (0, 366, "7", 7.5, True, None):
        rules = rules_with(wrong) if wrong is not None else {**rules_with(1), "draws": {"notice_days": None}}
        with pytest.raises(Invalid) as refused:
            policy.check_rules(rules)
        assert refused.value.field == "rules.draws.notice_days", wrong
    with pytest.raises(Invalid) as refused:
        policy.check_rules({**rules_with(1), "draws": [7]})
    assert refused.value.field == "rules.draws"
    assert policy.check_rules(rules_with(365))["draws"] == {"notice_days": 365}
    earlier_shape = {key: value for key, value in policy.DEFAULT_RULES.items() if key != "draws"}
    assert policy.check_rules(earlier_shape)["draws"] == {"notice_days": 30}
    assert policy.draw_rules(earlier_shape) == {"notice_days": 30}  # a version published before the section


async def drawn_notice(world, offer: str, member) -> timedelta:
    draw_id = await new_draw(world, offer=offer, places=1)
    await draws.enter(member, draw_id)
    drawn = await draws.run_draw(await operator(world), draw_id)
    return drawn["notice_until"] - drawn["drawn_at"]


async def test_a_draw_keeps_names_on_its_notice_for_the_days_of_its_nodes_policy(world):
    (plain,) = await members(world, 1)
    (woman,) = await members(world, 1, start=200, groups=("women",))
    haidian = await federation.member_principal(world.members["haidian"][0])
    assert await drawn_notice(world, "public", plain) == timedelta(days=30)  # no policy published: the default
    national = await operator(world, "national")
    await policy.publish_policy(national, world.nodes["national"], rules_with(10))
    assert await drawn_notice(world, "women", woman) == timedelta(days=10)  # a Beijing draw: the national policy
    await policy.publish_policy(await operator(world, "beijing"), world.nodes["beijing"], rules_with(7))
    await policy.publish_policy(await operator(world, "hebei"), world.nodes["hebei"], rules_with(200))
    assert await drawn_notice(world, "haidian_only", haidian) == timedelta(
        days=7
    )  # Haidian's draw: Beijing's, the nearest above


def form_values(html: str) -> dict[str, str]:
    form = html.split('data-testid="policy-form"')[1]
    return dict(re.findall(r'<input id="f-[^"]+" name="([^"]+)" value="([^"]*)"', form))


async def test_the_policy_form_shows_the_notice_period_and_refuses_it_at_the_field(client, world):
    await web_login(client, "console", world.operators["beijing"])
    page = await client.get("/console/policy", headers={**HTML, "accept-language": "zh-CN"})
    assert "抽签公示展示姓名的天数" in page.text
    values = form_values(page.text)
    assert values["draws.notice_days"] == "30"
    for wrong in ("0", "366", "七"):
        refused = await post(client, "/console/policy", {**values, "draws.notice_days": wrong})
        assert refused.status_code == 422, wrong
        field = refused.text.split('id="f-draws.notice_days"')[1].split("</td>")[0]
        assert 'aria-invalid="true"' in field and "请输入 1 到 365 之间的整数" in field, wrong
        assert f'value="{wrong}"' in refused.text.split('id="f-draws.notice_days"')[0][-400:] + field
    preview = await post(client, "/console/policy", {**values, "draws.notice_days": "14"})
    assert preview.status_code == 200 and 'data-testid="policy-preview"' in preview.text
    done = await post(client, "/console/policy", {**values, "draws.notice_days": "14", "confirm": "1"})
    assert done.status_code in (302, 303)
    current = await policy.policy_of_node(world.nodes["beijing"])
    assert current["version"] == 1 and current["rules"]["draws"] == {"notice_days": 14}
    page = await client.get("/console/policy", headers=HTML)
    assert form_values(page.text)["draws.notice_days"] == "14"
