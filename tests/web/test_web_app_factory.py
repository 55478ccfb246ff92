"""create_app: configuration from the environment, secrets kept out of code and events."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from flask import Flask

from web import create_app
from web.backend import System
from web.config import COOKIE_SECURE_ENV, SECRET_KEY_ENV, load_or_create_secret


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (SECRET_KEY_ENV, COOKIE_SECURE_ENV, "GOVLEDGER_DATA_DIR"):
        monkeypatch.delenv(name, raising=False)


def test_secret_key_is_generated_once_and_readable_only_by_its_owner(tmp_path: Path) -> None:
    key = load_or_create_secret(tmp_path)
    path = tmp_path / "secret_key"
    assert len(key) == 64
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_or_create_secret(tmp_path) == key  # sessions survive a restart


def test_app_without_a_key_in_the_environment_uses_the_data_dir_key(
    system: System, data_dir: Path
) -> None:
    app = create_app({"DATA_DIR": data_dir}, system=system)
    assert app.config["SECRET_KEY"] == (data_dir / "secret_key").read_text().strip()


def test_secret_key_from_the_environment_wins(
    system: System, data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(SECRET_KEY_ENV, "from-the-environment")
    app = create_app({"DATA_DIR": data_dir}, system=system)
    assert app.config["SECRET_KEY"] == "from-the-environment"
    assert not (data_dir / "secret_key").exists()


def test_data_dir_from_the_environment(
    system: System, data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GOVLEDGER_DATA_DIR", str(data_dir))
    app = create_app(system=system)
    assert app.config["DATA_DIR"] == data_dir.resolve()
    assert app.config["CREDENTIALS_DB"] == data_dir.resolve() / "credentials.db"


def test_cookies_are_secure_unless_configured_otherwise(
    system: System, data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = create_app({"DATA_DIR": data_dir}, system=system)
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True
    assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax"
    monkeypatch.setenv(COOKIE_SECURE_ENV, "0")
    assert create_app({"DATA_DIR": data_dir}, system=system).config["SESSION_COOKIE_SECURE"] is False


def test_app_opens_its_own_system_when_given_none(data_dir: Path, system: System) -> None:
    system.close()  # the fixture's copy of the data: let the app open it instead
    app = create_app({"DATA_DIR": data_dir, "SECRET_KEY": "x"})
    try:
        assert app.extensions["govledger"].ledger.get_account("demo-officer")["roles"] == ["officer"]
    finally:
        app.extensions["govledger"].system.close()


def test_one_blueprint_per_feature(app: Flask) -> None:
    assert {"auth", "home", "admin"} <= set(app.blueprints)


def test_passwords_are_not_in_the_event_store_or_projections(data_dir: Path) -> None:
    for name in ("events.db", "projections.db"):
        content = (data_dir / name).read_bytes()
        assert b"correct horse" not in content
        assert b"pbkdf2:" not in content and b"scrypt:" not in content
    assert b"pbkdf2:" in (data_dir / "credentials.db").read_bytes()
