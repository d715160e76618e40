"""Finding and choosing, below the browser: public reviews and the owner's one reply,
favourites, the near-me fallback, map links, my data, and the member pages in Chinese
without English words or msgids that mean two things."""

import re
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser

import pytest

from catalog.search.pages import map_links
from catalog.tables import Offer
from evaluation.ratings import reviews, services as ratings
from evaluation.schemas import RatingInput
from marketplace.core.errors import Conflict, Forbidden, Invalid, NotFound
from marketplace.core.identity.principal import Principal
from marketplace.core.jobs import topics
from marketplace.core.web import config, i18n
from marketplace.favourites import services as favourites
from tests.factories import PASSWORD
from tests.journeys import builders
from tests.providers.test_pages import HTML, _login, _post

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("clean_state")]


def member(world, key="chaoyang", name="王小芳") -> Principal:
    return Principal(
        kind="member",
        id=world.members[key][0],
        display_name=name,
        member_status="active",
        node_id=world.nodes["cy_union" if key == "chaoyang" else "hd_union"],
    )


def owner(world, role="owner") -> Principal:
    return Principal(
        kind="provider",
        id=1 if role == "owner" else 2,
        display_name="店主",
        provider_id=world.providers["chaoyang"]["id"],
        role=role,
    )


async def rated(
    world, offer_id: int, key: str, name: str, voucher_id: int, overall: int, comment: str, days_ago: int = 3
) -> None:
    category = (await Offer.select(Offer.category).where(Offer.id == offer_id).first())["category"]
    await ratings.record_redemption(
        topics.VoucherRedeemed(
            voucher_id=voucher_id,
            provider_id=world.providers["chaoyang"]["id"],
            offer_id=offer_id,
            category_id=category,
            member_id=world.members[key][0],
            redeemed_at=datetime.now(UTC) - timedelta(days=days_ago),
        )
    )
    await ratings.rate(member(world, key, name), voucher_id, RatingInput(overall=overall, comment=comment))


async def test_public_reviews_average_count_masked_names_and_one_reply(world):
    offer_id = await builders.offer(world, "voucher", "游泳体验券", list_fen=8800)
    assert await reviews.for_offer(offer_id) == {"count": 0, "average": None, "stars": 0, "recent": []}
    await rated(world, offer_id, "chaoyang", "王小芳", 1, 5, "很好")
    await rated(world, offer_id, "haidian", "李建国", 2, 4, "不错，就是人多")
    summary = await reviews.for_offer(offer_id)
    assert (summary["count"], summary["average"]) == (2, 4.5)
    assert [r["member"] for r in summary["recent"]] == ["李*国", "王*芳"]  # newest first, masked

    with pytest.raises(Forbidden):
        await reviews.provider_reviews(owner(world, "staff"))
    listed = await reviews.provider_reviews(owner(world))
    assert (listed["total"], listed["unanswered"]) == (2, 2)
    target = listed["reviews"][0]["id"]
    with pytest.raises(Invalid) as short:
        await reviews.reply(owner(world), target, " 好 ")
    assert short.value.field == "reply"
    await reviews.reply(owner(world), target, "谢谢，周末建议预约")
    with pytest.raises(Conflict):
        await reviews.reply(owner(world), target, "再回复一次")  # once
    assert (await reviews.provider_reviews(owner(world), unanswered=True))["total"] == 2
    assert (await reviews.provider_reviews(owner(world), unanswered=True))["unanswered"] == 1
    other = Principal(
        kind="provider", id=9, display_name="别家", provider_id=world.providers["haidian"]["id"], role="owner"
    )
    with pytest.raises(NotFound):
        await reviews.reply(other, listed["reviews"][1]["id"], "不是我家的评价")
    shown = (await reviews.for_provider(world.providers["chaoyang"]["id"]))["recent"][0]
    assert shown["reply"] == "谢谢，周末建议预约"


