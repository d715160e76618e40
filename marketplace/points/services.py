"""Points: an append-only ledger with a cached balance.

Every change is an entry (grant, earn, spend, refund, expire, adjust) written in the
same transaction as the cached balance, so the balance always equals the sum of the
entries; `reconcile` proves it. Points arrive in lots that expire together after
`POINTS_EXPIRY_DAYS`; spending takes from the lot that expires first, and a refund
puts the points back into the lots they came from (a lot that has expired meanwhile is
expired again by the next run).

Locking: every change to a member's points first locks their balance row (the
conditional UPDATE of a spend, the upsert of a credit, `FOR UPDATE` in the expiry run,
always in member order), so a member's lots are only ever changed by one transaction
at a time and a balance can never go below zero.

Policy: points expire at the first expiry run after their lot's time (hourly), and
members are told `POINTS_REMINDER_DAYS` (90, 30 and 7 days) before, once at each; a grant is
announced in the inbox too.

Four eyes: an adjustment of more than `APPROVAL_THRESHOLD` points either way, or a grant
of more than that many points in all (per member × members), waits for a second operator
with the `points.grant` permission (marketplace/core/identity/approvals.py); the proposer
cannot approve it. A waiting grant has the status `pending` (`rejected` if refused).
"""

import json
import uuid
from datetime import UTC, datetime, timedelta

import structlog

from marketplace.core import dates, notifications, personal_data, pii
from marketplace.core.db import engine
from marketplace.core.errors import Conflict, Invalid, NotFound
from marketplace.core.federation import scope, services as federation
from marketplace.core.identity import approvals, guards, permissions
from marketplace.core.identity.principal import Principal
from marketplace.core.jobs import outbox, topics
from marketplace.core.settings import get_settings
from marketplace.core.web.nav import N_
from marketplace.points.schemas import BalanceRead, EntryRead, GrantRead, PointsRead

log = structlog.get_logger(__name__)

personal_data.keeps(
    "points_balance", "points_entry", "points_lot", why="the ledger: every point granted and spent stays accounted for"
)

GRANT_CHUNK = 5000  # members per transaction of a bulk grant
APPROVAL_THRESHOLD = 10_000  # points: larger adjustments and grants (in all) need a second operator
EXPIRY_CHUNK = 1000  # members per transaction of the expiry run


def _expiry(now: datetime) -> datetime:
    return now + timedelta(days=get_settings().points.expiry_days)


# Primitives, run in the caller's transaction ---------------------------------------------------


async def credit(
    connection,
    member_id: int,
    kind: str,
    amount: int,
    ref: str,
    *,
    operator: int | None = None,
    reason: str | None = None,
    now: datetime | None = None,
) -> int | None:
    """Add `amount` points as a new lot; the new balance, or None when `ref` was already
    applied for this member (a replay adds nothing)."""
    assert kind in ("grant", "earn", "adjust") and amount > 0
    now = now or datetime.now(UTC)
    entry = await connection.fetchval(
        "INSERT INTO points_entry (member, kind, amount, ref, operator, reason, created_at) "
        "VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (member, ref) DO NOTHING RETURNING id",
        member_id,
        kind,
        amount,
        ref,
        operator,
        reason,
        now,
    )
    if entry is None:
        return None
    balance = await connection.fetchval(
        "INSERT INTO points_balance (member, balance) VALUES ($1, $2) "
        "ON CONFLICT (member) DO UPDATE SET balance = points_balance.balance + EXCLUDED.balance RETURNING balance",
        member_id,
        amount,
    )
    await connection.execute(
        "INSERT INTO points_lot (member, entry, amount, remaining, expires_at) VALUES ($1, $2, $3, $3, $4)",
        member_id,
        entry,
        amount,
        _expiry(now),
    )
    return balance


_CONSUME_SQL = """
UPDATE points_lot l SET remaining = l.remaining - t.take
FROM (
    SELECT id, least(remaining, $2 - (running - remaining)) AS take
    FROM (SELECT id, remaining, sum(remaining) OVER (ORDER BY expires_at, id) AS running
          FROM points_lot WHERE member = $1 AND remaining > 0) s
    WHERE running - remaining < $2
) t
WHERE l.id = t.id
RETURNING l.id, t.take
"""


