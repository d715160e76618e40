"""Enforcement pages for providers and operators (complaints have theirs in
evaluation/complaints/pages.py).

Provider portal: its standing under the evaluation policy, the reasons, the history of decisions in words, its delisting
cases with the appeal form (owner), and the policy it is held to.

Operator console: the enforcement queue, a case page with the evidence (the figures when
the case opened, the reasons, the policy version, the provider's latest ratings and
complaints) and the decision buttons; held ratings.

Thin handlers: read the form, call one service, render; a refused action re-renders its
page with the reason and the matching status.
"""

import contextlib
from datetime import datetime
from functools import partial

import msgspec
from litestar import Request, get, post
from litestar.response import Redirect, Response, Template

from evaluation.complaints import services as complaints
from evaluation.enforcement import cases, freeze, policy, prepaid_rules
from evaluation.ratings import services as ratings
from marketplace.core.audit.middleware import nothing_changed
from marketplace.core.errors import DomainError, Invalid
from marketplace.core.identity import guards
from marketplace.core.web import paging, todo
from marketplace.core.web.config import local_time
from marketplace.core.web.forms import form_error, form_id
from marketplace.core.web.i18n import gettext as _, ngettext
from marketplace.core.web.nav import N_, register
from marketplace.core.web.params import BigId, Id
from providers import services as providers

register("provider", "standing", N_("Standing"), "/provider/standing", "doc", position=47)
register("console", "cases", N_("Enforcement"), "/console/cases", "alert", position=46)
todo.register(
    "cases",
    N_("Cases awaiting a decision"),
    "/console/cases?status=open",
    partial(cases.count_cases, status="open"),
    position=40,
)
todo.register(
    "appeals",
    N_("Appeals"),
    "/console/cases?status=appealed",
    partial(cases.count_cases, status="appealed"),
    position=50,
    nav_key="cases",
)
todo.register("held", N_("Held ratings"), "/console/cases#held", ratings.count_held, position=60, nav_key="cases")


async def _form(request: Request) -> dict:
    return dict(await request.form())


# Provider portal -------------------------------------------------------------------------------------


async def _standing_page(
    request: Request,
    error: DomainError | None = None,
    *,
    refused: int | None = None,
    statement: str = "",
    lease_error: DomainError | None = None,
    lease_value: str | None = None,
) -> Template:
    """The provider's standing. `refused`: the case whose appeal was refused, shown again with
    the error at its statement and the text typed (an error of no field shows on top). Its
    prepaid sales (stopped or not, why) and its lease end date, with `lease_error` at it."""
    provider_id = request.user.provider_id
    provider_cases = await cases.provider_cases(request.user)
    provider = await providers.get_provider(provider_id) or {}
    lease = provider.get("lease_ends_on")
    failed = error or lease_error
    return Template(
        template_name="evaluation/provider_standing.html",
        status_code=failed.status if failed else 200,
        context={
            "freezes": await freeze.open_freezes(provider_id),
            "freeze_reasons": freeze.REASONS,
            "lease_value": lease_value if lease_value is not None else (lease.isoformat() if lease else ""),
            "lease_error": form_error(lease_error) if lease_error else None,
            "lease_saved": request.query_params.get("lease") == "saved",
            "standing": await policy.standing(provider_id),
            "history": await policy.standing_history(provider_id),
            "policy": await policy.policy_for_provider(provider_id),
            "cases": provider_cases,
            "error": form_error(error, {"statement": N_("Your appeal (once per case)")}) if error else None,
            "refused_case": refused if refused in {case.id for case in provider_cases} else None,
            "statement": statement,
        },
    )


standing_page = _standing_page  # the lease form (freeze_pages.py) shows its refusal here


@get("/provider/standing", guards=[guards.provider_user], include_in_schema=False)
async def provider_standing(request: Request) -> Template:
    return await _standing_page(request)


@post("/provider/cases/{case_id:int}/appeal", guards=[guards.provider_owner], include_in_schema=False)
async def provider_appeal(request: Request, case_id: Id) -> Response:
    statement = (await _form(request)).get("statement") or ""
    try:
        await cases.appeal(request.user, case_id, statement)
    except DomainError as error:
        return await _standing_page(request, error, refused=case_id, statement=statement)
    return Redirect(path="/provider/standing")


# Operator console ------------------------------------------------------------------------------------

CASE_STATUSES = ("open", "decided", "appealed", "closed")
CASE_KINDS = ("delisting", "integrity")


