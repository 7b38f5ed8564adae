"""`privacy.withheld_response_ids` (a school column of str tested once per distinct school, the
marked rows found by a set lookup) against the frozen copy before it (`_reference_privacy`): the
same ids, of the same types, or the same error, for logs with erased and plain schools, blanks,
None, NaN, numbers, numpy text, the suffix alone or inside a name, ids that are no str, repeated
ids, repeated columns, "str" dtype columns and empty logs.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from gsync import privacy
from tests.unit import _reference_privacy as ref

SUFFIX = privacy.ERASED_SUFFIX
SCHOOLS: list[Any] = ["North", "South", f"North{SUFFIX}", f"South{SUFFIX}", SUFFIX, "", " ", f"{SUFFIX} x", f"North{SUFFIX} ", "(erased)", np.str_(f"East{SUFFIX}"), None, float("nan"), 3]  # fmt: skip
IDS: list[Any] = ["r1", "r2", "r3", "", " r1", None, float("nan"), 7, 7.0, np.str_("r9")]


def _outcome(responses: pd.DataFrame, module: Any) -> Any:
    try:
        got = module.withheld_response_ids(responses)
    except Exception as error:  # the same error either way
        return type(error)
    return sorted((type(v).__name__, repr(v)) for v in got)


@st.composite
def logs(draw: st.DrawFn) -> pd.DataFrame:
    rows = draw(st.lists(st.tuples(st.sampled_from(SCHOOLS), st.sampled_from(IDS)), max_size=25))
    texts_only = draw(st.booleans())
    if texts_only:  # as read from the sheet: every cell a str
        rows = [(s if type(s) is str else "North", i if type(i) is str else "r1") for s, i in rows]
    frame = pd.DataFrame(
        {"school": [s for s, _ in rows], "response_id": [i for _, i in rows], "x": 0},
        dtype=object,
    )
    how = draw(st.sampled_from(["object", "object", "object", "str", "repeat", "no id"]))
    if how == "str" and texts_only:
        frame = frame.astype({"school": "str", "response_id": "str"})
    elif how == "repeat":
        frame.columns = pd.Index(["school", "response_id", "school"])
    elif how == "no id":
        frame = frame.drop(columns="response_id")
    return frame


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(logs())
@example(pd.DataFrame({"school": [f"N{SUFFIX}", "N"], "response_id": ["a", "b"]}, dtype=object))
@example(pd.DataFrame({"school": [f"N{SUFFIX}"], "response_id": [None]}, dtype=object))
@example(pd.DataFrame({"school": [f"N{SUFFIX}"], "response_id": [np.str_("a")]}, dtype=object))
@example(pd.DataFrame({"school": [f"N{SUFFIX}", None], "response_id": ["a", "b"]}, dtype=object))
@example(pd.DataFrame({"school": ["N"], "response_id": ["a"]}, dtype=object).iloc[:0])
def test_withheld_ids_as_before(responses: pd.DataFrame) -> None:
    assert _outcome(responses, privacy) == _outcome(responses, ref)


def test_the_erased_rows_ids_only() -> None:
    log = pd.DataFrame(
        {
            "school": ["North", f"North{SUFFIX}", f"South{SUFFIX}", "South", f"North{SUFFIX}"],
            "response_id": ["a", "b", "c", "d", "b"],
        },
        dtype=object,
    )
    assert privacy.withheld_response_ids(log) == {"b", "c"} == ref.withheld_response_ids(log)
