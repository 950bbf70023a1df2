"""One settings object for the whole process, read from ``YAOSU_*`` environment variables."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="YAOSU_", extra="ignore")

    env: Literal["development", "production"] = "development"
    home: Path = Field(default=Path(".yaosu"), description="where the embedded store lives")
    database_url: str | None = Field(
        default=None, description="SQLAlchemy URL; default is SQLite under home"
    )
    max_upload_bytes: int = Field(default=4 * 1024**3, gt=0)
    # An XLSX is a zip: refuse archives that inflate beyond this, or by more than the ratio.
    max_xlsx_uncompressed_bytes: int = Field(default=2 * 1024**3, gt=0)
    max_zip_ratio: int = Field(default=200, gt=1)
    session_hours: int = Field(default=12, gt=0)
    token_days_default: int = Field(default=90, gt=0)
    # Login throttling: after this many failures in the window an account (from any address)
    # or an address (for any account) is locked, for a time that doubles with each further
    # failure, up to the maximum.
    login_max_failures: int = Field(default=5, ge=1)
    login_max_failures_per_address: int = Field(default=20, ge=1)
    login_window_seconds: int = Field(default=900, ge=1)
    login_lockout_seconds: int = Field(default=60, ge=1)
    login_lockout_max_seconds: int = Field(default=3600, ge=1)
    # Ingest reads CSV in blocks of this many bytes; memory stays a small multiple of it.
    ingest_block_bytes: int = Field(default=16 * 1024**2, gt=0)
    # A file with more columns is refused before any work (a 1 MB CSV can have 100,000).
    max_columns: int = Field(default=2000, ge=1, le=100_000)
    # A request body that stops arriving for this long is answered 408 and its connection
    # closed, so a client that declares more than it sends cannot hold a worker.
    body_read_seconds: float = Field(default=30, gt=0, le=3600)
    host: str = "127.0.0.1"
    port: int = 8000
    secure_cookies: bool = False
    default_locale: Literal["zh-CN", "en"] = "zh-CN"
    # The audit log's identity (checkpoint origin and key name) and signing key file,
    # kept outside the database; created at first start when missing.
    audit_origin: str = Field(default="yaosu.local/audit-log", pattern=r"^[^\s+]+$")
    audit_key_file: Path | None = None
    # The platform's key for right certificates; created at first use when missing.
    certificate_key_file: Path | None = None
    audit_checkpoint_seconds: int = Field(default=60, ge=0, description="0 turns the schedule off")
    # Public-security keyword dictionary for privacy screening (one keyword per line, UTF-8).
    security_keywords_file: str | None = None
    # Background tasks: a full scan or a de-identification of a version with more rows than
    # this runs in the background; the web process runs this many worker threads (0: none,
    # then `yaosu tasks work` runs them); a running task silent for this long is taken as dead.
    background_rows: int = Field(default=200_000, ge=0)
    task_workers: int = Field(default=1, ge=0, le=16)
    task_stale_seconds: int = Field(default=60, ge=5)
    # Authorisation: how long reviewers have for a request, the smallest group an aggregate
    # may show unless a contract says more, and the longest a contract may run (public-data
    # authorised operation agreements: at most 5 years).
    review_days: int = Field(default=10, ge=1, le=90)
    min_group_size: int = Field(default=10, ge=2)
    max_contract_days: int = Field(default=1826, ge=1, le=1826)
    # Governed queries: the engine, its worker processes, their limits; the δ used to release
    # group keys of private grouped queries when a contract states none.
    query_engine: Literal["duckdb", "spark"] = "duckdb"
    query_workers: int = Field(default=2, ge=1, le=32)
    query_seconds: int = Field(default=30, ge=1, le=3600)
    query_memory_mb: int = Field(default=1024, ge=64)
    query_threads: int = Field(default=2, ge=1, le=64)
    spark_master: str = "local[2]"
    dp_delta: float = Field(default=1e-6, gt=0, lt=1e-3)
    # Rights registration: the public notice window (公示期) in days.
    notice_days: int = Field(default=10, ge=0, le=90)
    # Anonymisation (GB/T 37964, GB/T 35273): a de-identified version is still personal
    # information unless every quasi-identifier group holds at least anon_k records and at
    # least anon_l distinct values of each other attribute.
    anon_k: int = Field(default=5, ge=2, le=1000)
    anon_l: int = Field(default=2, ge=2, le=100)
    # The market's clearing: a day's transfers (a day in China Standard Time) are settled this
    # many days later (T+1 by default); at least 1, so a settled day takes no new transfers.
    settlement_lag_days: int = Field(default=1, ge=1, le=30)
    # An order's delivery is accepted this many days after it began unless the buyer accepts
    # or disputes it first (验收); its money is held in escrow at most ``hold_days`` (a dispute
    # still open then is refunded to the buyer by the hold's timeout).
    acceptance_days: int = Field(default=7, ge=1, le=90)
    hold_days: int = Field(default=90, ge=7, le=730)
    # Revenue shares: each party's share of a released order is held this many days for
    # objections before it is paid; a product made from data bought on the market pays a
    # royalty of ``royalty_bp`` to each purchase it was made from, up the lineage at most
    # ``royalty_depth`` hops, all royalties together at most ``royalty_cap_bp`` of the sale.
    share_objection_days: int = Field(default=15, ge=0, le=180)
    royalty_bp: int = Field(default=500, ge=0, le=10_000)
    royalty_cap_bp: int = Field(default=2000, ge=0, le=10_000)
    royalty_depth: int = Field(default=3, ge=0, le=10)
    # Lineage: an OpenLineage endpoint (Marquez, DataHub, …; the API's base URL) that
    # ``yaosu lineage send`` posts the stored run events to, and its API key (a secret: set it
    # in the environment, never in a file in the repository).
    lineage_url: str | None = Field(default=None, pattern=r"^https?://\S+$")
    lineage_api_key: SecretStr | None = None
    # Compute-to-data. The red-line register (a list of {code, title, uses, subjects, purposes,
    # basis}; unset: the built-in one, ``authorization.policy.redlines.DEFAULT_RED_LINES``);
    # the region code (GB/T 2260, six digits) in filing numbers; the sandbox runner and the
    # limits of one job; how long a job may wait in each phase before it fails with a reason.
    red_lines: list[dict[str, Any]] | None = None
    filing_region: str = Field(default="360100", pattern=r"^[0-9]{6}$")
    compute_runner: Literal["bubblewrap"] = "bubblewrap"
    compute_memory_mb: int = Field(default=2048, ge=64, le=256 * 1024)
    compute_cpu_seconds: int = Field(default=600, ge=1, le=7 * 86400)
    compute_wall_seconds: int = Field(default=900, ge=1, le=7 * 86400)
    compute_processes: int = Field(default=64, ge=4, le=4096)
    compute_output_mb: int = Field(default=256, ge=1, le=64 * 1024)
    compute_max_input_rows: int = Field(default=20_000_000, ge=1)
    compute_approval_days: int = Field(default=14, ge=1, le=365)
    compute_queue_hours: int = Field(default=24, ge=1, le=24 * 30)
    compute_review_days: int = Field(default=15, ge=1, le=365)
    # Ethics review (科技伦理审查): the department that organises expert re-review (专家复核)
    # of the activities on the measures' list; the regulators of that department decide it.
    ethics_re_review_department: str = Field(default="科技", min_length=1, max_length=40)

    @model_validator(mode="after")
    def _production_is_explicit(self) -> Settings:
        # Demo passwords and an implicit SQLite file are development conveniences only.
        if self.env == "production" and not self.database_url:
            raise ValueError("YAOSU_DATABASE_URL must be set when YAOSU_ENV=production")
        return self

    @property
    def home_dir(self) -> Path:
        return self.home.expanduser().resolve()

    @property
    def data_dir(self) -> Path:
        return self.home_dir / "data"

    # Every key file Yaosu keeps is named here, and created by ``yaosu.kernel.keys``.
    @property
    def keys_dir(self) -> Path:
        return self.home_dir / "keys"

    @property
    def audit_key_path(self) -> Path:
        return self.audit_key_file or self.keys_dir / "audit-log.key"

    @property
    def certificate_key_path(self) -> Path:
        return self.certificate_key_file or self.keys_dir / "certificates.key"

    @property
    def pseudonym_key_dir(self) -> Path:
        """One key per dataset, ``<dataset id>.key``."""
        return self.keys_dir / "pseudonyms"

    @property
    def demo_witness_dir(self) -> Path:
        """The demo regulators' witness keys (in real use each regulator keeps its own)."""
        return self.home_dir / "witnesses"

    @property
    def db_url(self) -> str:
        return self.database_url or f"sqlite:///{self.home_dir / 'yaosu.db'}"


@lru_cache
def get_settings() -> Settings:
    return Settings()


def reset_settings() -> None:
    """Forget the cached settings (tests and the CLI change the environment)."""
    get_settings.cache_clear()