async def debit(
    connection,
    member_id: int,
    kind: str,
    amount: int,
    ref: str,
    *,
    voucher: int | None = None,
    operator: int | None = None,
    reason: str | None = None,
) -> int | None:
    """Take `amount` points, oldest lots first; the new balance, or None when the member
    has fewer. The conditional UPDATE is the check: it cannot be separated from the
    decrement, so concurrent spends never take a balance below zero."""
    assert kind in ("spend", "adjust") and amount > 0
    balance = await connection.fetchval(
        "UPDATE points_balance SET balance = balance - $2 WHERE member = $1 AND balance >= $2 RETURNING balance",
        member_id,
        amount,
    )
    if balance is None:
        return None
    taken = await connection.fetch(_CONSUME_SQL, member_id, amount)
    if sum(row["take"] for row in taken) != amount:
        raise RuntimeError(f"points lots of member {member_id} disagree with the cached balance")
    entry = await connection.fetchval(
        "INSERT INTO points_entry (member, kind, amount, ref, voucher, operator, reason, lots, created_at) "
        "VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb, now()) ON CONFLICT (member, ref) DO NOTHING RETURNING id",
        member_id,
        kind,
        -amount,
        ref,
        voucher,
        operator,
        reason,
        json.dumps([[row["id"], row["take"]] for row in taken]),
    )
    if entry is None:
        raise Conflict("These points were already taken.", code="already_applied")
    return balance


async def spend_for_voucher(connection, member_id: int, voucher_id: int, amount: int) -> int | None:
    return await debit(connection, member_id, "spend", amount, f"spend:voucher:{voucher_id}", voucher=voucher_id)


async def refund_voucher(connection, voucher_id: int) -> int:
    """Give back the points a voucher was bought with, into the lots they came from; the
    points returned (0 when there were none, or they were already returned)."""
    spent = await connection.fetchrow(
        "SELECT member, amount, lots FROM points_entry WHERE voucher = $1 AND kind = 'spend'", voucher_id
    )
    if spent is None:
        return 0
    member_id, amount = spent["member"], -spent["amount"]
    # Balance row first, like every change, then the entry whose unique ref stops a replay.
    await connection.execute("SELECT 1 FROM points_balance WHERE member = $1 FOR UPDATE", member_id)
    entry = await connection.fetchval(
        "INSERT INTO points_entry (member, kind, amount, ref, voucher, created_at) "
        "VALUES ($1, 'refund', $2, $3, $4, now()) ON CONFLICT (member, ref) DO NOTHING RETURNING id",
        member_id,
        amount,
        f"refund:voucher:{voucher_id}",
        voucher_id,
    )
    if entry is None:
        return 0
    await connection.execute("UPDATE points_balance SET balance = balance + $2 WHERE member = $1", member_id, amount)
    lots = json.loads(spent["lots"])
    await connection.execute(
        "UPDATE points_lot l SET remaining = l.remaining + r.take "
        "FROM unnest($1::bigint[], $2::int[]) AS r(id, take) WHERE l.id = r.id",
        [lot for lot, _ in lots],
        [take for _, take in lots],
    )
    return amount


# Members ----------------------------------------------------------------------------------------


async def balance_of(member_id: int) -> int:
    async with engine().transaction() as transaction:
        value = await transaction.connection.fetchval("SELECT balance FROM points_balance WHERE member = $1", member_id)
    return value or 0


async def my_points(principal: Principal, limit: int | None = 100) -> PointsRead:
    """The member's balance, what expires soonest, and their latest entries (all with limit=None)."""
    guards.require_member(principal)
    async with engine().transaction() as transaction:
        connection = transaction.connection
        balance = await connection.fetchval("SELECT balance FROM points_balance WHERE member = $1", principal.id)
        soonest = await connection.fetchrow(
            "SELECT expires_at, sum(remaining) AS points FROM points_lot WHERE member = $1 AND remaining > 0 "
            "GROUP BY expires_at ORDER BY expires_at LIMIT 1",
            principal.id,
        )
        entries = await connection.fetch(
            "SELECT id, kind, amount, reason, voucher, created_at FROM points_entry WHERE member = $1 "
            "ORDER BY id DESC LIMIT $2",
            principal.id,
            limit,
        )
    return PointsRead(
        balance=balance or 0,
        next_expiry=soonest["expires_at"] if soonest else None,
        next_expiry_points=soonest["points"] if soonest else 0,
        entries=[
            EntryRead(
                id=row["id"],
                kind=row["kind"],
                amount=row["amount"],
                reason=row["reason"],
                voucher_id=row["voucher"],
                created_at=row["created_at"],
            )
            for row in entries
        ],
    )


