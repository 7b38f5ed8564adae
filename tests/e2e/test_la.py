"""LA and DfE data end to end against the emulator: import, reconcile, staff accept, sync completes.

A trust with the nine pupils of tests/unit/test_la.py is built once per module; each test starts
from a copy of that state.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from gsync import sync as sync_mod
from gsync.cli import main
from gsync.config import Config, load_config
from gsync.emulator.server import EmulatorServer
from gsync.emulator.testing import EmulatorClient
from gsync.sheetio import read_snapshot, tab_frame
from gsync.sync import load_template, run_sync
from gsync.workspace import Workspace, workspace_for_endpoint
from tests.conftest import SAMPLE_CONFIG
from tests.unit.test_la import FIX, PUPILS

NOW = dt.datetime(2026, 1, 15, 2, 30, tzinfo=dt.UTC)
NAMES = ("Amelia", "Khan", "Oliver", "Zoë", "Chloe", "Dupont", "Jack", "Taylor", "2009-03-14")


@dataclass
class Trust:
    server: Any
    client: EmulatorClient
    ws: Workspace
    config_path: Path
    saved: dict[str, Any]

    @property
    def config(self) -> Config:
        return load_config(self.config_path)

    def restore(self) -> None:
        data = self.server.store._data
        data.clear()
        data.update(copy.deepcopy(self.saved))
        self.client.clear_log()

    def frames(self) -> dict[str, Any]:
        snap = read_snapshot(self.ws, str(self.config.trust.spreadsheet_id))
        template = load_template(self.config)
        out = {t.key: tab_frame(snap, t).frame for t in template.tabs if t.key != "state"}
        out["_grids"] = snap.grids
        return out

    def cli(self, *args: str) -> Any:
        return CliRunner().invoke(main, ["--config", str(self.config_path), *args])

    def writes(self) -> int:
        return self.client.count(method="sheets.spreadsheets.batchUpdate")


@pytest.fixture(scope="module")
def _trust(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Trust]:
    tmp = tmp_path_factory.mktemp("la")
    server = EmulatorServer().start()
    client = EmulatorClient(server.url)
    ws = workspace_for_endpoint(server.url)
    config_path = tmp / "gsync.toml"
    config_path.write_text(SAMPLE_CONFIG, encoding="utf-8")
    sync_mod.init_sheet(ws, load_config(config_path))
    roster = tmp / "roster.csv"
    lines = ["UPN,Legal Forename,Legal Surname,Preferred Forename,DOB,Year Left"]
    for upn, fore, pref, sur, dob in PUPILS:
        y, m, d = dob.split("-")
        lines.append(f"{upn},{fore},{sur},{pref},{d}/{m}/{y},2025")
    roster.write_text("\n".join(lines) + "\n", encoding="utf-8")
    sync_mod.import_roster(ws, load_config(config_path), roster, "Northfield")
    trust = Trust(server, client, ws, config_path, copy.deepcopy(server.store._data))
    yield trust
    server.stop()


@pytest.fixture
def trust(_trust: Trust, monkeypatch: pytest.MonkeyPatch) -> Trust:
    _trust.restore()
    monkeypatch.setenv("GSYNC_EMULATOR_HOST", _trust.server.url.removeprefix("http://"))
    return _trust


def by_upn(frame: Any) -> dict[str, dict[str, str]]:
    return {r["upn"]: r for r in frame.to_dict("records")}


def staff_accepts(trust: Trust, upn: str) -> None:
    """What a careers leader does: choose 'Accept LA destination' in the pupil's row (gspread)."""
    sheet = trust.ws.sheets().open_by_key(str(trust.config.trust.spreadsheet_id))
    tab = sheet.worksheet("Reconciliation")
    values = tab.get_all_values()
    header = values[0]
    row = next(i for i, r in enumerate(values) if r[header.index("UPN")] == upn) + 1
    tab.update_cell(row, header.index("Accept") + 1, "Accept LA destination")


