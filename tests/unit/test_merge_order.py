"""The merge writes pupils in (upn, leaving_year) order, as the frozen merge does: its sort
(by year, then stably by UPN) checked on schools whose pupils' leaving years run against
their UPNs, and a pupil in two cohorts, against the frozen copy (changes in order)."""

from __future__ import annotations

from itertools import pairwise

import pandas as pd
import pytest

from tests.unit.test_core_equivalence import _make_trust
from tests.unit.test_merge_equivalence import _both


@pytest.mark.parametrize("seed", [1, 2, 5])
def test_pupils_in_upn_then_year_order(seed: int) -> None:
    trust = _make_trust(seed)
    tabs = {k: v.copy() for k, v in trust.tabs.items()}
    dest = tabs["destinations"]
    pupils = dest.index[dest["upn"].astype(str) != ""].tolist()
    by_upn = sorted(pupils, key=lambda i: str(dest.at[i, "upn"]))
    for k, i in enumerate(by_upn):  # later UPNs, earlier leaving years
        dest.at[i, "leaving_year"] = str(2027 - k % 3)
    twin = dest.loc[[by_upn[0]]].copy()  # the first pupil in a second cohort too
    twin["leaving_year"] = "2020"
    tabs["destinations"] = pd.concat([dest, twin], ignore_index=True)
    first = [(s.school, s.form_responses()) for s in trust.samples]
    plan = _both(tabs, first)
    rows = [c for c in plan.changes if ": Destinations row " in c]
    assert len(rows) > 2
    # The order written is not the order by (leaving year, UPN): the sort can be caught.
    out = plan.tabs["destinations"]
    written = [int(c.split(" row ")[1].split(":")[0]) - 2 for c in rows]
    keys = [(str(out.at[i, "upn"]), str(out.at[i, "leaving_year"])) for i in written]
    assert any(a[1] > b[1] for a, b in pairwise(keys) if a[0] < b[0])
