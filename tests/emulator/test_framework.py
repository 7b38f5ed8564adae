"""The emulator framework: routing, validation, controls and the store, with stand-in handlers."""

from __future__ import annotations

import socket
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import requests

from gsync.emulator import core
from gsync.emulator.core import HANDLERS, ApiError, Request, control_route, invalid
from gsync.emulator.server import EmulatorServer, quota_bucket
from gsync.emulator.store import SqliteStore, open_store
from gsync.emulator.testing import EmulatorClient

from .conftest import Api, error_of

# drive.about.get / drive.drives.* stand in as handler slots the real Drive module does not use.
SLOT = "drive.about.get"


@pytest.fixture
def stand_in(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """Handlers that count in the store, and one that writes then fails (to test rollback)."""
    seen: dict[str, Any] = {}

    def about(req: Request) -> Any:
        count = (req.tx.get("counters", "n") or 0) + 1
        req.tx.put("counters", "n", count)
        seen["now"] = req.now
        seen["query"] = req.query
        return {"kind": "drive#about", "count": count, "user": {"displayName": "x", "me": True}}

    def failing(req: Request) -> Any:
        req.tx.put("counters", "n", 999)
        raise invalid("refused after a write")

    monkeypatch.setitem(HANDLERS, SLOT, about)
    monkeypatch.setitem(HANDLERS, "drive.drives.list", failing)
    return seen


def test_unknown_route_is_404_in_google_shape(api: Api) -> None:
    response = api.get("/v4/nothing/here")
    err = error_of(response)
    assert response.status_code == 404 and err["status"] == "NOT_FOUND"


def test_wrong_http_method_is_not_routed(api: Api) -> None:
    assert api.request("DELETE", "/v4/spreadsheets/abc").status_code == 404


def test_method_without_handler_is_501_naming_it(api: Api) -> None:
    response = api.post("/v4/spreadsheets/abc/sheets/0:copyTo", json={})
    err = error_of(response)
    assert response.status_code == 501
    assert (
        err["status"] == "UNIMPLEMENTED" and "sheets.spreadsheets.sheets.copyTo" in err["message"]
    )


def test_unknown_query_parameter_is_400(api: Api, stand_in: dict[str, Any]) -> None:
    err = error_of(api.get("/drive/v3/about", params={"bogus": "1"}))
    assert err["code"] == 400 and 'Unknown name "bogus"' in err["message"]


def test_standard_and_snake_case_parameters_accepted(api: Api, stand_in: dict[str, Any]) -> None:
    response = api.get("/drive/v3/about", params={"prettyPrint": "false", "quotaUser": "q"})
    assert response.status_code == 200


def test_wrong_parameter_types_are_400(api: Api) -> None:
    err = error_of(api.get("/v4/spreadsheets/x", params={"includeGridData": "maybe"}))
    assert "TYPE_BOOL" in err["message"]
    err = error_of(api.get("/drive/v3/files", params={"pageSize": "ten"}))
    assert "TYPE_INT32" in err["message"] and "page_size" in err["message"]
    err = error_of(api.get("/v4/spreadsheets/x/values/A1", params={"majorDimension": "DIAGONAL"}))
    assert "MajorDimension" in err["message"] and '"DIAGONAL"' in err["message"]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            {"requests": [{"addSheet": {"foo": 1}}]},
            "Invalid JSON payload received. Unknown name \"foo\" at 'requests[0].addSheet': "
            "Cannot find field.",
        ),
        (
            {"requests": [{}, {"updateCells": {"fields": 5}}]},
            "Invalid value at 'requests[1].updateCells.fields' (TYPE_STRING), 5",
        ),
        (
            {"requests": [{"addSheet": {"properties": {"sheetType": "FOO"}}}]},
            "Invalid value at 'requests[0].addSheet.properties.sheetType' "
            '(type.googleapis.com/google.apps.sheets.v4.SheetType), "FOO"',
        ),
        (
            {"requests": {"addSheet": {}}},
            "Invalid value at 'requests' (type.googleapis.com/google.apps.sheets.v4.Request)",
        ),
        ({"bogus": True}, 'Unknown name "bogus": Cannot find field.'),
        (
            {"requests": [{"addSheet": {"properties": {"gridProperties": {"rowCount": 1.5}}}}]},
            "(TYPE_INT32), 1.5",
        ),
        (
            {
                "requests": [
                    {
                        "updateCells": {
                            "rows": [{"values": [{"userEnteredValue": {"boolValue": "yes"}}]}]
                        }
                    }
                ]
            },
            "'requests[0].updateCells.rows[0].values[0].userEnteredValue.boolValue' (TYPE_BOOL)",
        ),
    ],
)
def test_body_validation_messages(api: Api, body: Any, message: str) -> None:
    response = api.post("/v4/spreadsheets/abc:batchUpdate", json=body)
    err = error_of(response)
    assert response.status_code == 400 and err["status"] == "INVALID_ARGUMENT"
    assert message in err["message"]


