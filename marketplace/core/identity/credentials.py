"""The accounts that domains above the foundation own, as identity reaches them.

Members (federation) and operators (identity) live in the foundation, and identity reads
them directly. A provider's staff and an evaluator organisation's API keys live in their
domains, which the foundation does not import (issue 16): each registers what sign-in,
sessions and password changes need when its services module is imported, as pages do
with `nav.register` and actors with `outbox.subscribe`:

    credentials.register("provider", credentials.Accounts(load_principal=..., find_credentials=..., ...))

Every process that signs people in (the web app, the worker) imports those domains.
"""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import NoReturn

from marketplace.core.identity.principal import Principal


def _not_offered(*_: object) -> NoReturn:
    """What a kind of account does not do (an evaluator has no password): calling it is a
    composition bug, not the user's."""
    raise RuntimeError("this kind of account does not offer that")


@dataclass(frozen=True)
class Accounts:
    # The principal of an account by id, or None when it may no longer sign in.
    load_principal: Callable[[int], Awaitable[Principal | None]]
    # Password sign-in: the active account's (id, password hash) by username, or None.
    find_credentials: Callable[[str], Awaitable[tuple[int, str] | None]] = _not_offered
    # API-key sign-in: the account a key names (throttling counts attempts per account,
    # even with a wrong secret), and the principal of a valid key or None.
    key_account: Callable[[str], str | None] = _not_offered
    authenticate_key: Callable[[str], Awaitable[Principal | None]] = _not_offered
    # Changing one's own password: the current hash, the rule a new one must pass (raises
    # Invalid), and storing the new hash.
    password_hash: Callable[[int], Awaitable[str | None]] = _not_offered
    check_password: Callable[[int, str], Awaitable[None]] = _not_offered
    set_password: Callable[[int, str], Awaitable[None]] = _not_offered
    # A manager resets a colleague's password to a temporary one (its hash), to be changed
    # at the next sign-in; raises when the account is not the manager's to reset.
    reset_password: Callable[[Principal, int, str], Awaitable[None]] = _not_offered


_registered: dict[str, Accounts] = {}


def register(kind: str, accounts: Accounts) -> None:
    _registered[kind] = accounts


def accounts(kind: str) -> Accounts:
    """The registered accounts of `kind`; a missing one is a composition bug, not the user's."""
    try:
        return _registered[kind]
    except KeyError:
        raise RuntimeError(f"no domain registered the {kind} accounts; import it in the app") from None
