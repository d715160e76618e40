"""Two-factor sign-in for operators (pyotp): RFC 6238 codes, turning it on (with ten
recovery codes) and off (with the password), each code good once, the key encrypted at
rest, and required for the roles that reveal personal data."""

import httpx
import pytest

from marketplace.core.db import engine
from marketplace.core.identity import totp
from tests.factories import PASSWORD
from tests.providers.test_pages import _login, _post
from tests.test_errors import assert_problem
from tests.test_sms import settings_env  # noqa: F401  (a fixture)

RFC_SECRET = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"  # "12345678901234567890", RFC 6238's SHA-1 key
NOW = 1_900_000_005.0  # mid-step: codes of the steps around it are fixed


@pytest.mark.unit
@pytest.mark.parametrize(
    "moment, code", [(59, "287082"), (1111111109, "081804"), (1234567890, "005924"), (2000000000, "279037")]
)
def test_codes_match_rfc_6238(moment, code):
    assert totp.code_at(RFC_SECRET, moment) == code
    assert totp.verify(RFC_SECRET, code, moment + 25)  # a step of drift is forgiven
    assert not totp.verify(RFC_SECRET, code, moment + 95)
    assert not totp.verify(RFC_SECRET, "12345", moment)
    full_width = code.translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    assert not totp.verify(RFC_SECRET, full_width, moment)  # refused, not a crash


@pytest.mark.unit
def test_only_whole_keys_are_secrets():
    assert totp.is_secret(totp.new_secret()) and totp.is_secret(RFC_SECRET)
    assert not totp.is_secret("A" * 27) and not totp.is_secret("not-base32!") and not totp.is_secret("")


@pytest.fixture
def frozen(monkeypatch):
    """The authenticator's clock, fixed, so a test never straddles a 30-second step."""

    class Clock:
        @staticmethod
        def time() -> float:
            return NOW

    monkeypatch.setattr(totp, "time", Clock)
    return NOW


def at(secret: str, steps: int) -> str:
    return totp.code_at(secret, NOW + steps * totp.STEP_SECONDS)


async def turn_on(client, username: str) -> tuple[str, list[str]]:
    await _login(client, "console", username)
    page = await client.get("/console/security")
    secret = page.text.split('data-testid="totp-secret">')[1].split("<")[0]
    on = await _post(client, "/console/security/totp", {"secret": secret, "code": at(secret, -1)})
    assert on.status_code == 200 and 'data-testid="recovery-codes"' in on.text
    codes = [item.split("<")[0] for item in on.text.split('data-testid="recovery-code">')[1:]]
    return secret, codes


def token_request(username: str, otp: str | None = None) -> dict:
    body = {"kind": "operator", "username": username, "password": PASSWORD}
    return {**body, "otp": otp} if otp is not None else body


@pytest.mark.integration
async def test_an_operator_turns_on_two_factor_and_then_needs_the_code(client, world, frozen):
    username = world.operators["chaoyang"]
    await _login(client, "console", username)
    page = await client.get("/console/security")
    secret = page.text.split('data-testid="totp-secret">')[1].split("<")[0]
    assert totp.is_secret(secret) and 'data-testid="totp-qr"' in page.text
    wrong = await _post(client, "/console/security/totp", {"secret": secret, "code": "000000"})
    assert wrong.status_code == 422 and 'data-testid="field-error"' in wrong.text
    tampered = await _post(client, "/console/security/totp", {"secret": "not-base32!", "code": "000000"})
    assert tampered.status_code == 422
    client.cookies.clear()
    secret, codes = await turn_on(client, username)
    assert len(codes) == 10 and len(set(codes)) == 10
    assert 'data-testid="totp-on"' in (await client.get("/console/security")).text

    assert_problem(await client.post("/api/v1/auth/token", json=token_request(username)), 401, "otp_required")
    assert_problem(await client.post("/api/v1/auth/token", json=token_request(username, "123456")), 401, "otp_required")
    signed = await client.post("/api/v1/auth/token", json=token_request(username, at(secret, 0)))
    assert signed.status_code == 201
    # The sign-in page asks for it too.
    client.cookies.clear()
    await client.get("/console/login")
    refused = await _post(client, "/console/login", {"username": username, "password": PASSWORD})
    assert refused.status_code == 401
    events = await client.get(
        "/api/v1/console/audit?action=operator.totp_enabled",
        headers={"Authorization": f"Bearer {signed.json()['token']}"},
    )
    assert len(events.json()) == 1


@pytest.mark.integration
async def test_a_code_works_once(client, world, frozen):
    username = world.operators["chaoyang"]
    secret, _ = await turn_on(client, username)
    # The code that turned it on is spent already, and so is each code that signs in.
    assert_problem(
        await client.post("/api/v1/auth/token", json=token_request(username, at(secret, -1))), 401, "otp_required"
    )
    assert (await client.post("/api/v1/auth/token", json=token_request(username, at(secret, 0)))).status_code == 201
    assert_problem(
        await client.post("/api/v1/auth/token", json=token_request(username, at(secret, 0))), 401, "otp_required"
    )
    assert (await client.post("/api/v1/auth/token", json=token_request(username, at(secret, 1)))).status_code == 201


