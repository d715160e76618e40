"""The statement's states over the JSON API: draft → approved → paid, 409 for anything else,
the operator's scope and the owner's own statements, and paying through the gateway."""

import asyncio
from datetime import timedelta

import pytest

from providers.settlements import drafting as statements, payouts, services as settlements
from providers.settlements.payouts import FakePayoutGateway
from tests.settlements.helpers import add_offer, move_redemption, operator_principal, redeemed, set_account, value
from tests.test_errors import assert_problem, bearer

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("clean_state")]
ACCOUNT = "acct_1Nv0FGQ9RKHgCVdK"


@pytest.fixture
async def drafted(world) -> dict:
    """Last month's statements of both providers: {"chaoyang": id, "haidian": id, "period": ...}."""
    period = settlements.previous_period()
    for voucher in [
        await redeemed(world, world.offers["public"], paid_fen=1999),
        await redeemed(world, await add_offer(world, "haidian", subsidy_fen=800), provider="haidian"),
    ]:
        await move_redemption(voucher["id"], settlements.period_bounds(period)[0] + timedelta(days=2))
    await statements.draft_month(period)
    ids = {
        key: await value("SELECT id FROM settlement_statement WHERE provider = $1", world.providers[key]["id"])
        for key in ("chaoyang", "haidian")
    }
    return {**ids, "period": period}


async def operator(client, world, key="chaoyang"):
    return await bearer(client, "operator", world.operators[key])


async def test_an_operator_approves_then_pays_and_every_other_move_is_a_409(client, world, drafted):
    headers = await operator(client, world)
    second = await operator(client, world, "beijing")
    path = f"/api/v1/console/settlements/{drafted['chaoyang']}"
    assert_problem(await client.post(path + "/pay", headers=headers), 409, "status_conflict")
    # No account to pay to yet: nothing to approve.
    assert_problem(await client.post(path + "/approve", headers=headers), 409, "no_payout_account")
    proposal = await client.put(
        f"/api/v1/console/providers/{world.providers['chaoyang']['id']}/payout-account",
        headers=headers,
        json={"account_id": ACCOUNT},
    )
    assert proposal.status_code == 202, proposal.text
    assert (
        await client.post(f"/api/v1/console/approvals/{proposal.json()['id']}/approve", headers=second)
    ).status_code == 200
    approved = await client.post(path + "/approve", headers=headers, json={"revision": 1})
    assert approved.status_code == 200, approved.text
    assert approved.json()["status"] == "approved" and approved.json()["total_fen"] == 3000 + 1999
    body = assert_problem(await client.post(path + "/approve", headers=headers), 409, "status_conflict")
    assert body["status_now"] == "approved"
    # Who approved does not pay.
    assert_problem(await client.post(path + "/pay", headers=headers), 409, "own_approval")
    paid = await client.post(path + "/pay", headers=second)
    assert paid.status_code == 200, paid.text
    statement = paid.json()
    assert statement["status"] == "paid" and statement["payout_reference"].startswith("tr_")
    assert statement["payout_account"] == ACCOUNT and statement["paid_at"]
    transfer = payouts.configured_gateway().transfers[f"settlement-statement-{drafted['chaoyang']}"]
    assert (transfer["id"], transfer["amount"], transfer["destination"]) == (
        statement["payout_reference"],
        4999,
        ACCOUNT,
    )
    assert_problem(await client.post(path + "/pay", headers=second), 409, "status_conflict")
    assert_problem(await client.post(path + "/approve", headers=headers), 409, "status_conflict")
    # Drafting the month again keeps the paid statement, and makes no second one.
    redraft = await client.post(
        "/api/v1/console/settlements/drafts", headers=headers, json={"period": drafted["period"]}
    )
    assert redraft.status_code == 200 and redraft.json()["kept"] == [world.providers["chaoyang"]["id"]]
    assert (
        await value("SELECT count(*) FROM settlement_statement WHERE provider = $1", world.providers["chaoyang"]["id"])
        == 1
    )
    assert (await client.get(path, headers=headers)).json()["status"] == "paid"


async def test_a_stale_revision_or_an_empty_draft_is_not_approved(client, world, drafted):
    headers = await operator(client, world)
    path = f"/api/v1/console/settlements/{drafted['chaoyang']}/approve"
    body = assert_problem(await client.post(path, headers=headers, json={"revision": 7}), 409, "statement_changed")
    assert body["revision_now"] == 1
    await value(
        "UPDATE settlement_statement SET voucher_count = 0, subsidy_fen = 0, paid_fen = 0, total_fen = 0 "
        "WHERE id = $1 RETURNING id",
        drafted["chaoyang"],
    )
    assert_problem(await client.post(path, headers=headers), 409, "nothing_to_settle")
    assert await value("SELECT status FROM settlement_statement WHERE id = $1", drafted["chaoyang"]) == "draft"


