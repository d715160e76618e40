from pathlib import Path

from piccolo.conf.apps import AppConfig

from evaluation.tables import (
    Complaint,
    EnforcementCase,
    EnforcementPolicy,
    EvaluatorApiKey,
    EvaluatorBatch,
    EvaluatorOrg,
    EvaluatorResult,
    FollowUpSample,
    ProviderScorecard,
    ProviderStanding,
    Rating,
    Redemption,
    ScorecardSnapshot,
    StandingEvent,
)

APP_CONFIG = AppConfig(
    app_name="evaluation",
    migrations_folder_path=str(Path(__file__).resolve().parents[1] / "migrations" / "evaluation"),
    table_classes=[
        EvaluatorOrg,
        EvaluatorApiKey,
        Redemption,
        Rating,
        Complaint,
        EvaluatorBatch,
        EvaluatorResult,
        FollowUpSample,
        ProviderScorecard,
        ScorecardSnapshot,
        EnforcementPolicy,
        ProviderStanding,
        EnforcementCase,
        StandingEvent,
    ],
    migration_dependencies=["catalog.piccolo_app"],
)
