"""The home page of each signed-in area, which shows what every feature has for the user:
the member's 我的 (/me), the provider portal's overview (/provider/), the operator
console's node pages (/console/) and the evaluator desk (/evaluator/).

They read from every domain, so they live in the shell beside marketplace/app.py, not in
the foundation's web kit (marketplace/core/web/pages.py: sign-in, language, large text).
"""

from datetime import UTC, datetime

from litestar import Request, Response, get, post
from litestar.response import Redirect, Template

from catalog import services as catalog
from evaluation.complaints import services as complaints
from evaluation.enforcement import policy as quality
from evaluation.evaluators import services as evaluation
from evaluation.scorecards import services as scorecards
from marketplace.core import dates
from marketplace.core.federation import consent, services as federation
from marketplace.core.identity import guards
from marketplace.core.web.pages import _hour_runs
from marketplace.core.web.params import Id
from marketplace.favourites import services as favourites
from marketplace.points import services as points
from marketplace.vouchers import services as vouchers
from providers import services as providers


def _with_dates(offers: list[dict]) -> list[dict]:
    # Inclusive: "valid until 2027-02-28" is stored as the next midnight (marketplace/core/dates.py).
    return [{**offer, "valid_until": dates.last_day_text(offer.get("valid_to")) or None} for offer in offers]


# Member site ---------------------------------------------------------------------------


@get("/me", guards=[guards.member], include_in_schema=False)
async def member_account(request: Request) -> Template:
    node = await federation.get_node(request.user.node_id)
    return Template(
        template_name="member/account.html",
        context={
            "name": request.user.display_name,
            "node": node,
            "groups": request.user.groups,
            "evaluator_contact": await consent.evaluator_contact(request.user),
            "points_balance": await points.balance_of(request.user.id),
            "favourite_counts": await favourites.counts(request.user),
        },
    )


@post("/me/evaluator-contact", guards=[guards.member], include_in_schema=False)
async def member_evaluator_contact(request: Request) -> Redirect:
    """The member allows (allow=1) or withdraws (allow=0) contact by third-party evaluators."""
    allow = ((await request.form()).get("allow") or "") == "1"
    await consent.set_evaluator_contact(request.user, allow)
    return Redirect(path="/me#evaluator-contact")


# Provider portal -----------------------------------------------------------------------


@get("/provider/", guards=[guards.provider_user], include_in_schema=False)
async def provider_dashboard(request: Request) -> Response:
    if request.user.role == "staff":  # front-desk staff work at the counter: they land there
        return Redirect(path="/provider/counter")
    provider_id = request.user.provider_id
    locations = await providers.list_locations(provider_id)
    offers = _with_dates(await catalog.provider_offers(provider_id))
    staff = [user for user in await providers.list_users(provider_id) if user.role == "staff" and user.active]
    scorecard = await scorecards.scorecard_of(provider_id)
    return Template(
        template_name="provider/dashboard.html",
        context={
            "provider": await providers.get_provider(provider_id),
            "locations": [{**location, "hours": _hour_runs(location.get("opening_hours"))} for location in locations],
            "offers": offers,
            "activity": await vouchers.provider_activity(provider_id),
            "open_complaints": await complaints.count_open(provider_id),
            "scorecard": scorecard,
            "standing": await quality.standing(provider_id),
            "alerts": _alerts(offers),
            "checklist": _checklist(locations, offers, staff),
            "month": datetime.now(dates.zone()).strftime("%Y-%m"),
        },
    )


LOW_STOCK = 5
EXPIRING_DAYS = 14


def _alerts(offers: list[dict]) -> list[dict]:
    """What an owner should act on soon: published offers running out or ending."""
    now = datetime.now(UTC)
    alerts = []
    for offer in offers:
        if offer["status"] != "published":
            continue
        if offer["stock_left"] <= LOW_STOCK:
            alerts.append({"kind": "stock", "offer": offer})
        if offer.get("valid_to") and (offer["valid_to"] - now).days < EXPIRING_DAYS:
            alerts.append({"kind": "ending", "offer": offer})
    return alerts


def _checklist(locations: list, offers: list[dict], staff: list) -> list[dict] | None:
    """A new owner's first steps, until all are done (then None: the overview shows none)."""
    steps = [
        {"key": "location", "done": bool(locations), "href": "/provider/locations"},
        {"key": "offer", "done": bool(offers), "href": "/provider/offers/new"},
        {"key": "picture", "done": any(offer.get("cover_image") for offer in offers), "href": "/provider/offers"},
        {"key": "publish", "done": any(offer["status"] == "published" for offer in offers), "href": "/provider/offers"},
        {"key": "staff", "done": bool(staff), "href": "/provider/staff"},
    ]
    return None if all(step["done"] for step in steps) else steps


# Operator console ----------------------------------------------------------------------


@get("/console/", guards=[guards.operator], include_in_schema=False)
async def console_dashboard(request: Request) -> Template:
    return await _console_page(request, request.user.node_id, home=True)


@get("/console/nodes/{node_id:int}", guards=[guards.operator], include_in_schema=False)
async def console_node(request: Request, node_id: Id) -> Template:
    return await _console_page(request, node_id)


async def _console_page(request: Request, node_id: int, home: bool = False) -> Template:
    summary = await federation.node_summary(request.user, node_id)
    return Template(
        template_name="console/dashboard.html",
        context={
            "summary": summary,
            "home": home,
            "counts": await federation.child_member_counts(node_id),
            # The breadcrumb; the template links only the nodes inside the operator's scope.
            "ancestors": await federation.ancestors(summary.node),
        },
    )


# Evaluator desk ------------------------------------------------------------------------


@get("/evaluator/", guards=[guards.evaluator], include_in_schema=False)
async def evaluator_dashboard(request: Request) -> Template:
    org = await evaluation.get_org(request.user.id)
    node = await federation.get_node(request.user.node_id)
    return Template(template_name="evaluator/dashboard.html", context={"org": org, "node": node})


ROUTES = [
    member_account,
    member_evaluator_contact,
    provider_dashboard,
    console_dashboard,
    console_node,
    evaluator_dashboard,
]
