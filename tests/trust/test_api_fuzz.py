"""Schemathesis over the served OpenAPI, as a member, a provider owner and an operator: no 5xx.

Every operation of `/api/docs/openapi.json` gets a few generated requests (valid and
invalid bodies, parameters and headers) against the real server (uvicorn, `live_server`),
with each role's bearer token. The budget is modest so that the run stays near two
minutes: `API_FUZZ_EXAMPLES` (default 4) requests per operation and role; raise it when
hunting. Generation is derandomised, so a failure repeats.
"""

import asyncio
import os
import time

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings

from tests.test_errors import bearer

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.usefixtures("clean_state")]

EXAMPLES = int(os.environ.get("API_FUZZ_EXAMPLES", "4"))
# Operations that would end the run's own session or account: signing out, erasing the
# member, an operator changing an operator (possibly itself).
SKIPPED = {
    ("DELETE", "/api/v1/auth/token"),
    ("POST", "/api/v1/me/deletion"),
    ("POST", "/api/v1/console/operators/{operator_id}"),
}


def _fuzz(schema, base_url: str, tokens: dict[str, str]) -> tuple[list[str], int]:
    failures: list[str] = []
    calls = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        if (operation.method.upper(), operation.path) in SKIPPED:
            continue
        for role, token in tokens.items():

            @settings(
                max_examples=EXAMPLES,
                deadline=None,
                database=None,
                derandomize=True,
                phases=[Phase.explicit, Phase.generate],
                suppress_health_check=list(HealthCheck),
            )
            @given(case=operation.as_strategy())
            # probe runs within this iteration, so it sees this iteration's role, token and operation.
            def probe(case):
                nonlocal calls
                case.headers = {**(case.headers or {}), "Authorization": f"Bearer {token}"}  # noqa: B023
                response = case.call(base_url=base_url, timeout=60)
                calls += 1
                if response.status_code >= 500:
                    failures.append(
                        f"{role} {operation.method.upper()} {operation.path} -> "  # noqa: B023
                        f"{response.status_code} {case.path_parameters} {case.query} "
                        f"{str(case.body)[:200]!r}: {response.text[:200]}"
                    )

            try:
                probe()
            except Exception as error:
                if "Unsatisfiable" not in type(error).__name__:
                    failures.append(f"{role} {operation.method.upper()} {operation.path}: {error!r}"[:400])
    return failures, calls


async def test_no_operation_answers_a_server_error(live_server, client, world):
    tokens = {
        "member": (await bearer(client, "member", world.members["chaoyang"][1]))["Authorization"][7:],
        "owner": (await bearer(client, "provider", world.providers["chaoyang"]["owner"]))["Authorization"][7:],
        "operator": (await bearer(client, "operator", world.operators["beijing"]))["Authorization"][7:],
    }
    spec = httpx.get(f"{live_server}/api/docs/openapi.json", timeout=60).json()
    schema = schemathesis.openapi.from_dict(spec)
    started = time.monotonic()
    failures, calls = await asyncio.to_thread(_fuzz, schema, live_server, tokens)
    print(f"api fuzz: {calls} requests in {time.monotonic() - started:.0f} s, {len(failures)} 5xx")
    assert not failures, "\n".join(failures[:40])
