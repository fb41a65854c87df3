"""Settings: the one module that reads the environment.

Every safety limit is a documented setting with a sane default (see README).  Secrets
are wrapped in ``Secret`` so they never print.  Tests override the environment, not
module globals: call ``load_settings()`` again.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from functools import lru_cache


class Secret:
    """A string that does not show itself in repr, str or logs."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __bool__(self) -> bool:
        return bool(self._value)

    def __repr__(self) -> str:
        return "Secret('**********')"

    __str__ = __repr__


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    return default if raw in (None, "") else int(raw)


def _float(name: str, default: float) -> float:
    raw = os.environ.get(name)
    return default if raw in (None, "") else float(raw)


def _bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw in (None, ""):
        return default
    return raw.strip().lower() in ("1", "true", "yes", "on")


def _list(name: str) -> tuple[str, ...]:
    return tuple(item.strip() for item in (os.environ.get(name) or "").split(",") if item.strip())


@dataclass(frozen=True)
class Settings:
    database_url: str = "sqlite://followups.sqlite3"
    sqlite_busy_timeout_ms: int = 5000
    sqlite_read_connections: int = 4
    database_pool_min: int = 1
    database_pool_max: int = 10
    redis_url: Secret = field(default_factory=lambda: Secret(""))
    debug: bool = False
    host: str = "127.0.0.1"
    port: int = 8000
    base_url: str = "http://127.0.0.1:8000"
    max_page_size: int = 200
    default_page_size: int = 50
    max_window_days: int = 400
    max_ids_per_query: int = 100
    max_occurrences_per_series: int = 10_000
    max_query_depth: int = 12
    max_query_cost: int = 50_000
    max_aliases: int = 30
    max_operations: int = 5
    max_body_bytes: int = 1_000_000
    introspection: bool = True
    rate_limit_per_minute: int = 600
    rate_limit_burst: int = 120
    max_concurrent_requests: int = 64
    max_concurrent_per_associate: int = 8
    max_concurrent_per_address: int = 16
    request_header_timeout: float = 10.0
    request_body_timeout: float = 10.0
    request_body_min_rate: int = 10_000
    auth_failures_per_minute: int = 30
    max_tokens_per_associate: int = 20
    cors_origins: tuple[str, ...] = ()
    smtp_host: str = ""
    smtp_port: int = 587
    smtp_user: str = ""
    smtp_password: Secret = field(default_factory=lambda: Secret(""))
    smtp_starttls: bool = True
    smtp_tls: bool = False
    mail_from_domain: str = "followups.invalid"
    secret_key: Secret = field(default_factory=lambda: Secret(""))
    inbound_mail_secret: Secret = field(default_factory=lambda: Secret(""))
    mail_envelope_from: str = ""
    mail_worker: bool = True
    mail_batch_size: int = 50
    mail_max_attempts: int = 12
    mail_lease_seconds: int = 300
    mail_poll_seconds: float = 2.0
    mail_update_debounce_seconds: float = 60.0
    reply_link_days: int = 60
    imap_host: str = ""
    imap_port: int = 993
    imap_user: str = ""
    imap_password: Secret = field(default_factory=lambda: Secret(""))
    imap_tls: bool = True
    imap_folder: str = "INBOX"
    imap_processed_flag: str = "$FollowupsProcessed"
    imap_processed_folder: str = ""
    imap_worker: bool = True
    imap_idle_seconds: float = 300.0
    imap_poll_seconds: float = 60.0
    imap_timeout: float = 30.0
    max_inbound_mail_bytes: int = 10 * 1024 * 1024
    sync_worker: bool = True
    sync_batch_size: int = 50
    sync_max_attempts: int = 10
    sync_lease_seconds: int = 300
    sync_poll_seconds: float = 2.0
    caldav_timeout: float = 10.0
    caldav_allowed_hosts: tuple[str, ...] = ()
    caldav_password_env_prefix: str = "CALDAV_PASSWORD_"
    sync_unreachable_retry_seconds: float = 30.0
    caldav_initial_window_days: int = 30

    @property
    def mail_configured(self) -> bool:
        return bool(self.smtp_host)

    @property
    def database_pool(self) -> tuple[int, int, int]:
        """(PostgreSQL pool min, max, SQLite read connections) for ``orm.db.Pool``."""
        return self.database_pool_min, self.database_pool_max, self.sqlite_read_connections


