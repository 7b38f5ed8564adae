"""Three attempts, then unknown, end to end against the emulator; `gsync contacts due` output.

Reuses the two-school trust of test_status (built and synced once per module, restored per test).
Staff log attempts in the Contacts tab with gspread, as they would in Sheets.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from gsync.sync import run_sync
from tests.e2e.test_status import NOW, Trust, build_two_school_trust


@pytest.fixture(scope="module")
def _trust(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Trust]:
    trust = build_two_school_trust(tmp_path_factory.mktemp("contacts"))
    yield trust
    trust.server.stop()


@pytest.fixture
def trust(_trust: Trust, monkeypatch: pytest.MonkeyPatch) -> Trust:
    _trust.restore()
    monkeypatch.setenv("GSYNC_EMULATOR_HOST", _trust.server.url.removeprefix("http://"))
    return _trust


def log_attempt(trust: Trust, upn: str, day: str, channel: str, outcome: str) -> None:
    sid = str(trust.config.trust.spreadsheet_id)
    tab = trust.ws.sheets().open_by_key(sid).worksheet("Contacts")
    header = tab.row_values(1)
    values = {
        "Contact id": f"c-{upn}-{day}",
        "School": "Northfield",
        "UPN": upn,
        "Leaving year": "2026",
        "Date": day,
        "Channel": channel,
        "Outcome": outcome,
        "By": "SC",
    }
    tab.append_row([values.get(h, "") for h in header], value_input_option="RAW")


def silent_pupil(trust: Trust) -> str:
    """A Northfield pupil who has not answered Form A (no current intended destination)."""
    dest = trust.frames()["destinations"]
    rows = dest[(dest["school"] == "Northfield") & (dest["current_intended_destination"] == "")]
    assert len(rows) >= 2
    return str(rows["upn"].iloc[0])


def entry_of(trust: Trust, upn: str) -> dict[str, str]:
    dest = trust.frames()["destinations"]
    row = dest[dest["upn"] == upn].iloc[0]
    return {f: str(row[f"current_intended_{f}"]) for f in ("destination", "source", "recorded")}


def test_two_attempts_open_third_unknown_then_a_response_replaces_it(trust: Trust) -> None:
    upn = silent_pupil(trust)
    log_attempt(trust, upn, "2026-06-01", "email", "no reply")
    log_attempt(trust, upn, "2026-06-15", "phone", "no answer")
    log_attempt(trust, upn, "2026-06-20", "phone", "reached")  # a success never counts
    run_sync(trust.ws, trust.config, now=NOW)
    assert entry_of(trust, upn)["destination"] == ""  # two attempts: still open
    log_attempt(trust, upn, "2026-07-01", "letter", "letter returned")
    run_sync(trust.ws, trust.config, now=NOW)
    assert entry_of(trust, upn) == {
        "destination": "Unknown",
        "source": "unknown (3 attempts)",
        "recorded": "2026-07-10",
    }
    # A repeat run changes nothing (the placeholder keeps its date).
    trust.client.clear_log()
    assert not run_sync(trust.ws, trust.config, now=NOW + dt.timedelta(days=1)).written
    # The pupil answers Form A later: the response replaces the placeholder, no conflict.
    school = trust.config.school("Northfield")
    qmap = dict(school.form_questions)
    pupil = next(p for p in trust.samples["Northfield"].pupils if p.upn == upn)
    trust.client.submit_response(
        str(school.form_id),
        {
            qmap["full_name"]: [f"{pupil.legal_forename} {pupil.legal_surname}"],
            qmap["date_of_birth"]: [pupil.date_of_birth],
            qmap["leaving_year"]: ["2026"],
            qmap["destination"]: ["Apprenticeship"],
            qmap["consent"]: ["Yes, I agree"],
        },
        respondent_email=pupil.school_email,
        submitted_at=dt.datetime(2026, 7, 11, 9, 0, tzinfo=dt.UTC),
    )
    report = run_sync(trust.ws, trust.config, now=dt.datetime(2026, 7, 12, 2, 30, tzinfo=dt.UTC))
    assert report.totals.get("conflicts", 0) == 0
    assert entry_of(trust, upn) == {
        "destination": "Apprenticeship",
        "source": "form",
        "recorded": "2026-07-11",
    }


def test_contacts_due_csv_json_and_table(trust: Trust, tmp_path: Path) -> None:
    upn = silent_pupil(trust)
    log_attempt(trust, upn, "2026-06-01", "email", "no reply")
    log_attempt(trust, upn, "2026-06-15", "phone", "wrong number")
    dest = trust.frames()["destinations"]
    missing = dest[(dest["school"] == "Northfield") & (dest["current_intended_destination"] == "")]
    no_contact = set(missing[missing["do_not_contact"] == "Y"]["upn"])
    expected = set(missing["upn"]) - no_contact
    pupil = next(p for p in trust.samples["Northfield"].pupils if p.upn == upn)

    out = tmp_path / "due.csv"
    made = trust.cli("contacts", "due", "--school", "Northfield", "--as-of", "2026-07-10",
                     "--format", "csv", "--out", str(out))  # fmt: skip
    assert made.exit_code == 0, made.output
    assert stat.S_IMODE(os.stat(out).st_mode) == 0o600
    assert pupil.legal_surname not in made.output  # only the file holds names
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"))))
    assert {r["upn"] for r in rows} == expected
    mine = next(r for r in rows if r["upn"] == upn)
    assert (mine["entry"], mine["due"], mine["attempts"]) == ("current_intended", "2026-07-31", "2")
    assert mine["channels"] == "email, phone" and mine["last_attempt"] == "2026-06-15"
    assert mine["legal_surname"] == pupil.legal_surname
    assert all(r["attempts"] == "0" for r in rows if r["upn"] != upn)

    as_json = trust.cli("contacts", "due", "--as-of", "2026-07-10", "--json")
    assert as_json.exit_code == 0, as_json.output
    pupils = json.loads(as_json.stdout)["pupils"]
    # Both schools: Southgate's 2025 leavers are due their year-1 summer check.
    south = {p["upn"] for p in pupils if p["school"] == "Southgate"}
    assert south and {p["entry"] for p in pupils if p["school"] == "Southgate"} == {"y1_summer"}
    assert {p["upn"] for p in pupils if p["school"] == "Northfield"} == expected

    table = trust.cli("contacts", "due", "--as-of", "2026-07-10")
    assert table.exit_code == 0, table.output
    assert upn in table.stdout and "--format csv" in table.stdout
    line = next(ln for ln in table.stdout.splitlines() if upn in ln)
    assert "email, phone" in line and "2026-06-15" in line
    # No personal data in the default output: no names, emails or phones of anyone listed.
    everyone = {p.upn: p for s in trust.samples.values() for p in s.pupils}
    for listed in expected | south:
        p = everyone[listed]
        for secret in (p.legal_forename, p.legal_surname, p.date_of_birth):
            assert secret not in table.stdout
    assert "@" not in table.stdout and "+44" not in table.stdout
