"""The optimised write plan and frame reading give exactly what the code before the speed-up gave.

`_reference_sheetio` is a frozen copy of gsync/sheetio.py from before the speed-up (issue 7). Every
case runs the reference and the current `WritePlan` methods (and `tab_frame`, which `pupil_frame`
wraps) on the same seeded random input and compares the plans' requests and changes with ==, and
also as JSON (== alone takes 1 for 1.0 and True), the number of cells written, the exceptions raised,
and the frames read with assert_frame_equal (dtypes included). The current plan keeps its cell
writes compactly (`CellBlock`): every plan's bodies, as `apply_plan` cuts and encodes them, are
also compared byte for byte with what the frozen `_reference_writebatch` makes of its dicts.
"""

from __future__ import annotations

import json
import math
import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from pandas.testing import assert_frame_equal

from gsync import sheetio as new_io
from gsync import writebatch as new_wb
from gsync.errors import GsyncError
from tests.unit import _reference_sheetio as ref_io
from tests.unit import _reference_writebatch as ref_wb

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SEEDS = st.integers(min_value=0, max_value=2**32 - 1)


@dataclass(frozen=True)
class Col:
    key: str
    header: str
    owner: str = "sync"


@dataclass(frozen=True)
class Tab:
    key: str
    title: str
    columns: tuple[Col, ...]


NAMES = ["upn", "dest", "note", "school", "score", "flag", "extra", "when"]
TEXTS = ["", "", "a", "b", "College", "=1+1", " padded ", "1,234", "TRUE", "nan", "0", "5"]


def _value(rng: random.Random) -> Any:
    """Any value a frame or a derived tab may hold."""
    kind = rng.randrange(16)
    if kind < 6:
        return rng.choice(TEXTS)
    return [
        None,
        math.nan,
        True,
        False,
        rng.randint(-3, 3),
        rng.choice([0.0, 1.0, 84.9, -2.5, 1e-12, math.inf]),
        np.int64(rng.randint(0, 3)),
        np.float64(rng.choice([0.0, 2.5, math.nan])),
        np.bool_(rng.random() < 0.5),
        pd.NaT if rng.random() < 0.5 else np.str_(rng.choice(["", "x"])),
    ][kind - 6]


def _text_value(rng: random.Random) -> Any:
    """Mostly text, as the sync's frames are (object columns of str), with a few others."""
    return rng.choice(TEXTS) if rng.random() < 0.85 else _value(rng)


def _column(rng: random.Random, n: int, values: list[Any] | None = None) -> pd.Series:
    """A column of n values: object (usually) or a typed dtype."""
    kind = rng.randrange(10)
    if values is not None and kind < 8:
        return pd.Series(values, dtype=object)
    if kind < 7:
        return pd.Series([_text_value(rng) for _ in range(n)], dtype=object)
    if kind == 7:
        return pd.Series([rng.randint(0, 2) for _ in range(n)], dtype="int64")
    if kind == 8:
        return pd.Series([rng.choice([0.0, 1.5, math.nan]) for _ in range(n)], dtype="float64")
    return pd.Series([rng.choice(["", "a", "b"]) for _ in range(n)], dtype="str")


def _json(obj: Any) -> str:
    return json.dumps(obj, default=repr)


#: Body limits: one body, and small enough to cut these plans into several (or to refuse them).
MAX_BYTES = (new_wb.DEFAULT_MAX_BYTES, 2_000, 700, 300)


def _outcome(make: Callable[[], Any]) -> Any:
    try:
        return [new_wb.body(parts) for parts in make()]
    except (ValueError, UnicodeError) as exc:  # TooLarge, a value JSON refuses (inf)
        return (type(exc).__name__, str(exc))


