"""The federation's staff: an administrator manages the union nodes below their own and
the operator accounts of their subtree, each with a role on top of its node scope.

- administrator: everything in the scope, including nodes and accounts;
- reviewer: provider admissions, offers, cases, complaints and reveals of personal data;
- finance: settlements, payouts, points and campaigns (each money change approved by a second operator);
- analyst: reading (scorecards, reports); no reveals.

Which role may call which route: marketplace/core/identity/permissions.py.

Every change is audited with what it was before and after.
"""

import re
from datetime import UTC, datetime

from asyncpg.exceptions import UniqueViolationError

from marketplace.core.audit import services as audit
from marketplace.core.db import engine
from marketplace.core.errors import Conflict, Invalid, NotFound
from marketplace.core.federation import scope, services as federation
from marketplace.core.identity import guards
from marketplace.core.identity.password_rules import check_operator_password
from marketplace.core.identity.passwords import hash_password
from marketplace.core.identity.principal import Principal

ROLES = ("administrator", "reviewer", "finance", "analyst")
USERNAME = re.compile(r"^[A-Za-z0-9_.-]{3,64}$")


def _administrator(principal: Principal) -> None:
    guards.require_administrator(principal)


async def username_of(operator_id: int) -> str:
    async with engine().transaction() as transaction:
        return await transaction.connection.fetchval("SELECT username FROM operator WHERE id = $1", operator_id) or ""


async def node_path_of(operator_id: int) -> str | None:
    async with engine().transaction() as transaction:
        return await transaction.connection.fetchval(
            "SELECT n.path FROM operator o JOIN union_node n ON n.id = o.node WHERE o.id = $1", operator_id
        )


async def set_password(operator_id: int, password_hash: str, *, must_change: bool) -> None:
    async with engine().transaction() as transaction:
        await transaction.connection.execute(
            "UPDATE operator SET password_hash = $2, must_change_password = $3 WHERE id = $1",
            operator_id,
            password_hash,
            must_change,
        )


async def list_operators(principal: Principal) -> list[dict]:
    """The operator accounts of the administrator's subtree."""
    _administrator(principal)
    async with engine().transaction() as transaction:
        rows = await transaction.connection.fetch(
            "SELECT o.id, o.username, o.display_name, o.role, o.active, o.node, n.name_zh AS node_name_zh, "
            "n.name_en AS node_name_en, o.totp_secret_cipher IS NOT NULL AS two_factor FROM operator o "
            "JOIN union_node n ON n.id = o.node WHERE n.path LIKE $1 || '%' ORDER BY n.path, o.username",
            principal.node_path,
        )
    return [dict(row) for row in rows]


async def operators_covering(node_path: str, roles: tuple[str, ...]) -> list[dict]:
    """The active operators holding one of `roles` whose scope covers `node_path` (their node
    is that node or one above it), the nearest node first: who may take over a matter there."""
    async with engine().transaction() as transaction:
        rows = await transaction.connection.fetch(
            "SELECT o.id, o.display_name, o.role, o.node, n.name_zh AS node_name_zh, n.name_en AS node_name_en "
            "FROM operator o JOIN union_node n ON n.id = o.node "
            "WHERE o.active AND o.role = ANY($2::varchar[]) AND $1 LIKE n.path || '%' "
            "ORDER BY n.depth DESC, o.display_name, o.id",
            node_path,
            list(roles),
        )
    return [dict(row) for row in rows]


def _check_account(username: str, display_name: str, role: str, password: str) -> None:
    if not USERNAME.match(username):
        raise Invalid("A username has 3 to 64 letters, digits, dots, dashes or underscores.", field="username")
    if not 1 <= len(display_name) <= 50:
        raise Invalid("A display name has 1 to 50 characters.", field="display_name")
    if role not in ROLES:
        raise Invalid("Choose one of the roles.", field="role")
    check_operator_password(password, username)


async def create_operator(
    principal: Principal, username: str, display_name: str, node_id: int, role: str, password: str
) -> dict:
    _administrator(principal)
    username, display_name = username.strip(), display_name.strip()
    _check_account(username, display_name, role, password)
    await scope.require_in_scope(principal, node_id, field="node_id")
    return await _insert_operator(principal, username, display_name, node_id, role, password)


