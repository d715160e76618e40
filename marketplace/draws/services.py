"""Fair draws (抽签): an offer whose places go by a draw anyone can recompute.

An operator turns a published offer of their scope (a voucher or points offer) into a
draw: an entry window, a number of places (no more than the offer's stock), how long a
place is held for its member, and optional weights for member groups. The offer is then
given by draw (catalog's flag): the normal claim refuses it.

Entering: members who could claim the offer today (the claim's own eligibility: node
scope, groups, the offer open) enter once each during the window; the database holds one
entry per member and draw (a unique key), so a double tap or a race gives one entry.
Each entry gets a public ticket number (its id) and its weight, fixed when it entered.
While the window is open a member may withdraw the entry (it is then not in the draw,
nor in the published result) and enter again: the same row and ticket come back, so the
one-entry rule holds through any sequence of taps.

The draw: when the window closes (the periodic job, or an operator's 开奖 earlier), the
seed committed at creation is revealed and every entry is ranked by
`marketplace.draws.fairness.order` (seed, tickets and weights, nothing else). The first
`places` are offered a place; the rest are the waitlist, in order. Every entrant is told
in the inbox (entered, won, waitlisted).

Places: a member offered a place claims it within `claim_hours` through the normal claim
path (`vouchers.claim`: stock, limits, campaigns, points); a member may give it up. A
place given up, left unclaimed past its time, or whose voucher was cancelled goes to the
first of the waitlist, who is told and gets the same time; then the next, until the places
are taken, the list ends or the offer ends.

公示: the draw's page shows the masked winners and waitlist (name 王*芳 and 138****1234)
until `notice_until` (the draw's node's published policy, rules["draws"]["notice_days"]
after the draw; evaluation.enforcement.policy); after that tickets only.
The seed, the tickets and weights and the order stay published for recomputation.
"""

import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import msgspec
import structlog

from catalog import services as catalog
from evaluation.enforcement import policy
from marketplace.core import db, notifications, personal_data, pii
from marketplace.core.db import engine
from marketplace.core.errors import Conflict, Invalid, NotFound
from marketplace.core.federation import scope, services as federation
from marketplace.core.identity import guards
from marketplace.core.identity.principal import Principal
from marketplace.core.web.nav import N_
from marketplace.draws import fairness
from marketplace.vouchers import services as vouchers
from marketplace.vouchers.schemas import VoucherRead

log = structlog.get_logger(__name__)

# The kinds of offer a draw can give: claimed free or for points (paid offers go through
# payments, slots need a chosen time).
DRAWABLE_KINDS = ("voucher", "points")
# How many of the waitlist the page lists (the whole order is in the published result).
WAITLIST_SHOWN = 100

personal_data.keeps(
    "draw_entry",
    why="the published draw must stay reproducible: ticket, weight and rank stay; names show only masked "
    "and only during the notice period",
)

notifications.register(
    "draw_entered",
    N_("You entered a draw"),
    N_("%(offer)s: your ticket is No. %(ticket)s. The draw is on %(closes)s."),
)
notifications.register(
    "draw_withdrawn",
    N_("You withdrew from a draw"),
    N_("%(offer)s: ticket No. %(ticket)s is out of the draw. You may enter again until %(closes)s."),
)
notifications.register(
    "draw_won",
    N_("You won a place in the draw"),
    N_("%(offer)s: claim your voucher by %(until)s, or the place goes to the waitlist."),
)
notifications.register(
    "draw_waitlisted",
    N_("You are on the draw's waitlist"),
    N_("%(offer)s: you are No. %(position)s on the waitlist. We tell you if a place comes free."),
)
notifications.register(
    "draw_place_offered",
    N_("A place came free for you"),
    N_("%(offer)s: a place from the waitlist is yours; claim your voucher by %(until)s."),
)


@dataclass(frozen=True)
class DrawCreate:
    offer_id: int
    opens_at: datetime
    closes_at: datetime
    places: int
    claim_hours: int
    weights: dict[str, int]


