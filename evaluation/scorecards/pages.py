"""Scorecard pages (templates in evaluation/templates/evaluation/scorecard_*.html).

Provider portal: the provider's own figures, each with its sample size, its standing
under the enforcement policy (`standing`, None until the policy names one) and trend
charts from the monthly snapshots plus the current window. Owner and staff may look.

Operator console: the providers in the operator's subtree ranked by satisfaction, with
filters (district, category, provider status and, once the policy keeps standings,
state), paging and a CSV export; charts of the scope's monthly satisfaction, how
satisfaction is spread within each category, and each category's complaint rate; and
one provider's card. Charts are SVG drawn by /static/charts.js from JSON in the page,
with the same numbers in a table beside each.
"""

import io
from datetime import date
from itertools import pairwise
from typing import Annotated

from litestar import Request, Response, get
from litestar.params import FromPath, FromQuery, QueryParameter
from litestar.response import Template

from evaluation.enforcement import policy
from evaluation.scorecards import services as scorecards
from evaluation.scorecards.services import Scorecard
from marketplace.core import csvfiles
from marketplace.core.errors import NotFound
from marketplace.core.federation import scope
from marketplace.core.identity import guards
from marketplace.core.web import paging
from marketplace.core.web.forms import form_id
from marketplace.core.web.i18n import current_locale, gettext as _
from marketplace.core.web.nav import N_, register
from marketplace.core.web.params import Id
from providers import services as providers

PAGE_SIZE = paging.PAGE_SIZE
# `state` is a name Litestar reserves for the app state: read the query parameter under another name.
StateQuery = Annotated[str, QueryParameter(name="state")]

register("provider", "scorecard", N_("Scorecard"), "/provider/scorecard", "check", position=45)
register("console", "scorecards", N_("Scorecards"), "/console/scorecards", "check", position=45)


def _english() -> bool:
    return current_locale.get() == "en"


def _month_label(month: date | None) -> str:
    return _("Last %(days)s days") % {"days": scorecards.window_days()} if month is None else month.strftime("%Y-%m")


def _round(value: float | None, digits: int = 2) -> float | None:
    return None if value is None else round(float(value), digits)


def _category_name(card) -> str:
    if _english() and getattr(card, "category_en", None):
        return card.category_en
    return getattr(card, "category_zh", None) or getattr(card, "name_zh", "") or ""


def _complaints_chart(labels: list[str], rows: list, summary: str) -> dict:
    """Complaints per 100 redemptions, a bar per label (a month, a category), with the
    redemptions each figure is computed from."""
    return {
        "type": "bar",
        "labels": labels,
        "min": 0,
        "decimals": 1,
        "series": [
            {"name": _("Complaints per 100 redemptions"), "values": [_round(r.complaints_per_100, 1) for r in rows]}
        ],
        "counts": [r.redemptions_n for r in rows],
        "count_label": _("Redemptions"),
        "summary": summary,
    }


def _provider_charts(history: list[Scorecard], current: Scorecard | None) -> dict:
    points = [*history, *([current] if current else [])]
    labels = [_month_label(card.month) for card in points]
    return {
        "satisfaction": {
            "type": "line",
            "labels": labels,
            "min": 1,
            "max": 5,
            "decimals": 2,
            "series": [
                {"name": _("Satisfaction (fair score)"), "values": [_round(c.satisfaction) for c in points]},
                {"name": _("Plain mean"), "values": [_round(c.satisfaction_raw) for c in points]},
            ],
            "counts": [c.ratings_n for c in points],
            "count_label": _("Ratings"),
            "summary": _("Monthly satisfaction, 1 to 5."),
        },
        "complaints": _complaints_chart(labels, points, _("Complaints per 100 redemptions, by month.")),
    }


# Provider portal -------------------------------------------------------------------------------------


@get("/provider/scorecard", guards=[guards.provider_user], include_in_schema=False)
async def provider_scorecard(request: Request) -> Template:
    user = request.user
    card = await scorecards.scorecard_of(user.provider_id)
    history = await scorecards.history_of(user.provider_id)
    return Template(
        template_name="evaluation/scorecard_provider.html",
        context={
            "card": card,
            "history": history,
            "charts": _provider_charts(history, card),
            "standing": await policy.assessed_standing(user.provider_id),
            "category_name": _category_name(card) if card else "",
            "window_days": scorecards.window_days(),
        },
    )


# Operator console ------------------------------------------------------------------------------------


def _filters(district: str, category: str, status: str, state: str, sort: str, q: str = "") -> dict:
    return {
        "q": q.strip()[:60],
        "district": district.strip()[:32] or None,
        "category": form_id(category),
        "status": status if status in scorecards.ADMITTED else None,
        "state": state.strip()[:12] or None,
        "sort": sort if sort in scorecards.SORTS else "satisfaction",
    }


def _query(filters: dict, **changes) -> str:
    from urllib.parse import urlencode

    values = {**filters, **changes}
    return urlencode({key: value for key, value in values.items() if value not in (None, "", "satisfaction")})


