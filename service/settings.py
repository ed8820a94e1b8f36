"""All configuration, from the environment only. Nothing here reads the environment at import.

Every setting is documented in README.md (section "Configuration"); a test checks that the two
lists agree.
"""

from __future__ import annotations

from pathlib import Path

import platformdirs
from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict


def default_data_dir() -> Path:
    return Path(platformdirs.user_data_dir("omnistock", appauthor=False))


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
    auth_cache_s: float = Field(
        default=5.0, ge=0, description="How long a verified API key is cached in process."
    )

    # --- logs
    log_level: str = Field(default="INFO", description="Python log level.")
    log_json: bool = Field(default=True, description="JSON log lines (false: plain text).")


def load_settings(**overrides: object) -> Settings:
    """Read settings from the environment; keyword arguments win (tests use them)."""
    return Settings(**overrides)  # type: ignore[arg-type]