def _text_time(moment: datetime) -> str:
    """A moment for a message: 2026-12-05 20:00 in the configured zone."""
    from marketplace.core import dates

    return dates.local(moment).strftime("%Y-%m-%d %H:%M")


def weight_of(weights: dict[str, int], groups) -> int:
    """The member's weight: the highest the draw gives to one of their groups, else 1."""
    return max([1, *(int(weights[group]) for group in groups if group in weights)])


# Operators ---------------------------------------------------------------------------------------


async def create_draw(principal: Principal, data: DrawCreate) -> int:
    """A draw for an offer of the operator's scope; its seed is made and committed now."""
    guards.require_operator(principal)
    now = datetime.now(UTC)
    async with engine().transaction() as transaction:
        connection = transaction.connection
        offer = await connection.fetchrow(
            "SELECT o.id, o.kind, o.status, o.stock_left, o.valid_to, o.node_scope, n.path AS node_path "
            "FROM offer o JOIN union_node n ON n.id = o.node_scope WHERE o.id = $1",
            data.offer_id,
        )
        if not scope.covers(principal, offer and offer["node_path"]):
            raise Invalid("No offer of your scope has this number.", field="offer_id")
        if offer["status"] != "published" or offer["valid_to"] <= now:
            raise Invalid("Only a published offer that has not ended can be given by draw.", field="offer_id")
        if offer["kind"] not in DRAWABLE_KINDS:
            raise Invalid("Only free vouchers and points offers can be given by draw.", field="offer_id")
        if data.closes_at <= data.opens_at:
            raise Invalid("Entries must close after they open.", field="closes_at")
        if data.closes_at <= now:
            raise Invalid("Entries must close in the future.", field="closes_at")
        if data.closes_at >= offer["valid_to"]:
            raise Invalid("Entries must close before the offer ends, so that winners can claim.", field="closes_at")
        if not 1 <= data.places <= offer["stock_left"]:
            raise Invalid(
                "Give between 1 and %(stock)s places (the offer's stock left).",
                field="places",
                params={"stock": offer["stock_left"]},
            )
        if not 1 <= data.claim_hours <= 24 * 14:
            raise Invalid("A place is held between 1 hour and 14 days.", field="claim_hours")
        unknown = set(data.weights) - await federation.group_codes()
        if unknown:
            raise Invalid("Give weights only to known member groups.", field="weights")
        if any(not 1 <= weight <= fairness.MAX_WEIGHT for weight in data.weights.values()):
            raise Invalid("A weight is a whole number from 1 to 10.", field="weights")
        seed = fairness.new_seed()
        draw_id = await connection.fetchval(
            "INSERT INTO draw (offer, node, opens_at, closes_at, places, weights, claim_hours, seed, seed_hash, "
            "created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7, $8, $9, $10, $11) "
            "ON CONFLICT (offer) DO NOTHING RETURNING id",
            data.offer_id,
            offer["node_scope"],
            data.opens_at,
            data.closes_at,
            data.places,
            msgspec.json.encode(data.weights).decode(),
            data.claim_hours,
            seed,
            fairness.seed_hash(seed),
            principal.id,
            now,
        )
        if draw_id is None:
            raise Conflict("This offer already has a draw.", code="draw_exists", field="offer_id")
        await catalog.give_by_draw(connection, data.offer_id)
    log.info("draw_created", draw_id=draw_id, offer_id=data.offer_id, places=data.places)
    return draw_id


_DRAW_SQL = """
SELECT d.*, o.title_zh, o.title_en, o.kind, o.valid_to, n.path AS node_path, n.name_zh AS node_name_zh,
       n.name_en AS node_name_en, {count} AS entry_count
FROM draw d JOIN offer o ON o.id = d.offer JOIN union_node n ON n.id = d.node
"""
# Pages show how many entered; entering itself does not count them (each entry would
# count every entry before it).
_COUNTED = _DRAW_SQL.format(count="(SELECT count(*) FROM draw_entry e WHERE e.draw = d.id AND e.status <> 'withdrawn')")
_UNCOUNTED = _DRAW_SQL.format(count="NULL::bigint")


