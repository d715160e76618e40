"""Subsidy campaigns against the real PostgreSQL: draws under concurrency never overspend
a budget or a member's cap, cancellations give the spend back, paused and ended
campaigns pay nothing, operators see only their scope, and the console pages work."""

import asyncio
import csv
import io
import re
from datetime import UTC, datetime, timedelta

import pytest

from catalog.tables import Offer
from marketplace.campaigns import services as campaigns
from marketplace.campaigns.schemas import CampaignCreate, CampaignFunding, ShareCreate, ShareUpdate
from marketplace.core.db import engine, execute_script
from marketplace.core.errors import Conflict, Forbidden, Invalid
from marketplace.core.federation import services as federation
from marketplace.vouchers import services as vouchers
from marketplace.vouchers.tables import Voucher
from migrations.campaigns import campaigns_0002_shared_funding as shared_funding
from tests import factories
from tests.points.test_ledger import operator
from tests.providers.test_pages import _login, _post
from tests.test_errors import assert_problem, bearer

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("clean_state")]

RACERS = asyncio.Semaphore(40)
SUBSIDY = 3000  # the world's offers subsidise 30 yuan


async def race(attempt, *args):
    async with RACERS:
        try:
            return await attempt(*args)
        except Conflict as error:
            return error.code


async def new_campaign(world, *, budget=10 * SUBSIDY, cap=SUBSIDY, node="beijing", who="beijing", **changes):
    now = datetime.now(UTC)
    data = dict(
        node_id=world.nodes[node],
        name_zh="春节消费补贴",
        name_en="Spring Festival subsidy",
        starts_at=now - timedelta(hours=1),
        ends_at=now + timedelta(days=10),
        budget_fen=budget,
        per_member_cap_fen=cap,
        offer_ids=[world.offers["public"]],
    )
    data.update(changes)
    return await campaigns.create_campaign(await operator(world, who), CampaignCreate(**data))


async def totals(campaign_id):
    rows = await engine().run_ddl(
        f"SELECT (SELECT spent_fen FROM campaign WHERE id = {campaign_id}) AS spent, "
        f"(SELECT coalesce(sum(amount_fen), 0) FROM campaign_spend WHERE campaign = {campaign_id} "
        f"AND refunded_at IS NULL) AS drawn, "
        f"(SELECT count(*) FROM campaign_spend WHERE campaign = {campaign_id} AND refunded_at IS NULL) AS spends"
    )
    return rows[0]["spent"], rows[0]["drawn"], rows[0]["spends"]


async def members(world, count, start=100):
    principals = []
    for serial in range(start, start + count):
        member_id, _ = await factories.add_member(world.nodes["cy_union"], serial, "张三丰")
        principals.append(await federation.member_principal(member_id))
    return principals


@pytest.mark.slow
async def test_racing_claims_never_overspend_the_budget(world):
    offer_id = world.offers["public"]
    campaign = await new_campaign(world, budget=10 * SUBSIDY + 1500)  # room for 10 subsidies, not 11
    racers = await members(world, 80)

    results = await asyncio.gather(*(race(vouchers.claim, member, offer_id) for member in racers))
    issued = [result for result in results if not isinstance(result, str)]
    refused = [result for result in results if isinstance(result, str)]
    spent, drawn, spends = await totals(campaign.id)
    print(
        f"race: {len(racers)} claims, {len(issued)} subsidised, refused {sorted(set(refused))}, "
        f"spent {spent} of {campaign.budget_fen} fen"
    )
    assert len(issued) == 10 and set(refused) == {"budget_exhausted"}
    assert spent == drawn == 10 * SUBSIDY <= campaign.budget_fen
    assert spends == 10
    assert await Voucher.count().where(Voucher.offer == offer_id) == 10  # refused claims leave no voucher
    assert (await Offer.select(Offer.stock_left).where(Offer.id == offer_id).first())["stock_left"] == 90
    # The campaign stopped subsidising: the offer is not claimable at the subsidised price.
    late = (await members(world, 1, start=500))[0]
    assert await race(vouchers.claim, late, offer_id) == "budget_exhausted"


THIRDS = (3334, 3333, 3333)  # 三个一点: city, district, grassroots union


