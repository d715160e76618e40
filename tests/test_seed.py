"""The demo data generator: valid identifiers, a consistent tree, constraints, appends."""

import json
import re
from datetime import UTC, datetime, timedelta

import pytest

from marketplace import seed as seeding
from marketplace.core import dates, pii, reference_data as ref
from marketplace.core.db import engine
from marketplace.core.federation.services import id_check_digit, is_valid_id_number
from marketplace.core.identity.passwords import verify_password
from marketplace.core.identity.principal import Principal
from marketplace.seed import catalogue as cat
from providers.credit_codes import (
    credit_code_check_char,
    is_valid_credit_code,
    organisation_code_check_char,
)
from providers.schemas import KINDS

# --- check characters (pure) -------------------------------------------------------

# Published codes: the GB 32100 example and well-known companies (Huawei, Alibaba,
# Tencent, Xiaomi); each ends in its check character.
VALID_CREDIT_CODES = [
    "91350100M000100Y43",
    "914403001922038216",
    "91330100716105852F",
    "9144030071526726XG",
    "91110108551385082Q",
]


@pytest.mark.unit
@pytest.mark.parametrize("code", VALID_CREDIT_CODES)
def test_credit_code_check_char_matches_published_codes(code):
    assert credit_code_check_char(code[:17]) == code[17]
    assert is_valid_credit_code(code)


@pytest.mark.unit
def test_credit_code_check_char_detects_a_wrong_character():
    assert not is_valid_credit_code("91350100M000100Y44")
    assert not is_valid_credit_code("91350100M000100Y4I")  # I is not in the alphabet
    assert organisation_code_check_char("M000100Y") == "4"  # GB 11714 part of the example


@pytest.mark.unit
@pytest.mark.parametrize("number", ["11010519491231002X", "440524188001010014"])
def test_id_check_digit_matches_standard_examples(number):
    assert id_check_digit(number[:17]) == number[17]
    assert is_valid_id_number(number)
    assert not is_valid_id_number(number[:17] + ("0" if number[17] != "0" else "1"))


@pytest.mark.unit
def test_generated_phones_ids_and_credit_codes_are_unique_and_valid():
    phones, ids, codes = set(), set(), set()
    for member_id in range(1, 20_001):
        phone = seeding.phone_for(member_id)
        assert re.fullmatch(r"1[3-9]\d{9}", phone)
        phones.add(phone)
        male = member_id % 3 == 0
        number, born = seeding.id_number_for(member_id, male=male)
        assert is_valid_id_number(number)
        assert number[6:14] == f"{born:%Y%m%d}" and 1960 <= born.year <= 2004
        assert int(number[16]) % 2 == (1 if male else 0)  # odd for men, even for women
        assert int(number[14:17]) < 900  # 900-999 are kept for the demo member
        ids.add(number)
        code = seeding.credit_code("110105", seeding._org_body(member_id))
        assert is_valid_credit_code(code)
        codes.add(code)
    assert len(phones) == len(ids) == len(codes) == 20_000
    assert seeding.DEMO_MEMBER["phone"] not in phones
    assert seeding.DEMO_MEMBER["id_number"] not in ids
    assert is_valid_id_number(seeding.DEMO_MEMBER["id_number"])
    assert is_valid_credit_code(seeding.DEMO_PROVIDER["credit_code"])


@pytest.mark.unit
def test_every_provider_type_sells_what_its_kind_and_category_say():
    category_codes = {c["code"] for c in ref.CATEGORIES}
    group_codes = {g["code"] for g in ref.MEMBER_GROUPS}
    assert {t.kind for t in cat.PROVIDER_TYPES} == set(KINDS)
    assert {t.category for t in cat.PROVIDER_TYPES} == category_codes  # every category has providers
    assert {o.kind for t in cat.PROVIDER_TYPES for o in t.offers} == set(ref.OFFER_KINDS)
    assert set(seeding.SHOWCASE_TYPES) <= set(cat.TYPES_BY_CODE)
    for kind_type in cat.PROVIDER_TYPES:
        assert kind_type.kind in KINDS and kind_type.category in category_codes
        assert len(kind_type.offers) >= 3 and len(kind_type.brands) >= 2
        assert set(kind_type.hours) <= {"mon", "tue", "wed", "thu", "fri", "sat", "sun"}
        for offer in kind_type.offers:
            assert (offer.category or kind_type.category) in category_codes
            assert offer.kind in ref.OFFER_KINDS and 0 < offer.price[0] <= offer.price[1]
            assert set(offer.groups) <= group_codes
            assert offer.description_zh and offer.terms_zh
            assert len(offer.title_zh.format(brand=kind_type.brands[0])) <= 90
    assert len(ref.DISTRICTS) == 16 and len({d["code"] for d in ref.DISTRICTS}) == 16


@pytest.mark.unit
def test_an_offer_of_a_provider_admitted_today_is_not_dated_in_the_future():
    """A listing starts the day after its provider opened, and was created up to five days
    before it starts: for a provider admitted today, that must not put its creation or
    publication after now (a reindex wrote such future-dated offers again every time)."""
    import random

    seeder = seeding._Seeder(None, seeding.SeedReport(), lambda *_: None, 0)
    seeder.categories = {category["code"]: number for number, category in enumerate(ref.CATEGORIES)}
    for kind_type in cat.PROVIDER_TYPES:
        provider = {
            "id": 1,
            "type": kind_type.code,
            "brand": kind_type.brands[0],
            "node": 1,
            "status": "active",
            "created": seeder.now,
        }
        for seed in range(20):
            record = seeder.offer_record(random.Random(seed), provider, kind_type.offers[0], status="published")
            created, published, updated = record[19], record[23], record[24]
            assert created <= seeder.now and published <= seeder.now and updated <= seeder.now