def _draw(row) -> dict:
    draw = dict(row)
    if isinstance(draw["weights"], str):
        draw["weights"] = msgspec.json.decode(draw["weights"])
    if draw["status"] != "drawn":
        draw["seed"] = None  # committed, not revealed
    now = datetime.now(UTC)
    draw["phase"] = (
        "drawn"
        if draw["status"] == "drawn"
        else "upcoming"
        if now < draw["opens_at"]
        else "open"
        if now < draw["closes_at"]
        else "closed"
    )
    return draw


async def list_draws(principal: Principal, limit: int = 200) -> list[dict]:
    guards.require_operator(principal)
    async with db.connection() as connection:
        rows = await connection.fetch(
            _COUNTED + "WHERE n.path LIKE $1 ORDER BY d.id DESC LIMIT $2", (principal.node_path or "/-") + "%", limit
        )
    return [_draw(row) for row in rows]


async def console_draw(principal: Principal, draw_id: int) -> dict:
    """A draw of the operator's scope, with its entries counted by state."""
    guards.require_operator(principal)
    missing = NotFound("No such draw in your scope.", code="draw_not_found")
    draw = await get_draw(draw_id, refusal=missing)
    scope.require_covers(principal, draw["node_path"], missing)
    async with db.connection() as connection:
        rows = await connection.fetch(
            "SELECT status, count(*) AS n FROM draw_entry WHERE draw = $1 GROUP BY status", draw_id
        )
    draw["by_status"] = {row["status"]: row["n"] for row in rows}
    return draw


async def get_draw(draw_id: int, *, counted: bool = True, refusal: NotFound | None = None) -> dict:
    """A draw by id; `refusal` (or "No such draw") when there is none."""
    async with db.connection() as connection:
        row = await connection.fetchrow((_COUNTED if counted else _UNCOUNTED) + "WHERE d.id = $1", draw_id)
    if row is None:
        raise refusal or NotFound("No such draw.", code="draw_not_found")
    return _draw(row)


async def draw_of_offer(offer_id: int) -> dict | None:
    async with db.connection() as connection:
        row = await connection.fetchrow(_UNCOUNTED + "WHERE d.offer = $1", offer_id)
    return _draw(row) if row else None


