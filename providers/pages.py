"""Server-rendered pages of the providers domain (templates in providers/templates/providers/):
the public application form, the provider's own portal (profile, locations, staff) and the
operators' review queue in the console.

Thin handlers: read the form, call one service, render. A domain error re-renders the form
with the message next to the field it names.
"""

import re
from typing import Annotated, Any

import msgspec
from litestar import Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.params import FromPath, FromQuery, QueryParameter
from litestar.response import Redirect, Template

from marketplace.core.audit.middleware import nothing_changed
from marketplace.core.errors import DomainError, Invalid
from marketplace.core.identity import guards
from marketplace.core.web import paging, todo
from marketplace.core.web.config import local_time
from marketplace.core.web.forms import form_error, form_id
from marketplace.core.web.i18n import gettext as _, ngettext
from marketplace.core.web.nav import N_, register
from marketplace.core.web.params import Id
from providers import geocoding, services
from providers.schemas import (
    KINDS,
    STATUSES,
    AccountInput,
    ApplicationCreate,
    LocationInput,
    ProviderDetailsInput,
)

register("provider", "profile", N_("Profile"), "/provider/profile", "doc", position=10)
register("provider", "locations", N_("Locations"), "/provider/locations", "pin", position=20)
register("provider", "staff", N_("Staff"), "/provider/staff", "users", position=30, owner_only=True)
register("console", "providers", N_("Providers"), "/console/providers", "store", position=20)
todo.register(
    "providers", N_("Provider applications"), "/console/providers?status=applied", services.count_providers, position=10
)

_MSGSPEC_PATH = re.compile(r"at `\$\.?([^`]*)`")


def _field_of(error: msgspec.ValidationError) -> str:
    """`Expected ... - at `$.owner.password`` → "owner.password"."""
    found = _MSGSPEC_PATH.search(str(error))
    return found.group(1) if found else ""


def _convert(data: dict, schema):
    try:
        return msgspec.convert(data, schema)
    except msgspec.ValidationError as error:
        field = _field_of(error)
        raise Invalid(
            "Check this value: it is too long, too large or not one of the choices.", field=field or None
        ) from error


def _number(form, key: str, field: str):
    value = (form.get(key) or "").strip()
    try:
        return float(value)
    except ValueError:
        raise Invalid("Enter a number, such as 39.9087.", field=field) from None


async def _location_from(form, prefix: str = "", districts: list[str] | None = None) -> dict:
    """The location fields of a form: name, address, district, phone, the coordinates and
    open_<day> / close_<day> for each weekday (both empty: closed that day).

    The coordinates come from a pasted 高德/百度 map link when there is one, else from the
    typed latitude and longitude, else from the address through the geocoder
    (providers/geocoding.py). `districts`: the 区域 the district must be one of."""
    hours = {}
    for day in services.WEEKDAYS:
        opens, closes = (form.get(f"open_{day}") or "").strip(), (form.get(f"close_{day}") or "").strip()
        if opens or closes:
            hours[day] = [opens, closes]
    district = (form.get("district") or "").strip()
    if districts is not None and district and district not in districts:
        raise Invalid("Choose the district from the list.", field=prefix + "district")
    address, link = (form.get("address") or "").strip(), (form.get("map_link") or "").strip()
    typed = (form.get("latitude") or "").strip() or (form.get("longitude") or "").strip()
    if link or not typed:
        point = await geocoding.locate(link, district + address, prefix)
        latitude, longitude = point.latitude, point.longitude
    else:
        latitude = _number(form, "latitude", prefix + "latitude")
        longitude = _number(form, "longitude", prefix + "longitude")
    return {
        "name": form.get("location_name") or "",
        "address": address,
        "district": district,
        "phone": form.get("phone") or "",
        "latitude": latitude,
        "longitude": longitude,
        "opening_hours": hours,
    }


def _history(provider) -> list[dict]:
    """The status changes with their time in the viewer's zone (Asia/Shanghai by default)."""
    return [{**msgspec.structs.asdict(change), "at_local": local_time(change.at)} for change in provider.history]


def _error(error: DomainError) -> dict:
    """The error in the viewer's language, for the field it names (marketplace.core.web.forms); a
    location's name is the form's `location_name` (the business has the `name`)."""
    shown = form_error(error)
    if shown["field"] and shown["field"].startswith("locations[") and shown["field"].endswith(".name"):
        shown["field"] = "location_name"
    return shown


