"""Enforcement: a published, versioned policy moves providers between standings.

    good → watch → warning → probation → (a case, an operator's decision) → delisted

- `assess` reads a provider's scorecard against the policy's thresholds: each level has
  thresholds for satisfaction (Bayesian average), the lower Wilson bound of "discount
  honoured", complaints per 100 redemptions and missed complaint responses. A figure
  whose sample is below the policy's minimum never counts, so a provider with three
  ratings is never moved by one bad one.
- `step` is the state machine. The policy moves a provider up one level when its
  figures call for a higher one, or when it stays below the bar past the deadline it was
  given to improve; at most to probation. Each move sends a notice with the reasons and
  a new deadline. Figures that recover move it straight back down.
- At probation, a missed deadline opens a delisting case: only an operator, looking at
  the evidence (the figures, the ratings and complaints behind them, the policy version),
  delists. The provider may appeal once per case; an operator decides the appeal. Every
  decision is kept with its explanation, for the provider to read.
- Delisting sets the provider `delisted` (its offers leave search through the provider's
  status event, and claims stop, as claims require an active provider). Issued vouchers
  stay redeemable unless the operator chooses to cancel and refund them.

This module is the policy and the standings; cases.py the operators' and providers'
work on cases; delisting.py what a decision to delist does.
"""

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import structlog

from evaluation.enforcement import freeze
from evaluation.schemas import StandingEventRead, StandingRead
from marketplace.core import dates
from marketplace.core.db import engine
from marketplace.core.errors import Invalid, NotFound
from marketplace.core.federation import scope
from marketplace.core.identity import guards
from marketplace.core.identity.principal import Principal

log = structlog.get_logger(__name__)

STATES = ("good", "watch", "warning", "probation", "delisted")
LEVELS = ("watch", "warning", "probation")

# The policy that applies where no federation node has published one (version 0).
DEFAULT_RULES: dict[str, Any] = {
    "min_ratings": 10,  # satisfaction counts from this many ratings
    "min_honoured_answers": 10,  # "discount honoured" counts from this many answers
    "min_redemptions": 20,  # the complaint rate counts from this many redemptions
    "improve_days": 30,  # the deadline each notice gives
    "levels": {
        "watch": {
            "satisfaction_below": 3.8,
            "honoured_low_below": 0.85,
            "complaints_per_100_above": 3.0,
            "missed_responses_at_least": 2,
        },
        "warning": {
            "satisfaction_below": 3.5,
            "honoured_low_below": 0.75,
            "complaints_per_100_above": 5.0,
            "missed_responses_at_least": 4,
        },
        "probation": {
            "satisfaction_below": 3.2,
            "honoured_low_below": 0.6,
            "complaints_per_100_above": 8.0,
            "missed_responses_at_least": 6,
        },
    },
    # Prepaid packages (issue 17), defaults from Shanghai's rule for gyms: caps per package,
    # per member and per provider (null: no cap), the cooling-off days, how escrow reaches
    # the provider ("per_session", or "monthly" pro rata), and whether a refund gives the
    # union's subsidy back to the node that paid it. evaluation/enforcement/prepaid_rules.py
    # reads it.
    "prepaid": {
        "membership_max_fen": 500000,
        "membership_max_months": 24,
        "package_max_fen": 2000000,
        "package_max_sessions": 60,
        "member_total_max_fen": 2000000,
        "provider_outstanding_max_fen": None,
        "cooling_off_days": 7,
        "release": "per_session",
        "refund_subsidy_to_node": True,
        # The risk signals that stop a provider's new package sales (freeze.py): weekly
        # redemptions of the last two weeks below this percentage of the eight weeks before,
        # when those had at least this many a week; complaints of the last two weeks at least
        # this many times the usual and at least this many; at least this many approved
        # statements unpaid this many days after approval.
        "collapse_below_percent": 30,
        "collapse_min_weekly": 5,
        "spike_times": 3,
        "spike_min": 5,
        "missed_days": 14,
        "missed_min": 2,
    },
    # Fair draws (marketplace/draws): days the 公示 shows winners' and the waitlist's masked
    # names after a draw, counted from the draw; then tickets only.
    "draws": {"notice_days": 30},
}

