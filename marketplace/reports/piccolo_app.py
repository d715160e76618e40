from pathlib import Path

from piccolo.conf.apps import AppConfig

from marketplace.reports.tables import (
    ReportCoverage,
    ReportProviderDaily,
    ReportRun,
    ReportSearchMissDaily,
    ReportUsageDaily,
)

# Its own Piccolo app: the report aggregates are reports' tables alone. Their rows name
# nodes, categories and providers by id without foreign keys, so they need only the
# marketplace app's migrations before them.
APP_CONFIG = AppConfig(
    app_name="reports",
    migrations_folder_path=str(Path(__file__).resolve().parents[2] / "migrations" / "reports"),
    table_classes=[ReportUsageDaily, ReportProviderDaily, ReportSearchMissDaily, ReportCoverage, ReportRun],
    migration_dependencies=["marketplace.piccolo_app"],
)
