"""Settlement pages (templates in providers/templates/settlements/): the operators' list,
statement, approval and payout in the console, and the provider owner's statements in
the portal; both export a statement as CSV.

Drafting a month needs the redeemed vouchers, which only the marketplace reads: the
handler receives the drafting function as the `settlement_drafter` dependency, which
the composition root (marketplace/app.py) provides, so this package never imports it.
"""

from datetime import datetime
from typing import Annotated

from litestar import Request, Response, get, post
from litestar.params import FromPath, FromQuery, QueryParameter
from litestar.response import Redirect, Template

from marketplace import dates
from marketplace.errors import DomainError
from marketplace.identity import guards
from marketplace.web.i18n import current_locale, gettext as _
from marketplace.web import todo
from marketplace.web.nav import N_, register
from marketplace.web.forms import form_id
from marketplace.web.params import BigId
from providers import payouts, settlements
from providers.settlement_controllers import Drafter
from providers.schemas import STATEMENT_STATUSES, DraftResult, StatementRead


register("provider", "settlements", N_("Settlements"), "/provider/settlements", "doc", position=40,
         owner_only=True)
register("console", "settlements", N_("Settlements"), "/console/settlements", "doc", position=40)
todo.register("settlements", N_("Settlements to approve"), "/console/settlements?status=draft",
              settlements.count_statements, position=70)

CSV_HEADERS = (N_("Voucher code"), N_("Offer"), N_("Redeemed at"), N_("Union subsidy (yuan)"),
               N_("Paid by the member (yuan)"), N_("Owed (yuan)"))


def _message(error: DomainError) -> str:
    """The reason in the viewer's language (a service's detail is English)."""
    messages = {
        "status_conflict": _("This statement is no longer in a state that allows this; reload it."),
        "statement_changed": _("The draft was recomputed after you opened it; look at it again before approving."),
        "nothing_to_settle": _("Nothing is owed on this statement."),
        "no_payout_account": _("The provider has no payout account yet; set it first."),
        "own_approval": _("You approved this statement; another operator pays it."),
        "account_changed": _("The provider's payout account changed after approval; approve the statement again."),
        "approval_pending": _("A change of this provider's payout account is waiting for approval already."),
        "payout_account_unchanged": _("This is the provider's payout account already."),
        "role_required": _("Your role does not allow this."),
        "payout_refused": _("The payment gateway refused the payout; nothing was paid."),
        "payout_key_reused": _("The payment gateway refused the payout; nothing was paid."),
        "payout_unavailable": _("The payment gateway could not be reached; nothing was paid. Try again."),
        "invalid_payout_account": _("A payout account is a Stripe account id such as acct_1Nv0FGQ9RKHgCVdK."),
        "period_open": _("This month is not over yet; a month is settled once it has ended."),
        "invalid": _("Choose a month, such as 2026-11."),
    }
    return messages.get(error.code, error.detail)


def _local(moment: datetime | None) -> str | None:
    return dates.local(moment).strftime("%Y-%m-%d %H:%M") if moment else None


def _csv(statement: StatementRead) -> Response:
    body = settlements.to_csv(statement, [_(label) for label in CSV_HEADERS], _("Total"),
                              english=current_locale.get() == "en")
    return Response(content=body, media_type="text/csv; charset=utf-8", headers={
        "content-disposition": f'attachment; filename="{settlements.csv_filename(statement)}"',
        "cache-control": "no-store",
    })


# Operator console ---------------------------------------------------------------------------------

async def _list_page(request: Request, period: str | None, status: str | None, page: int = 1, *,
                     error: str | None = None, drafted: DraftResult | None = None,
                     draft_period: str | None = None, code: int = 200) -> Template:
    result = await settlements.list_statements(request.user, period or None, status, page, 50)
    return Template(template_name="settlements/console_list.html", status_code=code, context={
        "page": result, "period": period or "", "status": status or "", "statuses": STATEMENT_STATUSES,
        "draft_period": draft_period or settlements.previous_period(), "error": error, "drafted": drafted,
        "local": _local,
    })