async def test_favourites_keep_once_and_refuse_what_the_member_cannot_see(world):
    offer_id = await builders.offer(world, "voucher", "游泳体验券", list_fen=8800)
    me = member(world)
    assert await favourites.set_kept(me, "offer", offer_id, True)
    assert await favourites.set_kept(me, "offer", offer_id, True)  # twice is once
    assert await favourites.counts(me) == {"offers": 1, "providers": 0}
    with pytest.raises(NotFound):
        await favourites.set_kept(me, "offer", world.offers["haidian_only"], True)
    with pytest.raises(Forbidden):
        await favourites.counts(owner(world))
    assert not await favourites.toggle(me, "offer", offer_id)
    assert await favourites.mine(me) == {"offers": [], "providers": []}


def test_map_links_carry_the_coordinates():
    links = map_links({"latitude": 39.99, "longitude": 116.47, "name": "望京店", "address": "阜通东大街6号"})
    assert links["amap"].startswith("https://uri.amap.com/marker?position=116.470000,39.990000&name=%E6%9C%9B")
    assert "location=39.990000,116.470000" in links["baidu"] and "coord_type=gcj02" in links["baidu"]


async def test_near_me_without_a_position_falls_back_instead_of_an_error(client, world):
    page = await client.get("/search?sort=distance&lat=&lng=&radius_m=3000", headers=HTML)
    assert page.status_code == 200
    assert 'data-testid="near-me-fallback"' in page.text and "按距离排序需要您的位置" in page.text


async def test_the_owner_replies_through_the_portal_and_staff_cannot(client, world):
    offer_id = await builders.offer(world, "voucher", "游泳体验券", list_fen=8800)
    await rated(world, offer_id, "haidian", "李建国", 1, 2, "等了很久")
    await _login(client, "provider", world.providers["chaoyang"]["staff"])
    assert (await client.get("/provider/reviews", headers=HTML)).status_code == 403
    client.cookies.clear()
    await _login(client, "provider", world.providers["chaoyang"]["owner"])
    page = await client.get("/provider/reviews", headers=HTML)
    assert "等了很久" in page.text and "李*国" in page.text
    rating_id = (await reviews.provider_reviews(owner(world)))["reviews"][0]["id"]
    done = await _post(client, f"/provider/reviews/{rating_id}/reply", {"reply": "抱歉，已增加前台人手"})
    assert done.status_code in (302, 303)
    again = await _post(client, f"/provider/reviews/{rating_id}/reply", {"reply": "再说一次"})
    assert again.status_code == 409 and "您已经回复过这条评价" in again.text


async def test_my_data_download_holds_favourites_and_consents(client, world):
    offer_id = await builders.offer(world, "voucher", "游泳体验券", list_fen=8800)
    await favourites.set_kept(member(world), "offer", offer_id, True)
    await client.get("/login")
    await _post(client, "/login", {"username": world.members["chaoyang"][1], "password": PASSWORD})
    data = (await client.get("/me/data.json")).json()
    assert data["favourites"][0]["title"] == "游泳体验券"
    assert data["consents"] == {"evaluator_contact": False}
    page = await client.get("/me/data", headers=HTML)
    assert page.status_code == 200 and page.text.count('data-testid="data-section"') == 8


# The English switch: nothing English on Chinese pages, no msgid with two meanings ---------------


class _Text(HTMLParser):
    """The words a member reads: text outside <script> and <style>, plus alt and aria-label."""

    def __init__(self):
        super().__init__()
        self.words: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style"):
            self._skip += 1
        for name, value in attrs:
            if name in ("alt", "aria-label", "placeholder", "title") and value:
                self.words.append(value)

    def handle_endtag(self, tag):
        if tag in ("script", "style"):
            self._skip -= 1

    def handle_data(self, data):
        if not self._skip and data.strip():
            self.words.append(data.strip())


# Proper names and what stays as it is in Chinese pages: the language switch and the file format.
ALLOWED = {"English", "JSON"}


def english_words(html: str) -> set[str]:
    parser = _Text()
    parser.feed(html)
    return {word for text in parser.words for word in re.findall(r"[A-Za-z]{3,}", text)} - ALLOWED


