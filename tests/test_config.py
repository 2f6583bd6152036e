"""Settings: defaults that need no setup, one clear line for a bad value, example.env complete."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from config import ConfigError, Settings, load_settings
from config.settings import PROJECT_ROOT

EXAMPLE_ENV = PROJECT_ROOT / "config" / "example.env"


def _example_variables() -> dict[str, str]:
    pairs = {}
    for line in EXAMPLE_ENV.read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, _, value = line.partition("=")
            pairs[name] = value
    return pairs


def test_defaults_are_the_embedded_setup(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    settings = load_settings()
    assert settings.database_url == "sqlite:///var/consultant.db"
    assert settings.broker_url is None
    assert settings.imap_host is None and settings.smtp_host is None
    assert settings.maildir_inbox == Path("var/mail/inbox")
    assert settings.maildir_outbox == Path("var/mail/outbox")


def test_example_env_documents_every_setting() -> None:
    documented = set(_example_variables())
    expected = {f"CONSULTANT_{name.upper()}" for name in Settings.model_fields}
    assert documented == expected


def test_example_env_loads_to_the_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in _example_variables().items():
        monkeypatch.setenv(name, value)
    assert load_settings() == Settings()


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("CONSULTANT_IMAP_PORT", "imap"),
        ("CONSULTANT_SMTP_TLS", "maybe"),
        ("CONSULTANT_CASE_PREFIX", "cc-"),
        ("CONSULTANT_CONSULT_ADDRESS", "not an address"),
        ("CONSULTANT_SEND_ACKNOWLEDGMENTS", "perhaps"),
        ("CONSULTANT_IMAP_IDLE_RENEW_SECONDS", "1800"),
    ],
)
def test_invalid_value_names_the_variable(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigError) as error:
        load_settings()
    message = str(error.value)
    assert variable in message
    assert "\n" not in message


def test_imap_host_without_user_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONSULTANT_IMAP_HOST", "imap.example.com")
    with pytest.raises(ConfigError, match="CONSULTANT_IMAP_USER must be set"):
        load_settings()


def test_ports_follow_the_tls_mode(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONSULTANT_IMAP_HOST", "imap.example.com")
    monkeypatch.setenv("CONSULTANT_IMAP_USER", "consult")
    monkeypatch.setenv("CONSULTANT_IMAP_PASSWORD", "pw")
    monkeypatch.setenv("CONSULTANT_SMTP_HOST", "smtp.example.com")
    monkeypatch.setenv("CONSULTANT_SMTP_TLS", "ssl")
    settings = load_settings()
    assert (settings.imap_port, settings.smtp_port) == (993, 465)


def test_command_stops_with_one_line_on_bad_setting(tmp_path: Path) -> None:
    env = {"PATH": "/usr/bin:/bin", "CONSULTANT_IMAP_PORT": "abc"}
    result = subprocess.run(
        [sys.executable, "-m", "consultant", "cases", "list"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("configuration error: CONSULTANT_IMAP_PORT")


def test_sending_has_a_queue_of_its_own(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONSULTANT_TASK_QUEUE", "consult-east")
    assert load_settings().send_queue == "consult-east.send"
    monkeypatch.setenv("CONSULTANT_SEND_QUEUE", "consult-east")
    with pytest.raises(ConfigError, match="CONSULTANT_SEND_QUEUE must differ"):
        load_settings()
