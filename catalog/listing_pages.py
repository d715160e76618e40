"""Provider-portal and console pages for listings (templates in catalog/templates/catalog/).

Thin: read the form, call one service, render. A form's errors re-render the form with
the message next to the field it names.
"""

import re
from datetime import datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from typing import Annotated
from zoneinfo import ZoneInfo

import msgspec
from litestar import Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.params import PathParameter
from litestar.response import Redirect, Template
from litestar.static_files import create_static_files_router

from catalog import services
from catalog.schemas import OfferInput
from marketplace.errors import DomainError, Invalid
from marketplace.federation import services as federation
from marketplace.identity.guards import operator, provider_owner, provider_user
from marketplace.runtime.paths import component_dir
from marketplace.settings import get_settings
from marketplace.web import i18n, nav, paging, todo
from marketplace.web.nav import N_
from marketplace.web.forms import form_id
from providers import services as providers

nav.register("provider", "offers", N_("Offers"), "/provider/offers", "tag", position=20)
nav.register("console", "listings", N_("Listing review"), "/console/listings", "doc", position=30)
todo.register("listings", N_("Listings to review"), "/console/listings", services.review_count, position=20)

OfferId = Annotated[int, PathParameter(gt=0, le=2**31 - 1)]
MONEY_FIELDS = ("list_price_fen", "member_price_fen", "subsidy_fen")
SLOT_LINE = re.compile(r"^(\d{4}-\d{2}-\d{2})\s+(\d{1,2}:\d{2})\s*[-–~ ]\s*(\d{1,2}:\d{2})\s+(\d+)$")


# The form's label of each field a service error may name (same msgids as the template).
FIELD_LABELS = {
    "kind": N_("Type"), "category_id": N_("Category"), "title_zh": N_("Title (Chinese)"),
    "title_en": N_("Title (English, optional)"), "description_zh": N_("Description (Chinese)"),
    "description_en": N_("Description (English, optional)"), "tags": N_("Tags"),
    "list_price_fen": N_("List price (yuan)"), "member_price_fen": N_("Member price (yuan)"),
    "subsidy_fen": N_("Union subsidy per use (yuan)"), "points_price": N_("Points price (points exchange only)"),
    "stock_total": N_("Total stock"), "per_member_limit": N_("Limit per member"), "limit_period": N_("per"),
    "valid_from": N_("Valid from"), "valid_to": N_("Valid until"), "node_scope_id": N_("Open to members of"),
    "groups": N_("Only for these member groups (none: all members)"), "location_ids": N_("Where it can be used"),
    "slots": N_("Bookable slots (bookings only)"), "terms_zh": N_("Terms (Chinese)"),
    "terms_en": N_("Terms (English, optional)"), "image": N_("Upload a picture"),
    "reason": N_("Reason for sending it back"),
}


def _message(error: DomainError) -> str:
    """The error for the page: the field's label in the viewer's language, then the detail."""
    detail = i18n.gettext(error.detail)
    if error.field in FIELD_LABELS:
        return f"{i18n.gettext(FIELD_LABELS[error.field])} — {detail}"
    return detail


def _zone() -> ZoneInfo:
    return ZoneInfo(get_settings().app.timezone)


def local_date(moment: datetime | None) -> str:
    return moment.astimezone(_zone()).strftime("%Y-%m-%d") if moment else "—"


def local_time(moment: datetime | None) -> str:
    return moment.astimezone(_zone()).strftime("%Y-%m-%d %H:%M") if moment else "—"


# Form ⇄ OfferInput ---------------------------------------------------------------------------------

def _fen(name: str, text: str) -> int:
    try:
        value = Decimal(text.strip() or "0") * 100
    except InvalidOperation:
        raise Invalid(f"{name} must be an amount in yuan, such as 99 or 99.50.", field=name) from None
    if value != value.to_integral_value():
        raise Invalid(f"{name} has at most two decimals.", field=name)
    return int(value)


def _day(name: str, text: str, end: bool) -> str:
    try:
        day = datetime.strptime(text.strip(), "%Y-%m-%d").date()
    except ValueError:
        raise Invalid(f"{name} must be a date.", field=name) from None
    moment = datetime.combine(day + timedelta(days=1) if end else day, time(), tzinfo=_zone())
    return moment.isoformat()


