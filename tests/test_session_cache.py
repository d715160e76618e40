"""Members' sessions cached by each web process (marketplace/core/identity/session_cache.py):
a revocation takes effect at once in every process, whichever one (or which script) made it.

Two real web processes on one database, as two workers or two machines: each has looked
the session up (so each holds it), then the session is revoked through one of them or
behind both, and the very next request to either is answered as the database now says.
"""

import asyncio
import time
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from marketplace.core.db import engine
from marketplace.core.identity import accounts, services as identity, session_cache
from marketplace.core.identity.principal import Principal
from marketplace.core.settings import get_settings
from tests.test_errors import assert_problem

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.usefixtures("clean_state")]

PASSWORD = "Correct-Horse-42"


async def sign_in(http, base: str, world, key: str = "chaoyang") -> str:
    response = await http.post(
        base + "/api/v1/auth/token", json={"kind": "member", "username": world.members[key][1], "password": PASSWORD}
    )
    assert response.status_code == 201, response.text
    return response.json()["token"]


@pytest.fixture
async def listening():
    """This test process listens too, as a third web process would (and so waits, like one,
    until every process has dropped what it revokes)."""
    await session_cache.start()
    deadline = time.monotonic() + 30
    while not session_cache.enabled() and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    assert session_cache.enabled()
    yield
    await session_cache.stop()


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


async def me(http, base: str, token: str) -> int:
    return (await http.get(base + "/api/v1/me", headers=bearer(token))).status_code


async def warm(http, servers: list[str], token: str) -> None:
    """Each process looks the session up, so each now answers it from its cache."""
    for base in servers:
        assert await me(http, base, token) == 200


async def test_the_processes_answer_from_their_cache_and_the_database_tells_them(two_web_processes, world):
    async with httpx.AsyncClient(timeout=30) as http:
        token = await sign_in(http, two_web_processes[0], world)
        await warm(http, two_web_processes, token)
        # With the trigger off, a deleted session is not told: both processes go on from
        # memory (which proves the other tests below revoke a cached session, not a row).
        await engine().run_ddl("ALTER TABLE auth_session DISABLE TRIGGER auth_session_revoked")
        try:
            await engine().run_ddl("DELETE FROM auth_session")
        finally:
            await engine().run_ddl("ALTER TABLE auth_session ENABLE TRIGGER auth_session_revoked")
        assert [await me(http, base, token) for base in two_web_processes] == [200, 200]


async def test_a_signed_out_token_is_refused_at_once_by_every_process(two_web_processes, world):
    first, second = two_web_processes
    async with httpx.AsyncClient(timeout=30) as http:
        token = await sign_in(http, first, world)
        await warm(http, two_web_processes, token)
        assert (await http.delete(first + "/api/v1/auth/token", headers=bearer(token))).status_code == 204
        assert await me(http, second, token) == 401
        assert await me(http, first, token) == 401


async def test_a_password_change_signs_the_member_out_elsewhere_in_every_process(two_web_processes, world, listening):
    async with httpx.AsyncClient(timeout=30) as http:
        kept = await sign_in(http, two_web_processes[0], world)
        other = await sign_in(http, two_web_processes[1], world)
        for token in (kept, other):
            await warm(http, two_web_processes, token)
        # Changed in a third process (this one), through the service the password page calls.
        principal = await identity.principal_for_token(kept, "bearer")
        await accounts.change_password(principal, PASSWORD, "Battery-Staple-77", "Battery-Staple-77")
        assert [await me(http, base, other) for base in two_web_processes] == [401, 401]
        assert [await me(http, base, kept) for base in two_web_processes] == [200, 200]


async def test_a_member_who_left_is_refused_by_every_process_as_soon_as_the_change_commits(two_web_processes, world):
    member_id = world.members["chaoyang"][0]
    claims = f"/api/v1/offers/{world.offers['public']}/claims"
    async with httpx.AsyncClient(timeout=30) as http:
        token = await sign_in(http, two_web_processes[0], world)
        await warm(http, two_web_processes, token)
        # As a roster import records it: a statement, no service of identity's to wait for the
        # processes, so each learns it when the commit's message reaches it (milliseconds;
        # seconds on a busy machine). Well before the cached session would expire anyway.
        budget = 30
        assert get_settings().security.session_cache_seconds > 2 * budget
        await engine().run_ddl(f"UPDATE member SET status = 'left' WHERE id = {int(member_id)}")
        committed = time.monotonic()
        for base in two_web_processes:
            while (response := await http.post(base + claims, headers=bearer(token))).status_code != 403:
                assert time.monotonic() - committed < budget, response.text
                await asyncio.sleep(0.01)
            assert_problem(response, 403, "member_left")


@pytest.mark.unit
def test_a_look_up_overtaken_by_a_revocation_stores_nothing_and_messages_drop_what_they_name(monkeypatch):
    monkeypatch.setattr(session_cache, "_listening", True)
    monkeypatch.setattr(session_cache, "_entries", {})
    later = datetime.now(UTC) + timedelta(days=1)
    ann = Principal(kind="member", id=7, display_name="安")
    bo = Principal(kind="member", id=8, display_name="博")
    # A look-up began, a revocation arrived before it finished: what it read may predate it.
    since = session_cache.generation()
    session_cache.forget("s:other")
    session_cache.put("h1", "bearer", ann, later, since)
    assert session_cache.get("h1", "bearer") is None
    since = session_cache.generation()
    session_cache.put("h1", "bearer", ann, later, since)
    session_cache.put("h2", "cookie", ann, later, since)
    session_cache.put("h3", "bearer", bo, later, since)
    session_cache.put("h4", "bearer", Principal(kind="operator", id=1, display_name="op"), later, since)
    assert session_cache.get("h1", "bearer") == ann and session_cache.get("h4", "bearer") is None
    session_cache.forget("m:7")  # both of Ann's sessions, not Bo's
    assert session_cache.get("h1", "bearer") is None and session_cache.get("h2", "cookie") is None
    assert session_cache.get("h3", "bearer") == bo
    session_cache.forget("*")
    assert session_cache.get("h3", "bearer") is None
    # An expired session is not answered from the cache, and nothing is while nobody listens.
    since = session_cache.generation()
    session_cache.put("h5", "bearer", bo, datetime.now(UTC) - timedelta(seconds=1), since)
    assert session_cache.get("h5", "bearer") is None
    session_cache.put("h6", "bearer", bo, later, since)
    monkeypatch.setattr(session_cache, "_listening", False)
    assert session_cache.get("h6", "bearer") is None