async def test_operators_see_and_act_only_within_their_scope(client, world, drafted):
    chaoyang = await operator(client, world, "chaoyang")
    listed = (await client.get("/api/v1/console/settlements", headers=chaoyang)).json()
    assert [item["id"] for item in listed["items"]] == [drafted["chaoyang"]] and listed["total"] == 1
    beijing = (await client.get("/api/v1/console/settlements", headers=await operator(client, world, "beijing"))).json()
    assert {item["id"] for item in beijing["items"]} == {drafted["chaoyang"], drafted["haidian"]}
    # Haidian is a sibling of Chaoyang; Hebei another province.
    sibling = f"/api/v1/console/settlements/{drafted['haidian']}"
    # Another scope's statement or provider is answered as a missing one (core/federation/scope.py).
    assert_problem(await client.get(sibling, headers=chaoyang), 404, "statement_not_found")
    assert_problem(await client.post(sibling + "/approve", headers=chaoyang), 404, "statement_not_found")
    hebei = await operator(client, world, "hebei")
    assert_problem(
        await client.post(f"/api/v1/console/settlements/{drafted['chaoyang']}/pay", headers=hebei),
        404,
        "statement_not_found",
    )
    assert_problem(
        await client.put(
            f"/api/v1/console/providers/{world.providers['haidian']['id']}/payout-account",
            headers=chaoyang,
            json={"account_id": ACCOUNT},
        ),
        404,
        "provider_not_found",
    )
    assert (await client.get("/api/v1/console/settlements", headers=hebei)).json()["items"] == []
    assert await value("SELECT count(*) FROM settlement_statement WHERE status <> 'draft'") == 0
    assert await value("SELECT count(*) FROM provider WHERE payout_account IS NOT NULL") == 0
    assert_problem(await client.get("/api/v1/console/settlements/999999", headers=chaoyang), 404, "statement_not_found")


async def test_owners_read_their_own_statements_only(client, world, drafted):
    owner = await bearer(client, "provider", world.providers["chaoyang"]["owner"])
    mine = (await client.get("/api/v1/provider/me/settlements", headers=owner)).json()
    assert [item["id"] for item in mine] == [drafted["chaoyang"]] and mine[0]["total_fen"] == 4999
    detail = await client.get(f"/api/v1/provider/me/settlements/{drafted['chaoyang']}", headers=owner)
    assert detail.status_code == 200 and len(detail.json()["lines"]) == 1
    assert_problem(
        await client.get(f"/api/v1/provider/me/settlements/{drafted['haidian']}", headers=owner),
        404,
        "statement_not_found",
    )
    staff = await bearer(client, "provider", world.providers["chaoyang"]["staff"])
    assert_problem(await client.get("/api/v1/provider/me/settlements", headers=staff), 403, "owner_only")
    assert_problem(await client.get("/api/v1/console/settlements", headers=owner), 403, "wrong_role")


async def test_the_payout_account_is_checked(client, world):
    headers = await operator(client, world)
    path = f"/api/v1/console/providers/{world.providers['chaoyang']['id']}/payout-account"
    body = assert_problem(
        await client.put(path, headers=headers, json={"account_id": "1234"}), 422, "invalid_payout_account"
    )
    assert body["errors"][0]["field"] == "account_id"
    assert_problem(await client.put(path, headers=headers, json={"account_id": ""}), 409, "payout_account_unchanged")
    assert (await client.put(path, headers=headers, json={"account_id": ACCOUNT})).status_code == 202
    assert await value("SELECT payout_account FROM provider WHERE id = $1", world.providers["chaoyang"]["id"]) is None


async def test_a_refused_payout_leaves_the_statement_approved(world, drafted):
    chaoyang, beijing = await operator_principal(world, "chaoyang"), await operator_principal(world, "beijing")
    await set_account(world, "acct_1Closed00000000")
    await settlements.approve(chaoyang, drafted["chaoyang"])
    gateway = FakePayoutGateway(accounts={ACCOUNT})
    with pytest.raises(payouts.PayoutRefused):
        await settlements.pay(beijing, drafted["chaoyang"], gateway)
    assert await value("SELECT status FROM settlement_statement WHERE id = $1", drafted["chaoyang"]) == "approved"
    await set_account(world, ACCOUNT)
    # The account changed after approval: it is paid only once approved again.
    with pytest.raises(settlements.Conflict) as changed:
        await settlements.pay(beijing, drafted["chaoyang"], gateway)
    assert changed.value.code == "account_changed"
    await settlements.approve(chaoyang, drafted["chaoyang"])
    paid = await settlements.pay(beijing, drafted["chaoyang"], gateway)
    assert paid.status == "paid" and next(iter(gateway.transfers.values()))["id"] == paid.payout_reference


class SlowGateway(FakePayoutGateway):
    def __init__(self):
        super().__init__()
        self.calls = 0

    async def pay(self, order):
        self.calls += 1
        await asyncio.sleep(0.2)
        return await super().pay(order)


async def test_two_operators_paying_at_once_pay_once(world, drafted):
    op = await operator_principal(world, "beijing")
    await set_account(world, ACCOUNT)
    await settlements.approve(await operator_principal(world, "chaoyang"), drafted["chaoyang"])
    gateway = SlowGateway()
    results = await asyncio.gather(
        *[settlements.pay(op, drafted["chaoyang"], gateway) for _ in range(4)], return_exceptions=True
    )
    assert sum(1 for result in results if not isinstance(result, Exception)) == 1
    assert all(
        getattr(result, "code", None) == "status_conflict" for result in results if isinstance(result, Exception)
    )
    assert gateway.calls == 1 and len(gateway.transfers) == 1


async def test_paying_through_stripe_connect_keeps_stripes_transfer_id(world, drafted):
    from providers.settlements.payouts import StripeConnectGateway
    from tests.settlements.stripe_transfers import API_KEY, StripeTransfers

    server = StripeTransfers(accounts={ACCOUNT})
    await server.start()
    try:
        await set_account(world, ACCOUNT)
        await settlements.approve(await operator_principal(world, "chaoyang"), drafted["chaoyang"])
        paid = await settlements.pay(
            await operator_principal(world, "beijing"), drafted["chaoyang"], StripeConnectGateway(API_KEY, server.url)
        )
    finally:
        await server.stop()
    [transfer] = server.transfers
    assert paid.payout_reference == transfer["id"] and transfer["amount"] == 4999
    assert transfer["metadata"]["statement_id"] == str(drafted["chaoyang"]) and server.violations == []
