"""Forwarding a complaint (转交): an operator hands it, with a reason, to the provider's own
union or to a named operator who mediates for it; the hand-over is audited, shows on the
complaint's history, and sits on the receiver's to-do list until it is closed or forwarded
again. Refusals show at their field; nobody forwards outside their scope."""

from datetime import timedelta

import pytest

from evaluation.complaints import services as complaints
from evaluation.tables import Complaint
from marketplace.core.audit import services as audit
from marketplace.core.db import engine
from marketplace.core.errors import Conflict, Invalid, NotFound
from tests.console.helpers import HTML, post, web_login
from tests.evaluation.test_quality_loop import redeemed_voucher
from tests.factories import now
from tests.points.test_ledger import operator
from tests.settlements.helpers import value
from tests.test_errors import bearer

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("clean_state")]


async def _complaint(world) -> int:
    """An open complaint about Chaoyang's gym (its provider's union is the Chaoyang district)."""
    member, voucher = await redeemed_voucher(world, "public")
    redemption = await value("SELECT id FROM redemption WHERE voucher = $1", voucher.id)
    rows = await Complaint.insert(
        Complaint(
            redemption=redemption,
            voucher=voucher.id,
            provider=world.providers["chaoyang"]["id"],
            member=member.id,
            category="overcharge",
            text="结账时多收了二十元",
            status="open",
            created_at=now() - timedelta(days=1),
            respond_by=now() + timedelta(days=2),
            member_masked="王*芳",
        )
    ).returning(Complaint.id)
    return rows[0]["id"]


async def test_a_complaint_goes_down_to_the_providers_union_and_up_to_a_named_operator(client, world):
    complaint_id = await _complaint(world)
    beijing, chaoyang = await operator(world, "beijing"), await operator(world, "chaoyang")
    assert await complaints.count_forwarded_to_me(chaoyang) == 0

    # The city hands it down to the provider's own district union, through the console.
    await web_login(client, "console", world.operators["beijing"])
    page = await client.get(f"/console/complaints/{complaint_id}", headers=HTML)
    assert page.status_code == 200 and 'data-testid="forward-form"' in page.text
    assert "朝阳区总工会" in page.text and "操作员op_chaoyang" in page.text  # the union and who mediates there
    assert "操作员op_hebei" not in page.text  # Hebei does not cover the provider
    done = await post(
        client, f"/console/complaints/{complaint_id}/forward", {"target": "node", "reason": "属地工会先行调解"}
    )
    assert (
        done.status_code in (302, 303)
        and done.headers["location"] == f"/console/complaints/{complaint_id}?done=forwarded"
    )
    shown = await client.get(done.headers["location"], headers=HTML)
    assert 'data-testid="forward-done"' in shown.text and 'data-testid="history-forwarded"' in shown.text
    assert "属地工会先行调解" in shown.text and "操作员op_beijing" in shown.text

    # Chaoyang's operators have it on their to-do list and in their filtered list.
    assert await complaints.count_forwarded_to_me(chaoyang) == 1
    assert await complaints.count_forwarded_to_me(beijing) == 0
    await web_login(client, "console", world.operators["chaoyang"])
    home = await client.get("/console", headers=HTML)
    assert "/console/complaints?forwarded=me" in home.text
    mine = await client.get("/console/complaints?forwarded=me", headers=HTML)
    assert mine.text.count('data-testid="complaint"') == 1 and 'data-testid="complaint-holder"' in mine.text

    # Chaoyang hands it back up to a named city operator (the API does the same).
    response = await client.post(
        f"/api/v1/console/complaints/{complaint_id}/forward",
        json={"operator_id": beijing.id, "reason": "涉及多家门店，请市总协调"},
        headers=await bearer(client, "operator", world.operators["chaoyang"]),
    )
    assert response.status_code == 200, response.text
    assert response.json()["forwarded_to"]["operator_id"] == beijing.id
    assert await complaints.count_forwarded_to_me(chaoyang) == 0
    assert await complaints.count_forwarded_to_me(beijing) == 1

    # Closing ends it on every to-do list; the history tells the whole story in order.
    await complaints.close(beijing, complaint_id, "商户已退还多收款项")
    assert await complaints.count_forwarded_to_me(beijing) == 0
    story = await complaints.history(beijing, complaint_id)
    assert [event["kind"] for event in story] == ["filed", "forwarded", "forwarded", "closed"]
    assert story[2]["to_operator"] == "操作员op_beijing" and story[2]["text"] == "涉及多家门店，请市总协调"
    async with engine().transaction() as transaction:
        events = await audit.events(transaction.connection, action="complaint.forwarded", subject_id=complaint_id)
    assert [event["reason"] for event in events] == ["涉及多家门店，请市总协调", "属地工会先行调解"]
    assert events[0]["details"]["to_operator"] == beijing.id


async def test_forwarding_is_refused_at_its_field_and_outside_the_scope(client, world):
    complaint_id = await _complaint(world)
    beijing, hebei = await operator(world, "beijing"), await operator(world, "hebei")
    with pytest.raises(NotFound):
        await complaints.forward(hebei, complaint_id, None, "不在我的范围")
    with pytest.raises(Invalid) as no_reason:
        await complaints.forward(beijing, complaint_id, None, " ")
    assert no_reason.value.field == "reason"
    with pytest.raises(Invalid) as far_away:
        await complaints.forward(beijing, complaint_id, hebei.id, "请河北处理")  # does not cover the provider
    assert far_away.value.field == "operator_id"
    with pytest.raises(Invalid):
        await complaints.forward(beijing, complaint_id, beijing.id, "给自己")
    with pytest.raises(Invalid) as own_union:  # Chaoyang's operator is at the provider's union already
        await complaints.forward(await operator(world, "chaoyang"), complaint_id, None, "交给本级工会")
    assert own_union.value.field == "operator_id"
    await complaints.forward(beijing, complaint_id, None, "属地处理")
    with pytest.raises(Conflict):
        await complaints.forward(beijing, complaint_id, None, "再转一次")

    # On the page: the reason missing shows at its field, with the choice kept.
    await web_login(client, "console", world.operators["beijing"])
    refused = await post(client, f"/console/complaints/{complaint_id}/forward", {"target": "operator", "reason": "x"})
    assert refused.status_code == 422 and 'data-testid="field-error"' in refused.text
    assert 'aria-describedby="operator_id-error"' in refused.text  # no operator chosen
    await complaints.close(beijing, complaint_id, "已处理")
    closed = await post(
        client, f"/console/complaints/{complaint_id}/forward", {"target": "node", "reason": "迟到的转交"}
    )
    assert closed.status_code == 409 and 'data-testid="form-error"' in closed.text
    await web_login(client, "console", world.operators["hebei"])
    assert (await client.get(f"/console/complaints/{complaint_id}", headers=HTML)).status_code == 404
