"""Personal data: masked for everyone but the member, revealed to operators only with a
reason that is audited, searchable audit within scope, the member's own download and
deletion, retention, and no phone, ID number or full name in the logs of the main flows."""

import json
import re

import asyncpg
import pytest

from marketplace.core import db, notifications, personal_data
from marketplace.core.db import engine
from marketplace.core.federation import services as federation
from marketplace.favourites import services as favourites
from marketplace.privacy import services as privacy
from marketplace.vouchers import services as vouchers
from tests import factories
from tests.points.test_ledger import give
from tests.test_errors import assert_problem, bearer

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("clean_state")]


async def test_an_operator_sees_a_full_value_only_with_a_reason_and_it_is_audited(client, world):
    member_id, phone = world.members["chaoyang"]
    chaoyang = await bearer(client, "operator", world.operators["chaoyang"])
    card = (await client.get(f"/api/v1/console/members/{member_id}", headers=chaoyang)).json()
    assert (card["name"], card["phone"]) == ("王*芳", phone[:3] + "****" + phone[-4:])
    response = await client.post(
        f"/api/v1/console/members/{member_id}/reveal", headers=chaoyang, json={"field": "phone", "reason": "看"}
    )
    assert response.status_code in (400, 422), response.text
    assert response.json()["errors"][0]["field"] == "reason"
    hebei = await bearer(client, "operator", world.operators["hebei"])
    assert_problem(
        await client.post(
            f"/api/v1/console/members/{member_id}/reveal",
            headers=hebei,
            json={"field": "phone", "reason": "核实身份信息"},
        ),
        404,
        "member_not_found",
    )
    revealed = await client.post(
        f"/api/v1/console/members/{member_id}/reveal",
        headers=chaoyang,
        json={"field": "phone", "reason": "会员来电核实领取记录"},
    )
    assert revealed.json()["value"] == phone
    events = (await client.get("/api/v1/console/audit?action=member.reveal", headers=chaoyang)).json()
    assert [(e["subject_id"], e["reason"], e["details"]["field"]) for e in events] == [
        (member_id, "会员来电核实领取记录", "phone")
    ]
    assert phone not in json.dumps(events, ensure_ascii=False)  # the log never copies the value
    # The Beijing operator above sees it; a sibling province's does not.
    beijing = await bearer(client, "operator", world.operators["beijing"])
    assert len((await client.get("/api/v1/console/audit?action=member.reveal", headers=beijing)).json()) == 1
    assert (await client.get("/api/v1/console/audit", headers=hebei)).json() == []
    with pytest.raises(asyncpg.exceptions.RaiseError, match="append-only"):
        await engine().run_ddl("DELETE FROM audit_event")


async def test_a_member_downloads_their_data_and_can_have_it_erased(client, world):
    member_id, phone = world.members["chaoyang"]
    member = await federation.member_principal(member_id)
    voucher = await vouchers.claim(member, world.offers["public"])
    await give(member_id, 50, "welcome")
    headers = await bearer(client, "member", phone)
    data = (await client.get("/api/v1/me/data", headers=headers)).json()
    assert data["member"]["phone"] == phone and data["member"]["id_number"] == factories.id_number(1)
    assert [v["id"] for v in data["vouchers"]] == [voucher.id] and data["points"]["balance"] == 50
    other = await bearer(client, "member", world.members["haidian"][1])
    assert (await client.get("/api/v1/me/data", headers=other)).json()["member"]["name"] == "李建国"

    body = assert_problem(
        await client.post("/api/v1/me/deletion", headers=headers, json={"confirmation": "yes"}), 422, "invalid"
    )
    assert body["errors"][0]["field"] == "confirmation"
    assert (await client.post("/api/v1/me/deletion", headers=headers, json={"confirmation": "删除"})).status_code == 204
    assert (await client.get("/api/v1/me/data", headers=headers)).status_code == 401  # signed out for good
    row = (
        await engine().run_ddl(f"SELECT name, phone_masked, status, anonymised_at FROM member WHERE id = {member_id}")
    )[0]
    assert (row["name"], row["phone_masked"], row["status"]) == ("已注销会员", "", "left")
    assert await federation.find_member_credentials(phone) is None
    # What accounting needs stays: the voucher, now of an anonymous member.
    assert (await engine().run_ddl(f"SELECT count(*) AS n FROM voucher WHERE member = {member_id}"))[0]["n"] == 1


async def test_members_who_left_long_ago_are_anonymised(world):
    member_id, _ = world.members["haidian"]
    await engine().run_ddl(f"UPDATE member SET status = 'left' WHERE id = {member_id}")
    assert await privacy.anonymise_left_members() == 0  # just left: kept for now
    await engine().run_ddl("ALTER TABLE member DISABLE TRIGGER member_left_at")
    await engine().run_ddl(f"UPDATE member SET left_at = now() - interval '400 days' WHERE id = {member_id}")
    await engine().run_ddl("ALTER TABLE member ENABLE TRIGGER member_left_at")
    assert await privacy.anonymise_left_members() == 1
    assert await privacy.anonymise_left_members() == 0
    row = (await engine().run_ddl(f"SELECT name FROM member WHERE id = {member_id}"))[0]
    assert row["name"] == "已注销会员"


