"""A full reindex that is killed midway resumes where it stopped, the live index is never
left half-built or half-swapped, and what changes while it builds is in the index it swaps
in (catalog/search/index.py, `reindex`)."""

import asyncio
import os
import subprocess
import sys

import pytest

from catalog.search import index
from marketplace.core.db import engine, fetch
from marketplace.core.kv import redis
from tests.catalog.search.test_search import ids, search
from tests.providers.builders import location
from tests.test_errors import bearer

COPIES = 150
BATCH = 2


async def _copies(offer_id: int, n: int) -> None:
    """n more published offers like this one (the reindex then takes many batches)."""
    async with engine().transaction() as transaction:
        connection = transaction.connection
        columns = [
            row["column_name"]
            for row in await connection.fetch(
                "SELECT column_name FROM information_schema.columns WHERE table_name = 'offer' AND column_name <> 'id'"
            )
        ]
        listed = ", ".join(f'"{column}"' for column in columns)
        await connection.execute(
            f"INSERT INTO offer ({listed}) SELECT {listed} FROM offer, generate_series(1, $2) WHERE id = $1",
            offer_id,
            n,
        )


async def _names() -> set[str]:
    return {i.uid for i in await index.client().get_indexes() or []}


def _pause_before_the_third_batch(monkeypatch) -> tuple[asyncio.Event, asyncio.Event]:
    """(go_on, paused): a reindex started after this sets `paused` as it comes to build its
    third batch, and waits there until `go_on` is set."""
    go_on, paused = asyncio.Event(), asyncio.Event()
    documents_of = index._documents
    batches = 0

    async def held(offers_of_batch, *rest):
        nonlocal batches
        batches += 1
        if batches == 3:
            paused.set()
            await go_on.wait()
        return await documents_of(offers_of_batch, *rest)

    monkeypatch.setattr(index, "_documents", held)
    return go_on, paused


