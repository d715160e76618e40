"""Evaluator result batches: every bad row is reported with its row and field and nothing
is stored; a valid batch is applied whole and once, with one outbox event; CSV files in
UTF-8 (with or without a BOM) and GB18030; the upload form on the evaluator desk."""

import json
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from evaluation.evaluators import batches
from marketplace.core.db import engine
from marketplace.core.jobs import topics
from tests.factories import add_provider

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("clean_state")]
HTML = {"accept": "text/html"}
# A past day, still past if the session runs on past midnight in Shanghai.
YESTERDAY = (datetime.now(ZoneInfo("Asia/Shanghai")).date() - timedelta(days=1)).isoformat()


def tomorrow() -> str:
    """Asked when the test runs, not when the module was collected: a session that began
    before midnight in Shanghai would otherwise send today as tomorrow."""
    return (datetime.now(ZoneInfo("Asia/Shanghai")).date() + timedelta(days=1)).isoformat()


HEADER = "provider_id,visit_date,method,score,honoured,service,sample_size,note"


async def value(sql: str, *args):
    async with engine().transaction() as transaction:
        return await transaction.connection.fetchval(sql, *args)


def auth(world) -> dict:
    return {"Authorization": f"Bearer {world.evaluator_key}"}


def row(world, provider="chaoyang", **changes) -> dict:
    result = {
        "provider_id": world.providers[provider]["id"],
        "visit_date": YESTERDAY,
        "method": "mystery_shopper",
        "score": 82,
        "honoured": 90,
        "service": 75,
        "sample_size": 1,
        "note": "前台态度好",
    }
    result.update(changes)
    return result


async def stored() -> tuple[int, int, int]:
    """Batches, results and outbox events of applied batches."""
    return (
        await value("SELECT count(*) FROM evaluator_batch"),
        await value("SELECT count(*) FROM evaluator_result"),
        await value("SELECT count(*) FROM outbox_event WHERE topic = $1", topics.ResultsApplied.topic),
    )


async def post(client, world, body: dict):
    return await client.post("/api/v1/evaluator/batches", json=body, headers=auth(world))


async def post_csv(client, world, content: bytes, batch_id="csv-1"):
    return await client.post(
        f"/api/v1/evaluator/batches/csv?batch_id={batch_id}",
        content=content,
        headers={**auth(world), "content-type": "text/csv"},
    )


def assert_rejected(response, *expected: tuple[int, str, str]) -> list[dict]:
    """A 422 problem whose errors include each (row, field, code)."""
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["code"] == "invalid_batch" and response.headers["content-type"].startswith("application/problem+json")
    found = {(error["row"], error["field"], error["code"]) for error in body["errors"]}
    assert set(expected) <= found, (expected, body["errors"])
    assert all(error["message"] for error in body["errors"])
    return body["errors"]


# JSON ----------------------------------------------------------------------------------------------


async def test_a_valid_batch_is_applied_whole_with_one_event(client, world):
    haidian = world.providers["haidian"]["id"]
    response = await post(
        client,
        world,
        {
            "batch_id": "2026-11-W1",
            "results": [
                row(world),
                row(world, "haidian", method="phone_survey", honoured=None, service=None, sample_size=120, note=None),
            ],
        },
    )
    assert response.status_code == 201, response.text
    batch = response.json()
    assert batch["batch_id"] == "2026-11-W1" and batch["rows"] == 2 and batch["source"] == "json"
    assert batch["provider_ids"] == sorted([world.providers["chaoyang"]["id"], haidian])
    assert await stored() == (1, 2, 1)
    assert (
        await value(
            "SELECT (score, honoured, service, sample_size, note)::text FROM evaluator_result WHERE provider = $1",
            haidian,
        )
        == '(82,,,120,"")'
    )
    payload = json.loads(await value("SELECT payload FROM outbox_event WHERE topic = $1", topics.ResultsApplied.topic))
    assert payload == {
        "batch_id": batch["id"],
        "batch_ref": "2026-11-W1",
        "org_id": world.evaluator_org,
        "provider_ids": batch["provider_ids"],
    }
    listed = (await client.get("/api/v1/evaluator/batches", headers=auth(world))).json()
    assert [item["batch_id"] for item in listed["items"]] == ["2026-11-W1"] and listed["total"] == 1
    one = (await client.get("/api/v1/evaluator/batches/2026-11-W1", headers=auth(world))).json()
    assert [(r["row"], r["method"]) for r in one["results"]] == [(1, "mystery_shopper"), (2, "phone_survey")]