async def create_national_administrator(username: str, display_name: str, password: str) -> dict:
    """An administrator of the whole federation, made by whoever runs the deployment
    (`benefits create-admin`): the way in to a database that only the migrations filled,
    where no operator exists to create the others. Audited as done by the system."""
    username, display_name = username.strip(), display_name.strip()
    _check_account(username, display_name, "administrator", password)
    node = await federation.national_node()
    return await _insert_operator(None, username, display_name, node.id, "administrator", password)


async def _insert_operator(
    principal: Principal | None, username: str, display_name: str, node_id: int, role: str, password: str
) -> dict:
    async with engine().transaction() as transaction:
        connection = transaction.connection
        try:
            operator_id = await connection.fetchval(
                "INSERT INTO operator (username, display_name, node, password_hash, role, created_at) "
                "VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
                username,
                display_name,
                node_id,
                await hash_password(password),
                role,
                datetime.now(UTC),
            )
        except UniqueViolationError as error:
            raise Conflict("This username is taken.", code="username_taken", field="username") from error
        await audit.record(
            connection,
            principal,
            "operator.created",
            "operator",
            operator_id,
            details={"after": {"username": username, "node": node_id, "role": role}},
        )
    return {"id": operator_id, "username": username, "display_name": display_name, "node": node_id, "role": role}


async def change_operator(
    principal: Principal, operator_id: int, *, role: str | None = None, active: bool | None = None
) -> dict:
    """Change another account's role or switch it off; never one's own."""
    _administrator(principal)
    if operator_id == principal.id:
        raise Conflict("Ask another administrator to change your own account.", code="own_account")
    if role is not None and role not in ROLES:
        raise Invalid("Choose one of the roles.", field="role")
    async with engine().transaction() as transaction:
        connection = transaction.connection
        before = await connection.fetchrow(
            "SELECT o.role, o.active, n.path FROM operator o JOIN union_node n ON n.id = o.node "
            "WHERE o.id = $1 FOR UPDATE OF o",
            operator_id,
        )
        scope.require_covers(
            principal, before and before["path"], NotFound("No such operator in your scope.", code="operator_not_found")
        )
        after = {
            "role": role if role is not None else before["role"],
            "active": active if active is not None else before["active"],
        }
        await connection.execute(
            "UPDATE operator SET role = $2, active = $3 WHERE id = $1", operator_id, after["role"], after["active"]
        )
        if not after["active"]:
            await connection.execute(
                "DELETE FROM auth_session WHERE principal_kind = 'operator' AND principal_id = $1", str(operator_id)
            )
        await audit.record(
            connection,
            principal,
            "operator.changed",
            "operator",
            operator_id,
            details={"before": {"role": before["role"], "active": before["active"]}, "after": after},
        )
    return {"id": operator_id, **after}


async def create_node(principal: Principal, parent_id: int, level: str, code: str, name_zh: str, name_en: str) -> dict:
    """A union node below one in the administrator's scope."""
    _administrator(principal)
    await scope.require_in_scope(principal, parent_id, field="parent_id")
    code, name_zh, name_en = code.strip(), name_zh.strip(), name_en.strip()
    if not re.match(r"^[A-Za-z0-9-]{2,32}$", code):
        raise Invalid("A node code has 2 to 32 letters, digits or dashes.", field="code")
    if not 1 <= len(name_zh) <= 100:
        raise Invalid("The Chinese name has 1 to 100 characters.", field="name_zh")
    if not 1 <= len(name_en) <= 100:
        raise Invalid("The English name has 1 to 100 characters.", field="name_en")
    node = await federation.create_node(parent_id, level, code, name_zh, name_en)
    async with engine().transaction() as transaction:
        await audit.record(
            transaction.connection,
            principal,
            "node.created",
            "union_node",
            node.id,
            details={"after": {"parent": parent_id, "level": level, "code": code}},
        )
    return {"id": node.id, "path": node.path, "level": node.level, "code": node.code}
