"""Subsidy campaigns: a node's budget that pays the union's subsidy of chosen offers.

A campaign belongs to a union node and serves the members of its subtree (all of them,
or those of its groups) during its period. It subsidises the offers it lists and the
offers of the categories it lists; it has a budget in fen and a cap per member.

The rule (one, tested in tests/campaigns):
- The campaign pays the offer's own `subsidy_fen`, in full, per voucher; the voucher keeps
  that amount as its `subsidy_fen` (what the provider is owed on redemption), so
  settlements are unchanged. `campaign_spend` records which campaign, hence which node,
  paid every fen of it.
- An offer with a subsidy is *under a campaign* for a member when a campaign of the
  member's union or of a union above it lists the offer or its category and is running
  or paused inside its period (now in [starts_at, ends_at)). Its subsidy must then be
  drawn from such a campaign: the deepest node's first (then the oldest) that serves the
  member's groups, is active, and has the budget and the member's cap left. When none
  can pay, the claim is refused with 409: `budget_exhausted`, `campaign_cap_reached`,
  `campaign_paused` or `not_in_campaign_groups` — the campaign stops subsidising, and
  the offer is no longer claimable at the subsidised price. Nothing is drawn partially.
- An offer under no campaign (none lists it, or their periods are over or not begun, or
  they were ended) keeps its standing subsidy, drawn from no budget, as before campaigns.

Atomicity: the draw runs in the claim's transaction (`vouchers.issue`): first the
member's row (`campaign_member`, one conditional upsert: cap), then the campaign's row
(one conditional UPDATE: status, period, budget). The UPDATE's check and increment cannot
be separated, so concurrent claims never take `spent_fen` past `budget_fen` (a CHECK
constraint backs it up). The campaign row is hot like the offer's row: it is locked from
the draw until the claim commits, always before the offer row (no deadlock).

Shared funding (marketplace/campaigns/funding.py): a campaign has one or more shares, each a
funding node with its part of every use and its own budget; the campaign's budget and spent
are their sums. After the campaign's row, the draw locks its share rows (in position order),
splits the subsidy to the fen and adds each part to its share (a CHECK keeps every share
within its budget), recording each node's part in `campaign_share_spend`. When the split
cannot be paid (policy "stop": a share runs out; "cover": all of them together), the draw
gives the campaign's budget and the member's cap back and the campaign refuses like an
exhausted one. Giving back follows the same lock order: member cap, campaign, shares.

A voucher that stops counting (cancelled, refunded, its payment abandoned) gives its
spend back through `release_spend` (called by `vouchers.release`); expired vouchers give
it back through `release_expired_spend`, a periodic job.
"""

from datetime import UTC, datetime, timedelta

import structlog

from catalog import services as catalog
from marketplace.campaigns import funding
from marketplace.campaigns.schemas import (
    CampaignCreate,
    CampaignDetail,
    CampaignFunding,
    CampaignRead,
    DayBurn,
    FundsFlow,
    NodeFunds,
    ShareCreate,
    ShareRead,
)
from marketplace.core import dates, personal_data
from marketplace.core.db import engine
from marketplace.core.errors import Conflict, Forbidden, Invalid, NotFound
from marketplace.core.federation import scope, services as federation
from marketplace.core.identity import guards
from marketplace.core.identity.principal import Principal

log = structlog.get_logger(__name__)

personal_data.keeps("campaign_member", "campaign_spend", why="the campaign's budget: what each voucher drew stays")


# Drawing and giving back, in the caller's transaction ------------------------------------------

_CANDIDATES_SQL = """
SELECT c.id, c.node, c.status, c.policy, c.per_member_cap_fen, c.budget_fen - c.spent_fen AS left_fen,
       (cardinality(c.groups) = 0 OR c.groups && $3::varchar[]) AS serves
FROM campaign c
JOIN union_node n ON n.id = c.node
JOIN offer o ON o.id = $1
WHERE c.node = ANY($2::int[]) AND c.status IN ('active', 'paused')
  AND c.starts_at <= now() AND c.ends_at > now()
  AND (o.id = ANY(c.offer_ids) OR o.category = ANY(c.category_ids))
ORDER BY n.depth DESC, c.id
"""

