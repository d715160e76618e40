"""The quality loop against the real PostgreSQL and Meilisearch: redemptions reach
evaluation through the outbox, members rate (once, editable for 7 days) and complain,
bursts are held, the policy escalates a provider, an operator delists it (its offers
leave search, claims stop, its vouchers are cancelled when asked) and an upheld appeal
restores it."""

import json
from datetime import UTC, datetime, timedelta

import pytest

from catalog.search import actors as search_actors
from evaluation.enforcement import cases, policy
from evaluation.ratings import services as ratings
from evaluation.schemas import RatingInput
from marketplace.core import notifications
from marketplace.core.db import engine
from marketplace.core.errors import Conflict
from marketplace.core.federation import services as federation
from marketplace.core.jobs import topics
from marketplace.vouchers import actors as voucher_actors, services as vouchers
from tests import factories
from tests.catalog.search.conftest import offers  # noqa: F401  (the search fixture)
from tests.catalog.search.test_search import ids, search
from tests.points.test_ledger import operator
from tests.test_errors import assert_problem, bearer
from tests.vouchers.test_claims import staff_principal

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("clean_state")]


async def events(topic: str) -> list[tuple[int, dict]]:
    rows = await engine().run_ddl(
        f"SELECT id, payload FROM outbox_event WHERE topic = '{topic}' AND delivered_at IS NULL ORDER BY id"
    )
    await engine().run_ddl(f"UPDATE outbox_event SET delivered_at = now() WHERE topic = '{topic}'")
    return [(row["id"], json.loads(row["payload"])) for row in rows]


async def redeemed_voucher(world, offer_key="public", member_key="chaoyang"):
    member = await federation.member_principal(world.members[member_key][0])
    voucher = await vouchers.claim(member, world.offers[offer_key])
    await vouchers.redeem(await staff_principal(world), voucher.code)
    for _, payload in await events("voucher.redeemed"):
        await ratings.record_redemption(topics.VoucherRedeemed.read(payload))
    return member, voucher


async def test_a_redemption_is_rated_once_and_can_be_changed_for_seven_days(client, world):
    member, voucher = await redeemed_voucher(world)
    headers = await bearer(client, "member", world.members["chaoyang"][1])
    rating = {"overall": 4, "honoured": 5, "attitude": 3, "comment": "<b>不错</b>"}
    response = await client.put(f"/api/v1/vouchers/{voucher.id}/rating", headers=headers, json=rating)
    assert response.status_code == 200, response.text
    assert (response.json()["overall"], response.json()["comment"], response.json()["held"]) == (
        4,
        "<b>不错</b>",
        False,
    )
    response = await client.put(f"/api/v1/vouchers/{voucher.id}/rating", headers=headers, json={**rating, "overall": 2})
    assert response.json()["overall"] == 2
    assert (await engine().run_ddl("SELECT count(*) AS n FROM rating"))[0]["n"] == 1
    bad = await client.put(f"/api/v1/vouchers/{voucher.id}/rating", headers=headers, json={"overall": 6})
    assert bad.status_code in (400, 422) and bad.json()["errors"][0]["field"] == "overall"
    await engine().run_ddl("UPDATE rating SET created_at = now() - interval '8 days'")
    assert_problem(
        await client.put(f"/api/v1/vouchers/{voucher.id}/rating", headers=headers, json=rating), 409, "rating_locked"
    )
    # Only a voucher that was used can be rated, and only by its member.
    unused = await vouchers.claim(member, world.offers["women"])
    assert_problem(
        await client.put(f"/api/v1/vouchers/{unused.id}/rating", headers=headers, json=rating), 404, "not_rateable"
    )
    other = await bearer(client, "member", world.members["haidian"][1])
    assert_problem(
        await client.put(f"/api/v1/vouchers/{voucher.id}/rating", headers=other, json=rating), 404, "voucher_not_found"
    )