@pytest.mark.unit
def test_an_offer_cover_is_the_category_colour_with_an_icon_and_words():
    import io

    from PIL import Image

    from marketplace.seed import pictures as seed_pictures

    picture = Image.open(io.BytesIO(seed_pictures.cover("legal", "slot", "劳动法律咨询预约")))
    assert picture.size == (800, 450)
    assert picture.getpixel((5, 445)) == seed_pictures.COLOURS["legal"]  # the background
    assert min(picture.getpixel((680, 222))) > 200  # the white badge of the icon
    assert picture.getpixel((680, 300)) != picture.getpixel((680, 222))  # the icon drawn on it
    words = picture.crop((40, 50, 520, 130)).getcolors(100_000)
    if seed_pictures.has_cjk_font():  # the title is written in white over the colour
        assert any(colour[0] > 240 and colour[1] > 240 for _, colour in words)
    assert all(c in seed_pictures.COLOURS for c in {c["code"] for c in ref.CATEGORIES})


@pytest.mark.unit
def test_the_demo_guide_fits_an_80_column_terminal_whole():
    key = "ek_" + "a" * 12 + "_" + "B" * 43  # the length of a real key (evaluation.evaluators.services)
    guide = seeding.demo_guide("http://127.0.0.1:8000", key)
    assert all(seeding._columns(line) <= 80 for line in guide.splitlines())
    assert key in guide.splitlines()[guide.splitlines().index("  API key (sign in with it):") + 1]
    for account in seeding.DEMO_ACCOUNTS:
        assert f"{account['username']} / {account['password']}" in guide


# --- against the database ------------------------------------------------------------

SMALL = {"members": 300, "providers": 12, "offers": 60}


async def _fetch(sql: str, *args):
    connection = await engine().get_new_connection()
    try:
        return await connection.fetch(sql, *args)
    finally:
        await connection.close()


async def _value(sql: str, *args):
    return (await _fetch(sql, *args))[0][0]


@pytest.mark.integration
async def test_seed_builds_a_consistent_federation_tree():
    report = await seeding.seed(**SMALL, history=False)
    nodes = {row["id"]: row for row in await _fetch("SELECT * FROM union_node")}
    assert report.union_nodes == len(nodes)
    for node in nodes.values():
        parent = nodes.get(node["parent"])
        if parent is None:
            assert node["level"] == "national" and node["path"] == f"/{node['id']}/" and node["depth"] == 0
        else:
            assert node["path"] == parent["path"] + f"{node['id']}/"
            assert node["depth"] == parent["depth"] + 1
    by_code = {n["code"]: n for n in nodes.values()}
    beijing = by_code["110000"]
    assert beijing["level"] == "city" and beijing["parent"] == by_code["CN"]["id"]
    for district in ref.DISTRICTS:
        node = by_code[district["code"]]
        assert node["level"] == "district" and node["parent"] == beijing["id"]
        assert node["name_zh"] == district["name_zh"] + "总工会"
        grassroots = [n for n in nodes.values() if n["parent"] == node["id"]]
        assert len(grassroots) >= 10
        assert all(n["level"] == "grassroots" for n in grassroots)
    assert by_code["130000"]["level"] == "province"
    for place in seeding.HEBEI_CITIES:  # Hebei: two cities, each a district of member units
        city, district = by_code[place["city"]["code"]], by_code[place["district"]["code"]]
        assert city["level"] == "city" and city["parent"] == by_code["130000"]["id"]
        assert district["level"] == "district" and district["parent"] == city["id"]
        grassroots = [n for n in nodes.values() if n["parent"] == district["id"]]
        assert len(grassroots) == len(place["grassroots"]) >= 3
    assert "朝阳区快递行业联合工会" in {n["name_zh"] for n in nodes.values()}


@pytest.mark.integration
async def test_seeded_members_have_valid_protected_personal_data():
    report = await seeding.seed(**SMALL, history=False)
    assert report.members == SMALL["members"] + 1  # and the demo member
    rows = await _fetch("SELECT m.*, n.level, n.path FROM member m JOIN union_node n ON n.id = m.node")
    assert len(rows) == report.members
    assert all(row["level"] == "grassroots" for row in rows)
    hebei_path = (await _fetch("SELECT path FROM union_node WHERE code = '130000'"))[0]["path"]
    assert sum(row["path"].startswith(hebei_path) for row in rows) == SMALL["members"] // 12
    assert len({row["phone_hash"] for row in rows}) == len(rows)
    assert len({row["id_number_hash"] for row in rows}) == len(rows)
    group_codes = {g["code"] for g in ref.MEMBER_GROUPS}
    for row in rows:
        phone = pii.decrypt(row["phone_cipher"])
        assert re.fullmatch(r"1[3-9]\d{9}", phone)
        assert row["phone_masked"] == pii.mask_phone(phone)
        assert row["phone_hash"] == pii.lookup_hash(phone)
        number = pii.decrypt(row["id_number_cipher"])
        assert is_valid_id_number(number), number
        assert int(number[6:10]) == row["birth_year"]
        assert (int(number[16]) % 2 == 1) == (row["gender"] == "M")
        assert row["id_number_hash"] == pii.lookup_hash(number)
        assert set(row["groups"]) <= group_codes
        assert ("women" in row["groups"]) == (row["gender"] == "F")
        assert row["status"] == "active"
        assert row["joined_at"].year - row["birth_year"] >= 17
    women = sum("women" in row["groups"] for row in rows)
    gig = sum("gig" in row["groups"] for row in rows)
    plain = sum(not row["groups"] for row in rows)
    assert 0.3 < women / len(rows) < 0.6
    assert 0 < gig / len(rows) < 0.2
    assert plain > len(rows) * 0.2  # many members are in no group
    password_hash = rows[0]["password_hash"]
    assert all(row["password_hash"] == password_hash for row in rows)  # hashed once
    assert await verify_password(password_hash, seeding.MEMBER_PASSWORD)