async def shared_campaign(world, policy, budgets, subsidy=1001):
    """A campaign for the couriers' union funded by Beijing, Chaoyang and the union itself, a
    third each of an offer whose subsidy (1001 fen) does not divide by three."""
    await Offer.update({Offer.subsidy_fen: subsidy, Offer.stock_total: 1000, Offer.stock_left: 1000}).where(
        Offer.id == world.offers["public"]
    )
    shares = [
        ShareCreate(node_id=world.nodes[node], percent_bp=bp, budget_fen=budget)
        for node, bp, budget in zip(("beijing", "chaoyang", "cy_union"), THIRDS, budgets, strict=True)
    ]
    return await new_campaign(world, node="cy_union", budget=None, cap=subsidy, shares=shares, policy=policy)


async def share_totals(campaign_id):
    """Per funding node: (budget, spent, what its live parts add up to, how many parts)."""
    rows = await engine().run_ddl(
        f"SELECT sh.node, sh.budget_fen, sh.spent_fen, coalesce(sum(p.amount_fen), 0) AS parts, count(p.id) AS n "
        f"FROM campaign_share sh LEFT JOIN campaign_share_spend p ON p.share = sh.id AND p.refunded_at IS NULL "
        f"WHERE sh.campaign = {campaign_id} GROUP BY sh.id ORDER BY sh.position"
    )
    return [(row["budget_fen"], row["spent_fen"], row["parts"], row["n"]) for row in rows]


async def assert_shares_add_up(campaign_id, uses, subsidy=1001):
    spent, drawn, spends = await totals(campaign_id)
    shares = await share_totals(campaign_id)
    assert spends == uses and spent == drawn == uses * subsidy
    assert sum(parts for _, _, parts, _ in shares) == spent  # the shares add up to the subsidies
    for budget, share_spent, parts, _ in shares:
        assert share_spent == parts <= budget  # no share overspent
    per_use = await engine().run_ddl(
        f"SELECT s.voucher FROM campaign_spend s JOIN campaign_share_spend p ON p.voucher = s.voucher "
        f"WHERE s.campaign = {campaign_id} AND s.refunded_at IS NULL AND p.refunded_at IS NULL "
        f"GROUP BY s.voucher, s.amount_fen HAVING sum(p.amount_fen) <> s.amount_fen"
    )
    assert per_use == []  # every use's parts add up to its subsidy
    return shares


@pytest.mark.slow
async def test_racing_claims_on_shares_stop_when_one_share_runs_out(world):
    # Beijing's third has room for 10 uses (334 fen each), the others for many more.
    campaign = await shared_campaign(world, "stop", (10 * 334 + 100, 10**6, 10**6))
    racers = await members(world, 60)
    results = await asyncio.gather(*(race(vouchers.claim, member, world.offers["public"]) for member in racers))
    issued = [result for result in results if not isinstance(result, str)]
    shares = await assert_shares_add_up(campaign.id, len(issued))
    print(f"race (stop): {len(racers)} claims, {len(issued)} paid, shares {shares}")
    assert len(issued) == 10 and {result for result in results if isinstance(result, str)} == {"budget_exhausted"}
    # 1001 fen in thirds, by largest remainder: 334 + 334 + 333, the same for every use.
    assert [parts for _, _, parts, _ in shares] == [3340, 3340, 3330]


@pytest.mark.slow
async def test_racing_claims_on_shares_the_others_cover_a_share_that_ran_out(world):
    campaign = await shared_campaign(world, "cover", (10 * 334 + 100, 20000, 20000))  # 43,440 fen: 43 uses
    racers = await members(world, 60)
    results = await asyncio.gather(*(race(vouchers.claim, member, world.offers["public"]) for member in racers))
    issued = [result for result in results if not isinstance(result, str)]
    shares = await assert_shares_add_up(campaign.id, len(issued))
    print(f"race (cover): {len(racers)} claims, {len(issued)} paid, shares {shares}")
    assert len(issued) == 43 and {result for result in results if isinstance(result, str)} == {"budget_exhausted"}
    assert shares[0][1] == 10 * 334 + 100  # Beijing paid to its last fen, the others covered the rest
    # A cancelled use gives each node its own part back.
    member = racers[results.index(issued[0])]
    before = await share_totals(campaign.id)
    await vouchers.cancel(member, issued[0].id)
    after = await assert_shares_add_up(campaign.id, len(issued) - 1)
    assert sum(b[1] for b in before) - sum(a[1] for a in after) == 1001


