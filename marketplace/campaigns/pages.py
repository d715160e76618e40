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
from marketplace.campaigns.schemas import (
    CampaignCreate,
    CampaignDetail,
    CampaignFunding,
    CampaignRead,
    ShareCreate,
    ShareUpdate,
)
from marketplace.core import dates
from marketplace.core.errors import DomainError, Invalid
from marketplace.core.federation import services as federation
from marketplace.core.idempotency import services as idempotency_keys
from marketplace.core.identity import guards
from marketplace.core.web import nav
from marketplace.core.web.forms import INT4_MAX, INT8_MAX, form_error, form_id
from marketplace.core.web.i18n import gettext as _
from marketplace.core.web.nav import N_
from marketplace.core.web.params import BigId

Action = Annotated[str, PathParameter(max_length=10)]
SHARE_ROWS = 4  # funding rows on the form (the API takes up to schemas.MAX_SHARES)

nav.register("console", "campaigns", N_("Campaigns"), "/console/campaigns", "gift", position=42)


# The labels of the new-campaign form's fields, as it shows them (for the alert above it).
LABELS = {
    "node_id": N_("Union served (with every union under it)"),
    "name_zh": N_("Name (Chinese)"),
    "name_en": N_("Name (English)"),
    "starts_on": N_("First day"),
    "ends_on": N_("Last day"),
    "cap_yuan": N_("Cap per member (yuan)"),
    "groups": N_("Only members of these groups (none ticked: every member)"),
    "category_ids": N_("Subsidised categories"),
    "offer_ids": N_("Subsidised offers"),
    **{f"share_value_{i}": N_("Percentage or amount") for i in range(SHARE_ROWS)},
    **{f"share_budget_{i}": N_("Its budget (yuan)") for i in range(SHARE_ROWS)},
}

# Form readers: each takes the refusal of its field (a literal msgid said at the field by
# form_error) and raises it when the text is not what the field asks for.


def _yuan_to_fen(text: str | None, refusal: Invalid) -> int:
    """An amount typed in yuan (up to two decimals) as integer fen."""
    whole, _, part = (text or "").strip().partition(".")
    if not whole.isdigit() or (part and (not part.isdigit() or len(part) > 2)):
        raise refusal
    fen = int(whole) * 100 + int((part or "0").ljust(2, "0"))
    if fen < 1 or fen > 10**12:
        raise refusal
    return fen


def _day(text: str | None, refusal: Invalid) -> datetime:
    try:
        day = datetime.strptime((text or "").strip(), "%Y-%m-%d")
    except ValueError:
        raise refusal from None
    return day.replace(tzinfo=dates.zone())


def _ids(values: list[str]) -> list[int]:
    return sorted({number for number in (form_id(value, INT8_MAX) for value in values) if number})


def _percent_bp(text: str | None, refusal: Invalid) -> int:
    """A percentage typed with up to two decimals ("33.34") as basis points."""
    whole, _, part = (text or "").strip().rstrip("%％").strip().partition(".")
    if not whole.isdigit() or (part and (not part.isdigit() or len(part) > 2)):
        raise refusal
    bp = int(whole) * 100 + int((part or "0").ljust(2, "0"))
    if not 1 <= bp <= 10000:
        raise refusal
    return bp


