"""Settlements: what the union owes each provider for a calendar month, and paying it.

A statement covers one provider and one month of Asia/Shanghai's calendar. It lists the
vouchers redeemed in that month, each with the union's subsidy owed to the provider and
the member's share collected online on the provider's behalf; the provider is owed both
(`total_fen = subsidy_fen + paid_fen`). All money is integer fen of CNY.

    draft ──approve──▶ approved ──pay──▶ paid
      └──close (two operators)──▶ closed    (nothing to pay: total zero or less)

- `draft` takes the lines from its caller (drafting.py reads them from the redeemed
  vouchers and drafts through here). One
  statement per provider and month (a unique key); re-drafting a draft recomputes it,
  re-drafting an approved or paid one keeps it as it is. Lines are copies, so a statement
  never changes once approved.
- `approve`: an operator whose scope covers the provider (permission
  `settlements.manage`); optionally only the revision they looked at. Approving fixes the
  payout account the statement will be paid to: the provider's account at that moment.
- `pay`: another operator in scope (permission `settlements.pay`; never the one who
  approved) pays an approved statement through a `PayoutGateway` (providers/settlements/payouts.py)
  to the account fixed at approval; the gateway's reference is kept.
- A provider's payout account changes only through four eyes: one operator proposes it
  (`set_payout_account`), another approves it (marketplace/core/identity/approvals.py); the
  audit log keeps the account before and after.
- Corrections can take a draft's total to zero or below. Such a statement is never
  approved nor paid: one operator proposes closing it as "nothing to pay" (`propose_close`),
  another approves (marketplace/core/identity/approvals.py). A negative total is what the
  provider still owes back: closing carries it to the provider's next statement as one
  correction (reason `balance_carried`), shown on both, so it is never lost.
Anything else is a 409 naming the status the statement is in.
"""

import io
from collections.abc import Sequence
from datetime import UTC, datetime

from asyncpg.exceptions import UniqueViolationError

from marketplace.core import csvfiles, dates
from marketplace.core.audit import services as audit
from marketplace.core.db import engine, search_text
from marketplace.core.errors import Conflict, Invalid, NotFound
from marketplace.core.federation import scope
from marketplace.core.identity import approvals, guards, permissions
from marketplace.core.identity.principal import Principal
from providers.schemas import (
    AdjustmentRead,
    StatementLineInput,
    StatementLineRead,
    StatementPage,
    StatementRead,
    StatementSummary,
)
from providers.settlements.payouts import ACCOUNT_PATTERN, PayoutGateway, PayoutOrder

CURRENCY = "CNY"


# Periods -------------------------------------------------------------------------------------------


