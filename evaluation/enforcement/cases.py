"""Enforcement cases: the operators' queue, a case with its evidence, the decision (delist
or keep), the provider's one appeal and its decision, cases opened by hand. The policy
opens cases (policy.py); a decision to delist is carried out by delisting.py."""

import json
from datetime import timedelta

import structlog

from evaluation.enforcement import delisting, freeze, policy
from evaluation.schemas import CaseRead
from marketplace.core.db import engine, search_text
from marketplace.core.errors import Conflict, Invalid, NotFound
from marketplace.core.federation import scope
from marketplace.core.identity import guards
from marketplace.core.identity.principal import Principal
from providers import services as providers

log = structlog.get_logger(__name__)


_CASE_SQL = """
SELECT c.*, p.name AS provider_name, ep.version AS policy_version
FROM enforcement_case c JOIN provider p ON p.id = c.provider JOIN union_node n ON n.id = p.node
LEFT JOIN enforcement_policy ep ON ep.id = c.policy
"""


def _case(row) -> CaseRead:
    return CaseRead(
        id=row["id"],
        provider_id=row["provider"],
        provider_name=row["provider_name"],
        kind=row["kind"],
        status=row["status"],
        policy_version=row["policy_version"] if row["policy"] else 0,
        figures=json.loads(row["figures"]),
        reasons=json.loads(row["reasons"]),
        opened_at=row["opened_at"],
        decision=row["decision"],
        decided_at=row["decided_at"],
        explanation=row["explanation"],
        cancel_vouchers=row["cancel_vouchers"],
        appeal_statement=row["appeal_statement"],
        appealed_at=row["appealed_at"],
        appeal_outcome=row["appeal_outcome"],
        appeal_explanation=row["appeal_explanation"],
    )


async def case_queue(principal: Principal, status: str | None = None, limit: int = 100) -> list[CaseRead]:
    """Cases of providers in the operator's scope; open and appealed ones first."""
    policy.require_operator(principal)
    async with engine().transaction() as transaction:
        rows = await transaction.connection.fetch(
            _CASE_SQL + "WHERE n.path LIKE $1 || '%' AND ($2::varchar IS NULL OR c.status = $2) "
            "ORDER BY (c.status IN ('open', 'appealed')) DESC, c.opened_at LIMIT $3",
            principal.node_path,
            status,
            limit,
        )
    return [_case(row) for row in rows]


async def get_case(principal: Principal, case_id: int) -> CaseRead:
    """A case, for an operator in scope or for its provider's users."""
    async with engine().transaction() as transaction:
        row = await transaction.connection.fetchrow(_CASE_SQL + "WHERE c.id = $1", case_id)
        path = (
            await transaction.connection.fetchval(
                "SELECT n.path FROM provider p JOIN union_node n ON n.id = p.node WHERE p.id = $1", row["provider"]
            )
            if row
            else None
        )
    visible = row is not None and (
        (principal.kind == "operator" and scope.covers(principal, path))
        or (
            principal.kind == "provider"
            and principal.provider_id == row["provider"]
            and (row["kind"] == "delisting" or row["decision"] == "delist")
        )
    )
    if not visible:
        raise NotFound("No such case.", code="case_not_found")
    return _case(row)