def parse_shares(form: dict) -> tuple[list[ShareCreate], list[int]]:
    """The funding rows filled in, and the row each came from (to put a refusal at its field)."""
    shares, rows = [], []
    for i in range(SHARE_ROWS):
        node_id = form_id(form.get(f"share_node_{i}"), INT4_MAX)
        typed = [(form.get(f"share_{name}_{i}") or "").strip() for name in ("value", "budget")]
        if node_id is None and not any(typed):
            continue
        if node_id is None:
            raise Invalid("Choose the union that pays this part.", field=f"share_node_{i}")
        value = form.get(f"share_value_{i}")
        if form.get(f"share_kind_{i}") == "fixed":
            fixed = _yuan_to_fen(
                value, Invalid("Enter the amount per use in yuan, at least ¥0.01.", field=f"share_value_{i}")
            )
            if fixed > INT4_MAX:
                raise Invalid("Enter the amount per use in yuan, at least ¥0.01.", field=f"share_value_{i}")
            percent = 0
        else:
            percent = _percent_bp(value, Invalid("Enter a percentage between 0.01 and 100.", field=f"share_value_{i}"))
            fixed = 0
        budget = _yuan_to_fen(
            form.get(f"share_budget_{i}"),
            Invalid("Enter the budget in yuan, at least ¥0.01.", field=f"share_budget_{i}"),
        )
        shares.append(ShareCreate(node_id=node_id, budget_fen=budget, percent_bp=percent, fixed_fen=fixed))
        rows.append(i)
    if not shares:
        raise Invalid("Choose at least one union that pays, with its part and budget.", field="share_node_0")
    return shares, rows


def parse_form(form: dict, multi) -> tuple[CampaignCreate, list[int]]:
    starts = _day(form.get("starts_on"), Invalid("Enter the first day as YYYY-MM-DD.", field="starts_on"))
    ends = _day(form.get("ends_on"), Invalid("Enter the last day as YYYY-MM-DD.", field="ends_on"))
    ends += timedelta(days=1)
    name = (form.get("name_zh") or "").strip()
    if not name:
        raise Invalid("Give the campaign a name.", field="name_zh")
    node_id = form_id(form.get("node_id"))
    if node_id is None:
        raise Invalid("Choose a union.", field="node_id")
    shares, rows = parse_shares(form)
    data = CampaignCreate(
        node_id=node_id,
        name_zh=name[:200],
        name_en=(form.get("name_en") or "").strip()[:200],
        starts_at=starts.astimezone(UTC),
        ends_at=ends.astimezone(UTC),
        shares=shares,
        policy="cover" if form.get("policy") == "cover" else "stop",
        per_member_cap_fen=_yuan_to_fen(
            form.get("cap_yuan"), Invalid("Enter the cap per member in yuan, at least ¥0.01.", field="cap_yuan")
        ),
        groups=[group for group in multi("groups") if group],
        offer_ids=_ids(multi("offer_ids")),
        category_ids=_ids(multi("category_ids")),
    )
    return data, rows


def share_field(field: str | None, rows: list[int]) -> str | None:
    """The form field of a refusal naming a share ("shares[1].budget_fen" → "share_budget_2")."""
    if not field or not field.startswith("shares["):
        return "share_budget_0" if field == "budget_fen" else field
    index, _, name = field[len("shares[") :].partition("].")
    row = rows[int(index)] if index.isdigit() and int(index) < len(rows) else 0
    return {"node_id": f"share_node_{row}", "budget_fen": f"share_budget_{row}"}.get(name, f"share_value_{row}")


# The API's fields that the form asks for under another name.
_FIELDS = {
    "per_member_cap_fen": "cap_yuan",
    "starts_at": "starts_on",
    "ends_at": "ends_on",
}


def _form_field(field: str | None, rows: list[int]) -> str | None:
    """The new-campaign form's field of a refusal: the form's own names pass unchanged."""
    field = share_field(field, rows)
    return _FIELDS.get(field, field) if field else None


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
    error: dict | None = None,
    values: dict | None = None,
    status: int = 200,
    confirm: dict | None = None,
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
            "confirm": confirm,
            "share_rows": range(SHARE_ROWS),
            "values": values
            or {
                "starts_on": today.isoformat(),
                "ends_on": (today + timedelta(days=30)).isoformat(),
                "share_node_0": str(request.user.node_id),
                "share_value_0": "100",
            },
            # The offers already picked (after a refused form), shown ticked above the search.
            "picked": await catalog.offers_to_pick(
                request.user, ids=_ids((values or {}).get("offer_ids", "").split(","))
            )
            if (values or {}).get("offer_ids")
            else [],
        },
    )


@get("/console/campaigns", guards=[guards.operator], include_in_schema=False)
async def console(request: Request) -> Template:
    return await _list_page(request)


