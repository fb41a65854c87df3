"""Settings: the one module that reads the environment.

Every safety limit is a documented setting with a sane default (see README's
configuration tables).  ``Settings`` is an immutable, typed model: ranges and
cross-checks hold however it is built; ``load_settings()`` reads it from the
environment (each field's variable is its upper-case name unless ``validation_alias``
says otherwise; an empty variable means the default) and turns any refusal into one
``SettingsError`` line naming the variable.  Constructing ``Settings(...)`` with keyword
arguments never reads the environment (tests build theirs that way).  Secrets are
wrapped in ``Secret`` so they never print.
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache
from typing import Annotated, Any, Literal

from pydantic import Field, GetCoreSchemaHandler, ValidationError, field_validator, model_validator
from pydantic_core import core_schema
from pydantic_settings import BaseSettings, NoDecode, PydanticBaseSettingsSource, SettingsConfigDict

from config.hosts import parse_allowed


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

    @classmethod
    def __get_pydantic_core_schema__(
        cls, _source: Any, _handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        """A ``Secret`` as it is, or a string wrapped in one."""
        from_str = core_schema.no_info_after_validator_function(cls, core_schema.str_schema())
        return core_schema.union_schema([core_schema.is_instance_schema(cls), from_str])


class SettingsError(ValueError):
    """The environment holds a value the service refuses (one line, naming the variable)."""


def _no_secret() -> Secret:
    return Secret("")


Count = Annotated[int, Field(ge=1)]
Port = Annotated[int, Field(ge=1, le=65535)]
Seconds = Annotated[float, Field(gt=0, allow_inf_nan=False)]
Names = Annotated[tuple[str, ...], NoDecode]  # comma-separated in the environment
LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        frozen=True,
        extra="forbid",
        populate_by_name=True,
        env_ignore_empty=True,
        case_sensitive=False,
        validate_default=True,
    )

    database_url: str = "sqlite://followups.sqlite3"
    sqlite_busy_timeout_ms: Annotated[int, Field(ge=0)] = 5000
    debug: bool = False
    host: str = "127.0.0.1"
    port: Port = 8000
    base_url: str = "http://127.0.0.1:8000"
    max_page_size: Count = 200
    default_page_size: Count = 50
    max_window_days: Count = 400
    max_ids_per_query: Count = 100
    max_occurrences_per_series: Count = 10_000
    max_query_depth: Count = 12
    max_query_cost: Count = 50_000
    max_aliases: Annotated[int, Field(ge=0)] = 30
    max_operations: Count = 5
    max_body_bytes: Count = 1_000_000
    introspection: bool = Field(True, validation_alias="GRAPHQL_INTROSPECTION")
    rate_limit_per_minute: Count = 600
    rate_limit_burst: Count = 120
    max_concurrent_requests: Count = 64
    max_concurrent_per_associate: Count = 8
    max_concurrent_per_address: Count = 16
    request_header_timeout: Seconds = Field(10.0, validation_alias="REQUEST_HEADER_TIMEOUT_SECONDS")
    request_body_timeout: Seconds = Field(10.0, validation_alias="REQUEST_BODY_TIMEOUT_SECONDS")
    request_body_min_rate: Count = Field(
        10_000, validation_alias="REQUEST_BODY_MIN_BYTES_PER_SECOND"
    )
    auth_failures_per_minute: Count = 30
    max_tokens_per_associate: Count = 20
    cors_origins: Names = ()
    #: Addresses or networks of reverse proxies whose X-Forwarded-For/-Proto are believed.
    trusted_proxies: Names = ()
    smtp_host: str = ""
    smtp_port: Port = 587
    smtp_user: str = ""
    smtp_password: Secret = Field(default_factory=_no_secret)
    smtp_starttls: bool = True
    smtp_tls: bool = False
    mail_from_domain: str = "followups.invalid"
    secret_key: Secret = Field(default_factory=_no_secret)
    inbound_mail_secret: Secret = Field(default_factory=_no_secret)
    mail_envelope_from: str = ""
    mail_worker: bool = True
    mail_batch_size: Count = 50
    mail_max_attempts: Count = 12
    mail_lease_seconds: Count = 300
    mail_poll_seconds: Seconds = 2.0
    mail_update_debounce_seconds: Annotated[float, Field(ge=0, allow_inf_nan=False)] = 60.0
    reply_link_days: Count = 60
    imap_host: str = ""
    imap_port: Port = 993
    imap_user: str = ""
    imap_password: Secret = Field(default_factory=_no_secret)
    imap_tls: bool = True
    imap_folder: str = "INBOX"
    imap_processed_flag: str = "$FollowupsProcessed"
    imap_processed_folder: str = ""
    imap_worker: bool = True
    imap_idle_seconds: Seconds = 300.0
    imap_poll_seconds: Seconds = 60.0
    imap_timeout: Seconds = 30.0
    max_inbound_mail_bytes: Count = 10 * 1024 * 1024
    sync_worker: bool = True
    sync_batch_size: Count = 50
    sync_max_attempts: Count = 10
    sync_lease_seconds: Count = 300
    sync_poll_seconds: Seconds = 2.0
    caldav_timeout: Seconds = 10.0
    caldav_allowed_hosts: Names = ()
    caldav_password_env_prefix: str = "CALDAV_PASSWORD_"
    sync_unreachable_retry_seconds: Seconds = 30.0
    caldav_initial_window_days: Annotated[int, Field(ge=0)] = 30
    caldav_poll_seconds: Seconds = 30.0
    live_retention_hours: Seconds = 24.0
    live_queue_size: Count = 100
    live_max_subscriptions_per_token: Count = 20
    live_max_subscriptions: Count = 1000
    live_poll_seconds: Seconds = 0.2
    live_token_check_seconds: Seconds = 30.0
    caldav_pull_delete: Literal["safe", "unlink", "restore"] = "safe"
    all_day_busy_default: bool = False
    sqlite_read_connections: Annotated[int, Field(ge=0, le=64)] = 4
    database_pool_min: Count = 1
    database_pool_max: Count = 10
    redis_url: Secret = Field(default_factory=_no_secret)
    log_format: Literal["text", "json"] = "text"
    log_level: LogLevel = "INFO"
    metrics_token: Secret = Field(default_factory=_no_secret)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Keyword arguments only: the environment is read by ``load_settings``."""
        return (init_settings,)

    @field_validator("cors_origins", "caldav_allowed_hosts", "trusted_proxies", mode="before")
    @classmethod
    def _comma_separated(cls, value: Any) -> Any:
        if isinstance(value, str):
            return tuple(item.strip() for item in value.split(",") if item.strip())
        return value

    @field_validator("caldav_allowed_hosts")
    @classmethod
    def _allow_list(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        parse_allowed(value)  # raises ValueError naming the malformed entry
        return value

    @field_validator("trusted_proxies")
    @classmethod
    def _proxies(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for entry in value:
            try:
                ipaddress.ip_network(entry)
            except ValueError:
                raise ValueError(f"not an address or network: {entry!r}") from None
        return value

    @field_validator("base_url")
    @classmethod
    def _base_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value.rstrip("/")

    @field_validator("log_level", mode="before")
    @classmethod
    def _level(cls, value: Any) -> Any:
        return value.strip().upper() if isinstance(value, str) else value

    @field_validator("log_format", mode="before")
    @classmethod
    def _format(cls, value: Any) -> Any:
        return value.strip().lower() if isinstance(value, str) else value

    @model_validator(mode="after")
    def _cross_checks(self) -> Settings:
        if self.default_page_size > self.max_page_size:
            raise ValueError(
                f"DEFAULT_PAGE_SIZE: must not exceed MAX_PAGE_SIZE "
                f"({self.default_page_size} > {self.max_page_size})"
            )
        if self.database_pool_min > self.database_pool_max:
            raise ValueError(
                f"DATABASE_POOL_MIN: must not exceed DATABASE_POOL_MAX "
                f"({self.database_pool_min} > {self.database_pool_max})"
            )
        return self

    @property
    def mail_configured(self) -> bool:
        return bool(self.smtp_host)

    @property
    def database_pool(self) -> tuple[int, int, int]:
        """(PostgreSQL pool min, max, SQLite read connections) for ``orm.db.Pool``."""
        return self.database_pool_min, self.database_pool_max, self.sqlite_read_connections


class _FromEnvironment(Settings):
    """The settings as the environment gives them, plus what only the environment needs."""

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (env_settings,)

    @field_validator("database_url")
    @classmethod
    def _database_url(cls, value: str) -> str:
        if not value.startswith(("sqlite://", "postgres://", "postgresql://")):
            raise ValueError("must start with sqlite://, postgres:// or postgresql://")
        return value


_PHRASES = {
    "int_parsing": "must be an integer",
    "int_type": "must be an integer",
    "int_from_float": "must be an integer",
    "float_parsing": "must be a number",
    "float_type": "must be a number",
    "finite_number": "must be a finite number",
    "bool_parsing": "must be true or false",
    "bool_type": "must be true or false",
    "string_type": "must be text",
}


def variable(field: str) -> str:
    """The environment variable of a field (its alias, else its upper-case name)."""
    info = Settings.model_fields.get(field)
    alias = info.validation_alias if info is not None else None
    return alias if isinstance(alias, str) else field.upper()


def _number(value: Any) -> Any:
    return int(value) if isinstance(value, float) and value.is_integer() else value


def _describe(error: Any) -> str:
    kind, loc = error["type"], error["loc"]
    ctx = {k: _number(v) for k, v in (error.get("ctx") or {}).items()}
    if kind == "greater_than_equal":
        phrase = f"must be at least {ctx['ge']}"
    elif kind == "greater_than":
        phrase = f"must be greater than {ctx['gt']}"
    elif kind == "less_than_equal":
        phrase = f"must be at most {ctx['le']}"
    elif kind == "literal_error":
        phrase = f"must be one of {ctx['expected']}"
    elif kind == "extra_forbidden":
        phrase = "is not a setting"
    elif kind == "value_error":
        phrase = str(ctx.get("error", error["msg"]))
    else:
        phrase = _PHRASES.get(kind, error["msg"][:1].lower() + error["msg"][1:])
    if not loc:
        return phrase  # a cross-check names its own variables
    name = str(loc[0])
    name = name if name.isupper() else variable(name)
    shown = error.get("input")
    got = f" (got {shown!r})" if isinstance(shown, str) and kind != "extra_forbidden" else ""
    return f"{name}: {phrase}{got}"


def describe(exc: ValidationError) -> str:
    """One line for every refusal of a validation error, each naming its variable."""
    return "; ".join(_describe(error) for error in exc.errors())


def load_settings() -> Settings:
    """Read the settings from the environment; raise ``SettingsError`` on a bad value."""
    try:
        return _FromEnvironment()  # type: ignore[call-arg]  # (aliased fields have defaults)
    except ValidationError as exc:
        raise SettingsError(describe(exc)) from None


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once."""
    return load_settings()