def _form_values(form) -> dict:
    return {key: form.get(key) for key in form if key not in ("password", "_csrf_token", "licence")}


# Public application ---------------------------------------------------------------------------


async def _apply_page(values: dict | None = None, error: dict | None = None, status: int = 200) -> Template:
    return Template(
        template_name="providers/apply.html",
        status_code=status,
        context={
            "values": values or {},
            "error": error,
            "kinds": KINDS,
            "weekdays": services.WEEKDAYS,
            "nodes": await services.serving_nodes(),
            "districts": await services.district_choices(),
        },
    )


@get("/provider/apply", include_in_schema=False)
async def apply_page() -> Template:
    return await _apply_page()


LICENCE_MAX_BYTES = 5 * 1024 * 1024


async def _licence(form, picture_store) -> str | None:
    """The business licence picture, checked and kept as offer pictures are (the app injects
    catalog's picture store: providers does not import catalog)."""
    upload = form.get("licence")
    if not isinstance(upload, UploadFile) or not upload.filename:
        return None
    content = await upload.read(LICENCE_MAX_BYTES + 1)
    try:
        return await picture_store(content, "licences")
    except DomainError as error:
        error.field = "licence"  # the picture store's refusal, at the form's field
        raise error from None


@post("/provider/apply", include_in_schema=False, request_max_body_size=LICENCE_MAX_BYTES + 256 * 1024)
async def apply_submit(request: Request, picture_store: Any) -> Response:
    form = await request.form()
    try:
        node = form_id(form.get("node_id"))
        if node is None:
            raise Invalid("Choose the federation whose members you serve.", field="node_id")
        data = _convert(
            {
                "name": form.get("name") or "",
                "credit_code": form.get("credit_code") or "",
                "kind": form.get("kind") or "",
                "contact_name": form.get("contact_name") or "",
                "contact_phone": form.get("contact_phone") or "",
                "node_id": node,
                "locations": [await _location_from(form, "locations[0].", await services.district_choices())],
                "owner": {"username": form.get("username") or "", "password": form.get("password") or ""},
            },
            ApplicationCreate,
        )
        await services.apply(data, request.client.host if request.client else None, await _licence(form, picture_store))
    except DomainError as error:
        return await _apply_page(_form_values(form), _error(error), error.status)
    return Template(template_name="providers/applied.html", context={"username": form.get("username")})


# Provider portal ------------------------------------------------------------------------------


async def _profile_page(
    request: Request, error: dict | None = None, values: dict | None = None, status: int = 200
) -> Template:
    provider = await services.my_provider(request.user)
    return Template(
        template_name="providers/profile.html",
        status_code=status,
        context={
            "provider": provider,
            "history": _history(provider),
            "error": error,
            "kinds": KINDS,
            "values": values or {"name": provider.name, "kind": provider.kind, "contact_name": provider.contact_name},
        },
    )


@get("/provider/profile", guards=[guards.provider_user], include_in_schema=False)
async def profile_page(request: Request) -> Template:
    return await _profile_page(request)


@post("/provider/profile/resubmit", guards=[guards.provider_owner], include_in_schema=False)
async def profile_resubmit(request: Request) -> Response:
    form = await request.form()
    try:
        data = _convert(
            {key: form.get(key) or "" for key in ("name", "kind", "contact_name", "contact_phone")},
            ProviderDetailsInput,
        )
        await services.resubmit(request.user, data)
    except DomainError as error:
        return await _profile_page(request, _error(error), _form_values(form), error.status)
    return Redirect(path="/provider/profile")


async def _locations_page(
    request: Request,
    error: dict | None = None,
    values: dict | None = None,
    editing: int | None = None,
    status: int = 200,
    located: bool = False,
) -> Template:
    provider = await services.my_provider(request.user)
    editable = next((location for location in provider.locations if location.id == editing), None)
    if editable is not None and values is None:  # the edit form starts from the stored location
        values = {
            "location_name": editable.name,
            "address": editable.address,
            "district": editable.district,
            "latitude": editable.latitude,
            "longitude": editable.longitude,
            "phone": editable.phone,
        }
        for day, (opens, closes) in editable.opening_hours.items():
            values |= {f"open_{day}": opens, f"close_{day}": closes}
    return Template(
        template_name="providers/locations.html",
        status_code=status,
        context={
            "provider": provider,
            "error": error,
            "values": values or {},
            "editing": editing,
            "weekdays": services.WEEKDAYS,
            "districts": await services.district_choices(provider.node_id),
            "located": located,
        },
    )