def _slots(text: str) -> list[dict]:
    """One slot a line: `2026-12-01 10:00-11:00 10` (date, start–end in local time, capacity)."""
    slots = []
    for line in filter(None, (line.strip() for line in text.splitlines())):
        match = SLOT_LINE.match(line)
        if not match:
            raise Invalid(f"slots: cannot read “{line[:40]}”; write 2026-12-01 10:00-11:00 10.", field="slots")
        day, start, end, capacity = match.groups()
        try:
            starts = datetime.strptime(f"{day} {start}", "%Y-%m-%d %H:%M").replace(tzinfo=_zone())
            ends = datetime.strptime(f"{day} {end}", "%Y-%m-%d %H:%M").replace(tzinfo=_zone())
        except ValueError:
            raise Invalid(f"slots: “{line[:40]}” is not a real date and time.", field="slots") from None
        slots.append({"starts_at": starts.isoformat(), "ends_at": ends.isoformat(), "capacity": int(capacity)})
    return slots


def _int(name: str, text: str) -> int:
    try:
        return int(text.strip())
    except ValueError:
        raise Invalid(f"{name} must be a whole number.", field=name) from None


def _offer_input(form) -> OfferInput:
    text = {key: (form.get(key) or "") for key in form}
    kind = text.get("kind", "")
    data = {
        "kind": kind, "title_zh": text.get("title_zh", ""), "description_zh": text.get("description_zh", ""),
        "title_en": text.get("title_en", "").strip() or None,
        "description_en": text.get("description_en", "").strip() or None,
        "category_id": _int("category_id", text.get("category_id", "")),
        "node_scope_id": _int("node_scope_id", text.get("node_scope_id", "")),
        "stock_total": _int("stock_total", text.get("stock_total", "")),
        "per_member_limit": _int("per_member_limit", text.get("per_member_limit", "")),
        "limit_period": text.get("limit_period", ""),
        "valid_from": _day("valid_from", text.get("valid_from", ""), end=False),
        "valid_to": _day("valid_to", text.get("valid_to", ""), end=True),
        "tags": [tag.strip() for tag in re.split(r"[,，\s]+", text.get("tags", "")) if tag.strip()],
        "groups": form.getall("groups", []),
        "location_ids": [_int("location_ids", value) for value in form.getall("location_ids", [])],
        "terms_zh": text.get("terms_zh", ""), "terms_en": text.get("terms_en", "").strip() or None,
        "slots": _slots(text.get("slots", "")) if kind == "slot" else [],
        **{name: _fen(name, text.get(name, "")) for name in MONEY_FIELDS},
    }
    if kind == "points":
        data["points_price"] = _int("points_price", text.get("points_price", ""))
    try:
        return msgspec.convert(data, OfferInput)
    except msgspec.ValidationError as error:
        found = re.search(r"\$\.(\w+)", str(error))
        raise Invalid(str(error), field=found.group(1) if found else "form") from None


def _form_values(offer) -> dict:
    """What the form shows for an existing offer (money in yuan, dates local)."""
    zone = _zone()
    values = msgspec.to_builtins(offer) if offer is not None else {}
    if offer is None:
        return {"kind": "paid", "per_member_limit": "1", "limit_period": "total", "groups": [], "location_ids": []}
    for name in MONEY_FIELDS:
        values[name] = f"{Decimal(getattr(offer, name)) / 100:f}".rstrip("0").rstrip(".") if getattr(offer, name) else "0"
    values["valid_from"] = offer.valid_from.astimezone(zone).strftime("%Y-%m-%d")
    values["valid_to"] = (offer.valid_to.astimezone(zone) - timedelta(seconds=1)).strftime("%Y-%m-%d")
    values["tags"] = " ".join(offer.tags)
    values["slots"] = "\n".join(
        f"{slot.starts_at.astimezone(zone):%Y-%m-%d %H:%M}-{slot.ends_at.astimezone(zone):%H:%M} {slot.capacity}"
        for slot in offer.slots)
    return values


def _posted_values(form) -> dict:
    values = {key: form.get(key) for key in form}
    values["groups"] = form.getall("groups", [])
    values["location_ids"] = [number for number in (form_id(v) for v in form.getall("location_ids", [])) if number]
    return values