@get("/console/settlements", guards=[guards.operator], include_in_schema=False)
async def console_list(request: Request, period: FromQuery[str] = "", status: FromQuery[str] = "",
                       page: Annotated[int, QueryParameter(ge=1, le=100_000)] = 1) -> Template:
    chosen = status if status in STATEMENT_STATUSES else None
    try:
        return await _list_page(request, period.strip() or None, chosen, page)
    except DomainError as error:  # a malformed month in the address: show every month
        return await _list_page(request, None, chosen, page, error=_message(error), code=error.status)


@post("/console/settlements/draft", guards=[guards.operator], include_in_schema=False)
async def console_draft(request: Request, settlement_drafter: Drafter) -> Response:
    period = ((await request.form()).get("period") or "").strip()
    try:
        drafted = await settlement_drafter(period, request.user)
    except DomainError as error:
        return await _list_page(request, None, None, error=_message(error), draft_period=period, code=error.status)
    return await _list_page(request, period, None, drafted=drafted, draft_period=period)


async def _statement_page(request: Request, statement_id: int, error: str | None = None,
                          code: int = 200) -> Template:
    statement = await settlements.statement_for_operator(request.user, statement_id)
    return Template(template_name="settlements/console_detail.html", status_code=code, context={
        "statement": statement, "error": error, "local": _local,
        "pending_account": await settlements.pending_account(statement.provider_id),
    })


@get("/console/settlements/{statement_id:int}", guards=[guards.operator], include_in_schema=False)
async def console_detail(request: Request, statement_id: FromPath[BigId]) -> Template:
    return await _statement_page(request, statement_id)


async def _act(request: Request, statement_id: int, action) -> Response:
    try:
        await action()
    except DomainError as error:
        if error.status == 404 or (error.status == 403 and error.code != "role_required"):
            raise
        return await _statement_page(request, statement_id, _message(error), error.status)
    return Redirect(path=f"/console/settlements/{statement_id}")


@post("/console/settlements/{statement_id:int}/approve", guards=[guards.operator], include_in_schema=False)
async def console_approve(request: Request, statement_id: FromPath[BigId]) -> Response:
    revision = ((await request.form()).get("revision") or "").strip()
    return await _act(request, statement_id, lambda: settlements.approve(
        request.user, statement_id, form_id(revision)))


@post("/console/settlements/{statement_id:int}/pay", guards=[guards.operator], include_in_schema=False)
async def console_pay(request: Request, statement_id: FromPath[BigId]) -> Response:
    return await _act(request, statement_id, lambda: settlements.pay(
        request.user, statement_id, payouts.configured_gateway()))


@post("/console/settlements/{statement_id:int}/payout-account", guards=[guards.operator],
      include_in_schema=False)
async def console_payout_account(request: Request, statement_id: FromPath[BigId]) -> Response:
    account = ((await request.form()).get("account_id") or "")[:64]

    async def action():
        statement = await settlements.statement_for_operator(request.user, statement_id)
        await settlements.set_payout_account(request.user, statement.provider_id, account)

    return await _act(request, statement_id, action)


@get("/console/settlements/{statement_id:int}/statement.csv", guards=[guards.operator], include_in_schema=False)
async def console_csv(request: Request, statement_id: FromPath[BigId]) -> Response:
    return _csv(await settlements.statement_for_operator(request.user, statement_id))


# Provider portal (owner) ------------------------------------------------------------------------------

@get("/provider/settlements", guards=[guards.provider_owner], include_in_schema=False)
async def provider_list(request: Request) -> Template:
    return Template(template_name="settlements/provider_list.html", context={
        "statements": await settlements.my_statements(request.user), "local": _local,
    })


@get("/provider/settlements/{statement_id:int}", guards=[guards.provider_owner], include_in_schema=False)
async def provider_detail(request: Request, statement_id: FromPath[BigId]) -> Template:
    return Template(template_name="settlements/provider_detail.html", context={
        "statement": await settlements.my_statement(request.user, statement_id), "local": _local,
    })


@get("/provider/settlements/{statement_id:int}/statement.csv", guards=[guards.provider_owner],
     include_in_schema=False)
async def provider_csv(request: Request, statement_id: FromPath[BigId]) -> Response:
    return _csv(await settlements.my_statement(request.user, statement_id))


ROUTES: list = [
    console_list, console_draft, console_detail, console_approve, console_pay, console_payout_account, console_csv,
    provider_list, provider_detail, provider_csv,
]