async def test_funding_nodes_follow_the_scope_rules(world):
    def shares(*pairs):
        return [ShareCreate(node_id=world.nodes[node], percent_bp=bp, budget_fen=10000) for node, bp in pairs]

    # The district's operator cannot commit the city's budget: it is outside their scope.
    with pytest.raises(Forbidden) as refused:
        await new_campaign(
            world, node="cy_union", who="chaoyang", budget=None, shares=shares(("beijing", 5000), ("chaoyang", 5000))
        )
    assert refused.value.field == "shares[0].node_id" and refused.value.code == "out_of_scope"
    # A union funds members under it only: Haidian does not pay for Chaoyang's couriers.
    with pytest.raises(Invalid) as refused:
        await new_campaign(world, node="cy_union", budget=None, shares=shares(("beijing", 5000), ("haidian", 5000)))
    assert refused.value.field == "shares[1].node_id"
    with pytest.raises(Invalid) as refused:
        await new_campaign(world, node="cy_union", budget=None, shares=shares(("beijing", 5000), ("chaoyang", 4000)))
    assert refused.value.field == "shares[0].percent_bp" and "90" in refused.value.detail
    with pytest.raises(Invalid) as refused:
        await new_campaign(world, node="cy_union", budget=10, shares=shares(("beijing", 5000), ("chaoyang", 5000)))
    assert refused.value.field == "budget_fen"
    # Fixed per use plus a percentage of the rest; the campaign's budget is the sum of its shares'.
    fixed = ShareCreate(node_id=world.nodes["beijing"], fixed_fen=1000, budget_fen=50000)
    rest = ShareCreate(node_id=world.nodes["cy_union"], percent_bp=10000, budget_fen=50000)
    campaign = await new_campaign(world, node="cy_union", budget=None, shares=[fixed, rest])
    assert campaign.budget_fen == 100000 and [s.kind for s in campaign.shares] == ["fixed", "percent"]
    member = await federation.member_principal(world.members["chaoyang"][0])
    await vouchers.claim(member, world.offers["public"])
    assert [parts for _, _, parts, _ in await share_totals(campaign.id)] == [1000, 2000]
    # The funding changes: a budget never below what its share has paid.
    beijing = await operator(world, "beijing")
    top_up = CampaignFunding(
        policy="cover",
        shares=[ShareUpdate(node_id=world.nodes["beijing"], budget_fen=999)],
    )
    with pytest.raises(Invalid) as refused:
        await campaigns.change_funding(beijing, campaign.id, top_up)
    assert refused.value.field == "shares[0].budget_fen"
    changed = await campaigns.change_funding(
        beijing,
        campaign.id,
        CampaignFunding(policy="cover", shares=[ShareUpdate(node_id=world.nodes["beijing"], budget_fen=80000)]),
    )
    assert changed.budget_fen == 130000 and changed.policy == "cover" and changed.shares[0].remaining_fen == 79000


async def test_existing_single_node_campaigns_pay_from_one_share(world):
    campaign = await new_campaign(world)
    assert [(s.node_id, s.percent_bp, s.budget_fen) for s in campaign.shares] == [
        (world.nodes["beijing"], 10000, campaign.budget_fen)
    ]
    member = await federation.member_principal(world.members["chaoyang"][0])
    await vouchers.claim(member, world.offers["public"])
    assert await share_totals(campaign.id) == [(campaign.budget_fen, SUBSIDY, SUBSIDY, 1)]


async def test_racing_claims_of_one_member_stop_at_the_cap(world):
    offer_id = world.offers["public"]
    await Offer.update({Offer.per_member_limit: 10, Offer.limit_period: "day"}).where(Offer.id == offer_id)
    campaign = await new_campaign(world, cap=2 * SUBSIDY + 100)
    member = await federation.member_principal(world.members["chaoyang"][0])

    results = await asyncio.gather(*(race(vouchers.claim, member, offer_id) for _ in range(15)))
    assert sum(not isinstance(result, str) for result in results) == 2
    assert {result for result in results if isinstance(result, str)} == {"campaign_cap_reached"}
    spent, drawn, spends = await totals(campaign.id)
    assert spent == drawn == 2 * SUBSIDY and spends == 2
    row = await engine().run_ddl(f"SELECT spent_fen FROM campaign_member WHERE campaign = {campaign.id}")
    assert row[0]["spent_fen"] == 2 * SUBSIDY


