"""Ninety days of history for the demo city, so every page has something to show and the
operator's scorecards have something to decide from.

`make_history` runs once per database (when no voucher exists yet), after the reference
rows, members, providers and offers. It is a list of steps (`STEPS`), each a method of
`History` that reads and adds to the same cast; a later feature adds its own step (say,
favourites or review replies) by appending one.

What is made, and how, so that it is what the services would have produced:

- Claims are simulated day by day in Python under the services' rules (eligibility by
  node and group, the validity window, per-member limits per period, stock, slots,
  points drawn oldest lot first and given back on cancellation, a campaign's budget and
  per-member cap) and written with COPY: vouchers, claim counts, slots, payments,
  points entries and lots, campaign spends. Stock left, slots booked, claim counts,
  balances and the campaign's spent figure are derived from those rows.
- The quality loop's own records (redemptions, ratings, complaints and their answers)
  follow from the vouchers; providers have a quality that decides their ratings.
- Evaluator results go through `evaluation.evaluators.batches.submit` (with past dates); scorecards
  are computed by `evaluation.scorecards.services` and standings by `evaluation.enforcement.policy` itself,
  replayed week by week over the 90 days (`recompute_all(now=…)`, `evaluate_provider(…,
  now=…)`), with the operators' decisions on cases and the provider's appeal made through
  the policy's services at their turn; timestamps those services take from the clock are
  set back to the simulated moment.
- Settlements are drafted, approved and paid by `providers.settlements.services`; the policy,
  the campaign, reports and follow-up samples by their own services.
- Today: the demo cashier redeems members' vouchers at the counter through
  `vouchers.redeem`, at moments within the shop's opening hours of its latest trading day
  (a demo seeded at night must not show its own cashier redeeming in the small hours,
  which the quality loop rightly flags), and recent redemptions wait for their survey,
  which the worker sends once the demo runs.

Size: the history involves at most `MAX_ACTIVE_MEMBERS` members and `MAX_PROVIDERS`
providers, whatever the size of the seed, so it takes seconds at any scale (a seed of a
million members gets the same history as the demo's). Some providers are given roles
(`ROLES`) that take them through the enforcement policy: watch, warning, probation, a
delisting case that is open, one decided, one appealed, one kept.
"""

import heapq
import itertools
import json
import math
import random
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import NotRequired, TypedDict
from zoneinfo import ZoneInfo

from marketplace.core import dates, pii, reference_data as ref
from marketplace.core.errors import Conflict, Forbidden, Invalid, NotFound
from marketplace.core.identity.principal import Principal
from marketplace.core.jobs import topics
from marketplace.seed import catalogue as cat
from marketplace.vouchers import codes

SHANGHAI = ZoneInfo("Asia/Shanghai")
HISTORY_DAYS = 90
MAX_ACTIVE_MEMBERS = 3000
MAX_PROVIDERS = 400
CLAIMS_PER_ACTIVE_MEMBER = 3.2  # over the 90 days, on average
ROUND_DAYS = 7  # the enforcement policy is replayed weekly


class Conduct(TypedDict):
    quality: float
    complaints: float
    answers: float
    honest: bool


class Role(Conduct):
    role: str
    start: int
    action: NotRequired[tuple[str, int]]
    appeal: NotRequired[int]
    recovers: NotRequired[int]


# Providers that the history takes through the enforcement policy. `start`: the day (from
# today, negative) their bad service begins (their first claims, for a provider that joined
# then); the policy then moves them one level per weekly run. `action`: what the operators
# and the provider do with the delisting case the policy opens, and when (days from today).
# `quality`: the chance a visit goes well; `complaints`: the chance a bad visit ends in a
# complaint; `answers`: the share of complaints answered in time; `honest`: whether the
# discount is honoured even when the visit went badly. The mild ones are tuned so that
# their figures call for warning or watch and no more (docs in evaluation/enforcement/policy.py).
SEVERE: Conduct = {"quality": 0.25, "complaints": 0.22, "answers": 0.3, "honest": False}
ROLES: tuple[Role, ...] = (
    {"role": "appealed", "start": -90, "action": ("delist", -30), "appeal": -3, **SEVERE},
    {"role": "decided", "start": -90, "action": ("delist", -27), **SEVERE},
    {"role": "kept", "start": -90, "action": ("keep", -20), "recovers": -20, **SEVERE},
    {"role": "open", "start": -63, **SEVERE},
    {"role": "probation", "start": -35, **SEVERE},
    {"role": "warning", "start": -21, "quality": 0.55, "complaints": 0.09, "answers": 0.8, "honest": True},
    {"role": "watch", "start": -14, "quality": 0.58, "complaints": 0.07, "answers": 0.9, "honest": True},
)
# Shijiazhuang's (the Hebei city's) providers taken through the policy the same way, so that
# its operator's scorecards show shops on probation, warning and watch. Probation stops a
# provider's package sales (Prepaid Guard), so it goes to a shop that sells none.
HEBEI_ROLES = ("probation", "warning", "watch")
# A draw's offer is of a provider that may still sell (an offer stays published when its
# provider is delisted or suspended; no member may claim it).
DRAWN_PROVIDER_ACTIVE = "EXISTS (SELECT 1 FROM provider p WHERE p.id = o.provider AND p.status = 'active')"
CHAOYANG_CASE_OPEN = "多名会员投诉前台以“系统故障”为由拒收工会优惠券、要求按原价付款，已电话核实两起。"
CHAOYANG_CASE_KEPT = "会员反映门店擅自缩短营业时间、预约后无人接待，且未在期限内答复投诉，立案核查。"
CHAOYANG_CASE_KEPT_EXPLANATION = (
    "商户已书面说明原因（店长离职交接），补偿了受影响会员，并承诺按公示时间营业；近两周评价回升，暂不下架，继续观察。"
)
CHAOYANG_EVALUATOR = "朝阳区职工服务质量监督站"
HEBEI_EVALUATOR = "河北省职工服务质量评价中心"
# A shop's complaints (`History.shop_complaints`): (category, what the member wrote, the owner's
# answer or None, state). The demo shop's: one answered, one new.
DEMO_SHOP_COMPLAINTS = (
    (
        "poor_service",
        "体验课教练迟到二十分钟，也没有提前通知，整节课只剩半小时。",
        "非常抱歉！当天教练临时堵车，我们已安排同一位教练为您补上一节完整的体验课，前台会电话联系您预约时间。",
        "answered",
    ),
    ("overcharge", "用了工会优惠券后，前台又要求另付二十元毛巾押金，之前没有说明。", None, "new"),
)
# The busiest Hebei shop's: one past its answer time, one answered.
HEBEI_SHOP_COMPLAINTS = (
    ("not_honoured", "出示工会优惠券后，工作人员说“系统不支持”，让我按原价付款，也没给任何说法。", None, "overdue"),
    (
        "poor_service",
        "约好的时间等了四十分钟才开始，中间也没人打电话说明一下。",
        "抱歉让您久等！当天人手临时不足，我们已调整排班，下次预约优先为您安排，欢迎再来体验。",
        "answered",
    ),
)
HEBEI_CASE_OPEN = "多名会员反映门店以“活动名额已满”为由拒收工会优惠券，另行推销高价套餐，已电话核实三起。"
HEBEI_CASE_KEPT = "会员投诉门店未按公示时间营业、到店无法使用工会优惠券，且投诉逾期未答复，立案核查。"
HEBEI_CASE_KEPT_EXPLANATION = (
    "商户已说明系装修临时闭店且未及时公告，补发了受影响会员的优惠券并公开致歉；近两周未再发生，暂不下架，继续观察。"
)


@dataclass(frozen=True)
class RosterPlan:
    """An area's two roster files (`History.desk_roster`)."""

    area: str  # the district code in the people's ID numbers (and, after 197, in their phones)
    union: str  # the gig workers' union the applied file's people join
    street: str  # the street union the refused file's rows name
    applied: str  # the applied file's name, before "_<month>月新入会.csv"
    refused: str  # the refused file's name
    joined: tuple[str, ...]  # the applied file's people, a man's name first, then alternating
    refused_names: tuple[str, str, str, str, str]  # the refused file's: man, woman, woman, man, man


@dataclass(frozen=True)
class Desk:
    """An area whose operator finds a desk of its own in the demo: cases it opened by hand,
    its survey station's API key (`History.desk`), fair draws, roster imports, disputed card
    payments. Chaoyang (the demo member's district) and Hebei (the province, a second branch
    of the federation) go through the same steps."""

    operator: str  # its operator's username
    home: str  # code of the node whose offers its draws may take, whose payments it may see disputed
    cases: tuple[tuple[str, int, int | None], ...]  # (reason, opened, kept): days from today
    kept_because: str  # why the kept case was kept
    evaluator: str  # its survey station (made when missing)
    draws: tuple[tuple[int, int, int | None], ...]  # (places, opened days ago, drawn days ago or None)
    roster: RosterPlan
    disputes: tuple[tuple[str, str, int, int | None], ...]  # (outcome, reason, opened, closed): days from today
    cases_first_in: str | None = None  # code of a node whose providers its cases go to first


CHAOYANG = Desk(
    operator="chaoyang",
    home=ref.BEIJING["code"],
    cases=((CHAOYANG_CASE_OPEN, -6, None), (CHAOYANG_CASE_KEPT, -24, -17)),
    kept_because=CHAOYANG_CASE_KEPT_EXPLANATION,
    evaluator=CHAOYANG_EVALUATOR,
    draws=((12, 12, 2), (15, 3, None)),
    roster=RosterPlan(
        area="110105",
        union="110105H001",
        street="110105G006",
        applied="朝阳区快递行业联合工会",
        refused="望京街道联合工会_补录名单.csv",
        joined=("赵子豪", "钱晓燕", "孙立伟", "李明月", "周建军", "吴海燕", "郑国强", "王春梅", "冯志远", "陈丽娟"),
        refused_names=("高文博", "林小雨", "何静", "马天宇", "黄志刚"),
    ),
    disputes=(("needs_response", "fraudulent", -2, None), ("won", "product_not_received", -26, -9)),
)
HEBEI = Desk(
    operator="hebei",
    home=ref.HEBEI["province"]["code"],
    cases=((HEBEI_CASE_OPEN, -5, None), (HEBEI_CASE_KEPT, -27, -19)),
    kept_because=HEBEI_CASE_KEPT_EXPLANATION,
    evaluator=HEBEI_EVALUATOR,
    draws=((8, 10, 3), (10, 2, None)),
    roster=RosterPlan(
        area="130102",
        union="130102H001",
        street="130102G002",
        applied="长安区快递行业联合工会",
        refused="育才街道联合工会_补录名单.csv",
        joined=("刘建华", "张秀英", "杨志强", "赵丽萍", "马国庆", "孙雅静", "胡建军", "郭晓红"),
        refused_names=("韩志明", "曹雪", "彭丽", "邓超然", "许国栋"),
    ),
    disputes=(("needs_response", "product_not_received", -3, None),),
    cases_first_in=ref.HEBEI["city"]["code"],  # Shijiazhuang's operator has cases of their own
)
ROLE_CLAIMS_PER_DAY = 4  # a role's provider is busy enough for its figures to count quickly
ROLE_TYPES = ("fastfood", "restaurant", "supermarket", "gym", "convenience", "cinema")


def _local(moment: datetime) -> datetime:
    return moment.astimezone(SHANGHAI)


def _at_local(day: date, hour: float) -> datetime:
    """The instant `hour` (fractional) of `day` in Shanghai, in UTC."""
    whole = int(hour)
    minute = int((hour - whole) * 60)
    return datetime(day.year, day.month, day.day, whole, minute, tzinfo=SHANGHAI).astimezone(UTC)


_WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
COUNTER_MARGIN = timedelta(minutes=20)  # no visit right at opening, closing or "now"


def counter_moments(now: datetime, opening_hours: dict, count: int) -> list[datetime]:
    """`count` moments (UTC, in order) spread over the latest trading day of a shop with
    `opening_hours` ({"mon": ["06:30", "22:30"], ...}, Shanghai time) that has been open
    for an hour by `now`: today when it has, else the last day it was open. Empty when the
    shop keeps no hours."""
    local = _local(now)
    for back in range(8):
        day = local.date() - timedelta(days=back)
        span = opening_hours.get(_WEEKDAYS[day.weekday()])
        if not span:
            continue
        opens, closes = (_at_local(day, int(t[:2]) + int(t[3:5]) / 60) for t in span)
        first, last = opens + COUNTER_MARGIN, min(closes, now) - COUNTER_MARGIN
        if last - first < timedelta(hours=1) - 2 * COUNTER_MARGIN:
            continue  # not open long enough yet today (or a closing time past midnight)
        step = (last - first) / max(count, 1)
        return [first + step * (i + 0.5) for i in range(count)]
    return []


class Ids:
    """Ids handed out in order from the table's current maximum; `sync` moves the table's
    sequence past them once the rows are in (the seed is the only writer meanwhile)."""

    def __init__(self, start: int):
        self.next = start + 1

    def take(self) -> int:
        value = self.next
        self.next += 1
        return value


@dataclass
class Member:
    id: int
    node: int
    path: str
    groups: frozenset
    name: str
    joined: datetime
    weight: float


@dataclass
class Provider:
    id: int
    name: str
    type: str
    node: int
    path: str
    status: str
    created: datetime
    owner: int
    staff: list[int]
    locations: list[int]
    quality: float = 0.85  # the chance a visit goes well
    role: str | None = None
    complaints: float = 0.06  # the chance a bad visit ends in a complaint
    answers: float = 0.93  # the share of complaints answered
    honest: bool = True  # honours the discount even when a visit goes badly
    start: datetime | None = None  # no claims before
    stop: datetime | None = None  # no claims from (delisted)
    recovers: datetime | None = None
    weight: float = 1.0


