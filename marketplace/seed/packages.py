"""Prepaid packages in the demo, so the member's 我的套餐, the owner's 预付资金 and the
operator's escrow page have money to show on the first run.

Bought as a member buys one: `prepaid.purchase`, the member's card paying the intent at the
Stripe stand-in (what Stripe.js does in the browser), `payments.check_return`, which holds
the money in escrow; one package taken back within its cooling-off days through
`prepaid.take_back`, refunded through Stripe. Everything happens at the seed's real moment,
nothing is set back: the escrow's months and cooling-off days count from it, and no session
is used, since a session at the counter would be announced at that moment, which at night
is outside the shop's opening hours (the `today` step's rule for the demo counter).

- The demo member holds the demo shop's package and another gym's, both within their
  cooling-off days (the refund button shows).
- Three other members bought the demo shop's package; one took it back.
- In Shijiazhuang (the Hebei city), members of the city's unions bought its gyms' packages
  (three each, the first taken back), so that the city's and the province's operators see
  escrow held, per gym and per funding union, and a refund.
"""

from marketplace.core.errors import DomainError
from marketplace.core.identity.principal import Principal

# Other members who buy the demo shop's package: whether each takes it back.
OTHERS = (False, False, True)


async def make(history) -> None:
    await _demo(history)
    await _shijiazhuang(history)


async def _demo(history) -> None:
    from marketplace.core.federation import services as federation

    provider, member = history.demo_provider, history.demo_member
    if provider is None or member is None:
        return
    shop_offer = await history.db.fetchval(
        "SELECT id FROM offer WHERE provider = $1 AND kind = 'prepaid' AND status = 'published' ORDER BY id LIMIT 1",
        provider.id,
    )
    if shop_offer is None:  # a small seed may have no package at the demo shop
        return
    demo = await federation.member_principal(member.id)
    if demo is None:
        return
    await _buy(history, demo, shop_offer)
    for offer_id in await _other_gyms(history, provider.id):
        if await _buy(history, demo, offer_id) is not None:
            break

    # Members who already visit the demo shop (so the package is within their union's reach).
    pending = list(OTHERS)
    rows = await history.db.fetch(
        "SELECT DISTINCT member FROM redemption WHERE provider = $1 AND member <> $2 ORDER BY member LIMIT 12",
        provider.id,
        member.id,
    )
    for row in rows:
        if not pending:
            break
        buyer = await federation.member_principal(row["member"])
        code = await _buy(history, buyer, shop_offer) if buyer is not None else None
        if buyer is None or code is None:  # not this member (out of reach, a cap): the next one
            continue
        if pending.pop(0):
            await _take_back(history, buyer, code)


async def _shijiazhuang(history) -> None:
    """The city's gyms' published packages (two at most), each bought by three members of
    the city's unions within its reach (`OTHERS`: the first takes theirs back); a gym whose
    sales are stopped (probation, a case) sells none, as `prepaid.purchase` refuses it."""
    from marketplace.core.federation import services as federation

    city = history.operators["shijiazhuang"].node_path
    offers = await history.db.fetch(
        "SELECT o.id FROM offer o JOIN provider p ON p.id = o.provider JOIN union_node n ON n.id = p.node "
        "WHERE o.kind = 'prepaid' AND o.status = 'published' AND p.status = 'active' AND n.path LIKE $1 || '%' "
        "ORDER BY o.id LIMIT 2",
        city,
    )
    members = sorted((m for m in history.members if m.path.startswith(city)), key=lambda m: m.id)
    taken = 0  # each member buys one package: the members of the first gym are not the second's
    for offer in offers:
        pending = list(reversed(OTHERS))  # the first buyer takes theirs back
        for member in members[taken:]:
            if not pending:
                break
            taken += 1
            buyer = await federation.member_principal(member.id)
            code = await _buy(history, buyer, offer["id"]) if buyer is not None else None
            if buyer is None or code is None:  # out of the offer's reach, a cap: the next member
                continue
            if pending.pop(0):
                await _take_back(history, buyer, code)


async def _other_gyms(history, shop_id: int) -> list[int]:
    """Published packages of other active providers, the demo member's district first."""
    rows = await history.db.fetch(
        "SELECT o.id FROM offer o JOIN provider p ON p.id = o.provider JOIN union_node n ON n.id = p.node "
        "WHERE o.kind = 'prepaid' AND o.status = 'published' AND p.status = 'active' AND p.id <> $1 "
        "ORDER BY ($2 LIKE n.path || '%') DESC, o.id",
        shop_id,
        history.demo_member.path,
    )
    return [row["id"] for row in rows]


async def _buy(history, principal: Principal, offer_id: int) -> str | None:
    """The package's voucher code once paid and held in escrow; None when this member may not
    buy it (out of the offer's reach, a cap of the prepaid policy, stock)."""
    from marketplace.payments import services as payments
    from marketplace.prepaid import services as prepaid

    try:
        payment = await prepaid.purchase(principal, offer_id)
    except DomainError:
        return None
    intent_id = await history.db.fetchval("SELECT payment_intent FROM payment WHERE id = $1", payment.id)
    await _pay_by_card(intent_id)
    await payments.check_return(principal, payment.id)
    return await history.db.fetchval(
        "SELECT v.code FROM prepaid_package p JOIN voucher v ON v.id = p.voucher WHERE p.payment = $1", payment.id
    )


async def _pay_by_card(intent_id: str) -> None:
    """The member's test card pays the intent at the Stripe stand-in, as Stripe.js would."""
    from marketplace.payments.services import stripe_client

    client = stripe_client()
    method = await client.v1.payment_methods.create_async(
        {"type": "card", "card": {"number": "4242424242424242", "exp_month": 12, "exp_year": 2030, "cvc": "123"}}
    )
    await client.v1.payment_intents.update_async(intent_id, {"payment_method": method.id})
    await client.v1.payment_intents.confirm_async(intent_id)


async def _take_back(history, principal: Principal, code: str) -> None:
    from marketplace.prepaid import services as prepaid

    package_id = await history.db.fetchval(
        "SELECT p.id FROM prepaid_package p JOIN voucher v ON v.id = p.voucher WHERE v.code = $1", code
    )
    await prepaid.take_back(principal, package_id)
