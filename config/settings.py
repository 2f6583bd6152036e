"""Typed settings from the environment (12-factor), validated once at start.

Every variable carries the ``CONSULTANT_`` prefix. With no IMAP host the inbox
is a local Maildir, with no SMTP host the outbox is a local Maildir, and with
no broker URL tasks run in-process: the embedded default needs no setting.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, PrivateAttr, SecretStr, ValidationError, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from config.desks import MAIN, Desk, DeskError, Desks, load_desks

PROJECT_ROOT = Path(__file__).resolve().parent.parent
ENV_PREFIX = "CONSULTANT_"

TlsMode = Literal["none", "starttls", "ssl"]


class ConfigError(Exception):
    """Raised when a setting is missing or invalid; the message names the variable."""


class Settings(BaseSettings):
    """All settings of CaseConsultant; ``config/example.env`` documents each one."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="ignore", env_ignore_empty=True)

    var_dir: Path = Path("var")
    database_url: str = ""
    broker_url: str | None = None
    task_queue: str = "consultant"
    # Sending has a queue of its own (``<task_queue>.send`` when unset), consumed by the
    # Procfile's ``sender``, so a slow SMTP server never delays the processing of new mail.
    send_queue: str = ""

    imap_host: str | None = None
    imap_port: int | None = Field(default=None, ge=1, le=65535)
    imap_user: str | None = None
    imap_password: SecretStr | None = None
    imap_auth: Literal["password", "xoauth2"] = "password"
    imap_oauth2_token_command: str | None = None
    imap_tls: TlsMode = "ssl"
    imap_ca_file: Path | None = None
    imap_folder: str = "INBOX"
    imap_processed_folder: str = "Processed"
    imap_sent_folder: str | None = None
    imap_batch_size: int = Field(default=50, ge=1, le=1000)
    imap_idle_renew_seconds: int = Field(default=300, ge=10, le=29 * 60 - 1)
    imap_idle_check_seconds: float = Field(default=5.0, gt=0, le=60)
    imap_poll_seconds: float = Field(default=60.0, gt=0)
    imap_timeout_seconds: float = Field(default=60.0, gt=0)
    imap_batch_max_bytes: int = Field(default=20_000_000, ge=1_000_000)

    smtp_host: str | None = None
    smtp_port: int | None = Field(default=None, ge=1, le=65535)
    smtp_user: str | None = None
    smtp_password: SecretStr | None = None
    smtp_tls: TlsMode = "starttls"
    smtp_ca_file: Path | None = None
    smtp_timeout_seconds: float = Field(default=60.0, gt=0)
    # DKIM signing of every message we send (mail.dkim_signing): off unless a selector is set.
    dkim_selector: str | None = Field(default=None, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
    dkim_private_key_file: Path | None = None
    dkim_domain: str | None = None  # the consult address's domain when unset

    consult_address: str = "consult@localhost"
    display_name: str = "CaseConsultant"
    # More consult addresses or folders, each with its own name and team (config.desks).
    desks_file: Path | None = None
    _desks: Desks | None = PrivateAttr(default=None)
    case_prefix: str = Field(default="CC", pattern=r"^[A-Z][A-Z0-9]{0,9}$")
    send_acknowledgments: bool = True
    phi_resend_request: bool = True
    # Addresses (dana@example.com) and domains (example.com) whose Reply-To we answer
    # even when it is not the sender's own domain; comma-separated.
    allowed_senders: str = ""
    sender_hourly_limit: int = Field(default=30, ge=1)

    maildir_poll_seconds: float = Field(default=1.0, gt=0)
    sweep_seconds: float = Field(default=60.0, gt=0)
    stale_after_seconds: float = Field(default=120.0, gt=0)
    send_max_attempts: int = Field(default=8, ge=1)
    send_retry_seconds: float = Field(default=5.0, gt=0)
    task_soft_time_limit_seconds: float = Field(default=60.0, gt=0)
    task_time_limit_seconds: float = Field(default=90.0, gt=0)
    process_max_attempts: int = Field(default=3, ge=1)

    max_message_codes: int = Field(default=40, ge=1)
    max_code_pairs: int = Field(default=300, ge=0)
    max_text_chars: int = Field(default=50_000, ge=1000)
    max_html_bytes: int = Field(default=1_000_000, ge=10_000)
    max_mime_depth: int = Field(default=20, ge=2)
    max_mime_parts: int = Field(default=500, ge=2)
    max_attachment_bytes: int = Field(default=25_000_000, ge=0)
    max_header_chars: int = Field(default=8_000, ge=998)

    claim_minutes: int = Field(default=30, ge=1, le=24 * 60)
    sla_hours: float = Field(default=24.0, gt=0)
    business_hours: str = Field(default="", pattern=r"^$|^\d{2}:\d{2}-\d{2}:\d{2}$")
    business_days: str = "Mon,Tue,Wed,Thu,Fri"
    business_timezone: str = "UTC"

    session_idle_minutes: int = Field(default=60, ge=1)
    session_max_hours: float = Field(default=12.0, gt=0)
    login_free_failures: int = Field(default=3, ge=1)
    login_delay_seconds: float = Field(default=2.0, gt=0)
    login_max_delay_seconds: float = Field(default=900.0, gt=0)

    # Members (coders) on the web: the site's address for links in account mail, how
    # long those links work, how many questions a member may ask in an hour, and whether
    # an emailed question gets the automatic answer at once when it is sure of itself.
    public_url: str = Field(default="http://127.0.0.1:8000", pattern=r"^https?://[^\s/]+(/\S*)?$")
    account_link_hours: float = Field(default=48.0, gt=0)
    ask_hourly_limit: int = Field(default=30, ge=1)
    instant_reply: Literal["off", "confident"] = "off"

    secret_key: SecretStr | None = None
    # /metrics on the web role answers a scraper presenting this token (off when unset);
    # the worker and sender serve their own runtime metrics on these ports (off when unset).
    metrics_token: SecretStr | None = None
    worker_metrics_port: int | None = Field(default=None, ge=1, le=65535)
    sender_metrics_port: int | None = Field(default=None, ge=1, le=65535)
    metrics_bind: str = "127.0.0.1"
    secure_cookies: bool = False
    trusted_proxy: str | None = None
    templates_dir: Path = PROJECT_ROOT / "templates"
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_format: Literal["text", "json"] = "text"
    # Loggers to log at DEBUG whatever the level, comma-separated: one part looked at
    # closely without the rest (imapclient's protocol log, say) flooding the log.
    log_debug: str = ""

    @model_validator(mode="after")
    def _fill_in_and_check(self) -> Settings:
        if not self.database_url:
            self.database_url = f"sqlite:///{self.var_dir / 'consultant.db'}"
        if not self.send_queue:
            self.send_queue = f"{self.task_queue}.send"
        if self.send_queue == self.task_queue:
            raise ValueError(
                f"{ENV_PREFIX}SEND_QUEUE must differ from {ENV_PREFIX}TASK_QUEUE "
                f"(both are {self.task_queue!r}): sending has a queue of its own"
            )
        if "@" not in self.consult_address or " " in self.consult_address:
            raise ValueError(
                f"{ENV_PREFIX}CONSULT_ADDRESS must be a plain address like "
                f"consult@example.com (got {self.consult_address!r})"
            )
        if self.imap_host:
            if not self.imap_user:
                raise ValueError(f"{ENV_PREFIX}IMAP_USER must be set when IMAP_HOST is set")
            if self.imap_auth == "password" and self.imap_password is None:
                raise ValueError(f"{ENV_PREFIX}IMAP_PASSWORD must be set when IMAP_HOST is set")
            if self.imap_auth == "xoauth2" and not self.imap_oauth2_token_command:
                raise ValueError(
                    f"{ENV_PREFIX}IMAP_OAUTH2_TOKEN_COMMAND must be set when IMAP_AUTH=xoauth2"
                )
            if self.imap_port is None:
                self.imap_port = 993 if self.imap_tls == "ssl" else 143
        if self.dkim_selector and self.dkim_private_key_file is None:
            raise ValueError(
                f"{ENV_PREFIX}DKIM_PRIVATE_KEY_FILE must be set when DKIM_SELECTOR is set"
            )
        if self.task_time_limit_seconds <= self.task_soft_time_limit_seconds:
            raise ValueError(
                f"{ENV_PREFIX}TASK_TIME_LIMIT_SECONDS must be greater than "
                f"{ENV_PREFIX}TASK_SOFT_TIME_LIMIT_SECONDS"
            )
        self._desks = self._load_desks()
        if self.smtp_host:
            if self.smtp_user and self.smtp_password is None:
                raise ValueError(f"{ENV_PREFIX}SMTP_PASSWORD must be set when SMTP_USER is set")
            if self.smtp_port is None:
                self.smtp_port = {"ssl": 465, "starttls": 587, "none": 25}[self.smtp_tls]
        return self

    def _load_desks(self) -> Desks:
        main = Desk(MAIN, self.consult_address, self.display_name)
        try:
            desks = load_desks(self.desks_file, main)
        except DeskError as error:
            raise ValueError(f"{ENV_PREFIX}DESKS_FILE: {error}") from error
        ours = {self.imap_folder, self.imap_processed_folder, self.imap_sent_folder}
        for desk in desks.others:
            if desk.folder is not None and desk.folder in ours:
                raise ValueError(
                    f"{ENV_PREFIX}DESKS_FILE: {self.desks_file}: [desks.{desk.key}]: folder "
                    f"{desk.folder!r} is already the main inbox, processed or sent folder"
                )
        return desks

    @property
    def desks(self) -> Desks:
        """The main desk and those of ``CONSULTANT_DESKS_FILE``."""
        assert self._desks is not None  # set by the validator
        return self._desks

    @property
    def allowed_sender_list(self) -> frozenset[str]:
        """``allowed_senders`` as lower-case addresses and domains."""
        return frozenset(
            item.strip().lower().lstrip("@")
            for item in self.allowed_senders.split(",")
            if item.strip()
        )

    @property
    def maildir_inbox(self) -> Path:
        """The embedded inbox: any file dropped into its ``new/`` is a consult email."""
        return self.var_dir / "mail" / "inbox"

    def maildir_desk_inbox(self, desk: str) -> Path:
        """The embedded inbox of a desk with a folder of its own, by its key (a safe name)."""
        return self.var_dir / "mail" / "desks" / desk

    @property
    def maildir_processed(self) -> Path:
        """Where the embedded inbox moves a message once its bytes are committed."""
        return self.var_dir / "mail" / "processed"

    @property
    def maildir_outbox(self) -> Path:
        """The embedded outbox: every sent message lands here instead of an SMTP server."""
        return self.var_dir / "mail" / "outbox"

    @property
    def message_id_domain(self) -> str:
        """The right-hand side of the Message-IDs we make."""
        return self.consult_address.rsplit("@", 1)[1]


def _explain(error: ValidationError) -> str:
    """One line naming the first bad variable, the way an operator will look for it."""
    first = error.errors()[0]
    loc = [str(part) for part in first.get("loc", ()) if part != "__root__"]
    message = first.get("msg", "invalid value").removeprefix("Value error, ")
    if not loc:
        return f"configuration error: {message}"
    variable = ENV_PREFIX + "_".join(loc).upper()
    shown = first.get("input")
    got = f" (got {shown!r})" if isinstance(shown, str | int | float) else ""
    return f"configuration error: {variable}: {message}{got}"


def load_settings(**overrides: object) -> Settings:
    """Read the settings from the environment, raising ConfigError with one clear line."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as error:
        raise ConfigError(_explain(error)) from None
