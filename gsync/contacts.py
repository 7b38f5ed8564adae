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

import pandas as pd

from gsync.config import TermDates
from gsync.deadlines import (
    UNKNOWN_DESTINATION,
    UNKNOWN_SOURCE,
    Rules,
    completion_vector,
    due_date,
    entry_for_date,
    live_cohorts,
    parse_iso,
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
    unsuccessful = {o.casefold() for o in rules.contacts.unsuccessful_outcomes}
    schools: dict[tuple[str, int], str] = {}
    # Three columns, not every Destinations cell (issue 7: `to_dict("records")` dominated).
    for upn, year, school in zip(
        _column(destinations, "upn"),
        _column(destinations, "leaving_year"),
        _column(destinations, "school"),
        strict=True,
    ):
        key = _key(upn, year)
        if key is not None:
            schools[key] = _text(school)
    # Windows per (entry or day, cohort) resolved once; their warnings repeat as before.
    found_for = functools.cache(lambda day, year: entry_for_date(rules, term_dates, day, year))
    window_for = functools.cache(lambda entry, year: window_of(rules.rule(entry), year, term_dates))
    skipped = {"date": 0, "entry": 0, "pupil": 0, "window": 0}
    seen: set[tuple[str, int, str, dt.date, str]] = set()
    counts: dict[tuple[str, int, str], list[dt.date]] = {}
    channels: dict[tuple[str, int, str], set[str]] = {}
    warnings: list[str] = []
    keys = set(rules.keys)
    for record in contacts.to_dict("records"):
        if _text(record.get("outcome")).casefold() not in unsuccessful:
            continue
        day = parse_iso(_text(record.get("date")))
        if day is None:
            skipped["date"] += 1
            continue
        if as_of is not None and day > as_of:
            continue
        key = _key(record.get("upn"), record.get("leaving_year"))
        if key is None or key not in schools:
            skipped["pupil"] += 1
            continue
        entry = _text(record.get("entry"))
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
        ident = (key[0], key[1], entry, day, _text(record.get("channel")).casefold())
        if ident in seen:
            continue
        seen.add(ident)
        counts.setdefault((key[0], key[1], entry), []).append(day)
        channel = _text(record.get("channel")).casefold()
        if channel:
            channels.setdefault((key[0], key[1], entry), set()).add(channel)
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
    result = pd.DataFrame(rows, columns=ATTEMPTS_COLUMNS)
    result.attrs["warnings"] = list(dict.fromkeys(warnings))
    return result


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
    result = destinations.copy()
    result.attrs = dict(destinations.attrs)
    counted = attempts(contacts, destinations, rules, term_dates, as_of=as_of)
    by_pupil: dict[tuple[str, int, str], int] = {
        (str(r["upn"]), int(r["leaving_year"]), str(r["entry"])): int(r["attempts"])
        for r in counted.to_dict("records")
    }
    if not by_pupil:
        return result
    row_keys = [_key(u, y) for u, y in zip(result["upn"], result["leaving_year"], strict=True)]
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
        for pos, key in enumerate(row_keys):
            if key is None or by_pupil.get((key[0], key[1], rule.key), 0) < rule.attempts:
                continue
            label = result.index[pos]
            if _text(result.at[label, dest_col]):
                continue
            result.at[label, dest_col] = UNKNOWN_DESTINATION
            result.at[label, src_col] = UNKNOWN_SOURCE
            result.at[label, rec_col] = as_of.isoformat()
            group = ENTRY_GROUP.get(rule.key)
            if group is not None and "sync_hash" in result.columns:
                # The hash reads only the group's cells and sync_hash (gsync.template.group_hash).
                cells = [c for c in (*HASH_GROUPS[group], "sync_hash") if c in result.columns]
                row = {c: _text(result.at[label, c]) for c in cells}
                set_group_hash(row, group, PLACEHOLDER_TOKEN)
                result.at[label, "sync_hash"] = row["sync_hash"]
    return result


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
    counted = attempts(contacts, destinations, rules, term_dates, as_of=as_of)
    if not any(
        str(e) in checks
        and "unknown_after_attempts" in rules.rule(str(e)).completed_by
        and int(n) >= rules.rule(str(e)).attempts
        for e, n in zip(counted["entry"], counted["attempts"], strict=True)
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
    for r in counted.to_dict("records"):
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
