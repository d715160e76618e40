"""Realistic demo data for one city (Beijing), fast enough for millions of members.

`seed(members, providers, offers)` appends demo data to the reference rows that the
data migrations made (national node, member groups, categories): the demo city's
federation tree, operators, the evaluator organisation and the demo accounts are
created only when missing, and the members, providers and offers asked for are added
each time. Bulk rows go in with COPY on one raw asyncpg connection, in chunks.

Unique values are derived from the row's own id (reserved from its sequence before the
row is built), through fixed bijections, so they never collide with an earlier run:
- phone number: an affine permutation of the member id over (prefix, 8 digits);
- resident ID number: an affine permutation of the member id over
  (area code, birth date, sequence number), with the GB 11643 check digit;
- unified social credit code: the provider id in the organisation-code part, with the
  GB 11714 and GB 32100 check characters.
Faker is slow per call, so names come from pools built once per run.
"""

import asyncio
import importlib
import json
import math
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import NotRequired, TypedDict
from zoneinfo import ZoneInfo

from catalog import services as catalog_services
from marketplace.core import pii, reference_data as ref
from marketplace.core.db import engine
from marketplace.core.federation.services import id_check_digit
from marketplace.core.identity.passwords import hash_password_blocking
from marketplace.points import services as points
from marketplace.seed import catalogue as cat, history as seed_history, pictures as seed_pictures
from providers.credit_codes import (
    CREDIT_CHARS,
    credit_code_check_char,
    organisation_code_check_char,
)

Progress = Callable[[str, int, int], None]
# The data migrations that make the reference rows (see `_Seeder.ensure_reference_rows`).
REFERENCE_MIGRATIONS = (
    "migrations.marketplace.marketplace_0012_reference_data",
    "migrations.catalog.catalog_0007_categories",
)
SHANGHAI = ZoneInfo("Asia/Shanghai")

MEMBER_PASSWORD = "member123"
PROVIDER_PASSWORD = "provider123"
OPERATOR_PASSWORD = "operator123"

MEMBER_CHUNK = 50_000
OFFER_CHUNK = 20_000
PROVIDER_CHUNK = 5_000
# Providers (by their index in a run) served by the demo district's union (Chaoyang) whatever
# the draw, so that its operator has shops of their own to look after at any size of seed.
DISTRICT_SHOPS = (2, 5)
HEBEI_SUBMITTED = 3  # Hebei's listings waiting for its operator's review

# --- Check characters ------------------------------------------------------------


def credit_code(district_code: str, org_body: str, registration: str = "91") -> str:
    """`registration` is the registering authority and kind: 91 enterprise, 92
    individual business; `org_body` the first 8 characters of the organisation code."""
    first17 = registration + district_code + org_body + organisation_code_check_char(org_body)
    return first17 + credit_code_check_char(first17)


# --- Unique values from ids ------------------------------------------------------


def _coprime_multiplier(modulus: int, start: int) -> int:
    a = start % modulus
    while math.gcd(a, modulus) != 1:
        a += 1
    return a


_PHONE_SPACE = len(ref.PHONE_PREFIXES) * 100_000_000
_PHONE_A = _coprime_multiplier(_PHONE_SPACE, 2_654_435_761)
_PHONE_B = 48_271_933

_ID_AREAS = [d["code"] for d in ref.DISTRICTS] + ref.ID_AREAS_BEIJING_EXTRA + ref.ID_AREAS_ELSEWHERE
_BEIJING_ID_AREAS = frozenset(a for a in _ID_AREAS if a.startswith("11"))
_BIRTH_FIRST = date(1960, 1, 1)
_BIRTH_DAYS = (date(2004, 12, 31) - _BIRTH_FIRST).days + 1
_ID_SEQUENCES = 450  # sequence numbers 000-899 (parity = gender); 900-999 are kept for demo rows
_ID_SPACE = len(_ID_AREAS) * _BIRTH_DAYS * _ID_SEQUENCES
_ID_A = _coprime_multiplier(_ID_SPACE, 1_103_515_245)
_ID_B = 12_345_678
_ORG_SPACE = 31**5
_ORG_A = _coprime_multiplier(_ORG_SPACE, 16_807_001)


def phone_for(member_id: int) -> str:
    index = (_PHONE_A * member_id + _PHONE_B) % _PHONE_SPACE
    prefix, suffix = ref.PHONE_PREFIXES[index % len(ref.PHONE_PREFIXES)], index // len(ref.PHONE_PREFIXES)
    phone = f"{prefix}{suffix:08d}"
    if phone == DEMO_MEMBER["phone"]:  # 192 is never generated otherwise
        phone = "192" + phone[3:]
    return phone


def id_number_for(member_id: int, male: bool) -> tuple[str, date]:
    """A resident ID number unique to this member id, and the birth date it encodes."""
    index = (_ID_A * member_id + _ID_B) % _ID_SPACE
    index, sequence = divmod(index, _ID_SEQUENCES)
    area, day = divmod(index, _BIRTH_DAYS)
    born = _BIRTH_FIRST + timedelta(days=day)
    first17 = f"{_ID_AREAS[area]}{born:%Y%m%d}{sequence * 2 + male:03d}"
    return first17 + id_check_digit(first17), born


def _org_body(provider_id: int) -> str:
    index = (_ORG_A * provider_id) % _ORG_SPACE
    chars = []
    for _ in range(5):
        index, digit = divmod(index, 31)
        chars.append(CREDIT_CHARS[digit])
    return "MA0" + "".join(reversed(chars))


# --- Demo accounts ---------------------------------------------------------------

OPERATORS = [
    ("admin", "全国总工会系统管理员", ref.NATIONAL["code"]),
    ("beijing", "北京市总工会运营专员", ref.BEIJING["code"]),
    ("chaoyang", "朝阳区总工会运营专员", "110105"),
    ("hebei", "河北省总工会运营专员", ref.HEBEI["province"]["code"]),
    ("shijiazhuang", "石家庄市总工会运营专员", ref.HEBEI["city"]["code"]),
]

# Hebei's side of the demo: two cities under the province, each with one district of member
# units (Shijiazhuang's is the reference data's), so that the province's operator has a
# realistic subtree of its own. `dial`: the cities' landline prefix, for the shops' phones.
HEBEI_CITIES: list[dict] = [
    {
        "city": ref.HEBEI["city"],
        "district": ref.HEBEI["district"],
        "dial": "0311",
        "grassroots": ref.HEBEI["grassroots"]
        + [
            ("H", "长安区外卖配送行业联合工会", "Chang'an Food Delivery Industry Union"),
            ("G", "石家庄市长安区建北街道联合工会", "Chang'an Jianbei Subdistrict Joint Union"),
            ("G", "石家庄市长安区教育系统工会", "Chang'an Education System Trade Union"),
        ],
    },
    {
        "city": {"code": "130600", "name_zh": "保定市总工会", "name_en": "Baoding Federation of Trade Unions"},
        "district": {
            "code": "130602",
            "name_zh": "竞秀区",
            "name_en": "Jingxiu",
            "city_zh": "河北省保定市",
            "lat": 38.8770,
            "lng": 115.4590,
            "radius_km": 3.0,
            "weight": 1.0,
            "subdistricts": [("先锋街道", "Xianfeng"), ("东风街道", "Dongfeng"), ("新市场街道", "Xinshichang")],
            "roads": ["朝阳北大街", "东风中路", "七一中路", "长城北大街"],
        },
        "dial": "0312",
        "grassroots": [
            ("H", "竞秀区快递物流行业联合工会", "Jingxiu Express and Logistics Industry Union"),
            ("G", "保定市竞秀区先锋街道联合工会", "Jingxiu Xianfeng Subdistrict Joint Union"),
            ("G", "保定市竞秀区东风街道联合工会", "Jingxiu Dongfeng Subdistrict Joint Union"),
            ("G", "保定市竞秀区教育系统工会", "Jingxiu Education System Trade Union"),
        ],
    },
]


