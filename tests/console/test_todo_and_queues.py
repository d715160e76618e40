"""The operator's to-do list, menu badges, and the listing queue's search, pages and bulk actions."""

import re

import pytest

from catalog.tables import Offer
from marketplace.prepaid import services as prepaid
from tests.console.helpers import HTML, post, submitted_offers, web_login
from tests.points.test_ledger import operator
from tests.prepaid.test_stripe_refunds import NOTE, not_covered

pytestmark = [pytest.mark.integration]


def _count(html: str, key: str) -> int:
    match = re.search(rf'data-testid="todo-{key}">\s*<span class="todo-count" data-testid="todo-count">([\d,]+)<', html)
    assert match, f"no to-do item {key}"
    return int(match.group(1).replace(",", ""))


async def test_home_counts_what_waits_within_the_operators_scope(client, world):
    await submitted_offers(world, 3, "chaoyang")
    await submitted_offers(world, 2, "haidian")
    await web_login(client, "console", world.operators["chaoyang"])
    home = await client.get("/console/", headers=HTML)
    assert home.status_code == 200
    assert _count(home.text, "listings") == 3  # Haidian's two are outside Chaoyang's scope
    assert 'href="/console/listings" data-testid="todo-listings"' in home.text
    assert 'data-testid="nav-badge-listings"' in home.text
    for key in ("providers", "complaints", "cases", "appeals", "held", "settlements", "uncovered"):
        assert _count(home.text, key) == 0
    await web_login(client, "console", world.operators["beijing"])
    assert _count((await client.get("/console/", headers=HTML)).text, "listings") == 5
    await web_login(client, "console", world.operators["hebei"])
    home = (await client.get("/console/", headers=HTML)).text
    assert _count(home, "listings") == 0 and 'data-testid="nav-badge-listings"' not in home


async def test_home_counts_uncovered_stripe_refunds_within_the_operators_scope(client, world):
    outside_id = await not_covered(client, world)  # Chaoyang's provider: in Beijing and Chaoyang only
    for key in ("chaoyang", "beijing"):
        await web_login(client, "console", world.operators[key])
        home = (await client.get("/console/", headers=HTML)).text
        assert _count(home, "uncovered") == 1
        assert 'href="/console/prepaid#outside-title" data-testid="todo-uncovered"' in home
        assert 'data-testid="nav-badge-prepaid"' in home
    await web_login(client, "console", world.operators["hebei"])
    home = (await client.get("/console/", headers=HTML)).text
    assert _count(home, "uncovered") == 0 and 'data-testid="nav-badge-prepaid"' not in home
    # Once marked as resolved, nothing waits any more.
    await prepaid.resolve_uncovered(await operator(world, "chaoyang"), outside_id, NOTE)
    await web_login(client, "console", world.operators["chaoyang"])
    home = (await client.get("/console/", headers=HTML)).text
    assert _count(home, "uncovered") == 0 and 'data-testid="nav-badge-prepaid"' not in home


async def test_listing_queue_searches_filters_and_pages(client, world):
    await submitted_offers(world, 60, "chaoyang", title="瑜伽体验课")
    await submitted_offers(world, 3, "haidian", title="体检套餐")
    await web_login(client, "console", world.operators["beijing"])
    first = await client.get("/console/listings", headers=HTML)
    assert first.text.count('data-testid="review-row"') == 50
    assert "1–50" in first.text and "63" in first.text
    second = await client.get("/console/listings?page=2", headers=HTML)
    assert second.text.count('data-testid="review-row"') == 13
    found = await client.get("/console/listings?q=体检", headers=HTML)
    assert found.text.count('data-testid="review-row"') == 3
    by_provider = await client.get("/console/listings?q=中关村", headers=HTML)
    assert by_provider.text.count('data-testid="review-row"') == 3
    points = await client.get("/console/listings?kind=points&q=瑜伽", headers=HTML)
    assert points.text.count('data-testid="review-row"') == 30
    # A page link keeps the filters.
    assert 'href="/console/listings?kind=points&amp;q=%E7%91%9C%E4%BC%BD&amp;page=2"' not in points.text  # only 30 rows
    paged = await client.get("/console/listings?q=瑜伽", headers=HTML)
    assert "q=%E7%91%9C%E4%BC%BD&amp;page=2" in paged.text
    nothing = await client.get("/console/listings?q=不存在的东西", headers=HTML)
    assert 'data-testid="queue-empty"' in nothing.text


