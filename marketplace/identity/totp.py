"""Time-based one-time passwords (RFC 6238: HMAC-SHA1, 30-second steps, 6 digits), for
operators who turn on two-factor sign-in. Any authenticator app reads the otpauth URI."""

import base64
import binascii
import hashlib
import hmac
import re
import secrets
import struct
import time
from urllib.parse import quote

STEP_SECONDS = 30
DIGITS = 6
DRIFT_STEPS = 1  # accept the previous and the next code too: phones' clocks drift


def is_secret(value: str) -> bool:
    """A base32 key of 128 to 320 bits, as new_secret makes."""
    if not 26 <= len(value or "") <= 64 or any(char not in "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567" for char in value):
        return False
    try:
        _key(value)
    except binascii.Error:  # a length no whole number of bytes gives
        return False
    return True


def _key(secret: str) -> bytes:
    return base64.b32decode(secret + "=" * (-len(secret) % 8), casefold=True)


def new_secret() -> str:
    return base64.b32encode(secrets.token_bytes(20)).decode().rstrip("=")


def code_at(secret: str, moment: float) -> str:
    digest = hmac.new(_key(secret), struct.pack(">Q", int(moment // STEP_SECONDS)), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    number = struct.unpack(">I", digest[offset:offset + 4])[0] & 0x7FFFFFFF
    return str(number % 10**DIGITS).zfill(DIGITS)


def verify(secret: str, code: str | None, now: float | None = None) -> bool:
    code = (code or "").strip().replace(" ", "")
    # ASCII digits only: full-width ones (from a Chinese input method) are not a code.
    if not re.fullmatch(r"[0-9]{%d}" % DIGITS, code):
        return False
    now = time.time() if now is None else now
    return any(hmac.compare_digest(code_at(secret, now + drift * STEP_SECONDS), code)
               for drift in range(-DRIFT_STEPS, DRIFT_STEPS + 1))


def otpauth_uri(secret: str, account: str, issuer: str = "工会普惠") -> str:
    return (f"otpauth://totp/{quote(issuer)}:{quote(account)}?secret={secret}&issuer={quote(issuer)}"
            f"&digits={DIGITS}&period={STEP_SECONDS}")
