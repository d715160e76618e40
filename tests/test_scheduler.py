"""Exactly one scheduler acts, however many run: the leader holds a PostgreSQL advisory
lock; a standby takes over when the leader dies."""

import asyncio
import os
import signal
import subprocess
import sys
import time

import pytest

from marketplace.core.jobs import scheduler
from marketplace.core.jobs.tables import OutboxEvent
from tests.factories import add_member, build_world

pytestmark = pytest.mark.integration

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# A new `benefits` process imports the whole app before it does anything: 22 s at a load of
# 13 on two cores. The waits below end as soon as what they wait for has happened.
PROCESS_SECONDS = 180


async def test_a_second_scheduler_stands_by_until_the_leader_lets_go(monkeypatch):
    monkeypatch.setattr(scheduler, "LEADER_RETRY_SECONDS", 0.1)
    leader = await scheduler.become_leader(asyncio.Event())
    assert leader is not None
    try:
        stop = asyncio.Event()
        standby = asyncio.create_task(scheduler.become_leader(stop))
        await asyncio.sleep(0.5)
        assert not standby.done()  # the lock is taken: it keeps asking
        leader.terminate()  # the leader's session ends, as when its process dies
        second = await asyncio.wait_for(standby, 60)
        assert second is not None
        second.terminate()
    finally:
        leader.terminate()


async def test_a_standby_asked_to_stop_gives_up_without_leading(monkeypatch):
    monkeypatch.setattr(scheduler, "LEADER_RETRY_SECONDS", 0.1)
    leader = await scheduler.become_leader(asyncio.Event())
    try:
        stop = asyncio.Event()
        standby = asyncio.create_task(scheduler.become_leader(stop))
        await asyncio.sleep(0.3)
        stop.set()
        assert await asyncio.wait_for(standby, 60) is None
    finally:
        leader.terminate()


async def test_the_leader_steps_down_when_its_lock_connection_breaks(monkeypatch):
    monkeypatch.setattr(scheduler, "LEADER_CHECK_SECONDS", 0.1)
    connection = await scheduler.become_leader(asyncio.Event())
    stop = asyncio.Event()
    leading = asyncio.create_task(scheduler.lead(connection, stop))
    await asyncio.sleep(0.3)
    assert not leading.done()
    connection.terminate()  # the database went away under it
    await asyncio.wait_for(leading, 60)  # it stopped leading by itself
    assert not stop.is_set()


async def _lock_holders() -> list[str]:
    rows = await OutboxEvent.raw(
        "SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
        "WHERE l.locktype = 'advisory' AND l.granted AND a.application_name LIKE 'benefits-scheduler %' "
        "AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())"
    )
    return [row["application_name"] for row in rows]


async def _until(check, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = await check()
        if result:
            return result
        await asyncio.sleep(0.2)
    raise AssertionError(f"{what} within {timeout:.0f} s")


async def _delivered(event_count: int) -> bool:
    return await OutboxEvent.count().where(OutboxEvent.delivered_at.is_not_null()) == event_count


@pytest.mark.slow
async def test_two_scheduler_processes_one_leads_the_other_takes_over_when_it_is_killed(tmp_path):
    world = await build_world()
    events = await OutboxEvent.count()
    logs = {}
    processes = []
    for name in ("a", "b"):
        logs[name] = tmp_path / f"scheduler-{name}.log"
        with open(logs[name], "wb") as log:  # the scheduler keeps its own copy of the descriptor
            processes.append(
                subprocess.Popen(
                    [sys.executable, "-m", "marketplace.cli", "scheduler"],
                    cwd=REPO_ROOT,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
            )
    by_pid = {process.pid: (process, logs[name]) for process, name in zip(processes, "ab", strict=True)}
    try:
        holders = await _until(_lock_holders, PROCESS_SECONDS, "a scheduler took the leader lock")
        assert len(holders) == 1
        leader_pid = int(holders[0].rsplit(":", 1)[1])
        leader, leader_log = by_pid[leader_pid]
        standby, standby_log = next(value for pid, value in by_pid.items() if pid != leader_pid)

        async def standing_by() -> bool:
            return "scheduler_standby" in standby_log.read_text()

        await _until(standing_by, PROCESS_SECONDS, "the second scheduler stood by")
        assert "scheduler_leading" in leader_log.read_text()
        assert "scheduler_leading" not in standby_log.read_text()
        # The leader relays the outbox (the world's events and a new member's).
        await add_member(world.nodes["cy_union"], 91, "周敏")
        await _until(lambda: _delivered(events + 1), 60, "the leader relayed the outbox")
        assert "scheduler_leading" not in standby_log.read_text()

        leader.send_signal(signal.SIGKILL)
        leader.wait(10)

        async def taken_over() -> list[str]:
            holders = await _lock_holders()
            return holders if holders and holders[0].endswith(f":{standby.pid}") else []

        await _until(taken_over, 60, "the standby took over the lock")
        assert len(await _lock_holders()) == 1
        await add_member(world.nodes["cy_union"], 92, "吴刚")
        await _until(lambda: _delivered(events + 2), 60, "the new leader relayed the outbox")
        assert "scheduler_leading" in standby_log.read_text()
    finally:
        for process in processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in processes:
            try:
                process.wait(20)
            except subprocess.TimeoutExpired:
                process.kill()
    assert all(process.returncode is not None for process in processes)
