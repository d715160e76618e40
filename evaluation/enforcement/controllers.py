"""JSON API of enforcement for providers (standing, appeals) and operators (held
ratings, policies, enforcement cases). Complaints have theirs in
evaluation/complaints/controllers.py; members rate and complain through their vouchers
(marketplace/vouchers/controllers.py)."""

from typing import Annotated, Literal

import msgspec
from litestar import Controller, Request, get, post
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter

from evaluation.enforcement import cases, policy
from evaluation.ratings import services as ratings
from evaluation.schemas import (
    AppealDecisionInput,
    AppealInput,
    CaseRead,
    DecisionInput,
    HeldRating,
    HeldRatingPage,
    StandingEventRead,
    StandingRead,
)
from marketplace.core.identity import guards
from marketplace.core.web.params import BigId, Id

HoldReason = Literal["burst_one_network", "burst_new_accounts"]


class HeldVerdict(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    keep: bool  # true: count the rating from now on; false: leave it out for good


class PolicyInput(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    node_id: Annotated[int, msgspec.Meta(gt=0, le=2**31 - 1)]
    rules: dict  # as evaluation.enforcement.policy.DEFAULT_RULES; every number is checked


class PolicyRead(msgspec.Struct, kw_only=True):
    node_id: int
    version: int
    rules: dict


class ProviderStanding(msgspec.Struct, kw_only=True):
    standing: StandingRead
    history: list[StandingEventRead]
    policy: dict


class ProviderQualityController(Controller):
    path = "/api/v1/provider"
    tags = ["quality"]
    guards = [guards.provider_user]

    @get("/standing", summary="Your standing under the evaluation policy, why, and its history")
    async def standing(self, request: Request) -> ProviderStanding:
        provider_id = request.user.provider_id
        return ProviderStanding(
            standing=await policy.standing(provider_id),
            history=await policy.standing_history(provider_id),
            policy=await policy.policy_for_provider(provider_id),
        )

    @get("/cases", summary="Delisting cases about you")
    async def cases(self, request: Request) -> list[CaseRead]:
        return await cases.provider_cases(request.user)

    @post("/cases/{case_id:int}/appeal", status_code=200, summary="Appeal a delisting, once per case (owner)")
    async def appeal(self, request: Request, case_id: FromPath[Id], data: JSONBody[AppealInput]) -> CaseRead:
        return await cases.appeal(request.user, case_id, data.statement)


class ConsoleQualityController(Controller):
    path = "/api/v1/console"
    tags = ["quality"]
    guards = [guards.operator]

    @get("/held-ratings", summary="Ratings held out of the score as part of a burst, oldest first, a page at a time")
    async def held(
        self,
        request: Request,
        q: Annotated[str, QueryParameter(max_length=60, description="part of the provider's name")] = "",
        hold_reason: Annotated[HoldReason | None, QueryParameter()] = None,
        page: Annotated[int, QueryParameter(ge=1, le=100_000)] = 1,
        page_size: Annotated[int, QueryParameter(ge=1, le=100)] = 50,
    ) -> HeldRatingPage:
        rows, total, page = await ratings.held_page(request.user, page, page_size, q=q, reason=hold_reason or "")
        return HeldRatingPage(items=[HeldRating(**row) for row in rows], total=total, page=page, page_size=page_size)

    @post("/held-ratings/{rating_id:int}", status_code=204, summary="Count a held rating, or leave it out")
    async def verdict(self, request: Request, rating_id: FromPath[BigId], data: JSONBody[HeldVerdict]) -> None:
        await ratings.clear_held(request.user, rating_id, data.keep)

    @post(
        "/policies",
        status_code=201,
        summary="Publish a new version of a node's evaluation policy (thresholds, minimum samples, deadline)",
    )
    async def publish_policy(self, request: Request, data: JSONBody[PolicyInput]) -> PolicyRead:
        return PolicyRead(**await policy.publish_policy(request.user, data.node_id, data.rules))

    @get("/cases", summary="Enforcement cases in your scope, open and appealed first")
    async def cases(
        self, request: Request, status: FromQuery[Annotated[str | None, QueryParameter(required=False)]] = None
    ) -> list[CaseRead]:
        return await cases.case_queue(request.user, status)

    @get("/cases/{case_id:int}", summary="A case with the evidence it was opened on")
    async def case(self, request: Request, case_id: FromPath[Id]) -> CaseRead:
        return await cases.get_case(request.user, case_id)

    @post("/cases/{case_id:int}/decision", status_code=200, summary="Delist, or keep the provider, with reasons")
    async def decide(self, request: Request, case_id: FromPath[Id], data: JSONBody[DecisionInput]) -> CaseRead:
        return await cases.decide(request.user, case_id, data.decision, data.explanation, data.cancel_vouchers)

    @post("/cases/{case_id:int}/appeal-decision", status_code=200, summary="Decide the provider's appeal")
    async def decide_appeal(
        self, request: Request, case_id: FromPath[Id], data: JSONBody[AppealDecisionInput]
    ) -> CaseRead:
        return await cases.decide_appeal(request.user, case_id, data.outcome, data.explanation)


ROUTES: list = [ProviderQualityController, ConsoleQualityController]
