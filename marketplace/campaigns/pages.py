"""Console pages of campaigns: create, list with budget and burn, pause/resume, and one
campaign's burn per day and funds flow. Thin handlers: read the form, call one service,
render. Charts are drawn by /static/charts.js from JSON in the page (as the scorecards)."""

from datetime import UTC, datetime, timedelta
from typing import Annotated

from litestar import Request, get, post
from litestar.params import PathParameter
from litestar.response import Redirect, Response, Template

from catalog import services as catalog
from marketplace.campaigns import services
from marketplace.campaigns.schemas import CampaignCreate, CampaignDetail, CampaignRead
from marketplace.core import dates
from marketplace.core.errors import DomainError
from marketplace.core.federation import services as federation
from marketplace.core.idempotency import services as idempotency_keys
from marketplace.core.identity import guards
from marketplace.core.web import nav
from marketplace.core.web.forms import INT8_MAX, form_id
from marketplace.core.web.i18n import gettext as _
from marketplace.core.web.nav import N_
from marketplace.core.web.params import BigId

Action = Annotated[str, PathParameter(max_length=10)]

nav.register("console", "campaigns", N_("Campaigns"), "/console/campaigns", "gift", position=42)


class FormError(Exception):
    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field, self.message = field, message


def _int(form: dict, name: str, message: str, minimum: int = 1) -> int:
    try:
        value = int((form.get(name) or "").strip())
    except ValueError:
        raise FormError(name, message) from None
    if value < minimum:
        raise FormError(name, message)
    return value


def _yuan_to_fen(form: dict, name: str, message: str) -> int:
    """An amount typed in yuan (up to two decimals) as integer fen."""
    text = (form.get(name) or "").strip()
    whole, _, part = text.partition(".")
    if not whole.isdigit() or (part and (not part.isdigit() or len(part) > 2)):
        raise FormError(name, message)
    fen = int(whole) * 100 + int((part or "0").ljust(2, "0"))
    if fen < 1 or fen > 10**12:
        raise FormError(name, message)
    return fen


def _day(form: dict, name: str, message: str) -> datetime:
    try:
        day = datetime.strptime((form.get(name) or "").strip(), "%Y-%m-%d")
    except ValueError:
        raise FormError(name, message) from None
    return day.replace(tzinfo=dates.zone())


def _ids(values: list[str]) -> list[int]:
    return sorted({number for number in (form_id(value, INT8_MAX) for value in values) if number})


def parse_form(form: dict, multi) -> CampaignCreate:
    starts = _day(form, "starts_on", _("Enter the first day as YYYY-MM-DD."))
    ends = _day(form, "ends_on", _("Enter the last day as YYYY-MM-DD.")) + timedelta(days=1)
    name = (form.get("name_zh") or "").strip()
    if not name:
        raise FormError("name_zh", _("Give the campaign a name."))
    return CampaignCreate(
        node_id=_int(form, "node_id", _("Choose a union.")),
        name_zh=name[:200],
        name_en=(form.get("name_en") or "").strip()[:200],
        starts_at=starts.astimezone(UTC),
        ends_at=ends.astimezone(UTC),
        budget_fen=_yuan_to_fen(form, "budget_yuan", _("Enter the budget in yuan, at least ¥0.01.")),
        per_member_cap_fen=_yuan_to_fen(form, "cap_yuan", _("Enter the cap per member in yuan, at least ¥0.01.")),
        groups=[group for group in multi("groups") if group],
        offer_ids=_ids(multi("offer_ids")),
        category_ids=_ids(multi("category_ids")),
    )


_FIELDS = {
    "budget_fen": "budget_yuan",
    "per_member_cap_fen": "cap_yuan",
    "starts_at": "starts_on",
    "ends_at": "ends_on",
}


def _message(error: DomainError) -> str:
    messages = {
        "out_of_scope": _("This union node is outside your scope."),
        "node_not_found": _("No such union."),
        "wrong_status": _("The campaign cannot change to that state now."),
    }
    if error.field == "ends_at":
        return _("The period must end after it starts, and not in the past.")
    if error.field == "per_member_cap_fen":
        return _("The cap per member cannot exceed the budget.")
    if error.field == "groups":
        return _("Choose only known member groups.")
    if error.field in ("offer_ids", "category_ids"):
        return _("Choose at least one offer or category that exists.")
    return messages.get(error.code) or error.translated()