@pytest.mark.integration
async def test_seeded_providers_have_valid_codes_locations_and_users():
    report = await seeding.seed(**SMALL, history=False)
    providers = await _fetch("SELECT * FROM provider")
    assert report.providers == len(providers) == SMALL["providers"] + 1  # and the demo provider
    assert {p["kind"] for p in providers} == set(KINDS)
    for provider in providers:  # the name is a brand of a type of the provider's kind
        kind_type = cat.TYPES_BY_CODE[cat.TYPE_OF_BRAND[provider["name"].split("(")[0]]]
        assert kind_type.kind == provider["kind"], provider["name"]
    assert all(is_valid_credit_code(p["credit_code"]) for p in providers)
    assert {p["status"] for p in providers} <= {"active", "applied", "suspended"}
    # Providers serve a city or a district: Beijing's, and the last two Hebei's (one in each city).
    served = {
        r["id"]: r["code"] for r in await _fetch("SELECT id, code FROM union_node WHERE level IN ('city', 'district')")
    }
    assert all(p["node"] in served for p in providers)
    hebei = {p["id"] for p in providers if served[p["node"]].startswith("13")}
    assert len(hebei) == 2 and all(served[p["node"]].startswith("11") for p in providers if p["id"] not in hebei)
    hebei_cities = {place["district"]["name_zh"]: place for place in seeding.HEBEI_CITIES}
    locations = await _fetch("SELECT * FROM location")
    assert report.locations == len(locations)
    per_provider = {}
    for location in locations:
        per_provider[location["provider"]] = per_provider.get(location["provider"], 0) + 1
        if location["provider"] in hebei:  # in its city, with the city's landline
            place = hebei_cities[location["district"]]
            district = place["district"]
            assert location["address"].startswith(district["city_zh"] + district["name_zh"])
            assert abs(location["latitude"] - district["lat"]) < 0.05 and location["phone"].startswith(place["dial"])
        else:
            assert location["address"].startswith("北京市" + location["district"])
            assert 39.4 <= location["latitude"] <= 41.1 and 115.4 <= location["longitude"] <= 117.5
        assert location["opening_hours"]
    assert {hebei_cities[loc["district"]]["dial"] for loc in locations if loc["provider"] in hebei} == {"0311", "0312"}
    assert set(per_provider) == {p["id"] for p in providers}
    assert all(1 <= n <= 3 for n in per_provider.values())
    users = await _fetch("SELECT * FROM provider_user")
    assert report.provider_users == len(users)
    for provider in providers:
        mine = [u for u in users if u["provider"] == provider["id"]]
        assert sum(u["role"] == "owner" for u in mine) == 1
        assert 1 <= sum(u["role"] == "staff" for u in mine) <= 2
        if provider["credit_code"] != seeding.DEMO_PROVIDER["credit_code"]:
            assert f"p{provider['id']}_owner" in {u["username"] for u in mine}
    assert await verify_password(users[0]["password_hash"], seeding.PROVIDER_PASSWORD)


@pytest.mark.integration
async def test_seeded_offers_respect_prices_kinds_and_scope():
    report = await seeding.seed(**SMALL, history=False)
    offers = await _fetch("SELECT * FROM offer")
    assert (
        report.offers == len(offers) == SMALL["offers"] + len(ref.OFFER_KINDS) + 1
    )  # and the demo provider's: one of each kind and one for women
    assert {o["kind"] for o in offers} == set(ref.OFFER_KINDS)
    assert "published" in {o["status"] for o in offers}
    beijing = await _value("SELECT id FROM union_node WHERE code = '110000'")
    # An offer is open to the subtree its provider serves; city-wide chains exist too.
    served = {row["id"]: row["node"] for row in await _fetch("SELECT id, node FROM provider")}
    assert all(offer["node_scope"] == served[offer["provider"]] for offer in offers)
    assert any(offer["node_scope"] == beijing for offer in offers)
    group_codes = {g["code"] for g in ref.MEMBER_GROUPS}
    for offer in offers:
        assert 0 <= offer["subsidy_fen"] <= offer["member_price_fen"] <= offer["list_price_fen"]
        assert 0 <= offer["stock_left"] <= offer["stock_total"]
        assert 1 <= offer["per_member_limit"] <= 5
        assert offer["valid_from"] < offer["valid_to"]
        assert (offer["points_price"] is not None) == (offer["kind"] == "points")
        assert set(offer["groups"]) <= group_codes
        assert offer["title_zh"] and offer["description_zh"]
    targeted = [o for o in await _fetch("SELECT * FROM offer WHERE 'women' = ANY(groups)")]
    assert targeted  # the demo provider's offer for women workers at least
    # Listings carry a cover stored as an upload is (a 400 px thumbnail beside it); drafts wait for theirs.
    from catalog.services import thumbnail_of
    from marketplace.runtime.paths import component_dir

    for offer in offers:
        if offer["status"] == "draft":
            continue
        assert offer["cover_image"] and offer["cover_image"].startswith("offers/"), offer["title_zh"]
        assert (component_dir("media") / offer["cover_image"]).exists()
        assert (component_dir("media") / thumbnail_of(offer["cover_image"])).exists()
    # Providers sell what their kind of business sells: a law office gives legal advice.
    categories = {row["id"]: row["code"] for row in await _fetch("SELECT id, code FROM category")}
    names = {row["id"]: row["name"] for row in await _fetch("SELECT id, name FROM provider")}
    for offer in offers:
        kind_type = cat.TYPES_BY_CODE[cat.TYPE_OF_BRAND[names[offer["provider"]].split("(")[0]]]
        allowed = {o.category or kind_type.category for o in kind_type.offers}
        assert categories[offer["category"]] in allowed, (names[offer["provider"]], offer["title_zh"])
        assert any(
            offer["title_zh"].endswith(o.title_zh.format(brand=names[offer["provider"]].split("(")[0]))
            for o in kind_type.offers
        ), offer["title_zh"]
    providers_with_offers = await _value("SELECT count(DISTINCT provider) FROM offer")
    assert providers_with_offers == SMALL["providers"] + 1  # every provider has an offer


