"""Builders of test data through the services (and tables where no service exists yet)."""

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from catalog.tables import Category, Offer
from evaluation.evaluators import services as evaluation
from evaluation.tables import EvaluatorOrg
from marketplace.core import pii
from marketplace.core.federation import services as federation
from marketplace.core.federation.schemas import MemberCreate
from marketplace.core.federation.tables import Member, MemberGroup
from marketplace.core.identity.passwords import hash_password_blocking
from marketplace.core.identity.tables import Operator
from providers.tables import Location, Provider, ProviderUser

PASSWORD = "Correct-Horse-42"
_HASH = None


def password_hash() -> str:
    global _HASH
    if _HASH is None:
        _HASH = hash_password_blocking(PASSWORD)
    return _HASH


def now() -> datetime:
    return datetime.now(UTC)


def id_number(serial: int) -> str:
    """A valid 18-character resident ID (GB 11643 check digit)."""
    body = f"11010519900101{serial:03d}"[:17]
    return body + federation.id_check_digit(body)


async def add_member(node_id: int, serial: int, name: str = "王小芳", groups=(), gender="F") -> tuple[int, str]:
    phone = f"139{serial:08d}"
    member_id = await federation.create_member(
        MemberCreate(
            node_id=node_id,
            name=name,
            gender=gender,
            birth_year=1990,
            phone=phone,
            id_number=id_number(serial),
            groups=list(groups),
        )
    )
    await Member.update({Member.password_hash: password_hash()}).where(Member.id == member_id)
    return member_id, phone


async def add_provider(node_id: int, name: str, code: str, status: str = "active") -> dict:
    provider = (
        await Provider.insert(
            Provider(
                name=name,
                credit_code=code,
                kind="gym",
                node=node_id,
                contact_name="李经理",
                contact_phone_cipher=pii.encrypt("13911112222"),
                contact_phone_masked=pii.mask_phone("13911112222"),
                status=status,
                created_at=now(),
            )
        ).returning(Provider.id)
    )[0]["id"]
    await Location.insert(
        Location(
            provider=provider,
            name="望京店",
            address="北京市朝阳区阜通东大街6号",
            district="朝阳区",
            latitude=39.99,
            longitude=116.47,
            opening_hours={"mon": ["09:00", "21:00"]},
        )
    )
    users = {}
    for role in ("owner", "staff"):
        username = f"{code[-6:]}_{role}"
        await ProviderUser.insert(
            ProviderUser(
                provider=provider,
                username=username,
                display_name=f"{name}{role}",
                role=role,
                password_hash=password_hash(),
                created_at=now(),
            )
        )
        users[role] = username
    return {"id": provider, **users}


async def add_operator(username: str, node_id: int) -> str:
    await Operator.insert(
        Operator(
            username=username,
            display_name=f"操作员{username}",
            node=node_id,
            password_hash=password_hash(),
            created_at=now(),
        )
    )
    return username


@dataclass
class World:
    nodes: dict[str, int] = field(default_factory=dict)
    members: dict[str, tuple[int, str]] = field(default_factory=dict)
    providers: dict[str, dict] = field(default_factory=dict)
    operators: dict[str, str] = field(default_factory=dict)
    evaluator_key: str = ""
    evaluator_org: int = 0
    offers: dict[str, int] = field(default_factory=dict)


async def build_world() -> World:
    world = World()
    create = federation.create_node
    n = world.nodes
    n["national"] = (await create(None, "national", "CN", "中华全国总工会", "ACFTU")).id
    n["beijing"] = (await create(n["national"], "city", "110000", "北京市总工会", "Beijing")).id
    n["chaoyang"] = (await create(n["beijing"], "district", "110105", "朝阳区总工会", "Chaoyang")).id
    n["haidian"] = (await create(n["beijing"], "district", "110108", "海淀区总工会", "Haidian")).id
    n["cy_union"] = (
        await create(n["chaoyang"], "grassroots", "110105-001", "朝阳区快递行业联合工会", "Chaoyang couriers' union")
    ).id
    n["hd_union"] = (
        await create(n["haidian"], "grassroots", "110108-001", "中关村软件园工会", "Zhongguancun Software Park union")
    ).id
    n["hebei"] = (await create(n["national"], "province", "130000", "河北省总工会", "Hebei")).id
    n["shijiazhuang"] = (await create(n["hebei"], "city", "130100", "石家庄市总工会", "Shijiazhuang")).id
    n["sjz_union"] = (
        await create(
            n["shijiazhuang"], "grassroots", "130100-001", "石家庄钢铁工会", "Shijiazhuang steelworkers' union"
        )
    ).id
    for code, zh, en in [
        ("women", "女职工", "Women workers"),
        ("gig", "新就业形态劳动者", "Gig workers"),
        ("migrant", "农民工", "Migrant workers"),
        ("hardship", "困难职工", "Workers in hardship"),
    ]:
        await MemberGroup.insert(MemberGroup(code=code, name_zh=zh, name_en=en))

    world.members["chaoyang"] = await add_member(n["cy_union"], 1, "王小芳", groups=("women", "gig"))
    world.members["haidian"] = await add_member(n["hd_union"], 2, "李建国", gender="M")
    world.providers["chaoyang"] = await add_provider(n["chaoyang"], "力美健健身(望京店)", "91110105MA01ABCD1X")
    world.providers["haidian"] = await add_provider(n["haidian"], "中关村体检中心", "91110108MA01EFGH2Y")
    world.operators = {
        "national": await add_operator("op_national", n["national"]),
        "beijing": await add_operator("op_beijing", n["beijing"]),
        "chaoyang": await add_operator("op_chaoyang", n["chaoyang"]),
        "hebei": await add_operator("op_hebei", n["hebei"]),
        "shijiazhuang": await add_operator("op_shijiazhuang", n["shijiazhuang"]),
    }
    world.evaluator_org = (
        await EvaluatorOrg.insert(
            EvaluatorOrg(name="北京市社情民意调查中心", node=n["beijing"], created_at=now())
        ).returning(EvaluatorOrg.id)
    )[0]["id"]
    world.evaluator_key = await evaluation.create_api_key(world.evaluator_org)

    category = (
        await Category.insert(Category(code="fitness", name_zh="健身", name_en="Fitness")).returning(Category.id)
    )[0]["id"]
    for key, scope, groups in [
        ("public", n["beijing"], []),
        ("women", n["beijing"], ["women"]),
        ("haidian_only", n["haidian"], []),
    ]:
        world.offers[key] = (
            await Offer.insert(
                Offer(
                    provider=world.providers["chaoyang"]["id"],
                    category=category,
                    kind="voucher",
                    title_zh=f"健身月卡{key}",
                    title_en=f"Monthly pass {key}",
                    description_zh="全市通用",
                    list_price_fen=19900,
                    member_price_fen=9900,
                    subsidy_fen=3000,
                    stock_total=100,
                    stock_left=100,
                    per_member_limit=1,
                    node_scope=scope,
                    groups=groups,
                    status="published",
                    valid_from=now() - timedelta(days=1),
                    valid_to=now() + timedelta(days=30),
                    created_at=now(),
                )
            ).returning(Offer.id)
        )[0]["id"]
    return world
