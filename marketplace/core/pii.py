"""Personal data at rest: AES-GCM encryption, keyed-hash look-ups and masking.

Phone and ID numbers are stored only as `encrypt(value)` plus `lookup_hash(value)`;
the hash (HMAC-SHA256 with its own key) lets us find a member by phone without
decrypting every row. Masking is what anyone but the owner sees.
"""

import hashlib
import hmac
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from marketplace.core.settings import get_settings

_NONCE_BYTES = 12
_KEY_VERSION = b"\x01"  # lets a rotation tell old ciphertexts from new ones


def encrypt(value: str) -> bytes:
    nonce = os.urandom(_NONCE_BYTES)
    key = get_settings().security.pii_encryption_key
    return _KEY_VERSION + nonce + AESGCM(key).encrypt(nonce, value.encode(), _KEY_VERSION)


def decrypt(blob: bytes) -> str:
    """The plaintext; during a key rotation (PII_ENCRYPTION_KEY_OLD set), a value not yet
    re-encrypted is read with the old key (see docs/operations.md)."""
    version, nonce, ciphertext = blob[:1], blob[1 : 1 + _NONCE_BYTES], blob[1 + _NONCE_BYTES :]
    security = get_settings().security
    try:
        return AESGCM(security.pii_encryption_key).decrypt(nonce, ciphertext, version).decode()
    except InvalidTag:
        if security.pii_encryption_key_old is None:
            raise
        return AESGCM(security.pii_encryption_key_old).decrypt(nonce, ciphertext, version).decode()


# Every column that holds an encrypted value: (table, column).
ENCRYPTED_COLUMNS = (
    ("member", "phone_cipher"),
    ("member", "id_number_cipher"),
    ("provider", "contact_phone_cipher"),
    ("operator", "totp_secret_cipher"),
)


async def rotate_key(batch: int = 5000) -> int:
    """Re-encrypt every encrypted value with the current key (reading old ones with
    PII_ENCRYPTION_KEY_OLD), a batch per transaction; returns how many were rewritten.
    Safe to run again: values already under the current key are rewritten unchanged."""
    from marketplace.core.db import engine

    rewritten = 0
    for table, column in ENCRYPTED_COLUMNS:
        last = 0
        while True:
            async with engine().transaction() as transaction:
                connection = transaction.connection
                rows = await connection.fetch(
                    f"SELECT id, {column} AS blob FROM {table} WHERE id > $1 AND {column} IS NOT NULL "
                    f"ORDER BY id LIMIT $2 FOR UPDATE",
                    last,
                    batch,
                )
                if not rows:
                    break
                await connection.executemany(
                    f"UPDATE {table} SET {column} = $2 WHERE id = $1",
                    [(row["id"], encrypt(decrypt(bytes(row["blob"])))) for row in rows],
                )
                last = rows[-1]["id"]
                rewritten += len(rows)
    return rewritten


def lookup_hash(value: str) -> bytes:
    return hmac.new(get_settings().security.pii_hash_key, value.encode(), hashlib.sha256).digest()


def mask_name(name: str) -> str:
    """王小芳 → 王*芳, 王芳 → 王*, Alice Smith → A*********h."""
    if len(name) <= 1:
        return "*"
    if len(name) == 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]


def mask_phone(phone: str) -> str:
    """13812341234 → 138****1234."""
    return phone[:3] + "****" + phone[-4:]


def mask_id_number(id_number: str) -> str:
    """110105199001011234 → 1101**********1234."""
    return id_number[:4] + "*" * (len(id_number) - 8) + id_number[-4:]
