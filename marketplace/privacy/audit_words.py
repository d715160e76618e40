"""The audit log in words: a sentence for each kind of action, and for each route whose
change the audit middleware records (marketplace/core/audit/middleware.py), with the page of
the thing it changed. English msgids, translated when the page renders them."""

import re

from marketplace.core.web.nav import N_

# Actions recorded by the services, with their own subject.
ACTIONS = {
    "member.reveal": N_("saw the full phone or ID number of a member"),
    "member.transfer": N_("transferred a member to another union"),
    "member.leave": N_("marked a member as having left the union"),
    "member.activate": N_("activated their membership"),
    "member.data_export": N_("downloaded their own data"),
    "member.deleted": N_("deleted their account"),
    "member.anonymised": N_("erased a former member's personal data after the retention period"),
    "operator.created": N_("created an operator account"),
    "operator.changed": N_("changed an operator account"),
    "operator.totp_enabled": N_("turned on two-factor sign-in"),
    "operator.totp_disabled": N_("turned off two-factor sign-in"),
    "node.created": N_("created a union node"),
    "roster.import": N_("imported a member roster"),
    "evaluator.sample_export": N_("exported a follow-up sample"),
    "rating.held_cleared": N_("decided whether a held rating counts"),
    "settlement.approved": N_("approved a settlement statement"),
    "complaint.forwarded": N_("forwarded a complaint to another union or operator"),
    "evaluator_key.issued": N_("issued an API key to an evaluator"),
    "evaluator_key.rotated": N_("replaced an evaluator's API key"),
    "evaluator_key.revoked": N_("revoked an evaluator's API key"),
    "prepaid.sales_frozen": N_("stopped a provider's prepaid sales"),
    "prepaid.sales_resumed": N_("lifted a stop on a provider's prepaid sales"),
    "prepaid.uncovered_resolved": N_("marked a refund the escrow could not cover as resolved"),
}

# Changes that need a second operator (marketplace/core/identity/approvals.py) are recorded
# as "<kind>.proposed", "<kind>.approved" and "<kind>.rejected".
APPROVAL_KINDS = {
    "points_grant": N_("a points grant"),
    "points_adjustment": N_("a correction of a member's points"),
    "statement_close": N_("closing a settlement statement"),
    "payout_account": N_("a provider's payout account"),
}
APPROVAL_STEPS = {
    "proposed": N_("proposed %(change)s, waiting for a second operator's approval"),
    "approved": N_("approved %(change)s proposed by another operator"),
    "rejected": N_("turned down %(change)s proposed by another operator"),
}

# Changes through pages and the API (the middleware's "http.post" and so on), by route.
ROUTES = {
    "/console/listings/{offer_id:int}/approve": (N_("approved a listing"), "/console/listings/{}"),
    "/console/listings/{offer_id:int}/reject": (N_("sent a listing back to its provider"), "/console/listings/{}"),
    "/console/listings/bulk": (N_("approved or sent back several listings at once"), None),
    "/console/providers/{provider_id:int}/decide": (N_("decided on a provider's application"), "/console/providers/{}"),
    "/console/cases/new": (N_("opened an enforcement case by hand"), None),
    "/console/cases/{case_id:int}/decision": (N_("decided an enforcement case"), "/console/cases/{}"),
    "/console/cases/{case_id:int}/appeal-decision": (N_("decided an appeal"), "/console/cases/{}"),
    "/console/held-ratings/{rating_id:int}": (N_("decided whether a held rating counts"), None),
    "/console/held-ratings/bulk": (N_("decided whether several held ratings count at once"), None),
    "/console/complaints/bulk": (N_("closed several complaints at once"), None),
    "/console/settlements/bulk": (N_("approved or paid several settlement statements at once"), None),
    "/console/complaints/{complaint_id:int}/close": (
        N_("closed a complaint after mediation"),
        "/console/complaints/{}",
    ),
    "/console/complaints/{complaint_id:int}/forward": (
        N_("forwarded a complaint to another union or operator"),
        "/console/complaints/{}",
    ),
    "/console/prepaid/outside/{outside_id:int}/resolve": (
        N_("marked a refund the escrow could not cover as resolved"),
        None,
    ),
    "/console/policies": (N_("published a new version of the evaluation policy"), None),
    "/console/policy": (N_("published a new version of the evaluation policy"), None),
    "/console/points/grants": (N_("granted points to members"), None),
    "/console/points/adjustments": (N_("corrected a member's points"), None),
    "/console/campaigns": (N_("created a campaign"), None),
    "/console/campaigns/{campaign_id:int}/{action:str}": (
        N_("paused, resumed or ended a campaign"),
        "/console/campaigns/{}",
    ),
    "/console/settlements/draft": (N_("drafted settlement statements"), None),
    "/console/settlements/{statement_id:int}/approve": (
        N_("approved a settlement statement"),
        "/console/settlements/{}",
    ),
    "/console/settlements/{statement_id:int}/pay": (N_("paid a settlement statement"), "/console/settlements/{}"),
    "/console/settlements/{statement_id:int}/payout-account": (
        N_("set a provider's payout account"),
        "/console/settlements/{}",
    ),
    "/console/roster": (N_("uploaded a member roster"), None),
    "/console/members/{member_id:int}/transfer": (N_("transferred a member to another union"), "/console/members/{}"),
    "/console/members/{member_id:int}/leave": (N_("marked a member as having left the union"), "/console/members/{}"),
    "/console/members/{member_id:int}/reveal": (
        N_("saw the full phone or ID number of a member"),
        "/console/members/{}",
    ),
    "/console/team/operators": (N_("created an operator account"), None),
    "/console/team/operators/{operator_id:int}": (N_("changed an operator account"), None),
    "/console/team/nodes": (N_("created a union node"), None),
    "/console/security/totp": (N_("turned on two-factor sign-in"), None),
    "/console/security/totp/disable": (N_("turned off two-factor sign-in"), None),
}

