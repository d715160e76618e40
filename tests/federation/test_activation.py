"""A member imported with the roster activates their account by matching it: name, ID
number and phone all right, or a generic refusal; failures are throttled."""

import pytest

from marketplace.core.db import engine
from marketplace.core.federation.roster import services as roster
from tests.federation.test_roster import csv_file, ident, operator, row
from tests.providers.test_pages import _post
from tests.test_sms import last_sms_code

pytestmark = pytest.mark.integration

PASSWORD = "Lantern-Festival-2027"


async def imported(world) -> dict:
    result = await roster.start_import(
        await operator("chaoyang"), "r.csv", csv_file(row(70, name="赵六", phone="13700000070"))
    )
    assert result.created == 1
    return {"name": "赵六", "id_number": ident(70), "phone": "13700000070"}


async def activate(client, **form):
    """Both steps: the details (a code goes to the phone), then the code and the password."""
    await client.get("/activate")
    details = {key: form[key] for key in ("name", "id_number", "phone")}
    sent = await _post(client, "/activate/send", details)
    if sent.status_code != 200 or 'data-testid="code-sent"' not in sent.text:
        return sent
    code = await last_sms_code(form["phone"])
    return await _post(client, "/activate", {"password": PASSWORD, "password_again": PASSWORD, "code": code, **form})


async def password_set(id_number: str) -> bool:
    from marketplace.core import pii

    rows = await engine().run_ddl(
        f"SELECT password_hash FROM member WHERE id_number_hash = '\\x{pii.lookup_hash(id_number).hex()}'"
    )
    return rows[0]["password_hash"] is not None


async def test_the_member_login_page_links_to_activation(client):
    page = await client.get("/login")
    assert 'href="/activate"' in page.text
    assert (await client.get("/activate")).status_code == 200


async def test_activation_sets_the_password_and_signs_in(client, world):
    person = await imported(world)
    # An imported member cannot sign in before activating.
    await client.get("/login")
    refused = await _post(client, "/login", {"username": person["phone"], "password": PASSWORD})
    assert refused.status_code == 401
    response = await activate(client, **person)
    assert response.status_code in (302, 303), response.text
    assert await password_set(person["id_number"])
    assert (await client.get("/me")).status_code == 200  # signed in by the activation
    # Sign-in with the new password works; activating again does not (no password to set).
    client.cookies.clear()
    await client.get("/login")
    assert (await _post(client, "/login", {"username": person["phone"], "password": PASSWORD})).status_code in (
        302,
        303,
    )
    again = await activate(client, **person)
    assert again.status_code == 401
    rows = await engine().run_ddl("SELECT count(*) AS n FROM audit_event WHERE action = 'member.activate'")
    assert rows[0]["n"] == 1


@pytest.mark.parametrize("wrong", ["name", "id_number", "phone"])
async def test_a_wrong_detail_gets_the_same_generic_refusal(client, world, wrong):
    person = await imported(world)
    changed = {"name": "赵七", "id_number": ident(71), "phone": "13700000071"}[wrong]
    response = await activate(client, **{**person, wrong: changed})
    assert response.status_code == 401 and 'data-testid="activate-error"' in response.text
    assert not await password_set(person["id_number"])
    # The message is one and the same whichever field was wrong.
    other = await activate(client, **{**person, "name": "钱八"})

    def message(text):
        return text.split('data-testid="activate-error"')[1].split("</div>")[0]

    assert message(response.text) == message(other.text)


async def test_a_member_who_already_has_a_password_cannot_activate(client, world):
    from tests.factories import id_number

    response = await activate(client, name="王小芳", id_number=id_number(1), phone=world.members["chaoyang"][1])
    assert response.status_code == 401


async def test_weak_and_mismatched_passwords_are_refused(client, world):
    person = await imported(world)
    await client.get("/activate")
    weak = await _post(client, "/activate", {**person, "password": "12345678", "password_again": "12345678"})
    assert weak.status_code == 422
    differ = await _post(client, "/activate", {**person, "password": PASSWORD, "password_again": PASSWORD + "x"})
    assert differ.status_code == 422
    # Each message sits under its field, in Chinese.
    for response, field in ((weak, 'id="password"'), (differ, 'id="password_again"')):
        at_field = response.text.split(field)[1].split("</div>")[0]
        assert 'data-testid="field-error"' in at_field and "密码" in at_field, field
    assert not await password_set(person["id_number"])


async def test_failed_activations_are_throttled(client, world):
    from marketplace.core.settings import get_settings

    person = await imported(world)
    limit = get_settings().security.login_max_failures
    for _ in range(limit):
        assert (await activate(client, **{**person, "name": "猜错"})).status_code == 401
    throttled = await activate(client, **person)  # even the right details wait now
    assert throttled.status_code == 429
    assert not await password_set(person["id_number"])


async def test_leaked_name_id_and_phone_alone_do_not_take_the_account(client, world):
    """Who knows the details but does not hold the phone cannot activate: the code goes to
    the phone on file, and a guessed or missing code sets no password."""
    person = await imported(world)
    await client.get("/activate")
    without_code = await _post(client, "/activate", {**person, "password": PASSWORD, "password_again": PASSWORD})
    assert without_code.status_code in (401, 422)
    sent = await _post(client, "/activate/send", person)
    assert sent.status_code == 200 and 'data-testid="code-sent"' in sent.text
    code = await last_sms_code(person["phone"])
    guessed = await _post(
        client,
        "/activate",
        {
            **person,
            "code": "000000" if code != "000000" else "111111",
            "password": PASSWORD,
            "password_again": PASSWORD,
        },
    )
    assert guessed.status_code == 422
    assert not await password_set(person["id_number"])
    # Another member's details with this code do not work either.
    other = await _post(
        client,
        "/activate",
        {**person, "id_number": ident(71), "code": code, "password": PASSWORD, "password_again": PASSWORD},
    )
    assert other.status_code in (401, 422)
    assert not await password_set(person["id_number"])
