"""Real gspread against a running emulator: the client gsync uses, end to end."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import gspread
import pytest
from google.auth.credentials import AnonymousCredentials
from gspread.http_client import HTTPClient

from gsync.emulator.server import EmulatorServer
from gsync.emulator.store import open_store
from gsync.emulator.testing import EmulatorClient


def gspread_for(url: str) -> gspread.Client:
    """A gspread client whose Google base URLs are rewritten to the emulator."""

    class Rewriting(HTTPClient):
        def request(self, method: str, endpoint: str, *args: Any, **kwargs: Any) -> Any:
            for base in ("https://sheets.googleapis.com", "https://www.googleapis.com"):
                endpoint = endpoint.replace(base, url)
            return super().request(method, endpoint, *args, **kwargs)

    return gspread.Client(auth=AnonymousCredentials(), http_client=Rewriting)  # type: ignore[no-untyped-call]


def create(gc: gspread.Client, title: str) -> gspread.Spreadsheet:
    """Create through the Sheets API (gspread's own create goes through Drive files.create)."""
    response = gc.http_client.request(
        "post",
        "https://sheets.googleapis.com/v4/spreadsheets",
        json={"properties": {"title": title}},
    )
    return gc.open_by_key(response.json()["spreadsheetId"])


@pytest.fixture
def gc(server: EmulatorServer) -> gspread.Client:
    return gspread_for(server.url)


def test_round_trip_tabs_values_and_batch_read(gc: gspread.Client) -> None:
    sh = create(gc, "CEIAG Metrics & Destinations")
    assert sh.title == "CEIAG Metrics & Destinations"
    ws = sh.add_worksheet("Pupil's Tab", rows=50, cols=6)
    ws.update([["upn", "name"], ["A123", "=HYPERLINK()"]], "A1")  # gspread 6 writes RAW
    ws.update([["=1+1", "007"]], "C1", value_input_option="USER_ENTERED")
    assert ws.get_all_values()[:2] == [
        ["upn", "name", "=1+1", "7"],
        ["A123", "=HYPERLINK()", "", ""],
    ]
    assert ws.get("A1:D1", value_render_option="UNFORMATTED_VALUE") == [["upn", "name", "=1+1", 7]]
    got = sh.values_batch_get(["'Pupil''s Tab'!A1:B2", "Sheet1!A1"])
    assert got["valueRanges"][0]["values"] == [["upn", "name"], ["A123", "=HYPERLINK()"]]
    assert "values" not in got["valueRanges"][1]
    assert [w.title for w in sh.worksheets()] == ["Sheet1", "Pupil's Tab"]


def test_trailing_empties_dropped_through_gspread(gc: gspread.Client) -> None:
    ws = create(gc, "t").sheet1
    ws.update([["a", "", ""], ["", "", ""], ["b"]], "A1")
    assert ws.get("A1:C5") == [["a"], [], ["b"]]


def test_append_rows(gc: gspread.Client) -> None:
    ws = create(gc, "t").sheet1
    ws.append_row(["h1", "h2"])
    ws.append_rows([["r1", "x"], ["r2", "y"]])
    assert ws.get_all_values() == [["h1", "h2"], ["r1", "x"], ["r2", "y"]]


def test_batch_update_atomic_through_gspread(gc: gspread.Client) -> None:
    sh = create(gc, "t")
    with pytest.raises(gspread.exceptions.APIError) as info:
        sh.batch_update(
            {
                "requests": [
                    {"addSheet": {"properties": {"title": "New"}}},
                    {"deleteSheet": {"sheetId": 12345}},
                ]
            }
        )
    assert info.value.response.status_code == 400
    assert [w.title for w in sh.worksheets()] == ["Sheet1"]


def test_quota_and_injected_fault_reach_gspread(
    gc: gspread.Client, control: EmulatorClient
) -> None:
    ws = create(gc, "t").sheet1
    control.inject("sheets.spreadsheets.values.get", status=503)
    with pytest.raises(gspread.exceptions.APIError) as info:
        ws.get("A1")
    assert info.value.response.status_code == 503
    assert ws.get("A1") == [[]]  # the fault was used up
    control.configure(quotas={"sheets_read": 1})
    ws.get("A1")
    with pytest.raises(gspread.exceptions.APIError) as info:
        ws.get("A1")
    assert info.value.response.status_code == 429
    assert info.value.response.json()["error"]["status"] == "RESOURCE_EXHAUSTED"


def test_state_survives_restart(tmp_path: Path) -> None:
    with EmulatorServer(open_store(tmp_path)) as first:
        ws = create(gspread_for(first.url), "persisted").sheet1
        ws.update([["kept"]], "A1")
        key = ws.spreadsheet_id
    with EmulatorServer(open_store(tmp_path)) as second:
        again = gspread_for(second.url).open_by_key(key)
        assert again.title == "persisted"
        assert again.sheet1.get("A1") == [["kept"]]


@pytest.fixture
def big_sheet(tmp_path: Path) -> Iterator[tuple[gspread.Client, str]]:
    with EmulatorServer(open_store(tmp_path)) as srv:
        gc = gspread_for(srv.url)
        sh = create(gc, "big")
        yield gc, sh.id


def test_large_sheet_round_trip_on_sqlite(big_sheet: tuple[gspread.Client, str]) -> None:
    gc, key = big_sheet
    sh = gc.open_by_key(key)
    rows = 20_000
    sh.batch_update(
        {"requests": [{"appendDimension": {"sheetId": 0, "dimension": "ROWS", "length": rows}}]}
    )
    data = [[f"r{i}", str(i), "Y"] for i in range(rows)]
    sh.values_update("Sheet1!A1", params={"valueInputOption": "RAW"}, body={"values": data})
    got = sh.values_get("Sheet1!A1:C")["values"]
    assert len(got) == rows and got[-1] == [f"r{rows - 1}", str(rows - 1), "Y"]
    # a small write touches one block; the rest stays intact
    sh.values_update("Sheet1!B5", params={"valueInputOption": "RAW"}, body={"values": [["x"]]})
    assert sh.values_get("Sheet1!A4:B6")["values"] == [["r3", "3"], ["r4", "x"], ["r5", "5"]]


def test_gspread_create_through_drive(gc: gspread.Client) -> None:
    """gspread creates spreadsheets with Drive files.create, which calls sheets.new_spreadsheet."""
    sh = gc.create("Made via Drive")
    sh.sheet1.update([["x"]], "A1")
    again = gc.open_by_key(sh.id)
    assert again.title == "Made via Drive" and again.sheet1.get("A1") == [["x"]]
