"""Survey rounds end to end against the emulator (issue 11): a Y11 cohort's December and April
rounds, applications with several statuses per pupil, a results-day change, and the Risk tab with
every entry's reasons checked against what each pupil did.

The trust (spreadsheet, roster of 8, three round forms made by `gsync form create --round`, the
December and April submissions) is built once per module; each test starts from a copy.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import stat
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
from gsync.sample import Pupil, make_sample
from gsync.sheetio import read_snapshot, tab_frame
from gsync.sync import load_template, run_sync
from gsync.workspace import Workspace, workspace_for_endpoint
from tests.conftest import SAMPLE_CONFIG

DEC = dt.datetime(2025, 12, 10, 10, 0, tzinfo=dt.UTC)
APR = dt.datetime(2026, 4, 15, 10, 0, tzinfo=dt.UTC)
MAY = dt.datetime(2026, 5, 20, 2, 30, tzinfo=dt.UTC)  # both rounds closed; April is current
ROUNDS = ("y11_december", "y11_april", "y11_results")

App = tuple[str, str, str, str]  # provider, course, level, status

# What each pupil (by roster position) answered: destination, level, applications.
DECEMBER: dict[int, tuple[str, str, list[App]]] = {
    0: (
        "College",
        "Level 3",
        [
            ("Town College", "A levels", "Level 3", "Applied"),
            ("City Sixth Form", "BTEC Sport", "Level 3", "Interview"),
        ],
    ),
    1: ("Not decided yet", "", []),
    2: ("Apprenticeship", "Level 2", [("Acme Ltd", "Engineering", "Level 2", "Applied")]),
    3: ("Sixth form", "Level 3", []),
}
APRIL: dict[int, tuple[str, str, list[App], str]] = {
    0: (
        "College",
        "Level 3",
        [
            ("Town College", "A levels", "Level 3", "Offer"),
            ("City Sixth Form", "BTEC Sport", "Level 3", "Rejected"),
            ("New College", "T level Digital", "Level 3", "Applied"),
        ],
        "Yes, you may share it",
    ),
    1: ("Not decided yet", "", [], "No, do not share it"),
    2: (
        "Apprenticeship",
        "Level 2",
        [("Acme Ltd", "Engineering", "Level 2", "Interview")],
        "Yes, you may share it",
    ),
    4: (
        "College",
        "Level 2",
        [("Town College", "Level 2 Construction", "Level 2", "Applied")],
        "Yes, you may share it",
    ),
}


@dataclass
class Trust:
    server: Any
    client: EmulatorClient
    ws: Workspace
    config_path: Path
    pupils: list[Pupil]
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

    def submit(
        self, round_key: str, pupil: Pupil | None, answers: dict[str, str], when: dt.datetime
    ) -> None:
        held = self.config.school("Northfield").rounds[round_key]
        qmap = held.form_questions
        body = {qmap[k]: [v] for k, v in answers.items() if v}
        email = pupil.school_email if pupil else "stranger@example.com"
        self.client.submit_response(
            str(held.form_id), dict(body), respondent_email=email, submitted_at=when
        )


def answers(
    p: Pupil | None, dest: str, level: str, apps: list[App], share: str = ""
) -> dict[str, str]:
    out = {
        "full_name": f"{p.legal_forename} {p.legal_surname}" if p else "Nobody Known",
        "date_of_birth": p.date_of_birth if p else "2010-01-01",
        "leaving_year": "2026",
        "destination": dest,
        "level": level,
        "share_with_la": share,
    }
    for n, (provider, course, app_level, status) in enumerate(apps, start=1):
        out |= {
            f"app{n}_provider": provider,
            f"app{n}_course": course,
            f"app{n}_level": app_level,
            f"app{n}_status": status,
        }
    return out


def build(tmp: Path) -> Trust:
    server = EmulatorServer().start()
    client = EmulatorClient(server.url)
    ws = workspace_for_endpoint(server.url)
    config_path = tmp / "gsync.toml"
    config_path.write_text(SAMPLE_CONFIG, encoding="utf-8")
    sync_mod.init_sheet(ws, load_config(config_path))
    runner = CliRunner()
    for key in ROUNDS:
        result = runner.invoke(
            main,
            [
                "--config",
                str(config_path),
                "form",
                "create",
                "--school",
                "Northfield",
                "--round",
                key,
            ],
            env={"GSYNC_EMULATOR_HOST": server.url},
        )
        assert result.exit_code == 0, result.output
    sample = make_sample(seed=11, pupils=8, responses=0, email_domain="pupils.northfield.sch.uk")
    roster = tmp / "roster.csv"
    roster.write_bytes(sample.roster_csv())
    sync_mod.import_roster(ws, load_config(config_path), roster, "Northfield")
    pupils = list(sample.pupils)
    trust = Trust(server, client, ws, config_path, pupils, {})
    for i, (dest, level, apps) in DECEMBER.items():
        trust.submit("y11_december", pupils[i], answers(pupils[i], dest, level, apps), DEC)
    trust.submit("y11_december", None, answers(None, "College", "Level 2", []), DEC)  # unmatched
    for i, (dest, level, apps, share) in APRIL.items():
        trust.submit("y11_april", pupils[i], answers(pupils[i], dest, level, apps, share), APR)
    # Staff: pupil 3 is on track for Level 2 (they intend a Level 3 sixth form course).
    sheet = ws.sheets().open_by_key(str(load_config(config_path).trust.spreadsheet_id))
    dest_ws = sheet.worksheet("Destinations")
    header = dest_ws.row_values(1)
    upns = dest_ws.col_values(header.index("UPN") + 1)
    dest_ws.update_cell(
        upns.index(pupils[3].upn) + 1, header.index("On track for level") + 1, "Level 2"
    )
    trust.saved = copy.deepcopy(server.store._data)
    return trust


@pytest.fixture(scope="module")
def _trust(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Trust]:
    trust = build(tmp_path_factory.mktemp("rounds"))
    yield trust
    trust.server.stop()


@pytest.fixture
def trust(_trust: Trust) -> Trust:
    _trust.restore()
    return _trust


def test_form_create_round_records_the_round_forms(trust: Trust) -> None:
    school = trust.config.school("Northfield")
    assert school.form_id is None  # Form A untouched
    for key in ROUNDS:
        held = school.rounds[key]
        assert held.form_id
        assert {"full_name", "destination", "app1_status", "app3_provider"} <= set(
            held.form_questions
        )
    assert "share_with_la" in school.rounds["y11_april"].form_questions
    assert "share_with_la" not in school.rounds["y11_december"].form_questions


def test_two_rounds_fill_intentions_and_applications(trust: Trust) -> None:
    report = run_sync(trust.ws, trust.config, now=MAY)
    assert report.written
    frames = trust.frames()
    p = trust.pupils
    intents = frames["intentions"]
    got = {(r["upn"], r["round"]): r for r in intents.to_dict("records")}
    assert len(intents) == len(DECEMBER) + len(APRIL)
    for i, (dest, level, _apps) in DECEMBER.items():
        row = got[(p[i].upn, "y11_december")]
        assert (row["destination"], row["level"], row["submitted"]) == (dest, level, "2025-12-10")
    for i, (dest, _level, _apps, share) in APRIL.items():
        row = got[(p[i].upn, "y11_april")]
        assert row["destination"] == dest
        assert row["share_with_la"] == ("Y" if share.startswith("Yes") else "N")
        assert row["results_change"] == ""  # before results day: no change recorded
    apps = frames["applications"]
    p0 = apps[apps["upn"] == p[0].upn]
    by_round = {
        rnd: list(zip(group["number"], group["provider"], group["status"], strict=True))
        for rnd, group in p0.groupby("round")
    }
    assert by_round["y11_december"] == [
        ("1", "Town College", "applied"),
        ("2", "City Sixth Form", "interview"),
    ]
    assert by_round["y11_april"] == [
        ("1", "Town College", "offer"),
        ("2", "City Sixth Form", "rejected"),
        ("3", "New College", "applied"),
    ]
    assert set(apps["status"]) == {"applied", "interview", "offer", "rejected"}
    assert len(apps) == 2 + 1 + 3 + 1 + 1  # pupil 0 twice, pupil 2 twice, pupil 4 once
    exc = frames["exceptions"]
    unmatched = exc[(exc["kind"] == "unmatched") & (exc["entry"] == "y11_december")]
    assert len(unmatched) == 1
    # The destinations themselves are untouched by the rounds (Form A fills them).
    assert (frames["destinations"]["current_intended_destination"] == "").all()
    # An idle rerun writes nothing.
    again = run_sync(trust.ws, trust.config, now=MAY)
    assert not again.written


def expected_risk(p: list[Pupil]) -> dict[str, str]:
    """Each listed pupil's reason codes, worked out from what they did (module constants)."""
    nothing = "no_intended_destination no_application no_response"
    # Pupils 0, 2 (both rounds, a plan and applications) and 4 (April) are not at risk; pupils 5
    # onwards (the sample adds a few to the 8 asked for) answered nothing.
    want = {x.upn: nothing for x in p[5:] if x.leaving_year == 2026}
    want[p[1].upn] = "no_intended_destination no_application"  # "Not decided yet" twice
    want[p[3].upn] = "no_application level_above_on_track no_response"  # December only; L3 vs L2
    return want