async def run_draw(principal: Principal | None, draw_id: int) -> dict:
    """Close the entries and draw: an operator of the draw's scope at any time after entries
    opened (the periodic job, principal None, once they closed). Safe to repeat: a draw is
    run once."""
    if principal is not None:
        guards.require_operator(principal)
    now = datetime.now(UTC)
    async with engine().transaction() as transaction:
        connection = transaction.connection
        # The lock waits for entries being written (each holds the row FOR SHARE) and keeps
        # new ones out: an entry never lands after the order is made.
        draw = await connection.fetchrow(
            "SELECT d.*, n.path AS node_path, o.title_zh FROM draw d JOIN union_node n ON n.id = d.node "
            "JOIN offer o ON o.id = d.offer WHERE d.id = $1 FOR UPDATE OF d",
            draw_id,
        )
        if draw is None or (principal is not None and not scope.covers(principal, draw["node_path"])):
            raise NotFound("No such draw in your scope.", code="draw_not_found")
        if draw["status"] == "drawn":
            return await get_draw(draw_id)
        if now < draw["opens_at"] or (principal is None and now < draw["closes_at"]):
            raise Conflict("Entries have not opened yet; the draw cannot be run.", code="draw_not_open")
        # Withdrawn entries are not in the draw (nor in the published result).
        entries = await connection.fetch(
            "SELECT id, member, weight FROM draw_entry WHERE draw = $1 AND status = 'entered'", draw_id
        )
        started = time.perf_counter()
        ranked = fairness.order(draw["seed"], [(str(row["id"]), row["weight"]) for row in entries])
        ranked_s = time.perf_counter() - started
        members = {str(row["id"]): row["member"] for row in entries}
        until = min(now + timedelta(hours=draw["claim_hours"]), await _offer_end(connection, draw["offer"]))
        places = draw["places"]
        await connection.execute(
            "UPDATE draw_entry e SET rank = r.rank, status = CASE WHEN r.rank <= $4 THEN 'offered' ELSE 'waitlisted' "
            "END, offered_until = CASE WHEN r.rank <= $4 THEN $5::timestamptz END "
            "FROM unnest($2::bigint[], $3::int[]) AS r(id, rank) WHERE e.id = r.id AND e.draw = $1",
            draw_id,
            [int(entry.ticket) for entry in ranked],
            [entry.rank for entry in ranked],
            places,
            until,
        )
        await connection.execute(
            "UPDATE draw SET status = 'drawn', drawn_at = $2, closes_at = least(closes_at, $2), notice_until = $3 "
            "WHERE id = $1",
            draw_id,
            now,
            now + timedelta(days=await policy.draw_notice_days(connection, draw["node"])),
        )
        written_s = time.perf_counter() - started - ranked_s
        link, offer = f"/draws/{draw_id}", draw["title_zh"]
        await notifications.add(
            connection,
            [
                notifications.Message(
                    members[entry.ticket], "draw_won", {"offer": offer, "until": _text_time(until)}, link=link
                )
                if entry.rank <= places
                else notifications.Message(
                    members[entry.ticket],
                    "draw_waitlisted",
                    {"offer": offer, "position": entry.rank - places},
                    link=link,
                )
                for entry in ranked
            ],
        )
        told_s = time.perf_counter() - started - ranked_s - written_s
    log.info(
        "draw_run",
        draw_id=draw_id,
        entries=len(ranked),
        places=places,
        ranked_s=round(ranked_s, 2),
        written_s=round(written_s, 2),
        told_s=round(told_s, 2),
    )
    return await get_draw(draw_id)


async def _offer_end(connection, offer_id: int) -> datetime:
    return await connection.fetchval("SELECT valid_to FROM offer WHERE id = $1", offer_id)


# Members -----------------------------------------------------------------------------------------


async def _still_open(connection, draw_id: int) -> bool:
    """Whether the draw takes entries now. FOR SHARE: entries go in and out side by side,
    but never while the draw is being run, which waits for them."""
    return bool(
        await connection.fetchval(
            "SELECT 1 FROM draw WHERE id = $1 AND status = 'open' AND opens_at <= now() AND closes_at > now() "
            "FOR SHARE",
            draw_id,
        )
    )


async def _tell_entry(connection, member_id: int, kind: str, draw: dict, ticket: int) -> None:
    """The member's message that their entry went in or came out (in the same transaction)."""
    await notifications.add(
        connection,
        [
            notifications.Message(
                member_id,
                kind,
                {"offer": draw["title_zh"], "ticket": ticket, "closes": _text_time(draw["closes_at"])},
                link=f"/draws/{draw['id']}",
            )
        ],
    )


async def enter(principal: Principal, draw_id: int) -> dict:
    """The member's one entry in an open draw of an offer they could claim today."""
    guards.require_member(principal)
    federation.require_current_member(principal)
    draw = await get_draw(draw_id, counted=False)
    if draw["phase"] != "open":
        raise Conflict("This draw is not taking entries now.", code="draw_not_open")
    offer = await vouchers.open_offer(principal, draw["offer"])  # the claim's eligibility: NotFound when not theirs
    if await vouchers.at_limit(principal, offer):
        raise Conflict("You already hold as many of this offer as you may for now.", code="limit_reached")
    weight = weight_of(draw["weights"], principal.groups)
    async with engine().transaction() as transaction:
        connection = transaction.connection
        if not await _still_open(connection, draw_id):
            raise Conflict("This draw is not taking entries now.", code="draw_not_open")
        # One row per member and draw (the unique key): a withdrawn entry comes back with its
        # ticket (a new weight and time); an entry standing already is refused.
        ticket = await connection.fetchval(
            "INSERT INTO draw_entry (draw, member, weight, entered_at) VALUES ($1, $2, $3, now()) "
            "ON CONFLICT (draw, member) DO UPDATE SET status = 'entered', weight = EXCLUDED.weight, "
            "entered_at = EXCLUDED.entered_at WHERE draw_entry.status = 'withdrawn' RETURNING id",
            draw_id,
            principal.id,
            weight,
        )
        if ticket is None:
            raise Conflict("You have already entered this draw.", code="already_entered")
        await _tell_entry(connection, principal.id, "draw_entered", draw, ticket)
    log.info("draw_entered", draw_id=draw_id, ticket=ticket)
    return {"ticket": ticket, "weight": weight}


