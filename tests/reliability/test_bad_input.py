"""Bad input, one test per case (issue 8): each ends in a clear message (naming the problem and
the fix, exit code as documented) or an Exceptions row, and nothing already held is lost.

One small trust (roster, Form A, responses, a first sync) is built per module; every test starts
from a copy of it.
"""

from __future__ import annotations

import copy
import datetime as dt
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from click.testing import CliRunner

from gsync import sync as sync_mod
from gsync.cli import main
from gsync.emulator.server import EmulatorServer
from gsync.emulator.testing import EmulatorError
from gsync.errors import ConfigError, DataError, GsyncError, NotFoundError
from gsync.responses import CONSENT_YES
from gsync.sync import run_sync
from tests.conftest import SAMPLE_CONFIG
from tests.reliability.helpers import SmallTrust, answers, frames, row_multiset, seed_trust

NOW = dt.datetime(2026, 7, 10, 12, 0, tzinfo=dt.UTC)


class Lab:
    def __init__(self, tmp: Path) -> None:
        self.server = EmulatorServer().start()
        self.tmp = tmp
        self.trust: SmallTrust = seed_trust(self.server.url, tmp, pupils=20, responses=24)
        run_sync(self.trust.ws, self.trust.config, now=NOW - dt.timedelta(days=1))
        self.s0 = copy.deepcopy(self.server.store._data)  # type: ignore[attr-defined]
        self.rows0 = self.rows()

    def restore(self) -> None:
        with self.server.store._lock:  # type: ignore[attr-defined]
            self.server.store._data.clear()  # type: ignore[attr-defined]
            self.server.store._data.update(copy.deepcopy(self.s0))  # type: ignore[attr-defined]
        self.server.controls.reset()
        requests.delete(f"{self.server.url}/_emulator/auth", timeout=10)

    def rows(self) -> dict[str, list[tuple[str, ...]]]:
        tabs = frames(self.trust.ws, self.trust.config)
        return {k: row_multiset(tabs[k]) for k in ("destinations", "responses", "exceptions")}

    def sheet(self) -> Any:
        return self.trust.ws.sheets().open_by_key(str(self.trust.config.trust.spreadsheet_id))

    def submit(self, email: str | None = None, **values: str) -> str:
        pupil = self.trust.sample.pupils[7]
        base = {
            "full_name": f"{pupil.legal_forename} {pupil.legal_surname}",
            "date_of_birth": pupil.date_of_birth,
            "leaving_year": str(pupil.leaving_year),
            "destination": "College",
            "consent": CONSENT_YES,
        }
        base.update(values)
        made = self.trust.client.submit_response(
            self.trust.form_id(),
            answers(self.trust, base),
            respondent_email=email or pupil.school_email,
            submitted_at=NOW - dt.timedelta(hours=2),
        )
        return str(made["responseId"])


@pytest.fixture(scope="module")
def _lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    lab = Lab(tmp_path_factory.mktemp("badinput"))
    yield lab
    lab.server.stop()


@pytest.fixture
def lab(_lab: Lab) -> Lab:
    _lab.restore()
    return _lab


def assert_clear(exc: GsyncError, *words: str) -> None:
    """A clear message: says what is wrong (the given words) and how to fix it."""
    text = exc.render()
    assert exc.fix, text
    for word in words:
        assert word.lower() in text.lower(), (word, text)


def import_bytes(lab: Lab, data: bytes, name: str = "roster.csv", **kw: Any) -> Any:
    path = lab.tmp / name
    path.write_bytes(data)
    return sync_mod.import_roster(lab.trust.ws, lab.trust.config, path, "Northfield", now=NOW, **kw)


def sims_text(lab: Lab) -> str:
    return lab.trust.sample.roster_csv("sims").decode("utf-8")


# --- rosters ---------------------------------------------------------------------------------


def test_roster_with_bom_imports_every_pupil(lab: Lab) -> None:
    report = import_bytes(lab, b"\xef\xbb\xbf" + sims_text(lab).encode("utf-8"))
    assert report.rows == len(lab.trust.sample.pupils) and report.added == 0
    dest = frames(lab.trust.ws, lab.trust.config)["destinations"]
    assert "upn" in dest.columns and dest["upn"].is_unique


