"""Claims, vouchers and counter redemption against the real PostgreSQL and Redis,
including races of many concurrent claims, redemptions and cancellations."""

import asyncio
from datetime import timedelta
from types import SimpleNamespace

import pytest

from catalog import services as catalog
from catalog.tables import Offer
from marketplace.core.db import engine
from marketplace.core.errors import Conflict, NotFound
from marketplace.core.federation import services as federation
from marketplace.core.identity import services as identity
from marketplace.vouchers import codes, services
from marketplace.vouchers.tables import Voucher
from providers.tables import Provider, ProviderUser
from tests import factories
from tests.test_errors import assert_problem, bearer

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("clean_state")]

# Tests open a connection per transaction (no pool): this many race at once, within
# PostgreSQL's connection limit.
RACERS = asyncio.Semaphore(40)


async def race(attempt, *args):
    async with RACERS:
        try:
            return await attempt(*args)
        except Conflict as error:
            return error.code


async def member_headers(client, world, key="chaoyang"):
    return await bearer(client, "member", world.members[key][1])


async def claim(client, headers, offer_id, key=None):
    extra = {"Idempotency-Key": key} if key else {}
    return await client.post(f"/api/v1/offers/{offer_id}/claims", headers={**headers, **extra})


async def stock_left(offer_id) -> int:
    return (await Offer.select(Offer.stock_left).where(Offer.id == offer_id).first())["stock_left"]


async def staff_principal(world, provider="chaoyang", role="staff"):
    username = world.providers[provider][role]
    user = await ProviderUser.select(ProviderUser.id).where(ProviderUser.username == username).first()
    return await identity.load_principal("provider", user["id"])


async def many_members(world, count: int, start: int = 100) -> list:
    """Members of the Chaoyang couriers' union, as principals."""
    principals = []
    for serial in range(start, start + count):
        member_id, _ = await factories.add_member(world.nodes["cy_union"], serial, "张三丰")
        principals.append(await federation.member_principal(member_id))
    return principals


async def test_a_claim_issues_a_voucher_with_a_checked_code_and_takes_one_unit(client, world):
    headers = await member_headers(client, world)
    response = await claim(client, headers, world.offers["public"])
    assert response.status_code == 201, response.text
    voucher = response.json()
    assert voucher["status"] == "issued" and codes.is_valid(voucher["code"])
    assert codes.normalise(voucher["code_display"]) == voucher["code"]
    assert await stock_left(world.offers["public"]) == 99
    mine = (await client.get("/api/v1/vouchers", headers=headers)).json()
    assert [v["id"] for v in mine] == [voucher["id"]]
    # The offer allows one per member.
    body = assert_problem(await claim(client, headers, world.offers["public"]), 409, "limit_reached")
    assert body["limit"] == 1
    assert await stock_left(world.offers["public"]) == 99


async def test_eligibility_is_checked_again_at_claim_time(client, world):
    haidian = await member_headers(client, world, "haidian")
    assert_problem(await claim(client, haidian, world.offers["women"]), 404, "offer_not_found")
    chaoyang = await member_headers(client, world)
    assert_problem(await claim(client, chaoyang, world.offers["haidian_only"]), 404, "offer_not_found")
    await Provider.update({Provider.status: "suspended"}).where(Provider.id == world.providers["chaoyang"]["id"])
    assert_problem(await claim(client, chaoyang, world.offers["public"]), 404, "offer_not_found")
    assert await Voucher.count() == 0


async def test_the_member_routes_without_a_guard_of_their_own_still_refuse_everyone_else(client, world):
    """The claim controller's routes are guarded by the app's route check (guards.check_route) from
    the permission table, not by a guard of their own: anonymous callers get 401, other kinds
    403, before anything runs (an Idempotency-Key too), and nothing is issued."""
    offer_id = world.offers["public"]
    operator = await bearer(client, "operator", world.operators["chaoyang"])
    for headers in ({}, {"Authorization": "Bearer not-a-session"}):
        assert_problem(await claim(client, headers, offer_id, key="k1"), 401, "not_signed_in")
        assert_problem(await client.get("/api/v1/vouchers", headers=headers), 401, "not_signed_in")
    assert_problem(await claim(client, operator, offer_id, key="k1"), 403, "wrong_role")
    assert_problem(await client.get("/api/v1/vouchers/1", headers=operator), 403, "wrong_role")
    assert_problem(await client.post("/api/v1/vouchers/1/cancel", headers=operator), 403, "wrong_role")
    assert await Voucher.count() == 0


