"""A complaint's history over the JSON API (GET /api/v1/console/complaints/{id}/history): the
same story as the console's complaint page (filed, answered, each forward with who, to whom and
why, closed), oldest first, to operators whose scope covers the provider and to nobody else."""

import pytest

from evaluation.complaints import services as complaints
from tests.console.test_complaint_forwarding import _complaint
from tests.points.test_ledger import operator
from tests.test_errors import assert_problem, bearer

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("clean_state")]


def _url(complaint_id: int) -> str:
    return f"/api/v1/console/complaints/{complaint_id}/history"


async def test_the_history_tells_the_forwards_in_order_to_operators_in_scope(client, world):
    complaint_id = await _complaint(world)
    beijing, chaoyang = await operator(world, "beijing"), await operator(world, "chaoyang")
    city = await bearer(client, "operator", world.operators["beijing"])

    fresh = await client.get(_url(complaint_id), headers=city)
    assert fresh.status_code == 200, fresh.text
    assert [event["kind"] for event in fresh.json()] == ["filed"]
    filed = fresh.json()[0]
    assert filed["by"] == "王*芳" and filed["text"] == "结账时多收了二十元"  # the member stays masked

    await complaints.forward(beijing, complaint_id, None, "属地工会先行调解")
    await complaints.forward(chaoyang, complaint_id, beijing.id, "涉及多家门店，请市总协调")
    await complaints.close(beijing, complaint_id, "商户已退还多收款项")

    district = await bearer(client, "operator", world.operators["chaoyang"])
    response = await client.get(_url(complaint_id), headers=district)
    assert response.status_code == 200, response.text
    story = response.json()
    assert [event["kind"] for event in story] == ["filed", "forwarded", "forwarded", "closed"]
    assert [event["at"] for event in story] == sorted(event["at"] for event in story)
    down, up = story[1], story[2]
    assert (down["by"], down["to_node_zh"], down["to_operator"], down["text"]) == (
        "操作员op_beijing",
        "朝阳区总工会",
        None,
        "属地工会先行调解",
    )
    assert (up["by"], up["to_operator"], up["text"]) == (
        "操作员op_chaoyang",
        "操作员op_beijing",
        "涉及多家门店，请市总协调",
    )
    assert story[3]["by"] == "操作员op_beijing" and story[3]["text"] == "商户已退还多收款项"
    # The API and the page read the same service.
    assert len(story) == len(await complaints.history(beijing, complaint_id))


async def test_the_history_is_refused_outside_the_scope_and_to_other_audiences(client, world):
    complaint_id = await _complaint(world)
    hebei = await bearer(client, "operator", world.operators["hebei"])
    assert_problem(await client.get(_url(complaint_id), headers=hebei), 404, "complaint_not_found")
    city = await bearer(client, "operator", world.operators["beijing"])
    assert_problem(await client.get(_url(complaint_id + 1000), headers=city), 404, "complaint_not_found")
    owner = await bearer(client, "provider", world.providers["chaoyang"]["owner"])
    assert (await client.get(_url(complaint_id), headers=owner)).status_code == 403
    member = await bearer(client, "member", world.members["chaoyang"][1])
    assert (await client.get(_url(complaint_id), headers=member)).status_code == 403
    assert (await client.get(_url(complaint_id))).status_code == 401
