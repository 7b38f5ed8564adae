"""Building a gsync.toml (gsync.setup) and `gsync auth login`'s checks, without Google."""

from __future__ import annotations

import datetime as dt
import json
import os
import stat
import tomllib
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gsync.config import load_config, parse_config
from gsync.deadlines import default_terms
from gsync.errors import AuthError, ConfigError
from gsync.google.auth import ALL_SCOPES
from gsync.setup import (
    InitOptions,
    SchoolEntry,
    build_config,
    oauth_login,
    pair_schools,
    parse_school_spec,
    render_config,
    term_years,
    write_config,
)

TODAY = dt.date(2026, 3, 1)
names = st.text(min_size=1, max_size=30).filter(lambda s: s.strip() and "\x00" not in s)
urns = st.from_regex(r"\A[0-9]{6}\Z")
phases = st.sampled_from(["Y11", "Y13"])


def options(**kw: object) -> InitOptions:
    base: dict[str, object] = {
        "trust": "Oak Trust",
        "schools": (SchoolEntry("Northfield", "100001", "Y11"),),
    }
    base.update(kw)
    return InitOptions(**base)  # type: ignore[arg-type]


@given(trust=names, name=names, urn=urns, phase=phases)
def test_any_names_round_trip_through_the_file(trust: str, name: str, urn: str, phase: str) -> None:
    entry = parse_school_spec(f"{name},{urn},{phase}")
    assert (entry.name, entry.urn, entry.phase) == (name.strip(), urn, phase)
    text, config = build_config(options(trust=trust, schools=(entry,)), TODAY)
    again = parse_config(tomllib.loads(text))
    assert again.trust.name == trust
    assert [(s.name, s.urn, s.phase) for s in again.schools] == [(name.strip(), urn, phase)]
    assert again == config


def test_term_dates_are_the_defaults_for_this_and_next_year() -> None:
    assert term_years(dt.date(2026, 7, 31)) == [2025, 2026]
    assert term_years(dt.date(2026, 8, 1)) == [2026, 2027]
    text, config = build_config(options(), dt.date(2026, 9, 10))
    assert sorted(config.term_dates) == ["2026-27", "2027-28"]
    assert config.term_dates["2026-27"] == default_terms(2026)
    assert "check them against your" in text and "DEFAULTS" in text


def test_google_settings_are_written_only_when_given() -> None:
    _text, config = build_config(
        options(
            auth="oauth", credentials_file="client.json", folder_id="F1", domains=("a.sch.uk",)
        ),
        TODAY,
    )
    assert config.google.auth == "oauth"
    assert config.google.credentials_file == "client.json"
    assert config.google.folder_id == "F1"
    assert config.trust.domains == ["a.sch.uk"]
    plain = tomllib.loads(render_config(options(), TODAY))
    assert plain["google"] == {"auth": "local"}


def test_school_specs_and_pairs() -> None:
    assert parse_school_spec("St Mary, Upper,123456,y13") == SchoolEntry(
        "St Mary, Upper", "123456", "Y13"
    )
    for bad in ("Northfield", "Northfield,12345,Y11", "Northfield,100001,Y12", ",100001,Y11"):
        with pytest.raises(ConfigError):
            parse_school_spec(bad)
    paired = pair_schools(("A", "B,100002,Y13", "C"), ("100001", "100003"), ("Y11", "13"))
    assert [(s.name, s.urn, s.phase) for s in paired] == [
        ("A", "100001", "Y11"),
        ("B", "100002", "Y13"),
        ("C", "100003", "Y13"),
    ]
    with pytest.raises(ConfigError, match="--phase"):
        pair_schools(("A",), ("100001",), ())
    with pytest.raises(ConfigError, match="More --urn"):
        pair_schools(("A,100001,Y11",), ("100002",), ("Y11",))


