"""The transactional outbox: only committed events are delivered, Redis outages delay
but never lose them, and a message delivered twice has one effect."""

import time
from datetime import UTC, datetime, timedelta

import dramatiq
import msgspec
import pytest

from marketplace.core import db, domains
from marketplace.core.db import engine
from marketplace.core.federation import actors as federation_actors
from marketplace.core.federation.schemas import MemberCreate
from marketplace.core.federation.tables import Member, Notification
from marketplace.core.jobs import outbox, periodic, topics
from marketplace.core.jobs.broker import broker
from marketplace.core.jobs.tables import OutboxEvent
from marketplace.runtime import components
from tests.factories import add_member, build_world, id_number

pytestmark = pytest.mark.integration

# Every composed domain's actors, as the worker and the scheduler load them.
domains.load_actors()

# Budgets on a machine that two test workers share with everything else (the wait ends as
# soon as the work is done): a new `benefits` process took 22 s to import the app at a load
# of 13 on two cores; an in-process worker's queue drains in well under a second alone.
PROCESS_SECONDS = 180
JOIN_MS = 120_000


@pytest.fixture
def run_worker():
    """Process whatever is queued with a real Dramatiq worker on the real Redis broker."""
    broker.flush_all()

    def drain():
        worker = dramatiq.Worker(broker, worker_threads=2, worker_timeout=100)
        worker.start()
        try:
            broker.join("default", timeout=JOIN_MS)
            worker.join()
        finally:
            worker.stop()

    yield drain
    broker.flush_all()


async def pending() -> int:
    return await OutboxEvent.count().where(OutboxEvent.delivered_at.is_null())


async def test_a_committed_change_is_delivered_and_applied(run_worker):
    world = await build_world()
    assert await pending() == 2  # the two members of the world
    assert await outbox.relay_once() == 2
    assert await pending() == 0
    run_worker()
    member_id = world.members["chaoyang"][0]
    assert await Notification.count().where((Notification.member == member_id) & (Notification.kind == "welcome")) == 1


async def test_an_event_from_a_rolled_back_transaction_is_never_delivered(run_worker):
    world = await build_world()
    await outbox.relay_once()
    run_worker()
    before = await Notification.count()

    class Abort(Exception):
        pass

    with pytest.raises(Abort):
        async with engine().transaction():
            await outbox.publish(topics.MemberJoined(member_id=world.members["haidian"][0]))
            raise Abort

    assert await pending() == 0
    assert await outbox.relay_once() == 0
    run_worker()
    assert await Notification.count() == before


@pytest.mark.exclusive
async def test_an_event_committed_while_redis_is_down_is_delivered_when_it_returns(run_worker):
    if components.by_name("redis").external():
        pytest.skip("Redis is external to this test session; it cannot be stopped here")
    world = await build_world()
    await outbox.relay_once()
    run_worker()
    redis = components.by_name("redis")
    redis.stop()
    try:
        member_id, _ = await add_member(world.nodes["cy_union"], 77, "陈晓")
        assert await pending() == 1
        assert await outbox.relay_once() == 0  # nowhere to deliver: the event stays pending
        row = await OutboxEvent.select().where(OutboxEvent.delivered_at.is_null()).first()
        assert row["attempts"] == 1 and "ConnectionError" in row["last_error"]
    finally:
        redis.ensure_running()
    assert await outbox.relay_once() == 1
    run_worker()
    assert await Notification.count().where(Notification.member == member_id) == 1


async def test_a_message_delivered_twice_has_one_effect(run_worker):
    world = await build_world()
    await outbox.relay_once()
    run_worker()
    member_id = world.members["chaoyang"][0]
    event = await OutboxEvent.select().where(OutboxEvent.payload.arrow("member_id") == member_id).first()
    # The broker is at-least-once: simulate a redelivery of the very same event.
    federation_actors.send_welcome.send(event["id"], {"member_id": member_id})
    federation_actors.send_welcome.send(event["id"], {"member_id": member_id})
    run_worker()
    assert await Notification.count().where(Notification.member == member_id) == 1


async def test_publish_outside_a_transaction_is_refused():
    with pytest.raises(RuntimeError):
        await outbox.publish(topics.MemberJoined(member_id=1))


async def test_the_member_row_and_its_event_commit_together():
    world = await build_world()
    from marketplace.core.errors import Conflict
    from marketplace.core.federation import services

    with pytest.raises(Conflict):
        # A duplicate ID number fails the insert: neither the member nor the event remain.
        await services.create_member(
            MemberCreate(
                node_id=world.nodes["cy_union"],
                name="重复",
                gender="F",
                birth_year=1990,
                phone="13711112222",
                id_number=id_number(1),
            )
        )
    assert await Member.count() == 2
    assert await OutboxEvent.count() == 2


@pytest.mark.slow
async def test_the_worker_and_scheduler_processes_deliver_end_to_end():
    """`benefits scheduler` relays the outbox and `benefits worker` applies it."""
    import asyncio
    import subprocess
    import sys

    world = await build_world()
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", "marketplace.cli", role], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        for role in ("worker", "scheduler")
    ]
    try:
        member_id, _ = await add_member(world.nodes["cy_union"], 88, "林涛")
        # Two processes import the whole app first: tens of seconds on a loaded machine.
        deadline = time.monotonic() + PROCESS_SECONDS
        while await Notification.count().where(Notification.member == member_id) != 1:
            assert time.monotonic() < deadline, f"no welcome within {PROCESS_SECONDS} s"
            await asyncio.sleep(0.25)
        assert await pending() == 0
    finally:
        for process in processes:
            process.send_signal(2)
        for process in processes:
            process.wait(PROCESS_SECONDS)
    assert all(process.returncode is not None for process in processes)


