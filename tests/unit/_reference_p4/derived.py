"""REFERENCE COPY (tests only): gsync/sync.py's `frame_rows` / `write_derived_tabs` and
gsync/trust.py's `plan_tabs_with_charts` / `write_summary_tabs` as of commit 6cea1cc, before P4,
wired to the frozen summary / deadlines / risk copies. Do not edit."""

# ruff: noqa
# mypy: ignore-errors

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from gsync import deadlines
from gsync.config import Config
from gsync.sheetio import WritePlan
from gsync.sync import DEADLINES_TAB
from gsync.trust import CHART_ANCHOR_COL, load_specs, snapshot_charts
from gsync.trustsheet import state_formatting
from tests.unit._reference_p4 import deadlines as ref_deadlines
from tests.unit._reference_p4.summary import (
    SUMMARY_TAB_PREFIX,
    chart_block,
    chart_spec,
    summary_tabs,
)


def plan_tabs_with_charts(
    plan: WritePlan, tabs: Mapping[str, Sequence[Sequence[Any]]], *, chart_title: str | None = None
) -> list[str]:
    """Add each sync-owned tab to the plan (no request when unchanged) and its chart when needed.

    A chart is added when the tab is new, or when the snapshot knows the tab's charts and it has
    none (deleted by hand). Never a second chart: an idle run makes no request. Returns the tab
    titles that got a chart.
    """
    known = snapshot_charts(plan.snapshot)
    charted: list[str] = []
    for title, rows in tabs.items():
        existed = plan.snapshot.has(title)
        plan.replace_tab(title, rows)
        has_chart = existed and known.get(title, 0) > 0
        if has_chart:
            continue
        start, end, c0, c1 = chart_block(rows)
        if end - start < 2 or c1 - c0 < 2:
            continue  # no category rows or no cohort column: nothing to draw
        spec = chart_spec(
            plan.sheet_id(title),
            start_row=start,
            end_row=end,
            start_col=c0,
            end_col=c1,
            title=f"{title.removeprefix(SUMMARY_TAB_PREFIX)}: {rows[0][0]}"
            if chart_title is None
            else chart_title,
            anchor_col=CHART_ANCHOR_COL,
        )
        plan.extend([spec], change=f"add chart to '{title}'")
        charted.append(title)
    return charted


def write_summary_tabs(
    plan: WritePlan,
    config: Config,
    destinations: pd.DataFrame,
    *,
    intentions: pd.DataFrame | None = None,
    applications: pd.DataFrame | None = None,
    rules: deadlines.Rules | None = None,
) -> list[str]:
    """Plan `Summary - <school>` tabs and `Summary - Trust` for the sync's atomic write.

    Suppressed and disclosure-checked first: a breach raises DisclosureError and the sync writes
    nothing. Figures carry no timestamp, so an unchanged Destinations tab means no request.
    With the Intentions / Applications frames and the rules, the tabs carry the survey rounds'
    figures too (gsync.summary.round_tables). Returns the tab titles.
    """
    taxonomy, policy = load_specs(config)
    tabs = summary_tabs(
        destinations,
        taxonomy,
        policy,
        intentions=intentions,
        applications=applications,
        rounds=rules.rounds if rules is not None else (),
    )
    plan_tabs_with_charts(plan, tabs)
    return list(tabs)


def frame_rows(frame: pd.DataFrame) -> list[list[Any]]:
    """A frame as rows for a sheet, header first."""
    rows: list[list[Any]] = [[str(c) for c in frame.columns]]
    for record in frame.itertuples(index=False):
        rows.append(["" if (isinstance(v, float) and pd.isna(v)) else v for v in record])
    return rows


def write_derived_tabs(
    plan: WritePlan,
    config: Config,
    template: Any,
    rules: deadlines.Rules,
    destinations: pd.DataFrame,
    as_of: dt.date,
    *,
    intentions: pd.DataFrame | None = None,
    applications: pd.DataFrame | None = None,
) -> None:
    """Tabs the sync owns whole and recomputes every run (no personal data): Deadlines, Summary
    (with the survey rounds' figures when given the Intentions / Applications frames)."""
    status = ref_deadlines.entry_status(destinations, rules, config.term_dates, as_of)
    # Days left change every day; the tab keeps due dates and states, so an idle night writes nothing.
    tab = ref_deadlines.deadlines_tab(status).drop(columns=["days_left"], errors="ignore")
    rows = frame_rows(tab)
    if plan.replace_tab(DEADLINES_TAB, rows) and not plan.snapshot.has(DEADLINES_TAB):
        plan.extend(state_formatting(plan.sheet_id(DEADLINES_TAB), rows[0]), None)
    # Summary tabs (issue 6): suppressed and disclosure-checked before this write, with charts.
    write_summary_tabs(
        plan, config, destinations, intentions=intentions, applications=applications, rules=rules
    )