# The action menu of the log: what people look for, each to the action names it covers.
MENU = [
    ("member.reveal", N_("Seeing a member's full phone or ID number")),
    ("member.transfer", N_("Member transfers")),
    ("member.leave", N_("Members leaving")),
    ("roster.import", N_("Roster imports")),
    ("operator.", N_("Operator accounts and two-factor sign-in")),
    ("node.created", N_("New union nodes")),
    ("evaluator.sample_export", N_("Follow-up sample exports")),
    ("complaint.forwarded", N_("Complaints forwarded")),
    ("evaluator_key.", N_("Evaluators' API keys")),
    ("prepaid.", N_("Prepaid sales stopped and uncovered refunds resolved")),
    ("http.", N_("Other changes made in the console and the portal")),
]

ROLES = {
    "administrator": N_("Administrator"),
    "reviewer": N_("Reviewer"),
    "analyst": N_("Analyst"),
    "owner": N_("Owner"),
    "staff": N_("Front-desk staff"),
}
SUBJECTS = {
    "member": N_("Member"),
    "operator": N_("Operator account"),
    "union_node": N_("Union node"),
    "roster_import": N_("Roster import"),
    "evaluator_org": N_("Evaluator"),
    "complaint": N_("Complaint"),
    "approval_request": N_("Change waiting for approval"),
    "provider": N_("Provider"),
    "prepaid_outside_refund": N_("Refund made in Stripe"),
}


def _shape(route: str) -> str:
    """A route with its parameters blanked: "/console/cases/{case_id:int}/decision" → "/console/cases/{}/decision"."""
    return re.sub(r"\{[^}]*\}", "{}", route.removeprefix("/api/v1"))


_BY_SHAPE = {_shape(route): words for route, words in ROUTES.items()}


def describe(event: dict) -> dict:
    """What the log shows for one event: the sentence's msgid and, for a change through a
    page, the link to the thing it changed."""
    if event["action"] in ACTIONS:
        return {"sentence": ACTIONS[event["action"]], "link": None}
    kind, _, step = event["action"].rpartition(".")
    if kind in APPROVAL_KINDS and step in APPROVAL_STEPS:
        return {"sentence": APPROVAL_STEPS[step], "params": {"change": APPROVAL_KINDS[kind]}, "link": None}
    details = event.get("details") or {}
    route = details.get("route") or ""
    sentence, link = _BY_SHAPE.get(_shape(route), (N_("made another change"), None))
    href = None
    if link:
        number = re.search(r"/(\d+)(?:/|$)", details.get("path") or "")
        href = link.format(number.group(1)) if number else None
    return {"sentence": sentence, "link": href}
