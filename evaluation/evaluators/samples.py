"""Follow-up samples: recent redemptions drawn at random for evaluators to call back.

Weekly (a periodic job of evaluation/evaluators/actors.py), for every active evaluator
organisation and every provider in its subtree, up to `sample_size()` redemptions of the
last 30 days are drawn (`EVALUATOR_SAMPLE_SIZE`, default 5). A redemption is drawn at most once per organisation,
and a provider drawn for an organisation in the last 6 days is left alone, so running the
job twice in a week draws nothing new.

Evaluators export their samples as CSV. The member's name and phone are in it only when
the member consented to be contacted by evaluators; anyone else appears masked, without
contact details. Every export writes an audit event (`evaluator.sample_export`) in the
export's own transaction. The member data comes from a `ContactLookup` the composition
root provides (marketplace/core/federation/consent.py), so evaluation never reads members.
"""

import io
import os
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

import structlog

from evaluation.schemas import SampleRead
from marketplace.core import audit, csvfiles
from marketplace.core.db import engine
from marketplace.core.identity import guards
from marketplace.core.identity.principal import Principal
from marketplace.core.settings import get_settings

log = structlog.get_logger(__name__)

DEFAULT_SAMPLE_SIZE = 5
WINDOW_DAYS = 30  # redemptions this recent are drawn
REDRAW_AFTER = timedelta(days=6)  # a provider is drawn again for an organisation after this long
SHOWN_DAYS = 30  # samples drawn this recently are listed and exported
EXPORT_ACTION = "evaluator.sample_export"
_LOCK_CLASS = 0x5A4D  # pg_advisory_xact_lock(class, org): one draw per organisation at a time


class Contact(Protocol):
    consented: bool
    name_masked: str
    name: str | None
    phone: str | None


# (connection, member ids) → {member id: contact}; on the caller's connection.
ContactLookup = Callable[[object, list[int]], Awaitable[dict[int, Contact]]]


def sample_size() -> int:
    try:
        return max(1, int(os.environ.get("EVALUATOR_SAMPLE_SIZE", DEFAULT_SAMPLE_SIZE)))
    except ValueError:
        return DEFAULT_SAMPLE_SIZE


# Drawing ---------------------------------------------------------------------------------------------

_DRAW_SQL = """
WITH candidates AS (
    SELECT r.id, r.provider,
           row_number() OVER (PARTITION BY r.provider ORDER BY random()) AS n
    FROM redemption r
    JOIN provider p ON p.id = r.provider
    JOIN union_node u ON u.id = p.node
    WHERE r.redeemed_at >= $2::timestamptz - make_interval(days => $4) AND r.redeemed_at <= $2
      AND u.path LIKE $3 || '%'
      AND NOT EXISTS (SELECT 1 FROM follow_up_sample s WHERE s.org = $1 AND s.redemption = r.id)
      AND NOT EXISTS (SELECT 1 FROM follow_up_sample s
                      WHERE s.org = $1 AND s.provider = r.provider AND s.drawn_at > $2::timestamptz - $5::interval)
), drawn AS (
    INSERT INTO follow_up_sample (org, provider, redemption, drawn_at)
    SELECT $1, provider, id, $2 FROM candidates WHERE n <= $6
    ON CONFLICT (org, redemption) DO NOTHING
    RETURNING 1
)
SELECT count(*) FROM drawn
"""


async def draw_samples(*, now: datetime | None = None, size: int | None = None, window_days: int = WINDOW_DAYS) -> int:
    """Draw this week's samples for every active organisation; returns how many were drawn.
    Safe to repeat."""
    now = now or datetime.now(UTC)
    size = size or sample_size()
    async with engine().transaction() as transaction:
        orgs = await transaction.connection.fetch(
            "SELECT o.id, n.path FROM evaluator_org o JOIN union_node n ON n.id = o.node WHERE o.active ORDER BY o.id"
        )
    total = 0
    for org in orgs:
        async with engine().transaction() as transaction:
            connection = transaction.connection
            await connection.execute("SELECT pg_advisory_xact_lock($1, $2)", _LOCK_CLASS, org["id"])
            drawn = await connection.fetchval(_DRAW_SQL, org["id"], now, org["path"], window_days, REDRAW_AFTER, size)
        log.info("follow_up_samples_drawn", org=org["id"], samples=drawn)
        total += drawn
    return total


