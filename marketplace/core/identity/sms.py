"""One-time codes sent by SMS, through a pluggable sender.

A code proves that the person holds the phone on file: members use one to activate
their account, to reset a forgotten password and to sign in without a password.

- 6 digits, valid 5 minutes, good once, at most `MAX_ATTEMPTS` tries (then void);
- kept in Redis as a keyed hash (HMAC with the secret key), never in clear;
- one code per phone per minute (resend cooldown), and a limit per client address;
- keys name the phone by its keyed hash, so no phone number sits in Redis.

Senders implement `SmsSender.send(phone, text)`:
- `DevSender` (demo and tests: when `SMS_SENDER=dev`, or unset while Stripe runs on its
  stand-in) writes the message to the log with the phone masked and keeps the last ones
  for the page /dev/sms, which exists only with this sender;
- `GatewaySender` posts to a real SMS gateway (`SMS_SENDER=gateway`, `SMS_GATEWAY_URL`,
  `SMS_GATEWAY_KEY`): JSON `{"phone", "text", "sign"}` with a bearer key, 2xx = accepted;
  an adapter for a provider's own API (Aliyun, Tencent Cloud) sits behind the same URL
  or replaces this class (docs/operations.md, "SMS").
"""

import hashlib
import hmac
import json
import math
import secrets
import time
from typing import Protocol

import httpx
import structlog
from redis.exceptions import RedisError

from marketplace.core import pii, ratelimit
from marketplace.core.errors import Invalid, TooManyRequests, Unavailable
from marketplace.core.kv import redis
from marketplace.core.settings import get_settings

log = structlog.get_logger(__name__)

CODE_DIGITS = 6
CODE_TTL_SECONDS = 300
RESEND_SECONDS = 60
MAX_ATTEMPTS = 5
ADDRESS_SENDS_PER_HOUR = 20
PURPOSES = ("activate", "reset", "login")
DEV_OUTBOX = "sms:dev:outbox"
DEV_OUTBOX_KEEP = 50


class SmsSender(Protocol):
    async def send(self, phone: str, text: str) -> None: ...


class DevSender:
    """No SMS leaves the machine: the message goes to the log (phone masked) and to /dev/sms."""

    async def send(self, phone: str, text: str) -> None:
        entry = json.dumps({"phone": pii.mask_phone(phone), "text": text, "at": time.time()}, ensure_ascii=False)
        async with redis().pipeline(transaction=True) as pipe:
            pipe.lpush(DEV_OUTBOX, entry)
            pipe.ltrim(DEV_OUTBOX, 0, DEV_OUTBOX_KEEP - 1)
            pipe.expire(DEV_OUTBOX, 86400)
            await pipe.execute()
        log.info("sms_dev_sent", phone=pii.mask_phone(phone), text=text)


class GatewaySender:
    """A real SMS gateway over HTTPS."""

    def __init__(self, url: str, key: str, sign: str = "工会普惠", transport: httpx.AsyncBaseTransport | None = None):
        self.url, self.key, self.sign, self.transport = url, key, sign, transport

    async def send(self, phone: str, text: str) -> None:
        try:
            async with httpx.AsyncClient(transport=self.transport, timeout=10) as client:
                response = await client.post(
                    self.url,
                    json={"phone": phone, "text": text, "sign": self.sign},
                    headers={"Authorization": f"Bearer {self.key}"},
                )
            response.raise_for_status()
        except httpx.HTTPError as error:
            log.warning("sms_gateway_failed", phone=pii.mask_phone(phone), error=type(error).__name__)
            raise Unavailable("The text message could not be sent; try again in a minute.") from error
        log.info("sms_sent", phone=pii.mask_phone(phone))


def sender() -> SmsSender:
    sms = get_settings().sms
    if sms.sender == "gateway":
        return GatewaySender(sms.gateway_url, sms.gateway_key)
    if sms.sender == "dev":
        return DevSender()
    raise Unavailable("Text messages are not set up on this server; ask your union.")


def dev_mode() -> bool:
    """The demo's sender: /dev/sms shows what it sent."""
    return get_settings().sms.sender == "dev"


async def dev_outbox() -> list[dict]:
    return [json.loads(entry) for entry in await redis().lrange(DEV_OUTBOX, 0, DEV_OUTBOX_KEEP - 1)]


