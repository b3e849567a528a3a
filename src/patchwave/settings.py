"""Settings from the environment (prefix ``PATCHWAVE_``), built on demand, never at import."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Runtime settings. Credentials are never settings: only references to them."""

    model_config = SettingsConfigDict(env_prefix="PATCHWAVE_", extra="ignore")

    home: Path = Field(default=Path(".patchwave"), description="State folder (SQLite, reports).")
    database_url: str | None = Field(
        default=None, description="SQLAlchemy URL; default is a SQLite file under home."
    )
    sim_seed: int = Field(default=42, description="Seed of the simulated fleet.")
    sim_latency_scale: float = Field(
        default=0.005,
        description=(
            "Real seconds per simulated host second on the system clock (0.005: a 30-minute "
            "install takes 9 s). Simulated-clock runs use 1.0: their waits cost no real time."
        ),
    )
    kev_path: Path | None = Field(default=None, description="CISA KEV JSON file to use.")
    report_dir: Path | None = Field(default=None, description="Where HTML reports are written.")
    msp_name: str = Field(
        default="Managed IT Services", description="The MSP's name on the reports clients receive."
    )
    noop_driver: bool = Field(
        default=False, description="Local endpoint runs `true` for every driver command (bench)."
    )
    ssh_known_hosts_dir: Path | None = Field(
        default=None, description="Folder with one known_hosts file per tenant."
    )
    driver_options_file: Path | None = Field(
        default=None,
        description=(
            "YAML file of Linux driver options (default, per tenant, per host) for ssh and "
            "local hosts; see docs/linux-hosts.md. Unset: every host uses the defaults."
        ),
    )
    slack_token_ref: str | None = Field(
        default=None,
        description="Slack bot token reference (env:VAR or secret:BLOCK); unset = Slack disabled.",
    )
    slack_base_url: str = Field(
        default="https://slack.com/api/", description="Slack Web API URL (tests: loopback)."
    )
    slack_default_channel: str = Field(
        default="#patching", description="Channel for messages with no tenant or spec channel."
    )
    slack_signing_secret_ref: str | None = Field(
        default=None, description="Reference to the Slack app's signing secret (HTTP mode)."
    )
    slack_app_token_ref: str | None = Field(
        default=None, description="Reference to the app-level xapp- token (Socket Mode)."
    )
    slack_rate_per_channel: float = Field(
        default=1.0, gt=0, description="Slack messages per second per channel (Slack: about 1)."
    )
    public_report_url: str | None = Field(
        default=None,
        description="http(s) URL where the report folder is published, for Slack report links.",
    )

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.home / 'patchwave.db').resolve()}"

    @property
    def effective_report_dir(self) -> Path:
        return self.report_dir or (self.home / "reports")

    @property
    def effective_known_hosts_dir(self) -> Path:
        return self.ssh_known_hosts_dir or (self.home / "known_hosts")


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process's settings (cached; tests call ``get_settings.cache_clear()``)."""
    return Settings()
