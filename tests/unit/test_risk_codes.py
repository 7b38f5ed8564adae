"""`risk._factorize_str` (pandas' hash table of texts, called directly for an array of str only)
against `pd.factorize`, and `risk._Columns.filled` (a column of str tested without keeping its
texts) against `_Columns.column`: the same codes and distinct values (any text: blanks, spaces,
accents, astral and lone surrogate code points, numpy text) and the same cells found filled
(blanks, spaces only, numbers, None, NaN, numpy text, an empty column). And `risk.assess` as
the frozen P4 code when pupils of several leaving years are listed at once.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from gsync import risk
from tests.unit._reference_p4 import risk as ref_risk
from tests.unit.test_derived_equivalence import _typed
from tests.unit.test_risk_fast import PUPIL_COLUMNS, RULES, _frame, pupil

SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
TEXTS = ["", " ", "\t", "\u3000", "a", " a", "a ", "A", "é", "e\u0301", "2026", " 2026 ", "\ud800", "\U0001f600"]  # fmt: skip
LOOSE: list[Any] = [None, float("nan"), pd.NA, 1, 0, 1.0, 0.0, True, False, np.int64(2), np.str_(" a "), np.str_("")]  # fmt: skip

texts = st.one_of(st.sampled_from(TEXTS), st.text(max_size=4))


def _outcome(call: Any) -> Any:
    try:
        codes, uniques = call()
    except Exception as error:  # the same error either way
        return type(error)
    return codes.dtype, codes.tolist(), uniques.dtype, uniques.tolist()


@SETTINGS
@given(st.lists(st.one_of(texts, texts.map(np.str_)), max_size=40))
@example([])
@example(["a", "a", "b", "", "a"])
@example(["\ud800", "a"])
@example([np.str_("a"), "a"])
def test_factorize_str_is_pd_factorize(cells: list[str]) -> None:
    values = np.empty(len(cells), dtype=object)
    values[:] = cells
    assert pd.api.types.infer_dtype(values, skipna=False) in ("string", "empty")
    assert _outcome(lambda: risk._factorize_str(values)) == _outcome(lambda: pd.factorize(values))


@SETTINGS
@given(st.lists(st.one_of(texts, st.sampled_from(LOOSE)), max_size=30), st.booleans())
@example([" ", "a", ""], False)
@example(["a", None], False)
@example([1, " a"], False)
@example([], False)
@example(["a", " "], True)
def test_filled_is_the_columns_texts_other_than_blank(cells: list[Any], cached: bool) -> None:
    frame = pd.DataFrame({"upn": pd.Series(cells, dtype=object), "x": 0})
    want = [bool(t) for t in risk._Columns(frame).column("upn")]
    table = risk._Columns(frame)
    if cached:
        table.column("upn")
    got = table.filled("upn")
    assert got.dtype == bool and got.tolist() == want
    # The texts are read as before afterwards (nothing kept half-made).
    assert table.column("upn") == risk._Columns(frame).column("upn")


@SETTINGS
@given(
    st.lists(
        st.tuples(pupil(), st.sampled_from(["2025", "2026", "2027", " 2027", "2028", ""])),
        min_size=1,
        max_size=30,
    ),
    st.sampled_from([dt.date(2026, 9, 7), dt.date(2025, 9, 1), dt.date(2026, 9, 30)]),
)
def test_assess_equals_p4_with_several_leaving_years_listed(
    pupils: list[tuple[dict[str, Any], str]], day: dt.date
) -> None:
    """Early in September a Y11 cohort and two Y13 cohorts are in their rounds: the listed
    pupils' leaving years (the whole column's codes, read at the listed rows) are their own."""
    dest = _frame([p | {"leaving_year": y} for p, y in pupils], PUPIL_COLUMNS)
    want = ref_risk.assess(dest, None, None, RULES, {}, day)
    got = risk.assess(dest, None, None, RULES, {}, day)
    assert _typed([e.__dict__ for e in got]) == _typed([e.__dict__ for e in want])
    keys = [*risk._RISK_KEYS, "nope"]
    assert risk.risk_rows(got, keys) == ref_risk.risk_rows(want, keys)


@SETTINGS
@given(
    st.lists(st.integers(0, 70), max_size=60)
    | st.lists(st.integers(0, 2**40), max_size=20)
    | st.lists(st.sampled_from([0, 5000, 4099, 4100]), max_size=5),
)
@example([])
@example([3, 3, 0, 7, 0])
@example([4096 + 4])  # the largest key a table of one key may hold is 4099
def test_unique_is_np_unique(keys: list[int]) -> None:
    key = np.array(keys, dtype=np.int64)
    uniques, first, inverse = risk._unique(key)
    want_uniques, want_first, want_inverse = np.unique(key, return_index=True, return_inverse=True)
    assert uniques.dtype == want_uniques.dtype and uniques.tolist() == want_uniques.tolist()
    assert first.dtype == want_first.dtype and first.tolist() == want_first.tolist()
    assert inverse.dtype == want_inverse.dtype
    assert inverse.tolist() == want_inverse.reshape(-1).tolist()


@SETTINGS
@given(
    st.lists(st.integers(0, 9), max_size=80)
    | st.lists(st.sampled_from([0, 1, 2**16 - 1, 2**16, 2**40]), max_size=12)
)
@example([])
@example([2**16 - 1, 0, 2**16 - 1, 1])
def test_stable_order_is_a_stable_argsort(keys: list[int]) -> None:
    key = np.array(keys, dtype=np.int64)
    want = np.argsort(key, kind="stable")
    got = risk._stable_order(key)
    assert got.dtype == want.dtype and got.tolist() == want.tolist()


def test_without_the_string_table_pd_factorize_gives_the_same_codes(monkeypatch: Any) -> None:
    """A pandas whose string hash table `_string_table` refuses: `pd.factorize`, same answers."""
    assert risk._StringHashTable is not None  # this pandas: the table, as checked at import
    columns: list[list[Any]] = [["b", " a", "b", "", "a "], ["x", None, "y"], [1, "1", 1.0], []]
    want = [risk._code(pd.Series(c, dtype=object)) for c in columns]
    rows = np.array([0, 2], dtype=np.int64)
    want_rows = [risk._code(pd.Series(c, dtype=object), rows) for c in columns if len(c) > 2]
    monkeypatch.setattr(risk, "_StringHashTable", None)
    got = [risk._code(pd.Series(c, dtype=object)) for c in columns]
    got_rows = [risk._code(pd.Series(c, dtype=object), rows) for c in columns if len(c) > 2]
    for (codes, texts), (want_codes, want_texts) in zip(
        [*got, *got_rows], [*want, *want_rows], strict=True
    ):
        assert codes.tolist() == want_codes.tolist() and texts == want_texts
