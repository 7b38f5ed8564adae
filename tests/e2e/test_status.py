"""`gsync status` against the emulator: a trust of two schools (Y11 leaving 2026, Y13 leaving 2025),
table and JSON, figures checked against the Destinations tab, --fail-on-overdue, and the template
upgrade that adds the Sustained tab (years 1-3 checks).

The trust is built and synced once per module; each test starts from a copy of that state.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import re
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from gsync import sync as sync_mod
from gsync.cli import main
from gsync.config import Config, load_config
from gsync.deadlines import due_date, load_rules
from gsync.demo import submit_sample
from gsync.emulator.server import EmulatorServer
from gsync.emulator.testing import EmulatorClient
from gsync.errors import ConfigError
from gsync.formsync import create_form
from gsync.paths import templates_dir
from gsync.sample import Sample, make_sample
from gsync.sheetio import read_snapshot, tab_frame
from gsync.sync import load_template, run_sync
from gsync.workspace import Workspace, workspace_for_endpoint
from tests.conftest import SAMPLE_CONFIG
from tests.e2e._copies import restored

NOW = dt.datetime(2026, 7, 10, 2, 30, tzinfo=dt.UTC)
AS_OF = NOW.date()
# School -> (phase, leaving year, pupils, responses, seed).
COHORTS = {
    "Northfield": ("Y11", 2026, 20, 16, 11),
    "Southgate": ("Y13", 2025, 14, 10, 12),
}


@dataclass
class Trust:
    server: Any
    client: EmulatorClient
    ws: Workspace
    config_path: Path
    samples: dict[str, Sample]
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
        return {t.key: tab_frame(snap, t).frame for t in template.tabs if t.key != "state"}

    def cli(self, *args: str) -> Result:
        return CliRunner().invoke(main, ["--config", str(self.config_path), *args])


#: The session's first build: the files it left in its folder, its samples and the emulator's
#: store. test_status, test_contacts, test_export_xlsx and test_report all start from this trust.
_FIRST_BUILD: list[tuple[dict[str, bytes], dict[str, Sample], dict[str, Any]]] = []


def build_two_school_trust(tmp: Path) -> Trust:
    """Sheet, both forms, both rosters, every sample response, one sync at NOW: built once per
    session, then copied (its files into `tmp`, its store into a new emulator) for the next
    module instead of being built and synced again."""
    if _FIRST_BUILD:
        files, built, saved = _FIRST_BUILD[0]
        server, client, ws = restored(tmp, files, saved)
        return Trust(server, client, ws, tmp / "gsync.toml", dict(built), copy.deepcopy(saved))
    server = EmulatorServer().start()
    client = EmulatorClient(server.url)
    ws = workspace_for_endpoint(server.url)
    config_path = tmp / "gsync.toml"
    config_path.write_text(SAMPLE_CONFIG, encoding="utf-8")
    sync_mod.init_sheet(ws, load_config(config_path))
    samples: dict[str, Sample] = {}
    for name, (phase, year, pupils, responses, seed) in COHORTS.items():
        create_form(ws, load_config(config_path), name)
        school = load_config(config_path).school(name)
        sample = make_sample(
            seed=seed,
            pupils=pupils,
            responses=responses,
            school=name,
            phase=phase,
            leaving_year=year,
            email_domain=str(school.email_domain),
        )
        roster = tmp / f"roster-{name}.csv"
        roster.write_bytes(sample.roster_csv())
        sync_mod.import_roster(ws, load_config(config_path), roster, name)
        submit_sample(client, str(school.form_id), dict(school.form_questions), sample)
        samples[name] = sample
    run_sync(ws, load_config(config_path), now=NOW)
    trust = Trust(server, client, ws, config_path, samples, copy.deepcopy(server.store._data))
    files = {str(p.relative_to(tmp)): p.read_bytes() for p in tmp.rglob("*") if p.is_file()}
    _FIRST_BUILD.append((files, dict(samples), copy.deepcopy(trust.saved)))
    return trust


@pytest.fixture(scope="module")
def _trust(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Trust]:
    trust = build_two_school_trust(tmp_path_factory.mktemp("status"))
    yield trust
    trust.server.stop()


@pytest.fixture
def trust(_trust: Trust, monkeypatch: pytest.MonkeyPatch) -> Trust:
    _trust.restore()
    monkeypatch.setenv("GSYNC_EMULATOR_HOST", _trust.server.url.removeprefix("http://"))
    return _trust


def expected_counts(dest: Any, school: str, year: int, entry: str) -> tuple[int, int]:
    """(complete, total) counted straight from the Destinations tab, independently of the core."""
    rows = dest[(dest["school"] == school) & (dest["leaving_year"] == str(year))]
    done = 0
    for r in rows.to_dict("records"):
        filled = (
            r[f"{entry}_destination"] != "" and r[f"{entry}_recorded"][:10] <= AS_OF.isoformat()
        )
        if entry == "actual_validated":
            filled = filled and r[f"{entry}_validated"] == "Y"
        done += int(filled)
    return done, len(rows)


def test_status_json_figures_for_two_schools(trust: Trust) -> None:
    result = trust.cli("status", "--json", "--as-of", AS_OF.isoformat())
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["as_of"] == "2026-07-10"
    entries = data["entries"]
    cohorts = {(e["school"], e["leaving_year"], e["phase"]) for e in entries}
    assert cohorts == {("Northfield", 2026, "Y11"), ("Southgate", 2025, "Y13")}
    dest = trust.frames()["destinations"]
    rules = load_rules()
    config = trust.config
    by_key = {(e["school"], e["entry"]): e for e in entries}
    for school, (_phase, year, _pupils, _r, _s) in COHORTS.items():
        for entry in ("current_intended", "intended", "actual_unvalidated", "actual_validated"):
            row = by_key[(school, entry)]
            complete, total = expected_counts(dest, school, year, entry)
            assert (row["complete"], row["total"]) == (complete, total), (school, entry)
            assert total == len(trust.samples[school].pupils)
            assert row["percent"] == round(100 * complete / total, 1)
            due, _w = due_date(rules.rule(entry), year, config.term_dates)
            assert row["due"] == due.isoformat()
            assert row["days_left"] == (due - AS_OF).days
    # Northfield's current leavers answered Form A this summer; due 31 July, 21 days away.
    ni = by_key[("Northfield", "current_intended")]
    assert 0 < ni["complete"] < ni["total"]
    assert (ni["days_left"], ni["state"]) == (21, "upcoming")
    # Southgate left in 2025: its validated actual destination was due 31 March 2026 and nobody
    # validated anything, so overdue.
    assert by_key[("Southgate", "actual_validated")]["state"] == "overdue"
    assert by_key[("Southgate", "actual_validated")]["days_left"] == -101
    # Year 1's summer check is due at the end of the 2025-26 summer term (2026-07-21).
    y1 = by_key[("Southgate", "y1_summer")]
    assert (y1["due"], y1["state"], y1["complete"]) == ("2026-07-21", "due_soon", 0)
    assert data["overdue"] == sum(e["state"] == "overdue" for e in entries) > 0
    # Counts only: no UPN, name or email anywhere.
    text = result.stdout
    for sample in trust.samples.values():
        for pupil in sample.pupils[:10]:
            assert pupil.upn not in text and pupil.legal_surname not in text
    assert "@" not in text


def test_status_table_and_school_filter(trust: Trust) -> None:
    data = json.loads(trust.cli("status", "--json", "--as-of", "2026-07-10").stdout)
    table = trust.cli("status", "--as-of", "2026-07-10", "--school", "southgate")
    assert table.exit_code == 0, table.output
    out = table.stdout
    assert "Northfield" not in out and "Southgate" in out
    for e in data["entries"]:
        if e["school"] != "Southgate":
            continue
        line = next(ln for ln in out.splitlines() if e["label"] in ln)
        assert f"{e['complete']}/{e['total']}" in line
        assert e["state"] in line and e["due"] in line
    overdue = sum(
        1 for e in data["entries"] if e["school"] == "Southgate" and e["state"] == "overdue"
    )
    assert re.search(rf"\b{overdue} overdue entr", out)
    bad = trust.cli("status", "--school", "Nowhere")
    assert bad.exit_code == 2


def test_fail_on_overdue_exit_code(trust: Trust) -> None:
    late = trust.cli("status", "--fail-on-overdue", "--as-of", "2026-07-10", "--json")
    assert late.exit_code == 7
    assert json.loads(late.stdout)["overdue"] > 0
    assert "overdue" in late.stderr
    # Before Northfield's first deadline (and with no past cohort of its own), nothing is overdue.
    early = trust.cli(
        "status", "--fail-on-overdue", "--school", "Northfield", "--as-of", "2025-10-01"
    )
    assert early.exit_code == 0, early.output


def test_term_date_warning_once_on_stderr(trust: Trust) -> None:
    # 2027-28 has no term dates in the configuration: the default estimate, warned about once.
    far = trust.cli("status", "--json", "--as-of", "2028-06-01")
    assert far.exit_code == 0, far.output
    warnings = [ln for ln in far.stderr.splitlines() if "no term dates for 2027-28" in ln]
    assert len(warnings) == 1
    json.loads(far.stdout)  # stdout stays clean JSON


def _v1_template(path: Path) -> Path:
    """The shipped template as it was before the Sustained tab (version 1)."""
    text = (templates_dir() / "ceiag.toml").read_text(encoding="utf-8")
    start = text.index("# Sustained-destination checks of years 1-3")
    start = text.rindex("# ----", 0, start)
    end = text.index("# What needs a person")
    end = text.rindex("# ----", 0, end)
    old = text[:start] + text[end:]
    old = re.sub(r"(?m)^version = \d+$", "version = 1", old)
    assert "sustained" not in tomllib.loads(old)["tabs"][3]["key"]
    out = path / "ceiag-v1.toml"
    out.write_text(old, encoding="utf-8")
    return out


def test_template_upgrade_adds_sustained_tab_and_status_reads_it(
    workspace: Any, config_file: Path, cli: Any, tmp_path: Path
) -> None:
    v1 = _v1_template(tmp_path)
    specs = f'\n[specs]\ntemplate = "{v1}"\n'
    config_file.write_text(config_file.read_text(encoding="utf-8") + specs, encoding="utf-8")
    assert cli("sheet", "init").exit_code == 0
    sample = make_sample(
        seed=5, pupils=6, responses=0, school="Southgate", phase="Y13", leaving_year=2025,
        email_domain="pupils.southgate.sch.uk",
    )  # fmt: skip
    roster = tmp_path / "roster.csv"
    roster.write_bytes(sample.roster_csv())
    assert cli("roster", "import", str(roster), "--school", "Southgate").exit_code == 0
    # Now the shipped template, version 2 (`sheet init` recorded the spreadsheet id meanwhile).
    text = config_file.read_text(encoding="utf-8")
    assert specs in text
    config_file.write_text(text.replace(specs, "\n"), encoding="utf-8")
    config = load_config(config_file)
    with pytest.raises(ConfigError, match="version 1"):
        run_sync(workspace, config, now=NOW)
    # Read-only status still works on the old sheet, and says what to run.
    old = cli("status", "--json", "--as-of", "2026-07-10")
    assert old.exit_code == 0 and "sheet init" in old.stderr
    up = cli("sheet", "init", "--json")
    assert up.exit_code == 0, up.output
    info = json.loads(up.stdout)
    assert "Sustained" in info["tabs_added"] and info["previous_version"] == "1"
    assert info["template_version"] == load_template(load_config(config_file)).version
    report = run_sync(workspace, config, now=NOW)  # the sync accepts the upgraded sheet
    assert set(report.skipped) == {"Northfield", "Southgate"}  # (no forms in this trust)
    # Staff record a year-1 summer check by phone for one pupil.
    sid = str(config.trust.spreadsheet_id)
    tab = workspace.sheets().open_by_key(sid).worksheet("Sustained")
    header = tab.row_values(1)
    values = {
        "School": "Southgate",
        "UPN": sample.pupils[0].upn,
        "Leaving year": "2025",
        "Check": "y1_summer",
        "Destination": "Employment with training",
        "Source": "staff",
        "Recorded": "2026-07-01",
    }
    tab.append_row([values.get(h, "") for h in header], value_input_option="RAW")
    data = json.loads(cli("status", "--json", "--as-of", "2026-07-10").stdout)
    y1 = next(e for e in data["entries"] if e["entry"] == "y1_summer")
    assert (y1["complete"], y1["total"], y1["state"]) == (1, len(sample.pupils), "due_soon")
    y2 = next(e for e in data["entries"] if e["entry"] == "y2_autumn")
    assert (y2["complete"], y2["state"]) == (0, "upcoming")
    # On the due date the check is still open; the day after, overdue.
    after = json.loads(cli("status", "--json", "--as-of", "2026-07-22").stdout)
    assert next(e for e in after["entries"] if e["entry"] == "y1_summer")["state"] == "overdue"
