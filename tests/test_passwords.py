"""Password hashing runs off the event loop, in a bounded pool of low-priority threads."""

import asyncio
import os
import sys
import threading
import time

import pytest

from marketplace.core.identity import passwords

pytestmark = pytest.mark.unit


async def test_a_hash_checks_and_a_wrong_or_missing_one_does_not():
    hashed = await passwords.hash_password("Correct-Horse-42")
    assert await passwords.verify_password(hashed, "Correct-Horse-42")
    assert not await passwords.verify_password(hashed, "correct-horse-42")
    assert not await passwords.verify_password(None, "Correct-Horse-42")  # unknown account
    assert not await passwords.verify_password("not a hash", "Correct-Horse-42")


async def test_the_event_loop_keeps_running_while_passwords_are_checked():
    hashed = passwords.hash_password_blocking("Correct-Horse-42")
    ticks = 0
    done = asyncio.Event()

    async def ticker() -> None:
        nonlocal ticks
        while not done.is_set():
            await asyncio.sleep(0.005)
            ticks += 1

    ticking = asyncio.create_task(ticker())
    started = time.perf_counter()
    checks = 4
    results = await asyncio.gather(*(passwords.verify_password(hashed, "Correct-Horse-42") for _ in range(checks)))
    elapsed = time.perf_counter() - started
    done.set()
    await ticking
    assert all(results)
    # Hashing on the loop would let the ticker in only between checks (about `checks`
    # times); off the loop it ticks all along, every 5 ms or so.
    assert ticks > max(20, checks * 5), (ticks, elapsed)


async def test_no_more_hashes_run_at_once_than_the_pool_allows():
    hashed = passwords.hash_password_blocking("Correct-Horse-42")
    limit = passwords.hash_threads()
    busiest = 0

    async def watch(stop: asyncio.Event) -> None:
        nonlocal busiest
        while not stop.is_set():
            busiest = max(busiest, sum(thread.name.startswith("password-hash") for thread in threading.enumerate()))
            await asyncio.sleep(0.002)

    stop = asyncio.Event()
    watching = asyncio.create_task(watch(stop))
    await asyncio.gather(*(passwords.verify_password(hashed, "wrong password") for _ in range(limit * 4)))
    stop.set()
    await watching
    assert 1 <= busiest <= limit


@pytest.mark.skipif(not hasattr(os, "setpriority") or sys.platform != "linux", reason="per-thread nice is Linux's")
async def test_hashing_threads_yield_the_cpu_to_the_event_loop():
    def priority() -> int:
        return os.getpriority(os.PRIO_PROCESS, threading.get_native_id())

    assert (
        await asyncio.get_running_loop().run_in_executor(passwords._executor(), priority) == passwords.LOWEST_PRIORITY
    )
    assert priority() != passwords.LOWEST_PRIORITY  # the loop's own thread keeps its priority
