"""Roster import: every bad input is reported row by row and changes nothing; a valid
file is applied whole, and again changes nothing; large files run as a job with progress."""

import json
from datetime import date

import pytest

from marketplace.core import audit, pii
from marketplace.core.db import engine
from marketplace.core.federation.roster import parsing, services as roster
from marketplace.core.federation.services import id_check_digit
from marketplace.core.identity import services as identity
from marketplace.core.identity.tables import Operator

pytestmark = pytest.mark.integration

HEADER = "name,phone,id_number,node,groups"


def ident(serial: int, born: str = "19900101", area: str = "110105") -> str:
    first17 = f"{area}{born}{serial:03d}"
    return first17 + id_check_digit(first17)


def row(
    serial: int,
    node: str = "110105-001",
    groups: str = "",
    name: str | None = None,
    phone: str | None = None,
    id_number: str | None = None,
) -> str:
    return ",".join([name or f"张{serial}", phone or f"137{serial:08d}", id_number or ident(serial), node, groups])


def csv_file(*rows: str, header: str = HEADER, encoding: str = "utf-8") -> bytes:
    return ("\n".join([header, *rows]) + "\n").encode(encoding)


async def operator(name: str):
    row_ = await Operator.select(Operator.id).where(Operator.username == f"op_{name}").first()
    return await identity.load_principal("operator", row_["id"])


async def member_count() -> int:
    return (await engine().run_ddl("SELECT count(*) AS n FROM member"))[0]["n"]


async def member_state() -> list:
    return [
        tuple(r.values())
        for r in await engine().run_ddl("SELECT id, node, name, groups, phone_hash, status FROM member ORDER BY id")
    ]


async def rejected(principal, content: bytes) -> list[parsing.RowError]:
    before = await member_state()
    result = await roster.start_import(principal, "bad.csv", content)
    assert result.status == "failed" and result.created == result.updated == 0
    assert await member_state() == before, "a rejected file changed members"
    assert result.errors
    return result.errors


def codes(errors) -> set[tuple[int, str, str]]:
    return {(error.row, error.field, error.code) for error in errors}


async def test_a_valid_file_is_applied_whole_and_again_changes_nothing(world):
    beijing = await operator("beijing")
    before = await member_count()
    content = csv_file(row(11, groups="women;gig"), row(12, node="110108-001"), row(13, groups=" migrant ; "))
    result = await roster.start_import(beijing, "roster.csv", content)
    assert (result.status, result.rows, result.created, result.updated, result.unchanged) == ("done", 3, 3, 0, 0)
    assert await member_count() == before + 3
    imported = await engine().run_ddl(
        "SELECT m.name, m.groups, m.password_hash, m.status, m.gender, m.birth_year, m.phone_masked, "
        "m.phone_cipher, m.id_number_cipher, n.code FROM member m JOIN union_node n ON n.id = m.node "
        f"WHERE m.id_number_hash = '\\x{pii.lookup_hash(ident(11)).hex()}'"
    )
    (member,) = imported
    assert member["groups"] == ["gig", "women"] and member["password_hash"] is None and member["status"] == "active"
    assert member["code"] == "110105-001" and member["birth_year"] == 1990 and member["gender"] == "M"
    assert member["phone_masked"] == "137****0011" and pii.decrypt(member["phone_cipher"]) == "13700000011"
    assert pii.decrypt(member["id_number_cipher"]) == ident(11)

    state = await member_state()
    again = await roster.start_import(beijing, "roster.csv", content)
    assert (again.status, again.created, again.updated, again.unchanged) == ("done", 0, 0, 3)
    assert await member_state() == state

    # Changed rows update the members matched by ID number: union, groups, name, phone.
    changed = csv_file(
        row(11, groups="women", node="110108-001", name="张新名", phone="13600000011"),
        row(12, node="110108-001"),
        row(13, groups="migrant"),
        row(14),
    )
    third = await roster.start_import(beijing, "roster-v2.csv", changed)
    assert (third.created, third.updated, third.unchanged) == (1, 1, 2)
    moved = await engine().run_ddl(
        "SELECT m.name, m.groups, m.phone_masked, n.code FROM member m JOIN union_node n ON n.id = m.node "
        f"WHERE m.phone_hash = '\\x{pii.lookup_hash('13600000011').hex()}'"
    )
    assert moved[0]["name"] == "张新名" and moved[0]["code"] == "110108-001" and moved[0]["groups"] == ["women"]
    connection = await engine().get_new_connection()
    try:
        events = await audit.events(connection, action="roster.import")
    finally:
        await connection.close()
    assert len(events) == 3 and events[0]["details"]["created"] == 1
    assert "张" not in json.dumps(events[0], default=str) and events[0]["actor_kind"] == "operator"


async def test_encodings_utf8_with_bom_and_gb18030_are_read(world):
    beijing = await operator("beijing")
    bom = b"\xef\xbb\xbf" + csv_file(row(21, name="李四"))
    assert (await roster.start_import(beijing, "bom.csv", bom)).created == 1
    gb = csv_file(row(22, name="王五"), encoding="gb18030")
    assert (await roster.start_import(beijing, "gb.csv", gb)).created == 1
    names = {r["name"] for r in await engine().run_ddl("SELECT name FROM member")}
    assert {"李四", "王五"} <= names