REASON_TEXT = {
    "satisfaction": "满意度 {value:.2f}（{n} 条评价）低于 {threshold}",
    "honoured": "“按承诺兑现优惠”下限 {value:.0%}（{n} 次回答）低于 {threshold:.0%}",
    "complaints": "每百次核销投诉 {value:.1f} 件（{n} 次核销）高于 {threshold}",
    "missed_responses": "{value} 件投诉未在时限内答复（不少于 {threshold} 件）",
}


def assess(figures: dict | None, rules: dict) -> tuple[str, list[dict]]:
    """The level the figures call for, and the reasons (each with its figure, threshold and
    sample size). No figures, or samples below the minimums, call for nothing: 'good'."""
    if not figures:
        return "good", []
    target, reasons = "good", []
    for level in LEVELS:
        bar = rules["levels"][level]
        found = []
        if (
            (figures.get("ratings_n") or 0) >= rules["min_ratings"]
            and figures.get("satisfaction") is not None
            and figures["satisfaction"] < bar["satisfaction_below"]
        ):
            found.append(
                {
                    "code": "satisfaction",
                    "value": figures["satisfaction"],
                    "n": figures["ratings_n"],
                    "threshold": bar["satisfaction_below"],
                }
            )
        if (
            (figures.get("honoured_n") or 0) >= rules["min_honoured_answers"]
            and figures.get("honoured_low") is not None
            and figures["honoured_low"] < bar["honoured_low_below"]
        ):
            found.append(
                {
                    "code": "honoured",
                    "value": figures["honoured_low"],
                    "n": figures["honoured_n"],
                    "threshold": bar["honoured_low_below"],
                }
            )
        if (
            (figures.get("redemptions_n") or 0) >= rules["min_redemptions"]
            and figures.get("complaints_per_100") is not None
            and figures["complaints_per_100"] > bar["complaints_per_100_above"]
        ):
            found.append(
                {
                    "code": "complaints",
                    "value": figures["complaints_per_100"],
                    "n": figures["redemptions_n"],
                    "threshold": bar["complaints_per_100_above"],
                }
            )
        if (figures.get("missed_responses_n") or 0) >= bar["missed_responses_at_least"]:
            found.append(
                {
                    "code": "missed_responses",
                    "value": figures["missed_responses_n"],
                    "n": figures.get("complaints_n") or 0,
                    "threshold": bar["missed_responses_at_least"],
                }
            )
        if found:
            target, reasons = level, found
    for reason in reasons:
        reason["text"] = REASON_TEXT[reason["code"]].format(**reason)
    return target, reasons


def step(state: str, deadline: datetime | None, target: str, now: datetime) -> tuple[str, str | None]:
    """The policy's move: (the new state, 'open_case' when a delisting case is due)."""
    if state == "delisted":
        return state, None  # only an operator's decision on an appeal brings it back
    current, wanted = STATES.index(state), STATES.index(target)
    overdue = deadline is not None and now >= deadline
    if wanted < current:
        return target, None  # the figures recovered
    if state == "probation":
        return state, ("open_case" if overdue and wanted > 0 else None)
    if wanted > current or (overdue and current > 0):
        return STATES[current + 1], None
    return state, None


# Policies ----------------------------------------------------------------------------------------


async def policy_in_force(connection, provider_id: int) -> tuple[int | None, int, dict]:
    """(policy id, version, rules) of the nearest node above the provider with a policy."""
    row = await connection.fetchrow(
        "SELECT ep.id, ep.version, ep.rules FROM provider p JOIN union_node pn ON pn.id = p.node "
        "JOIN union_node n ON pn.path LIKE n.path || '%' JOIN enforcement_policy ep ON ep.node = n.id "
        "WHERE p.id = $1 ORDER BY n.depth DESC, ep.version DESC LIMIT 1",
        provider_id,
    )
    if row is None:
        return None, 0, DEFAULT_RULES
    return row["id"], row["version"], json.loads(row["rules"])


RULE_LIMITS: dict[str, tuple[float, float]] = {
    "min_ratings": (1, 1000),
    "min_honoured_answers": (1, 1000),
    "min_redemptions": (1, 100000),
    "improve_days": (1, 365),
}
LEVEL_LIMITS = {
    "satisfaction_below": (1.0, 5.0),
    "honoured_low_below": (0.0, 1.0),
    "complaints_per_100_above": (0.0, 100.0),
    "missed_responses_at_least": (1, 1000),
}

DRAW_LIMITS: dict[str, tuple[int, int]] = {"notice_days": (1, 365)}