@pytest.mark.parametrize(
    ("changes", "field", "code"),
    [
        ({"provider_id": 999_999}, "provider_id", "unknown_provider"),
        ({"provider_id": 0}, "provider_id", "unknown_provider"),
        ({"provider_id": "abc"}, "provider_id", "not_integer"),
        ({"score": 101}, "score", "out_of_range"),
        ({"score": -1}, "score", "out_of_range"),
        ({"score": 85.5}, "score", "not_integer"),
        ({"score": True}, "score", "not_integer"),
        ({"honoured": 150}, "honoured", "out_of_range"),
        ({"service": -5}, "service", "out_of_range"),
        ({"score": None}, "score", "required"),
        ({"visit_date": "2026-02-30"}, "visit_date", "bad_date"),
        ({"visit_date": "30/11/2026"}, "visit_date", "bad_date"),
        ({"visit_date": tomorrow}, "visit_date", "future_date"),
        ({"method": "street_poll"}, "method", "unknown_method"),
        ({"sample_size": 0}, "sample_size", "sample_too_small"),
        ({"sample_size": -3}, "sample_size", "sample_too_small"),
        ({"note": "长" * 501}, "note", "too_long"),
        ({"sampleSize": 3}, "sampleSize", "unknown_field"),
    ],
)
async def test_each_bad_field_is_reported_on_its_row_and_nothing_is_stored(client, world, changes, field, code):
    changes = {name: value() if callable(value) else value for name, value in changes.items()}
    response = await post(client, world, {"batch_id": "bad-1", "results": [row(world), row(world, **changes)]})
    errors = assert_rejected(response, (2, field, code))
    assert all(error["row"] == 2 for error in errors)  # the good first row is not blamed
    assert await stored() == (0, 0, 0)


async def test_every_bad_row_of_a_batch_is_reported_at_once(client, world):
    response = await post(
        client,
        world,
        {
            "batch_id": "bad-2",
            "results": [
                row(world, score=120),
                row(world, visit_date="yesterday", method="x"),
                row(world, method="phone_survey"),
                row(world, method="phone_survey", score=10),
                "not an object",
            ],
        },
    )
    assert_rejected(
        response,
        (1, "score", "out_of_range"),
        (2, "visit_date", "bad_date"),
        (2, "method", "unknown_method"),
        (4, "row", "duplicate_row"),
        (5, "row", "not_an_object"),
    )
    assert response.json()["errors"][0]["field"] == "score"  # in row order
    assert await stored() == (0, 0, 0)


async def test_providers_outside_the_evaluators_subtree_are_refused(client, world):
    hebei = await add_provider(world.nodes["shijiazhuang"], "石家庄老字号饭店", "91130100MA01JKLM3Z")
    response = await post(
        client, world, {"batch_id": "scope-1", "results": [row(world), row(world, provider_id=hebei["id"])]}
    )
    assert_rejected(response, (2, "provider_id", "provider_out_of_scope"))
    assert await stored() == (0, 0, 0)


async def test_an_empty_batch_or_a_bad_batch_id_is_refused(client, world):
    assert_rejected(await post(client, world, {"batch_id": "empty", "results": []}), (0, "results", "no_rows"))
    assert_rejected(
        await post(client, world, {"batch_id": "has space", "results": [row(world)]}),
        (0, "batch_id", "invalid_batch_id"),
    )
    assert_rejected(await post(client, world, {"batch_id": "", "results": [row(world)]}), (0, "batch_id", "required"))
    assert await stored() == (0, 0, 0)


async def test_the_same_batch_again_answers_the_saved_batch_and_applies_nothing(client, world):
    body = {"batch_id": "replay-1", "results": [row(world), row(world, "haidian")]}
    first = await post(client, world, body)
    again = await post(client, world, {**body, "results": list(reversed(body["results"]))})  # same content, any order
    assert first.status_code == 201 and again.status_code == 200
    assert again.headers["idempotent-replayed"] == "true" and again.json() == first.json()
    assert await stored() == (1, 2, 1)


async def test_the_same_batch_id_with_other_results_is_refused(client, world):
    await post(client, world, {"batch_id": "reuse-1", "results": [row(world)]})
    changed = await post(client, world, {"batch_id": "reuse-1", "results": [row(world, score=20)]})
    assert changed.status_code == 409 and changed.json()["code"] == "batch_reused"
    assert changed.json()["errors"][0]["field"] == "batch_id"
    assert await stored() == (1, 1, 1)
    assert await value("SELECT score FROM evaluator_result") == 82
    # Another organisation may use the same batch id of its own.
    other = await value(
        "INSERT INTO evaluator_org (name, node) VALUES ('海淀调查', $1) RETURNING id", world.nodes["haidian"]
    )
    from evaluation.evaluators import services as evaluation

    key = await evaluation.create_api_key(other)
    response = await client.post(
        "/api/v1/evaluator/batches",
        headers={"Authorization": f"Bearer {key}"},
        json={"batch_id": "reuse-1", "results": [row(world, "haidian")]},
    )
    assert response.status_code == 201, response.text
    assert (await client.get("/api/v1/evaluator/batches/reuse-1", headers={"Authorization": f"Bearer {key}"})).json()[
        "provider_ids"
    ] == [world.providers["haidian"]["id"]]


