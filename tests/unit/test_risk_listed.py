"""`risk._listed` builds the risk list column by column (issue 7, brief R3): reasons once per
(cohort, Form A level, on-track level), Form A's label once per distinct plan, priority groups once
per distinct flags, the ranking by the other sort fields then runs of equal ones by UPN, entries
made with their instance dict set at once, and the Risk tab's cells (`write_risk_tab`) picked
column by column. Checked against the frozen P4 code (tests/unit/_reference_p4/risk.py) on
generated pupils: repeated UPNs and whole rows (ties keep their order), missing name or flag
columns, text-only columns with numbers, blanks and pd.NA (`na_as_blank`), round rows for some pupils, a tab with
unknown, repeated or no column keys.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gsync import risk
from gsync.sheetio import TextRows
from tests.unit._reference_p4 import risk as ref_risk
from tests.unit.test_deadlines_counts import na_as_blank
from tests.unit.test_derived_equivalence import _typed
from tests.unit.test_risk_fast import (
    APPLICATION_COLUMNS,
    DAYS,
    INTENTION_COLUMNS,
    PUPIL_COLUMNS,
    RULES,
    _frame,
    pupil,
    round_row,
)


@dataclasses.dataclass
class _Column:
    key: str
    header: str


@dataclasses.dataclass
class _Tab:
    title: str
    columns: list[_Column]

    @property
    def keys(self) -> list[str]:
        return [c.key for c in self.columns]


@dataclasses.dataclass
class _Template:
    risk: _Tab

    def tab(self, key: str) -> _Tab:
        assert key == "risk"
        return self.risk


class _Plan:
    def __init__(self) -> None:
        self.calls: list[Any] = []
        self.texts: list[bool] = []

    def replace_tab(self, title: str, rows: Sequence[Sequence[Any]]) -> bool:
        texts = type(rows) is TextRows
        if texts:  # the caller's word to sheetio: every cell exactly a str, each row a new list
            assert all(type(r) is list for r in rows)
            assert len({id(r) for r in rows}) == len(rows)
            assert all(type(c) is str for r in rows for c in r)
        self.texts.append(texts)
        self.calls.append((title, _typed([list(r) for r in rows]), [type(r) for r in rows]))
        return True


KEYS = [*risk._RISK_KEYS, "nope", "labels", "score", "rank"]
loose = st.sampled_from(["", " ", "Ann", " Bo", "Cy ", 7, 7.0, None, float("nan"), pd.NA])


def _written(module: Any, tabs: dict[str, Any], keys: list[str], day: dt.date) -> Any:
    plan = _Plan()
    template = _Template(_Tab("Risk", [_Column(k, f"H {k}") for k in keys]))
    entries = module.write_risk_tab(plan, template, RULES, {}, tabs, day)
    return plan.calls, _typed([e.__dict__ for e in entries])


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    pupils=st.lists(pupil(), max_size=40),
    copies=st.lists(st.integers(0, 39), max_size=4),
    names=st.lists(st.tuples(st.integers(0, 39), st.sampled_from(PUPIL_COLUMNS), loose)),
    intents=st.lists(round_row("intention"), max_size=6),
    apps=st.lists(round_row("application"), max_size=6),
    day=st.sampled_from(DAYS),
    drop=st.sampled_from(
        [(), ("preferred_forename",), ("legal_surname", "send"), ("latest_guidance_interview",)]
    ),
    keys=st.lists(st.sampled_from(KEYS), max_size=18),
)
def test_write_risk_tab_equals_p4(
    pupils: list[dict[str, Any]],
    copies: list[int],
    names: list[tuple[int, str, Any]],
    intents: list[dict[str, Any]],
    apps: list[dict[str, Any]],
    day: dt.date,
    drop: tuple[str, ...],
    keys: list[str],
) -> None:
    pupils = [dict(p) for p in pupils] + [dict(pupils[i]) for i in copies if i < len(pupils)]
    for i, column, value in names:  # loose cells (numbers, NaN, None) in any column
        if i < len(pupils) and column not in ("upn", "leaving_year", "phase"):
            pupils[i][column] = value
    columns = [c for c in PUPIL_COLUMNS if c not in drop]
    tabs = {
        "destinations": _frame(pupils, columns),
        "intentions": _frame(intents, INTENTION_COLUMNS) if intents else None,
        "applications": _frame(apps, APPLICATION_COLUMNS) if apps else None,
    }
    old = {k: None if v is None else na_as_blank(v) for k, v in tabs.items()}
    written = _written(risk, tabs, keys, day)
    assert written == _written(ref_risk, old, keys, day)
    # The sync's call (entries=False) writes the same tab and builds no list.
    plan = _Plan()
    template = _Template(_Tab("Risk", [_Column(k, f"H {k}") for k in keys]))
    assert risk.write_risk_tab(plan, template, RULES, {}, tabs, day, entries=False) == []
    assert plan.calls == written[0]
    assert plan.texts == [True]  # checked by `_Plan.replace_tab`: loose cells become texts


def test_entries_are_the_dataclass_instances() -> None:
    """Entries made with their dict set at once equal, hash and print as RiskEntry(...)."""
    assert tuple(f.name for f in dataclasses.fields(risk.RiskEntry)) == risk._ENTRY_FIELDS
    one = {
        **{c: "" for c in PUPIL_COLUMNS},
        "upn": "U1",
        "leaving_year": "2026",
        "phase": "Y11",
        "send": "K",
        "preferred_forename": "Al",
        "current_intended_destination": "College",
        "current_intended_level": "Level 3",
        "on_track_level": "Level 2",
        "current_intended_recorded": "2026-01-01",
    }
    dest = _frame([one, {**one, "upn": "U0", "eal": "Y"}], PUPIL_COLUMNS)
    got = risk.assess(dest, None, None, RULES, {}, dt.date(2026, 4, 20))
    assert [e.upn for e in got] == ["U0", "U1"]
    for entry in got:
        made = risk.RiskEntry(**entry.__dict__)
        assert type(entry) is risk.RiskEntry
        assert list(entry.__dict__) == list(made.__dict__)
        assert entry == made and hash(entry) == hash(made) and repr(entry) == repr(made)
        assert entry.sort_key() == made.sort_key() and entry.score == made.score


def test_then_by_sorts_runs_by_text_stably() -> None:
    key = np.array([2, 1, 2, 1, 2, 0], dtype=np.int64)
    texts = np.array(["b", "z", "a", "a", "b", "q"], dtype=object)
    order = np.argsort(key, kind="stable")
    got = risk._then_by(order, key, texts).tolist()
    assert got == sorted(range(6), key=lambda i: (key[i], texts[i]))
    assert got == [5, 3, 1, 2, 0, 4]
    empty = np.array([], dtype=np.intp)
    assert risk._then_by(empty, empty, texts[:0]).tolist() == []


def test_a_frame_of_one_listed_pupil_with_no_name_columns() -> None:
    row = {"upn": "U1", "leaving_year": "2026", "phase": "Y13"}
    tabs = {"destinations": pd.DataFrame([row], dtype=object)}
    for day in DAYS:
        assert _written(risk, tabs, KEYS, day) == _written(ref_risk, tabs, KEYS, day)


class _Header(str):
    """A header that is a text but not exactly a str."""


def test_a_header_not_exactly_a_str_is_no_promise_of_texts() -> None:
    row = {"upn": "U1", "leaving_year": "2026", "phase": "Y13"}
    tabs = {"destinations": pd.DataFrame([row], dtype=object)}
    for header, promised in ((_Header("H"), False), ("H", True)):
        plan = _Plan()
        template = _Template(_Tab("Risk", [_Column("upn", "UPN"), _Column("rank", header)]))
        risk.write_risk_tab(plan, template, RULES, {}, tabs, DAYS[0], entries=False)
        assert plan.texts == [promised]
