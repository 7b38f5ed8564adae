"""`summary._tally` builds its key columns from their few texts at once (repeated and tiled);
it gives the frozen copy's frames: the same cells, column types and order, for text keys and,
through the list construction, for keys that are not all texts (a number, None)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from gsync import summary
from gsync.disclosure import TOTAL
from tests.unit import _reference_tally as ref

TEXTS = ["A", "School 01", "", "2026 Y11", " x ", "Total", "é"]
KEYS = st.one_of(st.sampled_from(TEXTS), st.sampled_from([1, 2.5, None]))


def _same(got: pd.DataFrame, want: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(got, want, check_exact=True)
    assert list(got.dtypes) == list(want.dtypes)
    for col in want.columns:
        assert [type(v) for v in got[col].tolist()] == [type(v) for v in want[col].tolist()]


@settings(max_examples=250, deadline=None)
@given(
    blocks=st.lists(st.tuples(KEYS, KEYS), min_size=1, max_size=4),
    rows=st.lists(st.sampled_from(TEXTS[:5]), max_size=4),
    groups=st.lists(st.tuples(KEYS, KEYS), min_size=1, max_size=3),
    entry=KEYS,
    texts_only=st.booleans(),
    data=st.data(),
)
def test_tally_equals_the_frozen_copy(
    blocks: list[tuple[Any, Any]],
    rows: list[str],
    groups: list[tuple[Any, Any]],
    entry: Any,
    texts_only: bool,
    data: st.DataObject,
) -> None:
    if texts_only:  # the sync's case: every key a text
        blocks = [(str(a), str(b)) for a, b in blocks]
        groups = [(str(a), str(b)) for a, b in groups]
        entry = str(entry)
    n = data.draw(st.integers(0, 12))
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32)))
    block = rng.integers(0, len(blocks), n)
    row = rng.integers(0, len(rows) + 1, n)
    masks = [None if g == 0 else rng.random(n) < 0.5 for g in range(len(groups))]
    with_masks = [(a, b, m) for (a, b), m in zip(groups, masks, strict=True)]
    got = summary._tally(blocks, block, row, with_masks, rows, entry)
    want = ref._tally(blocks, block, row, with_masks, rows, entry)
    _same(got, want)


def test_tally_of_the_sync_shape() -> None:
    rng = np.random.default_rng(5)
    blocks = [(f"School {i:02d}", f"{y} Y11") for i in range(3) for y in (2025, 2026)]
    rows = ["Sixth form", "Apprenticeship", "NEET"]
    n = 400
    groups = [("all", "All pupils", None), ("send", "SEND", rng.random(n) < 0.2)]
    groups.append(("send", "Not SEND", ~groups[1][2]))
    block, row = rng.integers(0, len(blocks), n), rng.integers(0, len(rows) + 1, n)
    got = summary._tally(blocks, block, row, groups, rows, "intended")
    _same(got, ref._tally(blocks, block, row, groups, rows, "intended"))
    assert isinstance(got["school"].dtype, pd.StringDtype) and TOTAL in set(got["category"])
