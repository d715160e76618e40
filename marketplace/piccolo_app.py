from pathlib import Path

from piccolo.conf.apps import AppConfig

from marketplace.core.audit.tables import AuditEvent
from marketplace.core.federation.tables import (
    Member,
    MemberGroup,
    Notification,
    RosterImport,
    RosterImportFile,
    UnionNode,
)
from marketplace.core.idempotency.tables import IdempotencyKey
from marketplace.core.identity.tables import AuthSession, Operator, OperatorRecoveryCode
from marketplace.core.jobs.tables import OutboxEvent, ProcessedEvent

APP_CONFIG = AppConfig(
    app_name="marketplace",
    migrations_folder_path=str(Path(__file__).resolve().parents[1] / "migrations" / "marketplace"),
    table_classes=[
        UnionNode,
        MemberGroup,
        Member,
        Notification,
        Operator,
        OperatorRecoveryCode,
        AuthSession,
        OutboxEvent,
        ProcessedEvent,
        IdempotencyKey,
        AuditEvent,
        RosterImport,
        RosterImportFile,
    ],
    migration_dependencies=[],
)