def groups(p: Pupil) -> int:
    return sum((p.send in ("K", "E"), p.disadvantaged == "Y", p.eal == "Y", p.looked_after == "Y"))


def test_risk_tab_lists_every_pupil_with_the_right_reasons_in_order(trust: Trust) -> None:
    run_sync(trust.ws, trust.config, now=MAY)
    risk = trust.frames()["risk"]
    want = expected_risk(trust.pupils)
    got = dict(zip(risk["upn"], risk["reason_codes"], strict=True))
    assert got == want
    assert list(risk["rank"]) == [str(i) for i in range(1, len(want) + 1)]
    by_upn = {x.upn: x for x in trust.pupils}
    keys = [
        (-int(r["score"]), -groups(by_upn[r["upn"]]), r["upn"]) for r in risk.to_dict("records")
    ]
    assert keys == sorted(keys)  # highest score first, then more priority groups, then UPN
    p3 = risk[risk["upn"] == trust.pupils[3].upn].iloc[0]
    assert p3["intended_destination"] == "Sixth form, Level 3"
    assert p3["on_track_level"] == "Level 2"
    assert "intends Level 3 but is on track for Level 2" in p3["reasons"]
    assert (risk["current_round"] == "y11_april").all()


def test_results_day_change_is_recorded_with_its_date(trust: Trust) -> None:
    run_sync(trust.ws, trust.config, now=MAY)
    p = trust.pupils
    # Results day is 20 August (deadlines.toml): pupil 2 switches to college on the 21st and
    # accepts; pupil 0 confirms the same plan; pupil 4 changes on the 19th (before results day).
    trust.submit(
        "y11_results",
        p[2],
        answers(
            p[2], "College", "Level 2", [("Town College", "Motor vehicle", "Level 2", "Accepted")]
        ),
        dt.datetime(2026, 8, 21, 9, 0, tzinfo=dt.UTC),
    )
    trust.submit(
        "y11_results",
        p[0],
        answers(p[0], "College", "Level 3", [("Town College", "A levels", "Level 3", "Accepted")]),
        dt.datetime(2026, 8, 20, 9, 0, tzinfo=dt.UTC),
    )
    trust.submit(
        "y11_results",
        p[4],
        answers(p[4], "Sixth form", "Level 3", [("Town College", "x", "Level 3", "Offer")]),
        dt.datetime(2026, 8, 19, 9, 0, tzinfo=dt.UTC),
    )
    report = run_sync(trust.ws, trust.config, now=dt.datetime(2026, 8, 25, 2, 30, tzinfo=dt.UTC))
    assert report.schools["Northfield"]["round_results_changes"] == 1
    frames = trust.frames()
    rows = {
        r["upn"]: r for r in frames["intentions"].to_dict("records") if r["round"] == "y11_results"
    }
    assert rows[p[2].upn]["results_change"] == "2026-08-21"
    assert rows[p[2].upn]["previous_destination"] == "Apprenticeship, Level 2"
    assert rows[p[0].upn]["results_change"] == ""  # the same plan
    assert rows[p[4].upn]["results_change"] == ""  # changed before results day
    risk = dict(zip(frames["risk"]["upn"], frames["risk"]["reason_codes"], strict=True))
    # The results round is the last: everyone needs an offer now.
    assert p[0].upn not in risk and p[2].upn not in risk and p[4].upn not in risk
    assert risk[p[1].upn] == "no_intended_destination no_application no_offer no_response"


def test_gsync_risk_cli_counts_and_csv(trust: Trust, tmp_path: Path) -> None:
    run_sync(trust.ws, trust.config, now=MAY)
    runner = CliRunner()
    env = {"GSYNC_EMULATOR_HOST": trust.server.url}
    base = ["--config", str(trust.config_path), "risk", "--as-of", "2026-05-20"]
    result = runner.invoke(main, [*base, "--json"], env=env)
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    want = expected_risk(trust.pupils)
    assert data["pupils"] == len(want)
    for code, n in data["by_reason"].items():
        assert n == sum(code in v.split() for v in want.values())
    out = tmp_path / "risk.csv"
    result = runner.invoke(main, [*base, "--output", str(out)], env=env)
    assert result.exit_code == 0, result.output
    for p in trust.pupils:  # no personal details at the terminal
        assert p.legal_surname not in result.output and p.upn not in result.output
    text = out.read_text(encoding="utf-8")
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    assert trust.pupils[3].legal_surname in text and len(text.splitlines()) == len(want) + 1
