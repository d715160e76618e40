"""The audit log: an append-only record of who did what, and who read whose personal data.

`record` writes one event on the caller's connection, inside the caller's transaction, so
an event exists exactly when the action it records happened (an export whose transaction
rolls back leaves no event, and an event that cannot be written stops the export).

Details hold counts and ids, never names, phones or ID numbers: the log itself must not
become a copy of the personal data it protects.
"""

import json
from datetime import datetime

from marketplace.core import personal_data
from marketplace.core.identity.principal import Principal

personal_data.keeps("audit_event", why="append-only by design; it names members by id, never by their data")

ACTION_MAX = 64


async def record(
    connection,
    principal: Principal | None,
    action: str,
    subject_kind: str,
    subject_id: int | None,
    reason: str | None = None,
    details: dict | None = None,
    *,
    at: datetime | None = None,
) -> int:
    """Append one event by `principal` (None: the system itself); returns its id."""
    if not action or len(action) > ACTION_MAX:
        raise ValueError("an audit action is a short name such as 'evaluator.sample_export'")
    return await connection.fetchval(
        "INSERT INTO audit_event (at, actor_kind, actor_id, action, subject_kind, subject_id, reason, details, "
        "node_path) VALUES (coalesce($1, now()), $2, $3, $4, $5, $6, $7, $8::jsonb, $9) RETURNING id",
        at,
        principal.kind if principal else "system",
        principal.id if principal else None,
        action,
        subject_kind,
        subject_id,
        reason,
        json.dumps(details or {}, ensure_ascii=False),
        principal.node_path if principal else None,
    )


async def events(
    connection,
    *,
    action: str | None = None,
    subject_kind: str | None = None,
    subject_id: int | None = None,
    limit: int = 100,
) -> list[dict]:
    """The newest events, optionally of one action or subject (for reviews and tests)."""
    where, args = [], []
    for column, value in (("action", action), ("subject_kind", subject_kind), ("subject_id", subject_id)):
        if value is not None:
            args.append(value)
            where.append(f"{column} = ${len(args)}")
    rows = await connection.fetch(
        "SELECT id, at, actor_kind, actor_id, action, subject_kind, subject_id, reason, details, node_path "
        "FROM audit_event"
        + (" WHERE " + " AND ".join(where) if where else "")
        + f" ORDER BY id DESC LIMIT {int(limit)}",
        *args,
    )
    return [{**dict(row), "details": json.loads(row["details"])} for row in rows]
