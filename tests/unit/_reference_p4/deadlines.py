"""REFERENCE COPY (tests only): gsync/deadlines.py's completion, entry_status and deadlines_tab as of
commit 6cea1cc, before P4 (the rules models, due dates and term dates are gsync's own). Do not edit."""

# ruff: noqa
# mypy: ignore-errors

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from gsync.config import TermDates
from gsync.deadlines import (
    STATUS_COLUMNS,
    UNKNOWN_SOURCE,
    Rule,
    Rules,
    State,
    academic_year_of,
    due_date,
)


def parse_iso(value: object) -> dt.date | None:
    """An ISO `YYYY-MM-DD` cell (a longer timestamp is cut to its date), else None."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = str(value).strip() if value is not None else ""
    if len(text) < 10:
        return None
    try:
        return dt.date.fromisoformat(text[:10])
    except ValueError:
        return None


def _cell(row: Mapping[str, Any], column: str) -> str:
    value = row.get(column, "")
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return ""
    return str(value).strip()


def is_unknown_by_attempts(row: Mapping[str, Any], entry: str) -> bool:
    """True if the entry holds the three-attempts placeholder."""
    return _cell(row, f"{entry}_source").casefold() == UNKNOWN_SOURCE


def pupil_complete(row: Mapping[str, Any], rule: Rule) -> bool:
    """Whether one Destinations row satisfies `rule.completed_by` (ignoring dates)."""
    dest = _cell(row, f"{rule.key}_destination")
    if not dest:
        return False
    if is_unknown_by_attempts(row, rule.key):
        return "unknown_after_attempts" in rule.completed_by
    if "recorded" in rule.completed_by:
        return True
    validated = _cell(row, f"{rule.key}_validated").upper() == "Y"
    return "recorded_and_validated" in rule.completed_by and validated


def pupil_completion(
    row: Mapping[str, Any], rule: Rule, as_of: dt.date
) -> tuple[bool, dt.date | None]:
    """(complete as of `as_of`, completion date if known).

    Point in time: a record dated after `as_of` did not exist yet. A complete record with no
    readable `E_recorded` date counts as complete, with an unknown date (never "late").
    """
    if not pupil_complete(row, rule):
        return False, None
    recorded = parse_iso(_cell(row, f"{rule.key}_recorded"))
    if recorded is not None and recorded > as_of:
        return False, None
    return True, recorded


_NO_DATE = -1  # `completion_vector`'s ordinal for "no readable recorded date"


def cell_texts(frame: pd.DataFrame, column: str) -> np.ndarray:
    """`_cell(row, column)` for every row at once (stripped text; "" for a missing column).

    Each distinct value is converted once. Frames of text (the usual case) go through
    `pd.factorize`; others cell by cell, since factorize would merge 1 and 1.0.
    """
    n = len(frame)
    if column not in frame.columns:
        return np.full(n, "", dtype=object)
    values = frame[column].to_numpy(dtype=object)
    if pd.api.types.infer_dtype(values, skipna=False) not in ("string", "empty"):
        return np.array([_cell({column: v}, column) for v in values] or [], dtype=object)
    codes, uniques = pd.factorize(values)
    texts = np.array([u.strip() for u in uniques] + [""], dtype=object)
    return texts[codes]


def _recorded_ordinals(texts: np.ndarray) -> np.ndarray:
    """`parse_iso` of each (stripped) text as a day ordinal, `_NO_DATE` where unreadable."""
    codes, uniques = pd.factorize(texts)
    days = [parse_iso(u) for u in uniques]
    table = np.array([d.toordinal() if d is not None else _NO_DATE for d in days] + [_NO_DATE])
    return table[codes].astype(np.int64)


def completion_vector(
    frame: pd.DataFrame, rule: Rule, as_of: dt.date
) -> tuple[np.ndarray, np.ndarray]:
    """`pupil_completion` for every row of `frame` at once (issue 7: the per-pupil loop was slow).

    Returns (done: bool array, recorded: day ordinals, `_NO_DATE` where unknown), row for row
    the same as `pupil_completion(row, rule, as_of)`.
    """
    dest = cell_texts(frame, f"{rule.key}_destination") != ""
    unknown = np.array(
        [t.casefold() == UNKNOWN_SOURCE for t in cell_texts(frame, f"{rule.key}_source")],
        dtype=bool,
    )
    if "recorded" in rule.completed_by:
        known_ok = np.ones(len(frame), dtype=bool)
    elif "recorded_and_validated" in rule.completed_by:
        known_ok = np.array(
            [t.upper() == "Y" for t in cell_texts(frame, f"{rule.key}_validated")], dtype=bool
        )
    else:
        known_ok = np.zeros(len(frame), dtype=bool)
    complete = dest & np.where(unknown, "unknown_after_attempts" in rule.completed_by, known_ok)
    recorded = _recorded_ordinals(cell_texts(frame, f"{rule.key}_recorded"))
    # Point in time: a record dated after `as_of` did not exist yet.
    done = complete & ~((recorded != _NO_DATE) & (recorded > as_of.toordinal()))
    return done, np.where(done, recorded, _NO_DATE)


def cohort_state(
    *,
    due: dt.date,
    as_of: dt.date,
    complete: int,
    total: int,
    late: int,
    due_soon_days: int,
) -> State:
    """The state of one cohort's entry from its counts. `late`: pupils completed after `due`."""
    if total > 0 and complete >= total:
        return "completed_late" if late > 0 else "complete"
    days_left = (due - as_of).days
    if days_left < 0:
        return "overdue"
    if days_left <= due_soon_days:
        return "due_soon"
    return "upcoming"