@get("/provider/locations", guards=[guards.provider_user], include_in_schema=False)
async def locations_page(request: Request, edit: FromQuery[int | None] = None) -> Template:
    return await _locations_page(request, editing=edit)


async def _save_location(request: Request, location_id: int | None) -> Response:
    """Add or change a location; "find on the map" (`locate`) only fills in the coordinates
    from the map link or the address and shows the form again."""
    form = await request.form()
    provider = await services.my_provider(request.user)
    try:
        districts = await services.district_choices(provider.node_id)
        if form.get("locate"):
            point = await geocoding.locate(
                form.get("map_link") or "", (form.get("district") or "") + (form.get("address") or "")
            )
            values = _form_values(form) | {"latitude": point.latitude, "longitude": point.longitude, "map_link": ""}
            return await _locations_page(request, values=values, editing=location_id, located=True)
        data = _convert(await _location_from(form, districts=districts), LocationInput)
        if location_id is None:
            await services.add_location(request.user, data)
        else:
            await services.update_location(request.user, location_id, data)
    except DomainError as error:
        shown = _error(error)
        if shown["field"] == "name":  # on this page, the only name is the location's
            shown["field"] = "location_name"
        return await _locations_page(request, shown, _form_values(form), editing=location_id, status=error.status)
    return Redirect(path="/provider/locations?done=saved")


@post("/provider/locations", guards=[guards.provider_owner], include_in_schema=False)
async def location_add(request: Request) -> Response:
    return await _save_location(request, None)


@post("/provider/locations/{location_id:int}", guards=[guards.provider_owner], include_in_schema=False)
async def location_update(request: Request, location_id: FromPath[Id]) -> Response:
    return await _save_location(request, location_id)


@post("/provider/locations/{location_id:int}/remove", guards=[guards.provider_owner], include_in_schema=False)
async def location_remove(request: Request, location_id: FromPath[Id]) -> Response:
    try:
        await services.remove_location(request.user, location_id)
    except DomainError as error:
        return await _locations_page(request, _error(error), status=error.status)
    return Redirect(path="/provider/locations")


async def _staff_page(
    request: Request, error: dict | None = None, values: dict | None = None, status: int = 200
) -> Template:
    return Template(
        template_name="providers/staff.html",
        status_code=status,
        context={
            "users": await services.list_users(request.user.provider_id),
            "error": error,
            "values": values or {},
        },
    )


@get("/provider/staff", guards=[guards.provider_owner], include_in_schema=False)
async def staff_page(request: Request) -> Template:
    return await _staff_page(request)


@post("/provider/staff", guards=[guards.provider_owner], include_in_schema=False)
async def staff_add(request: Request) -> Response:
    form = await request.form()
    try:
        data = _convert({key: form.get(key) or "" for key in ("username", "password", "display_name")}, AccountInput)
        await services.add_staff(request.user, data)
    except DomainError as error:
        return await _staff_page(request, _error(error), _form_values(form), error.status)
    return Redirect(path="/provider/staff")


@post("/provider/staff/{user_id:int}/deactivate", guards=[guards.provider_owner], include_in_schema=False)
async def staff_deactivate(request: Request, user_id: FromPath[Id]) -> Response:
    try:
        await services.deactivate_staff(request.user, user_id)
    except DomainError as error:
        return await _staff_page(request, _error(error), status=error.status)
    return Redirect(path="/provider/staff")


# Operator console -------------------------------------------------------------------------------


@get("/console/providers", guards=[guards.operator], include_in_schema=False)
async def review_queue(
    request: Request, status: FromQuery[str] = "applied", page: Annotated[int, QueryParameter(ge=1, le=100_000)] = 1
) -> Template:
    chosen = status if status in STATUSES else "applied"
    q = (request.query_params.get("q") or "")[:60]
    result = await services.list_providers(request.user, chosen, page, 50, q=q)
    return Template(
        template_name="providers/console_list.html",
        context={
            "page": result,
            "status": chosen,
            "statuses": STATUSES,
            "q": q,
            "pager": paging.Pager.of(request, result.total, page),
            **paging.bulk_outcome(request, ("approve", "reject")),
        },
    )