async def test_a_killed_reindex_resumes_where_it_stopped(client, world, offers, tmp_path):
    await _copies(offers["yoga"], COPIES)
    live, fresh = index.index_uid(), f"{index.index_uid()}_next"
    before = (await index.client().index(live).get_stats()).number_of_documents
    command = [sys.executable, "-m", "marketplace.cli", "reindex", "--batch-size", str(BATCH)]
    # Its output goes to a file (a pipe nobody reads could fill and stop it), told on failure.
    log = tmp_path / "reindex.log"
    with open(log, "w") as output:
        process = subprocess.Popen(command, env=os.environ.copy(), stdout=output, stderr=subprocess.STDOUT)
    try:
        # Killed (SIGKILL: no clean-up of any kind) once a few batches are sent, long before the last.
        deadline = asyncio.get_running_loop().time() + 120
        while True:
            state = await index._load_reindex(live)
            if state is not None and len(state.batches) >= 3:
                break
            assert process.poll() is None, f"the reindex ended before it could be killed:\n{log.read_text()[-2000:]}"
            assert asyncio.get_running_loop().time() < deadline, "the reindex never started"
            await asyncio.sleep(0.005)
        process.kill()
        process.wait()
        stopped = await index._load_reindex(live)
        assert stopped is not None
        total_batches = -(-(7 + COPIES) // BATCH)
        assert 3 <= len(stopped.batches) < total_batches, "killed midway"

        # The live index is the old one, whole: search answers from it as before.
        assert fresh in await _names()
        assert (await index.client().index(live).get_stats()).number_of_documents == before
        body = await search(client, q="瑜伽")
        assert body["degraded"] is False and offers["yoga"] in ids(body)

        # Run again: it resumes from the batches the engine has, not from zero.
        result = await asyncio.to_thread(
            subprocess.run, command, env={**os.environ, "COLUMNS": "200"}, capture_output=True, text=True, timeout=300
        )
        output = result.stdout + result.stderr
        assert result.returncode == 0, output
        assert f"resuming a reindex that stopped: {stopped.offers_done} offers" in output
        assert stopped.offers_done >= 3 * BATCH

        # Every document of every indexable offer, once (what the documents of all offers are now).
        expected = len(await index._documents(await index._indexed_offers("true")))
        assert expected > before
        assert (await index.client().index(live).get_stats()).number_of_documents == expected
        assert f"indexed {expected} documents" in output
        assert fresh not in await _names()
        assert await index._load_reindex(live) is None
        body = await search(client, q="瑜伽")
        assert body["degraded"] is False and offers["yoga"] in ids(body)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        await index._save_reindex(live, None)
        await index.client().delete_index_if_exists(fresh)


async def test_a_reindex_killed_after_its_swap_only_removes_the_old_index(client, world, offers):
    """Killed between the swap and the removal of the old index: the next run sees that
    the live index is the one it built (the engine keeps an index's creation time through
    a swap) and only removes the old one, rather than build onto it."""
    live, fresh = index.index_uid(), f"{index.index_uid()}_next"
    written = await index.reindex()
    # What the killed run would have left: its state, and the old index under the fresh name.
    await index.client().create_index(fresh, primary_key="id", wait=True)
    state = index._Reindex(fresh, await index._created(live) or "", 0, 7, [[-1, 10**9, 7, written]])
    await index._save_reindex(live, state)
    try:
        again = await index.reindex(batch_size=BATCH)
        assert again == written
        assert fresh not in await _names()
        assert await index._load_reindex(live) is None
        assert (await index.client().index(live).get_stats()).number_of_documents == written
        assert offers["yoga"] in ids(await search(client, q="瑜伽"))
    finally:
        await index._save_reindex(live, None)
        await index.client().delete_index_if_exists(fresh)


async def test_a_second_reindex_refuses_while_one_is_at_work(client, world, offers, monkeypatch):
    """A second reindex, from another process (the CLI) or this one, while one is at work:
    it refuses at once with a clear message and touches neither the fresh index nor the
    resume state; the first then completes with every document."""
    await _copies(offers["yoga"], 20)
    live, fresh = index.index_uid(), f"{index.index_uid()}_next"
    # The first reindex stops before its third batch until the others have been refused.
    documents_of = index._documents
    go_on, paused = _pause_before_the_third_batch(monkeypatch)
    first = asyncio.create_task(index.reindex(batch_size=BATCH))
    try:
        await asyncio.wait_for(paused.wait(), 60)
        state = await index._load_reindex(live)
        assert state is not None and len(state.batches) == 2

        command = [sys.executable, "-m", "marketplace.cli", "reindex", "--batch-size", str(BATCH)]
        second = await asyncio.to_thread(
            subprocess.run, command, env={**os.environ, "COLUMNS": "200"}, capture_output=True, text=True, timeout=120
        )
        output = second.stdout + second.stderr
        assert second.returncode == 1, output
        assert f"another reindex of {live} is running (process {os.getpid()} on" in output
        assert "Traceback" not in output
        with pytest.raises(index.ReindexRunning, match=f"process {os.getpid()} on"):
            await index.reindex(batch_size=BATCH)
        # Neither touched what the first is building.
        assert await index._load_reindex(live) == state
        assert fresh in await _names()
    finally:
        go_on.set()
    written = await asyncio.wait_for(first, 120)

    expected = len(await documents_of(await index._indexed_offers("true")))
    assert written == expected
    assert (await index.client().index(live).get_stats()).number_of_documents == expected
    assert fresh not in await _names()
    assert await index._load_reindex(live) is None
    assert await redis().get(index.REINDEX_LOCK + live) is None
    assert offers["yoga"] in ids(await search(client, q="瑜伽"))


async def test_two_reindexes_in_one_process_one_runs(client, world, offers):
    live = index.index_uid()
    results = await asyncio.gather(index.reindex(), index.reindex(), return_exceptions=True)
    refused = [result for result in results if isinstance(result, index.ReindexRunning)]
    done = [result for result in results if isinstance(result, int)]
    assert len(refused) == 1 and len(done) == 1, results
    assert f"process {os.getpid()} on" in str(refused[0])
    assert (await index.client().index(live).get_stats()).number_of_documents == done[0]
    assert await index._load_reindex(live) is None
    # Released: the next one runs.
    assert await index.reindex() == done[0]


async def test_a_location_moved_while_a_reindex_builds_is_where_the_swapped_index_finds_it(
    client, world, offers, monkeypatch
):
    """The reindex reads each provider's locations once, for its first batch; an owner who
    moves a location after that is caught up before the swap, as an edited offer is."""
    await _copies(offers["yoga"], 20)
    provider = world.providers["chaoyang"]
    moved = (await fetch("SELECT location FROM offer_location WHERE offer = $1", offers["yoga"]))[0]["location"]
    async with engine().transaction() as transaction:  # the copies too are used only where it moves
        await transaction.connection.execute(
            "INSERT INTO offer_location (offer, location) SELECT id, $2 FROM offer WHERE title_zh = $3 AND id <> $1",
            offers["yoga"],
            moved,
            "瑜伽体验课",
        )
    go_on, paused = _pause_before_the_third_batch(monkeypatch)
    reindex = asyncio.create_task(index.reindex(batch_size=BATCH))
    try:
        await asyncio.wait_for(paused.wait(), 60)
        owner = await bearer(client, "provider", provider["owner"])
        edited = await client.put(
            f"/api/v1/provider/me/locations/{moved}",
            json=location(name="东单店", address="北京市东城区东单北大街1号", district="东城区", latitude=39.91),
            headers=owner,
        )
        assert edited.status_code == 200, edited.text
    finally:
        go_on.set()
    await asyncio.wait_for(reindex, 120)

    copies = {row["id"] for row in await index._indexed_offers("o.title_zh = {}", "瑜伽体验课")}
    assert len(copies) == 21
    # One hit per offer title and provider: every copy has to have moved for none to be found in 朝阳区.
    assert ids(await search(client, q="瑜伽", district="东城区", page_size=50)) & copies
    assert not ids(await search(client, q="瑜伽", district="朝阳区", page_size=50)) & copies
