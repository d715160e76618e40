"""The escrow ledger of prepaid packages, in the caller's transaction.

A member's payment for a prepaid package (a class package of N sessions, or a period
membership of M months) is not the provider's when it is paid: it is held in escrow and
reaches the provider's monthly settlement part by part, and what is left goes back:

    hold (on payment) = release (per session used / per month of a membership)
                        + refund (cooling-off, delisting, unused at the end)
                        + left (the package's cached balance)

Every amount is integer fen in two shares kept apart: the member's share (what the member
paid through Stripe, and gets back through Stripe) and the union's subsidy (which goes back
to the node or campaign that paid it). A part is an exact split of each share: step k of n
gets floor(total·k/n) − floor(total·(k−1)/n), so the n parts add up to the total to the fen
and no part differs from another by more than one fen.

Entries are append-only (a trigger refuses UPDATE and DELETE) and unique per package and
reference ("hold", "session:3", "month:2", "refund"): a replay adds nothing. The package's
balance is written in the same statement that checks it, under the package's row lock,
and CHECK constraints keep both shares between zero and what was held, so concurrent
redemptions, month releases and refunds can neither release a session twice nor take the
balance below zero.

This module imports no other member feature: payments (on payment) and vouchers (at the
counter) call it with their transaction's connection.
"""

import calendar
from datetime import UTC, datetime

from evaluation.enforcement import prepaid_rules
from marketplace.core import dates

# The published policy's "prepaid" section (evaluation.enforcement.prepaid_rules) sets the
# cooling-off days, the release schedule and where a refund's unused subsidy goes; each is
# copied into the package when it is held, so a later policy version changes no one's purchase.
# COOLING_OFF_DAYS is the default (Shanghai's 7) for rows read without the column.
#
# Release schedules: "per_session" gives the provider a class package's part k of n when its
# session k is used; "monthly" gives it month m's part of M as each month passes, whatever was
# used (a class package's last session then releases what is left at once: all was delivered).
# A period membership has no sessions: it is always released monthly.
COOLING_OFF_DAYS = 7
PER_SESSION, MONTHLY = "per_session", "monthly"

PACKAGE_COLUMNS = (
    "p.id, p.voucher, p.payment, p.member, p.provider, p.offer, p.funding_node, p.campaign, p.sessions_total, "
    "p.months, p.sessions_used, p.months_released, p.member_fen, p.subsidy_fen, p.left_member_fen, "
    "p.left_subsidy_fen, p.status, p.terms_zh, p.terms_en, p.starts_at, p.expires_at, p.created_at, p.cooling_off_days, "
    "p.release, p.refund_subsidy_to_node, p.cancelled"
)


def part(total: int, steps: int, step: int) -> int:
    """Step `step` (1-based) of `steps` of `total` fen: the steps add up to `total` exactly."""
    return total * step // steps - total * (step - 1) // steps


def add_months(moment: datetime, months: int) -> datetime:
    """The same day `months` later on Shanghai's calendar (or that month's last day)."""
    here = dates.local(moment)
    years, month0 = divmod(here.month - 1 + months, 12)
    year, month = here.year + years, month0 + 1
    return here.replace(year=year, month=month, day=min(here.day, calendar.monthrange(year, month)[1]))


def months_between(start: datetime, now: datetime) -> int:
    """Whole months from `start` to `now` on Shanghai's calendar (a month ends on the same
    day of the month, or the month's last day)."""
    a, b = dates.local(start), dates.local(now)
    months = (b.year - a.year) * 12 + b.month - a.month
    if months > 0 and dates.local(add_months(start, months)) > b:
        months -= 1
    return max(months, 0)


