"""The nightly sync end to end against the emulator, with the real gspread and discovery clients.

A trust spreadsheet, Form A and a roster of ~200 pupils with ~250 responses (duplicates, edits,
unmatched and ambiguous pupils, bad phones and emails, no consent, formula payloads) are built once
per module; each test starts from a copy of that state.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from gsync import sync as sync_mod
from gsync.cli import main
from gsync.config import Config, load_config
from gsync.demo import submit_sample
from gsync.emulator.server import EmulatorServer
from gsync.emulator.testing import EmulatorClient
from gsync.errors import LockedError
from gsync.formsync import create_form
from gsync.sample import FORMULA_PAYLOADS, Sample, make_sample
from gsync.sheetio import read_snapshot, tab_frame
from gsync.sync import load_template, run_sync
from gsync.workspace import Workspace, workspace_for_endpoint
from tests.conftest import SAMPLE_CONFIG
from tests.e2e._copies import restored

NOW = dt.datetime(2026, 7, 10, 2, 30, tzinfo=dt.UTC)


@dataclass
class Trust:
    server: Any
    client: EmulatorClient
    ws: Workspace
    config_path: Path
    sample: Sample
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
        return {t.key: tab_frame(snap, t).frame for t in template.tabs if t.key != "gsync_state"}


#: Each trust built this session, by (pupils, responses, seed): the files it left in its folder,
#: its sample and the emulator's store (test_sync and test_write_size start from the same one).
_BUILT: dict[tuple[int, int, int], tuple[dict[str, bytes], Sample, dict[str, Any]]] = {}


def build_trust(tmp: Path, pupils: int, responses: int, seed: int = 7) -> Trust:
    """Sheet, Form A, roster and responses for Northfield: built once per session for each
    size and seed, then copied (its files into `tmp`, its store into a new emulator)."""
    if (pupils, responses, seed) in _BUILT:
        files, built, saved = _BUILT[pupils, responses, seed]
        server, client, ws = restored(tmp, files, saved)
        return Trust(server, client, ws, tmp / "gsync.toml", built, copy.deepcopy(saved))
    server = EmulatorServer().start()
    client = EmulatorClient(server.url)
    ws = workspace_for_endpoint(server.url)
    config_path = tmp / "gsync.toml"
    config_path.write_text(SAMPLE_CONFIG, encoding="utf-8")
    sync_mod.init_sheet(ws, load_config(config_path))
    create_form(ws, load_config(config_path), "Northfield")
    sample = make_sample(
        seed=seed, pupils=pupils, responses=responses, email_domain="pupils.northfield.sch.uk"
    )
    roster = tmp / "roster.csv"
    roster.write_bytes(sample.roster_csv())
    sync_mod.import_roster(ws, load_config(config_path), roster, "Northfield")
    school = load_config(config_path).school("Northfield")
    submit_sample(client, str(school.form_id), dict(school.form_questions), sample)
    saved = copy.deepcopy(server.store._data)
    files = {str(p.relative_to(tmp)): p.read_bytes() for p in tmp.rglob("*") if p.is_file()}
    _BUILT[pupils, responses, seed] = (files, sample, copy.deepcopy(saved))
    return Trust(server, client, ws, config_path, sample, saved)


@pytest.fixture(scope="module")
def _trust(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Trust]:
    trust = build_trust(tmp_path_factory.mktemp("trust"), pupils=200, responses=250)
    yield trust
    trust.server.stop()


@pytest.fixture
def trust(_trust: Trust) -> Trust:
    _trust.restore()
    return _trust


def count(trust: Trust, method: str) -> int:
    return sum(1 for e in trust.client.log() if e["method"] == method)


def test_first_sync_logs_every_response_and_fills_destinations(trust: Trust) -> None:
    report = run_sync(trust.ws, trust.config, now=NOW)
    assert report.written
    frames = trust.frames()
    responses = trust.client.count(method="forms.forms.responses.list")
    assert responses == 1
    listed = trust.ws.execute(
        trust.ws.forms().forms().responses().list(formId=trust.config.school("Northfield").form_id)
    )["responses"]
    log = frames["responses"]
    # Every response is logged exactly once (the latest submission of each).
    assert sorted(log["response_id"]) == sorted(r["responseId"] for r in listed)
    dest = frames["destinations"]
    assert len(dest) == len(trust.sample.pupils)  # no row duplicated, none lost
    assert dest["upn"].is_unique
    filled = dest[dest["current_intended_destination"] != ""]
    assert len(filled) > 150
    exceptions = frames["exceptions"]
    kinds = set(exceptions["kind"])
    assert {"unmatched", "ambiguous", "invalid"} <= kinds
    assert exceptions["exception_id"].is_unique
    assert (exceptions["status"] == "open").all()


def test_formula_payloads_stay_text(trust: Trust) -> None:
    run_sync(trust.ws, trust.config, now=NOW)
    sid = trust.config.trust.spreadsheet_id
    body = trust.ws.sheets().http_client.fetch_sheet_metadata(
        sid,
        params={
            "includeGridData": "true",
            "fields": "sheets(properties.title,data.rowData.values.userEnteredValue)",
        },
    )
    seen: set[str] = set()
    for sheet in body["sheets"]:
        for block in sheet.get("data", []):
            for row in block.get("rowData", []):
                for value in row.get("values", []):
                    entered = value.get("userEnteredValue", {})
                    assert "formulaValue" not in entered, (sheet["properties"]["title"], entered)
                    text = entered.get("stringValue", "")
                    if text in FORMULA_PAYLOADS:
                        seen.add(text)
    assert seen == set(FORMULA_PAYLOADS)


def test_second_run_with_nothing_new_writes_nothing(trust: Trust) -> None:
    run_sync(trust.ws, trust.config, now=NOW)
    trust.client.clear_log()
    report = run_sync(trust.ws, trust.config, now=NOW)
    assert not report.written
    assert count(trust, "sheets.spreadsheets.batchUpdate") == 0
    methods = sorted(e["method"] for e in trust.client.log())
    assert methods == ["forms.forms.get", "forms.forms.responses.list", "sheets.spreadsheets.get"]


def test_staff_edits_survive_and_conflicts_are_flagged(trust: Trust) -> None:
    run_sync(trust.ws, trust.config, now=NOW)
    frames = trust.frames()
    dest = frames["destinations"]
    row = int(dest.index[dest["current_intended_destination"] != ""][0])
    upn = dest.at[row, "upn"]
    sid = str(trust.config.trust.spreadsheet_id)
    sheet = trust.ws.sheets().open_by_key(sid).worksheet("Destinations")
    header = sheet.row_values(1)
    notes_col = header.index("Notes") + 1
    provider_header = next(
        h for h in header if h.lower().startswith("current intended") and "provider" in h.lower()
    )
    provider_col = header.index(provider_header) + 1
    sheet.update_cell(row + 2, notes_col, "Phoned mum 3/7")
    sheet.update_cell(row + 2, provider_col, "Staff-corrected College")
    # The pupil submits again, naming a different provider.
    school = trust.config.school("Northfield")
    qmap = dict(school.form_questions)
    pupil = next(p for p in trust.sample.pupils if p.upn == upn)
    answers = {
        qmap["full_name"]: f"{pupil.legal_forename} {pupil.legal_surname}",
        qmap["date_of_birth"]: pupil.date_of_birth,
        qmap["leaving_year"]: str(pupil.leaving_year),
        qmap["destination"]: "College",
        qmap["provider"]: "A New Provider",
        qmap["consent"]: "Yes, I agree",
    }
    trust.client.submit_response(
        str(school.form_id),
        answers,
        respondent_email=pupil.school_email,
        submitted_at=NOW - dt.timedelta(days=1),
    )
    report = run_sync(trust.ws, trust.config, now=NOW)
    assert report.totals.get("conflicts", 0) >= 1
    frames = trust.frames()
    dest = frames["destinations"]
    again = dest[dest["upn"] == upn].iloc[0]
    assert again["notes"] == "Phoned mum 3/7"
    assert again["current_intended_provider"] == "Staff-corrected College"
    conflicts = frames["exceptions"]
    assert ((conflicts["kind"] == "conflict") & (conflicts["upn"] == upn)).any()


def test_run_killed_between_read_and_write_changes_nothing(
    trust: Trust, monkeypatch: pytest.MonkeyPatch
) -> None:
    sid = str(trust.config.trust.spreadsheet_id)
    before = read_snapshot(trust.ws, sid).grids

    def killed(*_a: Any, **_k: Any) -> None:
        raise KeyboardInterrupt  # the process dies after computing, before writing

    monkeypatch.setattr(sync_mod, "apply_plan", killed)
    with pytest.raises(KeyboardInterrupt):
        run_sync(trust.ws, trust.config, now=NOW)
    assert read_snapshot(trust.ws, sid).grids == before
    monkeypatch.undo()
    report = run_sync(trust.ws, trust.config, now=NOW)
    assert report.written and report.totals["new"] > 200


def test_two_runs_at_once_one_writes_the_other_exits(
    trust: Trust, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Run A reads; run B reads and writes; A's guarded write is refused whole (exit code 5)."""
    real_read = sync_mod.read_snapshot
    started = threading.Event()
    outcome: dict[str, Any] = {}

    def read_then_let_b_run(ws: Workspace, sid: str) -> Any:
        snap = real_read(ws, sid)
        if not started.is_set():
            started.set()
            monkeypatch.setattr(sync_mod, "read_snapshot", real_read)
            outcome["b"] = run_sync(trust.ws, trust.config, now=NOW)  # B completes meanwhile
        return snap

    monkeypatch.setattr(sync_mod, "read_snapshot", read_then_let_b_run)
    with pytest.raises(LockedError) as exc:
        run_sync(trust.ws, trust.config, now=NOW)
    assert exc.value.exit_code == 5
    assert outcome["b"].written
    frames = trust.frames()
    assert frames["responses"]["response_id"].is_unique
    assert frames["destinations"]["upn"].is_unique
    # A third run finds nothing left to do.
    assert not run_sync(trust.ws, trust.config, now=NOW).written


