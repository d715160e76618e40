"""Bad input gets a 4xx problem-details body naming the problem, never a 500."""

import json

import pytest

from tests.factories import id_number

pytestmark = pytest.mark.integration

PROBLEM = "application/problem+json"


async def bearer(client, kind, username, password="Correct-Horse-42") -> dict:
    response = await client.post("/api/v1/auth/token", json={"kind": kind, "username": username, "password": password})
    assert response.status_code == 201, response.text
    return {"Authorization": f"Bearer {response.json()['token']}"}


def assert_problem(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    body = response.json()
    assert body["status"] == status
    assert body["code"] == code
    assert body["type"].endswith(code)
    assert body["title"] and body["detail"]
    return body


async def test_unknown_route_is_a_404_problem(client):
    assert_problem(await client.get("/api/v1/nothing-here"), 404, "not_found")


async def test_wrong_method_is_a_405_problem(client):
    assert_problem(await client.put("/health"), 405, "method_not_allowed")


async def test_malformed_json_is_a_400_problem(client):
    response = await client.post(
        "/api/v1/auth/token", content=b'{"kind": "member", "username": ', headers={"content-type": "application/json"}
    )
    body = assert_problem(response, 400, "malformed_json")
    assert "JSON" in body["detail"]


async def test_wrong_type_names_the_field(client):
    response = await client.post("/api/v1/auth/token", json={"kind": "member", "username": 12, "password": "x"})
    body = assert_problem(response, 400, "validation_error")
    assert "username" in body["detail"]


async def test_unknown_field_names_the_field(client):
    response = await client.post(
        "/api/v1/auth/token", json={"kind": "member", "username": "a", "password": "b", "admin": True}
    )
    body = assert_problem(response, 400, "validation_error")
    assert "admin" in body["detail"]


async def test_invalid_enum_value_is_rejected(client):
    response = await client.post("/api/v1/auth/token", json={"kind": "root", "username": "a", "password": "b"})
    body = assert_problem(response, 400, "validation_error")
    assert "kind" in body["detail"]


async def test_oversized_body_is_a_413_problem(client):
    response = await client.post(
        "/api/v1/auth/token", content=b"x" * (1_048_576 + 10), headers={"content-type": "application/json"}
    )
    assert_problem(response, 413, "payload_too_large")


async def test_domain_error_carries_field_and_code(client, world):
    headers = await bearer(client, "operator", world.operators["chaoyang"])
    response = await client.post(
        "/api/v1/federation/members",
        headers=headers,
        json={
            "node_id": world.nodes["cy_union"],
            "name": "张三",
            "gender": "M",
            "birth_year": 1985,
            "phone": "12345",
            "id_number": "110105198501011234",
        },
    )
    body = assert_problem(response, 422, "invalid")
    assert body["errors"] == [{"field": "phone", "message": body["detail"]}]


async def test_duplicate_member_is_a_409_and_nothing_changes(client, world):
    headers = await bearer(client, "operator", world.operators["chaoyang"])
    _, phone = world.members["chaoyang"]
    before = (await client.get(f"/api/v1/federation/nodes/{world.nodes['cy_union']}", headers=headers)).json()
    response = await client.post(
        "/api/v1/federation/members",
        headers=headers,
        json={
            "node_id": world.nodes["cy_union"],
            "name": "张三",
            "gender": "M",
            "birth_year": 1985,
            "phone": phone,
            "id_number": id_number(999),
        },
    )
    assert_problem(response, 409, "member_exists")
    after = (await client.get(f"/api/v1/federation/nodes/{world.nodes['cy_union']}", headers=headers)).json()
    assert after["members"] == before["members"]


@pytest.mark.parametrize(
    "change, field",
    [
        ({"name": "张" * 51}, "name"),
        ({"birth_year": 99999}, "birth_year"),
        ({"node_id": 2**40}, "node_id"),
        ({"groups": ["x" * 33]}, "groups"),
    ],
)
async def test_out_of_range_member_fields_are_400s_naming_the_field(client, world, change, field):
    headers = await bearer(client, "operator", world.operators["chaoyang"])
    body = {
        "node_id": world.nodes["cy_union"],
        "name": "张三",
        "gender": "M",
        "birth_year": 1985,
        "phone": "13712340000",
        "id_number": id_number(998),
        **change,
    }
    problem = assert_problem(
        await client.post("/api/v1/federation/members", headers=headers, json=body), 400, "validation_error"
    )
    assert field in problem["detail"]


async def test_an_id_number_with_a_wrong_check_digit_is_refused(client, world):
    headers = await bearer(client, "operator", world.operators["chaoyang"])
    valid = id_number(997)
    wrong = valid[:17] + ("0" if valid[17] != "0" else "1")
    response = await client.post(
        "/api/v1/federation/members",
        headers=headers,
        json={
            "node_id": world.nodes["cy_union"],
            "name": "张三",
            "gender": "M",
            "birth_year": 1985,
            "phone": "13712340001",
            "id_number": wrong,
        },
    )
    assert assert_problem(response, 422, "invalid")["errors"][0]["field"] == "id_number"


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/federation/nodes/99999999999",
        "/api/v1/federation/nodes/99999999999/members",
        "/api/v1/federation/nodes/1/members?page=999999999",
    ],
)
async def test_absurd_numbers_in_the_url_are_400s(client, world, path):
    headers = await bearer(client, "operator", world.operators["national"])
    response = await client.get(path, headers=headers)
    assert_problem(response, 400, "validation_error")


