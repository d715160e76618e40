"""Operators' two-factor sign-in: an authenticator app (TOTP) with ten recovery codes.

- The key is stored encrypted with the personal-data key (pii.encrypt; rotated with it).
- A code works once: the step of the last accepted code is kept, and only a later step
  is accepted (one UPDATE ... WHERE last_step < step, so two parallel sign-ins with the
  same code cannot both pass).
- Recovery codes: ten, shown once when two-factor sign-in is turned on, kept as keyed
  hashes, each good for one sign-in.
- Turning it off needs the account's password.
- Required for the roles that reveal members' personal data (`REQUIRED_ROLES`): such an
  operator, signed in without it, can do nothing but set it up (see guards.account_setup).
"""

import hashlib
import hmac
import re
import secrets
from datetime import UTC, datetime

from marketplace.core import pii
from marketplace.core.audit import services as audit
from marketplace.core.db import connection as db_connection, engine
from marketplace.core.errors import Invalid
from marketplace.core.identity import guards, totp
from marketplace.core.identity.passwords import verify_password
from marketplace.core.identity.principal import Principal
from marketplace.core.settings import get_settings

RECOVERY_CODES = 10
_RECOVERY_ALPHABET = "23456789abcdefghjkmnpqrstuvwxyz"  # no 0/o, 1/l/i: read off paper
_RECOVERY = re.compile(f"[{_RECOVERY_ALPHABET}]{{4}}-?[{_RECOVERY_ALPHABET}]{{4}}")


def required_for(role: str | None) -> bool:
    """Roles that reveal members' personal data must use two-factor sign-in."""
    return role in get_settings().security.totp_required_roles


def _recovery_hash(code: str) -> bytes:
    normal = code.strip().lower().replace("-", "").replace(" ", "")
    return hmac.new(get_settings().security.pii_hash_key, b"recovery:" + normal.encode(), hashlib.sha256).digest()


def new_recovery_codes() -> list[str]:
    codes = []
    for _ in range(RECOVERY_CODES):
        raw = "".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(8))
        codes.append(f"{raw[:4]}-{raw[4:]}")
    return codes


async def status(operator_id: int) -> dict:
    async with db_connection() as connection:
        row = await connection.fetchrow(
            "SELECT o.totp_secret_cipher IS NOT NULL AS enabled, "
            "(SELECT count(*) FROM operator_recovery_code c WHERE c.operator = o.id AND c.used_at IS NULL) AS left "
            "FROM operator o WHERE o.id = $1",
            operator_id,
        )
    return {"enabled": bool(row and row["enabled"]), "recovery_left": row["left"] if row else 0}


async def enabled(operator_id: int) -> bool:
    return (await status(operator_id))["enabled"]


async def _store_recovery_codes(connection, operator_id: int) -> list[str]:
    codes = new_recovery_codes()
    now = datetime.now(UTC)
    await connection.execute("DELETE FROM operator_recovery_code WHERE operator = $1", operator_id)
    await connection.executemany(
        "INSERT INTO operator_recovery_code (operator, code_hash, created_at) VALUES ($1, $2, $3)",
        [(operator_id, _recovery_hash(code), now) for code in codes],
    )
    return codes


async def enable(principal: Principal, secret: str, code: str) -> list[str]:
    """Turn on two-factor sign-in with the key the operator's app now holds, proven by a
    current code from it; returns the ten recovery codes (shown once, never again)."""
    guards.require_operator(principal)
    if not totp.is_secret(secret):
        raise Invalid("The key must be the one shown on the page.", field="secret")
    step = totp.matching_step(secret, code)
    if step is None:
        raise Invalid("This code does not match; check the time on your phone and try again.", field="code")
    async with engine().transaction() as transaction:
        connection = transaction.connection
        await connection.execute(
            "UPDATE operator SET totp_secret_cipher = $2, totp_last_step = $3, totp_setup_required = false "
            "WHERE id = $1",
            principal.id,
            pii.encrypt(secret),
            step,
        )
        codes = await _store_recovery_codes(connection, principal.id)
        await audit.record(connection, principal, "operator.totp_enabled", "operator", principal.id)
    return codes


async def _check_password(principal: Principal, password: str) -> None:
    async with db_connection() as connection:
        password_hash = await connection.fetchval("SELECT password_hash FROM operator WHERE id = $1", principal.id)
    if not await verify_password(password_hash, password or ""):
        raise Invalid("The password is not right.", code="wrong_password", field="password")


async def disable(principal: Principal, password: str) -> None:
    """Turn it off, confirmed with the account's password."""
    guards.require_operator(principal)
    await _check_password(principal, password)
    async with engine().transaction() as transaction:
        connection = transaction.connection
        await connection.execute(
            "UPDATE operator SET totp_secret_cipher = NULL, totp_last_step = NULL WHERE id = $1", principal.id
        )
        await connection.execute("DELETE FROM operator_recovery_code WHERE operator = $1", principal.id)
        await audit.record(connection, principal, "operator.totp_disabled", "operator", principal.id)


async def renew_recovery_codes(principal: Principal, password: str) -> list[str]:
    """Ten new recovery codes (the old ones stop working), confirmed with the password."""
    guards.require_operator(principal)
    await _check_password(principal, password)
    if not await enabled(principal.id):
        raise Invalid("Turn on two-factor sign-in first.", field="password")
    async with engine().transaction() as transaction:
        codes = await _store_recovery_codes(transaction.connection, principal.id)
        await audit.record(
            transaction.connection, principal, "operator.recovery_codes_renewed", "operator", principal.id
        )
    return codes


async def accept(operator_id: int, code: str | None) -> bool:
    """True when `code` is a current authenticator code not used before, or an unused
    recovery code, for this operator; either is then spent."""
    code = (code or "").strip()
    async with db_connection() as connection:
        cipher = await connection.fetchval("SELECT totp_secret_cipher FROM operator WHERE id = $1", operator_id)
        if cipher is None or not code:
            return False
        step = totp.matching_step(pii.decrypt(bytes(cipher)), code)
        if step is not None:
            return (
                await connection.fetchval(
                    "UPDATE operator SET totp_last_step = $2 WHERE id = $1 "
                    "AND (totp_last_step IS NULL OR totp_last_step < $2) RETURNING id",
                    operator_id,
                    step,
                )
                is not None
            )
        if not _RECOVERY.fullmatch(code.lower()):
            return False
        return (
            await connection.fetchval(
                "UPDATE operator_recovery_code SET used_at = $3 WHERE operator = $1 AND code_hash = $2 "
                "AND used_at IS NULL RETURNING id",
                operator_id,
                _recovery_hash(code),
                datetime.now(UTC),
            )
            is not None
        )


async def operator_id_for(username: str) -> int | None:
    async with db_connection() as connection:
        return await connection.fetchval("SELECT id FROM operator WHERE username = $1 AND active", username.strip())
