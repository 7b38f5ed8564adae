"""`gsync sheet init` against the emulator: create from the template, upgrade in place, idempotent."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from gsync.config import load_config
from gsync.sheetio import STATE_TAB, read_snapshot
from gsync.sync import load_template


def sheet_init(cli: Any) -> dict[str, Any]:
    result = cli("sheet", "init", "--json")
    assert result.exit_code == 0, result.output
    return dict(json.loads(result.output))


def test_init_creates_every_tab_and_records_the_id(
    cli: Any, config_file: Path, workspace: Any
) -> None:
    data = sheet_init(cli)
    assert data["created"] is True
    config = load_config(config_file)
    assert config.trust.spreadsheet_id == data["spreadsheet_id"]
    template = load_template(config)
    snap = read_snapshot(workspace, data["spreadsheet_id"])
    for tab in template.tabs:
        assert snap.has(tab.title), tab.title
        if tab.title != STATE_TAB:
            assert snap.grid(tab.title)[0] == [c.header for c in tab.columns]
            assert snap.tabs[tab.title].frozen_rows == 1
    assert "Sheet1" not in snap.tabs
    assert snap.tabs[STATE_TAB].hidden
    assert snap.state["template_version"] == str(template.version)


def test_init_sets_validation_protection_and_formatting(
    cli: Any, config_file: Path, workspace: Any
) -> None:
    sid = sheet_init(cli)["spreadsheet_id"]
    body = workspace.sheets().http_client.fetch_sheet_metadata(
        sid, params={"includeGridData": "false"}
    )
    dest = next(s for s in body["sheets"] if s["properties"]["title"] == "Destinations")
    protected = dest.get("protectedRanges", [])
    assert protected and all(p.get("warningOnly") for p in protected)
    grid = workspace.sheets().http_client.fetch_sheet_metadata(
        sid, params={"includeGridData": "true", "ranges": "'Destinations'!A2:AZ2"}
    )
    cells = grid["sheets"][0]["data"][0]["rowData"][0]["values"]
    rules = [c.get("dataValidation", {}).get("condition", {}).get("type") for c in cells]
    assert "ONE_OF_LIST" in rules
    exceptions = next(s for s in body["sheets"] if s["properties"]["title"] == "Exceptions")
    assert exceptions.get("conditionalFormats")


def test_second_init_writes_nothing(cli: Any, emulator: Any) -> None:
    sheet_init(cli)
    emulator.client.clear_log()
    data = sheet_init(cli)
    assert data["changes"] == []
    assert emulator.client.count(method="sheets.spreadsheets.batchUpdate") == 0


def test_upgrade_adds_missing_columns_and_keeps_data(
    cli: Any, config_file: Path, workspace: Any
) -> None:
    sid = sheet_init(cli)["spreadsheet_id"]
    client = workspace.sheets()
    sh = client.open_by_key(sid)
    ws = sh.worksheet("Destinations")
    header = ws.row_values(1)
    # Staff delete the notes column's header and add their own column and a data row.
    notes = header.index("Notes") + 1 if "Notes" in header else len(header)
    ws.update_cell(1, notes, "")
    ws.update_cell(2, 1, "keep me")
    data = sheet_init(cli)
    assert "Destinations" in data["columns_added"]
    snap = read_snapshot(workspace, sid)
    grid = snap.grid("Destinations")
    assert grid[1][0] == "keep me"
    assert grid[0][-1] == data["columns_added"]["Destinations"][-1]


def test_dry_run_writes_nothing(cli: Any, emulator: Any) -> None:
    result = cli("sheet", "init", "--dry-run", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["created"] is True
    assert emulator.client.count(api="sheets") == 0
    assert emulator.client.count(api="drive") == 0


def test_first_sync_on_a_new_empty_trust_works(cli: Any, emulator: Any) -> None:
    """Right after `sheet init` (no roster, no forms yet) the nightly job runs and says so."""
    sheet_init(cli)
    first = cli("sync", "--json", "--as-of", "2026-07-10")
    assert first.exit_code == 0, first.output
    data = json.loads(first.output)
    assert set(data["skipped"]) == {"Northfield", "Southgate"}
    emulator.client.clear_log()
    again = cli("sync", "--json", "--as-of", "2026-07-10")
    assert again.exit_code == 0 and not json.loads(again.output)["written"]
    assert emulator.client.count(method="sheets.spreadsheets.batchUpdate") == 0