def test_import_reconcile_accept_and_sync_completes_the_validated_entry(
    trust: Trust, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="gsync")
    result = trust.cli(
        "la", "import", str(FIX / "la_portal_bom.csv"), "--school", "Northfield",
        "--leaving-year", "2025", "--json", "-vv",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["counts"] == {
        "rows": 9, "matched": 6, "unmatched": 1, "ambiguous": 1, "superseded": 1,
    }  # fmt: skip
    assert [u["row"] for u in report["unmatched"]] == [9, 10]
    assert report["written"] and trust.writes() == 1
    la_tab = trust.frames()["la_data"]
    assert len(la_tab) == 9  # unmatched and superseded rows kept
    assert set(la_tab["match_status"]) == {"matched", "unmatched", "ambiguous", "superseded"}
    # The first sync reconciles.
    run_sync(trust.ws, trust.config, now=NOW)
    recon = by_upn(trust.frames()["reconciliation"])
    assert len(recon) == 9
    zoe = recon["D201122500032"]
    assert (zoe["verdict"], zoe["la_category"], zoe["accept"]) == (
        "only the LA",
        "Sixth-form college",
        "",
    )
    assert recon["K201122500065"]["verdict"] == "neither"
    # Staff accept the LA's destination; the next sync completes the validated entry.
    staff_accepts(trust, "D201122500032")
    trust.client.clear_log()
    run_sync(trust.ws, trust.config, now=NOW)
    assert trust.writes() == 1
    frames = trust.frames()
    pupil = by_upn(frames["destinations"])["D201122500032"]
    assert pupil["actual_validated_destination"] == "Sixth-form college"
    assert pupil["actual_validated_source"] == "LA"
    assert pupil["actual_validated_validated"] == "Y"
    assert pupil["actual_validated_provider"] == "City Sixth Form College"
    assert pupil["actual_validated_recorded"] == "2026-01-15"
    others = [p for u, p in by_upn(frames["destinations"]).items() if u != "D201122500032"]
    assert all(p["actual_validated_destination"] == "" for p in others)
    zoe = by_upn(frames["reconciliation"])["D201122500032"]
    assert (zoe["verdict"], zoe["accept_status"], zoe["accept"]) == (
        "agree",
        "applied",
        "Accept LA destination",
    )
    # The reconciliation figures: 9 pupils, suppressed like every summary.
    summary = frames["_grids"]["Reconciliation summary"]
    assert summary[0][:3] == ["table", "school", "cohort"]
    assert {r[6] for r in summary[1:]} >= {"agree", "disagree", "Total"}
    total = next(r for r in summary[1:] if r[6] == "Total")
    assert total[7] == "9"
    # An idle night writes nothing.
    trust.client.clear_log()
    again = run_sync(trust.ws, trust.config, now=NOW)
    assert not again.written and trust.writes() == 0
    # No personal data in output or logs.
    text = result.output + caplog.text
    for word in NAMES:
        assert word not in text


def test_staff_entry_is_never_overwritten(trust: Trust) -> None:
    assert trust.cli(
        "la", "import", str(FIX / "la_sla_cp1252.csv"), "--school", "Northfield",
    ).exit_code == 0  # fmt: skip
    run_sync(trust.ws, trust.config, now=NOW)
    sheet = trust.ws.sheets().open_by_key(str(trust.config.trust.spreadsheet_id))
    dest = sheet.worksheet("Destinations")
    values = dest.get_all_values()
    col = values[0].index("Actual (validated): destination") + 1
    row = next(i for i, r in enumerate(values) if r[1] == "D201122500032") + 1
    dest.update_cell(row, col, "Further education college")
    staff_accepts(trust, "D201122500032")
    run_sync(trust.ws, trust.config, now=NOW)
    frames = trust.frames()
    pupil = by_upn(frames["destinations"])["D201122500032"]
    assert pupil["actual_validated_destination"] == "Further education college"
    assert pupil["actual_validated_source"] == ""
    zoe = by_upn(frames["reconciliation"])["D201122500032"]
    assert zoe["verdict"] == "disagree"
    assert zoe["accept_status"] == "not applied: the validated entry is already filled"


def test_bad_file_is_rejected_whole_and_writes_nothing(trust: Trust) -> None:
    result = trust.cli(
        "la", "import", str(FIX / "la_bad_code.csv"), "--school", "Northfield",
        "--leaving-year", "2025",
    )  # fmt: skip
    assert result.exit_code == 6
    assert "row 2, Activity Code" in result.output and "row 4, DOB" in result.output
    for word in NAMES:
        assert word not in result.output
    assert trust.writes() == 0


def test_xlsx_import_and_reimport_replaces_the_cohort(trust: Trust) -> None:
    args = ("--school", "Northfield", "--leaving-year", "2025")
    assert trust.cli("la", "import", str(FIX / "la_portal_bom.csv"), *args).exit_code == 0
    assert trust.cli("la", "import", str(FIX / "la_export.xlsx"), *args).exit_code == 0
    la_tab = trust.frames()["la_data"]
    assert list(la_tab["source_file"].unique()) == ["la_export.xlsx"] and len(la_tab) == 3


def test_dfe_import_compares_with_gsync(trust: Trust) -> None:
    result = trust.cli(
        "dfe", "import", str(FIX / "la_dfe_institution.csv"), "--school", "Northfield",
        "--leaving-year", "2025", "--json",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    rows = {r["measure"]: r for r in trust.frames()["dfe_measures"].to_dict("records")}
    assert len(rows) == 12  # a KS4 file has no "he"
    assert rows["fe"]["dfe_percent"] == "33.3"
    # No actual destinations recorded yet: everyone is "activity not captured" for gsync.
    assert rows["all_unknown"]["gsync_percent"] == "100.0" and rows["fe"]["gsync_percent"] == "0.0"
    assert rows["fe"]["flag"].startswith("differs")
    assert rows["appl2"]["dfe_percent"] == "" and rows["appl2"]["difference"] == ""
    # After an accepted LA destination, the sync updates gsync's side.
    trust.cli("la", "import", str(FIX / "la_portal_bom.csv"), "--school", "Northfield",
              "--leaving-year", "2025")  # fmt: skip
    run_sync(trust.ws, trust.config, now=NOW)
    staff_accepts(trust, "D201122500032")
    run_sync(trust.ws, trust.config, now=NOW)
    rows = {r["measure"]: r for r in trust.frames()["dfe_measures"].to_dict("records")}
    assert rows["sfc"]["gsync_count"] == "1" and rows["sfc"]["gsync_percent"] == "11.1"
