"""Secrets (issue 8): key and token files readable by others are warned about, the OAuth token
cache is written 0600 (never briefly readable), and no secret value reaches a log or message."""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import stat
from pathlib import Path

import pytest

from gsync.config import load_config
from gsync.errors import AuthError
from gsync.google.auth import oauth_credentials, warn_if_exposed, write_private
from tests.conftest import SAMPLE_CONFIG

SCOPES = ("https://www.googleapis.com/auth/spreadsheets",)
REFRESH = "1//refresh-SECRET-zq9"
CLIENT_SECRET = "GOCSPX-client-SECRET-zq9"
ACCESS = "ya29.access-SECRET-zq9"


def token_text(expiry: dt.datetime) -> str:
    return json.dumps(
        {
            "token": ACCESS,
            "refresh_token": REFRESH,
            "client_id": "123.apps.googleusercontent.com",
            "client_secret": CLIENT_SECRET,
            "scopes": list(SCOPES),
            "expiry": expiry.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        }
    )


def oauth_config(tmp: Path, token: Path) -> Path:
    path = tmp / "gsync.toml"
    path.write_text(
        SAMPLE_CONFIG + f'\n[google]\nauth = "oauth"\ntoken_file = "{token}"\n', encoding="utf-8"
    )
    return path


def test_token_cache_is_written_0600_even_over_an_open_file(tmp_path: Path) -> None:
    old = os.umask(0)
    try:
        fresh = tmp_path / "cache" / "token.json"
        write_private(fresh, "{}")
        assert stat.S_IMODE(fresh.stat().st_mode) == 0o600
        exposed = tmp_path / "exposed.json"
        exposed.write_text("old", encoding="utf-8")
        os.chmod(exposed, 0o644)
        write_private(exposed, '{"new": 1}')
        assert stat.S_IMODE(exposed.stat().st_mode) == 0o600
        assert exposed.read_text(encoding="utf-8") == '{"new": 1}'
        assert not list(tmp_path.glob("*.tmp"))
    finally:
        os.umask(old)


def test_exposed_token_cache_warns_without_printing_secrets(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    token = tmp_path / "token.json"
    token.write_text(token_text(dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)), "utf-8")
    os.chmod(token, 0o640)
    caplog.set_level(logging.DEBUG)
    creds = oauth_credentials(load_config(oauth_config(tmp_path, token)), SCOPES, interactive=False)
    assert creds.valid
    assert "readable by other users" in caplog.text and "chmod 600" in caplog.text
    for secret in (REFRESH, CLIENT_SECRET, ACCESS):
        assert secret not in caplog.text
    os.chmod(token, 0o600)
    caplog.clear()
    assert not warn_if_exposed(token) and "readable" not in caplog.text


def test_malformed_token_cache_message_names_the_fix_not_the_content(tmp_path: Path) -> None:
    token = tmp_path / "token.json"
    token.write_text('{"refresh_token": "' + REFRESH + '", broken', "utf-8")
    os.chmod(token, 0o600)
    with pytest.raises(AuthError) as exc:
        oauth_credentials(load_config(oauth_config(tmp_path, token)), SCOPES, interactive=False)
    assert "gsync auth login" in exc.value.render() and REFRESH not in exc.value.render()


def test_expired_token_without_terminal_is_a_clear_auth_error(tmp_path: Path) -> None:
    token = tmp_path / "token.json"
    text = json.loads(token_text(dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)))
    del text["refresh_token"]  # expired and not refreshable: sign in again
    token.write_text(json.dumps(text), "utf-8")
    os.chmod(token, 0o600)
    with pytest.raises(AuthError) as exc:
        oauth_credentials(load_config(oauth_config(tmp_path, token)), SCOPES, interactive=False)
    assert exc.value.exit_code == 3 and ACCESS not in exc.value.render()