# Operators ----------------------------------------------------------------------------------------


def _reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not 2 <= len(reason) <= 500:
        raise Invalid("Give a reason of 2 to 500 characters.", field="reason")
    return reason


async def adjust(principal: Principal, member_id: int, amount: int, reason: str) -> BalanceRead:
    """An operator's correction of one member's points, with a reason; never below zero.
    (Retries are caught by the request's Idempotency-Key, so each call is a new entry.)"""
    guards.require_operator(principal)
    ref = f"adjust:{uuid.uuid4().hex}"
    reason = _reason(reason)
    if amount == 0 or abs(amount) > 1_000_000:
        raise Invalid("Enter a number of points other than 0, at most 1,000,000 either way.", field="amount")
    permissions.require(principal, "points.grant")
    node_id = await federation.member_node(member_id)
    node_id = (
        await scope.require_in_scope(
            principal, node_id, NotFound("No such member in your scope.", code="member_not_found")
        )
    ).id
    if abs(amount) > APPROVAL_THRESHOLD:
        member = await federation.member_principal(member_id)
        async with engine().transaction() as transaction:
            approval = await approvals.propose(
                transaction.connection,
                principal,
                "points_adjustment",
                member_id,
                node_id,
                {
                    "member_id": member_id,
                    "amount": amount,
                    "reason": reason,
                    "member_masked": pii.mask_name(member.display_name) if member else None,
                },
            )
            balance = await transaction.connection.fetchval(
                "SELECT balance FROM points_balance WHERE member = $1", member_id
            )
        log.info("points_adjustment_proposed", member_id=member_id, amount=amount, operator_id=principal.id)
        return BalanceRead(member_id=member_id, balance=balance or 0, approval_id=approval["id"])
    async with engine().transaction() as transaction:
        connection = transaction.connection
        if amount > 0:
            balance = await credit(connection, member_id, "adjust", amount, ref, operator=principal.id, reason=reason)
        else:
            balance = await debit(connection, member_id, "adjust", -amount, ref, operator=principal.id, reason=reason)
            if balance is None:
                raise Conflict(
                    "The member has fewer points than this correction takes.",
                    code="insufficient_points",
                    field="amount",
                )
        # The member sees every change of their points in the inbox, with the operator's reason.
        await notifications.add(
            connection,
            [
                notifications.Message(
                    member_id,
                    "points_added" if amount > 0 else "points_deducted",
                    link="/points",
                    params={"points": f"{abs(amount):,}", "reason": reason, "balance": f"{balance:,}"},
                )
            ],
        )
    log.info("points_adjusted", member_id=member_id, amount=amount, operator_id=principal.id)
    return BalanceRead(member_id=member_id, balance=balance)


async def _apply_adjustment(connection, approver: Principal, request: dict) -> dict:
    """An approved large adjustment, entered for the proposer with the approver on record."""
    payload = request["payload"]
    member_id, amount = payload["member_id"], payload["amount"]
    ref = f"adjust:approval:{request['id']}"
    if amount > 0:
        balance = await credit(
            connection, member_id, "adjust", amount, ref, operator=request["proposed_by"], reason=payload["reason"]
        )
    else:
        balance = await debit(
            connection, member_id, "adjust", -amount, ref, operator=request["proposed_by"], reason=payload["reason"]
        )
        if balance is None:
            raise Conflict("The member has fewer points than this correction takes.", code="insufficient_points")
    return {"balance_after": balance}


async def _apply_grant(connection, approver: Principal, request: dict) -> dict:
    """An approved large grant is queued (the job applies it as any other)."""
    grant_id = request["subject_id"]
    updated = await connection.fetchval(
        "UPDATE points_grant SET status = 'queued' WHERE id = $1 AND status = 'pending' RETURNING id", grant_id
    )
    if updated is None:
        raise Conflict("This grant is not waiting for approval.", code="grant_not_pending")
    await outbox.publish(topics.GrantCreated(grant_id=grant_id))
    return {"grant_id": grant_id}


async def _reject_grant(connection, grant_id: int) -> None:
    await connection.execute(
        "UPDATE points_grant SET status = 'rejected', finished_at = now() WHERE id = $1 AND status = 'pending'",
        grant_id,
    )


