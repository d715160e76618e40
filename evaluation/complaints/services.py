"""Complaints: a member complains about a voucher they used; the provider answers in its
portal within the response time (`COMPLAINT_RESPONSE_HOURS`, default 72); an operator
mediates and closes it with a resolution. A response time missed counts against the
provider on its scorecard (missed_responses_n).

Who may complain (complaints move a provider towards delisting, so they cannot be stuffed):
- about a voucher that was redeemed, or a paid booking whose time passed without the
  provider honouring it (a no-show, which the marketplace vouches for);
- once per voucher, whatever became of the first complaint; cancelling and claiming again
  gives a new voucher, which is not redeemed;
- at most `COMPLAINTS_PER_WEEK` (default 3) complaints per member in any seven days.

Complaint texts are stored as typed and shown escaped; members' names reach providers
and operators masked."""

import os
from datetime import UTC, datetime, timedelta

import structlog
from asyncpg.exceptions import UniqueViolationError

from evaluation.schemas import ComplaintCategory, ComplaintInput, ComplaintRead, ForwardedTo
from evaluation.scorecards import services as scorecards
from marketplace.core import personal_data, pii
from marketplace.core.audit import services as audit
from marketplace.core.db import engine, search_text
from marketplace.core.errors import Conflict, Invalid, NotFound, TooManyRequests
from marketplace.core.identity import guards, operators
from marketplace.core.identity.principal import Principal
from marketplace.core.jobs import outbox, topics

log = structlog.get_logger(__name__)

# The member is told (marketplace/vouchers/actors.py, in the inbox) when the provider
# answers and when the union closes the complaint: {"complaint_id", "member_id",
# "voucher_id", "provider_name"}.

CATEGORIES: tuple[ComplaintCategory, ...] = (
    "not_honoured",
    "overcharge",
    "poor_service",
    "safety_hygiene",
    "discrimination",
    "other",
)


def weekly_limit() -> int:
    return int(os.environ.get("COMPLAINTS_PER_WEEK", "3"))


def response_time() -> timedelta:
    return timedelta(hours=int(os.environ.get("COMPLAINT_RESPONSE_HOURS", "72")))


_SQL = """
SELECT c.*, p.name AS provider_name FROM complaint c JOIN provider p ON p.id = c.provider
"""


# For operators: also who holds the complaint since it was forwarded (the union, and the operator when named).
_HELD_BY = (
    ", an.name_zh AS assigned_node_zh, an.name_en AS assigned_node_en, ao.display_name AS assigned_operator_name "
)
_OPERATOR_SQL = (
    _SQL.replace("FROM complaint c", _HELD_BY + "FROM complaint c")
    + "LEFT JOIN union_node an ON an.id = c.assigned_node LEFT JOIN operator ao ON ao.id = c.assigned_operator "
)


def _read(row, *, show_member: bool) -> ComplaintRead:
    now = datetime.now(UTC)
    return ComplaintRead(
        id=row["id"],
        voucher_id=row["voucher"],
        provider_id=row["provider"],
        provider_name=row["provider_name"],
        category=row["category"],
        text=row["text"],
        status=row["status"],
        created_at=row["created_at"],
        respond_by=row["respond_by"],
        overdue=row["status"] == "open" and now > row["respond_by"],
        answer=row["answer"],
        answered_at=row["answered_at"],
        resolution=row["resolution"],
        closed_at=row["closed_at"],
        member_name=row["member_masked"] if show_member else None,
        photo=row["photo"],
    )


def _read_for_operator(row) -> ComplaintRead:
    complaint = _read(row, show_member=True)
    if row["assigned_node"] is not None:
        complaint.forwarded_to = ForwardedTo(
            node_id=row["assigned_node"],
            node_name_zh=row["assigned_node_zh"],
            node_name_en=row["assigned_node_en"],
            operator_id=row["assigned_operator"],
            operator_name=row["assigned_operator_name"],
        )
    return complaint


@personal_data.forgets("complaint")
async def forget_member(connection, member_id: int) -> None:
    """The case stays (the provider's record and the scorecards count it); who filed it does not."""
    await connection.execute("UPDATE complaint SET member_masked = '*' WHERE member = $1", member_id)


