"""A benchmark phase that hangs is stopped at its bound and reported, with where it waited."""

import asyncio

from benchmarks.common import bounded


def test_a_phase_that_finishes_gives_its_result():
    async def quick() -> int:
        return 7

    notes: list[str] = []
    assert asyncio.run(bounded("quick", quick(), 5, notes)) == 7
    assert notes == []


def test_a_phase_that_hangs_is_stopped_and_told_with_the_stacks(capsys):
    cancelled = []

    async def hangs() -> None:
        try:
            await asyncio.Event().wait()
        finally:
            cancelled.append(True)

    notes: list[str] = []
    assert asyncio.run(bounded("the reindex", hangs(), 0.2, notes)) is None
    assert notes == ["the reindex did not finish within 0 s and was stopped (the tasks' stacks are on stderr)"]
    assert cancelled == [True]
    assert "in hangs" in capsys.readouterr().err