approvals.register("points_adjustment", "points.grant", _apply_adjustment)
approvals.register("points_grant", "points.grant", _apply_grant, on_reject=_reject_grant)


_GRANT_SQL = """
SELECT g.id, g.node, n.name_zh AS node_name_zh, n.name_en AS node_name_en, g.member_group, g.amount, g.reason,
       g.status, g.members_total, g.members_done, g.created_at, g.finished_at
FROM points_grant g JOIN union_node n ON n.id = g.node
"""


def _grant(row) -> GrantRead:
    return GrantRead(**dict(row))


async def grant_preview(principal: Principal, node_id: int, member_group: str | None, amount: int, reason: str) -> dict:
    """What a grant would do, checked as `create_grant` checks it, before anything is queued:
    how many active members it reaches and how many points in all."""
    guards.require_operator(principal)
    permissions.require(principal, "points.grant")
    reason = _reason(reason)
    if not 1 <= amount <= 100_000:
        raise Invalid("Enter between 1 and 100,000 points per member.", field="amount")
    if member_group is not None and member_group not in await federation.group_codes():
        raise Invalid("Choose only known member groups.", field="member_group", unknown=[member_group])
    node = await scope.require_in_scope(principal, node_id, field="node_id")
    members = await federation.count_members(node.path, member_group=member_group)
    return {
        "node": node,
        "member_group": member_group,
        "amount": amount,
        "reason": reason,
        "members": members,
        "points_total": members * amount,
        "needs_approval": members * amount > APPROVAL_THRESHOLD,
    }


async def create_grant(
    principal: Principal, node_id: int, member_group: str | None, amount: int, reason: str
) -> GrantRead:
    """Queue a grant of `amount` points to every active member under `node_id` (of one
    group, if given); a job applies it in chunks and reports progress. Over the approval
    threshold in all, it waits (status `pending`) for a second operator's approval."""
    preview = await grant_preview(principal, node_id, member_group, amount, reason)
    reason, total, node = preview["reason"], preview["members"], preview["node"]
    needs_approval = preview["needs_approval"]
    async with engine().transaction() as transaction:
        grant_id = await transaction.connection.fetchval(
            "INSERT INTO points_grant (node, member_group, amount, reason, operator, members_total, created_at, "
            "status) VALUES ($1, $2, $3, $4, $5, $6, now(), $7) RETURNING id",
            node_id,
            member_group,
            amount,
            reason,
            principal.id,
            total,
            "pending" if needs_approval else "queued",
        )
        if needs_approval:
            await approvals.propose(
                transaction.connection,
                principal,
                "points_grant",
                grant_id,
                node_id,
                {
                    "amount": amount,
                    "members": total,
                    "total": amount * total,
                    "member_group": member_group,
                    "reason": reason,
                    "node_name_zh": node.name_zh,
                    "node_name_en": node.name_en,
                },
            )
        else:
            await outbox.publish(topics.GrantCreated(grant_id=grant_id))
    log.info("points_grant_created", grant_id=grant_id, node_id=node_id, members=total, operator_id=principal.id)
    return await get_grant(principal, grant_id)


async def get_grant(principal: Principal, grant_id: int) -> GrantRead:
    guards.require_operator(principal)
    async with engine().transaction() as transaction:
        row = await transaction.connection.fetchrow(
            _GRANT_SQL + "WHERE g.id = $1 AND n.path LIKE $2 || '%'", grant_id, principal.node_path
        )
    if row is None:
        raise NotFound("No such grant in your scope.", code="grant_not_found")
    return _grant(row)


async def list_grants(principal: Principal, limit: int = 50) -> list[GrantRead]:
    guards.require_operator(principal)
    async with engine().transaction() as transaction:
        rows = await transaction.connection.fetch(
            _GRANT_SQL + "WHERE n.path LIKE $1 || '%' ORDER BY g.id DESC LIMIT $2", principal.node_path, limit
        )
    return [_grant(row) for row in rows]