def _assert_sends_the_same(requests: list[dict[str, Any]], new: Any) -> None:
    """The current plan's bodies (compact cell blocks) are the reference's bodies of `requests`."""
    for max_bytes in MAX_BYTES:
        want = _outcome(lambda: ref_wb.split(requests, max_bytes))  # noqa: B023
        got = _outcome(lambda: new_wb.cut(new.items, max_bytes))  # noqa: B023
        assert got == want, max_bytes


def _assert_same_plans(ref: Any, new: Any) -> None:
    requests = list(new.requests)
    assert new.requests == ref.requests
    assert requests == ref.requests
    assert len(new.requests) == len(ref.requests)
    assert new.changes == ref.changes
    assert _json(requests) == _json(ref.requests)
    assert new._sizes == ref._sizes
    assert new.is_empty == ref.is_empty
    ids = [
        id(c)
        for q in requests
        for r in q.get("updateCells", {}).get("rows", [])
        for c in r["values"]
    ]
    assert len(ids) == len(set(ids))  # every cell its own dict: nothing shared between cells
    _assert_sends_the_same(ref.requests, new)


def _run_both(snapshot: new_io.Snapshot, call: Callable[[Any], Any], seed: int) -> tuple[Any, Any]:
    """Run `call(plan)` on a reference and a current plan; same result, same plan (or same error)."""
    results = []
    plans = []
    for mod in (ref_io, new_io):
        random.seed(seed)  # add_tab draws sheet ids at random
        plan = mod.WritePlan(snapshot)
        try:
            results.append(("ok", call(plan)))
        except Exception as exc:
            results.append((type(exc), str(exc)))
        plans.append(plan)
    assert results[1] == results[0]
    if results[0][0] == "ok":
        _assert_same_plans(plans[0], plans[1])
    return plans[0], plans[1]


# --- update_frame ---------------------------------------------------------------------------------


def _update_case(
    seed: int,
) -> tuple[new_io.Snapshot, new_io.TabFrame, pd.DataFrame, set[str] | None]:
    rng = random.Random(seed)
    # The sheet: some named columns somewhere (gaps allowed), rarely two names on one column.
    sheet_names = rng.sample(NAMES, rng.randint(0, len(NAMES)))
    positions = rng.sample(range(len(NAMES) + 3), len(sheet_names))
    if sheet_names and len(sheet_names) > 1 and rng.random() < 0.1:
        positions[-1] = positions[0]
    layout = dict(zip(sheet_names, positions, strict=True))
    n_old = rng.choice([0, 0, 1, 2, 5, 9, 14])
    old_names = [n for n in sheet_names if rng.random() < 0.9]
    old_frame = pd.DataFrame(
        {n: [rng.choice(TEXTS) for _ in range(n_old)] for n in old_names},
        columns=old_names,
        dtype=object,
    )
    if n_old and old_names and rng.random() < 0.2:
        old_frame.iat[0, 0] = None  # a read never has these; update_frame still copes
    old = new_io.TabFrame("People", old_frame, layout)
    # The new frame: the sheet's columns in any order, maybe more the sheet lacks.
    new_names = [n for n in NAMES if n in layout or rng.random() < 0.3]
    rng.shuffle(new_names)
    n_new = n_old + rng.choice([0, 0, 1, 3, 7])
    # Changed rows in runs and gaps: each row keeps the old values or applies one of a few
    # change patterns (so consecutive rows often change the same columns).
    patterns = [{n for n in new_names if rng.random() < 0.4} for _ in range(3)]
    cols: dict[str, pd.Series] = {}
    row_patterns = [rng.choice([set(), set(), *patterns]) for _ in range(n_old)]
    for name in new_names:
        base = old_frame[name].tolist() if name in old_frame else [""] * n_old
        values = [(_value(rng) if name in row_patterns[r] else base[r]) for r in range(n_old)] + [
            _text_value(rng) for _ in range(n_new - n_old)
        ]
        cols[name] = _column(rng, n_new, values)
    new = pd.DataFrame(cols, columns=new_names) if new_names else pd.DataFrame(index=range(n_new))
    if rng.random() < 0.1 and len(new):
        new.index = [f"r{i}" for i in range(len(new))]  # positions count, not labels
    writable = None if rng.random() < 0.3 else {n for n in NAMES if rng.random() < 0.6}
    rows, cols_count = rng.choice([(1, 1), (n_old + 2, 5), (1000, 26)])
    info = new_io.TabInfo(sheet_id=7, title="People", index=0, rows=rows, cols=cols_count)
    snapshot = new_io.Snapshot("sid", "T", {"People": info}, {"People": []})
    return snapshot, old, new, writable


