"""No English on Chinese pages: every GET page of the provider portal and the operator
console, rendered in zh-Hans with seeded rows, shows no ASCII word outside an allow-list
of proper names, codes and units. And no Chinese on English pages: the same pages with
the language switched to English show Chinese only where it is data (a provider's name,
a member's complaint, a title that has no English version).

The pages are found by walking the app's route table (a new page is checked without
editing this file); path parameters are filled from the seeded rows by their name.
"""

import json
import re
from datetime import timedelta
from html.parser import HTMLParser

import pytest

from evaluation.tables import Complaint, EnforcementCase, Rating
from marketplace.campaigns import services as campaigns
from marketplace.campaigns.schemas import CampaignCreate
from marketplace.core.db import engine
from marketplace.points import services as points
from providers import services
from tests.console.helpers import submitted_offers, web_login
from tests.evaluation.test_quality_loop import bad_scorecard, redeemed_voucher
from tests.factories import now
from tests.settlements.helpers import operator_principal, value

pytestmark = [pytest.mark.integration]

# Words that may stay in Latin letters on a Chinese page: proper names, codes, units and
# formats people know in this form.
ALLOWED = {
    "CSV",
    "ID",
    "QR",
    "API",
    "JSON",
    "URL",
    "HTTP",
    "HTTPS",
    "Excel",
    "WeChat",
    "iPhone",
    "Android",
    "Safari",
    "Chrome",
    "TOTP",
    "Stripe",
    "PDF",
    "PNG",
    "JPG",
    "JPEG",
    "WebP",
    "UTF",
    "GB",
    "KB",
    "MB",
    "km",
    "App",
    "English",
    "YYYY",
    "MM",
    "DD",
    "Google",
    "Authenticator",
    "Microsoft",
    "Windows",
    "Connect",
}
# Where the seeded rows carry Latin letters of their own (usernames, codes), they are names too.
SKIP_TAGS = {"script", "style", "code", "kbd", "samp", "template", "noscript", "svg"}
VOID_TAGS = {"input", "img", "br", "hr", "meta", "link", "source", "area", "col", "embed", "wbr"}
VISIBLE_ATTRIBUTES = ("placeholder", "title", "aria-label", "alt")
WORD = re.compile(r"[A-Za-z][A-Za-z'’-]*[A-Za-z]|[A-Za-z]")


