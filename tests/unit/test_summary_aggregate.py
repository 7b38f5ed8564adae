"""`summary.aggregate` sums the schools' counts on whole columns (`_summed`) when the counts
are int64 and no key is missing: the same trust table (values, types and dtypes) as the frozen
groupby (`_reference_summary`), with texts or mixed objects as keys, a group's Total missing,
zero or given twice (under two breakdowns), missing keys and object counts (groupby then)."""

from __future__ import annotations

import random
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gsync import summary
from gsync.disclosure import TABLE_COLUMNS, TOTAL
from tests.unit import _reference_summary as ref


def _frame(rng: random.Random, kind: str) -> pd.DataFrame:
    rows: list[list[Any]] = []
    for _ in range(rng.randint(0, 40)):
        rows.append(
            [
                rng.choice(["S1", "S2", "S3"]),
                rng.choice(["2025 Y11", "2026 Y11"] + ([2026] if kind == "mixed" else [])),
                rng.choice(["intended", "actual"]),
                rng.choice(["all", "send", "eal"]),
                rng.choice(["All pupils", "SEND", "EAL"]),
                rng.choice(
                    [TOTAL, TOTAL, "a", "b"] + ([np.str_(TOTAL), 7] if kind == "mixed" else [])
                ),
                rng.choice([0, 0, 1, 5, 9, 40]),
                0.0,
            ]
        )
    frame = pd.DataFrame(rows, columns=TABLE_COLUMNS).astype({"count": "int64"})
    if kind == "text":
        frame = frame.astype({c: "str" for c in TABLE_COLUMNS[:6]})
    else:
        frame = frame.astype({c: object for c in TABLE_COLUMNS[:6]})
    if kind == "missing" and len(frame):
        frame.loc[rng.randrange(len(frame)), rng.choice(TABLE_COLUMNS[1:6])] = None
    if kind == "objects":
        frame["count"] = frame["count"].astype(object)
    return frame


def _same(got: pd.DataFrame, want: pd.DataFrame) -> None:
    assert [str(t) for t in got.dtypes] == [str(t) for t in want.dtypes]
    assert list(got.columns) == list(want.columns)
    assert got.index.equals(want.index)
    for c in got.columns:
        a, b = got[c].tolist(), want[c].tolist()
        assert [(type(x), x) for x in a if x == x] == [(type(x), x) for x in b if x == x], c
        assert [x != x for x in a] == [x != x for x in b], c


@settings(max_examples=150, deadline=None)
@given(
    seed=st.integers(0, 2**32),
    kind=st.sampled_from(["text", "plain", "mixed", "missing", "objects"]),
    parts=st.integers(1, 3),
)
def test_aggregate_identical(seed: int, kind: str, parts: int) -> None:
    rng = random.Random(seed)
    frames = [_frame(rng, kind) for _ in range(parts)]
    try:
        want = ref.aggregate(frames)
    except ZeroDivisionError:  # object counts against a zero Total: raised as before
        with pytest.raises(ZeroDivisionError):
            summary.aggregate(frames)
        return
    _same(summary.aggregate(frames), want)


def test_aggregate_of_suppressed_counts_raises() -> None:
    frame = _frame(random.Random(1), "plain")
    frame["count"] = frame["count"].astype(object)
    frame.loc[0, "count"] = "c"
    with pytest.raises(ValueError, match="raw counts"):
        summary.aggregate([frame])
