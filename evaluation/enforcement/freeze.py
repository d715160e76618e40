"""Prepaid Guard's risk freeze (issue 17): new prepaid package sales of a provider stop at once
when the enforcement loop or a risk signal says it may not last; existing holders keep using
their sessions.

A freeze is one row of `prepaid_freeze` per reason, open until lifted:

- the enforcement loop, at once and in its own transaction: `probation` (policy.evaluate_provider
  moved the provider there), `delisting_case` and `integrity_case` (policy.open_case). These
  lift by themselves when the condition clears (the periodic run, or an operator's decision);
- an operator's flag (`operator`), with a reason, lifted by an operator; both audited;
- risk signals the periodic run evaluates (`signals`): `lease_ending` (the lease end date the
  provider gave, within 60 days), `redemptions_collapsed` (the last 14 days' weekly
  redemptions below 30 % of the previous 8 weeks' weekly average), `complaint_spike`,
  `missed_settlements`, each by the thresholds of the policy's prepaid section. An operator lifts them, after looking; a signal an operator lifted is
  not raised again for `OVERRIDE_DAYS`.

The provider's first open freeze publishes `prepaid.sales_frozen` {provider_id, reason}; its
last lifted, `prepaid.sales_resumed`. Starting and lifting take the provider's freeze lock
exclusively; `sales_frozen(provider_id, connection)` takes it shared, so a purchase checking in
its own transaction either commits before a freeze starts or sees it.
"""

import json
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import structlog

from evaluation.enforcement import policy
from marketplace.core.audit import services as audit
from marketplace.core.db import engine
from marketplace.core.errors import Conflict, Invalid, NotFound
from marketplace.core.identity.principal import Principal
from marketplace.core.jobs import outbox, topics
from marketplace.core.web import i18n
from marketplace.core.web.nav import N_

log = structlog.get_logger(__name__)

# Why a provider's prepaid sales stop, as operators and the provider read it.
REASONS: dict[str, str] = {
    "probation": N_("On probation under the evaluation policy"),
    "delisted": N_("Delisted"),
    "delisting_case": N_("A delisting case is open"),
    "integrity_case": N_("An integrity case (suspected fake redemptions) is open"),
    "operator": N_("Flagged by an operator"),
    "lease_ending": N_("Its lease ends within 60 days"),
    "redemptions_collapsed": N_("Redemptions collapsed"),
    "complaint_spike": N_("A spike of complaints"),
    "missed_settlements": N_("Settlements it could not be paid"),
}
ENFORCEMENT = ("probation", "delisted", "delisting_case", "integrity_case")
SIGNALS = ("lease_ending", "redemptions_collapsed", "complaint_spike", "missed_settlements")
CASE_REASONS = {"delisting": "delisting_case", "integrity": "integrity_case"}

# The signals' windows. Their thresholds are the published policy's (the prepaid section's
# collapse_below_percent, collapse_min_weekly, spike_times, spike_min, missed_days, missed_min;
# policy.DEFAULT_RULES: 30 %, 5 a week, 3×, 5, 14 days, 2), read per provider at each run.
LEASE_DAYS = 60  # a lease ending within this many days
RECENT_DAYS = 14  # redemptions and complaints "now": the last two weeks
BASELINE_WEEKS = 8  # against the eight weeks before them
OVERRIDE_DAYS = 30  # a signal an operator lifted is not raised again this long


def _thresholds(rules: dict | None) -> dict:
    """The prepaid section given, completed by the defaults (read when called: policy imports
    this module)."""
    return {**policy.DEFAULT_RULES["prepaid"], **(rules or {})}


@dataclass(frozen=True)
class Freeze:
    """An open freeze: why (`reason` a code of REASONS), since when, its figures or the
    operator's note."""

    id: int
    provider_id: int
    reason: str
    since: datetime
    detail: dict[str, Any] = field(default_factory=dict)
    note: str | None = None
    started_by: int | None = None

    @property
    def label(self) -> str:
        """The reason's msgid (translate it where it is shown)."""
        return REASONS[self.reason]


