"""Time-based one-time passwords (RFC 6238: HMAC-SHA1, 30-second steps, 6 digits) through
pyotp, for operators' two-factor sign-in. Any authenticator app reads the otpauth URI.

Pure functions: which step a code belongs to. Replay protection (a code works once),
storage (encrypted) and recovery codes are in identity.two_factor.
"""

import base64
import binascii
import re
import time

import pyotp
from pyotp.utils import strings_equal

STEP_SECONDS = 30
DIGITS = 6
DRIFT_STEPS = 1  # accept the previous and the next code too: phones' clocks drift
ISSUER = "工会普惠"
_BASE32 = re.compile(r"[A-Z2-7]{26,64}")


def is_secret(value: str) -> bool:
    """A base32 key of 128 to 320 bits, as new_secret makes."""
    if not _BASE32.fullmatch(value or ""):
        return False
    try:
        base64.b32decode(value + "=" * (-len(value) % 8))
    except binascii.Error:  # a length no whole number of bytes gives
        return False
    return True


def new_secret() -> str:
    return pyotp.random_base32()  # 160 bits, as RFC 4226 recommends


def _totp(secret: str) -> pyotp.TOTP:
    return pyotp.TOTP(secret, digits=DIGITS, interval=STEP_SECONDS, issuer=ISSUER)


def code_at(secret: str, moment: float) -> str:
    return _totp(secret).at(int(moment))


def _clean(code: str | None) -> str | None:
    code = (code or "").strip().replace(" ", "")
    # ASCII digits only: full-width ones (from a Chinese input method) are not a code.
    return code if len(code) == DIGITS and code.isascii() and code.isdigit() else None


def matching_step(secret: str, code: str | None, now: float | None = None) -> int | None:
    """The 30-second step (counter) whose code `code` is, within the allowed drift; None if none."""
    code = _clean(code)
    if code is None:
        return None
    now = time.time() if now is None else now
    generator = _totp(secret)
    for drift in range(-DRIFT_STEPS, DRIFT_STEPS + 1):
        moment = int(now) + drift * STEP_SECONDS
        if strings_equal(generator.at(moment), code):
            return moment // STEP_SECONDS
    return None


def verify(secret: str, code: str | None, now: float | None = None) -> bool:
    """True when `code` is current (no replay check: see two_factor.accept)."""
    return matching_step(secret, code, now) is not None


def otpauth_uri(secret: str, account: str) -> str:
    return _totp(secret).provisioning_uri(name=account, issuer_name=ISSUER)