_TAKE_CAP_SQL = """
INSERT INTO campaign_member (campaign, member, spent_fen) VALUES ($1, $2, $3)
ON CONFLICT (campaign, member) DO UPDATE SET spent_fen = campaign_member.spent_fen + EXCLUDED.spent_fen
WHERE campaign_member.spent_fen + EXCLUDED.spent_fen <= $4
RETURNING spent_fen
"""

_TAKE_BUDGET_SQL = """
UPDATE campaign SET spent_fen = spent_fen + $2
WHERE id = $1 AND status = 'active' AND starts_at <= now() AND ends_at > now() AND spent_fen + $2 <= budget_fen
RETURNING node
"""


def _member_nodes(principal: Principal) -> list[int]:
    return [int(part) for part in (principal.node_path or "").strip("/").split("/") if part]


async def draw_subsidy(connection, principal: Principal, offer: dict, voucher_id: int) -> int:
    """Draw the offer's subsidy for this voucher from the campaign that pays it; the fen
    drawn (0 when the offer is under no campaign). Conflict when it is under a campaign
    but none can pay (see the module's rule)."""
    amount = int(offer.get("subsidy_fen") or 0)
    if amount <= 0:
        return 0
    candidates = await connection.fetch(_CANDIDATES_SQL, offer["id"], _member_nodes(principal), list(principal.groups))
    if not candidates:
        return 0
    refusals = set()
    for campaign in candidates:
        if not campaign["serves"]:
            refusals.add("not_in_campaign_groups")
            continue
        if campaign["status"] != "active":
            refusals.add("campaign_paused")
            continue
        if (
            amount > campaign["per_member_cap_fen"]
            or await connection.fetchval(
                _TAKE_CAP_SQL, campaign["id"], principal.id, amount, campaign["per_member_cap_fen"]
            )
            is None
        ):
            refusals.add("campaign_cap_reached")
            continue
        node = await connection.fetchval(_TAKE_BUDGET_SQL, campaign["id"], amount)
        if node is not None and not await _draw_shares(
            connection, campaign["id"], campaign["policy"], amount, voucher_id
        ):
            await connection.execute(
                "UPDATE campaign SET spent_fen = spent_fen - $2 WHERE id = $1", campaign["id"], amount
            )
            node = None
        if node is None:  # budget gone (or a share's, or paused or over just now): give the cap back, try the next
            await connection.execute(
                "UPDATE campaign_member SET spent_fen = spent_fen - $3 WHERE campaign = $1 AND member = $2",
                campaign["id"],
                principal.id,
                amount,
            )
            refusals.add("budget_exhausted")
            continue
        await connection.execute(
            "INSERT INTO campaign_spend (campaign, voucher, member, node, amount_fen, spent_at) "
            "VALUES ($1, $2, $3, $4, $5, now())",
            campaign["id"],
            voucher_id,
            principal.id,
            node,
            amount,
        )
        return amount
    code = next(code for code in _REFUSALS if code in refusals)  # the most telling first
    raise _REFUSALS[code]()


_SHARES_SQL = """
SELECT id, node, kind, percent_bp, fixed_fen, budget_fen - spent_fen AS left_fen
FROM campaign_share WHERE campaign = $1 ORDER BY position FOR UPDATE
"""

_TAKE_SHARES_SQL = """
UPDATE campaign_share s SET spent_fen = s.spent_fen + d.fen
FROM unnest($1::bigint[], $2::bigint[]) AS d(id, fen) WHERE s.id = d.id
"""

_SHARE_SPENDS_SQL = """
INSERT INTO campaign_share_spend (share, campaign, voucher, node, amount_fen, spent_at)
SELECT d.share, $1, $2, d.node, d.fen, now() FROM unnest($3::bigint[], $4::int[], $5::int[]) AS d(share, node, fen)
"""