async def hold(connection, voucher_id: int, now: datetime | None = None) -> dict | None:
    """The payment of a prepaid voucher succeeded: the package and its hold entry (the member's
    share as paid, the subsidy drawn for it). None when the voucher is not of a prepaid offer;
    the existing package when it was held already (a repeated webhook)."""
    now = now or datetime.now(UTC)
    row = await connection.fetchrow(
        "SELECT v.id, v.member, v.provider, v.offer, v.paid_fen, v.subsidy_fen, o.kind, o.package_sessions, "
        "o.package_months, o.terms_zh, o.terms_en, o.node_scope, pay.id AS payment, pay.amount_fen, "
        "(SELECT s.node FROM campaign_spend s WHERE s.voucher = v.id AND s.refunded_at IS NULL LIMIT 1) AS spend_node, "
        "(SELECT s.campaign FROM campaign_spend s WHERE s.voucher = v.id AND s.refunded_at IS NULL LIMIT 1) AS campaign "
        "FROM voucher v JOIN offer o ON o.id = v.offer JOIN payment pay ON pay.voucher = v.id WHERE v.id = $1",
        voucher_id,
    )
    if row is None or row["kind"] != "prepaid":
        return None
    months = int(row["package_months"] or 1)
    expires_at = dates.end_of_last_day(add_months(now, months))
    rules = await prepaid_rules.prepaid_rules_of_provider(connection, row["provider"])
    release = MONTHLY if row["package_sessions"] is None else rules["release"]
    package_id = await connection.fetchval(
        "INSERT INTO prepaid_package (voucher, payment, member, provider, offer, funding_node, campaign, "
        "sessions_total, months, member_fen, subsidy_fen, left_member_fen, left_subsidy_fen, terms_zh, terms_en, "
        "starts_at, expires_at, created_at, cooling_off_days, release, refund_subsidy_to_node) "
        "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $10, $11, $12, $13, $14, $15, $14, $16, $17, $18) "
        "ON CONFLICT (voucher) DO NOTHING RETURNING id",
        voucher_id,
        row["payment"],
        row["member"],
        row["provider"],
        row["offer"],
        row["spend_node"] or row["node_scope"],
        row["campaign"],
        row["package_sessions"],
        months,
        row["amount_fen"],
        row["subsidy_fen"],
        row["terms_zh"],
        row["terms_en"],
        now,
        expires_at,
        rules["cooling_off_days"],
        release,
        bool(rules["refund_subsidy_to_node"]),
    )
    if package_id is None:
        return await package_of_voucher(connection, voucher_id)
    await _entry(connection, package_id, row["provider"], "hold", "hold", row["amount_fen"], row["subsidy_fen"], now)
    return await package_of_voucher(connection, voucher_id)


async def package_of_voucher(connection, voucher_id: int, *, lock: bool = False) -> dict | None:
    row = await connection.fetchrow(
        f"SELECT {PACKAGE_COLUMNS} FROM prepaid_package p WHERE p.voucher = $1" + (" FOR UPDATE" if lock else ""),
        voucher_id,
    )
    return dict(row) if row is not None else None


async def package(connection, package_id: int, *, lock: bool = False) -> dict | None:
    row = await connection.fetchrow(
        f"SELECT {PACKAGE_COLUMNS} FROM prepaid_package p WHERE p.id = $1" + (" FOR UPDATE" if lock else ""),
        package_id,
    )
    return dict(row) if row is not None else None


async def _entry(
    connection,
    package_id: int,
    provider_id: int,
    kind: str,
    ref: str,
    member_fen: int,
    subsidy_fen: int,
    now: datetime,
    *,
    reason: str | None = None,
    staff_id: int | None = None,
) -> int | None:
    return await connection.fetchval(
        "INSERT INTO prepaid_entry (package, provider, kind, ref, member_fen, subsidy_fen, reason, staff, created_at) "
        "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (package, ref) DO NOTHING RETURNING id",
        package_id,
        provider_id,
        kind,
        ref,
        member_fen,
        subsidy_fen,
        reason,
        staff_id,
        now,
    )


async def _take(connection, package_id: int, member_fen: int, subsidy_fen: int, sql_extra: str = "") -> bool:
    """Take both shares off the package's balance, only if it holds them (one statement)."""
    return (
        await connection.fetchval(
            "UPDATE prepaid_package SET left_member_fen = left_member_fen - $2, "
            "left_subsidy_fen = left_subsidy_fen - $3" + sql_extra + " WHERE id = $1 AND status = 'active' "
            "AND left_member_fen >= $2 AND left_subsidy_fen >= $3 RETURNING id",
            package_id,
            member_fen,
            subsidy_fen,
        )
        is not None
    )


