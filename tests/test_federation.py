"""The federation tree: levels, materialised paths and subtree queries."""

import pytest

from marketplace.core.errors import Conflict, Invalid
from marketplace.core.federation import services
from marketplace.core.federation.schemas import MemberCreate
from marketplace.core.identity.principal import Principal
from tests.factories import add_member, build_world, id_number

pytestmark = pytest.mark.integration


async def test_paths_follow_the_parents():
    world = await build_world()
    for node_id in world.nodes.values():
        node = await services.get_node(node_id)
        if node.parent_id is None:
            assert node.path == f"/{node.id}/" and node.depth == 0
        else:
            parent = await services.get_node(node.parent_id)
            assert node.path == f"{parent.path}{node.id}/"
            assert node.depth == parent.depth + 1


async def test_subtree_counts_roll_up_the_tree():
    world = await build_world()
    await add_member(world.nodes["hd_union"], 10, "周杰")
    await add_member(world.nodes["sjz_union"], 11, "吴刚")
    count = {
        name: await services.count_members((await services.get_node(world.nodes[name])).path)
        for name in ("national", "beijing", "chaoyang", "haidian", "hebei", "cy_union")
    }
    assert count == {"national": 4, "beijing": 3, "chaoyang": 1, "haidian": 2, "hebei": 1, "cy_union": 1}


@pytest.mark.unit
def test_a_path_prefix_does_not_leak_into_a_sibling_with_a_longer_id():
    """/1/2/ must not cover /1/23/: every path segment ends with a slash."""
    operator = Principal(kind="operator", id=1, display_name="x", node_id=2, node_path="/1/2/")
    assert operator.covers("/1/2/") and operator.covers("/1/2/45/")
    assert not operator.covers("/1/23/") and not operator.covers("/1/")


async def test_levels_only_go_down():
    world = await build_world()
    with pytest.raises(Invalid) as error:
        await services.create_node(world.nodes["chaoyang"], "city", "X1", "某市", "X")
    assert error.value.field == "level"
    with pytest.raises(Conflict):
        await services.create_node(world.nodes["chaoyang"], "grassroots", "110105-001", "重复", "dup")


async def test_members_belong_to_grassroots_unions_and_known_groups():
    world = await build_world()
    base = dict(name="孙丽", gender="F", birth_year=1992, phone="13700001111", id_number=id_number(300))
    with pytest.raises(Invalid) as error:
        await services.create_member(MemberCreate(node_id=world.nodes["chaoyang"], **base))
    assert error.value.field == "node_id"
    with pytest.raises(Invalid) as error:
        await services.create_member(MemberCreate(node_id=world.nodes["cy_union"], groups=["aliens"], **base))
    assert error.value.field == "groups"
    member_id = await services.create_member(MemberCreate(node_id=world.nodes["cy_union"], groups=["women"], **base))
    principal = await services.member_principal(member_id)
    assert principal.groups == ("women",)
    assert principal.node_path.startswith((await services.get_node(world.nodes["chaoyang"])).path)
