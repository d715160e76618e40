"""Provider-portal and console pages for listings (templates in catalog/templates/catalog/).

Thin: read the form, call one service, render. A form's errors re-render the form with
the message next to the field it names.
"""

import re
from datetime import datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo

import msgspec
from litestar import Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.response import Redirect, Template

from catalog import pricing, services
from catalog.schemas import OfferInput
from marketplace.core import dates
from marketplace.core.errors import DomainError, Invalid
from marketplace.core.federation import services as federation
from marketplace.core.identity.guards import operator, provider_owner, provider_user
from marketplace.core.settings import get_settings
from marketplace.core.web import config, i18n, nav, paging, todo
from marketplace.core.web.forms import form_error, form_id, posted_form
from marketplace.core.web.nav import N_
from marketplace.core.web.params import Id
from providers import services as providers

nav.register("provider", "offers", N_("Offers"), "/provider/offers", "tag", position=20)
nav.register("console", "listings", N_("Listing review"), "/console/listings", "doc", position=30)
# The one price model (catalog/pricing.py), shown by the `ui.price` macro everywhere.
config.lend("price_of", pricing.price_of)
todo.register("listings", N_("Listings to review"), "/console/listings", services.review_count, position=20)

MONEY_FIELDS = ("list_price_fen", "member_price_fen", "subsidy_fen")
SLOT_FIELDS = ("slot_date", "slot_start", "slot_end", "slot_capacity", "slot_weeks")
MAX_WEEKS = 26  # "repeat weekly for N weeks": half a year of slots at most
BLANK_SLOT_ROWS = 2  # empty rows of the slot editor for new slots (the page's script adds more)
DONE = ("saved", "submitted", "sent", "paused", "resumed", "picture")


# The form's label of each field (same msgids as the template): the console's revision diff
# names them, and the offer form's error alert points to the field by it (forms.form_error).
FIELD_LABELS = {
    "kind": N_("Type"),
    "category_id": N_("Category"),
    "title_zh": N_("Title (Chinese)"),
    "title_en": N_("Title (English, optional)"),
    "description_zh": N_("Description (Chinese)"),
    "description_en": N_("Description (English, optional)"),
    "tags": N_("Tags"),
    "list_price_fen": N_("List price (yuan)"),
    "member_price_fen": N_("Member price (yuan)"),
    "subsidy_fen": N_("Union subsidy per use (yuan)"),
    "points_price": N_("Points price (points exchange only)"),
    "stock_total": N_("Total stock"),
    "per_member_limit": N_("Limit per member"),
    "limit_period": N_("per"),
    "valid_from": N_("Valid from"),
    "valid_to": N_("Valid until"),
    "node_scope_id": N_("Open to members of"),
    "groups": N_("Only for these member groups (none: all members)"),
    "location_ids": N_("Where it can be used"),
    "slots": N_("Bookable slots (bookings only)"),
    "terms_zh": N_("Terms (Chinese)"),
    "terms_en": N_("Terms (English, optional)"),
    "package_sessions": N_("Sessions in the package"),
    "package_months": N_("Valid for (months from purchase)"),
    "image": N_("Upload a picture"),
    "reason": N_("Reason for sending it back"),
}


def _zone() -> ZoneInfo:
    return ZoneInfo(get_settings().app.timezone)


def local_date(moment: datetime | None) -> str:
    return dates.day_text(moment) if moment else "—"


def local_time(moment: datetime | None) -> str:
    return dates.local(moment).strftime("%Y-%m-%d %H:%M") if moment else "—"


# Form ⇄ OfferInput ---------------------------------------------------------------------------------


def _fen(name: str, text: str) -> int:
    try:
        value = Decimal(text.strip() or "0") * 100
    except InvalidOperation:
        raise Invalid("Enter an amount in yuan, such as 99 or 99.50.", field=name) from None
    if not value.is_finite() or value != value.to_integral_value():
        raise Invalid("Use at most two decimals, such as 99.50.", field=name)
    return int(value)


