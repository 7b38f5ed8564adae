"""The three-attempts rules and `with_sustained` after brief Q3 (issue 7) give the frozen old
output (tests/unit/_reference_core.py) on frames that leave the usual path: cells as numbers,
NaN / None / pd.NA, lower-case and padded UPNs, a pupil listed twice, repeated index labels or
column names, columns of pandas' str dtype, missing columns; and the input frames stay unchanged.

The fast paths: `deadlines.record_cells` reads columns as `to_dict("records")` would, `_attempt_rows`
reads each distinct text once and Destinations only when an attempt needs it, `_Cells` batches
the writes of object columns, `deadlines._rows_of_pupils` keys only the rows of pupils with a
logged check.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import pytest
from pandas.testing import assert_frame_equal

from gsync import contacts, deadlines
from tests.unit import _reference_core as ref
from tests.unit.test_core_equivalence import AS_OF, RULES, TERMS, merged  # noqa: F401 (fixture)
from tests.unit.test_derived_equivalence import _typed


def _outcome(run: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """What `run(*args, **kwargs)` returns, or the exception it raises (type and message)."""
    try:
        frame = run(*args, **kwargs)
    except Exception as exc:
        return ("raised", type(exc).__name__, str(exc))
    return frame


def _same(new: Any, old: Any) -> None:
    if isinstance(old, tuple):
        assert new == old
        return
    assert isinstance(new, pd.DataFrame)
    assert_frame_equal(new, old)
    assert new.attrs == old.attrs
    assert [str(t) for t in new.dtypes] == [str(t) for t in old.dtypes]
    new_cells, old_cells = new.to_numpy(dtype=object), old.to_numpy(dtype=object)
    if not _same_typed_cells(new_cells.ravel().tolist(), old_cells.ravel().tolist()):
        assert _typed(new_cells.tolist()) == _typed(old_cells.tolist())


def _same_typed_cells(new: list[Any], old: list[Any]) -> bool:
    """True when every cell has the same type and repr as its old cell, and none is a container:
    then `_typed` of the two is equal (the test's check, made without a call per cell). False
    says nothing: `_typed` decides (it equates NaNs of different float types)."""
    types = list(map(type, new))
    if types != list(map(type, old)) or any(issubclass(t, list | tuple | dict) for t in set(types)):
        return False
    return list(map(repr, new)) == list(map(repr, old))


def test_same_sees_what_assert_frame_equal_lets_through() -> None:
    """The helper's fast check agrees with `_typed`: a cell's type or exact value differing fails
    (assert_frame_equal alone lets both through), NaNs of either float type are equal."""
    old = pd.DataFrame({"x": pd.Series([1, "a", 1.0, float("nan")], dtype=object)})
    for cells in ([np.int64(1), "a", 1.0, np.nan], [1, np.str_("a"), 1.0, np.nan], [1, "a", 1.0000001, np.nan]):  # fmt: skip
        with pytest.raises(AssertionError):
            _same(pd.DataFrame({"x": pd.Series(cells, dtype=object)}), old)
    _same(pd.DataFrame({"x": pd.Series([1, "a", 1.0, np.float64("nan")], dtype=object)}), old)


def test_cells_are_the_records_cells() -> None:
    frame = pd.DataFrame(
        {
            "text": ["a", " b", None, np.str_("c")],
            "mixed": [np.int64(3), np.float32(0.1), pd.NA, np.datetime64("2026-01-02")],
            "ints": np.array([1, 2, 3, 4], dtype=np.int64),
            "floats": [1.5, float("nan"), 2.0, 0.1],
            "masked": pd.array([1, None, 3, 4], dtype="Int64"),
            "strs": pd.array(["x", None, "y", "z"], dtype="str"),
            "flags": [True, False, np.True_, None],
            "days": pd.to_datetime(["2026-01-01", None, "2026-03-01", "2026-04-01"]),
            "category": pd.Categorical(["p", "q", None, "p"]),
        }
    )
    names = [*frame.columns, "absent"]
    records = frame.to_dict("records")
    want = [[r.get(name) for r in records] for name in names]
    assert _typed(deadlines.record_cells(frame, names)) == _typed(want)
    twice = pd.concat([frame[["text", "ints"]], frame[["ints"]]], axis=1)
    records = twice.to_dict("records")
    assert _typed(deadlines.record_cells(twice, ["ints", "text"])) == _typed(
        [[r.get(n) for r in records] for n in ("ints", "text")]
    )


def _odd(tabs: dict[str, pd.DataFrame], seed: int) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:  # fmt: skip
    """Destinations, Contacts and Sustained typed loosely (see the module docstring)."""
    rng = random.Random(seed)
    dest = tabs["destinations"].copy()
    rows = list(range(len(dest)))
    upns = dest["upn"].astype(object).tolist()
    years = dest["leaving_year"].astype(object).tolist()
    for i in rng.sample(rows, len(rows) // 4):
        upns[i] = rng.choice((f" {upns[i]} ".lower(), np.str_(upns[i]), upns[i]))
    for i in rng.sample(rows, len(rows) // 4):
        if str(years[i]).isdigit():
            years[i] = rng.choice((int(years[i]), np.int64(years[i]), f" {years[i]}", None))
    upns[rng.randrange(len(upns))] = None
    dest["upn"], dest["leaving_year"] = upns, years
    dest = pd.concat([dest, dest.iloc[[2, 5]]], ignore_index=True)  # two pupils listed twice
    for col in ("intended_destination", "current_intended_destination"):
        values = dest[col].astype(object).tolist()
        for i in rng.sample(range(len(dest)), len(dest) // 6):
            values[i] = rng.choice((None, float("nan"), pd.NA, " "))
        dest[col] = pd.Series(values, index=dest.index, dtype=object)
    cont = tabs["contacts"].copy()
    cells = cont.astype(object).to_numpy().tolist()
    at = {c: i for i, c in enumerate(cont.columns)}
    for row in rng.sample(cells, len(cells) // 3):
        row[at["upn"]] = rng.choice((str(row[at["upn"]]).lower(), f" {row[at['upn']]}", None))
        row[at["leaving_year"]] = rng.choice(
            (row[at["leaving_year"]], 2026, np.int64(2027), " 2026 ")
        )
        row[at["outcome"]] = rng.choice((row[at["outcome"]], " NO REPLY ", None, 3))
        row[at["date"]] = rng.choice((row[at["date"]], dt.date(2026, 5, 4), None, "2026-02-30"))
        row[at["channel"]] = rng.choice((row[at["channel"]], None, " Phone"))
    cont = pd.DataFrame(cells, columns=cont.columns, dtype=object)
    sus = tabs["sustained"].copy()
    if len(sus):
        sus.loc[sus.index[0], "upn"] = str(sus.loc[sus.index[0], "upn"]).lower()
        sus.loc[sus.index[-1], "leaving_year"] = np.int64(2026)
    return dest, cont, sus


def _cases(tabs: dict[str, pd.DataFrame], seed: int) -> dict[str, tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]]:  # fmt: skip
    dest, cont, sus = _odd(tabs, seed)
    repeated = dest.copy()
    repeated.index = [i // 2 for i in range(len(dest))]  # repeated labels: `.at` cell by cell
    as_str = dest.astype({"actual_unvalidated_destination": "str", "sync_hash": "str"})
    return {
        "sheet": (tabs["destinations"], tabs["contacts"], tabs["sustained"]),
        "odd": (dest, cont, sus),
        "repeated_labels": (repeated, cont, sus),
        "str_columns": (as_str, cont, sus),
        "no_hash_or_sources": (
            dest.drop(
                columns=["sync_hash", "intended_source", "y1_summer_recorded"], errors="ignore"
            ),
            cont,
            sus,
        ),
        "contacts_repeated_names": (dest, pd.concat([cont, cont[["outcome"]]], axis=1), sus),
        "no_contacts": (dest, cont.iloc[0:0], sus),
        "no_sustained": (dest, cont, sus.iloc[0:0]),
        "no_upn_column": (dest.drop(columns=["upn"]), cont, sus),
    }


@pytest.mark.parametrize("as_of", AS_OF[:4])
def test_three_attempts_and_with_sustained_equal_the_old_on_odd_frames(
    merged: dict[str, pd.DataFrame],  # noqa: F811
    as_of: dt.date,
) -> None:
    fired = 0
    for name, (dest, cont, sus) in _cases(merged, as_of.toordinal()).items():
        before = (dest.copy(), cont.copy(), sus.copy())
        new = _outcome(contacts.apply_three_attempts, dest, cont, RULES, TERMS, as_of)
        old = _outcome(ref.apply_three_attempts, dest, cont, RULES, TERMS, as_of)
        _same(new, old)
        marked = old if isinstance(old, pd.DataFrame) else dest
        if isinstance(old, pd.DataFrame):
            fired += int((old == deadlines.UNKNOWN_DESTINATION).to_numpy().sum())
        args = (sus, marked, cont, RULES, TERMS, as_of)
        _same(
            _outcome(contacts.apply_three_attempts_sustained, *args),
            _outcome(ref.apply_three_attempts_sustained, *args),
        )
        _same(
            _outcome(contacts.attempts, cont, dest, RULES, TERMS, as_of=as_of),
            _outcome(ref.attempts, cont, dest, RULES, TERMS, as_of=as_of),
        )
        wide = _outcome(deadlines.with_sustained, marked, sus, RULES)
        _same(wide, _outcome(ref.with_sustained, marked, sus, RULES))
        if isinstance(wide, pd.DataFrame) and name != "no_upn_column":
            _same(
                _outcome(contacts.contacts_due, wide, cont, RULES, TERMS, as_of),
                _outcome(ref.contacts_due, wide, cont, RULES, TERMS, as_of),
            )
        for was, now in zip(before, (dest, cont, sus), strict=True):  # the inputs are unchanged
            assert_frame_equal(now, was)
        for out in (new, wide):  # nor does a change to an output reach them
            if isinstance(out, pd.DataFrame) and len(out):
                out.iloc[0, 0] = "changed"
                assert_frame_equal(dest, before[0])
    assert fired > 0


def test_rows_of_pupils_is_every_row_with_the_key() -> None:
    frame = pd.DataFrame(
        {
            "upn": ["a1", " A1", "b2", None, 7, "a1", float("nan"), "NAN", "c3"],
            "leaving_year": ["2026", 2026, "2026", "2026", "2026", " 2027", "2026", 2026, None],
        }
    )
    keys = [
        deadlines._pupil_key(u, y) for u, y in zip(frame["upn"], frame["leaving_year"], strict=True)
    ]
    for pupils in ({("A1", 2026)}, {("A1", 2027), ("7", 2026)}, {("NAN", 2026)}, set()):
        want: dict[tuple[str, int], list[int]] = {}
        for pos, key in enumerate(keys):
            if key in pupils:
                want.setdefault(key, []).append(pos)  # type: ignore[arg-type]
        assert deadlines._rows_of_pupils(frame, pupils) == want
