"""The derived tabs (Deadlines, Summary, Risk) are cell for cell what they were before brief P4's
speed-up (issue 7).

`tests/unit/_reference_p4/` freezes the code of commit 6cea1cc. Each case runs the frozen and the
current code on the same inputs and compares what reaches the write plan: every row handed to
`replace_tab` (values and their types), every other request, and the plan's requests and
changes. Inputs: a benchmark trust after its first night (in and out of the survey rounds), the
seeded trusts of test_core_equivalence (NaN / None cells, padded and lower-case codes, Sustained
checks), and edge cases (one school, no pupils, a cohort with no destinations, numbers and numpy
scalars where text is expected, a school with no round data).
"""

from __future__ import annotations

import datetime as dt
import math
import random
import tempfile
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from bench import core_scale
from gsync import deadlines, risk, summary, sync
from gsync.errors import DisclosureError
from gsync.sheetio import Snapshot, WritePlan
from tests.unit import test_summary_equivalence as seq
from tests.unit._reference_p4 import deadlines as ref_deadlines
from tests.unit._reference_p4 import derived as ref_derived
from tests.unit._reference_p4 import risk as ref_risk
from tests.unit._reference_p4 import summary as ref_summary
from tests.unit.test_core_equivalence import AS_OF, RULES, TERMS, merged  # noqa: F401 (fixture)

TAX, POLICY = seq.TAX, seq.POLICY


def _typed(value: Any) -> Any:
    """A value with its type (NaN made comparable), lists and dicts element by element."""
    if isinstance(value, list | tuple):
        return [type(value).__name__, [_typed(v) for v in value]]
    if isinstance(value, dict):
        return {k: _typed(v) for k, v in value.items()}
    if isinstance(value, float) and math.isnan(value):
        return ("nan", "nan")
    return (type(value).__name__, repr(value))


class Recorder(WritePlan):
    """A WritePlan that logs what it is handed (rows with their types), in order."""

    def __init__(self, snapshot: Snapshot) -> None:
        super().__init__(snapshot)
        self.log: list[Any] = []

    def replace_tab(self, title: str, rows: Sequence[Sequence[Any]], **kw: Any) -> bool:
        self.log.append(("replace_tab", title, _typed([list(r) for r in rows]), kw))
        return super().replace_tab(title, rows, **kw)

    def extend(self, requests: Iterable[dict[str, Any]], change: str | None = None) -> None:
        requests = list(requests)
        self.log.append(("extend", _typed(requests), change))
        super().extend(requests, change)


def _planned(snapshot: Snapshot, run: Callable[[WritePlan], Any]) -> Any:
    """What `run` hands the plan, or the exception it raises (type and message)."""
    plan = Recorder(snapshot)
    random.seed(7)  # new tabs get random sheet ids
    try:
        result = run(plan)
    except Exception as exc:
        return ("raised", type(exc).__name__, str(exc), plan.log)
    return plan.log, _typed(list(plan.requests)), plan.changes, repr(result)


# --- a benchmark trust after its first night --------------------------------------------------


@pytest.fixture(scope="module")
def night() -> tuple[core_scale.Trust, dict[str, pd.DataFrame]]:
    with tempfile.TemporaryDirectory() as tmp:
        trust = core_scale.build(540, Path(tmp), schools=3)
    raw = {
        s: [r for r in rs if r["responseId"] not in trust.held_back] for s, rs in trust.raw.items()
    }
    tabs, _plan, _stages = core_scale.run_night(trust, trust.snapshot, raw)
    return trust, tabs