async def test_the_main_flows_log_no_phone_id_number_or_full_name(client, world, capfd):
    member_id, phone = world.members["chaoyang"]
    id_number, name = factories.id_number(1), "王小芳"
    headers = await bearer(client, "member", phone)
    await client.get("/api/v1/points", headers=headers)
    claimed = (await client.post(f"/api/v1/offers/{world.offers['public']}/claims", headers=headers)).json()
    staff = await bearer(client, "provider", world.providers["chaoyang"]["staff"])
    await client.post("/api/v1/counter/check", headers=staff, json={"code": claimed["code"]})
    await client.post("/api/v1/counter/redemptions", headers=staff, json={"code": claimed["code"]})
    await client.post("/api/v1/counter/redemptions", headers=staff, json={"code": "ABCD-EFGH-JKMN-P0"})
    await client.post(
        f"/api/v1/vouchers/{claimed['id']}/complaints",
        headers=headers,
        json={"category": "other", "text": "测试日志中不出现个人信息"},
    )
    operator = await bearer(client, "operator", world.operators["chaoyang"])
    await client.post(
        f"/api/v1/console/members/{member_id}/reveal",
        headers=operator,
        json={"field": "id_number", "reason": "核对会员身份"},
    )
    await client.get(f"/api/v1/console/members/{member_id}", headers=operator)
    await client.post("/api/v1/auth/token", json={"kind": "member", "username": phone, "password": "wrong-pass"})
    await client.get("/api/v1/me/data", headers=headers)
    out, err = capfd.readouterr()
    logs = out + err
    assert '"event": "request"' in logs  # the logs were captured
    for secret in (phone, id_number, name):
        assert secret not in logs, f"personal data in the logs: {secret[:3]}…"
    assert not re.search(r"1[3-9]\d{9}", logs), "a mobile number in the logs"


async def test_every_table_that_names_members_is_forgotten_or_kept_by_its_domain():
    # Composed as in production: the web app and the worker import every domain.
    import marketplace.app  # noqa: F401
    from marketplace.core import domains

    domains.load_actors()

    async with db.connection() as connection:
        assert await personal_data.undeclared(connection) == [], (
            "declare in the owning domain how an erased member is forgotten there (marketplace/core/personal_data.py)"
        )

    class Rollback(Exception):
        pass

    # A new table with members' data that no domain declared: found, and erasure refuses.
    with pytest.raises(Rollback):
        async with engine().transaction() as transaction:
            connection = transaction.connection
            await connection.execute(
                "CREATE TABLE wish (id bigserial PRIMARY KEY, member bigint REFERENCES member (id))"
            )
            assert await personal_data.undeclared(connection) == ["wish"]
            with pytest.raises(RuntimeError, match="wish"):
                await personal_data.forget_member(connection, 1)
            raise Rollback


async def test_erasure_reaches_every_domain_that_forgets(client, world):
    member_id, phone = world.members["chaoyang"]
    member = await federation.member_principal(member_id)
    headers = await bearer(client, "member", phone)
    claimed = await client.post(
        f"/api/v1/offers/{world.offers['public']}/claims", headers={**headers, "Idempotency-Key": "claim-1"}
    )
    assert claimed.status_code == 201, claimed.text
    await notifications.tell(notifications.Message(member_id, "welcome"))
    await favourites.set_kept(member, "offer", world.offers["public"], True)
    await engine().run_ddl(
        f"INSERT INTO restock_alert (member, offer, created_at) VALUES ({member_id}, {world.offers['public']}, now())"
    )

    async def count(table: str, where: str = f"member = {member_id}") -> int:
        return (await engine().run_ddl(f"SELECT count(*) AS n FROM {table} WHERE {where}"))[0]["n"]

    assert [await count(table) for table in ("notification", "favourite", "restock_alert")] == [1, 1, 1]
    assert await count("idempotency_key", f"principal = 'member:{member_id}'") == 1
    await privacy.delete_me(member, "删除")
    assert [await count(table) for table in ("notification", "favourite", "restock_alert")] == [0, 0, 0]
    assert await count("idempotency_key", f"principal = 'member:{member_id}'") == 0
    assert await count("auth_session", f"principal_kind = 'member' AND principal_id = '{member_id}'") == 0
    assert await count("voucher") == 1  # accounting keeps it, tied to the anonymous member
    assert await count("member", f"id = {member_id} AND name = '已注销会员' AND anonymised_at IS NOT NULL") == 1