@pytest.mark.integration
async def test_seeding_twice_appends_without_collisions():
    first = await seeding.seed(**SMALL, history=False)
    second = await seeding.seed(members=200, providers=8, offers=30, history=False)
    assert second.union_nodes == second.member_groups == second.categories == 0
    assert second.operators == second.evaluator_orgs == 0
    assert second.members == 200 and second.providers == 8 and second.offers == 30
    assert await _value("SELECT count(*) FROM member") == first.members + 200
    assert await _value("SELECT count(*) FROM provider") == first.providers + 8
    assert await _value("SELECT count(*) FROM offer") == first.offers + 30
    assert await _value("SELECT count(*) FROM operator") == len(seeding.OPERATORS)
    assert await _value("SELECT count(*) FROM evaluator_org") == 1
    nothing = await seeding.seed(members=0, providers=0, offers=0, history=False)
    assert nothing.union_nodes == nothing.members == nothing.providers == nothing.offers == 0


@pytest.mark.integration
async def test_demo_accounts_exist_and_sign_in():
    await seeding.seed(members=50, providers=7, offers=10, history=False)
    for account in seeding.DEMO_ACCOUNTS:
        assert {"kind", "area", "path", "username", "password"} <= set(account)
        if account["kind"] == "member":
            rows = await _fetch(
                "SELECT m.*, n.code FROM member m JOIN union_node n ON n.id = m.node WHERE phone_hash = $1",
                pii.lookup_hash(account["username"]),
            )
            assert len(rows) == 1
            member = rows[0]
            assert member["name"] == "王小芳" and set(member["groups"]) == {"women", "gig"}
            assert member["code"].startswith("110105")
            assert pii.decrypt(member["phone_cipher"]) == "13800138000"
            password_hash = member["password_hash"]
        elif account["kind"] == "provider":
            password_hash = await _value(
                "SELECT password_hash FROM provider_user WHERE username = $1", account["username"]
            )
        else:
            password_hash = await _value("SELECT password_hash FROM operator WHERE username = $1", account["username"])
        assert await verify_password(password_hash, account["password"]), account["username"]
    scopes = {
        r["username"]: r["code"]
        for r in await _fetch("SELECT o.username, n.code FROM operator o JOIN union_node n ON n.id = o.node")
    }
    assert scopes == {
        "admin": "CN",
        "beijing": "110000",
        "chaoyang": "110105",
        "hebei": "130000",
        "shijiazhuang": "130100",
    }
    org = (await _fetch("SELECT o.name, n.code FROM evaluator_org o JOIN union_node n ON n.id = o.node"))[0]
    assert (org["name"], org["code"]) == ("北京市社情民意调查中心", "110000")
    assert await seeding.has_data()


@pytest.mark.integration
async def test_has_data_is_false_on_an_empty_database_and_progress_is_reported():
    assert not await seeding.has_data()
    seen = {}
    await seeding.seed(
        members=20,
        providers=7,
        offers=7,
        history=False,
        progress=lambda stage, done, total: seen.__setitem__(stage, (done, total)),
    )
    assert seen["members"] == (20, 20) and seen["providers"] == (7, 7) and seen["offers"] == (7, 7)
    assert seen["reference"][0] == seen["reference"][1]


# --- the history --------------------------------------------------------------------------

HISTORY = {"members": 300, "providers": 12, "offers": 60}


@pytest.mark.integration
async def test_the_history_is_consistent_and_gives_every_audience_something_to_see():
    """One seed (the slow part) checked three ways: consistent with what the services would
    have made, something for operators to decide from, and the demo accounts' own history."""
    from marketplace.points import services as points

    report = await seeding.seed(**HISTORY)
    history = report.history
    assert history is not None and history.vouchers > 200 and history.redemptions > 100 and history.ratings > 50
    # Points: every balance equals its ledger and its lots.
    assert await points.reconcile() == []
    # Stock: what is gone is what live vouchers hold; limits and slots count the same vouchers.
    live = "('issued', 'redeemed', 'expired', 'pending')"
    assert (
        await _fetch(f"""
        SELECT o.id FROM offer o LEFT JOIN (SELECT offer, count(*) AS n FROM voucher WHERE status IN {live}
        GROUP BY offer) v ON v.offer = o.id WHERE o.stock_total - o.stock_left <> coalesce(v.n, 0)
        AND o.stock_left > 0""")
        == []
    )
    assert await _value("SELECT count(*) FROM offer WHERE stock_left < 0 OR stock_left > stock_total") == 0
    assert (
        await _fetch(f"""
        SELECT c.member FROM claim_count c FULL JOIN (SELECT member, offer, period_start, count(*) AS n FROM voucher
        WHERE status IN {live} GROUP BY 1, 2, 3) v USING (member, offer, period_start)
        WHERE coalesce(c.claims, 0) <> coalesce(v.n, 0)""")
        == []
    )
    assert (
        await _fetch(f"""
        SELECT s.id FROM offer_slot s LEFT JOIN (SELECT slot, count(*) AS n FROM voucher WHERE status IN {live}
        GROUP BY slot) v ON v.slot = s.id WHERE s.booked <> coalesce(v.n, 0) OR s.booked > s.capacity""")
        == []
    )
    # The running campaigns (the city's, the province's) spent what their unrefunded spends say,
    # within their budgets.
    running = await _fetch("SELECT * FROM campaign WHERE starts_at < now() ORDER BY id")
    assert len(running) == 2
    for campaign in running:
        spent = await _value(
            "SELECT coalesce(sum(amount_fen), 0) FROM campaign_spend WHERE refunded_at IS NULL AND campaign = $1",
            campaign["id"],
        )
        assert campaign["spent_fen"] == spent and 0 < spent <= campaign["budget_fen"], campaign["name_zh"]
    # Money: each paid voucher has its payment of the member's share; refunds match.
    assert (
        await _fetch("""
        SELECT v.id FROM voucher v JOIN offer o ON o.id = v.offer LEFT JOIN payment p ON p.voucher = v.id
        WHERE o.kind = 'paid' AND (p.id IS NULL OR p.amount_fen <> v.paid_fen
              OR (v.status = 'refunded') <> (p.status = 'refunded'))""")
        == []
    )
    # The quality loop's records follow the vouchers.
    assert await _value("SELECT count(*) FROM voucher WHERE status = 'redeemed'") == await _value(
        "SELECT count(*) FROM redemption"
    )
    assert (
        await _value("""SELECT count(*) FROM rating r JOIN redemption d ON d.id = r.redemption
                           WHERE r.member <> d.member OR r.created_at < d.redeemed_at""")
        == 0
    )
    assert await _value("SELECT count(*) FROM rating WHERE comment <> ''") > 20
    assert await _value("SELECT count(*) FROM rating WHERE held") >= 1
    # Public reviews: masked names, and providers' replies after the review, only to comments.
    assert await _value("SELECT count(*) FROM rating WHERE member_masked !~ '^.\\*'") == 0
    assert await _value("SELECT count(*) FROM rating WHERE reply IS NOT NULL") > 5
    assert (
        await _value(
            "SELECT count(*) FROM rating WHERE reply IS NOT NULL AND (comment = '' "
            "OR replied_at <= created_at OR replied_at > now())"
        )
        == 0
    )
    assert await _value("SELECT count(*) FROM location WHERE phone = ''") == 0
    statuses = {row["status"] for row in await _fetch("SELECT status FROM complaint")}
    assert {"open", "answered", "closed"} <= statuses
    assert await _value("SELECT count(*) FROM complaint WHERE status = 'open' AND respond_by < now()") >= 1
    # Complaints still open about district providers forwarded (转交) down to their district's union
    # (three at most), one of Chaoyang's back up to a named city operator.
    district = await _value(
        "SELECT count(*) FROM complaint c JOIN provider p ON p.id = c.provider JOIN union_node n ON n.id = p.node "
        "WHERE n.path LIKE (SELECT path FROM union_node WHERE code = '110000') || '_%' AND c.status <> 'closed'"
    )
    assert await _value("SELECT count(*) FROM complaint WHERE assigned_node IS NOT NULL") == min(district, 3)
    forwarded_up = await _value("SELECT count(*) FROM complaint WHERE assigned_operator IS NOT NULL")
    assert await _value("SELECT count(*) FROM audit_event WHERE action = 'complaint.forwarded'") == (
        min(district, 3) + forwarded_up
    )
    # Points grants over the threshold (Chaoyang's, Shijiazhuang's) wait for a second operator (待审批).
    assert await _value("SELECT count(*) FROM points_grant WHERE status = 'pending'") == 2
    await _operators_have_something_to_decide_from()
    await _the_demo_accounts_have_a_history_of_their_own()
    await _the_district_desk_draws_rosters_and_disputes_are_not_empty()
    await _the_hebei_desk_is_not_empty()