async def test_the_honoured_answer_and_the_survey_reach_evaluation(world):
    member, voucher = await redeemed_voucher(world)
    await vouchers.answer_honoured(member, voucher.id, False)
    for _, payload in await events("voucher.honoured"):
        await ratings.record_honoured(payload["voucher_id"], payload["honoured"])
    rows = await engine().run_ddl("SELECT honoured FROM redemption")
    assert rows[0]["honoured"] is False
    assert await ratings.send_due_surveys() == 0  # not due yet
    assert await ratings.send_due_surveys(datetime.now(UTC) + timedelta(hours=3)) == 1
    assert await ratings.send_due_surveys(datetime.now(UTC) + timedelta(hours=3)) == 0
    ((event_id, payload),) = await events(topics.SurveyDue.topic)
    await voucher_actors.on_survey_due(event_id, payload)
    await voucher_actors.on_survey_due(event_id, payload)  # a redelivery sends nothing twice
    notes = await engine().run_ddl("SELECT kind, params, link FROM notification WHERE kind = 'rating_survey'")
    assert len(notes) == 1 and notes[0]["link"].startswith(f"/vouchers/{payload['voucher_id']}")
    assert notifications.render(notes[0]["kind"], notes[0]["params"])[0] == "这次体验怎么样？"


async def test_a_burst_of_ratings_from_one_network_is_held_until_cleared(world):
    provider = world.providers["chaoyang"]["id"]
    held = []
    for serial in range(3):
        member_id, _ = await factories.add_member(world.nodes["cy_union"], 300 + serial, "赵六")
        await engine().run_ddl(f"UPDATE member SET joined_at = now() - interval '1 year' WHERE id = {member_id}")
        member = await federation.member_principal(member_id)
        voucher = await vouchers.claim(member, world.offers["public"])
        await vouchers.redeem(await staff_principal(world), voucher.code)
        for _, payload in await events("voucher.redeemed"):
            await ratings.record_redemption(topics.VoucherRedeemed.read(payload))
        rating = await vouchers.rate(member, voucher.id, RatingInput(overall=5), "198.51.100.7")
        held.append(rating.held)
    assert held == [False, False, True]
    chaoyang = await operator(world, "chaoyang")
    hebei = await operator(world, "hebei")
    assert await ratings.held_ratings(hebei) == []
    (waiting,) = await ratings.held_ratings(chaoyang)
    assert waiting["provider"] == provider and waiting["hold_reason"] == "burst_one_network"
    await ratings.clear_held(chaoyang, waiting["id"], keep=True)
    assert await ratings.held_ratings(chaoyang) == []


async def test_complaints_are_answered_by_the_provider_and_closed_by_an_operator(client, world):
    _member, voucher = await redeemed_voucher(world)
    headers = await bearer(client, "member", world.members["chaoyang"][1])
    bad = await client.post(
        f"/api/v1/vouchers/{voucher.id}/complaints", headers=headers, json={"category": "rude", "text": "服务态度很差"}
    )
    assert bad.status_code in (400, 422) and bad.json()["errors"][0]["field"] == "category"
    response = await client.post(
        f"/api/v1/vouchers/{voucher.id}/complaints",
        headers=headers,
        json={"category": "not_honoured", "text": "说好的折扣没有给"},
    )
    assert response.status_code == 201, response.text
    complaint = response.json()
    owner = await bearer(client, "provider", world.providers["chaoyang"]["owner"])
    inbox = (await client.get("/api/v1/provider/complaints", headers=owner)).json()
    assert [(c["id"], c["member_name"], c["overdue"]) for c in inbox] == [(complaint["id"], "王*芳", False)]
    other = await bearer(client, "provider", world.providers["haidian"]["owner"])
    assert (await client.get("/api/v1/provider/complaints", headers=other)).json() == []
    assert_problem(
        await client.post(
            f"/api/v1/provider/complaints/{complaint['id']}/answer", headers=other, json={"text": "不是我们"}
        ),
        404,
        "complaint_not_found",
    )
    answered = await client.post(
        f"/api/v1/provider/complaints/{complaint['id']}/answer", headers=owner, json={"text": "已联系会员补差价"}
    )
    assert answered.json()["status"] == "answered"
    hebei = await bearer(client, "operator", world.operators["hebei"])
    assert_problem(
        await client.post(
            f"/api/v1/console/complaints/{complaint['id']}/close", headers=hebei, json={"resolution": "已解决"}
        ),
        404,
        "complaint_not_found",
    )
    chaoyang = await bearer(client, "operator", world.operators["chaoyang"])
    closed = await client.post(
        f"/api/v1/console/complaints/{complaint['id']}/close",
        headers=chaoyang,
        json={"resolution": "商家已补差价，会员认可"},
    )
    assert closed.json()["status"] == "closed"
    mine = (await client.get(f"/api/v1/vouchers/{voucher.id}/complaints", headers=headers)).json()
    assert mine[0]["resolution"] == "商家已补差价，会员认可" and mine[0]["member_name"] is None


