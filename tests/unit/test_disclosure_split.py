"""`disclosure.split_joint` cuts a suppressed joint table back into its tables by position; it
gives what the filter per name over `str.partition` gave (`_partitioned`, the old code of
`suppress_tables` and `summary._suppress`): the same frames, column types and indexes, for text
and object columns, empty tables, names holding the separator, rows of no table named, blanks.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from gsync import disclosure
from gsync.disclosure import _SEP, TABLE_COLUMNS
from tests.unit import _reference_disclosure as ref


def _partitioned(joint: pd.DataFrame, names: list[str]) -> dict[str, pd.DataFrame]:
    parts = joint["entry"].str.partition(_SEP)
    out: dict[str, pd.DataFrame] = {}
    for name in names:
        part = joint[parts[0] == name].copy()
        part["entry"] = parts[2][parts[0] == name]
        out[name] = part.reset_index(drop=True)
    return out


def _outcome(split: Any, joint: pd.DataFrame, names: list[str]) -> Any:
    try:
        return split(joint, names)
    except Exception as exc:  # the old code fails on a joint table of no rows
        return (type(exc).__name__, str(exc))


def _same(got: Any, want: Any) -> None:
    if isinstance(want, tuple):
        assert got == want
        return
    assert list(got) == list(want)
    for name in want:
        pd.testing.assert_frame_equal(got[name], want[name], check_exact=True)
        assert list(got[name].dtypes) == list(want[name].dtypes)
        assert type(got[name].index) is type(want[name].index)


def _table(entries: list[str], start: int) -> pd.DataFrame:
    n = len(entries)
    return pd.DataFrame(
        {
            "school": ["S"] * n,
            "cohort": ["2026 Y11"] * n,
            "entry": entries,
            "breakdown": ["all"] * n,
            "group": ["All pupils"] * n,
            "category": [f"c{start + i}" for i in range(n)],
            "count": list(range(start, start + n)),
            "percent": [float(i) for i in range(n)],
        },
        columns=TABLE_COLUMNS,
    )


names_st = st.lists(
    st.sampled_from(["destinations", "level3", "a", "ab", "", "x" + _SEP + "y"]),
    unique=True,
    max_size=4,
)


@settings(max_examples=200, deadline=None)
@given(
    names=names_st,
    sizes=st.lists(st.integers(0, 4), min_size=4, max_size=4),
    entries=st.lists(st.sampled_from(["intended", "", "a" + _SEP + "b", "nan"]), min_size=4),
    as_object=st.booleans(),
    stray=st.sampled_from([None, "other" + _SEP + "e", "nosep", np.nan]),
)
def test_split_joint_equals_the_name_filter(
    names: list[str],
    sizes: list[int],
    entries: list[str],
    as_object: bool,
    stray: Any,
) -> None:
    tables = {
        name: _table([entries[(i + k) % len(entries)] for k in range(sizes[i])], 10 * i)
        for i, name in enumerate(names)
    }
    joint = disclosure._joint(tables)
    if stray is not None and len(joint):
        joint = joint.astype({"entry": object})
        joint.loc[len(joint) // 2, "entry"] = stray
    if as_object:
        joint = joint.astype({"entry": object})
    _same(_outcome(disclosure.split_joint, joint, names), _outcome(_partitioned, joint, names))
    if len(joint):
        suppressed = disclosure.apply_suppression(joint, disclosure.load_policy())
        got = _outcome(disclosure.split_joint, suppressed, names)
        _same(got, _outcome(_partitioned, suppressed, names))


def test_suppress_tables_equals_the_reference() -> None:
    rng = np.random.default_rng(3)
    tables = {
        name: _table(["intended", "actual_validated"] * 6, 0).assign(
            count=rng.integers(0, 30, 12), school=["S1", "S2"] * 6
        )
        for name in ("destinations", "level3", "apprenticeship")
    }
    policy = disclosure.load_policy()
    got = disclosure.suppress_tables(tables, policy)
    want = ref.suppress_tables(tables, ref.load_policy())
    _same(got, want)
