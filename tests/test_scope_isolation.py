"""Every operator and provider endpoint of the JSON API, tried by a user of a sibling
node (an operator of Hebei against Beijing's Chaoyang) or of another provider (Haidian's
owner against Chaoyang's provider): the one policy of marketplace/core/federation/scope.py
every time. An object of another scope answers 404, exactly as an id that does not exist
(same code, same message), so its existence never leaks; lists answer 200 and show nothing
of the other scope. (403 is for a route the caller's role may not use at all: both callers
here are owners and administrators, whose roles may use every route tried.)

The routes come from the app itself, so a new endpoint is covered from the day it is
added; a write whose body this test does not know yet fails the test until one is added
(a body that fails validation would get a 4xx before the scope check and prove nothing).
"""

import base64
import re

import pytest

from evaluation.enforcement import policy
from marketplace.core.db import engine
from marketplace.core.identity.tables import Operator
from marketplace.points import services as points
from providers.tables import Location, ProviderUser
from tests.points.test_ledger import operator
from tests.test_errors import bearer

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("clean_state")]

# What would show that a list reached into Chaoyang: its unions, its provider, its
# operator, its member (in full or masked) and its campaign.
CHAOYANG_MARKS = ("朝阳", "Chaoyang", "力美健", "op_chaoyang", "王小芳", "王*芳", "朝阳春节")
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)
# Bodies that pass validation, per "METHOD path pattern", so that only scope can refuse.
BODIES = {
    "POST /api/v1/console/approvals/{approval_id:int}/approve": None,
    "POST /api/v1/console/approvals/{approval_id:int}/reject": None,
    "POST /api/v1/console/evaluators/{org_id:int}/keys": None,
    "POST /api/v1/console/evaluators/keys/{key_id:int}/revoke": None,
    "POST /api/v1/console/campaigns/{campaign_id:int}/end": None,
    "POST /api/v1/console/campaigns/{campaign_id:int}/funding": {
        "policy": "cover",
        "shares": [{"node_id": 1, "budget_fen": 100}],
    },
    "POST /api/v1/console/campaigns/{campaign_id:int}/pause": None,
    "POST /api/v1/console/campaigns/{campaign_id:int}/resume": None,
    "POST /api/v1/console/cases/{case_id:int}/appeal-decision": {
        "outcome": "upheld",
        "explanation": "越权复核，应被拒绝。",
    },
    "POST /api/v1/console/cases/{case_id:int}/decision": {"decision": "delist", "explanation": "越权决定，应被拒绝。"},
    "POST /api/v1/console/complaints/{complaint_id:int}/close": {"resolution": "越权结案"},
    "POST /api/v1/console/complaints/{complaint_id:int}/forward": {"reason": "越权转交"},
    "POST /api/v1/console/held-ratings/{rating_id:int}": {"keep": True},
    "POST /api/v1/console/listings/{offer_id:int}/approve": None,
    "POST /api/v1/console/listings/{offer_id:int}/reject": {"reason": "越权驳回，应被拒绝。"},
    "POST /api/v1/console/members/{member_id:int}/reveal": {"field": "phone", "reason": "越权查看，应被拒绝"},
    "POST /api/v1/console/operators/{operator_id:int}": {"role": "analyst"},
    "POST /api/v1/console/points/members/{member_id:int}/adjustments": {"amount": 10, "reason": "越权调整"},
    "POST /api/v1/console/providers/{provider_id:int}/decisions": {"action": "suspend", "reason": "越权暂停"},
    "PUT /api/v1/console/providers/{provider_id:int}/payout-account": {"account_id": "acct_1Scope000000001"},
    "POST /api/v1/console/settlements/{statement_id:int}/approve": {},
    "POST /api/v1/console/settlements/{statement_id:int}/close": {},
    "POST /api/v1/console/settlements/{statement_id:int}/pay": None,
    "POST /api/v1/provider/cases/{case_id:int}/appeal": {"statement": "越权申诉，应被拒绝。"},
    "POST /api/v1/provider/complaints/{complaint_id:int}/answer": {"text": "越权答复"},
    "POST /api/v1/provider/me/users/{user_id:int}/deactivate": None,
    "POST /api/v1/provider/offers/{offer_id:int}/image": "IMAGE",
    "POST /api/v1/provider/offers/{offer_id:int}/pause": None,
    "POST /api/v1/provider/offers/{offer_id:int}/resume": None,
    "POST /api/v1/provider/offers/{offer_id:int}/submit": None,
    "PUT /api/v1/provider/offers/{offer_id:int}": "OFFER",
    "DELETE /api/v1/provider/offers/{offer_id:int}": None,
    "PUT /api/v1/provider/me/locations/{location_id:int}": {
        "name": "越权门店",
        "address": "北京市朝阳区某路1号",
        "district": "朝阳区",
        "latitude": 39.9,
        "longitude": 116.4,
        "opening_hours": {"mon": ["09:00", "21:00"]},
    },
    "DELETE /api/v1/provider/me/locations/{location_id:int}": None,
    "POST /api/v1/console/draws/{draw_id:int}/run": {"confirm": True},
}


