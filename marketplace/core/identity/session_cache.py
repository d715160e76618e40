"""Members' sessions, remembered for a short time by each web process.

Every signed-in request looked its session up in PostgreSQL; in a flash sale that is the
larger half of a refused claim's work. A web process now keeps the member principal of
a session it found for at most `SESSION_CACHE_SECONDS` (300 by default; 0 turns the cache
off), and forgets it the moment the database says it no longer holds (so that time is not
what ends a revoked session: it bounds a listening connection that died without a word):

- triggers (migration marketplace_0013) send `NOTIFY session_revoked` at the commit of
  any change that ends or alters a member's session: an `auth_session` row deleted
  (sign-out, another session ended by a password change, erasure, purge), a `member`
  row changed in what its principal holds (name, node, groups, status: a member who left
  or was disabled) or deleted, a node's path changed, a table truncated. Triggers, so that
  no code path, script or hand-written statement can forget to tell; NOTIFY, so that a
  rolled-back change tells nothing and the message reaches every process listening on the
  database, whichever worker or machine it runs in.
- each web process listens on a connection of its own (`start`, at app start-up) and
  drops what a message names: "s:<token hash>", "m:<member id>", or "*" (everything; a
  bulk change of more than 100 rows).
- a process that revokes through the code (sign-out, a password change ending the other
  sessions) drops its own entries at once, then calls `fence`: it sends "f:<nonce>" after
  its change committed, and waits until every listening process has answered it on
  `session_revoked_ack`. PostgreSQL delivers notifications in commit order, so a process
  that answers the fence has already dropped what the change named: when the sign-out is
  answered, no process anywhere still holds the session. (A process that does not answer
  within two seconds is logged and not waited for.) A change made behind the code (a
  statement, a script) takes effect in each process when the message reaches it, the time
  a NOTIFY takes to travel (milliseconds).
- while the listening connection is down (the database restarting), nothing is cached
  or read from the cache; when it is back, the cache starts empty.
- a look-up that began before a message arrived does not store what it read (it may
  predate the change): every message counts one `generation`, and `put` is refused when
  the generation moved since the look-up began.

Only members' sessions are cached: they are nearly all requests, they do not slide (their
expiry is fixed at sign-in, so skipping the minute-by-minute `last_seen_at` touch on a hit
loses nothing), and their principal comes from the member row alone. Staff principals
depend on roles, two-factor set-up and accounts of other domains: they are read every time.
"""

import asyncio
import contextlib
import secrets
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime

import asyncpg
import structlog

from marketplace.core import db
from marketplace.core.identity.principal import Principal
from marketplace.core.settings import get_settings

log = structlog.get_logger(__name__)

CHANNEL = "session_revoked"
ACK_CHANNEL = "session_revoked_ack"
# The listening connections name themselves, so that `fence` knows how many answers to await.
APPLICATION_NAME = "benefits-session-cache"
FENCE_TIMEOUT_SECONDS = 2.0
MAX_ENTRIES = 100_000  # past this the cache starts again empty (about 40 MB at most)
_RECONNECT_SECONDS = 1.0

# (token hash, channel) -> (monotonic deadline, session expiry, principal)
_entries: dict[tuple[str, str], tuple[float, datetime, Principal]] = {}
_generation = 0
_listening = False
_task: asyncio.Task | None = None
_listener: asyncpg.Connection | None = None
_listener_lock = asyncio.Lock()  # one statement at a time on the listening connection


@dataclass
class _Fence:
    expected: int  # listening processes when it was sent
    answers: int = 0
    done: asyncio.Event = field(default_factory=asyncio.Event)


_fences: dict[str, _Fence] = {}


def _seconds() -> int:
    return get_settings().security.session_cache_seconds


def enabled() -> bool:
    return _listening and _seconds() > 0


def generation() -> int:
    """Take this before a look-up and give it to `put`."""
    return _generation


def get(token_hash: str, channel: str) -> Principal | None:
    if not _listening:
        return None
    entry = _entries.get((token_hash, channel))
    if entry is None:
        return None
    deadline, expires_at, principal = entry
    if time.monotonic() >= deadline or datetime.now(UTC) >= expires_at:
        _entries.pop((token_hash, channel), None)
        return None
    return principal