async def test_cancelling_gives_the_spend_back_and_records_who_paid(world):
    offer_id = world.offers["public"]
    campaign = await new_campaign(world, budget=SUBSIDY)
    member = await federation.member_principal(world.members["chaoyang"][0])
    voucher = await vouchers.claim(member, offer_id)
    stored = await Voucher.select(Voucher.subsidy_fen).where(Voucher.id == voucher.id).first()
    assert stored["subsidy_fen"] == SUBSIDY  # what the provider is owed stays on the voucher
    spend = (await engine().run_ddl(f"SELECT node, amount_fen FROM campaign_spend WHERE voucher = {voucher.id}"))[0]
    assert spend["node"] == world.nodes["beijing"] and spend["amount_fen"] == SUBSIDY

    other = (await members(world, 1))[0]
    assert await race(vouchers.claim, other, offer_id) == "budget_exhausted"
    await vouchers.cancel(member, voucher.id)
    assert await totals(campaign.id) == (0, 0, 0)
    assert (await vouchers.claim(other, offer_id)).status == "issued"  # the budget is back
    assert (await totals(campaign.id))[0] == SUBSIDY


async def test_expired_vouchers_give_their_spend_back(world):
    campaign = await new_campaign(world)
    member = await federation.member_principal(world.members["chaoyang"][0])
    voucher = await vouchers.claim(member, world.offers["public"])
    await Voucher.update({Voucher.status: "expired"}).where(Voucher.id == voucher.id)
    assert await campaigns.release_expired_spend() == 1
    assert await campaigns.release_expired_spend() == 0  # safe to repeat
    assert await totals(campaign.id) == (0, 0, 0)


async def test_paused_and_ended_campaigns_pay_nothing(world):
    offer_id = world.offers["public"]
    beijing = await operator(world, "beijing")
    campaign = await new_campaign(world)
    member = await federation.member_principal(world.members["chaoyang"][0])

    await campaigns.set_status(beijing, campaign.id, "pause")
    assert await race(vouchers.claim, member, offer_id) == "campaign_paused"
    assert await totals(campaign.id) == (0, 0, 0)
    await campaigns.set_status(beijing, campaign.id, "resume")
    voucher = await vouchers.claim(member, offer_id)
    assert await totals(campaign.id) == (SUBSIDY, SUBSIDY, 1)
    await vouchers.cancel(member, voucher.id)

    await campaigns.set_status(beijing, campaign.id, "end")
    with pytest.raises(Conflict):
        await campaigns.set_status(beijing, campaign.id, "resume")
    # Ended: the campaign pays nothing; the offer is back to its standing subsidy.
    assert (await vouchers.claim(member, offer_id)).status == "issued"
    assert await totals(campaign.id) == (0, 0, 0)


async def test_only_the_members_the_campaign_serves_are_subsidised(world):
    offer_id = world.offers["public"]
    await new_campaign(world, groups=["hardship"])
    member = await federation.member_principal(world.members["chaoyang"][0])  # women, gig
    assert await race(vouchers.claim, member, offer_id) == "not_in_campaign_groups"
    # A campaign of Hebei does not touch Beijing's members.
    await engine().run_ddl("TRUNCATE campaign_member, campaign_spend, campaign CASCADE")
    hebei = await new_campaign(world, node="hebei", who="hebei")
    assert (await vouchers.claim(member, offer_id)).status == "issued"
    assert (await totals(hebei.id))[0] == 0


async def test_categories_are_subsidised_too(world):
    category = (await Offer.select(Offer.category).where(Offer.id == world.offers["public"]).first())["category"]
    campaign = await new_campaign(world, offer_ids=[], category_ids=[category], node="chaoyang", who="chaoyang")
    member = await federation.member_principal(world.members["chaoyang"][0])
    await vouchers.claim(member, world.offers["women"])
    assert (await totals(campaign.id))[0] == SUBSIDY


def _body(world, **changes):
    now = datetime.now(UTC)
    body = {
        "node_id": world.nodes["beijing"],
        "name_zh": "春节补贴",
        "starts_at": now.isoformat(),
        "ends_at": (now + timedelta(days=5)).isoformat(),
        "budget_fen": 100000,
        "per_member_cap_fen": 3000,
        "offer_ids": [world.offers["public"]],
    }
    body.update(changes)
    return body


