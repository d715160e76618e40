"""The public relevance set: a fixed catalogue (catalogue.txt), realistic member queries
with the offers they must find (queries.txt), and the figures search earns on them.

Figures, per query and averaged overall and per query type:

- recall@k: of the offers a query must find, the share in the first k hits, out of at
  most k (a query with ten right answers is not punished for showing only three);
- nDCG@10: the same, weighted by rank (a right answer first counts more than tenth).

Offers listed by one provider under one title (a chain's shops) count as one answer,
as search shows them as one hit.

`load()` writes the catalogue into the database the process points at (it must be
empty of offers: a database of its own, see `benefits bench relevance`), `run()` asks
a search function every query. The PostgreSQL-only peer (peer.py) is judged the same way.
"""

import fnmatch
import math
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

HERE = Path(__file__).parent
TYPES = (
    "chinese",
    "colloquial",
    "single_char",
    "pinyin",
    "initials",
    "english",
    "typo",
    "traditional",
    "description",
    "provider",
)


@dataclass
class Catalogue:
    categories: list[tuple[str, str, str]] = field(default_factory=list)
    providers: dict[str, dict] = field(default_factory=dict)
    offers: dict[str, dict] = field(default_factory=dict)


@dataclass
class Query:
    type: str
    text: str
    expected: list[str]  # offer keys or patterns (dental_clean*)


def _fields(line: str) -> list[str]:
    return [part.strip() for part in line.split("|")]


def read_catalogue(path: Path = HERE / "catalogue.txt") -> Catalogue:
    catalogue, section = Catalogue(), None
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.split(" #", 1)[0].strip() if not raw.startswith("#") else ""
        if not line:
            continue
        if line.startswith("["):
            section = line.strip("[]")
            continue
        parts = _fields(line)
        if section == "categories":
            catalogue.categories.append((parts[0], parts[1], parts[2]))
        elif section == "providers":
            places = []
            for place in parts[2].split(";"):
                district, coordinates = place.strip().split(":")
                lat, lng = coordinates.split(",")
                places.append((district, float(lat), float(lng)))
            catalogue.providers[parts[0]] = {"name": parts[1], "places": places}
        elif section == "offers":
            key, copies = [*parts[0].split("*"), "1"][:2]
            offer = {
                "provider": parts[1],
                "category": parts[2],
                "title_zh": parts[3],
                "title_en": parts[4],
                "tags": [tag for tag in parts[5].split(",") if tag],
                "description_zh": parts[6],
            }
            if int(copies) == 1:
                catalogue.offers[key] = {**offer, "shop": 0}
            else:
                for copy in range(int(copies)):
                    catalogue.offers[f"{key}{copy + 1}"] = {**offer, "shop": copy}
    return catalogue


def read_queries(path: Path = HERE / "queries.txt") -> list[Query]:
    queries = []
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        kind, query_text, expected = _fields(line)
        if kind not in TYPES:
            raise ValueError(f"unknown query type {kind!r} in {line!r}")
        queries.append(Query(kind, query_text, expected.split()))
    return queries


# Loading --------------------------------------------------------------------------------------------


