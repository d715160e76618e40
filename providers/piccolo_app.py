from pathlib import Path

from piccolo.conf.apps import AppConfig

from providers.tables import (
    Location,
    Provider,
    ProviderStatusChange,
    ProviderUser,
    SettlementAdjustment,
    SettlementLine,
    SettlementStatement,
)

APP_CONFIG = AppConfig(
    app_name="providers",
    migrations_folder_path=str(Path(__file__).resolve().parents[1] / "migrations" / "providers"),
    table_classes=[
        Provider,
        Location,
        ProviderUser,
        ProviderStatusChange,
        SettlementStatement,
        SettlementLine,
        SettlementAdjustment,
    ],
    migration_dependencies=["marketplace.piccolo_app"],
)