async def _form_page(request: Request, offer, values: dict, error: DomainError | None = None) -> Template:
    provider_id = request.user.provider_id
    return Template(template_name="catalog/offer_form.html", status_code=error.status if error else 200, context={
        "offer": offer, "values": values,
        "error": _message(error) if error else None, "error_field": error.field if error else None,
        "categories": await services.list_categories(),
        "scopes": await services.scope_choices(provider_id),
        "locations": await providers.list_locations(provider_id),
        "groups": sorted(await federation.group_codes()),
        "provider": await providers.get_provider(provider_id), "local_date": local_date,
    })


# Provider portal ------------------------------------------------------------------------------------

@get("/provider/offers", guards=[provider_user], include_in_schema=False)
async def offer_list(request: Request) -> Template:
    return Template(template_name="catalog/offer_list.html", context={
        "offers": await services.list_provider_offers(request.user),
        "provider": await providers.get_provider(request.user.provider_id), "local_date": local_date,
    })


@get("/provider/offers/new", guards=[provider_owner], include_in_schema=False)
async def offer_new(request: Request) -> Template:
    return await _form_page(request, None, _form_values(None))


@post("/provider/offers/new", guards=[provider_owner], include_in_schema=False)
async def offer_create(request: Request) -> Response:
    form = await request.form()
    try:
        offer = await services.create_offer(request.user, _offer_input(form))
    except DomainError as error:
        return await _form_page(request, None, _posted_values(form), error)
    return Redirect(path=f"/provider/offers/{offer.id}")


@get("/provider/offers/{offer_id:int}", guards=[provider_user], include_in_schema=False)
async def offer_detail(request: Request, offer_id: OfferId) -> Template:
    offer = await services.get_offer(request.user, offer_id)
    return await _form_page(request, offer, _form_values(offer))


@post("/provider/offers/{offer_id:int}", guards=[provider_owner], include_in_schema=False)
async def offer_update(request: Request, offer_id: OfferId) -> Response:
    offer = await services.get_offer(request.user, offer_id)
    form = await request.form()
    try:
        await services.update_offer(request.user, offer_id, _offer_input(form))
    except DomainError as error:
        return await _form_page(request, offer, _posted_values(form), error)
    return Redirect(path=f"/provider/offers/{offer_id}")


def _action(name: str, call):
    @post(f"/provider/offers/{{offer_id:int}}/{name}", guards=[provider_owner], include_in_schema=False,
          name=f"offer_{name}")
    async def handler(request: Request, offer_id: OfferId) -> Response:
        try:
            await call(request.user, offer_id)
        except DomainError as error:
            offer = await services.get_offer(request.user, offer_id)
            return await _form_page(request, offer, _form_values(offer), error)
        return Redirect(path=f"/provider/offers/{offer_id}")

    return handler


@post("/provider/offers/{offer_id:int}/image", guards=[provider_owner], include_in_schema=False,
      request_max_body_size=services.MAX_IMAGE_BYTES + 64 * 1024)
async def offer_image(request: Request, offer_id: OfferId) -> Response:
    form = await request.form()
    upload = form.get("image")
    try:
        if not isinstance(upload, UploadFile):
            raise Invalid("Choose a picture.", field="image")
        await services.set_cover_image(request.user, offer_id, await upload.read(services.MAX_IMAGE_BYTES + 1))
    except DomainError as error:
        offer = await services.get_offer(request.user, offer_id)
        return await _form_page(request, offer, _form_values(offer), error)
    return Redirect(path=f"/provider/offers/{offer_id}")


# Console ----------------------------------------------------------------------------------------------

REVIEW_KINDS = ("voucher", "paid", "points", "slot")


@get("/console/listings", guards=[operator], include_in_schema=False)
async def review_list(request: Request) -> Template:
    """The review queue: search, filters by kind and by new / edited, oldest first, paged."""
    query = request.query_params
    q = (query.get("q") or "")[:60]
    kind = query.get("kind") if query.get("kind") in REVIEW_KINDS else ""
    change = query.get("change") if query.get("change") in ("new", "edit") else ""
    newest = query.get("sort") == "newest"
    page = paging.page_number(query.get("page"))
    items, total = await services.review_page(request.user, q=q, kind=kind, change=change, newest=newest,
                                              page=page)
    return Template(template_name="catalog/review_list.html", context={
        "items": items, "local_time": local_time, "q": q, "kind": kind, "change": change,
        "sort": "newest" if newest else "", "pager": paging.Pager.of(request, total, page),
        "done": paging.page_number(query.get("done")) if query.get("done") else None,
        "done_action": query.get("did") if query.get("did") in ("approve", "reject") else None,
        "failed": paging.page_number(query.get("failed")) if query.get("failed") else None,
    })