def test_roster_in_windows_1252_keeps_accents(lab: Lab) -> None:
    text = sims_text(lab).replace(lab.trust.sample.pupils[3].legal_surname, "Fernández-Zoë", 1)
    report = import_bytes(lab, text.encode("cp1252"))
    assert report.updated == 1
    dest = frames(lab.trust.ws, lab.trust.config)["destinations"]
    assert (dest["legal_surname"] == "Fernández-Zoë").sum() == 1


def test_roster_with_semicolons_imports(lab: Lab) -> None:
    lines = [line.replace(",", ";") for line in sims_text(lab).split("\r\n")]
    report = import_bytes(lab, "\r\n".join(lines).encode("utf-8"))
    assert report.rows == len(lab.trust.sample.pupils) and report.unchanged == report.rows


def test_roster_missing_column_is_refused_naming_it(lab: Lab) -> None:
    lines = [",".join(line.split(",")[1:]) for line in sims_text(lab).split("\r\n") if line]
    with pytest.raises(DataError) as exc:
        import_bytes(lab, "\r\n".join(lines).encode("utf-8"))
    assert_clear(exc.value, "upn")
    assert lab.rows() == lab.rows0


def test_roster_renamed_column_needs_map_then_imports(lab: Lab) -> None:
    text = sims_text(lab).replace("Legal Surname", "Family Name Of Pupil", 1)
    with pytest.raises(DataError) as exc:
        import_bytes(lab, text.encode("utf-8"))
    assert_clear(exc.value, "legal_surname")
    assert lab.rows() == lab.rows0
    report = import_bytes(
        lab, text.encode("utf-8"), mapping={"legal_surname": "Family Name Of Pupil"}
    )
    assert report.rows == len(lab.trust.sample.pupils)


def _row_error(lab: Lab, mutate: Any, *words: str) -> None:
    lines = sims_text(lab).split("\r\n")
    mutate(lines)
    with pytest.raises(DataError) as exc:
        import_bytes(lab, "\r\n".join(lines).encode("utf-8"))
    assert_clear(exc.value, "nothing was imported", *words)
    assert lab.rows() == lab.rows0


def test_roster_duplicate_upn_is_refused_by_row(lab: Lab) -> None:
    def dup(lines: list[str]) -> None:
        lines.insert(3, lines[2])

    _row_error(lab, dup, "row 4")


def test_roster_invalid_upn_is_refused_by_row(lab: Lab) -> None:
    def bad(lines: list[str]) -> None:
        cells = lines[2].split(",")
        cells[0] = "Q12345"
        lines[2] = ",".join(cells)

    _row_error(lab, bad, "row 3", "upn")


def test_roster_impossible_date_is_refused_by_row(lab: Lab) -> None:
    def bad(lines: list[str]) -> None:
        cells = lines[4].split(",")
        cells[5] = "31/02/2010"
        lines[4] = ",".join(cells)

    _row_error(lab, bad, "row 5")


# --- form answers ----------------------------------------------------------------------------


def _logged(lab: Lab, response_id: str) -> Any:
    run_sync(lab.trust.ws, lab.trust.config, now=NOW)
    tabs = frames(lab.trust.ws, lab.trust.config)
    log = tabs["responses"]
    hits = log[log["response_id"] == response_id]
    assert len(hits) == 1, "the response must be logged exactly once"
    for key in ("destinations", "responses"):
        assert len(tabs[key]) >= len(lab.rows0[key])
    return hits.iloc[0], tabs


def test_emoji_answer_kept_exactly(lab: Lab) -> None:
    rid = lab.submit(course="Catering 🍳👩‍🍳 level 2", provider="Café ☕ College")
    row, _ = _logged(lab, rid)
    assert row["course"] == "Catering 🍳👩‍🍳 level 2" and row["provider"] == "Café ☕ College"


def test_right_to_left_answer_kept_exactly(lab: Lab) -> None:
    text = "كلية المدينة \u202eevil"
    rid = lab.submit(provider=text)
    row, _ = _logged(lab, rid)
    assert row["provider"] == text