async def test_member_pages_in_chinese_have_no_english_words(client, world):
    offer_id = await builders.offer(world, "voucher", "游泳体验券", list_fen=8800)
    await rated(world, offer_id, "haidian", "李建国", 1, 4, "教练很专业")
    await reviews.reply(owner(world), (await reviews.provider_reviews(owner(world)))["reviews"][0]["id"], "谢谢")
    await Offer.update({Offer.title_zh: "健身月卡"}).where(Offer.id != offer_id)  # the world's "public" titles
    await favourites.set_kept(member(world), "offer", offer_id, True)
    await favourites.set_kept(member(world), "provider", world.providers["chaoyang"]["id"], True)
    await client.get("/login")
    await _post(client, "/login", {"username": world.members["chaoyang"][1], "password": PASSWORD})
    provider_id = world.providers["chaoyang"]["id"]
    for path in [
        "/",
        "/search?q=游泳",
        "/search?sort=distance",
        f"/offers/{offer_id}",
        f"/providers/{provider_id}",
        "/me",
        "/me/data",
        "/me/favourites",
        "/me/favourites?tab=providers",
    ]:
        page = await client.get(path, headers=HTML)
        assert page.status_code == 200, path
        assert not english_words(page.text), (path, english_words(page.text))


@pytest.mark.unit
@pytest.mark.parametrize(
    ("template", "chinese"),
    [
        # One English word, several meanings: each its own Chinese, through msgctxt.
        ('{{ pgettext("provider status", "Active") }}', "正常营业"),
        ('{{ pgettext("member status", "Active") }}', "在会"),
        ('{{ pgettext("campaign status", "Active") }}', "进行中"),
        ('{{ pgettext("favourite", "Save") }}', "收藏"),
        ('{{ _("Save") }}', "保存"),
        ('{{ pgettext("member data", "Profile") }}', "个人资料"),
        ('{{ _("Profile") }}', "机构资料"),
        ('{{ pgettext("member data", "Points") }}', "积分"),
        ('{{ _("Points") }}', "积分兑换"),
    ],
)
def test_words_with_two_meanings_are_told_apart(template, chinese):
    token = i18n.current_locale.set("zh_Hans")
    try:
        assert config.environment().from_string(template).render() == chinese
    finally:
        i18n.current_locale.reset(token)


@pytest.mark.unit
def test_the_statuses_of_members_campaigns_and_providers_read_differently():
    """The defect: a member's status and a campaign's both read 正常营业."""
    env = config.environment()
    token = i18n.current_locale.set("zh_Hans")
    try:
        macros = env.get_template("_macros.html").make_module({"csrf_input": ""})
        provider = str(macros.provider_status("active"))
        campaign = env.get_template("campaigns/_status.html").render(c={"status": "active", "running": True})
        member_card = env.from_string('{{ {"active": pgettext("member status", "Active")}["active"] }}').render()
    finally:
        i18n.current_locale.reset(token)
    assert "正常营业" in provider and "进行中" in campaign and member_card == "在会"
    assert "正常营业" not in campaign


async def test_erasing_a_member_forgets_favourites_and_masks_their_reviews(world):
    from marketplace.privacy import services as privacy

    offer_id = await builders.offer(world, "voucher", "游泳体验券", list_fen=8800)
    await rated(world, offer_id, "chaoyang", "王小芳", 1, 4, "不错")
    await favourites.set_kept(member(world), "offer", offer_id, True)
    await privacy.delete_me(member(world), "删除")
    summary = await reviews.for_offer(offer_id)
    assert summary["count"] == 1 and summary["recent"] == []  # the comment is gone, the score stays
    from marketplace.favourites.tables import Favourite

    assert await Favourite.count() == 0


async def test_a_location_keeps_the_shops_public_phone(world):
    from providers import services as providers
    from providers.schemas import LocationInput

    shop = LocationInput(
        name="三元桥店",
        address="北京市朝阳区曙光西里甲1号",
        district="朝阳区",
        latitude=39.96,
        longitude=116.45,
        opening_hours={"mon": ["09:00", "21:00"]},
        phone="010-6478 1234",
    )
    added = await providers.add_location(owner(world), shop)
    assert added.phone == "01064781234"
    with pytest.raises(Invalid) as wrong:
        await providers.add_location(
            owner(world),
            LocationInput(name="x", address="y", district="朝阳区", latitude=39.96, longitude=116.45, phone="12345"),
        )
    assert wrong.value.field == "phone"
    assert (await providers.provider_for_index(world.providers["chaoyang"]["id"]))["locations"][-1][
        "phone"
    ] == "01064781234"
