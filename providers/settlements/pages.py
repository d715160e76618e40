"""Settlement pages (templates in providers/templates/settlements/): the operators' list,
statement, approval and payout in the console, and the provider owner's statements in
the portal; both export a statement as CSV."""

from litestar import Request, Response, get, post
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template

from marketplace.core.errors import DomainError
from marketplace.core.identity import approvals, guards
from marketplace.core.web import paging, todo
from marketplace.core.web.forms import form_error, form_id
from marketplace.core.web.i18n import current_locale, gettext as _, ngettext
from marketplace.core.web.nav import N_, register
from marketplace.core.web.params import BigId
from providers.schemas import STATEMENT_STATUSES, DraftResult, StatementRead
from providers.settlements import drafting, payouts, services as settlements

register("provider", "settlements", N_("Settlements"), "/provider/settlements", "doc", position=40, owner_only=True)
register("console", "settlements", N_("Settlements"), "/console/settlements", "doc", position=40)
todo.register(
    "settlements",
    N_("Settlements to approve"),
    "/console/settlements?status=draft",
    settlements.count_statements,
    position=70,
)

CSV_HEADERS = (
    N_("Voucher code"),
    N_("Offer"),
    N_("Redeemed at"),
    N_("Union subsidy (yuan)"),
    N_("Paid by the member (yuan)"),
    N_("Owed (yuan)"),
)


# The fields of the console's settlement forms, as their labels say them (the alert above a
# form points to the field by this label).
FIELD_LABELS = {"period": N_("Month"), "account_id": N_("Payout account")}


def _error(error: DomainError | None) -> dict | None:
    return form_error(error, FIELD_LABELS) if error else None


def _csv(statement: StatementRead) -> Response:
    body = settlements.to_csv(
        statement,
        [_(label) for label in CSV_HEADERS],
        _("Total"),
        english=current_locale.get() == "en",
        adjustment_label=_("correction to %(period)s"),
    )
    return Response(
        content=body,
        media_type="text/csv; charset=utf-8",
        headers={
            "content-disposition": f'attachment; filename="{settlements.csv_filename(statement)}"',
            "cache-control": "no-store",
        },
    )


# Operator console ---------------------------------------------------------------------------------


async def _list_page(
    request: Request,
    period: str | None,
    status: str | None,
    page: int = 1,
    *,
    error: DomainError | None = None,
    drafted: DraftResult | None = None,
    draft_period: str | None = None,
    code: int = 200,
    draft_failed: bool = False,
) -> Template:
    """`draft_failed`: the error is the draft form's (shown at its month field); otherwise it is
    the address's (a malformed month filter), shown above the form."""
    query = request.query_params
    q = (query.get("q") or "")[:60]
    result = await settlements.list_statements(request.user, period or None, status, page, paging.PAGE_SIZE, q=q)
    return Template(
        template_name="settlements/console_list.html",
        status_code=code,
        context={
            "page": result,
            "period": period or "",
            "status": status or "",
            "statuses": STATEMENT_STATUSES,
            "q": q,
            "periods": await settlements.periods_in_scope(request.user),
            # Built here, not from the request: after drafting (a POST) the list is this same page.
            "pager": paging.Pager.at(
                "/console/settlements", {"q": q, "status": status, "period": period}, result.total, page
            ),
            "draft_period": draft_period or settlements.previous_period(),
            "error": _error(error),
            "drafted": drafted,
            "draft_failed": draft_failed,
            **paging.bulk_outcome(request, tuple(BULK_ACTIONS)),
        },
    )


@get("/console/settlements", guards=[guards.operator], include_in_schema=False)
async def console_list(request: Request, period: FromQuery[str] = "", status: FromQuery[str] = "") -> Template:
    chosen = status if status in STATEMENT_STATUSES else None
    page = paging.page_number(request.query_params.get("page"))
    try:
        return await _list_page(request, period.strip() or None, chosen, page)
    except DomainError as error:  # a malformed month in the address: show every month
        return await _list_page(request, None, chosen, page, error=error, code=error.status)


