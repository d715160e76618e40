"""Messages to members: the inbox (the notification table) and a pluggable sender for SMS
or e-mail.

A message is a kind, its parameters and the member-site path one tap takes the member to.
Its words are msgids that the domain sending it registers once, at import:

    notifications.register("points_expiring", N_("Points expiring"),
                           N_("%(points)s points expire on %(date)s; use them before then."))

so the inbox shows every message in the reader's language, also after a language switch.
Parameters are JSON scalars already written for people (dates as YYYY-MM-DD in the
configured time zone, money through `yuan`).

`MESSAGE_SENDER` chooses the sender: `log` (the default, for development and tests)
writes that a message went out, with the member's id and the kind only: never a name,
a phone number or the text. A production SMS or e-mail gateway implements `Sender`.
"""

import os
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Protocol

import msgspec
import structlog

from marketplace.core import personal_data
from marketplace.core.db import engine
from marketplace.core.web.nav import N_

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class Message:
    member_id: int
    kind: str
    params: dict[str, Any] = field(default_factory=dict)
    link: str | None = None  # a path of the member site, such as /vouchers/12/rate
    source_event: int | None = None  # the outbox event that caused it, when there is one


@dataclass(frozen=True)
class _Kind:
    title: str
    body: str


_KINDS: dict[str, _Kind] = {}


def register(kind: str, title: str, body: str) -> None:
    """The words of one kind of message: English msgids with %(name)s placeholders."""
    _KINDS[kind] = _Kind(title, body)


def render(
    kind: str, params: dict[str, Any] | None, stored_title: str | None = None, stored_body: str | None = None
) -> tuple[str, str]:
    """A message's title and body in the request's language. Whatever a row holds renders:
    a kind nobody registers any more, or parameters that do not fit its words, fall back
    to the text stored with the row (messages written before kinds had words) or to the
    words without their parameters."""
    from marketplace.core.web.i18n import gettext  # the web shell imports domains that send messages

    if isinstance(params, (str, bytes)):  # a jsonb column read without a codec
        try:
            params = msgspec.json.decode(params)
        except msgspec.DecodeError:
            params = {}
    words = _KINDS.get(kind)
    if words is None:
        return stored_title or kind, stored_body or ""
    if not params and stored_title:
        return stored_title, stored_body or ""
    title, body = gettext(words.title), gettext(words.body)
    try:
        return title % (params or {}), body % (params or {})
    except (KeyError, ValueError, TypeError):
        return title.split("%(")[0].strip() or title, ""


@personal_data.forgets("notification")
async def forget_member(connection, member_id: int) -> None:
    """The inbox serves only its member: an erased member's messages go."""
    await connection.execute("DELETE FROM notification WHERE member = $1", member_id)


async def add(connection, messages: list[Message]) -> None:
    """Inbox messages in the caller's transaction (no sender: for batches such as reminders).
    One statement however many: a draw tells 100,000 entrants at once (docs/benchmarks.md)."""
    if messages:
        await connection.execute(
            "INSERT INTO notification (member, kind, params, link, source_event, created_at) "
            "SELECT member, kind, params::jsonb, link, source_event, now() "
            "FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::bigint[]) "
            "AS m(member, kind, params, link, source_event)",
            [m.member_id for m in messages],
            [m.kind for m in messages],
            [msgspec.json.encode(m.params).decode() for m in messages],
            [m.link for m in messages],
            [m.source_event for m in messages],
        )


async def tell(message: Message) -> None:
    """An inbox message in its own transaction, then the same through the sender."""
    async with engine().transaction() as transaction:
        await add(transaction.connection, [message])
    title, body = render(message.kind, message.params)
    await sender().send(message.member_id, message.kind, title, body)


class Sender(Protocol):
    async def send(self, member_id: int, kind: str, title: str, body: str) -> None: ...


class LogSender:
    async def send(self, member_id: int, kind: str, title: str, body: str) -> None:
        log.info("message_sent", member_id=member_id, kind=kind, sender="log")


@lru_cache
def sender() -> Sender:
    name = os.environ.get("MESSAGE_SENDER", "log")
    if name != "log":
        raise RuntimeError(f"MESSAGE_SENDER={name!r}: no such sender is configured in this build")
    return LogSender()


register(
    "welcome",
    N_("Welcome to union benefits"),
    N_("You are a member now: find and claim the benefits of your union here."),
)
