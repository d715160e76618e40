"""Sign-in throttling that slows guessing down without ever locking the rightful owner out.

Each account and each client address has a failure count in Redis. The first few
failures cost nothing; from the `login_max_failures`-th on, every further failure makes
the next attempt wait twice as long as the last one (1, 2, 4, 8 ... seconds), never more
than `login_max_delay_seconds` (60 s). An attempt made while waiting is refused with 429
and Retry-After, and is not counted. Nothing is permanent: the count fades after
`login_window_seconds` without failures, and a successful sign-in clears the account's.

So a stranger hammering an account gets one guess a minute at most, and the owner, who
knows the password, gets in as soon as the wait is over. What a stranger can still do is
take every slot the moment it opens; for that the owner has a second way in that the
stranger cannot use: an operator's valid authenticator code lets their attempt past the
account's wait (see identity.services.sign_in), and a member signs in with a code sent to
their phone (identity.sms), which these counters do not touch.

An attempt is counted before the password is checked (one atomic script per attempt), so
parallel guesses cannot slip past the limit. Identifiers are hashed before they become
keys, so a phone number never sits in Redis.
"""

import hashlib
import math

from redis.exceptions import RedisError

from marketplace.core.errors import TooManyRequests, Unavailable
from marketplace.core.kv import redis
from marketplace.core.settings import get_settings

ADDRESS_LIMIT_FACTOR = 4  # one address fails for several accounts before it waits (an office behind NAT)

# KEYS: counters and wait keys, in pairs (address, then account when counted).
# ARGV: max delay (s), window (s), then each pair's threshold.
# Returns the milliseconds still to wait and which pair (attempt refused, nothing counted),
# or {0, 0} (counted, in every pair).
_ATTEMPT = """
local longest, which = 0, 0
for pair = 1, #KEYS / 2 do
  local wait = redis.call('PTTL', KEYS[pair * 2])
  if wait > longest then longest, which = wait, pair end
end
if longest > 0 then return {longest, which} end
for pair = 1, #KEYS / 2 do
  local failures = redis.call('INCR', KEYS[pair * 2 - 1])
  redis.call('EXPIRE', KEYS[pair * 2 - 1], tonumber(ARGV[2]))
  local threshold = tonumber(ARGV[2 + pair])
  if failures >= threshold then
    local delay = math.min(tonumber(ARGV[1]), 2 ^ (failures - threshold)) * 1000
    redis.call('SET', KEYS[pair * 2], failures, 'PX', math.floor(delay))
  end
end
return {0, 0}
"""


# After a failure is known (the password check takes a while): restart the wait from now.
# KEYS: failure counter, wait key. ARGV: threshold, max delay (s).
_FAILED = """
local failures = tonumber(redis.call('GET', KEYS[1]) or '0')
local threshold = tonumber(ARGV[1])
if failures >= threshold then
  local delay = math.min(tonumber(ARGV[2]), 2 ^ (failures - threshold)) * 1000
  redis.call('SET', KEYS[2], failures, 'PX', math.floor(delay))
end
return failures
"""


def keys(kind: str, identifier: str, address: str) -> tuple[str, str]:
    digest = hashlib.sha256(identifier.strip().lower().encode()).hexdigest()[:32]
    return f"login:attempts:{kind}:{digest}", f"login:attempts:addr:{address}"


def _refusal(wait_ms: int, which: str) -> TooManyRequests:
    seconds = max(1, math.ceil(wait_ms / 1000))
    error = TooManyRequests(
        "Too many failed attempts; please try again in %(seconds)s seconds.",
        code="login_throttled",
        retry_after=seconds,
        params={"seconds": seconds},
    )
    error.which = which
    return error


async def waiting(key: str) -> bool:
    """True when `key` (an account) must wait before its next attempt."""
    try:
        return await redis().pttl(key + ":wait") > 0
    except RedisError as error:
        raise Unavailable("Sign-in is temporarily unavailable.") from error


async def count_attempt(account_key: str, address_key: str, *, skip_account: bool = False) -> None:
    """Count one attempt; TooManyRequests (429, Retry-After: the longer wait) while the
    address or the account must wait. `skip_account`: the attempt proved a second factor,
    so the account's wait (which a stranger may keep up) does not apply; the address's does."""
    security = get_settings().security
    threshold = security.login_max_failures
    keys = [address_key, address_key + ":wait"] + ([] if skip_account else [account_key, account_key + ":wait"])
    thresholds = [threshold * ADDRESS_LIMIT_FACTOR] + ([] if skip_account else [threshold])
    try:
        wait, which = await redis().eval(
            _ATTEMPT, len(keys), *keys, security.login_max_delay_seconds, security.login_window_seconds, *thresholds
        )
    except RedisError as error:
        raise Unavailable("Sign-in is temporarily unavailable.") from error
    if wait:
        raise _refusal(int(wait), "address" if which == 1 else "account")


async def failed(account_key: str, address_key: str) -> None:
    """The attempt failed: its wait (set when it was counted) runs from now, so the next
    attempt waits the whole delay however long the check took."""
    security = get_settings().security
    threshold = security.login_max_failures
    try:
        await redis().eval(
            _FAILED,
            2,
            address_key,
            address_key + ":wait",
            threshold * ADDRESS_LIMIT_FACTOR,
            security.login_max_delay_seconds,
        )
        await redis().eval(_FAILED, 2, account_key, account_key + ":wait", threshold, security.login_max_delay_seconds)
    except RedisError as error:
        raise Unavailable("Sign-in is temporarily unavailable.") from error


async def forgive(account_key: str, address_key: str) -> None:
    """A successful sign-in: clear the account's failures and give the address its attempt back."""
    async with redis().pipeline(transaction=True) as pipe:
        pipe.delete(account_key, account_key + ":wait")
        pipe.decr(address_key)
        await pipe.execute()
