"""Retention and pupils' rights against the emulator: `gsync purge`, `subject export`, `subject erase`.

The trust is synced once; each test starts from a copy. The anonymised Summary tabs must not
change because of a purge, purged data must not come back with the next sync, and each action is
logged (counts only) in the hidden privacy tab.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from gsync.cli import main
from gsync.emulator.server import EmulatorServer
from gsync.errors import NotFoundError
from gsync.privacy import (
    ERASED_SUFFIX,
    PRIVACY_TAB,
    erase_subject,
    purge,
    subject_data,
    tracking_end,
)
from gsync.responses import CONSENT_NO
from gsync.sheetio import read_snapshot
from gsync.sync import run_sync
from tests.reliability.helpers import (
    PERSONAL_EMAIL,
    PHONE_E164,
    SURNAME,
    SmallTrust,
    answers,
    frames,
    secrets,
    seed_trust,
)

NOW = dt.datetime(2026, 7, 10, 12, 0, tzinfo=dt.UTC)
AFTER_TRACKING = dt.date(2029, 9, 1)


class Lab:
    def __init__(self, tmp: Path) -> None:
        self.server = EmulatorServer().start()
        self.trust: SmallTrust = seed_trust(self.server.url, tmp, pupils=24, responses=30)
        run_sync(self.trust.ws, self.trust.config, now=NOW)
        self.s0 = copy.deepcopy(self.server.store._data)  # type: ignore[attr-defined]

    def restore(self) -> None:
        with self.server.store._lock:  # type: ignore[attr-defined]
            self.server.store._data.clear()  # type: ignore[attr-defined]
            self.server.store._data.update(copy.deepcopy(self.s0))  # type: ignore[attr-defined]
        self.server.controls.reset()

    def tabs(self) -> dict[str, Any]:
        return frames(self.trust.ws, self.trust.config)

    def grids(self, prefix: str) -> dict[str, list[list[str]]]:
        snap = read_snapshot(self.trust.ws, str(self.trust.config.trust.spreadsheet_id))
        return {t: g for t, g in snap.grids.items() if t.startswith(prefix)}


@pytest.fixture(scope="module")
def _lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    lab = Lab(tmp_path_factory.mktemp("privacy"))
    yield lab
    lab.server.stop()


@pytest.fixture
def lab(_lab: Lab) -> Lab:
    _lab.restore()
    return _lab


def special_row(lab: Lab) -> Any:
    dest = lab.tabs()["destinations"]
    return dest[dest["upn"] == lab.trust.special.upn].iloc[0]


def test_tracking_period_is_three_years_after_leaving() -> None:
    assert tracking_end(2026) == dt.date(2029, 8, 31)
    assert tracking_end(2026, years=5) == dt.date(2031, 8, 31)


def test_purge_within_tracking_period_changes_nothing(lab: Lab) -> None:
    before = lab.tabs()
    report = purge(lab.trust.ws, lab.trust.config, as_of=dt.date(2029, 8, 31), now=NOW)
    assert report.reasons.get("tracking_period_over", 0) == 0
    assert lab.tabs()["destinations"].equals(before["destinations"])
    assert special_row(lab)["legal_surname"] == SURNAME
    assert lab.tabs()["responses"]["full_name"].str.contains("Plimquorth").any()


def test_purge_of_leavers_keeps_figures_and_logs_without_personal_data(lab: Lab) -> None:
    summaries = lab.grids("Summary")
    assert summaries, "the sync writes Summary tabs"
    dry = purge(lab.trust.ws, lab.trust.config, as_of=AFTER_TRACKING, dry_run=True, now=NOW)
    assert dry.pupils >= 24 and not dry.written and special_row(lab)["legal_surname"] == SURNAME
    report = purge(lab.trust.ws, lab.trust.config, as_of=AFTER_TRACKING, now=NOW)
    assert report.written and report.pupils == dry.pupils and report.cells == dry.cells
    tabs = lab.tabs()
    dest = tabs["destinations"]
    for col in ("legal_forename", "legal_surname", "date_of_birth", "personal_email", "telephone"):
        assert (dest[col] == "").all(), col
    assert (dest["current_intended_destination"] != "").sum() > 10  # figures' inputs kept
    assert lab.grids("Summary") == summaries  # anonymised figures unchanged
    log = tabs["responses"]
    matched = log[log["upn"] != ""]
    assert (matched["full_name"] == "").all() and (matched["telephone"] == "").all()
    assert matched["school"].str.endswith(ERASED_SUFFIX).all()
    # Responses matched to nobody go too, once their stated cohort's tracking is over.
    assert not log["full_name"].str.contains("Plimquorth").any()
    assert not log["personal_email"].str.contains("plimquorth").any()
    privacy = lab.grids(PRIVACY_TAB)[PRIVACY_TAB]
    assert privacy[0][:2] == ["when", "action"] and privacy[1][1] == "purge"
    assert not any(v.lower() in json.dumps(privacy).lower() for v in secrets().values())
    # The next sync reads the forms again, yet brings none of it back; purging again finds nothing.
    run_sync(lab.trust.ws, lab.trust.config, now=NOW)
    dest = lab.tabs()["destinations"]
    assert (dest["legal_surname"] == "").all() and (dest["telephone"] == "").all()
    log = lab.tabs()["responses"]
    assert not log["full_name"].str.contains(SURNAME).any()
    again = purge(lab.trust.ws, lab.trust.config, as_of=AFTER_TRACKING, now=NOW)
    assert again.cells == 0 and not again.written


def test_purge_with_longer_tracking_period_or_kept_names(lab: Lab) -> None:
    none = purge(lab.trust.ws, lab.trust.config, as_of=AFTER_TRACKING, tracking_years=4, now=NOW)
    assert none.reasons["tracking_period_over"] == 0
    purge(lab.trust.ws, lab.trust.config, as_of=AFTER_TRACKING, names=False, now=NOW)
    row = special_row(lab)
    assert row["legal_surname"] == SURNAME and row["telephone"] == "" and row["notes"] == ""


def test_withdrawn_consent_removes_contact_details_from_every_logged_response(lab: Lab) -> None:
    p = lab.trust.special
    assert special_row(lab)["telephone"] == PHONE_E164
    lab.trust.client.submit_response(
        lab.trust.form_id(),
        answers(
            lab.trust,
            {
                "full_name": f"{p.legal_forename} {p.legal_surname}",
                "date_of_birth": p.date_of_birth,
                "leaving_year": str(p.leaving_year),
                "destination": "College",
                "consent": CONSENT_NO,
            },
        ),
        respondent_email=p.school_email,
        submitted_at=NOW + dt.timedelta(hours=1),
    )
    run_sync(lab.trust.ws, lab.trust.config, now=NOW + dt.timedelta(hours=2))
    log = lab.tabs()["responses"]
    assert (log["personal_email"] == PERSONAL_EMAIL).any()  # the older answer still holds it
    summaries = lab.grids("Summary")
    report = purge(lab.trust.ws, lab.trust.config, as_of=NOW.date(), now=NOW)
    assert report.responses >= 1
    log = lab.tabs()["responses"]
    assert not (log["personal_email"] == PERSONAL_EMAIL).any()
    assert not (log["telephone"].str.replace(" ", "").str.contains("79460417")).any()
    assert special_row(lab)["legal_surname"] == SURNAME  # still tracked: the name stays
    assert lab.grids("Summary") == summaries
    run_sync(lab.trust.ws, lab.trust.config, now=NOW + dt.timedelta(hours=3))
    assert not (lab.tabs()["responses"]["personal_email"] == PERSONAL_EMAIL).any()


def test_subject_export_holds_everything_about_one_pupil(lab: Lab, tmp_path: Path) -> None:
    data = subject_data(lab.trust.ws, lab.trust.config, lab.trust.special.upn.lower())
    text = json.dumps(data)
    assert SURNAME in text and PERSONAL_EMAIL in text and PHONE_E164 in text
    assert len(data["tabs"]["Destinations"]) == 1 and data["tabs"]["Responses"]
    assert data["form_responses"] and all("answers" in r for r in data["form_responses"])
    other = lab.trust.sample.pupils[9]
    assert other.legal_surname not in text or other.legal_surname == SURNAME
    with pytest.raises(NotFoundError):
        subject_data(lab.trust.ws, lab.trust.config, "A000000000000")


def test_subject_erase_removes_the_pupil_everywhere_for_good(lab: Lab) -> None:
    upn = lab.trust.special.upn
    before = lab.tabs()
    ids = set(before["responses"].loc[before["responses"]["upn"] == upn, "response_id"])
    dry = erase_subject(lab.trust.ws, lab.trust.config, upn, dry_run=True, now=NOW)
    assert not dry.written and (lab.tabs()["destinations"]["upn"] == upn).any()
    report = erase_subject(lab.trust.ws, lab.trust.config, upn, now=NOW)
    assert report.written and set(report.form_responses_to_delete) == ids
    for _ in range(2):  # after the erase, and after the next sync too
        tabs = lab.tabs()
        text = json.dumps({k: v.to_dict("records") for k, v in tabs.items()})
        assert upn not in text and SURNAME not in text and PERSONAL_EMAIL not in text
        assert len(tabs["destinations"]) == len(before["destinations"]) - 1
        assert len(tabs["responses"]) == len(before["responses"])  # tombstones keep the ids
        log = tabs["responses"]
        assert log.loc[log["response_id"].isin(ids), "school"].str.endswith(ERASED_SUFFIX).all()
        run_sync(lab.trust.ws, lab.trust.config, now=NOW)
    privacy = lab.grids(PRIVACY_TAB)[PRIVACY_TAB]
    assert privacy[-1][1] == "erase" and upn not in json.dumps(privacy)
    with pytest.raises(NotFoundError):
        erase_subject(lab.trust.ws, lab.trust.config, upn, now=NOW)


def test_cli_purge_subject_export_and_erase(
    lab: Lab, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GSYNC_EMULATOR_HOST", lab.server.url.removeprefix("http://"))
    runner = CliRunner()
    cfg = ["--config", str(lab.trust.config_path)]
    dry = runner.invoke(main, [*cfg, "purge", "--as-of", "2029-09-01", "--dry-run", "--json"])
    assert dry.exit_code == 0, dry.output
    data = json.loads(dry.output)
    assert data["dry_run"] and not data["written"] and data["pupils"] >= 24
    out = tmp_path / "subject.json"
    upn = lab.trust.special.upn
    exp = runner.invoke(main, [*cfg, "subject", "export", "--upn", upn, "--out", str(out)])
    assert exp.exit_code == 0, exp.output
    assert SURNAME not in exp.output and SURNAME in out.read_text(encoding="utf-8")
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    erase = runner.invoke(main, [*cfg, "subject", "erase", "--upn", upn, "--yes"])
    assert erase.exit_code == 0 and "1 pupil" in erase.output, erase.output
    missing = runner.invoke(main, [*cfg, "subject", "export", "--upn", upn, "--out", "-"])
    assert missing.exit_code == 9
    bad = runner.invoke(main, [*cfg, "purge", "--as-of", "someday"])
    assert bad.exit_code == 2 and "YYYY-MM-DD" in bad.output