async def _console_charts(request: Request, filters: dict) -> dict:
    trend = await scorecards.scope_trend(request.user, district=filters["district"], category=filters["category"])
    categories = await scorecards.by_category(request.user, district=filters["district"])
    names = [(c.name_en if _english() and c.name_en else c.name_zh) for c in categories]
    bands = scorecards.SATISFACTION_BANDS
    band_names = [
        _("below %(value)s") % {"value": bands[0]},
        *(f"{low}–{high}" for low, high in pairwise(bands)),
        _("%(value)s and above") % {"value": bands[-1]},
    ]
    return {
        "trend": {
            "type": "line",
            "labels": [_month_label(m.month) for m in trend],
            "min": 1,
            "max": 5,
            "decimals": 2,
            "series": [{"name": _("Mean rating in scope"), "values": [_round(m.satisfaction) for m in trend]}],
            "counts": [m.ratings_n for m in trend],
            "count_label": _("Ratings"),
            "summary": _("Monthly mean rating across the providers in your scope, 1 to 5."),
        },
        "distribution": {
            "type": "bar",
            "stacked": True,
            "palette": "ordinal",
            "labels": names,
            "min": 0,
            "decimals": 0,
            "series": [
                {"name": band_names[i], "values": [c.bands[i] for c in categories]} for i in range(len(bands) + 1)
            ],
            "counts": [c.providers_n for c in categories],
            "count_label": _("Providers"),
            "summary": _("Providers per satisfaction band, by category."),
        },
        "complaints": _complaints_chart(names, categories, _("Complaints per 100 redemptions, by category.")),
    }


@get("/console/scorecards", include_in_schema=False, guards=[guards.operator])
async def console_scorecards(
    request: Request,
    district: FromQuery[str] = "",
    category: FromQuery[str] = "",
    status: FromQuery[str] = "",
    wanted_state: StateQuery = "",
    sort: FromQuery[str] = "satisfaction",
    q: FromQuery[str] = "",
) -> Template:
    filters = _filters(district, category, status, wanted_state, sort, q)
    page = paging.page_number(request.query_params.get("page"))
    result = await scorecards.list_scorecards(request.user, page=page, page_size=PAGE_SIZE, **filters)
    return Template(
        template_name="evaluation/scorecard_console.html",
        context={
            "page": result,
            "filters": filters,
            "pager": paging.Pager.of(request, result.total, page, PAGE_SIZE),
            "choices": await scorecards.scope_choices(request.user),
            "charts": await _console_charts(request, filters),
            "statuses": scorecards.ADMITTED,
            "sorts": list(scorecards.SORTS),
            "query": lambda **c: _query(filters, **c),
            "category_name": _category_name,
            "window_days": scorecards.window_days(),
        },
    )


CSV_HEADERS = (
    N_("Rank in category"),
    N_("Provider"),
    N_("Category"),
    N_("District"),
    N_("Satisfaction (fair score)"),
    N_("Ratings"),
    N_("Plain mean"),
    N_("Honoured (lower bound)"),
    N_("Answers on honouring"),
    N_("Complaints per 100 redemptions"),
    N_("Complaints"),
    N_("Redemptions"),
    N_("Missed answer times"),
    N_("Median answer time (hours)"),
    N_("Third-party score"),
    N_("Third-party sample"),
    N_("Trend (30 days)"),
    N_("Rank in district"),
)


def _number(value, digits: int = 3) -> str:
    return "" if value is None else f"{value:.{digits}f}"


@get("/console/scorecards.csv", include_in_schema=False, guards=[guards.operator])
async def console_scorecards_csv(
    request: Request,
    district: FromQuery[str] = "",
    category: FromQuery[str] = "",
    status: FromQuery[str] = "",
    wanted_state: StateQuery = "",
    sort: FromQuery[str] = "satisfaction",
    q: FromQuery[str] = "",
) -> Response:
    filters = _filters(district, category, status, wanted_state, sort, q)
    cards = await scorecards.iter_scorecards(request.user, **filters)
    buffer = io.StringIO()
    buffer.write("\ufeff")  # Excel reads UTF-8 with a BOM
    writer = csvfiles.writer(buffer)  # no cell runs as a formula
    writer.writerow([_(label) for label in CSV_HEADERS])
    for card in cards:
        writer.writerow(
            [
                card.rank_category or "",
                card.provider_name,
                _category_name(card),
                card.district or "",
                _number(card.satisfaction),
                card.ratings_n,
                _number(card.satisfaction_raw),
                _number(card.honoured_low),
                card.honoured_n,
                _number(card.complaints_per_100, 2),
                card.complaints_n,
                card.redemptions_n,
                card.missed_responses_n,
                _number(card.median_response_hours, 1),
                _number(card.third_party_score, 1),
                card.third_party_n,
                _number(card.trend),
                card.rank_district or "",
            ]
        )
    return Response(
        content=buffer.getvalue().encode("utf-8"),
        media_type="text/csv; charset=utf-8",
        headers={
            "content-disposition": 'attachment; filename="scorecards.csv"',
            "cache-control": "no-store",
        },
    )


@get("/console/scorecards/{provider_id:int}", include_in_schema=False, guards=[guards.operator])
async def console_scorecard(request: Request, provider_id: FromPath[Id]) -> Template:
    path = await providers.node_path(provider_id)
    scope.require_covers(request.user, path, NotFound("No such provider in your scope.", code="provider_not_found"))
    card = await scorecards.scorecard_of(provider_id)
    if card is None:
        raise NotFound("This provider has no scorecard yet.", code="not_found")
    history = await scorecards.history_of(provider_id)
    return Template(
        template_name="evaluation/scorecard_console_detail.html",
        context={
            "card": card,
            "history": history,
            "charts": _provider_charts(history, card),
            "standing": await policy.assessed_standing(provider_id),
            "category_name": _category_name(card),
            "window_days": scorecards.window_days(),
        },
    )


ROUTES: list = [provider_scorecard, console_scorecards, console_scorecards_csv, console_scorecard]