def test_duplicate_schools_and_no_schools_are_refused() -> None:
    twice = (SchoolEntry("A", "100001", "Y11"), SchoolEntry("a", "100002", "Y11"))
    with pytest.raises(ConfigError, match="two schools"):
        build_config(options(schools=twice), TODAY)
    with pytest.raises(ConfigError, match="No school"):
        build_config(options(schools=()), TODAY)


def test_write_refuses_to_overwrite_without_force(tmp_path: Path) -> None:
    path = tmp_path / "gsync.toml"
    text, _ = build_config(options(), TODAY)
    write_config(path, text)
    assert load_config(path).trust.name == "Oak Trust"
    with pytest.raises(ConfigError, match="already exists"):
        write_config(path, "x = 1\n")
    assert path.read_text(encoding="utf-8") == text
    write_config(path, text.replace("Oak Trust", "Elm Trust"), force=True)
    assert load_config(path).trust.name == "Elm Trust"


# --- gsync auth login (no Google involved) --------------------------------------------------------


def _config(tmp_path: Path, auth: str, **google: str) -> object:
    opts = options(auth=auth, credentials_file=google.get("credentials_file"))
    text, _ = build_config(opts, TODAY)
    if "token_file" in google:
        text = text.replace("[google]\n", f'[google]\ntoken_file = "{google["token_file"]}"\n')
    path = tmp_path / "gsync.toml"
    write_config(path, text, force=True)
    return load_config(path)


@pytest.mark.parametrize("mode", ["local", "service_account", "adc"])
def test_login_is_refused_for_other_auth_modes(tmp_path: Path, mode: str) -> None:
    config = _config(tmp_path, mode)
    with pytest.raises(ConfigError) as info:
        oauth_login(config, interactive=True)  # type: ignore[arg-type]
    assert f'"{mode}"' in info.value.message
    assert info.value.exit_code == 2


def test_login_without_a_terminal_refuses_rather_than_hangs(tmp_path: Path) -> None:
    config = _config(tmp_path, "oauth", credentials_file="client.json", token_file="tok.json")
    with pytest.raises(AuthError) as info:
        oauth_login(config, interactive=False)  # type: ignore[arg-type]
    assert "terminal" in info.value.message
    assert not (tmp_path / "tok.json").exists()


def _valid_token(path: Path, scopes: tuple[str, ...] = ALL_SCOPES) -> None:
    expiry = (dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    body = {
        "token": "access-token-value",
        "refresh_token": "refresh-token-value",
        "client_id": "id.apps.googleusercontent.com",
        "client_secret": "secret",
        "token_uri": "https://oauth2.googleapis.com/token",
        "scopes": list(scopes),
        "expiry": expiry,
    }
    path.write_text(json.dumps(body), encoding="utf-8")


def test_login_keeps_a_valid_token_and_makes_it_private(tmp_path: Path) -> None:
    config = _config(tmp_path, "oauth", credentials_file="client.json", token_file="tok.json")
    token = tmp_path / "tok.json"
    _valid_token(token)
    os.chmod(token, 0o644)
    result = oauth_login(config, interactive=False)  # type: ignore[arg-type]
    assert result.signed_in is False
    assert result.permissions_fixed is True
    assert result.token_file == token
    assert stat.S_IMODE(token.stat().st_mode) == 0o600
    again = oauth_login(config, interactive=False)  # type: ignore[arg-type]
    assert again.permissions_fixed is False


def test_login_with_a_token_missing_a_scope_needs_a_new_sign_in(tmp_path: Path) -> None:
    config = _config(tmp_path, "oauth", credentials_file="client.json", token_file="tok.json")
    token = tmp_path / "tok.json"
    _valid_token(token, ALL_SCOPES[:1])
    os.chmod(token, 0o600)
    with pytest.raises(AuthError, match="terminal"):
        oauth_login(config, interactive=False)  # type: ignore[arg-type]
    assert token.exists()  # the old token is left alone when no new sign-in happened
