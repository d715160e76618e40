"""Withdrawing an entry while the window is open: the entry leaves the draw (and its
published result), the member is told, may enter again with the same ticket, and a burst
of enters and withdrawals by one member never leaves more than one entry."""

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from marketplace.core.db import engine
from marketplace.core.errors import Conflict
from marketplace.draws import services as draws
from tests.draws.test_draws import entries, inbox_kinds, members, new_draw, operator

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("clean_state")]


async def test_a_withdrawn_entry_is_not_in_the_draw_and_the_member_may_enter_again(world):
    draw_id = await new_draw(world, places=1)
    leaver, stayer, returner = await members(world, 3)
    for person in (leaver, stayer, returner):
        await draws.enter(person, draw_id)
    ticket = (await draws.my_entry(returner, draw_id))["ticket"]

    await draws.withdraw(leaver, draw_id)
    assert (await draws.my_entry(leaver, draw_id))["status"] == "withdrawn"
    assert (await inbox_kinds(leaver.id))[-1] == "draw_withdrawn"
    assert (await draws.get_draw(draw_id))["entry_count"] == 2
    with pytest.raises(Conflict) as refused:  # nothing left to withdraw
        await draws.withdraw(leaver, draw_id)
    assert refused.value.code == "not_entered"

    await draws.withdraw(returner, draw_id)
    again = await draws.enter(returner, draw_id)  # re-entry while open: the same ticket, one row
    assert again["ticket"] == ticket
    assert (await draws.my_entry(returner, draw_id))["status"] == "entered"
    assert (await inbox_kinds(returner.id)) == ["draw_entered", "draw_withdrawn", "draw_entered"]
    with pytest.raises(Conflict) as refused:
        await draws.enter(returner, draw_id)
    assert refused.value.code == "already_entered"

    await draws.run_draw(await operator(world), draw_id)
    result = await draws.published_result(draw_id)
    leaver_ticket = (await draws.my_entry(leaver, draw_id))["ticket"]
    assert str(leaver_ticket) not in result["order"] and len(result["entries"]) == 2
    assert draws.verify(result) == []
    after = {row["member"]: row for row in await entries(draw_id)}
    assert after[leaver.id]["status"] == "withdrawn" and after[leaver.id]["rank"] is None
    assert sorted(after[p.id]["status"] for p in (stayer, returner)) == ["offered", "waitlisted"]
    assert (await inbox_kinds(leaver.id))[-1] == "draw_withdrawn"  # told nothing of a draw it was not in

    with pytest.raises(Conflict) as refused:  # drawn: an entry can no longer be withdrawn
        await draws.withdraw(stayer, draw_id)
    assert refused.value.code == "draw_not_open"
    with pytest.raises(Conflict):  # nor entered again
        await draws.enter(leaver, draw_id)


async def test_withdrawing_after_entries_closed_is_refused(world):
    draw_id = await new_draw(world)
    (member,) = await members(world, 1)
    await draws.enter(member, draw_id)
    async with engine().transaction() as transaction:
        await transaction.connection.execute(
            "UPDATE draw SET closes_at = now() - interval '1 second' WHERE id = $1", draw_id
        )
    with pytest.raises(Conflict) as refused:
        await draws.withdraw(member, draw_id)
    assert refused.value.code == "draw_not_open"
    assert (await draws.my_entry(member, draw_id))["status"] == "entered"


async def test_enters_and_withdrawals_racing_leave_one_entry_at_most(world):
    draw_id = await new_draw(world, closes_at=datetime.now(UTC) + timedelta(hours=1))
    (member,) = await members(world, 1)
    await draws.enter(member, draw_id)

    async def attempt(action):
        try:
            await action(member, draw_id)
            return action.__name__
        except Conflict as error:
            return error.code

    state = "entered"
    for _ in range(3):
        outcomes = await asyncio.gather(*(attempt(draws.withdraw if i % 2 else draws.enter) for i in range(24)))
        assert set(outcomes) <= {"enter", "withdraw", "already_entered", "not_entered"}
        rows = await entries(draw_id)
        assert len(rows) == 1  # one row, whatever order the taps landed in
        # Every success flipped the one entry (entered → withdrawn → entered …), so successes
        # alternate and their number tells the state it ended in.
        entered, withdrew = outcomes.count("enter"), outcomes.count("withdraw")
        assert (withdrew - entered) in ((0, 1) if state == "entered" else (-1, 0))
        flipped = (entered + withdrew) % 2 == 1
        state = ("withdrawn" if state == "entered" else "entered") if flipped else state
        assert rows[0]["status"] == state
    kinds = await inbox_kinds(member.id)
    assert kinds.count("draw_entered") - kinds.count("draw_withdrawn") == (1 if state == "entered" else 0)


async def test_withdrawals_racing_the_draw_are_either_out_of_it_or_refused(world):
    draw_id = await new_draw(world, places=3)
    people = await members(world, 12)
    for person in people:
        await draws.enter(person, draw_id)
    admin = await operator(world)

    async def attempt(person):
        try:
            await draws.withdraw(person, draw_id)
            return "withdrawn"
        except Conflict as error:
            return error.code

    # All at once: whichever lands first, a withdrawal is either out of the draw or refused.
    *outcomes, drawn = await asyncio.gather(*(attempt(person) for person in people[:8]), draws.run_draw(admin, draw_id))
    assert drawn["status"] == "drawn" and set(outcomes) <= {"withdrawn", "draw_not_open"}
    rows = {row["member"]: row for row in await entries(draw_id)}
    out = {person.id for person, outcome in zip(people, outcomes, strict=False) if outcome == "withdrawn"}
    assert {member for member, row in rows.items() if row["status"] == "withdrawn"} == out
    assert all(row["rank"] is None for member, row in rows.items() if member in out)
    result = await draws.published_result(draw_id)
    assert sorted(result["order"]) == sorted(str(row["id"]) for member, row in rows.items() if member not in out)
    assert draws.verify(result) == []