def _day(name: str, text: str, end: bool) -> str:
    try:
        day = datetime.strptime(text.strip(), "%Y-%m-%d").date()
    except ValueError:
        raise Invalid("Choose a date.", field=name) from None
    moment = datetime.combine(day + timedelta(days=1) if end else day, time(), tzinfo=_zone())
    return moment.isoformat()


def _slot_rows(form) -> list[dict]:
    """The slot editor's rows as posted (date, start, end, places, weeks), blank rows left out."""
    columns = [form.getall(name, []) for name in SLOT_FIELDS]
    rows = []
    for cells in zip(*columns, strict=False):  # a short column (a tampered form) ends the rows
        row = dict(
            zip(("date", "start", "end", "capacity", "weeks"), (str(cell).strip() for cell in cells), strict=True)
        )
        if row["date"] or row["start"] or row["end"] or row["capacity"]:
            rows.append(row)
    return rows


def _slots(rows: list[dict]) -> list[dict]:
    """Slots from the editor's rows: each row on its date and, repeated weekly, on the same
    weekday for the following weeks. Times are local (Beijing time)."""
    slots = []
    for row in rows:
        try:
            day = datetime.strptime(row["date"], "%Y-%m-%d").date()
            start, end = time.fromisoformat(row["start"]), time.fromisoformat(row["end"])
        except ValueError:
            raise Invalid("Give each time slot a date, a start time and an end time.", field="slots") from None
        try:
            capacity, weeks = int(row["capacity"]), int(row["weeks"] or "1")
        except ValueError:
            raise Invalid("Give each time slot its number of places.", field="slots") from None
        if not 1 <= weeks <= MAX_WEEKS:
            raise Invalid("Repeat a time slot for 1 to %(max)s weeks.", field="slots", params={"max": MAX_WEEKS})
        if capacity < 1:
            raise Invalid("Give each time slot its number of places.", field="slots")
        for week in range(weeks):
            date = day + timedelta(weeks=week)
            slots.append(
                {
                    "starts_at": datetime.combine(date, start, tzinfo=_zone()).isoformat(),
                    "ends_at": datetime.combine(date, end, tzinfo=_zone()).isoformat(),
                    "capacity": capacity,
                }
            )
    return slots


def _int(name: str, text: str) -> int:
    try:
        return int(text.strip())
    except ValueError:
        raise Invalid("Enter a whole number.", field=name) from None


def _offer_input(form) -> OfferInput:
    text = {key: (form.get(key) or "") for key in form}
    kind = text.get("kind", "")
    data = {
        "kind": kind,
        "title_zh": text.get("title_zh", ""),
        "description_zh": text.get("description_zh", ""),
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
        "terms_zh": text.get("terms_zh", ""),
        "terms_en": text.get("terms_en", "").strip() or None,
        "slots": _slots(_slot_rows(form)) if kind == "slot" else [],
        **{name: _fen(name, text.get(name, "")) for name in MONEY_FIELDS},
    }
    if kind == "points":
        data["points_price"] = _int("points_price", text.get("points_price", ""))
    if kind == "prepaid":
        # Sessions left blank: a period membership (unlimited visits while it is valid).
        sessions = text.get("package_sessions", "").strip()
        data["package_sessions"] = _int("package_sessions", sessions) if sessions else None
        data["package_months"] = _int("package_months", text.get("package_months", ""))
    try:
        return msgspec.convert(data, OfferInput)
    except msgspec.ValidationError as error:
        found = re.search(r"\$\.(\w+)", str(error))
        raise Invalid(
            "Check this value: it is too long, too large or not one of the choices.",
            field=found.group(1) if found else None,
        ) from None