async def chaoyang_things(world) -> dict[str, int]:
    """One resource of every kind, all in Chaoyang's scope and of Chaoyang's provider."""
    provider = world.providers["chaoyang"]["id"]
    member = world.members["chaoyang"][0]
    async with engine().transaction() as transaction:
        connection = transaction.connection
        case_id = await policy.open_case(connection, provider, "delisting", None, {}, [])
        redemption = await connection.fetchval(
            "INSERT INTO redemption (voucher, provider, offer, category, member, redeemed_at, survey_due_at) "
            "SELECT 1, $1, o.id, o.category, $2, now(), now() FROM offer o WHERE o.id = $3 RETURNING id",
            provider,
            member,
            world.offers["public"],
        )
        rating = await connection.fetchval(
            "INSERT INTO rating (redemption, provider, member, overall, created_at, updated_at, held) "
            "VALUES ($1, $2, $3, 5, now(), now(), true) RETURNING id",
            redemption,
            provider,
            member,
        )
        complaint = await connection.fetchval(
            "INSERT INTO complaint (redemption, voucher, provider, member, category, text, created_at, respond_by) "
            "VALUES ($1, 1, $2, $3, 'other', '投诉内容', now(), now() + interval '3 days') RETURNING id",
            redemption,
            provider,
            member,
        )
        statement = await connection.fetchval(
            "INSERT INTO settlement_statement (provider, period, period_start, period_end) "
            "VALUES ($1, '2026-10', '2026-09-30 16:00+00', '2026-10-31 16:00+00') RETURNING id",
            provider,
        )
        campaign = await connection.fetchval(
            "INSERT INTO campaign (node, name_zh, starts_at, ends_at, budget_fen, per_member_cap_fen, created_at) "
            "VALUES ($1, '朝阳春节', now(), now() + interval '30 days', 100000, 1000, now()) RETURNING id",
            world.nodes["chaoyang"],
        )
    async with engine().transaction() as transaction:  # a draw of Chaoyang's (its node decides the scope)
        draw = await transaction.connection.fetchval(
            "INSERT INTO draw (offer, node, opens_at, closes_at, places, claim_hours, seed, seed_hash, created_by, "
            "created_at) VALUES ($1, $2, now(), now() + interval '1 day', 1, 24, repeat('a', 64), repeat('b', 64), "
            "1, now()) RETURNING id",
            world.offers["haidian_only"],
            world.nodes["chaoyang"],
        )
    grant = await points.create_grant(await operator(world, "chaoyang"), world.nodes["chaoyang"], None, 10, "发放")
    staff = (
        await ProviderUser.select(ProviderUser.id)
        .where(ProviderUser.username == world.providers["chaoyang"]["staff"])
        .first()
    )
    location = await Location.select(Location.id).where(Location.provider == provider).first()
    chaoyang_operator = (
        await Operator.select(Operator.id).where(Operator.username == world.operators["chaoyang"]).first()
    )
    from marketplace.core.identity import approvals
    from providers.settlements import services as settlements  # noqa: F401  (registers the payout_account kind)

    async with engine().transaction() as transaction:
        approval = await approvals.propose(
            transaction.connection,
            await operator(world, "chaoyang"),
            "payout_account",
            provider,
            world.nodes["chaoyang"],
            {"before": None, "after": "acct_1Scope000000002", "provider_name": "力美健"},
        )
        key_id = await transaction.connection.fetchval(
            "SELECT id FROM evaluator_api_key WHERE org = $1", world.evaluator_org
        )
    return {
        "case_id": case_id,
        "rating_id": rating,
        "complaint_id": complaint,
        "statement_id": statement,
        "approval_id": approval["id"],
        "org_id": world.evaluator_org,
        "key_id": key_id,
        "campaign_id": campaign,
        "draw_id": draw,
        "grant_id": grant.id,
        "member_id": member,
        "provider_id": provider,
        "offer_id": world.offers["public"],
        "user_id": staff["id"],
        "location_id": location["id"],
        "operator_id": chaoyang_operator["id"],
    }


