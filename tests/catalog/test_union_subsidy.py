"""The union subsidy of an offer belongs to the union while one of its campaigns pays it:
the provider's form shows it read-only with the campaign named, and the catalog refuses a
changed amount (page or API); elsewhere the provider sets it."""

from datetime import timedelta

import pytest

from marketplace.campaigns import services as campaigns
from marketplace.campaigns.schemas import CampaignCreate
from tests.catalog.builders import offer_body, owner
from tests.console.helpers import HTML, web_login
from tests.factories import now
from tests.settlements.helpers import operator_principal
from tests.test_errors import assert_problem

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("clean_state")]

OFFERS = "/api/v1/provider/offers/"


async def _campaign(world, *, offer_ids=(), category_ids=(), status_after: str | None = None) -> int:
    operator = await operator_principal(world, "chaoyang")
    campaign = await campaigns.create_campaign(
        operator,
        CampaignCreate(
            node_id=world.nodes["chaoyang"],
            name_zh="冬季健身补贴",
            name_en="Winter fitness",
            starts_at=now() - timedelta(days=1),
            ends_at=now() + timedelta(days=30),
            budget_fen=100000,
            per_member_cap_fen=3000,
            groups=[],
            offer_ids=list(offer_ids),
            category_ids=list(category_ids),
        ),
    )
    if status_after:
        await campaigns.set_status(operator, campaign.id, status_after)
    return campaign.id


async def test_a_campaign_makes_the_subsidy_the_unions(client, world):
    headers = await owner(client, world)
    offer = (await client.post(OFFERS, json=offer_body(world), headers=headers)).json()
    await web_login(client, "provider", world.providers["chaoyang"]["owner"])
    free = await client.get(f"/provider/offers/{offer['id']}", headers=HTML)
    field = free.text.split('id="subsidy_fen"')[1].split(">")[0]
    assert 'value="50"' in field and "readonly" not in field, field
    assert "冬季健身补贴" not in free.text

    await _campaign(world, offer_ids=[offer["id"]])
    form = await client.get(f"/provider/offers/{offer['id']}", headers=HTML)
    field = form.text.split('id="subsidy_fen"')[1].split(">")[0]
    assert "readonly" in field and "冬季健身补贴" in form.text and "只有工会" in form.text

    headers = await owner(client, world)
    changed = await client.put(f"{OFFERS}{offer['id']}", headers=headers, json=offer_body(world, subsidy_fen=9000))
    body = assert_problem(changed, 422, "subsidy_set_by_union")
    assert body["errors"][0]["field"] == "subsidy_fen"
    same = await client.put(
        f"{OFFERS}{offer['id']}", headers=headers, json=offer_body(world, title_zh="私教体验课(新)")
    )
    assert same.status_code == 200 and same.json()["subsidy_fen"] == 5000


async def test_a_campaign_of_the_category_counts_and_an_ended_one_does_not(client, world):
    headers = await owner(client, world)
    offer = (await client.post(OFFERS, json=offer_body(world), headers=headers)).json()
    campaign_id = await _campaign(world, category_ids=[offer["category_id"]])
    refused = await client.put(f"{OFFERS}{offer['id']}", headers=headers, json=offer_body(world, subsidy_fen=0))
    assert_problem(refused, 422, "subsidy_set_by_union")
    await campaigns.set_status(await operator_principal(world, "chaoyang"), campaign_id, "end")
    allowed = await client.put(f"{OFFERS}{offer['id']}", headers=headers, json=offer_body(world, subsidy_fen=0))
    assert allowed.status_code == 200 and allowed.json()["subsidy_fen"] == 0


@pytest.mark.unit
def test_the_form_shows_whole_yuan_with_their_zeros():
    """300 yuan was shown as "3" (trailing zeros stripped from a whole number) and saved so."""
    from catalog.listing_pages import _yuan_text

    assert [_yuan_text(fen) for fen in (0, 5000, 30000, 19950, 19905, 1)] == [
        "0",
        "50",
        "300",
        "199.5",
        "199.05",
        "0.01",
    ]
