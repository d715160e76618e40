"""Account pages of every audience: sign-in by SMS code and password reset for members,
password change for everyone, resets by an owner or administrator, operators'
two-factor settings, and the demo's SMS inbox (/dev/sms, only with the dev sender)."""

from datetime import UTC, datetime

from litestar import Request, Response, get, post
from litestar.exceptions import NotFoundException
from litestar.response import Redirect, Template

from marketplace.core.errors import DomainError
from marketplace.core.identity import accounts, guards, services as identity, sms, totp, two_factor
from marketplace.core.identity.controllers import client_address
from marketplace.core.web import nav, qr
from marketplace.core.web.forms import form_error
from marketplace.core.web.nav import N_
from marketplace.core.web.pages import signed_in
from marketplace.core.web.params import Id

nav.register("console", "security", N_("Account security"), "/console/security", "key", position=95)
nav.register("provider", "password", N_("Change password"), "/provider/password", "key", position=90)

LAYOUTS = {"member": "layouts/member.html", "provider": "layouts/provider.html", "operator": "layouts/console.html"}
PASSWORD_PATHS = {"member": "/me/password", "provider": "/provider/password", "operator": "/console/password"}


async def _form(request: Request) -> dict[str, str]:
    return {key: str(value)[:200] for key, value in (await request.form()).items()}


# Members: sign in with an SMS code ----------------------------------------------------------------


def _code_page(
    template: str,
    *,
    step: str = "phone",
    phone: str = "",
    error: DomainError | None = None,
    status: int = 200,
    sent: bool = False,
    next_path: str | None = None,
    code: str = "",
) -> Template:
    # A code typed before an error about something else is kept; a wrong one is not.
    code = "" if error is None or error.field == "code" else code
    return Template(
        template_name=template,
        status_code=status,
        context={
            "step": step,
            "phone": phone,
            "code": code,
            "error": form_error(error) if error else None,
            "sent": sent,
            "next": next_path,
            "dev_sms": sms.dev_mode(),
            "resend_seconds": sms.RESEND_SECONDS,
        },
    )


@get("/login/sms", include_in_schema=False)
async def sms_login_page(request: Request) -> Template:
    from marketplace.core.web.pages import safe_next

    return _code_page("identity/sms_login.html", next_path=safe_next("member", request.query_params.get("next")))


@post("/login/sms/send", include_in_schema=False)
async def sms_login_send(request: Request) -> Template:
    from marketplace.core.web.pages import safe_next

    form = await _form(request)
    phone, next_path = form.get("phone", "").strip(), safe_next("member", form.get("next"))
    try:
        await accounts.send_member_code("login", phone, client_address(request))
    except DomainError as error:
        step = "code" if error.code == "sms_cooldown" else "phone"
        return _code_page(
            "identity/sms_login.html", step=step, phone=phone, error=error, status=error.status, next_path=next_path
        )
    return _code_page("identity/sms_login.html", step="code", phone=phone, sent=True, next_path=next_path)


@post("/login/sms", include_in_schema=False)
async def sms_login(request: Request) -> Response:
    from marketplace.core.web.pages import safe_next

    form = await _form(request)
    phone, next_path = form.get("phone", "").strip(), safe_next("member", form.get("next"))
    try:
        member_id = await accounts.member_for_login_code(phone, form.get("code", ""))
    except DomainError as error:
        return _code_page(
            "identity/sms_login.html", step="code", phone=phone, error=error, status=error.status, next_path=next_path
        )
    token, expires_at = await identity.open_session("member", member_id, "cookie")
    return signed_in("member", token, expires_at, next_path or "/")


# Members: forgotten password --------------------------------------------------------------------------


@get("/reset", include_in_schema=False)
async def reset_page() -> Template:
    return _code_page("identity/reset.html")


@post("/reset/send", include_in_schema=False)
async def reset_send(request: Request) -> Template:
    phone = (await _form(request)).get("phone", "").strip()
    try:
        await accounts.send_member_code("reset", phone, client_address(request))
    except DomainError as error:
        step = "code" if error.code == "sms_cooldown" else "phone"
        return _code_page("identity/reset.html", step=step, phone=phone, error=error, status=error.status)
    return _code_page("identity/reset.html", step="code", phone=phone, sent=True)


@post("/reset", include_in_schema=False)
async def reset(request: Request) -> Response:
    form = await _form(request)
    phone = form.get("phone", "").strip()
    try:
        member_id = await accounts.reset_member_password(
            phone, form.get("code", ""), form.get("password", ""), form.get("password_again", "")
        )
    except DomainError as error:
        return _code_page(
            "identity/reset.html", step="code", phone=phone, error=error, status=error.status, code=form.get("code", "")
        )
    token, expires_at = await identity.open_session("member", member_id, "cookie")
    return signed_in("member", token, expires_at, "/me/password?done=reset")


# Everyone: change one's password ----------------------------------------------------------------------


def _password_page(request: Request, error: DomainError | None = None, status: int = 200) -> Template:
    kind = request.user.kind
    return Template(
        template_name="identity/password.html",
        status_code=status,
        context={
            "layout": LAYOUTS[kind],
            "action": PASSWORD_PATHS[kind],
            "kind": kind,
            "error": form_error(error) if error else None,
            "done": request.query_params.get("done"),
            "forced": request.user.pending == "password",
            "nav": "password" if kind == "provider" else "security",
        },
    )


