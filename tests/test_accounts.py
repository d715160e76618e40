"""Account safety: sign-in throttling that slows instead of locking out, and passwords
changed by their owner or reset by an owner or administrator, for every audience."""

import asyncio

import httpx
import pytest

from marketplace.core.db import engine
from marketplace.core.identity import throttle
from marketplace.core.kv import redis
from tests.factories import PASSWORD
from tests.providers.test_pages import HTML, _login, _post
from tests.test_errors import assert_problem
from tests.test_sms import last_sms_code

pytestmark = pytest.mark.integration

NEW_PASSWORD = "Mid-Autumn-Moon-2027"


def other_client(app, address: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app, client=(address, 1)), base_url="http://testserver")


def token_request(kind: str, username: str, password: str = PASSWORD) -> dict:
    return {"kind": kind, "username": username, "password": password}


# Throttling -----------------------------------------------------------------------------------------


async def test_failures_slow_the_account_down_but_never_lock_it(client, world):
    username = world.operators["beijing"]
    account_key, address_key = throttle.keys("operator", username, "203.0.113.7")
    for _ in range(5):
        assert_problem(
            await client.post("/api/v1/auth/token", json=token_request("operator", username, "wrong")),
            401,
            "invalid_credentials",
        )
    response = await client.post("/api/v1/auth/token", json=token_request("operator", username))
    assert_problem(response, 429, "login_throttled")
    assert response.headers["retry-after"] == "1"
    # The owner who waits the second out gets in with the right password: no lock.
    await asyncio.sleep(1.2)
    assert (await client.post("/api/v1/auth/token", json=token_request("operator", username))).status_code == 201

    # A stranger who goes on failing makes each wait twice as long, up to a minute, never more.
    waits = []
    for _ in range(5):
        await client.post("/api/v1/auth/token", json=token_request("operator", username, "wrong"))
    for _ in range(9):
        await redis().delete(account_key + ":wait", address_key + ":wait")  # as if the waits had passed
        await client.post("/api/v1/auth/token", json=token_request("operator", username, "wrong"))
        response = await client.post("/api/v1/auth/token", json=token_request("operator", username))
        waits.append(int(response.headers["retry-after"]))
    assert waits == [2, 4, 8, 16, 32, 60, 60, 60, 60]
    await redis().delete(account_key + ":wait", address_key + ":wait")
    assert (await client.post("/api/v1/auth/token", json=token_request("operator", username))).status_code == 201


async def test_the_wait_is_told_in_chinese_on_the_sign_in_page(client, world):
    username = world.providers["chaoyang"]["owner"]
    await client.get("/provider/login")
    for _ in range(5):
        await _post(client, "/provider/login", {"username": username, "password": "wrong"})
    page = await _post(client, "/provider/login", {"username": username, "password": PASSWORD})
    assert page.status_code == 429 and "请 1 秒后再试" in page.text


async def test_a_member_whose_password_is_under_attack_signs_in_by_code(client, world, app):
    phone = world.members["chaoyang"][1]
    async with other_client(app, "198.51.100.66") as stranger:
        for attempt in range(8):
            await stranger.post("/api/v1/auth/token", json=token_request("member", phone, f"guess-{attempt}"))
    assert_problem(await client.post("/api/v1/auth/token", json=token_request("member", phone)), 429, "login_throttled")
    await client.get("/login/sms")
    await _post(client, "/login/sms/send", {"phone": phone})
    signed = await _post(client, "/login/sms", {"phone": phone, "code": await last_sms_code(phone)})
    assert signed.status_code in (302, 303)
    assert (await client.get("/me")).status_code == 200


