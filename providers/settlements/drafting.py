"""Drafting settlement statements from redeemed vouchers.

The only place of settlements that reads the marketplace's voucher table and the prepaid
escrow ledger (read only: they are the marketplace's to write); it drafts through `providers.settlements.services`:

- `redeemed_lines(provider_id, start, end)`: the provider's vouchers redeemed in
  [start, end), each with the subsidy owed and the member payment collected (fen).
- `draft_month(period)`: a statement for every provider with redemptions in the month
  (only those in an operator's scope when one asks). Safe to repeat: drafts are
  recomputed, approved and paid statements are kept.

When a voucher's money changes later (a refund, a dispute lost), the payments domain tells
`providers.settlements.correct_settled`: a draft is corrected in place, an approved
statement gets a correction on the provider's next one.
"""

from collections.abc import Sequence
from datetime import datetime

import structlog

from marketplace.core.db import engine
from marketplace.core.identity.principal import Principal
from providers.schemas import DraftResult, StatementLineInput
from providers.settlements import services as settlements

log = structlog.get_logger(__name__)

_LINES_SQL = """
SELECT v.id AS voucher_id, v.code AS voucher_code, v.offer AS offer_id, o.title_zh AS offer_title_zh,
       coalesce(o.title_en, '') AS offer_title_en, v.redeemed_at, v.subsidy_fen,
       -- A share the member got back (a refund after use, in part or in full) is not the provider's.
       greatest(v.paid_fen - v.refunded_fen, 0) AS paid_fen
       , NULL::bigint AS escrow_entry
FROM voucher v JOIN offer o ON o.id = v.offer
WHERE v.provider = $1 AND v.status = 'redeemed' AND v.redeemed_at >= $2 AND v.redeemed_at < $3
  AND o.kind <> 'prepaid'
UNION ALL
-- A prepaid package is paid session by session (a membership, month by month): each part
-- released from escrow in the month is a line of its own, both shares exactly as released.
SELECT v.id, v.code, v.offer, o.title_zh, coalesce(o.title_en, ''), e.created_at, e.subsidy_fen, e.member_fen, e.id
FROM prepaid_entry e JOIN prepaid_package p ON p.id = e.package JOIN voucher v ON v.id = p.voucher
JOIN offer o ON o.id = v.offer
WHERE e.provider = $1 AND e.kind = 'release' AND e.created_at >= $2 AND e.created_at < $3
ORDER BY redeemed_at, voucher_id, escrow_entry
"""


async def redeemed_lines(provider_id: int, start: datetime, end: datetime) -> list[StatementLineInput]:
    """The provider's vouchers redeemed in [start, end) (index voucher_provider_redeemed)."""
    async with engine().transaction() as transaction:
        rows = await transaction.connection.fetch(_LINES_SQL, provider_id, start, end)
    return [StatementLineInput(**dict(row)) for row in rows]


async def providers_with_redemptions(start: datetime, end: datetime) -> list[int]:
    """Providers with at least one voucher redeemed in [start, end): one index probe each."""
    async with engine().transaction() as transaction:
        rows = await transaction.connection.fetch(
            "SELECT p.id FROM provider p WHERE EXISTS (SELECT 1 FROM voucher v WHERE v.provider = p.id "
            "AND v.status = 'redeemed' AND v.redeemed_at >= $1 AND v.redeemed_at < $2) "
            "OR EXISTS (SELECT 1 FROM prepaid_entry e WHERE e.provider = p.id AND e.kind = 'release' "
            "AND e.created_at >= $1 AND e.created_at < $2) ORDER BY p.id",
            start,
            end,
        )
    return [row["id"] for row in rows]


async def draft_month(period: str, principal: Principal | None = None, *, now: datetime | None = None) -> DraftResult:
    """Draft `period`'s statements of every provider with redemptions in it (and recompute its
    open drafts): all providers for the scheduler, those in the operator's scope for an operator."""
    start, end = settlements.check_period_over(period, now)
    provider_ids: Sequence[int] = sorted(
        set(await providers_with_redemptions(start, end))
        | set(await settlements.drafted_providers(period))
        | set(await settlements.providers_with_open_corrections(period))
    )
    if principal is not None:
        provider_ids = await settlements.providers_in_scope(principal, provider_ids)
    result = DraftResult(period=period)
    for provider_id in provider_ids:
        lines = await redeemed_lines(provider_id, start, end)
        outcome, _ = await settlements.draft(provider_id, period, lines, now=now)
        getattr(result, outcome).append(provider_id)
    log.info(
        "statements_drafted",
        period=period,
        created=len(result.created),
        recomputed=len(result.recomputed),
        unchanged=len(result.unchanged),
        kept=len(result.kept),
    )
    return result


async def draft_last_month(now: datetime | None = None) -> DraftResult:
    """What the monthly job runs: the month that ended last."""
    return await draft_month(settlements.previous_period(now), now=now)
