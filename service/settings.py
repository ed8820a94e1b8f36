"""All configuration, from the environment only. Nothing here reads the environment at import.

Every setting is documented in README.md (section "Configuration"); a test checks that the two
lists agree.
"""

from __future__ import annotations

import json
import re
from decimal import Decimal
from pathlib import Path

import platformdirs
from pydantic import AliasChoices, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from service.domain.loyalty import PointsProgram
from service.domain.money import Money

_RATE = re.compile(r"^\s*(\d+)\s*:\s*(\d+(?:\.\d{1,2})?)\s*(?::\s*([A-Z]{3}))?\s*$")


def default_data_dir() -> Path:
    return Path(platformdirs.user_data_dir("omnistock", appauthor=False))


def _rate(program_id: str, text: object) -> PointsProgram:
    match = _RATE.match(text) if isinstance(text, str) else None
    if match is None or int(match[1]) < 1 or Decimal(match[2]) <= 0:
        raise ValueError(f"point value of {program_id!r} must read 'POINTS:AMOUNT[:CURRENCY]'")
    return PointsProgram(program_id, int(match[1]), Money(Decimal(match[2]), match[3] or "EUR"))


def parse_point_values(text: str) -> dict[str, PointsProgram]:
    """``OMNISTOCK_LOYALTY_POINT_VALUE`` read: ``"100:5.00"`` (every program) or
    ``{"FID01": "100:5.00", "*": "50:1.00:EUR"}``. Here, with the setting, so that a bad value
    is refused when the settings load and the use cases receive programs, not text."""
    text = text.strip()
    if not text:
        return {}
    if not text.startswith("{"):
        return {"*": _rate("*", text)}
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise ValueError(f"point values are not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise ValueError("point values must be a JSON object of program id -> value")
    return {str(pid): _rate(str(pid), value) for pid, value in data.items()}


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="OMNISTOCK_", extra="ignore", frozen=True)

    # --- storage
    database_url: str | None = Field(
        default=None,
        validation_alias=AliasChoices("DATABASE_URL", "OMNISTOCK_DATABASE_URL"),
        description="PostgreSQL DSN. Unset: the embedded PostgreSQL under OMNISTOCK_DATA_DIR.",
    )
    data_dir: Path = Field(
        default_factory=default_data_dir,
        description="Where the embedded PostgreSQL keeps its data (when DATABASE_URL is unset).",
    )
    db_pool_min: int = Field(default=2, ge=1, description="Minimum PostgreSQL pool size.")
    db_pool_max: int = Field(default=10, ge=1, description="Maximum PostgreSQL pool size.")
    redis_url: str | None = Field(
        default=None,
        validation_alias=AliasChoices("REDIS_URL", "OMNISTOCK_REDIS_URL"),
        description="Redis URL for the shared cache. Unset: an in-process memory cache.",
    )

    # --- HTTP
    host: str = Field(default="127.0.0.1", description="Address the API listens on.")
    port: int = Field(default=8080, ge=0, le=65535, description="Port the API listens on.")
    max_body_bytes: int = Field(
        default=1_048_576, ge=1024, description="Largest request body accepted (413 above)."
    )
    shutdown_timeout_s: float = Field(
        default=20.0, ge=0, description="On SIGTERM, how long in-flight requests may finish."
    )
    worker_metrics_port: int = Field(
        default=9100,
        ge=0,
        le=65535,
        description="The worker serves /metrics and /healthz on this port (0: off).",
    )
    auth_cache_s: float = Field(
        default=5.0, ge=0, description="How long a verified API key is cached in process."
    )
    staff_session_idle_s: int = Field(
        default=3600, ge=60, description="A staff console session ends after this long unused."
    )
    staff_session_max_s: int = Field(
        default=43200, ge=60, description="A staff console session ends this long after sign-in."
    )

    # --- ERP (Cegid Retail Y2)
    erp_url: str = Field(
        default="http://127.0.0.1:8081",
        description="Cegid base URL, without the app segment (the demo's simulator by default).",
    )
    erp_app: str = Field(default="Y2", description="Cegid app path segment (Y2, Y2_TEST...).")
    erp_database_id: str = Field(default="DEMO", description="Cegid DatabaseId.")
    erp_user: str = Field(default="omnistock", description="Cegid user (sent as DB\\user).")
    erp_password: SecretStr = Field(default=SecretStr("omnistock"), description="Cegid password.")
    erp_timeout_s: float = Field(default=15.0, gt=0, description="Per-call ERP timeout.")
    erp_max_concurrency: int = Field(default=8, ge=1, description="ERP calls in flight.")
    erp_retries: int = Field(default=2, ge=0, description="Retries of transport errors/5xx.")
    erp_remote_wsdl: bool = Field(
        default=False, description="Load the ERP's own ?singleWsdl once at start-up."
    )
    web_store_id: str = Field(
        default="WEB",
        description="Cegid store code of the e-commerce store (order header) and of the web "
        "price list, which the price sync always reads.",
    )

    # --- sync
    sync_page_size: int = Field(default=500, ge=1, le=5000, description="Items per stock page.")
    sync_concurrency: int = Field(default=2, ge=1, description="Pages fetched in parallel.")
    sync_full_interval_s: float = Field(default=300, gt=0, description="Full stock pass period.")
    sync_hot_interval_s: float = Field(
        default=1.25,
        gt=0,
        description="Hot stock pass period, start to start: the SKUs viewed in the last "
        "sync_hot_now_s are read from the ERP on every pass (an in-store sale is online within "
        "about this long).",
    )
    sync_hot_now_s: float = Field(
        default=60,
        gt=0,
        description="A SKU viewed or held this recently is read on every hot pass.",
    )
    sync_hot_rest_interval_s: float = Field(
        default=10,
        gt=0,
        description="The other hot SKUs are read again after this long (a free slot of a "
        "pass's last call may take them sooner). Below stock_ttl_s, a SKU viewed again "
        "needs no read-through.",
    )
    sync_hot_window_s: float = Field(
        default=900, gt=0, description="A SKU stays hot this long after it was viewed or held."
    )
    sync_hot_limit: int = Field(default=2000, ge=1, description="Most SKUs per hot pass.")
    sync_items_interval_s: float = Field(default=3600, gt=0, description="Items sync period.")
    sync_prices_interval_s: float = Field(default=900, gt=0, description="Prices sync period.")

    # --- availability
    read_through: bool = Field(
        default=True, description="The API refreshes SKUs older than the TTL from the ERP."
    )
    stock_ttl_s: float = Field(
        default=30, gt=0, description="Snapshots older than this are refreshed on read."
    )
    stale_after_s: float = Field(
        default=120, gt=0, description="Answers from older snapshots are flagged stale."
    )
    refresh_deadline_s: float = Field(
        default=0.3, gt=0, description="Longest a read waits for the ERP before falling back."
    )
    cache_ttl_s: float = Field(
        default=60, gt=0, description="Cache entries expire after this even without a NOTIFY."
    )
    cache_max_rows: int = Field(
        default=500_000,
        ge=1,
        description="Most stock rows (a SKU in a store, about 250 bytes each) the in-process "
        "stock cache holds (without Redis); the oldest entries go first.",
    )
    answer_cache_s: float = Field(
        default=1.0,
        ge=0,
        description="GET /v1/availability answers, and the lines of POST /v1/availability, "
        "are reused this long unless stock or reference data changed first (the stale flags "
        "are as late at most); 0 turns both off.",
    )
    matrix_max_cells: int = Field(
        default=5000, ge=1, description="Most lines x stores in one availability matrix (413)."
    )

    # --- pickups
    pickup_max_staleness_s: float = Field(
        default=600, gt=0, description="Holds are refused when the stock snapshot is older."
    )
    pickup_prep_minutes: int = Field(
        default=60, ge=0, description="Opening-hours minutes to prepare a pickup (ready_by)."
    )
    pickup_code_attempts: int = Field(
        default=5, ge=1, description="Wrong pickup codes before a pickup is locked."
    )
    pickup_optimistic_attempts: int = Field(
        default=3,
        ge=0,
        le=20,
        description="Unlocked reads a pickup creation tries (each re-checked under the lock by "
        "its write) before it locks the stock rows for its whole transaction; 0: always lock.",
    )
    sweeper_interval_s: float = Field(
        default=30, gt=0, description="How often pickups past their deadline are expired."
    )

    # --- logs
    log_level: str = Field(
        default="INFO",
        description="Python log level; the HTTP client's one line per ERP call only at DEBUG.",
    )
    log_json: bool = Field(default=True, description="JSON log lines (false: plain text).")

    # --- outbox
    outbox_interval_s: float = Field(
        default=1.0, gt=0, description="Period of the outbox relay (pickup events to the ERP)."
    )
    outbox_batch_size: int = Field(default=100, ge=1, description="Most outbox rows per run.")
    outbox_concurrency: int = Field(
        default=4, ge=1, description="Outbox rows posted at once (each holds a connection)."
    )
    outbox_max_attempts: int = Field(
        default=30, ge=1, description="Failed tries before an outbox row is dead."
    )
    outbox_backoff_base_s: float = Field(
        default=5.0, gt=0, description="First retry delay bound (doubles per try, full jitter)."
    )
    outbox_backoff_max_s: float = Field(
        default=900.0, gt=0, description="Largest retry delay bound of an outbox row."
    )
    outbox_post_timeout_s: float = Field(
        default=60.0, gt=0, description="Longest ERP exchange for one outbox row."
    )
    outbox_default_customer_id: str = Field(
        default="",
        description="Cegid customer of documents whose shopper is neither linked, found by "
        "e-mail nor created.",
    )
    erp_create_customers: bool = Field(
        default=True,
        description="Create the Cegid customer (AddNewCustomer) of a shopper no e-mail search "
        "finds; false: search only.",
    )

    # --- retention (worker job `retention`, CLI `omnistock outbox purge`)
    retention_interval_s: float = Field(
        default=3600, gt=0, description="Period of the retention job (purges old rows)."
    )
    outbox_retention_s: float = Field(
        default=604_800, gt=0, description="Done outbox rows are deleted this long after done."
    )
    idempotency_retention_s: float = Field(
        default=604_800, gt=0, description="Idempotency keys are deleted this long after use."
    )
    retention_batch_size: int = Field(
        default=5000, ge=1, le=100_000, description="Most rows one purge statement deletes."
    )

    # --- loyalty
    loyalty_point_value: str = Field(
        default="100:5.00",
        description="What points are worth: 'POINTS:AMOUNT[:CURRENCY]' for every program, or a "
        "JSON object of program id -> that ('*' for the others).",
    )
    receipts_ttl_s: float = Field(
        default=30,
        gt=0,
        description="A customer's documents read from the ERP are reused this long.",
    )
    receipts_refresh_deadline_s: float = Field(
        default=3.0, gt=0, description="Longest a receipts read waits for the ERP (then stored)."
    )
    loyalty_ttl_s: float = Field(
        default=10, gt=0, description="A customer's ERP points reading is reused this long."
    )
    loyalty_refresh_deadline_s: float = Field(
        default=2.0, gt=0, description="Longest a balance read waits for the ERP (then fallback)."
    )
    loyalty_stale_after_s: float = Field(
        default=300, gt=0, description="Balances from older ERP readings are flagged stale."
    )
    loyalty_max_staleness_s: float = Field(
        default=600, gt=0, description="Redemption holds are refused when the reading is older."
    )
    loyalty_hold_ttl_s: float = Field(
        default=1800, gt=0, description="A redemption hold expires after this unless committed."
    )
    loyalty_sweeper_interval_s: float = Field(
        default=30, gt=0, description="How often expired redemption holds are released."
    )

    @field_validator("loyalty_point_value")
    @classmethod
    def _point_value(cls, value: str) -> str:
        parse_point_values(value)  # raises ValueError: a clear error at start-up
        return value

    # --- notifications (optional; all off by default)
    webhook_url: str = Field(
        default="", description="Pickup events are POSTed here, signed; empty: no webhooks."
    )
    webhook_secret: SecretStr = Field(
        default=SecretStr(""), description="HMAC-SHA256 key of the webhook signatures."
    )
    replay_key: SecretStr = Field(
        default=SecretStr(""),
        description="Key sealing the pickup code in stored Idempotency-Key answers and keying "
        "the stored hash of every pickup code; empty: a random key kept in data_dir (one "
        "machine only).",
    )
    replay_key_previous: SecretStr = Field(
        default=SecretStr(""),
        description="Former OMNISTOCK_REPLAY_KEY values, comma-separated, still accepted to "
        "check pickup codes and open stored answers written under them (a key rotation).",
    )
    prestashop_url: str = Field(
        default="", description="PrestaShop shop URL (Webservice at {url}/api); empty: off."
    )
    prestashop_key: SecretStr = Field(
        default=SecretStr(""), description="PrestaShop Webservice key (order_histories: POST)."
    )
    prestashop_ready_state: int = Field(
        default=0, ge=0, description="id_order_state of a ready pickup order; 0: not set."
    )
    prestashop_collected_state: int = Field(
        default=0, ge=0, description="id_order_state of a collected pickup order; 0: not set."
    )
    prestashop_stock_push: bool = Field(
        default=False,
        description="Push the e-commerce store's stock to PrestaShop's stock_availables "
        "(Webservice key with stock_availables GET and PUT); needs OMNISTOCK_PRESTASHOP_URL/KEY.",
    )
    prestashop_stock_batch: int = Field(
        default=200, ge=1, le=5000, description="Most SKUs per stock push outbox row."
    )
    notify_timeout_s: float = Field(
        default=10.0, gt=0, description="Longest webhook or PrestaShop request."
    )

    @model_validator(mode="after")
    def _notifications(self) -> Settings:
        if self.webhook_url and not self.webhook_secret.get_secret_value():
            raise ValueError("OMNISTOCK_WEBHOOK_URL needs OMNISTOCK_WEBHOOK_SECRET")
        if self.prestashop_url and not self.prestashop_key.get_secret_value():
            raise ValueError("OMNISTOCK_PRESTASHOP_URL needs OMNISTOCK_PRESTASHOP_KEY")
        if self.prestashop_stock_push and not self.prestashop_url:
            raise ValueError("OMNISTOCK_PRESTASHOP_STOCK_PUSH needs OMNISTOCK_PRESTASHOP_URL/KEY")
        return self


def load_settings(**overrides: object) -> Settings:
    """Read settings from the environment; keyword arguments win (tests use them)."""
    return Settings(**overrides)  # type: ignore[arg-type]
