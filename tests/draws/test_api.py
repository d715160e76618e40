"""The JSON API of draws: an operator creates (refusals as problem details naming the
field), lists, reads and runs a draw (only with an explicit confirmation); a member lists
the draws open to them, enters, withdraws, enters again, reads the entry and claims the
place; anyone reads the draw and its published result, the same as result.json."""

from datetime import UTC, datetime, timedelta

import pytest

from marketplace.draws import services as draws
from tests.test_errors import assert_problem, bearer

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("clean_state")]


def moment(**delta) -> str:
    return (datetime.now(UTC) + timedelta(**delta)).isoformat()


def fields(response) -> list[str]:
    return [error["field"] for error in response.json().get("errors") or []]


async def test_an_operator_creates_lists_and_runs_a_draw_a_member_enters_withdraws_and_claims(client, world):
    admin = await bearer(client, "operator", world.operators["beijing"])
    hebei = await bearer(client, "operator", world.operators["hebei"])
    body = {
        "offer_id": world.offers["public"],
        "opens_at": moment(minutes=-1),
        "closes_at": moment(days=1),
        "places": 1,
        "claim_hours": 24,
        "weights": {"women": 2},
    }
    refused = await client.post("/api/v1/console/draws", json=body, headers=hebei)  # not an offer of Hebei's
    assert_problem(refused, 422, "invalid")
    assert fields(refused) == ["offer_id"]
    refused = await client.post("/api/v1/console/draws", json={**body, "places": 101}, headers=admin)
    assert_problem(refused, 422, "invalid")
    assert fields(refused) == ["places"]
    naive = await client.post("/api/v1/console/draws", json={**body, "opens_at": "2026-12-05T10:00:00"}, headers=admin)
    assert_problem(naive, 400, "validation_error")
    assert "opens_at" in naive.json()["detail"]
    refused = await client.post("/api/v1/console/draws", json={**body, "weights": {"women": 11}}, headers=admin)
    assert_problem(refused, 422, "invalid")
    assert fields(refused) == ["weights"]

    created = await client.post("/api/v1/console/draws", json=body, headers=admin)
    assert created.status_code == 201, created.text
    draw = created.json()
    draw_id = draw["id"]
    assert draw["phase"] == "open" and draw["seed"] is None and len(draw["seed_hash"]) == 64
    assert draw["weights"] == {"women": 2} and draw["entry_count"] == 0
    again = await client.post("/api/v1/console/draws", json=body, headers=admin)
    assert fields(assert_problem_response(again, 409, "draw_exists")) == ["offer_id"]
    listed = (await client.get("/api/v1/console/draws", headers=admin)).json()
    assert [d["id"] for d in listed] == [draw_id]
    assert (await client.get("/api/v1/console/draws", headers=hebei)).json() == []
    assert_problem(await client.get(f"/api/v1/console/draws/{draw_id}", headers=hebei), 404, "draw_not_found")

    # Members: the women's group member sees it open, with no entry yet; enters (weight 2).
    member = await bearer(client, "member", world.members["chaoyang"][1])
    (listed,) = (await client.get("/api/v1/draws", headers=member)).json()
    assert listed["id"] == draw_id and listed["entry"] is None
    assert_problem(await client.get(f"/api/v1/draws/{draw_id}/entry", headers=member), 404, "not_entered")
    entered = await client.post(f"/api/v1/draws/{draw_id}/entry", headers=member)
    assert entered.status_code == 201, entered.text
    ticket = entered.json()["ticket"]
    assert entered.json()["status"] == "entered" and entered.json()["weight"] == 2
    assert_problem(await client.post(f"/api/v1/draws/{draw_id}/entry", headers=member), 409, "already_entered")
    withdrawn = await client.post(f"/api/v1/draws/{draw_id}/entry/withdraw", headers=member)
    assert withdrawn.status_code == 200 and withdrawn.json()["status"] == "withdrawn"
    assert_problem(await client.post(f"/api/v1/draws/{draw_id}/entry/withdraw", headers=member), 409, "not_entered")
    assert (await client.get(f"/api/v1/draws/{draw_id}", headers=member)).json()["entry_count"] == 0
    entered = await client.post(f"/api/v1/draws/{draw_id}/entry", headers=member)
    assert entered.status_code == 201 and entered.json()["ticket"] == ticket
    (listed,) = (await client.get("/api/v1/draws", headers=member)).json()
    assert listed["entry"]["status"] == "entered"

    # Running asks for the confirmation, explicitly.
    run = f"/api/v1/console/draws/{draw_id}/run"
    assert_problem(await client.post(run, headers=admin), 400, "validation_error")
    refused = await client.post(run, json={"confirm": False}, headers=admin)
    assert fields(assert_problem_response(refused, 422, "confirmation_required")) == ["confirm"]
    assert (await draws.get_draw(draw_id))["status"] == "open"
    assert_problem(await client.post(run, json={"confirm": True}, headers=hebei), 404, "draw_not_found")
    drawn = await client.post(run, json={"confirm": True}, headers=admin)
    assert drawn.status_code == 200, drawn.text
    assert drawn.json()["status"] == "drawn" and drawn.json()["seed"] and drawn.json()["by_status"] == {"offered": 1}
    assert_problem(await client.post(f"/api/v1/draws/{draw_id}/entry/withdraw", headers=member), 409, "draw_not_open")

    # Anyone: the draw and its published result, the same as the page's result.json.
    result = await client.get(f"/api/v1/draws/{draw_id}/result")
    assert result.status_code == 200
    assert result.json() == (await client.get(f"/draws/{draw_id}/result.json")).json()
    assert result.json()["order"] == [str(ticket)] and draws.verify(result.json()) == []
    public = (await client.get(f"/api/v1/draws/{draw_id}")).json()
    assert public["phase"] == "drawn" and public["seed"] == drawn.json()["seed"]
    assert_problem(await client.get("/api/v1/draws/999999/result"), 404, "draw_not_found")

    # The winner's entry, then the voucher through the normal claim.
    mine = (await client.get(f"/api/v1/draws/{draw_id}/entry", headers=member)).json()
    assert mine["status"] == "offered" and mine["rank"] == 1 and mine["offered_until"]
    claimed = await client.post(f"/api/v1/draws/{draw_id}/place/claim", headers=member)
    assert claimed.status_code == 201, claimed.text
    assert claimed.json()["offer_id"] == world.offers["public"]
    mine = (await client.get(f"/api/v1/draws/{draw_id}/entry", headers=member)).json()
    assert mine["status"] == "claimed" and mine["voucher_id"] == claimed.json()["id"]
    assert (await client.get("/api/v1/draws", headers=member)).json() == []  # no longer taking entries