def load_settings() -> Settings:
    """Read the settings from the environment (variables are named in the README)."""
    env = os.environ.get
    return Settings(
        database_url=env("DATABASE_URL") or Settings.database_url,
        sqlite_busy_timeout_ms=_int("SQLITE_BUSY_TIMEOUT_MS", Settings.sqlite_busy_timeout_ms),
        sqlite_read_connections=_int("SQLITE_READ_CONNECTIONS", Settings.sqlite_read_connections),
        database_pool_min=_int("DATABASE_POOL_MIN", Settings.database_pool_min),
        database_pool_max=_int("DATABASE_POOL_MAX", Settings.database_pool_max),
        redis_url=Secret(env("REDIS_URL") or ""),
        debug=_bool("DEBUG", False),
        host=env("HOST") or Settings.host,
        port=_int("PORT", Settings.port),
        base_url=(env("BASE_URL") or Settings.base_url).rstrip("/"),
        max_page_size=_int("MAX_PAGE_SIZE", Settings.max_page_size),
        default_page_size=_int("DEFAULT_PAGE_SIZE", Settings.default_page_size),
        max_window_days=_int("MAX_WINDOW_DAYS", Settings.max_window_days),
        max_ids_per_query=_int("MAX_IDS_PER_QUERY", Settings.max_ids_per_query),
        max_occurrences_per_series=_int(
            "MAX_OCCURRENCES_PER_SERIES", Settings.max_occurrences_per_series
        ),
        max_query_depth=_int("MAX_QUERY_DEPTH", Settings.max_query_depth),
        max_query_cost=_int("MAX_QUERY_COST", Settings.max_query_cost),
        max_aliases=_int("MAX_ALIASES", Settings.max_aliases),
        max_operations=_int("MAX_OPERATIONS", Settings.max_operations),
        max_body_bytes=_int("MAX_BODY_BYTES", Settings.max_body_bytes),
        introspection=_bool("GRAPHQL_INTROSPECTION", True),
        rate_limit_per_minute=_int("RATE_LIMIT_PER_MINUTE", Settings.rate_limit_per_minute),
        rate_limit_burst=_int("RATE_LIMIT_BURST", Settings.rate_limit_burst),
        max_concurrent_requests=_int("MAX_CONCURRENT_REQUESTS", Settings.max_concurrent_requests),
        max_concurrent_per_associate=_int(
            "MAX_CONCURRENT_PER_ASSOCIATE", Settings.max_concurrent_per_associate
        ),
        max_concurrent_per_address=_int(
            "MAX_CONCURRENT_PER_ADDRESS", Settings.max_concurrent_per_address
        ),
        request_header_timeout=_float(
            "REQUEST_HEADER_TIMEOUT_SECONDS", Settings.request_header_timeout
        ),
        request_body_timeout=_float("REQUEST_BODY_TIMEOUT_SECONDS", Settings.request_body_timeout),
        request_body_min_rate=_int(
            "REQUEST_BODY_MIN_BYTES_PER_SECOND", Settings.request_body_min_rate
        ),
        auth_failures_per_minute=_int(
            "AUTH_FAILURES_PER_MINUTE", Settings.auth_failures_per_minute
        ),
        max_tokens_per_associate=_int(
            "MAX_TOKENS_PER_ASSOCIATE", Settings.max_tokens_per_associate
        ),
        cors_origins=_list("CORS_ORIGINS"),
        smtp_host=env("SMTP_HOST") or "",
        smtp_port=_int("SMTP_PORT", Settings.smtp_port),
        smtp_user=env("SMTP_USER") or "",
        smtp_password=Secret(env("SMTP_PASSWORD") or ""),
        smtp_starttls=_bool("SMTP_STARTTLS", True),
        smtp_tls=_bool("SMTP_TLS", False),
        mail_from_domain=env("MAIL_FROM_DOMAIN") or Settings.mail_from_domain,
        secret_key=Secret(env("SECRET_KEY") or ""),
        inbound_mail_secret=Secret(env("INBOUND_MAIL_SECRET") or ""),
        mail_envelope_from=env("MAIL_ENVELOPE_FROM") or "",
        mail_worker=_bool("MAIL_WORKER", True),
        mail_batch_size=_int("MAIL_BATCH_SIZE", Settings.mail_batch_size),
        mail_max_attempts=_int("MAIL_MAX_ATTEMPTS", Settings.mail_max_attempts),
        mail_lease_seconds=_int("MAIL_LEASE_SECONDS", Settings.mail_lease_seconds),
        mail_poll_seconds=float(env("MAIL_POLL_SECONDS") or Settings.mail_poll_seconds),
        mail_update_debounce_seconds=float(
            env("MAIL_UPDATE_DEBOUNCE_SECONDS") or Settings.mail_update_debounce_seconds
        ),
        reply_link_days=_int("REPLY_LINK_DAYS", Settings.reply_link_days),
        imap_host=env("IMAP_HOST") or "",
        imap_port=_int("IMAP_PORT", Settings.imap_port),
        imap_user=env("IMAP_USER") or "",
        imap_password=Secret(env("IMAP_PASSWORD") or ""),
        imap_tls=_bool("IMAP_TLS", True),
        imap_folder=env("IMAP_FOLDER") or Settings.imap_folder,
        imap_processed_flag=env("IMAP_PROCESSED_FLAG") or Settings.imap_processed_flag,
        imap_processed_folder=env("IMAP_PROCESSED_FOLDER") or "",
        imap_worker=_bool("IMAP_WORKER", True),
        imap_idle_seconds=float(env("IMAP_IDLE_SECONDS") or Settings.imap_idle_seconds),
        imap_poll_seconds=float(env("IMAP_POLL_SECONDS") or Settings.imap_poll_seconds),
        imap_timeout=float(env("IMAP_TIMEOUT") or Settings.imap_timeout),
        max_inbound_mail_bytes=_int("MAX_INBOUND_MAIL_BYTES", Settings.max_inbound_mail_bytes),
        sync_worker=_bool("SYNC_WORKER", True),
        sync_batch_size=_int("SYNC_BATCH_SIZE", Settings.sync_batch_size),
        sync_max_attempts=_int("SYNC_MAX_ATTEMPTS", Settings.sync_max_attempts),
        sync_lease_seconds=_int("SYNC_LEASE_SECONDS", Settings.sync_lease_seconds),
        sync_poll_seconds=float(env("SYNC_POLL_SECONDS") or Settings.sync_poll_seconds),
        caldav_timeout=float(env("CALDAV_TIMEOUT") or Settings.caldav_timeout),
        caldav_allowed_hosts=_list("CALDAV_ALLOWED_HOSTS"),
        caldav_password_env_prefix=env("CALDAV_PASSWORD_ENV_PREFIX")
        or Settings.caldav_password_env_prefix,
        sync_unreachable_retry_seconds=float(
            env("SYNC_UNREACHABLE_RETRY_SECONDS") or Settings.sync_unreachable_retry_seconds
        ),
        caldav_initial_window_days=_int(
            "CALDAV_INITIAL_WINDOW_DAYS", Settings.caldav_initial_window_days
        ),
    )


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once."""
    return load_settings()