async def test_only_members_claim_and_only_staff_redeem(client, world):
    staff = await bearer(client, "provider", world.providers["chaoyang"]["staff"])
    assert_problem(await claim(client, staff, world.offers["public"]), 403, "wrong_role")
    member = await member_headers(client, world)
    voucher = (await claim(client, member, world.offers["public"])).json()
    response = await client.post("/api/v1/counter/redemptions", headers=member, json={"code": voucher["code"]})
    assert_problem(response, 403, "wrong_role")


async def test_the_same_idempotency_key_gets_the_saved_answer(client, world):
    headers = await member_headers(client, world)
    first = await claim(client, headers, world.offers["public"], key="claim-1")
    again = await claim(client, headers, world.offers["public"], key="claim-1")
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()
    assert await stock_left(world.offers["public"]) == 99 and await Voucher.count() == 1
    # The same key for another request is refused; a failed attempt saves nothing.
    assert_problem(await claim(client, headers, world.offers["women"], key="claim-1"), 422, "idempotency_key_reused")
    assert_problem(await claim(client, headers, world.offers["haidian_only"], key="claim-2"), 404, "offer_not_found")
    assert (await claim(client, headers, world.offers["women"], key="claim-2")).status_code == 201


async def test_cancelling_returns_the_stock_and_the_place_in_the_limit(client, world):
    headers = await member_headers(client, world)
    voucher = (await claim(client, headers, world.offers["public"])).json()
    response = await client.post(f"/api/v1/vouchers/{voucher['id']}/cancel", headers=headers)
    assert response.status_code == 200 and response.json()["status"] == "cancelled"
    assert await stock_left(world.offers["public"]) == 100
    assert_problem(await client.post(f"/api/v1/vouchers/{voucher['id']}/cancel", headers=headers), 409, "not_issued")
    assert (await claim(client, headers, world.offers["public"])).status_code == 201
    other = await member_headers(client, world, "haidian")
    assert_problem(
        await client.post(f"/api/v1/vouchers/{voucher['id']}/cancel", headers=other), 404, "voucher_not_found"
    )


async def test_the_last_unit_tells_search_through_the_outbox(world):
    await Offer.update({Offer.stock_left: 1}).where(Offer.id == world.offers["public"])
    member = await federation.member_principal(world.members["chaoyang"][0])
    await services.claim(member, world.offers["public"])
    rows = await engine().run_ddl("SELECT payload FROM outbox_event WHERE topic = 'offer.changed'")
    assert len(rows) == 1


@pytest.mark.slow
async def test_racing_claims_never_oversell(world):
    offer_id = world.offers["public"]
    await Offer.update({Offer.stock_left: 30, Offer.stock_total: 30}).where(Offer.id == offer_id)
    members = await many_members(world, 120)

    results = await asyncio.gather(*(race(services.claim, member, offer_id) for member in members))
    issued = [result for result in results if not isinstance(result, str)]
    assert len(issued) == 30
    assert sorted(set(result for result in results if isinstance(result, str))) == ["sold_out"]
    assert await stock_left(offer_id) == 0
    assert await Voucher.count().where(Voucher.offer == offer_id) == 30
    assert len({voucher.code for voucher in issued}) == 30


async def test_racing_claims_of_one_member_never_exceed_the_limit(world):
    offer_id = world.offers["public"]
    await Offer.update({Offer.per_member_limit: 3, Offer.limit_period: "day"}).where(Offer.id == offer_id)
    member = await federation.member_principal(world.members["chaoyang"][0])

    results = await asyncio.gather(*(race(services.claim, member, offer_id) for _ in range(20)))
    assert sum(not isinstance(result, str) for result in results) == 3
    assert await stock_left(offer_id) == 97
    assert await Voucher.count().where(Voucher.member == member.id) == 3


