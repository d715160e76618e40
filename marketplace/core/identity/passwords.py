"""argon2id password hashing (argon2-cffi's defaults are argon2id, RFC 9106 low-memory),
kept off the event loop.

A hash or a check costs tens to hundreds of milliseconds of CPU and 64 MiB on purpose.
On the event loop it would stall every other request of the process for that long (one
web process answered a trivial call in 6 ms idle and in about a second while 8 sign-ins
ran). So servers await `hash_password` / `verify_password`, which run argon2 (C code that
releases the GIL) in a small pool of threads:

- at most `PASSWORD_HASH_THREADS` hashes run at once per process (default: the number
  of CPUs), so 64 simultaneous sign-ins queue for a thread instead of taking 4 GiB of
  memory and every core;
- the pool's threads run at the lowest CPU priority (Linux `nice` is per thread), so
  when a core is needed both for a hash and for the event loop, the event loop gets it:
  sign-ins wait a little longer, every other request does not.

Batch tools that serve no requests (the seed, benchmarks, test factories) may call
`hash_password_blocking`.
"""

import asyncio
import contextlib
import os
import sys
import threading
from concurrent.futures import ThreadPoolExecutor

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()

# Verifying against this when an account does not exist keeps the response time the
# same, so timing does not reveal which usernames exist.
_DUMMY_HASH = _hasher.hash("not-a-real-password")

LOWEST_PRIORITY = 19


def hash_threads() -> int:
    return max(1, int(os.environ.get("PASSWORD_HASH_THREADS") or os.cpu_count() or 1))


def _lower_priority() -> None:
    """Run this pool thread (and the threads argon2 starts from it) at the lowest priority.
    Only on Linux, where a thread id names one thread; elsewhere it would renice the process."""
    if sys.platform == "linux":
        with contextlib.suppress(OSError):
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), LOWEST_PRIORITY)


_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()


def _executor() -> ThreadPoolExecutor:
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(
                max_workers=hash_threads(), thread_name_prefix="password-hash", initializer=_lower_priority
            )
        return _pool


def hash_password_blocking(password: str) -> str:
    return _hasher.hash(password)


def _verify(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


async def hash_password(password: str) -> str:
    return await asyncio.get_running_loop().run_in_executor(_executor(), _hasher.hash, password)


async def verify_password(password_hash: str | None, password: str) -> bool:
    """True when `password` matches; an unknown account (None) costs a check all the same."""
    return await asyncio.get_running_loop().run_in_executor(_executor(), _verify, password_hash, password)