async def latest_of_provider(provider_id: int, limit: int = 20) -> tuple[list[dict], int]:
    """A provider's latest complaints, the evidence of an enforcement case, and how many
    there are in all."""
    async with engine().transaction() as transaction:
        connection = transaction.connection
        rows = await connection.fetch(
            "SELECT category, text, status, created_at, answered_at, respond_by, "
            "(status = 'open' AND respond_by < now()) AS overdue FROM complaint WHERE provider = $1 "
            "ORDER BY created_at DESC LIMIT $2",
            provider_id,
            limit,
        )
        total = await connection.fetchval("SELECT count(*) FROM complaint WHERE provider = $1", provider_id)
    return [dict(row) for row in rows], total


def _news(topic: type[topics.ComplaintNews], row) -> topics.ComplaintNews:
    return topic(
        complaint_id=row["id"], member_id=row["member"], voucher_id=row["voucher"], provider_name=row["provider_name"]
    )


async def file(
    principal: Principal,
    voucher_id: int,
    provider_id: int,
    data: ComplaintInput,
    photo: str | None = None,
    *,
    no_show: bool = False,
) -> ComplaintRead:
    """A member's complaint about one of their vouchers (the marketplace vouches that the
    voucher is theirs, names its provider and says whether it was a paid booking the
    provider did not honour), with the name of a photo already checked and kept by
    catalog.services.store_picture."""
    guards.require_member(principal)
    now = datetime.now(UTC)
    async with engine().transaction() as transaction:
        connection = transaction.connection
        # One member's complaints one at a time, so the checks below hold under races.
        await connection.execute("SELECT pg_advisory_xact_lock(hashtext('complaint'), $1)", principal.id)
        redemption = await connection.fetchval(
            "SELECT id FROM redemption WHERE voucher = $1 AND member = $2", voucher_id, principal.id
        )
        if redemption is None and not no_show:
            raise Conflict(
                "You can complain about a voucher once it has been used, or about a paid booking "
                "the provider did not honour.",
                code="complaint_not_eligible",
            )
        if await connection.fetchval(
            "SELECT EXISTS (SELECT 1 FROM complaint WHERE voucher = $1 AND member = $2)", voucher_id, principal.id
        ):
            raise Conflict("You have complained about this voucher already.", code="complaint_exists")
        recent = await connection.fetchval(
            "SELECT min(created_at) FROM (SELECT created_at FROM complaint WHERE member = $1 "
            "AND created_at > $2 ORDER BY created_at DESC LIMIT $3) r HAVING count(*) >= $3",
            principal.id,
            now - timedelta(days=7),
            weekly_limit(),
        )
        if recent is not None:
            retry = int((recent + timedelta(days=7) - now).total_seconds()) + 1
            raise TooManyRequests(
                "You have filed %(count)s complaints this week; you can file another later.",
                code="complaint_rate_limited",
                params={"count": weekly_limit()},
                retry_after=max(retry, 1),
            )
        try:
            complaint_id = await connection.fetchval(
                "INSERT INTO complaint (redemption, voucher, provider, member, category, text, created_at, "
                "respond_by, member_masked, photo) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id",
                redemption,
                voucher_id,
                provider_id,
                principal.id,
                data.category,
                data.text.strip(),
                now,
                now + response_time(),
                pii.mask_name(principal.display_name),
                photo,
            )
        except UniqueViolationError:
            # One open complaint per voucher: a provider's complaint rate counts vouchers,
            # not how often one member writes.
            raise Conflict("You have complained about this voucher already.", code="complaint_exists") from None
        await scorecards.rating_changed(provider_id)
        row = await connection.fetchrow(_SQL + "WHERE c.id = $1", complaint_id)
    log.info("complaint_filed", complaint_id=complaint_id, provider_id=provider_id, category=data.category)
    return _read(row, show_member=False)


async def mine(principal: Principal, voucher_id: int | None = None) -> list[ComplaintRead]:
    guards.require_member(principal)
    async with engine().transaction() as transaction:
        rows = await transaction.connection.fetch(
            _SQL + "WHERE c.member = $1 AND ($2::bigint IS NULL OR c.voucher = $2) ORDER BY c.id DESC",
            principal.id,
            voucher_id,
        )
    return [_read(row, show_member=False) for row in rows]


async def inbox(principal: Principal) -> list[ComplaintRead]:
    """The provider's complaints, open ones first, oldest deadline first."""
    provider_id = guards.require_provider(principal)
    async with engine().transaction() as transaction:
        rows = await transaction.connection.fetch(
            _SQL + "WHERE c.provider = $1 ORDER BY (c.status = 'open') DESC, c.respond_by LIMIT 200", provider_id
        )
    return [_read(row, show_member=True) for row in rows]


