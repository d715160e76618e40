"""Sign-in, sessions and bearer tokens for all four kinds of user.

A session is an opaque random token held by the browser (cookie) or an API client
(bearer); the database keeps only its SHA-256. Provider, operator and evaluator
sessions end after 30 idle minutes and at most 12 hours; member sessions last 30 days.
Evaluator organisations authenticate API calls with their API key directly.
"""

import hashlib
import secrets
from datetime import UTC, datetime, timedelta

from marketplace.core import db, personal_data
from marketplace.core.errors import Invalid, Unauthorized
from marketplace.core.federation import services as federation
from marketplace.core.identity import credentials, session_cache, throttle, two_factor
from marketplace.core.identity.passwords import verify_password
from marketplace.core.identity.principal import Principal, PrincipalKind
from marketplace.core.identity.tables import AuthSession, Operator
from marketplace.core.settings import get_settings

KINDS: tuple[PrincipalKind, ...] = ("member", "provider", "operator", "evaluator")
_TOUCH_INTERVAL = timedelta(seconds=60)


@personal_data.forgets("auth_session")
async def forget_member(connection, member_id: int) -> None:
    """An erased member is signed out everywhere, for good."""
    await connection.execute(
        "DELETE FROM auth_session WHERE principal_kind = 'member' AND principal_id = $1", str(member_id)
    )


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _now() -> datetime:
    return datetime.now(UTC)


def sliding(kind: str) -> bool:
    """Staff sessions (providers, operators, evaluators) end after idle time; members' do not."""
    return kind != "member"


def _expiry(kind: str, created_at: datetime, now: datetime) -> datetime:
    security = get_settings().security
    if sliding(kind):
        return min(
            created_at + timedelta(hours=security.session_absolute_hours),
            now + timedelta(minutes=security.session_idle_minutes),
        )
    return created_at + timedelta(days=security.member_session_days)


async def sign_in(
    kind: str, identifier: str, secret: str, address: str, channel: str, otp: str | None = None
) -> tuple[str, datetime]:
    """Check the credentials (and, for an operator who turned it on, the one-time code)
    and open a session; returns (token, expires_at)."""
    if kind not in KINDS:
        raise Invalid("Choose one of the account kinds: %(kinds)s.", field="kind", params={"kinds": ", ".join(KINDS)})
    # An evaluator signs in with its API key alone: its account is the key's prefix.
    account = (credentials.accounts(kind).key_account(secret) or secret) if kind == "evaluator" else identifier
    account_key, address_key = throttle.keys(kind, account, address)
    # An operator's valid authenticator code lets the attempt past the account's wait, so a
    # stranger who keeps failing on purpose cannot keep the owner out (see throttle).
    second_factor = False
    if kind == "operator" and otp and await throttle.waiting(account_key):
        operator_id = await two_factor.operator_id_for(identifier)
        second_factor = operator_id is not None and await two_factor.accept(operator_id, otp)
    await throttle.count_attempt(account_key, address_key, skip_account=second_factor)
    principal_id = await _verify(kind, identifier, secret)
    if principal_id is None:
        await throttle.failed(account_key, address_key)
        raise Unauthorized("The account or password is wrong.", code="invalid_credentials")
    if (
        kind == "operator"
        and not second_factor
        and await two_factor.enabled(principal_id)
        and not await two_factor.accept(principal_id, otp)
    ):
        # Counted like a wrong password: guessing codes is throttled too.
        await throttle.failed(account_key, address_key)
        raise Unauthorized("Enter the 6-digit code from your authenticator app.", code="otp_required")
    await throttle.forgive(account_key, address_key)
    return await open_session(kind, principal_id, channel)


async def _verify(kind: str, identifier: str, secret: str) -> int | None:
    if kind == "evaluator":
        principal = await credentials.accounts(kind).authenticate_key(secret)
        return principal.id if principal else None
    if kind == "member":
        found = await federation.find_member_credentials(identifier.strip())
    elif kind == "provider":
        found = await credentials.accounts(kind).find_credentials(identifier.strip())
    else:
        row = (
            await Operator.select(Operator.id, Operator.password_hash)
            .where((Operator.username == identifier.strip()) & Operator.active.eq(True))
            .first()
        )
        found = (row["id"], row["password_hash"]) if row else None
    principal_id, password_hash = found or (None, None)
    # Verify even when the account is unknown, so timing does not tell which exist.
    if await verify_password(password_hash, secret) and principal_id is not None:
        return principal_id
    return None


