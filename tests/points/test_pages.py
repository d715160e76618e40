"""The points pages: a member's balance and history, the console's grant and correction forms."""

import pytest

from marketplace.points import services as points
from tests.points.test_ledger import give, operator
from tests.providers.test_pages import _login, _post

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("clean_state")]


async def test_a_member_sees_their_balance_history_and_next_expiry(client, world):
    member_id, phone = world.members["chaoyang"]
    await give(member_id, 120, "activity")
    await client.get("/login")
    await _post(client, "/login", {"username": phone, "password": "Correct-Horse-42"})
    page = await client.get("/points")
    assert page.status_code == 200
    assert 'data-testid="points-balance">120<' in page.text
    assert "获得" in page.text and "+120" in page.text and 'data-testid="points-next-expiry"' in page.text
    assert 'href="/points"' in (await client.get("/me")).text


async def test_an_operator_grants_points_and_corrects_a_member_from_the_console(client, world):
    await _login(client, "console", world.operators["chaoyang"])
    page = await client.get("/console/points")
    assert page.status_code == 200 and 'data-testid="grant-form"' in page.text
    assert "河北" not in page.text  # only the operator's own subtree is offered

    refused = await _post(
        client,
        "/console/points/grants",
        {"node_id": str(world.nodes["chaoyang"]), "amount": "abc", "reason": "春节慰问"},
    )
    assert refused.status_code == 422 and 'id="amount" name="amount"' in refused.text
    assert 'aria-invalid="true"' in refused.text
    # The message sits under the field, in Chinese; the reason typed is kept.
    at_field = refused.text.split('id="amount" name="amount"')[1].split("</div>")[0]
    assert 'data-testid="field-error"' in at_field and "整数" in at_field
    assert 'value="春节慰问"' in refused.text
    form = {"node_id": str(world.nodes["chaoyang"]), "amount": "88", "reason": "春节慰问", "idempotency_key": "k1"}
    preview = await _post(client, "/console/points/grants", form)  # first the preview, nothing granted yet
    assert preview.status_code == 200 and "1 人，共 88 积分" in preview.text
    assert await points.list_grants(await operator(world, "chaoyang")) == []
    form["confirm"] = "1"
    assert (await _post(client, "/console/points/grants", form)).status_code in (302, 303)
    assert (await _post(client, "/console/points/grants", form)).status_code in (302, 303)  # a double submit
    grants = await points.list_grants(await operator(world, "chaoyang"))
    assert len(grants) == 1 and grants[0].members_total == 1
    await points.apply_grant(grants[0].id)
    progress = await client.get(f"/console/points/grants/{grants[0].id}/progress")
    assert "1 / 1" in progress.text and "hx-get" not in progress.text  # done: no more polling

    member_id = world.members["chaoyang"][0]
    taken = await _post(
        client,
        "/console/points/adjustments",
        {"member_id": str(member_id), "adjust_amount": "-100", "adjust_reason": "纠正重复发放"},
    )
    assert taken.status_code == 409 and "该会员的积分不足以扣减" in taken.text
    fixed = await _post(
        client,
        "/console/points/adjustments",
        {"member_id": str(member_id), "adjust_amount": "-8", "adjust_reason": "纠正重复发放"},
    )
    assert fixed.status_code == 200 and 'data-testid="adjusted"' in fixed.text
    assert await points.balance_of(member_id) == 80
