"""Third-party evaluator organisations and their API keys."""

import hashlib
import hmac
import secrets
from datetime import UTC, datetime

from evaluation.tables import EvaluatorApiKey, EvaluatorOrg
from marketplace.core.federation import services as federation
from marketplace.core.identity import credentials
from marketplace.core.identity.principal import Principal

KEY_PREFIX = "ek_"


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


async def create_api_key(org_id: int, *, connection=None) -> str:
    """A new key `ek_<prefix>_<secret>`; returned once, only its hash is stored (on the
    caller's connection, inside their transaction, when given)."""
    prefix = secrets.token_hex(6)
    key = f"{KEY_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
    if connection is not None:
        await connection.execute(
            "INSERT INTO evaluator_api_key (org, prefix, key_hash, created_at) VALUES ($1, $2, $3, $4)",
            org_id,
            prefix,
            _digest(key),
            datetime.now(UTC),
        )
        return key
    await EvaluatorApiKey.insert(
        EvaluatorApiKey(
            org=org_id,
            prefix=prefix,
            key_hash=_digest(key),
            created_at=datetime.now(UTC),
        )
    )
    return key


async def rotate_api_key(org_id: int) -> str:
    """Revoke the organisation's keys and issue a new one (returned once)."""
    await EvaluatorApiKey.update({EvaluatorApiKey.revoked_at: datetime.now(UTC)}).where(
        (EvaluatorApiKey.org == org_id) & EvaluatorApiKey.revoked_at.is_null()
    )
    return await create_api_key(org_id)


async def find_org(name: str) -> dict | None:
    return await EvaluatorOrg.select().where(EvaluatorOrg.name == name).first()


def key_prefix(key: str) -> str | None:
    """The public prefix that names a key (`ek_<prefix>_<secret>`), or None if malformed."""
    parts = key.split("_", 2)
    return parts[1] if len(parts) == 3 and key.startswith(KEY_PREFIX) and parts[1] else None


async def authenticate_api_key(key: str) -> dict | None:
    """The organisation a valid, unrevoked key belongs to, or None."""
    prefix = key_prefix(key)
    if prefix is None:
        return None
    row = (
        await EvaluatorApiKey.select(EvaluatorApiKey.id, EvaluatorApiKey.key_hash, EvaluatorApiKey.org)
        .where((EvaluatorApiKey.prefix == prefix) & EvaluatorApiKey.revoked_at.is_null())
        .first()
    )
    if row is None or not hmac.compare_digest(row["key_hash"], _digest(key)):
        return None
    await EvaluatorApiKey.update({EvaluatorApiKey.last_used_at: datetime.now(UTC)}).where(
        EvaluatorApiKey.id == row["id"]
    )
    return await get_org(row["org"])


async def get_org(org_id: int) -> dict | None:
    return await EvaluatorOrg.select().where((EvaluatorOrg.id == org_id) & EvaluatorOrg.active.eq(True)).first()


async def _principal(org: dict | None) -> Principal | None:
    if org is None:
        return None
    node = await federation.get_node(org["node"])
    return Principal(kind="evaluator", id=org["id"], display_name=org["name"], node_id=node.id, node_path=node.path)


async def _principal_for_key(key: str) -> Principal | None:
    return await _principal(await authenticate_api_key(key))


async def _principal_for_id(org_id: int) -> Principal | None:
    return await _principal(await get_org(org_id))


# An evaluator signs in with its API key alone (a session for the pages, or the key on each
# API call); identity reaches the keys through this registration.
credentials.register(
    "evaluator",
    credentials.Accounts(load_principal=_principal_for_id, key_account=key_prefix, authenticate_key=_principal_for_key),
)