async def count_open(provider_id: int) -> int:
    """How many of the provider's complaints wait for its answer (the portal's badge)."""
    async with engine().transaction() as transaction:
        return await transaction.connection.fetchval(
            "SELECT count(*) FROM complaint WHERE provider = $1 AND status = 'open'", provider_id
        )


async def answer(principal: Principal, complaint_id: int, text: str) -> ComplaintRead:
    """The provider's answer; late answers are kept, and the miss still counts."""
    provider_id = guards.require_provider(principal)
    text = text.strip()
    if not 2 <= len(text) <= 2000:
        raise Invalid("Write an answer of 2 to 2,000 characters.", field="text")
    async with engine().transaction() as transaction:
        connection = transaction.connection
        row = await connection.fetchrow(
            "UPDATE complaint SET status = 'answered', answer = $3, answered_at = now() "
            "WHERE id = $1 AND provider = $2 AND status = 'open' RETURNING id",
            complaint_id,
            provider_id,
            text,
        )
        if row is None:
            current = await connection.fetchval(
                "SELECT status FROM complaint WHERE id = $1 AND provider = $2", complaint_id, provider_id
            )
            if current is None:
                raise NotFound("No such complaint.", code="complaint_not_found")
            raise Conflict("This complaint is no longer open.", code="complaint_not_open", status_now=current)
        await scorecards.rating_changed(provider_id)
        row = await connection.fetchrow(_SQL + "WHERE c.id = $1", complaint_id)
        await outbox.publish(_news(topics.ComplaintAnswered, row))
    return _read(row, show_member=True)


async def in_scope(principal: Principal, status: str | None = None, limit: int = 200) -> list[ComplaintRead]:
    guards.require_operator(principal)
    async with engine().transaction() as transaction:
        rows = await transaction.connection.fetch(
            _OPERATOR_SQL + "JOIN union_node n ON n.id = p.node WHERE n.path LIKE $1 || '%' "
            "AND ($2::varchar IS NULL OR c.status = $2) ORDER BY (c.status <> 'closed') DESC, c.respond_by LIMIT $3",
            principal.node_path,
            status,
            limit,
        )
    return [_read_for_operator(row) for row in rows]


async def in_scope_by_id(principal: Principal, complaint_ids: list[int]) -> list[ComplaintRead]:
    """Those of the complaints that are in the operator's scope (a bulk action's confirmation)."""
    guards.require_operator(principal)
    async with engine().transaction() as transaction:
        rows = await transaction.connection.fetch(
            _OPERATOR_SQL
            + "JOIN union_node n ON n.id = p.node WHERE n.path LIKE $1 || '%' AND c.id = ANY($2::bigint[]) "
            "ORDER BY c.respond_by, c.id",
            principal.node_path or "-",
            list(complaint_ids),
        )
    return [_read_for_operator(row) for row in rows]


async def close(principal: Principal, complaint_id: int, resolution: str) -> ComplaintRead:
    """The operator's resolution, after mediating."""
    guards.require_operator(principal)
    resolution = resolution.strip()
    if not 2 <= len(resolution) <= 2000:
        raise Invalid("Write a resolution of 2 to 2,000 characters.", field="resolution")
    async with engine().transaction() as transaction:
        connection = transaction.connection
        row = await connection.fetchrow(
            "UPDATE complaint c SET status = 'closed', resolution = $3, closed_at = now(), closed_by = $2 "
            "FROM provider p JOIN union_node n ON n.id = p.node "
            "WHERE c.id = $1 AND p.id = c.provider AND n.path LIKE $4 || '%' AND c.status <> 'closed' "
            "RETURNING c.provider",
            complaint_id,
            principal.id,
            resolution,
            principal.node_path,
        )
        if row is None:
            raise NotFound("No open complaint with this id in your scope.", code="complaint_not_found")
        await scorecards.rating_changed(row["provider"])
        row = await connection.fetchrow(_SQL + "WHERE c.id = $1", complaint_id)
        await outbox.publish(_news(topics.ComplaintClosed, row))
    return _read(row, show_member=True)


async def count_overdue(principal: Principal) -> int:
    """Open complaints past their answer deadline, in the operator's scope (the to-do list)."""
    async with engine().transaction() as transaction:
        return await transaction.connection.fetchval(
            "SELECT count(*) FROM complaint c JOIN provider p ON p.id = c.provider JOIN union_node n ON n.id = p.node "
            "WHERE n.path LIKE $1 || '%' AND c.status = 'open' AND c.respond_by < now()",
            principal.node_path or "-",
        )


