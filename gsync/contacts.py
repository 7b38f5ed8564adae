"""Contact attempts: three unsuccessful attempts inside an entry's window, then "unknown".

Seed 003: "We will make three attempts to capture the destination data before logging as
'unknown'"; contact is by email, phone, letter or social media, termly (both seeds). Pure functions
over the Contacts and Destinations frames (all cells text, dates ISO). Warnings go to
`DataFrame.attrs["warnings"]` and hold counts only, never a pupil's details.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from gsync.config import TermDates
from gsync.deadlines import (
    UNKNOWN_DESTINATION,
    UNKNOWN_SOURCE,
    Rule,
    Rules,
    completion_vector,
    due_date,
    entry_for_date,
    live_cohorts,
    parse_iso,
    record_cells,
    sustained_checks,
    window_of,
)
from gsync.template import ENTRY_GROUP, HASH_GROUPS, SUSTAINED, set_group_hash

# The source token recorded with the placeholder's hash (see gsync.template.set_group_hash): the
# placeholder counts as sync-written, so a later Form A response replaces it without a conflict.
PLACEHOLDER_TOKEN = "u3"

CONTACTS_COLUMNS = [
    "school",
    "upn",
    "leaving_year",
    "entry",
    "date",
    "channel",
    "outcome",
    "by",
    "note",
]
ATTEMPTS_COLUMNS = [
    "school",
    "upn",
    "leaving_year",
    "entry",
    "attempts",
    "last_attempt",
    "channels",
]
# Destinations columns copied into `contacts_due` when present: the Form A contact details. They
# appear only in the frame the user asked for (a CSV), never in logs.
DEFAULT_CONTACT_COLUMNS = (
    "legal_forename",
    "legal_surname",
    "preferred_forename",
    "preferred_surname",
    "personal_email",
    "telephone",
)
DUE_COLUMNS = [
    "school",
    "upn",
    "leaving_year",
    "phase",
    "entry",
    "label",
    "due",
    "attempts",
    "last_attempt",
    "channels",
]


def _text(value: Any) -> str:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return ""
    return str(value).strip()


def _year(value: Any) -> int | None:
    text = _text(value)
    return int(text) if text.isdigit() else None


def _key(upn: Any, leaving_year: Any) -> tuple[str, int] | None:
    year = _year(leaving_year)
    upn_text = _text(upn).upper()
    return (upn_text, year) if upn_text and year is not None else None


def attempts(
    contacts: pd.DataFrame,
    destinations: pd.DataFrame,
    rules: Rules,
    term_dates: Mapping[str, TermDates],
    *,
    as_of: dt.date | None = None,
) -> pd.DataFrame:
    """Unsuccessful attempts per pupil per entry, counted inside the entry's window.

    A Contacts row counts when its outcome is one of `rules.contacts.unsuccessful_outcomes`
    (case-insensitive), its date is readable (and not after `as_of`), the pupil (upn, leaving_year)
    is in Destinations, and the date lies in the window of its `entry` (a blank entry means the
    entry whose window holds the date; an entry without a window counts at any date). Rows with the
    same pupil, entry, date and channel count once (one attempt logged twice).
    Columns: ATTEMPTS_COLUMNS (`attempts` int, `last_attempt` ISO date, `channels` the channels
    tried, sorted and joined with ", ").
    """
    rows, warnings = _attempt_rows(contacts, destinations, rules, term_dates, as_of)
    result = pd.DataFrame(rows, columns=ATTEMPTS_COLUMNS)
    result.attrs["warnings"] = warnings
    return result


def _attempt_rows(
    contacts: pd.DataFrame,
    destinations: pd.DataFrame,
    rules: Rules,
    term_dates: Mapping[str, TermDates],
    as_of: dt.date | None,
) -> tuple[list[dict[str, Any]], list[str]]:
    """`attempts`' rows (ATTEMPTS_COLUMNS -> value, `upn` str, `leaving_year` and `attempts`
    int) and its warnings: what the three-attempts rules read, without a frame between."""
    unsuccessful = {o.casefold() for o in rules.contacts.unsuccessful_outcomes}
    # Each pupil's school, read only once an unsuccessful attempt needs it (a night with no such
    # attempt reads no Destinations cell; issue 7).
    known: list[dict[tuple[str, int], str]] = []

    def schools_of() -> dict[tuple[str, int], str]:
        if not known:
            known.append(_schools(destinations))
        return known[0]

    # Windows per (entry or day, cohort) resolved once; their warnings repeat as before.
    window_for = functools.cache(lambda entry, year: window_of(rules.rule(entry), year, term_dates))

    def windows(rule: Rule, year: int) -> tuple[tuple[dt.date, dt.date] | None, list[str]]:
        return window_for(rule.key, year)

    found_for = functools.cache(
        lambda day, year: entry_for_date(rules, term_dates, day, year, windows)
    )
    skipped = {"date": 0, "entry": 0, "pupil": 0, "window": 0}
    seen: set[tuple[str, int, str, dt.date, str]] = set()
    counts: dict[tuple[str, int, str], list[dt.date]] = {}
    channels: dict[tuple[str, int, str], set[str]] = {}
    warnings: list[str] = []
    keys = set(rules.keys)
    # Per distinct text cell, once: whether an outcome is unsuccessful, a date's day, a leaving
    # year's number (issue 7: a call per cell dominated at 100k pupils).
    failed_of: dict[str, bool] = {}
    day_of: dict[str, dt.date | None] = {}
    year_of: dict[str, int | None] = {}
    columns = record_cells(contacts, ("outcome", "date", "upn", "leaving_year", "entry", "channel"))
    for outcome, date, upn, year_cell, entry_cell, channel_cell in zip(*columns, strict=True):
        if type(outcome) is str:
            if outcome not in failed_of:
                failed_of[outcome] = _text(outcome).casefold() in unsuccessful
            failed = failed_of[outcome]
        else:
            failed = _text(outcome).casefold() in unsuccessful
        if not failed:
            continue
        if type(date) is str:
            if date not in day_of:
                day_of[date] = parse_iso(_text(date))
            day = day_of[date]
        else:
            day = parse_iso(_text(date))
        if day is None:
            skipped["date"] += 1
            continue
        if as_of is not None and day > as_of:
            continue
        if type(year_cell) is str:  # `_key`, each distinct year text read once
            if year_cell not in year_of:
                year_of[year_cell] = _year(year_cell)
            year = year_of[year_cell]
        else:
            year = _year(year_cell)
        upn_text = upn.strip().upper() if type(upn) is str else _text(upn).upper()
        key = (upn_text, year) if upn_text and year is not None else None
        if key is None or key not in schools_of():
            skipped["pupil"] += 1
            continue
        entry = entry_cell.strip() if type(entry_cell) is str else _text(entry_cell)
        if not entry:
            found, w = found_for(day, key[1])
            warnings.extend(w)
            if found is None:
                skipped["window"] += 1
                continue
            entry = found
        elif entry not in keys:
            skipped["entry"] += 1
            continue
        else:
            window, w = window_for(entry, key[1])
            warnings.extend(w)
            if window is not None and not window[0] <= day <= window[1]:
                skipped["window"] += 1
                continue
        channel = _text(channel_cell).casefold()
        ident = (key[0], key[1], entry, day, channel)
        if ident in seen:
            continue
        seen.add(ident)
        counts.setdefault((key[0], key[1], entry), []).append(day)
        if channel:
            channels.setdefault((key[0], key[1], entry), set()).add(channel)
    schools = schools_of() if counts else {}
    rows = [
        {
            "school": schools[(upn, year)],
            "upn": upn,
            "leaving_year": year,
            "entry": entry,
            "attempts": len(days),
            "last_attempt": max(days).isoformat(),
            "channels": ", ".join(sorted(channels.get((upn, year, entry), ()))),
        }
        for (upn, year, entry), days in sorted(counts.items())
    ]
    reasons = {
        "date": "an unreadable date",
        "pupil": "a pupil not in Destinations",
        "entry": "an unknown entry",
        "window": "a date outside the entry's window",
    }
    for reason, n in skipped.items():
        if n:
            warnings.append(f"{n} unsuccessful contact row(s) not counted: {reasons[reason]}")
    return rows, list(dict.fromkeys(warnings))


def _schools(destinations: pd.DataFrame) -> dict[tuple[str, int], str]:
    """`_key(upn, leaving_year)` -> `_text(school)` for every Destinations row with a key (the
    last such row wins): three columns, not every cell (issue 7); text cells (the usual case)
    without a call per cell, each distinct leaving-year text read once."""
    upns = _column(destinations, "upn")
    years = _column(destinations, "leaving_year")
    school_cells = _column(destinations, "school")
    year_of: dict[str, int | None] = {}
    schools: dict[tuple[str, int], str] = {}
    for upn, year, school in zip(upns, years, school_cells, strict=True):
        if type(year) is str:  # `_year` of a text: the same for the same text
            if year not in year_of:
                year_of[year] = _year(year)
            number = year_of[year]
        else:
            number = _year(year)
        if number is None:
            continue
        upn_text = upn.strip().upper() if type(upn) is str else _text(upn).upper()
        if upn_text:
            schools[(upn_text, number)] = school.strip() if type(school) is str else _text(school)
    return schools


def _column(frame: pd.DataFrame, column: str) -> list[Any]:
    """A column's values (None for every row when the frame lacks it, as `record.get` gives)."""
    return frame[column].tolist() if column in frame.columns else [None] * len(frame)


