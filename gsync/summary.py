"""Anonymised summary tables from the Destinations frame (seed 000 section 5; seed 003's trust).

Every table is a long frame (`gsync.disclosure.TABLE_COLUMNS`): school, cohort, entry, breakdown,
group, category, count, percent. Each group's categories partition its pupils and add up to the
"Total" row, so disclosure control can reason about the totals. No pupil-level value is copied:
only category labels, group names, school / cohort / entry names, counts and percentages.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import pandas as pd

from gsync.disclosure import (
    ALL_BREAKDOWN,
    ALL_GROUP,
    KEY_COLUMNS,
    TABLE_COLUMNS,
    TOTAL,
    TRUST_SCHOOL,
    Link,
    SuppressionPolicy,
    assert_publishable,
    suppress_tables,
    table_records,
)
from gsync.taxonomy import Category, Taxonomy

ENTRIES = ("current_intended", "intended", "actual_unvalidated", "actual_validated")

# Priority groups (seed 000 section 2), each against everyone else: (key, column, test, labels).
BREAKDOWNS: tuple[tuple[str, str, Callable[[str], bool], str, str], ...] = (
    ("send", "send", lambda v: v.strip().upper() in ("K", "E"), "SEND", "No SEND"),
    (
        "disadvantaged",
        "disadvantaged",
        lambda v: v.strip().upper() == "Y",
        "Disadvantaged",
        "Not disadvantaged",
    ),
    ("eal", "eal", lambda v: v.strip().upper() == "Y", "EAL", "Not EAL"),
    (
        "looked_after",
        "looked_after",
        lambda v: v.strip().upper() == "Y",
        "Looked after",
        "Not looked after",
    ),
)

LEVEL3_YES, LEVEL3_NO = "Level 3 or above", "Below Level 3 or not known"
APPR_YES, APPR_NO = "Apprenticeship", "Not an apprenticeship"
HE_YES, HE_NO = "Higher education (incl. degree apprenticeships)", "Not in higher education"

# The tables summary_tables returns, with how each pupil's category places them in a row.
TABLES: dict[str, Callable[[Category], str] | None] = {
    "destinations": None,  # by provider type: the category's own label
    "level3": lambda c: LEVEL3_YES if c.level3_plus else LEVEL3_NO,
    "apprenticeship": lambda c: APPR_YES if c.key == "apprenticeship" else APPR_NO,
    "higher_education": lambda c: HE_YES if c.higher_education else HE_NO,
}


def links(taxonomy: Taxonomy) -> list[Link]:
    """Cells the tables share: every group's Total, and the apprenticeship count."""
    shared: list[Link] = [
        (("destinations", TOTAL), (kind, TOTAL)) for kind in TABLES if kind != "destinations"
    ]
    shared.append(
        (("destinations", taxonomy.label("apprenticeship")), ("apprenticeship", APPR_YES))
    )
    return shared


def _rows(kind: str, taxonomy: Taxonomy) -> list[str]:
    if kind == "destinations":
        return [taxonomy.label(k) for k in taxonomy.categories()]
    return {
        "level3": [LEVEL3_YES, LEVEL3_NO],
        "apprenticeship": [APPR_YES, APPR_NO],
        "higher_education": [HE_YES, HE_NO],
    }[kind]


def group_labels() -> list[str]:
    """Every group name a summary can contain (for the disclosure checker's vocabulary)."""
    return [ALL_GROUP] + [x for b in BREAKDOWNS for x in (b[3], b[4])]


def vocabulary(taxonomy: Taxonomy) -> list[str]:
    """Every label a summary is built from: categories, rows and groups."""
    words = [taxonomy.label(k) for k in taxonomy.categories()]
    for kind in TABLES:
        words += _rows(kind, taxonomy)
    return words + group_labels() + [TOTAL]


def _col(frame: pd.DataFrame, name: str) -> pd.Series:
    if name in frame.columns:
        return frame[name].fillna("").astype(str)
    return pd.Series([""] * len(frame), index=frame.index, dtype=object)


def summary_tables(
    destinations: pd.DataFrame,
    taxonomy: Taxonomy,
    *,
    entry: str,
    school: str | None = None,
) -> dict[str, pd.DataFrame]:
    """Counts and percentages per school x cohort for one entry, unsuppressed.

    Keys: "destinations" (by provider type, NEET and unknown included), "level3",
    "apprenticeship", "higher_education" (seed 000 section 5). Each is broken down by SEND,
    disadvantaged, EAL and looked-after against everyone else. Cohorts appear side by side, so
    the same table carries the trend across cohorts (see `trend_view`).
    """
    if entry not in ENTRIES:
        raise ValueError(f"unknown entry {entry!r}; expected one of {', '.join(ENTRIES)}")
    frame = destinations
    if school is not None:
        frame = frame[_col(frame, "school") == school]
    cats = [
        taxonomy.categorise(v, level, other)
        for v, level, other in zip(
            _col(frame, f"{entry}_destination"),
            _col(frame, f"{entry}_level"),
            _col(frame, f"{entry}_other"),
            strict=True,
        )
    ]
    base = pd.DataFrame(
        {
            "school": _col(frame, "school").to_numpy(),
            "cohort": (
                _col(frame, "leaving_year").str.strip() + " " + _col(frame, "phase").str.strip()
            ).to_numpy(),
        }
    )
    for key, column, test, _yes, _no in BREAKDOWNS:
        base[key] = [test(v) for v in _col(frame, column)]

    out: dict[str, pd.DataFrame] = {}
    for kind, placer in TABLES.items():
        base["row"] = [c.label if placer is None else placer(c) for c in cats]
        out[kind] = _count(base, _rows(kind, taxonomy), entry)
    return out


