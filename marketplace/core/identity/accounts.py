"""Passwords after sign-up, for every audience.

- Anyone signed in changes their own password by giving the current one; their other
  sessions end (a thief signed in elsewhere is signed out).
- A member who forgot theirs sets a new one with a code sent to the phone on file, or
  signs in with such a code instead of a password.
- Staff and operators who forgot theirs ask their provider's owner or an administrator,
  who resets it to a temporary password shown once; the next sign-in must choose a new
  one (Principal.pending == "password").

Every change is audited (without the password, of course).
"""

import secrets

from marketplace.core import db
from marketplace.core.audit import services as audit
from marketplace.core.errors import Conflict, Forbidden, Invalid, NotFound, Unauthorized
from marketplace.core.federation import activation, scope, services as federation
from marketplace.core.identity import credentials, guards, operators, session_cache, sms
from marketplace.core.identity.password_rules import check_member_password, check_operator_password
from marketplace.core.identity.passwords import hash_password, verify_password
from marketplace.core.identity.principal import Principal

_TEMPORARY_ALPHABET = "23456789abcdefghjkmnpqrstuvwxyz"


def temporary_password() -> str:
    """12 characters, easy to read out and type once: xxxx-xxxx-xxxx (about 60 bits)."""
    raw = "".join(secrets.choice(_TEMPORARY_ALPHABET) for _ in range(12))
    return f"{raw[:4]}-{raw[4:8]}-{raw[8:]}"


async def end_other_sessions(kind: str, principal_id: int, keep_hash: str | None = None) -> None:
    async with db.connection() as connection:
        await connection.execute(
            "DELETE FROM auth_session WHERE principal_kind = $1 AND principal_id = $2 "
            "AND token_hash IS DISTINCT FROM $3",
            kind,
            str(principal_id),
            keep_hash,
        )
    if kind == "member":  # every web process drops them before this returns (session_cache)
        session_cache.forget(f"m:{principal_id}")
        await session_cache.fence()


async def _current_hash(principal: Principal) -> str | None:
    if principal.kind == "member":
        return await activation.password_hash(principal.id)
    if principal.kind == "provider":
        return await credentials.accounts("provider").password_hash(principal.id)
    if principal.kind == "operator":
        async with db.connection() as connection:
            return await connection.fetchval("SELECT password_hash FROM operator WHERE id = $1", principal.id)
    raise Forbidden("This account has no password to change.", code="wrong_role")


async def change_password(principal: Principal, current: str, new: str, again: str) -> None:
    """Change one's own password, proven by the current one."""
    if principal is None or principal.kind not in ("member", "provider", "operator"):
        raise Forbidden("This account has no password to change.", code="wrong_role")
    if not await verify_password(await _current_hash(principal), current or ""):
        raise Invalid("The current password is not right.", code="wrong_password", field="current_password")
    if new != again:
        raise Invalid("The two new passwords differ.", field="password_again")
    if new == current:
        raise Invalid("Choose a password different from the current one.", code="weak_password", field="password")
    if principal.kind == "member":
        check_member_password(new, "", "")
        await activation.set_password(principal.id, await hash_password(new))
    elif principal.kind == "provider":
        staff = credentials.accounts("provider")
        await staff.check_password(principal.id, new)
        await staff.set_password(principal.id, await hash_password(new))
    else:
        username = await operators.username_of(principal.id)
        check_operator_password(new, username)
        await operators.set_password(principal.id, await hash_password(new), must_change=False)
    await end_other_sessions(principal.kind, principal.id, principal.session_hash)
    async with db.engine().transaction() as transaction:
        await audit.record(
            transaction.connection, principal, f"{principal.kind}.password_changed", principal.kind, principal.id
        )


# Members: codes by SMS -------------------------------------------------------------------------------


async def _activated_member(phone: str) -> int | None:
    found = await federation.find_member_credentials(phone.strip())
    return found[0] if found and found[1] is not None else None


async def send_member_code(purpose: str, phone: str, address: str) -> None:
    """A reset or sign-in code to an activated member's phone; the same answer for any
    number, so nobody learns who is a member."""
    phone = phone.strip()
    if not federation.PHONE_PATTERN.match(phone):
        raise Invalid("Enter the 11-digit mobile number registered with your union.", field="phone")
    await sms.send_code(purpose, phone, await _activated_member(phone), address)


