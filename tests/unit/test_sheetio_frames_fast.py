"""The fast paths of sheetio's frame reading and write planning against the frozen reference
(`_reference_sheetio`, the code before issue 7's speed-ups), on the cases they branch on.

`tab_frame` builds its frame's object block a slice of rows at a time (`_BLOCK_ROWS`): here with
slices of a few rows, so ragged rows (shorter or longer than the header), columns skipped in the
layout and slices' edges all meet in small grids.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from pandas.testing import assert_frame_equal

from gsync import sheetio as new_io
from gsync.errors import GsyncError
from tests.unit import _reference_sheetio as ref_io
from tests.unit.test_sheetio_equivalence import SEEDS, SETTINGS, Col, Tab, _run_both

PEOPLE = Tab(
    "people",
    "People",
    (
        Col("upn", "UPN"),
        Col("dest", "Destination"),
        Col("note", "Staff note", "staff"),
        Col("school", "School"),
    ),
)
HEADERS = ["UPN", "upn", "Destination", "Staff  note", "School", "Extra", "x", "y", "", ""]
TEXTS = ["", "", "a", "b", "College", "=1+1", " padded ", "1,234", "TRUE", "nan", "0", "é"]


@contextmanager
def _block_rows(n: int) -> Iterator[None]:
    saved = new_io._BLOCK_ROWS
    new_io._BLOCK_ROWS = n
    try:
        yield
    finally:
        new_io._BLOCK_ROWS = saved


def _grid(rng: random.Random) -> list[list[str]]:
    header = new_io._trim([rng.choice(HEADERS) for _ in range(rng.randint(0, 9))])
    if rng.random() < 0.7:  # usually one name per column (a repeated one raises, as before)
        seen: set[str] = set()
        for i, h in enumerate(header):
            if new_io._norm_header(h) in seen:
                header[i] = ""
            seen.add(new_io._norm_header(h))
    n = rng.choice([0, 1, 2, 3, 5, 8, 13, 30])
    body = []
    for _ in range(n):
        width = rng.choice([len(header), len(header), rng.randint(0, len(header) + 4)])
        body.append(new_io._trim([rng.choice(TEXTS) for _ in range(width)]))
    return [header, *body] if header or body else body


def _assert_same_frames(grid: list[list[str]]) -> None:
    info = new_io.TabInfo(sheet_id=7, title="People", index=0, rows=50, cols=10)
    snapshot = new_io.Snapshot("sid", "T", {"People": info}, {"People": grid})
    outcomes: list[object] = []
    for mod in (ref_io, new_io):
        try:
            outcomes.append(mod.tab_frame(snapshot, PEOPLE))
        except GsyncError as exc:
            outcomes.append((type(exc), str(exc)))
    ref, cur = outcomes
    if isinstance(ref, tuple):
        assert cur == ref
        return
    assert isinstance(ref, ref_io.TabFrame) and isinstance(cur, new_io.TabFrame)
    assert_frame_equal(cur.frame, ref.frame)
    assert (cur.title, cur.layout, cur.missing) == (ref.title, ref.layout, ref.missing)
    assert cur.frame._mgr.nblocks == ref.frame._mgr.nblocks
    for name in ref.frame.columns:  # the very str objects read
        assert all(a is b for a, b in zip(cur.frame[name], ref.frame[name], strict=True))


@SETTINGS
@given(SEEDS, st.sampled_from([1, 2, 3, 7, 1024]))
@example(seed=0, block=1)
def test_tab_frame_in_slices_reads_the_same_frame(seed: int, block: int) -> None:
    grid = _grid(random.Random(seed))
    with _block_rows(block):
        _assert_same_frames(grid)


@pytest.mark.parametrize("block", [1, 5, 1024])
def test_tab_frame_large_ragged_grid(block: int) -> None:
    """More rows than one slice: short, long and empty rows, a gap in the header."""
    rng = random.Random(block)
    header = ["UPN", "Extra", "", "Destination", "School", "", "Staff note"]
    body = [
        new_io._trim([f"{rng.choice(TEXTS)}{i}" for _ in range(rng.randint(0, 10))])
        for i in range(2600)
    ]
    with _block_rows(block):
        _assert_same_frames([header, *body])
        _assert_same_frames([["UPN", "Extra", "Destination"], *body])  # every column named


# --- update_frame: cells holding the very object read are unchanged -----------------------------

SHARED = ["", "a", "College", None, math.nan, 3, 2.5, True, pd.NA, pd.NaT, np.float64(1.5), np.str_("x")]  # fmt: skip


def _fresh(value: Any) -> Any:
    """An equal value that is another object (a str built anew, a number recomputed)."""
    if type(value) is str:
        return (value + ".")[:-1]  # a new str (but "" and one-letter ones: CPython shares those)
    if isinstance(value, float) and not math.isnan(value):
        return value + 0.0  # a new float or np.float64
    return value


def _frames_case(
    seed: int,
) -> tuple[new_io.Snapshot, new_io.TabFrame, pd.DataFrame, set[str] | None]:
    rng = random.Random(seed)
    names = rng.sample(["upn", "dest", "note", "school", "score", "flag"], rng.randint(1, 6))
    layout = {n: i + rng.randint(0, 1) * 3 for i, n in enumerate(names)}
    n_old = rng.choice([1, 2, 5, 17, 40])
    old_cols: dict[str, list[Any]] = {
        n: [rng.choice(SHARED) if rng.random() < 0.2 else rng.choice(TEXTS) for _ in range(n_old)]
        for n in names
        if rng.random() < 0.9
    }
    old_frame = pd.DataFrame(old_cols, columns=list(old_cols), dtype=object)
    if old_cols and rng.random() < 0.1:  # a typed column as read by hand (never from a sheet)
        old_frame[next(iter(old_cols))] = pd.Series([rng.randint(0, 2) for _ in range(n_old)])
    if len(old_cols) > 1 and rng.random() < 0.05:  # a repeated name: raises as before
        old_frame.columns = [old_frame.columns[0], *old_frame.columns[:-1]]
    old = new_io.TabFrame("People", old_frame, layout)
    n_new = n_old + rng.choice([0, 0, 2])
    new_cols: dict[str, list[Any]] = {}
    for n in names:
        base = old_cols.get(n, [""] * n_old)
        values = []
        for v in base:
            pick = rng.random()
            values.append(
                v if pick < 0.6 else _fresh(v) if pick < 0.8 else rng.choice(SHARED + TEXTS)
            )
        new_cols[n] = values + [rng.choice(TEXTS) for _ in range(n_new - n_old)]
    order = list(new_cols)
    rng.shuffle(order)
    if rng.random() < 0.3:  # one 2-D block in Fortran order: every column strided
        block = np.empty((n_new, len(order)), dtype=object, order="F")
        for j, n in enumerate(order):
            block[:, j] = new_cols[n]
        new = pd.DataFrame(block, columns=order, dtype=object, copy=False)
    else:
        new = pd.DataFrame({n: new_cols[n] for n in order}, columns=order, dtype=object)
    if rng.random() < 0.1:
        new[order[0]] = new[order[0]].astype("str")  # pandas' text dtype
    writable = None if rng.random() < 0.3 else {n for n in names if rng.random() < 0.7}
    info = new_io.TabInfo(sheet_id=7, title="People", index=0, rows=n_old + 1, cols=4)
    snapshot = new_io.Snapshot("sid", "T", {"People": info}, {"People": []})
    return snapshot, old, new, writable


@SETTINGS
@given(SEEDS)
@example(seed=0)
def test_update_frame_by_addresses_plans_the_same_requests(seed: int) -> None:
    snapshot, old, new, writable = _frames_case(seed)
    _run_both(snapshot, lambda p: p.update_frame(old, new, writable=writable), seed)
    _run_both(snapshot, lambda p: p.update_frame(old, new), seed)


def test_addresses_are_the_elements_ids() -> None:
    values = np.array(["a", None, 3, "a" * 3, math.nan], dtype=object)
    for view in (values, values[::2], values[1:], np.asfortranarray(np.stack([values, values]))[0]):
        assert new_io._addresses(view).tolist() == [id(v) for v in view]


# --- replace_tab: the rows that changed ----------------------------------------------------------

#: Cells a derived tab may hold, with the texts a read may show for them: numbers equal or near,
#: True against 1 (equal keys in a dict), -0.0, NaN, values that refuse == (pd.NA) or overflow.
CELLS: list[Any] = ["", "a", "c", "1,234", "TRUE", " x", 0, 1, 1234, 0.0, -0.0, 1.0, 12.5, 1e-10, 1234.0000000001, True, False, None, math.nan, math.inf, np.float64(12.5), np.int64(1), np.str_("a"), np.bool_(True), pd.NA, pd.NaT, 10**400]  # fmt: skip
READS = ["", "", "a", "c", "0", "1", "1,234", "1234", "12.5", "TRUE", "true", "FALSE", "nan", "inf", "1e-10", "0.0", "-0", "x"]  # fmt: skip


def _shown(value: Any, rng: random.Random) -> str:
    """What a read may give for a cell: usually its text, sometimes something else."""
    if rng.random() < 0.3:
        return rng.choice(READS)
    if value is None or value is pd.NA or value is pd.NaT:
        return ""
    if isinstance(value, bool | np.bool_):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int) and abs(value) > 10**20:
        return rng.choice(["1", "x"])
    if isinstance(value, float | np.floating) and math.isfinite(value):
        return str(int(value)) if float(value).is_integer() else repr(float(value))
    return str(value)


def _tab_case(seed: int) -> tuple[list[list[str]], list[Any]]:
    rng = random.Random(seed)
    width = rng.randint(0, 6)
    text_only = rng.random() < 0.3
    rows: list[Any] = []
    for _ in range(rng.choice([0, 1, 2, 5, 12, 30])):
        row = [
            rng.choice(TEXTS if text_only or rng.random() < 0.5 else CELLS) for _ in range(width)
        ]
        if rng.random() < 0.2:
            row = row[: rng.randint(0, width)]
        rows.append(tuple(row) if rng.random() < 0.15 else row)
    grid = [new_io._trim([_shown(v, rng) for v in r]) for r in rows]
    if rng.random() < 0.3 and grid:
        grid = grid[: rng.randrange(len(grid))]
    if rng.random() < 0.3:
        grid += [[rng.choice(READS) for _ in range(rng.randint(0, 4))] for _ in range(3)]
    if rng.random() < 0.2:  # repeat rows: the same (text, number) pairs meet again
        rows, grid = rows * 2, grid * 2
    return grid, rows


def _outcome(call: Any) -> Any:
    try:
        return ("ok", call())
    except Exception as exc:
        return (type(exc), str(exc))


@SETTINGS
@given(SEEDS)
@example(seed=0)
def test_changed_rows_are_the_rows_rows_equal_finds_changed(seed: int) -> None:
    grid, rows = _tab_case(seed)
    want = _outcome(
        lambda: [
            i
            for i in range(max(len(grid), len(rows)))
            if not ref_io._rows_equal(grid[i : i + 1] or [[]], rows[i : i + 1] or [[]])
        ]
    )
    assert _outcome(lambda: new_io._changed_rows(grid, rows)) == want


@SETTINGS
@given(SEEDS)
def test_replace_tab_writes_the_rows_as_before(seed: int) -> None:
    """The same plan as the code before the fast comparison (a copy of it, `_changed_rows`'s
    reference comprehension and `_runs`), for an existing tab."""
    grid, rows = _tab_case(seed)
    info = new_io.TabInfo(sheet_id=4, title="Tab", index=0, rows=10, cols=3)
    snapshot = new_io.Snapshot("sid", "T", {"Tab": info}, {"Tab": grid})
    plan = new_io.WritePlan(snapshot)
    got = _outcome(lambda: plan.replace_tab("Tab", rows))
    expected = new_io.WritePlan(snapshot)
    want = _outcome(lambda: _replace_tab_before(expected, "Tab", rows))
    assert got == want
    if got[0] == "ok":
        assert plan.requests == expected.requests and plan.changes == expected.changes
        assert plan._sizes == expected._sizes


def _replace_tab_before(plan: new_io.WritePlan, title: str, rows: list[Any]) -> bool:
    """`WritePlan.replace_tab` for an existing tab as it was before `_changed_rows`."""
    width = max((len(r) for r in rows), default=0)
    old = plan.snapshot.grid(title)
    changed = [
        i
        for i in range(max(len(old), len(rows)))
        if not ref_io._rows_equal(old[i : i + 1] or [[]], rows[i : i + 1] or [[]])
    ]
    if not changed:
        return False
    width_all = max(width, max((len(r) for r in old), default=0))
    for start, end in ref_io._runs(changed):
        block = [list(r) + [""] * (width_all - len(r)) for r in rows[start:end]]
        block += [[""] * width_all for _ in range(end - start - len(block))]
        plan._write_block(title, start, 0, block)
    plan.changes.append(f"rewrite tab '{title}' ({len(changed)} of {len(rows)} rows changed)")
    return True


def test_sorted_runs_are_runs() -> None:
    rng = random.Random(5)
    for _ in range(500):
        indexes = sorted(rng.sample(range(80), rng.randint(0, 40)))
        assert new_io._sorted_runs(indexes) == ref_io._runs(indexes)


@SETTINGS
@given(seed=SEEDS)
def test_tab_frame_without_pandas_row_conversion_reads_the_same_frame(seed: int) -> None:
    """The fallback for a pandas without its (private) list-of-lists conversion."""
    grid = _grid(random.Random(seed))
    saved = new_io._pandas_rows
    new_io._pandas_rows = None
    try:
        _assert_same_frames(grid)
    finally:
        new_io._pandas_rows = saved