async def test_html_pages_get_an_html_error(client):
    response = await client.get("/no-such-page", headers={"accept": "text/html"})
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")


@pytest.mark.unit
def test_a_domain_error_is_said_in_the_viewers_language():
    from marketplace.core.errors import Invalid
    from marketplace.core.web import i18n

    error = Invalid("Please check the field marked below.", field="title_zh")
    assert error.detail == "Please check the field marked below."
    token = i18n.current_locale.set("zh_Hans")
    try:
        assert error.translated() == "请检查下方标出的内容。"
    finally:
        i18n.current_locale.reset(token)


@pytest.mark.unit
def test_a_domain_errors_parameters_fill_the_api_detail():
    from marketplace.core.errors import Conflict

    error = Conflict("Only %(left)s left.", code="low_stock", params={"left": 3})
    assert error.detail == "Only 3 left." and str(error) == "Only 3 left."
    assert error.translated() == "Only 3 left."  # no translation yet: the English message


async def _send_in_chunks(app, path: str, chunks: list[bytes], headers: list[tuple[bytes, bytes]]):
    """`POST path` straight to the app, its body in `chunks` as a server passes them on;
    the answer's status and body."""
    events = [
        {"type": "http.request", "body": chunk, "more_body": i < len(chunks) - 1} for i, chunk in enumerate(chunks)
    ]
    answer: dict = {"body": b""}

    async def receive():
        return events.pop(0) if events else {"type": "http.disconnect"}

    async def send(message):
        if message["type"] == "http.response.start":
            answer["status"] = message["status"]
        else:
            answer["body"] += message.get("body", b"")

    scope = {
        "type": "http",
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "client": ("203.0.113.7", 50000),
        "server": ("testserver", 80),
        "headers": [(b"host", b"testserver"), (b"content-type", b"application/json"), *headers],
    }
    await app(scope, receive, send)
    return answer["status"], json.loads(answer["body"])


async def test_a_body_in_chunks_is_read_whole_and_its_limit_counts_every_chunk(app, world):
    # The request class reads a body itself (marketplace/core/web/requests.py): chunks joined in order.
    sign_in = (
        b'{"kind": "member", "username": "%s", "password": "Correct-Horse-42"}' % world.members["chaoyang"][1].encode()
    )
    status, body = await _send_in_chunks(app, "/api/v1/auth/token", [sign_in[:10], b"", sign_in[10:]], [])
    assert status == 201 and body["token"], body
    # No content length to refuse early: the chunks received pass the limit.
    status, body = await _send_in_chunks(app, "/api/v1/auth/token", [b"x" * 600_000, b"x" * 600_000], [])
    assert (status, body["code"]) == (413, "payload_too_large")
    # An announced length over the limit is refused before anything is read.
    status, body = await _send_in_chunks(app, "/api/v1/auth/token", [], [(b"content-length", b"2000000")])
    assert (status, body["code"]) == (413, "payload_too_large")


async def test_a_content_length_that_is_no_number_is_a_400_problem(app):
    status, body = await _send_in_chunks(app, "/api/v1/auth/token", [b"{}"], [(b"content-length", b"two")])
    assert (status, body["code"]) == (400, "bad_request")
    assert body["detail"] == "Invalid content-length: 'two'"
