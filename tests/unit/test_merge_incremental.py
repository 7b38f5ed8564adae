"""plan_sync normalises only new or edited responses; logged ones come from the Responses log."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd
import pytest

from gsync import merge
from gsync.roster import apply_roster, read_roster
from gsync.sample import DEFAULT_QUESTION_MAP, make_sample
from gsync.template import load_template

TEMPLATE = load_template()
NOW = dt.datetime(2026, 8, 1, 2, 0, tzinfo=dt.UTC)
TABS = ("destinations", "responses", "contacts", "exceptions")


def run(tabs: dict[str, pd.DataFrame], raw: list[dict[str, Any]]) -> merge.SyncPlan:
    return merge.plan_sync(
        tabs,
        raw,
        school="Northfield",
        question_map=DEFAULT_QUESTION_MAP,
        now=NOW,
        template=TEMPLATE,
    )


def grids(tabs: dict[str, pd.DataFrame]) -> dict[str, list[list[str]]]:
    return {k: tabs[k].fillna("").astype(str).to_numpy().tolist() for k in TABS}


def test_a_steady_night_normalises_only_new_and_edited_responses(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    smp = make_sample(seed=11, pupils=60, responses=70)
    tabs = {k: pd.DataFrame(columns=TEMPLATE.tab(k).keys, dtype=object) for k in TABS}
    roster = read_roster(smp.roster_csv(), school=smp.school, phase=smp.phase)
    tabs["destinations"], _ = apply_roster(tabs["destinations"], roster.frame)
    everything = smp.form_responses(edited=True)
    first_night = [r for r in everything if r["responseId"] not in {everything[-1]["responseId"]}]
    first = run(tabs, first_night).tabs

    seen: list[str] = []
    original = merge.normalise_rows

    def counting(raw: list[dict[str, Any]], qmap: Any, **kw: Any) -> list[dict[str, str]]:
        seen.extend(str(r["responseId"]) for r in raw)
        return original(raw, qmap, **kw)

    monkeypatch.setattr(merge, "normalise_rows", counting)
    steady = run(first, everything)
    assert seen == [everything[-1]["responseId"]]  # only the new one went through validation

    # The same result as re-normalising every response (the path before issue 7).
    monkeypatch.setattr(merge, "_not_yet_logged", lambda raw, log, logged: raw)
    full = run(first, everything)
    assert grids(steady.tabs) == grids(full.tabs)
    assert steady.counts == full.counts
