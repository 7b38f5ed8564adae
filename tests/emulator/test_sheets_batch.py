"""spreadsheets.batchUpdate: atomicity, Google's error wording, and each supported request."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import pytest

from .conftest import Api, error_of


@pytest.fixture
def sid(api: Api) -> str:
    value: str = api.post("/v4/spreadsheets", json={"properties": {"title": "B"}}).json()[
        "spreadsheetId"
    ]
    return value


def batch(api: Api, sid: str, *requests: dict[str, Any], **extra: Any) -> Any:
    return api.post(
        f"/v4/spreadsheets/{sid}:batchUpdate", json={"requests": list(requests), **extra}
    )


def ok(api: Api, sid: str, *requests: dict[str, Any], **extra: Any) -> dict[str, Any]:
    response = batch(api, sid, *requests, **extra)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def meta(api: Api, sid: str) -> dict[str, Any]:
    body: dict[str, Any] = api.get(f"/v4/spreadsheets/{sid}").json()
    return body


def sheet_named(api: Api, sid: str, title: str) -> dict[str, Any]:
    return next(s for s in meta(api, sid)["sheets"] if s["properties"]["title"] == title)


def values(api: Api, sid: str, rng: str) -> list[list[Any]]:
    body = api.get(f"/v4/spreadsheets/{sid}/values/{quote(rng, safe='')}").json()
    result: list[list[Any]] = body.get("values", [])
    return result


def text_rows(*rows: list[str]) -> list[dict[str, Any]]:
    return [{"values": [{"userEnteredValue": {"stringValue": v}} for v in row]} for row in rows]


def test_one_bad_request_applies_nothing(api: Api, sid: str) -> None:
    response = batch(
        api,
        sid,
        {"addSheet": {"properties": {"title": "X"}}},
        {
            "updateCells": {
                "start": {"sheetId": 0},
                "rows": text_rows(["written"]),
                "fields": "userEnteredValue",
            }
        },
        {"addSheet": {"properties": {"title": "x"}}},
    )
    err = error_of(response)
    assert response.status_code == 400
    assert err["message"] == (
        'Invalid requests[2].addSheet: A sheet with the name "x" already exists. '
        "Please enter another name."
    )
    assert [s["properties"]["title"] for s in meta(api, sid)["sheets"]] == ["Sheet1"]
    assert values(api, sid, "Sheet1!A1") == []


def test_unsupported_request_kind_is_refused_by_name(api: Api, sid: str) -> None:
    err = error_of(batch(api, sid, {"sortRange": {"range": {"sheetId": 0}}}))
    assert err["code"] == 400
    assert "requests[0].sortRange" in err["message"] and "not supported" in err["message"]


def test_two_kinds_in_one_request_refused(api: Api, sid: str) -> None:
    err = error_of(batch(api, sid, {"addSheet": {}, "deleteSheet": {"sheetId": 0}}))
    assert "oneof" in err["message"]


def test_add_sheet_reply_and_include_spreadsheet(api: Api, sid: str) -> None:
    body = ok(
        api,
        sid,
        {
            "addSheet": {
                "properties": {
                    "title": "Data",
                    "index": 0,
                    "gridProperties": {"rowCount": 5, "columnCount": 3},
                }
            }
        },
        {"addSheet": {}},
        includeSpreadsheetInResponse=True,
    )
    props = body["replies"][0]["addSheet"]["properties"]
    assert props["title"] == "Data" and props["index"] == 0 and isinstance(props["sheetId"], int)
    assert body["replies"][1]["addSheet"]["properties"]["title"] == "Sheet2"
    titles = [s["properties"]["title"] for s in body["updatedSpreadsheet"]["sheets"]]
    assert titles == ["Data", "Sheet1", "Sheet2"]


def test_delete_sheet_and_last_sheet_protected(api: Api, sid: str) -> None:
    new_id = ok(api, sid, {"addSheet": {"properties": {"title": "T"}}})["replies"][0]["addSheet"][
        "properties"
    ]["sheetId"]
    ok(api, sid, {"deleteSheet": {"sheetId": new_id}})
    err = error_of(batch(api, sid, {"deleteSheet": {"sheetId": 0}}))
    assert "You can't remove all the visible sheets" in err["message"]
    assert (
        "No grid with id: 99"
        in error_of(batch(api, sid, {"deleteSheet": {"sheetId": 99}}))["message"]
    )


def test_update_sheet_properties_with_mask(api: Api, sid: str) -> None:
    ok(
        api,
        sid,
        {
            "updateSheetProperties": {
                "properties": {
                    "sheetId": 0,
                    "title": "Renamed",
                    "hidden": True,
                    "gridProperties": {"frozenRowCount": 1},
                },
                "fields": "title,gridProperties.frozenRowCount",
            }
        },
    )
    props = meta(api, sid)["sheets"][0]["properties"]
    assert props["title"] == "Renamed" and "hidden" not in props
    assert props["gridProperties"] == {"rowCount": 1000, "columnCount": 26, "frozenRowCount": 1}
    err = error_of(batch(api, sid, {"updateSheetProperties": {"properties": {"sheetId": 0}}}))
    assert "none specified" in err["message"]


def test_update_spreadsheet_title_follows_drive_record(api: Api, sid: str, server: Any) -> None:
    ok(
        api,
        sid,
        {"updateSpreadsheetProperties": {"properties": {"title": "New"}, "fields": "title"}},
    )
    assert meta(api, sid)["properties"]["title"] == "New"
    with server.store.transaction() as tx:
        assert tx.get("files", sid)["name"] == "New"


def test_update_cells_range_clears_uncovered_and_grid_limit(api: Api, sid: str) -> None:
    ok(
        api,
        sid,
        {
            "updateCells": {
                "start": {"sheetId": 0},
                "rows": text_rows(["a", "b"], ["c", "d"]),
                "fields": "*",
            }
        },
    )
    ok(
        api,
        sid,
        {
            "updateCells": {
                "range": {
                    "sheetId": 0,
                    "startRowIndex": 0,
                    "endRowIndex": 2,
                    "startColumnIndex": 0,
                    "endColumnIndex": 2,
                },
                "rows": text_rows(["z"]),
                "fields": "userEnteredValue",
            }
        },
    )
    assert values(api, sid, "Sheet1!A1:B2") == [["z"]]
    err = error_of(
        batch(
            api,
            sid,
            {
                "updateCells": {
                    "start": {"sheetId": 0, "rowIndex": 999},
                    "rows": text_rows(["a"], ["b"]),
                    "fields": "*",
                }
            },
        )
    )
    assert err["message"].startswith(
        "Invalid requests[0].updateCells: Range (A1000:A1001) exceeds grid limits"
    )


def test_append_cells_and_repeat_cell(api: Api, sid: str) -> None:
    ok(
        api,
        sid,
        {"appendCells": {"sheetId": 0, "rows": text_rows(["h"]), "fields": "userEnteredValue"}},
    )
    ok(
        api,
        sid,
        {"appendCells": {"sheetId": 0, "rows": text_rows(["r"]), "fields": "userEnteredValue"}},
    )
    assert values(api, sid, "Sheet1!A1:A3") == [["h"], ["r"]]
    ok(
        api,
        sid,
        {
            "repeatCell": {
                "range": {"sheetId": 0, "startRowIndex": 0, "endRowIndex": 1},
                "cell": {"userEnteredFormat": {"textFormat": {"bold": True}}},
                "fields": "userEnteredFormat.textFormat.bold",
            }
        },
    )
    body = api.get(
        f"/v4/spreadsheets/{sid}", params={"ranges": "Sheet1!A1:B1", "includeGridData": "true"}
    ).json()
    first, second = body["sheets"][0]["data"][0]["rowData"][0]["values"][:2]
    assert first["userEnteredFormat"] == {"textFormat": {"bold": True}}
    assert first["userEnteredValue"] == {"stringValue": "h"}
    assert second["userEnteredFormat"] == {"textFormat": {"bold": True}}
    assert "userEnteredValue" not in second


def test_dimensions_insert_delete_append(api: Api, sid: str) -> None:
    ok(
        api,
        sid,
        {
            "updateCells": {
                "start": {"sheetId": 0},
                "rows": text_rows(["1"], ["2"], ["3"]),
                "fields": "*",
            }
        },
    )
    ok(
        api,
        sid,
        {
            "insertDimension": {
                "range": {"sheetId": 0, "dimension": "ROWS", "startIndex": 1, "endIndex": 2}
            }
        },
    )
    assert values(api, sid, "Sheet1!A1:A4") == [["1"], [], ["2"], ["3"]]
    ok(
        api,
        sid,
        {
            "deleteDimension": {
                "range": {"sheetId": 0, "dimension": "ROWS", "startIndex": 0, "endIndex": 2}
            }
        },
    )
    assert values(api, sid, "Sheet1!A1:A4") == [["2"], ["3"]]
    ok(
        api,
        sid,
        {
            "insertDimension": {
                "range": {"sheetId": 0, "dimension": "COLUMNS", "startIndex": 0, "endIndex": 1}
            }
        },
    )
    assert values(api, sid, "Sheet1!A1:B1") == [["", "2"]]
    ok(api, sid, {"appendDimension": {"sheetId": 0, "dimension": "COLUMNS", "length": 3}})
    grid = meta(api, sid)["sheets"][0]["properties"]["gridProperties"]
    assert grid == {"rowCount": 999, "columnCount": 30}
    err = error_of(
        batch(
            api,
            sid,
            {
                "deleteDimension": {
                    "range": {"sheetId": 0, "dimension": "ROWS", "startIndex": 0, "endIndex": 999}
                }
            },
        )
    )
    assert "You can't delete all the rows" in err["message"]


def test_cell_limit(api: Api, sid: str) -> None:
    err = error_of(
        batch(api, sid, {"appendDimension": {"sheetId": 0, "dimension": "ROWS", "length": 400_000}})
    )
    assert "above the limit of 10000000 cells" in err["message"]


def test_dimension_properties_and_autoresize(api: Api, sid: str) -> None:
    ok(
        api,
        sid,
        {
            "updateDimensionProperties": {
                "range": {"sheetId": 0, "dimension": "COLUMNS", "startIndex": 1, "endIndex": 2},
                "properties": {"hiddenByUser": True},
                "fields": "hiddenByUser",
            }
        },
        {
            "autoResizeDimensions": {
                "dimensions": {"sheetId": 0, "dimension": "COLUMNS", "startIndex": 0, "endIndex": 1}
            }
        },
    )
    body = api.get(
        f"/v4/spreadsheets/{sid}", params={"ranges": "Sheet1!A1:C1", "includeGridData": "true"}
    ).json()
    cols = body["sheets"][0]["data"][0]["columnMetadata"]
    assert cols[1]["hiddenByUser"] is True and "hiddenByUser" not in cols[2]


def test_validation_protection_conditional_formats(api: Api, sid: str) -> None:
    rule = {
        "condition": {
            "type": "ONE_OF_LIST",
            "values": [{"userEnteredValue": "Y"}, {"userEnteredValue": "N"}],
        },
        "strict": True,
        "showCustomUi": True,
    }
    body = ok(
        api,
        sid,
        {
            "setDataValidation": {
                "range": {
                    "sheetId": 0,
                    "startRowIndex": 1,
                    "endRowIndex": 3,
                    "startColumnIndex": 0,
                    "endColumnIndex": 1,
                },
                "rule": rule,
            }
        },
        {
            "addProtectedRange": {
                "protectedRange": {
                    "range": {"sheetId": 0, "startColumnIndex": 5, "endColumnIndex": 6},
                    "warningOnly": True,
                    "description": "sync-owned",
                }
            }
        },
        {
            "addConditionalFormatRule": {
                "rule": {
                    "ranges": [{"sheetId": 0}],
                    "booleanRule": {"condition": {"type": "BLANK"}, "format": {}},
                },
                "index": 0,
            }
        },
    )
    protected = body["replies"][1]["addProtectedRange"]["protectedRange"]
    assert protected["warningOnly"] is True and isinstance(protected["protectedRangeId"], int)
    grid = api.get(
        f"/v4/spreadsheets/{sid}", params={"ranges": "Sheet1!A1:A3", "includeGridData": "true"}
    ).json()
    rows = grid["sheets"][0]["data"][0]["rowData"]
    assert rows[1]["values"][0]["dataValidation"] == rule and rows[0] == {}
    sheet = meta(api, sid)["sheets"][0]
    assert sheet["protectedRanges"][0]["description"] == "sync-owned"
    assert len(sheet["conditionalFormats"]) == 1
    pid = protected["protectedRangeId"]
    ok(
        api,
        sid,
        {
            "updateProtectedRange": {
                "protectedRange": {"protectedRangeId": pid, "description": "x"},
                "fields": "description",
            }
        },
        {"deleteConditionalFormatRule": {"sheetId": 0, "index": 0}},
    )
    assert meta(api, sid)["sheets"][0]["protectedRanges"][0]["description"] == "x"
    ok(api, sid, {"deleteProtectedRange": {"protectedRangeId": pid}})
    assert "protectedRanges" not in meta(api, sid)["sheets"][0]
    err = error_of(batch(api, sid, {"deleteProtectedRange": {"protectedRangeId": pid}}))
    assert f"No protected range with id: {pid}" in err["message"]


def test_developer_metadata_moves_with_rows(api: Api, sid: str) -> None:
    body = ok(
        api,
        sid,
        {
            "createDeveloperMetadata": {
                "developerMetadata": {
                    "metadataKey": "row",
                    "metadataValue": "u1",
                    "visibility": "DOCUMENT",
                    "location": {
                        "dimensionRange": {
                            "sheetId": 0,
                            "dimension": "ROWS",
                            "startIndex": 2,
                            "endIndex": 3,
                        }
                    },
                }
            }
        },
        {
            "createDeveloperMetadata": {
                "developerMetadata": {
                    "metadataKey": "schema",
                    "metadataValue": "1",
                    "visibility": "DOCUMENT",
                    "location": {"spreadsheet": True},
                }
            }
        },
    )
    row_md = body["replies"][0]["createDeveloperMetadata"]["developerMetadata"]
    assert row_md["location"]["locationType"] == "ROW"
    ok(
        api,
        sid,
        {
            "insertDimension": {
                "range": {"sheetId": 0, "dimension": "ROWS", "startIndex": 0, "endIndex": 2}
            }
        },
    )
    got = api.get(f"/v4/spreadsheets/{sid}/developerMetadata/{row_md['metadataId']}").json()
    assert got["location"]["dimensionRange"]["startIndex"] == 4
    assert meta(api, sid)["developerMetadata"][0]["metadataKey"] == "schema"
    found = api.post(
        f"/v4/spreadsheets/{sid}/developerMetadata:search",
        json={"dataFilters": [{"developerMetadataLookup": {"metadataKey": "schema"}}]},
    ).json()
    assert [m["developerMetadata"]["metadataValue"] for m in found["matchedDeveloperMetadata"]] == [
        "1"
    ]
    deleted = ok(
        api,
        sid,
        {
            "deleteDeveloperMetadata": {
                "dataFilter": {"developerMetadataLookup": {"metadataKey": "row"}}
            }
        },
    )
    assert len(deleted["replies"][0]["deleteDeveloperMetadata"]["deletedDeveloperMetadata"]) == 1
    assert (
        api.get(f"/v4/spreadsheets/{sid}/developerMetadata/{row_md['metadataId']}").status_code
        == 404
    )


def test_charts_filter_merges(api: Api, sid: str) -> None:
    body = ok(
        api,
        sid,
        {
            "addChart": {
                "chart": {
                    "spec": {"title": "c", "basicChart": {"chartType": "COLUMN"}},
                    "position": {"overlayPosition": {"anchorCell": {"sheetId": 0}}},
                }
            }
        },
        {"setBasicFilter": {"filter": {"range": {"sheetId": 0, "endColumnIndex": 3}}}},
        {
            "mergeCells": {
                "range": {
                    "sheetId": 0,
                    "startRowIndex": 0,
                    "endRowIndex": 1,
                    "startColumnIndex": 0,
                    "endColumnIndex": 3,
                },
                "mergeType": "MERGE_ALL",
            }
        },
    )
    chart_id = body["replies"][0]["addChart"]["chart"]["chartId"]
    sheet = meta(api, sid)["sheets"][0]
    assert (
        sheet["charts"][0]["chartId"] == chart_id
        and sheet["basicFilter"]["range"]["endColumnIndex"] == 3
    )
    assert sheet["merges"] == [
        {
            "sheetId": 0,
            "startRowIndex": 0,
            "endRowIndex": 1,
            "startColumnIndex": 0,
            "endColumnIndex": 3,
        }
    ]
    err = error_of(
        batch(
            api,
            sid,
            {
                "mergeCells": {
                    "range": {
                        "sheetId": 0,
                        "startRowIndex": 0,
                        "endRowIndex": 2,
                        "startColumnIndex": 1,
                        "endColumnIndex": 2,
                    }
                }
            },
        )
    )
    assert "overlaps" in err["message"]
    ok(
        api,
        sid,
        {"unmergeCells": {"range": {"sheetId": 0, "startRowIndex": 0, "endRowIndex": 1}}},
        {"deleteEmbeddedObject": {"objectId": chart_id}},
    )
    sheet = meta(api, sid)["sheets"][0]
    assert "merges" not in sheet and "charts" not in sheet


def test_ranges_follow_inserted_and_deleted_rows(api: Api, sid: str) -> None:
    body = ok(
        api,
        sid,
        {
            "addProtectedRange": {
                "protectedRange": {
                    "range": {"sheetId": 0, "startRowIndex": 5, "endRowIndex": 10},
                    "warningOnly": True,
                }
            }
        },
        {
            "mergeCells": {
                "range": {
                    "sheetId": 0,
                    "startRowIndex": 2,
                    "endRowIndex": 3,
                    "startColumnIndex": 0,
                    "endColumnIndex": 2,
                }
            }
        },
    )
    ok(
        api,
        sid,
        {
            "insertDimension": {
                "range": {"sheetId": 0, "dimension": "ROWS", "startIndex": 0, "endIndex": 3}
            }
        },
        {
            "deleteDimension": {
                "range": {"sheetId": 0, "dimension": "ROWS", "startIndex": 5, "endIndex": 6}
            }
        },
    )
    sheet = meta(api, sid)["sheets"][0]
    protected = sheet["protectedRanges"][0]
    assert (
        protected["protectedRangeId"]
        == body["replies"][0]["addProtectedRange"]["protectedRange"]["protectedRangeId"]
    )
    assert (protected["range"]["startRowIndex"], protected["range"]["endRowIndex"]) == (7, 12)
    assert "merges" not in sheet  # the merged row (now row 5) was deleted with its merge


def test_shrinking_the_grid_drops_cells(api: Api, sid: str) -> None:
    ok(
        api,
        sid,
        {
            "updateCells": {
                "start": {"sheetId": 0, "rowIndex": 4},
                "rows": text_rows(["gone"]),
                "fields": "*",
            }
        },
    )
    ok(
        api,
        sid,
        {
            "updateSheetProperties": {
                "properties": {"sheetId": 0, "gridProperties": {"rowCount": 3}},
                "fields": "gridProperties.rowCount",
            }
        },
        {"appendDimension": {"sheetId": 0, "dimension": "ROWS", "length": 5}},
    )
    assert values(api, sid, "Sheet1!A1:A8") == []
    assert meta(api, sid)["sheets"][0]["properties"]["gridProperties"]["rowCount"] == 8
