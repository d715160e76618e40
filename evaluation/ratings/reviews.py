"""Public reviews: what members see of ratings, and the provider's one public reply.

- Offer and provider pages show the average of the ratings that count (held ones wait for
  an operator and are left out, as in the scorecard), to one decimal, their number, and the
  newest reviews with a comment: the member's name masked (王*芳, stored on the rating when
  it was written), the stars, the comment and the provider's reply under it.
- The provider's owner (not front-desk staff) reads its reviews and replies once to each,
  publicly; a reply cannot be changed afterwards, like a 大众点评 merchant reply.
"""

from datetime import UTC, datetime

import structlog

from marketplace.core.db import engine
from marketplace.core.errors import Conflict, Invalid, NotFound
from marketplace.core.identity import guards
from marketplace.core.identity.principal import Principal

log = structlog.get_logger(__name__)

RECENT = 3
REPLY_MAX = 500
PAGE_SIZE = 20

_REVIEW_SQL = """
SELECT r.id, r.overall, r.comment, r.member_masked, r.created_at, r.reply, r.replied_at
FROM rating r {join}
WHERE {where} AND NOT r.held AND r.comment <> ''
ORDER BY r.created_at DESC, r.id DESC LIMIT $2
"""


def _review(row) -> dict:
    return {
        "id": row["id"],
        "overall": row["overall"],
        "comment": row["comment"],
        "member": row["member_masked"] or "*",
        "created_at": row["created_at"],
        "reply": row["reply"],
        "replied_at": row["replied_at"],
    }


async def _summary(connection, where: str, join: str, key: int, recent: int) -> dict:
    figures = await connection.fetchrow(
        f"SELECT count(*) AS n, avg(r.overall)::float AS average FROM rating r {join} WHERE {where} AND NOT r.held", key
    )
    rows = await connection.fetch(_REVIEW_SQL.format(join=join, where=where), key, recent)
    average = figures["average"]
    average = None if average is None else round(average + 1e-9, 1)
    # Whole stars beside the figure never claim more than it says: 4.5 shows four, 4.8 five.
    stars = min(int(average + 0.25), 5) if average else 0
    return {"count": figures["n"], "average": average, "stars": stars, "recent": [_review(row) for row in rows]}


async def for_provider(provider_id: int, recent: int = RECENT) -> dict:
    """{"count", "average" (one decimal, None without ratings), "recent": [review]} of a provider."""
    async with engine().transaction() as transaction:
        return await _summary(transaction.connection, "r.provider = $1", "", provider_id, recent)


async def for_offer(offer_id: int, recent: int = RECENT) -> dict:
    """The same for one offer: the ratings of its redemptions."""
    async with engine().transaction() as transaction:
        return await _summary(
            transaction.connection, "rd.offer = $1", "JOIN redemption rd ON rd.id = r.redemption", offer_id, recent
        )


# The provider's side ---------------------------------------------------------------------------------


async def provider_reviews(principal: Principal, *, unanswered: bool = False, page: int = 1) -> dict:
    """The owner's reviews with comments, newest first, PAGE_SIZE a page; with the counts."""
    guards.require_owner(principal)
    page = max(1, page)
    async with engine().transaction() as transaction:
        connection = transaction.connection
        counts = await connection.fetchrow(
            "SELECT count(*) AS total, count(*) FILTER (WHERE reply IS NULL) AS unanswered FROM rating "
            "WHERE provider = $1 AND NOT held AND comment <> ''",
            principal.provider_id,
        )
        rows = await connection.fetch(
            "SELECT id, overall, comment, member_masked, created_at, reply, replied_at FROM rating "
            "WHERE provider = $1 AND NOT held AND comment <> '' AND ($2 = false OR reply IS NULL) "
            "ORDER BY created_at DESC, id DESC LIMIT $3 OFFSET $4",
            principal.provider_id,
            unanswered,
            PAGE_SIZE,
            (page - 1) * PAGE_SIZE,
        )
    shown = counts["unanswered"] if unanswered else counts["total"]
    return {
        "reviews": [_review(row) for row in rows],
        "total": counts["total"],
        "unanswered": counts["unanswered"],
        "page": page,
        "pages": max(1, -(-shown // PAGE_SIZE)),
    }


async def reply(principal: Principal, rating_id: int, text: str) -> dict:
    """The owner's public reply to one review of theirs, once."""
    guards.require_owner(principal)
    text = (text or "").strip()
    if len(text) < 2:
        raise Invalid("Write a reply of at least 2 characters.", field="reply")
    if len(text) > REPLY_MAX:
        raise Invalid("A reply has at most %(max)s characters.", field="reply", params={"max": REPLY_MAX})
    async with engine().transaction() as transaction:
        connection = transaction.connection
        row = await connection.fetchrow(
            "SELECT id, reply FROM rating WHERE id = $1 AND provider = $2 AND NOT held AND comment <> '' FOR UPDATE",
            rating_id,
            principal.provider_id,
        )
        if row is None:
            raise NotFound("This review does not exist.", code="review_not_found")
        if row["reply"] is not None:
            raise Conflict("You have already replied to this review.", code="already_replied", field="reply")
        replied = await connection.fetchrow(
            "UPDATE rating SET reply = $2, replied_at = $3, replied_by = $4 WHERE id = $1 "
            "RETURNING id, overall, comment, member_masked, created_at, reply, replied_at",
            rating_id,
            text,
            datetime.now(UTC),
            principal.id,
        )
    log.info("review_replied", rating_id=rating_id, provider_id=principal.provider_id)
    return _review(replied)