class DemoMember(TypedDict):
    phone: str
    name: str
    gender: str
    groups: list[str]
    node_code: str
    id_first17: str
    id_number: NotRequired[str]  # from id_first17, below


class DemoProvider(TypedDict):
    name: str
    kind: str
    district: str
    credit_code: str
    contact_name: str
    contact_phone: str
    location: tuple[str, float, float]  # address, latitude, longitude
    owner: str
    staff: str
    payout_account: str


DEMO_MEMBER: DemoMember = {
    "phone": "13800138000",
    "name": "王小芳",
    "gender": "F",
    "groups": ["women", "gig"],
    "node_code": "110105H001",  # 朝阳区快递行业联合工会
    "id_first17": "11010519920308942",  # sequence 942: outside the generated range
}
DEMO_MEMBER_POINTS = 2000
DEMO_MEMBER["id_number"] = DEMO_MEMBER["id_first17"] + id_check_digit(DEMO_MEMBER["id_first17"])

DEMO_PROVIDER: DemoProvider = {
    "name": "力美健健身(望京店)",
    "kind": "gym",
    "district": "110105",
    "credit_code": credit_code("110105", "MB000001"),  # MB…: outside the generated MA0… range
    "contact_name": "李建国",
    "contact_phone": "13911112222",
    "location": ("北京市朝阳区望京街道阜通东大街6号", 39.9966, 116.4802),
    "owner": "demo_owner",
    "staff": "demo_staff",
    "payout_account": "acct_1DemoLiMeiJian0001",  # the fake payout gateway's connected account
}

EVALUATOR_ORG = "北京市社情民意调查中心"

DEMO_ACCOUNTS = [
    {
        "kind": "member",
        "area": "会员 Member",
        "path": "/login",
        "username": DEMO_MEMBER["phone"],
        "password": MEMBER_PASSWORD,
        "display_name": DEMO_MEMBER["name"],
    },
    {
        "kind": "provider",
        "area": "服务商 Provider (owner)",
        "path": "/provider/login",
        "username": DEMO_PROVIDER["owner"],
        "password": PROVIDER_PASSWORD,
        "display_name": "李建国",
    },
    {
        "kind": "provider",
        "area": "服务商 Provider (staff)",
        "path": "/provider/login",
        "username": DEMO_PROVIDER["staff"],
        "password": PROVIDER_PASSWORD,
        "display_name": "前台 张丽",
    },
] + [
    {
        "kind": "operator",
        "area": f"运营 Operator ({username})",
        "path": "/console/login",
        "username": username,
        "password": OPERATOR_PASSWORD,
        "display_name": display_name,
    }
    for username, display_name, _ in OPERATORS
]


async def demo_evaluator_key() -> str:
    """The demo evaluator's API key, the same at every start of the same data: keys are
    stored hashed, so the demo keeps the one it issued in var/ (readable by its owner only)
    and issues a new one only when that one no longer works (new data, or revoked)."""
    from evaluation.evaluators import services as evaluation
    from marketplace.runtime.paths import var_dir

    path = var_dir() / "demo-evaluator-key"
    if path.exists():
        key = path.read_text().strip()
        if await evaluation.authenticate_api_key(key) is not None:
            return key
    org = await evaluation.find_org(EVALUATOR_ORG)
    if org is None:
        raise RuntimeError("the demo evaluator organisation is missing: seed the data first")
    key = await evaluation.rotate_api_key(org["id"])
    path.write_text(key + "\n")
    path.chmod(0o600)
    return key


GUIDE_WIDTH = 80


def demo_guide(base: str, evaluator_key: str) -> str:
    """The demo's guide: each place, its address and its sign-in, one value per line so
    that nothing is cut in an 80-column terminal."""
    lines = ["Benefits marketplace demo (工会普惠服务平台)", "=" * 42, ""]
    places = [
        (account["area"], base + account["path"], f"{account['username']} / {account['password']}")
        for account in DEMO_ACCOUNTS
    ]
    places += [
        ("评价机构 Evaluator desk", base + "/evaluator/", "API key (sign in with it):"),
        ("", "", evaluator_key),
        ("API docs", base + "/api/docs", ""),
        ("Readiness", base + "/ready", ""),
    ]
    for area, address, sign_in in places:
        if area:
            lines.append(area)
        if address:
            lines.append(f"  {address}")
        if sign_in:
            lines.append(f"  {sign_in}")
    lines += [
        "",
        "Member 13800138000 has vouchers in every state and points to spend;",
        "demo_staff redeems at /provider/counter; operator 'beijing' reviews the",
        "city's scorecards (/console/scorecards) and cases (/console/cases);",
        "'chaoyang' runs its district: a campaign, cases, two draws (/console/draws),",
        "roster imports (/console/roster) and payment disputes (/console/disputes).",
        "'shijiazhuang' (Hebei) finds shops on watch, warning and probation and its",
        "gym's class packages in escrow (/console/prepaid).",
        "The member's draw result is in 消息 (/messages); she may enter the open draw.",
        "Administrators and reviewers set up two-factor sign-in (an",
        "authenticator app) at their first console sign-in. No real texts are",
        "sent: codes for activation, sign-in by code and password reset are at",
        f"{base}/dev/sms",
    ]
    return "\n".join(lines)


def _columns(text: str) -> int:
    """Terminal columns: East Asian wide characters take two."""
    import unicodedata

    return sum(2 if unicodedata.east_asian_width(char) in "WF" else 1 for char in text)


@dataclass
class SeedReport:
    """What one `seed` call created, and how long each stage took (seconds)."""

    union_nodes: int = 0
    member_groups: int = 0
    categories: int = 0
    operators: int = 0
    evaluator_orgs: int = 0
    members: int = 0
    providers: int = 0
    locations: int = 0
    provider_users: int = 0
    offers: int = 0
    pictures: int = 0  # covers drawn (one per title)
    history: "seed_history.Report | None" = None  # None: there was history already, or none was asked for
    seconds: dict[str, float] = field(default_factory=dict)

    @property
    def total_seconds(self) -> float:
        return sum(self.seconds.values())


async def has_data() -> bool:
    """True once a seed has run to its end (its last stage writes the history, or offers
    when no history was asked for)."""
    connection = await engine().get_new_connection()
    try:
        return await connection.fetchval("SELECT EXISTS (SELECT 1 FROM offer)")
    finally:
        await connection.close()


async def seed(
    members: int, providers: int, offers: int, progress: Progress | None = None, *, history: bool = True
) -> SeedReport:
    """Add members, providers and offers; with `history`, and when the database has none
    yet, 90 days of the city's history (marketplace/seed/history.py)."""
    report = SeedReport()
    notify = progress or (lambda stage, done, total: None)
    connection = await engine().get_new_connection()
    try:
        seeder = _Seeder(connection, report, notify, members)
        await seeder.stage("reference", seeder.reference)
        await seeder.stage("members", seeder.members, members)
        await seeder.stage("providers", seeder.providers, providers)
        await seeder.stage("offers", seeder.offers, offers)
        if history:  # pictures are drawn (CPU, in threads) while the history waits on PostgreSQL
            await seeder.stage("pictures+history", seeder.pictures_and_history)
        else:
            await seeder.stage("pictures", seeder.pictures, connection)
    finally:
        await connection.close()
    return report