async def withdraw(principal: Principal, draw_id: int) -> dict:
    """The member takes their entry out while the window is open: it is not in the draw.
    They may enter again until the window closes (same ticket, one entry still)."""
    guards.require_member(principal)
    draw = await get_draw(draw_id, counted=False)
    async with engine().transaction() as transaction:
        connection = transaction.connection
        if not await _still_open(connection, draw_id):
            raise Conflict("Entries are closed: an entry can no longer be withdrawn.", code="draw_not_open")
        ticket = await connection.fetchval(
            "UPDATE draw_entry SET status = 'withdrawn' WHERE draw = $1 AND member = $2 AND status = 'entered' "
            "RETURNING id",
            draw_id,
            principal.id,
        )
        if ticket is None:
            raise Conflict("You have no entry in this draw to withdraw.", code="not_entered")
        await _tell_entry(connection, principal.id, "draw_withdrawn", draw, ticket)
    log.info("draw_withdrawn", draw_id=draw_id, ticket=ticket)
    return {"ticket": ticket, "status": "withdrawn"}


async def open_draws(principal: Principal) -> list[tuple[dict, dict | None]]:
    """Draws taking entries now of offers this member may claim (their node or one above,
    their groups), newest first, each with the member's entry if any."""
    guards.require_member(principal)
    async with db.connection() as connection:
        rows = await connection.fetch(
            _COUNTED + "WHERE d.status = 'open' AND d.opens_at <= now() AND d.closes_at > now() "
            "AND o.status = 'published' AND o.node_scope = ANY($1::int[]) "
            "AND (cardinality(o.groups) = 0 OR o.groups && $2::varchar[]) ORDER BY d.closes_at, d.id LIMIT 200",
            vouchers.node_ids(principal),
            list(principal.groups),
        )
    found = [_draw(row) for row in rows]
    return [(draw, await my_entry(principal, draw["id"])) for draw in found]


async def my_entry(principal: Principal | None, draw_id: int) -> dict | None:
    if principal is None or principal.kind != "member":
        return None
    async with db.connection() as connection:
        row = await connection.fetchrow(
            "SELECT e.id AS ticket, e.weight, e.rank, e.status, e.offered_until, e.voucher, d.places, "
            "(SELECT count(*) FROM draw_entry w WHERE w.draw = e.draw AND w.status = 'waitlisted' "
            " AND w.rank < e.rank) + 1 AS waiting_position "
            "FROM draw_entry e JOIN draw d ON d.id = e.draw WHERE e.draw = $1 AND e.member = $2",
            draw_id,
            principal.id,
        )
    return dict(row) if row else None


async def for_data_export(principal: Principal) -> list[dict]:
    """What a member's data download holds of their draws: each entry and what became of it."""
    guards.require_member(principal)
    async with db.connection() as connection:
        rows = await connection.fetch(
            "SELECT e.draw, o.title_zh AS offer, e.id AS ticket, e.weight, e.entered_at, e.rank, e.status, "
            "e.offered_until, e.voucher FROM draw_entry e JOIN draw d ON d.id = e.draw "
            "JOIN offer o ON o.id = d.offer WHERE e.member = $1 ORDER BY e.entered_at, e.id",
            principal.id,
        )
    return [dict(row) for row in rows]