def api_routes(app, prefix: str) -> list[tuple[str, str]]:
    return sorted(
        {
            (method, route.path)
            for route in app.routes
            if route.path.startswith(prefix)
            for method in getattr(route, "methods", ())
            if method not in ("OPTIONS", "HEAD")
        }
    )


MISSING = 2**31 - 1  # an id no row has


def assert_as_missing(response, missing, key: str) -> None:
    """404, with the code and message of an id that does not exist: nothing tells them apart."""
    assert response.status_code == 404, (key, response.status_code, response.text)
    assert missing.status_code == 404, (key, missing.status_code, missing.text)
    seen, absent = response.json(), missing.json()
    assert (seen["code"], seen["detail"]) == (absent["code"], absent["detail"]), (key, seen, absent)


def offer_body(world) -> dict:
    """A valid offer edit, so that only the offer's owner can be the reason for a refusal."""
    return {
        "kind": "voucher",
        "category_id": 1,
        "title_zh": "越权修改",
        "description_zh": "越权修改的说明",
        "list_price_fen": 10000,
        "member_price_fen": 5000,
        "stock_total": 10,
        "valid_from": "2026-12-01T00:00:00+08:00",
        "valid_to": "2026-12-31T00:00:00+08:00",
        "node_scope_id": world.nodes["beijing"],
    }


async def test_a_sibling_node_operator_reaches_nothing_of_another_scope(client, app, world):
    things = await chaoyang_things(world)
    hebei = await bearer(client, "operator", world.operators["hebei"])
    tried = 0
    for method, path in api_routes(app, "/api/v1/console/"):
        params = re.findall(r"{(\w+):int}", path)
        if not params:
            if method == "GET":  # a list: nothing of Chaoyang's in it
                response = await client.get(path, headers=hebei)
                assert response.status_code == 200, (path, response.text)
                assert not any(mark in response.text for mark in CHAOYANG_MARKS), (path, response.text[:300])
            continue
        key = f"{method} {path}"
        assert method == "GET" or key in BODIES, f"add a valid body for {key} to this test"
        url, absent = path, path
        for param in params:
            url = url.replace(f"{{{param}:int}}", str(things[param]))
            absent = absent.replace(f"{{{param}:int}}", str(MISSING))
        body = BODIES.get(key)
        response = await client.request(method, url, headers=hebei, json=body)
        missing = await client.request(method, absent, headers=hebei, json=body)
        assert_as_missing(response, missing, key)
        tried += 1
    assert tried >= 20


async def test_another_providers_owner_reaches_nothing_of_this_provider(client, app, world):
    things = await chaoyang_things(world)
    intruder = await bearer(client, "provider", world.providers["haidian"]["owner"])
    offer = offer_body(world)
    tried = 0
    for method, path in api_routes(app, "/api/v1/provider/"):
        params = re.findall(r"{(\w+):int}", path)
        if not params:
            continue
        key = f"{method} {path}"
        assert method == "GET" or key in BODIES, f"add a valid body for {key} to this test"
        url, absent = path, path
        for param in params:
            url = url.replace(f"{{{param}:int}}", str(things[param]))
            absent = absent.replace(f"{{{param}:int}}", str(MISSING))
        body = offer if BODIES.get(key) == "OFFER" else BODIES.get(key)
        if body == "IMAGE":
            image = {"image": ("cover.png", PNG, "image/png")}
            response = await client.post(url, headers=intruder, files=image)
            missing = await client.post(absent, headers=intruder, files=image)
        else:
            response = await client.request(method, url, headers=intruder, json=body)
            missing = await client.request(method, absent, headers=intruder, json=body)
        assert_as_missing(response, missing, key)
        tried += 1
    assert tried >= 10
    for path in (
        "/api/v1/provider/complaints",
        "/api/v1/provider/cases",
        "/api/v1/provider/me/settlements",
        "/api/v1/provider/offers",
        "/api/v1/provider/me/users",
    ):
        response = await client.get(path, headers=intruder)
        assert response.status_code == 200, (path, response.text)
        assert not any(mark in response.text for mark in CHAOYANG_MARKS), (path, response.text[:300])