@SETTINGS
@given(SEEDS)
@example(seed=0)
def test_update_frame_plans_the_same_requests(seed: int) -> None:
    snapshot, old, new, writable = _update_case(seed)
    _run_both(snapshot, lambda p: p.update_frame(old, new, writable=writable), seed)
    _run_both(snapshot, lambda p: p.update_frame(old, new), seed)


def test_update_frame_long_runs_and_gaps_of_changed_rows() -> None:
    """Many rows: runs of one span, a span that grows, shrinks and splits, gaps, new rows."""
    rng = random.Random(11)
    names = ["a", "b", "c", "d", "e"]
    layout = {"a": 0, "b": 1, "c": 2, "d": 4, "e": 5}
    n_old = 400
    old_frame = pd.DataFrame(
        {n: [f"{n}{i}" for i in range(n_old)] for n in names}, columns=names, dtype=object
    )
    old = new_io.TabFrame("People", old_frame, layout)
    new = old_frame.copy()
    spans = [set(), {"a"}, {"a", "b"}, {"b", "c"}, {"a", "c"}, {"d", "e"}, {"a", "b", "c", "d"}]
    r = 0
    while r < n_old:
        chosen = rng.choice(spans)
        for i in range(r, min(r + rng.randint(1, 30), n_old)):
            for n in chosen:
                new.at[i, n] = rng.choice(["x", "", 3, None, 2.5])
            r = i + 1
    new = pd.concat([new, new.iloc[:25]], ignore_index=True)
    info = new_io.TabInfo(sheet_id=7, title="People", index=0, rows=500, cols=8)
    snapshot = new_io.Snapshot("sid", "T", {"People": info}, {"People": []})
    _, cur = _run_both(snapshot, lambda p: p.update_frame(old, new), 1)
    assert len(cur.requests) > 10
    _run_both(snapshot, lambda p: p.update_frame(old, new, writable={"a", "c", "e"}), 1)


def test_update_frame_refuses_fewer_rows_the_same_way() -> None:
    snapshot = _update_case(3)[0]
    frame = pd.DataFrame({"upn": ["a", "b"]}, dtype=object)
    old = new_io.TabFrame("People", frame, {"upn": 0})
    _run_both(snapshot, lambda p: p.update_frame(old, frame.iloc[:1]), 0)
    with pytest.raises(GsyncError, match="fewer rows"):
        new_io.WritePlan(snapshot).update_frame(old, frame.iloc[:1])


# --- replace_tab and write_rows -------------------------------------------------------------------


