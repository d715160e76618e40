"""Points above the threshold take two operators: a large adjustment or a large grant waits
until another operator with the permission approves it; the proposer cannot."""

import json

import pytest

from marketplace.core.db import engine
from marketplace.core.identity import approvals
from marketplace.core.identity.tables import Operator
from marketplace.core.jobs import topics
from marketplace.points import services as points
from tests.factories import now, password_hash
from tests.points.test_ledger import operator
from tests.test_errors import assert_problem, bearer
from tests.vouchers.test_claims import many_members

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("clean_state")]


async def _events(topic: str) -> list:
    return await engine().run_ddl(f"SELECT payload FROM outbox_event WHERE topic = '{topic}'")


async def test_a_large_grant_waits_for_a_second_operator(client, world):
    await many_members(world, 30)
    beijing, chaoyang = await operator(world), await operator(world, "chaoyang")
    grant = await points.create_grant(beijing, world.nodes["chaoyang"], None, 500, "春节慰问积分")  # 15,500 in all
    assert grant.status == "pending" and await _events(topics.GrantCreated.topic) == []
    [pending] = await approvals.in_scope(chaoyang)
    assert pending["kind"] == "points_grant" and pending["payload"]["total"] == 15_500
    # The second operator's to-do list counts it; the proposer's does not.
    assert (await approvals.waiting_for(chaoyang), await approvals.waiting_for(beijing)) == (1, 0)
    with pytest.raises(approvals.Conflict) as own:
        await approvals.decide(beijing, pending["id"], True)
    assert own.value.code == "own_proposal"
    # A reviewer of the scope may not approve money.
    await Operator.insert(
        Operator(
            username="cy_reviewer",
            display_name="审核员",
            node=world.nodes["chaoyang"],
            role="reviewer",
            password_hash=password_hash(),
            created_at=now(),
        )
    )
    reviewer = await bearer(client, "operator", "cy_reviewer")
    assert_problem(
        await client.post(f"/api/v1/console/approvals/{pending['id']}/approve", headers=reviewer), 403, "role_required"
    )
    approved = await client.post(
        f"/api/v1/console/approvals/{pending['id']}/approve",
        headers=await bearer(client, "operator", world.operators["chaoyang"]),
    )
    assert approved.status_code == 200 and approved.json()["status"] == "approved", approved.text
    assert json.loads((await _events(topics.GrantCreated.topic))[0]["payload"]) == {"grant_id": grant.id}
    await points.apply_grant(grant.id)
    assert (await points.get_grant(beijing, grant.id)).status == "done"
    async with engine().transaction() as transaction:
        events = [
            row["action"]
            for row in await transaction.connection.fetch(
                "SELECT action FROM audit_event WHERE subject_kind = 'approval_request' ORDER BY id"
            )
        ]
    assert events == ["points_grant.proposed", "points_grant.approved"]


async def test_a_rejected_grant_is_never_applied(world):
    await many_members(world, 30)
    beijing, chaoyang = await operator(world), await operator(world, "chaoyang")
    grant = await points.create_grant(beijing, world.nodes["chaoyang"], None, 1000, "误操作")
    [pending] = await approvals.in_scope(chaoyang)
    await approvals.decide(chaoyang, pending["id"], False, "金额有误")
    assert (await points.get_grant(beijing, grant.id)).status == "rejected"
    assert await _events(topics.GrantCreated.topic) == []
    with pytest.raises(approvals.Conflict):
        await approvals.decide(chaoyang, pending["id"], True)


async def test_a_large_adjustment_waits_and_a_small_one_does_not(client, world):
    member_id = world.members["chaoyang"][0]
    beijing = await bearer(client, "operator", world.operators["beijing"])
    path = f"/api/v1/console/points/members/{member_id}/adjustments"
    small = await client.post(
        path, headers={**beijing, "Idempotency-Key": "a1"}, json={"amount": 10_000, "reason": "补发"}
    )
    assert small.status_code == 201 and small.json()["balance"] == 10_000 and "approval_id" not in small.json()
    large = await client.post(
        path, headers={**beijing, "Idempotency-Key": "a2"}, json={"amount": 50_000, "reason": "大额补发"}
    )
    assert large.status_code == 201, large.text
    assert large.json()["balance"] == 10_000 and large.json()["approval_id"]
    assert await points.balance_of(member_id) == 10_000
    approval = large.json()["approval_id"]
    assert_problem(
        await client.post(f"/api/v1/console/approvals/{approval}/approve", headers=beijing), 409, "own_proposal"
    )
    chaoyang = await bearer(client, "operator", world.operators["chaoyang"])
    listed = (await client.get("/api/v1/console/approvals", headers=chaoyang)).json()
    assert [(row["id"], row["payload"]["amount"], row["payload"]["member_masked"]) for row in listed] == [
        (approval, 50_000, "王*芳")
    ]
    assert (await client.post(f"/api/v1/console/approvals/{approval}/approve", headers=chaoyang)).status_code == 200
    assert await points.balance_of(member_id) == 60_000
    assert await points.reconcile() == []


async def test_the_console_says_a_large_grant_waits_and_lists_it_as_waiting(client, world):
    from tests.providers.test_pages import _login, _post

    await many_members(world, 30)
    await _login(client, "console", world.operators["beijing"])
    form = {"node_id": str(world.nodes["chaoyang"]), "amount": "500", "reason": "春节慰问积分", "idempotency_key": "g1"}
    preview = await _post(client, "/console/points/grants", form)
    assert preview.status_code == 200 and "须由另一位操作员" in preview.text and "15,500" in preview.text
    granted = await _post(client, "/console/points/grants", {**form, "confirm": "1"})
    assert granted.status_code in (302, 303)
    page = await client.get("/console/points")
    assert "status-grant-pending" in page.text
    small = await _post(client, "/console/points/grants", {**form, "amount": "100", "idempotency_key": "g2"})
    assert "须由另一位操作员" not in small.text  # 3,100 in all: no second operator needed