async def bad_scorecard(provider_id: int) -> None:
    await engine().run_ddl(
        "INSERT INTO provider_scorecard (provider, computed_at, window_days, prior_weight, ratings_n, satisfaction, "
        f"redemptions_n) VALUES ({provider_id}, now(), 90, 10, 60, 3.0, 100)"
    )


async def test_a_provider_is_escalated_delisted_and_restored_on_appeal(client, world, offers):
    provider = world.providers["chaoyang"]["id"]
    member = await federation.member_principal(world.members["chaoyang"][0])
    held_voucher = await vouchers.claim(member, world.offers["public"])
    await bad_scorecard(provider)
    now = datetime.now(UTC)
    assert [await policy.evaluate_provider(provider, now) for _ in range(3)] == ["watch", "warning", "probation"]
    assert await cases.case_queue(await operator(world, "chaoyang")) == []  # still time to improve
    assert await policy.evaluate_provider(provider, now + timedelta(days=31)) == "probation"
    (case,) = await cases.case_queue(await operator(world, "chaoyang"))
    assert case.kind == "delisting" and case.reasons[0]["code"] == "satisfaction" and case.figures["ratings_n"] == 60
    assert await cases.case_queue(await operator(world, "hebei")) == []
    await policy.evaluate_provider(provider, now + timedelta(days=32))  # no second case while one is open
    assert len(await cases.case_queue(await operator(world, "chaoyang"))) == 1

    chaoyang = await bearer(client, "operator", world.operators["chaoyang"])
    short = await client.post(
        f"/api/v1/console/cases/{case.id}/decision", headers=chaoyang, json={"decision": "delist"}
    )
    assert short.status_code in (400, 422)
    decided = await client.post(
        f"/api/v1/console/cases/{case.id}/decision",
        headers=chaoyang,
        json={"decision": "delist", "explanation": "满意度长期低于 3.2，整改期满仍未改善。", "cancel_vouchers": True},
    )
    assert decided.status_code == 200, decided.text
    # Offers leave search when the provider's event is applied; claims stop at once.
    for event_id, payload in await events("provider.changed"):
        await search_actors.on_provider_changed(event_id, payload)
    assert offers["public"] not in ids(await search(client, page_size=50))
    with pytest.raises(Exception) as refused:
        await vouchers.claim(await federation.member_principal(world.members["haidian"][0]), world.offers["public"])
    assert refused.value.code == "offer_not_found"
    for event_id, payload in await events(topics.ProviderDelisted.topic):
        await voucher_actors.on_provider_delisted(event_id, payload)
    assert (await vouchers.my_voucher(member, held_voucher.id)).status == "cancelled"

    owner = await bearer(client, "provider", world.providers["chaoyang"]["owner"])
    staff = await bearer(client, "provider", world.providers["chaoyang"]["staff"])
    statement = {"statement": "我们已更换店长并对员工进行培训，请求恢复。"}
    assert_problem(
        await client.post(f"/api/v1/provider/cases/{case.id}/appeal", headers=staff, json=statement), 403, "owner_only"
    )
    assert (
        await client.post(f"/api/v1/provider/cases/{case.id}/appeal", headers=owner, json=statement)
    ).status_code == 200
    assert_problem(
        await client.post(f"/api/v1/provider/cases/{case.id}/appeal", headers=owner, json=statement),
        409,
        "appeal_not_open",
    )
    upheld = await client.post(
        f"/api/v1/console/cases/{case.id}/appeal-decision",
        headers=chaoyang,
        json={"outcome": "upheld", "explanation": "整改措施可信，恢复上架并继续观察。"},
    )
    assert upheld.json()["appeal_outcome"] == "upheld"
    for event_id, payload in await events("provider.changed"):
        await search_actors.on_provider_changed(event_id, payload)
    assert offers["public"] in ids(await search(client, page_size=50))
    standing = (await client.get("/api/v1/provider/standing", headers=owner)).json()
    assert standing["standing"]["state"] == "probation"
    assert [event["to_state"] for event in standing["history"]][:1] == ["probation"]
    assert any("申诉成立" in event["message"] for event in standing["history"])


