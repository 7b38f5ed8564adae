"""`gsync doctor` against the emulator: a healthy run, and every failure it detects."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from gsync.config import load_config
from gsync.config_edit import set_trust_fields
from gsync.emulator.auth import arm_over_http, clear_over_http
from gsync.emulator.core import EMULATOR_USER
from gsync.sheetio import STATE_TAB


def doctor(cli: Any) -> tuple[int, dict[str, Any]]:
    result = cli("doctor", "--json")
    data = json.loads(result.output)
    assert EMULATOR_USER not in result.output  # Drive's about.user is never shown
    return result.exit_code, data


def by_name(data: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["name"]: c for c in data["checks"]}


@pytest.fixture
def ready(cli: Any, config_file: Path) -> Path:
    """The sample trust with its spreadsheet and both forms created."""
    assert cli("sheet", "init").exit_code == 0
    for school in ("Northfield", "Southgate"):
        result = cli("form", "create", "--school", school)
        assert result.exit_code == 0, result.output
    return config_file


def test_a_healthy_setup_passes(cli: Any, ready: Path) -> None:
    code, data = doctor(cli)
    checks = by_name(data)
    assert code == 0, data
    assert data["ok"] is True and data["counts"]["fail"] == 0
    for name in ("config", "backend", "Drive API", "Sheets API", "Forms API", "template"):
        assert checks[name]["status"] == "ok", checks[name]
    assert checks["form Northfield"]["status"] == "ok"
    assert checks["form Southgate"]["status"] == "ok"
    assert "emulator" in checks["backend"]["detail"]
    assert checks["credentials"]["status"] == "skip"
    human = cli("doctor")
    assert human.exit_code == 0
    assert "gsync is ready" in human.output.splitlines()[-1]


AUTH_CASES = [
    ("expired_token", "*", "Drive API", "auth login"),
    ("service_disabled", "sheets", "Sheets API", "enable the Google Sheets API"),
    ("service_disabled", "forms", "Forms API", "enable the Google Forms API"),
    ("scope_insufficient", "drive", "Drive API", "scopes"),
]


def test_each_auth_failure_is_reported_with_its_fix(cli: Any, ready: Path, emulator: Any) -> None:
    """One setup, every failure body in turn (each set up alone would cost seconds)."""
    for kind, api, failing, fix_words in AUTH_CASES:
        arm_over_http(emulator.client, kind, api=api)
        code, data = doctor(cli)
        checks = by_name(data)
        assert code == 1, kind
        assert checks[failing]["status"] == "fail", (kind, checks[failing])
        assert fix_words in checks[failing]["fix"], (kind, checks[failing])
        if api == "sheets":
            assert checks["trust spreadsheet"]["status"] == "skip"
            assert checks["Forms API"]["status"] == "ok"
        if api == "forms":
            assert checks["form Northfield"]["status"] == "skip"
            assert checks["Sheets API"]["status"] == "ok"
        clear_over_http(emulator.client)
        assert doctor(cli)[0] == 0, kind


def test_no_access_to_the_spreadsheet_or_a_form(cli: Any, ready: Path, emulator: Any) -> None:
    config = load_config(ready)
    arm_over_http(emulator.client, "forbidden", file_id=config.trust.spreadsheet_id)
    arm_over_http(emulator.client, "not_found", file_id=config.schools[1].form_id)
    code, data = doctor(cli)
    checks = by_name(data)
    assert code == 1
    assert checks["Sheets API"]["status"] == "ok"  # the API works; the file is out of reach
    assert checks["trust spreadsheet"]["status"] == "fail"
    assert "share the spreadsheet" in checks["trust spreadsheet"]["fix"]
    assert checks["form Northfield"]["status"] == "ok"
    assert checks["form Southgate"]["status"] == "fail"
    assert "gsync form create --school Southgate" in checks["form Southgate"]["fix"]


def test_missing_spreadsheet(cli: Any, ready: Path) -> None:
    set_trust_fields(ready, spreadsheet_id="no-such-spreadsheet")
    code, data = doctor(cli)
    check = by_name(data)["trust spreadsheet"]
    assert code == 1 and check["status"] == "fail"
    assert "not found" in check["detail"]
    set_trust_fields(ready, spreadsheet_id=None)
    code, data = doctor(cli)
    check = by_name(data)["trust spreadsheet"]
    assert code == 1 and "gsync sheet init" in check["fix"]


def test_old_template_version(cli: Any, ready: Path, workspace: Any) -> None:
    sid = load_config(ready).trust.spreadsheet_id
    tab = workspace.sheets().open_by_key(sid).worksheet(STATE_TAB)
    rows = tab.get_all_values()
    row = next(i for i, r in enumerate(rows, 1) if r and r[0] == "template_version")
    tab.update([["1"]], f"B{row}")
    code, data = doctor(cli)
    check = by_name(data)["template"]
    assert code == 1 and check["status"] == "fail"
    assert "template version 1" in check["detail"]
    assert "gsync sheet init" in check["fix"]


def test_unpublished_form(cli: Any, ready: Path, workspace: Any) -> None:
    form_id = load_config(ready).schools[0].form_id
    body = {
        "publishSettings": {"publishState": {"isPublished": True, "isAcceptingResponses": False}},
        "updateMask": "publishState",
    }
    workspace.execute(workspace.forms().forms().setPublishSettings(formId=form_id, body=body))
    code, data = doctor(cli)
    check = by_name(data)["form Northfield"]
    assert code == 1 and check["status"] == "fail"
    assert "not accepting responses" in check["detail"]
    assert "Publish" in check["fix"]


def test_bad_config(cli: Any, config_file: Path) -> None:
    text = config_file.read_text(encoding="utf-8").replace('urn = "100001"', 'urn = "1001"')
    config_file.write_text(text, encoding="utf-8")
    code, data = doctor(cli)
    checks = by_name(data)
    assert code == 1
    assert checks["config"]["status"] == "fail"
    assert "schools[0].urn" in checks["config"]["detail"]
    assert checks["google"]["status"] == "skip"
    human = cli("doctor")
    assert human.exit_code == 1 and "FAIL" in human.output and "Fix:" in human.output


def test_missing_config_file(cli: Any, config_file: Path) -> None:
    config_file.unlink()
    code, data = doctor(cli)
    assert code == 1
    assert "gsync init" in by_name(data)["config"]["fix"]


def test_missing_term_dates_is_a_warning_not_a_failure(tmp_path: Path) -> None:
    import datetime as dt

    from gsync.doctor import DoctorReport, check_config

    path = tmp_path / "gsync.toml"
    path.write_text(
        '[trust]\nname = "T"\n[[schools]]\nname = "A"\nurn = "100001"\nphase = "Y11"\n',
        encoding="utf-8",
    )
    report = DoctorReport()
    assert check_config(report, path, dt.date(2026, 10, 1)) is not None
    term = next(c for c in report.checks if c.name == "term dates")
    assert term.status == "warn"
    assert '[term_dates."2026-27"]' in (term.fix or "")
    assert report.ok


def test_credential_files_missing_or_exposed(tmp_path: Path) -> None:
    """Google modes, checked offline: key / token files present, private, with every scope."""
    import os

    from gsync.doctor import run_doctor

    path = tmp_path / "gsync.toml"
    base = '[trust]\nname = "T"\n[[schools]]\nname = "A"\nurn = "100001"\nphase = "Y11"\n'

    def checks(google: str) -> dict[str, Any]:
        path.write_text(base + "[google]\n" + google, encoding="utf-8")
        report = run_doctor(path, env={})
        assert not report.ok
        return {c.name: c for c in report.checks}

    key = tmp_path / "key.json"
    found = checks('auth = "service_account"\ncredentials_file = "key.json"\n')
    assert found["key file"].status == "fail" and "does not exist" in found["key file"].detail
    key.write_text('{"type": "service_account"}', encoding="utf-8")
    os.chmod(key, 0o644)
    found = checks('auth = "service_account"\ncredentials_file = "key.json"\n')
    assert found["key file"].fix == f"run `chmod 600 {key}`."
    assert "google" in found and found["google"].status == "skip"

    secrets = tmp_path / "client.json"
    secrets.write_text("{}", encoding="utf-8")
    os.chmod(secrets, 0o600)
    oauth = 'auth = "oauth"\ncredentials_file = "client.json"\ntoken_file = "tok.json"\n'
    found = checks(oauth)
    assert found["token"].status == "fail" and "gsync auth login" in (found["token"].fix or "")
    token = tmp_path / "tok.json"
    token.write_text('{"scopes": ["https://www.googleapis.com/auth/spreadsheets"]}', "utf-8")
    os.chmod(token, 0o600)
    found = checks(oauth)
    assert found["scopes"].status == "fail"
    assert "forms.body" in found["scopes"].detail
    assert "refresh" not in token.read_text(encoding="utf-8")  # nothing was written to it