async def test_counter_checks_then_redeems_exactly_once(client, world):
    member = await member_headers(client, world)
    voucher = (await claim(client, member, world.offers["public"])).json()
    staff = await bearer(client, "provider", world.providers["chaoyang"]["staff"])
    typed = voucher["code_display"].lower()  # as a cashier types it
    checked = await client.post("/api/v1/counter/check", headers=staff, json={"code": typed})
    assert checked.status_code == 200, checked.text
    assert checked.json()["member_name"] == "王*芳" and checked.json()["status"] == "issued"
    location = (await client.get("/api/v1/provider/me/profile", headers=staff)).json()["locations"][0]["id"]
    redeemed = await client.post(
        "/api/v1/counter/redemptions", headers=staff, json={"code": typed, "location_id": location}
    )
    assert redeemed.status_code == 201 and redeemed.json()["status"] == "redeemed"
    again = assert_problem(
        await client.post("/api/v1/counter/redemptions", headers=staff, json={"code": typed}), 409, "already_redeemed"
    )
    assert again["redeemed_at"] == redeemed.json()["redeemed_at"]
    # The member answers the one-tap question.
    answered = await client.post(f"/api/v1/vouchers/{voucher['id']}/honoured", headers=member, json={"honoured": True})
    assert answered.status_code == 200 and answered.json()["honoured"] is True


async def test_another_providers_staff_cannot_see_or_redeem_a_voucher(client, world):
    member = await member_headers(client, world)
    voucher = (await claim(client, member, world.offers["public"])).json()
    other = await bearer(client, "provider", world.providers["haidian"]["staff"])
    assert_problem(
        await client.post("/api/v1/counter/check", headers=other, json={"code": voucher["code"]}),
        404,
        "voucher_not_found",
    )
    assert_problem(
        await client.post("/api/v1/counter/redemptions", headers=other, json={"code": voucher["code"]}),
        404,
        "voucher_not_found",
    )
    own_location = (await client.get("/api/v1/provider/me/profile", headers=other)).json()["locations"][0]["id"]
    staff = await bearer(client, "provider", world.providers["chaoyang"]["staff"])
    response = await client.post(
        "/api/v1/counter/redemptions", headers=staff, json={"code": voucher["code"], "location_id": own_location}
    )
    assert assert_problem(response, 422, "invalid")["errors"][0]["field"] == "location_id"


async def test_typos_are_caught_before_any_lookup(client, world):
    staff = await bearer(client, "provider", world.providers["chaoyang"]["staff"])
    code = codes.new_code()
    typo = ("1" if code[0] != "1" else "2") + code[1:]
    assert_problem(await client.post("/api/v1/counter/check", headers=staff, json={"code": typo}), 422, "code_typo")
    assert_problem(
        await client.post("/api/v1/counter/check", headers=staff, json={"code": "ABC"}), 422, "malformed_code"
    )
    assert_problem(await client.post("/api/v1/counter/check", headers=staff, json={}), 400, "validation_error")


async def test_guessing_codes_is_throttled_per_staff_account(client, world):
    staff = await bearer(client, "provider", world.providers["chaoyang"]["staff"])

    def check(headers):
        return client.post("/api/v1/counter/check", headers=headers, json={"code": codes.new_code()})

    for _ in range(services.STAFF_MISS_LIMIT):
        assert_problem(await check(staff), 404, "voucher_not_found")
    assert_problem(await check(staff), 429, "counter_throttled")
    # The owner's own account still works: the limit is per staff account (and per provider).
    owner = await bearer(client, "provider", world.providers["chaoyang"]["owner"])
    assert_problem(await check(owner), 404, "voucher_not_found")


async def test_racing_redemptions_redeem_once(world):
    member = await federation.member_principal(world.members["chaoyang"][0])
    voucher = await services.claim(member, world.offers["public"])
    staff = [await staff_principal(world, role=role) for role in ("staff", "owner")]

    results = await asyncio.gather(*(race(services.redeem, staff[i % 2], voucher.code) for i in range(12)))
    assert sum(not isinstance(result, str) for result in results) == 1
    assert [result for result in results if isinstance(result, str)] == ["already_redeemed"] * 11


async def test_a_cancel_racing_a_redemption_lets_exactly_one_win(world):
    member = await federation.member_principal(world.members["chaoyang"][0])
    staff = await staff_principal(world)
    for _ in range(5):
        await Offer.update({Offer.per_member_limit: 10}).where(Offer.id == world.offers["public"])
        voucher = await services.claim(member, world.offers["public"])

        outcomes = await asyncio.gather(
            race(services.cancel, member, voucher.id), race(services.redeem, staff, voucher.code)
        )
        statuses = [outcome.status for outcome in outcomes if not isinstance(outcome, str)]
        assert statuses in (["cancelled"], ["redeemed"]), outcomes
    left = await stock_left(world.offers["public"])
    redeemed = await Voucher.count().where(Voucher.status == "redeemed")
    assert left == 100 - redeemed