def test_fifty_thousand_character_answer_fits_a_cell(lab: Lab) -> None:
    long = "x" * 60_000
    rid = lab.submit(course=long)
    row, _ = _logged(lab, rid)
    assert len(row["course"]) <= 50_000  # a Sheets cell's limit
    assert "truncated_course" in row["issues"]


def test_formula_payload_stays_text(lab: Lab) -> None:
    rid = lab.submit(provider='=HYPERLINK("http://evil","x")', course="+cmd|' /C calc'!A0")
    row, _ = _logged(lab, rid)
    assert row["provider"] == '=HYPERLINK("http://evil","x")'
    assert row["course"] == "+cmd|' /C calc'!A0"


def test_invalid_date_answer_is_refused_like_googles_date_question(lab: Lab) -> None:
    """Form A's dates are DATE questions: Google's form refuses 2026-13-45 before submission,
    and so does the emulator; nothing reaches the sync."""
    with pytest.raises(EmulatorError) as exc:
        lab.submit(start_date="2026-13-45")
    assert "400" in str(exc.value) and "date" in str(exc.value)
    assert lab.rows() == lab.rows0


def test_future_date_of_birth_from_a_known_account_is_flagged(lab: Lab) -> None:
    """Matched by school email, the answer is applied, but the impossible date of birth raises
    an open `invalid` Exceptions row for staff (regression: it used to pass silently)."""
    rid = lab.submit(date_of_birth="2031-01-01")
    row, tabs = _logged(lab, rid)
    assert row["match_status"] == "matched" and "future_date_of_birth" in row["issues"]
    exceptions = tabs["exceptions"]
    mine = exceptions[(exceptions["response_id"] == rid) & (exceptions["kind"] == "invalid")]
    assert len(mine) == 1 and "future_date_of_birth" in mine.iloc[0]["reason"]


def test_future_date_of_birth_goes_to_exceptions(lab: Lab) -> None:
    """A future date of birth matches nobody: logged, and an open Exceptions row for staff."""
    pupil = lab.trust.sample.pupils[8]
    rid = lab.submit(
        email="someone.personal@example.com",
        full_name=f"{pupil.legal_forename} {pupil.legal_surname}",
        date_of_birth="2031-01-01",
    )
    row, tabs = _logged(lab, rid)
    assert row["match_status"] == "unmatched"
    exceptions = tabs["exceptions"]
    mine = exceptions[exceptions["response_id"] == rid]
    assert set(mine["kind"]) == {"unmatched", "invalid"} and (mine["status"] == "open").all()


# --- the spreadsheet -------------------------------------------------------------------------


def _sync_refused(lab: Lab, kind: type[GsyncError], *words: str) -> None:
    before = lab.rows() if kind is not NotFoundError else None
    with pytest.raises(kind) as exc:
        run_sync(lab.trust.ws, lab.trust.config, now=NOW)
    assert_clear(exc.value, *words)
    if before is not None:
        assert lab.rows() == before


def test_deleted_tab_is_named_and_sheet_init_recreates_it(lab: Lab) -> None:
    sheet = lab.sheet()
    sheet.del_worksheet(sheet.worksheet("Exceptions"))
    held = lab.rows0["destinations"]
    _sync_refused(lab, NotFoundError, "Exceptions", "sheet init")
    sync_mod.init_sheet(lab.trust.ws, lab.trust.config, now=NOW)
    run_sync(lab.trust.ws, lab.trust.config, now=NOW)
    assert len(lab.rows()["destinations"]) == len(held)  # nothing lost
    assert len(lab.rows()["exceptions"]) > 0  # refilled from the responses


def test_renamed_tab_is_named(lab: Lab) -> None:
    lab.sheet().worksheet("Responses").update_title("Form answers")
    with pytest.raises(NotFoundError) as exc:
        run_sync(lab.trust.ws, lab.trust.config, now=NOW)
    assert_clear(exc.value, "Responses", "renamed")
    assert (
        len(lab.sheet().worksheet("Form answers").get_all_values())
        == len(lab.rows0["responses"]) + 1
    )


def test_renamed_column_is_named_and_nothing_written(lab: Lab) -> None:
    tab = lab.sheet().worksheet("Destinations")
    header = tab.row_values(1)
    col = header.index("UPN") + 1 if "UPN" in header else 2
    tab.update_cell(1, col, "Pupil number")
    _sync_refused(lab, ConfigError, "Destinations", "upn", "rename")