def test_body_must_be_json(api: Api) -> None:
    response = api.post(
        "/v4/spreadsheets", data=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert error_of(response)["code"] == 400


def test_handler_runs_in_one_transaction_and_errors_roll_back(
    api: Api, stand_in: dict[str, Any]
) -> None:
    assert api.get("/drive/v3/about").json()["count"] == 1
    failed = api.get("/drive/v3/drives")
    assert failed.status_code == 400 and error_of(failed)["message"] == "refused after a write"
    # the failing handler's put of 999 was discarded
    assert api.get("/drive/v3/about").json()["count"] == 2


def test_fields_parameter_filters_the_answer(api: Api, stand_in: dict[str, Any]) -> None:
    body = api.get("/drive/v3/about", params={"fields": "user(me),count"}).json()
    assert body == {"count": 1, "user": {"me": True}}


def test_request_log_and_count(api: Api, control: EmulatorClient, stand_in: dict[str, Any]) -> None:
    api.get("/drive/v3/about")
    api.get("/v4/spreadsheets/x", params={"includeGridData": "x"})
    log = control.log()
    assert [(e["api"], e["method"], e["http_method"], e["status"]) for e in log] == [
        ("drive", SLOT, "GET", 200),
        ("sheets", "sheets.spreadsheets.get", "GET", 400),
    ]
    assert log[0]["path"] == "/drive/v3/about"
    assert control.count(api="drive") == 1 and control.count(method="sheets.spreadsheets.get") == 1
    control.clear_log()
    assert control.log() == []


def test_injected_faults_by_method_api_and_star(
    api: Api, control: EmulatorClient, stand_in: dict[str, Any]
) -> None:
    control.inject(SLOT, status=503, count=2)
    first, second, third = (api.get("/drive/v3/about") for _ in range(3))
    assert [first.status_code, second.status_code, third.status_code] == [503, 503, 200]
    assert error_of(first)["status"] == "UNAVAILABLE"
    # the faulted requests never reached the handler
    assert third.json()["count"] == 1
    control.inject("drive", status=500)
    assert error_of(api.get("/drive/v3/about"))["status"] == "INTERNAL"
    control.inject("*", status=429)
    assert error_of(api.get("/v4/spreadsheets/x"))["status"] == "RESOURCE_EXHAUSTED"


def test_injected_connection_reset(
    api: Api, control: EmulatorClient, stand_in: dict[str, Any]
) -> None:
    control.inject("*", reset=True)
    with pytest.raises(requests.ConnectionError):
        requests.get(api.url + "/drive/v3/about", timeout=10)
    assert api.get("/drive/v3/about").status_code == 200


def test_random_fault_rate_is_seeded(
    api: Api, control: EmulatorClient, stand_in: dict[str, Any]
) -> None:
    def run() -> list[int]:
        control.configure(fault_rate=0.5, seed=7)
        return [api.get("/drive/v3/about").status_code for _ in range(20)]

    first = run()
    assert first == run()
    assert {200} < set(first) <= {200, 500, 503}


def test_quota_window_answers_429(
    api: Api, control: EmulatorClient, stand_in: dict[str, Any]
) -> None:
    control.configure(quotas={"drive": 3})
    statuses = [api.get("/drive/v3/about").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    err = error_of(api.get("/drive/v3/about"))
    assert (
        err["status"] == "RESOURCE_EXHAUSTED"
        and "Quota exceeded for quota metric" in err["message"]
    )
    # other buckets are unaffected
    assert api.get("/v4/spreadsheets/x", params={"includeGridData": "zz"}).status_code == 400


def test_quota_preset_and_buckets(server: EmulatorServer) -> None:
    server.controls.use_quota_preset("google_per_user")
    assert server.controls.quotas["sheets_read"] == 60
    assert server.controls.quotas["forms_responses"] == 180
    assert quota_bucket("sheets", "sheets.spreadsheets.values.batchGet", "GET") == "sheets_read"
    assert quota_bucket("sheets", "sheets.spreadsheets.batchUpdate", "POST") == "sheets_write"
    assert quota_bucket("forms", "forms.forms.responses.list", "GET") == "forms_responses"
    assert quota_bucket("forms", "forms.forms.batchUpdate", "POST") == "forms_write"


def test_latency_delays_requests(
    api: Api, control: EmulatorClient, stand_in: dict[str, Any]
) -> None:
    control.configure(latency_ms=150)
    start = time.monotonic()
    api.get("/drive/v3/about")
    assert time.monotonic() - start >= 0.15


def test_clock_is_request_now(api: Api, control: EmulatorClient, stand_in: dict[str, Any]) -> None:
    moment = datetime(2026, 9, 1, 8, 30, tzinfo=UTC)
    control.set_clock(moment)
    api.get("/drive/v3/about")
    assert stand_in["now"] == moment
    control.set_clock(None)
    api.get("/drive/v3/about")
    assert abs((stand_in["now"] - datetime.now(UTC)).total_seconds()) < 60


def test_reset_clears_state_and_controls(
    api: Api, control: EmulatorClient, stand_in: dict[str, Any]
) -> None:
    control.configure(latency_ms=5, quotas={"drive": 100})
    api.get("/drive/v3/about")
    control.reset()
    assert control.log() == []
    assert control.configure()["latency_ms"] == 0
    assert api.get("/drive/v3/about").json()["count"] == 1


def test_health_and_unknown_control(control: EmulatorClient, api: Api) -> None:
    assert control.health()["status"] == "ok"
    assert api.get("/_emulator/nothing").status_code == 404


def test_control_route_hook(api: Api) -> None:
    @control_route("POST", r"/_emulator/test-only/(?P<thing>[^/]+)")
    def poke(req: Request) -> Any:
        req.tx.put("pokes", req.path_params["thing"], req.body)
        return {"stored": req.path_params["thing"]}

    try:
        response = api.post("/_emulator/test-only/abc", json={"v": 1})
        assert response.json() == {"stored": "abc"}
    finally:
        core.CONTROL_ROUTES[:] = [r for r in core.CONTROL_ROUTES if r.fn is not poke]
    with pytest.raises(ValueError):
        control_route("GET", r"/v4/not-a-control")


def test_authorization_header_optional(api: Api, stand_in: dict[str, Any]) -> None:
    response = api.get("/drive/v3/about", headers={"Authorization": "Bearer anything"})
    assert response.status_code == 200


def test_api_error_body_shape() -> None:
    assert ApiError(429, "slow down").body() == {
        "error": {"code": 429, "message": "slow down", "status": "RESOURCE_EXHAUSTED"}
    }


# ---------------------------------------------------------------- store


def test_sqlite_store_commit_rollback_and_keys(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "s.db")
    with store.transaction() as tx:
        tx.put("k", "a", {"x": [1, 2]})
        tx.put("k", "b", 2)
        assert tx.get("k", "a") == {"x": [1, 2]}
    with pytest.raises(RuntimeError), store.transaction() as tx:
        tx.put("k", "a", {"x": "changed"})
        tx.delete("k", "b")
        raise RuntimeError("crash mid-write")
    with store.transaction() as tx:
        assert tx.get("k", "a") == {"x": [1, 2]}
        assert tx.keys("k") == ["a", "b"]
        copy = tx.get("k", "a")
        copy["x"].append(3)
        assert tx.get("k", "a") == {"x": [1, 2]}  # gets are private copies
    store.close()


def test_sqlite_state_shared_between_two_stores(tmp_path: Path) -> None:
    one, two = SqliteStore(tmp_path / "s.db"), SqliteStore(tmp_path / "s.db")
    with one.transaction() as tx:
        tx.put("k", "a", 1)
    with two.transaction() as tx:
        assert tx.get("k", "a") == 1
        tx.put("k", "a", 2)
    with one.transaction() as tx:
        assert tx.get("k", "a") == 2  # the cache notices the other writer's version
    one.close()
    two.close()


def test_open_store(tmp_path: Path) -> None:
    assert isinstance(open_store(None), core.MemoryStore)
    store = open_store(tmp_path / "state")
    assert isinstance(store, SqliteStore) and (tmp_path / "state").is_dir()


def test_server_state_survives_restart(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def about(req: Request) -> Any:
        count = (req.tx.get("counters", "n") or 0) + 1
        req.tx.put("counters", "n", count)
        return {"count": count}

    monkeypatch.setitem(HANDLERS, SLOT, about)
    for expected in (1, 2):
        with EmulatorServer(open_store(tmp_path)) as srv:
            assert requests.get(srv.url + "/drive/v3/about", timeout=10).json()["count"] == expected


def test_stop_releases_port() -> None:
    srv = EmulatorServer().start()
    port = srv.port
    srv.stop()
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", port))


def test_free_text_is_not_echoed_in_errors(api: Api) -> None:
    """A value sent to the wrong field may be personal data: only its size is reported."""
    body = {"requests": [{"addSheet": {"properties": {"sheetId": "Jane Pupil 2009-01-02"}}}]}
    err = error_of(api.post("/v4/spreadsheets/abc:batchUpdate", json=body))
    assert "Jane" not in err["message"]
    assert "(TYPE_INT32), <text of 21 characters>" in err["message"]


def test_missing_required_query_parameter_is_400(api: Api) -> None:
    err = error_of(api.get("/drive/v3/changes"))  # pageToken is required by the discovery doc
    assert err["code"] == 400 and "pageToken" in err["message"]


def test_repeated_value_for_single_parameter_is_400(api: Api) -> None:
    response = api.get("/v4/spreadsheets/x", params=[("includeGridData", "true")] * 2)
    assert error_of(response)["code"] == 400
