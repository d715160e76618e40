"""The evaluation policy as a form: validation at the field in Chinese, and a preview of
which providers would change level before a version is published."""

import re

import pytest

from evaluation.enforcement import policy
from tests.console.helpers import HTML, post, web_login
from tests.evaluation.test_quality_loop import bad_scorecard

pytestmark = [pytest.mark.integration]


def form_values(html: str) -> dict[str, str]:
    """The policy form's fields and values, as the page shows them."""
    form = html.split('data-testid="policy-form"')[1]
    return dict(re.findall(r'<input id="f-[^"]+" name="([^"]+)" value="([^"]*)"', form))


async def test_policy_form_checks_fields_and_previews_who_moves(client, world):
    await bad_scorecard(world.providers["chaoyang"]["id"])  # satisfaction 3.00 from 60 ratings: probation now
    await web_login(client, "console", world.operators["chaoyang"])
    page = await client.get("/console/policy", headers=HTML)
    values = form_values(page.text)
    assert values["watch.honoured_low_below"] == "85" and values["probation.satisfaction_below"] == "3.2"
    wrong = await post(client, "/console/policy", {**values, "warning.satisfaction_below": "9"})
    assert wrong.status_code == 422 and 'aria-invalid="true"' in wrong.text
    assert "请输入 1 到 5 之间的数字" in wrong.text and 'value="9"' in wrong.text
    upside_down = await post(client, "/console/policy", {**values, "watch.satisfaction_below": "3.0"})
    assert upside_down.status_code == 422 and "逐级从严" in upside_down.text
    milder = {**values, "probation.satisfaction_below": "2.9"}
    preview = await post(client, "/console/policy", milder)
    assert preview.status_code == 200 and 'data-testid="policy-preview"' in preview.text
    assert preview.text.count('data-testid="policy-move"') == 1 and "力美健健身" in preview.text
    move = preview.text.split('data-testid="policy-move"')[1].split("</tr>")[0]
    assert "整改观察" in move and "警告" in move
    assert (await policy.policy_of_node(world.nodes["chaoyang"]))["version"] == 0  # nothing published yet
    done = await post(client, "/console/policy", {**milder, "confirm": "1"})
    assert done.status_code in (302, 303)
    current = await policy.policy_of_node(world.nodes["chaoyang"])
    assert current["version"] == 1 and current["rules"]["levels"]["probation"]["satisfaction_below"] == 2.9
    assert current["rules"]["levels"]["watch"]["honoured_low_below"] == 0.85