# What the ticked statements may be given at once, and the status each needs.
BULK_ACTIONS = {"approve": "draft", "pay": "approved"}


@post("/console/settlements/bulk", guards=[guards.operator], include_in_schema=False)
async def console_bulk(request: Request) -> Response:
    """Approve (or pay) the ticked statements with one note: first a confirmation naming each
    statement and the sum, then (confirm=1) one service call per statement, so its four-eyes
    rules hold for each (pay: never the operator who approved it); back to the same list page."""
    form = await request.form()
    action, reason, back, ids = paging.bulk_request(form, "/console/settlements")
    error = None
    if action not in BULK_ACTIONS:
        error = _("Choose approve or pay.")
    elif not ids:
        error = _("Tick at least one statement.")
    elif len(reason) > 500:
        error = _("Keep the reason to 500 characters.")
    statements = []
    for statement_id in ids:
        try:
            statement = await settlements.statement_for_operator(request.user, statement_id)
        except DomainError:
            continue
        if statement.status == BULK_ACTIONS.get(action):
            statements.append(statement)
    if not error and not statements:
        error = (
            _("None of the ticked statements is a draft.")
            if action == "approve"
            else _("None of the ticked statements is approved and waiting to be paid.")
        )
    if error or form.get("confirm") != "1":
        approve = action == "approve"
        return paging.bulk_confirm(
            request,
            "settlements/console_bulk.html",
            error=error,
            verb=action,
            back=back,
            reason=reason,
            ids=[statement.id for statement in statements],
            path="/console/settlements/bulk",
            # The revision each statement had on this page: one recomputed since is not approved.
            extra_fields=[(f"revision_{statement.id}", str(statement.revision)) for statement in statements],
            nav="settlements",
            kicker=_("Settlements"),
            title=_("Approve statements") if approve else _("Pay statements"),
            question=(
                ngettext("Approve %(n)s statement?", "Approve these %(n)s statements?", len(statements))
                if approve
                else ngettext("Pay %(n)s statement?", "Pay these %(n)s statements?", len(statements))
            )
            % {"n": len(statements)},
            statements=statements,
            total_fen=sum(statement.total_fen for statement in statements),
            danger=False,
            confirm_label=(_("Approve %(n)s") if approve else _("Pay %(n)s")) % {"n": len(statements)},
        )
    gateway = payouts.configured_gateway() if action == "pay" else None

    async def settle(statement) -> object:
        if action == "approve":
            revision = form_id(form.get(f"revision_{statement.id}"))
            return await settlements.approve(request.user, statement.id, revision, note=reason or None)
        assert gateway is not None  # the action is "pay"
        return await settlements.pay(request.user, statement.id, gateway)

    done, failed = await paging.apply_to_each(statements, settle)
    return Redirect(path=paging.back_with(back, action, done, failed))


@post("/console/settlements/draft", guards=[guards.operator], include_in_schema=False)
async def console_draft(request: Request) -> Response:
    period = ((await request.form()).get("period") or "").strip()
    try:
        drafted = await drafting.draft_month(period, request.user)
    except DomainError as error:
        return await _list_page(
            request, None, None, error=error, draft_period=period, code=error.status, draft_failed=True
        )
    return await _list_page(request, period, None, drafted=drafted, draft_period=period)


async def _statement_page(
    request: Request,
    statement_id: int,
    error: DomainError | None = None,
    code: int = 200,
    *,
    form: str | None = None,
    values: dict | None = None,
) -> Template:
    """`form`: the form that was sent ("approve", "close", "pay", "payout-account"); its error shows in
    it, beside the field it names, with what was typed; on top when that form is gone (the
    statement moved on meanwhile)."""
    statement = await settlements.statement_for_operator(request.user, statement_id)
    pending_account = await approvals.pending("payout_account", statement.provider_id)
    pending_close = await approvals.pending("statement_close", statement.id)
    forms = set()
    if statement.status == "draft" and statement.total_fen <= 0:
        forms |= (set() if pending_close else {"close"}) | (set() if pending_account else {"payout-account"})
    elif statement.status == "draft":
        forms |= {"approve"} | (set() if pending_account else {"payout-account"})
    elif statement.status == "approved":
        forms |= {"pay"} | ({"approve"} if statement.payout_account != statement.provider_account else set())
    return Template(
        template_name="settlements/console_detail.html",
        status_code=code,
        context={
            "statement": statement,
            "error": _error(error),
            "pending_account": pending_account,
            "pending_close": pending_close,
            "failed_form": form if error and form in forms else None,
            "values": values or {},
        },
    )


