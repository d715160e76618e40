"""The enforcement policy, table-driven: what the figures call for (with minimum samples),
and every move of the state machine."""

from datetime import UTC, datetime, timedelta

import pytest

from evaluation.enforcement.policy import DEFAULT_RULES, assess, step

pytestmark = pytest.mark.unit

NOW = datetime(2026, 11, 30, 12, tzinfo=UTC)
PAST, FUTURE = NOW - timedelta(days=1), NOW + timedelta(days=1)


def figures(**changes) -> dict:
    """A provider doing well, with plenty of samples."""
    base = {
        "ratings_n": 50,
        "satisfaction": 4.5,
        "honoured_n": 40,
        "honoured_low": 0.95,
        "redemptions_n": 200,
        "complaints_per_100": 0.5,
        "missed_responses_n": 0,
        "complaints_n": 1,
    }
    return {**base, **changes}


@pytest.mark.parametrize(
    "name, data, level, codes",
    [
        ("no scorecard yet", None, "good", []),
        ("doing well", figures(), "good", []),
        ("satisfaction below watch", figures(satisfaction=3.7), "watch", ["satisfaction"]),
        ("satisfaction below warning", figures(satisfaction=3.4), "warning", ["satisfaction"]),
        ("satisfaction below probation", figures(satisfaction=3.0), "probation", ["satisfaction"]),
        ("too few ratings never escalates", figures(ratings_n=3, satisfaction=1.0), "good", []),
        ("honoured bound below warning", figures(honoured_low=0.7), "warning", ["honoured"]),
        ("too few honoured answers", figures(honoured_n=9, honoured_low=0.1), "good", []),
        ("complaint rate above probation", figures(complaints_per_100=9.0), "probation", ["complaints"]),
        ("complaint rate on too few redemptions", figures(redemptions_n=19, complaints_per_100=50.0), "good", []),
        ("missed responses", figures(missed_responses_n=4), "warning", ["missed_responses"]),
        (
            "worst level wins, with all its reasons",
            figures(satisfaction=3.1, complaints_per_100=8.5),
            "probation",
            ["satisfaction", "complaints"],
        ),
    ],
)
def test_assess(name, data, level, codes):
    found, reasons = assess(data, DEFAULT_RULES)
    assert (found, [reason["code"] for reason in reasons]) == (level, codes), name
    assert all(reason["text"] for reason in reasons)


@pytest.mark.parametrize(
    "state, deadline, target, moved, action",
    [
        ("good", None, "good", "good", None),
        ("good", None, "watch", "watch", None),
        ("good", None, "probation", "watch", None),  # one step at a time
        ("watch", FUTURE, "warning", "warning", None),  # worse figures move at once
        ("watch", FUTURE, "watch", "watch", None),  # still time to improve
        ("watch", PAST, "watch", "warning", None),  # did not improve in time
        ("warning", PAST, "warning", "probation", None),
        ("warning", FUTURE, "good", "good", None),  # recovered: straight back
        ("probation", FUTURE, "probation", "probation", None),
        ("probation", PAST, "probation", "probation", "open_case"),  # only an operator delists
        ("probation", PAST, "watch", "watch", None),  # better, though not good: down to the level
        ("probation", PAST, "good", "good", None),
        ("delisted", PAST, "good", "delisted", None),  # only an appeal brings it back
        ("good", None, "good", "good", None),
    ],
)
def test_step(state, deadline, target, moved, action):
    assert step(state, deadline, target, NOW) == (moved, action)