async def use_session(
    connection, voucher_id: int, staff_id: int | None = None, now: datetime | None = None
) -> dict | None:
    """One use at the counter of a package's voucher, in the counter's transaction. A class
    package releases the next session's part of both shares to the provider; a membership
    releases nothing here (its months do). Returns {"session", "sessions_left", "released_fen"}
    (sessions_left None for a membership), or None when the package has nothing left to use."""
    now = now or datetime.now(UTC)
    row = await package_of_voucher(connection, voucher_id, lock=True)
    if row is None or row["status"] != "active" or row["expires_at"] <= now:
        return None
    if row["sessions_total"] is None:
        return {"session": None, "sessions_left": None, "released_fen": 0}
    total = row["sessions_total"]
    usable = total - (row["cancelled"] if row["release"] == PER_SESSION else 0)
    session = row["sessions_used"] + 1
    if session > usable:
        return None
    done = session == usable
    if done or row["release"] == MONTHLY:  # the last session releases what is left; else the months do
        member, subsidy = (row["left_member_fen"], row["left_subsidy_fen"]) if done else (0, 0)
    else:
        member = part(row["member_fen"], total, session)
        subsidy = part(row["subsidy_fen"], total, session)
    taken = await _take(
        connection,
        row["id"],
        member,
        subsidy,
        ", sessions_used = sessions_used + 1" + (", status = 'used_up'" if done else ""),
    )
    if not taken:
        return None
    if member or subsidy or row["release"] == PER_SESSION:
        await _entry(
            connection,
            row["id"],
            row["provider"],
            "release",
            f"session:{session}",
            member,
            subsidy,
            now,
            staff_id=staff_id,
        )
    return {"session": session, "sessions_left": usable - session, "released_fen": member + subsidy}


async def release_months(connection, package_id: int, now: datetime | None = None) -> int:
    """The months that have passed of a package released monthly (a period membership, or a
    class package under a monthly policy), pro rata: month m of M gets part m of each share;
    the fen released. Safe to repeat."""
    now = now or datetime.now(UTC)
    row = await package(connection, package_id, lock=True)
    if row is None or row["status"] != "active" or row["release"] != MONTHLY:
        return 0
    months = row["months"]
    usable = months - row["cancelled"]
    due = min(months_between(row["starts_at"], now), usable)
    released = 0
    left_m, left_s = row["left_member_fen"], row["left_subsidy_fen"]
    for month in range(row["months_released"] + 1, due + 1):
        last = month == usable  # the last month left releases what is left
        member = left_m if last else part(row["member_fen"], months, month)
        subsidy = left_s if last else part(row["subsidy_fen"], months, month)
        left_m, left_s = left_m - member, left_s - subsidy
        extra = ", months_released = months_released + 1" + (", status = 'used_up'" if last else "")
        if not await _take(connection, package_id, member, subsidy, extra):
            break
        await _entry(connection, package_id, row["provider"], "release", f"month:{month}", member, subsidy, now)
        released += member + subsidy
    return released


def cooling_off_days(row: dict) -> int:
    """The package's cooling-off days: the policy's when it was bought (COOLING_OFF_DAYS for a
    row read without the column)."""
    days = row.get("cooling_off_days")
    return COOLING_OFF_DAYS if days is None else int(days)


def in_cooling_off(row: dict, now: datetime | None = None) -> bool:
    """Bought less than its cooling-off days ago and nothing used: the member may take it back in full."""
    now = now or datetime.now(UTC)
    return (
        row["status"] == "active"
        and row["sessions_used"] == 0
        and row["months_released"] == 0
        and (now - row["created_at"]).total_seconds() < cooling_off_days(row) * 86400
    )