_GRANT_CHUNK_SQL = """
WITH targets AS (
    SELECT m.id FROM member m JOIN union_node n ON n.id = m.node
    WHERE m.id > $2 AND n.path LIKE $3 || '%' AND m.status = 'active' AND ($4::varchar IS NULL OR $4 = ANY(m.groups))
    ORDER BY m.id LIMIT $5
), entries AS (
    INSERT INTO points_entry (member, kind, amount, ref, points_grant, reason, created_at)
    SELECT id, 'grant', $6, 'grant:' || $1::bigint, $1::bigint, $7, $8 FROM targets ORDER BY id
    ON CONFLICT (member, ref) DO NOTHING
    RETURNING id, member
), lots AS (
    INSERT INTO points_lot (member, entry, amount, remaining, expires_at)
    SELECT member, id, $6, $6, $9 FROM entries
), balances AS (
    INSERT INTO points_balance (member, balance) SELECT member, $6 FROM entries ORDER BY member
    ON CONFLICT (member) DO UPDATE SET balance = points_balance.balance + EXCLUDED.balance
)
SELECT (SELECT max(id) FROM targets) AS last_member, (SELECT count(*) FROM targets) AS members,
       (SELECT coalesce(array_agg(member), '{}') FROM entries) AS granted
"""


async def apply_grant_chunk(grant_id: int) -> bool:
    """Apply the next chunk of a grant; False once it is done. Safe to repeat: each
    member's entry has the grant's ref, so a replayed chunk grants nothing twice."""
    now = datetime.now(UTC)
    async with engine().transaction() as transaction:
        connection = transaction.connection
        grant = await connection.fetchrow(
            "SELECT g.*, n.path FROM points_grant g JOIN union_node n ON n.id = g.node WHERE g.id = $1 FOR UPDATE",
            grant_id,
        )
        if grant is None or grant["status"] in ("done", "pending", "rejected"):  # pending: not approved yet
            return False
        chunk = await connection.fetchrow(
            _GRANT_CHUNK_SQL,
            grant_id,
            grant["last_member"],
            grant["path"],
            grant["member_group"],
            GRANT_CHUNK,
            grant["amount"],
            grant["reason"],
            now,
            _expiry(now),
        )
        if chunk["members"] == 0:
            await connection.execute(
                "UPDATE points_grant SET status = 'done', finished_at = now() WHERE id = $1", grant_id
            )
            return False
        await connection.execute(
            "UPDATE points_grant SET status = 'running', last_member = $2, members_done = members_done + $3 "
            "WHERE id = $1",
            grant_id,
            chunk["last_member"],
            chunk["members"],
        )
        # Each member granted in this chunk (a replayed chunk grants, and tells, nobody twice).
        await notifications.add(
            connection,
            [
                notifications.Message(
                    member_id,
                    "points_granted",
                    link="/points",
                    params={"points": f"{grant['amount']:,}", "reason": grant["reason"]},
                )
                for member_id in chunk["granted"]
            ],
        )
    return True


async def apply_grant(grant_id: int) -> None:
    while await apply_grant_chunk(grant_id):
        pass
    log.info("points_grant_applied", grant_id=grant_id)


# Scheduled ---------------------------------------------------------------------------------------


async def expire_points(now: datetime | None = None) -> int:
    """Expire what is left of every lot past its time, a chunk of members per
    transaction; returns the points expired."""
    now = now or datetime.now(UTC)
    expired = 0
    while True:
        async with engine().transaction() as transaction:
            connection = transaction.connection
            members = await connection.fetch(
                "SELECT b.member FROM points_balance b WHERE b.member IN ("
                "  SELECT DISTINCT member FROM points_lot WHERE expires_at <= $1 AND remaining > 0 LIMIT $2) "
                "ORDER BY b.member FOR UPDATE",
                now,
                EXPIRY_CHUNK,
            )
            if not members:
                return expired
            member_ids = [row["member"] for row in members]
            lots = await connection.fetch(
                "UPDATE points_lot l SET remaining = 0 FROM ("
                "  SELECT id, remaining FROM points_lot WHERE member = ANY($1) AND expires_at <= $2 AND remaining > 0"
                ") due WHERE l.id = due.id RETURNING l.id, l.member, due.remaining",
                member_ids,
                now,
            )
            # A lot can expire more than once (a refund may put points back into it), so
            # each expiry gets a fresh ref; the lock and `remaining > 0` make it happen once.
            await connection.execute(
                "INSERT INTO points_entry (member, kind, amount, ref, created_at) "
                "SELECT member, 'expire', -remaining, 'expire:' || gen_random_uuid(), $4 "
                "FROM unnest($1::bigint[], $2::bigint[], $3::int[]) AS e(id, member, remaining)",
                [row["id"] for row in lots],
                [row["member"] for row in lots],
                [row["remaining"] for row in lots],
                now,
            )
            await connection.execute(
                "UPDATE points_balance b SET balance = b.balance - e.points FROM ("
                "  SELECT member, sum(remaining) AS points FROM unnest($1::bigint[], $2::int[]) AS x(member, remaining)"
                "  GROUP BY member) e WHERE b.member = e.member",
                [row["member"] for row in lots],
                [row["remaining"] for row in lots],
            )
            expired += sum(row["remaining"] for row in lots)


