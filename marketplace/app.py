"""The composition root: `create_app()` and the one plugin that wires everything."""

from litestar import Litestar
from litestar.config.app import AppConfig
from litestar.config.compression import CompressionConfig
from litestar.config.csrf import CSRFConfig
from litestar.di import Provide
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import SwaggerRenderPlugin
from litestar.openapi.spec import Components, SecurityScheme
from litestar.plugins import InitPluginProtocol
from litestar.static_files import create_static_files_router

from catalog import controllers as catalog_controllers, listing_pages, services as catalog_services
from catalog.search import (
    controllers as search_controllers,
    index as search_index,
    overlay as search_overlay,
    pages as search_pages,
)
from evaluation.complaints import controllers as complaint_controllers, pages as complaint_pages
from evaluation.enforcement import controllers as quality_controllers, pages as quality_pages
from evaluation.evaluators import (
    controllers as evaluator_controllers,
    key_pages as evaluator_key_pages,
    pages as evaluator_pages,
)
from evaluation.ratings import pages as review_pages
from evaluation.scorecards import pages as scorecard_pages
from marketplace import dashboards
from marketplace.campaigns import controllers as campaign_controllers, pages as campaign_pages
from marketplace.core import db, health, logs
from marketplace.core.audit.middleware import audit_middleware
from marketplace.core.errors import EXCEPTION_HANDLERS
from marketplace.core.federation import consent
from marketplace.core.federation.controllers import FederationController
from marketplace.core.federation.roster import pages as roster_pages
from marketplace.core.identity import approval_pages, guards, pages as account_pages, permissions, session_cache, team
from marketplace.core.identity.controllers import AuthController
from marketplace.core.identity.middleware import authentication_middleware
from marketplace.core.settings import get_settings
from marketplace.core.web import (
    config as web_config,
    csrf,
    i18n,
    page_counts,
    pages,
    proxy,
    requests as checked_requests,
    security,
    static_assets,
)
from marketplace.favourites import pages as favourite_pages
from marketplace.inbox import pages as inbox_pages
from marketplace.payments import controllers as payment_controllers, pages as payment_pages
from marketplace.points import controllers as points_controllers, pages as points_pages
from marketplace.privacy import controllers as privacy_controllers, pages as privacy_pages
from marketplace.reports import controllers as report_controllers, pages as report_pages
from marketplace.vouchers import controllers as voucher_controllers, pages as voucher_pages
from providers import controllers as provider_controllers, pages as provider_pages
from providers.settlements import controllers as settlement_controllers, pages as settlement_pages

# Every module of controllers or pages exports one ROUTES list.
ROUTE_MODULES = [
    provider_controllers,
    voucher_controllers,
    points_controllers,
    payment_controllers,
    campaign_controllers,
    catalog_controllers,
    search_controllers,
    pages,
    dashboards,
    provider_pages,
    listing_pages,
    search_pages,
    voucher_pages,
    points_pages,
    payment_pages,
    scorecard_pages,
    campaign_pages,
    roster_pages,
    inbox_pages,
    settlement_controllers,
    settlement_pages,
    evaluator_controllers,
    evaluator_pages,
    evaluator_key_pages,
    quality_controllers,
    quality_pages,
    complaint_controllers,
    complaint_pages,
    review_pages,
    favourite_pages,
    privacy_controllers,
    privacy_pages,
    report_pages,
    report_controllers,
    team,
    account_pages,
    approval_pages,
]
ROUTES = [AuthController, FederationController, *(route for module in ROUTE_MODULES for route in module.ROUTES)]


class BenefitsPlugin(InitPluginProtocol):
    def on_app_init(self, app_config: AppConfig) -> AppConfig:
        settings = get_settings()
        app_config.route_handlers.extend(
            [
                health.health,
                health.ready,
                *ROUTES,
                # Versioned URLs (`static()` in templates) are cached for a year; see static_assets.
                create_static_files_router(
                    path="/static",
                    directories=[web_config.STATIC_DIR],
                    include_in_schema=False,
                    middleware=[static_assets.cache_headers_middleware],
                ),
            ]
        )
        # Evaluators' sample export names only members who consented; evaluation never reads members.
        app_config.dependencies["member_contacts"] = Provide(lambda: consent.evaluator_contacts, sync_to_thread=False)
        # The providers' application keeps its business licence picture with catalog's picture checks.
        app_config.dependencies["picture_store"] = Provide(lambda: catalog_services.store_picture, sync_to_thread=False)
        app_config.guards.extend([permissions.enforce, guards.account_setup])
        app_config.exception_handlers.update(EXCEPTION_HANDLERS)
        app_config.request_class = checked_requests.CheckedRequest
        app_config.before_send.append(security.add_security_headers)
        app_config.middleware[:0] = [
            proxy.proxy_middleware,
            security.nonce_middleware,
            logs.request_log_middleware,
            i18n.locale_middleware,
            checked_requests.query_guard_middleware,
            authentication_middleware,
            audit_middleware,
            page_counts.middleware,
        ]
        # The layouts' badges (unread messages, to-do counts, portal badges) are counted only
        # when the answer is a page; their modules registered them when imported.
        app_config.after_request = page_counts.after_request
        app_config.template_config = web_config.template_config()
        # HTML, CSS, JS and JSON go out gzipped (members are on phones), not to requests
        # another site started (BREACH; see static_assets); pictures are compressed already.
        app_config.compression_config = CompressionConfig(
            backend="gzip",
            gzip_compress_level=6,
            minimum_size=500,
            middleware_class=static_assets.SameOriginCompression,
            exclude=[r"^/media/", r"\.(png|jpe?g|webp|gif|ico|woff2?)$"],
        )
        # Litestar's CSRF check with a token masked afresh in each page (BREACH) and an explicit
        # read of the form's token (marketplace/core/web/csrf.py); `csrf_config` stays unset so that
        # Litestar does not add its own as well. Innermost of the app's middleware, as Litestar's.
        app_config.middleware.append(
            csrf.middleware(
                CSRFConfig(
                    secret=settings.security.secret_key,
                    exclude=["^/api/", "^/health$", "^/ready$"],
                    cookie_secure=settings.security.secure_cookies,
                    cookie_samesite="lax",
                )
            )
        )
        swagger = "/static/vendor/swagger-ui/"
        app_config.openapi_config = OpenAPIConfig(
            title="Benefits marketplace API",
            version="1.0.0",
            path="/api/docs",
            # Session tokens from POST /api/v1/auth/token, or an evaluator's API key.
            components=Components(security_schemes={"bearer": SecurityScheme(type="http", scheme="bearer")}),
            security=[{"bearer": []}],
            render_plugins=[
                SwaggerRenderPlugin(
                    path="/",
                    js_url=swagger + "swagger-ui-bundle.js",
                    css_url=swagger + "swagger-ui.css",
                    standalone_preset_js_url=swagger + "swagger-ui-standalone-preset.js",
                    favicon='<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">',
                )
            ],
        )
        app_config.on_startup.extend([db.open_pool, session_cache.start])
        app_config.on_shutdown.extend(
            [session_cache.stop, search_overlay.stop, search_index.close_clients, db.close_pool]
        )
        app_config.debug = settings.app.debug
        return app_config


def create_app() -> Litestar:
    settings = get_settings()
    logs.configure(json=settings.app.log_json)
    # Litestar reads the body limit from its constructor, not from a plugin's AppConfig.
    return Litestar(plugins=[BenefitsPlugin()], request_max_body_size=settings.app.max_body_bytes)
