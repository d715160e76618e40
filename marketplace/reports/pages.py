"""The reports dashboard of the operator console (templates/reports/dashboard.html).

One page per node in the operator's scope (their own by default, `?node=` for one below).
Each section is a chart drawn by /static/charts.js from JSON in the page, the same numbers
in a table, and a CSV export (controllers.py) built from the same section table.
"""

from typing import Annotated, Any

from litestar import Request, get
from litestar.params import QueryParameter
from litestar.response import Template

from evaluation.scorecards import services as scorecards
from marketplace.core.identity import guards
from marketplace.core.web.i18n import current_locale, gettext as _
from marketplace.core.web.nav import N_, register
from marketplace.reports import services

NodeQuery = Annotated[int | None, QueryParameter(name="node", gt=0, le=2**31 - 1)]

register("console", "reports", N_("Reports"), "/console/reports", "doc", position=48)

SECTIONS = (
    "daily",
    "children",
    "categories",
    "groups",
    "burn",
    "satisfaction",
    "funding",
    "providers",
    "misses",
    "coverage",
)


def _english() -> bool:
    return current_locale.get() == "en"


def _name(zh: str | None, en: str | None) -> str:
    return (en if _english() and en else zh) or ""


def _yuan(fen: int | None) -> float | None:
    return None if fen is None else round(fen / 100, 2)


def _fen(fen: int) -> str:
    """Yuan with two decimals from integer fen, exactly (no float on the way)."""
    sign, fen = ("-", -fen) if fen < 0 else ("", fen)
    return f"{sign}{fen // 100}.{fen % 100:02d}"


def _r(value, digits: int = 2):
    return None if value is None else round(float(value), digits)


def _usage_chart(labels: list[str], rows: list[dict], summary: str) -> dict:
    return {
        "type": "bar",
        "labels": labels,
        "min": 0,
        "decimals": 0,
        "series": [
            {"name": _("Claims"), "values": [r["claims"] for r in rows]},
            {"name": _("Redemptions"), "values": [r["redemptions"] for r in rows]},
        ],
        "summary": summary,
    }


def _usage_table(first: str, labels: list[str], rows: list[dict]) -> dict:
    return {
        "headers": [first, _("Claims"), _("Redemptions"), _("Union subsidy (yuan)"), _("Member share paid (yuan)")],
        "rows": [
            [label, r["claims"], r["redemptions"], f"{r['subsidy_fen'] / 100:.2f}", f"{r['paid_fen'] / 100:.2f}"]
            for label, r in zip(labels, rows, strict=True)
        ],
    }