async def _change_password(request: Request) -> Response:
    form = await _form(request)
    try:
        await accounts.change_password(
            request.user, form.get("current_password", ""), form.get("password", ""), form.get("password_again", "")
        )
    except DomainError as error:
        return _password_page(request, error, error.status)
    return Redirect(path=PASSWORD_PATHS[request.user.kind] + "?done=changed")


@get("/me/password", guards=[guards.member], include_in_schema=False)
async def member_password_page(request: Request) -> Template:
    return _password_page(request)


@post("/me/password", guards=[guards.member], include_in_schema=False)
async def member_password(request: Request) -> Response:
    return await _change_password(request)


@get("/provider/password", guards=[guards.provider_user], include_in_schema=False)
async def provider_password_page(request: Request) -> Template:
    return _password_page(request)


@post("/provider/password", guards=[guards.provider_user], include_in_schema=False)
async def provider_password(request: Request) -> Response:
    return await _change_password(request)


@get("/console/password", guards=[guards.operator], include_in_schema=False)
async def console_password_page(request: Request) -> Template:
    return _password_page(request)


@post("/console/password", guards=[guards.operator], include_in_schema=False)
async def console_password(request: Request) -> Response:
    return await _change_password(request)


# Owners and administrators: reset a colleague's password ---------------------------------------------


def _temporary_page(kind: str, name: str, password: str, back: str) -> Template:
    return Template(
        template_name="identity/temporary.html",
        context={
            "layout": LAYOUTS[kind],
            "name": name,
            "password": password,
            "back": back,
            "nav": "staff" if kind == "provider" else "team",
        },
    )


@post("/provider/staff/{user_id:int}/password-reset", guards=[guards.provider_owner], include_in_schema=False)
async def staff_password_reset(request: Request, user_id: Id) -> Response:
    temporary = await accounts.reset_staff_password(request.user, user_id)
    return _temporary_page("provider", (await _form(request)).get("name", ""), temporary, "/provider/staff")


@post(
    "/console/team/operators/{operator_id:int}/password-reset", guards=[guards.administrator], include_in_schema=False
)
async def operator_password_reset(request: Request, operator_id: Id) -> Response:
    temporary = await accounts.reset_operator_password(request.user, operator_id)
    return _temporary_page("operator", (await _form(request)).get("name", ""), temporary, "/console/team")


# Operators: two-factor sign-in ------------------------------------------------------------------------


async def _security_page(
    request: Request,
    *,
    secret: str | None = None,
    error: DomainError | None = None,
    status: int = 200,
    recovery_codes: list[str] | None = None,
) -> Template:
    state = await two_factor.status(request.user.id)
    secret = secret if secret and totp.is_secret(secret) else totp.new_secret()
    return Template(
        template_name="identity/security.html",
        status_code=status,
        context={
            "enabled": state["enabled"],
            "recovery_left": state["recovery_left"],
            "secret": secret,
            "error": form_error(error) if error else None,
            "recovery_codes": recovery_codes,
            "required": two_factor.required_for(request.user.role),
            "qr": None if state["enabled"] else qr.qr_svg(totp.otpauth_uri(secret, request.user.display_name)),
        },
    )


@get("/console/security", guards=[guards.operator], include_in_schema=False)
async def security(request: Request) -> Template:
    return await _security_page(request)


@post("/console/security/totp", guards=[guards.operator], include_in_schema=False)
async def enable_totp(request: Request) -> Response:
    form = await _form(request)
    secret = form.get("secret", "")
    try:
        recovery_codes = await two_factor.enable(request.user, secret, form.get("code", ""))
    except DomainError as error:
        return await _security_page(request, secret=secret, error=error, status=error.status)
    return await _security_page(request, recovery_codes=recovery_codes)


@post("/console/security/totp/disable", guards=[guards.operator], include_in_schema=False)
async def disable_totp(request: Request) -> Response:
    try:
        await two_factor.disable(request.user, (await _form(request)).get("password", ""))
    except DomainError as error:
        return await _security_page(request, error=error, status=error.status)
    return Redirect(path="/console/security")


@post("/console/security/recovery-codes", guards=[guards.operator], include_in_schema=False)
async def renew_recovery_codes(request: Request) -> Response:
    try:
        recovery_codes = await two_factor.renew_recovery_codes(request.user, (await _form(request)).get("password", ""))
    except DomainError as error:
        return await _security_page(request, error=error, status=error.status)
    return await _security_page(request, recovery_codes=recovery_codes)


# The demo's SMS inbox ---------------------------------------------------------------------------------


@get("/dev/sms", include_in_schema=False)
async def dev_sms(request: Request) -> Template:
    """What the dev sender 'sent' (phones masked): only where no real SMS gateway is set."""
    if not sms.dev_mode():
        raise NotFoundException()
    messages = await sms.dev_outbox()
    for message in messages:
        message["at"] = datetime.fromtimestamp(message["at"], UTC)
    return Template(template_name="identity/dev_sms.html", context={"messages": messages})


ROUTES: list = [
    sms_login_page,
    sms_login_send,
    sms_login,
    reset_page,
    reset_send,
    reset,
    member_password_page,
    member_password,
    provider_password_page,
    provider_password,
    console_password_page,
    console_password,
    staff_password_reset,
    operator_password_reset,
    security,
    enable_totp,
    disable_totp,
    renew_recovery_codes,
    dev_sms,
]
