"""The audit log in words: who (name and role), a sentence per action, on what, before and after."""

import pytest

from tests.console.helpers import HTML, post, web_login

pytestmark = [pytest.mark.integration]


async def test_audit_log_reads_as_sentences_and_filters_from_menus(client, world):
    member_id = world.members["chaoyang"][0]
    await web_login(client, "console", world.operators["beijing"])
    await client.get(f"/console/members/{member_id}", headers=HTML)
    await post(client, f"/console/members/{member_id}/reveal", {"field": "phone", "reason": "核实会员投诉需要回电"})
    await post(
        client,
        f"/console/members/{member_id}/transfer",
        {"node_id": str(world.nodes["hd_union"]), "back_node": str(world.nodes["cy_union"])},
    )
    await post(
        client, "/console/points/grants", {"node_id": str(world.nodes["chaoyang"]), "amount": "5", "reason": "预览而已"}
    )  # a preview changes nothing: not logged
    log = await client.get("/console/audit", headers=HTML)
    assert "给会员发放了积分" not in log.text
    assert log.status_code == 200
    assert "操作员op_beijing" in log.text and "管理员" in log.text
    assert "查看了会员的完整手机号或身份证号" in log.text and "核实会员投诉需要回电" in log.text
    assert "把会员转到了另一个工会" in log.text
    assert "朝阳区快递行业联合工会 → 中关村软件园工会" in log.text
    assert "王*芳" in log.text and ">http.post<" not in log.text and ">member.reveal<" not in log.text
    reveals = await client.get("/console/audit?action=member.reveal", headers=HTML)
    assert reveals.text.count('data-testid="audit-row"') == 1
    assert 'data-testid="filter-person"' in reveals.text and 'data-testid="filter-action"' in reveals.text
    await web_login(client, "console", world.operators["hebei"])
    assert 'data-testid="audit-row"' not in (await client.get("/console/audit", headers=HTML)).text