def test_moved_and_extra_columns_are_followed_and_kept(lab: Lab) -> None:
    sheet = lab.sheet()
    tab = sheet.worksheet("Destinations")
    width = len(tab.row_values(1))
    notes_col = tab.row_values(1).index("Notes")
    values = tab.col_values(notes_col + 1)
    # Staff move Notes to the front (the emulator has no moveDimension: insert, copy, delete, as
    # a cut-and-paste in the Sheets UI does) and add a column of their own after the template's.
    sheet.batch_update(
        {
            "requests": [
                {
                    "insertDimension": {
                        "range": {
                            "sheetId": tab.id,
                            "dimension": "COLUMNS",
                            "startIndex": 0,
                            "endIndex": 1,
                        }
                    }
                },
                {"appendDimension": {"sheetId": tab.id, "dimension": "COLUMNS", "length": 1}},
            ]
        }
    )
    tab = sheet.worksheet("Destinations")
    tab.update([[v] for v in values], f"A1:A{len(values)}", raw=True)
    sheet.batch_update(
        {
            "requests": [
                {
                    "deleteDimension": {
                        "range": {
                            "sheetId": tab.id,
                            "dimension": "COLUMNS",
                            "startIndex": notes_col + 1,
                            "endIndex": notes_col + 2,
                        }
                    }
                }
            ]
        }
    )
    tab = sheet.worksheet("Destinations")
    assert tab.row_values(1)[0] == "Notes"
    tab.update_cell(1, width + 1, "Tutor group")
    tab.update_cell(2, width + 1, "11B")
    tab.update_cell(2, 1, "Seen at open evening")
    lab.submit(provider="Moved Column College")
    run_sync(lab.trust.ws, lab.trust.config, now=NOW)
    tab = sheet.worksheet("Destinations")
    assert tab.row_values(1)[0] == "Notes" and tab.cell(2, 1).value == "Seen at open evening"
    assert tab.cell(2, width + 1).value == "11B"
    dest = frames(lab.trust.ws, lab.trust.config)["destinations"]
    assert (dest["current_intended_provider"] == "Moved Column College").sum() == 1
    assert len(dest) == len(lab.rows0["destinations"])


def test_merged_cells_do_not_lose_data(lab: Lab) -> None:
    sheet = lab.sheet()
    tab = sheet.worksheet("Destinations")
    notes = tab.row_values(1).index("Notes")
    tab.update_cell(3, notes + 1, "merged note")
    sheet.batch_update(
        {
            "requests": [
                {
                    "mergeCells": {
                        "range": {
                            "sheetId": tab.id,
                            "startRowIndex": 2,
                            "endRowIndex": 4,
                            "startColumnIndex": notes,
                            "endColumnIndex": notes + 1,
                        },
                        "mergeType": "MERGE_ALL",
                    }
                }
            ]
        }
    )
    lab.submit(provider="After Merge College")
    run_sync(lab.trust.ws, lab.trust.config, now=NOW)
    dest = frames(lab.trust.ws, lab.trust.config)["destinations"]
    assert len(dest) == len(lab.rows0["destinations"]) and dest["upn"].is_unique
    assert (dest["notes"] == "merged note").sum() == 1
    assert (dest["current_intended_provider"] == "After Merge College").sum() == 1


def test_typed_text_in_a_dropdown_column_is_kept(lab: Lab) -> None:
    tab = lab.sheet().worksheet("Destinations")
    header = tab.row_values(1)
    validated = next(
        i + 1 for i, h in enumerate(header) if "validated" in h.lower() and "current" in h.lower()
    )
    tab.update_cell(4, validated, "checked by phone, not on the list")
    lab.submit(provider="Dropdown College")
    run_sync(lab.trust.ws, lab.trust.config, now=NOW)
    assert tab.cell(4, validated).value == "checked by phone, not on the list"


def test_template_from_an_older_version_asks_for_sheet_init(lab: Lab) -> None:
    state = lab.sheet().worksheet("_gsync_state")
    rows = state.get_all_values()
    row = next(i for i, r in enumerate(rows) if r and r[0] == "template_version")
    state.update_cell(row + 1, 2, "1")
    _sync_refused(lab, ConfigError, "template version 1", "sheet init")