def live_cohorts(as_of: dt.date, live_years: int = 3) -> list[int]:
    """Leaving years tracked at `as_of`: the current leavers and the last `live_years` cohorts."""
    year = academic_year_of(as_of)
    return list(range(year - live_years + 1, year + 2))


def _entry_present(frame: pd.DataFrame, key: str) -> bool:
    return f"{key}_destination" in frame.columns


def entry_status(
    destinations: pd.DataFrame,
    rules: Rules,
    term_dates: Mapping[str, TermDates],
    as_of: dt.date,
    *,
    school: str | None = None,
    due_soon_days: int | None = None,
) -> pd.DataFrame:
    """One row per live cohort (school, leaving year, phase) x entry, with counts and a state.

    Columns: STATUS_COLUMNS (`due` a date, `days_left` negative when overdue, `percent` 0-100).
    Entries whose `E_destination` column the frame lacks are skipped with a warning in
    `result.attrs["warnings"]`, as are term-date fallbacks.
    """
    soon = rules.due_soon_days if due_soon_days is None else due_soon_days
    warnings: list[str] = []
    frame = destinations
    if school is not None and "school" in frame.columns:
        frame = frame[frame["school"].astype(str).str.casefold() == school.casefold()]
    rules_present = []
    for rule in rules.entries:
        if _entry_present(frame, rule.key):
            rules_present.append(rule)
        else:
            warnings.append(
                f"the Destinations tab has no '{rule.key}_destination' column; entry skipped"
            )
    live = set(live_cohorts(as_of, rules.live_years))
    rows: list[dict[str, Any]] = []
    if not frame.empty:
        years = frame["leaving_year"].map(lambda v: int(v) if str(v).strip().isdigit() else -1)
        work = frame[years.isin(live).to_numpy()]
        # Completion per rule for every live row at once; the groups then only sum positions.
        done = {r.key: completion_vector(work, r, as_of) for r in rules_present}
        keys = pd.DataFrame(
            {
                "school": work["school"].to_numpy(dtype=object) if "school" in work else "",
                "_year": years[years.isin(live)].to_numpy(),
                "phase": _phase(work).to_numpy(dtype=object),
                "_pos": np.arange(len(work)),
            }
        )
        groups = keys.groupby(["school", "_year", "phase"], sort=True)
        for (school_name, year, phase), group in groups:
            pos = group["_pos"].to_numpy()
            for rule in rules_present:
                due, w = due_date(rule, int(year), term_dates)
                warnings.extend(w)
                finished, when = done[rule.key][0][pos], done[rule.key][1][pos]
                complete = int(finished.sum())
                late = int(((when != _NO_DATE) & (when > due.toordinal())).sum())
                total = len(pos)
                rows.append(
                    {
                        "school": str(school_name),
                        "leaving_year": int(year),
                        "phase": str(phase),
                        "entry": rule.key,
                        "label": rule.label,
                        "due": due,
                        "days_left": (due - as_of).days,
                        "complete": complete,
                        "total": total,
                        "percent": round(100.0 * complete / total, 1) if total else 0.0,
                        "state": cohort_state(
                            due=due,
                            as_of=as_of,
                            complete=complete,
                            total=total,
                            late=late,
                            due_soon_days=soon,
                        ),
                    }
                )
    result = pd.DataFrame(rows, columns=STATUS_COLUMNS)
    result.attrs["warnings"] = list(dict.fromkeys(warnings))
    return result


def _phase(frame: pd.DataFrame) -> pd.Series:
    if "phase" in frame.columns:
        return frame["phase"].astype(str)
    return pd.Series("", index=frame.index, name="phase")


DEADLINES_TAB_COLUMNS = [
    "school",
    "leaving_year",
    "phase",
    "entry",
    "label",
    "due",
    "days_left",
    "complete",
    "total",
    "percent",
    "state",
]


def deadlines_tab(status: pd.DataFrame) -> pd.DataFrame:
    """The sync-owned Deadlines tab: `entry_status` as text cells (counts only, no personal data).

    Sorted by due date then school, so the next deadlines read top-down; `state` holds one of
    STATES for the template's conditional formatting.
    """
    if status.empty:
        return pd.DataFrame(columns=DEADLINES_TAB_COLUMNS, dtype=str)
    ordered = status.sort_values(["due", "school", "leaving_year", "entry"], kind="stable")
    out = pd.DataFrame(
        {
            "school": ordered["school"].astype(str),
            "leaving_year": ordered["leaving_year"].astype(int).astype(str),
            "phase": ordered["phase"].astype(str),
            "entry": ordered["entry"].astype(str),
            "label": ordered["label"].astype(str),
            "due": ordered["due"].map(lambda d: d.isoformat()),
            "days_left": ordered["days_left"].astype(int).astype(str),
            "complete": ordered["complete"].astype(int).astype(str),
            "total": ordered["total"].astype(int).astype(str),
            "percent": ordered["percent"].map(lambda p: f"{float(p):.1f}"),
            "state": ordered["state"].astype(str),
        },
        columns=DEADLINES_TAB_COLUMNS,
    )
    return out.reset_index(drop=True)