async def load(catalogue: Catalogue) -> dict[str, int]:
    """Write the catalogue (national scope, open to every member) into the database;
    returns offer key → id. The union tree's root is created when missing."""
    from marketplace.core.db import engine

    now = datetime.now(UTC)
    ids: dict[str, int] = {}
    async with engine().transaction() as transaction:
        db = transaction.connection
        root = await db.fetchval("SELECT id FROM union_node WHERE depth = 0 ORDER BY id LIMIT 1")
        if root is None:
            root = await db.fetchval(
                "INSERT INTO union_node (parent, level, code, name_zh, name_en, path, depth) "
                "VALUES (NULL, 'national', 'REL', '全国总工会', 'National federation', '/', 0) RETURNING id"
            )
            await db.execute("UPDATE union_node SET path = '/' || id || '/' WHERE id = $1", root)
        categories = {}
        for code, name_zh, name_en in catalogue.categories:
            categories[code] = await db.fetchval(
                "INSERT INTO category (code, name_zh, name_en) VALUES ($1, $2, $3) "
                "ON CONFLICT (code) DO UPDATE SET name_zh = EXCLUDED.name_zh RETURNING id",
                code,
                name_zh,
                name_en,
            )
        providers: dict[str, int] = {}
        shops: dict[str, list[int]] = {}
        for number, (key, provider) in enumerate(catalogue.providers.items()):
            providers[key] = await db.fetchval(
                "INSERT INTO provider (name, kind, credit_code, contact_name, contact_phone_cipher, "
                "contact_phone_masked, node, status, created_at, updated_at) "
                "VALUES ($1, 'merchant', $2, '联系人', '\\x00'::bytea, '138****0000', $3, 'active', $4, $4) "
                "RETURNING id",
                provider["name"],
                f"REL{number:015d}",
                root,
                now,
            )
            shops[key] = []
            for position, (district, lat, lng) in enumerate(provider["places"]):
                shops[key].append(
                    await db.fetchval(
                        "INSERT INTO location (provider, name, address, district, latitude, longitude, opening_hours) "
                        "VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
                        providers[key],
                        f"{district}店",
                        f"北京市{district}{position + 1}号",
                        district,
                        lat,
                        lng,
                        '{"mon": ["09:00", "21:00"], "tue": ["09:00", "21:00"], "wed": ["09:00", "21:00"], '
                        '"thu": ["09:00", "21:00"], "fri": ["09:00", "21:00"], "sat": ["09:00", "21:00"], '
                        '"sun": ["09:00", "21:00"]}',
                    )
                )
        for number, (key, offer) in enumerate(catalogue.offers.items()):
            list_price = 10000 + (number * 3700) % 90000
            ids[key] = await db.fetchval(
                "INSERT INTO offer (provider, category, kind, title_zh, title_en, description_zh, description_en, "
                "list_price_fen, member_price_fen, subsidy_fen, stock_total, stock_left, per_member_limit, "
                "node_scope, groups, status, tags, valid_from, valid_to, created_at, updated_at, published_at) "
                "VALUES ($1, $2, 'voucher', $3, $4, $5, $6, $7, $8, 0, 100, 100, 1, $9, '{}', 'published', $10, "
                "$11, $12, $13, $13, $13) RETURNING id",
                providers[offer["provider"]],
                categories[offer["category"]],
                offer["title_zh"],
                offer["title_en"],
                offer["description_zh"],
                offer["title_en"],
                list_price,
                list_price // 2,
                root,
                offer["tags"],
                now - timedelta(days=1),
                now + timedelta(days=365),
                now - timedelta(minutes=number),
            )
            await db.execute(
                "INSERT INTO offer_location (offer, location) VALUES ($1, $2)",
                ids[key],
                shops[offer["provider"]][offer["shop"] % len(shops[offer["provider"]])],
            )
    return ids


# Judging --------------------------------------------------------------------------------------------


@dataclass
class Judged:
    query: Query
    found: list[str]  # answer groups in the order shown (first 10)
    wanted: set[str]
    recall_3: float
    recall_10: float
    ndcg_10: float
    ms: float


@dataclass
class Figures:
    judged: list[Judged]

    def mean(self, attribute: str, kind: str | None = None) -> float:
        values = [getattr(j, attribute) for j in self.judged if kind is None or j.query.type == kind]
        return sum(values) / len(values) if values else float("nan")

    def p95_ms(self) -> float:
        values = sorted(j.ms for j in self.judged)
        return values[min(len(values) - 1, math.ceil(0.95 * len(values)) - 1)] if values else float("nan")

    def rows(self) -> list[tuple[str, int, float, float, float]]:
        kinds = [kind for kind in TYPES if any(j.query.type == kind for j in self.judged)]
        return [("all", len(self.judged), self.mean("recall_3"), self.mean("recall_10"), self.mean("ndcg_10"))] + [
            (
                kind,
                sum(j.query.type == kind for j in self.judged),
                self.mean("recall_3", kind),
                self.mean("recall_10", kind),
                self.mean("ndcg_10", kind),
            )
            for kind in kinds
        ]

    def misses(self) -> list[Judged]:
        return [j for j in self.judged if j.recall_3 < 1]


def answer_groups(catalogue: Catalogue) -> dict[str, str]:
    """Offer key → its answer group (provider and title: a chain's shops are one answer)."""
    return {key: f"{offer['provider']}:{offer['title_zh']}" for key, offer in catalogue.offers.items()}


def judge(query: Query, hit_keys: list[str], groups: dict[str, str], ms: float) -> Judged:
    wanted = {groups[key] for pattern in query.expected for key in fnmatch.filter(groups, pattern)}
    if not wanted:
        raise ValueError(f"query {query.text!r} expects offers that are not in the catalogue: {query.expected}")
    found = list(dict.fromkeys(groups[key] for key in hit_keys if key in groups))[:10]

    def recall(k: int) -> float:
        return len(wanted & set(found[:k])) / min(len(wanted), k)

    dcg = sum(1 / math.log2(rank + 2) for rank, group in enumerate(found[:10]) if group in wanted)
    ideal = sum(1 / math.log2(rank + 2) for rank in range(min(len(wanted), 10)))
    return Judged(query, found, wanted, recall(3), recall(10), dcg / ideal, ms)


async def run(
    queries: list[Query], ids: dict[str, int], catalogue: Catalogue, search: Callable[[str], Awaitable[list[int]]]
) -> Figures:
    """Ask `search(text) → offer ids in order` every query and judge the answers."""
    keys = {offer_id: key for key, offer_id in ids.items()}
    groups = answer_groups(catalogue)
    judged = []
    for query in queries:
        started = time.perf_counter()
        found = await search(query.text)
        ms = (time.perf_counter() - started) * 1000
        judged.append(judge(query, [keys[offer_id] for offer_id in found if offer_id in keys], groups, ms))
    return Figures(judged)
