"""Personal data: deliberate reveals, the audit search, a member's own data and its deletion.

- Phone and ID numbers are stored encrypted (AES-GCM, marketplace/core/pii.py) with a keyed
  hash for look-ups; everyone but the member sees them masked. An operator who needs a
  full value asks for it with a reason; the reveal and the reason go to the append-only
  audit log before the value is returned. Values never reach the logs.
- Operators search the audit log within their scope: events by principals of their
  subtree, or about members of it.
- A member downloads their data as JSON, and may ask for deletion: their name, phone and
  ID number are erased (what accounting must keep, vouchers, payments and the ledger,
  stays, tied to an anonymous member) and their sessions end. Each domain forgets the
  member in its own tables (marketplace/core/personal_data.py); this module writes none of them.
- Retention: members who left are anonymised after `RETENTION_LEFT_DAYS` (default 365);
  the audit log is kept (it is append-only, nothing deletes from it).
"""

import json
import os
from datetime import UTC, datetime, timedelta

import msgspec
import structlog

from evaluation.complaints import services as complaints
from evaluation.ratings import services as ratings
from marketplace.core import personal_data, pii
from marketplace.core.audit import services as audit
from marketplace.core.db import engine
from marketplace.core.errors import Forbidden, Invalid, NotFound
from marketplace.core.federation import services as federation
from marketplace.core.identity import guards
from marketplace.core.identity.principal import Principal
from marketplace.draws import services as draws
from marketplace.favourites import services as favourites
from marketplace.points import services as points
from marketplace.vouchers import services as vouchers

log = structlog.get_logger(__name__)

REVEALABLE = {"phone": "phone_cipher", "id_number": "id_number_cipher"}

# marketplace/payments owns this table and should say so itself; it is being changed
# elsewhere at the moment, so its declaration waits here.
personal_data.keeps("payment", why="accounting: the charge and its refund stay, tied to the anonymous member")


async def member_card(principal: Principal, member_id: int) -> dict:
    """A member as an operator sees them: masked, with the reveals of their data so far."""
    guards.require_operator(principal)
    async with engine().transaction() as transaction:
        connection = transaction.connection
        row = await federation.member_in_scope(connection, principal, member_id)
        reveals = await connection.fetch(
            "SELECT at, actor_kind, actor_id, reason, details FROM audit_event "
            "WHERE action = 'member.reveal' AND subject_kind = 'member' AND subject_id = $1 ORDER BY id DESC LIMIT 20",
            member_id,
        )
    return {
        "id": row["id"],
        "name": pii.mask_name(row["name"]),
        "phone": row["phone_masked"],
        "id_number": "*" * 14 + "****",
        "node_id": row["node"],
        "node_name_zh": row["node_name_zh"],
        "node_name_en": row["node_name_en"],
        "groups": list(row["groups"]),
        "status": row["status"],
        "joined_at": row["joined_at"],
        "anonymised": row["anonymised_at"] is not None,
        "reveals": [{**dict(reveal), "details": json.loads(reveal["details"])} for reveal in reveals],
    }


async def reveal(principal: Principal, member_id: int, field: str, reason: str) -> str:
    """The full phone or ID number of a member in scope, for a stated reason (audited);
    analysts, who only read figures, never see one."""
    guards.require_operator(principal)
    if principal.role == "analyst":
        raise Forbidden("Analysts do not see members' personal data.", code="role_required")
    if field not in REVEALABLE:
        raise Invalid("Choose the phone number or the ID number.", field="field")
    reason = (reason or "").strip()
    if not 5 <= len(reason) <= 500:
        raise Invalid("Give the reason for seeing this in 5 to 500 characters.", field="reason")
    async with engine().transaction() as transaction:
        connection = transaction.connection
        row = await federation.member_in_scope(connection, principal, member_id)
        if row["anonymised_at"] is not None:
            raise NotFound("This member's personal data were erased.", code="anonymised")
        # The audit event commits with the reveal, or neither happens.
        await audit.record(
            connection,
            principal,
            "member.reveal",
            "member",
            member_id,
            reason,
            {"field": field, "member_node_path": row["path"]},
        )
    log.info("member_data_revealed", member_id=member_id, field=field, operator_id=principal.id)
    return pii.decrypt(bytes(row[REVEALABLE[field]]))