async def _cases_page(
    request: Request,
    error: str | None = None,
    status: int = 200,
    open_error: DomainError | None = None,
    open_values: dict | None = None,
) -> Template:
    query = request.query_params
    q = (query.get("q") or "")[:60]
    case_status = paging.one_of(query.get("status"), CASE_STATUSES)
    kind = paging.one_of(query.get("kind"), CASE_KINDS)
    page = paging.page_number(query.get("page"))
    found, total = await cases.case_page(request.user, q=q, status=case_status, kind=kind, page=page)
    found = [msgspec.structs.replace(case, reasons=await _readable_reasons(case.reasons[:1])) for case in found]
    open_values = open_values or {}
    provider_q = (query.get("provider_q") or open_values.get("provider_q") or "")[:60]
    current = await policy.policy_of_node(request.user.node_id)
    # Held ratings page on their own (?held_page=), so turning them keeps the cases' page.
    # Searched by provider and filtered by why they were held, with parameters of their own too.
    held_q = (query.get("held_q") or "")[:60]
    held_reason = paging.one_of(query.get("held_reason"), ratings.HOLD_REASONS)
    held, held_total, held_page = await ratings.held_page(
        request.user, paging.page_number(query.get("held_page")), q=held_q, reason=held_reason
    )
    return Template(
        template_name="evaluation/console_cases.html",
        status_code=status,
        context={
            "cases": found,
            "pager": paging.Pager.of(request, total, page),
            "q": q,
            "status": case_status,
            "kind": kind,
            "held": held,
            "held_q": held_q,
            "held_reason": held_reason,
            "case_page": page,
            "held_clear": "/console/cases?"
            + paging.query_string(
                query, held_q=None, held_reason=None, held_page=None, **dict.fromkeys(paging.TRANSIENT)
            )
            + "#held",
            "held_pager": paging.Pager.of(request, held_total, held_page, param="held_page", anchor="held"),
            **paging.bulk_outcome(request, ("count", "exclude")),
            "provider_q": provider_q,
            "provider_choices": await cases.providers_to_pick(request.user, provider_q),
            "open_error": form_error(open_error) if open_error else None,
            "open_values": open_values,
            "policy": current,
            "error": error,
        },
    )


@post("/console/cases/new", guards=[guards.operator], include_in_schema=False)
async def console_open_case(request: Request) -> Response:
    """An operator opens a delisting case by hand: the provider found by name, and the reason."""
    form = await _form(request)
    provider_id = form_id(form.get("provider_id"))
    try:
        if provider_id is None:
            raise Invalid("Find the provider and choose it.", field="provider_id")
        case_id = await cases.open_case_by_hand(request.user, provider_id, form.get("reason") or "")
    except DomainError as error:
        if error.status in (401, 403):
            raise
        return await _cases_page(request, status=error.status, open_error=error, open_values=form)
    return Redirect(path=f"/console/cases/{case_id}")


@get("/console/cases", guards=[guards.operator], include_in_schema=False)
async def console_cases(request: Request) -> Template:
    return await _cases_page(request)


# The evaluation policy, edited as a form ---------------------------------------------------------

GENERAL_FIELDS = ("min_ratings", "min_honoured_answers", "min_redemptions", "improve_days")
LEVEL_FIELDS = ("satisfaction_below", "honoured_low_below", "complaints_per_100_above", "missed_responses_at_least")
WHOLE = {"min_ratings", "min_honoured_answers", "min_redemptions", "improve_days", "missed_responses_at_least"}
# The prepaid section (issue 17): amounts in whole yuan on the form, fen in the rules.
PREPAID_YUAN = ("membership_max_fen", "package_max_fen", "member_total_max_fen", "provider_outstanding_max_fen")
PREPAID_WHOLE = ("membership_max_months", "package_max_sessions", "cooling_off_days", *policy.PREPAID_SIGNALS)
DRAW_FIELDS = ("notice_days",)  # the policy's "draws" section, as fields draws.<name>
WHOLE |= set(DRAW_FIELDS)


def _policy_values(rules: dict) -> dict[str, str]:
    """The form's fields from rules ("discount honoured" as a percentage)."""
    values = {name: str(rules[name]) for name in GENERAL_FIELDS}
    for level in policy.LEVELS:
        for name in LEVEL_FIELDS:
            number = rules["levels"][level][name]
            if name == "honoured_low_below":
                number = round(number * 100, 1)
            values[f"{level}.{name}"] = f"{number:g}"
    prepaid = prepaid_rules.effective(rules.get("prepaid"))
    for name in PREPAID_YUAN:
        fen = prepaid[name]
        values[f"prepaid.{name}"] = "" if fen is None else f"{fen / 100:g}"
    for name in PREPAID_WHOLE:
        values[f"prepaid.{name}"] = str(prepaid[name])
    values["prepaid.release"] = prepaid["release"]
    values["prepaid.refund_subsidy_to_node"] = "yes" if prepaid["refund_subsidy_to_node"] else "no"
    draws = policy.draw_rules(rules)
    for name in DRAW_FIELDS:
        values[f"draws.{name}"] = str(draws[name])
    return values