def _count(base: pd.DataFrame, rows: list[str], entry: str) -> pd.DataFrame:
    records: list[dict[str, Any]] = []
    for (school, cohort), block in base.groupby(["school", "cohort"], sort=True):
        groups: list[tuple[str, str, pd.DataFrame]] = [(ALL_BREAKDOWN, ALL_GROUP, block)]
        for key, _column, _test, yes, no in BREAKDOWNS:
            groups.append((key, yes, block[block[key]]))
            groups.append((key, no, block[~block[key]]))
        for breakdown, group, members in groups:
            counts = members["row"].value_counts()
            total = len(members)
            for label in [*rows, TOTAL]:
                n = total if label == TOTAL else int(counts.get(label, 0))
                records.append(
                    {
                        "school": str(school),
                        "cohort": str(cohort),
                        "entry": entry,
                        "breakdown": breakdown,
                        "group": group,
                        "category": label,
                        "count": n,
                        "percent": 100.0 * n / total if total else float("nan"),
                    }
                )
    return pd.DataFrame.from_records(records, columns=TABLE_COLUMNS).astype({"count": "int64"})


def aggregate(frames: Sequence[pd.DataFrame], *, name: str = TRUST_SCHOOL) -> pd.DataFrame:
    """Trust-wide table of the same shape: the schools' raw counts summed cell by cell."""
    if not frames:
        return pd.DataFrame(columns=TABLE_COLUMNS)
    both = pd.concat(frames, ignore_index=True)
    if both["count"].map(lambda v: isinstance(v, str)).any():
        raise ValueError("aggregate needs raw counts; suppressed tables cannot be added up")
    keys = [k for k in KEY_COLUMNS if k != "school"]
    summed = both.groupby(keys, sort=False, as_index=False)["count"].sum()
    summed.insert(0, "school", name)
    totals = summed[summed["category"] == TOTAL].set_index(["cohort", "entry", "group"])["count"]
    base = summed.set_index(["cohort", "entry", "group"]).index.map(totals.to_dict())
    base_values = pd.Series(base, index=summed.index).astype(float)
    summed["percent"] = (100.0 * summed["count"] / base_values).where(base_values > 0)
    return summed[TABLE_COLUMNS].astype({"count": "int64"})


def trend_view(
    table: pd.DataFrame,
    *,
    school: str,
    entry: str,
    group: str = ALL_GROUP,
    value: str = "percent",
) -> pd.DataFrame:
    """Category x cohort view of one school's group (the trend across cohorts); Total left out."""
    sel = table[
        (table["school"] == school)
        & (table["entry"] == entry)
        & (table["group"] == group)
        & (table["category"] != TOTAL)
    ]
    order = list(dict.fromkeys(sel["category"]))
    view = sel.pivot(index="category", columns="cohort", values=value)
    return view.reindex(order)[sorted(view.columns)]


# --- Summary tabs for the sync -------------------------------------------------------------

SUMMARY_TAB_PREFIX = "Summary - "
DATA_HEADER = ["table", *TABLE_COLUMNS]


def _chart_entry(destinations: pd.DataFrame, taxonomy: Taxonomy) -> str:
    """The most advanced entry that holds any known destination (the chart's subject)."""
    for entry in reversed(ENTRIES):
        values = _col(destinations, f"{entry}_destination")
        if any(taxonomy.categorise(v).key != "unknown" for v in values):
            return entry
    return ENTRIES[0]