async def decide(
    principal: Principal, case_id: int, decision: str, explanation: str, cancel_vouchers: bool = False
) -> CaseRead:
    """An operator's decision on an open case: delist, or keep the provider listed."""
    policy.require_operator(principal)
    case = await get_case(principal, case_id)
    async with engine().transaction() as transaction:
        connection = transaction.connection
        status = await connection.fetchval(
            "UPDATE enforcement_case SET status = CASE WHEN $2 = 'delist' THEN 'decided' ELSE 'closed' END, decision = $2, decided_by = $3, decided_at = now(), explanation = $4, "
            "cancel_vouchers = $5 WHERE id = $1 AND status = 'open' RETURNING status",
            case_id,
            decision,
            principal.id,
            explanation.strip(),
            decision == "delist" and cancel_vouchers,
        )
        if status is None:
            raise Conflict("This case is no longer open.", code="case_not_open", status_now=case.status)
        if decision == "delist":
            await delisting.delist(connection, principal, case.provider_id, case_id, explanation, cancel_vouchers)
        else:
            # Kept: a fresh deadline, or the next run would open the same case again.
            _, _, rules = await policy.policy_in_force(connection, case.provider_id)
            await connection.execute(
                "UPDATE provider_standing SET deadline = now() + $2 WHERE provider = $1 AND state <> 'good'",
                case.provider_id,
                timedelta(days=rules["improve_days"]),
            )
            await freeze.follow_case(connection, case.provider_id, case.kind, is_open=False)
            await policy.record_event(
                connection,
                case.provider_id,
                None,
                None,
                f"运营人员决定暂不下架。说明：{explanation.strip()}",
                "operator",
                principal.id,
                case_id,
            )
    log.info("enforcement_case_decided", case_id=case_id, decision=decision, operator_id=principal.id)
    return await get_case(principal, case_id)


async def appeal(principal: Principal, case_id: int, statement: str) -> CaseRead:
    """The provider's owner appeals a delisting, once per case."""
    guards.require_owner(principal)
    statement = statement.strip()
    if not 10 <= len(statement) <= 4000:
        raise Invalid("Write a statement of 10 to 4,000 characters.", field="statement")
    case = await get_case(principal, case_id)
    async with engine().transaction() as transaction:
        connection = transaction.connection
        updated = await connection.fetchval(
            "UPDATE enforcement_case SET status = 'appealed', appeal_statement = $2, appealed_at = now() "
            "WHERE id = $1 AND status = 'decided' AND decision = 'delist' AND appeal_statement IS NULL RETURNING id",
            case_id,
            statement,
        )
        if updated is None:
            raise Conflict("This case cannot be appealed (again).", code="appeal_not_open", status_now=case.status)
        await policy.record_event(
            connection,
            case.provider_id,
            None,
            None,
            "您已提交申诉，等待运营人员复核。",
            "provider",
            principal.id,
            case_id,
        )
    return await get_case(principal, case_id)


async def decide_appeal(principal: Principal, case_id: int, outcome: str, explanation: str) -> CaseRead:
    """An operator's decision on an appeal: upheld restores the provider and its offers."""
    policy.require_operator(principal)
    case = await get_case(principal, case_id)
    async with engine().transaction() as transaction:
        connection = transaction.connection
        updated = await connection.fetchval(
            "UPDATE enforcement_case SET status = 'closed', appeal_outcome = $2, appeal_decided_by = $3, "
            "appeal_decided_at = now(), appeal_explanation = $4 WHERE id = $1 AND status = 'appealed' RETURNING id",
            case_id,
            outcome,
            principal.id,
            explanation.strip(),
        )
        if updated is None:
            raise Conflict("There is no appeal waiting on this case.", code="no_appeal", status_now=case.status)
        if outcome == "upheld":
            await providers.transition(
                connection,
                case.provider_id,
                ("delisted",),
                "active",
                "operator",
                principal.id,
                f"appeal upheld, case {case_id}",
            )
            _, _, rules = await policy.policy_in_force(connection, case.provider_id)
            await connection.execute(
                "UPDATE provider_standing SET state = 'probation', since = now(), deadline = now() + $2 "
                "WHERE provider = $1",
                case.provider_id,
                timedelta(days=rules["improve_days"]),
            )
            await freeze.follow_standing(connection, case.provider_id, "probation")
            message = f"申诉成立，已恢复上架（整改观察）。说明：{explanation.strip()}"
            await policy.record_event(
                connection, case.provider_id, "delisted", "probation", message, "operator", principal.id, case_id
            )
        else:
            await policy.record_event(
                connection,
                case.provider_id,
                None,
                None,
                f"申诉未获支持，维持下架。说明：{explanation.strip()}",
                "operator",
                principal.id,
                case_id,
            )
    return await get_case(principal, case_id)


