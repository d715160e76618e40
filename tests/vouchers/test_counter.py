"""The counter's rules: a second use is loud (when, where, by whom), staff land on the
counter, today's redemptions are listed, prepaid and points vouchers say so."""

import re

import pytest

from catalog.tables import Offer
from marketplace.core.errors import Conflict
from marketplace.core.federation import services as federation
from marketplace.vouchers import codes, services
from marketplace.vouchers.tables import Voucher
from providers import services as providers
from tests.providers.test_pages import HTML, _login, _post
from tests.vouchers.test_claims import many_members, staff_principal

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("clean_state")]


async def _voucher(world, member: str = "chaoyang") -> str:
    principal = await federation.member_principal(world.members[member][0])
    return (await services.claim(principal, world.offers["public"])).code


async def test_a_new_code_has_only_digits_and_capitals(world):
    code = await _voucher(world)
    assert re.fullmatch("[0-9A-HJKMNP-TV-Z]{14}", code)


async def test_a_second_redemption_names_the_first_time_place_and_staff(world):
    code = await _voucher(world)
    staff = await staff_principal(world)
    location = (await providers.list_locations(staff.provider_id))[0]
    await services.redeem(staff, code, location["id"])
    owner = await staff_principal(world, role="owner")
    with pytest.raises(Conflict) as refused:
        await services.redeem(owner, codes.display(code).lower())
    error = refused.value
    assert error.code == "already_redeemed" and error.field == "code"
    assert error.extra["location"] == location["name"]
    assert error.extra["staff"] == staff.display_name
    assert error.extra["redeemed_at"] is not None
    # Checking the code shows the same facts.
    checked = await services.inspect(owner, code)
    assert checked.status == "redeemed"
    assert (checked.redeemed_location, checked.redeemed_by) == (location["name"], staff.display_name)


async def test_an_old_code_with_a_symbol_is_still_redeemed(world):
    code = await _voucher(world)
    value = next(v for v in range(37, 10_000) if v % 37 == 34)  # an old draw whose check symbol is "$"
    old = codes._encode(value) + codes.CHECK_ALPHABET[value % 37]
    assert old.endswith("$")
    await Voucher.update({Voucher.code: old}).where(Voucher.code == code)
    staff = await staff_principal(world)
    redeemed = await services.redeem(staff, codes.display(old))
    assert redeemed.status == "redeemed"


async def test_today_lists_this_providers_redemptions_newest_first(world):
    (extra,) = await many_members(world, 1)
    first, other = await _voucher(world), await _voucher(world, "haidian")
    second = (await services.claim(extra, world.offers["public"])).code
    staff = await staff_principal(world)
    assert await services.todays_redemptions(staff) == []
    await services.redeem(staff, first)
    await services.redeem(staff, second)
    today = await services.todays_redemptions(staff)
    assert [v.code_display for v in today] == [codes.display(second), codes.display(first)]
    assert all(v.redeemed_by == staff.display_name for v in today)
    assert codes.display(other) not in {v.code_display for v in today}


async def test_prepaid_and_points_vouchers_say_so(world):
    code = await _voucher(world)
    await Voucher.update({Voucher.paid_fen: 6900}).where(Voucher.code == code)
    await Offer.update({Offer.kind: "paid"}).where(Offer.id == world.offers["public"])
    staff = await staff_principal(world)
    checked = await services.inspect(staff, code)
    assert (checked.kind, checked.paid_fen) == ("paid", 6900)


async def test_staff_land_on_the_counter_and_a_used_code_shows_the_red_banner(client, world):
    code = await _voucher(world)
    await _login(client, "provider", world.providers["chaoyang"]["staff"])
    landing = await client.get("/provider/", headers=HTML)
    assert landing.status_code in (302, 303) and landing.headers["location"] == "/provider/counter"
    page = await client.get("/provider/counter", headers=HTML)
    assert 'data-testid="today-empty"' in page.text and "/static/vendor/jsqr/jsQR.js" in page.text
    await _post(client, "/provider/counter/redeem", {"code": code})
    page = await client.get("/provider/counter", headers=HTML)
    assert page.text.count('data-testid="today-row"') == 1
    again = await _post(client, "/provider/counter/redeem", {"code": code})
    assert again.status_code == 409
    assert 'data-testid="counter-second-use"' in again.text and "首次核销" in again.text
    checked = await _post(client, "/provider/counter/check", {"code": code})
    assert checked.status_code == 200 and 'data-testid="counter-second-use"' in checked.text
    typo = await _post(client, "/provider/counter/check", {"code": code[:-1] + ("0" if code[-1] != "0" else "1")})
    assert typo.status_code == 422 and "请核对" in typo.text


async def test_the_owner_still_lands_on_the_overview(client, world):
    await _login(client, "provider", world.providers["chaoyang"]["owner"])
    assert (await client.get("/provider/", headers=HTML)).status_code == 200