def burn_chart(detail: CampaignDetail) -> dict:
    labels = [day.day.strftime("%m-%d") for day in detail.burn]
    budget = detail.campaign.budget_fen / 100
    return {
        "type": "line",
        "labels": labels,
        "decimals": 2,
        "unit": "",
        "min": 0,
        "series": [
            {"name": _("Spent in total (¥)"), "values": [day.cumulative_fen / 100 for day in detail.burn]},
            {"name": _("Budget (¥)"), "values": [budget for _ in detail.burn]},
        ],
        "summary": _("Spent %(spent)s of a budget of %(budget)s.")
        % {"spent": f"¥{detail.campaign.spent_fen / 100:.2f}", "budget": f"¥{budget:.2f}"},
    }


def daily_chart(detail: CampaignDetail) -> dict:
    return {
        "type": "bar",
        "labels": [day.day.strftime("%m-%d") for day in detail.burn],
        "decimals": 2,
        "min": 0,
        "series": [{"name": _("Spent that day (¥)"), "values": [day.spent_fen / 100 for day in detail.burn]}],
    }


async def _list_page(
    request: Request,
    *,
    error: str | None = None,
    field: str | None = None,
    values: dict | None = None,
    status: int = 200,
) -> Template:
    today = datetime.now(dates.zone()).date()
    return Template(
        template_name="campaigns/console.html",
        status_code=status,
        context={
            "campaigns": await services.list_campaigns(request.user),
            "funds": await services.funds_by_node(request.user),
            "nodes": await federation.nodes_in_scope(request.user),
            "groups": sorted(await federation.group_codes()),
            "categories": await catalog.list_categories(),
            "error": error,
            "field": field,
            "values": values or {"starts_on": today.isoformat(), "ends_on": (today + timedelta(days=30)).isoformat()},
            # The offers already picked (after a refused form), shown ticked above the search.
            "picked": await catalog.offers_to_pick(
                request.user, ids=_ids((values or {}).get("offer_ids", "").split(","))
            )
            if (values or {}).get("offer_ids")
            else [],
        },
    )


@get("/console/campaigns/offer-picker", guards=[guards.operator], include_in_schema=False)
async def offer_picker(request: Request) -> Template:
    """Offers matching the search box of the campaign form (an HTMX fragment of tick boxes)."""
    q = (request.query_params.get("offer_q") or "")[:60]
    offers = await catalog.offers_to_pick(request.user, q) if q.strip() else []
    return Template(template_name="campaigns/_offer_picker.html", context={"offers": offers, "q": q})


@get("/console/campaigns", guards=[guards.operator], include_in_schema=False)
async def console(request: Request) -> Template:
    return await _list_page(request)


@post("/console/campaigns", guards=[guards.operator], include_in_schema=False)
async def create(request: Request) -> Response:
    form_data = await request.form()
    form = dict(form_data)
    values = {
        **form,
        "groups": form_data.getall("groups", []),
        "category_ids": form_data.getall("category_ids", []),
        "offer_ids": ",".join(form_data.getall("offer_ids", [])),
    }
    multi = lambda name: (  # noqa: E731  offers are typed as "12, 15"; groups and categories are checkboxes
        ",".join(form_data.getall(name, [])).replace("，", ",").split(",")
        if name == "offer_ids"
        else form_data.getall(name, [])
    )
    try:
        data = parse_form(form, multi)
    except FormError as error:
        return await _list_page(request, error=error.message, field=error.field, values=values, status=422)
    try:
        created = await idempotency_keys.run_once(
            request.user,
            form.get("idempotency_key") or None,
            "campaign_form",
            None,
            lambda: services.create_campaign(request.user, data),
            CampaignRead,
        )
    except DomainError as error:
        return await _list_page(
            request,
            error=_message(error),
            field=error.field and _FIELDS.get(error.field, error.field),
            values=values,
            status=error.status,
        )
    return Redirect(path=f"/console/campaigns/{created.id}")


@get("/console/campaigns/{campaign_id:int}", guards=[guards.operator], include_in_schema=False)
async def detail(request: Request, campaign_id: BigId) -> Template:
    found = await services.campaign_detail(request.user, campaign_id)
    return Template(
        template_name="campaigns/detail.html",
        context={
            "detail": found,
            "charts": {"burn": burn_chart(found), "daily": daily_chart(found)},
        },
    )


@post("/console/campaigns/{campaign_id:int}/{action:str}", guards=[guards.operator], include_in_schema=False)
async def change_status(request: Request, campaign_id: BigId, action: Action) -> Response:
    if action not in ("pause", "resume", "end"):
        return Redirect(path=f"/console/campaigns/{campaign_id}")
    await services.set_status(request.user, campaign_id, action)
    return Redirect(path=f"/console/campaigns/{campaign_id}")


ROUTES: list = [console, offer_picker, create, detail, change_status]
