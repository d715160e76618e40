"""Four eyes on money: a change one operator proposes and a second operator approves.

A domain registers each kind of change it wants approved (`register(kind, permission,
apply)`) and proposes it in its own transaction (`propose`). Another operator whose
scope covers the change's node and whose role holds the kind's permission approves it
(the change is applied by the domain's `apply`, in the same transaction as the decision)
or rejects it; the proposer can do neither (a 409, and a database check besides). Each
proposal and decision is in the audit log with the before and after of the change.

Kinds in use: `payout_account` and `statement_close` (providers/settlements/services.py), `points_adjustment` and
`points_grant` (marketplace/points/services.py).
"""

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from asyncpg.exceptions import UniqueViolationError

from marketplace.core.audit import services as audit
from marketplace.core.db import engine
from marketplace.core.errors import Conflict, NotFound
from marketplace.core.federation import scope
from marketplace.core.identity import guards, permissions
from marketplace.core.identity.principal import Principal

# apply(connection, approver, approval row as a dict) → what changed ({"before": ..., "after": ...})
Apply = Callable[[object, Principal, dict], Awaitable[dict]]


@dataclass(frozen=True)
class Kind:
    permission: str
    apply: Apply
    on_reject: Callable[[object, int], Awaitable[None]] | None = None


_kinds: dict[str, Kind] = {}


def register(
    kind: str, permission: str, apply: Apply, *, on_reject: Callable[[object, int], Awaitable[None]] | None = None
) -> None:
    """`apply` makes an approved change; `on_reject(connection, subject_id)` tidies a rejected one."""
    assert permission in permissions.PERMISSIONS
    _kinds[kind] = Kind(permission, apply, on_reject)


async def propose(
    connection,
    principal: Principal,
    kind: str,
    subject_id: int,
    node_id: int,
    payload: dict,
) -> dict:
    """Record a proposed change on the caller's connection (inside their transaction); the
    pending approval as a dict."""
    guards.require_operator(principal)
    permissions.require(principal, _kinds[kind].permission)
    try:
        async with connection.transaction():
            row = await connection.fetchrow(
                "INSERT INTO approval_request (kind, subject_id, node, payload, proposed_by) "
                "VALUES ($1, $2, $3, $4::jsonb, $5) RETURNING *",
                kind,
                subject_id,
                node_id,
                json.dumps(payload, ensure_ascii=False),
                principal.id,
            )
    except UniqueViolationError:
        raise Conflict("A change of this kind is waiting for approval already.", code="approval_pending") from None
    await audit.record(
        connection,
        principal,
        f"{kind}.proposed",
        "approval_request",
        row["id"],
        details={"subject_id": subject_id, **payload},
    )
    return _read(row)


def _read(row) -> dict:
    out = dict(row)
    if isinstance(out.get("payload"), str):
        out["payload"] = json.loads(out["payload"])
    return out


_LIST_SQL = """
SELECT a.*, p.display_name AS proposed_by_name, d.display_name AS decided_by_name, n.name_zh AS node_name_zh,
       n.name_en AS node_name_en
FROM approval_request a JOIN union_node n ON n.id = a.node JOIN operator p ON p.id = a.proposed_by
LEFT JOIN operator d ON d.id = a.decided_by
"""


async def pending(kind: str, subject_id: int, connection=None) -> dict | None:
    """The change of `kind` to `subject_id` waiting for a second operator, if any: its id, its
    proposer and the value it would set (`after`); on the caller's connection when given."""
    sql = (
        "SELECT id, payload->>'after' AS after, proposed_by FROM approval_request "
        "WHERE kind = $1 AND subject_id = $2 AND status = 'pending'"
    )
    if connection is None:
        async with engine().transaction() as transaction:
            row = await transaction.connection.fetchrow(sql, kind, subject_id)
    else:
        row = await connection.fetchrow(sql, kind, subject_id)
    return dict(row) if row else None


async def in_scope(principal: Principal, status: str | None = "pending", limit: int = 100) -> list[dict]:
    """Approvals of the operator's subtree, newest first (pending ones by default)."""
    guards.require_operator(principal)
    async with engine().transaction() as transaction:
        rows = await transaction.connection.fetch(
            _LIST_SQL + "WHERE n.path LIKE $1 || '%' AND ($2::varchar IS NULL OR a.status = $2) "
            "ORDER BY a.id DESC LIMIT $3",
            principal.node_path,
            status,
            limit,
        )
    return [_read(row) for row in rows]


async def waiting_for(principal: Principal) -> int:
    """How many changes of the operator's subtree wait for a second operator who may decide
    them: proposals of others, and only for a role that approves (the console's to-do list)."""
    if principal is None or principal.kind != "operator" or not permissions.holds(principal, "approvals.decide"):
        return 0
    async with engine().transaction() as transaction:
        return await transaction.connection.fetchval(
            "SELECT count(*) FROM approval_request a JOIN union_node n ON n.id = a.node "
            "WHERE a.status = 'pending' AND n.path LIKE $1 || '%' AND a.proposed_by <> $2",
            principal.node_path,
            principal.id,
        )


async def get(principal: Principal, approval_id: int) -> dict:
    guards.require_operator(principal)
    async with engine().transaction() as transaction:
        row = await transaction.connection.fetchrow(
            _LIST_SQL + "WHERE a.id = $1 AND n.path LIKE $2 || '%'", approval_id, principal.node_path
        )
    if row is None:
        raise NotFound("No such approval in your scope.", code="approval_not_found")
    return _read(row)


async def decide(principal: Principal, approval_id: int, approve: bool, note: str | None = None) -> dict:
    """Approve (and apply) or reject a pending change, as a second operator."""
    guards.require_operator(principal)
    note = (note or "").strip()[:500] or None
    async with engine().transaction() as transaction:
        connection = transaction.connection
        row = await connection.fetchrow(
            "SELECT a.*, n.path FROM approval_request a JOIN union_node n ON n.id = a.node "
            "WHERE a.id = $1 FOR UPDATE OF a",
            approval_id,
        )
        scope.require_covers(
            principal, row and row["path"], NotFound("No such approval in your scope.", code="approval_not_found")
        )
        kind = _kinds.get(row["kind"])
        if kind is None:
            raise Conflict("This kind of change can no longer be approved here.", code="approval_unknown_kind")
        permissions.require(principal, kind.permission)
        if row["status"] != "pending":
            raise Conflict("This change was decided already.", code="approval_decided", status_now=row["status"])
        if row["proposed_by"] == principal.id:
            raise Conflict("You proposed this change; another operator has to approve it.", code="own_proposal")
        request = _read(row)
        changed = await kind.apply(connection, principal, request) if approve else {}
        if not approve and kind.on_reject is not None:
            await kind.on_reject(connection, row["subject_id"])
        await connection.execute(
            "UPDATE approval_request SET status = $2, decided_by = $3, decided_at = now(), note = $4 WHERE id = $1",
            approval_id,
            "approved" if approve else "rejected",
            principal.id,
            note,
        )
        await audit.record(
            connection,
            principal,
            f"{row['kind']}.{'approved' if approve else 'rejected'}",
            "approval_request",
            approval_id,
            reason=note,
            details={
                "subject_id": row["subject_id"],
                "proposed_by": row["proposed_by"],
                **request["payload"],
                **changed,
            },
        )
    return await get(principal, approval_id)