def _yuan_text(fen: int) -> str:
    """Fen as the yuan a person types: 5000 → "50", 19950 → "199.5", 19905 → "199.05"."""
    whole, cents = divmod(int(fen or 0), 100)
    return str(whole) if cents == 0 else f"{whole}.{cents:02d}".rstrip("0")


def _form_values(offer) -> dict:
    """What the form shows for an existing offer (money in yuan, dates local)."""
    zone = _zone()
    values = msgspec.to_builtins(offer) if offer is not None else {}
    if offer is None:
        return {
            "kind": "paid",
            "per_member_limit": "1",
            "limit_period": "total",
            "groups": [],
            "location_ids": [],
            "slot_rows": [],
        }
    for name in MONEY_FIELDS:
        values[name] = _yuan_text(getattr(offer, name))
    values["valid_from"] = dates.day_text(offer.valid_from)
    values["valid_to"] = dates.last_day_text(offer.valid_to)
    values["tags"] = " ".join(offer.tags)
    values["slot_rows"] = [
        {
            "date": f"{slot.starts_at.astimezone(zone):%Y-%m-%d}",
            "start": f"{slot.starts_at.astimezone(zone):%H:%M}",
            "end": f"{slot.ends_at.astimezone(zone):%H:%M}",
            "capacity": str(slot.capacity),
            "weeks": "1",
            "booked": slot.booked,
        }
        for slot in sorted(offer.slots, key=lambda slot: slot.starts_at)
    ]
    return values


def _posted_values(form) -> dict:
    values = {key: form.get(key) for key in form if key not in SLOT_FIELDS}
    values["groups"] = form.getall("groups", [])
    values["location_ids"] = [number for number in (form_id(v) for v in form.getall("location_ids", [])) if number]
    values["slot_rows"] = _slot_rows(form)
    values.pop("image", None)
    return values


async def _form_page(
    request: Request, offer, values: dict, error: DomainError | None = None, done: str | None = None
) -> Template:
    provider_id = request.user.provider_id
    done = done or request.query_params.get("done")
    return Template(
        template_name="catalog/offer_form.html",
        status_code=error.status if error else 200,
        context={
            "offer": offer,
            "values": values,
            "error": form_error(error, FIELD_LABELS) if error else None,
            "fields": FIELD_LABELS,
            "done": done if done in DONE else None,
            "categories": await services.list_categories(),
            "scopes": await services.scope_choices(provider_id),
            "locations": await providers.list_locations(provider_id),
            "groups": sorted(await federation.group_codes()),
            "provider": await providers.get_provider(provider_id),
            "local_date": local_date,
            "blank_slot_rows": BLANK_SLOT_ROWS,
            "max_weeks": MAX_WEEKS,
            # The union's campaigns that pay this offer's subsidy: then the field is theirs, read-only.
            "union_subsidy": await services.union_subsidy(offer.id, offer.category_id) if offer else [],
        },
    )


async def _picture(request: Request, offer_id: int, form) -> None:
    """A picture chosen in the same form as the offer is stored with it (drafts only)."""
    upload = form.get("image")
    if isinstance(upload, UploadFile) and upload.filename:
        await services.set_cover_image(request.user, offer_id, await upload.read(services.MAX_IMAGE_BYTES + 1))


async def _after_save(request: Request, offer_id: int, form, sent_for_review: bool) -> Response:
    """Store the picture, submit when "save and submit" was pressed, then say what happened."""
    offer = None
    try:
        await _picture(request, offer_id, form)
        if form.get("then") == "submit":
            await services.submit_offer(request.user, offer_id)
            return Redirect(path=f"/provider/offers/{offer_id}?done=submitted")
    except DomainError as error:
        offer = await services.get_offer(request.user, offer_id)
        return await _form_page(request, offer, _form_values(offer), error, done="saved")
    return Redirect(path=f"/provider/offers/{offer_id}?done={'sent' if sent_for_review else 'saved'}")


# Provider portal ------------------------------------------------------------------------------------