async def _draw_shares(connection, campaign_id: int, policy: str, amount: int, voucher_id: int) -> bool:
    """Split `amount` between the campaign's shares and take each part from its budget (the
    campaign's row is locked by the caller); False, drawing nothing, when it cannot be paid."""
    rows = await connection.fetch(_SHARES_SQL, campaign_id)
    shares = [funding.Share(row["kind"], row["percent_bp"], row["fixed_fen"], row["left_fen"]) for row in rows]
    parts = funding.draw(amount, shares, policy) if shares else None
    if parts is None:
        return False
    paid = [(row, part) for row, part in zip(rows, parts, strict=True) if part > 0]
    await connection.execute(_TAKE_SHARES_SQL, [row["id"] for row, _ in paid], [part for _, part in paid])
    await connection.execute(
        _SHARE_SPENDS_SQL,
        campaign_id,
        voucher_id,
        [row["id"] for row, _ in paid],
        [row["node"] for row, _ in paid],
        [part for _, part in paid],
    )
    return True


# Why no campaign could pay, the most telling first; literal msgids, so Babel extracts them.
_REFUSALS = {
    "budget_exhausted": lambda: Conflict(
        "The campaign that subsidises this offer has spent its budget.", code="budget_exhausted"
    ),
    "campaign_cap_reached": lambda: Conflict(
        "You have used all the subsidy this campaign allows per member.", code="campaign_cap_reached"
    ),
    "campaign_paused": lambda: Conflict("The campaign that subsidises this offer is paused.", code="campaign_paused"),
    "not_in_campaign_groups": lambda: Conflict(
        "The campaign that subsidises this offer serves other member groups.", code="not_in_campaign_groups"
    ),
}


async def campaigns_paying(connection, offer_id: int, category_id: int) -> list[dict]:
    """The campaigns that pay this offer's subsidy now or will in their period (they list the
    offer or its category and are not ended): the provider's offer form shows the subsidy as
    theirs and the catalog keeps the provider from changing it."""
    rows = await connection.fetch(
        "SELECT c.name_zh, c.name_en, c.ends_at, n.name_zh AS node_name_zh, n.name_en AS node_name_en "
        "FROM campaign c JOIN union_node n ON n.id = c.node WHERE c.status IN ('active', 'paused') "
        "AND c.ends_at > now() AND ($1 = ANY(c.offer_ids) OR $2 = ANY(c.category_ids)) ORDER BY c.ends_at, c.id",
        offer_id,
        category_id,
    )
    return [dict(row) for row in rows]


catalog.register_subsidy_setter(campaigns_paying)


async def release_spend(connection, voucher_id: int) -> int:
    """Give back to its campaign what a voucher drew (once); the fen returned."""
    row = await connection.fetchrow(
        "UPDATE campaign_spend SET refunded_at = now() WHERE voucher = $1 AND refunded_at IS NULL "
        "RETURNING campaign, member, amount_fen",
        voucher_id,
    )
    if row is None:
        return 0
    await connection.execute(
        "UPDATE campaign_member SET spent_fen = spent_fen - $3 WHERE campaign = $1 AND member = $2",
        row["campaign"],
        row["member"],
        row["amount_fen"],
    )
    await connection.execute(
        "UPDATE campaign SET spent_fen = spent_fen - $2 WHERE id = $1", row["campaign"], row["amount_fen"]
    )
    # Each node gets its own part back: the shares' spent keeps adding up to the campaign's.
    await connection.execute(
        "WITH parts AS (UPDATE campaign_share_spend SET refunded_at = now() WHERE voucher = $1 AND refunded_at IS NULL "
        "RETURNING share, amount_fen) "
        "UPDATE campaign_share s SET spent_fen = s.spent_fen - p.amount_fen FROM parts p WHERE s.id = p.share",
        voucher_id,
    )
    return row["amount_fen"]