async def test_expired_vouchers_cannot_be_redeemed(world):
    member = await federation.member_principal(world.members["chaoyang"][0])
    voucher = await services.claim(member, world.offers["public"])
    await Voucher.update({Voucher.expires_at: factories.now() - timedelta(minutes=1)}).where(Voucher.id == voucher.id)
    staff = await staff_principal(world)
    with pytest.raises(Conflict) as error:
        await services.redeem(staff, voucher.code)
    assert error.value.code == "expired"
    assert await services.expire_vouchers() == 1
    assert (await services.my_voucher(member, voucher.id)).status == "expired"
    with pytest.raises(NotFound):
        await services.my_voucher(await federation.member_principal(world.members["haidian"][0]), voucher.id)


async def test_a_double_submitted_claim_form_claims_once(client, world):
    from tests.factories import PASSWORD
    from tests.providers.test_pages import _post

    await Offer.update({Offer.per_member_limit: 5}).where(Offer.id == world.offers["public"])
    await client.get("/login")
    await _post(client, "/login", {"username": world.members["chaoyang"][1], "password": PASSWORD})
    offer_page = await client.get(f"/offers/{world.offers['public']}")
    key = offer_page.text.split('name="idempotency_key" value="')[1].split('"')[0]
    first = await _post(client, f"/offers/{world.offers['public']}/claim", {"idempotency_key": key})
    again = await _post(client, f"/offers/{world.offers['public']}/claim", {"idempotency_key": key})
    assert first.status_code in (302, 303) and first.headers["location"] == again.headers["location"]
    assert await Voucher.count() == 1 and await stock_left(world.offers["public"]) == 99


async def test_an_expired_voucher_cannot_be_cancelled_for_its_stock(client, world):
    headers = await member_headers(client, world)
    voucher = (await claim(client, headers, world.offers["public"])).json()
    await Voucher.update({Voucher.expires_at: factories.now() - timedelta(minutes=1)}).where(
        Voucher.id == voucher["id"]
    )
    assert_problem(await client.post(f"/api/v1/vouchers/{voucher['id']}/cancel", headers=headers), 409, "expired")
    assert await stock_left(world.offers["public"]) == 99


async def test_odd_digits_in_forms_are_refused_not_crashed(client, world):
    from tests.providers.test_pages import _login, _post

    await _login(client, "provider", world.providers["chaoyang"]["staff"])
    response = await _post(client, "/provider/counter/redeem", {"code": "ABCD-EFGH-JKMN-PQ", "location_id": "²"})
    assert response.status_code < 500


async def claim_code(member, offer_id) -> str:
    try:
        return (await services.claim(member, offer_id)).status
    except (Conflict, NotFound) as error:
        return error.code


async def test_a_sold_out_offer_is_refused_from_memory_for_a_second_as_the_database_would(world, monkeypatch):
    # The memo's clock stands still until the test moves it: on a busy machine the claims
    # below may take longer than the memo's second of wall-clock time.
    clock = [1000.0]
    monkeypatch.setattr(catalog, "time", SimpleNamespace(monotonic=lambda: clock[0]))
    offer_id = world.offers["women"]
    await Offer.update({Offer.stock_left: 0}).where(Offer.id == offer_id)
    woman = await federation.member_principal(world.members["chaoyang"][0])
    man = await federation.member_principal(world.members["haidian"][0])  # in scope, not in the group
    assert await claim_code(woman, offer_id) == "sold_out"
    # Stock changed behind the memo's back: for a second this process still says sold out,
    # without reading the offer...
    await Offer.update({Offer.stock_left: 5}).where(Offer.id == offer_id)
    assert await claim_code(woman, offer_id) == "sold_out"
    # ...but whom the offer is not open to still reads their own refusal, not "sold out".
    assert await claim_code(man, offer_id) == "offer_not_found"
    clock[0] += catalog.SOLD_OUT_MEMO_SECONDS
    assert await claim_code(woman, offer_id) == "issued"
    assert await stock_left(offer_id) == 4


async def test_a_cancelled_claims_stock_can_be_claimed_at_once_despite_the_memo(world):
    offer_id = world.offers["public"]
    await Offer.update({Offer.stock_left: 1}).where(Offer.id == offer_id)
    first, second = await many_members(world, 2)
    voucher = await services.claim(first, offer_id)
    assert await claim_code(second, offer_id) == "sold_out"
    await services.cancel(first, voucher.id)
    assert await claim_code(second, offer_id) == "issued"
    assert await stock_left(offer_id) == 0