async def _operators_have_something_to_decide_from():
    cards = await _fetch("SELECT * FROM provider_scorecard WHERE ratings_n > 0 AND satisfaction IS NOT NULL")
    assert len(cards) >= 8
    assert await _value("SELECT count(DISTINCT month) FROM scorecard_snapshot") >= 2
    cases = {row["status"] for row in await _fetch("SELECT status FROM enforcement_case WHERE kind = 'delisting'")}
    assert cases == {"open", "decided", "appealed", "closed"}
    appealed = (await _fetch("SELECT * FROM enforcement_case WHERE status = 'appealed'"))[0]
    assert appealed["appeal_statement"] and appealed["decided_at"] < appealed["appealed_at"]
    assert appealed["figures"] and appealed["reasons"]
    states = {row["state"] for row in await _fetch("SELECT state FROM provider_standing")}
    assert "delisted" in states
    # Where the mild roles end depends on how many ratings a toy seed gives them in time.
    assert len({"watch", "warning", "probation"} & states) >= 2, states
    assert await _value("SELECT count(*) FROM provider WHERE status = 'delisted'") == 2
    assert await _value("SELECT count(*) FROM evaluator_result") > 0
    statements = await _fetch("SELECT status FROM settlement_statement")
    assert len(statements) > 3 and [s["status"] for s in statements].count("approved") == 1
    assert await _value("SELECT count(*) FROM search_miss") > 20
    assert await _value("SELECT count(*) FROM report_usage_daily") > 0
    grants = await _fetch("SELECT * FROM points_grant WHERE status <> 'pending'")  # two wait for four eyes
    assert len(grants) == 3 and all(g["status"] == "done" and g["members_done"] > 0 for g in grants)
    assert await _value("SELECT count(*) FROM approval_request WHERE status = 'pending'") == 2


async def _the_demo_accounts_have_a_history_of_their_own():
    member = await _value("SELECT id FROM member WHERE phone_hash = $1", pii.lookup_hash(seeding.DEMO_MEMBER["phone"]))
    states = {row["status"] for row in await _fetch("SELECT status FROM voucher WHERE member = $1", member)}
    assert {"issued", "redeemed", "expired", "cancelled", "refunded"} <= states
    kinds = {row["kind"] for row in await _fetch("SELECT kind FROM points_entry WHERE member = $1", member)}
    assert {"grant", "spend", "expire"} <= kinds
    ids = [
        row["created_at"]
        for row in await _fetch("SELECT created_at FROM points_entry WHERE member = $1 ORDER BY id", member)
    ]
    assert ids == sorted(ids)  # her ledger reads in time order
    assert await _value("SELECT balance FROM points_balance WHERE member = $1", member) > 0
    # Her last visit waits for her rating; an earlier one she rated.
    assert await _value("SELECT count(*) FROM rating WHERE member = $1", member) >= 1
    # 我的收藏: offers and a shop of hers.
    assert await _value("SELECT count(offer) FROM favourite WHERE member = $1", member) >= 1
    assert await _value("SELECT count(provider) FROM favourite WHERE member = $1", member) >= 1
    provider = await _value("SELECT id FROM provider WHERE credit_code = $1", seeding.DEMO_PROVIDER["credit_code"])
    staff = await _value("SELECT id FROM provider_user WHERE username = $1", seeding.DEMO_PROVIDER["staff"])
    await _the_demo_counter_redeemed_in_opening_hours(provider, staff)
    await _prepaid_packages_were_bought_and_one_taken_back(member, provider)
    card = (await _fetch("SELECT * FROM provider_scorecard WHERE provider = $1", provider))[0]
    assert card["ratings_n"] > 0 and card["redemptions_n"] > 0


