"""Evaluation (ratings, complaints, scorecards, enforcement, evaluators): what it brings to the app, composed by marketplace/composition.py."""

from marketplace.core.domains import Domain

DOMAIN = Domain.at(
    __file__,
    "evaluation",
    routes=[
        "evaluation.complaints.controllers",
        "evaluation.complaints.pages",
        "evaluation.enforcement.controllers",
        "evaluation.enforcement.pages",
        "evaluation.enforcement.freeze_pages",
        "evaluation.evaluators.controllers",
        "evaluation.evaluators.pages",
        "evaluation.evaluators.key_pages",
        "evaluation.ratings.pages",
        "evaluation.scorecards.pages",
    ],
    actors=[
        "evaluation.enforcement.actors",
        "evaluation.evaluators.actors",
        "evaluation.ratings.actors",
        "evaluation.scorecards.actors",
    ],
)