async def refund_left(connection, package_id: int, reason: str, now: datetime | None = None) -> dict | None:
    """Refund what is left of an active package (both shares), in one entry, and record the
    refund's way back (prepaid_refund: the member's share to go through Stripe, the subsidy
    to its funder). None when nothing is left to refund (used up or refunded already).

    A package sold under a policy that gives the subsidy to the member with their share
    (refund_subsidy_to_node false) sends the member the unused subsidy too, as far as Stripe
    can: never more than the member paid and has not had back; the rest goes to the funder."""
    now = now or datetime.now(UTC)
    row = await package(connection, package_id, lock=True)
    if row is None or row["status"] != "active":
        return None
    member, subsidy = row["left_member_fen"], row["left_subsidy_fen"]
    to_member = 0
    if not row["refund_subsidy_to_node"] and subsidy:
        not_back = await connection.fetchval(
            "SELECT amount_fen - refunded_fen FROM payment WHERE id = $1", row["payment"]
        )
        to_member = max(0, min(subsidy, not_back - member))
    if not await _take(connection, package_id, member, subsidy, ", status = 'refunded'"):
        return None
    entry = await _entry(
        connection, package_id, row["provider"], "refund", "refund", member, subsidy, now, reason=reason
    )
    refund_id = await connection.fetchval(
        "INSERT INTO prepaid_refund (package, entry, reason, member_fen, subsidy_fen, funding_node, campaign, "
        "created_at, subsidy_to_member_fen) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
        package_id,
        entry,
        reason,
        member,
        subsidy,
        row["funding_node"],
        row["campaign"],
        now,
        to_member,
    )
    return {
        **row,
        "refund_id": refund_id,
        "refund_member_fen": member,
        "refund_subsidy_fen": subsidy,
        "subsidy_to_member_fen": to_member,
    }


async def take_outside(connection, package_id: int, amount_fen: int, ref: str, now: datetime | None = None) -> dict:
    """A refund of `amount_fen` made by hand in Stripe on the package's payment: the member
    has that back already, so the escrow gives the provider that much less. Whole unused steps
    (sessions; months when released monthly) go from the end, both shares of each; what is
    still to cover comes off the member share of the last step left. All it has left covers
    less than the amount: the package ends (refunded) and the rest is not covered (the provider
    had it already). In the caller's transaction, under the package's lock; one entry `ref`.
    Returns {"member", "subsidy", "ended", "used", "entry"}: what came off the escrow."""
    now = now or datetime.now(UTC)
    row = await package(connection, package_id, lock=True)
    nothing = {"member": 0, "subsidy": 0, "ended": False, "used": False, "entry": None}
    if row is None or row["status"] != "active":
        return nothing
    used = row["sessions_used"] > 0 or row["months_released"] > 0
    left_m, left_s = row["left_member_fen"], row["left_subsidy_fen"]
    if amount_fen >= left_m:
        member, subsidy, cancel, extra = left_m, left_s, 0, ", status = 'refunded'"
    else:
        per_session = row["release"] == PER_SESSION
        steps = row["sessions_total"] if per_session else row["months"]
        done = row["sessions_used"] if per_session else row["months_released"]
        usable = steps - row["cancelled"]
        # What each step left holds: its parts, less what an earlier such refund took off the last.
        values = [
            [part(row["member_fen"], steps, step), part(row["subsidy_fen"], steps, step)]
            for step in range(done + 1, usable + 1)
        ]
        values[-1][0] -= sum(value[0] for value in values) - left_m
        values[-1][1] -= sum(value[1] for value in values) - left_s
        member = subsidy = cancel = 0
        while len(values) - cancel > 1 and member + values[-1 - cancel][0] <= amount_fen:
            member += values[-1 - cancel][0]
            subsidy += values[-1 - cancel][1]
            cancel += 1
        member = amount_fen  # the rest off the last step left (less than it holds)
        extra = f", cancelled = cancelled + {cancel}"
    if not await _take(connection, package_id, member, subsidy, extra):
        return nothing
    entry = await _entry(connection, package_id, row["provider"], "refund", ref, member, subsidy, now, reason="stripe")
    return {"member": member, "subsidy": subsidy, "ended": amount_fen >= left_m, "used": used, "entry": entry}
