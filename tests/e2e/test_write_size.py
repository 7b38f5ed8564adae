"""Request size: Google refuses a body over 10 MiB; a large write goes in several guarded parts.

The emulator's limit is lowered (and gsync's body size with it) so a 200-pupil first night, about
0.4 MB, needs several parts: the same code path as a 20-school trust's 54 MB first night.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import gspread
import pytest

from gsync import writebatch
from gsync.doctor import DoctorReport, check_sheets
from gsync.emulator.server import MAX_REQUEST_BYTES
from gsync.errors import LockedError
from gsync.sheetio import STATE_TAB, WRITE_IN_PROGRESS, read_snapshot
from gsync.sync import run_sync
from tests.e2e.test_sync import NOW, Trust, build_trust

LIMIT = 60_000


@pytest.fixture(scope="module")
def _trust(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Trust]:
    trust = build_trust(tmp_path_factory.mktemp("size"), pupils=200, responses=250)
    yield trust
    trust.server.stop()


@pytest.fixture
def trust(_trust: Trust) -> Iterator[Trust]:
    _trust.restore()
    yield _trust
    _trust.client.configure(max_request_bytes=MAX_REQUEST_BYTES)


def _writes(trust: Trust) -> int:
    return sum(1 for e in trust.client.log() if e["method"] == "sheets.spreadsheets.batchUpdate")


def _tabs(trust: Trust) -> dict[str, Any]:
    grids = read_snapshot(trust.ws, str(trust.config.trust.spreadsheet_id)).grids
    return {title: grid for title, grid in grids.items() if title != STATE_TAB}


def _state(trust: Trust) -> dict[str, str]:
    return read_snapshot(trust.ws, str(trust.config.trust.spreadsheet_id)).state


def test_the_emulator_refuses_a_body_over_the_limit_as_google_does(trust: Trust) -> None:
    assert trust.client.configure()["max_request_bytes"] == 10_485_760
    assert writebatch.DEFAULT_MAX_BYTES < writebatch.GOOGLE_MAX_BYTES == MAX_REQUEST_BYTES
    trust.client.configure(max_request_bytes=2_000)
    sheet = trust.ws.sheets().open_by_key(str(trust.config.trust.spreadsheet_id))
    big = {"requests": [{"updateSpreadsheetProperties": {"properties": {"title": "x" * 3_000}, "fields": "title"}}]}  # fmt: skip
    with pytest.raises(gspread.exceptions.APIError) as exc:
        sheet.batch_update(big)
    assert exc.value.response.status_code == 400
    assert "Request payload size exceeds the limit: 2000 bytes." in str(exc.value)
    small = {"requests": [{"updateSpreadsheetProperties": {"properties": {"title": "ok"}, "fields": "title"}}]}  # fmt: skip
    sheet.batch_update(small)  # under the limit: accepted


def _one_write_result(trust: Trust, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """The tabs after a first night written in one body; then the trust as it was, with the
    emulator's limit and gsync's body size lowered so the same night needs several bodies."""
    trust.restore()
    report = run_sync(trust.ws, trust.config, now=NOW)
    assert report.written and _writes(trust) == 1
    tabs = _tabs(trust)
    trust.restore()
    trust.client.configure(max_request_bytes=LIMIT)
    monkeypatch.setattr(writebatch, "DEFAULT_MAX_BYTES", LIMIT)
    return tabs


def test_a_large_first_night_is_written_in_parts_with_the_same_result(
    trust: Trust, monkeypatch: pytest.MonkeyPatch
) -> None:
    expected = _one_write_result(trust, monkeypatch)
    report = run_sync(trust.ws, trust.config, now=NOW)
    assert report.written
    assert _writes(trust) > 3  # every part accepted under the lowered limit
    assert _tabs(trust) == expected
    assert WRITE_IN_PROGRESS not in _state(trust)
    trust.client.clear_log()
    assert not run_sync(trust.ws, trust.config, now=NOW).written  # nothing left to do


def test_a_run_stopped_between_parts_is_completed_by_the_next(
    trust: Trust, monkeypatch: pytest.MonkeyPatch
) -> None:
    expected = _one_write_result(trust, monkeypatch)
    client = trust.ws.sheets().http_client
    real = type(client).request
    sent = {"writes": 0}

    def dies_after_two_parts(self: Any, method: str, endpoint: str, *a: Any, **k: Any) -> Any:
        if endpoint.endswith(":batchUpdate"):
            sent["writes"] += 1
            if sent["writes"] == 3:
                raise KeyboardInterrupt  # the process is killed between parts
        return real(self, method, endpoint, *a, **k)

    monkeypatch.setattr(type(client), "request", dies_after_two_parts)
    with pytest.raises(KeyboardInterrupt):
        run_sync(trust.ws, trust.config, now=NOW)
    monkeypatch.setattr(type(client), "request", real)
    assert _state(trust)[WRITE_IN_PROGRESS].startswith("part 2 of ")
    partial = _tabs(trust)
    assert partial != expected  # some of the write landed, not all
    doctor = DoctorReport()
    check_sheets(doctor, trust.ws, trust.config)
    warned = [c for c in doctor.checks if c.name == "last write"]
    assert warned and warned[0].status == "warn" and "part 2 of" in warned[0].detail
    report = run_sync(trust.ws, trust.config, now=NOW)
    assert report.written
    assert _tabs(trust) == expected
    assert WRITE_IN_PROGRESS not in _state(trust)


def test_another_run_between_parts_stops_this_one_with_exit_5(
    trust: Trust, monkeypatch: pytest.MonkeyPatch
) -> None:
    expected = _one_write_result(trust, monkeypatch)
    client = trust.ws.sheets().http_client
    real = type(client).request
    state = {"writes": 0, "other": False}

    def other_run_after_part_one(self: Any, method: str, endpoint: str, *a: Any, **k: Any) -> Any:
        if endpoint.endswith(":batchUpdate") and not state["other"]:
            state["writes"] += 1
            if state["writes"] == 2:  # before this run's part 2, another run does it all
                state["other"] = True
                assert run_sync(trust.ws, trust.config, now=NOW).written
                state["other"] = False
        return real(self, method, endpoint, *a, **k)

    monkeypatch.setattr(type(client), "request", other_run_after_part_one)
    with pytest.raises(LockedError) as exc:
        run_sync(trust.ws, trust.config, now=NOW)
    assert exc.value.exit_code == 5
    assert "1 of the write's" in exc.value.message
    monkeypatch.setattr(type(client), "request", real)
    assert _tabs(trust) == expected  # the other run's result, whole
    assert WRITE_IN_PROGRESS not in _state(trust)
    assert not run_sync(trust.ws, trust.config, now=NOW).written