def apply_three_attempts(
    destinations: pd.DataFrame,
    contacts: pd.DataFrame,
    rules: Rules,
    term_dates: Mapping[str, TermDates],
    as_of: dt.date,
) -> pd.DataFrame:
    """Mark entries with >= `rule.attempts` unsuccessful attempts and no destination as unknown.

    Sets `E_destination` = "Unknown", `E_source` = "unknown (3 attempts)", `E_recorded` = as_of,
    only for rules whose `completed_by` allows "unknown_after_attempts". A recorded destination is
    never overwritten (and an existing placeholder keeps its date), so a later response or staff
    entry that replaces the placeholder stays. Returns a new frame; the input is unchanged.
    """
    result = destinations.copy(deep=False)  # copy-on-write (pandas 3): the input never changes
    result.attrs = dict(destinations.attrs)
    counted, _ = _attempt_rows(contacts, destinations, rules, term_dates, as_of)
    by_pupil: dict[tuple[str, int, str], int] = {
        (str(r["upn"]), int(r["leaving_year"]), str(r["entry"])): int(r["attempts"])
        for r in counted
    }
    if not by_pupil:
        return result
    rows_of = _rows_of(result, {(upn, year) for upn, year, _ in by_pupil})
    cells = _Cells(result)
    for rule in rules.entries:
        if "unknown_after_attempts" not in rule.completed_by:
            continue
        dest_col = f"{rule.key}_destination"
        if dest_col not in result.columns:
            continue
        src_col, rec_col = f"{rule.key}_source", f"{rule.key}_recorded"
        for col in (src_col, rec_col):
            if col not in result.columns:
                result[col] = ""
        # The rows (in frame order) of pupils with enough attempts at this entry.
        due = sorted(
            pos
            for (upn, year, entry), n in by_pupil.items()
            if entry == rule.key and n >= rule.attempts
            for pos in rows_of.get((upn, year), ())
        )
        for pos in due:
            if _text(cells.get(dest_col, pos)):
                continue
            cells.set(dest_col, pos, UNKNOWN_DESTINATION)
            cells.set(src_col, pos, UNKNOWN_SOURCE)
            cells.set(rec_col, pos, as_of.isoformat())
            group = ENTRY_GROUP.get(rule.key)
            if group is not None and "sync_hash" in result.columns:
                # The hash reads only the group's cells and sync_hash (gsync.template.group_hash).
                read = [c for c in (*HASH_GROUPS[group], "sync_hash") if c in result.columns]
                row = {c: _text(cells.get(c, pos)) for c in read}
                set_group_hash(row, group, PLACEHOLDER_TOKEN)
                cells.set("sync_hash", pos, row["sync_hash"])
    cells.write()
    return result


