from pathlib import Path

from piccolo.conf.apps import AppConfig

from marketplace.points.tables import PointsBalance, PointsEntry, PointsGrant, PointsLot

# Its own Piccolo app: ledger entries refer to the vouchers they paid for.
APP_CONFIG = AppConfig(
    app_name="points",
    migrations_folder_path=str(Path(__file__).resolve().parents[2] / "migrations" / "points"),
    table_classes=[PointsGrant, PointsEntry, PointsLot, PointsBalance],
    migration_dependencies=["marketplace.vouchers.piccolo_app"],
)
