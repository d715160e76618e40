from litestar import Controller, Request, get

from evaluation.schemas import EvaluatorRead
from marketplace.identity import guards


class EvaluatorController(Controller):
    path = "/api/v1/evaluator"
    tags = ["evaluation"]
    guards = [guards.evaluator]

    @get("/me", summary="The evaluator organisation this API key belongs to")
    async def me(self, request: Request) -> EvaluatorRead:
        return EvaluatorRead(id=request.user.id, name=request.user.display_name, node_id=request.user.node_id)