def _not_stricter(key: str) -> Invalid:
    return Invalid(
        "Levels must get stricter from watch to warning to probation: lower satisfaction and "
        "honoured thresholds, higher complaint and missed-answer thresholds.",
        field="rules.levels",
        rule=key,
    )


# The prepaid section: whole numbers in these ranges (a cap of None means no cap where allowed).
PREPAID_LIMITS: dict[str, tuple[int, int]] = {
    "membership_max_fen": (100, 100_000_000),
    "membership_max_months": (1, 120),
    "package_max_fen": (100, 100_000_000),
    "package_max_sessions": (1, 1000),
    "member_total_max_fen": (100, 1_000_000_000),
    "provider_outstanding_max_fen": (100, 10_000_000_000),
    "cooling_off_days": (0, 90),
    "collapse_below_percent": (1, 99),
    "collapse_min_weekly": (1, 10_000),
    "spike_times": (2, 50),
    "spike_min": (1, 10_000),
    "missed_days": (1, 90),
    "missed_min": (1, 24),
}
PREPAID_OPTIONAL = {"provider_outstanding_max_fen"}
# The freeze signals' thresholds came after the caps: a client sending the earlier shape of
# the section keeps their defaults.
PREPAID_SIGNALS = (
    "collapse_below_percent",
    "collapse_min_weekly",
    "spike_times",
    "spike_min",
    "missed_days",
    "missed_min",
)
RELEASES = ("per_session", "monthly")


def check_prepaid(section: dict | None) -> dict:
    """The prepaid section of a new policy version; a policy written before prepaid packages
    existed (no section) takes the defaults."""
    if section is None:
        return dict(DEFAULT_RULES["prepaid"])
    checked: dict = {}
    for key, (low, high) in PREPAID_LIMITS.items():
        value = section.get(key, DEFAULT_RULES["prepaid"][key] if key in PREPAID_SIGNALS else None)
        if value is None and key in PREPAID_OPTIONAL:
            checked[key] = None
            continue
        if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
            raise Invalid(
                "Enter a whole number from %(low)s to %(high)s.",
                code="prepaid_rule_out_of_range",
                field=f"rules.prepaid.{key}",
                params={"low": low, "high": high},
            )
        checked[key] = value
    if section.get("release") not in RELEASES:
        raise Invalid("Choose per session or monthly.", code="prepaid_release_unknown", field="rules.prepaid.release")
    checked["release"] = section["release"]
    if not isinstance(section.get("refund_subsidy_to_node"), bool):
        raise Invalid(
            "Say whether the subsidy goes back to the union.",
            code="prepaid_refund_unknown",
            field="rules.prepaid.refund_subsidy_to_node",
        )
    checked["refund_subsidy_to_node"] = section["refund_subsidy_to_node"]
    if checked["member_total_max_fen"] < max(checked["membership_max_fen"], checked["package_max_fen"]):
        raise Invalid(
            "A member's total must allow at least one package at the cap.",
            code="prepaid_member_total_below_package",
            field="rules.prepaid.member_total_max_fen",
        )
    return checked


def check_rules(rules: dict) -> dict:
    """The rules of a new policy version, every number in its range and the levels in
    order (probation no milder than warning, warning no milder than watch)."""
    checked: dict = {}
    for key, (low, high) in RULE_LIMITS.items():
        value = rules.get(key)
        if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
            raise Invalid(
                "Enter a whole number from %(low)s to %(high)s.",
                field=f"rules.{key}",
                params={"low": low, "high": high},
            )
        checked[key] = value
    levels = rules.get("levels") or {}
    checked["levels"] = {}
    for level in LEVELS:
        bar = levels.get(level) or {}
        checked["levels"][level] = {}
        for key, (low, high) in LEVEL_LIMITS.items():
            value = bar.get(key)
            if not isinstance(value, (int, float)) or isinstance(value, bool) or not low <= value <= high:
                raise Invalid(
                    "Enter a number from %(low)s to %(high)s.",
                    field=f"rules.levels.{level}.{key}",
                    params={"low": f"{low:g}", "high": f"{high:g}"},
                )
            checked["levels"][level][key] = value
    watch, warning, probation = (checked["levels"][level] for level in LEVELS)
    for key in ("satisfaction_below", "honoured_low_below"):
        if not watch[key] >= warning[key] >= probation[key]:
            raise _not_stricter(key)
    for key in ("complaints_per_100_above", "missed_responses_at_least"):
        if not watch[key] <= warning[key] <= probation[key]:
            raise _not_stricter(key)
    prepaid = rules.get("prepaid")
    if prepaid is not None and not isinstance(prepaid, dict):
        raise Invalid("Give the prepaid rules as an object.", code="prepaid_rules_shape", field="rules.prepaid")
    checked["prepaid"] = check_prepaid(prepaid)
    checked["draws"] = check_draw_rules(rules.get("draws"))
    return checked


