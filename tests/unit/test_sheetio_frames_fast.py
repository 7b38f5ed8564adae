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
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from pandas.testing import assert_frame_equal

from gsync import sheetio as new_io
from gsync.errors import GsyncError
from tests.unit import _reference_sheetio as ref_io
from tests.unit.test_sheetio_equivalence import _run_both

SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
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