def sections(board: services.Dashboard) -> dict[str, dict]:
    """Every section of the page: {"chart": charts.js data, "table": {"headers", "rows"}}."""
    out: dict[str, dict] = {}
    days = [d.strftime("%m-%d") for d in board.days]
    out["daily"] = {
        "chart": {
            "type": "line",
            "labels": days,
            "min": 0,
            "decimals": 0,
            "series": [
                {"name": _("Claims"), "values": [r["claims"] for r in board.daily]},
                {"name": _("Redemptions"), "values": [r["redemptions"] for r in board.daily]},
            ],
            "summary": _("Claims and redemptions per day, last %(days)s days.") % {"days": len(board.days)},
        },
        "table": _usage_table(_("Day"), [d.isoformat() for d in board.days], board.daily),
    }
    children = [
        _("%(name)s (directly)") % {"name": _name(board.node.name_zh, board.node.name_en)}
        if r["node"] is None
        else _name(r["node"].name_zh, r["node"].name_en)
        for r in board.by_child
    ]
    out["children"] = {
        "chart": _usage_chart(children, board.by_child, _("Claims and redemptions by union below.")),
        "table": _usage_table(_("Union"), children, board.by_child),
        "links": [None if r["node"] is None else r["node"].id for r in board.by_child],
    }
    categories = [_name(r["name_zh"], r["name_en"]) for r in board.by_category]
    out["categories"] = {
        "chart": _usage_chart(categories, board.by_category, _("Claims and redemptions by category.")),
        "table": _usage_table(_("Category"), categories, board.by_category),
    }
    groups = [_name(r["name_zh"], r["name_en"]) for r in board.by_group]
    out["groups"] = {
        "chart": _usage_chart(groups, board.by_group, _("Claims and redemptions by member group.")),
        "table": _usage_table(_("Member group"), groups, board.by_group),
    }

    burn = board.burn
    series: list[dict[str, Any]] = [
        {"name": _("Union subsidy redeemed (cumulative)"), "values": [_yuan(v) for v in burn["subsidy_fen"]]}
    ]
    if burn["campaign_fen"] is not None:
        series.append({"name": _("Campaign spend (cumulative)"), "values": [_yuan(v) for v in burn["campaign_fen"]]})
    if burn["budget_fen"] is not None:
        series.append({"name": _("Campaign budgets"), "values": [_yuan(burn["budget_fen"])] * len(days)})
    out["burn"] = {
        "chart": {
            "type": "line",
            "labels": days,
            "min": 0,
            "decimals": 0,
            "unit": "",
            "series": series,
            "summary": _(
                "Subsidy spent since the start of the window, in yuan, against the budgets of campaigns running in it."
            ),
        },
        "table": {
            "headers": [_("Day"), *[s["name"] + " " + _("(yuan)") for s in series]],
            "rows": [[d.isoformat(), *[f"{s['values'][i]:.2f}" for s in series]] for i, d in enumerate(board.days)],
        },
    }

    payers: dict[int, dict] = {}
    for r in board.funding:
        payer = payers.setdefault(r["payer"], {"name": _name(r["payer_zh"], r["payer_en"]), "fen": 0})
        payer["fen"] += r["amount_fen"]
    out["funding"] = {
        "chart": {
            "type": "bar",
            "labels": [p["name"] for p in payers.values()],
            "min": 0,
            "decimals": 2,
            "series": [{"name": _("Its part (yuan)"), "values": [_yuan(p["fen"]) for p in payers.values()]}],
            "summary": _("What each paying union's share of the campaigns paid in the window, in yuan."),
        },
        "table": {
            "headers": [_("Paying union"), _("Campaign"), _("Uses"), _("Its part (yuan)")],
            "rows": [
                [
                    _name(r["payer_zh"], r["payer_en"]),
                    _name(r["campaign_zh"], r["campaign_en"]),
                    r["uses"],
                    _fen(r["amount_fen"]),
                ]
                for r in board.funding
            ],
        },
    }

    months = [
        _("Last %(days)s days") % {"days": scorecards.window_days()} if m.month is None else m.month.strftime("%Y-%m")
        for m in board.satisfaction
    ]
    out["satisfaction"] = {
        "chart": {
            "type": "line",
            "labels": months,
            "min": 1,
            "max": 5,
            "decimals": 2,
            "series": [{"name": _("Mean rating"), "values": [_r(m.satisfaction) for m in board.satisfaction]}],
            "summary": _("Monthly mean rating of the providers in scope, 1 to 5."),
        },
        "table": {
            "headers": [_("Month"), _("Mean rating"), _("Ratings"), _("Complaints per 100 redemptions")],
            "rows": [
                [
                    label,
                    "" if m.satisfaction is None else f"{m.satisfaction:.2f}",
                    m.ratings_n,
                    "" if m.complaints_per_100 is None else f"{m.complaints_per_100:.1f}",
                ]
                for label, m in zip(months, board.satisfaction, strict=True)
            ],
        },
    }

    def provider_rows(kind: str, rows: list[dict]) -> list[list]:
        return [
            [
                kind,
                r["name"],
                _name(r["category_zh"], r["category_en"]),
                r["district"] or "",
                f"{r['satisfaction']:.2f}",
                r["ratings_n"],
                "" if r["complaints_per_100"] is None else f"{r['complaints_per_100']:.1f}",
                int(r["redemptions"]),
            ]
            for r in rows
        ]

    names = [r["name"] for r in board.top] + [r["name"] for r in board.bottom]
    out["providers"] = {
        "chart": {
            "type": "bar",
            "labels": names,
            "min": 1,
            "max": 5,
            "decimals": 2,
            "series": [
                {
                    "name": _("Satisfaction (fair score)"),
                    "values": [_r(r["satisfaction"]) for r in board.top + board.bottom],
                }
            ],
            "summary": _("The %(n)s best and worst providers by satisfaction, with at least %(min)s ratings.")
            % {"n": services.TOP_PROVIDERS, "min": services.MIN_RATINGS},
        },
        "table": {
            "headers": [
                _("List"),
                _("Provider"),
                _("Category"),
                _("District"),
                _("Satisfaction (fair score)"),
                _("Ratings"),
                _("Complaints per 100 redemptions"),
                _("Redemptions"),
            ],
            "rows": provider_rows(_("Top"), board.top) + provider_rows(_("Bottom"), board.bottom),
        },
    }

    no_district = _("(no district)")
    out["misses"] = {
        "chart": {
            "type": "bar",
            "labels": [r["district"] or no_district for r in board.misses_by_district],
            "min": 0,
            "decimals": 0,
            "series": [
                {"name": _("Searches with no result"), "values": [int(r["misses"]) for r in board.misses_by_district]}
            ],
            "summary": _("Searches that found nothing, by district: demand nobody serves."),
        },
        "table": {
            "headers": [_("District"), _("Search"), _("Searches with no result")],
            "rows": [[r["district"] or no_district, r["query"], int(r["misses"])] for r in board.misses],
        },
    }

    out["coverage"] = {
        "chart": {
            "type": "bar",
            "labels": [r["district"] for r in board.coverage],
            "min": 0,
            "decimals": 1,
            "series": [
                {
                    "name": _("Providers per 10,000 members"),
                    "values": [_r(r["providers_per_10k"], 1) for r in board.coverage],
                }
            ],
            "summary": _("Providers per 10,000 members in each district; fewer than %(min)s is flagged.")
            % {"min": f"{services.PROVIDERS_PER_10K_MIN:g}"},
        },
        "table": {
            "headers": [
                _("District"),
                _("Members"),
                _("Providers"),
                _("Providers per 10,000 members"),
                _("Few providers"),
            ],
            "rows": [
                [
                    r["district"],
                    r["members"],
                    r["providers"],
                    "" if r["providers_per_10k"] is None else f"{r['providers_per_10k']:.1f}",
                    _("Yes") if r["flagged"] else "",
                ]
                for r in board.coverage
            ],
        },
        "flags": [r["flagged"] for r in board.coverage],
    }
    return out


@get("/console/reports", include_in_schema=False, guards=[guards.operator])
async def dashboard(request: Request, node_id: NodeQuery = None) -> Template:
    board = await services.dashboard(request.user, node_id)
    return Template(
        template_name="reports/dashboard.html",
        context={
            "board": board,
            "sections": sections(board),
            "name": _name,
            "window_days": len(board.days),
            "min_ratings": services.MIN_RATINGS,
        },
    )


ROUTES: list = [dashboard]