def _prepaid_range_message(name: str) -> str:
    low, high = policy.PREPAID_LIMITS[name]
    if name in PREPAID_YUAN:
        return _("Enter a whole number of yuan from %(low)s to %(high)s.") % {
            "low": f"{low // 100:,}",
            "high": f"{high // 100:,}",
        }
    return _("Enter a whole number from %(low)s to %(high)s.") % {"low": low, "high": high}


def _prepaid_rules(values: dict, errors: dict[str, str]) -> dict:
    """The prepaid section from the form (yuan to fen); problems added to `errors` by field."""
    section: dict = {}
    for name in PREPAID_YUAN + PREPAID_WHOLE:
        field = f"prepaid.{name}"
        text = (values.get(field) or "").strip().replace(",", "").replace("，", "").removeprefix("¥")
        if not text and name in policy.PREPAID_OPTIONAL:
            section[name] = None
            continue
        try:
            number = int(text)
        except ValueError:
            errors[field] = _prepaid_range_message(name)
            continue
        number = number * 100 if name in PREPAID_YUAN else number
        low, high = policy.PREPAID_LIMITS[name]
        if not low <= number <= high:
            errors[field] = _prepaid_range_message(name)
        section[name] = number
    # The two choices are select boxes, always sent by the page; a client that leaves them
    # out keeps the defaults.
    defaults = policy.DEFAULT_RULES["prepaid"]
    section["release"] = values.get("prepaid.release", defaults["release"])
    if section["release"] not in policy.RELEASES:
        errors["prepaid.release"] = _("Choose per session or monthly.")
    refund = values.get("prepaid.refund_subsidy_to_node", "yes" if defaults["refund_subsidy_to_node"] else "no")
    if refund not in ("yes", "no"):
        errors["prepaid.refund_subsidy_to_node"] = _("Say whether the subsidy goes back to the union.")
    section["refund_subsidy_to_node"] = refund == "yes"
    return section


def _range_message(name: str) -> str:
    low, high = policy.RULE_LIMITS.get(name) or policy.DRAW_LIMITS.get(name) or policy.LEVEL_LIMITS[name]
    if name == "honoured_low_below":
        return _("Enter a percentage from %(low)s to %(high)s.") % {"low": f"{low * 100:g}", "high": f"{high * 100:g}"}
    if name in WHOLE:
        return _("Enter a whole number from %(low)s to %(high)s.") % {"low": low, "high": high}
    return _("Enter a number from %(low)s to %(high)s.") % {"low": f"{low:g}", "high": f"{high:g}"}


def _policy_rules(values: dict) -> tuple[dict, dict[str, str]]:
    """Rules from the form, and the problems by field (in the viewer's language)."""
    errors: dict[str, str] = {}

    def number(field: str, name: str):
        text = (values.get(field) or "").strip().replace("%", "").replace("％", "")
        try:
            result = int(text) if name in WHOLE else float(text)
        except ValueError:
            errors[field] = _range_message(name)
            return None
        return result / 100 if name == "honoured_low_below" else result

    rules: dict = {name: number(name, name) for name in GENERAL_FIELDS}
    rules["levels"] = {
        level: {name: number(f"{level}.{name}", name) for name in LEVEL_FIELDS} for level in policy.LEVELS
    }
    rules["prepaid"] = _prepaid_rules(values, errors)
    rules["draws"] = {name: number(f"draws.{name}", name) for name in DRAW_FIELDS}
    return rules, errors


def _policy_error_field(error: DomainError) -> tuple[str | None, str]:
    """Where a refused policy goes on the form, and what to say: a number out of range in the
    form's own unit (a percentage where the rules keep a fraction), anything else as refused."""
    field = (error.field or "").removeprefix("rules.").removeprefix("levels.")
    name = field.rsplit(".", 1)[-1]
    if field.startswith("prepaid."):
        return field, _prepaid_range_message(name) if name in policy.PREPAID_LIMITS else error.translated()
    if name in policy.RULE_LIMITS or name in policy.LEVEL_LIMITS or name in policy.DRAW_LIMITS:
        return field, _range_message(name)
    return None, error.translated()