def _phone_key(phone: str) -> str:
    return pii.lookup_hash(phone).hex()[:40]


def _code_hash(purpose: str, phone: str, code: str) -> str:
    key = get_settings().security.secret_key.encode()
    return hmac.new(key, f"{purpose}:{phone}:{code}".encode(), hashlib.sha256).hexdigest()


def N_(message: str) -> str:
    """Marks a msgid for extraction; translated when the message is sent."""
    return message


MESSAGES = {
    "activate": N_(
        "Your code to activate your union benefits account is %(code)s, valid for 5 minutes. Do not tell it to anyone."
    ),
    "reset": N_("Your code to set a new password is %(code)s, valid for 5 minutes. Do not tell it to anyone."),
    "login": N_("Your sign-in code is %(code)s, valid for 5 minutes. Do not tell it to anyone."),
}


async def send_code(purpose: str, phone: str, member_id: int | None, address: str) -> None:
    """Send a new code for `purpose` to `phone` (when `member_id` is None, nothing is sent,
    but the answer is the same, so that nobody learns which numbers are members')."""
    from marketplace.core.web.i18n import gettext

    phone_key = _phone_key(phone)
    cooldown_key, address_key = f"sms:cooldown:{phone_key}", f"sms:sends:addr:{address}"
    try:
        if not await redis().set(cooldown_key, 1, ex=RESEND_SECONDS, nx=True):
            wait = max(1, await redis().ttl(cooldown_key))
            raise TooManyRequests(
                "A code was just sent; you can ask for another in %(seconds)s seconds.",
                code="sms_cooldown",
                retry_after=wait,
                params={"seconds": wait},
            )
        (sends,) = await ratelimit.hit(address_key, window_seconds=3600)
        if sends > ADDRESS_SENDS_PER_HOUR:
            wait = await ratelimit.seconds_left(address_key)
            raise TooManyRequests(
                "Too many codes were asked for from here; please try again in %(seconds)s seconds.",
                code="sms_throttled",
                retry_after=wait,
                params={"seconds": math.ceil(wait)},
            )
        if member_id is None:
            log.info("sms_code_not_sent", purpose=purpose)
            return
        code = f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"
        key = f"sms:code:{purpose}:{phone_key}"
        async with redis().pipeline(transaction=True) as pipe:
            pipe.delete(key)
            pipe.hset(key, mapping={"member": member_id, "hash": _code_hash(purpose, phone, code), "tries": 0})
            pipe.expire(key, CODE_TTL_SECONDS)
            await pipe.execute()
    except RedisError as error:
        raise Unavailable("Text messages are temporarily unavailable.") from error
    await sender().send(phone, gettext(MESSAGES[purpose]) % {"code": code})


def _wrong_code() -> Invalid:
    return Invalid("This code is wrong or has expired; ask for a new one.", code="wrong_code", field="code")


async def check_code(purpose: str, phone: str, code: str) -> int:
    """The member the code was sent for; the code is spent. Invalid (field "code") when it is
    wrong, expired, used, or tried too often (then it is void)."""
    code = (code or "").strip()
    key = f"sms:code:{purpose}:{_phone_key(phone)}"
    try:
        tries = await redis().hincrby(key, "tries", 1)
        if tries == 1 and await redis().ttl(key) < 0:  # no such code: HINCRBY just made the key
            await redis().delete(key)
            raise _wrong_code()
        stored = await redis().hmget(key, "hash", "member")
        if tries > MAX_ATTEMPTS or stored[0] is None or stored[1] is None:  # both are written at once
            await redis().delete(key)
            raise _wrong_code()
        expected = stored[0].decode() if isinstance(stored[0], bytes) else stored[0]
        if not (code.isascii() and code.isdigit() and len(code) == CODE_DIGITS) or not hmac.compare_digest(
            expected, _code_hash(purpose, phone, code)
        ):
            raise _wrong_code()
        # One use: of two requests with the right code, only the one that deletes it wins.
        if not await redis().delete(key):
            raise _wrong_code()
    except RedisError as error:
        raise Unavailable("Text messages are temporarily unavailable.") from error
    return int(stored[1])