async def test_members_see_only_draws_they_may_enter_and_operators_cannot_enter(client, world):
    admin = await bearer(client, "operator", world.operators["beijing"])
    body = {"offer_id": world.offers["women"], "opens_at": moment(minutes=-1), "closes_at": moment(days=1), "places": 1}
    created = await client.post("/api/v1/console/draws", json=body, headers=admin)
    assert created.status_code == 201, created.text
    haidian = await bearer(client, "member", world.members["haidian"][1])  # not in the women's group
    assert (await client.get("/api/v1/draws", headers=haidian)).json() == []
    draw_id = created.json()["id"]
    assert_problem(await client.post(f"/api/v1/draws/{draw_id}/entry", headers=haidian), 404, "offer_not_found")
    assert (await client.post(f"/api/v1/draws/{draw_id}/entry", headers=admin)).status_code == 403
    assert (await client.get("/api/v1/draws")).status_code == 401
    upcoming = {**body, "offer_id": world.offers["public"], "opens_at": moment(hours=1)}
    upcoming_id = (await client.post("/api/v1/console/draws", json=upcoming, headers=admin)).json()["id"]
    chaoyang = await bearer(client, "member", world.members["chaoyang"][1])
    assert [d["id"] for d in (await client.get("/api/v1/draws", headers=chaoyang)).json()] == [draw_id]
    assert_problem(await client.post(f"/api/v1/draws/{upcoming_id}/entry", headers=chaoyang), 409, "draw_not_open")


def assert_problem_response(response, status: int, code: str):
    assert_problem(response, status, code)
    return response