def _shown(value: Any) -> str:
    """A value as Sheets shows it (what the next read returns)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, bool | np.bool_):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int | float | np.integer | np.floating):
        number = float(value)
        return str(int(number)) if number.is_integer() else repr(number)
    return str(value)


def _rows_case(rng: random.Random, n: int) -> list[Any]:
    width = rng.randint(0, 7)
    rows: list[Any] = []
    for _ in range(n):
        row = [_value(rng) if rng.random() < 0.5 else rng.choice(TEXTS) for _ in range(width)]
        if rng.random() < 0.3:
            row = row[: rng.randint(0, width)]  # ragged rows
        rows.append(tuple(row) if rng.random() < 0.2 else row)
    return rows


def _grid_of(rows: list[Any]) -> list[list[str]]:
    grid = [new_io._trim([_shown(v) for v in r]) for r in rows]
    while grid and not grid[-1]:
        grid.pop()
    return grid


@SETTINGS
@given(SEEDS)
@example(seed=0)
def test_replace_tab_plans_the_same_requests(seed: int) -> None:
    rng = random.Random(seed)
    rows = _rows_case(rng, rng.choice([0, 1, 3, 8, 20]))
    kind = rng.choice(["missing", "equal", "equal", "shorter", "longer", "different", "random"])
    tabs: dict[str, new_io.TabInfo] = {}
    grids: dict[str, list[list[str]]] = {}
    if kind != "missing":
        shown = _grid_of(rows)
        if kind == "shorter" and shown:
            shown = shown[: rng.randrange(len(shown))]
        elif kind == "longer":
            shown = shown + [[rng.choice(TEXTS[2:]) for _ in range(3)] for _ in range(3)]
        elif kind == "different" and shown:
            r = rng.randrange(len(shown))
            shown[r] = [*shown[r], "", "x"] if rng.random() < 0.5 else shown[r][:-1]
            if rng.random() < 0.5 and shown[r]:
                shown[r][0] = rng.choice(["1,234", "1234", "true", "0.0", " a"])
        elif kind == "random":
            shown = [
                [rng.choice(TEXTS) for _ in range(rng.randint(0, 5))] for _ in range(len(rows))
            ]
        tabs["Tab"] = new_io.TabInfo(sheet_id=4, title="Tab", index=0, rows=30, cols=5)
        grids["Tab"] = shown
    snapshot = new_io.Snapshot("sid", "T", tabs, grids)
    hidden, frozen = rng.random() < 0.5, rng.randint(0, 2)
    if kind == "missing":  # a new tab: the same requests
        _run_both(
            snapshot, lambda p: p.replace_tab("Tab", rows, hidden=hidden, frozen_rows=frozen), seed
        )
    else:
        # An existing tab: the reference rewrote every row, the current code only the rows that
        # differ. The tab must end up showing the same thing either way.
        plans = []
        for mod in (ref_io, new_io):
            plan = mod.WritePlan(snapshot)
            plans.append((plan.replace_tab("Tab", rows), plan))
        (ref_changed, ref_plan), (new_changed, new_plan) = plans
        # The reference also rewrote a tab whose only difference was blank rows at the end.
        assert new_changed <= ref_changed
        assert new_changed == (not new_plan.is_empty)
        _assert_shows_the_same(grids["Tab"], rows, ref_plan, new_plan)
        _assert_sends_the_same(list(new_plan.requests), new_plan)
    # The equality check alone (what the steady night mostly runs).
    if kind != "missing":
        assert new_io._rows_equal(grids["Tab"], rows) == ref_io._rows_equal(grids["Tab"], rows)


def _after(grid: list[list[str]], plan: Any) -> dict[tuple[int, int], Any]:
    """Each cell after the plan's writes: ("read", text as read) or ("written", CellData)."""
    cells: dict[tuple[int, int], Any] = {
        (r, c): ("read", text) for r, row in enumerate(grid) for c, text in enumerate(row)
    }
    for request in plan.requests:
        update = request.get("updateCells")
        if update is None:
            continue
        start = update["start"]
        for i, row in enumerate(update["rows"]):
            for j, data in enumerate(row["values"]):
                cells[(start["rowIndex"] + i, start["columnIndex"] + j)] = ("written", data)
    return cells


def _assert_shows_the_same(
    grid: list[list[str]], rows: list[list[Any]], ref_plan: Any, new_plan: Any
) -> None:
    """Cell by cell, the two plans leave the same values; where the current plan left a cell as
    read, that cell already shows the value meant for it (`_same`, the tab's own equality)."""
    ref, new = _after(grid, ref_plan), _after(grid, new_plan)
    for key in set(ref) | set(new):
        a, b = ref.get(key, ("read", "")), new.get(key, ("read", ""))
        if a == b:
            continue
        assert b[0] == "read", (key, a, b)  # a cell the current plan wrote, differently
        r, c = key
        meant = rows[r][c] if r < len(rows) and c < len(rows[r]) else ""
        assert new_io._same(b[1], meant), (key, a, b, meant)


