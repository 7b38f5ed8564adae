"""The suppression and the check work on cells by number (`disclosure._Cells`: keys numbered in
sorted order, equations built on whole columns, the system solved by number): the same
equations, suppressed tables, exceptions and recoverable cells as the frozen code
(`_reference_disclosure`), on ragged tables hypothesis builds: repeated keys, groups without a
Total or without All pupils, breakdowns of one to three groups, All pupils under a breakdown,
trust cells without schools, numbers and odd texts as keys, counts past int64, and extra
equations naming cells no row holds."""

from __future__ import annotations

import random
from dataclasses import astuple
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gsync import disclosure
from gsync.disclosure import ALL_GROUP, TABLE_COLUMNS, TOTAL, TRUST_SCHOOL
from tests.unit import _reference_disclosure as ref
from tests.unit.test_disclosure_fast import live_equations, random_table

POLICY = disclosure.load_policy()
REF_POLICY = ref.load_policy()

SCHOOLS = ["S1", "S2", "s1", TRUST_SCHOOL, "Ä school", 7]
COHORTS = ["2025 Y11", "2026 Y11", 2026]
ENTRIES = ["t1\x1fintended", "t2\x1fintended", "t1\x1factual", "plain"]
SPLITS = [
    ("all", ALL_GROUP),
    ("send", "SEND"),
    ("send", "No SEND"),
    ("send", "Maybe SEND"),
    ("eal", "EAL"),
    ("eal", ALL_GROUP),
    ("all", "Odd"),
]
CATEGORIES = [TOTAL, "b", "a", "B", "é", "a b", ALL_GROUP, 3, ""]


@st.composite
def rows_st(draw: st.DrawFn) -> list[tuple[Any, ...]]:
    """Rows of a ragged table: a few of each key's values, each combination present with a
    drawn chance (dense enough for every kind of equation, sparse enough for gaps)."""
    pick = lambda values, most: draw(  # noqa: E731
        st.lists(st.sampled_from(values), min_size=1, max_size=most, unique=True)
    )
    schools, cohorts, entries = pick(SCHOOLS, 4), pick(COHORTS, 2), pick(ENTRIES, 3)
    splits, cats = pick(SPLITS, 5), pick(CATEGORIES, 5)
    chance = draw(st.sampled_from([0.3, 0.7, 0.9, 1.0]))
    rng = random.Random(draw(st.integers(0, 2**32)))
    return [
        (s, c, e, sp, cat, rng.choice([0, 0, 1, 2, 3, 5, 6, 7, 9, 12, 30, 100]))
        for s in schools
        for c in cohorts
        for e in entries
        for sp in splits
        for cat in cats
        if rng.random() < chance
    ]


def _frame(rows: list[tuple[Any, ...]]) -> pd.DataFrame:
    records = [[s, c, e, b, g, cat, n, 0.0] for s, c, e, (b, g), cat, n in rows]
    table = pd.DataFrame(records, columns=TABLE_COLUMNS)
    for col in TABLE_COLUMNS[:6]:
        table[col] = table[col].astype(object)
    return table


def _typed(values: Any) -> list[tuple[type, Any]]:
    return [(type(v), v) for v in list(values)]


def _outcome(fn: Any, *args: Any, **kwargs: Any) -> Any:
    try:
        return ("ok", fn(*args, **kwargs))
    except (AssertionError, KeyError, ValueError) as exc:
        return (type(exc).__name__, str(exc))


