"""The audit log in words: every action the services record reads as a sentence, not as
"made another change"."""

import pytest

from marketplace.privacy import audit_words


@pytest.mark.unit
@pytest.mark.parametrize(
    ("action", "sentence", "change"),
    [
        ("points_grant.proposed", "proposed %(change)s, waiting for a second operator's approval", "a points grant"),
        ("payout_account.approved", "approved %(change)s proposed by another operator", "a provider's payout account"),
        (
            "statement_close.rejected",
            "turned down %(change)s proposed by another operator",
            "closing a settlement statement",
        ),
        ("evaluator_key.issued", "issued an API key to an evaluator", None),
        ("evaluator_key.revoked", "revoked an evaluator's API key", None),
    ],
)
def test_recorded_actions_read_as_sentences(action, sentence, change):
    words = audit_words.describe({"action": action, "details": {}})
    assert words["sentence"] == sentence
    assert (words.get("params") or {}).get("change") == change


@pytest.mark.unit
def test_every_kind_of_approval_has_its_words():
    from marketplace.core.identity import approvals
    from marketplace.points import services as _points  # noqa: F401  (registers its kinds)
    from providers.settlements import services as _settlements  # noqa: F401

    assert set(approvals._kinds) <= set(audit_words.APPROVAL_KINDS)