def _freeze(row) -> Freeze:
    return Freeze(
        id=row["id"],
        provider_id=row["provider"],
        reason=row["reason"],
        since=row["since"],
        detail=json.loads(row["detail"]) if isinstance(row["detail"], str) else dict(row["detail"] or {}),
        note=row["note"],
        started_by=row["started_by"],
    )


async def _lock(connection, provider_id: int, *, shared: bool = False) -> None:
    function = "pg_advisory_xact_lock_shared" if shared else "pg_advisory_xact_lock"
    await connection.execute(f"SELECT {function}(hashtext('prepaid_freeze'), $1)", provider_id)


async def sales_frozen(provider_id: int, connection=None) -> Freeze | None:
    """The provider's earliest open freeze, None when its prepaid packages may be sold. Given
    the caller's connection (a purchase's transaction), it waits for a freeze being started
    and holds one off until that transaction ends."""
    if connection is None:
        async with engine().transaction() as transaction:
            return await sales_frozen(provider_id, transaction.connection)
    await _lock(connection, provider_id, shared=True)
    row = await connection.fetchrow(
        "SELECT * FROM prepaid_freeze WHERE provider = $1 AND lifted_at IS NULL ORDER BY since, id LIMIT 1",
        provider_id,
    )
    return _freeze(row) if row else None


async def open_freezes(provider_id: int, connection=None) -> list[Freeze]:
    """Every open freeze of the provider, oldest first."""
    if connection is None:
        async with engine().transaction() as transaction:
            return await open_freezes(provider_id, transaction.connection)
    rows = await connection.fetch(
        "SELECT * FROM prepaid_freeze WHERE provider = $1 AND lifted_at IS NULL ORDER BY since, id", provider_id
    )
    return [_freeze(row) for row in rows]


async def start(
    connection,
    provider_id: int,
    reason: str,
    *,
    detail: dict | None = None,
    note: str | None = None,
    operator_id: int | None = None,
    now: datetime | None = None,
) -> int | None:
    """Open a freeze for `reason` in the caller's transaction; None when one is open already.
    The provider's first open freeze publishes prepaid.sales_frozen."""
    if reason not in REASONS:
        raise ValueError(f"unknown freeze reason {reason!r}")
    await _lock(connection, provider_id)
    already = await connection.fetchval(
        "SELECT count(*) FROM prepaid_freeze WHERE provider = $1 AND lifted_at IS NULL", provider_id
    )
    freeze_id = await connection.fetchval(
        "INSERT INTO prepaid_freeze (provider, reason, detail, note, since, started_by) "
        "VALUES ($1, $2, $3::jsonb, $4, coalesce($5, now()), $6) ON CONFLICT DO NOTHING RETURNING id",
        provider_id,
        reason,
        json.dumps(detail or {}, ensure_ascii=False),
        note,
        now,
        operator_id,
    )
    if freeze_id is not None:
        log.info("prepaid_sales_freeze_started", provider_id=provider_id, reason=reason, freeze_id=freeze_id)
        if already == 0:
            await outbox.publish(topics.PrepaidSalesFrozen(provider_id=provider_id, reason=reason))
    return freeze_id


async def lift(
    connection,
    provider_id: int,
    reason: str,
    *,
    operator_id: int | None = None,
    note: str | None = None,
) -> bool:
    """Lift the provider's open freeze for `reason` in the caller's transaction (False: none
    open). Its last one lifted publishes prepaid.sales_resumed."""
    await _lock(connection, provider_id)
    lifted = await connection.fetchval(
        "UPDATE prepaid_freeze SET lifted_at = now(), lifted_by = $3, lift_note = $4 "
        "WHERE provider = $1 AND reason = $2 AND lifted_at IS NULL RETURNING id",
        provider_id,
        reason,
        operator_id,
        note,
    )
    if lifted is None:
        return False
    log.info("prepaid_sales_freeze_lifted", provider_id=provider_id, reason=reason, freeze_id=lifted)
    left = await connection.fetchval(
        "SELECT count(*) FROM prepaid_freeze WHERE provider = $1 AND lifted_at IS NULL", provider_id
    )
    if left == 0:
        await outbox.publish(topics.PrepaidSalesResumed(provider_id=provider_id, reason=reason))
    return True