async def test_bulk_reject_asks_first_then_sends_back_with_one_reason(client, world):
    ids = await submitted_offers(world, 4, "chaoyang")
    outside = (await submitted_offers(world, 1, "haidian"))[0]
    await web_login(client, "console", world.operators["chaoyang"])
    await client.get("/console/listings", headers=HTML)
    picked = [("ids", str(i)) for i in ids[:3]] + [("ids", str(outside))]
    no_reason = await post(client, "/console/listings/bulk", [("action", "reject"), ("reason", ""), *picked])
    assert no_reason.status_code == 422 and "reason" not in no_reason.text.lower().split("<body")[0]
    asked = await post(
        client,
        "/console/listings/bulk",
        [("action", "reject"), ("reason", "图片不清晰，请重新上传"), ("back", "/console/listings?q=瑜伽"), *picked],
    )
    assert asked.status_code == 200 and 'data-testid="confirm"' in asked.text
    assert asked.text.count('name="ids"') == 3  # the listing outside the scope is not offered
    statuses = {row["status"] for row in await Offer.select(Offer.status).where(Offer.id.is_in(ids))}
    assert statuses == {"submitted"}  # nothing happened before the confirmation
    done = await post(
        client,
        "/console/listings/bulk",
        [
            ("action", "reject"),
            ("reason", "图片不清晰，请重新上传"),
            ("back", "/console/listings?q=瑜伽"),
            ("confirm", "1"),
            *picked,
        ],
    )
    assert done.status_code in (302, 303)
    assert done.headers["location"].startswith("/console/listings?q=")
    assert "done=3" in done.headers["location"]
    rows = await Offer.select(Offer.id, Offer.status, Offer.review_note).where(Offer.id.is_in(ids))
    by_id = {row["id"]: row for row in rows}
    assert [by_id[i]["status"] for i in ids] == ["draft", "draft", "draft", "submitted"]
    assert by_id[ids[0]]["review_note"] == "图片不清晰，请重新上传"
    assert (await Offer.select(Offer.status).where(Offer.id == outside).first())["status"] == "submitted"
    after = await client.get(done.headers["location"], headers=HTML)
    assert 'data-testid="bulk-done"' in after.text


async def test_bulk_approve_publishes_after_confirmation(client, world):
    ids = await submitted_offers(world, 2, "chaoyang")
    await web_login(client, "console", world.operators["chaoyang"])
    await client.get("/console/listings", headers=HTML)
    done = await post(
        client, "/console/listings/bulk", [("action", "approve"), ("confirm", "1"), *[("ids", str(i)) for i in ids]]
    )
    assert done.status_code in (302, 303)
    assert {row["status"] for row in await Offer.select(Offer.status).where(Offer.id.is_in(ids))} == {"published"}


async def test_complaints_and_providers_are_searched_filtered_and_paged(client, world):
    from tests.test_page_language import _seed

    await _seed(world)
    await web_login(client, "console", world.operators["chaoyang"])
    overdue = await client.get("/console/complaints?overdue=1", headers=HTML)
    assert overdue.text.count('data-testid="complaint"') == 1 and 'data-testid="pager"' in overdue.text
    assert 'data-testid="complaint"' not in (await client.get("/console/complaints?status=closed", headers=HTML)).text
    assert 'data-testid="complaint"' not in (await client.get("/console/complaints?q=体检", headers=HTML)).text
    found = await client.get("/console/providers?status=active&q=力美", headers=HTML)
    assert found.text.count('data-testid="provider-row"') == 1
    assert (
        'data-testid="provider-row"'
        not in (await client.get("/console/providers?status=active&q=体检", headers=HTML)).text
    )


async def test_provider_applications_are_approved_in_bulk_after_a_confirmation(client, world):
    from providers.tables import Provider
    from tests.factories import add_provider

    applied = [
        (await add_provider(world.nodes["chaoyang"], f"新店{i}", f"9111010500000000{i}X", status="applied"))["id"]
        for i in range(3)
    ]
    await web_login(client, "console", world.operators["chaoyang"])
    page = await client.get("/console/providers?status=applied", headers=HTML)
    assert page.text.count('data-testid="row-check"') == 3
    asked = await post(
        client, "/console/providers/bulk", [("action", "approve"), *[("ids", str(i)) for i in applied[:2]]]
    )
    assert asked.status_code == 200 and asked.text.count('name="ids"') == 2 and "新店0" in asked.text
    assert {r["status"] for r in await Provider.select(Provider.status).where(Provider.id.is_in(applied))} == {
        "applied"
    }
    done = await post(
        client,
        "/console/providers/bulk",
        [("action", "approve"), ("confirm", "1"), *[("ids", str(i)) for i in applied[:2]]],
    )
    assert done.status_code in (302, 303) and "done=2" in done.headers["location"]
    rows = {
        r["id"]: r["status"]
        for r in await Provider.select(Provider.id, Provider.status).where(Provider.id.is_in(applied))
    }
    assert [rows[i] for i in applied] == ["active", "active", "applied"]


async def test_listing_and_provider_bulk_pages_say_one_in_the_singular_in_english(client, world):
    from tests.factories import add_provider

    [offer] = await submitted_offers(world, 1, "chaoyang")
    applied = (await add_provider(world.nodes["chaoyang"], "新店", "91110105000000001X", status="applied"))["id"]
    await web_login(client, "console", world.operators["chaoyang"])
    client.cookies.set("lang", "en")
    approve = await post(client, "/console/listings/bulk", [("action", "approve"), ("ids", str(offer))])
    assert "Approve 1 listing?" in approve.text and "Approve 1 listing<" in approve.text
    reject = await post(
        client, "/console/listings/bulk", [("action", "reject"), ("reason", "Blurred pictures"), ("ids", str(offer))]
    )
    assert "Send 1 listing back?" in reject.text and "Send 1 listing back<" in reject.text
    sent = await client.get("/console/listings?did=reject&done=1", headers=HTML)
    assert "1 listing sent back to its provider with your reason." in sent.text
    provider = await post(client, "/console/providers/bulk", [("action", "approve"), ("ids", str(applied))])
    assert "Approve 1 provider?" in provider.text
    approved = await client.get("/console/providers?did=approve&done=1", headers=HTML)
    assert "1 provider approved." in approved.text
