"""JSON API of settlements: operators list, draft, approve and pay statements in their
scope and set a provider's payout account; a provider's owner reads its own statements."""

from typing import Annotated

from litestar import Controller, Request, get, post, put
from litestar.params import FromPath, JSONBody, QueryParameter

from marketplace.core.identity import guards
from marketplace.core.web.params import BigId, Id
from providers.schemas import (
    Approval,
    DraftRequest,
    DraftResult,
    PayoutAccountInput,
    StatementPage,
    StatementRead,
    StatementStatus,
    StatementSummary,
)
from providers.settlements import drafting, payouts, services as settlements


class SettlementConsoleController(Controller):
    path = "/api/v1/console/settlements"
    tags = ["settlements"]
    guards = [guards.operator]

    @get("/", summary="Statements of the providers in your scope, newest month first")
    async def list(
        self,
        request: Request,
        period: Annotated[str | None, QueryParameter(pattern=r"^\d{4}-\d{2}$")] = None,
        status: Annotated[StatementStatus | None, QueryParameter()] = None,
        page: Annotated[int, QueryParameter(ge=1, le=100_000)] = 1,
        page_size: Annotated[int, QueryParameter(ge=1, le=100)] = 50,
    ) -> StatementPage:
        return await settlements.list_statements(request.user, period, status, page, page_size)

    @post(
        "/drafts",
        status_code=200,
        summary="Draft (or recompute) a finished month's statements of the providers in your scope",
    )
    async def draft(self, request: Request, data: JSONBody[DraftRequest]) -> DraftResult:
        return await drafting.draft_month(data.period, request.user)

    @get("/{statement_id:int}", summary="A statement with its lines")
    async def detail(self, request: Request, statement_id: FromPath[BigId]) -> StatementRead:
        return await settlements.statement_for_operator(request.user, statement_id)

    @post("/{statement_id:int}/approve", status_code=200, summary="Approve a draft statement")
    async def approve(
        self, request: Request, statement_id: FromPath[BigId], data: JSONBody[Approval | None] = None
    ) -> StatementRead:
        return await settlements.approve(request.user, statement_id, data.revision if data else None)

    @post(
        "/{statement_id:int}/close",
        status_code=202,
        summary="Propose closing a draft with nothing to pay (total zero or less; a negative total is "
        "carried to the next statement); another operator approves it at /api/v1/console/approvals",
    )
    async def close(
        self, request: Request, statement_id: FromPath[BigId], data: JSONBody[Approval | None] = None
    ) -> dict:
        return await settlements.propose_close(request.user, statement_id, data.revision if data else None)

    @post(
        "/{statement_id:int}/pay",
        status_code=200,
        summary="Pay an approved statement to the provider's payout account through the gateway",
    )
    async def pay(self, request: Request, statement_id: FromPath[BigId]) -> StatementRead:
        return await settlements.pay(request.user, statement_id, payouts.configured_gateway())


class PayoutAccountController(Controller):
    path = "/api/v1/console/providers"
    tags = ["settlements"]
    guards = [guards.operator]

    @put(
        "/{provider_id:int}/payout-account",
        status_code=202,
        summary='Propose (or clear with "") the provider\'s Stripe Connect account for settlements; '
        "another operator approves it at /api/v1/console/approvals",
    )
    async def set_account(
        self, request: Request, provider_id: FromPath[Id], data: JSONBody[PayoutAccountInput]
    ) -> dict:
        return await settlements.set_payout_account(request.user, provider_id, data.account_id)


class MySettlementController(Controller):
    path = "/api/v1/provider/me/settlements"
    tags = ["settlements"]
    guards = [guards.provider_owner]

    @get("/", summary="Your provider's statements, newest month first")
    async def list(self, request: Request) -> list[StatementSummary]:
        return await settlements.my_statements(request.user)

    @get("/{statement_id:int}", summary="One of your provider's statements, with its lines")
    async def detail(self, request: Request, statement_id: FromPath[BigId]) -> StatementRead:
        return await settlements.my_statement(request.user, statement_id)


ROUTES = [SettlementConsoleController, PayoutAccountController, MySettlementController]
