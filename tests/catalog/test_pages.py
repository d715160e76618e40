"""Portal and console pages of listings, through the web forms (CSRF and cookies)."""

import re

import pytest

from tests.catalog.builders import count, offer_body, operator, owner
from tests.factories import PASSWORD

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("clean_state")]

HTML = {"accept": "text/html"}
OFFERS = "/api/v1/provider/offers/"


async def _web_login(client, area: str, username: str) -> None:
    client.cookies.clear()
    await client.get(f"/{area}/login")
    response = await client.post(
        f"/{area}/login",
        data={"username": username, "password": PASSWORD, "_csrf_token": client.cookies.get("csrftoken")},
    )
    assert response.status_code in (302, 303), response.text


def _form(world, **changes) -> dict:
    form = {
        "kind": "paid",
        "category_id": "1",
        "title_zh": "羽毛球场地券",
        "description_zh": "工作日白天可用",
        "list_price_fen": "80",
        "member_price_fen": "49.5",
        "subsidy_fen": "10",
        "stock_total": "30",
        "per_member_limit": "2",
        "limit_period": "week",
        "valid_from": "2026-11-01",
        "valid_to": "2027-12-31",
        "node_scope_id": str(world.nodes["chaoyang"]),
        "tags": "羽毛球, 运动",
        "terms_zh": "",
    }
    form.update(changes)
    return form


async def test_owner_creates_a_draft_through_the_form(client, world):
    await _web_login(client, "provider", world.providers["chaoyang"]["owner"])
    page = await client.get("/provider/offers/new", headers=HTML)
    assert page.status_code == 200 and 'name="title_zh"' in page.text
    response = await client.post(
        "/provider/offers/new", headers=HTML, data={**_form(world), "_csrf_token": client.cookies.get("csrftoken")}
    )
    assert response.status_code in (302, 303), response.text
    detail = await client.get(response.headers["location"], headers=HTML)
    assert "羽毛球场地券" in detail.text and 'value="49.5"' in detail.text and "羽毛球 运动" in detail.text
    assert 'data-testid="offer-done"' in detail.text and "已保存" in detail.text


async def test_save_and_submit_with_a_picture_and_weekly_slots_in_one_step(client, world):
    import io

    from PIL import Image

    from catalog.tables import Offer, OfferSlot

    await _web_login(client, "provider", world.providers["chaoyang"]["owner"])
    await client.get("/provider/offers/new", headers=HTML)
    picture = io.BytesIO()
    Image.new("RGB", (640, 480), (200, 80, 40)).save(picture, "PNG")
    form = {
        **_form(world, kind="slot"),
        "slot_date": ["2027-01-04", ""],
        "slot_start": ["18:00", ""],
        "slot_end": ["19:30", ""],
        "slot_capacity": ["12", ""],
        "slot_weeks": ["4", "1"],
        "then": "submit",
        "_csrf_token": client.cookies.get("csrftoken"),
    }
    response = await client.post(
        "/provider/offers/new", headers=HTML, data=form, files={"image": ("cover.png", picture.getvalue(), "image/png")}
    )
    assert response.status_code in (302, 303), response.text
    assert response.headers["location"].endswith("?done=submitted")
    offer = (
        await Offer.select(Offer.id, Offer.status, Offer.cover_image).where(Offer.title_zh == "羽毛球场地券").first()
    )
    assert offer["status"] == "submitted" and offer["cover_image"]
    slots = (
        await OfferSlot.select(OfferSlot.starts_at, OfferSlot.capacity)
        .where(OfferSlot.offer == offer["id"])
        .order_by(OfferSlot.starts_at)
    )
    assert [(s["starts_at"].date().isoformat(), s["capacity"]) for s in slots] == [
        ("2027-01-04", 12),
        ("2027-01-11", 12),
        ("2027-01-18", 12),
        ("2027-01-25", 12),
    ]
    page = await client.get(response.headers["location"], headers=HTML)
    assert "已保存并提交审核" in page.text and 'data-testid="offer-picture"' in page.text


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"member_price_fen": "99"}, "member_price_fen"),
        ({"list_price_fen": "abc"}, "list_price_fen"),
        ({"list_price_fen": "1.001"}, "list_price_fen"),
        ({"stock_total": "-1"}, "stock_total"),
        ({"valid_to": "2026-10-01"}, "valid_from"),
        ({"valid_from": "someday"}, "valid_from"),
        (
            {
                "kind": "slot",
                "slot_date": "tomorrow",
                "slot_start": "10:00",
                "slot_end": "11:00",
                "slot_capacity": "5",
                "slot_weeks": "1",
            },
            "slots",
        ),
        (
            {
                "kind": "slot",
                "slot_date": ["2026-12-01", "2026-12-01"],
                "slot_start": ["10:00", "10:00"],
                "slot_end": ["11:00", "12:00"],
                "slot_capacity": ["5", "5"],
                "slot_weeks": ["1", "1"],
            },
            "slots",
        ),
        (
            {
                "kind": "slot",
                "slot_date": "2026-12-01",
                "slot_start": "10:00",
                "slot_end": "11:00",
                "slot_capacity": "5",
                "slot_weeks": "99",
            },
            "slots",
        ),
        ({"title_zh": "长" * 101}, "title_zh"),
        ({"category_id": "99999999999"}, "category_id"),
    ],
)
async def test_a_bad_form_comes_back_with_the_field_marked(client, world, changes, field):
    await _web_login(client, "provider", world.providers["chaoyang"]["owner"])
    await client.get("/provider/offers/new", headers=HTML)
    before = await count("offer")
    response = await client.post(
        "/provider/offers/new",
        headers=HTML,
        data={**_form(world, **changes), "_csrf_token": client.cookies.get("csrftoken")},
    )
    assert 400 <= response.status_code < 500, response.text
    assert 'data-testid="form-error"' in response.text
    # The alert above the form names the field by its label (listing_pages.FIELD_LABELS), in Chinese.
    from catalog.listing_pages import FIELD_LABELS
    from marketplace.core.web import i18n

    alert = response.text.split('data-testid="form-error"')[1].split("</div>")[0]
    label = i18n.translations("zh_Hans").gettext(FIELD_LABELS[field])
    assert "请检查" in alert and label in alert.replace("&#39;", "'").replace("&amp;", "&"), (alert, label)
    anchor = 'id="slot-rows"' if field == "slots" else f'id="{field}"'
    assert anchor in response.text
    marked = response.text.split(anchor, 1)[1].split(">", 1)[0]
    assert 'aria-invalid="true"' in marked, marked
    # The message sits at the field, in Chinese, without the internal field name.
    assert f'id="{field}-error"' in response.text
    message = response.text.split(f'id="{field}-error"', 1)[1].split("</p>", 1)[0]
    assert re.search("[\u4e00-\u9fff]", message) and field not in message and "_fen" not in message, message
    assert await count("offer") == before


