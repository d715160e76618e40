from pathlib import Path

from piccolo.conf.apps import AppConfig

from marketplace.prepaid.tables import PrepaidEntry, PrepaidOutsideRefund, PrepaidPackage, PrepaidRefund

# Its own Piccolo app: packages refer to the vouchers and payments they were bought with.
APP_CONFIG = AppConfig(
    app_name="prepaid",
    migrations_folder_path=str(Path(__file__).resolve().parents[2] / "migrations" / "prepaid"),
    table_classes=[PrepaidPackage, PrepaidEntry, PrepaidRefund, PrepaidOutsideRefund],
    migration_dependencies=["marketplace.payments.piccolo_app", "marketplace.vouchers.piccolo_app"],
)
