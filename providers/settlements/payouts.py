"""Paying a settlement statement to its provider: one gateway interface, two implementations.

- `StripeConnectGateway`: a Stripe Connect transfer from the platform's balance to the
  provider's connected account (`POST /v1/transfers`), in fen of CNY, with the statement as
  the idempotency key, so a retried payout (a timeout, a crash before the commit) never
  pays twice.
- `FakePayoutGateway`: in-process, for the demo and tests (localstripe has no Connect).

Both pass the same contract suite (tests/settlements/test_payout_contract.py); the Stripe
one against a local HTTP server that checks its requests the way Stripe's API would.

Which one the app uses: `PAYOUT_GATEWAY=stripe|fake`; unset, the fake when Stripe is a
stand-in (`STRIPE_API_BASE` set, as with localstripe), Stripe itself otherwise.
"""

import os
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Protocol

import stripe
import structlog
from stripe.params import TransferCreateParams

from marketplace.core.errors import Conflict, Unavailable
from marketplace.core.settings import get_settings

log = structlog.get_logger(__name__)

ACCOUNT_PATTERN = re.compile(r"^acct_[A-Za-z0-9]{1,59}$")


class PayoutRefused(Conflict):
    """The gateway refused the payout (unknown account, a key reused for another amount, ...):
    nothing was paid; fix the cause, then pay again."""

    code = "payout_refused"


class PayoutUnavailable(Unavailable):
    """The gateway could not be reached or failed: nothing is known to be paid, and paying
    again is safe (the idempotency key makes a transfer that did happen come back)."""

    code = "payout_unavailable"


@dataclass(frozen=True)
class PayoutOrder:
    """What to pay for one statement: the amount in fen, to whom, and why."""

    statement_id: int
    provider_id: int
    period: str
    account: str
    amount_fen: int
    currency: str = "cny"

    @property
    def idempotency_key(self) -> str:
        return f"settlement-statement-{self.statement_id}"

    def __post_init__(self) -> None:
        if self.amount_fen <= 0:
            raise ValueError("a payout is a positive amount of fen")


class PayoutGateway(Protocol):
    async def pay(self, order: PayoutOrder) -> str:
        """Pay the order; the gateway's reference of the payout. Paying the same order again
        returns the same reference and pays nothing more. Raises PayoutRefused or
        PayoutUnavailable."""
        ...


class StripeConnectGateway:
    def __init__(
        self, api_key: str, api_base: str | None = None, *, max_network_retries: int = 2, timeout_seconds: float = 20
    ):
        self._client = stripe.StripeClient(
            api_key,
            base_addresses={"api": api_base} if api_base else None,
            max_network_retries=max_network_retries,
            http_client=stripe.HTTPXClient(timeout=timeout_seconds),
        )

    async def pay(self, order: PayoutOrder) -> str:
        params: TransferCreateParams = {
            "amount": order.amount_fen,
            "currency": order.currency,
            "destination": order.account,
            "transfer_group": f"settlement-{order.statement_id}",
            "description": f"Settlement {order.period} (statement {order.statement_id})",
            "metadata": {
                "statement_id": str(order.statement_id),
                "provider_id": str(order.provider_id),
                "period": order.period,
            },
        }
        try:
            transfer = await self._client.v1.transfers.create_async(params, {"idempotency_key": order.idempotency_key})
        except stripe.IdempotencyError as error:
            raise PayoutRefused(
                "The payment gateway refused the payout; nothing was paid.",
                code="payout_key_reused",
                gateway_message=str(error.user_message or error),
            ) from error
        except (stripe.InvalidRequestError, stripe.CardError, stripe.PermissionError) as error:
            log.warning("payout_refused", statement_id=order.statement_id, stripe_code=error.code)
            raise PayoutRefused(
                "The payment gateway refused the payout; nothing was paid.",
                stripe_code=error.code,
                gateway_message=str(error.user_message or error),
            ) from error
        except stripe.StripeError as error:  # connection, rate limit, authentication, Stripe's own errors
            log.warning("payout_unavailable", statement_id=order.statement_id, error=type(error).__name__)
            raise PayoutUnavailable(
                "The payment gateway could not be reached; nothing was paid. Try again.",
                gateway_error=type(error).__name__,
            ) from error
        log.info("payout_sent", statement_id=order.statement_id, transfer=transfer.id)
        return transfer.id


class FakePayoutGateway:
    """Pays in memory. Every well-formed account id is known unless `accounts` names them."""

    def __init__(self, accounts: set[str] | None = None):
        self.accounts = accounts
        self.transfers: dict[str, dict] = {}  # idempotency key → the transfer

    async def pay(self, order: PayoutOrder) -> str:
        if not ACCOUNT_PATTERN.match(order.account) or (
            self.accounts is not None and order.account not in self.accounts
        ):
            raise PayoutRefused(
                "The payment gateway refused the payout; nothing was paid.",
                stripe_code="resource_missing",
                gateway_message=f"No such destination: '{order.account}'.",
            )
        body = {"amount": order.amount_fen, "currency": order.currency, "destination": order.account}
        done = self.transfers.get(order.idempotency_key)
        if done is not None:
            if {key: done[key] for key in body} != body:
                raise PayoutRefused(
                    "The payment gateway refused the payout; nothing was paid.",
                    code="payout_key_reused",
                    gateway_message="This statement was paid with other amounts before.",
                )
            return done["id"]
        transfer: dict[str, Any] = {"id": f"tr_fake{len(self.transfers) + 1:08d}", **body}
        self.transfers[order.idempotency_key] = transfer
        return transfer["id"]


@lru_cache
def configured_gateway() -> PayoutGateway:
    stripe_settings = get_settings().stripe
    choice = os.environ.get("PAYOUT_GATEWAY") or ("fake" if stripe_settings.api_base else "stripe")
    if choice == "stripe":
        return StripeConnectGateway(stripe_settings.api_key, stripe_settings.api_base)
    if choice == "fake":
        return FakePayoutGateway()
    raise RuntimeError(f"PAYOUT_GATEWAY must be 'stripe' or 'fake', not {choice!r}")