async def _review_page(
    request: Request, provider_id: int, error: dict | None = None, status: int = 200, closing: str | None = None
) -> Template:
    """`closing`: the reason of a closure the operator is asked to confirm."""
    provider = await services.provider_detail(request.user, provider_id)
    actions = [action for action, (allowed, _, _) in services.DECISIONS.items() if provider.status in allowed]
    return Template(
        template_name="providers/console_detail.html",
        status_code=status,
        context={
            "provider": provider,
            "history": _history(provider),
            "actions": actions,
            "error": error,
            "closing": closing,
        },
    )


@get("/console/providers/{provider_id:int}", guards=[guards.operator], include_in_schema=False)
async def review_detail(request: Request, provider_id: FromPath[Id]) -> Template:
    return await _review_page(request, provider_id)


@post("/console/providers/{provider_id:int}/decide", guards=[guards.operator], include_in_schema=False)
async def review_decide(request: Request, provider_id: FromPath[Id]) -> Response:
    form = await request.form()
    try:
        reason = form.get("reason") or ""
        action = form.get("action") or ""
        if len(reason) > 500:
            raise Invalid("Keep the reason to 500 characters.", field="reason")
        if action == "close" and form.get("confirm") != "1":
            # Closing cannot be undone and refunds every unused package: asked once more.
            if not reason.strip():
                raise Invalid("Give a reason for this decision.", code="reason_required", field="reason")
            nothing_changed(request)
            return await _review_page(request, provider_id, closing=reason)
        await services.decide(request.user, provider_id, action, reason)
    except DomainError as error:
        if error.status in (403, 404):
            raise
        return await _review_page(request, provider_id, _error(error), error.status)
    return Redirect(path=f"/console/providers/{provider_id}")


@post("/console/providers/bulk", guards=[guards.operator], include_in_schema=False)
async def review_bulk(request: Request) -> Response:
    """Approve or turn down the ticked applications with one reason: first a confirmation
    naming each provider, then (confirm=1) the decisions; back to the same list page."""
    form = await request.form()
    action, reason, back, ids = paging.bulk_request(form, "/console/providers")
    error = None
    if action not in ("approve", "reject"):
        error = _("Choose approve or turn down.")
    elif not ids:
        error = _("Tick at least one application.")
    elif action == "reject" and not reason:
        error = _("Give the reason the applicants will read.")
    elif len(reason) > 500:
        error = _("Keep the reason to 500 characters.")
    if error or form.get("confirm") != "1":
        names = []
        for provider_id in ids:
            try:
                names.append((provider_id, (await services.provider_detail(request.user, provider_id)).name))
            except DomainError:
                continue
        approve = action == "approve"
        return paging.bulk_confirm(
            request,
            "console/bulk_confirm.html",
            error=error,
            verb=action,
            back=back,
            reason=reason,
            ids=[provider_id for provider_id, _name in names],
            path="/console/providers/bulk",
            nav="providers",
            kicker=_("Providers"),
            title=_("Approve applications") if approve else _("Turn down applications"),
            question=(
                ngettext("Approve %(n)s provider?", "Approve these %(n)s providers?", len(names))
                if approve
                else ngettext("Turn down %(n)s application?", "Turn down these %(n)s applications?", len(names))
            )
            % {"n": len(names)},
            lines=[name for _id, name in names],
            consequences=[_("They become active: their owners can sign in and publish offers.")]
            if approve
            else [_("Each applicant reads this reason: %(reason)s") % {"reason": reason}],
            danger=not approve,
            confirm_label=(_("Approve %(n)s") if approve else _("Turn down %(n)s")) % {"n": len(names)},
        )
    done, failed = await paging.apply_to_each(
        ids, lambda provider_id: services.decide(request.user, provider_id, action, reason)
    )
    return Redirect(path=paging.back_with(back, action, done, failed))


ROUTES: list = [
    apply_page,
    apply_submit,
    profile_page,
    profile_resubmit,
    locations_page,
    location_add,
    location_update,
    location_remove,
    staff_page,
    staff_add,
    staff_deactivate,
    review_queue,
    review_bulk,
    review_detail,
    review_decide,
]