async def _prepaid_packages_were_bought_and_one_taken_back(member: int, provider: int):
    """我的套餐, 预付资金 and the escrow page have money to show, through the real paid path."""
    from marketplace.prepaid import services as prepaid

    mine = await _fetch("SELECT provider, status, cooling_off_days FROM prepaid_package WHERE member = $1", member)
    other_gyms = await _value(  # within her reach: Hebei's gyms sell to Hebei's members
        "SELECT count(*) FROM offer o JOIN provider p ON p.id = o.provider JOIN union_node s ON s.id = o.node_scope "
        "WHERE o.kind = 'prepaid' AND o.status = 'published' AND p.status = 'active' AND p.id <> $1 "
        "AND (SELECT n.path FROM member m JOIN union_node n ON n.id = m.node WHERE m.id = $2) LIKE s.path || '%'",
        provider,
        member,
    )
    assert len(mine) == 1 + (other_gyms > 0) and {row["status"] for row in mine} == {"active"}
    assert provider in {row["provider"] for row in mine}
    shop = await _fetch("SELECT status FROM prepaid_package WHERE provider = $1 AND member <> $2", provider, member)
    assert sorted(row["status"] for row in shop) == ["active", "active", "refunded"]
    sent = "SELECT count(*) FROM prepaid_refund r JOIN prepaid_package k ON k.id = r.package "
    assert await _value(sent + "WHERE r.stripe_refund_id IS NOT NULL AND k.provider = $1", provider) == 1
    assert await prepaid.reconcile() == {}


async def _the_demo_counter_redeemed_in_opening_hours(provider: int, staff: int):
    """The demo cashier's counter (the redemptions the service announced) on the shop's
    latest trading day, within its opening hours, and known to the quality loop at the
    same moment; the demo shop has no integrity case to explain."""
    rows = await _fetch(
        """
        SELECT (e.payload->>'redeemed_at')::timestamptz AS announced, v.redeemed_at, v.redeemed_by,
               d.redeemed_at AS recorded, l.opening_hours
        FROM outbox_event e JOIN voucher v ON v.id = (e.payload->>'voucher_id')::int
        JOIN location l ON l.id = v.redeemed_location LEFT JOIN redemption d ON d.voucher = v.id
        WHERE e.topic = 'voucher.redeemed' AND v.provider = $1""",
        provider,
    )
    assert len(rows) >= 1
    for row in rows:
        assert row["redeemed_by"] == staff
        assert row["announced"] == row["redeemed_at"] == row["recorded"]
        local = row["redeemed_at"].astimezone(dates.zone())
        opens, closes = json.loads(row["opening_hours"])[local.strftime("%a").lower()]
        assert opens <= local.strftime("%H:%M") < closes, local
        assert timedelta(0) < datetime.now(UTC) - row["redeemed_at"] < timedelta(days=8)
    assert (
        await _value("SELECT count(*) FROM enforcement_case WHERE provider = $1 AND kind = 'integrity'", provider) == 0
    )


@pytest.mark.integration
async def test_a_demo_seeded_at_night_redeems_at_its_counter_in_opening_hours(monkeypatch):
    """Seeded at 03:00 in Beijing, the demo shop's counter worked yesterday, not in the
    small hours (which would open an integrity case against the demo's own provider)."""
    now = datetime.now(UTC)
    local = now.astimezone(dates.zone())
    night = local.replace(hour=3, minute=0, second=0, microsecond=0)
    night = (night if night <= local else night - timedelta(days=1)).astimezone(UTC)
    monkeypatch.setattr(seeding, "_now", lambda: night)
    await seeding.seed(members=150, providers=8, offers=30)
    provider = await _value("SELECT id FROM provider WHERE credit_code = $1", seeding.DEMO_PROVIDER["credit_code"])
    staff = await _value("SELECT id FROM provider_user WHERE username = $1", seeding.DEMO_PROVIDER["staff"])
    await _the_demo_counter_redeemed_in_opening_hours(provider, staff)
    assert await _value("SELECT max(redeemed_at) FROM voucher WHERE provider = $1", provider) < night


@pytest.mark.unit
@pytest.mark.parametrize(
    "clock, day, first, last",
    [
        ("2026-12-04 03:00", "2026-12-03", "06:30", "22:30"),  # at night: yesterday's hours
        ("2026-12-04 07:00", "2026-12-03", "06:30", "22:30"),  # open less than an hour: yesterday
        ("2026-12-04 15:00", "2026-12-04", "06:30", "15:00"),  # this afternoon: since opening
        ("2026-12-07 08:30", "2026-12-04", "06:30", "22:30"),  # Monday, just opened, closed at weekends: Friday
    ],
)
def test_counter_moments_fall_in_the_latest_opening_hours_before_now(clock, day, first, last):
    from marketplace.seed.history import counter_moments

    hours = {d: ["06:30", "22:30"] for d in ("mon", "tue", "wed", "thu", "fri")}
    hours["mon"] = ["08:00", "22:30"]
    now = datetime.fromisoformat(clock).replace(tzinfo=dates.zone()).astimezone(UTC)
    moments = counter_moments(now, hours, 4)
    assert len(moments) == 4 and moments == sorted(moments)
    for moment in moments:
        local = moment.astimezone(dates.zone())
        assert local.date().isoformat() == day and first < local.strftime("%H:%M") < last
    assert counter_moments(now, {}, 4) == []


@pytest.mark.unit
def test_production_code_never_imports_the_demo_seed():
    """The demo seed (marketplace/seed/) is reached only through the CLI's seed and demo
    commands and the benchmarks (dev tools); the image's code paths never load it."""
    import ast
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    allowed = {"marketplace/cli.py"}
    offenders = []
    for package in ("marketplace", "providers", "catalog", "evaluation"):
        for path in (root / package).rglob("*.py"):
            name = path.relative_to(root).as_posix()
            if name.startswith("marketplace/seed/") or name in allowed or "bench" in path.stem:
                continue
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.ImportFrom):
                    modules = [node.module or ""] + [f"{node.module}.{alias.name}" for alias in node.names]
                elif isinstance(node, ast.Import):
                    modules = [alias.name for alias in node.names]
                else:
                    continue
                if any(module == "marketplace.seed" or module.startswith("marketplace.seed.") for module in modules):
                    offenders.append(f"{name}:{node.lineno}")
    assert offenders == []