async def test_staff_see_offers_but_no_forms(client, world):
    await _web_login(client, "provider", world.providers["chaoyang"]["staff"])
    page = await client.get("/provider/offers", headers=HTML)
    assert page.status_code == 200 and 'data-testid="offer-row"' in page.text
    assert 'data-testid="new-offer"' not in page.text
    assert (await client.get("/provider/offers/new", headers=HTML)).status_code == 403
    response = await client.post(
        "/provider/offers/new", headers=HTML, data={**_form(world), "_csrf_token": client.cookies.get("csrftoken")}
    )
    assert response.status_code == 403


async def test_console_shows_the_revision_diff_and_the_provider_sees_the_rejection(client, world):
    headers = await owner(client, world)
    offer = (await client.post(OFFERS, json=offer_body(world), headers=headers)).json()
    await client.post(f"{OFFERS}{offer['id']}/submit", headers=headers)
    await client.post(f"/api/v1/console/listings/{offer['id']}/approve", headers=await operator(client, world))
    await client.put(f"{OFFERS}{offer['id']}", headers=headers, json=offer_body(world, title_zh="私教体验课·新"))

    await _web_login(client, "console", world.operators["chaoyang"])
    queue = await client.get("/console/listings", headers=HTML)
    assert "私教体验课·新" in queue.text
    detail = await client.get(f"/console/listings/{offer['id']}", headers=HTML)
    assert 'data-testid="revision-diff"' in detail.text
    assert "私教体验课·新" in detail.text.split('data-testid="revision-diff"')[1]
    response = await client.post(
        f"/console/listings/{offer['id']}/reject",
        headers=HTML,
        data={"reason": "标题含特殊符号", "_csrf_token": client.cookies.get("csrftoken")},
    )
    assert response.status_code in (302, 303)

    await _web_login(client, "provider", world.providers["chaoyang"]["owner"])
    page = await client.get(f"/provider/offers/{offer['id']}", headers=HTML)
    assert "标题含特殊符号" in page.text and "私教体验课" in page.text


async def test_operator_of_another_city_cannot_open_the_review(client, world):
    headers = await owner(client, world)
    offer = (await client.post(OFFERS, json=offer_body(world), headers=headers)).json()
    await client.post(f"{OFFERS}{offer['id']}/submit", headers=headers)
    await _web_login(client, "console", world.operators["shijiazhuang"])
    assert (await client.get(f"/console/listings/{offer['id']}", headers=HTML)).status_code == 404
    response = await client.post(
        f"/console/listings/{offer['id']}/approve", headers=HTML, data={"_csrf_token": client.cookies.get("csrftoken")}
    )
    assert response.status_code == 404
