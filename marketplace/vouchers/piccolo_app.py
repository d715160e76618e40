from pathlib import Path

from piccolo.conf.apps import AppConfig

from marketplace.vouchers.tables import ClaimCount, RestockAlert, Voucher

# Its own Piccolo app: vouchers refer to offers and providers, whose migrations run after
# the marketplace app's.
APP_CONFIG = AppConfig(
    app_name="vouchers",
    migrations_folder_path=str(Path(__file__).resolve().parents[2] / "migrations" / "vouchers"),
    table_classes=[Voucher, ClaimCount, RestockAlert],
    migration_dependencies=["catalog.piccolo_app"],
)
