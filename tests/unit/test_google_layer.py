"""The Google client layer without a server: retry bounds, credential errors, secret files."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from gsync.config import parse_config
from gsync.errors import AuthError
from gsync.google import auth
from gsync.google.clients import emulator_endpoint
from gsync.google.retry import RetryPolicy, call_with_retry


class Boom(Exception):
    def __init__(self, status: int | None) -> None:
        self.status = status


def policy(waits: list[float], attempts: int = 4) -> RetryPolicy:
    return RetryPolicy(max_attempts=attempts, base_s=1.0, cap_s=5.0, sleep=waits.append)


def test_retry_recovers_from_transient_statuses() -> None:
    waits: list[float] = []
    outcomes = [Boom(429), Boom(503), Boom(0), "ok"]

    def fn() -> str:
        item = outcomes.pop(0)
        if isinstance(item, Exception):
            raise item
        return item

    assert call_with_retry(fn, what="t", status_of=lambda e: e.status, policy=policy(waits)) == "ok"  # type: ignore[attr-defined]
    assert len(waits) == 3
    # truncated exponential: 2^n + jitter in [0, base), capped at 5
    assert 1.0 <= waits[0] < 2.0 and 2.0 <= waits[1] < 3.0 and 4.0 <= waits[2] <= 5.0


def test_retry_is_bounded() -> None:
    waits: list[float] = []
    calls = 0

    def fn() -> None:
        nonlocal calls
        calls += 1
        raise Boom(503)

    with pytest.raises(Boom):
        call_with_retry(
            fn, what="t", status_of=lambda e: e.status, policy=policy(waits, attempts=4)
        )  # type: ignore[attr-defined]
    assert calls == 4 and len(waits) == 3


@pytest.mark.parametrize("status", [400, 401, 403, 404, None])
def test_no_retry_on_client_errors(status: int | None) -> None:
    waits: list[float] = []
    calls = 0

    def fn() -> None:
        nonlocal calls
        calls += 1
        raise Boom(status)

    with pytest.raises(Boom):
        call_with_retry(fn, what="t", status_of=lambda e: e.status, policy=policy(waits))  # type: ignore[attr-defined]
    assert calls == 1 and waits == []


def test_delay_never_exceeds_cap() -> None:
    p = RetryPolicy(base_s=1.0, cap_s=32.0)
    assert all(p.delay(n) <= 32.0 for n in range(20))


def test_emulator_endpoint_forms() -> None:
    assert emulator_endpoint("127.0.0.1:8765") == "http://127.0.0.1:8765"
    assert emulator_endpoint("http://localhost:1/") == "http://localhost:1"


def _config(tmp_path: Path, **google: str) -> object:
    cfg = parse_config(
        {
            "trust": {"name": "T"},
            "schools": [{"name": "A", "urn": "123456", "phase": "Y11"}],
            "google": google,
        }
    )
    return cfg.model_copy(update={"path": tmp_path / "gsync.toml"})


def test_service_account_missing_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GOOGLE_APPLICATION_CREDENTIALS", raising=False)
    with pytest.raises(AuthError) as exc:
        auth.load_credentials(_config(tmp_path, auth="service_account"))  # type: ignore[arg-type]
    assert "GOOGLE_APPLICATION_CREDENTIALS" in str(exc.value)


def test_service_account_file_absent(tmp_path: Path) -> None:
    with pytest.raises(AuthError) as exc:
        auth.load_credentials(
            _config(tmp_path, auth="service_account", credentials_file="key.json")
        )  # type: ignore[arg-type]
    assert "does not exist" in str(exc.value)


def test_service_account_malformed(tmp_path: Path) -> None:
    (tmp_path / "key.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(AuthError) as exc:
        auth.load_credentials(
            _config(tmp_path, auth="service_account", credentials_file="key.json")
        )  # type: ignore[arg-type]
    assert "not a valid JSON key" in str(exc.value)


def test_service_account_wrong_type(tmp_path: Path) -> None:
    (tmp_path / "key.json").write_text(json.dumps({"installed": {}}), encoding="utf-8")
    with pytest.raises(AuthError) as exc:
        auth.load_credentials(
            _config(tmp_path, auth="service_account", credentials_file="key.json")
        )  # type: ignore[arg-type]
    assert "not a service-account key" in str(exc.value)


def test_oauth_without_terminal_says_login(tmp_path: Path) -> None:
    cfg = _config(tmp_path, auth="oauth", credentials_file="client.json", token_file="token.json")
    with pytest.raises(AuthError) as exc:
        auth.oauth_credentials(cfg, auth.ALL_SCOPES, interactive=False)  # type: ignore[arg-type]
    assert "gsync auth login" in str(exc.value)


def test_oauth_malformed_token(tmp_path: Path) -> None:
    (tmp_path / "token.json").write_text("garbage", encoding="utf-8")
    cfg = _config(tmp_path, auth="oauth", credentials_file="client.json", token_file="token.json")
    with pytest.raises(AuthError) as exc:
        auth.oauth_credentials(cfg, auth.ALL_SCOPES, interactive=False)  # type: ignore[arg-type]
    assert "malformed" in str(exc.value)


def test_private_file_is_0600(tmp_path: Path) -> None:
    target = tmp_path / "sub" / "token.json"
    old = os.umask(0)
    try:
        auth.write_private(target, "{}")
    finally:
        os.umask(old)
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert not auth.warn_if_exposed(target)
    target.chmod(0o644)
    assert auth.warn_if_exposed(target)


def test_every_command_scope_is_declared() -> None:
    assert set(auth.ALL_SCOPES) == {
        auth.SCOPE_FORMS_BODY,
        auth.SCOPE_FORMS_RESPONSES,
        auth.SCOPE_SHEETS,
        auth.SCOPE_DRIVE_FILE,
    }


def test_oauth_token_missing_a_scope_asks_to_sign_in_again(tmp_path: Path) -> None:
    token = {
        "token": "t",
        "refresh_token": "r",
        "client_id": "c.apps.googleusercontent.com",
        "client_secret": "s",
        "token_uri": "https://oauth2.googleapis.com/token",
        "scopes": [auth.SCOPE_SHEETS],
        "expiry": "2999-01-01T00:00:00Z",
    }
    auth.write_private(tmp_path / "token.json", json.dumps(token))
    cfg = _config(tmp_path, auth="oauth", credentials_file="client.json", token_file="token.json")
    # The cached token lacks the Forms and Drive scopes: consent again (refused without a terminal).
    with pytest.raises(AuthError, match="auth login"):
        auth.oauth_credentials(cfg, auth.ALL_SCOPES, interactive=False)  # type: ignore[arg-type]
    # The same token serves a command that needs only what was granted.
    creds = auth.oauth_credentials(cfg, (auth.SCOPE_SHEETS,), interactive=False)  # type: ignore[arg-type]
    assert creds.token == "t"
