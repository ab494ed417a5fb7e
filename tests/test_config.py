"""Settings: defaults, the generated secret key, clear errors for bad values."""

from __future__ import annotations

import pytest

from patron.config import SETTINGS, load_settings
from patron.errors import InvalidInput


def test_defaults_point_at_a_local_sqlite_file(tmp_path):
    settings = load_settings({"PATRON_SECRET_FILE": str(tmp_path / "secret")})
    assert settings.database_url == "sqlite:///patron.db"
    assert (settings.host, settings.port) == ("127.0.0.1", 8000)


def test_secret_key_is_generated_once_and_kept(tmp_path):
    env = {"PATRON_SECRET_FILE": str(tmp_path / "secret")}
    first = load_settings(env).secret_key
    assert len(first) >= 48
    assert load_settings(env).secret_key == first
    assert (tmp_path / "secret").stat().st_mode & 0o777 == 0o600


def test_explicit_secret_key_wins(tmp_path):
    env = {"PATRON_SECRET_KEY": "given", "PATRON_SECRET_FILE": str(tmp_path / "secret")}
    assert load_settings(env).secret_key == "given"
    assert not (tmp_path / "secret").exists()


def test_bad_number_names_the_setting(tmp_path):
    env = {"PATRON_PORT": "eighty", "PATRON_SECRET_KEY": "k"}
    with pytest.raises(InvalidInput, match="PATRON_PORT"):
        load_settings(env)


def test_every_setting_has_help_text():
    assert all(s.help and s.name.startswith("PATRON_") for s in SETTINGS)