async def reset_member_password(phone: str, code: str, new: str, again: str) -> int:
    """Set a new password with the code sent to the phone; every session of the member ends."""
    phone = phone.strip()
    if new != again:
        raise Invalid("The two new passwords differ.", field="password_again")
    check_member_password(new, phone, "")
    member_id = await sms.check_code("reset", phone, code)
    await activation.set_password(member_id, await hash_password(new))
    await end_other_sessions("member", member_id)
    async with db.engine().transaction() as transaction:
        await audit.record(
            transaction.connection,
            Principal(kind="member", id=member_id, display_name=""),
            "member.password_reset",
            "member",
            member_id,
        )
    return member_id


async def member_for_login_code(phone: str, code: str) -> int:
    """The member whose phone received this sign-in code (the code is spent)."""
    member_id = await sms.check_code("login", phone.strip(), code)
    if await _activated_member(phone) != member_id:  # left the union or erased since
        raise Unauthorized("The account or password is wrong.", code="invalid_credentials")
    return member_id


# Staff and operators: reset by an owner or an administrator ------------------------------------------


async def reset_operator_password(principal: Principal, operator_id: int) -> str:
    """An administrator resets another operator's password in their scope; returns the
    temporary password (shown once). The operator's sessions end."""
    guards.require_administrator(principal)
    if operator_id == principal.id:
        raise Conflict("Change your own password on your account page.", code="own_account")
    path = await operators.node_path_of(operator_id)
    scope.require_covers(principal, path, NotFound("No such operator in your scope.", code="operator_not_found"))
    temporary = temporary_password()
    await operators.set_password(operator_id, await hash_password(temporary), must_change=True)
    await end_other_sessions("operator", operator_id)
    async with db.engine().transaction() as transaction:
        await audit.record(transaction.connection, principal, "operator.password_reset", "operator", operator_id)
    return temporary


REASON_MAX = 500


async def check_two_factor_reset(principal: Principal, operator_id: int, reason: str) -> str:
    """The checks of `reset_operator_two_factor`, also run before its confirmation question;
    returns the reason trimmed."""
    guards.require_administrator(principal)
    if operator_id == principal.id:
        raise Conflict(
            "Turn your own two-factor sign-in off on your security page.", code="own_account", field="reason"
        )
    path = await operators.node_path_of(operator_id)
    scope.require_covers(principal, path, NotFound("No such operator in your scope.", code="operator_not_found"))
    reason = reason.strip()
    if not reason:
        raise Invalid("Say why, for the audit log: how you checked who asked.", field="reason")
    if len(reason) > REASON_MAX:
        raise Invalid("Keep the reason to %(max)s characters.", field="reason", params={"max": REASON_MAX})
    return reason


async def reset_operator_two_factor(principal: Principal, operator_id: int, reason: str) -> None:
    """An administrator clears another operator's lost authenticator (and its recovery
    codes), for the reason given, after checking who is asking outside the product. The
    operator's sessions end; their next sign-in is by password alone and leads straight to
    setting two-factor sign-in up again (Principal.pending == "two_factor"), whatever their
    role. An administrator's own goes through their security page, with their password."""
    reason = await check_two_factor_reset(principal, operator_id, reason)
    async with db.engine().transaction() as transaction:
        connection = transaction.connection
        cleared = await connection.fetchval(
            "UPDATE operator SET totp_secret_cipher = NULL, totp_last_step = NULL, totp_setup_required = true "
            "WHERE id = $1 AND totp_secret_cipher IS NOT NULL RETURNING id",
            operator_id,
        )
        if cleared is None:
            raise Conflict("This operator has no two-factor sign-in to reset.", code="two_factor_off", field="reason")
        codes_left = await connection.fetchval(
            "SELECT count(*) FROM operator_recovery_code WHERE operator = $1 AND used_at IS NULL", operator_id
        )
        await connection.execute("DELETE FROM operator_recovery_code WHERE operator = $1", operator_id)
        await audit.record(
            connection,
            principal,
            "operator.totp_reset",
            "operator",
            operator_id,
            reason,
            {
                "before": {"two_factor": True, "recovery_codes_left": codes_left},
                "after": {"two_factor": False, "setup_required": True},
            },
        )
    await end_other_sessions("operator", operator_id)


async def reset_staff_password(principal: Principal, user_id: int) -> str:
    """A provider's owner resets a staff account's password; returns the temporary one."""
    guards.require_owner(principal)
    temporary = temporary_password()
    await credentials.accounts("provider").reset_password(principal, user_id, await hash_password(temporary))
    await end_other_sessions("provider", user_id)
    async with db.engine().transaction() as transaction:
        await audit.record(transaction.connection, principal, "provider_user.password_reset", "provider_user", user_id)
    return temporary
