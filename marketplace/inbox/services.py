"""Reading the inbox: a member's messages newest first, the unread count of the badge,
and marking read (one message when it is opened, or all at once: 全部已读)."""

from dataclasses import dataclass
from datetime import datetime

from marketplace.core import notifications
from marketplace.core.db import engine
from marketplace.core.errors import NotFound
from marketplace.core.identity.principal import Principal

PAGE_SIZE = 50


@dataclass(frozen=True)
class InboxMessage:
    id: int
    kind: str
    title: str
    body: str
    link: str | None
    created_at: datetime
    read: bool


async def unread_count(member_id: int) -> int:
    """The badge: an index-only count of the member's unread messages."""
    async with engine().transaction() as transaction:
        return await transaction.connection.fetchval(
            "SELECT count(*) FROM notification WHERE member = $1 AND read_at IS NULL", member_id
        )


async def messages(principal: Principal, limit: int = PAGE_SIZE) -> list[InboxMessage]:
    """The member's messages, newest first, in the request's language."""
    async with engine().transaction() as transaction:
        rows = await transaction.connection.fetch(
            "SELECT id, kind, params, link, title, body, created_at, read_at FROM notification "
            "WHERE member = $1 ORDER BY created_at DESC, id DESC LIMIT $2",
            principal.id,
            limit,
        )
    result = []
    for row in rows:
        title, body = notifications.render(row["kind"], row["params"], row["title"], row["body"])
        result.append(
            InboxMessage(
                row["id"],
                row["kind"],
                title,
                body,
                _safe_link(row["link"]),
                row["created_at"],
                row["read_at"] is not None,
            )
        )
    return result


async def open_message(principal: Principal, message_id: int) -> str | None:
    """Mark one of the member's messages read; returns where it links to (None: nowhere)."""
    async with engine().transaction() as transaction:
        row = await transaction.connection.fetchrow(
            "UPDATE notification SET read_at = coalesce(read_at, now()) WHERE id = $1 AND member = $2 RETURNING link",
            message_id,
            principal.id,
        )
    if row is None:
        raise NotFound("No such message.", code="message_not_found")
    return _safe_link(row["link"])


async def mark_all_read(principal: Principal) -> int:
    """全部已读: every unread message of the member; returns how many."""
    async with engine().transaction() as transaction:
        status = await transaction.connection.execute(
            "UPDATE notification SET read_at = now() WHERE member = $1 AND read_at IS NULL", principal.id
        )
    return int(status.split()[-1])


def _safe_link(link: str | None) -> str | None:
    """Only paths of the member site: a stored link never takes anyone off-site."""
    if not link or not link.startswith("/") or link.startswith("//") or "\\" in link:
        return None
    return link
