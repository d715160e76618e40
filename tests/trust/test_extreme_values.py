"""Every page renders whatever a row holds.

The rows are written straight into the database, past every input check: windows from year 1
to the last moment of year 9999, titles at their column's length made of emoji, text with
control-ish characters that are not controls (zero-width joiner, right-to-left override),
prices at the integer column's limit, stock at zero (the database refuses less). Each page that shows them,
for members, provider owners and operators, answers without a 5xx.
"""

from datetime import UTC, datetime, timedelta

import pytest

from catalog.tables import Offer
from marketplace.vouchers import codes
from marketplace.vouchers.tables import Voucher
from tests.catalog.test_pages import _web_login

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("clean_state")]

HTML = {"accept": "text/html"}
YEAR_1 = datetime(1, 1, 1, tzinfo=UTC)
LAST = datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC)
INFINITY = datetime.max.replace(tzinfo=UTC)  # asyncpg writes and reads it as PostgreSQL's 'infinity'
INT4 = 2**31 - 1
TITLE = ("🏋️‍♀️健身" * 30)[:100]
ODD_TEXT = "右\u202e到左\u200d零宽\u00ad软连字符\ufeff\u2028行分隔 " + "🎉" * 500


async def _extreme_rows(world) -> dict[str, int]:
    offers = world.offers
    await Offer.update(
        {
            Offer.valid_from: YEAR_1,
            Offer.valid_to: LAST,
            Offer.title_zh: TITLE,
            Offer.title_en: "W" * 100,
            Offer.description_zh: ODD_TEXT,
            Offer.terms_zh: ODD_TEXT,
            Offer.list_price_fen: INT4,
            Offer.member_price_fen: INT4,
            Offer.subsidy_fen: INT4,
            Offer.stock_total: INT4,
            Offer.stock_left: 0,
            Offer.per_member_limit: INT4,
            Offer.tags: ["🎉" * 32],
            Offer.published_at: YEAR_1,
            Offer.updated_at: LAST,
            Offer.created_at: YEAR_1,
        }
    ).where(Offer.id == offers["public"])
    await Offer.update(
        {
            Offer.valid_from: LAST - timedelta(days=1),
            Offer.valid_to: INFINITY,
            Offer.stock_left: 0,
            Offer.status: "submitted",
            Offer.member_price_fen: 0,
            Offer.list_price_fen: 0,
            Offer.subsidy_fen: 0,
        }
    ).where(Offer.id == offers["women"])
    await Offer.update(
        {
            Offer.valid_from: YEAR_1,
            Offer.valid_to: YEAR_1 + timedelta(days=1),
            Offer.stock_left: 0,
        }
    ).where(Offer.id == offers["haidian_only"])
    member_id = world.members["chaoyang"][0]
    ids = {}
    for key, offer, expires in [("last", offers["public"], LAST), ("first", offers["haidian_only"], YEAR_1)]:
        ids[key] = (
            await Voucher.insert(
                Voucher(
                    code=codes.new_code(),
                    offer=offer,
                    member=member_id,
                    provider=world.providers["chaoyang"]["id"],
                    status="issued",
                    period_start=YEAR_1,
                    claimed_at=YEAR_1,
                    expires_at=expires,
                    subsidy_fen=INT4,
                    paid_fen=INT4,
                    points_spent=INT4,
                )
            ).returning(Voucher.id)
        )[0]["id"]
    return ids


async def _member_login(client, world):
    from tests.factories import PASSWORD

    client.cookies.clear()
    await client.get("/login")
    response = await client.post(
        "/login",
        data={
            "username": world.members["chaoyang"][1],
            "password": PASSWORD,
            "_csrf_token": client.cookies.get("csrftoken"),
        },
    )
    assert response.status_code in (302, 303), response.text


async def _pages_answer(client, paths):
    failures = {}
    for path in paths:
        response = await client.get(path, headers=HTML)
        if response.status_code >= 500:
            failures[path] = response.status_code
    assert not failures, failures


async def test_member_pages_render_extreme_rows(client, world):
    vouchers = await _extreme_rows(world)
    await _member_login(client, world)
    offers = world.offers
    await _pages_answer(
        client,
        [
            "/",
            "/search",
            "/search?q=健身",
            f"/offers/{offers['public']}",
            f"/offers/{offers['women']}",
            f"/offers/{offers['haidian_only']}",
            "/vouchers",
            "/vouchers?tab=used",
            "/vouchers?tab=expired",
            f"/vouchers/{vouchers['last']}",
            f"/vouchers/{vouchers['first']}",
            "/me",
            "/points",
            f"/providers/{world.providers['chaoyang']['id']}",
        ],
    )
    page = await client.get(f"/offers/{offers['public']}", headers=HTML)
    assert page.status_code == 200 and "9999-12-31" in page.text


async def test_provider_pages_render_extreme_rows(client, world):
    await _extreme_rows(world)
    await _web_login(client, "provider", world.providers["chaoyang"]["owner"])
    offers = world.offers
    await _pages_answer(
        client,
        [
            "/provider/",
            "/provider/offers",
            *(f"/provider/offers/{offer}" for offer in offers.values()),
            "/provider/counter",
            "/provider/settlements",
            "/provider/scorecard",
            "/provider/standing",
            "/provider/complaints",
        ],
    )
    page = await client.get(f"/provider/offers/{offers['public']}", headers=HTML)
    assert page.status_code == 200 and 'value="9999-12-31"' in page.text


async def test_console_pages_render_extreme_rows(client, world):
    await _extreme_rows(world)
    await _web_login(client, "console", world.operators["beijing"])
    offers = world.offers
    await _pages_answer(
        client,
        [
            "/console/",
            "/console/listings",
            *(f"/console/listings/{offer}" for offer in offers.values()),
            f"/console/providers/{world.providers['chaoyang']['id']}",
            "/console/providers",
            "/console/reports",
            f"/console/members/{world.members['chaoyang'][0]}",
        ],
    )


async def test_api_answers_extreme_rows(client, world):
    from tests.catalog.builders import operator, owner
    from tests.test_errors import bearer

    vouchers = await _extreme_rows(world)
    member = await bearer(client, "member", world.members["chaoyang"][1])
    for headers, paths in [
        (member, ["/api/v1/search", "/api/v1/vouchers", f"/api/v1/vouchers/{vouchers['last']}"]),
        (await owner(client, world), ["/api/v1/provider/offers/", f"/api/v1/provider/offers/{world.offers['public']}"]),
        (
            await operator(client, world),
            ["/api/v1/console/listings/", f"/api/v1/console/listings/{world.offers['women']}"],
        ),
    ]:
        for path in paths:
            response = await client.get(path, headers=headers)
            assert response.status_code < 500, (path, response.text)


@pytest.mark.unit
def test_dates_stop_at_the_calendar_ends_instead_of_overflowing():
    from marketplace.core import dates

    assert dates.last_day_text(LAST) == "9999-12-31"
    assert dates.end_of_last_day(LAST).year == 9999
    assert dates.last_day_text(datetime.max) == "9999-12-31"  # PostgreSQL's infinity, naive
    assert dates.day_text(datetime.min) == "0001-01-01"  # -infinity
    assert dates.last_day_text(YEAR_1) == "0001-01-01"
    assert dates.day_with_weekday(LAST)
    assert dates.time_range(YEAR_1, LAST)
    assert dates.timestamp(INFINITY) > dates.timestamp(YEAR_1)