@pytest.mark.parametrize(
    "case",
    [
        "checksum",
        "pattern",
        "birth_date_invalid",
        "birth_date_future",
        "too_young",
        "too_old",
        "phone",
        "name",
        "long_name",
        "unknown_node",
        "out_of_scope",
        "not_grassroots",
        "unknown_group",
        "duplicate_id",
        "duplicate_phone",
        "phone_taken",
        "column_count",
    ],
)
async def test_bad_rows_are_reported_and_nothing_changes(world, case):
    chaoyang = await operator("chaoyang")
    bad_check = ident(31)[:17] + ("0" if ident(31)[17] != "0" else "1")
    today = date.today()
    young = f"{today.year - 10}0101"
    bad = {
        "checksum": (row(31, id_number=bad_check), "id_number", "bad_checksum"),
        "pattern": (row(31, id_number="11010519900101003"), "id_number", "bad_id_number"),
        "birth_date_invalid": (row(31, id_number=ident(31, born="19900230")), "id_number", "bad_birth_date"),
        "birth_date_future": (
            row(31, id_number=ident(31, born=f"{today.year + 1}0101")),
            "id_number",
            "bad_birth_date",
        ),
        "too_young": (row(31, id_number=ident(31, born=young)), "id_number", "bad_birth_date"),
        "too_old": (row(31, id_number=ident(31, born="19000101")), "id_number", "bad_birth_date"),
        "phone": (row(31, phone="1230000000"), "phone", "bad_phone"),
        "name": (row(31, name=" "), "name", "name_required"),
        "long_name": (row(31, name="张" * 51), "name", "name_too_long"),
        "unknown_node": (row(31, node="999999-999"), "node", "unknown_node"),
        "out_of_scope": (row(31, node="110108-001"), "node", "node_out_of_scope"),
        "not_grassroots": (row(31, node="110105"), "node", "not_grassroots"),
        "unknown_group": (row(31, groups="women;astronauts"), "groups", "unknown_group"),
        "duplicate_id": (row(31, phone="13799999999", id_number=ident(30)), "id_number", "duplicate_id_number"),
        "duplicate_phone": (row(31, phone="13700000030"), "phone", "duplicate_phone"),
        "phone_taken": (row(31, phone=world.members["haidian"][1]), "phone", "phone_taken"),
        "column_count": ("张三,13700000031", "row", "column_count"),
    }[case]
    content = csv_file(row(30), row(29), bad[0])
    errors = await rejected(chaoyang, content)
    assert (4, bad[1], bad[2]) in codes(errors), errors
    assert all(error.row == 4 for error in errors)  # the good rows are not blamed


async def test_a_member_of_another_scope_cannot_be_taken_over_by_import(world):
    chaoyang = await operator("chaoyang")
    # The Haidian member's ID number (tests/factories.py, serial 2) in a Chaoyang file.
    from tests.factories import id_number

    errors = await rejected(chaoyang, csv_file(row(40, id_number=id_number(2))))
    assert codes(errors) == {(2, "id_number", "member_out_of_scope")}


@pytest.mark.parametrize("case", ["empty", "blank", "header_only", "wrong_header", "encoding", "utf16", "quote"])
async def test_bad_files_are_refused_whole(world, case):
    beijing = await operator("beijing")
    content, code = {
        "empty": (b"", "empty_file"),
        "blank": (b"\n \n", "empty_file"),
        "header_only": (csv_file(), "no_rows"),
        "wrong_header": (csv_file(row(1), header="name,mobile,id_number,node,groups"), "wrong_header"),
        "encoding": ("name,phone,id_number,node,groups\nJosé,13700000001,x,y,\n".encode("latin-1"), "encoding"),
        "utf16": (csv_file(row(1)).decode().encode("utf-16-le"), "encoding"),
        "quote": (csv_file('"张三,13700000001' + "\n" + row(2)), "malformed_csv"),
    }[case]
    errors = await rejected(beijing, content)
    assert code in {error.code for error in errors}, errors


async def test_every_problem_of_a_file_is_listed(world):
    beijing = await operator("beijing")
    content = csv_file(row(50), row(51, phone="1"), row(52, node="130100-001"), row(50, phone="13700000099"))
    errors = await rejected(beijing, content)
    assert codes(errors) == {
        (3, "phone", "bad_phone"),
        (4, "node", "node_out_of_scope"),
        (5, "id_number", "duplicate_id_number"),
    }


async def test_only_operators_import(world):
    from marketplace.core.errors import Forbidden
    from marketplace.core.federation.services import member_principal

    member = await member_principal(world.members["chaoyang"][0])
    with pytest.raises(Forbidden):
        await roster.start_import(member, "x.csv", csv_file(row(1)))