async def test_the_api_checks_scope_and_names_the_bad_field(client, world):
    beijing = await bearer(client, "operator", world.operators["beijing"])
    hebei = await bearer(client, "operator", world.operators["hebei"])
    api = "/api/v1/console/campaigns"

    body = _body(world)
    created = await client.post(api, json=body, headers={**beijing, "Idempotency-Key": "c1"})
    assert created.status_code == 201, created.text
    again = await client.post(api, json=body, headers={**beijing, "Idempotency-Key": "c1"})
    assert again.json()["id"] == created.json()["id"]
    campaign_id = created.json()["id"]
    assert created.json()["remaining_fen"] == 100000 and created.json()["running"] is True

    # A sibling's operator: the campaign, its actions and its node answer as missing ones
    # (404, marketplace/core/federation/scope.py); never in their list.
    assert_problem(await client.get(f"{api}/{campaign_id}", headers=hebei), 404, "campaign_not_found")
    assert_problem(await client.post(f"{api}/{campaign_id}/pause", headers=hebei), 404, "campaign_not_found")
    problem = assert_problem(await client.post(api, json=_body(world), headers=hebei), 404, "node_not_found")
    assert problem["errors"][0]["field"] == "node_id"
    assert (await client.get(api, headers=hebei)).json() == []
    member = await bearer(client, "member", world.members["chaoyang"][1])
    assert_problem(await client.get(api, headers=member), 403, "wrong_role")

    bad = [
        ({"budget_fen": 0}, 400, "budget_fen"),
        ({"per_member_cap_fen": 200000}, 422, "per_member_cap_fen"),
        ({"ends_at": (datetime.now(UTC) - timedelta(days=1)).isoformat()}, 422, "ends_at"),
        ({"groups": ["pilots"]}, 422, "groups"),
        ({"offer_ids": [999999]}, 422, "offer_ids"),
        ({"offer_ids": []}, 422, "offer_ids"),
        ({"category_ids": [4242]}, 422, "category_ids"),
    ]
    for change, status, field in bad:
        response = await client.post(api, json=_body(world, **change), headers=beijing)
        body = assert_problem(response, status, "validation_error" if status == 400 else "invalid")
        assert field in {error["field"] for error in body["errors"]}, (field, body)
    assert len((await client.get(api, headers=beijing)).json()) == 1

    paused = await client.post(f"{api}/{campaign_id}/pause", headers=beijing)
    assert paused.status_code == 200 and paused.json()["status"] == "paused"
    assert_problem(await client.post(f"{api}/{campaign_id}/pause", headers=beijing), 409, "wrong_status")


async def test_console_pages_create_show_burn_and_funds_flow(client, world):
    await _login(client, "console", world.operators["beijing"])
    page = await client.get("/console/campaigns")
    assert page.status_code == 200 and 'data-testid="campaign-form"' in page.text
    assert "河北" not in page.text
    today = datetime.now(UTC).date()
    form = {
        "node_id": str(world.nodes["beijing"]),
        "name_zh": "春节消费补贴",
        "starts_on": today.isoformat(),
        "ends_on": (today + timedelta(days=7)).isoformat(),
        "share_node_0": str(world.nodes["beijing"]),
        "share_kind_0": "percent",
        "share_value_0": "100",
        "share_budget_0": "abc",
        "cap_yuan": "30",
        "offer_ids": str(world.offers["public"]),
        "groups": [],
        "idempotency_key": "p1",
    }
    refused = await _post(client, "/console/campaigns", form)
    assert refused.status_code == 422 and 'id="share_budget_0" name="share_budget_0"' in refused.text
    assert 'aria-invalid="true"' in refused.text
    # The message sits beside the field it names, in Chinese, and what was typed is kept.
    at_field = refused.text.split('id="share_budget_0"')[1].split("</div>")[0]
    assert 'value="abc"' in at_field and 'data-testid="field-error"' in at_field
    assert re.search("[\u4e00-\u9fff]", at_field.split('data-testid="field-error"')[1])
    # The alert above the form names the field by its label.
    assert "请检查下方标出的栏目：出资预算（元）。" in refused.text
    # The picked offer stays ticked, by its title (offers are found by search, never typed as numbers).
    assert f'name="offer_ids" value="{world.offers["public"]}" data-offer-pick checked' in refused.text
    assert "健身月卡public" in refused.text
    # First what will be committed, and by whom; nothing is created before the confirmation.
    preview = await _post(client, "/console/campaigns", {**form, "share_budget_0": "300"})
    assert preview.status_code == 200 and 'data-testid="confirm"' in preview.text
    assert "北京市总工会" in preview.text.split('data-testid="confirm"')[1].split("</section>")[0]
    assert await campaigns.list_campaigns(await operator(world, "beijing")) == []
    created = await _post(client, "/console/campaigns", {**form, "share_budget_0": "300", "confirm": "1"})
    assert created.status_code in (302, 303), created.text
    campaign_id = int(created.headers["location"].split("?")[0].rsplit("/", 1)[1])

    member = await federation.member_principal(world.members["chaoyang"][0])
    await vouchers.claim(member, world.offers["public"])
    detail = await client.get(f"/console/campaigns/{campaign_id}")
    assert detail.status_code == 200
    assert 'data-testid="chart-burn"' in detail.text and "/static/charts.js" in detail.text
    assert 'data-testid="funds-flow"' in detail.text and "朝阳区快递行业联合工会" in detail.text
    assert "¥270" in detail.text  # remaining
    listing = await client.get("/console/campaigns")
    assert 'data-testid="campaign-row"' in listing.text and "¥30" in listing.text
    paused = await _post(client, f"/console/campaigns/{campaign_id}/pause", {})
    assert paused.status_code in (302, 303)
    assert 'data-status="paused"' in (await client.get(f"/console/campaigns/{campaign_id}")).text

    await _login(client, "console", world.operators["hebei"])
    assert (await client.get(f"/console/campaigns/{campaign_id}")).status_code == 404


