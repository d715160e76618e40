"""Settings from the environment: one frozen dataclass per concern, read once.

The CLI fills in the environment for embedded components before the app starts
(see marketplace.runtime.components.ensure_up), so the app itself only ever reads
environment variables.
"""

import os
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

# Where a run keeps what it creates, unless BENEFITS_VAR says otherwise (the image sets
# /var/lib/benefits; marketplace/runtime/paths.py uses the same default for a dev run).
_DEFAULT_VAR = Path(__file__).resolve().parents[2] / "var"
# The kinds of media storage there are (marketplace/core/media.py).
MEDIA_STORAGES = ("filesystem", "s3")


def _env(name: str, default: str | None = None) -> str:
    value = os.environ.get(name, default)
    if value is None:
        raise RuntimeError(f"{name} is not set; run through `benefits` or set it in the environment")
    return value


@dataclass(frozen=True)
class DatabaseSettings:
    url: str
    pool_max: int = 10


@dataclass(frozen=True)
class RedisSettings:
    url: str


@dataclass(frozen=True)
class SearchSettings:
    url: str
    master_key: str
    index_prefix: str


@dataclass(frozen=True)
class StripeSettings:
    api_key: str
    api_base: str | None
    webhook_secret: str
    publishable_key: str = "pk_test_local"
    # Offered on the payment page, as Stripe names them: card, wechat_pay, alipay (the
    # last two only where the Stripe account has them enabled).
    payment_methods: tuple[str, ...] = ("card",)
    hold_minutes: int = 15  # a paid claim holds its stock this long while unpaid

    @property
    def stand_in(self) -> bool:
        """A Stripe stand-in (localstripe) serves the API: test cards only, never real money."""
        return bool(self.api_base)

    @property
    def js_url(self) -> str:
        """Stripe.js: Stripe's own, or the stand-in a fake Stripe serves (localstripe)."""
        return f"{self.api_base.rstrip('/')}/js.stripe.com/v3/" if self.api_base else "https://js.stripe.com/v3/"


@dataclass(frozen=True)
class SecuritySettings:
    secret_key: str
    pii_encryption_key: bytes
    # During a key rotation only: the key being retired, still able to decrypt.
    pii_encryption_key_old: bytes | None
    pii_hash_key: bytes
    session_idle_minutes: int = 30
    session_absolute_hours: int = 12
    member_session_days: int = 30
    # How long a web process may answer from a member's session it looked up before. Not
    # what ends a revoked session (the database tells every process at once; see
    # marketplace/core/identity/session_cache.py): the bound for a listening connection that
    # died without a word. 0: off.
    session_cache_seconds: int = 300
    login_max_failures: int = 5
    login_window_seconds: int = 900  # failures fade this long after the last one
    login_max_delay_seconds: int = 60  # the longest wait between two attempts, however many failed
    secure_cookies: bool = False
    # Strict-Transport-Security's max-age, sent over https (0: never sent).
    hsts_max_age: int = 31_536_000
    # Operator roles that reveal members' personal data sign in with a second factor.
    totp_required_roles: tuple[str, ...] = ("administrator", "reviewer")


@dataclass(frozen=True)
class SmsSettings:
    # "dev" (messages to the log and /dev/sms: demo and tests), "gateway" (a real SMS
    # gateway) or "disabled"; see marketplace/core/identity/sms.py.
    sender: str = "disabled"
    gateway_url: str = ""
    gateway_key: str = ""


@dataclass(frozen=True)
class AppSettings:
    debug: bool
    # The calendar of the federation: days, months, opening hours and periodic jobs
    # (marketplace/core/dates.py is the one place that reads it).
    timezone: str = "Asia/Shanghai"
    max_body_bytes: int = 1_048_576
    log_json: bool = True
    # Reverse proxies whose X-Forwarded-For / -Proto are honoured (marketplace/core/web/proxy.py).
    trusted_proxies: str = ""


@dataclass(frozen=True)
class PointsSettings:
    expiry_days: int = 365  # points of a lot expire this long after they arrive
    # Members are reminded this many days before a lot expires, once at each (90, 30 and 7 days).
    reminder_days: tuple[int, ...] = (90, 30, 7)


@dataclass(frozen=True)
class JobsSettings:
    # Delivered outbox events and consumers' processed-event markers are deleted this
    # long after delivery / processing (see docs/operations.md, "Retention").
    outbox_retention_days: int = 14


@dataclass(frozen=True)
class S3Settings:
    # A bucket of an S3-compatible object store (MinIO, a cloud's object storage).
    bucket: str
    endpoint: str  # "" for the provider's own (AWS S3); MinIO: http://minio:9000
    region: str
    # Both empty: the client's own chain (AWS_* variables, the machine's role).
    access_key: str = field(repr=False)
    secret_key: str = field(repr=False)


@dataclass(frozen=True)
class MediaSettings:
    # Uploaded pictures (marketplace/core/media.py): "filesystem", under `root`; or "s3",
    # objects of the same names in the bucket `s3` names.
    storage: str
    root: Path
    s3: S3Settings | None = None