async def return_part(connection, voucher_id: int, amount_fen: int) -> int:
    """Give back to its campaign `amount_fen` of what a voucher drew (a prepaid package refunded
    after some sessions: the unused part of its subsidy), each funding node its share of it by
    largest remainder; all of it when that is everything. The fen returned."""
    row = await connection.fetchrow(
        "SELECT id, campaign, member, amount_fen FROM campaign_spend WHERE voucher = $1 AND refunded_at IS NULL "
        "FOR UPDATE",
        voucher_id,
    )
    if row is None or amount_fen <= 0:
        return 0
    if amount_fen >= row["amount_fen"]:
        return await release_spend(connection, voucher_id)
    await connection.execute(
        "UPDATE campaign_spend SET amount_fen = amount_fen - $2 WHERE id = $1", row["id"], amount_fen
    )
    await connection.execute(
        "UPDATE campaign_member SET spent_fen = spent_fen - $3 WHERE campaign = $1 AND member = $2",
        row["campaign"],
        row["member"],
        amount_fen,
    )
    await connection.execute(
        "UPDATE campaign SET spent_fen = spent_fen - $2 WHERE id = $1", row["campaign"], amount_fen
    )
    parts = await connection.fetch(
        "SELECT id, share, amount_fen FROM campaign_share_spend WHERE voucher = $1 AND refunded_at IS NULL "
        "ORDER BY share FOR UPDATE",
        voucher_id,
    )
    if parts:
        back = funding.apportion(amount_fen, [part["amount_fen"] for part in parts])
        for part, fen in zip(parts, back, strict=True):
            if fen <= 0:
                continue
            # A part given back whole is marked returned (its amount stays, as release_spend leaves it).
            await connection.execute(
                "UPDATE campaign_share_spend SET amount_fen = CASE WHEN amount_fen = $2 THEN amount_fen "
                "ELSE amount_fen - $2 END, refunded_at = CASE WHEN amount_fen = $2 THEN now() END WHERE id = $1",
                part["id"],
                fen,
            )
            await connection.execute(
                "UPDATE campaign_share SET spent_fen = spent_fen - $2 WHERE id = $1", part["share"], fen
            )
    return amount_fen


async def release_expired_spend(limit: int = 1000) -> int:
    """Spends of vouchers that expired unredeemed go back to their campaigns (a periodic
    job; safe to repeat). Returns how many were given back."""
    async with engine().transaction() as transaction:
        vouchers = await transaction.connection.fetch(
            "SELECT s.voucher FROM campaign_spend s JOIN voucher v ON v.id = s.voucher "
            "WHERE s.refunded_at IS NULL AND v.status IN ('expired', 'cancelled', 'refunded') "
            "ORDER BY s.campaign, s.voucher LIMIT $1",
            limit,
        )
    # One transaction per voucher: its locks are taken in a claim's order (member cap, then
    # campaign) and the hot campaign row is never held across a batch.
    released = 0
    for row in vouchers:
        async with engine().transaction() as transaction:
            released += await release_spend(transaction.connection, row["voucher"]) > 0
    return released


# Operators ---------------------------------------------------------------------------------------


_CAMPAIGN_SQL = """
SELECT c.*, n.name_zh AS node_name_zh, n.name_en AS node_name_en, n.path AS node_path,
       (c.status = 'active' AND c.starts_at <= now() AND c.ends_at > now()) AS running
FROM campaign c JOIN union_node n ON n.id = c.node
"""


_CAMPAIGN_SHARES_SQL = """
SELECT s.campaign, s.node, n.name_zh, n.name_en, s.kind, s.percent_bp, s.fixed_fen, s.budget_fen, s.spent_fen
FROM campaign_share s JOIN union_node n ON n.id = s.node WHERE s.campaign = ANY($1::bigint[])
ORDER BY s.campaign, s.position
"""


async def _shares(connection, campaign_ids: list[int]) -> dict[int, list[ShareRead]]:
    by_campaign: dict[int, list[ShareRead]] = {campaign_id: [] for campaign_id in campaign_ids}
    for row in await connection.fetch(_CAMPAIGN_SHARES_SQL, campaign_ids):
        by_campaign[row["campaign"]].append(
            ShareRead(
                node_id=row["node"],
                node_name_zh=row["name_zh"],
                node_name_en=row["name_en"],
                kind=row["kind"],
                percent_bp=row["percent_bp"],
                fixed_fen=row["fixed_fen"],
                budget_fen=row["budget_fen"],
                spent_fen=row["spent_fen"],
                remaining_fen=row["budget_fen"] - row["spent_fen"],
            )
        )
    return by_campaign


def _read(row, shares: list[ShareRead]) -> CampaignRead:
    return CampaignRead(
        id=row["id"],
        node_id=row["node"],
        node_name_zh=row["node_name_zh"],
        node_name_en=row["node_name_en"],
        name_zh=row["name_zh"],
        name_en=row["name_en"],
        starts_at=row["starts_at"],
        ends_at=row["ends_at"],
        groups=list(row["groups"]),
        offer_ids=list(row["offer_ids"]),
        category_ids=list(row["category_ids"]),
        budget_fen=row["budget_fen"],
        spent_fen=row["spent_fen"],
        remaining_fen=row["budget_fen"] - row["spent_fen"],
        per_member_cap_fen=row["per_member_cap_fen"],
        policy=row["policy"],
        shares=shares,
        status=row["status"],
        running=row["running"],
        created_at=row["created_at"],
    )