async def _the_district_desk_draws_rosters_and_disputes_are_not_empty():
    """What made the demo's pages empty before: the district operator's (Chaoyang) campaigns,
    cases and evaluators, draws, roster imports, payment disputes, the demo shop's complaints."""
    chaoyang = (await _fetch("SELECT id, path FROM union_node WHERE code = '110105'"))[0]
    in_chaoyang = "JOIN union_node n ON n.id = {}.node WHERE n.path LIKE $1 || '%'"
    campaigns = await _fetch("SELECT c.* FROM campaign c " + in_chaoyang.format("c"), chaoyang["path"])
    assert [c["node"] for c in campaigns] == [chaoyang["id"]] and campaigns[0]["starts_at"] > datetime.now(UTC)
    cases = await _fetch(
        "SELECT e.status, e.reasons FROM enforcement_case e JOIN provider p ON p.id = e.provider "
        + in_chaoyang.format("p")
        + " AND e.kind = 'delisting'",
        chaoyang["path"],
    )
    by_hand = [c["status"] for c in cases if json.loads(c["reasons"])[0]["code"] == "manual"]
    assert sorted(by_hand) == ["closed", "open"]  # opened by hand; one kept after the provider put it right
    keys = await _value(
        "SELECT count(*) FROM evaluator_api_key k JOIN evaluator_org o ON o.id = k.org "
        + in_chaoyang.format("o")
        + " AND k.revoked_at IS NULL",
        chaoyang["path"],
    )
    assert keys == 1
    # Draws: one taking entries, one drawn with its notice, places claimed through the claim.
    draws = {
        d["status"]: d for d in await _fetch("SELECT d.* FROM draw d " + in_chaoyang.format("d"), chaoyang["path"])
    }
    assert set(draws) == {"open", "drawn"}
    now = datetime.now(UTC)
    assert draws["open"]["opens_at"] < now < draws["open"]["closes_at"]
    drawn = draws["drawn"]
    assert drawn["drawn_at"] < now < drawn["notice_until"] and drawn["seed"]
    entries = await _fetch("SELECT * FROM draw_entry WHERE draw = $1", drawn["id"])
    assert len(entries) > drawn["places"] and all(e["rank"] for e in entries)
    assert all(drawn["opens_at"] <= e["entered_at"] <= drawn["drawn_at"] for e in entries)
    assert all(7 <= e["entered_at"].astimezone(dates.zone()).hour <= 22 for e in entries)  # in the daytime
    claimed = [e for e in entries if e["status"] == "claimed"]
    assert claimed and all(e["voucher"] for e in claimed)
    assert sum(e["status"] in ("offered", "claimed") for e in entries) == drawn["places"]
    assert await _value("SELECT count(*) FROM draw_entry WHERE draw = $1", draws["open"]["id"]) > 5
    member = await _value("SELECT id FROM member WHERE phone_hash = $1", pii.lookup_hash(seeding.DEMO_MEMBER["phone"]))
    mine = await _fetch("SELECT draw FROM draw_entry WHERE member = $1", member)
    assert [e["draw"] for e in mine] == [drawn["id"]]  # she can enter the open one herself
    # Roster imports: one applied, one refused with its rows to correct.
    imports = {
        i["status"]: i
        for i in await _fetch("SELECT r.* FROM roster_import r " + in_chaoyang.format("r"), chaoyang["path"])
    }
    assert set(imports) == {"done", "failed"}
    assert imports["done"]["created"] == 10 and imports["done"]["created_at"] < now - timedelta(days=1)
    errors = json.loads(imports["failed"]["errors"])
    assert imports["failed"]["error_count"] >= 4 and {e["row"] for e in errors} >= {3, 4, 5}
    # Disputes: one waiting for the bank (its voucher held), one won.
    disputes = await _fetch(
        "SELECT p.*, v.disputed_at AS held FROM payment p JOIN voucher v ON v.id = p.voucher "
        "JOIN provider pr ON pr.id = v.provider JOIN union_node n ON n.id = pr.node "
        "WHERE p.disputed_at IS NOT NULL AND n.code LIKE '11%' ORDER BY p.disputed_at DESC"
    )
    assert [(d["dispute_status"], d["dispute_closed_at"] is None) for d in disputes] == [
        ("needs_response", True),
        ("won", False),
    ]
    assert disputes[0]["held"] is not None
    # The demo shop's complaints: one answered, one new waiting for its answer.
    provider = await _value("SELECT id FROM provider WHERE credit_code = $1", seeding.DEMO_PROVIDER["credit_code"])
    complaints = await _fetch("SELECT * FROM complaint WHERE provider = $1 ORDER BY created_at", provider)
    assert [c["status"] for c in complaints[-2:]] == ["answered", "open"]
    assert complaints[-1]["respond_by"] > now > complaints[-1]["created_at"]


