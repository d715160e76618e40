"""Run localstripe on loopback with its store kept under var/ instead of /tmp, and with
the endpoints Stripe.js uses that localstripe lacks.

localstripe hard-codes `/tmp/localstripe.pickle` and listens on every interface;
this launcher keeps two instances (demo and tests) from sharing state and keeps the
fake off the network.

In the browser, Stripe.js creates the card's PaymentMethod with the publishable key and
confirms the PaymentIntent with its client secret; localstripe accepts neither (its
confirm refuses a `payment_method`, and only a secret key may create payment methods),
and its own fake Stripe.js draws card fields that send nothing. So this runner adds, the
way Stripe answers them:

- `POST /v1/payment_methods` with a publishable key (`key=pk_...`);
- `POST /v1/payment_intents/{id}/confirm` with `payment_method` or `payment_method_data`,
  by the secret key or by the publishable key with the intent's client secret; a card
  that needs 3-D Secure leaves the intent `requires_action`, completed through
  localstripe's `/_authenticate`;
- `GET /v1/payment_intents/{id}?client_secret=...&key=pk_...`;
- `/js.stripe.com/v3/`: `stripe_stand_in.js`, a stand-in for the part of Stripe.js the
  payment page uses (card element over the page's test card form, confirmCardPayment
  with its 3-D Secure step). Production loads Stripe's own Stripe.js instead.

And it creates PaymentIntents as Stripe's API does at the version stripe-python pins
(2026-10-28.endive): the types a payment may use are `allowed_payment_method_types`, and
`payment_method_types` is refused (localstripe knows only the old parameter).
"""

import argparse
import pickle
import re
import socket
from pathlib import Path

from aiohttp import web
from localstripe import resources, server
from localstripe.errors import UserError

STAND_IN_JS = Path(__file__).with_name("stripe_stand_in.js")
_CONFIRM = re.compile(r"^/v1/payment_intents/(pi_\w+)/confirm$")
_INTENT = re.compile(r"^/v1/payment_intents/(pi_\w+)$")
# What Stripe.js sends along that changes nothing here.
_CLIENT_ONLY = (
    "key",
    "payment_user_agent",
    "referrer",
    "return_url",
    "use_stripe_sdk",
    "expected_payment_method_type",
    "expand",
    "client_secret",
)


def _publishable(data) -> bool:
    return isinstance(data, dict) and str(data.get("key") or "").startswith("pk_")


def _intent_for(request: web.Request, intent_id: str, data: dict) -> resources.PaymentIntent:
    """The intent, when the caller holds the secret key, or the publishable key and the
    intent's client secret (as Stripe.js does); 401 otherwise."""
    intent = resources.PaymentIntent._api_retrieve(intent_id)  # 404 when unknown
    if server.get_api_key(request) is None and not (
        _publishable(data) and data.get("client_secret") == intent.client_secret
    ):
        raise UserError(401, "Unauthorized")
    return intent


def _confirm(request: web.Request, intent_id: str, data: dict) -> web.Response:
    intent = _intent_for(request, intent_id, data)
    fields = {key: value for key, value in data.items() if key not in _CLIENT_ONLY}
    payment_method = fields.pop("payment_method", None)
    method_data = fields.pop("payment_method_data", None)
    if fields:
        raise UserError(400, "Unexpected " + ", ".join(fields))
    if method_data is not None:
        payment_method = resources.PaymentMethod._api_create(**method_data).id
    if payment_method is not None:
        resources.PaymentMethod._api_retrieve(payment_method)  # 404 when unknown
        if intent.status not in ("requires_payment_method", "requires_confirmation"):
            raise UserError(
                400,
                f"This PaymentIntent's payment_method could not be updated because it has a status of {intent.status}.",
                {"code": "payment_intent_unexpected_state"},
            )
        intent.payment_method = payment_method
        intent._authentication_failed = False
        if intent.latest_charge is not None and intent.latest_charge.status == "failed":
            intent.latest_charge = None  # a new attempt after a declined card, as Stripe allows
    if intent.status != "requires_confirmation":
        raise UserError(
            400,
            f"This PaymentIntent cannot be confirmed because it has a status of {intent.status}.",
            {"code": "payment_intent_unexpected_state"},
        )
    intent._confirm(on_failure_now=intent._report_failure)
    return server.json_response(intent._export())


_create_intent = resources.PaymentIntent._api_create


def _create_payment_intent(**data):
    if "payment_method_types" in data:
        raise UserError(
            400,
            "payment_method_types is no longer supported; use allowed_payment_method_types.",
            {"code": "payment_method_types_no_longer_supported"},
        )
    allowed = data.pop("allowed_payment_method_types", None)
    return _create_intent(**data, payment_method_types=allowed)


@web.middleware
async def stripe_js_endpoints(request: web.Request, handler):
    """Stands where localstripe's auth middleware stood: answers the endpoints above
    itself, passes everything else on to localstripe's own checks."""
    path = request.path
    if path == "/js.stripe.com/v3/":
        return web.Response(text=STAND_IN_JS.read_text(encoding="utf-8"), content_type="application/javascript")
    confirm = _CONFIRM.match(path) if request.method == "POST" else None
    if confirm:
        try:
            return _confirm(request, confirm.group(1), await server.get_post_data(request, remove_auth=False) or {})
        finally:
            resources.store.dump_to_disk()
    intent = _INTENT.match(path) if request.method == "GET" else None
    if intent and server.get_api_key(request) is None:
        data = server.unflatten_data(request.query)
        return server.json_response(_intent_for(request, intent.group(1), data)._export())
    if path == "/v1/payment_methods" and request.method == "POST" and server.get_api_key(request) is None:
        data = await server.get_post_data(request, remove_auth=False) or {}
        if not _publishable(data):
            raise UserError(401, "Unauthorized")
        fields = {key: value for key, value in data.items() if key not in _CLIENT_ONLY}
        try:
            return server.json_response(resources.PaymentMethod._api_create(**fields)._export())
        finally:
            resources.store.dump_to_disk()
    return await server.auth_middleware(request, handler)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--store", required=True)
    args = parser.parse_args()

    def load(store):
        try:
            with open(args.store, "rb") as file:
                store.clear()
                store.update(pickle.load(file))
        except FileNotFoundError:
            pass

    def dump(store):
        with open(args.store, "wb") as file:
            pickle.dump(dict(store), file, protocol=pickle.HIGHEST_PROTOCOL)

    resources.PaymentIntent._api_create = staticmethod(_create_payment_intent)
    resources.Store.try_load_from_disk = load
    resources.Store.dump_to_disk = dump
    resources.store.try_load_from_disk()

    middlewares = server.app.middlewares
    middlewares[middlewares.index(server.auth_middleware)] = stripe_js_endpoints

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", args.port))
    web.run_app(server.app, sock=sock, access_log=None, print=None)


if __name__ == "__main__":
    main()