async def _read_one(connection, row) -> CampaignRead:
    return _read(row, (await _shares(connection, [row["id"]]))[row["id"]])


async def _funding_nodes(principal: Principal, data: CampaignCreate) -> list[ShareCreate]:
    """The campaign's shares, checked: each funding node in the operator's scope and the
    campaign's union or one above it (a union's money serves the members under it), no node
    twice, each share a percentage or a fixed amount, the percentages adding up to 100 %."""
    if not data.shares:
        if data.budget_fen is None:
            raise Invalid("Give the campaign a budget.", field="budget_fen")
        return [ShareCreate(node_id=data.node_id, budget_fen=data.budget_fen, percent_bp=funding.FULL_BP)]
    served = await federation.get_node(data.node_id)
    # The unions that may fund it: its own and those above it. Any other id, missing or of
    # another branch, gets the same answer (scope.py's policy); those above the operator's
    # own union are visible to them, so they are refused as out of their scope.
    funders = {node.id: node for node in [*await federation.ancestors(served), served]}
    seen: set[int] = set()
    for i, share in enumerate(data.shares):
        node = funders.get(share.node_id)
        if node is None:
            raise Invalid(
                "A union can only fund members under it: choose the campaign's union or a union above it.",
                field=f"shares[{i}].node_id",
            )
        if not principal.covers(node.path):
            raise Forbidden(
                "This union is outside your scope: a campaign can only commit the budgets of your union and "
                "the unions under it.",
                code="out_of_scope",
                field=f"shares[{i}].node_id",
            )
        if share.node_id in seen:
            raise Invalid("Each union funds the campaign once.", field=f"shares[{i}].node_id")
        seen.add(share.node_id)
        if (share.percent_bp > 0) == (share.fixed_fen > 0):
            raise Invalid(
                "Give each union either a percentage or a fixed amount per use.", field=f"shares[{i}].percent_bp"
            )
    percents = [share.percent_bp for share in data.shares if share.percent_bp]
    if not percents:
        raise Invalid(
            "At least one union pays a percentage: it pays what the fixed amounts leave.", field="shares[0].percent_bp"
        )
    if sum(percents) != funding.FULL_BP:
        raise Invalid(
            "The percentages add up to %(total)s %%; they must add up to 100 %%.",
            field="shares[0].percent_bp",
            params={"total": f"{sum(percents) / 100:g}"},
        )
    total = sum(share.budget_fen for share in data.shares)
    if data.budget_fen is not None and data.budget_fen != total:
        raise Invalid("The budget must be the sum of the unions' budgets.", field="budget_fen")
    return list(data.shares)


async def _validate(data: CampaignCreate, budget_fen: int) -> None:
    if not data.name_zh.strip():
        raise Invalid("Give the campaign a name.", field="name_zh")
    if data.starts_at.tzinfo is None or data.ends_at.tzinfo is None:
        raise Invalid("Give times with their time zone.", field="starts_at")
    if data.ends_at <= data.starts_at:
        raise Invalid("The campaign must end after it starts.", field="ends_at")
    if data.ends_at <= datetime.now(UTC):
        raise Invalid("The campaign's period is already over.", field="ends_at")
    if data.per_member_cap_fen > budget_fen:
        raise Invalid("The cap per member cannot exceed the budget.", field="per_member_cap_fen")
    unknown = set(data.groups) - await federation.group_codes()
    if unknown:
        raise Invalid("Choose only known member groups.", field="groups", unknown=sorted(unknown))
    if not data.offer_ids and not data.category_ids:
        raise Invalid("Choose the offers or categories the campaign subsidises.", field="offer_ids")
    known_categories = {category["id"] for category in await catalog.list_categories()}
    missing = set(data.category_ids) - known_categories
    if missing:
        raise Invalid(
            "Choose at least one offer or category that exists.", field="category_ids", unknown=sorted(missing)
        )
    if data.offer_ids:
        async with engine().transaction() as transaction:
            found = {
                row["id"]
                for row in await transaction.connection.fetch(
                    "SELECT id FROM offer WHERE id = ANY($1::bigint[])", list(data.offer_ids)
                )
            }
        missing = set(data.offer_ids) - found
        if missing:
            raise Invalid(
                "Choose at least one offer or category that exists.", field="offer_ids", unknown=sorted(missing)
            )


