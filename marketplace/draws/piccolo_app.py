from pathlib import Path

from piccolo.conf.apps import AppConfig

from marketplace.draws.tables import Draw, DrawEntry

# Its own Piccolo app: draws refer to offers and vouchers, whose migrations run first.
APP_CONFIG = AppConfig(
    app_name="draws",
    migrations_folder_path=str(Path(__file__).resolve().parents[2] / "migrations" / "draws"),
    table_classes=[Draw, DrawEntry],
    migration_dependencies=["catalog.piccolo_app", "marketplace.vouchers.piccolo_app"],
)