async def search_audit(
    principal: Principal,
    *,
    action: str | None = None,
    actor_kind: str | None = None,
    subject_kind: str | None = None,
    subject_id: int | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = 100,
    actor_id: int | None = None,
    offset: int = 0,
) -> list[dict]:
    """Audit events in the operator's scope: by principals of their subtree, or about
    members of it; newest first."""
    guards.require_operator(principal)
    if not 1 <= limit <= 500:
        raise Invalid("Ask for 1 to 500 rows at a time.", field="limit")
    async with engine().transaction() as transaction:
        rows = await transaction.connection.fetch(
            "SELECT id, at, actor_kind, actor_id, action, subject_kind, subject_id, reason, details, node_path "
            "FROM audit_event WHERE (node_path LIKE $1 || '%' OR details->>'member_node_path' LIKE $1 || '%') "
            "AND ($2::varchar IS NULL OR action = $2) AND ($3::varchar IS NULL OR actor_kind = $3) "
            "AND ($4::varchar IS NULL OR subject_kind = $4) AND ($5::bigint IS NULL OR subject_id = $5) "
            "AND ($6::timestamptz IS NULL OR at >= $6) AND ($7::timestamptz IS NULL OR at < $7) "
            "AND ($9::bigint IS NULL OR actor_id = $9) "
            "AND ($10::varchar IS NULL OR action LIKE $10 || '%') "
            "ORDER BY id DESC LIMIT $8 OFFSET $11",
            principal.node_path,
            None if action and action.endswith(".") else action,
            actor_kind,
            subject_kind,
            subject_id,
            since,
            until,
            limit,
            actor_id,
            action if action and action.endswith(".") else None,
            offset,
        )
    return [{**dict(row), "details": json.loads(row["details"])} for row in rows]


async def my_data(principal: Principal, *, action: str = "member.data_export") -> dict:
    """Everything the platform keeps about the signed-in member, in full (it is theirs).
    The JSON download records `member.data_export`; the 我的数据 page, `member.data_view`."""
    guards.require_member(principal)
    async with engine().transaction() as transaction:
        connection = transaction.connection
        member = await connection.fetchrow(
            "SELECT m.*, n.name_zh AS node_name FROM member m JOIN union_node n ON n.id = m.node WHERE m.id = $1",
            principal.id,
        )
        messages = await connection.fetchval("SELECT count(*) FROM notification WHERE member = $1", principal.id)
        await audit.record(connection, principal, action, "member", principal.id)
    preferences = json.loads(member["preferences"] or "{}")
    return msgspec.to_builtins(
        {
            "member": {
                "id": member["id"],
                "name": member["name"],
                "gender": member["gender"],
                "birth_year": member["birth_year"],
                "phone": pii.decrypt(bytes(member["phone_cipher"])),
                "id_number": pii.decrypt(bytes(member["id_number_cipher"])),
                "union": member["node_name"],
                "groups": list(member["groups"]),
                "status": member["status"],
                "joined_at": member["joined_at"],
                "preferences": preferences,
            },
            "consents": {"evaluator_contact": bool(preferences.get("evaluator_contact", False))},
            "vouchers": await vouchers.my_vouchers(principal, limit=None),
            "points": await points.my_points(principal, limit=None),
            "ratings": await ratings.my_ratings(principal),
            "complaints": await complaints.mine(principal),
            "favourites": await favourites.for_data_export(principal),
            "draws": await draws.for_data_export(principal),
            "messages": messages,
            "exported_at": datetime.now(UTC),
        }
    )