# Changing one's password ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "area, kind, who",
    [
        ("", "member", "member"),
        ("provider", "provider", "owner"),
        ("provider", "provider", "staff"),
        ("console", "operator", "operator"),
    ],
)
async def test_everyone_changes_their_password_with_the_current_one(client, world, app, area, kind, who):
    username = {
        "member": world.members["chaoyang"][1],
        "owner": world.providers["chaoyang"]["owner"],
        "staff": world.providers["chaoyang"]["staff"],
        "operator": world.operators["chaoyang"],
    }[who]
    path = {"member": "/me/password", "provider": "/provider/password", "operator": "/console/password"}[kind]
    login = f"/{area}/login" if area else "/login"
    async with other_client(app, "198.51.100.9") as elsewhere:
        token = (await elsewhere.post("/api/v1/auth/token", json=token_request(kind, username))).json()["token"]
        await client.get(login)
        assert (await _post(client, login, {"username": username, "password": PASSWORD})).status_code in (302, 303)
        page = await client.get(path)
        assert page.status_code == 200 and 'data-testid="password-form"' in page.text
        wrong = await _post(
            client, path, {"current_password": "not-it", "password": NEW_PASSWORD, "password_again": NEW_PASSWORD}
        )
        assert wrong.status_code == 422 and 'id="current_password-error"' in wrong.text
        differ = await _post(
            client, path, {"current_password": PASSWORD, "password": NEW_PASSWORD, "password_again": NEW_PASSWORD + "x"}
        )
        assert differ.status_code == 422 and 'id="password_again-error"' in differ.text
        done = await _post(
            client, path, {"current_password": PASSWORD, "password": NEW_PASSWORD, "password_again": NEW_PASSWORD}
        )
        assert done.status_code in (302, 303)
        assert 'data-testid="password-changed"' in (await client.get(done.headers["location"])).text
        # The session elsewhere ended; the old password is refused and the new one works.
        headers = {"Authorization": f"Bearer {token}"}
        assert (await elsewhere.get("/api/v1/me", headers=headers)).status_code == 401
    assert (await client.post("/api/v1/auth/token", json=token_request(kind, username))).status_code == 401
    assert (
        await client.post("/api/v1/auth/token", json=token_request(kind, username, NEW_PASSWORD))
    ).status_code == 201
    rows = await engine().run_ddl(f"SELECT count(*) AS n FROM audit_event WHERE action = '{kind}.password_changed'")
    assert rows[0]["n"] == 1


# Resets by an owner or an administrator --------------------------------------------------------------


async def test_an_owner_resets_a_staff_password_and_the_staff_must_change_it(client, world, app):
    staff = world.providers["chaoyang"]["staff"]
    await _login(client, "provider", world.providers["chaoyang"]["owner"])
    page = (await client.get("/provider/staff")).text
    user_id = int(page.split('action="/provider/staff/')[1].split("/")[0])
    reset = await _post(client, f"/provider/staff/{user_id}/password-reset", {"name": "前台"})
    assert reset.status_code == 200
    temporary = reset.text.split('data-testid="temporary-password">')[1].split("<")[0]
    assert len(temporary) == 14
    async with other_client(app, "198.51.100.10") as counter:
        await counter.get("/provider/login")
        assert (await _post(counter, "/provider/login", {"username": staff, "password": PASSWORD})).status_code == 401
        await _post(counter, "/provider/login", {"username": staff, "password": temporary})
        start = await counter.get("/provider/", headers=HTML)
        assert start.status_code in (302, 303) and start.headers["location"] == "/provider/password"
        assert 'data-testid="password-forced"' in (await counter.get("/provider/password")).text
        token = (await counter.post("/api/v1/auth/token", json=token_request("provider", staff, temporary))).json()
        assert_problem(
            await counter.get("/api/v1/provider/offers", headers={"Authorization": f"Bearer {token['token']}"}),
            403,
            "password_change_required",
        )
        done = await _post(
            counter,
            "/provider/password",
            {"current_password": temporary, "password": NEW_PASSWORD, "password_again": NEW_PASSWORD},
        )
        assert done.status_code in (302, 303)
        # With the new password the staff member works again: staff land on the counter.
        assert (await counter.get("/provider/counter", headers=HTML)).status_code == 200


async def test_an_owner_cannot_reset_another_providers_staff(client, world):
    await _login(client, "provider", world.providers["haidian"]["owner"])
    rows = await engine().run_ddl(
        f"SELECT id FROM provider_user WHERE username = '{world.providers['chaoyang']['staff']}'"
    )
    refused = await _post(client, f"/provider/staff/{rows[0]['id']}/password-reset", {"name": "x"})
    assert refused.status_code == 404


async def test_an_administrator_resets_an_operator_password_in_scope_only(client, world):
    await _login(client, "console", world.operators["chaoyang"])
    rows = {row["username"]: row["id"] for row in await engine().run_ddl("SELECT id, username FROM operator")}
    outside = await _post(
        client, f"/console/team/operators/{rows[world.operators['beijing']]}/password-reset", {"name": "x"}
    )
    assert outside.status_code == 404  # beijing is above chaoyang's scope
    own = await _post(
        client, f"/console/team/operators/{rows[world.operators['chaoyang']]}/password-reset", {"name": "x"}
    )
    assert own.status_code == 409
    client.cookies.clear()
    await _login(client, "console", world.operators["beijing"])
    reset = await _post(
        client, f"/console/team/operators/{rows[world.operators['chaoyang']]}/password-reset", {"name": "x"}
    )
    assert reset.status_code == 200
    temporary = reset.text.split('data-testid="temporary-password">')[1].split("<")[0]
    client.cookies.clear()
    await _login(client, "console", world.operators["chaoyang"], temporary)
    start = await client.get("/console/", headers=HTML)
    assert start.headers.get("location") == "/console/password"
    events = await engine().run_ddl("SELECT count(*) AS n FROM audit_event WHERE action = 'operator.password_reset'")
    assert events[0]["n"] == 1