async def _policy_page(
    request: Request,
    *,
    values: dict | None = None,
    errors: dict | None = None,
    form_error_text: str | None = None,
    preview: list | None = None,
    status: int = 200,
    published: bool = False,
) -> Template:
    current = await policy.policy_of_node(request.user.node_id)
    return Template(
        template_name="evaluation/console_policy.html",
        status_code=status,
        context={
            "policy": current,
            "values": values or _policy_values(current["rules"]),
            "errors": errors or {},
            "form_error": form_error_text,
            "preview": preview,
            "levels": policy.LEVELS,
            "releases": policy.RELEASES,
            "published": published or request.query_params.get("published") == "1",
        },
    )


@get("/console/policy", guards=[guards.operator], include_in_schema=False)
async def console_policy(request: Request) -> Template:
    return await _policy_page(request)


@post("/console/policy", guards=[guards.operator], include_in_schema=False)
async def console_policy_publish(request: Request) -> Response:
    """First a preview of which providers would move between levels, then (confirm=1) a new version."""
    form = await _form(request)
    values = {key: str(value)[:20] for key, value in form.items() if key in GENERAL_FIELDS or "." in key}
    rules, errors = _policy_rules(values)
    if errors:
        return await _policy_page(request, values=values, errors=errors, status=422)
    try:
        if form.get("confirm") != "1":
            nothing_changed(request)
            moves = await policy.preview_policy(request.user, request.user.node_id, rules)
            return await _policy_page(request, values=values, preview=moves)
        await policy.publish_policy(request.user, request.user.node_id, rules)
    except DomainError as error:
        if error.status in (401, 403):
            raise
        field, message = _policy_error_field(error)
        return await _policy_page(
            request,
            values=values,
            errors={field: message} if field else {},
            form_error_text=None if field else message,
            status=error.status,
        )
    return Redirect(path="/console/policy?published=1")


async def _evidence(provider_id: int) -> dict:
    """The ratings and complaints behind a case's figures: the latest low ratings and the
    latest complaints of the provider, with how many there are in all."""
    low, low_n = await ratings.low_of_provider(provider_id)
    filed, filed_n = await complaints.latest_of_provider(provider_id)
    return {"low_ratings": low, "complaints": filed, "low_ratings_n": low_n, "complaints_n": filed_n}


async def _readable_reasons(reasons: list[dict]) -> list[dict]:
    """A case's reasons with what the page needs to say them: the staff account's name, the
    local time of a night redemption."""
    result = []
    for reason in reasons:
        reason = dict(reason)
        if reason.get("code") == "staff_burst" and reason.get("staff_id"):
            user = await providers.get_user(reason["staff_id"])
            reason["staff_name"] = user["display_name"] if user else None
        if reason.get("code") == "night_redemption" and reason.get("at"):
            with contextlib.suppress(ValueError):
                reason["local_time"] = local_time(datetime.fromisoformat(reason["at"]))
        result.append(reason)
    return result


async def _case_page(
    request: Request,
    case_id: int,
    error: DomainError | None = None,
    confirm: dict | None = None,
    explanation: str = "",
) -> Template:
    """A refused decision shows at the explanation typed (kept); an error of no field on top."""
    case = await cases.get_case(request.user, case_id)
    return Template(
        template_name="evaluation/console_case.html",
        status_code=error.status if error else 200,
        context={
            "case": case,
            "reasons": await _readable_reasons(case.reasons),
            "evidence": await _evidence(case.provider_id),
            "history": await policy.standing_history(case.provider_id),
            "confirm": confirm,
            "error": form_error(error, {"explanation": N_("Reason for your decision (the provider reads it)")})
            if error
            else None,
            "explanation": explanation,
        },
    )


@get("/console/cases/{case_id:int}", guards=[guards.operator], include_in_schema=False)
async def console_case(request: Request, case_id: Id) -> Template:
    return await _case_page(request, case_id)


