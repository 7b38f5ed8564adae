"""Sheets values and spreadsheets.get over raw HTTP: input options, rendering, trimming, errors."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import pytest

from .conftest import Api, error_of


@pytest.fixture
def sid(api: Api) -> str:
    response = api.post(
        "/v4/spreadsheets",
        json={
            "properties": {"title": "Book"},
            "sheets": [
                {"properties": {"title": "Sheet1"}},
                {
                    "properties": {
                        "title": "My Tab",
                        "gridProperties": {"rowCount": 20, "columnCount": 5},
                    }
                },
            ],
        },
    )
    assert response.status_code == 200, response.text
    value: str = response.json()["spreadsheetId"]
    return value


def vpath(sid: str, rng: str, suffix: str = "") -> str:
    return f"/v4/spreadsheets/{sid}/values/{quote(rng, safe='')}{suffix}"


def put(api: Api, sid: str, rng: str, values: list[list[Any]], option: str = "RAW") -> Any:
    response = api.put(
        vpath(sid, rng), params={"valueInputOption": option}, json={"values": values}
    )
    assert response.status_code == 200, response.text
    return response.json()


def get(api: Api, sid: str, rng: str, **params: str) -> dict[str, Any]:
    response = api.get(vpath(sid, rng), params=params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def grid_cells(api: Api, sid: str, rng: str) -> list[list[dict[str, Any]]]:
    body = api.get(
        f"/v4/spreadsheets/{sid}", params={"ranges": rng, "includeGridData": "true"}
    ).json()
    rows = body["sheets"][0]["data"][0]["rowData"]
    return [row.get("values", []) for row in rows]


def test_create_registers_a_drive_file_and_defaults(api: Api, server: Any) -> None:
    body = api.post("/v4/spreadsheets", json={}).json()
    assert body["properties"]["title"] == "Untitled spreadsheet"
    [sheet] = body["sheets"]
    assert sheet["properties"]["sheetId"] == 0 and sheet["properties"]["title"] == "Sheet1"
    assert sheet["properties"]["gridProperties"] == {"rowCount": 1000, "columnCount": 26}
    with server.store.transaction() as tx:
        record = tx.get("files", body["spreadsheetId"])
    assert record["mimeType"] == "application/vnd.google-apps.spreadsheet"


def test_unknown_spreadsheet_is_404(api: Api) -> None:
    assert error_of(api.get("/v4/spreadsheets/nope"))["code"] == 404


def test_raw_keeps_strings_user_entered_parses(api: Api, sid: str) -> None:
    put(api, sid, "Sheet1!A1", [["=1+1", "5", "TRUE", "2025-07-01", "'x"]], "RAW")
    put(
        api,
        sid,
        "Sheet1!A2",
        [["=1+1", "5", "TRUE", "2025-07-01", "'x", "-A1", 2.5]],
        "USER_ENTERED",
    )
    raw, entered = grid_cells(api, sid, "Sheet1!A1:G2")
    assert [c["userEnteredValue"] for c in raw] == [
        {"stringValue": v} for v in ("=1+1", "5", "TRUE", "2025-07-01", "'x")
    ]
    assert [c["userEnteredValue"] for c in entered] == [
        {"formulaValue": "=1+1"},
        {"numberValue": 5},
        {"boolValue": True},
        {"numberValue": 45839},
        {"stringValue": "x"},
        {"formulaValue": "=-A1"},
        {"numberValue": 2.5},
    ]
    assert entered[3]["formattedValue"] == "2025-07-01"
    assert "effectiveValue" not in entered[0]  # formulas are not evaluated
    assert entered[1]["effectiveValue"] == {"numberValue": 5}
    assert entered[2]["formattedValue"] == "TRUE"


def test_render_options(api: Api, sid: str) -> None:
    put(api, sid, "Sheet1!A1", [["=SUM(B1:C1)", "7", "x", "TRUE"]], "USER_ENTERED")
    assert get(api, sid, "Sheet1!A1:D1")["values"] == [["=SUM(B1:C1)", "7", "x", "TRUE"]]
    unformatted = get(api, sid, "Sheet1!A1:D1", valueRenderOption="UNFORMATTED_VALUE")
    assert unformatted["values"] == [["=SUM(B1:C1)", 7, "x", True]]
    assert (
        get(api, sid, "Sheet1!A1:D1", valueRenderOption="FORMULA")["values"][0][0] == "=SUM(B1:C1)"
    )


def test_get_drops_trailing_empties_and_omits_empty_values(api: Api, sid: str) -> None:
    put(api, sid, "Sheet1!A1", [["a", "", "c", ""], ["", "", "", ""], ["", "b"], ["", ""]])
    body = get(api, sid, "Sheet1!A1:F10")
    assert body["values"] == [["a", "", "c"], [], ["", "b"]]
    assert body["range"] == "Sheet1!A1:F10"
    empty = get(api, sid, "Sheet1!H1:J5")
    assert "values" not in empty and empty["majorDimension"] == "ROWS"


def test_columns_major_dimension(api: Api, sid: str) -> None:
    response = api.put(
        vpath(sid, "Sheet1!A1"),
        params={"valueInputOption": "RAW"},
        json={"values": [["a", "b"], ["c"]], "majorDimension": "COLUMNS"},
    )
    assert response.json()["updatedRange"] == "Sheet1!A1:B2"
    assert get(api, sid, "Sheet1!A1:B2")["values"] == [["a", "c"], ["b"]]
    assert get(api, sid, "Sheet1!A1:B2", majorDimension="COLUMNS")["values"] == [["a", "b"], ["c"]]


def test_quoted_sheet_names_and_whole_sheet(api: Api, sid: str) -> None:
    put(api, sid, "'My Tab'!B2", [["x", "y"]])
    body = get(api, sid, "My Tab")
    assert body["range"] == "'My Tab'!A1:E20"
    assert body["values"] == [[], ["", "x", "y"]]
    assert get(api, sid, "'My Tab'!B:C")["values"] == [[], ["x", "y"]]
    assert get(api, sid, "'my tab'!B2")["values"] == [["x"]]  # titles match case-insensitively


def test_no_sheet_name_means_first_sheet(api: Api, sid: str) -> None:
    put(api, sid, "A1", [["first"]])
    assert get(api, sid, "Sheet1!A1")["values"] == [["first"]]


def test_null_skips_and_empty_string_clears(api: Api, sid: str) -> None:
    put(api, sid, "Sheet1!A1", [["a", "b", "c"]])
    put(api, sid, "Sheet1!A1", [[None, "", "z"]])
    assert get(api, sid, "Sheet1!A1:C1")["values"] == [["a", "", "z"]]


def test_write_errors(api: Api, sid: str) -> None:
    missing = api.put(vpath(sid, "Sheet1!A1"), json={"values": [["x"]]})
    assert missing.status_code == 400
    assert "valueInputOption" in error_of(missing)["message"]
    bad_enum = api.put(vpath(sid, "Sheet1!A1"), params={"valueInputOption": "MAGIC"}, json={})
    assert error_of(bad_enum)["code"] == 400
    too_big = api.put(
        vpath(sid, "Sheet1!A1:B1"),
        params={"valueInputOption": "RAW"},
        json={"values": [["a"], ["b"]]},
    )
    assert "tried writing to row [2]" in error_of(too_big)["message"]
    outside = api.put(
        vpath(sid, "'My Tab'!E20"),
        params={"valueInputOption": "RAW"},
        json={"values": [["a", "b"]]},
    )
    assert "exceeds grid limits" in error_of(outside)["message"]
    assert "Max rows: 20, max columns: 5" in error_of(outside)["message"]
    unknown_sheet = api.get(vpath(sid, "Nope!A1"))
    assert error_of(unknown_sheet)["message"] == "Unable to parse range: Nope!A1"
    read_outside = api.get(vpath(sid, "'My Tab'!A21"))
    assert "exceeds grid limits" in error_of(read_outside)["message"]
    # nothing from the failed writes landed
    assert "values" not in get(api, sid, "Sheet1!A1:B2")


def test_batch_get_several_ranges(api: Api, sid: str) -> None:
    put(api, sid, "Sheet1!A1", [["a", "b"], ["c", "d"]])
    put(api, sid, "'My Tab'!A1", [["t"]])
    response = api.get(
        f"/v4/spreadsheets/{sid}/values:batchGet",
        params=[("ranges", "Sheet1!A1:B1"), ("ranges", "'My Tab'!A1:A2"), ("ranges", "Sheet1!B2")],
    )
    assert response.status_code == 200
    ranges = response.json()["valueRanges"]
    assert [r["range"] for r in ranges] == ["Sheet1!A1:B1", "'My Tab'!A1:A2", "Sheet1!B2"]
    assert [r["values"] for r in ranges] == [[["a", "b"]], [["t"]], [["d"]]]


def test_values_batch_update_and_batch_clear(api: Api, sid: str) -> None:
    response = api.post(
        f"/v4/spreadsheets/{sid}/values:batchUpdate",
        json={
            "valueInputOption": "USER_ENTERED",
            "data": [
                {"range": "Sheet1!A1", "values": [["1", "2"]]},
                {"range": "'My Tab'!A1", "values": [["x"], ["y"]]},
            ],
        },
    )
    body = response.json()
    assert body["totalUpdatedCells"] == 4 and body["totalUpdatedSheets"] == 2
    assert get(api, sid, "Sheet1!A1:B1", valueRenderOption="UNFORMATTED_VALUE")["values"] == [
        [1, 2]
    ]
    missing = api.post(f"/v4/spreadsheets/{sid}/values:batchUpdate", json={"data": []})
    assert "valueInputOption" in error_of(missing)["message"]
    cleared = api.post(
        f"/v4/spreadsheets/{sid}/values:batchClear", json={"ranges": ["Sheet1!A1", "'My Tab'!A:A"]}
    ).json()
    assert cleared["clearedRanges"] == ["Sheet1!A1", "'My Tab'!A1:A20"]
    assert get(api, sid, "Sheet1!A1:B1")["values"] == [["", "2"]]
    assert "values" not in get(api, sid, "'My Tab'!A1:A5")


def test_append_after_table_and_insert_rows(api: Api, sid: str) -> None:
    put(api, sid, "Sheet1!A1", [["h1", "h2"], ["r1", "x"]])
    body = api.post(
        vpath(sid, "Sheet1!A1", ":append"),
        params={"valueInputOption": "RAW"},
        json={"values": [["r2", "y"]]},
    ).json()
    assert body["tableRange"] == "Sheet1!A1:B2"
    assert body["updates"]["updatedRange"] == "Sheet1!A3:B3"
    api.post(
        vpath(sid, "Sheet1!A1", ":append"),
        params={"valueInputOption": "RAW", "insertDataOption": "INSERT_ROWS"},
        json={"values": [["r3"]]},
    )
    assert get(api, sid, "Sheet1!A1:B5")["values"] == [
        ["h1", "h2"],
        ["r1", "x"],
        ["r2", "y"],
        ["r3"],
    ]
    meta = api.get(f"/v4/spreadsheets/{sid}").json()
    assert meta["sheets"][0]["properties"]["gridProperties"]["rowCount"] == 1001


def test_append_grows_the_grid(api: Api, sid: str) -> None:
    put(api, sid, "'My Tab'!A1", [[str(i)] for i in range(20)])
    api.post(
        vpath(sid, "'My Tab'!A1", ":append"),
        params={"valueInputOption": "RAW"},
        json={"values": [["21"], ["22"]]},
    )
    assert get(api, sid, "'My Tab'!A21:A22")["values"] == [["21"], ["22"]]


def test_get_fields_mask_and_ranges(api: Api, sid: str) -> None:
    put(api, sid, "'My Tab'!A1", [["a", "b"]])
    body = api.get(
        f"/v4/spreadsheets/{sid}",
        params={
            "ranges": "'My Tab'!A1:B1",
            "fields": "sheets(properties(title),data.rowData.values.userEnteredValue)",
        },
    ).json()
    assert body == {
        "sheets": [
            {
                "properties": {"title": "My Tab"},
                "data": [
                    {
                        "rowData": [
                            {
                                "values": [
                                    {"userEnteredValue": {"stringValue": "a"}},
                                    {"userEnteredValue": {"stringValue": "b"}},
                                ]
                            }
                        ]
                    }
                ],
            }
        ]
    }
    without = api.get(f"/v4/spreadsheets/{sid}").json()
    assert all("data" not in s for s in without["sheets"])


def test_values_rows_must_be_lists(api: Api, sid: str) -> None:
    response = api.put(
        vpath(sid, "Sheet1!A1"), params={"valueInputOption": "RAW"}, json={"values": [["a"], "b"]}
    )
    assert "Invalid value at 'values[1]'" in error_of(response)["message"]


def test_compact_cells_keep_types_and_formats(api: Api, sid: str) -> None:
    put(api, sid, "Sheet1!A1", [[0, False, "", "t", 1.5]], "RAW")
    assert get(api, sid, "Sheet1!A1:E1", valueRenderOption="UNFORMATTED_VALUE")["values"] == [
        [0, False, "", "t", 1.5]
    ]
    assert get(api, sid, "Sheet1!A1:E1")["values"] == [["0", "FALSE", "", "t", "1.5"]]
    cells = grid_cells(api, sid, "Sheet1!A1:E1")[0]
    assert cells[0] == {
        "userEnteredValue": {"numberValue": 0},
        "effectiveValue": {"numberValue": 0},
        "formattedValue": "0",
    }
    assert cells[2] == {}


def test_grid_read_with_a_formatted_value_mask(api: Api, sid: str) -> None:
    """The one-request read gsync's sheetio makes: properties plus formatted values only."""
    put(api, sid, "Sheet1!A1", [["a", "2025-07-01", "=1+1", "3.5", "TRUE"]], "USER_ENTERED")
    fields = (
        "spreadsheetId,properties.title,"
        "sheets(properties(sheetId,title,index,hidden,gridProperties(rowCount,columnCount,"
        "frozenRowCount)),data.rowData.values.formattedValue)"
    )
    body = api.get(
        f"/v4/spreadsheets/{sid}", params={"includeGridData": "true", "fields": fields}
    ).json()
    assert set(body) == {"spreadsheetId", "properties", "sheets"}
    assert body["properties"] == {"title": "Book"}
    first = body["sheets"][0]
    assert first["properties"] == {
        "sheetId": 0,
        "title": "Sheet1",
        "index": 0,
        "gridProperties": {"rowCount": 1000, "columnCount": 26},
    }
    assert first["data"] == [
        {
            "rowData": [
                {
                    "values": [
                        {"formattedValue": v} for v in ("a", "2025-07-01", "=1+1", "3.5", "TRUE")
                    ]
                }
            ]
        }
    ]
    assert body["sheets"][1]["data"] == [{}]  # an empty sheet: no rowData at all, like Google
