"""Transfers keep a member's points, vouchers and history; a member who left signs in
and reads their own records but claims and pays for nothing."""

import pytest

from marketplace.core import audit
from marketplace.core.db import engine
from marketplace.core.errors import Conflict, Forbidden, Invalid, NotFound
from marketplace.core.federation import services as federation
from marketplace.points import services as points
from tests.federation.test_roster import operator
from tests.providers.test_pages import _login, _post
from tests.test_errors import assert_problem, bearer

pytestmark = pytest.mark.integration


async def give(member_id: int, amount: int) -> None:
    async with engine().transaction() as transaction:
        await points.credit(transaction.connection, member_id, "earn", amount, "test-gift")


async def events(action: str) -> list[dict]:
    connection = await engine().get_new_connection()
    try:
        return await audit.events(connection, action=action)
    finally:
        await connection.close()


async def test_a_transfer_keeps_points_vouchers_and_history(client, world):
    member_id, phone = world.members["chaoyang"]
    headers = await bearer(client, "member", phone)
    await give(member_id, 500)
    voucher = await client.post(f"/api/v1/offers/{world.offers['public']}/claims", headers=headers)
    assert voucher.status_code == 201
    history = (await client.get("/api/v1/points", headers=headers)).json()

    beijing = await operator("beijing")
    await federation.transfer_member(beijing, member_id, world.nodes["hd_union"], "调动到海淀")
    assert await federation.member_node(member_id) == world.nodes["hd_union"]
    assert await points.balance_of(member_id) == 500
    assert (await client.get("/api/v1/points", headers=headers)).json() == history
    mine = (await client.get("/api/v1/vouchers", headers=headers)).json()
    assert [v["id"] for v in mine] == [voucher.json()["id"]]
    # Eligibility follows the new union: the Haidian-only offer opens, nothing else changed.
    assert (
        await client.post(f"/api/v1/offers/{world.offers['haidian_only']}/claims", headers=headers)
    ).status_code == 201
    (event,) = await events("member.transfer")
    assert event["details"] == {"before": {"node": world.nodes["cy_union"]}, "after": {"node": world.nodes["hd_union"]}}
    assert event["reason"] == "调动到海淀" and event["subject_id"] == member_id and event["actor_kind"] == "operator"


async def test_transfers_stay_within_the_operators_scope(world):
    member_id = world.members["chaoyang"][0]
    chaoyang, hebei = await operator("chaoyang"), await operator("hebei")
    with pytest.raises(NotFound) as refused:  # the target union is outside the Chaoyang operator's scope
        await federation.transfer_member(chaoyang, member_id, world.nodes["hd_union"])
    assert (refused.value.code, refused.value.field) == ("node_not_found", "node_id")
    with pytest.raises(NotFound):  # the member is outside Hebei's
        await federation.transfer_member(hebei, member_id, world.nodes["sjz_union"])
    with pytest.raises(NotFound):
        await federation.leave_member(hebei, member_id)
    beijing = await operator("beijing")
    with pytest.raises(Invalid):
        await federation.transfer_member(beijing, member_id, world.nodes["haidian"])  # not grassroots
    with pytest.raises(Conflict):
        await federation.transfer_member(beijing, member_id, world.nodes["cy_union"])  # already there
    assert await federation.member_node(member_id) == world.nodes["cy_union"]
    assert await events("member.transfer") == []


async def test_a_member_who_left_signs_in_and_reads_but_cannot_claim(client, world):
    member_id, phone = world.members["chaoyang"]
    headers = await bearer(client, "member", phone)
    await give(member_id, 300)
    voucher = (await client.post(f"/api/v1/offers/{world.offers['public']}/claims", headers=headers)).json()

    await federation.leave_member(await operator("chaoyang"), member_id, "退会")
    with pytest.raises(Conflict):
        await federation.leave_member(await operator("chaoyang"), member_id)
    (event,) = await events("member.leave")
    assert event["details"]["after"] == {"status": "left"}

    # A session opened before still reads; a new sign-in works too.
    for auth in (headers, await bearer(client, "member", phone)):
        mine = (await client.get("/api/v1/vouchers", headers=auth)).json()
        assert [v["id"] for v in mine] == [voucher["id"]]
        assert (await client.get("/api/v1/points", headers=auth)).json()["balance"] == 300
        assert_problem(
            await client.post(f"/api/v1/offers/{world.offers['women']}/claims", headers=auth), 403, "member_left"
        )
    # Paying is refused the same way.
    from marketplace.payments import services as payments

    principal = await federation.member_principal(member_id)
    assert principal.member_status == "left"
    with pytest.raises(Forbidden) as refused:
        await payments.start(principal, world.offers["public"])
    assert refused.value.code == "member_left"
    # The operator's counts leave them out; the member list still shows them.
    assert await federation.count_members("/") == 1
    page = await federation.list_members(await operator("beijing"), world.nodes["cy_union"])
    assert [m.status for m in page.items] == ["left"]
    # The web sign-in works too, and the account page opens.
    await client.get("/login")
    response = await client.post(
        "/login",
        data={"username": phone, "password": "Correct-Horse-42", "_csrf_token": client.cookies.get("csrftoken")},
    )
    assert response.status_code in (302, 303), response.text