@post("/console/listings/bulk", guards=[operator], include_in_schema=False)
async def review_bulk(request: Request) -> Response:
    """Approve or send back the ticked listings with one reason: first a confirmation page
    naming each listing, then (confirm=1) the decisions; back to the same list page."""
    form = await request.form()
    action = form.get("action")
    reason = (form.get("reason") or "").strip()
    back = form.get("back") or "/console/listings"
    if not back.startswith("/console/listings"):
        back = "/console/listings"
    ids = sorted({offer_id for raw in form.getall("ids", []) if (offer_id := form_id(raw))})[:200]
    error = None
    if action not in ("approve", "reject"):
        error = i18n.gettext("Choose approve or send back.")
    elif not ids:
        error = i18n.gettext("Tick at least one listing.")
    elif action == "reject" and not reason:
        error = i18n.gettext("Give the reason the providers will read.")
    elif len(reason) > 500:
        error = i18n.gettext("Keep the reason to 500 characters.")
    if error or form.get("confirm") != "1":
        items = []
        for offer_id in ids:
            try:
                detail = await services.review_detail(request.user, offer_id)
            except DomainError:
                continue
            items.append(detail.offer)
        return Template(template_name="catalog/review_bulk.html", status_code=422 if error else 200, context={
            "action": action, "reason": reason, "items": items, "back": back, "error": error,
            "fields": [("action", action), ("back", back), ("reason", reason)]
            + [("ids", str(offer.id)) for offer in items]})
    done = failed = 0
    for offer_id in ids:
        try:
            if action == "approve":
                await services.approve(request.user, offer_id)
            else:
                await services.reject(request.user, offer_id, reason)
            done += 1
        except DomainError:
            failed += 1
    separator = "&" if "?" in back else "?"
    return Redirect(path=f"{back}{separator}did={action}&done={done}" + (f"&failed={failed}" if failed else ""))


async def _review_page(request: Request, offer_id: int, error: DomainError | None = None) -> Template:
    detail = await services.review_detail(request.user, offer_id)
    return Template(template_name="catalog/review_detail.html", status_code=error.status if error else 200,
                    context={"detail": detail, "provider": await providers.get_provider(detail.offer.provider_id),
                             "categories": {c["id"]: c for c in await services.list_categories()},
                             "error": _message(error) if error else None, "local_date": local_date,
                             "field_labels": FIELD_LABELS})


@get("/console/listings/{offer_id:int}", guards=[operator], include_in_schema=False)
async def review_detail(request: Request, offer_id: OfferId) -> Template:
    return await _review_page(request, offer_id)


@post("/console/listings/{offer_id:int}/approve", guards=[operator], include_in_schema=False)
async def review_approve(request: Request, offer_id: OfferId) -> Response:
    try:
        await services.approve(request.user, offer_id)
    except DomainError as error:
        return await _review_page(request, offer_id, error)
    return Redirect(path="/console/listings")


@post("/console/listings/{offer_id:int}/reject", guards=[operator], include_in_schema=False)
async def review_reject(request: Request, offer_id: OfferId) -> Response:
    form = await request.form()
    try:
        await services.reject(request.user, offer_id, form.get("reason") or "")
    except DomainError as error:
        return await _review_page(request, offer_id, error)
    return Redirect(path="/console/listings")


# Offer pictures: stored under var/media with unguessable names (catalog.services._store_image).
media = create_static_files_router(path="/media", directories=[component_dir("media")], include_in_schema=False)

ROUTES: list = [
    offer_list, offer_new, offer_create, offer_detail, offer_update, offer_image,
    _action("submit", services.submit_offer), _action("pause", services.pause_offer),
    _action("resume", services.resume_offer),
    review_list, review_bulk, review_detail, review_approve, review_reject, media,
]