def test_cli_sync_json_dry_run_and_exit_codes(
    trust: Trust, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GSYNC_EMULATOR_HOST", trust.server.url.removeprefix("http://"))
    runner = CliRunner()
    dry = runner.invoke(
        main,
        [
            "--config",
            str(trust.config_path),
            "sync",
            "--dry-run",
            "--json",
            "--as-of",
            "2026-07-10",
        ],
    )
    assert dry.exit_code == 0, dry.output
    data = json.loads(dry.output)
    assert data["dry_run"] and not data["written"] and data["changes"]
    assert count(trust, "sheets.spreadsheets.batchUpdate") == 0
    real = runner.invoke(
        main, ["--config", str(trust.config_path), "sync", "--json", "--as-of", "2026-07-10"]
    )
    assert real.exit_code == 0, real.output
    counts = json.loads(real.output)["totals"]
    assert counts["new"] > 200 and counts["exceptions"] > 0
    human = runner.invoke(
        main, ["--config", str(trust.config_path), "sync", "--as-of", "2026-07-10"]
    )
    assert human.exit_code == 0 and "nothing written" in human.output
    # Not on a terminal (cron): one progress summary line on stderr, no bar.
    assert re.search(r"Syncing: 1/2 schools in \d+\.\d s", human.stderr)
    bad = runner.invoke(main, ["--config", str(trust.config_path), "sync", "--school", "Nowhere"])
    assert bad.exit_code == 2 and "Northfield" in bad.output


def test_requests_do_not_grow_with_pupils(trust: Trust, tmp_path: Path) -> None:
    """The first night of a 30-pupil trust and of the module's 200-pupil one (restored, not built
    again): the same requests."""
    small = build_trust(tmp_path, pupils=30, responses=40, seed=3)
    counts = []
    try:
        assert len(trust.sample.pupils) > 5 * len(small.sample.pupils)
        for each in (small, trust):
            each.client.clear_log()
            run_sync(each.ws, each.config, now=NOW)
            counts.append(sorted(e["method"] for e in each.client.log()))
    finally:
        small.server.stop()
    assert counts[0] == counts[1]
    assert counts[0] == [
        "forms.forms.get",
        "forms.forms.responses.list",
        "sheets.spreadsheets.batchUpdate",
        "sheets.spreadsheets.get",
    ]


def test_deadlines_tab_is_written_with_highlighting(trust: Trust) -> None:
    run_sync(trust.ws, trust.config, now=NOW)
    sid = str(trust.config.trust.spreadsheet_id)
    snap = read_snapshot(trust.ws, sid)
    header = snap.grid("Deadlines")[0]
    assert "state" in header and "due" in header and "days_left" not in header
    body = trust.ws.sheets().http_client.fetch_sheet_metadata(
        sid, params={"fields": "sheets(properties.title,conditionalFormats)"}
    )
    deadlines = next(s for s in body["sheets"] if s["properties"]["title"] == "Deadlines")
    rules = deadlines.get("conditionalFormats", [])
    texts = {r["booleanRule"]["condition"]["values"][0]["userEnteredValue"] for r in rules}
    assert {"overdue", "complete"} <= texts


def test_a_steady_night_merges_from_the_memo_the_last_write_left(
    trust: Trust, caplog: pytest.LogCaptureFixture
) -> None:
    from gsync import mergememo

    run_sync(trust.ws, trust.config, now=NOW)
    sid = str(trust.config.trust.spreadsheet_id)
    memo = mergememo.loads(mergememo.from_state(read_snapshot(trust.ws, sid).state)["Northfield"])
    assert memo is not None and memo.fingerprint
    school = trust.config.school("Northfield")
    qmap = dict(school.form_questions)
    pupil = trust.sample.pupils[0]
    trust.client.submit_response(
        str(school.form_id),
        {
            qmap["full_name"]: f"{pupil.legal_forename} {pupil.legal_surname}",
            qmap["date_of_birth"]: pupil.date_of_birth,
            qmap["leaving_year"]: str(pupil.leaving_year),
            qmap["destination"]: "College",
            qmap["consent"]: "No, I do not agree",
        },
        respondent_email=pupil.school_email,
        submitted_at=NOW - dt.timedelta(hours=1),
    )
    with caplog.at_level("INFO", logger="gsync.sync"):
        report = run_sync(trust.ws, trust.config, now=NOW + dt.timedelta(days=1))
    assert report.written and report.totals["new"] == 1
    assert "merged 1 of 1 schools from their memos" in caplog.text
    # The memo the night left vouches for the rows it wrote.
    after = mergememo.loads(mergememo.from_state(read_snapshot(trust.ws, sid).state)["Northfield"])
    assert after is not None and after.fingerprint != memo.fingerprint
