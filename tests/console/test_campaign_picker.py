"""Campaigns and draws pick offers by search (catalog's one picker route): title or provider,
within what the operator's members can see."""

import pytest

from tests.console.helpers import HTML, web_login

pytestmark = [pytest.mark.integration]


async def test_offer_picker_finds_offers_by_title_or_provider(client, world):
    await web_login(client, "console", world.operators["chaoyang"])
    page = await client.get("/console/campaigns", headers=HTML)
    assert 'data-testid="offer-q"' in page.text and 'id="offer_ids" name="offer_ids"' not in page.text
    found = await client.get("/console/offers/picker?offer_q=月卡", headers=HTML)
    assert found.status_code == 200
    # Beijing-wide offers reach Chaoyang's members; the Haidian-only one does not.
    assert "健身月卡public" in found.text and "健身月卡women" in found.text and "健身月卡haidian_only" not in found.text
    assert f'value="{world.offers["public"]}"' in found.text and "checked" not in found.text
    by_provider = await client.get("/console/offers/picker?offer_q=力美健", headers=HTML)
    assert by_provider.text.count('data-testid="offer-choice"') == 2
    none = await client.get("/console/offers/picker?offer_q=潜水", headers=HTML)
    assert 'data-testid="offer-none"' in none.text
    await web_login(client, "console", world.operators["hebei"])
    assert "健身月卡" not in (await client.get("/console/offers/picker?offer_q=月卡", headers=HTML)).text


async def test_one_picker_route_serves_tick_boxes_and_radio_buttons(client, world):
    """Catalog's one picker: `?pick=many` (a campaign's offers) ticks, `?pick=one` (a draw's offer) chooses one."""
    await web_login(client, "console", world.operators["chaoyang"])
    many = await client.get("/console/offers/picker?pick=many&offer_q=力美健", headers=HTML)
    one = await client.get("/console/offers/picker?pick=one&offer_q=力美健", headers=HTML)
    assert many.text.count('type="checkbox" name="offer_ids"') == 2 and 'type="radio"' not in many.text
    assert one.text.count('type="radio" name="offer_id"') == 2 and 'type="checkbox"' not in one.text
    # The forms ask the shared route; the old per-form routes are gone.
    assert 'hx-get="/console/offers/picker?pick=many"' in (await client.get("/console/campaigns", headers=HTML)).text
    assert 'hx-get="/console/offers/picker?pick=one"' in (await client.get("/console/draws", headers=HTML)).text
    for gone in ("/console/campaigns/offer-picker", "/console/draws/offer-picker"):
        assert (await client.get(f"{gone}?offer_q=力美健", headers=HTML)).status_code in (404, 405)