def _rows_of(frame: pd.DataFrame, pupils: set[tuple[str, int]]) -> dict[tuple[str, int], list[int]]:
    """The positions of `frame`'s rows whose `_key(upn, leaving_year)` is one of `pupils`; only
    rows whose UPN text is one of theirs get a whole key (issue 7)."""
    upns, years = frame["upn"].tolist(), frame["leaving_year"].tolist()
    wanted = {upn for upn, _ in pupils}
    rows: dict[tuple[str, int], list[int]] = {}
    for pos, upn in enumerate(upns):
        if (upn.strip().upper() if type(upn) is str else _text(upn).upper()) not in wanted:
            continue
        key = _key(upn, years[pos])
        if key is not None and key in pupils:
            rows.setdefault(key, []).append(pos)
    return rows


class _Cells:
    """A frame's cells by (column, position), as `frame.at[frame.index[pos], column]` reads and
    writes them.

    With unique labels and column names, a column is read once as a list and the writes wait in
    memory until `write` puts each object column back whole (issue 7: `.at` per cell was slow);
    other columns, and frames with repeated labels or names, use `.at` itself.
    """

    def __init__(self, frame: pd.DataFrame) -> None:
        self.frame = frame
        self.direct = not (frame.index.is_unique and frame.columns.is_unique)
        self.columns: dict[str, list[Any]] = {}
        self.pending: dict[str, dict[int, Any]] = {}
        self.held: dict[str, bool] = {}  # column -> its writes wait for `write` (object columns)

    def get(self, column: str, pos: int) -> Any:
        if self.direct:
            return self.frame.at[self.frame.index[pos], column]
        written = self.pending.get(column)
        if written is not None and pos in written:
            return written[pos]
        if column not in self.columns:
            self.columns[column] = self.frame[column].tolist()
        return self.columns[column][pos]

    def set(self, column: str, pos: int, value: Any) -> None:
        if column not in self.held:
            self.held[column] = not self.direct and self.frame[column].dtype == np.dtype(object)
        if not self.held[column]:
            self.frame.at[self.frame.index[pos], column] = value
            self.columns.pop(column, None)
        else:
            self.pending.setdefault(column, {})[pos] = value

    def write(self) -> None:
        for column, written in self.pending.items():
            values = self.frame[column].to_numpy(dtype=object, copy=True)
            for pos, value in written.items():
                values[pos] = value
            # A Series of dtype object: an array of text alone would become a column of str.
            self.frame[column] = pd.Series(values, index=self.frame.index, dtype=object)
        self.pending.clear()