@pytest.mark.integration
async def test_recovery_codes_sign_in_once_each(client, world, frozen):
    username = world.operators["chaoyang"]
    _, codes = await turn_on(client, username)
    assert (await client.post("/api/v1/auth/token", json=token_request(username, codes[0]))).status_code == 201
    assert_problem(await client.post("/api/v1/auth/token", json=token_request(username, codes[0])), 401, "otp_required")
    assert (await client.post("/api/v1/auth/token", json=token_request(username, codes[1].upper()))).status_code == 201
    assert 'data-testid="recovery-left"' in (page := (await client.get("/console/security")).text)
    assert "8" in page.split('data-testid="recovery-left">')[1].split("<")[0]
    rows = await engine().run_ddl("SELECT code_hash FROM operator_recovery_code")
    assert len(rows) == 10 and all(codes[0].encode() not in bytes(row["code_hash"]) for row in rows)


@pytest.mark.integration
async def test_the_key_is_stored_encrypted(client, world, frozen):
    secret, _ = await turn_on(client, world.operators["chaoyang"])
    columns = await engine().run_ddl("SELECT column_name FROM information_schema.columns WHERE table_name = 'operator'")
    assert "totp_secret" not in {row["column_name"] for row in columns}
    rows = await engine().run_ddl("SELECT totp_secret_cipher FROM operator WHERE totp_secret_cipher IS NOT NULL")
    assert len(rows) == 1 and secret.encode() not in bytes(rows[0]["totp_secret_cipher"])


@pytest.mark.integration
async def test_turning_it_off_needs_the_password(client, world, frozen):
    username = world.operators["chaoyang"]
    secret, _ = await turn_on(client, username)
    code_only = await _post(client, "/console/security/totp/disable", {"code": at(secret, 0)})
    assert code_only.status_code == 422
    wrong = await _post(client, "/console/security/totp/disable", {"password": "Wrong-Horse-42"})
    assert wrong.status_code == 422 and 'data-testid="totp-on"' in wrong.text
    off = await _post(client, "/console/security/totp/disable", {"password": PASSWORD})
    assert off.status_code in (302, 303)
    assert (await client.post("/api/v1/auth/token", json=token_request(username))).status_code == 201
    assert await engine().run_ddl("SELECT id FROM operator_recovery_code") == []


@pytest.mark.integration
async def test_roles_that_reveal_personal_data_must_set_it_up(client, world, frozen, settings_env):
    settings_env(TOTP_REQUIRED_ROLES="administrator,reviewer")
    username = world.operators["chaoyang"]
    await _login(client, "console", username)
    # Signed in, but every page leads to the set-up, and the API refuses until it is on.
    start = await client.get("/console/", headers={"accept": "text/html"})
    assert start.status_code in (302, 303) and start.headers["location"] == "/console/security"
    member = await client.get(f"/console/members/{world.members['chaoyang'][0]}", headers={"accept": "text/html"})
    assert member.headers.get("location") == "/console/security"
    page = await client.get("/console/security")
    assert 'data-testid="totp-required"' in page.text
    token = (await client.post("/api/v1/auth/token", json=token_request(username))).json()["token"]
    assert_problem(
        await client.get("/api/v1/console/operators", headers={"Authorization": f"Bearer {token}"}),
        403,
        "two_factor_required",
    )
    secret = page.text.split('data-testid="totp-secret">')[1].split("<")[0]
    await _post(client, "/console/security/totp", {"secret": secret, "code": at(secret, -1)})
    assert (await client.get("/console/")).status_code == 200
    # An analyst, who sees no personal data, is not asked.
    await engine().run_ddl(f"UPDATE operator SET role = 'analyst' WHERE username = '{world.operators['beijing']}'")
    other = httpx.AsyncClient(transport=client._transport, base_url="http://testserver")
    async with other:
        await _login(other, "console", world.operators["beijing"])
        assert (await other.get("/console/")).status_code == 200


@pytest.mark.integration
async def test_secrets_stored_in_clear_are_encrypted_by_the_migration(world):
    """The migration from the former TOTP code: a clear secret becomes an encrypted one."""
    from marketplace.core import pii
    from migrations.marketplace.marketplace_0010_accounts import _encrypt_existing_secrets

    username = world.operators["chaoyang"]
    await engine().run_ddl("ALTER TABLE operator ADD COLUMN totp_secret varchar(64)")
    try:
        await engine().run_ddl(f"UPDATE operator SET totp_secret = '{RFC_SECRET}' WHERE username = '{username}'")
        async with engine().transaction():
            await _encrypt_existing_secrets()
        rows = await engine().run_ddl(f"SELECT totp_secret_cipher FROM operator WHERE username = '{username}'")
        assert pii.decrypt(bytes(rows[0]["totp_secret_cipher"])) == RFC_SECRET
    finally:
        await engine().run_ddl("ALTER TABLE operator DROP COLUMN totp_secret")