COMPLAINT_STATUSES = ("open", "answered", "closed")


async def complaint_page(
    principal: Principal,
    *,
    q: str = "",
    status: str = "",
    overdue: bool = False,
    forwarded_to_me: bool = False,
    page: int = 1,
    page_size: int = 50,
) -> tuple[list[ComplaintRead], int]:
    """One page of the complaints in the operator's scope, by provider name, status, "past its
    deadline" and "forwarded to me"; those still to settle first, the nearest deadline first."""
    guards.require_operator(principal)
    text = search_text(q)
    async with engine().transaction() as transaction:
        rows = await transaction.connection.fetch(
            _OPERATOR_SQL.replace("SELECT c.*,", "SELECT c.*, count(*) OVER () AS total,")
            + "JOIN union_node n ON n.id = p.node WHERE n.path LIKE $1 || '%' "
            "AND ($2 = '' OR c.status = $2) AND (NOT $3 OR (c.status = 'open' AND c.respond_by < now())) "
            "AND ($4 = '' OR p.name ILIKE '%' || $4 || '%') "
            "AND (NOT $7 OR (c.status <> 'closed' AND " + _MINE + ")) "
            "ORDER BY (c.status <> 'closed') DESC, c.respond_by LIMIT $5 OFFSET $6",
            principal.node_path,
            status,
            overdue,
            text,
            page_size,
            (page - 1) * page_size,
            forwarded_to_me,
            principal.id,
            principal.node_id,
        )
    return [_read_for_operator(row) for row in rows], (rows[0]["total"] if rows else 0)


# Forwarding (转交) ----------------------------------------------------------------------------------
#
# An operator hands a complaint on, with a reason: to the provider's own union (the operators
# there take it up), or to a named operator whose scope covers the provider (a colleague, or
# someone higher up). Forwarding moves the work, not the scope: whoever receives it already sees
# the complaint; it shows in their to-do list until it is closed or forwarded again. Each
# hand-over is an audit event (who, when, to whom, why), which is also the complaint's history.

FORWARD_ROLES = ("administrator", "reviewer")  # the roles that mediate complaints (quality.decide)
FORWARDED = "complaint.forwarded"
# Forwarded to this operator by name, or to their union without a name ($8: operator, $9: node).
_MINE = "(c.assigned_operator = $8 OR (c.assigned_operator IS NULL AND c.assigned_node = $9))"


async def _complaint_in_scope(connection, principal: Principal, complaint_id: int):
    row = await connection.fetchrow(
        _OPERATOR_SQL.replace(
            "SELECT c.*,",
            "SELECT c.*, pn.id AS provider_node_id, pn.path AS provider_path, pn.name_zh AS provider_node_zh, "
            "pn.name_en AS provider_node_en,",
        )
        + "JOIN union_node pn ON pn.id = p.node WHERE c.id = $1 AND pn.path LIKE $2 || '%'",
        complaint_id,
        principal.node_path or "-",
    )
    if row is None:
        raise NotFound("No complaint with this id in your scope.", code="complaint_not_found")
    return row


async def forward_targets(principal: Principal, complaint_id: int) -> dict:
    """Where the operator may forward a complaint: the provider's own union (unless it is the
    operator's own), and the operators who may mediate it (their scope covers the provider),
    themselves left out."""
    guards.require_operator(principal)
    async with engine().transaction() as transaction:
        row = await _complaint_in_scope(transaction.connection, principal, complaint_id)
    people = await operators.operators_covering(row["provider_path"], FORWARD_ROLES)
    own_union = row["provider_node_id"] == principal.node_id
    return {
        "node": None
        if own_union
        else {"id": row["provider_node_id"], "name_zh": row["provider_node_zh"], "name_en": row["provider_node_en"]},
        "operators": [person for person in people if person["id"] != principal.id],
    }


