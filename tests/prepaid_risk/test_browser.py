"""Prepaid Guard in a real browser at 1440x900: the policy form's prepaid caps (a refusal at
its field), the console's providers with prepaid sales stopped (an operator's flag and a lease
signal, lifting one after a confirmation), and the provider's own view of the freeze.
Screenshots in tests/artifacts/screenshots/."""

from datetime import timedelta

import pytest
from playwright.async_api import expect

from evaluation.enforcement import freeze
from providers import services as providers
from tests.browser.conftest import _context, _watch
from tests.browser.test_login import sign_in
from tests.factories import PASSWORD, now
from tests.points.test_ledger import operator
from tests.settlements.helpers import provider_principal

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("clean_state")]
CONSOLE = {"viewport": {"width": 1440, "height": 900}}


async def test_the_policy_form_and_the_frozen_providers_page(browser, live_server, world, shots):
    provider = world.providers["chaoyang"]["id"]
    context = await _context(browser, live_server, CONSOLE)
    console = await context.new_page()
    _watch(console)
    try:
        await console.goto("/console/login")
        await sign_in(console, world.operators["chaoyang"], PASSWORD)
        await console.goto("/console/policy")
        await expect(console.locator("[data-testid=policy-prepaid]")).to_be_visible()
        await expect(console.locator("#f-prepaid\\.membership_max_fen")).to_have_value("5000")
        await shots.take(console, "policy-form")
        await console.fill("#f-prepaid\\.cooling_off_days", "一周")
        async with console.expect_navigation():
            await console.click("[data-testid=policy-check]")
        await expect(console.locator("#f-prepaid\\.cooling_off_days ~ [data-testid=field-error]")).to_contain_text(
            "0 到 90"
        )
        await console.locator("[data-testid=policy-prepaid]").scroll_into_view_if_needed()
        await shots.take(console, "policy-refused")

        await freeze.flag(await operator(world, "chaoyang"), provider, "门店将于下月搬迁，新址未定，请暂停预付销售")
        await providers.set_lease_end(await provider_principal(world), (now() + timedelta(days=40)).date())
        await freeze.evaluate_provider(provider)
        await console.goto("/console/prepaid-freezes")
        await expect(console.locator("[data-testid=freeze-row]")).to_have_count(2)
        await shots.take(console, "frozen-providers")
        await console.locator("[data-testid=lift-form] input[name=note]").first.fill("已核实新址，租约已签三年")
        async with console.expect_navigation():
            await console.locator("[data-testid=lift]").first.click()
        await expect(console.locator("[data-testid=confirm]")).to_contain_text("确定解除")
        await shots.take(console, "lift-confirm")
        async with console.expect_navigation():
            await console.click("[data-testid=confirm-yes]")
        await expect(console.locator("[data-testid=freeze-done]")).to_be_visible()
        await expect(console.locator("[data-testid=freeze-row]")).to_have_count(1)
        await shots.take(console, "lifted")
        assert not getattr(console, "problems", []), console

        await console.goto("/provider/login")
        await sign_in(console, world.providers["chaoyang"]["owner"], PASSWORD)
        await console.goto("/provider/standing#prepaid")
        await expect(console.locator("[data-testid=prepaid-frozen]")).to_have_text("已暂停")
        await shots.take(console, "provider-standing")
    finally:
        await context.close()
