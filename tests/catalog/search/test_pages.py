"""The member pages that find offers: home, search with facets and more results, offer
detail with distances, provider page; eligibility holds on every page."""

import pytest

from tests.catalog.search.builders import ZHONGGUANCUN

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("clean_state")]


async def test_home_shows_categories_near_me_and_featured_offers(client, world, offers):
    response = await client.get("/")
    assert response.status_code == 200
    html = response.text
    assert 'data-testid="category-tile"' in html and "体检" in html
    assert 'data-testid="near-me"' in html and "海淀区" in html
    assert "瑜伽体验课" in html and "健身月卡women" not in html


async def test_search_page_renders_hits_facets_and_more(client, world, offers):
    response = await client.get("/search", params={"q": "健身", "page_size": "1"})
    assert response.status_code == 200
    html = response.text
    assert 'data-testid="offer-card"' in html and "<mark>" in html
    assert 'data-testid="facets"' in html and 'data-testid="search-more"' in html
    more = await client.get(
        "/search", params={"q": "健身", "page_size": "1", "page": "2"}, headers={"hx-request": "true"}
    )
    assert more.status_code == 200 and "<html" not in more.text and 'data-testid="offer-card"' in more.text


async def test_search_page_names_a_bad_parameter_and_escapes_the_query(client, world, offers):
    response = await client.get("/search", params={"q": "<script>x</script>", "page": "0"})
    assert response.status_code == 422
    assert "page" in response.text and "<script>x</script>" not in response.text
    nothing = await client.get("/search", params={"q": "<b>潜水</b>"})
    assert nothing.status_code == 200 and 'data-testid="search-empty"' in nothing.text
    assert "<b>潜水</b>" not in nothing.text


async def test_offer_page_shows_distance_terms_and_stock_and_404s_when_out_of_reach(client, world, offers):
    lat, lng = ZHONGGUANCUN
    response = await client.get(f"/offers/{offers['checkup']}", params={"lat": lat, "lng": lng})
    assert response.status_code == 200
    html = response.text
    assert "入职体检套餐" in html and 'data-testid="location-distance"' in html and "0.0" in html
    assert 'data-testid="stock-left"' in html and 'data-testid="rating"' in html
    # Anonymous visitors cannot open a group offer or a district-scoped one, nor a draft.
    for key in ("women", "haidian_only", "draft"):
        assert (await client.get(f"/offers/{offers[key]}")).status_code == 404
    assert (await client.get("/offers/99999999999")).status_code in (400, 404, 422)


async def test_provider_page_lists_its_visible_offers(client, world, offers):
    response = await client.get(f"/providers/{world.providers['haidian']['id']}")
    assert response.status_code == 200
    assert "入职体检套餐" in response.text and 'data-testid="provider-page"' in response.text
    assert (await client.get("/providers/424242")).status_code == 404


async def test_pages_in_english(client, world, offers):
    response = await client.get("/search", params={"q": "yoga"}, headers={"cookie": "lang=en"})
    assert response.status_code == 200
    assert "Yoga trial class" in response.text or "<mark>Yoga</mark>" in response.text
    assert "Best match" in response.text