def put(token_hash: str, channel: str, principal: Principal, expires_at: datetime, since: int) -> None:
    """Remember a member's session found by a look-up that began at generation `since`."""
    if not enabled() or since != _generation or principal.kind != "member":
        return
    if len(_entries) >= MAX_ENTRIES:
        _entries.clear()
    _entries[(token_hash, channel)] = (time.monotonic() + _seconds(), expires_at, principal)


def forget(message: str) -> None:
    """Drop what a revocation message names ("s:<hash>", "m:<member id>" or "*")."""
    global _generation
    _generation += 1
    kind, _, value = message.partition(":")
    if kind == "s":
        for channel in ("bearer", "cookie"):
            _entries.pop((value, channel), None)
    elif kind == "m" and value.isdigit():
        member_id = int(value)
        for key in [key for key, (_, _, principal) in _entries.items() if principal.id == member_id]:
            del _entries[key]
    else:
        _entries.clear()


def _on_message(_connection, _pid: int, _channel: str, payload: str) -> None:
    if payload.startswith("f:"):
        # Messages are handled in order: everything sent before this fence is dropped.
        asyncio.get_running_loop().create_task(_answer(payload.removeprefix("f:")))
    else:
        forget(payload)


async def _answer(nonce: str) -> None:
    try:
        async with _listener_lock:
            if _listener is not None and not _listener.is_closed():
                await _listener.execute("SELECT pg_notify($1, $2)", ACK_CHANNEL, nonce)
    except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as error:
        log.warning("session_cache_fence_unanswered", error=str(error))


def _on_answer(_connection, _pid: int, _channel: str, nonce: str) -> None:
    waiting = _fences.get(nonce)
    if waiting is not None:
        waiting.answers += 1
        if waiting.answers >= waiting.expected:
            waiting.done.set()


async def fence() -> None:
    """After a revocation committed: return once every listening process has dropped what
    it named (this one included). Without a listening connection here, nothing to wait on."""
    if not _listening:
        return
    nonce = secrets.token_hex(8)
    async with db.connection() as connection:
        expected = await connection.fetchval(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = $1 AND datname = current_database()",
            APPLICATION_NAME,
        )
        if not expected:
            return
        _fences[nonce] = waiting = _Fence(expected)
        try:
            await connection.execute("SELECT pg_notify($1, $2)", CHANNEL, f"f:{nonce}")
        except BaseException:
            _fences.pop(nonce, None)
            raise
    try:
        await asyncio.wait_for(waiting.done.wait(), FENCE_TIMEOUT_SECONDS)
    except TimeoutError:
        log.warning("session_cache_fence_timeout", expected=expected, answered=waiting.answers)
    finally:
        _fences.pop(nonce, None)


async def _listen() -> None:
    """Keep one connection listening; cache only while it does."""
    global _listener, _listening
    while True:
        connection = None
        try:
            connection = await asyncpg.connect(
                get_settings().database.url, server_settings={"application_name": APPLICATION_NAME}
            )
            lost = asyncio.Event()
            connection.add_termination_listener(lambda _connection, lost=lost: lost.set())
            await connection.add_listener(CHANNEL, _on_message)
            await connection.add_listener(ACK_CHANNEL, _on_answer)
            forget("*")  # whatever changed while nobody listened
            _listener, _listening = connection, True
            await lost.wait()
        except asyncio.CancelledError:
            raise
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as error:
            log.warning("session_cache_listener_down", error=str(error))
        finally:
            _listener, _listening = None, False
            _entries.clear()
            if connection is not None and not connection.is_closed():
                connection.terminate()
        await asyncio.sleep(_RECONNECT_SECONDS)


async def start() -> None:
    """At app start-up: listen for revocations (the cache stays off until it does)."""
    global _task
    if _seconds() > 0 and _task is None:
        _task = asyncio.get_running_loop().create_task(_listen())


async def stop() -> None:
    global _task
    task, _task = _task, None
    if task is not None:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
