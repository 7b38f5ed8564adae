"""`disclosure.split_joint` on entries that are all texts (`_split_texts`: each distinct entry
judged and cut once) gives what the filter per name over `str.partition` gives: for names asked
in another order than the joint stacks them, asked twice, left out or added, for a table's rows
split in two runs, for entries holding the separator more than once, and on the real suppressed
tables' shape (text columns, the names' prefixes shared: "a" and "ab")."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from gsync import disclosure
from gsync.disclosure import _SEP, TABLE_COLUMNS
from tests.unit.test_disclosure_split import _outcome, _partitioned, _same, _table

NAMES = ["destinations", "level3", "a", "ab", ""]
ENTRIES = ["intended", "", "a" + _SEP + "b", "nan", _SEP, "x" + _SEP]


@settings(max_examples=300, deadline=None)
@given(
    stacked=st.lists(st.sampled_from(NAMES), unique=True, min_size=1, max_size=4),
    asked=st.lists(st.sampled_from([*NAMES, "zz"]), max_size=5),
    sizes=st.lists(st.integers(0, 4), min_size=4, max_size=4),
    entries=st.lists(st.sampled_from(ENTRIES), min_size=1, max_size=6),
    cut_in_two=st.booleans(),
    as_object=st.booleans(),
)
def test_split_texts_equals_the_name_filter(
    stacked: list[str],
    asked: list[str],
    sizes: list[int],
    entries: list[str],
    cut_in_two: bool,
    as_object: bool,
) -> None:
    tables = {
        name: _table([entries[(i + k) % len(entries)] for k in range(sizes[i])], 10 * i)
        for i, name in enumerate(stacked)
    }
    joint = disclosure._joint(tables)
    if cut_in_two and len(joint) > 2:  # the first row moved to the end: a table's rows in two runs
        joint = pd.concat([joint.iloc[1:], joint.iloc[:1]], ignore_index=True)
    if as_object:
        joint = joint.astype({"entry": object})
    for names in (asked, stacked, list(reversed(stacked)), [*stacked, stacked[0]]):
        _same(_outcome(disclosure.split_joint, joint, names), _outcome(_partitioned, joint, names))


def test_split_texts_on_suppressed_tables() -> None:
    rng = np.random.default_rng(11)
    tables: dict[str, Any] = {
        name: _table(["intended", "actual" + _SEP + "x", "y1_summer"] * 5, 0).assign(
            count=rng.integers(0, 30, 15), school=["S1", "S2", "S3"] * 5
        )
        for name in ("destinations", "level3", "a", "ab")
    }
    joint = disclosure.apply_suppression(disclosure._joint(tables), disclosure.load_policy())
    assert isinstance(joint["entry"].dtype, pd.StringDtype)
    got = disclosure.split_joint(joint, list(tables))
    _same(got, _partitioned(joint, list(tables)))
    assert list(got["ab"]["entry"])[:3] == ["intended", "actual" + _SEP + "x", "y1_summer"]
    assert list(got["a"].columns) == TABLE_COLUMNS