# Operators ----------------------------------------------------------------------------------------


async def _provider_in_scope(connection, principal: Principal, provider_id: int) -> None:
    path = await connection.fetchval(
        "SELECT n.path FROM provider p JOIN union_node n ON n.id = p.node WHERE p.id = $1", provider_id
    )
    if path is None or not principal.covers(path):
        raise NotFound("No such provider in your scope.", code="provider_not_found", field="provider_id")


async def flag(principal: Principal, provider_id: int, reason: str) -> int:
    """An operator stops a provider's prepaid sales, with the reason in their words (audited)."""
    policy.require_operator(principal)
    reason = (reason or "").strip()
    if not 10 <= len(reason) <= 2000:
        raise Invalid("Explain why in 10 to 2,000 characters.", field="reason")
    async with engine().transaction() as transaction:
        connection = transaction.connection
        await _provider_in_scope(connection, principal, provider_id)
        freeze_id = await start(connection, provider_id, "operator", note=reason, operator_id=principal.id)
        if freeze_id is None:
            raise Conflict(
                "An operator has already stopped this provider's prepaid sales.",
                code="freeze_already_open",
                field="provider_id",
            )
        await audit.record(
            connection, principal, "prepaid.sales_frozen", "provider", provider_id, reason, {"freeze_id": freeze_id}
        )
    return freeze_id


async def lift_by_operator(principal: Principal, freeze_id: int, note: str) -> Freeze:
    """An operator lifts one freeze (an operator's flag or a risk signal; the enforcement
    loop's lift when their cause clears), with the reason (audited)."""
    policy.require_operator(principal)
    note = (note or "").strip()
    if not 10 <= len(note) <= 2000:
        raise Invalid("Explain why in 10 to 2,000 characters.", field="note")
    async with engine().transaction() as transaction:
        connection = transaction.connection
        row = await connection.fetchrow("SELECT * FROM prepaid_freeze WHERE id = $1", freeze_id)
        if row is None:
            raise NotFound("No such freeze.", code="freeze_not_found")
        await _provider_in_scope(connection, principal, row["provider"])
        if row["reason"] in ENFORCEMENT:
            raise Conflict(
                "This freeze lifts by itself when the provider leaves probation or its case is closed.",
                code="freeze_follows_enforcement",
            )
        if row["lifted_at"] is not None or not await lift(
            connection, row["provider"], row["reason"], operator_id=principal.id, note=note
        ):
            raise Conflict("This freeze has already been lifted.", code="freeze_not_open")
        await audit.record(
            connection,
            principal,
            "prepaid.sales_resumed",
            "provider",
            row["provider"],
            note,
            {"freeze_id": freeze_id, "reason": row["reason"]},
        )
    return _freeze(row)


async def frozen_page(principal: Principal, *, page: int = 1, page_size: int = 50) -> tuple[list[dict], int]:
    """Open freezes of providers in the operator's scope, newest first, with the provider's name."""
    policy.require_operator(principal)
    async with engine().transaction() as transaction:
        rows = await transaction.connection.fetch(
            "SELECT f.*, p.name AS provider_name, n.name_zh AS node_name, o.display_name AS operator_name, "
            "count(*) OVER () AS total FROM prepaid_freeze f JOIN provider p ON p.id = f.provider "
            "JOIN union_node n ON n.id = p.node LEFT JOIN operator o ON o.id = f.started_by "
            "WHERE f.lifted_at IS NULL AND n.path LIKE $1 || '%' ORDER BY f.since DESC, f.id DESC LIMIT $2 OFFSET $3",
            principal.node_path,
            page_size,
            (page - 1) * page_size,
        )
    found = [
        {
            "freeze": _freeze(row),
            "provider_name": row["provider_name"],
            "node_name": row["node_name"],
            "operator_name": row["operator_name"],
        }
        for row in rows
    ]
    return found, (rows[0]["total"] if rows else 0)