# A lot's reminder is the shortest period (of settings.points.reminder_days: 90, 30 and 7 days)
# that its expiry falls within; a lot is reminded when it enters a shorter period than the
# last one it was reminded in. So each reminder goes once, and a lot first seen 20 days
# before its expiry gets the 30-day reminder, not a late 90-day one.
_REMIND_SQL = """
WITH due AS (
    UPDATE points_lot l SET reminded_days = s.stage, reminded_at = $1
    FROM (SELECT id, (SELECT min(d) FROM unnest($2::int[]) AS d WHERE expires_at <= $1::timestamptz + make_interval(days => d))
                     AS stage
          FROM points_lot WHERE remaining > 0 AND expires_at > $1::timestamptz AND expires_at <= $1::timestamptz + make_interval(days => $3::int)
         ) s
    WHERE l.id = s.id AND (l.reminded_days IS NULL OR l.reminded_days > s.stage)
    RETURNING l.member, l.remaining, l.expires_at, s.stage)
SELECT member, stage, sum(remaining) AS points, min(expires_at) AS expires_at FROM due
GROUP BY member, stage ORDER BY member, stage
"""


async def remind_expiring(now: datetime | None = None) -> int:
    """Tell members that points expire: once per lot 90, 30 and 7 days before (one message
    per member and reminder, the points of its lots added up); returns how many messages."""
    now = now or datetime.now(UTC)
    stages = sorted(set(get_settings().points.reminder_days))
    async with engine().transaction() as transaction:
        connection = transaction.connection
        rows = await connection.fetch(_REMIND_SQL, now, stages, max(stages))
        await notifications.add(
            connection,
            [
                notifications.Message(
                    row["member"],
                    "points_expiring",
                    link="/points",
                    params={"points": f"{row['points']:,}", "date": dates.last_day_text(row["expires_at"])},
                )
                for row in rows
            ],
        )
    return len(rows)


async def reconcile() -> list[int]:
    """Members whose cached balance differs from their ledger or their lots (there should
    be none); each one is logged as an error."""
    async with engine().transaction() as transaction:
        rows = await transaction.connection.fetch("""
            SELECT b.member, b.balance, coalesce(e.total, 0) AS ledger, coalesce(l.total, 0) AS lots
            FROM points_balance b
            LEFT JOIN (SELECT member, sum(amount) AS total FROM points_entry GROUP BY member) e ON e.member = b.member
            LEFT JOIN (SELECT member, sum(remaining) AS total FROM points_lot GROUP BY member) l ON l.member = b.member
            WHERE b.balance <> coalesce(e.total, 0) OR b.balance <> coalesce(l.total, 0)
            UNION ALL
            SELECT e.member, 0, sum(e.amount), 0 FROM points_entry e
            WHERE NOT EXISTS (SELECT 1 FROM points_balance b WHERE b.member = e.member) GROUP BY e.member
        """)
    for row in rows:
        log.error(
            "points_balance_mismatch",
            member_id=row["member"],
            balance=row["balance"],
            ledger=row["ledger"],
            lots=row["lots"],
        )
    return [row["member"] for row in rows]


notifications.register(
    "points_granted",
    N_("You received %(points)s points"),
    N_("%(points)s points from your union: %(reason)s. Use them for benefits marked with points."),
)
notifications.register(
    "points_added",
    N_("%(points)s points added"),
    N_("Your union added %(points)s points: %(reason)s. Balance: %(balance)s points."),
)
notifications.register(
    "points_deducted",
    N_("%(points)s points deducted"),
    N_("Your union deducted %(points)s points: %(reason)s. Balance: %(balance)s points."),
)
notifications.register(
    "points_expiring", N_("Points expiring soon"), N_("%(points)s points expire on %(date)s; use them before then.")
)