# --- The work --------------------------------------------------------------------


def _now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def _day_start(moment: datetime) -> datetime:
    """Midnight opening `moment`'s day in Beijing, in UTC."""
    local = moment.astimezone(SHANGHAI)
    return local.replace(hour=0, minute=0, second=0, microsecond=0).astimezone(UTC)


def _point_in(district: ref.District, rng: random.Random) -> tuple[float, float]:
    """A uniformly drawn point within the district's radius."""
    distance = district["radius_km"] * math.sqrt(rng.random())
    angle = rng.random() * 2 * math.pi
    lat = district["lat"] + distance * math.sin(angle) / 111.0
    lng = district["lng"] + distance * math.cos(angle) / (111.32 * math.cos(math.radians(district["lat"])))
    return round(lat, 6), round(lng, 6)


def _short_place(subdistrict: str) -> str:
    for suffix in ("街道", "地区", "镇"):
        if subdistrict.endswith(suffix):
            return subdistrict[: -len(suffix)]
    return subdistrict


def _name_pools(rng_seed: int, size: int = 5000) -> tuple[list[str], list[str]]:
    from faker import Faker

    fake = Faker("zh_CN")
    fake.seed_instance(rng_seed)
    # Faker's zh_CN name_male()/name_female() mix the sexes' given names; build them here.
    female = list({fake.last_name() + fake.first_name_female() for _ in range(size)})
    male = list({fake.last_name() + fake.first_name_male() for _ in range(size)})
    return female, male