async def test_the_report_shows_each_paying_unions_part_to_the_fen(client, world):
    campaign = await shared_campaign(world, "stop", (10**6, 10**6, 10**6))
    racers = await members(world, 3)
    claimed = [await vouchers.claim(member, world.offers["public"]) for member in racers]
    await vouchers.cancel(racers[0], claimed[0].id)  # a cancelled use gives every part back
    await _login(client, "console", world.operators["chaoyang"])
    page = await client.get("/console/reports")
    assert page.status_code == 200 and 'data-testid="section-funding"' in page.text
    export = await client.get("/console/reports/export/funding")
    assert export.status_code == 200 and export.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(export.content.decode("utf-8-sig"))))
    assert rows[0] == ["出资工会", "活动", "使用次数", "出资金额（元）"]
    # Two live uses of 10.01 yuan: 3.34 + 3.34 + 3.33 each, the city's part included in the district's report.
    assert rows[1:] == [
        ["北京市总工会", "春节消费补贴", "2", "6.68"],
        ["朝阳区总工会", "春节消费补贴", "2", "6.68"],
        ["朝阳区快递行业联合工会", "春节消费补贴", "2", "6.66"],
    ]
    assert sum(int(row[3].replace(".", "")) for row in rows[1:]) == 2 * 1001 == (await totals(campaign.id))[0]
    detail = await client.get(f"/console/campaigns/{campaign.id}")
    shares = detail.text.split('data-testid="campaign-shares"')[1].split("</table>")[0]
    assert shares.count('data-testid="campaign-share"') == 3 and "¥6.68" in shares and "33.34 %" in shares
    # Chaoyang's operator sees the city's budget but cannot change it; their own, they can.
    assert "readonly" in shares.split('name="budget_0"')[1].split(">")[0]
    assert "readonly" not in shares.split('name="budget_1"')[1].split(">")[0]


