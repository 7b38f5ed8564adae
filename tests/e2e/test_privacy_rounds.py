"""Purge, subject export and subject erase over the issue 9 and 11 tabs, against the emulator:
Intentions, Applications, Risk, LA data and Reconciliation (names, dates of birth, free text).

The trust of tests/e2e/test_rounds.py (a Y11 cohort's December and April rounds) is synced once,
with two LA data rows (one matched, one matched to nobody); each test starts from a copy.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
from collections.abc import Iterator
from typing import Any

import pytest

from gsync.privacy import erase_subject, purge, subject_data
from gsync.sheetio import read_snapshot
from gsync.sync import run_sync
from tests.e2e.test_rounds import MAY, Trust, build

pytestmark = pytest.mark.e2e

AFTER_TRACKING = dt.date(2029, 9, 1)  # the 2026 cohort's tracking ended on 31 August 2029
LA_FORENAME, LA_SURNAME, LA_DOB = "Quillanne", "Vortmeyer", "2010-02-03"  # the LA's spelling


def add_la_rows(trust: Trust) -> None:
    """Two rows of an LA file as `gsync la import` leaves them: pupil 0 matched, pupil 1 not."""
    sheet = trust.ws.sheets().open_by_key(str(trust.config.trust.spreadsheet_id))
    tab = sheet.worksheet("LA data")
    header = tab.row_values(1)
    p0, p1 = trust.pupils[0], trust.pupils[1]
    rows = []
    for n, (pupil, status) in enumerate(((p0, "matched"), (p1, "unmatched")), start=2):
        values = {
            "School": "Northfield",
            "Leaving year": "2026",
            "LA file row": str(n),
            "LA UPN": pupil.upn,
            "Forename": LA_FORENAME if n == 2 else pupil.legal_forename,
            "Surname": LA_SURNAME if n == 2 else pupil.legal_surname,
            "Date of birth": LA_DOB if n == 2 else pupil.date_of_birth,
            "NCCIS activity code": "310",
            "Category": "Further education",
            "Provider": "Town College",
            "Match": status,
            "Matched UPN": pupil.upn if status == "matched" else "",
        }
        rows.append([values.get(h, "") for h in header])
    tab.append_rows(rows)


@pytest.fixture(scope="module")
def _trust(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Trust]:
    trust = build(tmp_path_factory.mktemp("privacy_rounds"))
    add_la_rows(trust)
    run_sync(trust.ws, trust.config, now=MAY)  # Intentions, Applications, Risk, Reconciliation
    trust.saved = copy.deepcopy(trust.server.store._data)
    yield trust
    trust.server.stop()


@pytest.fixture
def trust(_trust: Trust) -> Trust:
    _trust.restore()
    return _trust


def summaries(trust: Trust) -> dict[str, Any]:
    snap = read_snapshot(trust.ws, str(trust.config.trust.spreadsheet_id))
    return {t: g for t, g in snap.grids.items() if t.startswith("Summary")}


def test_the_synced_trust_holds_what_privacy_must_cover(trust: Trust) -> None:
    f = trust.frames()
    p0 = trust.pupils[0]
    assert "Town College" in set(f["applications"]["provider"])
    assert (f["risk"]["forename"] != "").any()
    assert {LA_FORENAME, trust.pupils[1].legal_forename} <= set(f["la_data"]["forename"])
    recon = f["reconciliation"]
    assert recon[recon["upn"] == p0.upn]["name"].iloc[0] != ""
    # The Summary tab carries the round tables (issue 11).
    grid = summaries(trust)["Summary - Northfield"]
    kinds = {row[0] for row in grid if row}
    assert {"round_intended", "round_applied", "round_offer", "results_change"} <= kinds


def test_purge_clears_the_round_la_and_reconciliation_tabs_and_keeps_the_figures(
    trust: Trust,
) -> None:
    before = summaries(trust)
    report = purge(trust.ws, trust.config, as_of=AFTER_TRACKING, now=MAY)
    assert report.written
    f = trust.frames()
    intents, apps = f["intentions"], f["applications"]
    for col in ("other", "provider", "course", "previous_destination"):
        assert (intents[col] == "").all(), col
    assert (intents["destination"] != "").all()  # the figures' inputs stay
    assert (apps["provider"] == "").all() and (apps["course"] == "").all()
    assert set(apps["status"]) == {"applied", "interview", "offer", "rejected"}
    la = f["la_data"]
    assert len(la) == 2  # the rows stay (the LA's file as imported), their names do not
    for col in ("forename", "surname", "date_of_birth"):
        assert (la[col] == "").all(), col  # the row matched to nobody too
    assert (f["reconciliation"]["name"] == "").all()
    risk = f["risk"]
    assert len(risk) and (risk["forename"] == "").all() and (risk["surname"] == "").all()
    assert summaries(trust) == before  # anonymised figures, round figures included, unchanged
    again = purge(trust.ws, trust.config, as_of=AFTER_TRACKING, now=MAY)
    assert again.cells == 0 and not again.written
    # The next sync reads the round forms again, yet brings no name or free text back.
    run_sync(trust.ws, trust.config, now=MAY)
    f = trust.frames()
    assert (f["applications"]["provider"] == "").all()
    assert (f["intentions"]["provider"] == "").all() and (f["intentions"]["course"] == "").all()
    assert (f["risk"]["forename"] == "").all() and (f["reconciliation"]["name"] == "").all()
    assert summaries(trust) == before
    blob = json.dumps({k: v.to_dict("records") for k, v in f.items()})
    # (The LA's provider, like Destinations' own, is kept.)
    for text in ("A levels", "BTEC Sport", LA_FORENAME, trust.pupils[0].legal_surname):
        assert text not in blob


def test_purge_keeping_names_still_clears_free_text(trust: Trust) -> None:
    purge(trust.ws, trust.config, as_of=AFTER_TRACKING, names=False, now=MAY)
    f = trust.frames()
    assert LA_FORENAME in set(f["la_data"]["forename"])
    assert (f["applications"]["provider"] == "").all()


def test_purge_within_tracking_leaves_the_round_tabs_alone(trust: Trust) -> None:
    before = trust.frames()
    purge(trust.ws, trust.config, as_of=dt.date(2029, 8, 31), now=MAY)
    after = trust.frames()
    for key in ("intentions", "applications", "la_data", "reconciliation", "risk"):
        assert after[key].equals(before[key]), key


def test_subject_export_includes_round_and_la_rows_and_round_responses(trust: Trust) -> None:
    p0 = trust.pupils[0]
    data = subject_data(trust.ws, trust.config, p0.upn)
    tabs = data["tabs"]
    assert {r["round"] for r in tabs["Intentions"]} == {"y11_december", "y11_april"}
    assert len(tabs["Applications"]) == 5  # two in December, three in April
    assert [r["forename"] for r in tabs["LA data"]] == [LA_FORENAME]
    assert len(tabs["Reconciliation"]) == 1
    ids = {r["response_id"] for r in tabs["Intentions"]}
    assert {r["responseId"] for r in data["form_responses"]} == ids
    # Pupil 1 is in the LA's file, matched to nobody: found by the LA's UPN.
    p1 = trust.pupils[1]
    other = subject_data(trust.ws, trust.config, p1.upn)["tabs"]["LA data"]
    assert [r["forename"] for r in other] == [p1.legal_forename]


def test_subject_erase_removes_the_pupil_from_every_new_tab(trust: Trust) -> None:
    p0, p1 = trust.pupils[0], trust.pupils[1]
    before = trust.frames()
    ids = set(before["intentions"][before["intentions"]["upn"] == p0.upn]["response_id"])
    report = erase_subject(trust.ws, trust.config, p0.upn, now=MAY)
    assert report.written
    assert ids <= set(report.form_responses_to_delete)  # staff delete them in the round forms
    f = trust.frames()
    for key in ("intentions", "applications", "risk", "reconciliation", "la_data"):
        assert p0.upn not in set(f[key]["upn"]), key
    assert LA_FORENAME not in set(f["la_data"]["forename"])
    # The next sync reads the round forms again: the erased responses are skipped, not merged
    # back in or raised as exceptions.
    exceptions_before = len(f["exceptions"])
    run_sync(trust.ws, trust.config, now=MAY)
    f = trust.frames()
    assert p0.upn not in set(f["intentions"]["upn"]) and p0.upn not in set(f["applications"]["upn"])
    # ...nor matched to anyone else (pupil 0 has a twin with the same name and date of birth).
    assert not (set(f["intentions"]["response_id"]) & ids)
    assert not (set(f["applications"]["response_id"]) & ids)
    assert not (set(f["exceptions"]["response_id"]) & ids)
    assert len(f["exceptions"]) == exceptions_before
    # Erasing pupil 1 takes the LA row matched to nobody that carries their UPN.
    erase_subject(trust.ws, trust.config, p1.upn, now=MAY)
    la = trust.frames()["la_data"]
    assert la.empty or p1.upn not in set(la["la_upn"])
    # Nothing carries pupil 1's UPN any more (a twin shares their surname and date of birth, so
    # those are no test), and the LA's spelling of pupil 0's name is gone.
    frames = trust.frames()
    where = [
        (k, c)
        for k, v in frames.items()
        for r in v.to_dict("records")
        for c, x in r.items()
        if p1.upn in str(x)
    ]
    assert not where, where
    assert LA_SURNAME not in json.dumps({k: v.to_dict("records") for k, v in frames.items()})