@get("/console/settlements/{statement_id:int}", guards=[guards.operator], include_in_schema=False)
async def console_detail(request: Request, statement_id: FromPath[BigId]) -> Template:
    return await _statement_page(request, statement_id)


async def _act(request: Request, statement_id: int, form: str, action, values: dict | None = None) -> Response:
    try:
        await action()
    except DomainError as error:
        if error.status == 404 or (error.status == 403 and error.code != "role_required"):
            raise
        return await _statement_page(request, statement_id, error, error.status, form=form, values=values)
    return Redirect(path=f"/console/settlements/{statement_id}")


@post("/console/settlements/{statement_id:int}/approve", guards=[guards.operator], include_in_schema=False)
async def console_approve(request: Request, statement_id: FromPath[BigId]) -> Response:
    revision = ((await request.form()).get("revision") or "").strip()
    return await _act(
        request, statement_id, "approve", lambda: settlements.approve(request.user, statement_id, form_id(revision))
    )


@post("/console/settlements/{statement_id:int}/close", guards=[guards.operator], include_in_schema=False)
async def console_close(request: Request, statement_id: FromPath[BigId]) -> Response:
    revision = ((await request.form()).get("revision") or "").strip()
    return await _act(
        request, statement_id, "close", lambda: settlements.propose_close(request.user, statement_id, form_id(revision))
    )


@post("/console/settlements/{statement_id:int}/pay", guards=[guards.operator], include_in_schema=False)
async def console_pay(request: Request, statement_id: FromPath[BigId]) -> Response:
    return await _act(
        request, statement_id, "pay", lambda: settlements.pay(request.user, statement_id, payouts.configured_gateway())
    )


@post("/console/settlements/{statement_id:int}/payout-account", guards=[guards.operator], include_in_schema=False)
async def console_payout_account(request: Request, statement_id: FromPath[BigId]) -> Response:
    account = ((await request.form()).get("account_id") or "")[:64]

    async def action():
        statement = await settlements.statement_for_operator(request.user, statement_id)
        await settlements.set_payout_account(request.user, statement.provider_id, account)

    return await _act(request, statement_id, "payout-account", action, {"account_id": account})


@get("/console/settlements/{statement_id:int}/statement.csv", guards=[guards.operator], include_in_schema=False)
async def console_csv(request: Request, statement_id: FromPath[BigId]) -> Response:
    return _csv(await settlements.statement_for_operator(request.user, statement_id))


# Provider portal (owner) ------------------------------------------------------------------------------


@get("/provider/settlements", guards=[guards.provider_owner], include_in_schema=False)
async def provider_list(request: Request) -> Template:
    return Template(
        template_name="settlements/provider_list.html",
        context={
            "statements": await settlements.my_statements(request.user),
        },
    )


@get("/provider/settlements/{statement_id:int}", guards=[guards.provider_owner], include_in_schema=False)
async def provider_detail(request: Request, statement_id: FromPath[BigId]) -> Template:
    return Template(
        template_name="settlements/provider_detail.html",
        context={
            "statement": await settlements.my_statement(request.user, statement_id),
        },
    )


@get("/provider/settlements/{statement_id:int}/statement.csv", guards=[guards.provider_owner], include_in_schema=False)
async def provider_csv(request: Request, statement_id: FromPath[BigId]) -> Response:
    return _csv(await settlements.my_statement(request.user, statement_id))


ROUTES: list = [
    console_list,
    console_bulk,
    console_draft,
    console_detail,
    console_approve,
    console_close,
    console_pay,
    console_payout_account,
    console_csv,
    provider_list,
    provider_detail,
    provider_csv,
]