async def test_console_member_list_transfers_and_marks_as_left(client, world):
    await _login(client, "console", world.operators["beijing"])
    member_id = world.members["chaoyang"][0]
    page = await client.get(f"/console/nodes/{world.nodes['chaoyang']}/members")
    assert page.status_code == 200 and f'data-member="{member_id}"' in page.text
    assert "王*芳" in page.text and "王小芳" not in page.text
    moved = await _post(
        client,
        f"/console/members/{member_id}/transfer",
        {"node_id": str(world.nodes["hd_union"]), "back_node": str(world.nodes["chaoyang"])},
    )
    assert moved.status_code in (302, 303), moved.text
    assert await federation.member_node(member_id) == world.nodes["hd_union"]
    wrong = await _post(
        client,
        f"/console/members/{member_id}/transfer",
        {"node_id": str(world.nodes["haidian"]), "back_node": str(world.nodes["beijing"])},
    )
    assert wrong.status_code == 422 and 'data-testid="form-error"' in wrong.text
    left = await _post(client, f"/console/members/{member_id}/leave", {"back_node": str(world.nodes["beijing"])})
    assert left.status_code in (302, 303)
    assert (await federation.list_members(await operator("beijing"), world.nodes["hd_union"])).items[0].status == "left"


async def test_console_pages_refuse_other_scopes(client, world):
    await _login(client, "console", world.operators["hebei"])
    member_id = world.members["chaoyang"][0]
    assert (await client.get(f"/console/nodes/{world.nodes['chaoyang']}/members")).status_code == 404
    refused = await _post(client, f"/console/members/{member_id}/leave", {"back_node": str(world.nodes["hebei"])})
    assert refused.status_code == 404
    assert (await federation.member_principal(member_id)).member_status == "active"


async def test_the_api_imports_transfers_and_marks_as_left_within_scope(client, world):
    from tests.federation.test_roster import csv_file, row

    headers = await bearer(client, "operator", world.operators["beijing"])
    done = await client.post(
        "/api/v1/federation/roster-imports?filename=r.csv", headers=headers, content=csv_file(row(90))
    )
    assert done.status_code == 201 and done.json()["created"] == 1, done.text
    assert (await client.get(f"/api/v1/federation/roster-imports/{done.json()['id']}", headers=headers)).json()[
        "status"
    ] == "done"
    bad = assert_problem(
        await client.post("/api/v1/federation/roster-imports", headers=headers, content=csv_file(row(91, phone="1"))),
        422,
        "invalid_roster",
    )
    assert bad["row_errors"][0]["row"] == 2 and bad["row_errors"][0]["code"] == "bad_phone"

    member_id = world.members["chaoyang"][0]
    hebei = await bearer(client, "operator", world.operators["hebei"])
    assert_problem(
        await client.post(f"/api/v1/federation/members/{member_id}/leave", headers=hebei, json={}),
        404,
        "member_not_found",
    )
    assert_problem(
        await client.get(f"/api/v1/federation/roster-imports/{done.json()['id']}", headers=hebei),
        404,
        "import_not_found",
    )
    moved = await client.post(
        f"/api/v1/federation/members/{member_id}/transfer",
        headers=headers,
        json={"node_id": world.nodes["hd_union"], "reason": "调动"},
    )
    assert moved.status_code == 200, moved.text
    left = await client.post(f"/api/v1/federation/members/{member_id}/leave", headers=headers, json={})
    assert left.status_code == 200 and (await federation.member_principal(member_id)).member_status == "left"


async def test_a_member_who_left_reads_their_pages_but_the_claim_form_refuses(client, world):
    member_id, phone = world.members["chaoyang"]
    await give(member_id, 120)
    await federation.leave_member(await operator("chaoyang"), member_id)
    await client.get("/login")
    signed_in = await _post(client, "/login", {"username": phone, "password": "Correct-Horse-42"})
    assert signed_in.status_code in (302, 303), signed_in.text
    for path in ("/vouchers", "/points", "/me"):
        assert (await client.get(path)).status_code == 200, path
    refused = await _post(client, f"/offers/{world.offers['public']}/claim", {})
    assert refused.status_code == 403
    rows = await engine().run_ddl(f"SELECT count(*) AS n FROM voucher WHERE member = {member_id}")
    assert rows[0]["n"] == 0