def summary_tabs(
    destinations: pd.DataFrame,
    taxonomy: Taxonomy,
    policy: SuppressionPolicy,
    *,
    entries: Iterable[str] = ENTRIES,
    trust: bool = True,
) -> dict[str, list[list[str | int | float]]]:
    """Rows (header first) for one Summary tab per school plus a trust tab, suppressed and checked.

    Each tab starts with the chart block (category x cohort percentages of all pupils for the most
    advanced entry with data; see `chart_block`), then a blank row, then the long table. Raises
    DisclosureError (nothing to write) if the disclosure check finds any breach.
    """
    per_kind: dict[str, list[pd.DataFrame]] = {kind: [] for kind in TABLES}
    for entry in entries:
        for kind, table in summary_tables(destinations, taxonomy, entry=entry).items():
            per_kind[kind].append(table)
    raw_tables: dict[str, pd.DataFrame] = {}
    for kind, frames in per_kind.items():
        raw = pd.concat(frames, ignore_index=True)
        schools = sorted(set(raw["school"]))
        if trust and len(schools) > 1:
            raw = pd.concat([raw, aggregate([raw])], ignore_index=True)
        raw_tables[kind] = raw
    shared = links(taxonomy)
    tables = suppress_tables(raw_tables, policy, shared)
    words = [*vocabulary(taxonomy), *set(tables["destinations"]["school"])]
    assert_publishable(tables, policy, destinations, vocabulary=words, links=shared)

    chart_entry = _chart_entry(destinations, taxonomy)
    tabs: dict[str, list[list[str | int | float]]] = {}
    names = sorted(set(tables["destinations"]["school"]) - {TRUST_SCHOOL})
    if TRUST_SCHOOL in set(tables["destinations"]["school"]):
        names.append(TRUST_SCHOOL)
    for school in names:
        rows: list[list[str | int | float]] = []
        view = trend_view(tables["destinations"], school=school, entry=chart_entry)
        rows.append([f"Destination ({chart_entry}, % of all pupils)", *map(str, view.columns)])
        for category, values in view.iterrows():
            rows.append([str(category), *(_cell(v) for v in values.tolist())])
        rows.append([])
        rows.append(list(DATA_HEADER))
        for kind, table in tables.items():
            for r in table_records(table[table["school"] == school]):
                rows.append([kind, *(_cell(r[c]) for c in TABLE_COLUMNS)])
        tabs[SUMMARY_TAB_PREFIX + school] = rows
    return tabs


def _cell(value: object) -> str | int | float:
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int | float | str):
        return value
    if hasattr(value, "item"):  # numpy scalars
        item = value.item()
        if isinstance(item, int | float | str):
            return item
    return str(value)


def chart_block(rows: Sequence[Sequence[object]]) -> tuple[int, int, int, int]:
    """(start_row, end_row, start_col, end_col), half-open and 0-based, of a tab's chart block."""
    end = next((i for i, r in enumerate(rows) if not r), len(rows))
    width = max((len(r) for r in rows[:end]), default=0)
    return 0, end, 0, width


def chart_spec(
    sheet_id: int,
    *,
    start_row: int,
    end_row: int,
    start_col: int,
    end_col: int,
    title: str = "Destinations by cohort (% of all pupils)",
    anchor_col: int | None = None,
) -> dict[str, Any]:
    """The Sheets `addChart` request for a chart block (categories down, one series per cohort)."""

    def rng(col: int) -> dict[str, Any]:
        return {
            "sources": [
                {
                    "sheetId": sheet_id,
                    "startRowIndex": start_row,
                    "endRowIndex": end_row,
                    "startColumnIndex": col,
                    "endColumnIndex": col + 1,
                }
            ]
        }

    series = [
        {"series": {"sourceRange": rng(c)}, "targetAxis": "BOTTOM_AXIS"}
        for c in range(start_col + 1, end_col)
    ]
    return {
        "addChart": {
            "chart": {
                "spec": {
                    "title": title,
                    "altText": title,
                    "basicChart": {
                        "chartType": "BAR",
                        "legendPosition": "BOTTOM_LEGEND",
                        "headerCount": 1,
                        "axis": [
                            {"position": "BOTTOM_AXIS", "title": "% of pupils"},
                            {"position": "LEFT_AXIS", "title": "Destination"},
                        ],
                        "domains": [{"domain": {"sourceRange": rng(start_col)}}],
                        "series": series,
                    },
                },
                "position": {
                    "overlayPosition": {
                        "anchorCell": {
                            "sheetId": sheet_id,
                            "rowIndex": start_row,
                            "columnIndex": anchor_col if anchor_col is not None else end_col + 1,
                        },
                        "widthPixels": 720,
                        "heightPixels": 420,
                    }
                },
            }
        }
    }


# --- Reconciliation with the local authority (issue 9) ----------------------------------------

RECONCILIATION_ENTRY = "reconciliation"


def reconciliation_table(
    counts: Mapping[tuple[str, str], Mapping[str, int]], verdicts: Sequence[str]
) -> pd.DataFrame:
    """School x cohort: pupils per Reconciliation verdict, with Total = the cohort (unsuppressed).

    Same long shape as the other summaries, so the same suppression applies; the "agree" row's
    percent is the share of the cohort where the school's and the LA's records agree.
    """
    records: list[dict[str, Any]] = []
    for (school, cohort), per_verdict in sorted(counts.items()):
        total = sum(int(per_verdict.get(v, 0)) for v in verdicts)
        for label in [*verdicts, TOTAL]:
            n = total if label == TOTAL else int(per_verdict.get(label, 0))
            records.append(
                {
                    "school": school,
                    "cohort": cohort,
                    "entry": RECONCILIATION_ENTRY,
                    "breakdown": ALL_BREAKDOWN,
                    "group": ALL_GROUP,
                    "category": label,
                    "count": n,
                    "percent": 100.0 * n / total if total else float("nan"),
                }
            )
    return pd.DataFrame.from_records(records, columns=TABLE_COLUMNS).astype({"count": "int64"})