async def test_an_operator_may_keep_a_provider_with_an_explanation(world):
    provider = world.providers["chaoyang"]["id"]
    await bad_scorecard(provider)
    now = datetime.now(UTC)
    for _ in range(3):
        await policy.evaluate_provider(provider, now)
    await policy.evaluate_provider(provider, now + timedelta(days=31))
    chaoyang = await operator(world, "chaoyang")
    (case,) = await cases.case_queue(chaoyang)
    kept = await cases.decide(chaoyang, case.id, "keep", "新店长刚上任，给予一个月整改时间。")
    assert (kept.status, kept.decision) == ("closed", "keep")
    with pytest.raises(Conflict):
        await cases.decide(chaoyang, case.id, "delist", "再次决定下架，应被拒绝。")
    # A fresh deadline from the decision on: the next runs do not open the same case again.
    await policy.evaluate_provider(provider, datetime.now(UTC) + timedelta(days=29))
    assert [c.status for c in await cases.case_queue(chaoyang)] == ["closed"]


async def test_a_node_publishes_new_policy_versions_that_its_providers_are_held_to(client, world):
    headers = await bearer(client, "operator", world.operators["chaoyang"])
    rules = json.loads(json.dumps(policy.DEFAULT_RULES))
    rules["min_ratings"] = 30
    first = await client.post(
        "/api/v1/console/policies", headers=headers, json={"node_id": world.nodes["chaoyang"], "rules": rules}
    )
    assert first.status_code == 201 and first.json()["version"] == 1
    second = await client.post(
        "/api/v1/console/policies", headers=headers, json={"node_id": world.nodes["chaoyang"], "rules": rules}
    )
    assert second.json()["version"] == 2
    held_to = await policy.policy_for_provider(world.providers["chaoyang"]["id"])
    assert (held_to["version"], held_to["rules"]["min_ratings"]) == (2, 30)
    # Providers elsewhere keep the default; operators cannot publish outside their scope.
    assert (await policy.policy_for_provider(world.providers["haidian"]["id"]))["version"] == 0
    assert_problem(
        await client.post(
            "/api/v1/console/policies", headers=headers, json={"node_id": world.nodes["haidian"], "rules": rules}
        ),
        404,
        "node_not_found",
    )
    bad = json.loads(json.dumps(rules))
    bad["levels"]["probation"]["satisfaction_below"] = 4.5  # milder than warning
    body = assert_problem(
        await client.post(
            "/api/v1/console/policies", headers=headers, json={"node_id": world.nodes["chaoyang"], "rules": bad}
        ),
        422,
        "invalid",
    )
    assert body["errors"][0]["field"] == "rules.levels"
    bad = json.loads(json.dumps(rules))
    bad["improve_days"] = "thirty"
    body = assert_problem(
        await client.post(
            "/api/v1/console/policies", headers=headers, json={"node_id": world.nodes["chaoyang"], "rules": bad}
        ),
        422,
        "invalid",
    )
    assert body["errors"][0]["field"] == "rules.improve_days"


async def test_one_open_complaint_per_voucher(client, world):
    _member, voucher = await redeemed_voucher(world)
    headers = await bearer(client, "member", world.members["chaoyang"][1])
    complaint = {"category": "overcharge", "text": "多收了二十元"}
    assert (
        await client.post(f"/api/v1/vouchers/{voucher.id}/complaints", headers=headers, json=complaint)
    ).status_code == 201
    assert_problem(
        await client.post(f"/api/v1/vouchers/{voucher.id}/complaints", headers=headers, json=complaint),
        409,
        "complaint_exists",
    )


async def test_a_provider_delisted_on_an_integrity_case_may_appeal_it(client, world):
    provider = world.providers["chaoyang"]["id"]
    async with engine().transaction() as transaction:
        case_id = await policy.open_integrity_case(transaction.connection, provider, [{"code": "night_redemption"}])
    chaoyang = await operator(world, "chaoyang")
    decided = await cases.decide(chaoyang, case_id, "delist", "夜间集中核销，核实为虚假核销。")
    assert decided.status == "decided"
    owner = await bearer(client, "provider", world.providers["chaoyang"]["owner"])
    listed = (await client.get("/api/v1/provider/cases", headers=owner)).json()
    assert [c["id"] for c in listed] == [case_id]
    appealed = await client.post(
        f"/api/v1/provider/cases/{case_id}/appeal",
        headers=owner,
        json={"statement": "夜间核销为通宵营业门店，附营业执照。"},
    )
    assert appealed.status_code == 200 and appealed.json()["status"] == "appealed"
