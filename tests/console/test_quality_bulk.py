"""Bulk decisions on the quality queues: complaints closed as handled with one resolution,
held ratings counted or left out with one reason; each asks first and stays in scope."""

from datetime import timedelta

import pytest

from evaluation.tables import Complaint, Rating
from tests.console.helpers import HTML, post, web_login
from tests.evaluation.test_quality_loop import redeemed_voucher
from tests.factories import now
from tests.settlements.helpers import value

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("clean_state")]


async def _two_of_each(world) -> tuple[list[int], list[int]]:
    """Two open complaints past their deadline and two held ratings of Chaoyang's gym."""
    complaints, held = [], []
    for offer in ("public", "women"):
        member, voucher = await redeemed_voucher(world, offer)
        redemption = await value("SELECT id FROM redemption WHERE voucher = $1", voucher.id)
        provider = world.providers["chaoyang"]["id"]
        complaints.append(
            (
                await Complaint.insert(
                    Complaint(
                        redemption=redemption,
                        voucher=voucher.id,
                        provider=provider,
                        member=member.id,
                        category="overcharge",
                        text="结账时多收了二十元",
                        status="open",
                        created_at=now() - timedelta(days=5),
                        respond_by=now() - timedelta(days=2),
                        member_masked="王*芳",
                    )
                ).returning(Complaint.id)
            )[0]["id"]
        )
        held.append(
            (
                await Rating.insert(
                    Rating(
                        redemption=redemption,
                        provider=provider,
                        member=member.id,
                        overall=1,
                        comment="很差",
                        created_at=now(),
                        updated_at=now(),
                        held=True,
                        hold_reason="burst_one_network",
                    )
                ).returning(Rating.id)
            )[0]["id"]
        )
    return complaints, held


async def test_complaints_are_closed_together_with_one_resolution_after_a_confirmation(client, world):
    complaints, _held = await _two_of_each(world)
    await web_login(client, "console", world.operators["chaoyang"])
    page = await client.get("/console/complaints?overdue=1", headers=HTML)
    assert 'data-testid="bulk-bar"' in page.text and page.text.count('data-testid="row-check"') == 2
    picked = [("ids", str(number)) for number in complaints]
    back = ("back", "/console/complaints?overdue=1")
    empty = await post(client, "/console/complaints/bulk", [("action", "close"), ("reason", ""), back, *picked])
    assert empty.status_code == 422 and 'data-testid="form-error"' in empty.text
    asked = await post(
        client,
        "/console/complaints/bulk",
        [("action", "close"), ("reason", "已与商户核实，退还多收款项"), back, *picked],
    )
    assert asked.status_code == 200 and 'data-testid="confirm"' in asked.text
    assert asked.text.count('name="ids"') == 2 and "多收费" in asked.text  # the category in words
    assert await value("SELECT count(*) FROM complaint WHERE status = 'open'") == 2  # nothing yet
    done = await post(
        client,
        "/console/complaints/bulk",
        [("action", "close"), ("reason", "已与商户核实，退还多收款项"), back, ("confirm", "1"), *picked],
    )
    assert done.status_code in (302, 303) and done.headers["location"] == (
        "/console/complaints?overdue=1&did=close&done=2"
    )
    assert (
        await value(
            "SELECT count(*) FROM complaint WHERE status = 'closed' AND resolution = '已与商户核实，退还多收款项'"
        )
        == 2
    )
    after = await client.get(done.headers["location"], headers=HTML)
    assert 'data-testid="bulk-done"' in after.text and 'data-testid="row-check"' not in after.text


async def test_held_ratings_are_decided_together_within_the_operators_scope(client, world):
    _complaints, held = await _two_of_each(world)
    picked = [("ids", str(number)) for number in held]
    await web_login(client, "console", world.operators["hebei"])  # Hebei does not cover Chaoyang
    outside = await post(
        client,
        "/console/held-ratings/bulk",
        [("action", "exclude"), ("reason", "同一网络集中评价"), ("confirm", "1"), *picked],
    )
    assert "done=0&failed=2" in outside.headers["location"]
    assert await value("SELECT count(*) FROM rating WHERE held AND cleared_at IS NULL") == 2

    await web_login(client, "console", world.operators["chaoyang"])
    page = await client.get("/console/cases", headers=HTML)
    assert 'action="/console/held-ratings/bulk"' in page.text and page.text.count('data-testid="held-rating"') == 2
    no_reason = await post(client, "/console/held-ratings/bulk", [("action", "exclude"), *picked])
    assert no_reason.status_code == 422
    asked = await post(
        client,
        "/console/held-ratings/bulk",
        [("action", "exclude"), ("reason", "同一网络集中评价"), ("back", "/console/cases#held"), *picked],
    )
    assert asked.status_code == 200 and asked.text.count('name="ids"') == 2 and "同一网络集中评价" in asked.text
    done = await post(
        client,
        "/console/held-ratings/bulk",
        [
            ("action", "exclude"),
            ("reason", "同一网络集中评价"),
            ("back", "/console/cases#held"),
            ("confirm", "1"),
            *picked,
        ],
    )
    assert done.headers["location"] == "/console/cases?did=exclude&done=2#held"
    assert (
        await value("SELECT count(*) FROM rating WHERE hold_reason = 'rejected_by_operator' AND cleared_at IS NOT NULL")
        == 2
    )
    assert (
        await value(
            "SELECT count(*) FROM audit_event WHERE action = 'rating.held_cleared' AND reason = '同一网络集中评价'"
        )
        == 2
    )
    after = await client.get("/console/cases?did=exclude&done=2", headers=HTML)
    assert 'data-testid="bulk-done"' in after.text and 'data-testid="held-rating"' not in after.text


async def test_bulk_confirmations_and_outcomes_say_one_in_the_singular_in_english(client, world):
    """ "Close 1 complaint", not "Close these 1 complaints" (ngettext); Chinese has one form."""
    complaints, held = await _two_of_each(world)
    await web_login(client, "console", world.operators["chaoyang"])
    client.cookies.set("lang", "en")
    one = await post(
        client,
        "/console/complaints/bulk",
        [("action", "close"), ("reason", "Checked with the shop"), ("ids", str(complaints[0]))],
    )
    assert "Close 1 complaint as handled?" in one.text and "Close 1 complaint<" in one.text
    two = await post(
        client,
        "/console/complaints/bulk",
        [("action", "close"), ("reason", "Checked with the shop"), *[("ids", str(number)) for number in complaints]],
    )
    assert "Close these 2 complaints as handled?" in two.text and "Close 2 complaints<" in two.text
    closed = await client.get("/console/complaints?did=close&done=1", headers=HTML)
    assert "1 complaint closed with your resolution." in closed.text
    rating = await post(
        client, "/console/held-ratings/bulk", [("action", "exclude"), ("reason", "One network"), ("ids", str(held[0]))]
    )
    assert "Leave 1 rating out for good?" in rating.text
    decided = await client.get("/console/cases?did=count&done=1&failed=1", headers=HTML)
    assert "1 rating now counts." in decided.text and "1 was decided by someone else first." in decided.text
    client.cookies.set("lang", "zh_Hans")
    chinese = await post(
        client,
        "/console/complaints/bulk",
        [("action", "close"), ("reason", "已与商户核实"), ("ids", str(complaints[0]))],
    )
    assert "将这 1 条投诉作为已处理结案？" in chinese.text