# Reading and exporting ------------------------------------------------------------------------------

_SAMPLES_SQL = """
SELECT s.id, s.provider, p.name AS provider_name, s.redemption, r.redeemed_at, r.member, s.drawn_at
FROM follow_up_sample s
JOIN redemption r ON r.id = s.redemption
JOIN provider p ON p.id = s.provider
WHERE s.org = $1 AND s.drawn_at > $2
ORDER BY s.drawn_at DESC, p.name, r.redeemed_at, s.id
"""


def _since(now: datetime | None) -> datetime:
    return (now or datetime.now(UTC)) - timedelta(days=SHOWN_DAYS)


async def list_samples(principal: Principal, *, now: datetime | None = None) -> list[SampleRead]:
    """The organisation's samples of the last 30 days, newest draw first; no personal data."""
    guards.require_evaluator(principal)
    async with engine().transaction() as transaction:
        rows = await transaction.connection.fetch(_SAMPLES_SQL, principal.id, _since(now))
    return [
        SampleRead(
            id=row["id"],
            provider_id=row["provider"],
            provider_name=row["provider_name"],
            redemption_id=row["redemption"],
            redeemed_at=row["redeemed_at"],
            drawn_at=row["drawn_at"],
        )
        for row in rows
    ]


async def export_samples(
    principal: Principal,
    contacts: ContactLookup,
    headers: Sequence[str],
    consent_labels: tuple[str, str],
    *,
    reason: str | None = None,
    now: datetime | None = None,
) -> tuple[bytes, dict]:
    """The organisation's samples as CSV (UTF-8 with a BOM, so Excel reads Chinese) and the
    audit event's details. Columns (named by `headers`): sample, provider id, provider,
    redemption, redeemed at, drawn at, consent (`consent_labels`: yes, no), name, phone."""
    guards.require_evaluator(principal)
    zone = ZoneInfo(get_settings().app.timezone)
    out = io.StringIO()
    writer = csvfiles.writer(out)  # no cell runs as a formula
    writer.writerow(headers)
    async with engine().transaction() as transaction:
        connection = transaction.connection
        rows = await connection.fetch(_SAMPLES_SQL, principal.id, _since(now))
        found = await contacts(connection, sorted({row["member"] for row in rows}))
        with_contact = 0
        for row in rows:
            contact = found.get(row["member"])
            consented = bool(contact and contact.consented and contact.phone)
            with_contact += consented
            writer.writerow(
                [
                    row["id"],
                    row["provider"],
                    row["provider_name"],
                    row["redemption"],
                    row["redeemed_at"].astimezone(zone).strftime("%Y-%m-%d %H:%M"),
                    row["drawn_at"].astimezone(zone).strftime("%Y-%m-%d %H:%M"),
                    consent_labels[0] if consented else consent_labels[1],
                    contact.name if contact and consented else (contact.name_masked if contact else "*"),
                    contact.phone if contact and consented else "",
                ]
            )
        details = {"rows": len(rows), "with_contact": with_contact, "providers": len({row["provider"] for row in rows})}
        await audit.record(
            connection, principal, EXPORT_ACTION, "evaluator_org", principal.id, reason=reason, details=details
        )
    log.info("follow_up_samples_exported", org=principal.id, **details)
    return ("\ufeff" + out.getvalue()).encode("utf-8"), details


def export_filename(now: datetime | None = None) -> str:
    local = (now or datetime.now(UTC)).astimezone(ZoneInfo(get_settings().app.timezone))
    return f"follow-up-samples-{local.strftime('%Y%m%d')}.csv"
