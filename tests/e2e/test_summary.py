"""Summary tabs written by the sync, `gsync summary export`, and the disclosure failure path.

One trust (Northfield with Form A responses, Southgate with a roster only) is built once per
module; each test starts from a copy of that state. Figures are checked against the pupil rows.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from click.testing import CliRunner

from gsync import disclosure as disclosure_mod
from gsync import sync as sync_mod
from gsync.cli import main
from gsync.config import load_config
from gsync.disclosure import ALL_GROUP, TOTAL, TRUST_SCHOOL, load_policy
from gsync.export import tables_from_rows
from gsync.sample import make_sample
from gsync.sheetio import read_snapshot
from gsync.sync import run_sync
from gsync.taxonomy import load_taxonomy
from tests.e2e.test_sync import NOW, Trust, build_trust

TAX = load_taxonomy()
POLICY = load_policy()
SUMMARY_TABS = ["Summary - Northfield", "Summary - Southgate", "Summary - Trust"]


@pytest.fixture(scope="module")
def _trust(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Trust]:
    tmp = tmp_path_factory.mktemp("summary")
    trust = build_trust(tmp, pupils=90, responses=110, seed=11)
    south = make_sample(
        seed=12, pupils=30, responses=0, school="Southgate", phase="Y13", leaving_year=2026
    )
    roster = tmp / "southgate.csv"
    roster.write_bytes(south.roster_csv())
    sync_mod.import_roster(trust.ws, load_config(trust.config_path), roster, "Southgate")
    trust.saved = __import__("copy").deepcopy(trust.server.store._data)
    yield trust
    trust.server.stop()


@pytest.fixture
def trust(_trust: Trust) -> Trust:
    _trust.restore()
    return _trust


def batch_updates(trust: Trust) -> int:
    return sum(1 for e in trust.client.log() if e["method"] == "sheets.spreadsheets.batchUpdate")


def charts_per_tab(trust: Trust) -> dict[str, int]:
    body = trust.ws.sheets().http_client.fetch_sheet_metadata(
        str(trust.config.trust.spreadsheet_id),
        params={"fields": "sheets(properties.title,charts.chartId)"},
    )
    return {s["properties"]["title"]: len(s.get("charts", [])) for s in body["sheets"]}


def test_sync_writes_summary_tabs_with_figures_from_the_pupil_rows(trust: Trust) -> None:
    report = run_sync(trust.ws, trust.config, now=NOW)
    assert report.written
    snap = read_snapshot(trust.ws, str(trust.config.trust.spreadsheet_id))
    for title in SUMMARY_TABS:
        assert snap.has(title), title
    dest = trust.frames()["destinations"]
    checked = 0
    published_trust: dict[str, int] = {}
    cohort_of = dest["leaving_year"] + " " + dest["phase"]
    for school in ("Northfield", "Southgate", TRUST_SCHOOL):
        tables = tables_from_rows(snap.grid(f"Summary - {school}"))
        table = tables["destinations"]
        assert set(table["school"]) == {school}
        for cohort in sorted(set(cohort_of)):
            pupils = dest[cohort_of == cohort]
            if school != TRUST_SCHOOL:
                pupils = pupils[pupils["school"] == school]
            sel = table[
                (table["entry"] == "current_intended")
                & (table["group"] == ALL_GROUP)
                & (table["cohort"] == cohort)
            ]
            assert len(sel) == (len(TAX.categories()) + 1 if len(pupils) else 0)
            want = Counter(
                TAX.categorise(d, lvl, oth).label
                for d, lvl, oth in zip(
                    pupils["current_intended_destination"],
                    pupils["current_intended_level"],
                    pupils["current_intended_other"],
                    strict=True,
                )
            )
            size = len(pupils)
            for r in sel.to_dict("records"):
                true = size if r["category"] == TOTAL else want.get(r["category"], 0)
                if r["count"] == POLICY.symbol:
                    # Suppressed: always so for a small count; else secondary (checker-proven).
                    continue
                assert true == 0 or true >= POLICY.threshold  # never a small published count
                assert int(r["count"]) == true, (school, cohort, r["category"])
                if r["category"] != TOTAL:
                    assert r["percent"] == round(100 * true / size), (school, r["category"])
                if school == TRUST_SCHOOL:
                    published_trust[f"{cohort}/{r['category']}"] = int(r["count"])
                checked += 1
    assert checked >= 10
    north = dest[dest["school"] == "Northfield"]
    north_cohort = f"{north['leaving_year'].iloc[0]} {north['phase'].iloc[0]}"
    assert published_trust.get(f"{north_cohort}/{TOTAL}") == len(north)
    # The tabs carry only labels, counts and percentages: no pupil value leaks into them.
    text = " ".join(" ".join(map(str, r)) for t in SUMMARY_TABS for r in snap.grid(t)).casefold()
    for col in ("upn", "school_email", "date_of_birth", "personal_email", "telephone"):
        for value in dest[col]:
            if len(value) >= 5:
                assert value.casefold() not in text, col
    # One chart per summary tab.
    charts = charts_per_tab(trust)
    assert all(charts[t] == 1 for t in SUMMARY_TABS), charts


def test_second_sync_writes_nothing_and_charts_are_not_duplicated(trust: Trust) -> None:
    run_sync(trust.ws, trust.config, now=NOW)
    trust.client.clear_log()
    report = run_sync(trust.ws, trust.config, now=NOW)
    assert not report.written and report.requests == 0
    assert batch_updates(trust) == 0
    charts = charts_per_tab(trust)
    assert all(charts[t] == 1 for t in SUMMARY_TABS), charts


def _cli(trust: Trust, monkeypatch: pytest.MonkeyPatch, *args: str) -> Any:
    monkeypatch.setenv("GSYNC_EMULATOR_HOST", trust.server.url.removeprefix("http://"))
    return CliRunner().invoke(main, ["--config", str(trust.config_path), *args])


def _words(text: str) -> set[str]:
    return set(re.findall(r"[\w'@.+-]+", text.casefold()))


def test_export_csv_and_html_match_the_tabs_and_carry_no_pupil_data(
    trust: Trust, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    run_sync(trust.ws, trust.config, now=NOW)
    trust.client.clear_log()
    out = tmp_path / "site"
    res = _cli(
        trust,
        monkeypatch,
        "summary",
        "export",
        "--school",
        "Northfield",
        "--out",
        str(out),
        "--json",
    )
    assert res.exit_code == 0, res.output
    data = json.loads(res.output)
    assert data["schools"] == ["Northfield"] and data["format"] == "csv"
    names = sorted(p.name for p in out.iterdir())
    assert names == sorted(
        [
            "destinations.csv",
            "level3.csv",
            "apprenticeship.csv",
            "higher-education.csv",
            "chart-northfield.svg",
        ]
    )
    # One read of the trust spreadsheet, no write.
    methods = [e["method"] for e in trust.client.log()]
    assert methods == ["sheets.spreadsheets.get"]
    # The CSV figures are the tab's figures.
    snap = read_snapshot(trust.ws, str(trust.config.trust.spreadsheet_id))
    tab = tables_from_rows(snap.grid("Summary - Northfield"))["destinations"]
    csv = pd.read_csv(out / "destinations.csv", dtype=str, keep_default_na=False)
    assert set(csv["school"]) == {"Northfield"}
    assert list(csv["count"]) == [str(v) for v in tab["count"]]
    assert "<svg" in (out / "chart-northfield.svg").read_text(encoding="utf-8")

    html_dir = tmp_path / "html"
    res = _cli(trust, monkeypatch, "summary", "export", "--format", "html", "--out", str(html_dir))
    assert res.exit_code == 0, res.output
    page = (html_dir / "destinations.html").read_text(encoding="utf-8")
    assert "<svg" in page and "Southgate" in page and "Trust" in page

    # No name, UPN, date of birth, contact or free text of any pupil in any file.
    dest = trust.frames()["destinations"]
    texts = [p.read_text(encoding="utf-8") for p in [*out.iterdir(), *html_dir.iterdir()]]
    blob = "\n".join(texts).casefold()
    words = set().union(*(_words(t) for t in texts))
    strong = ["upn", "school_email", "date_of_birth", "personal_email", "telephone"]
    free = [
        c for c in dest.columns if c.endswith(("_other", "_course", "_provider")) or c == "notes"
    ]
    for col in strong + free:
        for value in set(dest[col]):
            if len(value) >= 4:
                assert value.casefold() not in blob, col
    for col in ("legal_forename", "legal_surname", "preferred_forename", "preferred_surname"):
        for value in set(dest[col]):
            if value:
                full = value.casefold()
                assert full not in words, col


def test_disclosure_breach_exits_8_and_writes_nothing(
    trust: Trust, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A suppression bug that would publish small counts is caught by the checker: exit 8."""
    sid = str(trust.config.trust.spreadsheet_id)
    before = read_snapshot(trust.ws, sid).grids

    def no_suppression(table: pd.DataFrame, policy: Any, **_kw: Any) -> pd.DataFrame:
        out = table.copy()
        out["percent"] = out["percent"].round(0)
        return out

    monkeypatch.setattr(disclosure_mod, "apply_suppression", no_suppression)
    trust.client.clear_log()
    res = _cli(trust, monkeypatch, "sync", "--as-of", "2026-07-10")
    assert res.exit_code == 8, res.output
    assert "disclosure" in res.output
    assert batch_updates(trust) == 0
    assert read_snapshot(trust.ws, sid).grids == before
    out = tmp_path / "site"
    res = _cli(trust, monkeypatch, "summary", "export", "--out", str(out))
    assert res.exit_code == 8, res.output
    assert not out.exists() or not any(out.iterdir())
