"""Evaluator API keys managed from the console: an administrator (permission
`evaluators.manage`) issues, rotates and revokes the keys of the evaluator organisations
of their scope. A key is shown once, when issued; only its SHA-256 is stored
(evaluation/evaluators/services.py). Every issue, rotation and revocation is audited (the key's
public prefix, never the key)."""

from datetime import UTC, datetime

from evaluation.evaluators import services
from marketplace.core.audit import services as audit
from marketplace.core.db import engine
from marketplace.core.errors import Conflict, NotFound
from marketplace.core.federation import scope
from marketplace.core.identity import permissions
from marketplace.core.identity.principal import Principal


async def orgs_in_scope(principal: Principal) -> list[dict]:
    """The evaluator organisations of the administrator's subtree, each with its keys."""
    permissions.require(principal, "evaluators.manage")
    async with engine().transaction() as transaction:
        connection = transaction.connection
        orgs = await connection.fetch(
            "SELECT o.id, o.name, o.active, n.name_zh AS node_name_zh, n.name_en AS node_name_en "
            "FROM evaluator_org o JOIN union_node n ON n.id = o.node WHERE n.path LIKE $1 || '%' ORDER BY o.name",
            principal.node_path,
        )
        keys = await connection.fetch(
            "SELECT id, org, prefix, created_at, revoked_at, last_used_at FROM evaluator_api_key "
            "WHERE org = ANY($1::int[]) ORDER BY revoked_at IS NOT NULL, created_at DESC",
            [org["id"] for org in orgs],
        )
    by_org: dict[int, list[dict]] = {}
    for key in keys:
        by_org.setdefault(key["org"], []).append(dict(key))
    return [{**dict(org), "keys": by_org.get(org["id"], [])} for org in orgs]


async def _org_in_scope(principal: Principal, org_id: int, refusal: NotFound | None = None) -> dict:
    permissions.require(principal, "evaluators.manage")
    async with engine().transaction() as transaction:
        org = await transaction.connection.fetchrow("SELECT id, node, active FROM evaluator_org WHERE id = $1", org_id)
    await scope.require_in_scope(
        principal,
        org and org["node"],
        refusal or NotFound("No such evaluator organisation.", code="evaluator_org_not_found"),
    )
    return dict(org)


async def issue(principal: Principal, org_id: int, *, rotate: bool = False) -> dict:
    """A new key for the organisation (returned once, with its prefix); with `rotate`, its
    other keys are revoked at the same moment."""
    org = await _org_in_scope(principal, org_id)
    if not org["active"]:
        raise Conflict("This evaluator organisation is switched off.", code="evaluator_org_inactive")
    async with engine().transaction() as transaction:
        connection = transaction.connection
        revoked = []
        if rotate:
            revoked = [
                row["prefix"]
                for row in await connection.fetch(
                    "UPDATE evaluator_api_key SET revoked_at = now() WHERE org = $1 AND revoked_at IS NULL "
                    "RETURNING prefix",
                    org_id,
                )
            ]
        key = await services.create_api_key(org_id, connection=connection)
        prefix = services.key_prefix(key)
        await audit.record(
            connection,
            principal,
            "evaluator_key.rotated" if rotate else "evaluator_key.issued",
            "evaluator_org",
            org_id,
            details={"prefix": prefix, "revoked": revoked},
        )
    return {"org_id": org_id, "prefix": prefix, "key": key, "revoked": revoked}


async def revoke(principal: Principal, key_id: int) -> dict:
    async with engine().transaction() as transaction:
        row = await transaction.connection.fetchrow(
            "SELECT id, org, prefix, revoked_at FROM evaluator_api_key WHERE id = $1", key_id
        )
    # A key of an organisation outside the operator's scope is answered as a missing one.
    missing = NotFound("No such key.", code="evaluator_key_not_found")
    if row is None:
        raise missing
    await _org_in_scope(principal, row["org"], missing)
    if row["revoked_at"] is not None:
        raise Conflict("This key is revoked already.", code="evaluator_key_revoked")
    async with engine().transaction() as transaction:
        await transaction.connection.execute(
            "UPDATE evaluator_api_key SET revoked_at = $2 WHERE id = $1", key_id, datetime.now(UTC)
        )
        await audit.record(
            transaction.connection,
            principal,
            "evaluator_key.revoked",
            "evaluator_org",
            row["org"],
            details={"prefix": row["prefix"]},
        )
    return {"id": key_id, "org_id": row["org"], "prefix": row["prefix"]}
