"""`gsync roster import` against the emulator: all or nothing, re-import in place, dialects, mapping."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from gsync.config import load_config
from gsync.sheetio import read_snapshot, tab_frame
from gsync.sync import load_template

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


def destinations(workspace: Any, config_file: Path) -> Any:
    config = load_config(config_file)
    snap = read_snapshot(workspace, str(config.trust.spreadsheet_id))
    return tab_frame(snap, load_template(config).tab("destinations")).frame


def test_import_then_reimport_updates_in_place(
    cli: Any, config_file: Path, workspace: Any, emulator: Any
) -> None:
    assert cli("sheet", "init").exit_code == 0
    first = cli(
        "roster", "import", str(FIXTURES / "roster_sims.csv"), "--school", "Northfield", "--json"
    )
    assert first.exit_code == 0, first.output
    data = json.loads(first.output)
    assert data["added"] == data["rows"] > 0 and data["written"]
    frame = destinations(workspace, config_file)
    assert len(frame) == data["rows"] and frame["upn"].is_unique
    assert set(frame["school"]) == {"Northfield"}
    emulator.client.clear_log()
    again = cli(
        "roster", "import", str(FIXTURES / "roster_sims.csv"), "--school", "Northfield", "--json"
    )
    assert json.loads(again.output)["unchanged"] == data["rows"]
    assert emulator.client.count(method="sheets.spreadsheets.batchUpdate") == 0
    assert len(destinations(workspace, config_file)) == data["rows"]  # never duplicated


def test_bad_rows_reject_the_whole_file(
    cli: Any, config_file: Path, workspace: Any, emulator: Any
) -> None:
    assert cli("sheet", "init").exit_code == 0
    emulator.client.clear_log()
    result = cli(
        "roster", "import", str(FIXTURES / "roster_sims_bad.csv"), "--school", "Northfield"
    )
    assert result.exit_code == 6
    assert "nothing was imported" in result.output and "row " in result.output
    assert emulator.client.count(method="sheets.spreadsheets.batchUpdate") == 0
    assert len(destinations(workspace, config_file)) == 0


def test_other_dialects_and_mapping(cli: Any, config_file: Path, workspace: Any) -> None:
    assert cli("sheet", "init").exit_code == 0
    bromcom = cli(
        "roster",
        "import",
        str(FIXTURES / "roster_bromcom_cp1252.csv"),
        "--school",
        "Northfield",
        "--json",
    )
    assert bromcom.exit_code == 0, bromcom.output
    frame = destinations(workspace, config_file)
    assert "Renée" in set(frame["legal_forename"])  # Windows-1252 decoded
    unmapped = cli(
        "roster", "import", str(FIXTURES / "roster_custom_headers.csv"), "--school", "Southgate"
    )
    assert (
        unmapped.exit_code == 6
        and "--map" in unmapped.output
        and "--leaving-year" in unmapped.output
    )
    mapped = cli(
        "roster", "import", str(FIXTURES / "roster_custom_headers.csv"), "--school", "Southgate",
        "--map", "upn=Pupil Ref", "--map", "legal_forename=Given", "--map", "legal_surname=Family",
        "--map", "date_of_birth=Birthday", "--leaving-year", "2026", "--json",
    )  # fmt: skip
    assert mapped.exit_code == 0, mapped.output
    assert json.loads(mapped.output)["rows"] == 1
    frame = destinations(workspace, config_file)
    assert set(frame[frame["upn"] == "M881400014001"]["leaving_year"]) == {"2026"}
    assert frame["upn"].is_unique
    bad_map = cli(
        "roster",
        "import",
        str(FIXTURES / "roster_custom_headers.csv"),
        "--school",
        "Southgate",
        "--map",
        "nonsense",
    )
    assert bad_map.exit_code == 2