@dataclass
class Offer:
    id: int
    provider: Provider
    kind: str
    category: int
    status: str
    member_price_fen: int
    subsidy_fen: int
    points_price: int | None
    stock_left: int
    limit: int
    period: str
    scope_path: str
    groups: frozenset
    valid_from: datetime
    valid_to: datetime
    opens: datetime
    closes: datetime  # claims stop: validity end, or when it was paused
    title_zh: str


@dataclass
class Voucher:
    id: int
    code: str
    offer: Offer
    member: Member
    claimed_at: datetime
    expires_at: datetime
    status: str = "issued"
    redeemed_at: datetime | None = None
    cancelled_at: datetime | None = None
    staff: int | None = None
    location: int | None = None
    honoured: bool | None = None
    subsidy_fen: int = 0
    paid_fen: int = 0
    points_spent: int = 0
    slot: int | None = None
    period_start: datetime | None = None
    payment: str | None = None  # succeeded, refunded, cancelled (abandoned)
    campaign: dict | None = None  # the running campaign it drew its subsidy on (History.campaigns)
    campaign_released: datetime | None = None
    points_taken: list = field(default_factory=list)  # (lot, points) the spend took
    slot_starts: datetime | None = None

    @property
    def redeemed(self) -> datetime:
        """When a redeemed voucher was redeemed."""
        if self.redeemed_at is None:
            raise ValueError(f"voucher {self.id} is not redeemed")
        return self.redeemed_at


@dataclass
class Lot:
    id: int
    member: int
    created: datetime
    expires: datetime
    remaining: int
    touched: bool = False
    amount: int = 0
    grant: int | None = None  # the grant that brought it (lots written by the history)
    reason: str | None = None


@dataclass
class Report:
    vouchers: int = 0
    redemptions: int = 0
    ratings: int = 0
    favourites: int = 0
    complaints: int = 0
    cases: int = 0
    statements: int = 0
    seconds: dict = field(default_factory=dict)