async def test_a_large_file_runs_as_a_job_with_progress(world, monkeypatch):
    monkeypatch.setattr(roster, "SYNC_MAX_ROWS", 5)
    monkeypatch.setattr(roster, "CHUNK", 4)
    beijing = await operator("beijing")
    content = csv_file(*[row(100 + i, node="110105-001" if i % 2 else "110108-001") for i in range(10)])
    before = await member_count()
    queued = await roster.start_import(beijing, "big.csv", content)
    assert queued.status == "queued" and queued.rows == 10 and queued.running
    events = await engine().run_ddl("SELECT payload FROM outbox_event WHERE topic = 'roster.import_queued'")
    assert json.loads(events[0]["payload"]) == {"import_id": queued.id}
    # The same file again while it waits is the same import, not a second one.
    assert (await roster.start_import(beijing, "big.csv", content)).id == queued.id
    assert await member_count() == before

    seen = []
    original = roster._Progress.__call__

    async def spy(self, status=None, rows_done=None, rows=None):
        await original(self, status, rows_done, rows)
        seen.append((await roster.get_import(beijing, queued.id)).rows_done)

    monkeypatch.setattr(roster._Progress, "__call__", spy)
    await roster.run_import(queued.id)
    done = await roster.get_import(beijing, queued.id)
    assert (done.status, done.created, done.rows_done) == ("done", 10, 10)
    assert 4 in seen and 8 in seen  # progress was visible while it ran
    assert await member_count() == before + 10
    await roster.run_import(queued.id)  # a redelivered job does nothing
    assert await member_count() == before + 10
    files = await engine().run_ddl("SELECT count(*) AS n FROM roster_import_file")
    assert files[0]["n"] == 0


async def test_a_large_bad_file_fails_in_the_job_and_changes_nothing(world, monkeypatch):
    monkeypatch.setattr(roster, "SYNC_MAX_ROWS", 2)
    beijing = await operator("beijing")
    before = await member_state()
    queued = await roster.start_import(beijing, "big.csv", csv_file(row(1), row(2), row(3, phone="x")))
    await roster.run_import(queued.id)
    failed = await roster.get_import(beijing, queued.id)
    assert failed.status == "failed" and codes(failed.errors) == {(4, "phone", "bad_phone")}
    assert await member_state() == before


async def test_imports_are_seen_only_within_scope(world):
    from marketplace.core.errors import NotFound

    chaoyang = await operator("chaoyang")
    done = await roster.start_import(chaoyang, "r.csv", csv_file(row(60)))
    assert [i.id for i in await roster.list_imports(await operator("beijing"))] == [done.id]
    with pytest.raises(NotFound):
        await roster.get_import(await operator("hebei"), done.id)
    assert await roster.list_imports(await operator("hebei")) == []


async def test_the_console_page_uploads_reports_rows_and_polls_progress(client, world, monkeypatch):
    from tests.providers.test_pages import _login

    await _login(client, "console", world.operators["chaoyang"])
    page = await client.get("/console/roster")
    assert page.status_code == 200 and 'data-testid="roster-form"' in page.text

    async def upload(content: bytes, name="roster.csv"):
        return await client.post(
            "/console/roster",
            files={"file": (name, content, "text/csv")},
            data={"_csrf_token": client.cookies.get("csrftoken")},
            headers={"accept": "text/html"},
        )

    before = await member_count()
    bad = await upload(csv_file(row(80), row(81, node="110108-001")))
    assert bad.status_code == 422 and 'data-row="3" data-field="node" data-code="node_out_of_scope"' in bad.text
    assert await member_count() == before
    good = await upload(csv_file(row(80), row(81)))
    assert good.status_code in (302, 303)
    detail = await client.get(good.headers["location"])
    assert 'data-testid="import-created">2<' in detail.text and 'data-status="done"' in detail.text
    assert "hx-get" not in detail.text.split('data-testid="roster-progress"')[1].split(">")[0]

    monkeypatch.setattr(roster, "SYNC_MAX_ROWS", 1)
    queued = await upload(csv_file(row(82), row(83)), "big.csv")
    import_id = int(queued.headers["location"].rsplit("/", 1)[1])
    progress = await client.get(f"/console/roster/{import_id}/progress")
    assert 'data-status="queued"' in progress.text and "every 2s" in progress.text
    await roster.run_import(import_id)
    progress = await client.get(f"/console/roster/{import_id}/progress")
    assert 'data-status="done"' in progress.text and "hx-get" not in progress.text
    assert await member_count() == before + 4


async def test_a_roster_never_changes_the_phone_of_a_member_who_activated_their_account(world):
    """A leaked name and ID number plus a roster import must not move an activated
    account to another phone; the row is refused, and the file changes nothing."""
    from tests.factories import id_number

    chaoyang = await operator("chaoyang")
    _, phone = world.members["chaoyang"]
    errors = await rejected(
        chaoyang, csv_file(row(1, id_number=id_number(1), phone="13912345678", name="王小芳"), row(60))
    )
    assert codes(errors) == {(2, "phone", "phone_of_activated_member")}
    assert "only they can change their phone" in errors[0].message
    # The same member with the phone they have: the other changes apply.
    kept = await roster.start_import(
        chaoyang, "ok.csv", csv_file(row(1, id_number=id_number(1), phone=phone, name="王小芳", groups="women"))
    )
    assert kept.status == "done" and kept.updated == 1