async def test_only_evaluators_submit_batches(client, world):
    from tests.test_errors import bearer

    operator = await bearer(client, "operator", world.operators["beijing"])
    response = await client.post(
        "/api/v1/evaluator/batches", headers=operator, json={"batch_id": "x", "results": [row(world)]}
    )
    assert response.status_code == 403
    assert (await client.post("/api/v1/evaluator/batches", json={"batch_id": "x", "results": []})).status_code == 401
    assert await stored() == (0, 0, 0)


# CSV -------------------------------------------------------------------------------------------------


def csv_text(world, *lines: str) -> str:
    cy, hd = world.providers["chaoyang"]["id"], world.providers["haidian"]["id"]
    body = lines or (
        f"{cy},{YESTERDAY},mystery_shopper,80,90,70,1,服务热情",
        f'{hd},{YESTERDAY.replace("-", "/")},phone_survey,66,,,150,"电话回访, 共150人"',
    )
    return "\r\n".join([HEADER, *body]) + "\r\n"


@pytest.mark.parametrize(
    "encode",
    [
        lambda text: text.encode("utf-8"),
        lambda text: "\ufeff".encode("utf-8") + text.encode("utf-8"),
        lambda text: text.encode("gb18030"),
        lambda text: text.encode("utf-16"),
    ],
    ids=["utf-8", "utf-8-bom", "gb18030", "utf-16"],
)
async def test_csv_files_in_each_encoding_are_applied(client, world, encode):
    response = await post_csv(client, world, encode(csv_text(world)))
    assert response.status_code == 201, response.text
    assert response.json()["source"] == "csv" and response.json()["rows"] == 2
    assert await value("SELECT note FROM evaluator_result WHERE sample_size = 150") == "电话回访, 共150人"
    assert await value("SELECT note FROM evaluator_result WHERE sample_size = 1") == "服务热情"


async def test_csv_as_a_multipart_upload_and_replayed_as_json(client, world):
    response = await client.post(
        "/api/v1/evaluator/batches/csv",
        headers=auth(world),
        data={"batch_id": "mp-1"},
        files={"file": ("results.csv", csv_text(world).encode("gb18030"), "text/csv")},
    )
    assert response.status_code == 201, response.text
    cy, hd = world.providers["chaoyang"]["id"], world.providers["haidian"]["id"]
    same = await post(
        client,
        world,
        {
            "batch_id": "mp-1",
            "results": [
                {
                    "provider_id": hd,
                    "visit_date": YESTERDAY,
                    "method": "phone_survey",
                    "score": 66,
                    "sample_size": 150,
                    "note": "电话回访, 共150人",
                },
                {
                    "provider_id": cy,
                    "visit_date": YESTERDAY,
                    "method": "mystery_shopper",
                    "score": 80,
                    "honoured": 90,
                    "service": 70,
                    "sample_size": 1,
                    "note": "服务热情",
                },
            ],
        },
    )
    assert same.status_code == 200 and same.json()["id"] == response.json()["id"]
    assert await stored() == (1, 2, 1)


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"", (0, "file", "empty_file")),
        (b"\xef\xbb\xbf  \r\n", (0, "file", "empty_file")),
        (HEADER.encode() + b"\r\n", (0, "file", "no_rows")),
        (b"provider,date,score\r\n1,2026-11-01,80\r\n", (1, "header", "wrong_header")),
        (b"\xff\xfe\xfd\x00\x81", (0, "file", "encoding")),  # a UTF-16 byte-order mark, then no UTF-16 text
        (HEADER.encode() + b"\r\n1,2026-11-01,phone_survey,80\r\n", (2, "row", "column_count")),
        (HEADER.encode() + b'\r\n"1,2026-11-01,phone_survey,80,,,1,x\r\n', (2, "file", "malformed_csv")),
        (b"\x80\x81\xfe\xff\x00garbage", (0, "file", "encoding")),
    ],
)
async def test_malformed_csv_files_are_reported_and_store_nothing(client, world, content, expected):
    response = await post_csv(client, world, content)
    assert_rejected(response, expected)
    assert await stored() == (0, 0, 0)