def test_rows_equal_matches_on_numbers_booleans_and_blanks() -> None:
    cases: list[tuple[list[str], list[Any]]] = [
        (["1,234", "TRUE", "", "0"], [1234, True, None, 0.0]),
        (["1234.0000000001"], [1234]),
        (["nan"], [math.nan]),
        (["inf"], [math.inf]),
        ([""], [math.nan]),
        (["5"], [np.int64(5)]),
        (["True"], [np.bool_(True)]),
        (["x"], [np.str_("x")]),
        (["a", ""], ["a"]),
        (["a"], ["a", ""]),
        (["a"], ["a", None]),
        (["1"], [True]),
        (["<NA>"], [pd.NA]),
    ]
    for old, new in cases:
        assert new_io._rows_equal([old], [new]) == ref_io._rows_equal([old], [new]), (old, new)


@SETTINGS
@given(SEEDS)
def test_write_rows_plans_the_same_requests(seed: int) -> None:
    rng = random.Random(seed)
    rows = _rows_case(rng, rng.choice([0, 1, 4, 12]))
    info = new_io.TabInfo(sheet_id=4, title="Tab", index=0, rows=rng.randint(1, 20), cols=3)
    snapshot = new_io.Snapshot("sid", "T", {"Tab": info}, {"Tab": []})
    row0, col0 = rng.randint(0, 20), rng.randint(0, 4)
    _run_both(snapshot, lambda p: p.write_rows("Tab", row0, col0, rows), seed)


@SETTINGS
@given(SEEDS)
def test_cell_is_unchanged(seed: int) -> None:
    rng = random.Random(seed)
    for _ in range(20):
        v = _value(rng)
        assert _json(new_io.cell(v)) == _json(ref_io.cell(v))


# --- tab_frame (pupil_frame) ----------------------------------------------------------------------


PEOPLE = Tab(
    "people",
    "People",
    (Col("upn", "UPN"), Col("dest", "Destination"), Col("note", "Staff note", "staff")),
)
HEADERS = [
    "UPN",
    "upn",
    "Destination",
    "destination",
    "Staff  note",
    "staff_note",
    "Extra",
    "",
    "x",
]


@SETTINGS
@given(SEEDS)
@example(seed=0)
def test_tab_frame_reads_the_same_frame(seed: int) -> None:
    rng = random.Random(seed)
    header = [rng.choice(HEADERS) for _ in range(rng.randint(0, 6))]
    body = [
        new_io._trim([rng.choice(TEXTS) for _ in range(rng.randint(0, len(header) + 2))])
        for _ in range(rng.choice([0, 1, 2, 6, 15]))
    ]
    grid = ([header] if header or body else []) + body
    info = new_io.TabInfo(sheet_id=7, title="People", index=0, rows=50, cols=10)
    snapshot = new_io.Snapshot("sid", "T", {"People": info}, {"People": grid})
    outcomes = []
    for mod in (ref_io, new_io):
        try:
            outcomes.append(mod.tab_frame(snapshot, PEOPLE))
        except GsyncError as exc:
            outcomes.append((type(exc), str(exc)))
    ref, cur = outcomes
    if isinstance(ref, tuple):
        assert cur == ref
        return
    assert isinstance(cur, new_io.TabFrame)
    assert_frame_equal(cur.frame, ref.frame)
    assert list(cur.frame.columns) == list(ref.frame.columns)
    assert (cur.title, cur.layout, cur.missing) == (ref.title, ref.layout, ref.missing)
    assert list(cur.layout) == list(ref.layout)
    for name in cur.frame.columns:  # the very values read, not just equal ones
        assert [type(v) for v in cur.frame[name]] == [type(v) for v in ref.frame[name]]
