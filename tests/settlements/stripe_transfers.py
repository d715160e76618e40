"""A small stand-in for Stripe's Transfers API (localstripe has no Connect), strict about
what Stripe itself checks: `POST /v1/transfers`, a secret key as Bearer auth, a form body
with Stripe's field names, an `Idempotency-Key`, and Stripe's error and replay semantics.

Every request that Stripe would refuse for its shape is answered with Stripe's error JSON
and recorded in `violations`, so a contract test fails when the client drifts."""

import json
import re
import secrets
from urllib.parse import parse_qsl

from aiohttp import web

from marketplace.runtime import components

API_KEY = "sk_test_contract_51Hx"
ALLOWED_FIELDS = re.compile(
    r"^(amount|currency|destination|description|transfer_group|source_transaction|"
    r"metadata\[[A-Za-z0-9_]{1,40}\])$"
)


def _error(
    status: int, kind: str, message: str, code: str | None = None, param: str | None = None, headers: dict | None = None
) -> web.Response:
    body = {
        "error": {
            "type": kind,
            "message": message,
            **({"code": code} if code else {}),
            **({"param": param} if param else {}),
        }
    }
    return web.json_response(body, status=status, headers=headers)


class StripeTransfers:
    def __init__(self, accounts: set[str]):
        self.accounts = accounts
        self.transfers: list[dict] = []
        self.requests: list[dict] = []
        self.violations: list[str] = []
        self.fail_next: list[int] = []  # statuses to answer before working again (500, 503, ...)
        self._replays: dict[str, tuple[dict, int, dict]] = {}  # key → (params, status, body)
        self._runner: web.AppRunner | None = None
        self.url = ""

    async def start(self) -> str:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        port = components.free_port()
        await web.TCPSite(self._runner, "127.0.0.1", port).start()
        self.url = f"http://127.0.0.1:{port}"
        return self.url

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    def _refuse(self, status: int, kind: str, message: str, **kwargs) -> web.Response:
        self.violations.append(message)
        return _error(status, kind, message, **kwargs)

    async def _handle(self, request: web.Request) -> web.Response:
        raw = await request.text()
        self.requests.append(
            {"method": request.method, "path": request.path, "headers": dict(request.headers), "body": raw}
        )
        if request.path != "/v1/transfers":
            return self._refuse(
                404, "invalid_request_error", f"Unrecognized request URL ({request.method}: {request.path})."
            )
        if request.method != "POST":
            return self._refuse(405, "invalid_request_error", "Transfers are created with POST.")
        if request.headers.get("Authorization") != f"Bearer {API_KEY}":
            return self._refuse(401, "invalid_request_error", "Invalid API Key provided.")
        if not request.headers.get("Stripe-Version"):
            return self._refuse(400, "invalid_request_error", "The Stripe-Version header is missing.")
        if not request.headers.get("Content-Type", "").startswith("application/x-www-form-urlencoded"):
            return self._refuse(400, "invalid_request_error", "Stripe takes form-encoded bodies.")
        key = request.headers.get("Idempotency-Key", "")
        if not 1 <= len(key) <= 255:
            return self._refuse(400, "invalid_request_error", "A payout needs an Idempotency-Key (1 to 255).")
        params = dict(parse_qsl(raw, keep_blank_values=True))
        unknown = sorted(name for name in params if not ALLOWED_FIELDS.match(name))
        if unknown:
            return self._refuse(
                400, "invalid_request_error", f"Received unknown parameter: {unknown[0]}", param=unknown[0]
            )
        for name in ("amount", "currency", "destination"):
            if not params.get(name):
                return self._refuse(400, "invalid_request_error", f"Missing required param: {name}.", param=name)
        if not params["amount"].isdigit() or int(params["amount"]) < 1:
            return self._refuse(400, "invalid_request_error", "Invalid positive integer", param="amount")
        if params["currency"] != params["currency"].lower() or len(params["currency"]) != 3:
            return self._refuse(400, "invalid_request_error", "Invalid currency", param="currency")
        if self.fail_next:
            status = self.fail_next.pop(0)
            return _error(status, "api_error", "An unknown error occurred.")
        if key in self._replays:  # Stripe replays the first answer for the same key and parameters
            first, status, body = self._replays[key]
            if first != params:
                return _error(
                    400,
                    "idempotency_error",
                    "Keys for idempotent requests can only be used with the same parameters they were first used with.",
                )
            return web.json_response(body, status=status, headers={"Idempotent-Replayed": "true"})
        if params["destination"] not in self.accounts:
            status, body = (
                400,
                {
                    "error": {
                        "type": "invalid_request_error",
                        "code": "resource_missing",
                        "param": "destination",
                        "message": f"No such destination: '{params['destination']}'",
                    }
                },
            )
        else:
            status, body = 200, self._transfer(params)
            self.transfers.append(body)
        self._replays[key] = (params, status, body)
        return web.Response(
            text=json.dumps(body),
            status=status,
            content_type="application/json",
            headers={"Request-Id": "req_" + secrets.token_hex(7)},
        )

    @staticmethod
    def _transfer(params: dict) -> dict:
        metadata = {name[9:-1]: value for name, value in params.items() if name.startswith("metadata[")}
        return {
            "id": "tr_" + secrets.token_hex(12),
            "object": "transfer",
            "amount": int(params["amount"]),
            "amount_reversed": 0,
            "balance_transaction": "txn_" + secrets.token_hex(12),
            "created": 1764460800,
            "currency": params["currency"],
            "description": params.get("description"),
            "destination": params["destination"],
            "destination_payment": "py_" + secrets.token_hex(12),
            "livemode": False,
            "metadata": metadata,
            "reversals": {
                "object": "list",
                "data": [],
                "has_more": False,
                "total_count": 0,
                "url": "/v1/transfers/x/reversals",
            },
            "reversed": False,
            "source_transaction": None,
            "source_type": "card",
            "transfer_group": params.get("transfer_group"),
        }