def period_bounds(period: str) -> tuple[datetime, datetime]:
    """ "2026-11" → its first instant and the first instant of the next month, in Shanghai."""
    try:
        year, month = (int(part) for part in period.split("-"))
        if len(period) != 7 or not 1 <= month <= 12 or year < 2000:
            raise ValueError
    except ValueError:
        raise Invalid("Choose a month, written as YYYY-MM, such as 2026-11.", field="period") from None
    start = datetime(year, month, 1, tzinfo=dates.zone())
    end = datetime(year + month // 12, month % 12 + 1, 1, tzinfo=dates.zone())
    return start, end


def period_of(moment: datetime) -> str:
    """The month (in Shanghai) that holds `moment`."""
    return moment.astimezone(dates.zone()).strftime("%Y-%m")


def previous_period(now: datetime | None = None) -> str:
    """The last month that is over: the one the monthly job settles."""
    local = (now or datetime.now(UTC)).astimezone(dates.zone())
    return f"{local.year - 1}-12" if local.month == 1 else f"{local.year}-{local.month - 1:02d}"


def check_period_over(period: str, now: datetime | None = None) -> tuple[datetime, datetime]:
    """The period's bounds if it is over; a month still running cannot be settled (vouchers
    redeemed after its statement was approved would never be paid)."""
    start, end = period_bounds(period)
    if end > (now or datetime.now(UTC)):
        raise Invalid(
            "This month is not over yet; a month is settled once it has ended.",
            code="period_open",
            field="period",
            period=period,
        )
    return start, end


# Drafting -------------------------------------------------------------------------------------------


def _check_lines(lines: Sequence[StatementLineInput], start: datetime, end: datetime) -> None:
    seen = set()
    for line in lines:
        if not start <= line.redeemed_at < end:
            raise Invalid(
                "Voucher %(voucher)s was not redeemed in this period.",
                params={"voucher": line.voucher_id},
                field="lines",
            )
        if line.subsidy_fen < 0 or line.paid_fen < 0:
            raise Invalid(
                "Voucher %(voucher)s has a negative amount.", params={"voucher": line.voucher_id}, field="lines"
            )
        if (line.voucher_id, line.escrow_entry) in seen:
            raise Invalid("Voucher %(voucher)s is listed twice.", params={"voucher": line.voucher_id}, field="lines")
        seen.add((line.voucher_id, line.escrow_entry))


async def draft(
    provider_id: int, period: str, lines: Sequence[StatementLineInput], *, now: datetime | None = None
) -> tuple[str, int]:
    """Draft (or recompute the draft of) the provider's statement for `period` from `lines`.

    Returns (outcome, statement id); outcome is "created", "recomputed", "unchanged" (a draft
    that already says this; its revision stays) or "kept" (approved or paid: left alone).
    Safe to repeat: one statement per provider and period, whatever runs at the same time."""
    start, end = check_period_over(period, now)
    _check_lines(lines, start, end)
    async with engine().transaction() as transaction:
        connection = transaction.connection
        if not await connection.fetchval("SELECT EXISTS (SELECT 1 FROM provider WHERE id = $1)", provider_id):
            raise NotFound("No such provider.", code="provider_not_found")
        statement_id = await connection.fetchval(
            "INSERT INTO settlement_statement (provider, period, period_start, period_end) VALUES ($1, $2, $3, $4) "
            "ON CONFLICT (provider, period) DO NOTHING RETURNING id",
            provider_id,
            period,
            start,
            end,
        )
        outcome = "created"
        if statement_id is None:
            # It exists: the row lock orders this draft after an approval running now, or before it.
            row = await connection.fetchrow(
                "SELECT id, status FROM settlement_statement WHERE provider = $1 AND period = $2 FOR UPDATE",
                provider_id,
                period,
            )
            statement_id = row["id"]
            if row["status"] != "draft":
                return "kept", statement_id
            stored = await connection.fetch(
                "SELECT voucher_id, voucher_code, offer_id, offer_title_zh, offer_title_en, redeemed_at, subsidy_fen, "
                "paid_fen, escrow_entry FROM settlement_line WHERE statement = $1",
                statement_id,
            )
            if {tuple(record.values()) for record in stored} == {_values(line) for line in lines}:
                if not await _carry(connection, statement_id, provider_id, period):
                    return "unchanged", statement_id
                await connection.execute(
                    "UPDATE settlement_statement SET revision = revision + 1, drafted_at = now() WHERE id = $1",
                    statement_id,
                )
                return "recomputed", statement_id
            await connection.execute("DELETE FROM settlement_line WHERE statement = $1", statement_id)
            outcome = "recomputed"
        if lines:
            columns = [list(column) for column in zip(*map(_values, lines), strict=True)]
            try:
                await connection.execute(
                    "INSERT INTO settlement_line (statement, voucher_id, voucher_code, offer_id, offer_title_zh, "
                    "offer_title_en, redeemed_at, subsidy_fen, paid_fen, escrow_entry) SELECT $1, * FROM unnest("
                    "$2::bigint[], $3::varchar[], $4::int[], $5::varchar[], $6::varchar[], $7::timestamptz[], "
                    "$8::int[], $9::int[], $10::bigint[])",
                    statement_id,
                    *columns,
                )
            except UniqueViolationError as error:
                raise Conflict(
                    "A voucher of these lines is already on another statement.", code="voucher_already_settled"
                ) from error
        await _carry(connection, statement_id, provider_id, period)
        await connection.execute(
            "UPDATE settlement_statement SET revision = revision + (CASE WHEN $2 THEN 1 ELSE 0 END), "
            "drafted_at = now() WHERE id = $1",
            statement_id,
            outcome == "recomputed",
        )
    return outcome, statement_id


async def _carry(connection, statement_id: int, provider_id: int, period: str) -> int:
    """Carry the provider's open corrections of earlier months onto this draft and total it
    again: subsidy + member payments + corrections. Returns how many were carried."""
    carried = await connection.fetch(
        "UPDATE settlement_adjustment SET statement = $1 WHERE provider = $2 AND statement IS NULL "
        "AND settled_period < $3 RETURNING id",
        statement_id,
        provider_id,
        period,
    )
    await connection.execute(
        "UPDATE settlement_statement s SET voucher_count = l.n, subsidy_fen = l.subsidy, paid_fen = l.paid, "
        "adjustment_fen = a.amount, total_fen = l.subsidy + l.paid + a.amount "
        "FROM (SELECT count(*) AS n, coalesce(sum(subsidy_fen), 0) AS subsidy, coalesce(sum(paid_fen), 0) AS paid "
        "      FROM settlement_line WHERE statement = $1) l, "
        "     (SELECT coalesce(sum(amount_fen), 0) AS amount FROM settlement_adjustment WHERE statement = $1) a "
        "WHERE s.id = $1",
        statement_id,
    )
    return len(carried)


async def correct_settled(connection, voucher_id: int, kept_paid_fen: int, reason: str) -> str:
    """The member's share the provider keeps of a voucher changed (`kept_paid_fen`, after a
    refund or a dispute lost), in the caller's transaction. A draft holding the voucher is
    corrected in place (its revision moves, so an operator who saw the old one approves
    again); an approved or paid statement is never rewritten: the difference becomes a
    correction carried to the provider's next statement (at once when that is a draft
    already). A voucher on no statement yet needs nothing: its statement reads it when
    drafted. Safe to repeat (the correction is what is still missing); the caller's lock on
    the payment orders two corrections of one voucher. Returns what was done."""
    line = await connection.fetchrow(
        "SELECT l.id, l.paid_fen, l.voucher_code, l.offer_title_zh, l.offer_title_en, s.id AS statement, "
        "s.provider, s.period, s.status FROM settlement_line l JOIN settlement_statement s ON s.id = l.statement "
        "WHERE l.voucher_id = $1 FOR UPDATE OF s",
        voucher_id,
    )
    if line is None:
        return "not_settled"
    if line["status"] == "draft":
        if line["paid_fen"] == kept_paid_fen:
            return "unchanged"
        await connection.execute("UPDATE settlement_line SET paid_fen = $2 WHERE id = $1", line["id"], kept_paid_fen)
        await _carry(connection, line["statement"], line["provider"], line["period"])
        await connection.execute(
            "UPDATE settlement_statement SET revision = revision + 1 WHERE id = $1", line["statement"]
        )
        return "draft_corrected"
    corrected = await connection.fetchval(
        "SELECT coalesce(sum(amount_fen), 0) FROM settlement_adjustment WHERE voucher_id = $1", voucher_id
    )
    amount = kept_paid_fen - (line["paid_fen"] + corrected)
    if amount == 0:
        return "unchanged"
    await connection.execute(
        "INSERT INTO settlement_adjustment (provider, voucher_id, voucher_code, offer_title_zh, offer_title_en, "
        "settled_statement, settled_period, reason, amount_fen, occurred_at) "
        "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, now())",
        line["provider"],
        voucher_id,
        line["voucher_code"],
        line["offer_title_zh"],
        line["offer_title_en"],
        line["statement"],
        line["period"],
        reason,
        amount,
    )
    await _carry_to_next_draft(connection, line["provider"], line["period"])
    return "carried"


async def _carry_to_next_draft(connection, provider_id: int, period: str) -> None:
    """Open corrections go onto the provider's next draft after `period` when there is one
    (its revision moves, so whoever saw it before looks again); otherwise the next drafting
    carries them."""
    next_draft = await connection.fetchrow(
        "SELECT id, period FROM settlement_statement WHERE provider = $1 AND status = 'draft' AND period > $2 "
        "ORDER BY period LIMIT 1 FOR UPDATE",
        provider_id,
        period,
    )
    if next_draft is not None:
        await _carry(connection, next_draft["id"], provider_id, next_draft["period"])
        await connection.execute(
            "UPDATE settlement_statement SET revision = revision + 1 WHERE id = $1", next_draft["id"]
        )


async def providers_with_open_corrections(period: str) -> list[int]:
    """Providers with corrections waiting for a statement after their month (they get one
    for `period` even without redemptions in it)."""
    async with engine().transaction() as transaction:
        rows = await transaction.connection.fetch(
            "SELECT DISTINCT provider FROM settlement_adjustment WHERE statement IS NULL AND settled_period < $1 "
            "ORDER BY provider",
            period,
        )
    return [row["provider"] for row in rows]


def _values(line: StatementLineInput) -> tuple:
    return (
        line.voucher_id,
        line.voucher_code,
        line.offer_id,
        line.offer_title_zh[:100],
        (line.offer_title_en or "")[:100],
        line.redeemed_at,
        line.subsidy_fen,
        line.paid_fen,
        line.escrow_entry,
    )


async def drafted_providers(period: str) -> list[int]:
    """Providers whose statement for `period` is still a draft (to recompute even when their
    redemptions are gone)."""
    async with engine().transaction() as transaction:
        rows = await transaction.connection.fetch(
            "SELECT provider FROM settlement_statement WHERE period = $1 AND status = 'draft' ORDER BY provider", period
        )
    return [row["provider"] for row in rows]


async def providers_in_scope(principal: Principal, provider_ids: Sequence[int]) -> list[int]:
    """Those of `provider_ids` that serve a node in the operator's subtree."""
    guards.require_operator(principal)
    async with engine().transaction() as transaction:
        rows = await transaction.connection.fetch(
            "SELECT p.id FROM provider p JOIN union_node n ON n.id = p.node "
            "WHERE p.id = ANY($1::int[]) AND n.path LIKE $2 || '%' ORDER BY p.id",
            list(provider_ids),
            principal.node_path or "-",
        )
    return [row["id"] for row in rows]


# Reading ---------------------------------------------------------------------------------------------

_STATEMENT_SQL = """
SELECT s.*, p.name AS provider_name, p.node AS provider_node_id, p.payout_account AS provider_account
FROM settlement_statement s JOIN provider p ON p.id = s.provider
"""
_SUMMARY_FIELDS = StatementSummary.__struct_fields__


def _summary(row) -> StatementSummary:
    return StatementSummary(
        **{name: row[name] for name in _SUMMARY_FIELDS if name not in ("provider_id",)}, provider_id=row["provider"]
    )


async def _load(statement_id: int) -> StatementRead:
    async with engine().transaction() as transaction:
        connection = transaction.connection
        row = await connection.fetchrow(_STATEMENT_SQL + "WHERE s.id = $1", statement_id)
        if row is None:
            raise _no_statement()
        lines = await connection.fetch(
            "SELECT voucher_id, voucher_code, offer_id, offer_title_zh, offer_title_en, redeemed_at, subsidy_fen, "
            "paid_fen, escrow_entry FROM settlement_line WHERE statement = $1 ORDER BY redeemed_at, voucher_id, "
            "escrow_entry",
            statement_id,
        )
        # Corrections carried onto this statement, and those of its own vouchers carried onward.
        adjustments = await connection.fetch(
            _ADJUSTMENT_SQL + "WHERE a.statement = $1 OR a.settled_statement = $1 ORDER BY a.occurred_at, a.id",
            statement_id,
        )
    return StatementRead(
        id=row["id"],
        provider_id=row["provider"],
        provider_name=row["provider_name"],
        provider_node_id=row["provider_node_id"],
        period=row["period"],
        period_start=row["period_start"],
        period_end=row["period_end"],
        status=row["status"],
        revision=row["revision"],
        voucher_count=row["voucher_count"],
        subsidy_fen=row["subsidy_fen"],
        paid_fen=row["paid_fen"],
        total_fen=row["total_fen"],
        currency=row["currency"],
        drafted_at=row["drafted_at"],
        approved_at=row["approved_at"],
        approved_by=row["approved_by"],
        paid_at=row["paid_at"],
        paid_by=row["paid_by"],
        payout_account=row["payout_account"] or row["provider_account"],
        payout_reference=row["payout_reference"],
        lines=[StatementLineRead(**dict(line)) for line in lines],
        provider_account=row["provider_account"],
        adjustment_fen=row["adjustment_fen"],
        adjustments=[AdjustmentRead(**dict(a)) for a in adjustments if a["statement"] == statement_id],
        later_corrections=[AdjustmentRead(**dict(a)) for a in adjustments if a["settled_statement"] == statement_id],
    )


_ADJUSTMENT_SQL = """
SELECT a.id, a.voucher_id, a.voucher_code, a.offer_title_zh, a.offer_title_en, a.settled_statement, a.settled_period,
       a.reason, a.amount_fen, a.occurred_at, a.statement, c.period AS carried_to_period
FROM settlement_adjustment a LEFT JOIN settlement_statement c ON c.id = a.statement
"""


def _no_statement() -> NotFound:
    """The answer to a missing statement, and to one out of the caller's reach (scope.py's policy)."""
    return NotFound("No such statement.", code="statement_not_found")


async def statement_for_operator(principal: Principal, statement_id: int) -> StatementRead:
    """A statement of a provider in the operator's scope (404 outside it, as a missing one)."""
    guards.require_operator(principal)
    statement = await _load(statement_id)
    await scope.require_in_scope(principal, statement.provider_node_id, _no_statement())
    return statement


async def my_statement(principal: Principal, statement_id: int) -> StatementRead:
    """A statement of the owner's own provider (404 for anyone else's)."""
    provider_id = guards.require_owner(principal)
    statement = await _load(statement_id)
    scope.require_owned(statement.provider_id, provider_id, _no_statement())
    return statement


async def list_statements(
    principal: Principal,
    period: str | None = None,
    status: str | None = None,
    page: int = 1,
    page_size: int = 50,
    q: str = "",
) -> StatementPage:
    """Statements of the providers in the operator's scope, newest month first; `q` is part
    of the provider's name."""
    guards.require_operator(principal)
    where, args = ["n.path LIKE $1 || '%'"], [principal.node_path or "-"]
    if period:
        period_bounds(period)
        args.append(period)
        where.append(f"s.period = ${len(args)}")
    if status:
        args.append(status)
        where.append(f"s.status = ${len(args)}")
    # LIKE's own characters typed in the box are searched for as themselves.
    text = search_text(q)[:60]
    if text:
        args.append(text)
        where.append(f"p.name ILIKE '%' || ${len(args)} || '%'")
    async with engine().transaction() as transaction:
        rows = await transaction.connection.fetch(
            _STATEMENT_SQL
            + "JOIN union_node n ON n.id = p.node WHERE "
            + " AND ".join(where)
            + f" ORDER BY s.period DESC, p.name, s.id LIMIT {int(page_size)} OFFSET {int((page - 1) * page_size)}",
            *args,
        )
        total = await transaction.connection.fetchval(
            "SELECT count(*) FROM settlement_statement s JOIN provider p ON p.id = s.provider "
            "JOIN union_node n ON n.id = p.node WHERE " + " AND ".join(where),
            *args,
        )
    return StatementPage(items=[_summary(row) for row in rows], total=total, page=page, page_size=page_size)


async def periods_in_scope(principal: Principal, limit: int = 36) -> list[str]:
    """The months that have statements in the operator's scope, newest first (a filter's menu)."""
    guards.require_operator(principal)
    async with engine().transaction() as transaction:
        rows = await transaction.connection.fetch(
            "SELECT DISTINCT s.period FROM settlement_statement s JOIN provider p ON p.id = s.provider "
            "JOIN union_node n ON n.id = p.node WHERE n.path LIKE $1 || '%' ORDER BY s.period DESC LIMIT $2",
            principal.node_path or "-",
            limit,
        )
    return [row["period"] for row in rows]


async def my_statements(principal: Principal) -> list[StatementSummary]:
    """The owner's provider's statements, newest month first."""
    provider_id = guards.require_owner(principal)
    async with engine().transaction() as transaction:
        rows = await transaction.connection.fetch(
            _STATEMENT_SQL + "WHERE s.provider = $1 ORDER BY s.period DESC LIMIT 120", provider_id
        )
    return [_summary(row) for row in rows]


# Approval and payment -----------------------------------------------------------------------------------


async def _status_conflict(connection, statement_id: int, needs: str) -> Conflict:
    current = await connection.fetchval("SELECT status FROM settlement_statement WHERE id = $1", statement_id)
    return Conflict(
        "This statement is no longer in a state that allows this; reload it.",
        code="status_conflict",
        status_now=current,
        status_needed=needs,
    )


async def approve(
    principal: Principal, statement_id: int, revision: int | None = None, note: str | None = None
) -> StatementRead:
    """An operator in scope approves a draft (the revision they saw, when given); `note` is
    the operator's reason, kept in the audit log (a bulk approval gives one for all)."""
    permissions.require(principal, "settlements.manage")
    statement = await statement_for_operator(principal, statement_id)
    async with engine().transaction() as transaction:
        connection = transaction.connection
        row = await connection.fetchrow(
            "SELECT s.status, s.revision, s.total_fen, p.payout_account, s.payout_account AS approved_account "
            "FROM settlement_statement s JOIN provider p ON p.id = s.provider WHERE s.id = $1 FOR UPDATE OF s",
            statement_id,
        )
        # An approved statement is approved again only when the provider's account changed
        # since (through its own four-eyes approval): then it is paid to the new one.
        reapproval = row["status"] == "approved" and row["payout_account"] != row["approved_account"]
        if row["status"] != "draft" and not reapproval:
            raise await _status_conflict(connection, statement_id, "draft")
        if revision is not None and row["revision"] != revision:
            raise Conflict(
                "The draft was recomputed after you opened it; look at it again before approving.",
                code="statement_changed",
                revision_now=row["revision"],
            )
        if row["total_fen"] <= 0:
            # Never paid, never approved: two operators close it instead (`propose_close`).
            raise Conflict("Nothing is owed on this statement; close it as nothing to pay.", code="nothing_to_settle")
        if not row["payout_account"]:
            raise Conflict("The provider has no payout account yet; set it first.", code="no_payout_account")
        # The account approved is the account paid, whatever the provider's account is later.
        await connection.execute(
            "UPDATE settlement_statement SET status = 'approved', approved_at = now(), approved_by = $2, "
            "payout_account = $3 WHERE id = $1",
            statement_id,
            principal.id,
            row["payout_account"],
        )
        await audit.record(
            connection,
            principal,
            "settlement.approved",
            "settlement_statement",
            statement_id,
            reason=note or None,
            details={"total_fen": row["total_fen"], "payout_account": row["payout_account"]},
        )
    return await _load(statement.id)


async def pay(principal: Principal, statement_id: int, gateway: PayoutGateway) -> StatementRead:
    """An operator in scope pays an approved statement through the gateway; keeps its reference.

    The statement's row stays locked while the gateway is called, so a second click waits and
    then finds it paid (409). If the payout went through but this transaction did not commit,
    paying again sends the same idempotency key and gets the same transfer back."""
    permissions.require(principal, "settlements.pay")
    await statement_for_operator(principal, statement_id)
    async with engine().transaction() as transaction:
        connection = transaction.connection
        row = await connection.fetchrow(
            "SELECT s.status, s.total_fen, s.period, s.provider, s.payout_account, s.approved_by, "
            "p.payout_account AS provider_account FROM settlement_statement s JOIN provider p ON p.id = s.provider "
            "WHERE s.id = $1 FOR UPDATE OF s",
            statement_id,
        )
        if row["status"] != "approved":
            raise await _status_conflict(connection, statement_id, "approved")
        if row["approved_by"] == principal.id:
            raise Conflict("You approved this statement; another operator pays it.", code="own_approval")
        if not row["payout_account"]:
            raise Conflict("The provider has no payout account yet; set it first.", code="no_payout_account")
        if row["payout_account"] != row["provider_account"]:
            raise Conflict(
                "The provider's payout account changed after approval; approve the statement again.",
                code="account_changed",
            )
        reference = await gateway.pay(
            PayoutOrder(
                statement_id=statement_id,
                provider_id=row["provider"],
                period=row["period"],
                account=row["payout_account"],
                amount_fen=row["total_fen"],
                currency=CURRENCY.lower(),
            )
        )
        await connection.execute(
            "UPDATE settlement_statement SET status = 'paid', paid_at = now(), paid_by = $2, payout_account = $3, "
            "payout_reference = $4 WHERE id = $1",
            statement_id,
            principal.id,
            row["payout_account"],
            reference,
        )
        await audit.record(
            connection,
            principal,
            "settlement.paid",
            "settlement_statement",
            statement_id,
            details={
                "total_fen": row["total_fen"],
                "payout_account": row["payout_account"],
                "payout_reference": reference,
            },
        )
    return await _load(statement_id)


async def propose_close(
    principal: Principal, statement_id: int, revision: int | None = None, note: str | None = None
) -> dict:
    """An operator in scope proposes closing a draft whose total is zero or less (the
    revision they saw, when given) as "nothing to pay"; another operator approves it
    (`approvals.decide`, then `_apply_close`). The pending approval."""
    permissions.require(principal, "settlements.manage")
    statement = await statement_for_operator(principal, statement_id)
    async with engine().transaction() as transaction:
        connection = transaction.connection
        # The statement's lock orders two proposals of one statement: one waits, then finds the other.
        row = await connection.fetchrow(
            "SELECT status, revision, total_fen FROM settlement_statement WHERE id = $1 FOR UPDATE", statement_id
        )
        if row["status"] != "draft":
            raise await _status_conflict(connection, statement_id, "draft")
        if revision is not None and row["revision"] != revision:
            raise Conflict(
                "The draft was recomputed after you opened it; look at it again before approving.",
                code="statement_changed",
                revision_now=row["revision"],
            )
        if row["total_fen"] > 0:
            raise Conflict("Money is owed on this statement; approve and pay it.", code="money_owed")
        if await approvals.pending("statement_close", statement_id, connection):
            raise Conflict("Closing this statement is waiting for approval already.", code="close_pending")
        return await approvals.propose(
            connection,
            principal,
            "statement_close",
            statement_id,
            statement.provider_node_id,
            {
                "provider_name": statement.provider_name,
                "period": statement.period,
                "revision": row["revision"],
                "total_fen": row["total_fen"],
                "note": (note or "").strip()[:500] or None,
            },
        )


async def _apply_close(connection, approver: Principal, request: dict) -> dict:
    """The second operator's approval closes the statement: nothing is paid, and what it
    still owes back (a negative total) becomes a correction carried to the provider's next
    statement (at once when that is a draft already), shown on both."""
    statement_id, proposed = request["subject_id"], request["payload"]
    row = await connection.fetchrow(
        "SELECT provider, period, status, revision, total_fen FROM settlement_statement WHERE id = $1 FOR UPDATE",
        statement_id,
    )
    if row["status"] != "draft":
        raise await _status_conflict(connection, statement_id, "draft")
    # A correction that arrived since the proposal changed what the proposer saw.
    if row["revision"] != proposed["revision"] or row["total_fen"] > 0:
        raise Conflict(
            "The draft was recomputed after it was proposed; propose closing it again.",
            code="statement_changed",
            revision_now=row["revision"],
        )
    await connection.execute(
        "UPDATE settlement_statement SET status = 'closed', approved_at = now(), approved_by = $2 WHERE id = $1",
        statement_id,
        approver.id,
    )
    if row["total_fen"] < 0:
        await connection.execute(
            "INSERT INTO settlement_adjustment (provider, voucher_id, voucher_code, offer_title_zh, offer_title_en, "
            "settled_statement, settled_period, reason, amount_fen, occurred_at) "
            "VALUES ($1, NULL, NULL, '', '', $2, $3, 'balance_carried', $4, now())",
            row["provider"],
            statement_id,
            row["period"],
            row["total_fen"],
        )
        await _carry_to_next_draft(connection, row["provider"], row["period"])
    await audit.record(
        connection,
        approver,
        "settlement.closed",
        "settlement_statement",
        statement_id,
        reason=proposed.get("note"),
        details={"total_fen": row["total_fen"], "proposed_by": request["proposed_by"]},
    )
    return {"before": "draft", "after": "closed", "carried_fen": min(row["total_fen"], 0)}


approvals.register("statement_close", "settlements.manage", _apply_close)


async def set_payout_account(principal: Principal, provider_id: int, account_id: str) -> dict:
    """An operator in scope proposes the provider's Stripe Connect account ("" clears it);
    another operator approves it (`approvals.decide`). The pending approval."""
    guards.require_operator(principal)
    permissions.require(principal, "payouts.account")
    account = account_id.strip() or None
    if account is not None and not ACCOUNT_PATTERN.match(account):
        raise Invalid(
            "A payout account is a Stripe account id such as acct_1Nv0FGQ9RKHgCVdK.",
            code="invalid_payout_account",
            field="account_id",
        )
    async with engine().transaction() as transaction:
        row = await transaction.connection.fetchrow(
            "SELECT node, name, payout_account FROM provider WHERE id = $1", provider_id
        )
    await scope.require_in_scope(
        principal, row and row["node"], NotFound("No such provider in your scope.", code="provider_not_found")
    )
    assert row is not None
    if row["payout_account"] == account:
        raise Conflict(
            "This is the provider's payout account already.", code="payout_account_unchanged", field="account_id"
        )
    try:
        async with engine().transaction() as transaction:
            return await approvals.propose(
                transaction.connection,
                principal,
                "payout_account",
                provider_id,
                row["node"],
                {"before": row["payout_account"], "after": account, "provider_name": row["name"]},
            )
    except Conflict as error:
        if error.code != "approval_pending":
            raise
        # Said here, as a literal, so that it is extracted and translated with this domain's messages.
        raise Conflict(
            "A change of this provider's payout account is waiting for approval already.",
            code="approval_pending",
            field="account_id",
        ) from None


async def _apply_payout_account(connection, approver: Principal, request: dict) -> dict:
    """The approved account becomes the provider's (the account it replaces is audited)."""
    before = await connection.fetchval(
        "SELECT payout_account FROM provider WHERE id = $1 FOR UPDATE", request["subject_id"]
    )
    after = request["payload"]["after"]
    await connection.execute(
        "UPDATE provider SET payout_account = $2, updated_at = now() WHERE id = $1", request["subject_id"], after
    )
    await audit.record(
        connection,
        approver,
        "payout_account.changed",
        "provider",
        request["subject_id"],
        details={"before": before, "after": after, "approval": request["id"], "proposed_by": request["proposed_by"]},
    )
    return {"before": before, "after": after}


approvals.register("payout_account", "payouts.account", _apply_payout_account)


# Export ----------------------------------------------------------------------------------------------


def _money(fen: int) -> str:
    """Integer fen as yuan with two decimals ("30.00"): exact, never through a float."""
    sign = "-" if fen < 0 else ""
    yuan, cents = divmod(abs(int(fen)), 100)
    return f"{sign}{yuan}.{cents:02d}"


def to_csv(
    statement: StatementRead,
    headers: Sequence[str],
    total_label: str,
    english: bool = False,
    adjustment_label: str = "correction to %(period)s",
) -> bytes:
    """The statement's lines as CSV in UTF-8 with a BOM (so Excel reads Chinese), one line per
    voucher, one per correction carried from an earlier month (`adjustment_label` says
    which) and a total line. `headers` name the columns: voucher code, offer, redeemed at,
    subsidy, member paid, total (yuan)."""
    out = io.StringIO()
    writer = csvfiles.writer(out)  # no cell runs as a formula
    writer.writerow(headers)
    for line in statement.lines:
        title = line.offer_title_en if english and line.offer_title_en else line.offer_title_zh
        writer.writerow(
            [
                line.voucher_code,
                title,
                line.redeemed_at.astimezone(dates.zone()).strftime("%Y-%m-%d %H:%M:%S"),
                _money(line.subsidy_fen),
                _money(line.paid_fen),
                _money(line.subsidy_fen + line.paid_fen),
            ]
        )
    for adjustment in statement.adjustments:
        title = adjustment.offer_title_en if english and adjustment.offer_title_en else adjustment.offer_title_zh
        why = adjustment_label % {"period": adjustment.settled_period}
        writer.writerow(
            [
                adjustment.voucher_code,
                f"{title} ({why})",
                adjustment.occurred_at.astimezone(dates.zone()).strftime("%Y-%m-%d %H:%M:%S"),
                _money(0),
                _money(adjustment.amount_fen),
                _money(adjustment.amount_fen),
            ]
        )
    writer.writerow(
        [
            total_label,
            str(statement.voucher_count),
            "",
            _money(statement.subsidy_fen),
            _money(statement.paid_fen + statement.adjustment_fen),
            _money(statement.total_fen),
        ]
    )
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def csv_filename(statement: StatementRead) -> str:
    return f"statement-{statement.provider_id}-{statement.period}.csv"


async def count_statements(principal: Principal, status: str = "draft") -> int:
    """How many statements of a status the operator's scope holds (drafts wait for approval)."""
    async with engine().transaction() as transaction:
        return await transaction.connection.fetchval(
            "SELECT count(*) FROM settlement_statement s JOIN provider p ON p.id = s.provider "
            "JOIN union_node n ON n.id = p.node WHERE n.path LIKE $1 || '%' AND s.status = $2",
            principal.node_path or "-",
            status,
        )