async def count_frozen(principal: Principal) -> int:
    """Providers in the operator's scope whose prepaid sales are stopped."""
    async with engine().transaction() as transaction:
        return await transaction.connection.fetchval(
            "SELECT count(DISTINCT f.provider) FROM prepaid_freeze f JOIN provider p ON p.id = f.provider "
            "JOIN union_node n ON n.id = p.node WHERE f.lifted_at IS NULL AND n.path LIKE $1 || '%'",
            principal.node_path or "-",
        )


# The enforcement loop -----------------------------------------------------------------------------


async def follow_standing(connection, provider_id: int, state: str) -> None:
    """Called by the policy in the transaction that moves a provider: probation (and delisting)
    freezes at once; leaving it lifts that freeze."""
    for reason in ("probation", "delisted"):
        if state == reason:
            await start(connection, provider_id, reason)
    for reason in ("probation", "delisted"):
        if state != reason:
            await lift(connection, provider_id, reason)


async def follow_case(connection, provider_id: int, kind: str, is_open: bool) -> None:
    """Called when a case opens (freeze at once) or is closed without delisting (lift)."""
    reason = CASE_REASONS.get(kind)
    if reason is None:
        return
    if is_open:
        await start(connection, provider_id, reason)
    else:
        still_open = await connection.fetchval(
            "SELECT count(*) FROM enforcement_case WHERE provider = $1 AND kind = $2 AND status = 'open'",
            provider_id,
            kind,
        )
        if not still_open:
            await lift(connection, provider_id, reason)


# Signals ------------------------------------------------------------------------------------------


def redemption_collapse(recent: int, baseline: int, rules: dict | None = None) -> dict | None:
    """Redemptions of the last 14 days against the 8 weeks before them, as weekly averages,
    under the policy's prepaid section `rules`."""
    rules = _thresholds(rules)
    baseline_weekly = baseline / BASELINE_WEEKS
    recent_weekly = recent / (RECENT_DAYS / 7)
    below = rules["collapse_below_percent"] / 100
    if baseline_weekly < rules["collapse_min_weekly"] or recent_weekly >= below * baseline_weekly:
        return None
    return {"recent_weekly": round(recent_weekly, 1), "baseline_weekly": round(baseline_weekly, 1)}


def complaint_spike(recent: int, baseline: int, rules: dict | None = None) -> dict | None:
    """Complaints of the last 14 days against the same span's average in the 8 weeks before,
    under the policy's prepaid section `rules`."""
    rules = _thresholds(rules)
    baseline_span = baseline / BASELINE_WEEKS * (RECENT_DAYS / 7)
    if recent < rules["spike_min"] or recent < rules["spike_times"] * baseline_span:
        return None
    return {"recent": recent, "baseline": round(baseline_span, 1)}


async def signals_of(connection, provider_id: int, now: datetime) -> dict[str, dict]:
    """The risk signals the provider shows now, each with its figures, by the thresholds of
    the policy it is held to."""
    found: dict[str, dict] = {}
    _id, _version, in_force = await policy.policy_in_force(connection, provider_id)
    rules = _thresholds(in_force.get("prepaid"))
    recent_from = now - timedelta(days=RECENT_DAYS)
    baseline_from = recent_from - timedelta(weeks=BASELINE_WEEKS)
    lease = await connection.fetchval("SELECT lease_ends_on FROM provider WHERE id = $1", provider_id)
    today = now.date()
    if isinstance(lease, date) and lease <= today + timedelta(days=LEASE_DAYS):
        found["lease_ending"] = {"lease_ends_on": lease.isoformat(), "days_left": (lease - today).days}
    counts = await connection.fetchrow(
        "SELECT count(*) FILTER (WHERE redeemed_at >= $2) AS recent, "
        "count(*) FILTER (WHERE redeemed_at < $2) AS baseline FROM redemption "
        "WHERE provider = $1 AND redeemed_at >= $3 AND redeemed_at < $4",
        provider_id,
        recent_from,
        baseline_from,
        now,
    )
    if collapse := redemption_collapse(counts["recent"], counts["baseline"], rules):
        found["redemptions_collapsed"] = collapse
    counts = await connection.fetchrow(
        "SELECT count(*) FILTER (WHERE created_at >= $2) AS recent, "
        "count(*) FILTER (WHERE created_at < $2) AS baseline FROM complaint "
        "WHERE provider = $1 AND created_at >= $3 AND created_at < $4",
        provider_id,
        recent_from,
        baseline_from,
        now,
    )
    if spike := complaint_spike(counts["recent"], counts["baseline"], rules):
        found["complaint_spike"] = spike
    missed = await connection.fetch(
        "SELECT period FROM settlement_statement WHERE provider = $1 AND status = 'approved' "
        "AND approved_at < $2 ORDER BY period",
        provider_id,
        now - timedelta(days=rules["missed_days"]),
    )
    if len(missed) >= rules["missed_min"]:
        found["missed_settlements"] = {"periods": [row["period"] for row in missed]}
    return found


