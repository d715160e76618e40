"""The composition root: `create_app()` and the one plugin that wires everything."""

import gc
from collections.abc import Callable

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
from litestar.types import ASGIApp, Receive, Scope, Send

from marketplace import composition, dashboards  # noqa: F401  (composition: registers the domains)
from marketplace.core import db, domains, health, logs
from marketplace.core.audit.middleware import audit_middleware
from marketplace.core.errors import EXCEPTION_HANDLERS
from marketplace.core.identity import guards, session_cache
from marketplace.core.identity.middleware import authentication_middleware
from marketplace.core.settings import get_settings
from marketplace.core.web import (
    config as web_config,
    csrf,
    i18n,
    page_counts,
    proxy,
    requests as checked_requests,
    security,
    static_assets,
)

# Every composed domain's modules of controllers and pages (marketplace/composition.py),
# each exporting one ROUTES list, and the shell's own dashboards.
ROUTES = [*domains.routes(), *dashboards.ROUTES]


def _pages_only(factory: Callable[[ASGIApp], ASGIApp]) -> Callable[[ASGIApp], ASGIApp]:
    """A middleware that only pages need, passed by for the JSON API (`/api/`): the layouts'
    counts (the API never counts them) and the CSRF check (the API is excluded from it),
    so that an API request, a search above all, costs the web process less."""

    def wrap(app: ASGIApp) -> ASGIApp:
        wrapped = factory(app)

        async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] == "http" and scope["path"].startswith("/api/"):
                await app(scope, receive, send)
            else:
                await wrapped(scope, receive, send)

        return middleware

    return wrap


def _lent(value: object) -> Provide:
    """A dependency that is `value` itself (a function of another domain, say)."""
    return Provide(lambda: value, sync_to_thread=False)


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
        # What domains lend to others' handlers (`Domain.provides`: catalog's picture store,
        # federation's consented member contacts), so those need not import them.
        for name, value in domains.provided().items():
            app_config.dependencies[name] = _lent(value)
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
            _pages_only(page_counts.middleware),
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
        # Litestar does not add its own as well. Inside the other middleware, as Litestar's.
        app_config.middleware.append(
            _pages_only(
                csrf.middleware(
                    CSRFConfig(
                        secret=settings.security.secret_key,
                        exclude=["^/api/", "^/health$", "^/ready$"],
                        cookie_secure=settings.security.secure_cookies,
                        cookie_samesite="lax",
                    )
                )
            )
        )
        # Who may call the route (the permission table, pending set-up, members' API), after the
        # CSRF check as a guard would be, but not a guard (marketplace/core/identity/guards.py).
        app_config.middleware.append(guards.middleware)
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
        app_config.on_startup.extend(
            [db.open_pool, session_cache.start, *domains.startup_hooks(), _freeze_startup_heap]
        )
        app_config.on_shutdown.extend([session_cache.stop, *domains.shutdown_hooks(), db.close_pool])
        app_config.debug = settings.app.debug
        return app_config


def _freeze_startup_heap() -> None:
    """Put what start-up built (modules, routes, templates, settings) out of the collector's
    reach, so that a full collection walks only what requests allocate. A full collection
    walked the whole heap in the middle of a request: freezing cut the claims bench's
    p99 by about a tenth (docs/benchmarks.md, "The request path of a claim, part 6"). Once per process:
    a server process starts one app; a test process starts many and needs only the first."""
    if gc.get_freeze_count() == 0:
        gc.collect()
        gc.freeze()


def create_app() -> Litestar:
    settings = get_settings()
    logs.configure(json=settings.app.log_json)
    # Litestar reads the body limit from its constructor, not from a plugin's AppConfig.
    return Litestar(plugins=[BenefitsPlugin()], request_max_body_size=settings.app.max_body_bytes)