async def check_campaign(principal: Principal, data: CampaignCreate) -> list[ShareCreate]:
    """The refusals of `create_campaign`, nothing written: its shares when it would be created
    (the console shows them for confirmation first)."""
    guards.require_operator(principal)
    await scope.require_in_scope(principal, data.node_id, field="node_id")
    shares = await _funding_nodes(principal, data)
    await _validate(data, sum(share.budget_fen for share in shares))
    return shares


async def create_campaign(principal: Principal, data: CampaignCreate) -> CampaignRead:
    """A campaign of a node in the operator's scope, active from its start, paid by its shares."""
    shares = await check_campaign(principal, data)
    budget_fen = sum(share.budget_fen for share in shares)
    async with engine().transaction() as transaction:
        campaign_id = await transaction.connection.fetchval(
            "INSERT INTO campaign (node, name_zh, name_en, starts_at, ends_at, groups, offer_ids, category_ids, "
            "budget_fen, per_member_cap_fen, created_by, created_at, policy) "
            "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, now(), $12) RETURNING id",
            data.node_id,
            data.name_zh.strip(),
            data.name_en.strip(),
            data.starts_at,
            data.ends_at,
            sorted(set(data.groups)),
            sorted(set(data.offer_ids)),
            sorted(set(data.category_ids)),
            budget_fen,
            data.per_member_cap_fen,
            principal.id,
            data.policy,
        )
        await transaction.connection.executemany(
            "INSERT INTO campaign_share (campaign, node, position, kind, percent_bp, fixed_fen, budget_fen) "
            "VALUES ($1, $2, $3, $4, $5, $6, $7)",
            [
                (
                    campaign_id,
                    share.node_id,
                    position,
                    "percent" if share.percent_bp else "fixed",
                    share.percent_bp,
                    share.fixed_fen,
                    share.budget_fen,
                )
                for position, share in enumerate(shares, start=1)
            ],
        )
    log.info(
        "campaign_created", campaign_id=campaign_id, node_id=data.node_id, budget_fen=budget_fen, shares=len(shares)
    )
    return await get_campaign(principal, campaign_id)


async def list_campaigns(principal: Principal, limit: int = 200) -> list[CampaignRead]:
    """Campaigns of the nodes in the operator's scope, newest first."""
    guards.require_operator(principal)
    async with engine().transaction() as transaction:
        rows = await transaction.connection.fetch(
            _CAMPAIGN_SQL + "WHERE n.path LIKE $1 || '%' ORDER BY c.id DESC LIMIT $2", principal.node_path, limit
        )
        shares = await _shares(transaction.connection, [row["id"] for row in rows])
    return [_read(row, shares[row["id"]]) for row in rows]


async def _in_scope(connection, principal: Principal, campaign_id: int):
    row = await connection.fetchrow(_CAMPAIGN_SQL + "WHERE c.id = $1", campaign_id)
    scope.require_covers(
        principal, row and row["node_path"], NotFound("No such campaign in your scope.", code="campaign_not_found")
    )
    return row


async def get_campaign(principal: Principal, campaign_id: int) -> CampaignRead:
    guards.require_operator(principal)
    async with engine().transaction() as transaction:
        return await _read_one(transaction.connection, await _in_scope(transaction.connection, principal, campaign_id))


_TRANSITIONS = {"pause": ("active", "paused"), "resume": ("paused", "active"), "end": (None, "ended")}


