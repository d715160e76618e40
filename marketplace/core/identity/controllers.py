from litestar import Controller, Request, delete, get, post
from litestar.params import JSONBody
from litestar.status_codes import HTTP_202_ACCEPTED, HTTP_204_NO_CONTENT

from marketplace.core import pii
from marketplace.core.errors import Forbidden
from marketplace.core.identity import accounts, guards, services
from marketplace.core.identity.schemas import PrincipalRead, SmsCodeRequest, SmsTokenRequest, TokenRead, TokenRequest


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


class AuthController(Controller):
    path = "/api/v1"
    tags = ["identity"]

    @post("/auth/token", summary="Exchange a username and password for a bearer token")
    async def issue_token(self, request: Request, data: JSONBody[TokenRequest]) -> TokenRead:
        token, expires_at = await services.sign_in(
            data.kind, data.username, data.password, client_address(request), "bearer", otp=data.otp
        )
        return TokenRead(token=token, token_type="bearer", kind=data.kind, expires_at=expires_at)

    @post(
        "/auth/sms-code",
        status_code=HTTP_202_ACCEPTED,
        summary="Send a member a one-time code by SMS (the same answer for any number)",
    )
    async def sms_code(self, request: Request, data: JSONBody[SmsCodeRequest]) -> None:
        await accounts.send_member_code(data.purpose, data.phone, client_address(request))

    @post("/auth/sms-token", summary="Exchange a member's phone and the code sent to it for a bearer token")
    async def sms_token(self, data: JSONBody[SmsTokenRequest]) -> TokenRead:
        member_id = await accounts.member_for_login_code(data.phone, data.code)
        token, expires_at = await services.open_session("member", member_id, "bearer")
        return TokenRead(token=token, token_type="bearer", kind="member", expires_at=expires_at)

    @delete(
        "/auth/token",
        guards=[guards.signed_in],
        status_code=HTTP_204_NO_CONTENT,
        summary="Revoke the bearer token of this request",
    )
    async def revoke_token(self, request: Request) -> None:
        if request.user.session_hash is None:
            raise Forbidden("An API key is not a session; an operator revokes keys.", code="not_a_session")
        await services.sign_out(request.user)

    @get("/me", guards=[guards.signed_in], summary="Who this token belongs to")
    async def me(self, request: Request) -> PrincipalRead:
        user = request.user
        return PrincipalRead(
            kind=user.kind,
            id=user.id,
            display_name=user.display_name if user.kind != "member" else pii.mask_name(user.display_name),
            node_id=user.node_id,
            provider_id=user.provider_id,
            role=user.role,
            groups=list(user.groups),
        )


ROUTES = [AuthController]
