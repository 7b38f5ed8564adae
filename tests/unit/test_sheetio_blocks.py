"""`WritePlan.update_frame`'s blocks of changed cells, found span by span (`_write_changed`), and
its count of the new rows' cells, against the frozen reference (`_reference_sheetio`).

The reference writes the changed rows one by one: a row's runs of adjacent changed sheet columns
(its spans) extend the open blocks of the row before, and the blocks it does not continue are
written as the row ends them. Here many rows change in a few patterns over wide tabs with gaps
between the sheet's columns, so blocks of several spans begin and end on the same rows (their
order in the plan), spans overlap, rows run on and break, the sheet grows mid-plan, and a tab
with very many kinds of span takes the row-by-row way; `_run_both` compares the plans, their
requests as JSON and the bodies `apply_plan` sends.
"""

from __future__ import annotations

import random
from typing import Any

import numpy as np
import pandas as pd
from hypothesis import example, given

from gsync import sheetio as new_io
from tests.unit.test_sheetio_equivalence import SEEDS, SETTINGS, _run_both

TEXTS = ["", "a", "b", "College", " padded ", "0", "é", "=1+1"]


def _value(rng: random.Random) -> Any:
    return rng.choice([*TEXTS, None, 3, 2.5, True, np.str_("x"), np.str_(""), float("nan")])