async def _the_hebei_desk_is_not_empty():
    """What the province's operator (hebei) found empty before: its subtree has members,
    providers, listings waiting for review, ratings and complaints (answered and overdue),
    scorecards with figures, cases, a campaign that burns, points grants, draws, roster imports,
    a disputed payment, survey results with a key, settlements, a grant waiting for approval."""
    hebei = (await _fetch("SELECT id, path FROM union_node WHERE code = '130000'"))[0]["path"]
    by_provider = "JOIN provider p ON p.id = {}.provider JOIN union_node n ON n.id = p.node WHERE n.path LIKE $1 || '%'"
    on_node = "JOIN union_node n ON n.id = {}.node WHERE n.path LIKE $1 || '%'"

    async def count(sql: str) -> int:
        return await _value(sql, hebei)

    assert await count("SELECT count(*) FROM member m " + on_node.format("m")) >= SMALL["members"] // 12
    assert await count("SELECT count(*) FROM provider x " + on_node.format("x")) == 2
    assert await count("SELECT count(*) FROM offer o " + by_provider.format("o") + " AND o.status = 'submitted'") >= 1
    assert await count("SELECT count(*) FROM rating r " + by_provider.format("r")) >= 1
    complaints = await _fetch("SELECT c.status, c.respond_by FROM complaint c " + by_provider.format("c"), hebei)
    assert any(c["status"] in ("answered", "closed") for c in complaints)
    assert any(c["status"] == "open" and c["respond_by"] < datetime.now(UTC) for c in complaints)  # overdue
    cards = "SELECT count(*) FROM provider_scorecard s " + by_provider.format("s") + " AND s.ratings_n > 0"
    assert await count(cards) >= 1
    cases = await _fetch("SELECT e.status FROM enforcement_case e " + by_provider.format("e"), hebei)
    assert {"open", "closed"} <= {c["status"] for c in cases}
    campaign = (await _fetch("SELECT c.* FROM campaign c " + on_node.format("c"), hebei))[0]
    assert campaign["starts_at"] < datetime.now(UTC) < campaign["ends_at"] and campaign["spent_fen"] > 0
    grants = await _fetch("SELECT g.status FROM points_grant g " + on_node.format("g"), hebei)
    assert sorted(g["status"] for g in grants) == ["done", "pending"]  # Shijiazhuang's waits for hebei
    assert (
        await count("SELECT count(*) FROM approval_request a " + on_node.format("a") + " AND status = 'pending'") == 1
    )
    draws = await _fetch("SELECT d.status FROM draw d " + on_node.format("d"), hebei)
    assert {d["status"] for d in draws} == {"open", "drawn"}
    imports = await _fetch("SELECT r.status, r.created FROM roster_import r " + on_node.format("r"), hebei)
    assert sorted((i["status"], i["created"]) for i in imports) == [("done", 8), ("failed", 0)]
    disputed = "SELECT count(*) FROM payment y JOIN voucher v ON v.id = y.voucher " + by_provider.format("v")
    assert await count(disputed + " AND y.dispute_status = 'needs_response'") == 1
    assert await count("SELECT count(*) FROM evaluator_result x " + by_provider.format("x")) > 0
    keys = "SELECT count(*) FROM evaluator_api_key k JOIN evaluator_org o ON o.id = k.org " + on_node.format("o")
    assert await count(keys) == 1
    assert await count("SELECT count(*) FROM settlement_statement t " + by_provider.format("t")) >= 1
    await _shijiazhuang_has_standings_and_escrow()


async def _shijiazhuang_has_standings_and_escrow():
    """What the city's operator (shijiazhuang) found empty before: its shops taken through the
    policy by its own weekly runs (a toy seed gives its one role-taking shop the mildest roles
    only), and its gym's class packages bought through the real paid path, one taken back."""
    from marketplace.prepaid import services as prepaid

    city = (await _fetch("SELECT id, path FROM union_node WHERE code = '130100'"))[0]
    standings = await _fetch(
        "SELECT s.state, p.node, c.ratings_n FROM provider_standing s JOIN provider p ON p.id = s.provider "
        "JOIN union_node n ON n.id = p.node JOIN provider_scorecard c ON c.provider = p.id "
        "WHERE n.path LIKE $1 || '%' AND s.state <> 'good'",
        city["path"],
    )
    assert standings and {s["state"] for s in standings} <= {"watch", "warning", "probation"}, standings
    assert all(s["node"] == city["id"] and s["ratings_n"] >= 10 for s in standings)  # the city's shops, rated
    # Written by the policy's runs, not by hand: each level has its standing event.
    events = await _fetch(
        "SELECT e.to_state FROM standing_event e JOIN provider p ON p.id = e.provider WHERE p.node = $1", city["id"]
    )
    assert {s["state"] for s in standings} <= {e["to_state"] for e in events}
    # The province's desk opens its cases on the city's shops first.
    cases = "SELECT count(*) FROM enforcement_case e JOIN provider p ON p.id = e.provider JOIN union_node n "
    assert await _value(cases + "ON n.id = p.node WHERE n.path LIKE $1 || '%'", city["path"]) >= 1
    packages = await _fetch(
        "SELECT k.status, k.member_fen, n.path FROM prepaid_package k JOIN provider p ON p.id = k.provider "
        "JOIN union_node pn ON pn.id = p.node JOIN member m ON m.id = k.member JOIN union_node n ON n.id = m.node "
        "WHERE pn.path LIKE $1 || '%'",
        city["path"],
    )
    assert sorted(k["status"] for k in packages) == ["active", "active", "refunded"]
    assert all(k["path"].startswith(city["path"]) and k["member_fen"] > 0 for k in packages)  # the city's members
    assert (
        await _value(
            "SELECT count(*) FROM prepaid_refund r JOIN prepaid_package k ON k.id = r.package JOIN provider p "
            "ON p.id = k.provider JOIN union_node n ON n.id = p.node WHERE n.path LIKE $1 || '%' "
            "AND r.stripe_refund_id IS NOT NULL",
            city["path"],
        )
        == 1
    )  # sent back through Stripe
    # The city's operator sees them on the escrow page: held per gym, and the refund.
    row = (await _fetch("SELECT id, display_name, node, role FROM operator WHERE username = 'shijiazhuang'"))[0]
    operator = Principal(
        kind="operator",
        id=row["id"],
        display_name=row["display_name"],
        node_id=row["node"],
        node_path=city["path"],
        role=row["role"],
    )
    escrow = await prepaid.operator_overview(operator)
    assert sum(p["left_fen"] for p in escrow["providers"]) == sum(
        k["member_fen"] for k in packages if k["status"] == "active"
    )
    assert [r["reason"] for r in escrow["refunds"]] == ["cooling_off"]
    assert await prepaid.reconcile() == {}