async def delete_me(principal: Principal, confirmation: str) -> None:
    """The member's own request to be forgotten: anonymised at once."""
    guards.require_member(principal)
    if confirmation != "删除":
        raise Invalid("Type 删除 to confirm.", field="confirmation")
    async with engine().transaction() as transaction:
        connection = transaction.connection
        await personal_data.forget_member(connection, principal.id)
        await audit.record(connection, principal, "member.deleted", "member", principal.id)
    log.info("member_anonymised", member_id=principal.id, cause="own_request")


async def anonymise_left_members(now: datetime | None = None) -> int:
    """Retention: members who left more than RETENTION_LEFT_DAYS ago are anonymised."""
    days = int(os.environ.get("RETENTION_LEFT_DAYS", "365"))
    cutoff = (now or datetime.now(UTC)) - timedelta(days=days)
    async with engine().transaction() as transaction:
        connection = transaction.connection
        rows = await connection.fetch(
            "SELECT id FROM member WHERE status = 'left' AND anonymised_at IS NULL AND left_at < $1 "
            "ORDER BY id LIMIT 10000 FOR UPDATE SKIP LOCKED",
            cutoff,
        )
        for row in rows:
            await personal_data.forget_member(connection, row["id"])
            await audit.record(
                connection, None, "member.anonymised", "member", row["id"], "retention", {"retention_days": days}
            )
    return len(rows)


async def audit_people(principal: Principal) -> list[dict]:
    """The operators of the operator's subtree, for the audit log's "who" menu."""
    guards.require_operator(principal)
    async with engine().transaction() as transaction:
        rows = await transaction.connection.fetch(
            "SELECT o.id, o.display_name, o.role FROM operator o JOIN union_node n ON n.id = o.node "
            "WHERE n.path LIKE $1 || '%' ORDER BY o.display_name",
            principal.node_path,
        )
    return [dict(row) for row in rows]


async def audit_names(events: list[dict]) -> dict:
    """Who the events' actors and members are, for the log in words: operators and provider
    users by (kind, id) with name and role, members by id with their masked name."""
    operators = sorted({e["actor_id"] for e in events if e["actor_kind"] == "operator" and e["actor_id"]})
    users = sorted({e["actor_id"] for e in events if e["actor_kind"] == "provider" and e["actor_id"]})
    members = sorted(
        {e["subject_id"] for e in events if e["subject_kind"] == "member" and e["subject_id"]}
        | {e["actor_id"] for e in events if e["actor_kind"] == "member" and e["actor_id"]}
    )
    nodes = sorted(
        {
            value
            for e in events
            for side in ("before", "after")
            for key, value in ((e["details"].get(side) or {}).items())
            if key == "node" and value
        }
    )
    names: dict = {"operator": {}, "provider": {}, "member": {}, "node": {}}
    async with engine().transaction() as transaction:
        connection = transaction.connection
        for row in await connection.fetch(
            "SELECT id, display_name, role FROM operator WHERE id = ANY($1::int[])", operators
        ):
            names["operator"][row["id"]] = {"name": row["display_name"], "role": row["role"]}
        for row in await connection.fetch(
            "SELECT u.id, u.display_name, u.role, p.name AS provider_name FROM provider_user u "
            "JOIN provider p ON p.id = u.provider WHERE u.id = ANY($1::int[])",
            users,
        ):
            names["provider"][row["id"]] = {
                "name": row["display_name"],
                "role": row["role"],
                "provider_name": row["provider_name"],
            }
        for row in await connection.fetch("SELECT id, name FROM member WHERE id = ANY($1::bigint[])", members):
            names["member"][row["id"]] = pii.mask_name(row["name"])
        for row in await connection.fetch(
            "SELECT id, name_zh, name_en FROM union_node WHERE id = ANY($1::int[])", nodes
        ):
            names["node"][row["id"]] = dict(row)
    return names