class _Text(HTMLParser):
    """The words a person sees: text outside script/style/code, and the visible attributes."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.skipping = 0
        self.skipped: list[str] = []
        self.parts: list[str] = []

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        # Codes (credit codes, voucher codes, keys) are set in the monospace style: not words.
        if tag in SKIP_TAGS or "mono" in (attributes.get("class") or "").split():
            if tag not in VOID_TAGS:
                self.skipping += 1
                self.skipped.append(tag)
            return
        if self.skipping == 0:
            self.parts += [attributes[name] or "" for name in VISIBLE_ATTRIBUTES if name in attributes]
            if tag == "input" and attributes.get("type") in ("submit", "button"):
                self.parts.append(attributes.get("value") or "")

    def handle_endtag(self, tag):
        if self.skipped and tag == self.skipped[-1]:
            self.skipped.pop()
            self.skipping -= 1

    def handle_data(self, data):
        if self.skipping == 0:
            self.parts.append(data)


def english_words(html: str, names: set[str]) -> list[str]:
    parser = _Text()
    parser.feed(html)
    text = " ".join(parser.parts)
    # Addresses, e-mail, file names and mono codes (credit codes, voucher codes) are not words.
    text = re.sub(r"\S+@\S+|https?://\S+|/[\w/.-]+|\b[\w-]+\.(csv|png|jpg|svg|txt)\b", " ", text)
    # A token with a digit or an underscore is a code or a username (91110105MA01ABCD1X, op_chaoyang).
    text = re.sub(r"[\w'’-]*(\d|_)[\w'’-]*", " ", text)
    found = []
    for word in WORD.findall(text):
        bare = word.strip("'’-")
        if len(bare) < 2 or bare in ALLOWED or bare.upper() in ALLOWED or bare in names:
            continue
        found.append(bare)
    return found


async def _seed(world) -> dict[str, int]:
    """One row of everything a page may show, in the Chaoyang district's scope."""
    ids: dict[str, int] = {
        "node_id": world.nodes["chaoyang"],
        "member_id": world.members["chaoyang"][0],
        "provider_id": world.providers["chaoyang"]["id"],
        "section": 0,
    }
    ids["offer_id"] = (await submitted_offers(world, 1, "chaoyang"))[0]
    member, voucher = await redeemed_voucher(world)
    redemption = await value("SELECT id FROM redemption LIMIT 1")
    provider = world.providers["chaoyang"]["id"]
    ids["complaint_id"] = (
        await Complaint.insert(
            Complaint(
                redemption=redemption,
                voucher=voucher.id,
                provider=provider,
                member=member.id,
                category="overcharge",
                text="结账时多收了二十元",
                status="open",
                created_at=now() - timedelta(days=5),
                respond_by=now() - timedelta(days=2),
                member_masked="王*芳",
                assigned_node=world.nodes["chaoyang"],  # forwarded to the provider's own union
            )
        ).returning(Complaint.id)
    )[0]["id"]
    await Rating.insert(
        Rating(
            redemption=redemption,
            provider=provider,
            member=member.id,
            overall=1,
            comment="很差",
            created_at=now(),
            updated_at=now(),
            held=True,
            hold_reason="burst_one_network",
        )
    )
    await bad_scorecard(provider)
    ids["case_id"] = (
        await EnforcementCase.insert(
            EnforcementCase(
                provider=provider,
                kind="delisting",
                status="open",
                opened_at=now(),
                figures=json.dumps({"satisfaction": 3.0, "ratings_n": 60, "redemptions_n": 100}),
                reasons=json.dumps([{"code": "satisfaction", "value": 3.0, "n": 60, "threshold": 3.2}]),
            )
        ).returning(EnforcementCase.id)
    )[0]["id"]
    await EnforcementCase.insert(
        EnforcementCase(
            provider=provider,
            kind="integrity",
            status="open",
            opened_at=now(),
            figures=json.dumps({}),
            reasons=json.dumps([{"code": "night_redemption", "at": now().isoformat()}]),
        )
    )
    ids["statement_id"] = await value(
        "INSERT INTO settlement_statement (provider, period, period_start, period_end, status, voucher_count, "
        "subsidy_fen, paid_fen, total_fen, drafted_at) VALUES ($1, '2026-11', $2, $3, 'draft', 1, 3000, 0, 3000, "
        "now()) RETURNING id",
        provider,
        now() - timedelta(days=40),
        now() - timedelta(days=10),
    )
    # A card payment of the member's, disputed by their bank (the console's disputes pages).
    ids["payment_id"] = await value(
        "INSERT INTO payment (voucher, member, amount_fen, status, payment_intent, hold_until, created_at, "
        "succeeded_at, disputed_at, dispute_id, dispute_status, dispute_reason, dispute_amount_fen) "
        "VALUES ($1, $2, 6900, 'succeeded', 'pi_seeded', now(), now(), now(), now(), 'dp_seeded', 'needs_response', "
        "'fraudulent', 6900) RETURNING id",
        voucher.id,
        member.id,
    )
    operator = await operator_principal(world, "chaoyang")
    ids["campaign_id"] = (
        await campaigns.create_campaign(
            operator,
            CampaignCreate(
                node_id=world.nodes["chaoyang"],
                name_zh="冬季健身补贴",
                name_en="",
                starts_at=now() - timedelta(days=1),
                ends_at=now() + timedelta(days=30),
                budget_fen=100000,
                per_member_cap_fen=3000,
                groups=[],
                offer_ids=[world.offers["public"]],
                category_ids=[],
            ),
        )
    ).id
    ids["grant_id"] = (await points.create_grant(operator, world.nodes["chaoyang"], None, 50, "冬至慰问")).id
    ids["import_id"] = await value(
        "INSERT INTO roster_import (operator, node, filename, rows, status, errors, content_hash, created_at) "
        "VALUES ($1, $2, 'members.csv', 1, 'done', '[]', 'x', now()) RETURNING id",
        operator.id,
        world.nodes["chaoyang"],
    )
    return ids


def _seeded_names(world) -> set[str]:
    """Latin words the test world itself puts in its rows: usernames and offer title suffixes."""
    usernames = [
        *world.operators.values(),
        *(name for p in world.providers.values() for key, name in p.items() if key != "id"),
    ]
    return {part for name in [*usernames, *world.offers] for part in re.split(r"[^A-Za-z]+", str(name)) if part}


def _pages(app, prefixes: tuple[str, ...]) -> list[str]:
    paths = set()
    for route in app.routes:
        if "GET" not in getattr(route, "methods", set()) or not route.path.startswith(prefixes):
            continue
        if route.path.endswith((".csv", "/progress", "/login")) or "/export/" in route.path:
            continue  # downloads and HTMX fragments have no page of their own
        paths.add(route.path)
    return sorted(paths)


def _fill(path: str, ids: dict[str, int]) -> str | None:
    missing = []

    def value_of(match):
        name = match.group(1)
        if name not in ids:
            missing.append(name)
            return ""
        return str(ids[name])

    filled = re.sub(r"\{(\w+)(?::\w+)?\}", value_of, path)
    return None if missing else filled


HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
# Chinese an English page may show: the language switch names the other language in it;
# examples of what to type where the data is Chinese (a member's name, an address, a search);
# the names of the map apps.
ALLOWED_CHINESE = {"简体中文", "中文", "张伟", "阜通东大街", "体检", "高德", "百度"}