def check_draw_rules(section: object) -> dict:
    """The draws section; left out (a client of an earlier policy shape), the defaults."""
    if section is None:
        return dict(DEFAULT_RULES["draws"])
    if not isinstance(section, dict):
        raise Invalid("The draws section must be an object.", field="rules.draws")
    checked = {}
    for key, (low, high) in DRAW_LIMITS.items():
        value = section.get(key, DEFAULT_RULES["draws"][key])
        if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
            raise Invalid(
                "Enter a whole number from %(low)s to %(high)s.",
                code="out_of_range",
                field=f"rules.draws.{key}",
                params={"low": low, "high": high},
            )
        checked[key] = value
    return checked


def draw_rules(rules: dict) -> dict:
    """The draws section of rules in force (a version published before it existed: the defaults)."""
    return {**DEFAULT_RULES["draws"], **(rules.get("draws") or {})}


async def draw_notice_days(connection, node_id: int) -> int:
    """Days the 公示 of a draw of this node shows masked names: the policy in force at the
    node (its own latest version, or the nearest above it), in the caller's transaction."""
    rules = await connection.fetchval(
        "SELECT ep.rules FROM union_node me JOIN union_node n ON me.path LIKE n.path || '%' "
        "JOIN enforcement_policy ep ON ep.node = n.id WHERE me.id = $1 ORDER BY n.depth DESC, ep.version DESC LIMIT 1",
        node_id,
    )
    return int(draw_rules(json.loads(rules) if rules else DEFAULT_RULES)["notice_days"])


async def publish_policy(principal: Principal, node_id: int, rules: dict) -> dict:
    """A new version of the policy of a node in the operator's scope; earlier versions and
    the cases decided under them stay as they were."""
    require_operator(principal)
    checked = check_rules(rules)
    async with engine().transaction() as transaction:
        connection = transaction.connection
        path = await connection.fetchval("SELECT path FROM union_node WHERE id = $1", node_id)
        scope.require_covers(
            principal, path, NotFound("No such union node in your scope.", code="node_not_found", field="node_id")
        )
        await connection.execute("SELECT pg_advisory_xact_lock(hashtext('enforcement_policy'), $1)", node_id)
        version = await connection.fetchval(
            "INSERT INTO enforcement_policy (node, version, rules, created_at, created_by) "
            "SELECT $1, coalesce(max(version), 0) + 1, $2::jsonb, now(), $3 FROM enforcement_policy WHERE node = $1 "
            "RETURNING version",
            node_id,
            json.dumps(checked),
            principal.id,
        )
    log.info("enforcement_policy_published", node_id=node_id, version=version, operator_id=principal.id)
    return {"node_id": node_id, "version": version, "rules": checked}


async def policy_of_node(node_id: int) -> dict:
    """The policy in force at a node: its own latest version, or the nearest above it."""
    async with engine().transaction() as transaction:
        row = await transaction.connection.fetchrow(
            "SELECT ep.version, ep.rules, n.id = $1 AS own FROM union_node me "
            "JOIN union_node n ON me.path LIKE n.path || '%' JOIN enforcement_policy ep ON ep.node = n.id "
            "WHERE me.id = $1 ORDER BY n.depth DESC, ep.version DESC LIMIT 1",
            node_id,
        )
    if row is None:
        return {"version": 0, "rules": DEFAULT_RULES, "own": False}
    return {"version": row["version"], "rules": json.loads(row["rules"]), "own": row["own"]}


async def policy_for_provider(provider_id: int) -> dict:
    """The policy a provider is held to, as it may read it."""
    async with engine().transaction() as transaction:
        _, version, rules = await policy_in_force(transaction.connection, provider_id)
    return {"version": version, "rules": rules}


# The policy at work ------------------------------------------------------------------------------


async def figures_of(connection, provider_id: int) -> dict | None:
    row = await connection.fetchrow("SELECT * FROM provider_scorecard WHERE provider = $1", provider_id)
    if row is None:
        return None
    return {key: (value.isoformat() if isinstance(value, datetime) else value) for key, value in dict(row).items()}


