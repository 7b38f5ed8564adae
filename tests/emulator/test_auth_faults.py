"""Simulated credential failures: Google's 401 / 403 / 404 bodies, and what gsync makes of them."""

from __future__ import annotations

from typing import Any

import pytest
import requests

from gsync.emulator.auth import arm_over_http, clear_over_http
from gsync.errors import AuthError, NotFoundError
from gsync.google.clients import google_error_body, translate
from gsync.sheetio import create_spreadsheet, read_snapshot
from gsync.workspace import workspace_for_endpoint


@pytest.fixture
def ws(emulator: Any) -> Any:
    return workspace_for_endpoint(emulator.url)


def _about(url: str) -> requests.Response:
    return requests.get(f"{url}/drive/v3/about", params={"fields": "user"}, timeout=10)


def _sheet(url: str, sid: str) -> requests.Response:
    return requests.get(f"{url}/v4/spreadsheets/{sid}", timeout=10)


def test_expired_token_is_googles_401(emulator: Any, ws: Any) -> None:
    sid = create_spreadsheet(ws, "t")
    arm_over_http(emulator.client, "expired_token")
    body = _sheet(emulator.url, sid)
    assert body.status_code == 401
    err = body.json()["error"]
    assert err["status"] == "UNAUTHENTICATED"
    assert err["message"].startswith("Request had invalid authentication credentials.")
    assert err["details"][0]["@type"] == "type.googleapis.com/google.rpc.ErrorInfo"
    assert err["details"][0]["metadata"]["service"] == "sheets.googleapis.com"
    # Drive (an older-style API) also carries errors[] with reason authError.
    drive = _about(emulator.url).json()["error"]
    assert drive["errors"][0]["reason"] == "authError"
    with pytest.raises(AuthError) as info:
        read_snapshot(ws, sid)
    assert "auth login" in (info.value.fix or "")


def test_service_disabled_names_the_api_and_reason(emulator: Any, ws: Any) -> None:
    arm_over_http(emulator.client, "service_disabled", api="forms")
    ok = _about(emulator.url)
    assert ok.status_code == 200  # only Forms is disabled
    res = requests.get(f"{emulator.url}/v1/forms/abc", timeout=10)
    assert res.status_code == 403
    err = res.json()["error"]
    assert err["status"] == "PERMISSION_DENIED"
    info = err["details"][0]
    assert info["reason"] == "SERVICE_DISABLED"
    assert info["metadata"]["service"] == "forms.googleapis.com"
    assert "Google Forms API has not been used in project" in err["message"]
    assert "activationUrl" in info["metadata"]
    with pytest.raises(AuthError) as exc:
        ws.execute(ws.forms().forms().get(formId="abc"))
    assert "not enabled" in exc.value.message
    assert "APIs & Services" in (exc.value.fix or "")


def test_scope_insufficient(emulator: Any, ws: Any) -> None:
    arm_over_http(emulator.client, "scope_insufficient", api="drive")
    res = _about(emulator.url)
    assert res.status_code == 403
    err = res.json()["error"]
    assert err["details"][0]["reason"] == "ACCESS_TOKEN_SCOPE_INSUFFICIENT"
    assert err["errors"][0]["reason"] == "insufficientPermissions"
    with pytest.raises(AuthError) as exc:
        ws.execute(ws.drive().about().get(fields="user"))
    assert "lack a scope" in exc.value.message


def test_forbidden_and_not_found_hit_one_file_only(emulator: Any, ws: Any) -> None:
    a = create_spreadsheet(ws, "a")
    b = create_spreadsheet(ws, "b")
    arm_over_http(emulator.client, "forbidden", api="sheets", file_id=a)
    assert _sheet(emulator.url, b).status_code == 200
    res = _sheet(emulator.url, a)
    assert res.status_code == 403
    assert res.json()["error"]["message"] == "The caller does not have permission"
    with pytest.raises(AuthError) as exc:
        read_snapshot(ws, a)
    assert "share the spreadsheet" in (exc.value.fix or "")
    clear_over_http(emulator.client)
    arm_over_http(emulator.client, "not_found", file_id=b)
    res = _sheet(emulator.url, b)
    assert res.status_code == 404
    assert res.json()["error"]["status"] == "NOT_FOUND"
    drive = requests.get(f"{emulator.url}/drive/v3/files/{b}", timeout=10).json()["error"]
    assert drive["message"] == f"File not found: {b}."
    assert drive["errors"][0]["reason"] == "notFound"
    with pytest.raises(NotFoundError):
        read_snapshot(ws, b)


def test_count_and_reset_disarm(emulator: Any) -> None:
    arm_over_http(emulator.client, "expired_token", api="drive", count=2)
    assert [_about(emulator.url).status_code for _ in range(3)] == [401, 401, 200]
    arm_over_http(emulator.client, "expired_token")
    listed = requests.get(f"{emulator.url}/_emulator/auth", timeout=10).json()["failures"]
    assert listed == [{"kind": "expired_token", "api": "*", "file_id": None, "count": None}]
    emulator.client.reset()
    assert _about(emulator.url).status_code == 200
    # Refused before the handler and logged with its status, like any answered request.
    arm_over_http(emulator.client, "service_disabled", api="drive", count=1)
    _about(emulator.url)
    assert emulator.client.log()[-1]["status"] == 403


def test_bad_control_requests_are_refused(emulator: Any) -> None:
    for body in ({"kind": "nonsense"}, {"kind": "expired_token", "api": "gmail"}, {}):
        res = requests.post(f"{emulator.url}/_emulator/auth", json=body, timeout=10)
        assert res.status_code == 400, body


def test_translate_reads_the_reason_from_details(emulator: Any, ws: Any) -> None:
    """The body's ErrorInfo reason is what gsync keys on (clients.google_error_body)."""
    from googleapiclient.errors import HttpError

    arm_over_http(emulator.client, "service_disabled", api="drive")
    with pytest.raises(HttpError) as info:
        ws.drive().about().get(fields="user").execute()
    status, _message, reason = google_error_body(info.value)
    assert (status, reason) == (403, "SERVICE_DISABLED")
    assert isinstance(translate(info.value, "x"), AuthError)