SUSTAINED_KEYS = ("school", "upn", "leaving_year", "check")


def apply_three_attempts_sustained(
    sustained: pd.DataFrame,
    destinations: pd.DataFrame,
    contacts: pd.DataFrame,
    rules: Rules,
    term_dates: Mapping[str, TermDates],
    as_of: dt.date,
) -> pd.DataFrame:
    """`apply_three_attempts` for the checks kept in the long Sustained tab.

    For a check (an entry Destinations has no columns for) with >= `rule.attempts` unsuccessful
    attempts and no row holding a destination, fills the pupil's blank row for that check or
    appends one: destination "Unknown", source "unknown (3 attempts)", recorded `as_of`, with the
    row's `sync_hash` set so a later response replaces it. Existing rows keep their order.
    """
    checks = set(sustained_checks(rules, destinations))
    counted, _ = _attempt_rows(contacts, destinations, rules, term_dates, as_of)
    if not any(
        str(r["entry"]) in checks
        and "unknown_after_attempts" in rules.rule(str(r["entry"])).completed_by
        and int(r["attempts"]) >= rules.rule(str(r["entry"])).attempts
        for r in counted
    ):
        result = sustained.copy()  # nothing to mark: the tab as it is
        result.attrs = dict(sustained.attrs)
        return result
    columns = [str(c) for c in sustained.columns]
    needed = [*SUSTAINED_KEYS, "destination", "source", "recorded", "sync_hash"]
    columns += [c for c in needed if c not in columns]
    rows = [
        {c: _text(r.get(c)) for c in columns}
        for r in sustained.reindex(columns=columns).to_dict("records")
    ]
    at: dict[tuple[str, int, str], int] = {}
    for i, row in enumerate(rows):
        key = _key(row["upn"], row["leaving_year"])
        if key is not None and row["check"] in checks:
            ident = (key[0], key[1], row["check"])
            if ident not in at or row["destination"]:
                at[ident] = i
    changed = False
    for r in counted:
        check = str(r["entry"])
        if check not in checks:
            continue
        rule = rules.rule(check)
        if "unknown_after_attempts" not in rule.completed_by or int(r["attempts"]) < rule.attempts:
            continue
        ident = (str(r["upn"]), int(r["leaving_year"]), check)
        held = at.get(ident)
        if held is not None and rows[held]["destination"]:
            continue
        if held is None:
            rows.append(dict.fromkeys(columns, ""))
            at[ident] = len(rows) - 1
        row = rows[at[ident]]
        row.update(
            school=str(r["school"]),
            upn=ident[0],
            leaving_year=str(ident[1]),
            check=check,
            destination=UNKNOWN_DESTINATION,
            source=UNKNOWN_SOURCE,
            recorded=as_of.isoformat(),
        )
        set_group_hash(row, SUSTAINED, PLACEHOLDER_TOKEN)
        changed = True
    result = pd.DataFrame(rows, columns=columns, dtype=object) if changed else sustained.copy()
    result.attrs = dict(sustained.attrs)
    return result


