from pathlib import Path

from piccolo.conf.apps import AppConfig

from marketplace.payments.tables import Payment, StripeEvent

APP_CONFIG = AppConfig(
    app_name="payments",
    migrations_folder_path=str(Path(__file__).resolve().parents[2] / "migrations" / "payments"),
    table_classes=[Payment, StripeEvent],
    migration_dependencies=["marketplace.vouchers.piccolo_app"],
)