def chinese_runs(html: str, data: str) -> list[str]:
    """The runs of Chinese characters a person sees on a page that are not part of the data."""
    parser = _Text()
    parser.feed(html)
    return [run for run in HAN.findall(" ".join(parser.parts)) if run not in ALLOWED_CHINESE and run not in data]


async def data_text() -> str:
    """Every text the database holds, as one string: on an English page, Chinese that occurs
    in it is data. A Chinese column (`x_zh`) counts only where its row has no English
    (`x_en`): where it has one, an English page must show that instead."""
    async with engine().transaction() as transaction:
        connection = transaction.connection
        columns = await connection.fetch(
            "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = 'public' "
            "AND data_type IN ('character varying', 'text', 'jsonb', 'ARRAY', 'json') ORDER BY 1, 2"
        )
        by_table: dict[str, list[str]] = {}
        for row in columns:
            by_table.setdefault(row["table_name"], []).append(row["column_name"])
        parts = []
        for table, names in by_table.items():
            for name in names:
                english = name[:-3] + "_en" if name.endswith("_zh") else None
                value = f'"{name}"::text'
                if english in names:
                    value = f"CASE WHEN coalesce(\"{english}\"::text, '') = '' THEN \"{name}\"::text END"
                parts.append(await connection.fetchval(f"SELECT string_agg({value}, E'\\n') FROM \"{table}\"") or "")
        # The districts a location is in are place names, chosen and stored in Chinese
        # (providers.services.district_choices takes them from the district unions' names).
        parts += [
            services.district_name(row["name_zh"])
            for row in await connection.fetch("SELECT name_zh FROM union_node WHERE level = 'district'")
        ]
    return "\n".join(parts)


async def _check(
    client, app, world, area: str, username: str, prefixes, ids, names, english: bool = False
) -> tuple[dict, list]:
    await web_login(client, area, username)
    data = await data_text() if english else ""
    if english:
        client.cookies.set("lang", "en")
    problems, checked = {}, []
    for path in _pages(app, prefixes):
        url = _fill(path, ids)
        if url is None:
            problems[path] = ["(no seeded row for a parameter)"]
            continue
        response = await client.get(url, headers={"accept": "text/html", "accept-language": "zh-CN"})
        if response.status_code in (301, 302, 303, 307):
            continue
        assert response.status_code == 200, (url, response.status_code, response.text[:500])
        checked.append(url)
        words = chinese_runs(response.text, data) if english else english_words(response.text, names)
        if words:
            problems[url] = sorted(set(words))
    return problems, checked


async def test_no_english_on_chinese_console_pages(client, app, world):
    ids = await _seed(world)
    names = _seeded_names(world)
    problems, checked = await _check(
        client, app, world, "console", world.operators["chaoyang"], ("/console",), ids, names
    )
    print("\nconsole pages checked:", len(checked))
    for url, words in problems.items():
        print("CONSOLE", url, words)
    assert len(checked) >= 20
    assert not problems, problems


async def test_no_english_on_chinese_portal_pages(client, app, world):
    ids = await _seed(world)
    names = _seeded_names(world)
    problems, checked = await _check(
        client, app, world, "provider", world.providers["chaoyang"]["owner"], ("/provider",), ids, names
    )
    print("\nportal pages checked:", len(checked))
    for url, words in problems.items():
        print("PORTAL", url, words)
    assert len(checked) >= 10
    assert not problems, problems


async def test_no_chinese_on_english_console_pages(client, app, world):
    ids = await _seed(world)
    problems, checked = await _check(
        client, app, world, "console", world.operators["chaoyang"], ("/console",), ids, set(), english=True
    )
    print("\nconsole pages checked in English:", len(checked))
    for url, runs in problems.items():
        print("CONSOLE", url, runs)
    assert len(checked) >= 20
    assert not problems, problems


async def test_no_chinese_on_english_portal_pages(client, app, world):
    ids = await _seed(world)
    problems, checked = await _check(
        client, app, world, "provider", world.providers["chaoyang"]["owner"], ("/provider",), ids, set(), english=True
    )
    print("\nportal pages checked in English:", len(checked))
    for url, runs in problems.items():
        print("PORTAL", url, runs)
    assert len(checked) >= 10
    assert not problems, problems


@pytest.mark.unit
def test_the_check_finds_chinese_outside_the_data():
    html = '<main><p>Decision: 已下架</p><p>力美健健身</p><a href="/lang/zh_Hans">简体中文</a><script>"隐藏"</script></main>'
    assert chinese_runs(html, "力美健健身(望京店)\n") == ["已下架"]


@pytest.mark.unit
def test_the_check_finds_english_and_lets_names_and_codes_pass():
    html = (
        '<main><p>决定：delist</p><input placeholder="Search"><span class="mono">91110105MA01ABCD1X</span>'
        '<p>用 Excel 打开 CSV，账号 op_chaoyang，券码 K7Q9-2MXD</p><script>let x = "hidden";</script></main>'
    )
    assert english_words(html, set()) == ["delist", "Search"]
