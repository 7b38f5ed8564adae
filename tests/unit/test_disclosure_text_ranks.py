"""disclosure._text_ranks ranks only the first text of each run of equal texts where runs are
fewer than half the rows: the same ranks and distinct texts as factorising every text (sorted),
with runs of equal texts that are different objects, single rows and no rows."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from gsync import disclosure


def _factorised(texts: list[str]) -> tuple[list[int], list[str]]:
    codes, uniques = pd.factorize(np.array(texts, dtype=object), sort=True)
    return codes.tolist(), [str(u) for u in uniques]


@settings(max_examples=400, deadline=None)
@given(
    runs=st.lists(
        st.tuples(
            st.sampled_from(["a", "B", "", "ab", "Trust", "ß", "é", "a "]), st.integers(1, 6)
        ),
        max_size=25,
    ),
    shuffle=st.booleans(),
)
def test_text_ranks_are_the_sorted_factorisation(
    runs: list[tuple[str, int]], shuffle: bool
) -> None:
    # Each text made anew (equal texts that are distinct objects), as the tables hold them.
    texts = ["".join(list(t)) for t, n in runs for _ in range(n)]
    if shuffle:
        texts = texts[::2] + texts[1::2]
    codes, uniques = disclosure._text_ranks(texts)
    assert codes.dtype == np.int64
    assert (codes.tolist(), uniques) == _factorised(texts)


def test_text_ranks_small_cases() -> None:
    for texts in ([], ["a"], ["b", "a"], ["a", "a"], ["b", "b", "a", "a", "b"], ["x"] * 9):
        codes, uniques = disclosure._text_ranks(texts)
        assert (codes.tolist(), uniques) == _factorised(texts)
