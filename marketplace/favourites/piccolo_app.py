from pathlib import Path

from piccolo.conf.apps import AppConfig

from marketplace.favourites.tables import Favourite

# Its own Piccolo app: favourites refer to offers and providers, whose migrations run after
# the marketplace app's.
APP_CONFIG = AppConfig(
    app_name="favourites",
    migrations_folder_path=str(Path(__file__).resolve().parents[2] / "migrations" / "favourites"),
    table_classes=[Favourite],
    migration_dependencies=["catalog.piccolo_app"],
)