async def claim_place(principal: Principal, draw_id: int) -> VoucherRead:
    """The member's voucher for the place the draw offered them, through the normal claim."""
    guards.require_member(principal)
    async with engine().transaction() as transaction:
        connection = transaction.connection
        entry = await connection.fetchrow(
            "SELECT e.id, d.offer FROM draw_entry e JOIN draw d ON d.id = e.draw "
            "WHERE e.draw = $1 AND e.member = $2 AND e.status = 'offered' AND e.offered_until > now() "
            "FOR UPDATE OF e",
            draw_id,
            principal.id,
        )
        if entry is None:
            raise Conflict("You hold no place of this draw to claim now.", code="no_place")
        # The claim joins this transaction (Piccolo nests it): the voucher and the place
        # taken are one commit. The row lock makes a double tap wait, then find it claimed.
        voucher = await vouchers.claim(principal, entry["offer"], drawn_place=True)
        await connection.execute(
            "UPDATE draw_entry SET status = 'claimed', voucher = $2 WHERE id = $1", entry["id"], voucher.id
        )
    log.info("draw_place_claimed", draw_id=draw_id, voucher_id=voucher.id)
    return voucher


async def decline_place(principal: Principal, draw_id: int) -> None:
    """The member gives up the place offered: it goes down the waitlist at once."""
    guards.require_member(principal)
    async with engine().transaction() as transaction:
        connection = transaction.connection
        done = await connection.fetchval(
            "UPDATE draw_entry SET status = 'declined' WHERE draw = $1 AND member = $2 AND status = 'offered' "
            "RETURNING id",
            draw_id,
            principal.id,
        )
        if done is None:
            raise Conflict("You hold no place of this draw to give up.", code="no_place")
    await promote(draw_id)


async def promote(draw_id: int) -> int:
    """Offer the places that are free (given up, lapsed) to the first of the waitlist;
    returns how many were offered. Safe to repeat; the draw's row serialises it."""
    now = datetime.now(UTC)
    async with engine().transaction() as transaction:
        connection = transaction.connection
        draw = await connection.fetchrow(
            "SELECT d.places, d.claim_hours, d.offer, o.title_zh, o.valid_to FROM draw d JOIN offer o ON o.id = d.offer "
            "WHERE d.id = $1 AND d.status = 'drawn' FOR UPDATE OF d",
            draw_id,
        )
        if draw is None or draw["valid_to"] <= now:
            return 0
        held = await connection.fetchval(
            "SELECT count(*) FROM draw_entry WHERE draw = $1 AND status IN ('offered', 'claimed')", draw_id
        )
        free = draw["places"] - held
        if free <= 0:
            return 0
        until = min(now + timedelta(hours=draw["claim_hours"]), draw["valid_to"])
        offered = await connection.fetch(
            "UPDATE draw_entry SET status = 'offered', offered_until = $3 WHERE id IN ("
            " SELECT id FROM draw_entry WHERE draw = $1 AND status = 'waitlisted' ORDER BY rank LIMIT $2) "
            "RETURNING member",
            draw_id,
            free,
            until,
        )
        await notifications.add(
            connection,
            [
                notifications.Message(
                    row["member"],
                    "draw_place_offered",
                    {"offer": draw["title_zh"], "until": _text_time(until)},
                    link=f"/draws/{draw_id}",
                )
                for row in offered
            ],
        )
    if offered:
        log.info("draw_places_offered", draw_id=draw_id, count=len(offered))
    return len(offered)


async def tick() -> dict[str, int]:
    """The periodic job: run the draws whose entries closed, let places left unclaimed past
    their time lapse, and offer the free places down the waitlists."""
    async with db.connection() as connection:
        due = await connection.fetch("SELECT id FROM draw WHERE status = 'open' AND closes_at <= now() ORDER BY id")
    for row in due:
        await run_draw(None, row["id"])
    async with engine().transaction() as transaction:
        lapsed = await transaction.connection.fetch(
            "UPDATE draw_entry SET status = 'lapsed' WHERE status = 'offered' AND offered_until <= now() RETURNING draw"
        )
        # A winner who cancelled the voucher gave the place up: it goes down the waitlist too.
        given_back = await transaction.connection.fetch(
            "UPDATE draw_entry e SET status = 'declined' FROM voucher v "
            "WHERE v.id = e.voucher AND e.status = 'claimed' AND v.status IN ('cancelled', 'refunded') "
            "RETURNING e.draw"
        )
    promoted = 0
    for draw_id in sorted({row["draw"] for row in [*lapsed, *given_back]}):
        promoted += await promote(draw_id)
    return {"drawn": len(due), "lapsed": len(lapsed), "given_back": len(given_back), "promoted": promoted}


