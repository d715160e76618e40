"""Messages to members: always in the app (the notification table), and through a
pluggable sender for SMS or e-mail.

`MESSAGE_SENDER` chooses the sender: `log` (the default, for development and tests)
writes that a message went out, with the member's id and the kind only: never a name,
a phone number or the text. A production SMS or e-mail gateway implements `Sender`.
"""

import os
from functools import lru_cache
from typing import Protocol

import structlog

from marketplace.db import engine
from marketplace.federation import services as federation

log = structlog.get_logger(__name__)


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


async def tell(member_id: int, kind: str, title: str, body: str) -> None:
    """An in-app message, then the same through the sender."""
    async with engine().transaction() as transaction:
        await federation.notify(transaction.connection, [(member_id, kind, title, body)])
    await sender().send(member_id, kind, title, body)