async def test_csv_rows_are_numbered_as_the_spreadsheet_shows_them(client, world):
    cy = world.providers["chaoyang"]["id"]
    content = csv_text(
        world,
        f"{cy},{YESTERDAY},mystery_shopper,80,,,1,",
        "",
        f"{cy},{YESTERDAY},mystery_shopper,80,,,1,",
        f"{cy},{YESTERDAY},site_inspection,180,,,0,",
        f"{cy},{YESTERDAY},phone_survey,80,,,1",
    )
    errors = assert_rejected(
        await post_csv(client, world, content.encode()),
        (4, "row", "duplicate_row"),
        (5, "score", "out_of_range"),
        (5, "sample_size", "sample_too_small"),
        (6, "row", "column_count"),
    )
    assert "row 2" in next(e["message"] for e in errors if e["code"] == "duplicate_row")
    assert await stored() == (0, 0, 0)


async def test_a_csv_batch_needs_a_batch_id(client, world):
    response = await client.post(
        "/api/v1/evaluator/batches/csv",
        content=csv_text(world).encode(),
        headers={**auth(world), "content-type": "text/csv"},
    )
    assert_rejected(response, (0, "batch_id", "required"))
    assert await stored() == (0, 0, 0)


def test_parse_csv_accepts_tab_separated_text():
    entries, errors = batches.parse_csv(
        b"provider_id\tvisit_date\tmethod\tscore\tsample_size\n7\t2026-11-01\tphone_survey\t80\t3\n"
    )
    assert not errors and entries == [
        (
            2,
            {
                "provider_id": "7",
                "visit_date": "2026-11-01",
                "method": "phone_survey",
                "score": "80",
                "sample_size": "3",
            },
        )
    ]


# The desk's upload form ------------------------------------------------------------------------------


async def _login_desk(client, world) -> None:
    await client.get("/evaluator/login")
    response = await client.post(
        "/evaluator/login",
        data={"username": "", "password": world.evaluator_key, "_csrf_token": client.cookies.get("csrftoken")},
    )
    assert response.status_code in (302, 303), response.text


async def _upload(client, batch_id: str, content: bytes):
    return await client.post(
        "/evaluator/batches",
        headers=HTML,
        data={"batch_id": batch_id, "_csrf_token": client.cookies.get("csrftoken")},
        files={"file": ("results.csv", content, "text/csv")},
    )


async def test_the_upload_form_shows_each_row_error_and_applies_nothing(client, world):
    await _login_desk(client, world)
    page = await client.get("/evaluator/batches", headers=HTML)
    assert page.status_code == 200 and 'data-testid="upload-form"' in page.text and "上传" in page.text
    cy = world.providers["chaoyang"]["id"]
    bad = csv_text(world, f"{cy},{YESTERDAY},mystery_shopper,120,,,1,", f"999999,{YESTERDAY},phone_survey,80,,,1,")
    response = await _upload(client, "desk-1", bad.encode("gb18030"))
    assert response.status_code == 422
    html = response.text
    assert 'data-row="2" data-field="score" data-code="out_of_range"' in html
    assert 'data-row="3" data-field="provider_id" data-code="unknown_provider"' in html
    # In Chinese by default, each column named in words beside its code.
    assert "综合得分（score）须在 0 到 100 之间" in html and "商户编号（provider_id）999999 不存在" in html
    assert 'value="desk-1"' in html  # the form keeps what was typed
    assert await stored() == (0, 0, 0)

    done = await _upload(client, "desk-1", csv_text(world).encode("utf-8"))
    assert done.status_code in (302, 303)
    detail = await client.get(done.headers["location"], headers=HTML)
    assert detail.status_code == 200 and 'data-testid="batch-rows">2<' in detail.text
    assert await stored() == (1, 2, 1)
    listed = await client.get("/evaluator/batches", headers=HTML)
    assert "desk-1" in listed.text


async def test_the_upload_form_explains_a_reused_batch_id(client, world):
    await _login_desk(client, world)
    await _upload(client, "desk-2", csv_text(world).encode())
    cy = world.providers["chaoyang"]["id"]
    response = await _upload(client, "desk-2", csv_text(world, f"{cy},{YESTERDAY},online_survey,50,,,9,").encode())
    assert response.status_code == 409 and "批次编号" in response.text
    assert await stored() == (1, 2, 1)


async def test_the_desk_overview_links_to_batches_and_samples(client, world):
    await _login_desk(client, world)
    page = await client.get("/evaluator/", headers=HTML)
    assert 'href="/evaluator/batches"' in page.text and 'href="/evaluator/samples"' in page.text