def _case(
    rng: random.Random,
    width: int,
    n_old: int,
    n_patterns: int,
    sheet_rows: int,
    sheet_cols: int,
    gaps: bool = True,
) -> tuple[new_io.Snapshot, new_io.TabFrame, pd.DataFrame, set[str] | None]:
    names = [f"c{i}" for i in range(width)]
    # Sheet positions with gaps (a sheet column no frame column names splits a span).
    positions = (
        sorted(rng.sample(range(width + width // 2 + 1), width)) if gaps else [*range(width)]
    )
    rng.shuffle(positions)
    layout = dict(zip(names, positions, strict=True))
    old_frame = pd.DataFrame(
        {n: [rng.choice(TEXTS) for _ in range(n_old)] for n in names}, columns=names, dtype=object
    )
    old = new_io.TabFrame("People", old_frame, layout)
    patterns = [{n for n in names if rng.random() < rng.choice([0.2, 0.5, 0.9])}]
    for _ in range(n_patterns - 1):  # often a neighbour of one before: spans shared, grown, cut
        base = set(rng.choice(patterns))
        for n in rng.sample(names, rng.randint(1, min(3, width))):
            base ^= {n}
        patterns.append(base)
    new = old_frame.copy()
    r = 0
    while r < n_old:
        chosen = rng.choice([set(), *patterns])
        for i in range(r, min(r + rng.choice([1, 1, 2, 3, 8, 20]), n_old)):
            for n in chosen:
                value = _value(rng)
                new.iat[i, names.index(n)] = (
                    "changed" if value == new.iat[i, names.index(n)] else value
                )
            r = i + 1
    extra = rng.choice([0, 0, 3])
    if extra:
        new = pd.concat([new, new.iloc[:extra]], ignore_index=True)
    order = list(names)
    rng.shuffle(order)
    new = new[order]
    if rng.random() < 0.3:  # a typed column: its values read with iat
        name = rng.choice(order)
        new[name] = pd.Series([rng.randint(0, 2) for _ in range(len(new))], dtype="int64")
    writable = None if rng.random() < 0.4 else {n for n in names if rng.random() < 0.8}
    info = new_io.TabInfo(sheet_id=7, title="People", index=0, rows=sheet_rows, cols=sheet_cols)
    snapshot = new_io.Snapshot("sid", "T", {"People": info}, {"People": []})
    return snapshot, old, new, writable


@SETTINGS
@given(SEEDS)
@example(seed=0)
@example(seed=5)
def test_blocks_of_many_rows_and_patterns_are_planned_the_same(seed: int) -> None:
    rng = random.Random(seed)
    n_old = rng.choice([1, 2, 7, 40, 120])
    snapshot, old, new, writable = _case(
        rng,
        width=rng.randint(1, 14),
        n_old=n_old,
        n_patterns=rng.randint(1, 6),
        sheet_rows=rng.choice([1, n_old // 2 + 1, n_old + 1, 1000]),
        sheet_cols=rng.choice([1, 5, 40]),
    )
    _run_both(snapshot, lambda p: p.update_frame(old, new, writable=writable), seed)
    _run_both(snapshot, lambda p: p.update_frame(old, new), seed)


def test_blocks_that_begin_and_end_together_keep_the_reference_order() -> None:
    """Every row of a run changes the same three spans, then a row continues only the middle
    one, then the three again: blocks of one span end on the rows another's begin."""
    names = ["a", "b", "c", "d", "e"]
    layout = {"a": 0, "b": 2, "c": 4, "d": 5, "e": 7}
    n_old = 12
    old_frame = pd.DataFrame({n: ["x"] * n_old for n in names}, columns=names, dtype=object)
    old = new_io.TabFrame("People", old_frame, layout)
    new = old_frame.copy()
    rows = {0: "abce", 1: "abce", 2: "b", 3: "abce", 4: "bc", 5: "c", 7: "c", 8: "ace", 9: "e"}
    for r, cols in rows.items():
        for n in cols:
            new.at[r, n] = f"{n}{r}"
    for sheet_rows in (3, 13):  # the sheet grows within the plan, or never
        info = new_io.TabInfo(sheet_id=7, title="People", index=0, rows=sheet_rows, cols=3)
        snapshot = new_io.Snapshot("sid", "T", {"People": info}, {"People": []})
        _, plan = _run_both(snapshot, lambda p: p.update_frame(old, new), 1)
        assert len(plan.requests) > 10


def test_very_many_kinds_of_span_are_written_row_by_row_the_same() -> None:
    """More kinds of span than `_write_changed` takes a pass over each (256): the rows' way."""
    rng = random.Random(3)
    snapshot, old, new, _ = _case(rng, 40, 400, 1, 1000, 60, gaps=False)
    changed = new.copy()
    spans = set()
    at = {p: n for n, p in old.layout.items()}
    for r in range(len(old.frame)):  # each row its own runs of columns
        names = set()
        for _ in range(rng.randint(1, 3)):
            a = rng.randrange(40)
            names.update(at[p] for p in range(a, rng.randint(a + 1, 40)))
        for n in names:
            changed.at[r, n] = f"{n}/{r}"
        spans.update(new_io._runs(old.layout[n] for n in names))
    assert len(spans) > 256
    _, plan = _run_both(snapshot, lambda p: p.update_frame(old, changed), 1)
    assert len(plan.requests) > 400


def test_new_rows_count_their_cells_as_before() -> None:
    """The appended rows' cells written: text columns counted by their blanks, others cell by
    cell (None, NaN, numpy text and numbers), typed columns read with iat."""
    layout = {"t": 0, "m": 1, "n": 3, "i": 4}
    old = new_io.TabFrame("People", pd.DataFrame(columns=list(layout), dtype=object), layout)
    new = pd.DataFrame(
        {
            "t": pd.Series(["a", "", "b", ""], dtype=object),
            "m": pd.Series([None, "", np.str_(""), float("nan")], dtype=object),
            "n": pd.Series([np.str_("x"), np.str_(""), "y", ""], dtype=object),
            "i": pd.Series([0, 1, 2, 3], dtype="int64"),
        }
    )
    info = new_io.TabInfo(sheet_id=7, title="People", index=0, rows=2, cols=2)
    snapshot = new_io.Snapshot("sid", "T", {"People": info}, {"People": []})
    _, plan = _run_both(snapshot, lambda p: p.update_frame(old, new), 1)
    assert plan.changes == ["'People': 4 new row(s)", "'People': 9 cell(s) written"]