async def set_status(principal: Principal, campaign_id: int, action: str) -> CampaignRead:
    """pause (active → paused), resume (paused → active) or end (for good)."""
    guards.require_operator(principal)
    source, target = _TRANSITIONS[action]
    async with engine().transaction() as transaction:
        connection = transaction.connection
        current = await _in_scope(connection, principal, campaign_id)
        changed = await connection.fetchval(
            "UPDATE campaign SET status = $2 WHERE id = $1 AND status <> 'ended' AND ($3::varchar IS NULL OR "
            "status = $3) RETURNING id",
            campaign_id,
            target,
            source,
        )
    if changed is None:
        raise Conflict(
            "The campaign cannot change to that state now.",
            code="wrong_status",
            status_now=current["status"],
        )
    log.info("campaign_status", campaign_id=campaign_id, status=target)
    return await get_campaign(principal, campaign_id)


async def campaign_detail(principal: Principal, campaign_id: int) -> CampaignDetail:
    """The campaign, its burn per day (in Shanghai) and where its money went."""
    guards.require_operator(principal)
    async with engine().transaction() as transaction:
        connection = transaction.connection
        campaign = await _read_one(connection, await _in_scope(connection, principal, campaign_id))
        days = await connection.fetch(
            "SELECT (s.spent_at AT TIME ZONE $2::text)::date AS day, sum(s.amount_fen) AS fen "
            "FROM campaign_spend s WHERE s.campaign = $1 AND s.refunded_at IS NULL GROUP BY 1 ORDER BY 1",
            campaign_id,
            dates.zone_name(),
        )
        funds = await connection.fetch(
            "SELECT s.node AS payer, p.name_zh AS payer_zh, p.name_en AS payer_en, m.node AS member_node, "
            "mn.name_zh AS member_zh, mn.name_en AS member_en, count(*) AS vouchers, sum(s.amount_fen) AS fen "
            "FROM campaign_share_spend s JOIN voucher v ON v.id = s.voucher JOIN union_node p ON p.id = s.node "
            "JOIN member m ON m.id = v.member JOIN union_node mn ON mn.id = m.node "
            "WHERE s.campaign = $1 AND s.refunded_at IS NULL "
            "GROUP BY 1, 2, 3, 4, 5, 6 ORDER BY fen DESC, member_node, payer",
            campaign_id,
        )
        by_node = await connection.fetch(
            "SELECT sh.node, n.name_zh, n.name_en, count(s.id) AS vouchers, coalesce(sum(s.amount_fen), 0) AS fen "
            "FROM campaign_share sh JOIN union_node n ON n.id = sh.node "
            "LEFT JOIN campaign_share_spend s ON s.share = sh.id AND s.refunded_at IS NULL "
            "WHERE sh.campaign = $1 GROUP BY sh.node, n.name_zh, n.name_en, sh.position ORDER BY sh.position",
            campaign_id,
        )
        counts = await connection.fetchrow(
            "SELECT count(*) AS vouchers, count(DISTINCT member) AS members FROM campaign_spend "
            "WHERE campaign = $1 AND refunded_at IS NULL",
            campaign_id,
        )
    burn = burn_days(campaign, [(row["day"], int(row["fen"])) for row in days])
    return CampaignDetail(
        campaign=campaign,
        burn=burn,
        vouchers=counts["vouchers"],
        members=counts["members"],
        funds=[
            FundsFlow(
                payer_node_id=row["payer"],
                payer_name_zh=row["payer_zh"],
                payer_name_en=row["payer_en"],
                member_node_id=row["member_node"],
                member_node_name_zh=row["member_zh"],
                member_node_name_en=row["member_en"],
                vouchers=row["vouchers"],
                amount_fen=int(row["fen"]),
            )
            for row in funds
        ],
        by_node=[
            NodeFunds(
                node_id=row["node"],
                node_name_zh=row["name_zh"],
                node_name_en=row["name_en"],
                vouchers=row["vouchers"],
                amount_fen=int(row["fen"]),
            )
            for row in by_node
        ],
    )


def burn_days(campaign: CampaignRead, spent: list[tuple]) -> list[DayBurn]:
    """Every day of the campaign so far (at most 120), with what was drawn that day and in total."""
    by_day = dict(spent)
    first = campaign.starts_at.astimezone(dates.zone()).date()
    last = min(campaign.ends_at, datetime.now(UTC)).astimezone(dates.zone()).date()
    if by_day:
        first, last = min(first, min(by_day)), max(last, max(by_day))
    days, total, day = [], 0, max(first, last - timedelta(days=119))
    total = sum(fen for d, fen in by_day.items() if d < day)
    while day <= last:
        total += by_day.get(day, 0)
        days.append(DayBurn(day=day, spent_fen=by_day.get(day, 0), cumulative_fen=total))
        day += timedelta(days=1)
    return days


