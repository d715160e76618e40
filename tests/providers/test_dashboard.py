"""The owner's overview: today's redemptions, this month's running settlement, complaints
to answer (with a badge in the menu), rating and standing, alerts and the first steps."""

import pytest

from catalog.tables import Offer
from evaluation.ratings import services as ratings
from evaluation.schemas import ComplaintInput
from marketplace.core.federation import services as federation
from marketplace.core.jobs import topics
from marketplace.vouchers import services as vouchers
from marketplace.vouchers.tables import Voucher
from tests.evaluation.test_quality_loop import events
from tests.providers.test_pages import HTML, _login
from tests.vouchers.test_claims import staff_principal

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("clean_state")]


async def test_the_overview_counts_today_the_month_and_complaints(client, world):
    member = await federation.member_principal(world.members["chaoyang"][0])
    voucher = await vouchers.claim(member, world.offers["public"])
    await Voucher.update({Voucher.subsidy_fen: 1000, Voucher.paid_fen: 6900}).where(Voucher.id == voucher.id)
    await vouchers.redeem(await staff_principal(world), voucher.code)
    for _, payload in await events("voucher.redeemed"):  # evaluation's record of it
        await ratings.record_redemption(topics.VoucherRedeemed.read(payload))
    activity = await vouchers.provider_activity(world.providers["chaoyang"]["id"])
    assert activity == {"today_n": 1, "month_n": 1, "subsidy_fen": 1000, "paid_fen": 6900, "total_fen": 7900}
    await vouchers.complain(member, voucher.id, ComplaintInput(category="poor_service", text="等了很久没人接待"))
    await Offer.update({Offer.stock_left: 2}).where(Offer.id == world.offers["public"])

    await _login(client, "provider", world.providers["chaoyang"]["owner"])
    page = (await client.get("/provider/", headers=HTML)).text
    assert 'data-testid="today-redemptions">1<' in page
    assert "¥79" in page and "工会补贴 ¥10 + 会员支付 ¥69" in page
    assert 'data-testid="open-complaints">1<' in page
    assert 'data-testid="nav-badge-complaints"' in page  # the menu shows new complaints
    assert 'data-testid="alert-stock"' in page
    other = (await client.get("/provider/offers", headers=HTML)).text
    assert 'data-testid="nav-badge-complaints"' in other


async def test_a_new_owner_sees_the_first_steps(client, world):
    await _login(client, "provider", world.providers["chaoyang"]["owner"])
    page = (await client.get("/provider/", headers=HTML)).text
    assert 'data-testid="onboarding"' in page and "发布第一个优惠" in page
    assert 'data-testid="checklist-picture"' in page


async def test_the_complaint_names_the_offer_the_masked_code_and_the_visit_day(client, world):
    from marketplace.vouchers import codes

    member = await federation.member_principal(world.members["chaoyang"][0])
    voucher = await vouchers.claim(member, world.offers["public"])
    await vouchers.redeem(await staff_principal(world), voucher.code)
    for _, payload in await events("voucher.redeemed"):
        await ratings.record_redemption(topics.VoucherRedeemed.read(payload))
    await vouchers.complain(member, voucher.id, ComplaintInput(category="poor_service", text="等了很久没人接待"))
    masked = codes.masked(voucher.code)
    assert masked[:4] == voucher.code[:4] and masked[-2:] == voucher.code[-2:] and "****-****" in masked
    await _login(client, "provider", world.providers["chaoyang"]["owner"])
    page = (await client.get("/provider/complaints", headers=HTML)).text
    line = page.split('data-testid="complaint-voucher"', 1)[1].split("</p>", 1)[0]
    assert "健身月卡public" in line and masked in line and "到店日期 20" in line
    assert voucher.code not in page and codes.display(voucher.code) not in page