async def record_event(
    connection,
    provider_id: int,
    from_state: str | None,
    to_state: str | None,
    message: str,
    actor_kind: str,
    actor_id: int | None = None,
    case_id: int | None = None,
) -> None:
    await connection.execute(
        "INSERT INTO standing_event (provider, case_id, from_state, to_state, message, actor_kind, actor_id, "
        "created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, now())",
        provider_id,
        case_id,
        from_state,
        to_state,
        message,
        actor_kind,
        actor_id,
    )


STATE_NAMES = {"good": "良好", "watch": "关注", "warning": "警告", "probation": "整改观察", "delisted": "已下架"}


async def evaluate_provider(provider_id: int, now: datetime | None = None) -> str:
    """Apply the policy to one provider's current scorecard; its state afterwards."""
    now = now or datetime.now(UTC)
    async with engine().transaction() as transaction:
        connection = transaction.connection
        await connection.execute(
            "INSERT INTO provider_standing (provider, since) VALUES ($1, $2) ON CONFLICT (provider) DO NOTHING",
            provider_id,
            now,
        )
        standing = await connection.fetchrow(
            "SELECT state, deadline FROM provider_standing WHERE provider = $1 FOR UPDATE", provider_id
        )
        policy_id, version, rules = await policy_in_force(connection, provider_id)
        figures = await figures_of(connection, provider_id)
        target, reasons = assess(figures, rules)
        state, action = step(standing["state"], standing["deadline"], target, now)
        if state != standing["state"]:
            deadline = now + timedelta(days=rules["improve_days"]) if state != "good" else None
            await connection.execute(
                "UPDATE provider_standing SET state = $2, since = $3, deadline = $4, policy = $5, reasons = $6::jsonb "
                "WHERE provider = $1",
                provider_id,
                state,
                now,
                deadline,
                policy_id,
                json.dumps(reasons),
            )
            if STATES.index(state) > STATES.index(standing["state"]):
                assert deadline is not None  # a worse state than before is never "good"
                message = (
                    f"依据评价政策第 {version} 版，您的状态由“{STATE_NAMES[standing['state']]}”调整为"
                    f"“{STATE_NAMES[state]}”。原因：{'；'.join(r['text'] for r in reasons) or '未在期限内改善'}。"
                    f"请在 {deadline.astimezone(dates.zone()):%Y-%m-%d} 前改善。"
                )
            else:
                message = f"您的评价指标已改善，状态由“{STATE_NAMES[standing['state']]}”恢复为“{STATE_NAMES[state]}”。"
            await record_event(connection, provider_id, standing["state"], state, message, "policy")
            await freeze.follow_standing(connection, provider_id, state)  # prepaid sales stop at once on probation
        elif standing["state"] != "delisted":
            await connection.execute(
                "UPDATE provider_standing SET reasons = $2::jsonb WHERE provider = $1", provider_id, json.dumps(reasons)
            )
        if action == "open_case":
            await open_case(connection, provider_id, "delisting", policy_id, figures or {}, reasons)
    return state


async def evaluate_all(now: datetime | None = None) -> dict[str, int]:
    """The periodic run: every provider with a scorecard or a standing; counts per state."""
    async with engine().transaction() as transaction:
        rows = await transaction.connection.fetch(
            "SELECT provider FROM provider_scorecard UNION SELECT provider FROM provider_standing ORDER BY 1"
        )
    counts: dict[str, int] = {}
    for row in rows:
        state = await evaluate_provider(row["provider"], now)
        counts[state] = counts.get(state, 0) + 1
    return counts


async def open_case(
    connection, provider_id: int, kind: str, policy_id: int | None, figures: dict, reasons: list[dict]
) -> int | None:
    case_id = await connection.fetchval(
        "INSERT INTO enforcement_case (provider, kind, policy, figures, reasons, opened_at) "
        "VALUES ($1, $2, $3, $4::jsonb, $5::jsonb, now()) ON CONFLICT DO NOTHING RETURNING id",
        provider_id,
        kind,
        policy_id,
        json.dumps(figures),
        json.dumps(reasons),
    )
    if case_id is not None:
        log.info("enforcement_case_opened", provider_id=provider_id, case_id=case_id, kind=kind)
        await freeze.follow_case(connection, provider_id, kind, is_open=True)  # prepaid sales stop at once
        if kind == "delisting":
            await record_event(
                connection,
                provider_id,
                None,
                None,
                "整改观察期已满而指标仍未达标，已提交运营人员审核是否下架。",
                "policy",
                case_id=case_id,
            )
    return case_id