# --- configuration ---------------------------------------------------------------------------


def _config_exit(lab: Lab, text: str, *words: str) -> None:
    path = lab.tmp / "bad.toml"
    path.write_text(text, encoding="utf-8")
    result = CliRunner().invoke(main, ["--config", str(path), "sync"])
    assert result.exit_code == 2, result.output
    for word in ("bad.toml", *words):
        assert word in result.output, (word, result.output)


def test_config_unknown_key_is_named(lab: Lab) -> None:
    text = SAMPLE_CONFIG.replace('name = "Test Learning Trust"', 'name = "T"\ncolour = "red"')
    _config_exit(lab, text, "colour", "unknown key")


def test_config_wrong_type_is_named(lab: Lab) -> None:
    _config_exit(lab, SAMPLE_CONFIG.replace('phase = "Y11"', "phase = 11"), "phase")


def test_config_without_schools_is_named(lab: Lab) -> None:
    head = SAMPLE_CONFIG.split("[[schools]]")[0]
    tail = "[term_dates" + SAMPLE_CONFIG.split("[term_dates", 1)[1]
    _config_exit(lab, head + tail, "schools")


# --- credentials -----------------------------------------------------------------------------


def _auth_exit(lab: Lab, monkeypatch: pytest.MonkeyPatch, google: str, *words: str) -> str:
    monkeypatch.delenv("GSYNC_EMULATOR_HOST", raising=False)
    path = lab.tmp / "auth.toml"
    path.write_text(SAMPLE_CONFIG + "\n[google]\n" + google, encoding="utf-8")
    result = CliRunner().invoke(main, ["--config", str(path), "sync"])
    assert result.exit_code == 3, result.output
    for word in words:
        assert word in result.output, (word, result.output)
    return result.output


def test_credentials_missing(lab: Lab, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GOOGLE_APPLICATION_CREDENTIALS", raising=False)
    _auth_exit(
        lab,
        monkeypatch,
        'auth = "service_account"\ncredentials_file = "nowhere.json"\n',
        "does not exist",
        "Fix:",
    )


def test_credentials_malformed(lab: Lab, monkeypatch: pytest.MonkeyPatch) -> None:
    key = lab.tmp / "key.json"
    key.write_text("{not json", encoding="utf-8")
    os.chmod(key, 0o600)
    out = _auth_exit(
        lab,
        monkeypatch,
        f'auth = "service_account"\ncredentials_file = "{key}"\n',
        "not a valid JSON key",
    )
    assert "{not json" not in out  # the file's content is never echoed


def test_exposed_key_file_warns(
    lab: Lab, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    key = lab.tmp / "exposed.json"
    key.write_text('{"type": "authorized_user", "client_secret": "s3cr3t-value"}', "utf-8")
    os.chmod(key, 0o644)
    out = _auth_exit(
        lab, monkeypatch, f'auth = "service_account"\ncredentials_file = "{key}"\n', "service"
    )
    assert "readable by other users" in caplog.text and "chmod 600" in caplog.text
    assert "s3cr3t-value" not in out + caplog.text


def _arm(lab: Lab, kind: str) -> None:
    requests.post(
        f"{lab.server.url}/_emulator/auth", json={"kind": kind, "api": "*"}, timeout=10
    ).raise_for_status()


def test_credentials_expired(lab: Lab) -> None:
    _arm(lab, "expired_token")
    with pytest.raises(GsyncError) as exc:
        run_sync(lab.trust.ws, lab.trust.config, now=NOW)
    assert exc.value.exit_code == 3
    assert_clear(exc.value, "401", "expired")


def test_credentials_lacking_a_scope(lab: Lab) -> None:
    _arm(lab, "scope_insufficient")
    with pytest.raises(GsyncError) as exc:
        run_sync(lab.trust.ws, lab.trust.config, now=NOW)
    assert exc.value.exit_code == 3
    assert_clear(exc.value, "scope")
    requests.delete(f"{lab.server.url}/_emulator/auth", timeout=10)
    assert lab.rows() == lab.rows0  # nothing written, nothing lost