async def provider_cases(principal: Principal) -> list[CaseRead]:
    """The delisting cases of the signed-in provider (what it may read and appeal)."""
    guards.require_provider(principal)
    async with engine().transaction() as transaction:
        rows = await transaction.connection.fetch(
            _CASE_SQL + "WHERE c.provider = $1 AND (c.kind = 'delisting' OR c.decision = 'delist') "
            "ORDER BY c.opened_at DESC",
            principal.provider_id,
        )
    return [_case(row) for row in rows]


async def count_cases(principal: Principal, status: str) -> int:
    """Cases of a status (open: awaiting a decision; appealed) in the operator's scope."""
    async with engine().transaction() as transaction:
        return await transaction.connection.fetchval(
            "SELECT count(*) FROM enforcement_case c JOIN provider p ON p.id = c.provider "
            "JOIN union_node n ON n.id = p.node WHERE n.path LIKE $1 || '%' AND c.status = $2",
            principal.node_path or "-",
            status,
        )


async def open_case_by_hand(principal: Principal, provider_id: int, reason: str) -> int:
    """An operator opens a delisting case on a provider in scope (a serious complaint, a
    report from outside the ratings), with the reason in their words and the provider's
    figures as they stand; the case is then decided like any other."""
    policy.require_operator(principal)
    reason = (reason or "").strip()
    if not 10 <= len(reason) <= 2000:
        raise Invalid("Explain why in 10 to 2,000 characters.", field="reason")
    async with engine().transaction() as transaction:
        connection = transaction.connection
        path = await connection.fetchval(
            "SELECT n.path FROM provider p JOIN union_node n ON n.id = p.node WHERE p.id = $1", provider_id
        )
        scope.require_covers(
            principal, path, NotFound("No such provider in your scope.", code="provider_not_found", field="provider_id")
        )
        policy_id, _version, _rules = await policy.policy_in_force(connection, provider_id)
        figures = await policy.figures_of(connection, provider_id) or {}
        case_id = await policy.open_case(
            connection,
            provider_id,
            "delisting",
            policy_id,
            figures,
            [{"code": "manual", "text": reason, "operator_id": principal.id, "operator_name": principal.display_name}],
        )
        if case_id is None:
            raise Conflict("This provider already has an open case.", code="case_already_open", field="provider_id")
    log.info("enforcement_case_opened_by_hand", provider_id=provider_id, case_id=case_id, operator_id=principal.id)
    return case_id


async def case_page(
    principal: Principal, *, q: str = "", status: str = "", kind: str = "", page: int = 1, page_size: int = 50
) -> tuple[list[CaseRead], int]:
    """One page of the cases in the operator's scope, by provider name, status and kind;
    open and appealed ones first."""
    policy.require_operator(principal)
    text = search_text(q)
    async with engine().transaction() as transaction:
        rows = await transaction.connection.fetch(
            "SELECT * FROM ("
            + _CASE_SQL.replace("SELECT c.*,", "SELECT c.*, count(*) OVER () AS total,")
            + "WHERE n.path LIKE $1 || '%' AND ($2 = '' OR c.status = $2) AND ($3 = '' OR c.kind = $3)"
            " AND ($4 = '' OR p.name ILIKE '%' || $4 || '%')) found"
            " ORDER BY (status IN ('open', 'appealed')) DESC, opened_at LIMIT $5 OFFSET $6",
            principal.node_path,
            status,
            kind,
            text,
            page_size,
            (page - 1) * page_size,
        )
    return [_case(row) for row in rows], (rows[0]["total"] if rows else 0)


async def providers_to_pick(principal: Principal, q: str, limit: int = 10) -> list[dict]:
    """Active or suspended providers in the operator's scope whose name contains `q`."""
    policy.require_operator(principal)
    text = search_text(q)
    if not text:
        return []
    async with engine().transaction() as transaction:
        rows = await transaction.connection.fetch(
            "SELECT p.id, p.name, n.name_zh AS node_name FROM provider p JOIN union_node n ON n.id = p.node "
            "WHERE n.path LIKE $1 || '%' AND p.status IN ('active', 'suspended') AND p.name ILIKE '%' || $2 || '%' "
            "ORDER BY p.name LIMIT $3",
            principal.node_path,
            text,
            limit,
        )
    return [dict(row) for row in rows]