async def forward(principal: Principal, complaint_id: int, operator_id: int | None, reason: str) -> ComplaintRead:
    """Hand a complaint that is not closed to the provider's own union (`operator_id` None) or
    to a named operator who may mediate it, with a reason; audited, and on the complaint's history."""
    guards.require_operator(principal)
    reason = (reason or "").strip()
    if not 2 <= len(reason) <= 500:
        raise Invalid("Write why you forward it, in 2 to 500 characters.", field="reason")
    async with engine().transaction() as transaction:
        connection = transaction.connection
        row = await _complaint_in_scope(connection, principal, complaint_id)
        if row["status"] == "closed":
            raise Conflict("This complaint is closed; there is nothing left to forward.", code="complaint_closed")
        if operator_id is None:
            if row["provider_node_id"] == principal.node_id:
                raise Invalid("The provider belongs to your own union; choose an operator.", field="operator_id")
            node_id, to_operator = row["provider_node_id"], None
        else:
            people = await operators.operators_covering(row["provider_path"], FORWARD_ROLES)
            person = next((person for person in people if person["id"] == operator_id), None)
            if person is None:
                raise Invalid(
                    "Choose an operator who mediates complaints for this provider's union.", field="operator_id"
                )
            if operator_id == principal.id:
                raise Invalid("Choose someone other than yourself.", field="operator_id")
            node_id, to_operator = person["node"], operator_id
        if (row["assigned_node"], row["assigned_operator"]) == (node_id, to_operator):
            raise Conflict(
                "The complaint is already with them.", code="complaint_forwarded_already", field="operator_id"
            )
        await connection.execute(
            "UPDATE complaint SET assigned_node = $2, assigned_operator = $3 WHERE id = $1",
            complaint_id,
            node_id,
            to_operator,
        )
        await audit.record(
            connection,
            principal,
            FORWARDED,
            "complaint",
            complaint_id,
            reason=reason,
            details={"to_node": node_id, "to_operator": to_operator, "provider": row["provider"]},
        )
        row = await connection.fetchrow(_OPERATOR_SQL + "WHERE c.id = $1", complaint_id)
    log.info("complaint_forwarded", complaint_id=complaint_id, to_node=node_id, to_operator=to_operator)
    return _read_for_operator(row)


async def for_operator(principal: Principal, complaint_id: int) -> ComplaintRead:
    """One complaint in the operator's scope."""
    guards.require_operator(principal)
    async with engine().transaction() as transaction:
        row = await _complaint_in_scope(transaction.connection, principal, complaint_id)
    return _read_for_operator(row)


async def history(principal: Principal, complaint_id: int) -> list[dict]:
    """What happened to a complaint, oldest first: filed, answered, each forward (by whom, to
    whom, why) and closed. Times with who acted, by name; the member stays masked."""
    guards.require_operator(principal)
    async with engine().transaction() as transaction:
        connection = transaction.connection
        row = await _complaint_in_scope(connection, principal, complaint_id)
        forwards = await connection.fetch(
            "SELECT e.at, e.reason, o.display_name AS by_name, tn.name_zh AS to_node_zh, tn.name_en AS to_node_en, "
            "tp.display_name AS to_operator_name FROM audit_event e "
            "LEFT JOIN operator o ON e.actor_kind = 'operator' AND o.id = e.actor_id "
            "LEFT JOIN union_node tn ON tn.id = (e.details ->> 'to_node')::int "
            "LEFT JOIN operator tp ON tp.id = (e.details ->> 'to_operator')::int "
            "WHERE e.action = $1 AND e.subject_kind = 'complaint' AND e.subject_id = $2 ORDER BY e.at, e.id",
            FORWARDED,
            complaint_id,
        )
        closed_by = (
            await connection.fetchval("SELECT display_name FROM operator WHERE id = $1", row["closed_by"])
            if row["closed_by"]
            else None
        )
    events = [{"kind": "filed", "at": row["created_at"], "by": row["member_masked"], "text": row["text"]}]
    if row["answered_at"]:
        events.append({"kind": "answered", "at": row["answered_at"], "by": row["provider_name"], "text": row["answer"]})
    events += [
        {
            "kind": "forwarded",
            "at": event["at"],
            "by": event["by_name"],
            "text": event["reason"],
            "to_node_zh": event["to_node_zh"],
            "to_node_en": event["to_node_en"],
            "to_operator": event["to_operator_name"],
        }
        for event in forwards
    ]
    if row["closed_at"]:
        events.append({"kind": "closed", "at": row["closed_at"], "by": closed_by, "text": row["resolution"]})
    return sorted(events, key=lambda event: event["at"])


async def count_forwarded_to_me(principal: Principal) -> int:
    """Complaints not yet closed that were forwarded to this operator, or to their union without a
    name (the to-do list)."""
    async with engine().transaction() as transaction:
        return await transaction.connection.fetchval(
            "SELECT count(*) FROM complaint c WHERE c.status <> 'closed' AND (c.assigned_operator = $1 "
            "OR (c.assigned_operator IS NULL AND c.assigned_node = $2))",
            principal.id,
            principal.node_id,
        )