@get("/provider/offers", guards=[provider_user], include_in_schema=False)
async def offer_list(request: Request) -> Template:
    return Template(
        template_name="catalog/offer_list.html",
        context={
            "offers": await services.list_provider_offers(request.user),
            "provider": await providers.get_provider(request.user.provider_id),
            "local_date": local_date,
        },
    )


@get("/provider/offers/new", guards=[provider_owner], include_in_schema=False)
async def offer_new(request: Request) -> Template:
    return await _form_page(request, None, _form_values(None))


@post(
    "/provider/offers/new",
    guards=[provider_owner],
    include_in_schema=False,
    request_max_body_size=services.MAX_IMAGE_BYTES + 256 * 1024,
)
async def offer_create(request: Request) -> Response:
    try:
        form = await request.form()
        offer = await services.create_offer(request.user, _offer_input(form))
    except DomainError as error:
        return await _form_page(request, None, _posted_values(await posted_form(request)), error)
    return await _after_save(request, offer.id, form, sent_for_review=False)


@get("/provider/offers/{offer_id:int}", guards=[provider_user], include_in_schema=False)
async def offer_detail(request: Request, offer_id: Id) -> Template:
    offer = await services.get_offer(request.user, offer_id)
    return await _form_page(request, offer, _form_values(offer))


@post(
    "/provider/offers/{offer_id:int}",
    guards=[provider_owner],
    include_in_schema=False,
    request_max_body_size=services.MAX_IMAGE_BYTES + 256 * 1024,
)
async def offer_update(request: Request, offer_id: Id) -> Response:
    offer = await services.get_offer(request.user, offer_id)
    try:
        form = await request.form()
        await services.update_offer(request.user, offer_id, _offer_input(form))
    except DomainError as error:
        return await _form_page(request, offer, _posted_values(await posted_form(request)), error)
    return await _after_save(request, offer_id, form, sent_for_review=offer.status != "draft")


def _action(name: str, call, done: str):
    @post(
        f"/provider/offers/{{offer_id:int}}/{name}",
        guards=[provider_owner],
        include_in_schema=False,
        name=f"offer_{name}",
    )
    async def handler(request: Request, offer_id: Id) -> Response:
        try:
            await call(request.user, offer_id)
        except DomainError as error:
            offer = await services.get_offer(request.user, offer_id)
            return await _form_page(request, offer, _form_values(offer), error)
        return Redirect(path=f"/provider/offers/{offer_id}?done={done}")

    return handler


@post(
    "/provider/offers/{offer_id:int}/image",
    guards=[provider_owner],
    include_in_schema=False,
    request_max_body_size=services.MAX_IMAGE_BYTES + 64 * 1024,
)
async def offer_image(request: Request, offer_id: Id) -> Response:
    form = await request.form()
    upload = form.get("image")
    try:
        if not isinstance(upload, UploadFile):
            raise Invalid("Choose a picture.", field="image")
        await services.set_cover_image(request.user, offer_id, await upload.read(services.MAX_IMAGE_BYTES + 1))
    except DomainError as error:
        offer = await services.get_offer(request.user, offer_id)
        return await _form_page(request, offer, _form_values(offer), error)
    return Redirect(path=f"/provider/offers/{offer_id}?done=picture")


# Console ----------------------------------------------------------------------------------------------

REVIEW_KINDS = ("voucher", "paid", "points", "slot")


@get("/console/offers/picker", guards=[operator], include_in_schema=False)
async def offer_picker(request: Request) -> Template:
    """Offers matching an offer picker's search box (an HTMX fragment): tick boxes for a
    campaign's offers (`?pick=many`, the default), radio buttons for a draw's one offer
    (`?pick=one`). Shared by every console form that picks offers, as catalog owns them."""
    query = request.query_params
    q = (query.get("offer_q") or "")[:60]
    pick_one = paging.one_of(query.get("pick"), ("one", "many")) == "one"
    offers = await services.offers_to_pick(request.user, q) if q.strip() else []
    return Template(template_name="_offer_picker.html", context={"offers": offers, "q": q, "pick_one": pick_one})