async def test_jobs_waiting_when_the_worker_starts_run_on_its_pool(tmp_path):
    """A worker started with events already queued (the demo's first start, a restart
    after an outage) applies them without asyncpg's "Pool.release() received invalid
    connection": its pool is open before its threads take the first message."""
    import asyncio
    import subprocess
    import sys

    broker.flush_all()
    world = await build_world()
    for n in range(8):
        await add_member(world.nodes["cy_union"], 60 + n, "林涛")
    assert await outbox.relay_once() == 10  # queued in Redis before any worker runs
    output = tmp_path / "worker.log"
    with output.open("w") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "marketplace.cli", "worker", "--threads", "4"], stdout=log, stderr=log
        )
    try:
        deadline = time.monotonic() + PROCESS_SECONDS  # the worker imports the whole app first
        while await Notification.count().where(Notification.kind == "welcome") != 10:
            assert time.monotonic() < deadline, f"not every welcome within {PROCESS_SECONDS} s"
            await asyncio.sleep(0.25)
    finally:
        process.send_signal(2)
        process.wait(PROCESS_SECONDS)
        broker.flush_all()
    logged = output.read_text()
    assert "invalid connection" not in logged and "Failed to process message" not in logged, logged[-2000:]


# Retention ---------------------------------------------------------------------------------------


async def _event(created_at, delivered_at) -> int:
    async with db.connection() as connection:
        return await connection.fetchval(
            "INSERT INTO outbox_event (topic, payload, created_at, delivered_at) VALUES ('test.topic', '{}', $1, $2) "
            "RETURNING id",
            created_at,
            delivered_at,
        )


async def _marker(event_id: int, processed_at) -> None:
    async with db.connection() as connection:
        await connection.execute(
            "INSERT INTO processed_event (consumer, event_id, processed_at) VALUES ('test', $1, $2)",
            event_id,
            processed_at,
        )


async def _ids(table: str, column: str = "id") -> set[int]:
    return {row[column] for row in await engine().run_ddl(f"SELECT {column} FROM {table}")}


async def test_delivered_events_and_markers_older_than_the_retention_are_purged_pending_ones_kept():
    now = datetime.now(UTC)
    old, recent = now - timedelta(days=20), now - timedelta(days=1)
    old_delivered = await _event(old, old)
    recent_delivered = await _event(recent, recent)
    old_pending = await _event(old, None)  # never handed over: it must survive, and so must its marker
    for event_id, processed_at in (
        (old_delivered, old),
        (recent_delivered, recent),
        (old_pending, old),
        (10_000_000, old),
    ):  # the last one's event was purged long ago
        await _marker(event_id, processed_at)

    assert await outbox.purge(timedelta(days=14)) == (1, 2)
    assert await _ids("outbox_event") == {recent_delivered, old_pending}
    assert await _ids("processed_event", "event_id") == {recent_delivered, old_pending}
    assert await outbox.purge(timedelta(days=14)) == (0, 0)


async def test_a_large_purge_runs_in_batches_until_nothing_old_is_left(monkeypatch):
    monkeypatch.setattr(outbox, "PURGE_BATCH", 2)
    old = datetime.now(UTC) - timedelta(days=30)
    for _ in range(5):
        await _marker(await _event(old, old), old)
    assert await outbox.purge(timedelta(days=14)) == (5, 5)
    assert await OutboxEvent.count() == 0


async def test_the_hourly_job_purges_with_the_configured_retention(run_worker, monkeypatch):
    from marketplace.core.jobs import housekeeping
    from marketplace.core.settings import get_settings

    assert housekeeping.purge_outbox in [actor for actor, _ in periodic.jobs()]
    now = datetime.now(UTC)
    four_days, two_days = (
        await _event(now - timedelta(days=4), now - timedelta(days=4)),
        await _event(now - timedelta(days=2), now - timedelta(days=2)),
    )
    monkeypatch.setenv("OUTBOX_RETENTION_DAYS", "3")
    get_settings.cache_clear()
    try:
        assert get_settings().jobs.outbox_retention_days == 3
        housekeeping.purge_outbox.send()
        run_worker()
    finally:
        monkeypatch.undo()
        get_settings.cache_clear()
    assert await _ids("outbox_event") == {two_days}
    assert four_days not in await _ids("outbox_event")


def test_every_declared_topic_has_a_subscriber():
    # Loading the actors subscribes every domain's consumers (as the worker and the scheduler do).
    assert {name for name, subscribers in outbox._subscribers.items() if subscribers} == set(topics.BY_NAME)


async def test_a_topic_is_published_only_as_declared():
    async with engine().transaction():
        with pytest.raises(LookupError):
            await outbox.publish("member.jioned", {"member_id": 1})
        with pytest.raises(msgspec.ValidationError):
            await outbox.publish("member.joined", {"member": 1})
    assert topics.MemberJoined.read({"member_id": 7}) == topics.MemberJoined(member_id=7)
