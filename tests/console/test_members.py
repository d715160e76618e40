"""The console's member list: search by name (masked), phone or ID number (keyed hash), light pages."""

import pytest

from tests.console.helpers import HTML, post, web_login
from tests.factories import add_member, id_number

pytestmark = [pytest.mark.integration]


async def test_member_search_by_name_phone_and_id_number(client, world):
    for serial in range(10, 70):
        await add_member(world.nodes["cy_union"], serial, name=f"张{'伟' if serial % 2 else '敏'}{serial}")
    await web_login(client, "console", world.operators["beijing"])
    base = f"/console/nodes/{world.nodes['beijing']}/members"
    first = await client.get(base, headers=HTML)
    assert first.status_code == 200 and first.text.count('data-testid="member"') == 50
    assert 'data-testid="transfer-form"' not in first.text and '<select name="node_id"' not in first.text
    print(f"\nmember list, 50 rows: {len(first.content) / 1024:.1f} KB")  # was 706 KB with a form per row
    assert len(first.content) < 60_000, len(first.content)  # actions live on the member's page
    second = await client.get(base + "?page=2", headers=HTML)
    assert second.text.count('data-testid="member"') == 12  # 60 + the world's two
    by_name = await client.get(base + "?q=伟", headers=HTML)
    assert by_name.text.count('data-testid="member"') == 30
    assert "张伟11" not in by_name.text and "张**1" in by_name.text  # names stay masked
    member_id, phone = world.members["chaoyang"]
    by_phone = await client.get(base + f"?q={phone}", headers=HTML)
    assert by_phone.text.count('data-testid="member"') == 1 and f'data-member="{member_id}"' in by_phone.text
    assert phone not in by_phone.text.split('data-testid="members"')[1]  # the result shows it masked
    by_id = await client.get(base + f"?q={id_number(1).lower()}", headers=HTML)
    assert f'data-member="{member_id}"' in by_id.text and by_id.text.count('data-testid="member"') == 1
    left = await client.get(base + "?status=left", headers=HTML)
    assert 'data-testid="members-empty"' in left.text
    women = await client.get(base + "?group=women", headers=HTML)
    assert women.text.count('data-testid="member"') == 1 and "女职工" in women.text
    # Another federation's member is not found by their phone.
    await web_login(client, "console", world.operators["hebei"])
    other = await client.get(f"/console/nodes/{world.nodes['hebei']}/members?q={phone}", headers=HTML)
    assert 'data-testid="members-empty"' in other.text


async def test_member_page_transfers_and_marks_as_left(client, world):
    member_id = world.members["chaoyang"][0]
    await web_login(client, "console", world.operators["beijing"])
    card = await client.get(f"/console/members/{member_id}", headers=HTML)
    assert 'data-testid="transfer-form"' in card.text and "中关村软件园工会" in card.text
    moved = await post(
        client,
        f"/console/members/{member_id}/transfer",
        {"node_id": str(world.nodes["hd_union"]), "back_node": str(world.nodes["cy_union"])},
    )
    assert (
        moved.status_code in (302, 303) and moved.headers["location"] == f"/console/members/{member_id}?done=transfer"
    )
    after = await client.get(moved.headers["location"], headers=HTML)
    assert 'data-testid="member-done"' in after.text and "中关村软件园工会" in after.text