async def test_the_api_funds_a_campaign_in_shares_and_names_the_bad_share(client, world):
    beijing = await bearer(client, "operator", world.operators["beijing"])
    chaoyang = await bearer(client, "operator", world.operators["chaoyang"])
    api = "/api/v1/console/campaigns"

    def body(*shares, **changes):
        parts = [{"node_id": world.nodes[node], **part, "budget_fen": 50000} for node, part in shares]
        return _body(world, **{"node_id": world.nodes["cy_union"], "budget_fen": None, "shares": parts, **changes})

    halves = (("beijing", {"percent_bp": 5000}), ("chaoyang", {"percent_bp": 5000}))
    refusals = [
        (chaoyang, body(*halves), 403, "out_of_scope", "shares[0].node_id"),
        (
            beijing,
            body(("beijing", {"percent_bp": 5000}), ("haidian", {"percent_bp": 5000})),
            422,
            "invalid",
            "shares[1].node_id",
        ),
        (
            beijing,
            body(("beijing", {"percent_bp": 5000}), ("chaoyang", {"percent_bp": 4000})),
            422,
            "invalid",
            "shares[0].percent_bp",
        ),
        (
            beijing,
            body(("beijing", {"fixed_fen": 1000}), ("chaoyang", {"fixed_fen": 500})),
            422,
            "invalid",
            "shares[0].percent_bp",
        ),
        (
            beijing,
            body(("beijing", {"percent_bp": 5000, "fixed_fen": 1}), halves[1]),
            422,
            "invalid",
            "shares[0].percent_bp",
        ),
        (beijing, body(*halves, budget_fen=1), 422, "invalid", "budget_fen"),
        (beijing, _body(world, budget_fen=None), 422, "invalid", "budget_fen"),
    ]
    for who, sent, status, code, field in refusals:
        problem = assert_problem(await client.post(api, json=sent, headers=who), status, code)
        assert problem["errors"][0]["field"] == field, (field, problem)
    assert (await client.get(api, headers=beijing)).json() == []

    created = await client.post(api, json=body(*halves, policy="cover"), headers=beijing)
    assert created.status_code == 201, created.text
    campaign = created.json()
    assert campaign["budget_fen"] == 100000 and campaign["policy"] == "cover"
    assert [(s["node_id"], s["percent_bp"], s["remaining_fen"]) for s in campaign["shares"]] == [
        (world.nodes["beijing"], 5000, 50000),
        (world.nodes["chaoyang"], 5000, 50000),
    ]
    funding = f"{api}/{campaign['id']}/funding"
    unknown = {"policy": "stop", "shares": [{"node_id": world.nodes["haidian"], "budget_fen": 100}]}
    problem = assert_problem(await client.post(funding, json=unknown, headers=beijing), 422, "invalid")
    assert problem["errors"][0]["field"] == "shares[0].node_id"
    assert_problem(await client.post(funding, json=unknown, headers=chaoyang), 403, "out_of_scope")
    changed = await client.post(
        funding,
        json={"policy": "stop", "shares": [{"node_id": world.nodes["chaoyang"], "budget_fen": 70000}]},
        headers=beijing,
    )
    assert changed.status_code == 200 and changed.json()["budget_fen"] == 120000 and changed.json()["policy"] == "stop"
    # Chaoyang's operator runs a campaign the city co-funds: the city's budget and the policy stay the city's.
    city_budget = {"node_id": world.nodes["beijing"], "budget_fen": 90000}
    assert_problem(
        await client.post(funding, json={"policy": "stop", "shares": [city_budget]}, headers=chaoyang),
        403,
        "out_of_scope",
    )
    own = {"node_id": world.nodes["chaoyang"], "budget_fen": 80000}
    assert_problem(
        await client.post(funding, json={"policy": "cover", "shares": [own]}, headers=chaoyang), 403, "out_of_scope"
    )
    changed = await client.post(funding, json={"policy": "stop", "shares": [own]}, headers=chaoyang)
    assert changed.status_code == 200 and changed.json()["budget_fen"] == 130000


async def test_the_migration_gives_existing_campaigns_one_share_with_their_spends(world):
    # A campaign as it stood before shared funding: its spends, one cancelled; no share rows.
    campaign = await new_campaign(world)
    racers = await members(world, 3)
    claimed = [await vouchers.claim(member, world.offers["public"]) for member in racers]
    await vouchers.cancel(racers[0], claimed[0].id)
    await engine().run_ddl(f"DELETE FROM campaign_share_spend WHERE campaign = {campaign.id}")
    await engine().run_ddl(f"DELETE FROM campaign_share WHERE campaign = {campaign.id}")

    await execute_script(shared_funding.SQL.split("-- Every campaign so far")[1].split("\n", 1)[1])
    # One share of 100 % of its node, with its budget and spent; each live spend is that node's part.
    assert await share_totals(campaign.id) == [(campaign.budget_fen, 2 * SUBSIDY, 2 * SUBSIDY, 2)]
    # It keeps paying and giving back, as before.
    await vouchers.cancel(racers[1], claimed[1].id)
    await vouchers.claim(racers[0], world.offers["public"])
    assert await share_totals(campaign.id) == [(campaign.budget_fen, 2 * SUBSIDY, 2 * SUBSIDY, 2)]
    assert await totals(campaign.id) == (2 * SUBSIDY, 2 * SUBSIDY, 2)