def _rounds_tabs(dest: pd.DataFrame, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Intentions / Applications for the trust's pupils, as the risk list and the summary read
    them (response ids, submission and record dates, some after `as_of`)."""
    intents, apps = seq._rounds_data(dest, seed)
    rng = random.Random(seed)
    days = ["2025-12-05", "2026-01-10", "2026-04-20", "2026-06-30", "2026-08-25", ""]
    intents["response_id"] = [f"r{i}" if rng.random() < 0.9 else "" for i in range(len(intents))]
    intents["submitted"] = [rng.choice(days) for _ in range(len(intents))]
    intents["level"] = [rng.choice(("Level 2", "Level 3", "Level 4", "Not sure", "")) for _ in range(len(intents))]  # fmt: skip
    apps["recorded"] = [rng.choice(days) for _ in range(len(apps))]
    return intents, apps


def _derived(module: Any, trust: core_scale.Trust, pupils: pd.DataFrame, as_of: dt.date,
             **kw: Any) -> Any:  # fmt: skip
    def run(plan: WritePlan) -> Any:
        return module.write_derived_tabs(
            plan, trust.config, trust.template, trust.rules, pupils, as_of, **kw
        )

    return _planned(core_scale.sheet_snapshot(trust.template, {}), run)


def _risk_tab(module: Any, trust: core_scale.Trust, tabs: dict[str, pd.DataFrame],
              as_of: dt.date) -> Any:  # fmt: skip
    def run(plan: WritePlan) -> Any:
        return module.write_risk_tab(
            plan, trust.template, trust.rules, trust.config.term_dates, tabs, as_of
        )

    return _planned(core_scale.sheet_snapshot(trust.template, {}), run)


BENCH_DAYS = (core_scale.NOW.date(), dt.date(2026, 1, 12), dt.date(2026, 4, 25))


@pytest.mark.parametrize("as_of", BENCH_DAYS)
def test_derived_tabs_of_a_night_identical(night: Any, as_of: dt.date) -> None:
    trust, tabs = night
    pupils = deadlines.with_sustained(tabs["destinations"], tabs["sustained"], trust.rules)
    kw = {"intentions": tabs["intentions"], "applications": tabs["applications"]}
    want = _derived(ref_derived, trust, pupils, as_of, **kw)
    assert _derived(sync, trust, pupils, as_of, **kw) == want
    log = want[0]
    titles = [entry[1] for entry in log if entry[0] == "replace_tab"]
    assert titles[0] == "Deadlines" and "Summary - Trust" in titles  # the case publishes
    want_risk = _risk_tab(ref_risk, trust, tabs, as_of)
    assert _risk_tab(risk, trust, tabs, as_of) == want_risk


@pytest.mark.parametrize("as_of", BENCH_DAYS[1:])
def test_derived_tabs_with_survey_rounds_identical(night: Any, as_of: dt.date) -> None:
    trust, tabs = night
    pupils = deadlines.with_sustained(tabs["destinations"], tabs["sustained"], trust.rules)
    intents, apps = _rounds_tabs(pupils, as_of.toordinal() % 97)
    kw = {"intentions": intents, "applications": apps}
    want = _derived(ref_derived, trust, pupils, as_of, **kw)
    assert _derived(sync, trust, pupils, as_of, **kw) == want
    assert "round_offer" in repr(want)  # the round tables are published
    with_rounds = {**tabs, "intentions": intents, "applications": apps}
    want_risk = _risk_tab(ref_risk, trust, with_rounds, as_of)
    assert _risk_tab(risk, trust, with_rounds, as_of) == want_risk
    assert len(want_risk[0][0][2][1]) > 10  # the Risk tab lists pupils


def test_derived_tabs_of_no_pupils_identical(night: Any) -> None:
    trust, tabs = night
    empty = tabs["destinations"].iloc[0:0]
    want = _derived(ref_derived, trust, empty, BENCH_DAYS[0])
    assert _derived(sync, trust, empty, BENCH_DAYS[0]) == want
    want_risk = _risk_tab(ref_risk, trust, {**tabs, "destinations": empty}, BENCH_DAYS[1])
    assert _risk_tab(risk, trust, {**tabs, "destinations": empty}, BENCH_DAYS[1]) == want_risk


# --- the seeded trusts of test_core_equivalence: loose cells ---------------------------------


def _deadline_rows(dl: Any, frame_rows: Any, dest: pd.DataFrame, as_of: dt.date, **kw: Any) -> Any:
    status = dl.entry_status(dest, RULES, TERMS, as_of, **kw)
    return _typed(frame_rows(dl.deadlines_tab(status))), status.attrs


@pytest.mark.parametrize("as_of", AS_OF)
def test_deadlines_and_risk_rows_of_loose_cells_identical(
    merged: dict[str, pd.DataFrame],  # noqa: F811
    as_of: dt.date,
) -> None:
    dest = deadlines.with_sustained(merged["destinations"], merged["sustained"], RULES)
    want = _deadline_rows(ref_deadlines, ref_derived.frame_rows, dest, as_of)
    assert _deadline_rows(deadlines, sync.frame_rows, dest, as_of) == want
    school = str(dest["school"].iloc[0])
    kw = {"school": school.upper(), "due_soon_days": 60}
    want = _deadline_rows(ref_deadlines, ref_derived.frame_rows, dest, as_of, **kw)
    assert _deadline_rows(deadlines, sync.frame_rows, dest, as_of, **kw) == want
    intents, apps = _rounds_tabs(dest, as_of.day)
    rng = random.Random(as_of.toordinal())
    levels = ("Level 2", "level 3", " Level 4", "Entry level", "Not sure", "", None)
    dest = dest.assign(  # levels to compare with Form A's, and a few pupils with no UPN
        on_track_level=[rng.choice(levels) for _ in range(len(dest))],
        current_intended_level=[rng.choice(levels) for _ in range(len(dest))],
        upn=[u if rng.random() < 0.95 else " " for u in dest["upn"]],
    )
    want_entries = ref_risk.assess(dest, intents, apps, RULES, TERMS, as_of)
    got = risk.assess(dest, intents, apps, RULES, TERMS, as_of)
    assert _typed([e.__dict__ for e in got]) == _typed([e.__dict__ for e in want_entries])
    columns = ["rank", "upn", "score", "reasons", "priority_groups", "nope"]
    assert risk.risk_rows(got, columns) == ref_risk.risk_rows(want_entries, columns)


def test_deadlines_of_odd_frames_identical() -> None:
    """No school / phase column, numbers for years, NaN and padding, no live cohort, no rows."""
    as_of = dt.date(2026, 6, 1)
    frame = pd.DataFrame(
        {
            "leaving_year": [2026, 2026, "2025 ", np.nan, "2026", 2031, "x"],
            "current_intended_destination": ["College", np.nan, " ", "NEET", None, "", "Job"],
            "current_intended_source": ["", "unknown (3 attempts)", "", "", "", "", ""],
            "current_intended_recorded": [
                "2026-05-01",
                "",
                np.nan,
                "2026-07-01",
                "2025-01-01T10:00",
                "",
                "",
            ],
            "intended_destination": ["A", "B", "C", "D", "E", "F", "G"],
            "intended_validated": ["y", "N", "Y ", None, "Y", "", ""],
            "intended_recorded": ["2026-13-01", "", "", "", "", "", ""],
            "actual_validated_destination": ["College", "Job", "NEET", "College", "", "A", "B"],
            "actual_validated_validated": ["y", " Y", "Y", "n", "Y", None, "Y"],
            "actual_validated_recorded": ["2025-09-01", "", "2026-01-01", "", "", "", ""],
        }
    )
    for dest in (
        frame,
        frame.assign(school=["S1", "S2", "S1", "S1", "S2", "S1", "S1"], phase=" Y11"),
        frame.assign(school=np.str_("S1"), phase=np.array(["Y11", "Y13"] * 3 + ["Y11"])),
        frame.iloc[0:0],
        frame.iloc[[5, 6]],
    ):
        want = _deadline_rows(ref_deadlines, ref_derived.frame_rows, dest, as_of)
        assert _deadline_rows(deadlines, sync.frame_rows, dest, as_of) == want
    odd = pd.DataFrame(
        {"a": [1, np.int64(2), np.nan, None], "b": [np.float64(0.5), "x", 3.0, True]}
    )
    assert _typed(sync.frame_rows(odd)) == _typed(ref_derived.frame_rows(odd))


# --- summary tabs: edge cases ------------------------------------------------------------------


def _tabs(module: Any, dest: pd.DataFrame, **kw: Any) -> Any:
    try:
        return _typed(module.summary_tabs(dest, TAX, POLICY, **kw))
    except DisclosureError as exc:
        return ("DisclosureError", str(exc))
    except Exception as exc:
        return (type(exc).__name__, str(exc))


def _messy(dest: pd.DataFrame, seed: int) -> pd.DataFrame:
    """Cells as a hand-made frame may hold them: NaN / None, padding, lower case, numbers."""
    rng = random.Random(seed)
    out = dest.copy()
    for col in ("send", "eal", "intended_destination", "actual_validated_level", "phase"):
        for i in rng.sample(list(out.index), max(len(out) // 8, 1)):
            out.loc[i, col] = rng.choice((None, float("nan"), " ", f" {out.loc[i, col]} "))
    for i in rng.sample(list(out.index), max(len(out) // 6, 1)):
        out.loc[i, "disadvantaged"] = " y "
        out.loc[i, "looked_after"] = "y"
        out.loc[i, "intended_other"] = np.str_("Gap year")
    out["leaving_year"] = out["leaving_year"].astype(int)  # numbers, not text
    return out


SUMMARY_CASES: dict[str, Callable[[], pd.DataFrame]] = {
    **seq.CASES,
    "messy_cells": lambda: _messy(seq._destinations(41, 3, (15, 40)), 41),
    "messy_one_school": lambda: _messy(seq._destinations(42, 1, (20, 40)), 42),
    "year_as_float": lambda: seq._destinations(43, 2, (20, 40)).assign(
        leaving_year=lambda d: d["leaving_year"].astype(float)
    ),
    "no_intended_column": lambda: seq._destinations(44, 2, (20, 40)).drop(
        columns=["intended_destination", "school"]
    ),
}


@pytest.mark.parametrize("case", sorted(SUMMARY_CASES))
def test_summary_tabs_edge_cases_identical(case: str) -> None:
    dest = SUMMARY_CASES[case]()
    assert _tabs(summary, dest) == _tabs(ref_summary, dest)
    assert _tabs(summary, dest, trust=False, entries=("intended", "actual_validated")) == _tabs(
        ref_summary, dest, trust=False, entries=("intended", "actual_validated")
    )


@pytest.mark.parametrize("seed", [51, 52])
def test_summary_tabs_with_rounds_and_messy_cells_identical(seed: int) -> None:
    dest = _messy(seq._destinations(seed, 3, (10, 35)), seed)
    intents, apps = seq._rounds_data(
        dest.assign(leaving_year=dest["leaving_year"].astype(str)), seed
    )
    # One school without any round row, a purged application, padded round keys are ignored.
    intents = intents[intents["school"] != "School C"]
    apps = apps[apps["school"] != "School C"].copy()
    apps.loc[apps.index[:3], "round"] = " " + apps.loc[apps.index[:3], "round"]
    kw = {"intentions": intents, "applications": apps, "rounds": RULES.rounds}
    want = _tabs(ref_summary, dest, **kw)
    assert _tabs(summary, dest, **kw) == want
    assert "round_applied" in repr(want)
    assert _tabs(summary, dest, intentions=intents, rounds=RULES.rounds) == _tabs(
        ref_summary, dest, intentions=intents, rounds=RULES.rounds
    )


def test_summary_rows_from_tables_holding_numpy_scalars(monkeypatch: pytest.MonkeyPatch) -> None:
    """Suppressed tables whose cells are numpy scalars, bools or None reach the rows the same."""

    def numpy_cells(real: Callable[..., dict[str, pd.DataFrame]]) -> Callable[..., Any]:
        def suppress(*args: Any, **kwargs: Any) -> dict[str, pd.DataFrame]:
            out = {}
            for kind, table in real(*args, **kwargs).items():
                t = table.astype({"count": object, "percent": object})
                t["count"] = [np.int64(v) if isinstance(v, int) else v for v in t["count"]]
                t["percent"] = [np.float64(v) if isinstance(v, float) else v for v in t["percent"]]
                t.loc[t.index[::17], "breakdown"] = np.str_("all")
                out[kind] = t
            return out

        return suppress

    monkeypatch.setattr(summary, "_suppress", numpy_cells(summary._suppress))
    monkeypatch.setattr(ref_summary, "_suppress", numpy_cells(ref_summary._suppress))
    for dest in (seq._destinations(61, 3, (20, 40)), seq._small_groups()):
        want = _tabs(ref_summary, dest)
        assert _tabs(summary, dest) == want
        assert "int64" not in repr(want)  # numpy scalars never reach the sheet


def test_summary_tables_identical_with_school_filter() -> None:
    dest = _messy(seq._destinations(71, 3, (15, 30)), 71)
    for entry in summary.ENTRIES:
        for school in (None, "School B", "Nowhere"):
            got = summary.summary_tables(dest, TAX, entry=entry, school=school)
            want = ref_summary.summary_tables(dest, TAX, entry=entry, school=school)
            assert list(got) == list(want)
            for kind in want:
                assert seq._frame(got[kind]) == seq._frame(want[kind]), (entry, school, kind)
    with pytest.raises(ValueError, match="unknown entry"):
        summary.summary_tables(dest, TAX, entry="nope")