async def funds_by_node(principal: Principal) -> list[dict]:
    """node → fen its campaigns pay for live vouchers, over the nodes in the operator's scope."""
    guards.require_operator(principal)
    async with engine().transaction() as transaction:
        rows = await transaction.connection.fetch(
            "SELECT n.id, n.name_zh, n.name_en, count(*) AS vouchers, sum(s.amount_fen) AS fen "
            "FROM campaign_share_spend s JOIN union_node n ON n.id = s.node "
            "WHERE n.path LIKE $1 || '%' AND s.refunded_at IS NULL GROUP BY n.id ORDER BY fen DESC",
            principal.node_path,
        )
    return [{**dict(row), "fen": int(row["fen"])} for row in rows]


async def change_funding(principal: Principal, campaign_id: int, data: CampaignFunding) -> CampaignRead:
    """The policy and each share's budget, changed at once; a budget never below what its
    share has spent. The campaign's row is locked first, then its shares (a claim's order)."""
    guards.require_operator(principal)
    async with engine().transaction() as transaction:
        connection = transaction.connection
        current = await _in_scope(connection, principal, campaign_id)
        if current["status"] == "ended":
            raise Conflict(
                "This campaign has ended; its funding can no longer change.", code="wrong_status", field="policy"
            )
        await connection.execute("SELECT 1 FROM campaign WHERE id = $1 FOR UPDATE", campaign_id)
        shares = {
            row["node"]: row
            for row in await connection.fetch(
                "SELECT s.id, s.node, s.budget_fen, s.spent_fen, n.path FROM campaign_share s "
                "JOIN union_node n ON n.id = s.node WHERE s.campaign = $1 ORDER BY s.position FOR UPDATE OF s",
                campaign_id,
            )
        }
        # An operator commits only the budgets of their scope: a district's operator sees the
        # city's share of a campaign they run, and cannot change it (nor the policy it pays under).
        if data.policy != current["policy"] and not all(principal.covers(row["path"]) for row in shares.values()):
            raise Forbidden(
                "Only an operator whose scope covers every paying union can change the policy.",
                code="out_of_scope",
                field="policy",
            )
        budgets = {}
        for i, share in enumerate(data.shares):
            row = shares.get(share.node_id)
            # A union that does not fund it, missing or of another branch: one answer (scope.py).
            if row is None or share.node_id in budgets:
                raise Invalid("This union does not fund this campaign.", field=f"shares[{i}].node_id")
            if share.budget_fen != row["budget_fen"] and not principal.covers(row["path"]):
                raise Forbidden(
                    "This union is outside your scope: a campaign can only commit the budgets of your union and "
                    "the unions under it.",
                    code="out_of_scope",
                    field=f"shares[{i}].budget_fen",
                )
            if share.budget_fen < row["spent_fen"]:
                raise Invalid(
                    "A union's budget cannot be less than it has already paid (%(spent)s).",
                    field=f"shares[{i}].budget_fen",
                    params={"spent": f"¥{row['spent_fen'] / 100:,.2f}"},
                )
            budgets[share.node_id] = share.budget_fen
        await connection.execute(
            "UPDATE campaign_share s SET budget_fen = d.budget FROM unnest($1::int[], $2::bigint[]) AS d(node, budget) "
            "WHERE s.campaign = $3 AND s.node = d.node",
            list(budgets),
            list(budgets.values()),
            campaign_id,
        )
        total = int(
            await connection.fetchval("SELECT sum(budget_fen) FROM campaign_share WHERE campaign = $1", campaign_id)
        )
        if current["per_member_cap_fen"] > total:
            raise Invalid("The cap per member cannot exceed the budget.", field="shares[0].budget_fen")
        await connection.execute(
            "UPDATE campaign SET budget_fen = $2, policy = $3 WHERE id = $1", campaign_id, total, data.policy
        )
    log.info("campaign_funding_changed", campaign_id=campaign_id, budget_fen=total, policy=data.policy)
    return await get_campaign(principal, campaign_id)