async def evaluate_provider(provider_id: int, now: datetime | None = None) -> list[str]:
    """One provider's run: start the freezes its signals call for (unless an operator lifted
    that signal lately) and those of its standing and open cases; lift enforcement freezes
    whose cause has cleared. Returns the reasons open afterwards."""
    now = now or datetime.now(UTC)
    async with engine().transaction() as transaction:
        connection = transaction.connection
        for reason, detail in (await signals_of(connection, provider_id, now)).items():
            overridden = await connection.fetchval(
                "SELECT 1 FROM prepaid_freeze WHERE provider = $1 AND reason = $2 AND lifted_by IS NOT NULL "
                "AND lifted_at > $3",
                provider_id,
                reason,
                now - timedelta(days=OVERRIDE_DAYS),
            )
            if not overridden:
                await start(connection, provider_id, reason, detail=detail, now=now)
        state = await connection.fetchval("SELECT state FROM provider_standing WHERE provider = $1", provider_id)
        await follow_standing(connection, provider_id, state or "good")
        open_kinds = {
            row["kind"]
            for row in await connection.fetch(
                "SELECT DISTINCT kind FROM enforcement_case WHERE provider = $1 AND status = 'open'", provider_id
            )
        }
        for kind in CASE_REASONS:
            await follow_case(connection, provider_id, kind, kind in open_kinds)
        return [freeze.reason for freeze in await open_freezes(provider_id, connection)]


async def evaluate_all(now: datetime | None = None) -> int:
    """The periodic run over active providers (and those with an open freeze); how many are frozen."""
    async with engine().transaction() as transaction:
        rows = await transaction.connection.fetch(
            "SELECT id FROM provider WHERE status IN ('active', 'suspended') "
            "UNION SELECT provider FROM prepaid_freeze WHERE lifted_at IS NULL ORDER BY 1"
        )
    frozen = 0
    for row in rows:
        if await evaluate_provider(row["id"], now):
            frozen += 1
    return frozen


# The provider's notice ----------------------------------------------------------------------------


async def tell_provider(provider_id: int, frozen: bool, reason: str) -> None:
    """A line in the provider's standing history (safe to repeat: once per hour and text)."""
    message = (
        "您的预付套餐（次卡、课时包、会员卡）已暂停新的销售，已购会员可继续使用。原因：" + _zh(reason) + "。"
        if frozen
        else "您的预付套餐已恢复销售。"
    )
    async with engine().transaction() as transaction:
        connection = transaction.connection
        recent = await connection.fetchval(
            "SELECT 1 FROM standing_event WHERE provider = $1 AND message = $2 AND created_at > now() - interval '1 hour'",
            provider_id,
            message,
        )
        if not recent:
            await policy.record_event(connection, provider_id, None, None, message, "policy")


def _zh(reason: str) -> str:
    """The reason in Chinese for the stored history line (kept as written, like the policy's notices)."""
    token = i18n.current_locale.set(i18n.DEFAULT_LOCALE)
    try:
        return i18n.gettext(REASONS.get(reason, reason))
    finally:
        i18n.current_locale.reset(token)