def _media() -> MediaSettings:
    storage = _env("MEDIA_STORAGE", "filesystem")
    if storage not in MEDIA_STORAGES:
        # Refuse to start rather than lose uploads.
        raise RuntimeError(f"MEDIA_STORAGE={storage} is not available; use one of {', '.join(MEDIA_STORAGES)}")
    var = Path(_env("BENEFITS_VAR", "") or _DEFAULT_VAR)
    root = Path(_env("MEDIA_ROOT", "") or var / "media").resolve()
    if storage == "filesystem":
        return MediaSettings(storage=storage, root=root)
    s3 = S3Settings(
        bucket=_env("MEDIA_S3_BUCKET", ""),
        endpoint=_env("MEDIA_S3_ENDPOINT", ""),
        region=_env("MEDIA_S3_REGION", "us-east-1"),
        access_key=_env("MEDIA_S3_ACCESS_KEY", ""),
        secret_key=_env("MEDIA_S3_SECRET_KEY", ""),
    )
    if not s3.bucket:
        raise RuntimeError("MEDIA_STORAGE=s3 needs MEDIA_S3_BUCKET, the bucket the pictures go to")
    if bool(s3.access_key) != bool(s3.secret_key):
        raise RuntimeError("set both MEDIA_S3_ACCESS_KEY and MEDIA_S3_SECRET_KEY, or neither")
    return MediaSettings(storage=storage, root=root, s3=s3)


@dataclass(frozen=True)
class Settings:
    app: AppSettings
    database: DatabaseSettings
    redis: RedisSettings
    search: SearchSettings
    stripe: StripeSettings
    security: SecuritySettings = field(repr=False)
    points: PointsSettings = PointsSettings()
    jobs: JobsSettings = JobsSettings()
    sms: SmsSettings = field(default_factory=SmsSettings, repr=False)
    media: MediaSettings = field(default_factory=_media)


@lru_cache
def get_settings() -> Settings:
    return Settings(
        app=AppSettings(
            debug=_env("DEBUG", "false").lower() == "true",
            log_json=_env("LOG_FORMAT", "json") == "json",
            trusted_proxies=_env("TRUSTED_PROXIES", ""),
            timezone=_env("TIME_ZONE", "Asia/Shanghai"),
        ),
        database=DatabaseSettings(
            url=_env("DATABASE_URL"),
            pool_max=int(_env("DATABASE_POOL_MAX", "10")),
        ),
        redis=RedisSettings(url=_env("REDIS_URL")),
        search=SearchSettings(
            url=_env("MEILI_URL"),
            master_key=_env("MEILI_MASTER_KEY", ""),
            index_prefix=_env("MEILI_INDEX_PREFIX", ""),
        ),
        stripe=StripeSettings(
            api_key=_env("STRIPE_API_KEY"),
            api_base=os.environ.get("STRIPE_API_BASE"),
            webhook_secret=_env("STRIPE_WEBHOOK_SECRET"),
            publishable_key=_env("STRIPE_PUBLISHABLE_KEY", "pk_test_local"),
            payment_methods=tuple(
                method.strip() for method in _env("STRIPE_PAYMENT_METHODS", "card").split(",") if method.strip()
            ),
            hold_minutes=int(_env("PAYMENT_HOLD_MINUTES", "15")),
        ),
        security=SecuritySettings(
            secret_key=_env("SECRET_KEY"),
            pii_encryption_key=bytes.fromhex(_env("PII_ENCRYPTION_KEY")),
            pii_encryption_key_old=bytes.fromhex(_env("PII_ENCRYPTION_KEY_OLD", "")) or None,
            pii_hash_key=bytes.fromhex(_env("PII_HASH_KEY")),
            secure_cookies=_env("SECURE_COOKIES", "false").lower() == "true",
            totp_required_roles=tuple(
                role.strip()
                for role in _env("TOTP_REQUIRED_ROLES", "administrator,reviewer").split(",")
                if role.strip()
            ),
            hsts_max_age=int(_env("HSTS_MAX_AGE", "31536000")),
            session_cache_seconds=int(_env("SESSION_CACHE_SECONDS", "300")),
        ),
        points=PointsSettings(
            expiry_days=int(_env("POINTS_EXPIRY_DAYS", "365")),
            reminder_days=tuple(
                int(days) for days in _env("POINTS_REMINDER_DAYS", "90,30,7").split(",") if days.strip()
            ),
        ),
        jobs=JobsSettings(
            outbox_retention_days=int(_env("OUTBOX_RETENTION_DAYS", "14")),
        ),
        sms=SmsSettings(
            # Unset: the demo's sender where Stripe runs on its stand-in (no real money, no
            # real texts either), none otherwise, so production never shows codes on a page.
            sender=_env("SMS_SENDER", "dev" if os.environ.get("STRIPE_API_BASE") else "disabled"),
            gateway_url=_env("SMS_GATEWAY_URL", ""),
            gateway_key=_env("SMS_GATEWAY_KEY", ""),
        ),
        media=_media(),
    )