async def open_session(kind: str, principal_id: int, channel: str) -> tuple[str, datetime]:
    token = secrets.token_urlsafe(32)
    now = _now()
    expires_at = _expiry(kind, now, now)
    await AuthSession.insert(
        AuthSession(
            token_hash=_hash(token),
            principal_kind=kind,
            principal_id=str(principal_id),
            channel=channel,
            created_at=now,
            last_seen_at=now,
            expires_at=expires_at,
        )
    )
    return token, expires_at


# The session and, for a member's, the member principal in one statement: one round trip
# on every signed-in request (members are most of them).
_SESSION_SQL = (
    "SELECT s.principal_kind, s.principal_id, s.created_at, s.last_seen_at, s.expires_at, "
    f"{federation.MEMBER_PRINCIPAL_COLUMNS} FROM auth_session s "
    + federation.MEMBER_PRINCIPAL_JOIN.format(
        member_id="(CASE WHEN s.principal_kind = 'member' THEN s.principal_id::bigint END)"
    )
    + " WHERE s.token_hash = $1 AND s.channel = $2 AND s.expires_at > $3"
)


async def principal_for_token(token: str, channel: str) -> Principal | None:
    token_hash = _hash(token)
    cached = session_cache.get(token_hash, channel)
    if cached is not None:
        return cached
    since = session_cache.generation()
    now = _now()
    # Straight asyncpg on one connection: this runs on every signed-in request, and the
    # ORM's query building and a pool round per query cost more than the queries.
    async with db.connection() as connection:
        row = await connection.fetchrow(_SESSION_SQL, token_hash, channel, now)
        if row is None:
            return None
        if now - row["last_seen_at"] > _TOUCH_INTERVAL:
            await connection.execute(
                "UPDATE auth_session SET last_seen_at = $2, expires_at = $3 WHERE token_hash = $1",
                token_hash,
                now,
                _expiry(row["principal_kind"], row["created_at"], now),
            )
    if row["principal_kind"] == "member":  # the hot path: members are most requests
        member = federation.member_principal_from_row(row, session_hash=token_hash)
        if member is not None:
            session_cache.put(token_hash, channel, member, row["expires_at"], since)
        return member
    principal = await load_principal(row["principal_kind"], int(row["principal_id"]))
    if principal is None:
        return None
    return Principal(**{**principal.__dict__, "session_hash": token_hash})


async def principal_for_api_key(key: str) -> Principal | None:
    return await credentials.accounts("evaluator").authenticate_key(key)


async def load_principal(kind: str, principal_id: int) -> Principal | None:
    if kind == "member":
        return await federation.member_principal(principal_id)
    if kind == "operator":
        row = await Operator.select().where((Operator.id == principal_id) & Operator.active.eq(True)).first()
        if row is None:
            return None
        node = await federation.get_node(row["node"])
        pending = None
        if row["must_change_password"]:
            pending = "password"
        elif row["totp_secret_cipher"] is None and (row["totp_setup_required"] or two_factor.required_for(row["role"])):
            pending = "two_factor"
        return Principal(
            kind="operator",
            id=row["id"],
            display_name=row["display_name"],
            node_id=node.id,
            node_path=node.path,
            role=row["role"],
            pending=pending,
        )
    if kind in ("provider", "evaluator"):
        return await credentials.accounts(kind).load_principal(principal_id)
    return None


async def sign_out(principal: Principal) -> None:
    if principal.session_hash:
        await AuthSession.delete().where(AuthSession.token_hash == principal.session_hash)
        # This process drops it at once, every other one before this returns (session_cache).
        session_cache.forget(f"s:{principal.session_hash}")
        await session_cache.fence()


async def purge_expired_sessions() -> int:
    rows = await AuthSession.delete().where(AuthSession.expires_at < _now()).returning(AuthSession.token_hash)
    return len(rows)
