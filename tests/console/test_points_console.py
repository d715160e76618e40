"""Points in the console: a grant shows "N 人，共 X 积分" before it runs; a correction finds the member by search."""

import pytest

from marketplace.points import services as points
from tests.console.helpers import HTML, post, web_login
from tests.factories import add_member

pytestmark = [pytest.mark.integration]


async def test_grant_preview_counts_people_and_points_before_anything_runs(client, world):
    for serial in range(20, 25):
        await add_member(world.nodes["cy_union"], serial, name="赵六", groups=("women",))
    await web_login(client, "console", world.operators["beijing"])
    await client.get("/console/points", headers=HTML)
    form = {
        "node_id": str(world.nodes["chaoyang"]),
        "member_group": "women",
        "amount": "200",
        "reason": "三八节慰问",
        "idempotency_key": "grant-1",
    }
    preview = await post(client, "/console/points/grants", form)
    assert preview.status_code == 200 and 'data-testid="confirm"' in preview.text
    assert "6 人，共 1,200 积分" in preview.text  # the world's 王小芳 is in the women's group too
    assert "女职工" in preview.text and "women" not in preview.text.split('data-testid="confirm"')[1].split("<form")[0]
    granted = await post(client, "/console/points/grants", {**form, "confirm": "1"})
    assert granted.status_code in (302, 303)
    again = await post(client, "/console/points/grants", {**form, "confirm": "1"})  # a second tap on confirm
    assert again.status_code in (302, 303)
    assert len(await points.list_grants(await _principal(world))) == 1


async def _principal(world):
    from tests.points.test_ledger import operator

    return await operator(world, "beijing")


async def test_correction_finds_the_member_by_phone_or_name(client, world):
    member_id, phone = world.members["chaoyang"]
    await web_login(client, "console", world.operators["beijing"])
    page = await client.get(f"/console/points?member_q={phone}", headers=HTML)
    assert 'data-testid="member-results"' in page.text and f'value="{member_id}"' in page.text
    assert "王*芳" in page.text and 'name="member_id" type="number"' not in page.text
    by_name = await client.get("/console/points?member_q=小芳", headers=HTML)
    assert f'value="{member_id}"' in by_name.text
    none = await client.get("/console/points?member_q=13000000000", headers=HTML)
    assert 'data-testid="member-none"' in none.text
    fixed = await post(
        client,
        "/console/points/adjustments",
        {"member_id": str(member_id), "adjust_amount": "30", "adjust_reason": "补发活动积分", "member_q": phone},
    )
    assert fixed.status_code == 200 and 'data-testid="adjusted"' in fixed.text and "30" in fixed.text
    assert await points.balance_of(member_id) == 30