def contacts_due(
    destinations: pd.DataFrame,
    contacts: pd.DataFrame,
    rules: Rules,
    term_dates: Mapping[str, TermDates],
    as_of: dt.date,
    school: str | None = None,
    *,
    contact_columns: Sequence[str] = DEFAULT_CONTACT_COLUMNS,
) -> pd.DataFrame:
    """Whom to contact now: live-cohort pupils missing the entry whose window holds `as_of`.

    Leaves out pupils marked `do_not_contact` = "Y" and those already complete. Carries their
    unsuccessful attempts so far and the `contact_columns` present in Destinations (personal data:
    for the CSV the user asked for only). Columns: DUE_COLUMNS + those contact columns.
    """
    frame = destinations
    if school is not None and "school" in frame.columns:
        frame = frame[frame["school"].astype(str).str.casefold() == school.casefold()]
    extra = [c for c in contact_columns if c in frame.columns]
    counted = attempts(contacts, destinations, rules, term_dates, as_of=as_of)
    so_far = {
        (str(r["upn"]), int(r["leaving_year"]), str(r["entry"])): (
            int(r["attempts"]),
            str(r["last_attempt"]),
            str(r["channels"]),
        )
        for r in counted.to_dict("records")
    }
    live = set(live_cohorts(as_of, rules.live_years))
    warnings = list(counted.attrs.get("warnings", []))
    now_due: dict[int, str | None] = {}
    # Completion of the entry due now, per entry for all rows at once (issue 7), read by position.
    done: dict[str, Any] = {}
    dnc = _column(frame, "do_not_contact")
    cells = {c: _column(frame, c) for c in ("school", "phase", *extra)}
    rows: list[dict[str, Any]] = []
    for pos, (upn, year) in enumerate(
        zip(_column(frame, "upn"), _column(frame, "leaving_year"), strict=True)
    ):
        key = _key(upn, year)
        if key is None or key[1] not in live:
            continue
        if _text(dnc[pos]).upper() == "Y":
            continue
        if key[1] not in now_due:
            found, w = entry_for_date(rules, term_dates, as_of, key[1])
            warnings.extend(w)
            now_due[key[1]] = found
        entry = now_due[key[1]]
        if entry is None or f"{entry}_destination" not in frame.columns:
            continue
        rule = rules.rule(entry)
        if entry not in done:
            done[entry] = completion_vector(frame, rule, as_of)[0]
        if done[entry][pos]:
            continue
        due, w = due_date(rule, key[1], term_dates)
        warnings.extend(w)
        count, last, tried = so_far.get((key[0], key[1], entry), (0, "", ""))
        row: dict[str, Any] = {
            "school": _text(cells["school"][pos]),
            "upn": key[0],
            "leaving_year": key[1],
            "phase": _text(cells["phase"][pos]),
            "entry": entry,
            "label": rule.label,
            "due": due.isoformat(),
            "attempts": count,
            "last_attempt": last,
            "channels": tried,
        }
        row.update({c: _text(cells[c][pos]) for c in extra})
        rows.append(row)
    result = pd.DataFrame(rows, columns=[*DUE_COLUMNS, *extra])
    if not result.empty:
        result = result.sort_values(["school", "leaving_year", "upn"], kind="stable")
        result = result.reset_index(drop=True)
    result.attrs["warnings"] = list(dict.fromkeys(warnings))
    return result