def _same_tables(got: Any, want: Any) -> None:
    assert got[0] == want[0]
    if got[0] != "ok":
        assert got == want
        return
    a, b = got[1], want[1]
    assert [str(t) for t in a.dtypes] == [str(t) for t in b.dtypes]
    for c in TABLE_COLUMNS:
        assert _typed(a[c]) == _typed(b[c]), c


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=rows_st(), repeat=st.integers(0, 4))
def test_equations_identical(rows: list[tuple[Any, ...]], repeat: int) -> None:
    table = _frame(rows + rows[:repeat])
    assert live_equations(table) == ref.equations(table)
    links = [
        (("t1", "a"), ("t2", "a")),
        (("t1", TOTAL), ("t2", TOTAL)),
        (("t2", "b"), ("t1", "3")),
        (("t1", "a"), ("t2", "missing")),  # no such category
        (("t1", "missing"), ("t2", "a")),
        (("t3", "a"), ("t1", "a")),  # no such table
        (("plain", "b"), ("t1", "b")),  # an entry without the separator
        (("t2", "a"), ("t2", "a")),  # a cell equal to itself
    ]
    assert disclosure._link_equations(table, links) == ref._link_equations(table, links)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    rows=rows_st(),
    repeat=st.integers(0, 3),
    zeros=st.booleans(),
    huge=st.booleans(),
    outside=st.booleans(),
)
def test_apply_suppression_identical(
    rows: list[tuple[Any, ...]], repeat: int, zeros: bool, huge: bool, outside: bool
) -> None:
    table = _frame(rows + rows[:repeat])
    if huge and len(table):
        table["count"] = table["count"].astype(object)
        table.loc[0, "count"] = 2**70
    keys = [ref._key(r) for r in ref.table_records(table)]
    extra = [(keys[i], [keys[i + 1]]) for i in range(0, len(keys) - 1, 5)]
    if outside and keys:
        # A cell no row holds, as the total of a hidden cell: hiding it needs its count.
        extra.append((("Nowhere", "x", "y", "z", "w"), [keys[0]]))
        extra.append((keys[-1], [("Nowhere", "x", "y", "z", "v"), keys[-1]]))
    policy = POLICY.model_copy(update={"suppress_zeros": zeros})
    ref_policy = REF_POLICY.model_copy(update={"suppress_zeros": zeros})
    got = _outcome(disclosure.apply_suppression, table, policy, _extra=extra)
    want = _outcome(ref.apply_suppression, table, ref_policy, _extra=extra)
    _same_tables(got, want)


def test_apply_suppression_with_outside_cells_raises_as_before() -> None:
    """A cell no row holds that the secondary suppression would hide: the same KeyError."""
    rng = random.Random(5)
    table = random_table(rng)
    keys = [ref._key(r) for r in ref.table_records(table)]
    hidden = ref.apply_suppression(table, REF_POLICY)["count"].tolist()
    first = next(i for i, n in enumerate(hidden) if isinstance(n, str))
    extra = [(("Nowhere", "x", "y", "z", "w"), [keys[first]])]
    got = _outcome(disclosure.apply_suppression, table, POLICY, _extra=extra)
    want = _outcome(ref.apply_suppression, table, REF_POLICY, _extra=extra)
    assert got == want and want[0] == "KeyError"


@pytest.mark.parametrize("seed", range(20))
def test_suppress_and_check_identical(seed: int) -> None:
    """Several tables with links, suppressed and then checked; then with cells published or
    hidden at random, checked again: the same tables and breaches."""
    rng = random.Random(9000 + seed)
    tables = {name: random_table(rng, max_schools=5) for name in ("t1", "t2")}
    links = [(("t1", TOTAL), ("t2", TOTAL)), (("t1", "a"), ("t2", "b"))]
    got = _outcome(disclosure.suppress_tables, tables, POLICY, links)
    want = _outcome(ref.suppress_tables, tables, REF_POLICY, links)
    assert got[0] == want[0]
    if got[0] != "ok":
        assert got == want
        return
    for name in tables:
        _same_tables(("ok", got[1][name]), ("ok", want[1][name]))
    pupils = pd.DataFrame({"upn": ["A123456789012"]}, dtype=object)
    done = got[1]
    for _ in range(4):
        broken = {k: v.copy() for k, v in done.items()}
        t = broken["t1"]
        for i in rng.sample(range(len(t)), max(1, len(t) // 10)):
            if t.loc[i, "count"] == POLICY.symbol:
                t.loc[i, ["count", "percent"]] = [int(tables["t1"].loc[i, "count"]), 1.0]
            else:
                t.loc[i, ["count", "percent"]] = POLICY.symbol
        for case in (done, broken):
            mine = disclosure.check_disclosure(case, POLICY, pupils, links=links)
            theirs = ref.check_disclosure(case, REF_POLICY, pupils, links=links)
            assert [astuple(b) for b in mine] == [astuple(b) for b in theirs]


@settings(max_examples=150, deadline=None)
@given(
    seed=st.integers(0, 2**32),
    rows=st.integers(1, 40),
    cols=st.integers(1, 30),
    density=st.sampled_from([0.05, 0.15, 0.4, 0.9]),
)
def test_pinned_columns_identical(seed: int, rows: int, cols: int, density: float) -> None:
    """The elimination that updates only the pivot row's non-zero columns: the same pinned
    columns as the frozen one, on sparse matrices of small integers (rows repeated, rows of
    zeros, the coefficients equations give: 1, -1, 0 and multiples)."""
    rng = np.random.default_rng(seed)
    a = rng.choice([-2.0, -1.0, 1.0, 2.0], size=(rows, cols))
    a *= rng.random((rows, cols)) < density
    if rows > 2:
        a[rows // 2] = a[0]  # a repeated equation
        a[rows - 1] = a[0] - a[1]  # a dependent one
    assert disclosure._pinned_columns(a) == ref._pinned_columns(a)
