"""Listing approval refuses a prepaid package outside the caps of the policy its provider is
held to, naming the rule: evaluation's check, registered in catalog's listing checks."""

import pytest

from catalog import services as catalog
from evaluation.enforcement import prepaid_rules
from marketplace.core.db import engine
from marketplace.core.errors import Invalid

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("clean_state")]


def test_evaluation_registers_its_check_with_catalog():
    assert prepaid_rules.check_listing in catalog._listing_checks


async def test_a_package_outside_the_caps_is_refused_with_every_rule_named(world):
    provider = world.providers["chaoyang"]["id"]
    package = {"kind": "prepaid", "provider": provider, "list_price_fen": 2500000, "package_months": 36}
    async with engine().transaction() as transaction:
        connection = transaction.connection
        with pytest.raises(Invalid) as refused:
            await prepaid_rules.check_listing(connection, {**package, "package_sessions": 80})
        assert refused.value.code == "prepaid_outside_caps" and refused.value.extra["rule"] == "package_max_fen"
        assert [v["rule"] for v in refused.value.extra["violations"]] == [
            "package_max_fen",
            "package_max_sessions",
            "membership_max_months",
            "member_total_max_fen",
        ]
        assert "课时包售价不得超过 ¥20,000" in refused.value.translated()
        # Inside the caps, and offers of other kinds, pass.
        await prepaid_rules.check_listing(
            connection, {**package, "list_price_fen": 300000, "package_sessions": 20, "package_months": 12}
        )
        await prepaid_rules.check_listing(
            connection, {"kind": "voucher", "provider": provider, "list_price_fen": 10**9}
        )