# The 公示 and the recomputation ------------------------------------------------------------------


async def notice(draw_id: int, shown: int = WAITLIST_SHOWN) -> dict:
    """The public page: the draw, and once drawn its winners and the head of the waitlist,
    masked (names only while the notice period lasts)."""
    draw = await get_draw(draw_id)
    if draw["status"] != "drawn":
        return {"draw": draw, "winners": [], "waitlist": [], "waitlist_total": 0}
    names = draw["notice_until"] is not None and datetime.now(UTC) < draw["notice_until"]
    async with db.connection() as connection:
        rows = await connection.fetch(
            "SELECT e.id AS ticket, e.weight, e.rank, e.status, m.name, m.phone_masked "
            "FROM draw_entry e JOIN member m ON m.id = e.member WHERE e.draw = $1 AND e.rank <= $2 ORDER BY e.rank",
            draw_id,
            draw["places"] + shown,
        )
    seed = draw["seed"]
    people = [
        {
            "ticket": row["ticket"],
            "weight": row["weight"],
            "rank": row["rank"],
            "status": row["status"],
            "name": pii.mask_name(row["name"]) if names else None,
            "phone": row["phone_masked"] if names else None,
            "mac": fairness.mac(seed, str(row["ticket"])).hex()[:12],
        }
        for row in rows
    ]
    places = draw["places"]
    return {
        "draw": draw,
        "names_shown": names,
        "winners": [p for p in people if p["rank"] <= places],
        "waitlist": [p for p in people if p["rank"] > places],
        "waitlist_total": max(0, draw["entry_count"] - places),
    }


async def published_result(draw_id: int) -> dict:
    """What anyone needs to recompute the draw: the commitment, the seed (once drawn), every
    ticket with its weight, and the order the platform published. No names."""
    draw = await get_draw(draw_id, counted=False)
    async with db.connection() as connection:
        rows = await connection.fetch(
            "SELECT id, weight, rank FROM draw_entry WHERE draw = $1 AND status <> 'withdrawn' ORDER BY id", draw_id
        )
    drawn = draw["status"] == "drawn"
    return {
        "draw": draw_id,
        "algorithm": "HMAC-SHA256 Efraimidis-Spirakis v1 (marketplace/draws/fairness.py)",
        "seed_hash": draw["seed_hash"],
        "seed": draw["seed"] if drawn else None,
        "places": draw["places"],
        "weights": draw["weights"],
        "entries": [[str(row["id"]), row["weight"]] for row in rows],
        "order": [str(row["id"]) for row in sorted(rows, key=lambda row: row["rank"])] if drawn else None,
    }


def verify(result: dict) -> list[str]:
    """Recompute a published result (published_result's shape): the problems found, none
    when the seed matches its commitment and the order is the function of seed and entries."""
    problems = []
    seed = result.get("seed")
    if not seed:
        return ["the seed is not revealed yet: the draw has not been run"]
    if fairness.seed_hash(seed) != result["seed_hash"]:
        problems.append("the seed does not match the hash published before the draw")
    ranked = fairness.order(seed, [(str(ticket), int(weight)) for ticket, weight in result["entries"]])
    order = [entry.ticket for entry in ranked]
    if order != [str(ticket) for ticket in result["order"]]:
        first = next(
            (i for i, (a, b) in enumerate(zip(order, result["order"], strict=False)) if a != str(b)),
            min(len(order), len(result["order"])),
        )
        problems.append(f"the published order differs from the recomputed one from position {first + 1}")
    return problems