def _repeat(form_data) -> list[tuple[str, str]]:
    """The form's fields as sent, to send again from the confirmation."""
    return [
        (name, value)
        for name, value in form_data.multi_items()
        if name not in ("_csrf_token", "confirm", "offer_q") and isinstance(value, str)
    ]


@post("/console/campaigns", guards=[guards.operator], include_in_schema=False)
async def create(request: Request) -> Response:
    """Read and check the form, show what will be committed and by whom, then create on confirm."""
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
    rows: list[int] = []
    try:
        data, rows = parse_form(form, multi)
        if form.get("confirm") != "1":
            await services.check_campaign(request.user, data)
            nodes = {node.id: node for node in await federation.nodes_in_scope(request.user)}
            return await _list_page(
                request,
                values=values,
                confirm={"data": data, "nodes": nodes, "fields": _repeat(form_data)},
            )
        created = await idempotency_keys.run_once(
            request.user,
            form.get("idempotency_key") or None,
            "campaign_form",
            None,
            lambda: services.create_campaign(request.user, data),
            CampaignRead,
        )
    except DomainError as error:
        error.field = _form_field(error.field, rows)  # the form's name, so the alert names its label
        return await _list_page(request, error=form_error(error, LABELS), values=values, status=error.status)
    return Redirect(path=f"/console/campaigns/{created.id}?created=1")


@get("/console/campaigns/{campaign_id:int}", guards=[guards.operator], include_in_schema=False)
async def detail(request: Request, campaign_id: BigId) -> Template:
    return await _detail_page(request, campaign_id)


async def _detail_page(request: Request, campaign_id: int, *, error: dict | None = None, status: int = 200) -> Template:
    found = await services.campaign_detail(request.user, campaign_id)
    # The budgets this operator may change: those of the unions in their scope.
    editable = {
        share.node_id
        for share in found.campaign.shares
        if request.user.covers((await federation.get_node(share.node_id)).path)
    }
    return Template(
        template_name="campaigns/detail.html",
        status_code=status,
        context={
            "detail": found,
            "editable": editable,
            "charts": {"burn": burn_chart(found), "daily": daily_chart(found)},
            "error": error,
            "done": "created" if request.query_params.get("created") else request.query_params.get("changed"),
        },
    )


async def _change_funding(request: Request, campaign_id: int) -> Response:
    """The funding form of the detail page: the policy and each union's budget."""
    form = dict(await request.form())
    current = await services.get_campaign(request.user, campaign_id)
    try:
        budgets = [
            ShareUpdate(
                node_id=share.node_id,
                budget_fen=_yuan_to_fen(
                    form.get(f"budget_{i}"), Invalid("Enter the budget in yuan, at least ¥0.01.", field=f"budget_{i}")
                ),
            )
            for i, share in enumerate(current.shares)
        ]
        data = CampaignFunding(policy="cover" if form.get("policy") == "cover" else "stop", shares=budgets)
        await services.change_funding(request.user, campaign_id, data)
    except DomainError as error:
        field = error.field or ""
        if field.startswith("shares["):  # the service names the share, the form its budget field
            index = field[len("shares[") :].partition("]")[0]
            field = f"budget_{index}" if index.isdigit() else "policy"
        elif not field.startswith("budget_"):
            field = "policy"
        error.field = field
        return await _detail_page(request, campaign_id, error=form_error(error), status=error.status)
    return Redirect(path=f"/console/campaigns/{campaign_id}?changed=funding")


@post("/console/campaigns/{campaign_id:int}/{action:str}", guards=[guards.operator], include_in_schema=False)
async def change_status(request: Request, campaign_id: BigId, action: Action) -> Response:
    if action == "funding":
        return await _change_funding(request, campaign_id)
    if action not in ("pause", "resume", "end"):
        return Redirect(path=f"/console/campaigns/{campaign_id}")
    await services.set_status(request.user, campaign_id, action)
    return Redirect(path=f"/console/campaigns/{campaign_id}?changed={action}")


ROUTES: list = [console, create, detail, change_status]