class _Seeder:
    def __init__(self, connection, report: SeedReport, notify: Progress, members: int):
        self.db = connection
        self.report = report
        self.notify = notify
        self.member_target = members
        self.rng = random.Random()  # seeded in `reference`: the same city from the same sizes
        self.now = _now()
        self.hashes: dict[str, str] = {}
        self.nodes: dict[str, dict] = {}  # code -> row
        self.categories: dict[str, int] = {}
        self._pools: tuple[list[str], list[str]] | None = None
        self.new_providers: list[dict] = []  # made by this run, for its offers
        self.node_ids: list[int] = []  # reserved for union nodes, not used yet
        self.new_nodes: list[tuple] = []  # union nodes made, not written yet

    # helpers

    async def stage(self, name: str, work, *args) -> None:
        started = time.perf_counter()
        await work(*args)
        self.report.seconds[name] = round(time.perf_counter() - started, 2)

    def password(self, plain: str) -> str:
        if plain not in self.hashes:
            self.hashes[plain] = hash_password_blocking(plain)
        return self.hashes[plain]

    @property
    def pools(self) -> tuple[list[str], list[str]]:
        if self._pools is None:
            self._pools = _name_pools(self.rng.randrange(1 << 30))
        return self._pools

    async def reserve_ids(self, table: str, count: int) -> list[int]:
        rows = await self.db.fetch(
            "SELECT nextval(pg_get_serial_sequence($1, 'id')) AS id FROM generate_series(1, $2)", table, count
        )
        return [row["id"] for row in rows]

    async def pictures_and_history(self) -> None:
        connection = await engine().get_new_connection()
        try:
            drawing = asyncio.create_task(self.pictures(connection))
            try:
                await self.history()
            finally:
                await drawing
        finally:
            await connection.close()

    async def pictures(self, connection) -> None:
        """A cover for every listing but drafts (whose owners have not chosen one yet); one
        picture per title, drawn in two threads (Pillow lets go of the GIL while it works).
        Runs on a connection of its own, beside the history."""
        rows = await connection.fetch(
            "SELECT o.id, o.title_zh, o.kind, c.code FROM offer o JOIN category c ON c.id = o.category "
            "WHERE o.cover_image IS NULL AND o.status <> 'draft' ORDER BY o.id"
        )
        known = {
            row["title_zh"]: row["cover_image"]
            for row in await connection.fetch(
                "SELECT DISTINCT ON (title_zh) title_zh, cover_image FROM offer WHERE cover_image IS NOT NULL"
            )
        }
        wanted: dict[str, tuple[str, str]] = {}
        for row in rows:
            wanted.setdefault(row["title_zh"], (row["code"], row["kind"]))
        titles = [title for title in wanted if title not in known]
        self.notify("pictures", 0, len(titles))
        gate = asyncio.Semaphore(2)

        async def draw(title: str) -> None:
            async with gate:
                known[title] = await asyncio.to_thread(seed_pictures.stored_cover, *wanted[title], title)
                self.notify("pictures", sum(t in known for t in titles), len(titles))

        await asyncio.gather(*(draw(title) for title in titles))
        await connection.execute(
            "UPDATE offer o SET cover_image = c.name FROM unnest($1::varchar[], $2::varchar[]) AS c(title, name) "
            "WHERE o.title_zh = c.title AND o.cover_image IS NULL AND o.status <> 'draft'",
            list(known),
            list(known.values()),
        )
        self.report.pictures = len(titles)

    async def history(self) -> None:
        self.report.history = await seed_history.make_history(self.db, self.now, self.rng, self.notify)

    # reference rows

    async def reference(self) -> None:
        steps = 6
        async with self.db.transaction():
            # One seeder at a time builds the reference rows.
            await self.db.execute("SELECT pg_advisory_xact_lock(hashtext('benefits.seed'))")
            # The demo passwords' hashes, side by side (argon2 is slow on purpose and lets go of the GIL).
            await asyncio.gather(
                *(
                    asyncio.to_thread(self.password, plain)
                    for plain in (MEMBER_PASSWORD, PROVIDER_PASSWORD, OPERATOR_PASSWORD)
                )
            )
            self.notify("reference", 0, steps)
            await self.ensure_reference_rows()
            self.notify("reference", 1, steps)
            await self.ensure_tree()
            self.notify("reference", 2, steps)
            await self.ensure_operators()
            self.notify("reference", 3, steps)
            await self.ensure_evaluator()
            self.notify("reference", 4, steps)
            await self.ensure_demo_member()
            self.notify("reference", 5, steps)
            await self.ensure_demo_provider()
            self.notify("reference", 6, steps)
            # A fresh database gets the same city from the same sizes (tests and the demo
            # can count on the history's roles); an append draws anew.
            self.rng.seed(await self.db.fetchval("SELECT count(*) FROM provider") * 1_000_003 + 2026)

    async def load_nodes(self) -> None:
        rows = await self.db.fetch("SELECT id, parent, level, code, name_zh, path, depth FROM union_node")
        self.nodes = {row["code"]: dict(row) for row in rows}

    async def ensure_node(self, parent: dict | None, level: str, code: str, name_zh: str, name_en: str) -> dict:
        if code in self.nodes:
            return self.nodes[code]
        if not self.node_ids:  # ids reserved by the hundred: one round trip, not one a node
            self.node_ids = await self.reserve_ids("union_node", 100)
        node_id = self.node_ids.pop(0)
        path = (parent["path"] if parent else "/") + f"{node_id}/"
        depth = parent["depth"] + 1 if parent else 0
        self.new_nodes.append((node_id, parent["id"] if parent else None, level, code, name_zh, name_en, path, depth))
        row = {
            "id": node_id,
            "parent": parent["id"] if parent else None,
            "level": level,
            "code": code,
            "name_zh": name_zh,
            "path": path,
            "depth": depth,
        }
        self.nodes[code] = row
        self.report.union_nodes += 1
        return row

    def grassroots_target(self, district: ref.District) -> int:
        total_weight = sum(d["weight"] for d in ref.DISTRICTS)
        return max(10, min(60, round(self.member_target * district["weight"] / total_weight / 1200)))

    @staticmethod
    def grassroots_candidates(district: ref.District) -> list[tuple[str, str, str]]:
        """Every grassroots union the district may have, in a fixed order, as
        (code letter, name_zh, name_en): H for gig-industry unions, G for the others."""
        rng = random.Random(int(district["code"]))
        d, d_en = district["name_zh"], district["name_en"]
        gig = [("H", zh.format(d=d), en.format(d_en=d_en)) for zh, en in ref.GIG_UNIONS]
        public = [("G", zh.format(d=d), en.format(d_en=d_en)) for zh, en in ref.PUBLIC_INSTITUTIONS]
        streets = [("G", f"{zh}联合工会", f"{en} Subdistrict Joint Union") for zh, en in district["subdistricts"]]
        known = [("G", zh, en) for zh, en in ref.KNOWN_EMPLOYERS.get(district["code"], [])]
        companies: list[tuple[str, str, str]] = []
        seen: set[str] = set()
        forms, form_weights = [f[:2] for f in ref.COMPANY_FORMS], [f[2] for f in ref.COMPANY_FORMS]
        while len(companies) < 80:
            word, word_en = rng.choice(ref.COMPANY_WORDS)
            industry, industry_en = rng.choice(ref.COMPANY_INDUSTRIES)
            form, form_en = rng.choices(forms, form_weights)[0]
            name = f"北京{word}{industry}{form}工会"
            if name not in seen:
                seen.add(name)
                companies.append(("G", name, f"Beijing {word_en} {industry_en} {form_en} Trade Union"))
        tail = gig[3:] + public[2:] + streets[2:] + companies
        rng.shuffle(tail)
        return gig[:3] + known + public[:2] + streets[:2] + tail

    async def ensure_tree(self) -> None:
        await self.load_nodes()
        national = self.nodes[ref.NATIONAL["code"]]  # made by the reference data's migration
        beijing = await self.ensure_node(
            national, "city", ref.BEIJING["code"], ref.BEIJING["name_zh"], ref.BEIJING["name_en"]
        )
        for district in ref.DISTRICTS:
            node = await self.ensure_node(
                beijing,
                "district",
                district["code"],
                f"{district['name_zh']}总工会",
                f"{district['name_en']} District Federation of Trade Unions",
            )
            await self.ensure_grassroots(
                node, district, self.grassroots_target(district), self.grassroots_candidates(district)
            )
        province = await self.ensure_node(national, "province", **ref.HEBEI["province"])
        for place in HEBEI_CITIES:
            city = await self.ensure_node(province, "city", **place["city"])
            district = place["district"]
            node = await self.ensure_node(
                city,
                "district",
                district["code"],
                f"{district['name_zh']}总工会",
                f"{district['name_en']} District Federation of Trade Unions",
            )
            await self.ensure_grassroots(node, district, len(place["grassroots"]), place["grassroots"])
        # The new nodes in one COPY (parents first, as made).
        await self.db.copy_records_to_table(
            "union_node",
            records=self.new_nodes,
            columns=["id", "parent", "level", "code", "name_zh", "name_en", "path", "depth"],
        )
        self.new_nodes.clear()

    async def ensure_grassroots(self, parent: dict, district: ref.District, target: int, candidates) -> None:
        children = [n for n in self.nodes.values() if n["parent"] == parent["id"] and n["level"] == "grassroots"]
        names = {n["name_zh"] for n in children}
        used = {n["code"] for n in self.nodes.values()}
        for letter, name_zh, name_en in candidates:
            if len(children) >= target:
                break
            if name_zh in names:
                continue
            number = 1
            while f"{district['code']}{letter}{number:03d}" in used:
                number += 1
            code = f"{district['code']}{letter}{number:03d}"
            used.add(code)
            children.append(await self.ensure_node(parent, "grassroots", code, name_zh, name_en))
            names.add(name_zh)

    async def ensure_reference_rows(self) -> None:
        """The reference rows (national node, member groups, categories) come from data
        migrations; a database emptied since (the tests empty every table before each
        test) gets them back from the same statements, which keep rows that exist."""
        counts = (
            "SELECT (SELECT count(*) FROM union_node), (SELECT count(*) FROM member_group), "
            "(SELECT count(*) FROM category)"
        )
        before = await self.db.fetchrow(counts)
        for module in REFERENCE_MIGRATIONS:
            await self.db.execute(importlib.import_module(module).SQL)
        after = await self.db.fetchrow(counts)
        self.report.union_nodes += after[0] - before[0]
        self.report.member_groups += after[1] - before[1]
        self.report.categories += after[2] - before[2]
        rows = await self.db.fetch("SELECT id, code FROM category")
        self.categories = {row["code"]: row["id"] for row in rows}

    async def ensure_operators(self) -> None:
        for username, display_name, node_code in OPERATORS:
            inserted = await self.db.fetchval(
                "INSERT INTO operator (username, display_name, node, password_hash) VALUES ($1, $2, $3, $4) "
                "ON CONFLICT (username) DO NOTHING RETURNING id",
                username,
                display_name,
                self.nodes[node_code]["id"],
                self.password(OPERATOR_PASSWORD),
            )
            self.report.operators += inserted is not None

    async def ensure_evaluator(self) -> None:
        exists = await self.db.fetchval("SELECT EXISTS (SELECT 1 FROM evaluator_org WHERE name = $1)", EVALUATOR_ORG)
        if not exists:
            await self.db.execute(
                "INSERT INTO evaluator_org (name, node) VALUES ($1, $2)",
                EVALUATOR_ORG,
                self.nodes[ref.BEIJING["code"]]["id"],
            )
            self.report.evaluator_orgs += 1

    async def ensure_demo_member(self) -> None:
        phone = DEMO_MEMBER["phone"]
        if await self.db.fetchval("SELECT EXISTS (SELECT 1 FROM member WHERE phone_hash = $1)", pii.lookup_hash(phone)):
            return
        id_number = DEMO_MEMBER["id_number"]
        joined = self.now - timedelta(days=3 * 365)
        member_id = await self.db.fetchval(
            "INSERT INTO member (node, name, gender, birth_year, phone_cipher, phone_hash, phone_masked, "
            "id_number_cipher, id_number_hash, groups, password_hash, status, joined_at, created_at) "
            "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 'active', $12, $12) RETURNING id",
            self.nodes[DEMO_MEMBER["node_code"]]["id"],
            DEMO_MEMBER["name"],
            DEMO_MEMBER["gender"],
            int(id_number[6:10]),
            pii.encrypt(phone),
            pii.lookup_hash(phone),
            pii.mask_phone(phone),
            pii.encrypt(id_number),
            pii.lookup_hash(id_number),
            DEMO_MEMBER["groups"],
            self.password(MEMBER_PASSWORD),
            joined,
        )
        self.report.members += 1
        # Her welcome points of two years ago ran out unused (as the expiry run leaves a lot);
        # last year's grant of her union expires within the month (so the reminder and the
        # expiry date show) and pays for the demo's points offer. Written in time order.
        welcome = self.now - timedelta(days=720)
        await points.credit(self.db, member_id, "grant", 300, "seed:joined", reason="入会欢迎积分", now=welcome)
        lot = await self.db.fetchval("SELECT id FROM points_lot WHERE member = $1", member_id)
        await self.db.execute("UPDATE points_lot SET remaining = 0 WHERE id = $1", lot)
        await self.db.execute(
            "INSERT INTO points_entry (member, kind, amount, ref, created_at) VALUES ($1, 'expire', -300, $2, $3)",
            member_id,
            f"expire:seed:{lot}",
            welcome + timedelta(days=365, minutes=20),
        )
        await self.db.execute("UPDATE points_balance SET balance = balance - 300 WHERE member = $1", member_id)
        await points.credit(
            self.db,
            member_id,
            "grant",
            DEMO_MEMBER_POINTS,
            "seed:welcome",
            reason="年度会员积分",
            now=self.now - timedelta(days=340),
        )

    async def ensure_demo_provider(self) -> None:
        demo = DEMO_PROVIDER
        if await self.db.fetchval("SELECT EXISTS (SELECT 1 FROM provider WHERE credit_code = $1)", demo["credit_code"]):
            return
        # A chain that serves the whole city from its Chaoyang branch.
        city_node = self.nodes[ref.BEIJING["code"]]
        provider_id = await self.db.fetchval(
            "INSERT INTO provider (name, credit_code, kind, node, contact_name, contact_phone_cipher, "
            "contact_phone_masked, status, created_at, updated_at, payout_account) "
            "VALUES ($1, $2, $3, $4, $5, $6, $7, 'active', $8, $8, $9) RETURNING id",
            demo["name"],
            demo["credit_code"],
            demo["kind"],
            city_node["id"],
            demo["contact_name"],
            pii.encrypt(demo["contact_phone"]),
            pii.mask_phone(demo["contact_phone"]),
            self.now - timedelta(days=400),
            demo["payout_account"],
        )
        address, lat, lng = demo["location"]
        await self.db.execute(
            "INSERT INTO location (provider, name, address, district, latitude, longitude, opening_hours, phone) "
            "VALUES ($1, $2, $3, '朝阳区', $4, $5, $6, $7)",
            provider_id,
            demo["name"],
            address,
            lat,
            lng,
            json.dumps(cat.TYPES_BY_CODE["gym"].hours),
            "01064781234",
        )
        for username, display_name, role in (
            (demo["owner"], demo["contact_name"], "owner"),
            (demo["staff"], "张丽", "staff"),
        ):
            await self.db.execute(
                "INSERT INTO provider_user (provider, username, display_name, role, password_hash) "
                "VALUES ($1, $2, $3, $4, $5)",
                provider_id,
                username,
                display_name,
                role,
                self.password(PROVIDER_PASSWORD),
            )
        self.report.providers += 1
        self.report.locations += 1
        self.report.provider_users += 2
        # One published offer of every kind, and one for women workers, open to all of Beijing.
        brand = "力美健健身"
        provider = {
            "id": provider_id,
            "name": demo["name"],
            "brand": brand,
            "kind": "gym",
            "type": "gym",
            "node": city_node["id"],
            "status": "active",
            "hebei": False,
            "created": self.now - timedelta(days=400),
        }
        templates = cat.TYPES_BY_CODE["gym"].offers
        wanted = [next(t for t in templates if t.kind == kind) for kind in ref.OFFER_KINDS]
        wanted.append(next(t for t in templates if t.groups == ("women",)))
        rng = random.Random(1)
        records = [
            self.offer_record(rng, provider, template, status="published", stock=(500, 500)) for template in wanted
        ]
        await self.copy_offers(records)

    # members

    async def members(self, count: int) -> None:
        if count <= 0:
            return
        beijing_path = self.nodes[ref.BEIJING["code"]]["path"]
        district_weight = {d["code"]: d["weight"] for d in ref.DISTRICTS}
        gig_nodes, gig_weights, other_nodes, other_weights, hebei_nodes = [], [], [], [], []
        for node in self.nodes.values():
            if node["level"] != "grassroots":
                continue
            district_code = node["code"][:6]
            if not node["path"].startswith(beijing_path):
                hebei_nodes.append(node["id"])
                continue
            size = random.Random(node["id"]).lognormvariate(0, 0.8) * district_weight.get(district_code, 1.0)
            if node["code"][6] == "H":
                gig_nodes.append(node["id"])
                gig_weights.append(size)
            else:
                other_nodes.append(node["id"])
                other_weights.append(size)
        # Hebei's members: one in twelve, enough for its operator's desk to have a history
        # (the history samples its active members from all of them).
        hebei_count = min(2000, count // 12)
        female_names, male_names = self.pools
        plan = dict(
            gig=(gig_nodes, gig_weights),
            other=(other_nodes, other_weights),
            hebei=hebei_nodes,
            female=female_names,
            male=male_names,
            password=self.password(MEMBER_PASSWORD),
        )

        columns = [
            "id",
            "node",
            "name",
            "gender",
            "birth_year",
            "phone_cipher",
            "phone_hash",
            "phone_masked",
            "id_number_cipher",
            "id_number_hash",
            "groups",
            "password_hash",
            "status",
            "joined_at",
            "created_at",
        ]
        done = 0
        self.notify("members", 0, count)
        pending: asyncio.Task | None = None
        ids = await self.reserve_ids("member", min(MEMBER_CHUNK, count))
        while done < count:
            size = len(ids)
            hebei_here = max(0, min(size, hebei_count - done))
            # Build this chunk in a thread while the previous one is being copied.
            records = await asyncio.to_thread(
                _member_records, ids, plan, hebei_here, self.rng.randrange(1 << 62), self.now
            )
            if pending is not None:
                await pending
                self.notify("members", done, count)
            done += size
            if done < count:  # the connection is free between two COPYs
                ids = await self.reserve_ids("member", min(MEMBER_CHUNK, count - done))
            pending = asyncio.create_task(self.db.copy_records_to_table("member", records=records, columns=columns))
            self.report.members += size
        if pending is not None:
            await pending
        self.notify("members", count, count)

    # providers

    async def providers(self, count: int) -> None:
        if count <= 0:
            return
        rng = self.rng
        female_names, male_names = self.pools
        types = cat.PROVIDER_TYPES
        type_weights = [t.weight for t in types]
        districts = ref.DISTRICTS
        district_weights = [d["weight"] for d in districts]
        # Hebei's shops: the last of a run (one in fifteen, two at least), so that its operator
        # has providers, listings and a history of its own; seeds of a handful stay in Beijing.
        hebei_count = 0 if count < 10 else max(2, count // 15)
        beijing_node = self.nodes[ref.BEIJING["code"]]["id"]
        demo_district = next(d for d in districts if d["code"] == DEMO_PROVIDER["district"])
        provider_hash = self.password(PROVIDER_PASSWORD)
        used_names: dict[str, int] = {}
        done = 0
        self.notify("providers", 0, count)
        while done < count:
            size = min(PROVIDER_CHUNK, count - done)
            ids = await self.reserve_ids("provider", size)
            providers, locations, users = [], [], []
            for offset, provider_id in enumerate(ids):
                index = done + offset
                # The first providers show every category (and so every kind) once.
                hebei = index >= count - hebei_count
                # Hebei's shops take turns between its cities: each has some whatever the size.
                place = HEBEI_CITIES[(count - index) % len(HEBEI_CITIES)] if hebei else None
                # Hebei's last-but-one shop (Shijiazhuang's at any size) is a gym selling class
                # packages, so that the city's escrow has money to show (see `hebei_listing`).
                hebei_gym = hebei and count - index == len(HEBEI_CITIES)
                kind_type = (
                    cat.TYPES_BY_CODE["gym"]
                    if hebei_gym
                    else cat.TYPES_BY_CODE[SHOWCASE_TYPES[index]]
                    if index < len(SHOWCASE_TYPES)
                    else rng.choices(types, type_weights)[0]
                )
                home = place["district"] if place else rng.choices(districts, district_weights)[0]
                if index in DISTRICT_SHOPS and not hebei:  # the demo district's own shops
                    home = demo_district
                brand = rng.choice(cat.hebei_brands(kind_type) if place else kind_type.brands)
                subdistrict = rng.choice(home["subdistricts"])[0]
                name = self.unique_name(used_names, brand, _short_place(subdistrict), kind_type.branch)
                if place:  # a city-wide chain now and then, else the district's shop
                    node = self.nodes[place["city" if rng.random() < 0.3 else "district"]["code"]]["id"]
                else:
                    node = beijing_node if rng.random() < 0.3 else self.nodes[home["code"]]["id"]
                if index in DISTRICT_SHOPS and not hebei:
                    node = self.nodes[home["code"]]["id"]
                status = (
                    "active"
                    if index < len(SHOWCASE_TYPES) or hebei_gym
                    else rng.choices(["active", "applied", "suspended"], [90, 6, 4])[0]
                )
                registration = "92" if kind_type.kind in ("restaurant", "merchant") and rng.random() < 0.15 else "91"
                contact = rng.choice(female_names if rng.random() < 0.5 else male_names)
                created = self.now - timedelta(
                    days=rng.uniform(100, 730) if status != "applied" else rng.uniform(0.2, 6)
                )
                phone = self.random_phone(rng)
                providers.append(
                    (
                        provider_id,
                        name,
                        credit_code(home["code"], _org_body(provider_id), registration),
                        kind_type.kind,
                        node,
                        contact,
                        pii.encrypt(phone),
                        pii.mask_phone(phone),
                        status,
                        created,
                        created,
                    )
                )
                self.new_providers.append(
                    {
                        "id": provider_id,
                        "name": name,
                        "brand": brand,
                        "type": kind_type.code,
                        "kind": kind_type.kind,
                        "node": node,
                        "status": status,
                        "hebei": hebei,
                        "hebei_gym": hebei_gym,
                        "created": created,
                    }
                )
                places = [(home, subdistrict)]
                for _ in range(rng.choices([0, 1, 2], [70, 20, 10])[0]):
                    other = (
                        home
                        if hebei or node != beijing_node or rng.random() < 0.5
                        else rng.choices(districts, district_weights)[0]
                    )
                    places.append((other, rng.choice(other["subdistricts"])[0]))
                for number, (district, sub) in enumerate(places):
                    location_name = name if number == 0 else f"{brand}({_short_place(sub)}{kind_type.branch or '分部'})"
                    lat, lng = _point_in(district, rng)
                    city = district.get("city_zh", ref.BEIJING["city_zh"])
                    address = f"{city}{district['name_zh']}{sub}{rng.choice(district['roads'])}{rng.randint(1, 299)}号"
                    if rng.random() < 0.3:
                        address += f"{rng.randint(1, 12)}号楼{rng.randint(1, 3)}层"
                    # The shop's public phone: a landline of its city (its own random source, so
                    # that the rest of the seed stays as it was).
                    dial = random.Random(provider_id * 8 + number)
                    phone = (
                        f"{place['dial']}{dial.randint(6000000, 8999999)}"
                        if place
                        else f"010{dial.randint(50000000, 89999999)}"
                    )
                    locations.append(
                        (
                            provider_id,
                            location_name,
                            address,
                            district["name_zh"],
                            lat,
                            lng,
                            json.dumps(kind_type.hours),
                            phone,
                        )
                    )
                users.append((provider_id, f"p{provider_id}_owner", contact, "owner", provider_hash, created))
                for staff in range(1, rng.randint(1, 2) + 1):
                    staff_name = rng.choice(female_names if rng.random() < 0.6 else male_names)
                    users.append(
                        (provider_id, f"p{provider_id}_staff{staff}", staff_name, "staff", provider_hash, created)
                    )
            async with self.db.transaction():
                await self.db.copy_records_to_table(
                    "provider",
                    records=providers,
                    columns=[
                        "id",
                        "name",
                        "credit_code",
                        "kind",
                        "node",
                        "contact_name",
                        "contact_phone_cipher",
                        "contact_phone_masked",
                        "status",
                        "created_at",
                        "updated_at",
                    ],
                )
                await self.db.copy_records_to_table(
                    "location",
                    records=locations,
                    columns=[
                        "provider",
                        "name",
                        "address",
                        "district",
                        "latitude",
                        "longitude",
                        "opening_hours",
                        "phone",
                    ],
                )
                await self.db.copy_records_to_table(
                    "provider_user",
                    records=users,
                    columns=["provider", "username", "display_name", "role", "password_hash", "created_at"],
                )
            done += size
            self.report.providers += size
            self.report.locations += len(locations)
            self.report.provider_users += len(users)
            self.notify("providers", done, count)

    @staticmethod
    def unique_name(used: dict[str, int], brand: str, place: str, branch: str) -> str:
        """力美健健身(望京店), then 力美健健身(望京二店), ... within one run."""
        key = f"{brand}({place}"
        used[key] = used.get(key, 0) + 1
        n = used[key]
        ordinal = "" if n == 1 else "二三四五六七八九十"[n - 2] if n <= 10 else str(n)
        return f"{key}{ordinal}{branch})"

    @staticmethod
    def random_phone(rng: random.Random) -> str:
        return rng.choice(ref.PHONE_PREFIXES) + f"{rng.randrange(100_000_000):08d}"

    # offers

    async def offers(self, count: int) -> None:
        if count <= 0:
            return
        providers = self.new_providers or await self.existing_providers()
        if not providers:
            raise RuntimeError("offers need providers: seed some providers first")
        rng = self.rng
        owners = self.offer_owners(rng, providers, count)
        done = 0
        self.notify("offers", 0, count)
        seen: dict[int, set[int]] = {}  # provider → templates it already lists: no listing twice while others remain
        # What Hebei's operators are sure to find (see `hebei_listing`).
        hebei = {"paid": 0, "voucher": 0, "prepaid": 0, "submitted": 0}
        while done < count:
            size = min(OFFER_CHUNK, count - done)
            records = []
            for index in range(done, done + size):
                provider = owners[index]
                templates = list(cat.TYPES_BY_CODE[provider["type"]].offers)
                wanted_kind = ref.OFFER_KINDS[index] if index < len(ref.OFFER_KINDS) else None
                listed = seen.setdefault(provider["id"], set())
                status: str | None = None
                subsidised: bool | None = False
                if provider["hebei"] and provider["status"] == "active":
                    wanted_kind, status, subsidised = self.hebei_listing(
                        hebei, templates, listed, wanted_kind, provider.get("hebei_gym", False)
                    )
                if wanted_kind and any(t.kind == wanted_kind for t in templates):  # every kind of offer appears
                    templates = [t for t in templates if t.kind == wanted_kind]
                fresh = [t for t in templates if id(t) not in listed] or templates
                template = rng.choice(fresh)
                listed.add(id(template))
                records.append(self.offer_record(rng, provider, template, status=status, subsidised=subsidised))
            await self.copy_offers(records)
            done += size
            self.notify("offers", done, count)

    @staticmethod
    def hebei_listing(
        hebei: dict, templates: list[cat.OfferTemplate], listed: set, wanted_kind: str | None, hebei_gym: bool = False
    ) -> tuple[str | None, str | None, bool | None]:
        """(kind, status, subsidised) of an active Hebei shop's next listing: the first that can
        is a paid offer on sale with a union subsidy (so the province has card payments, a
        dispute and a campaign that burns, whatever the draw), the next a free voucher (for
        its draws); then the second listings of a few shops wait for review (待审核). Shijiazhuang's
        gym lists a class package on sale first (for the escrow the city's members buy into,
        `seed/packages.py`), without a subsidy: the province's running campaign covers fitness
        with a cap per member far below a package's share, and would refuse every purchase."""
        if hebei_gym and not hebei["prepaid"] and any(t.kind == "prepaid" for t in templates):
            hebei["prepaid"] += 1
            return "prepaid", "published", None
        if not hebei["paid"] and any(t.kind == "paid" for t in templates):
            hebei["paid"] += 1
            return "paid", "published", True
        if not hebei["voucher"] and any(t.kind == "voucher" for t in templates):
            hebei["voucher"] += 1
            return "voucher", "published", False
        if listed and hebei["submitted"] < HEBEI_SUBMITTED:
            hebei["submitted"] += 1
            return wanted_kind, "submitted", False
        return wanted_kind, None, False

    @staticmethod
    def offer_owners(rng: random.Random, providers: list[dict], count: int) -> list[dict]:
        """Who lists each of `count` offers: every provider one (while there are enough),
        popular providers more, each at most as many as its type has templates until every
        provider has them all (a gym lists its monthly pass once, not three times)."""
        if count < len(providers):
            return rng.sample(providers, count)
        owners = list(providers)
        room = {p["id"]: len(cat.TYPES_BY_CODE[p["type"]].offers) - 1 for p in providers}
        weights = {p["id"]: rng.lognormvariate(0, 1) for p in providers}
        open_ = [p for p in providers if room[p["id"]] > 0]
        while len(owners) < count and open_:
            batch = rng.choices(open_, [weights[p["id"]] for p in open_], k=min(count - len(owners), 5000))
            for provider in batch:
                if room[provider["id"]] > 0 and len(owners) < count:
                    room[provider["id"]] -= 1
                    owners.append(provider)
            open_ = [p for p in open_ if room[p["id"]] > 0]
        owners += rng.choices(providers, k=count - len(owners))  # more offers than templates: repeats
        rng.shuffle(owners)
        return owners

    async def existing_providers(self) -> list[dict]:
        rows = await self.db.fetch(
            "SELECT p.id, p.name, p.kind, p.node, p.status, p.created_at, n.path FROM provider p "
            "JOIN union_node n ON n.id = p.node WHERE p.credit_code <> $1",
            DEMO_PROVIDER["credit_code"],
        )
        hebei_path = self.nodes[ref.HEBEI["province"]["code"]]["path"]
        fallback = {t.kind: t.code for t in reversed(cat.PROVIDER_TYPES)}  # the first type of each kind
        providers = []
        for row in rows:
            brand = row["name"].split("(")[0]
            providers.append(
                {
                    "id": row["id"],
                    "name": row["name"],
                    "brand": brand,
                    "kind": row["kind"],
                    "type": cat.TYPE_OF_BRAND.get(brand) or fallback.get(row["kind"], "supermarket"),
                    "node": row["node"],
                    "status": row["status"],
                    "created": row["created_at"],
                    "hebei": row["path"].startswith(hebei_path),
                }
            )
        return providers

    async def copy_offers(self, records: list[tuple]) -> None:
        last = await self.db.fetchval("SELECT coalesce(max(id), 0) FROM offer")
        await self.db.copy_records_to_table(
            "offer",
            records=records,
            columns=[
                "provider",
                "category",
                "kind",
                "title_zh",
                "title_en",
                "description_zh",
                "description_en",
                "list_price_fen",
                "member_price_fen",
                "subsidy_fen",
                "points_price",
                "stock_total",
                "stock_left",
                "per_member_limit",
                "node_scope",
                "groups",
                "status",
                "valid_from",
                "valid_to",
                "created_at",
                "tags",
                "terms_zh",
                "limit_period",
                "published_at",
                "updated_at",
                "package_sessions",
                "package_months",
            ],
        )
        # The new offers can be used at every location of their provider; a booking offer
        # gets two slots a day (10:00 and 19:00 in Beijing) for the coming week.
        await self.db.execute(
            "INSERT INTO offer_location (offer, location) SELECT o.id, l.id FROM offer o "
            "JOIN location l ON l.provider = o.provider WHERE o.id > $1",
            last,
        )
        await self.db.execute(
            "INSERT INTO offer_slot (offer, starts_at, ends_at, capacity) "
            "SELECT o.id, date_trunc('day', now() AT TIME ZONE 'Asia/Shanghai') AT TIME ZONE 'Asia/Shanghai' "
            "  + make_interval(days => d, hours => h), "
            "  date_trunc('day', now() AT TIME ZONE 'Asia/Shanghai') AT TIME ZONE 'Asia/Shanghai' "
            "  + make_interval(days => d, hours => h + 1), 10 "
            "FROM offer o CROSS JOIN generate_series(1, 7) AS d CROSS JOIN (VALUES (10), (19)) AS hours (h) "
            "WHERE o.id > $1 AND o.kind = 'slot'",
            last,
        )
        self.report.offers += len(records)

    def offer_record(
        self,
        rng: random.Random,
        provider: dict,
        template: cat.OfferTemplate,
        status: str | None = None,
        stock: tuple[int, int] | None = None,
        subsidised: bool | None = False,
    ) -> tuple:
        """One offer's row. `subsidised`: True, the union pays a share (at least a yuan); None,
        it pays none; False, as the draw goes."""
        kind_type = cat.TYPES_BY_CODE[provider["type"]]
        kind = template.kind
        category = template.category or kind_type.category
        title_zh = template.title_zh.format(brand=provider["brand"])
        title_en = template.title_en.format(brand=provider["brand"]) if template.title_en else None
        groups = list(template.groups)
        if not groups and rng.random() < 0.03:
            extra = rng.choice(
                [
                    ("hardship", "困难职工专享·", "For workers in hardship: "),
                    ("model_worker", "劳模专享·", "For model workers: "),
                ]
            )
            groups = [extra[0]]
            title_zh = extra[1] + title_zh
            title_en = extra[2] + title_en if title_en else None

        low, high = template.price
        list_yuan = int(rng.uniform(low, high))
        if list_yuan >= 100 and high > low:
            list_yuan = list_yuan // 10 * 10 + 9  # 299, 599, ...
        list_fen = list_yuan * 100
        points_price = None
        if kind == "points":
            member_fen = subsidy_fen = 0
            points_price = max(10, int(round(list_yuan * rng.uniform(8, 12), -1)))
        elif kind in ("voucher", "slot") and (rng.random() < 0.5 or "免费咨询" in template.tags):
            member_fen = subsidy_fen = 0  # a free coupon, or a free booking
        else:
            low_ratio, high_ratio = (0.45, 0.85) if kind in ("paid", "prepaid") else (0.2, 0.6)
            member_yuan = max(1.0, list_yuan * rng.uniform(low_ratio, high_ratio))
            member_fen = int(member_yuan) * 100 + (90 if member_yuan >= 10 and rng.random() < 0.5 else 0)
            member_fen = min(member_fen, list_fen)
            subsidy_fen = 0 if rng.random() < 0.4 else int(member_fen * rng.uniform(0.1, 0.35)) // 100 * 100
            if "工会补贴" in template.tags:
                subsidy_fen = int(member_fen * 0.6) // 100 * 100
            if subsidised:  # the union pays a share, at least a yuan
                subsidy_fen = max(subsidy_fen, int(member_fen * 0.3) // 100 * 100, 100)
            elif subsidised is None:
                subsidy_fen = 0

        total = rng.choice([100, 200, 300, 500, 1000, 2000, 5000]) if stock is None else stock[0]
        if provider["status"] == "applied":
            status = status or rng.choice(["draft", "submitted"])
        elif provider["status"] == "suspended":
            status = status or rng.choice(["paused", "published"])
        else:
            status = (
                status or rng.choices(["published", "draft", "submitted", "paused", "expired"], [82, 5, 6, 4, 3])[0]
            )
        left = total if stock is None else stock[1]  # history takes what was claimed
        # Most listings have run for months (the demo's history claims them); some are new.
        opened = provider.get("created") or self.now - timedelta(days=400)
        if status == "expired":
            valid_to = self.now - timedelta(days=rng.uniform(1, 40))
            valid_from = valid_to - timedelta(days=rng.uniform(60, 150))
        elif status in ("draft", "submitted") or rng.random() < 0.12:
            valid_from = self.now - timedelta(days=rng.uniform(0, 20))
            valid_to = self.now + timedelta(days=rng.uniform(60, 240))
        else:
            valid_from = self.now - timedelta(days=rng.uniform(95, 200))
            valid_to = self.now + timedelta(days=rng.uniform(30, 240))
        valid_from = max(valid_from, opened + timedelta(days=1)) if valid_from < opened else valid_from
        # Listings run from the start of a day to the end of one, in Beijing.
        valid_from = _day_start(valid_from)
        valid_to = _day_start(valid_to) + timedelta(days=1, seconds=-1)
        created = min(valid_from - timedelta(days=rng.uniform(0, 5)), self.now)

        # An offer is open to the subtree its provider serves: the whole city for city-level
        # providers, the district for district ones.
        node_scope = provider["node"]
        limit = rng.choices([1, 2, 3, 4, 5], [30, 25, 20, 15, 10])[0]
        if kind == "points":
            price_zh = f"门市价{list_fen / 100:.2f}元，兑换需{points_price}积分。"
            price_en = f"List price ¥{list_fen / 100:.2f}, {points_price} points."
        elif member_fen == 0 and kind == "voucher":
            price_zh = f"券面价值{list_fen / 100:.2f}元，会员免费领取。"
            price_en = f"Worth ¥{list_fen / 100:.2f}, free for members."
        elif member_fen == 0:
            price_zh = f"原价{list_fen / 100:.2f}元，会员免费预约。"
            price_en = f"Usually ¥{list_fen / 100:.2f}, free for members."
        else:
            price_zh = f"门市价{list_fen / 100:.2f}元，会员价{member_fen / 100:.2f}元" + (
                f"，其中工会补贴{subsidy_fen / 100:.2f}元。" if subsidy_fen else "。"
            )
            price_en = f"List price ¥{list_fen / 100:.2f}, member price ¥{member_fen / 100:.2f}" + (
                f", of which the union pays ¥{subsidy_fen / 100:.2f}." if subsidy_fen else "."
            )
        description_zh = f"{template.description_zh}{price_zh}{cat.OFFER_USAGE_ZH[kind]}每位会员限{limit}次。"
        description_en = None
        if title_en:
            description_en = f"{title_en}. {price_en} {cat.OFFER_USAGE_EN[kind]} Limit {limit} per member."
        tags = [cat.KIND_TAGS[kind] if member_fen or kind in ("paid", "points") else "会员免费"]
        tags += [tag for tag in template.tags if tag not in tags]
        tags += [cat.GROUP_TAGS[group] for group in groups if group in cat.GROUP_TAGS]
        if subsidy_fen and "工会补贴" not in tags:
            tags.append("工会补贴")
        terms_zh = f"{template.terms_zh}{cat.OFFER_USAGE_ZH[kind]}请在有效期内使用，过期作废；不与其他优惠同享。"
        if kind == "prepaid":  # plain-Chinese terms: cooling-off, per-session release, refunds
            terms_zh = f"{template.terms_zh}\n{catalog_services.PREPAID_TERMS_ZH}"
        sessions, months = template.package or (None, None)
        period = rng.choices(["total", "month", "year"], [40, 45, 15])[0]
        # Published within a day of its creation, and never later than now: an offer created
        # this morning is not published tonight (a reindex wrote future-dated offers again).
        published = (
            min(created + timedelta(days=rng.uniform(0, 1)), self.now)
            if status in ("published", "paused", "expired")
            else None
        )
        # A paused offer was paused a few weeks ago; claims stop then.
        updated = (self.now - timedelta(days=rng.uniform(5, 40)) if status == "paused" else published) or created
        updated = max(updated, published or created)
        return (
            provider["id"],
            self.categories[category],
            kind,
            title_zh,
            title_en,
            description_zh,
            description_en,
            list_fen,
            member_fen,
            subsidy_fen,
            points_price,
            total,
            left,
            limit,
            node_scope,
            groups,
            status,
            valid_from,
            valid_to,
            created,
            tags[:8],
            terms_zh,
            period,
            published,
            updated,
            sessions,
            months,
        )


# The first providers of a run, one of each category (and so of every kind).
SHOWCASE_TYPES = (
    "gym",
    "checkup",
    "dental",
    "cinema",
    "restaurant",
    "vocational",
    "supermarket",
    "mobility",
    "childcare",
    "housekeeping",
    "resort",
    "law_firm",
)


def _member_records(ids: list[int], plan: dict, hebei_count: int, seed_value: int, now: datetime) -> list[tuple]:
    """Rows for the member table (COPY column order), one per reserved id."""
    rng = random.Random(seed_value)
    encrypt, lookup_hash, mask_phone = pii.encrypt, pii.lookup_hash, pii.mask_phone
    gig_nodes, gig_weights = plan["gig"]
    other_nodes, other_weights = plan["other"]
    n = len(ids)
    gig_flags = [rng.random() < 0.08 for _ in range(n)]
    gig_choice = rng.choices(gig_nodes, gig_weights, k=n) if gig_nodes else [None] * n
    other_choice = rng.choices(other_nodes, other_weights, k=n)
    female_names, male_names, password = plan["female"], plan["male"], plan["password"]
    ten_years = 10 * 365.25 * 86400
    records = []
    for i, member_id in enumerate(ids):
        if i < hebei_count and plan["hebei"]:
            node, gig = rng.choice(plan["hebei"]), rng.random() < 0.2
        else:
            gig = gig_flags[i] and gig_choice[i] is not None
            node = gig_choice[i] if gig else other_choice[i]
        female = rng.random() < (0.12 if gig else 0.48)
        id_number, born = id_number_for(member_id, male=not female)
        phone = phone_for(member_id)
        groups = []
        if female:
            groups.append("women")
        if gig:
            groups.append("gig")
        if id_number[:6] not in _BEIJING_ID_AREAS and rng.random() < (0.55 if gig else 0.2):
            groups.append("migrant")
        if rng.random() < (0.05 if "migrant" in groups else 0.025):
            groups.append("hardship")
        if rng.random() < 0.005:
            groups.append("model_worker")
        if rng.random() < (0.003 if female else 0.035):
            groups.append("veteran")
        earliest = datetime(born.year + 18, born.month, min(born.day, 28), tzinfo=UTC)
        joined = now - timedelta(seconds=rng.random() * ten_years)
        if joined < earliest:
            joined = earliest + (now - earliest) * rng.random()
        joined = joined.replace(microsecond=0)
        records.append(
            (
                member_id,
                node,
                rng.choice(female_names if female else male_names),
                "F" if female else "M",
                born.year,
                encrypt(phone),
                lookup_hash(phone),
                mask_phone(phone),
                encrypt(id_number),
                lookup_hash(id_number),
                groups,
                password,
                "active",
                joined,
                joined,
            )
        )
    return records