async def _decide(request: Request, case_id: int, choice_field: str, choices: tuple[str, ...], act) -> Response:
    """An operator's decision on a case (or on its appeal), in two steps: first the page says
    what it will do, then (confirm=1) `act(choice, explanation, cancel_vouchers)` does it. A
    refusal shows at the explanation typed (kept); one of no field on top."""
    form = await _form(request)
    choice, explanation = form.get(choice_field), (form.get("explanation") or "").strip()
    cancel_vouchers = choice == "delist" and form.get("cancel_vouchers") == "on"
    try:
        if choice not in choices or not 10 <= len(explanation) <= 4000:
            raise Invalid("Choose a decision and explain it in 10 to 4,000 characters.", field="explanation")
        if form.get("confirm") == "1":
            await act(choice, explanation, cancel_vouchers)
            return Redirect(path=f"/console/cases/{case_id}")
    except DomainError as error:
        return await _case_page(request, case_id, error, explanation=explanation)
    nothing_changed(request)
    confirm = {"action": request.url.path, choice_field: choice, "explanation": explanation}
    return await _case_page(request, case_id, confirm={**confirm, "cancel_vouchers": cancel_vouchers})


@post("/console/cases/{case_id:int}/decision", guards=[guards.operator], include_in_schema=False)
async def console_decide(request: Request, case_id: Id) -> Response:
    return await _decide(
        request,
        case_id,
        "decision",
        ("delist", "keep"),
        lambda decision, explanation, cancel: cases.decide(request.user, case_id, decision, explanation, cancel),
    )


@post("/console/cases/{case_id:int}/appeal-decision", guards=[guards.operator], include_in_schema=False)
async def console_decide_appeal(request: Request, case_id: Id) -> Response:
    return await _decide(
        request,
        case_id,
        "outcome",
        ("upheld", "rejected"),
        lambda outcome, explanation, _cancel: cases.decide_appeal(request.user, case_id, outcome, explanation),
    )


@post("/console/held-ratings/{rating_id:int}", guards=[guards.operator], include_in_schema=False)
async def console_held_verdict(request: Request, rating_id: BigId) -> Response:
    form = await _form(request)
    await ratings.clear_held(request.user, rating_id, form.get("keep") == "yes")
    back = form.get("back") or ""  # the page of held ratings the operator was on
    return Redirect(path=back if back.startswith("/console/cases") else "/console/cases#held")


@post("/console/held-ratings/bulk", guards=[guards.operator], include_in_schema=False)
async def console_held_bulk(request: Request) -> Response:
    """Count or leave out the ticked held ratings with one reason: first a confirmation naming
    each rating, then (confirm=1) the verdicts; back to the cases page."""
    form = await request.form()
    action, reason, back, ids = paging.bulk_request(form, "/console/cases")
    error = None
    if action not in ("count", "exclude"):
        error = _("Choose count or leave out.")
    elif not ids:
        error = _("Tick at least one rating.")
    elif not 2 <= len(reason) <= 500:
        error = _("Give a reason of 2 to 500 characters; it is kept in the audit log.")
    if error or form.get("confirm") != "1":
        chosen = await ratings.held_ratings(request.user, limit=len(ids), ids=ids)
        count = action == "count"
        return paging.bulk_confirm(
            request,
            "console/bulk_confirm.html",
            error=error,
            verb=action,
            back=back,
            reason=reason,
            ids=[rating["id"] for rating in chosen],
            path="/console/held-ratings/bulk",
            nav="cases",
            kicker=_("Held ratings"),
            title=_("Count held ratings") if count else _("Leave held ratings out"),
            question=(
                ngettext("Count %(n)s rating?", "Count these %(n)s ratings?", len(chosen))
                if count
                else ngettext(
                    "Leave %(n)s rating out for good?", "Leave these %(n)s ratings out for good?", len(chosen)
                )
            )
            % {"n": len(chosen)},
            lines=[
                _("%(provider)s · %(stars)s of 5 stars · %(comment)s")
                % {
                    "provider": rating["provider_name"],
                    "stars": rating["overall"],
                    "comment": (rating["comment"] or "—")[:60],
                }
                for rating in chosen
            ],
            consequences=[
                _("They count in the providers' scores from now on.")
                if count
                else _("They never count in the providers' scores."),
                _("Your reason, kept in the audit log: %(reason)s") % {"reason": reason},
            ],
            danger=not count,
            confirm_label=(_("Count %(n)s") if count else _("Leave out %(n)s")) % {"n": len(chosen)},
        )
    done, failed = await paging.apply_to_each(
        ids, lambda rating_id: ratings.clear_held(request.user, rating_id, action == "count", reason)
    )
    return Redirect(path=paging.back_with(back, action, done, failed))


ROUTES: list = [
    provider_standing,
    provider_appeal,
    console_cases,
    console_policy,
    console_policy_publish,
    console_open_case,
    console_case,
    console_decide,
    console_decide_appeal,
    console_held_verdict,
    console_held_bulk,
]