@pytest.mark.integration
async def test_the_owner_with_a_second_factor_is_not_kept_out_by_a_stranger(client, world, app, frozen):
    """A stranger failing on purpose makes the account wait; the owner's right password
    with a valid authenticator code still signs in at once."""
    username = world.operators["chaoyang"]
    secret, _ = await turn_on(client, username)
    stranger = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app, client=("198.51.100.66", 1)), base_url="http://testserver"
    )
    async with stranger:
        statuses = [
            (
                await stranger.post(
                    "/api/v1/auth/token",
                    json={"kind": "operator", "username": username, "password": f"guess-{attempt}"},
                )
            ).status_code
            for attempt in range(8)
        ]
    assert 429 in statuses  # the account waits now
    assert_problem(
        await client.post("/api/v1/auth/token", json={**token_request(username), "password": "x"}),
        429,
        "login_throttled",
    )
    owner = await client.post("/api/v1/auth/token", json=token_request(username, at(secret, 0)))
    assert owner.status_code == 201, owner.text
    # A second factor does not let a wrong password through, and a code is good once.
    wrong = await client.post("/api/v1/auth/token", json={**token_request(username, at(secret, 1)), "password": "x"})
    assert wrong.status_code == 401


@pytest.mark.integration
async def test_an_administrator_resets_a_lost_authenticator_of_another_operator(client, world, frozen):
    """Confirmation, a reason, the audit log; the operator is signed out and must set it up
    again at the next sign-in (even in a role that does not require it); never one's own."""
    username = world.operators["chaoyang"]
    await turn_on(client, username)  # chaoyang's session, signed in with its second factor
    rows = {row["username"]: row["id"] for row in await engine().run_ddl("SELECT id, username FROM operator")}
    target = f"/console/team/operators/{rows[username]}/two-factor-reset"
    admin = httpx.AsyncClient(transport=client._transport, base_url="http://testserver")
    async with admin:
        await _login(admin, "console", world.operators["beijing"])
        team = await admin.get("/console/team")
        assert 'data-testid="operator-two-factor-reset"' in team.text
        no_reason = await _post(admin, target, {"reason": "  "})
        assert no_reason.status_code == 422 and 'data-testid="field-error"' in no_reason.text
        assert "审计" in no_reason.text.split('data-testid="field-error"')[1].split("</p>")[0]
        question = await _post(admin, target, {"reason": "本人来电，已核对工号"})
        assert question.status_code == 200 and 'data-testid="confirm"' in question.text
        assert (
            await engine().run_ddl(
                f"SELECT id FROM operator WHERE totp_secret_cipher IS NULL AND id = {rows[username]}"
            )
            == []
        )  # nothing changed yet
        done = await _post(admin, target, {"reason": "本人来电，已核对工号", "confirm": "1"})
        assert done.status_code in (302, 303) and done.headers["location"].startswith("/console/team")
        own = await _post(
            admin,
            f"/console/team/operators/{rows[world.operators['beijing']]}/two-factor-reset",
            {"reason": "自己", "confirm": "1"},
        )
        assert own.status_code == 409 and "账户安全" in own.text.split('data-testid="form-error"')[1].split("</div>")[0]
    row = (
        await engine().run_ddl(
            f"SELECT totp_secret_cipher, totp_setup_required FROM operator WHERE id = {rows[username]}"
        )
    )[0]
    assert row["totp_secret_cipher"] is None and row["totp_setup_required"]
    assert await engine().run_ddl("SELECT id FROM operator_recovery_code") == []
    events = await engine().run_ddl(
        "SELECT reason, details, actor_id FROM audit_event WHERE action = 'operator.totp_reset'"
    )
    assert len(events) == 1 and events[0]["reason"] == "本人来电，已核对工号"
    assert events[0]["actor_id"] == rows[world.operators["beijing"]] and '"two_factor": false' in events[0]["details"]
    # The operator's session ended; signed in again with the password alone, every page
    # leads to setting two-factor sign-in up again, though the role does not require it.
    assert (
        (await client.get("/console/", headers={"accept": "text/html"}))
        .headers["location"]
        .startswith("/console/login")
    )
    client.cookies.clear()
    await _login(client, "console", username)
    start = await client.get("/console/", headers={"accept": "text/html"})
    assert start.status_code in (302, 303) and start.headers["location"] == "/console/security"
    page = await client.get("/console/security")
    secret = page.text.split('data-testid="totp-secret">')[1].split("<")[0]
    await _post(client, "/console/security/totp", {"secret": secret, "code": at(secret, 0)})
    assert (await client.get("/console/")).status_code == 200