class History:
    def __init__(self, connection, now: datetime, rng: random.Random, notify):
        self.db = connection
        self.now = now.replace(microsecond=0)
        self.started = datetime.now(UTC)  # the real clock, which the services stamp
        self.start = self.now - timedelta(days=HISTORY_DAYS)
        self.rng = rng
        self.notify = notify
        self.report = Report()
        self.members: list[Member] = []
        self.providers: dict[int, Provider] = {}
        self.offers: list[Offer] = []
        self.vouchers: list[Voucher] = []
        self.lots: dict[int, list[Lot]] = defaultdict(list)
        self.points_rows: list[tuple] = []  # spend / refund / expire entries
        self.campaigns: list[dict] = []  # the running campaigns subsidies draw on, with what they spent
        self.operators: dict[str, Principal] = {}
        self.demo_member: Member | None = None
        self.demo_provider: Provider | None = None
        self.category_codes: dict[int, str] = {}

    # --- helpers ------------------------------------------------------------------------------

    async def max_id(self, table: str) -> Ids:
        return Ids(await self.db.fetchval(f"SELECT coalesce(max(id), 0) FROM {table}"))

    async def sync_sequence(self, table: str) -> None:
        await self.db.execute(
            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), greatest((SELECT max(id) FROM {table}), 1))"
        )

    async def copy(self, table: str, columns: list[str], rows: list[tuple]) -> None:
        if rows:
            await self.db.copy_records_to_table(table, records=rows, columns=columns)
            if "id" in columns:
                await self.sync_sequence(table)

    def day(self, offset: float) -> datetime:
        return self.now + timedelta(days=offset)

    def on_day(self, offset: int, hour: float) -> datetime:
        """`hour` o'clock in Beijing on the day `offset` days from today."""
        return _at_local(_local(self.now).date() + timedelta(days=offset), hour)

    async def backdate(self, marks: dict[str, int], at: datetime) -> None:
        """Rows a service wrote with the clock's time since `marks` (table → last id) get
        the simulated moment instead."""
        columns = {
            "standing_event": "created_at",
            "enforcement_case": "opened_at",
            "provider_status_change": "at",
            "prepaid_freeze": "since",
            "audit_event": "at",
        }
        for table, last in marks.items():
            await self.db.execute(f"UPDATE {table} SET {columns[table]} = $2 WHERE id > $1", last, at)
        # A case decided lifts its provider's freeze with the clock's time (the service's
        # clock is real even when the seed's is set back: later than any simulated moment).
        await self.db.execute("UPDATE prepaid_freeze SET lifted_at = $1 WHERE lifted_at >= $2", at, self.started)

    async def marks(self, *, audit: bool = True) -> dict[str, int]:
        """`audit` False: the audit log is left as written (it is append-only; a trigger
        refuses rewriting it), so the steps that audit what they do keep its moment."""
        tables: tuple[str, ...] = ("standing_event", "enforcement_case", "provider_status_change", "prepaid_freeze")
        tables += ("audit_event",) if audit else ()
        return {table: await self.db.fetchval(f"SELECT coalesce(max(id), 0) FROM {table}") for table in tables}

    # --- the cast ------------------------------------------------------------------------------

    async def cast(self) -> None:
        """Members, providers and offers the history involves; providers' quality and roles."""
        from marketplace.seed import DEMO_MEMBER, DEMO_PROVIDER, OPERATORS

        rng = self.rng
        for username, _, _ in OPERATORS:
            row = await self.db.fetchrow(
                "SELECT o.id, o.display_name, o.node, o.role, n.path FROM operator o JOIN union_node n ON n.id = o.node "
                "WHERE o.username = $1",
                username,
            )
            self.operators[username] = Principal(
                kind="operator",
                id=row["id"],
                display_name=row["display_name"],
                node_id=row["node"],
                node_path=row["path"],
                role=row["role"],
            )
        self.category_codes = {row["id"]: row["code"] for row in await self.db.fetch("SELECT id, code FROM category")}
        total = await self.db.fetchval("SELECT count(*) FROM member WHERE status = 'active'")
        active = min(MAX_ACTIVE_MEMBERS, max(1, int(total * 0.6)))
        demo_hash = pii.lookup_hash(DEMO_MEMBER["phone"])
        salt = str(rng.random())  # a sample drawn from the seeded generator: the same city from the same sizes
        rows = await self.db.fetch(
            "(SELECT m.id, m.node, n.path, m.groups, m.name, m.joined_at, m.phone_hash = $2 AS demo FROM member m "
            " JOIN union_node n ON n.id = m.node WHERE m.status = 'active' ORDER BY md5(m.id::text || $3) LIMIT $1) "
            "UNION SELECT m.id, m.node, n.path, m.groups, m.name, m.joined_at, true FROM member m "
            "JOIN union_node n ON n.id = m.node WHERE m.phone_hash = $2",
            active,
            demo_hash,
            salt,
        )
        for row in rows:
            member = Member(
                row["id"],
                row["node"],
                row["path"],
                frozenset(row["groups"] or ()),
                row["name"],
                row["joined_at"],
                rng.lognormvariate(0, 0.7),
            )
            self.members.append(member)
            if row["demo"]:
                self.demo_member = member
        self.members.sort(key=lambda m: m.id)

        rows = await self.db.fetch(
            "SELECT p.id, p.name, p.kind, p.node, n.path, p.status, p.created_at, p.credit_code FROM provider p "
            "JOIN union_node n ON n.id = p.node WHERE p.status IN ('active', 'suspended') "
            "ORDER BY (p.credit_code = $2) DESC, md5(p.id::text || $3) LIMIT $1",
            MAX_PROVIDERS,
            DEMO_PROVIDER["credit_code"],
            salt,
        )
        users = defaultdict(list)
        for row in await self.db.fetch(
            "SELECT id, provider, role FROM provider_user WHERE provider = ANY($1::int[]) ORDER BY id",
            [r["id"] for r in rows],
        ):
            users[row["provider"]].append(row)
        locations = defaultdict(list)
        for row in await self.db.fetch(
            "SELECT id, provider FROM location WHERE provider = ANY($1::int[]) ORDER BY id", [r["id"] for r in rows]
        ):
            locations[row["provider"]].append(row["id"])
        fallback = {t.kind: t.code for t in reversed(cat.PROVIDER_TYPES)}
        for row in rows:
            brand = row["name"].split("(")[0]
            staff = [u["id"] for u in users[row["id"]] if u["role"] == "staff"]
            owner = next((u["id"] for u in users[row["id"]] if u["role"] == "owner"), None)
            if owner is None or not locations[row["id"]]:
                continue
            provider = Provider(
                row["id"],
                row["name"],
                cat.TYPE_OF_BRAND.get(brand) or fallback.get(row["kind"], "supermarket"),
                row["node"],
                row["path"],
                row["status"],
                row["created_at"],
                owner,
                staff or [owner],
                locations[row["id"]],
                quality=min(0.995, max(0.8, rng.gauss(0.95, 0.03))),
                weight=rng.lognormvariate(0, 0.9),
            )
            self.providers[provider.id] = provider
            if row["credit_code"] == DEMO_PROVIDER["credit_code"]:
                self.demo_provider = provider
                provider.quality, provider.weight = 0.96, 6.0
        await self.give_roles()
        await self.load_offers()

    async def give_roles(self) -> None:
        """Busy city-wide chains of everyday kinds get the roles; their offers are opened to
        the whole city and their service turns bad at the role's start."""
        beijing = await self.db.fetchrow("SELECT id, path FROM union_node WHERE code = $1", ref.BEIJING["code"])
        candidates = [
            p
            for p in self.providers.values()
            if p is not self.demo_provider
            and p.status == "active"
            and p.path.startswith(beijing["path"])
            and await self.db.fetchval(
                "SELECT count(*) FROM offer WHERE provider = $1 AND kind <> 'slot' AND status <> 'draft'", p.id
            )
            >= 1
        ]
        candidates.sort(key=lambda p: (p.type not in ROLE_TYPES, p.id))
        # The demo's district (Chaoyang, its operator and the demo member's) keeps two shops of
        # its own out of the roles (which move a provider to the city) when there are enough
        # others, so that its operator has providers, cases and complaints to look after.
        chaoyang = self.operators["chaoyang"].node_id
        own = [p for p in candidates if p.node == chaoyang][:2]
        if len(candidates) - len(own) >= len(ROLES):
            candidates = [p for p in candidates if p not in own]
        for spec, provider in zip(ROLES, candidates, strict=False):  # more candidates than roles
            await self.give_role(provider, spec, beijing["id"], beijing["path"])
        await self.give_hebei_roles()

    async def give_hebei_roles(self) -> None:
        """Shijiazhuang's shops with everyday offers take `HEBEI_ROLES` as the city's chains take
        `ROLES`, moved to the city's union: probation to one that sells no prepaid packages
        (its sales would stop), the others preferring such shops too, so the city's gyms keep
        selling packages (seed/packages.py). A small seed has fewer shops than roles: the
        roles it cannot give are left out."""
        city = self.operators["shijiazhuang"]
        assert city.node_id is not None and city.node_path is not None  # an operator belongs to a node
        selling = {
            row["provider"]
            for row in await self.db.fetch(
                "SELECT DISTINCT provider FROM offer WHERE kind = 'prepaid' AND status = 'published'"
            )
        }
        candidates = [
            p
            for p in self.providers.values()
            if p is not self.demo_provider
            and p.status == "active"
            and p.role is None
            and p.path.startswith(city.node_path)
            and await self.db.fetchval(
                "SELECT count(*) FROM offer WHERE provider = $1 AND kind NOT IN ('slot', 'prepaid') "
                "AND status <> 'draft'",
                p.id,
            )
            >= 1
        ]
        candidates.sort(key=lambda p: (p.id in selling, p.type not in ROLE_TYPES, p.id))
        specs = {spec["role"]: spec for spec in ROLES}
        for role in HEBEI_ROLES:
            provider = next((p for p in candidates if role != "probation" or p.id not in selling), None)
            if provider is None:
                continue
            candidates.remove(provider)
            await self.give_role(provider, specs[role], city.node_id, city.node_path)

    async def give_role(self, provider: Provider, spec: Role, node_id: int, node_path: str) -> None:
        """The provider's service turns bad at the role's start; it moves to the union `node_id`
        (a city's), whose members all see its everyday offers."""
        provider.role = spec["role"]
        provider.start = self.day(spec["start"])
        provider.quality, provider.complaints = spec["quality"], spec["complaints"]
        provider.answers, provider.honest = spec["answers"], spec["honest"]
        provider.weight = 1.0
        if "recovers" in spec:
            provider.recovers = self.day(spec["recovers"])
        if spec.get("action", ("",))[0] == "delist":
            provider.stop = self.day(spec["action"][1])
        if spec["start"] > -HISTORY_DAYS:  # a newcomer: it joined just before its first claims
            provider.created = provider.start - timedelta(days=2)
            await self.db.execute(
                "UPDATE provider SET created_at = $2, updated_at = $2 WHERE id = $1", provider.id, provider.created
            )
        provider.node, provider.path = node_id, node_path
        await self.db.execute("UPDATE provider SET node = $2 WHERE id = $1", provider.id, node_id)
        # Its everyday offers are live for the whole city from its start, enough of them
        # for its figures to count quickly.
        await self.db.execute(
            "UPDATE offer SET node_scope = $2, status = CASE WHEN status = 'draft' THEN status ELSE 'published' END, per_member_limit = greatest(per_member_limit, 3), "
            "limit_period = 'month', stock_total = greatest(stock_total, 2000), "
            "stock_left = greatest(stock_total, 2000), valid_from = least(valid_from, $3), "
            "created_at = least(created_at, $3), published_at = least(coalesce(published_at, $3), $3), "
            "updated_at = least(updated_at, $3), valid_to = greatest(valid_to, $4) "
            "WHERE provider = $1 AND kind <> 'slot'",
            provider.id,
            node_id,
            provider.start - timedelta(days=1),
            self.day(60),
        )

    async def load_offers(self) -> None:
        rows = await self.db.fetch(
            "SELECT o.id, o.provider, o.kind, o.category, o.status, o.member_price_fen, o.subsidy_fen, o.points_price, "
            "o.stock_left, o.per_member_limit, o.limit_period, o.groups, o.valid_from, o.valid_to, o.published_at, "
            "o.updated_at, o.title_zh, n.path AS scope_path FROM offer o JOIN union_node n ON n.id = o.node_scope "
            # Prepaid packages have no made-up history: their money is escrow (marketplace/prepaid).
            "WHERE o.provider = ANY($1::int[]) AND o.status IN ('published', 'paused', 'expired') "
            "AND o.kind <> 'prepaid' ORDER BY o.id",
            list(self.providers),
        )
        for row in rows:
            provider = self.providers[row["provider"]]
            opens = max(row["valid_from"], row["published_at"] or row["valid_from"], provider.start or self.start)
            closes = row["updated_at"] if row["status"] == "paused" else row["valid_to"]
            if provider.stop:
                closes = min(closes, provider.stop)
            self.offers.append(
                Offer(
                    row["id"],
                    provider,
                    row["kind"],
                    row["category"],
                    row["status"],
                    row["member_price_fen"],
                    row["subsidy_fen"],
                    row["points_price"],
                    row["stock_left"],
                    row["per_member_limit"],
                    row["limit_period"],
                    row["scope_path"],
                    frozenset(row["groups"] or ()),
                    row["valid_from"],
                    row["valid_to"],
                    opens,
                    closes,
                    row["title_zh"],
                )
            )

    # --- policy, campaign and grants: set up before the claims --------------------------------

    async def policy_and_campaign(self) -> None:
        """The city's and the province's published enforcement policy, and each one's running
        subsidy campaign (Hebei's on every category its shops subsidise, so that it burns
        whatever the draw of offers)."""
        from evaluation.enforcement import policy

        beijing, hebei = self.operators["beijing"], self.operators["hebei"]
        for operator in (beijing, hebei):
            assert operator.node_id is not None  # an operator belongs to a node
            await policy.publish_policy(operator, operator.node_id, policy.DEFAULT_RULES)
        await self.db.execute("UPDATE enforcement_policy SET created_at = $1", self.on_day(-HISTORY_DAYS - 5, 11))
        categories = {row["code"]: row["id"] for row in await self.db.fetch("SELECT id, code FROM category")}
        members = await self.db.fetchval("SELECT count(*) FROM member WHERE status = 'active'")
        budget = max(200_000, min(members, 20_000) * 400) // 10_000 * 10_000  # ¥4 a member, in fen
        winter = _local(self.now).month in (11, 12, 1, 2)
        await self.running_campaign(
            beijing,
            "冬春送温暖·职工生活补贴" if winter else "金秋职工普惠季·生活补贴",
            "Winter warmth: living subsidy for members" if winter else "Autumn benefits season: living subsidy",
            {categories["dining"], categories["shopping"]},
            budget,
            (-35, -36),
        )
        assert hebei.node_path is not None  # an operator belongs to a node
        subsidised = {o.category for o in self.offers if o.subsidy_fen > 0 and o.scope_path.startswith(hebei.node_path)}
        if subsidised:
            await self.running_campaign(
                hebei,
                "燕赵职工普惠季·消费补贴",
                "Hebei benefits season: spending subsidy",
                subsidised,
                max(100_000, budget // 4) // 10_000 * 10_000,
                (-28, -30),
            )

    async def running_campaign(
        self, operator: Principal, name_zh: str, name_en: str, categories: set[int], budget: int, days: tuple
    ) -> None:
        """A campaign of `operator`'s node that started `days[0]` days ago (made `days[1]`
        days ago) and runs eight weeks more; the claims draw on it (`claim`)."""
        from marketplace.campaigns import services as campaigns
        from marketplace.campaigns.schemas import CampaignCreate

        assert operator.node_id is not None  # an operator belongs to a node
        starts, ends = self.on_day(days[0], 0), self.on_day(56, 0)
        campaign = await campaigns.create_campaign(
            operator,
            CampaignCreate(
                node_id=operator.node_id,
                name_zh=name_zh,
                name_en=name_en,
                starts_at=starts,
                ends_at=ends,
                groups=[],
                offer_ids=[],
                category_ids=sorted(categories),
                budget_fen=budget,
                per_member_cap_fen=10_000,
            ),
        )
        await self.db.execute(
            "UPDATE campaign SET created_at = $2 WHERE id = $1", campaign.id, self.on_day(days[1], 15)
        )
        self.campaigns.append(
            {
                "id": campaign.id,
                "node_path": operator.node_path,
                "starts": starts,
                "ends": ends,
                "categories": categories,
                "budget": budget,
                "spent": 0,
                "members": defaultdict(int),
                "cap": 10_000,
                "node": operator.node_id,
            }
        )

    async def grants(self) -> None:
        """Two grants of the city federation and one of the province's, to every active member
        of the subtree (or of one group in it) at their time, as the grant job applies them: an
        entry and a lot each. The entries are written with the claims' spends, in time order,
        so a member's ledger reads in the order things happened."""
        from marketplace.core.settings import get_settings
        from marketplace.seed import DEMO_MEMBER

        beijing, hebei = self.operators["beijing"], self.operators["hebei"]
        members = await self.db.fetchval("SELECT count(*) FROM member WHERE status = 'active'")
        # A city-wide grant to a million members is a job of its own (benefits bench grant);
        # for large seeds the history's grants go to the demo member's union instead.
        node_path = (
            beijing.node_path
            if members <= 20_000
            else await self.db.fetchval("SELECT path FROM union_node WHERE code = $1", DEMO_MEMBER["node_code"])
        )
        node_id = await self.db.fetchval("SELECT id FROM union_node WHERE path = $1", node_path)
        assert hebei.node_path is not None and hebei.node_id is not None  # an operator belongs to a node
        expiry = timedelta(days=get_settings().points.expiry_days)
        lot_ids = await self.max_id("points_lot")
        self.grant_lots: list[Lot] = []
        sampled = {m.id for m in self.members}
        for row in await self.db.fetch(
            "SELECT l.id, l.member, e.created_at, l.expires_at, l.remaining FROM points_lot l "
            "JOIN points_entry e ON e.id = l.entry WHERE l.member = ANY($1::bigint[]) ORDER BY l.expires_at, l.id",
            sorted(sampled),
        ):
            self.lots[row["member"]].append(
                Lot(row["id"], row["member"], row["created_at"], row["expires_at"], row["remaining"])
            )
        for operator, path, node, when, amount, group, reason in (
            (beijing, node_path, node_id, self.on_day(-63, 10), 200, None, "国庆节职工福利积分"),
            (beijing, node_path, node_id, self.on_day(-20, 10.5), 300, "gig", "新就业形态劳动者冬季关爱积分"),
            (hebei, hebei.node_path, hebei.node_id, self.on_day(-45, 9.5), 200, None, "燕赵工惠·职工福利积分"),
        ):
            targets = [
                row["id"]
                for row in await self.db.fetch(
                    "SELECT m.id FROM member m JOIN union_node n ON n.id = m.node WHERE n.path LIKE $1 || '%' "
                    "AND m.status = 'active' AND m.joined_at < $2 AND ($3::varchar IS NULL OR $3 = ANY(m.groups)) "
                    "ORDER BY m.id",
                    path,
                    when,
                    group,
                )
            ]
            grant_id = await self.db.fetchval(
                "INSERT INTO points_grant (node, member_group, amount, reason, operator, status, members_total, "
                "members_done, last_member, created_at, finished_at) "
                "VALUES ($1, $2, $3, $4, $5, 'done', $6, $6, $7, $8, $9) RETURNING id",
                node,
                group,
                amount,
                reason,
                operator.id,
                len(targets),
                targets[-1] if targets else 0,
                when,
                when + timedelta(minutes=2),
            )
            for member_id in targets:
                lot = Lot(
                    lot_ids.take(), member_id, when, when + expiry, amount, amount=amount, grant=grant_id, reason=reason
                )
                self.grant_lots.append(lot)
                if member_id in sampled:
                    self.lots[member_id].append(lot)
        for lots in self.lots.values():
            lots.sort(key=lambda lot: (lot.expires, lot.id))

    # --- claims --------------------------------------------------------------------------------

    def claim_moments(self) -> list[tuple[datetime, Offer, Member | None]]:
        """When claims happen and of what: more as the platform grows, more at lunch and in
        the evening; a role's provider gets a steady stream from its start."""
        rng = self.rng
        moments: list[tuple[datetime, Offer, Member | None]] = []
        live = [o for o in self.offers if o.provider.role is None and o.provider.status == "active"]
        cumulative = list(
            itertools.accumulate(o.provider.weight * (1.6 if o.kind in ("voucher", "points") else 1.0) for o in live)
        )
        total = int(len(self.members) * CLAIMS_PER_ACTIVE_MEMBER)
        for _ in range(total if live else 0):
            # Growth: the density rises linearly over the 90 days (inverse of a linear CDF).
            x = rng.random()
            offset = HISTORY_DAYS * (math.sqrt(0.25 + 3 * x) - 0.5) / 1.5  # density ∝ 1 + 2t/90
            moments.append(
                (
                    self.start + timedelta(days=offset, hours=rng.gauss(0, 3)),
                    rng.choices(live, cum_weights=cumulative)[0],
                    None,
                )
            )
        for provider in self.providers.values():
            if provider.role is None:
                continue
            offers = [o for o in self.offers if o.provider is provider and o.kind != "slot"]
            if not offers:
                continue
            end, start = provider.stop or self.now, provider.start
            assert start is not None  # every role has its start
            days = (end - start).total_seconds() / 86400
            for _ in range(int(days * ROLE_CLAIMS_PER_DAY)):
                moments.append((start + timedelta(days=rng.random() * days), rng.choice(offers), None))
        moments = [m for m in moments if self.start < m[0] < self.now - timedelta(minutes=30)]
        moments.sort(key=lambda m: m[0])
        return moments

    async def claims(self) -> None:
        from catalog.pricing import member_pays_fen

        def member_share(offer: dict) -> int:  # what a paid offer charges (catalog/pricing.py)
            return member_pays_fen(offer["member_price_fen"], offer["subsidy_fen"])

        from marketplace.vouchers.services import period_start

        rng = self.rng
        vouchers_ids = await self.max_id("voucher")
        slot_ids = await self.max_id("offer_slot")
        by_scope: dict[tuple, tuple[list[Member], list[float]]] = {}
        counts: dict[tuple, int] = defaultdict(int)
        stock = {o.id: o.stock_left for o in self.offers}
        # (offer, start) → [slot id, starts, ends, booked, capacity, already in the table]
        slots: dict[tuple, list] = {
            (row["offer"], row["starts_at"]): [
                row["id"],
                row["starts_at"],
                row["ends_at"],
                row["booked"],
                row["capacity"],
                True,
            ]
            for row in await self.db.fetch("SELECT * FROM offer_slot")
        }
        releases: list = []  # heap of (when, seq, voucher): what a cancellation gives back, at its time
        sequence = 0
        for moment, offer, member in self.claim_moments():
            while releases and releases[0][0] <= moment:
                self.release(heapq.heappop(releases)[2], stock, counts)
            if not (offer.opens <= moment < offer.closes) or stock[offer.id] <= 0:
                continue
            key = (offer.scope_path, offer.groups)
            if key not in by_scope:
                pool = [
                    m
                    for m in self.members
                    if m.path.startswith(offer.scope_path) and (not offer.groups or offer.groups & m.groups)
                ]
                by_scope[key] = (pool, list(itertools.accumulate(m.weight for m in pool)))
            pool, cumulative = by_scope[key]
            if not pool:
                continue
            member = rng.choices(pool, cum_weights=cumulative)[0]
            if member.joined > moment:
                continue
            voucher = self.claim(
                offer, member, moment, counts, period_start, member_share, vouchers_ids, slot_ids, slots
            )
            if voucher is None:
                continue
            stock[offer.id] -= 1
            self.outcome(voucher)
            if voucher.status in ("cancelled", "refunded"):
                sequence += 1
                heapq.heappush(releases, (voucher.cancelled_at, sequence, voucher))
        while releases:
            self.release(heapq.heappop(releases)[2], stock, counts)
        member = self.demo_member
        if member and not any(v.member is member and v.points_spent for v in self.vouchers):
            # She spent points on a day pass once (the story below needs no points).
            for offer in [
                o
                for o in self.offers
                if o.kind == "points"
                and o.provider.role is None
                and o.provider.status == "active"
                and member.path.startswith(o.scope_path)
                and (not o.groups or o.groups & member.groups)
                and stock[o.id] > 0
            ]:
                moment = self.day(-8)
                if offer.opens <= moment < offer.closes and self.claim(
                    offer, member, moment, counts, period_start, member_share, vouchers_ids, slot_ids, slots
                ):
                    stock[offer.id] -= 1
                    voucher = self.vouchers[-1]
                    voucher.status, voucher.redeemed_at = "redeemed", self.on_day(-7, 10.5)  # the next day, open
                    voucher.staff, voucher.location = offer.provider.staff[0], offer.provider.locations[0]
                    break
        self.demo_member_story(stock, counts, vouchers_ids, period_start)
        self.expire_campaign_spends()
        await self.write_claims(stock, counts, slots)

    def claim(
        self, offer: Offer, member: Member, moment: datetime, counts, period_start, member_share, ids, slot_ids, slots
    ) -> Voucher | None:
        """One claim under the services' rules; None when it would have been refused."""
        rng = self.rng
        start = period_start(offer.period, moment)
        if counts[(member.id, offer.id, start)] >= offer.limit:
            return None
        expires = dates.end_of_last_day(offer.valid_to)  # whole days, as vouchers.issue does
        slot = None
        if offer.kind == "slot":
            day = _local(moment).date() + timedelta(days=rng.randint(1, 6))
            hour = rng.choice((10, 19))
            begins = _at_local(day, hour)
            if begins >= offer.valid_to:
                return None
            entry = slots.get((offer.id, begins))
            if entry is None:  # past times: the slot the provider had opened then
                entry = slots[(offer.id, begins)] = [slot_ids.take(), begins, begins + timedelta(hours=1), 0, 10, False]
            if entry[3] >= entry[4]:
                return None
            entry[3] += 1
            slot = entry
            expires = min(expires, entry[2])
        points = (offer.points_price or 0) if offer.kind == "points" else 0
        taken = []
        if points:
            available = [
                lot for lot in self.lots[member.id] if lot.created <= moment < lot.expires and lot.remaining > 0
            ]
            if sum(lot.remaining for lot in available) < points:
                if slot:
                    slot[3] -= 1
                return None
            need = points
            for lot in sorted(available, key=lambda lot: (lot.expires, lot.id)):
                take = min(lot.remaining, need)
                lot.remaining -= take
                lot.touched = True
                taken.append((lot, take))
                need -= take
                if need == 0:
                    break
        campaign = next(
            (
                c
                for c in self.campaigns
                if offer.subsidy_fen > 0
                and offer.category in c["categories"]
                and c["starts"] <= moment < c["ends"]
                and member.path.startswith(c["node_path"])
            ),
            None,
        )
        if campaign is not None:
            if (
                campaign["members"][member.id] + offer.subsidy_fen > campaign["cap"]
                or campaign["spent"] + offer.subsidy_fen > campaign["budget"]
            ):
                for lot, take in taken:  # refused: nothing was taken
                    lot.remaining += take
                if slot:
                    slot[3] -= 1
                return None
            campaign["members"][member.id] += offer.subsidy_fen
            campaign["spent"] += offer.subsidy_fen
        counts[(member.id, offer.id, start)] += 1
        voucher = Voucher(
            ids.take(),
            codes.new_code(),
            offer,
            member,
            moment,
            expires,
            subsidy_fen=offer.subsidy_fen,
            paid_fen=member_share({"member_price_fen": offer.member_price_fen, "subsidy_fen": offer.subsidy_fen})
            if offer.kind == "paid"
            else 0,
            points_spent=points,
            slot=slot[0] if slot else None,
            period_start=start,
            campaign=campaign,
        )
        voucher.points_taken = taken
        if slot:
            voucher.slot_starts = slot[1]
        if offer.kind == "paid":
            voucher.payment = "succeeded"
        self.vouchers.append(voucher)
        if points:
            self.points_rows.append(("spend", voucher, moment))
        return voucher

    def outcome(self, voucher: Voucher) -> None:
        """What became of a claim: used at the counter, cancelled, left to expire, or still held."""
        rng = self.rng
        offer, provider = voucher.offer, voucher.offer.provider
        roll = rng.random()
        if offer.kind == "paid" and roll < 0.03:  # the member gave up paying: the hold was released
            voucher.status, voucher.payment = "cancelled", "cancelled"
            voucher.cancelled_at = voucher.claimed_at + timedelta(minutes=rng.uniform(2, 15))
            return
        if roll < 0.08:
            voucher.cancelled_at = voucher.claimed_at + timedelta(hours=rng.uniform(1, 72))
            if voucher.cancelled_at < min(voucher.expires_at, self.now):
                voucher.status = "refunded" if offer.kind == "paid" else "cancelled"
                if offer.kind == "paid":
                    voucher.payment = "refunded"
                return
            voucher.cancelled_at = None
        if voucher.slot_starts is not None:
            when = voucher.slot_starts + timedelta(minutes=rng.uniform(-10, 20))
            used = rng.random() < 0.85
        else:
            when = voucher.claimed_at + timedelta(days=rng.expovariate(1 / 2.5))
            hour = rng.choice((9.5, 11.5, 12.2, 12.8, 17.5, 18.5, 19.2, 20.0)) + rng.uniform(0, 0.9)
            when = _at_local(_local(when).date(), hour)
            used = rng.random() < 0.82
        if used and voucher.claimed_at < when < min(voucher.expires_at, self.now):
            voucher.status, voucher.redeemed_at = "redeemed", when
            voucher.staff = rng.choice(provider.staff)
            voucher.location = rng.choice(provider.locations)
            # "Was the discount honoured?" is answered now and then. The policy's lower Wilson
            # bound is harsh on small samples (10 answers, all yes, give 72 % < 85 %), so
            # ordinary providers get few answers and the busy demo provider many.
            answer_rate = 0.6 if provider.role else 0.4 if provider is self.demo_provider else 0.08
            if rng.random() < answer_rate:
                # Most providers honour what they promise; the ones on their way down often do not.
                voucher.honoured = (
                    rng.random() < 0.995 if provider.honest else self.good_visit(provider, when) or rng.random() < 0.5
                )
        elif voucher.expires_at <= self.now:
            voucher.status = "expired"

    def good_visit(self, provider: Provider, when: datetime) -> bool:
        quality = provider.quality
        if provider.recovers and when >= provider.recovers:
            quality = 0.9
        return self.rng.random() < quality

    def release(self, voucher: Voucher, stock: dict, counts: dict) -> None:
        """A cancelled voucher gives back its stock, its place in the limit, its slot place,
        its points (to the lots they came from) and its campaign subsidy."""
        stock[voucher.offer.id] += 1
        counts[(voucher.member.id, voucher.offer.id, voucher.period_start)] -= 1
        for lot, take in voucher.points_taken:
            lot.remaining += take
        if voucher.points_spent:
            self.points_rows.append(("refund", voucher, voucher.cancelled_at))
        if voucher.campaign is not None:
            voucher.campaign["members"][voucher.member.id] -= voucher.subsidy_fen
            voucher.campaign["spent"] -= voucher.subsidy_fen
            voucher.campaign_released = voucher.cancelled_at

    def expire_campaign_spends(self) -> None:
        """Spends of vouchers that expired unused went back (the periodic job's work)."""
        for voucher in self.vouchers:
            if voucher.campaign is not None and voucher.status == "expired":
                voucher.campaign["members"][voucher.member.id] -= voucher.subsidy_fen
                voucher.campaign["spent"] -= voucher.subsidy_fen
                voucher.campaign_released = voucher.expires_at + timedelta(minutes=5)

    async def write_claims(self, stock: dict, counts: dict, slots: dict) -> None:
        live = ("issued", "redeemed", "expired", "pending")
        booked: dict[int, int] = defaultdict(int)
        for v in self.vouchers:
            if v.slot is not None and v.status in live:
                booked[v.slot] += 1
        await self.copy(
            "offer_slot",
            ["id", "offer", "starts_at", "ends_at", "capacity", "booked"],
            [
                (slot_id, offer_id, begins, ends, capacity, booked[slot_id])
                for (offer_id, _), (slot_id, begins, ends, _, capacity, existing) in slots.items()
                if not existing
            ],
        )
        existing = [entry[0] for entry in slots.values() if entry[5]]
        await self.db.execute(
            "UPDATE offer_slot s SET booked = b.n FROM unnest($1::bigint[], $2::int[]) AS b(id, n) WHERE s.id = b.id",
            existing,
            [booked[slot_id] for slot_id in existing],
        )
        await self.copy(
            "voucher",
            [
                "id",
                "code",
                "offer",
                "member",
                "provider",
                "status",
                "period_start",
                "claimed_at",
                "expires_at",
                "redeemed_at",
                "redeemed_by",
                "redeemed_location",
                "cancelled_at",
                "honoured",
                "subsidy_fen",
                "paid_fen",
                "points_spent",
                "slot",
            ],
            [
                (
                    v.id,
                    v.code,
                    v.offer.id,
                    v.member.id,
                    v.offer.provider.id,
                    v.status,
                    v.period_start,
                    v.claimed_at,
                    v.expires_at,
                    v.redeemed_at,
                    v.staff,
                    v.location,
                    v.cancelled_at,
                    v.honoured,
                    v.subsidy_fen,
                    v.paid_fen,
                    v.points_spent,
                    v.slot,
                )
                for v in self.vouchers
            ],
        )
        await self.copy(
            "claim_count",
            ["member", "offer", "period_start", "claims"],
            [(member, offer, start, n) for (member, offer, start), n in counts.items() if n > 0],
        )
        await self.db.execute(
            "UPDATE offer o SET stock_left = s.stock FROM unnest($1::bigint[], $2::int[]) AS s(id, stock) "
            "WHERE o.id = s.id",
            list(stock),
            list(stock.values()),
        )
        # Payments of paid vouchers (the Stripe stand-in keeps no record of these old ones).
        payments = []
        for v in self.vouchers:
            if v.payment is None:
                continue
            paid = v.claimed_at + timedelta(minutes=2)
            payments.append(
                (
                    v.id,
                    v.member.id,
                    v.paid_fen,
                    f"pi_demo{v.id:012d}",
                    v.payment,
                    v.claimed_at + timedelta(minutes=15),
                    v.claimed_at,
                    paid if v.payment != "cancelled" else None,
                    v.cancelled_at if v.payment == "cancelled" else None,
                    f"re_demo{v.id:012d}" if v.payment == "refunded" else None,
                    v.cancelled_at + timedelta(minutes=1) if v.payment == "refunded" and v.cancelled_at else None,
                )
            )
        await self.copy(
            "payment",
            [
                "voucher",
                "member",
                "amount_fen",
                "payment_intent",
                "status",
                "hold_until",
                "created_at",
                "succeeded_at",
                "cancelled_at",
                "refund_id",
                "refunded_at",
            ],
            payments,
        )
        await self.write_points()
        for campaign in self.campaigns:
            spends = [
                (campaign["id"], v.id, v.member.id, campaign["node"], v.subsidy_fen, v.claimed_at, v.campaign_released)
                for v in self.vouchers
                if v.campaign is campaign
            ]
            await self.copy(
                "campaign_spend",
                ["campaign", "voucher", "member", "node", "amount_fen", "spent_at", "refunded_at"],
                spends,
            )
            await self.copy(
                "campaign_member",
                ["campaign", "member", "spent_fen"],
                [(campaign["id"], member, fen) for member, fen in campaign["members"].items()],
            )
            await self.db.execute("UPDATE campaign SET spent_fen = $2 WHERE id = $1", campaign["id"], campaign["spent"])
            # The campaign has one funding node (one share of 100 %): each spend is its part.
            await self.db.execute(
                "INSERT INTO campaign_share_spend (share, campaign, voucher, node, amount_fen, spent_at, refunded_at) "
                "SELECT sh.id, s.campaign, s.voucher, sh.node, s.amount_fen, s.spent_at, s.refunded_at "
                "FROM campaign_spend s JOIN campaign_share sh ON sh.campaign = s.campaign WHERE s.campaign = $1",
                campaign["id"],
            )
            await self.db.execute(
                "UPDATE campaign_share SET spent_fen = $2 WHERE campaign = $1", campaign["id"], campaign["spent"]
            )
        self.report.vouchers = len(self.vouchers)

    async def write_points(self) -> None:
        """Grants, spends and refunds as the ledger would have them, in time order; the lots
        as the spends left them; each balance the sum of its entries."""
        entries: list[tuple] = [
            (lot.created, lot.member, "grant", lot.amount, f"grant:{lot.grant}", None, lot.grant, lot.reason, None, lot)
            for lot in self.grant_lots
        ]
        for kind, voucher, when in self.points_rows:
            if kind == "spend":
                entries.append(
                    (
                        when,
                        voucher.member.id,
                        "spend",
                        -voucher.points_spent,
                        f"spend:voucher:{voucher.id}",
                        voucher.id,
                        None,
                        None,
                        json.dumps([[lot.id, take] for lot, take in voucher.points_taken]),
                        None,
                    )
                )
            else:
                entries.append(
                    (
                        when,
                        voucher.member.id,
                        "refund",
                        voucher.points_spent,
                        f"refund:voucher:{voucher.id}",
                        voucher.id,
                        None,
                        None,
                        None,
                        None,
                    )
                )
        entries.sort(key=lambda e: e[0])
        ids = await self.max_id("points_entry")
        rows, lot_entry = [], {}
        for when, member, kind, amount, ref_, voucher, grant, reason, lots, lot in entries:
            entry_id = ids.take()
            if lot is not None:
                lot_entry[lot.id] = entry_id
            rows.append((entry_id, member, kind, amount, ref_, voucher, grant, reason, lots, when))
        await self.copy(
            "points_entry",
            ["id", "member", "kind", "amount", "ref", "voucher", "points_grant", "reason", "lots", "created_at"],
            rows,
        )
        await self.copy(
            "points_lot",
            ["id", "member", "entry", "amount", "remaining", "expires_at"],
            [
                (lot.id, lot.member, lot_entry[lot.id], lot.amount, lot.remaining, lot.expires)
                for lot in self.grant_lots
            ],
        )
        earlier = [lot for lots in self.lots.values() for lot in lots if lot.touched and lot.grant is None]
        await self.db.execute(
            "UPDATE points_lot l SET remaining = t.remaining FROM unnest($1::bigint[], $2::int[]) AS t(id, remaining) "
            "WHERE l.id = t.id",
            [lot.id for lot in earlier],
            [lot.remaining for lot in earlier],
        )
        await self.db.execute(
            "INSERT INTO points_balance (member, balance) SELECT member, sum(amount) FROM points_entry "
            "WHERE member = ANY($1::bigint[]) GROUP BY member ORDER BY member "
            "ON CONFLICT (member) DO UPDATE SET balance = EXCLUDED.balance",
            sorted({row[1] for row in rows}),
        )

    # --- the quality loop's records --------------------------------------------------------------

    async def feedback(self) -> None:
        """Redemptions as evaluation keeps them, ratings with comments, complaints with answers."""
        rng = self.rng
        redemption_ids = await self.max_id("redemption")
        rating_ids = await self.max_id("rating")
        redemptions, ratings, complaints = [], [], []
        redemption_of = {}
        survey_delay = timedelta(hours=2)
        mine = sorted(
            (v for v in self.vouchers if v.member is self.demo_member and v.status == "redeemed"),
            key=lambda v: v.redeemed,
        )
        for v in sorted((v for v in self.vouchers if v.status == "redeemed"), key=lambda v: v.redeemed):
            provider = v.offer.provider
            rid = redemption_of[v.id] = redemption_ids.take()
            due = v.redeemed + survey_delay
            redemptions.append(
                (
                    rid,
                    v.id,
                    provider.id,
                    v.offer.id,
                    v.offer.category,
                    v.member.id,
                    v.staff,
                    v.location,
                    v.redeemed_at,
                    v.honoured,
                    due,
                    due if due <= self.now else None,
                )
            )
            good = self.good_visit(provider, v.redeemed)
            rate_chance = 0.6 if provider.role else 0.42
            if v.member is self.demo_member:  # she rated her first visits, and has her last one to rate
                rate_chance, good = (1.0 if v is not mine[-1] else 0.0), True
            if rng.random() < rate_chance:
                at = v.redeemed + timedelta(hours=rng.uniform(2.2, 60))
                if at < self.now:
                    overall = (
                        rng.choices((5, 4, 3), (62, 30, 8))[0] if good else rng.choices((1, 2, 3), (55, 35, 10))[0]
                    )
                    comment = ""
                    if rng.random() < 0.65:
                        pool = (
                            cat.COMMENTS_GOOD
                            if overall >= 4
                            else cat.COMMENTS_FAIR
                            if overall == 3
                            else cat.COMMENTS_BAD
                        )
                        comment = rng.choice(pool)
                    subs = [max(1, min(5, overall + rng.choice((-1, 0, 0, 0, 1)))) for _ in range(4)]
                    ratings.append(
                        (
                            rating_ids.take(),
                            rid,
                            provider.id,
                            v.member.id,
                            overall,
                            *subs,
                            comment,
                            at,
                            at,
                            False,
                            None,
                            None,
                            "",
                            False,
                            pii.mask_name(v.member.name),
                            *self.reply(provider, overall, comment, at, random.Random(rid)),
                        )
                    )
            complaint_chance = 0.004 if good else provider.complaints
            if rng.random() < complaint_chance:
                complaints.append(self.complaint(v, rid, provider))
        self.held_burst(ratings, rating_ids, redemption_of)
        await self.copy(
            "redemption",
            [
                "id",
                "voucher",
                "provider",
                "offer",
                "category",
                "member",
                "staff",
                "location",
                "redeemed_at",
                "honoured",
                "survey_due_at",
                "survey_sent_at",
            ],
            redemptions,
        )
        await self.copy(
            "rating",
            [
                "id",
                "redemption",
                "provider",
                "member",
                "overall",
                "service",
                "honoured",
                "environment",
                "attitude",
                "comment",
                "created_at",
                "updated_at",
                "held",
                "hold_reason",
                "cleared_at",
                "network",
                "new_account",
                "member_masked",
                "reply",
                "replied_at",
                "replied_by",
            ],
            ratings,
        )
        await self.copy(
            "complaint",
            [
                "redemption",
                "voucher",
                "provider",
                "member",
                "category",
                "text",
                "status",
                "created_at",
                "respond_by",
                "answer",
                "answered_at",
                "resolution",
                "closed_at",
                "closed_by",
                "member_masked",
            ],
            [c for c in complaints if c],
        )
        self.report.redemptions, self.report.ratings = len(redemptions), len(ratings)
        self.report.complaints = sum(1 for c in complaints if c)

    def reply(self, provider: Provider, overall: int, comment: str, at: datetime, rng: random.Random) -> tuple:
        """The owner's public reply to a review with a comment, if they wrote one: (reply,
        replied_at, replied_by). The demo provider answers most, others some, the worst few.
        Its own random source, so that the rest of the history stays as it was."""
        chance = 0.7 if provider is self.demo_provider else 0.2 if provider.role else 0.35
        if not comment or rng.random() >= chance:
            return None, None, None
        replied_at = at + timedelta(hours=rng.uniform(3, 40))
        if replied_at >= self.now:
            return None, None, None
        pool = cat.REPLIES_GOOD if overall >= 4 else cat.REPLIES_FAIR if overall == 3 else cat.REPLIES_BAD
        return rng.choice(pool), replied_at, provider.owner

    async def favourites(self) -> None:
        """收藏: the demo member keeps a few offers and shops she used; other members some of
        what they claimed, so 我的收藏 and the data page have something to show."""
        rows: list[tuple[int, int | None, int | None, datetime]] = []  # (member, offer, provider, at)
        rng, seen = random.Random(len(self.vouchers)), set()  # apart from the history's own
        for v in self.vouchers:
            if v.member is self.demo_member:
                chance = 0.5
            elif v.offer.provider.status == "active":
                chance = 0.04
            else:
                continue
            if (v.member.id, v.offer.id) in seen or rng.random() >= chance:
                continue
            seen.add((v.member.id, v.offer.id))
            kept = min(self.now, v.claimed_at + timedelta(minutes=rng.uniform(1, 600)))
            rows.append((v.member.id, v.offer.id, None, kept))
            if (v.member.id, -v.offer.provider.id) not in seen and rng.random() < 0.3:
                seen.add((v.member.id, -v.offer.provider.id))
                rows.append((v.member.id, None, v.offer.provider.id, kept))
        if (
            self.demo_member is not None
            and self.demo_provider is not None
            and (self.demo_member.id, -self.demo_provider.id) not in seen
        ):
            rows.append((self.demo_member.id, None, self.demo_provider.id, self.day(-5)))
        await self.copy("favourite", ["member", "offer", "provider", "created_at"], rows)
        self.report.favourites = len(rows)

    def complaint(self, voucher: Voucher, redemption_id: int, provider: Provider) -> tuple | None:
        rng = self.rng
        created = voucher.redeemed + timedelta(hours=rng.uniform(1, 40))
        if created >= self.now:
            return None
        category = rng.choices(list(cat.COMPLAINTS), (40, 20, 25, 8, 2, 5))[0]
        respond_by = created + timedelta(hours=72)
        status, answer, answered, resolution, closed, closed_by = "open", None, None, None, None, None
        # A good provider answers within a day; a provider on its way down lets most go past the deadline.
        answers = rng.random() < (provider.answers if not (provider.recovers and created > provider.recovers) else 0.93)
        if answers:
            answered = created + timedelta(hours=rng.uniform(2, 30) if rng.random() < 0.85 else rng.uniform(80, 120))
            if answered < self.now:
                status, answer = "answered", rng.choice(cat.ANSWERS)
            else:
                answered = None
        if status == "answered" and answered is not None and rng.random() < 0.5:
            closed = answered + timedelta(days=rng.uniform(1, 5))
            if closed < self.now:
                status, resolution, closed_by = "closed", rng.choice(cat.RESOLUTIONS), self.operators["beijing"].id
            else:
                closed = None
        return (
            redemption_id,
            voucher.id,
            provider.id,
            voucher.member.id,
            category,
            rng.choice(cat.COMPLAINTS[category]),
            status,
            created,
            respond_by,
            answer,
            answered,
            resolution,
            closed,
            closed_by,
            pii.mask_name(voucher.member.name),
        )

    def held_burst(self, ratings: list, rating_ids: Ids, redemption_of: dict) -> None:
        """Three five-star ratings of one provider within an hour from one network: the third
        joins a burst and waits for an operator, as the ratings service holds it."""
        recent = defaultdict(list)
        for v in self.vouchers:
            if (
                v.status == "redeemed"
                and self.day(-14) < v.redeemed < self.day(-1)
                and v.offer.provider is not self.demo_provider
                and v.member is not self.demo_member
            ):
                recent[v.offer.provider.id].append(v)
        busiest = sorted(recent.values(), key=len, reverse=True)
        burst = busiest[0][-3:] if busiest and len(busiest[0]) >= 3 else None
        if burst is None:
            return
        chosen = {redemption_of[v.id] for v in burst}
        ratings[:] = [r for r in ratings if r[1] not in chosen]
        at = max(v.redeemed for v in burst) + timedelta(hours=3)
        for number, v in enumerate(burst):
            moment = at + timedelta(minutes=7 * number)
            held = number == 2
            ratings.append(
                (
                    rating_ids.take(),
                    redemption_of[v.id],
                    v.offer.provider.id,
                    v.member.id,
                    5,
                    5,
                    5,
                    5,
                    5,
                    "非常好！强烈推荐！",
                    moment,
                    moment,
                    held,
                    "burst_one_network" if held else None,
                    None,
                    "203.0.113.0/24",
                    False,
                    pii.mask_name(v.member.name),
                    None,
                    None,
                    None,
                )
            )

    # --- evaluator results ------------------------------------------------------------------------

    async def evaluator_results(self) -> None:
        """A batch a month from the city's survey centre and from the province's (made here):
        mystery-shopper visits and phone surveys."""
        from marketplace.seed import EVALUATOR_ORG

        await self.db.execute(
            "INSERT INTO evaluator_org (name, node) VALUES ($1, $2)", HEBEI_EVALUATOR, self.operators["hebei"].node_id
        )
        await self.survey_batches(EVALUATOR_ORG, "BJ-SQMY", self.rng)
        await self.survey_batches(HEBEI_EVALUATOR, "HB-ZGFW", random.Random(HISTORY_DAYS))  # apart from the city's

    async def survey_batches(self, name: str, prefix: str, rng: random.Random) -> None:
        """A batch a month of the organisation `name` about the providers of its area."""
        from evaluation.evaluators import batches

        org = await self.db.fetchrow(
            "SELECT o.id, o.name, o.node, n.path FROM evaluator_org o JOIN union_node n ON n.id = o.node "
            "WHERE o.name = $1",
            name,
        )
        principal = Principal(
            kind="evaluator", id=org["id"], display_name=org["name"], node_id=org["node"], node_path=org["path"]
        )
        visited = [p for p in self.providers.values() if p.path.startswith(org["path"])]
        for number, month_end in enumerate((-62, -32, -2)):
            submitted = self.on_day(month_end, 16)
            rows = []
            for provider in rng.sample(visited, min(len(visited), max(3, len(visited) // 3))):
                if provider.start and provider.start > submitted - timedelta(days=20):
                    continue
                visit = _local(submitted - timedelta(days=rng.uniform(1, 25))).date()
                good = provider.quality > 0.7 or (provider.recovers and submitted > provider.recovers)
                score = int(min(100, max(20, rng.gauss(88 if good else 52, 6))))
                method = rng.choice(batches.METHODS[:2])
                rows.append(
                    {
                        "provider_id": provider.id,
                        "visit_date": visit.isoformat(),
                        "method": method,
                        "score": score,
                        "honoured": min(100, score + rng.randint(-5, 8)),
                        "service": min(100, score + rng.randint(-8, 5)),
                        "sample_size": 1 if method == "mystery_shopper" else rng.randint(8, 30),
                        "note": rng.choice(cat.EVALUATOR_NOTES_GOOD if good else cat.EVALUATOR_NOTES_BAD),
                    }
                )
            if rows:
                batch_ref = f"{prefix}-{_local(submitted):%Y%m}-{number + 1:02d}"
                await batches.submit(principal, batch_ref, list(enumerate(rows, start=1)), "json", now=submitted)

    # --- the enforcement policy, replayed ----------------------------------------------------------

    async def policy_rounds(self) -> None:
        """The policy's weekly runs over the 90 days, and what operators and providers did
        with the cases it opened, each at its time."""
        from evaluation.enforcement import policy
        from evaluation.scorecards import services as scorecards

        # The hourly run, as it stood each week at 03:00 in Beijing; the last one is now.
        rounds = [self.on_day(-ROUND_DAYS * k, 3) for k in range(HISTORY_DAYS // ROUND_DAYS, 0, -1)] + [self.now]
        actions = []  # (when, role, kind)
        for spec in ROLES:
            if "action" in spec:
                actions.append((self.day(spec["action"][1]), spec["role"], spec["action"][0]))
            if "appeal" in spec:
                actions.append((self.day(spec["appeal"]), spec["role"], "appeal"))
        actions.sort(key=lambda a: a[0])
        by_role = {p.role: p for p in self.providers.values() if p.role}
        rules = policy.DEFAULT_RULES
        for moment in rounds:
            actions = await self.due_actions(actions, moment, by_role)
            await scorecards.recompute_all(now=moment)
            cards = {row["provider"]: dict(row) for row in await self.db.fetch("SELECT * FROM provider_scorecard")}
            standing = {
                row["provider"]: row["state"]
                for row in await self.db.fetch("SELECT provider, state FROM provider_standing")
            }
            marks = await self.marks()
            for provider_id in sorted(set(cards) | set(standing)):
                if (
                    standing.get(provider_id, "good") == "good"
                    and policy.assess(cards.get(provider_id), rules)[0] == "good"
                ):
                    continue  # the run would leave it good: nothing to write
                await policy.evaluate_provider(provider_id, now=moment)
            await self.backdate(marks, moment)
        await self.due_actions(actions, self.now, by_role)

    async def due_actions(self, actions: list, moment: datetime, by_role: dict) -> list:
        """Do the actions due by `moment` whose case exists (a day after it opened at the
        earliest); the others wait for a later round."""
        waiting = []
        for when, role, kind in actions:
            provider = by_role.get(role)
            case = provider and await self.db.fetchrow(
                "SELECT id, opened_at, status FROM enforcement_case WHERE provider = $1 AND kind = 'delisting' "
                "ORDER BY id DESC LIMIT 1",
                provider.id,
            )
            if when > moment or provider is None or case is None or (kind == "appeal" and case["status"] != "decided"):
                waiting.append((when, role, kind))
                continue
            await self.case_action(max(when, case["opened_at"] + timedelta(days=1)), case["id"], provider, kind)
        return waiting

    async def case_action(self, when: datetime, case_id: int, provider: Provider, kind: str) -> None:
        from evaluation.enforcement import cases, policy

        marks = await self.marks()
        beijing = self.operators["beijing"]
        if kind == "delist":
            await cases.decide(beijing, case_id, "delist", cat.CASE_DELIST_EXPLANATION)
            await self.db.execute("UPDATE enforcement_case SET decided_at = $2 WHERE id = $1", case_id, when)
            await self.db.execute("UPDATE provider_standing SET since = $2 WHERE provider = $1", provider.id, when)
            await self.db.execute("UPDATE provider SET updated_at = $2 WHERE id = $1", provider.id, when)
        elif kind == "keep":
            await cases.decide(beijing, case_id, "keep", cat.CASE_KEEP_EXPLANATION)
            await self.db.execute("UPDATE enforcement_case SET decided_at = $2 WHERE id = $1", case_id, when)
            await self.db.execute(
                "UPDATE provider_standing SET deadline = $2 WHERE provider = $1",
                provider.id,
                when + timedelta(days=policy.DEFAULT_RULES["improve_days"]),
            )
        elif kind == "appeal":
            owner = Principal(
                kind="provider", id=provider.owner, display_name=provider.name, provider_id=provider.id, role="owner"
            )
            await cases.appeal(owner, case_id, cat.APPEAL_STATEMENT)
            await self.db.execute("UPDATE enforcement_case SET appealed_at = $2 WHERE id = $1", case_id, when)
        await self.backdate(marks, when)

    async def integrity_signal(self) -> None:
        """One redemption in the small hours, recorded through the quality loop's feed, which
        opens an integrity case for operators to look into."""
        from evaluation.ratings import services as ratings

        night = [
            v
            for v in self.vouchers
            if v.status == "redeemed"
            and v.offer.provider.role is None
            and v.offer.provider is not self.demo_provider
            and v.redeemed > self.day(-10)
        ]
        if not night:
            return
        voucher = night[0]
        when = _at_local(_local(voucher.redeemed).date(), 2.2)
        if not voucher.claimed_at < when < self.now:
            return
        await self.db.execute("UPDATE voucher SET redeemed_at = $2 WHERE id = $1", voucher.id, when)
        await self.db.execute(
            "DELETE FROM rating WHERE redemption IN (SELECT id FROM redemption WHERE voucher = $1)", voucher.id
        )
        await self.db.execute("DELETE FROM complaint WHERE voucher = $1", voucher.id)
        await self.db.execute("DELETE FROM redemption WHERE voucher = $1", voucher.id)
        voucher.redeemed_at = when
        marks = await self.marks()
        await ratings.record_redemption(
            topics.VoucherRedeemed(
                voucher_id=voucher.id,
                provider_id=voucher.offer.provider.id,
                offer_id=voucher.offer.id,
                category_id=voucher.offer.category,
                member_id=voucher.member.id,
                staff_id=voucher.staff,
                location_id=voucher.location,
                redeemed_at=when,
            )
        )
        await self.db.execute("UPDATE redemption SET survey_sent_at = survey_due_at WHERE voucher = $1", voucher.id)
        await self.backdate(marks, when + timedelta(seconds=5))

    async def scorecards(self) -> None:
        """The current scorecards, and the snapshots of the months the history covers."""
        from evaluation.scorecards import services as scorecards

        first = _local(self.start).date().replace(day=1)
        month = first
        this_month = _local(self.now).date().replace(day=1)
        while month < this_month:
            await scorecards.snapshot_month(month)
            month = (month + timedelta(days=32)).replace(day=1)
        await scorecards.recompute_all(now=self.now)

    # --- money, searches, reports ------------------------------------------------------------------

    async def settlements(self) -> None:
        """Last month's statements drafted by the monthly job, one of them approved (the rest
        wait in the operators' queue)."""
        from providers.settlements import drafting as statements, services as settlements

        rng = self.rng
        # Half the providers gave their payout account when they joined.
        accounts = [p.id for p in self.providers.values() if p is not self.demo_provider and rng.random() < 0.5]
        await self.db.execute(
            "UPDATE provider SET payout_account = 'acct_1Demo' || lpad(id::text, 10, '0') "
            "WHERE id = ANY($1::int[]) AND payout_account IS NULL",
            accounts,
        )
        period = settlements.previous_period(self.now)
        drafted_at = settlements.period_bounds(period)[1].astimezone(UTC) + timedelta(hours=3)
        result = await statements.draft_month(period, now=self.now)
        await self.db.execute("UPDATE settlement_statement SET drafted_at = $2 WHERE period = $1", period, drafted_at)
        if self.demo_provider:
            statement = await self.db.fetchval(
                "SELECT id FROM settlement_statement WHERE period = $1 AND provider = $2 AND total_fen > 0",
                period,
                self.demo_provider.id,
            )
            if statement:
                await settlements.approve(self.operators["beijing"], statement)
                await self.db.execute(
                    "UPDATE settlement_statement SET approved_at = $2 WHERE id = $1",
                    statement,
                    drafted_at + timedelta(days=1, hours=6),
                )
        self.report.statements = len(result.created)

    async def search_misses(self) -> None:
        """Searches that found nothing: what members want and the city does not offer yet."""
        rng = self.rng
        queries, weights = zip(*cat.SEARCH_MISSES, strict=True)
        districts = [d["name_zh"] for d in ref.DISTRICTS]
        rows: list[tuple] = []
        for _ in range(min(600, 40 + len(self.members) // 5)):
            when = self.start + timedelta(days=HISTORY_DAYS * math.sqrt(rng.random()))
            rows.append(
                (
                    rng.choices(queries, weights)[0],
                    rng.choice(districts) if rng.random() < 0.45 else None,
                    [],
                    False,
                    when,
                )
            )
        # Hebei's members search too: one miss in twelve more, in its districts (a random
        # source of its own, so that the city's stay as they were).
        from marketplace.seed import HEBEI_CITIES

        hebei = [place["district"]["name_zh"] for place in HEBEI_CITIES]
        local = random.Random(len(rows))
        for _ in range(max(8, len(rows) // 12)):
            when = self.start + timedelta(days=HISTORY_DAYS * math.sqrt(local.random()))
            rows.append((local.choices(queries, weights)[0], local.choice(hebei), [], False, when))
        await self.copy("search_miss", ["query", "district", "groups", "degraded", "created_at"], rows)

    async def admissions(self) -> None:
        """How the providers came in: each admitted by the city's operators days after applying."""
        beijing = self.operators["beijing"]
        await self.db.execute(
            "INSERT INTO provider_status_change (provider, from_status, to_status, actor_kind, actor_id, reason, at) "
            "SELECT p.id, 'applied', 'active', 'operator', $1, '', p.created_at + interval '2 days' FROM provider p "
            "WHERE p.status IN ('active', 'suspended', 'delisted') "
            "AND NOT EXISTS (SELECT 1 FROM provider_status_change c WHERE c.provider = p.id)",
            beijing.id,
        )

    async def forwards(self) -> None:
        """Complaints handed on (转交): the city's operator forwards the oldest complaints still
        open about providers of the city's districts to each provider's own district union
        (Chaoyang's first), and Chaoyang hands one back up to the city's operator by name, so
        the to-do lists and the complaints' histories show it."""
        from evaluation.complaints import services as complaints

        beijing, chaoyang = self.operators["beijing"], self.operators["chaoyang"]
        rows = await self.db.fetch(
            "SELECT c.id, p.node FROM complaint c JOIN provider p ON p.id = c.provider "
            "JOIN union_node n ON n.id = p.node WHERE n.path LIKE $1 || '_%' AND c.status <> 'closed' "
            "ORDER BY p.node = $2 DESC, c.created_at LIMIT 3",
            beijing.node_path,
            chaoyang.node_id,
        )
        for row in rows:
            await complaints.forward(beijing, row["id"], None, "属地工会先行调解，请联系商户核实后答复会员。")
        if rows and rows[0]["node"] == chaoyang.node_id:
            await complaints.forward(chaoyang, rows[0]["id"], beijing.id, "涉及连锁门店统一收费规则，请市总工会协调。")

    async def approvals(self) -> None:
        """Money changes waiting for four eyes: Chaoyang's operator proposes a year-end points
        grant to its members, and Shijiazhuang's a Spring Festival one to its city's, each over
        the approval threshold, for the operator above (the city's, the province's) to approve
        or reject on 待审批."""
        for proposer, reason in (("chaoyang", "区总工会年终慰问积分"), ("shijiazhuang", "市总工会春节职工慰问积分")):
            await self.grant_to_approve(self.operators[proposer], reason)

    async def grant_to_approve(self, operator: Principal, reason: str) -> None:
        from marketplace.points import services as points

        assert operator.node_id is not None  # an operator belongs to a node
        members = await self.db.fetchval(
            "SELECT count(*) FROM member m JOIN union_node n ON n.id = m.node "
            "WHERE n.path LIKE $1 || '%' AND m.status = 'active'",
            operator.node_path,
        )
        # A round amount per member whose total is over the threshold.
        amount = -(-(points.APPROVAL_THRESHOLD + 1) // max(members, 1) // 50) * 50
        await points.create_grant(operator, operator.node_id, None, amount, reason)

    # --- the areas' desks: cases, survey stations, draws, rosters, disputes, complaints -----------

    async def chaoyang_desk(self) -> None:
        """Chaoyang district's own work, so its operator's pages are not empty: a New Year
        campaign of its own for gig workers (budgeted, starting soon), and what every desk has
        (`desk`)."""
        from marketplace.campaigns import services as campaigns
        from marketplace.campaigns.schemas import CampaignCreate

        chaoyang = self.operators["chaoyang"]
        assert chaoyang.node_id is not None  # an operator belongs to a node
        categories = {code: id_ for id_, code in self.category_codes.items()}
        new_year = _at_local(date(_local(self.now).year + (_local(self.now).month > 1), 1, 1), 0)
        if new_year - self.now < timedelta(days=7):  # seeded in late December: the Spring Festival
            new_year = self.on_day(40, 0)
        campaign = await campaigns.create_campaign(
            chaoyang,
            CampaignCreate(
                node_id=chaoyang.node_id,
                name_zh="朝阳区新就业形态劳动者新春暖心补贴",
                name_en="Chaoyang New Year support for gig workers",
                starts_at=new_year,
                ends_at=new_year + timedelta(days=45),
                groups=["gig"],
                category_ids=[categories[code] for code in ("dining", "fitness") if code in categories],
                budget_fen=5_000_000,
                per_member_cap_fen=5_000,
            ),
        )
        await self.db.execute("UPDATE campaign SET created_at = $2 WHERE id = $1", campaign.id, self.on_day(-4, 15.5))
        await self.desk(CHAOYANG)

    async def hebei_desk(self) -> None:
        """Hebei province's own work (`desk`); its campaign, grant, policy and survey results
        come with the city's (`policy_and_campaign`, `grants`, `evaluator_results`)."""
        await self.desk(HEBEI)

    async def desk(self, desk: "Desk") -> None:
        """An area's cases and survey station: a delisting case its operator opened by hand on
        the most complained-about of its providers, one it closed keeping the provider after it
        put things right, and its survey station's API key. Providers the policy is taking
        through its levels (roles) come last: their own story is the policy's; then those
        selling prepaid packages (an open case stops their sales); the area's
        `cases_first_in` first."""
        from evaluation.enforcement import cases
        from evaluation.evaluators import keys

        operator = self.operators[desk.operator]
        rows = await self.db.fetch(
            "SELECT p.id, count(c.id) AS n FROM provider p JOIN union_node pn ON pn.id = p.node "
            "LEFT JOIN complaint c ON c.provider = p.id "
            "WHERE pn.path LIKE $1 || '%' AND p.status = 'active' AND p.id <> $2 AND NOT EXISTS "
            "(SELECT 1 FROM enforcement_case e WHERE e.provider = p.id AND e.kind = 'delisting' "
            "AND e.status IN ('open', 'appealed')) "
            "GROUP BY p.id, pn.path ORDER BY p.id = ANY($3::int[]), EXISTS (SELECT 1 FROM offer o WHERE "
            "o.provider = p.id AND o.kind = 'prepaid' AND o.status = 'published'), pn.path NOT LIKE $4 || '%', "
            "n DESC, p.id LIMIT 2",
            operator.node_path,
            self.demo_provider.id if self.demo_provider else 0,
            [p.id for p in self.providers.values() if p.role],
            await self.db.fetchval("SELECT path FROM union_node WHERE code = $1", desk.cases_first_in)
            if desk.cases_first_in
            else operator.node_path,
        )
        for row, (reason, opened, kept) in zip(rows, desk.cases, strict=False):
            marks = await self.marks(audit=False)
            case_id = await cases.open_case_by_hand(operator, row["id"], reason)
            await self.backdate(marks, self.on_day(opened, 10.5))
            if kept is not None:
                marks = await self.marks(audit=False)
                await cases.decide(operator, case_id, "keep", desk.kept_because)
                await self.db.execute(
                    "UPDATE enforcement_case SET decided_at = $2 WHERE id = $1", case_id, self.on_day(kept, 16)
                )
                await self.backdate(marks, self.on_day(kept, 16))

        org = await self.db.fetchval("SELECT id FROM evaluator_org WHERE name = $1", desk.evaluator)
        if org is None:
            org = await self.db.fetchval(
                "INSERT INTO evaluator_org (name, node) VALUES ($1, $2) RETURNING id", desk.evaluator, operator.node_id
            )
        marks = await self.marks(audit=False)
        await keys.issue(operator, org)
        await self.db.execute("UPDATE evaluator_api_key SET created_at = $2 WHERE org = $1", org, self.on_day(-30, 9.5))
        await self.backdate(marks, self.on_day(-30, 9.5))

    async def draws(self) -> None:
        """Fair draws (抽签) of scarce free vouchers for Chaoyang's members and for Hebei's; in
        Chaoyang the demo member entered the drawn one and has not entered the open one (she
        can). Hebei's have their own random source, so that Chaoyang's stay as they were."""
        await self.desk_draws(CHAOYANG, self.rng)
        await self.desk_draws(HEBEI, random.Random(len(self.vouchers)))

    def not_drawn(self) -> list[int]:
        """Providers whose offers no draw takes: the demo shop (its own story)."""
        return [self.demo_provider.id] if self.demo_provider else []

    def drawn_last(self) -> list[int]:
        """Providers whose offers a draw takes only when there are no others: those the policy
        takes through its levels (their steady stream of claims leaves few members who may
        still enter)."""
        return [p.id for p in self.providers.values() if p.role]

    async def desk_draws(self, desk: "Desk", rng: random.Random) -> None:
        """An area's draws: one taking entries now, one drawn two days ago with its 公示,
        places claimed by most winners through the normal claim. Made through the draws' own
        services; their clock set back."""
        from marketplace.core.federation import services as federation
        from marketplace.draws import services as draws

        operator = self.operators[desk.operator]
        assert operator.node_path is not None  # an operator belongs to a node
        demo = self.demo_member.id if self.demo_member and self.demo_member.path.startswith(operator.node_path) else 0
        home = await self.db.fetchval("SELECT path FROM union_node WHERE code = $1", desk.home)
        wanted = len(desk.draws)
        offers = await self.db.fetch(
            "SELECT o.id, o.kind, o.stock_left, n.path FROM offer o JOIN union_node n ON n.id = o.node_scope "
            "WHERE n.path LIKE $1 || '%' AND o.status = 'published' "
            "AND o.kind IN ('voucher', 'points') AND o.groups = '{}' AND o.valid_to > $2 AND o.stock_left >= 20 "
            "AND o.valid_from < $3 AND o.provider <> ALL($4::int[]) AND " + DRAWN_PROVIDER_ACTIVE + " "
            "ORDER BY o.provider = ANY($6::int[]), o.kind = 'voucher' DESC, o.id LIMIT $5",
            operator.node_path,
            self.day(30),
            self.day(-14),
            self.not_drawn(),
            wanted + 10,
            self.drawn_last(),
        )
        if demo:  # a voucher the demo member holds none of first: she entered the drawn one (the first)
            held = {v.offer.id for v in self.vouchers if v.member.id == demo}
            offers = sorted(offers, key=lambda offer: (offer["id"] in held, offer["kind"] != "voucher"))
            if not offers or offers[0]["id"] in held or offers[0]["kind"] != "voucher":
                offers = [*await self.voucher_for(demo, home, operator), *offers]
        offers = offers[:wanted]
        # A small city may have too few such offers in the area: it takes over as many of its
        # home's (the city's, the province's) as it lacks, a newer one at last, so the draws
        # never depend on luck.
        for since in (self.day(-14), self.now):
            if len(offers) >= wanted:
                break
            spare = await self.db.fetch(
                "SELECT o.id, o.stock_left, CASE WHEN n.path LIKE $7 || '%' THEN n.path ELSE $7 END AS path "
                "FROM offer o JOIN union_node n ON n.id = o.node_scope "
                "WHERE n.path LIKE $6 || '%' AND o.status = 'published' "
                "AND o.kind IN ('voucher', 'points') AND o.groups = '{}' AND o.valid_to > $1 AND o.stock_left >= 20 "
                "AND o.valid_from < $2 AND o.provider <> ALL($3::int[]) AND o.id <> ALL($4::bigint[]) AND "
                + DRAWN_PROVIDER_ACTIVE
                + " ORDER BY o.provider = ANY($8::int[]), o.kind = 'voucher' DESC, o.id LIMIT $5",
                self.day(30),
                since,
                self.not_drawn(),
                [offer["id"] for offer in offers],
                wanted - len(offers),
                home,
                operator.node_path,
                self.drawn_last(),
            )
            await self.db.execute(
                "UPDATE offer o SET node_scope = $1 FROM union_node n WHERE n.id = o.node_scope "
                "AND o.id = ANY($2::bigint[]) AND n.path NOT LIKE $3 || '%'",
                operator.node_id,
                [offer["id"] for offer in spare],
                operator.node_path,
            )
            offers = [*offers, *spare]
        # Each draw's entrants are members the offer is open to; a member enters one of them.
        members = [m for m in self.members if m.path.startswith(operator.node_path) and m.id != demo]
        rng.shuffle(members)
        half = len(members) // 2
        pools = [(members[:half], 36, [demo] if demo else []), (members[half:], 28, [])]
        for offer, (pool, most, extra), (places, opened, drawn) in zip(offers, pools, desk.draws, strict=False):
            # Not the offer's holders, whom its limit would turn away.
            holders = {v.member.id for v in self.vouchers if v.offer.id == offer["id"]}
            entrants = [m.id for m in pool if m.path.startswith(offer["path"]) and m.id not in holders][:most] + extra
            # At most half as many places as entrants, so that a draw has a waiting list in a
            # small area too.
            places = min(places, offer["stock_left"], max(1, len(entrants) // 2))
            created = self.on_day(-opened, 9) - timedelta(hours=1)
            draw_id = await draws.create_draw(
                operator,
                draws.DrawCreate(
                    offer_id=offer["id"],
                    opens_at=self.on_day(-opened, 9),
                    closes_at=max(self.now, datetime.now(UTC)) + timedelta(hours=1) if drawn else self.on_day(4, 20),
                    places=places,
                    claim_hours=72,
                    weights={"hardship": 3, "gig": 2},
                ),
            )
            await self.db.execute("UPDATE draw SET created_at = $2 WHERE id = $1", draw_id, created)
            entered: list[tuple[int, datetime]] = []
            window_end = self.on_day(-drawn, 8) if drawn else self.now - timedelta(minutes=30)
            for member_id in entrants:
                principal = await federation.member_principal(member_id)
                if principal is None:
                    continue
                try:
                    entry = await draws.enter(principal, draw_id)
                except (NotFound, Conflict, Forbidden, Invalid):
                    continue  # not eligible for this offer (its scope, a limit): no entry
                # In the daytime of a day of the window (members enter from their phones).
                at = self.on_day(-opened + rng.randrange(max(opened - (drawn or 0), 1)), rng.uniform(7.5, 22.5))
                at = min(max(at, self.on_day(-opened, 9) + timedelta(minutes=5)), window_end)
                entered.append((entry["ticket"], at))
            await self.db.executemany(
                "UPDATE draw_entry SET entered_at = $2 WHERE id = $1", [(ticket, at) for ticket, at in entered]
            )
            await self.db.execute(
                "UPDATE notification SET created_at = e.entered_at FROM draw_entry e WHERE e.draw = $1 "
                "AND notification.member = e.member AND notification.kind = 'draw_entered' "
                "AND notification.link = $2",
                draw_id,
                f"/draws/{draw_id}",
            )
            if not drawn:
                continue
            await draws.run_draw(operator, draw_id)
            at = self.on_day(-drawn, 10)
            await self.db.execute(
                # The notice lasts as long as the policy gave it, from the draw's moment.
                "UPDATE draw SET drawn_at = $2::timestamptz, closes_at = $2::timestamptz, "
                "notice_until = $2::timestamptz + (notice_until - drawn_at) "
                "WHERE id = $1",
                draw_id,
                at,
            )
            await self.db.execute(
                "UPDATE draw_entry SET offered_until = $2 WHERE draw = $1 AND offered_until IS NOT NULL",
                draw_id,
                at + timedelta(hours=72),
            )
            # What the messages said follows the draw's moments: the draw's time, the claim's deadline.
            await self.db.execute(
                "UPDATE notification SET created_at = $2 WHERE link = $1 AND kind IN ('draw_won', 'draw_waitlisted')",
                f"/draws/{draw_id}",
                at,
            )
            await self.db.execute(
                "UPDATE notification SET params = jsonb_set(params, '{closes}', to_jsonb($2::text)) "
                "WHERE link = $1 AND kind = 'draw_entered'",
                f"/draws/{draw_id}",
                draws._text_time(at),
            )
            await self.db.execute(
                "UPDATE notification SET params = jsonb_set(params, '{until}', to_jsonb($2::text)) "
                "WHERE link = $1 AND kind = 'draw_won'",
                f"/draws/{draw_id}",
                draws._text_time(at + timedelta(hours=72)),
            )
            winners = await self.db.fetch(
                "SELECT member FROM draw_entry WHERE draw = $1 AND status = 'offered' AND member <> $2 ORDER BY rank",
                draw_id,
                demo,
            )
            # The last two have a day left to claim; a small draw's first winner has claimed.
            for row in winners[: max(len(winners) - 2, 1)]:
                principal = await federation.member_principal(row["member"])
                if principal is None:
                    continue
                try:
                    voucher = await draws.claim_place(principal, draw_id)
                except Conflict:  # a points offer the winner has too few points for: the place waits
                    continue
                claimed = at + timedelta(hours=rng.uniform(0.5, 30))
                await self.db.execute("UPDATE voucher SET claimed_at = $2 WHERE id = $1", voucher.id, claimed)

    async def roster_imports(self) -> None:
        """Chaoyang's and Hebei's roster imports (`desk_roster`)."""
        for desk in (CHAOYANG, HEBEI):
            await self.desk_roster(desk)

    async def voucher_for(self, member: int, home: str, operator: Principal) -> list:
        """A free voucher of the area's home that `member` holds none of, taken into the
        operator's area (its scope moved to the operator's node); [] when there is none."""
        rows = await self.db.fetch(
            "SELECT o.id, o.kind, o.stock_left, $4::varchar AS path FROM offer o "
            "JOIN union_node n ON n.id = o.node_scope WHERE n.path LIKE $1 || '%' AND o.status = 'published' "
            "AND o.kind = 'voucher' AND o.groups = '{}' AND o.valid_to > $2 AND o.stock_left >= 20 "
            "AND o.provider <> ALL($5::int[]) AND NOT EXISTS (SELECT 1 FROM voucher v WHERE v.offer = o.id "
            "AND v.member = $3) AND NOT EXISTS (SELECT 1 FROM draw d WHERE d.offer = o.id) AND "
            + DRAWN_PROVIDER_ACTIVE
            + " ORDER BY o.provider = ANY($6::int[]), o.id LIMIT 1",
            home,
            self.day(30),
            member,
            operator.node_path,
            self.not_drawn(),
            self.drawn_last(),
        )
        await self.db.execute(
            "UPDATE offer SET node_scope = $1 WHERE id = ANY($2::bigint[])", operator.node_id, [r["id"] for r in rows]
        )
        return list(rows)

    async def desk_roster(self, desk: "Desk") -> None:
        """An area's roster imports: this month's new members of a gig workers' union applied
        (through the import's own service), and a file from a street union refused with a few
        rows to correct (a wrong check character, an unknown union code, a phone given twice,
        a birth date that makes a child), which the operator reads row by row."""
        from marketplace.core.federation.roster import services as roster
        from marketplace.core.federation.roster.parsing import CHINESE_HEADERS, COLUMNS, check_character

        operator = self.operators[desk.operator]
        plan = desk.roster
        header = ",".join(CHINESE_HEADERS[column] for column in COLUMNS)

        def person(number: int, born: date, male: bool) -> tuple[str, str]:
            # Sequence numbers 950-999 are outside the generated members' range (seed/__init__.py).
            first17 = f"{plan.area}{born:%Y%m%d}{950 + number * 2 % 48 + male:03d}"[:17]
            phone = f"197{plan.area[2:]}{number:04d}"  # 197: a prefix the generated members never use
            return phone, first17 + check_character(first17)

        good = [header]
        for number, name in enumerate(plan.joined):
            male = number % 2 == 0  # the names alternate, a man's first
            phone, id_number = person(number, date(1985 + number, 3 + number % 9, 5 + number), male)
            groups = "新就业形态劳动者" + (";女职工" if not male else "")
            good.append(f"{name},{phone},{id_number},{plan.union},{groups}")
        marks = await self.marks(audit=False)
        applied = await roster.start_import(
            operator, f"{plan.applied}_{_local(self.now).month}月新入会.csv", ("\r\n".join(good) + "\r\n").encode()
        )
        await self.db.execute(
            "UPDATE roster_import SET created_at = $1::timestamptz, finished_at = $1::timestamptz + interval '4 seconds' "
            "WHERE id = $2",
            self.on_day(-3, 14.3),
            applied.id,
        )
        await self.backdate(marks, self.on_day(-3, 14.3))

        phone_a, id_a = person(20, date(1990, 6, 18), True)
        phone_b, id_b = person(21, date(1993, 11, 2), False)
        phone_c, id_c = person(22, date(1988, 1, 25), False)
        _phone_d, id_d = person(23, date(2015, 7, 1), True)
        phone_e, id_e = person(24, date(1979, 9, 9), True)
        wrong_check = id_b[:17] + ("0" if id_b[17] != "0" else "1")
        a, b, c, d, e = plan.refused_names
        bad = [
            header,
            f"{a},{phone_a},{id_a},{plan.street},",
            f"{b},{phone_b},{wrong_check},{plan.street},女职工",
            f"{c},{phone_c},{id_c},{plan.area}G099,女职工",
            f"{d},{phone_a},{id_d},{plan.street},",
            f"{e},{phone_e},{id_e},{plan.street},新就业形态劳动者",
        ]
        marks = await self.marks(audit=False)
        refused = await roster.start_import(operator, plan.refused, ("\r\n".join(bad) + "\r\n").encode())
        await self.db.execute(
            "UPDATE roster_import SET created_at = $1::timestamptz, finished_at = $1::timestamptz + interval '1 second' "
            "WHERE id = $2",
            self.on_day(-1, 10.2),
            refused.id,
        )
        await self.backdate(marks, self.on_day(-1, 10.2))

    async def disputes(self) -> None:
        """Card payments the members' banks dispute (`desk_disputes`): Chaoyang's first, then
        Hebei's."""
        for desk in (CHAOYANG, HEBEI):
            await self.desk_disputes(desk)

    async def desk_disputes(self, desk: "Desk") -> None:
        """An area's disputed card payments, as Stripe's webhooks report them through the
        payments' own handlers (one waiting for the bank, its voucher held; one the provider
        won): of its providers' recent payments first, then of older ones and of its home's."""
        from marketplace.payments import services as payments

        operator = self.operators[desk.operator]
        rows = await self.db.fetch(
            "SELECT p.id, p.payment_intent, p.amount_fen, v.status FROM payment p JOIN voucher v ON v.id = p.voucher "
            "JOIN provider pr ON pr.id = v.provider JOIN union_node n ON n.id = pr.node "
            "WHERE p.status = 'succeeded' AND p.disputed_at IS NULL AND v.status IN ('issued', 'redeemed') "
            "AND v.member <> $1 AND n.path LIKE (SELECT path FROM union_node WHERE code = $4) || '%' "
            "ORDER BY p.created_at > $2 DESC, (n.path LIKE $3 || '%') DESC, (v.status = 'issued') DESC, "
            "p.created_at DESC LIMIT $5",
            self.demo_member.id if self.demo_member else 0,
            self.day(-30),
            operator.node_path,
            desk.home,
            len(desk.disputes),
        )
        for row, (status, reason, opened, closed) in zip(rows, desk.disputes, strict=False):
            facts = {
                "id": f"dp_demo{row['id']:012d}",
                "payment_intent": row["payment_intent"],
                "status": "needs_response",
                "reason": reason,
                "amount": row["amount_fen"],
            }
            await payments.disputed_in_stripe(facts)
            await self.db.execute(
                "UPDATE payment SET disputed_at = $2 WHERE id = $1", row["id"], self.on_day(opened, 11)
            )
            await self.db.execute(
                "UPDATE voucher SET disputed_at = $2 WHERE id = (SELECT voucher FROM payment WHERE id = $1)",
                row["id"],
                self.on_day(opened, 11),
            )
            if closed is not None:
                await payments.dispute_closed_in_stripe({**facts, "status": status})
                await self.db.execute(
                    "UPDATE payment SET dispute_closed_at = $2 WHERE id = $1", row["id"], self.on_day(closed, 15)
                )

    async def demo_shop_complaints(self) -> None:
        """The demo shop's own complaints, so its owner has the page's work to see: one
        answered last week, one new and waiting for an answer; and the busiest Hebei shop's, so
        the province's operator has one answered and one past its answer time."""
        if self.demo_provider is not None:
            await self.shop_complaints(self.demo_provider, DEMO_SHOP_COMPLAINTS, self.day(-12))
        hebei = self.operators["hebei"]
        busiest = await self.db.fetchval(
            "SELECT d.provider FROM redemption d JOIN provider p ON p.id = d.provider "
            "JOIN union_node n ON n.id = p.node WHERE n.path LIKE $1 || '%' AND d.redeemed_at BETWEEN $2 AND $3 "
            "GROUP BY d.provider ORDER BY count(*) DESC, d.provider LIMIT 1",
            hebei.node_path,
            self.start,
            self.day(-1),
        )
        if busiest in self.providers:  # of the visits of the whole history: a small province has few
            await self.shop_complaints(self.providers[busiest], HEBEI_SHOP_COMPLAINTS, self.start)

    async def shop_complaints(self, provider: Provider, plans: tuple, since: datetime) -> None:
        """Complaints about `provider`'s recent visits (since `since`), filed by members through
        the complaints' service and answered by the owner through it, in `plans`' order, each
        (category, what the member wrote, the owner's answer, state): "answered" the evening
        after the visit; "new" within its answer time (the evening after a recent visit, else
        this morning); "overdue" past its answer time, unanswered."""
        import msgspec

        from evaluation.complaints import services as complaints
        from evaluation.schemas import ComplaintInput
        from marketplace.core.errors import TooManyRequests
        from marketplace.core.federation import services as federation

        rows = await self.db.fetch(
            "SELECT * FROM (SELECT DISTINCT ON (d.member) d.voucher, d.member, d.redeemed_at FROM redemption d "
            "WHERE d.provider = $1 AND d.member <> $2 AND d.redeemed_at BETWEEN $3 AND $4 "
            "AND NOT EXISTS (SELECT 1 FROM complaint c WHERE c.voucher = d.voucher) "
            "ORDER BY d.member, d.redeemed_at DESC) latest ORDER BY redeemed_at DESC LIMIT 12",
            provider.id,
            self.demo_member.id if self.demo_member else 0,
            since,
            self.day(-1),
        )
        owner = Principal(
            kind="provider", id=provider.owner, display_name=provider.name, provider_id=provider.id, role="owner"
        )
        pending = list(plans)
        for row in sorted(rows, key=lambda r: r["redeemed_at"]):
            if not pending:
                break
            category, text, answer, state = pending[0]
            filed = row["redeemed_at"] + timedelta(hours=3)
            if state == "new" and filed < self.now - timedelta(days=2):
                filed = min(self.on_day(0, 8.5), self.now - timedelta(hours=1))
            if state == "overdue" and filed + complaints.response_time() > self.now - timedelta(hours=6):
                continue  # too recent a visit to be past its answer time: a later plan may take it
            member = await federation.member_principal(row["member"])
            if member is None:
                continue
            try:
                complaint = await complaints.file(
                    member,
                    row["voucher"],
                    provider.id,
                    msgspec.convert({"category": category, "text": text}, ComplaintInput),
                )
            except TooManyRequests:  # this member has filed as many this week as the rule allows
                continue
            pending.pop(0)
            await self.db.execute(
                "UPDATE complaint SET created_at = $2, respond_by = $3 WHERE id = $1",
                complaint.id,
                filed,
                filed + complaints.response_time(),
            )
            if state == "answered":
                await complaints.answer(owner, complaint.id, answer)
                await self.db.execute(
                    "UPDATE complaint SET answered_at = $2 WHERE id = $1", complaint.id, filed + timedelta(hours=20)
                )

    # --- today ---------------------------------------------------------------------------------------

    async def today(self) -> None:
        """The demo cashier's latest trading day: members' vouchers redeemed at the counter
        through the counter's own service, each at a moment within the shop's opening hours
        (`counter_moments`), and the quality loop told of them as the worker would."""
        from evaluation.ratings import services as ratings
        from marketplace.core.db import engine
        from marketplace.seed import DEMO_PROVIDER
        from marketplace.vouchers import services as vouchers

        provider = self.demo_provider
        if provider is None:
            return
        staff = await self.db.fetchrow(
            "SELECT id, display_name FROM provider_user WHERE username = $1", DEMO_PROVIDER["staff"]
        )
        principal = Principal(
            kind="provider", id=staff["id"], display_name=staff["display_name"], provider_id=provider.id, role="staff"
        )
        location = provider.locations[0]
        hours = await self.db.fetchval("SELECT opening_hours FROM location WHERE id = $1", location)
        moments = counter_moments(self.now, json.loads(hours) if isinstance(hours, str) else hours or {}, 4)
        if not moments:
            return
        held = await self.db.fetch(
            "SELECT v.id, v.code, o.id AS offer, o.category, v.member FROM voucher v JOIN offer o ON o.id = v.offer "
            "WHERE v.provider = $1 AND v.status = 'issued' AND v.expires_at > greatest(now(), $3) "
            "AND v.claimed_at < $4 AND v.slot IS NULL AND v.member <> $2 ORDER BY v.claimed_at DESC LIMIT $5",
            provider.id,
            self.demo_member.id if self.demo_member else 0,
            moments[-1],
            moments[0],
            len(moments),
        )
        for row, at in zip(reversed(held), moments, strict=False):  # fewer held vouchers than moments: fewer visits
            # The service stamps the clock's time; the visit is set back to its moment in
            # the same transaction, announcement included, so no reader sees the other.
            async with engine().transaction() as transaction:
                await vouchers.redeem(principal, row["code"], location)
                await transaction.connection.execute("UPDATE voucher SET redeemed_at = $2 WHERE id = $1", row["id"], at)
                await transaction.connection.execute(
                    "UPDATE outbox_event SET payload = jsonb_set(payload, '{redeemed_at}', to_jsonb($2::text)) "
                    "WHERE topic = 'voucher.redeemed' AND (payload->>'voucher_id')::int = $1",
                    row["id"],
                    at.isoformat(),
                )
            await ratings.record_redemption(
                topics.VoucherRedeemed(
                    voucher_id=row["id"],
                    provider_id=provider.id,
                    offer_id=row["offer"],
                    category_id=row["category"],
                    member_id=row["member"],
                    staff_id=staff["id"],
                    location_id=location,
                    redeemed_at=at,
                )
            )

    async def prepaid_packages(self) -> None:
        """Prepaid packages bought, used and taken back through their services (seed/packages.py)."""
        from marketplace.seed import packages

        await packages.make(self)

    def demo_member_story(self, stock: dict, counts: dict, ids: Ids, period_start) -> None:
        """The demo member holds a voucher in every state: what her history lacks is added,
        claimed under the same bookkeeping (stock, limit) as every other claim."""
        member = self.demo_member
        if member is None:
            return
        have = {v.status for v in self.vouchers if v.member is member}
        offers = [
            o
            for o in self.offers
            if o.provider.status == "active"
            and o.provider.role is None
            and (not o.groups or o.groups & member.groups)
            and member.path.startswith(o.scope_path)
            and o.opens < self.day(-45)
            and o.closes > self.now
            and stock[o.id] > 0
        ]
        free = [o for o in offers if o.kind == "voucher"] or offers
        paid = [o for o in offers if o.kind == "paid"]
        # Two visits at least: she rated the earlier, the last waits for her rating (`feedback`).
        redeemed = sum(v.status == "redeemed" for v in self.vouchers if v.member is member)
        plans = [
            ("issued", free, -3),
            ("redeemed", free, -9),
            ("redeemed", free, -20),
            ("expired", free, -40),
            ("cancelled", free, -12),
            ("refunded", paid, -15),
        ]
        for status, pool, days in plans:
            if status == "redeemed" and redeemed < 2:
                redeemed += 1
            elif status in have:
                continue
            claimed = self.day(days) + timedelta(hours=self.rng.uniform(0, 6))
            # Within the offer's limit for her, as a claim would be.
            open_ = [o for o in pool if counts[(member.id, o.id, period_start(o.period, claimed))] < o.limit]
            if not open_:
                continue
            offer = self.rng.choice(open_)
            start = period_start(offer.period, claimed)
            voucher = Voucher(
                ids.take(),
                codes.new_code(),
                offer,
                member,
                claimed,
                min(offer.valid_to, self.day(-30)) if status == "expired" else offer.valid_to,
                status=status,
                subsidy_fen=offer.subsidy_fen,
                period_start=start,
            )
            if offer.kind == "paid":
                voucher.paid_fen = max(offer.member_price_fen - offer.subsidy_fen, 0)
                voucher.payment = "refunded" if status == "refunded" else "succeeded"
            if status == "redeemed":
                voucher.redeemed_at = self.on_day(days + 2, 18.5)  # after work, two days later
                voucher.staff, voucher.location = offer.provider.staff[0], offer.provider.locations[0]
            if status in ("cancelled", "refunded"):
                voucher.cancelled_at = claimed + timedelta(hours=20)
            else:
                stock[offer.id] -= 1
                counts[(member.id, offer.id, start)] += 1
            self.vouchers.append(voucher)

    async def finish(self) -> None:
        """What the periodic jobs would have done by now: reports, the members' reminders of
        expiring points, this week's follow-up samples."""
        from evaluation.evaluators import samples
        from marketplace.points import services as points
        from marketplace.reports import services as reports

        await self.recount()
        await reports.refresh(full=True)
        await points.remind_expiring(self.now)
        await samples.draw_samples(now=self.now)

    async def recount(self) -> None:
        """Stock and claim counts from the vouchers as they finally stand (the demo member's
        story and today's counter added to them)."""
        await self.db.execute("""
            UPDATE offer o SET stock_left = greatest(o.stock_total - coalesce(v.n, 0), 0)
            FROM (SELECT offer, count(*) FILTER (WHERE status IN ('issued', 'redeemed', 'expired', 'pending')) AS n
                  FROM voucher GROUP BY offer) v
            WHERE v.offer = o.id""")
        await self.db.execute("""
            UPDATE offer o SET stock_total = greatest(o.stock_total, v.n)
            FROM (SELECT offer, count(*) FILTER (WHERE status IN ('issued', 'redeemed', 'expired', 'pending')) AS n
                  FROM voucher GROUP BY offer) v WHERE v.offer = o.id AND v.n > o.stock_total""")
        await self.db.execute("DELETE FROM claim_count")
        await self.db.execute("""
            INSERT INTO claim_count (member, offer, period_start, claims)
            SELECT member, offer, period_start, count(*) FROM voucher
            WHERE status IN ('issued', 'redeemed', 'expired', 'pending') GROUP BY member, offer, period_start""")


# The steps, in order. A later feature adds its step here (each reads the cast and the rows
# the steps before it wrote).
STEPS = (
    "cast",
    "admissions",
    "policy_and_campaign",
    "grants",
    "claims",
    "feedback",
    "favourites",
    "integrity_signal",
    "evaluator_results",
    "policy_rounds",
    "scorecards",
    "settlements",
    "search_misses",
    "forwards",
    "approvals",
    "chaoyang_desk",
    "hebei_desk",
    "draws",
    "roster_imports",
    "disputes",
    "demo_shop_complaints",
    "today",
    "prepaid_packages",
    "finish",
)


async def make_history(connection, now: datetime, rng: random.Random, notify) -> Report | None:
    """Ninety days of history, once per database; None when there is history already."""
    import time

    if await connection.fetchval("SELECT EXISTS (SELECT 1 FROM voucher)"):
        return None
    history = History(connection, now, rng, notify)
    notify("history", 0, len(STEPS))
    for number, name in enumerate(STEPS, start=1):
        started = time.perf_counter()
        await getattr(history, name)()
        history.report.seconds[name] = round(time.perf_counter() - started, 2)
        notify("history", number, len(STEPS))
        if name == "cast" and (not history.members or not history.offers):
            return history.report  # nothing to make history with (a seed without offers)
    history.report.cases = await connection.fetchval("SELECT count(*) FROM enforcement_case")
    return history.report
