"""`benefits bench roster`: import a roster of a million members, then the same file again.

Against the data in BENEFITS_VAR (run `benefits migrate` and a small `benefits seed`
first, so that the federation tree and the operators exist), as the Beijing operator:
generate a valid CSV (deterministic, without Faker: names from fixed pools, phones with
a prefix the seed never uses, ID numbers from area codes the seed never uses, each with
its GB 11643 check character), queue it, and run the import as the job does. The second
run of the same file must change nothing (every row unchanged).
"""

import math
import time
from dataclasses import dataclass
from datetime import date, timedelta

from marketplace.core import db
from marketplace.core.federation.roster import services as roster
from marketplace.core.federation.services import id_check_digit
from marketplace.core.identity import services as identity

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红鹏辉建国志宏海燕晶婷雪琳浩宇博文欣怡子涵梓萱俊杰"
GROUPS = ["", "", "", "women", "gig", "women;migrant", "migrant", "hardship", ""]
# Area codes (Jiangsu, Zhejiang, Guangdong) that the demo seed never uses.
AREAS = ["320102", "320104", "320105", "320106", "330102", "330105", "330106", "440103", "440104", "440106"]
FIRST_BIRTH = date(1966, 1, 1)
BIRTH_DAYS = (date(2005, 12, 31) - FIRST_BIRTH).days + 1
SEQUENCES = 1000
ID_SPACE = len(AREAS) * BIRTH_DAYS * SEQUENCES


def _multiplier(modulus: int, start: int) -> int:
    while math.gcd(start, modulus) != 1:
        start += 1
    return start


ID_A = _multiplier(ID_SPACE, 2_654_435_761 % ID_SPACE)
PHONE_SPACE = 100_000_000
PHONE_A = _multiplier(PHONE_SPACE, 48_271_933)


def generate(rows: int, node_codes: list[str]) -> bytes:
    """A valid roster CSV of `rows` distinct people (the same bytes for the same input)."""
    days = [(FIRST_BIRTH + timedelta(days=d)).strftime("%Y%m%d") for d in range(BIRTH_DAYS)]
    names = [s + g1 + g2 for s in SURNAMES for g1 in GIVEN for g2 in ("", *GIVEN[:8])]
    lines = ["name,phone,id_number,node,groups"]
    append = lines.append
    n_nodes, n_names, n_groups = len(node_codes), len(names), len(GROUPS)
    for i in range(rows):
        index = (ID_A * i + 12_345) % ID_SPACE
        index, sequence = divmod(index, SEQUENCES)
        area, day = divmod(index, BIRTH_DAYS)
        first17 = f"{AREAS[area]}{days[day]}{sequence:03d}"
        phone = f"195{(PHONE_A * i + 7) % PHONE_SPACE:08d}"
        append(
            f"{names[(i * 7919) % n_names]},{phone},{first17}{id_check_digit(first17)},"
            f"{node_codes[(i * 31) % n_nodes]},{GROUPS[i % n_groups]}"
        )
    return ("\n".join(lines) + "\n").encode()


@dataclass
class RosterReport:
    rows: int
    generate_s: float
    megabytes: float
    runs: list[tuple[float, int, int, int]]  # (seconds, created, updated, unchanged)


async def run(rows: int = 1_000_000, say=print) -> RosterReport:
    await db.open_pool()
    try:
        found = await db.engine().run_ddl(
            "SELECT o.id, n.path FROM operator o JOIN union_node n ON n.id = o.node WHERE o.username = 'beijing'"
        )
        if not found:
            raise RuntimeError("no Beijing operator: run `benefits seed` first")
        operator = await identity.load_principal("operator", found[0]["id"])
        if operator is None:
            raise RuntimeError("the Beijing operator may not sign in")
        nodes = await db.engine().run_ddl(
            "SELECT code FROM union_node WHERE level = 'grassroots' AND path LIKE '"
            + found[0]["path"]
            + "%' ORDER BY code"
        )
        started = time.perf_counter()
        content = generate(rows, [node["code"] for node in nodes])
        generate_s = time.perf_counter() - started
        say(f"generated {rows:,} rows ({len(content) / 1e6:.0f} MB) in {generate_s:.1f} s")
        runs = []
        for attempt in (1, 2):
            started = time.perf_counter()
            queued = await roster.start_import(operator, f"bench-{rows}.csv", content)
            await roster.run_import(queued.id)
            seconds = time.perf_counter() - started
            done = await roster.get_import(operator, queued.id)
            if done.status != "done":
                raise RuntimeError(f"import {done.id} {done.status}: {[e.message for e in done.errors[:5]]}")
            runs.append((seconds, done.created, done.updated, done.unchanged))
            say(
                f"run {attempt}: {seconds:.1f} s — created {done.created:,}, updated {done.updated:,}, "
                f"unchanged {done.unchanged:,}"
            )
    finally:
        await db.close_pool()
    return RosterReport(rows=rows, generate_s=generate_s, megabytes=len(content) / 1e6, runs=runs)