async def open_integrity_case(connection, provider_id: int, reasons: list[dict]) -> int | None:
    """Signals of fake redemptions (bursts by one staff account, night-time redemptions):
    a case for operators to look into; one open at a time, later signals join it."""
    existing = await connection.fetchval(
        "SELECT id FROM enforcement_case WHERE provider = $1 AND kind = 'integrity' AND status = 'open' FOR UPDATE",
        provider_id,
    )
    if existing is not None:
        await connection.execute(
            "UPDATE enforcement_case SET reasons = reasons || $2::jsonb WHERE id = $1", existing, json.dumps(reasons)
        )
        return existing
    return await open_case(connection, provider_id, "integrity", None, {}, reasons)


# Operators and providers ---------------------------------------------------------------------------


def require_operator(principal: Principal) -> None:
    guards.require_operator(principal)


async def assessed_standing(provider_id: int) -> StandingRead | None:
    """The provider's standing, None until the policy has assessed it."""
    async with engine().transaction() as transaction:
        row = await transaction.connection.fetchrow(
            "SELECT s.*, ep.version FROM provider_standing s LEFT JOIN enforcement_policy ep ON ep.id = s.policy "
            "WHERE s.provider = $1",
            provider_id,
        )
    if row is None:
        return None
    return StandingRead(
        provider_id=provider_id,
        state=row["state"],
        since=row["since"],
        deadline=row["deadline"],
        policy_version=row["version"] or 0,
        reasons=json.loads(row["reasons"]),
    )


async def standing(provider_id: int) -> StandingRead:
    """The provider's standing; "good" until the policy has assessed it."""
    return await assessed_standing(provider_id) or StandingRead(
        provider_id=provider_id, state="good", since=datetime.now(UTC), deadline=None, policy_version=0, reasons=[]
    )


async def standing_history(provider_id: int, limit: int = 50) -> list[StandingEventRead]:
    async with engine().transaction() as transaction:
        rows = await transaction.connection.fetch(
            "SELECT created_at, from_state, to_state, message, actor_kind FROM standing_event WHERE provider = $1 "
            "ORDER BY id DESC LIMIT $2",
            provider_id,
            limit,
        )
    return [
        StandingEventRead(
            at=row["created_at"],
            from_state=row["from_state"],
            to_state=row["to_state"],
            message=row["message"],
            actor_kind=row["actor_kind"],
        )
        for row in rows
    ]


async def preview_policy(principal: Principal, node_id: int, rules: dict) -> list[dict]:
    """Who would move if `rules` were published at `node_id`: each provider held to that
    node's policy (none below with a policy of its own) whose level under the new rules
    differs from its level under the rules in force, with its state now. Checks the rules
    as publishing does."""
    require_operator(principal)
    checked = check_rules(rules)
    current = (await policy_of_node(node_id))["rules"]
    moves = []
    async with engine().transaction() as transaction:
        connection = transaction.connection
        node = await connection.fetchrow("SELECT path, depth FROM union_node WHERE id = $1", node_id)
        scope.require_covers(
            principal,
            node and node["path"],
            NotFound("No such union node in your scope.", code="node_not_found", field="node_id"),
        )
        rows = await connection.fetch(
            "SELECT p.id, p.name, coalesce(s.state, 'good') AS state, sc.* FROM provider p "
            "JOIN union_node pn ON pn.id = p.node LEFT JOIN provider_standing s ON s.provider = p.id "
            "JOIN provider_scorecard sc ON sc.provider = p.id "
            "WHERE pn.path LIKE $1 || '%' AND p.status IN ('active', 'suspended') "
            "AND NOT EXISTS (SELECT 1 FROM union_node n JOIN enforcement_policy ep ON ep.node = n.id "
            "  WHERE pn.path LIKE n.path || '%' AND n.depth > $2) ORDER BY p.name",
            node["path"],
            node["depth"],
        )
    for row in rows:
        figures = dict(row)
        before, _ = assess(figures, current)
        after, reasons = assess(figures, checked)
        if before != after:
            moves.append(
                {
                    "provider_id": row["id"],
                    "name": row["name"],
                    "state": row["state"],
                    "before": before,
                    "after": after,
                    "reasons": reasons,
                }
            )
    return moves