@get("/console/listings", guards=[operator], include_in_schema=False)
async def review_list(request: Request) -> Template:
    """The review queue: search, filters by kind and by new / edited, oldest first, paged."""
    query = request.query_params
    q = (query.get("q") or "")[:60]
    kind = paging.one_of(query.get("kind"), REVIEW_KINDS)
    change = paging.one_of(query.get("change"), ("new", "edit"))
    newest = query.get("sort") == "newest"
    page = paging.page_number(query.get("page"))
    items, total = await services.review_page(request.user, q=q, kind=kind, change=change, newest=newest, page=page)
    return Template(
        template_name="catalog/review_list.html",
        context={
            "items": items,
            "local_time": local_time,
            "q": q,
            "kind": kind,
            "change": change,
            "sort": "newest" if newest else "",
            "pager": paging.Pager.of(request, total, page),
            **paging.bulk_outcome(request, ("approve", "reject")),
        },
    )


@post("/console/listings/bulk", guards=[operator], include_in_schema=False)
async def review_bulk(request: Request) -> Response:
    """Approve or send back the ticked listings with one reason: first a confirmation page
    naming each listing, then (confirm=1) the decisions; back to the same list page."""
    form = await request.form()
    action, reason, back, ids = paging.bulk_request(form, "/console/listings")
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
        return paging.bulk_confirm(
            request,
            "catalog/review_bulk.html",
            error=error,
            verb=action,
            back=back,
            reason=reason,
            ids=[offer.id for offer in items],
            path="/console/listings/bulk",
            items=items,
        )

    async def decide(offer_id: int) -> object:
        if action == "approve":
            return await services.approve(request.user, offer_id)
        return await services.reject(request.user, offer_id, reason)

    done, failed = await paging.apply_to_each(ids, decide)
    return Redirect(path=paging.back_with(back, action, done, failed))


async def _review_page(request: Request, offer_id: int, error: DomainError | None = None) -> Template:
    detail = await services.review_detail(request.user, offer_id)
    return Template(
        template_name="catalog/review_detail.html",
        status_code=error.status if error else 200,
        context={
            "detail": detail,
            "provider": await providers.get_provider(detail.offer.provider_id),
            "categories": {c["id"]: c for c in await services.list_categories()},
            "error": error.translated() if error else None,
            "local_date": local_date,
            "field_labels": FIELD_LABELS,
        },
    )


@get("/console/listings/{offer_id:int}", guards=[operator], include_in_schema=False)
async def review_detail(request: Request, offer_id: Id) -> Template:
    return await _review_page(request, offer_id)


@post("/console/listings/{offer_id:int}/approve", guards=[operator], include_in_schema=False)
async def review_approve(request: Request, offer_id: Id) -> Response:
    try:
        await services.approve(request.user, offer_id)
    except DomainError as error:
        return await _review_page(request, offer_id, error)
    return Redirect(path="/console/listings")


@post("/console/listings/{offer_id:int}/reject", guards=[operator], include_in_schema=False)
async def review_reject(request: Request, offer_id: Id) -> Response:
    form = await request.form()
    try:
        await services.reject(request.user, offer_id, form.get("reason") or "")
    except DomainError as error:
        return await _review_page(request, offer_id, error)
    return Redirect(path="/console/listings")


ROUTES: list = [
    offer_list,
    offer_new,
    offer_create,
    offer_detail,
    offer_update,
    offer_image,
    _action("submit", services.submit_offer, "submitted"),
    _action("pause", services.pause_offer, "paused"),
    _action("resume", services.resume_offer, "resumed"),
    offer_picker,
    review_list,
    review_bulk,
    review_detail,
    review_approve,
    review_reject,
]
