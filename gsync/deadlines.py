"""Deadline rules (sheets_templates/deadlines.toml) + term dates -> due dates, windows, entry states.

A functional core: pure functions over dates and the Destinations frame. The only I/O is reading
the rules file in `load_rules`. Warnings (a missing academic year's term dates, a missing entry
column) are returned, or carried in `DataFrame.attrs["warnings"]`; they never name a pupil.
"""

from __future__ import annotations

import calendar
import datetime as dt
import logging
import tomllib
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
from pandas.api.extensions import ExtensionDtype
from pandas.core.dtypes.cast import maybe_box_native  # what `DataFrame.to_dict` boxes with
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from gsync.config import TermDates
from gsync.errors import SpecError
from gsync.paths import templates_dir
from gsync.validation import error_lines

log = logging.getLogger(__name__)

RULES_FILE = "deadlines.toml"
UNKNOWN_SOURCE = "unknown (3 attempts)"
UNKNOWN_DESTINATION = "Unknown"
# Schools are in England: a response submitted at 23:30 UTC on 31 July (00:30 BST, 1 August) was
# submitted on 1 August as the school counts days.
SCHOOL_TZ = ZoneInfo("Europe/London")

State = Literal["upcoming", "due_soon", "overdue", "complete", "completed_late"]
STATES: tuple[State, ...] = ("upcoming", "due_soon", "overdue", "complete", "completed_late")
# Rank for "never goes backwards": complete and completed_late are both terminal.
STATE_RANK: dict[str, int] = {
    "upcoming": 0,
    "due_soon": 1,
    "overdue": 2,
    "complete": 3,
    "completed_late": 3,
}
Completion = Literal["recorded", "recorded_and_validated", "unknown_after_attempts"]
TermName = Literal["autumn", "spring", "summer"]

STATUS_COLUMNS = [
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


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class FixedDay(_Strict):
    """A calendar day: `month`/`day` of year L + `year_offset`, moved by `days`."""

    month: int = Field(ge=1, le=12)
    day: int = Field(ge=1, le=31)
    year_offset: int = Field(default=0, ge=-5, le=10)
    days: int = Field(default=0, ge=-366, le=366)

    @model_validator(mode="after")
    def _real_day(self) -> FixedDay:
        # Checked against a leap year so 29 February is allowed (clamped in other years).
        if self.day > calendar.monthrange(2024, self.month)[1]:
            raise ValueError(f"month {self.month} has no day {self.day}")
        return self


class TermDay(_Strict):
    """A day relative to a term of the academic year starting in L + `year_offset`."""

    term: TermName
    week: int | None = Field(default=None, ge=1, le=20)
    edge: Literal["start", "end"]
    year_offset: int = Field(default=0, ge=-5, le=10)
    days: int = Field(default=0, ge=-366, le=366)


DateExpr = FixedDay | TermDay


class Window(_Strict):
    """The days in which a response fills the entry and contact attempts count towards it."""

    opens: DateExpr
    closes: DateExpr | None = None  # default: the entry's due date


class Rule(_Strict):
    """One entry per cohort: what is due, by when, and what completes it for a pupil."""

    key: str = Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=40)
    label: str = Field(min_length=1)
    cohort: Literal["current", "past"]
    due: DateExpr
    completed_by: list[Completion] = Field(min_length=1)
    attempts: int = Field(default=3, ge=1, le=20)
    window: Window | None = None
    # Which entry a Form A response submitted inside this window fills: this one (unset), another
    # entry's key (e.g. validation is staff's job, so a response fills the unvalidated entry), or
    # `false`: none (staff only).
    form_fills: str | Literal[False] | None = None

    @field_validator("completed_by", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value


class ContactsSpec(_Strict):
    """Contacts tab vocabulary: channels and which outcomes are unsuccessful attempts."""

    channels: list[str] = Field(
        default_factory=lambda: ["Email", "Phone", "Letter", "Social media"]
    )
    unsuccessful_outcomes: list[str] = Field(min_length=1)
    successful_outcomes: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _disjoint(self) -> ContactsSpec:
        both = {o.casefold() for o in self.unsuccessful_outcomes} & {
            o.casefold() for o in self.successful_outcomes
        }
        if both:
            raise ValueError(f"outcomes both successful and unsuccessful: {sorted(both)}")
        return self


class RoundWindow(_Strict):
    """The days a pre-leaving survey round is open (both ends inclusive)."""

    opens: DateExpr
    closes: DateExpr


Expectation = Literal["destination", "application", "offer"]


class RoundRule(_Strict):
    """A pre-leaving survey round (issue 11): its phase, window, form spec and what it expects."""

    key: str = Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=40)
    label: str = Field(min_length=1)
    phase: Literal["Y11", "Y13"]
    form: str = Field(min_length=1, description="Form spec file in forms/ (or a path).")
    window: RoundWindow
    # What a pupil should have by this round (gsync.risk): an intended destination, at least one
    # application, an offer.
    expects: list[Expectation] = Field(default_factory=list)


class Rules(_Strict):
    """The whole rules file."""

    version: int = Field(default=1, ge=1, le=1)
    due_soon_days: int = Field(default=14, ge=0, le=366)
    live_years: int = Field(default=3, ge=1, le=10)
    entries: list[Rule] = Field(min_length=1)
    contacts: ContactsSpec
    # Pre-leaving survey rounds and results days per phase (issue 11; see gsync.rounds).
    rounds: list[RoundRule] = Field(default_factory=list)
    results_days: dict[Literal["Y11", "Y13"], FixedDay] = Field(default_factory=dict)

    @field_validator("rounds")
    @classmethod
    def _unique_rounds(cls, rounds: list[RoundRule]) -> list[RoundRule]:
        keys = [r.key for r in rounds]
        dupes = sorted({k for k in keys if keys.count(k) > 1})
        if dupes:
            raise ValueError(f"two rounds have key {dupes[0]!r}; keys must be unique")
        return rounds

    def round(self, key: str) -> RoundRule:
        """The survey round with this key (KeyError if none)."""
        for rnd in self.rounds:
            if rnd.key == key:
                return rnd
        raise KeyError(key)

    @field_validator("entries")
    @classmethod
    def _unique_keys(cls, entries: list[Rule]) -> list[Rule]:
        seen: set[str] = set()
        for rule in entries:
            if rule.key in seen:
                raise ValueError(f"two entries have key {rule.key!r}; keys must be unique")
            seen.add(rule.key)
        for rule in entries:
            if isinstance(rule.form_fills, str) and rule.form_fills not in seen:
                raise ValueError(
                    f"entry {rule.key!r}: form_fills names {rule.form_fills!r}, which is not an entry"
                )
        return entries

    def rule(self, key: str) -> Rule:
        """The rule with this key (KeyError if none)."""
        for rule in self.entries:
            if rule.key == key:
                return rule
        raise KeyError(key)

    @property
    def keys(self) -> list[str]:
        """Entry keys in file order."""
        return [r.key for r in self.entries]


# --- loading -------------------------------------------------------------------------------------


def _location(loc: tuple[Any, ...], data: Mapping[str, Any]) -> str:
    """`entries[2].due` -> `entries[2] (key 'actual_validated').due`, so errors name the entry."""
    parts: list[str] = []
    for i, item in enumerate(loc):
        if isinstance(item, int):
            base = parts.pop() if parts else ""
            text = f"{base}[{item}]"
            if i == 1 and loc[0] == "entries":
                entries = data.get("entries")
                if isinstance(entries, list) and item < len(entries):
                    key = entries[item].get("key") if isinstance(entries[item], dict) else None
                    if key:
                        text += f" (key {key!r})"
            parts.append(text)
        elif item in ("FixedDay", "TermDay"):
            parts.append(f"<as {item}>")
        else:
            parts.append(str(item))
    return ".".join(parts)


def parse_rules(data: Mapping[str, Any], source: str = RULES_FILE) -> Rules:
    """Validate a rules mapping; every error names the file and the key."""
    try:
        return Rules.model_validate(dict(data))
    except ValidationError as exc:
        lines = error_lines(exc, source, lambda loc: _location(loc, data))
        raise SpecError(
            "Invalid deadline rules:\n  " + "\n  ".join(lines),
            fix=f"edit {source}; the shipped sheets_templates/{RULES_FILE} is a valid example.",
        ) from None


def load_rules(path: str | Path | None = None) -> Rules:
    """Read and validate the rules file (default: the shipped sheets_templates/deadlines.toml)."""
    p = Path(path) if path else templates_dir() / RULES_FILE
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SpecError(
            f"Deadline rules file {p} not found.",
            fix="check `specs.deadlines` in gsync.toml, or remove it to use the shipped rules.",
        ) from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise SpecError(f"{p}: not valid TOML: {exc}.", fix="correct the line named.") from None
    return parse_rules(data, str(p))


# --- term dates ----------------------------------------------------------------------------------


def academic_year_key(year_start: int) -> str:
    """2025 -> "2025-26", the key of `[term_dates]` in gsync.toml."""
    return f"{year_start}-{(year_start + 1) % 100:02d}"


def academic_year_of(day: dt.date) -> int:
    """The year in which the tracking year containing `day` starts; years turn on 1 August.

    1 August is the day after the current leavers' default deadline (31 July, DESIGN.md): from then
    on the summer's leavers are past leavers.
    """
    return day.year if day.month >= 8 else day.year - 1


def easter_sunday(year: int) -> dt.date:
    """Gregorian Easter Sunday (the anonymous Gregorian computus, Meeus/Jones/Butcher)."""
    a = year % 19
    b, c = divmod(year, 100)
    d, e = divmod(b, 4)
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    el = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * el) // 451
    month, day = divmod(h + el - 7 * m + 114, 31)
    return dt.date(year, month, day + 1)


def _on_or_after(day: dt.date, weekday: int) -> dt.date:
    return day + dt.timedelta(days=(weekday - day.weekday()) % 7)


def _on_or_before(day: dt.date, weekday: int) -> dt.date:
    return day - dt.timedelta(days=(day.weekday() - weekday) % 7)


def default_terms(year_start: int) -> TermDates:
    """The documented fallback when gsync.toml has no term dates for an academic year.

    English schools' term dates are set by each local authority or academy trust (GOV.UK, "School
    term and holiday dates", https://www.gov.uk/school-term-holiday-dates), so no rule is exact.
    These defaults err late (weeks count from the Monday of the starting week, so only a school
    starting before 1 September is earlier), so a missing year rarely makes an entry overdue early:
      autumn_start  the first Monday on or after 1 September
      autumn_end    the last Friday on or before 22 December
      spring_start  the first Monday on or after 2 January
      spring_end    Maundy Thursday (the day before the Good Friday bank holiday)
      summer_start  the Monday one week after Easter Monday (a two-week Easter break)
      summer_end    the last Friday on or before 24 July
    """
    mon, fri = 0, 4
    easter = easter_sunday(year_start + 1)
    return TermDates(
        autumn_start=_on_or_after(dt.date(year_start, 9, 1), mon),
        autumn_end=_on_or_before(dt.date(year_start, 12, 22), fri),
        spring_start=_on_or_after(dt.date(year_start + 1, 1, 2), mon),
        spring_end=easter - dt.timedelta(days=3),
        summer_start=easter + dt.timedelta(days=8),
        summer_end=_on_or_before(dt.date(year_start + 1, 7, 24), fri),
    )


def terms_for(year_start: int, term_dates: Mapping[str, TermDates]) -> tuple[TermDates, list[str]]:
    """The term dates of the academic year starting in `year_start`, and any warnings.

    A year missing from the configuration gets `default_terms` and a warning naming the key to add.
    """
    key = academic_year_key(year_start)
    if key in term_dates:
        return term_dates[key], []
    terms = default_terms(year_start)
    return terms, [
        f"no term dates for {key} in gsync.toml; using the default estimate "
        f"(autumn {terms.autumn_start.isoformat()} to {terms.autumn_end.isoformat()}, "
        f"spring {terms.spring_start.isoformat()} to {terms.spring_end.isoformat()}, "
        f'summer {terms.summer_start.isoformat()} to {terms.summer_end.isoformat()}): add [term_dates."{key}"]'
    ]


# --- date expressions ----------------------------------------------------------------------------


def _term_bounds(terms: TermDates, term: TermName) -> tuple[dt.date, dt.date]:
    start: dt.date = getattr(terms, f"{term}_start")
    end: dt.date = getattr(terms, f"{term}_end")
    return start, end


def resolve(
    expr: DateExpr, leaving_year: int, term_dates: Mapping[str, TermDates]
) -> tuple[dt.date, list[str]]:
    """The date an expression names for cohort `leaving_year`, and any warnings."""
    shift = dt.timedelta(days=expr.days)
    if isinstance(expr, FixedDay):
        year = leaving_year + expr.year_offset
        last = calendar.monthrange(year, expr.month)[1]
        warnings: list[str] = []
        mday = expr.day
        if mday > last:  # 29 February outside a leap year
            warnings.append(
                f"{year}-{expr.month:02d} has no day {mday}; using {year}-{expr.month:02d}-{last:02d}"
            )
            mday = last
        return dt.date(year, expr.month, mday) + shift, warnings
    terms, warnings = terms_for(leaving_year + expr.year_offset, term_dates)
    start, end = _term_bounds(terms, expr.term)
    if expr.week is None:
        return (start if expr.edge == "start" else end) + shift, warnings
    # Week 1 is the Monday-to-Friday week containing the term's first day (even if partial).
    monday = start - dt.timedelta(days=start.weekday()) + dt.timedelta(weeks=expr.week - 1)
    day = max(monday, start) if expr.edge == "start" else monday + dt.timedelta(days=4)
    if day > end:
        warnings.append(
            f"week {expr.week} of the {expr.term} term {academic_year_key(leaving_year + expr.year_offset)} "
            f"falls after the term ends; using the term's last day"
        )
        day = end
    return day + shift, warnings


def due_date(
    rule: Rule, leaving_year: int, term_dates: Mapping[str, TermDates]
) -> tuple[dt.date, list[str]]:
    """When `rule` is due for the cohort that left in `leaving_year`, and any warnings."""
    return resolve(rule.due, leaving_year, term_dates)


def window_of(
    rule: Rule, leaving_year: int, term_dates: Mapping[str, TermDates]
) -> tuple[tuple[dt.date, dt.date] | None, list[str]]:
    """The entry's window [opens, closes] (inclusive) for the cohort, or None if it has none."""
    if rule.window is None:
        return None, []
    opens, w1 = resolve(rule.window.opens, leaving_year, term_dates)
    if rule.window.closes is None:
        closes, w2 = due_date(rule, leaving_year, term_dates)
    else:
        closes, w2 = resolve(rule.window.closes, leaving_year, term_dates)
    return (opens, closes), w1 + w2


def school_day(moment: dt.datetime | dt.date) -> dt.date:
    """The school's calendar day of a moment: aware datetimes are read in Europe/London."""
    if isinstance(moment, dt.datetime):
        if moment.tzinfo is not None:
            moment = moment.astimezone(SCHOOL_TZ)
        return moment.date()
    return moment


def _utc_day_offset(moment: dt.datetime) -> int | None:
    """London's offset from UTC in whole hours throughout the UTC day of `moment` (a UTC
    datetime), so that a moment of that day at hour h falls on the school day whose ordinal is
    (the UTC day's ordinal * 24 + h + offset) // 24; None if the offset at the day's first and
    last moments differ or is not whole hours, or they cannot be read (the ends of the
    calendar). (The offset cannot change within the day and change back: London's changes are
    months apart.)"""
    try:
        start = dt.datetime.combine(moment.date(), dt.time(), dt.UTC)
        end = start + dt.timedelta(hours=23, minutes=59, seconds=59, microseconds=999999)
        first, last = start.astimezone(SCHOOL_TZ).utcoffset(), end.astimezone(SCHOOL_TZ).utcoffset()
    except (OverflowError, ValueError):
        return None
    if first is None or first != last or first % dt.timedelta(hours=1):
        return None
    return first // dt.timedelta(hours=1)


def entry_for_date(
    rules: Rules,
    term_dates: Mapping[str, TermDates],
    day: dt.date,
    leaving_year: int,
    windows: Callable[[Rule, int], tuple[tuple[dt.date, dt.date] | None, list[str]]] | None = None,
) -> tuple[str | None, list[str]]:
    """The first entry (file order) whose window holds `day` for the cohort, and any warnings.

    `windows(rule, leaving_year)`: `window_of(rule, leaving_year, term_dates)`, e.g. memoised by
    a caller that asks about many days.
    """
    warnings: list[str] = []
    for rule in rules.entries:
        if windows is None:
            window, w = window_of(rule, leaving_year, term_dates)
        else:
            window, w = windows(rule, leaving_year)
        warnings.extend(w)
        if window is not None and window[0] <= day <= window[1]:
            return rule.key, warnings
    return None, warnings


def entry_for_response(
    rules: Rules,
    term_dates: Mapping[str, TermDates],
    submitted: dt.datetime,
    leaving_year: int,
) -> str | None:
    """Which entry a Form A response submitted at `submitted` fills for cohort `leaving_year`.

    Same meaning as the sync's `default_entry_for(submitted, leaving_year)`: use
    `functools.partial(entry_for_response, rules, term_dates)` (or `entry_resolver`). The entry
    whose window holds the moment, redirected by its `form_fills`; None outside every window or
    for a staff-only entry. Term-date warnings go to the log (no personal data).
    """
    key, warnings = entry_for_date(rules, term_dates, school_day(submitted), leaving_year)
    for warning in dict.fromkeys(warnings):
        log.warning(warning)
    return _form_entry(rules, key)


def _form_entry(rules: Rules, key: str | None) -> str | None:
    """The entry a response in entry `key`'s window fills (its `form_fills`), None if none."""
    if key is None:
        return None
    fills = rules.rule(key).form_fills
    if fills is False:
        return None
    return fills or key


def entry_resolver(
    rules: Rules, term_dates: Mapping[str, TermDates]
) -> Callable[[dt.datetime, int], str | None]:
    """`entry_for_response` bound to the rules and term dates: f(submitted, leaving_year).

    The answer depends only on (school_day(submitted), leaving_year), so each such pair is
    resolved once per resolver (issue 7: 81k responses, a few hundred distinct pairs). Each
    distinct term-date warning is logged once per resolver, not once per response. The rules and
    term dates must not change while the resolver is in use. A leaving year that is not an `int`
    is resolved uncached (as `entry_for_response`).
    """
    known: dict[tuple[dt.date, int], str | None] = {}
    logged: set[str] = set()
    # UTC moments (the merge's submission times, issue 7: ~80k, each one's `astimezone` to
    # London cost more than the rest) read through their UTC day's offset (`_utc_day_offset`);
    # the answers by (school day's ordinal, leaving year).
    offsets: dict[int, int | None] = {}
    by_day: dict[tuple[int, int], str | None] = {}
    # The answers by (a stamp's UTC day and hour, leaving year), for days read through their
    # offset (`for_stamp`).
    by_hour: dict[tuple[str, int], str | None] = {}

    def resolve_entry(submitted: dt.datetime, leaving_year: int) -> str | None:
        if type(leaving_year) is not int:
            return entry_for_response(rules, term_dates, submitted, leaving_year)
        if type(submitted) is dt.datetime and submitted.tzinfo is dt.UTC:
            utc_day = submitted.toordinal()
            if utc_day in offsets:
                offset = offsets[utc_day]
            else:
                offset = offsets[utc_day] = _utc_day_offset(submitted)
            if offset is not None:
                key = ((utc_day * 24 + submitted.hour + offset) // 24, leaving_year)
                if key in by_day:
                    return by_day[key]
                by_day[key] = entry = resolve_day(dt.date.fromordinal(key[0]), leaving_year)
                return entry
        return resolve_day(school_day(submitted), leaving_year)

    def for_stamp(stamp: str, leaving_year: int) -> str | None:
        """`resolve_entry` of the moment `stamp` writes in `responses.timestamp`'s form (UTC,
        "YYYY-MM-DDTHH:MM:SS.mmmZ", which the caller vouches for), read as the merge reads
        it; `StampError` if it is no valid time. Its first 13 characters are its UTC day and
        hour: on a day read through its offset the answer depends on those alone (above), so
        it is kept per (day and hour, leaving year) (issue 7: a first night's ~80k
        responses, each parsed to be resolved)."""
        key = (stamp[:13], leaving_year)
        if key in by_hour:
            return by_hour[key]
        try:
            moment = dt.datetime.fromisoformat(stamp.replace("Z", "+00:00"))
        except ValueError as error:
            raise StampError(stamp) from error
        entry = resolve_entry(moment, leaving_year)
        read_by_offset = moment.tzinfo is dt.UTC and offsets.get(moment.toordinal()) is not None
        if type(leaving_year) is int and read_by_offset:
            by_hour[key] = entry
        return entry

    def resolve_day(day: dt.date, leaving_year: int) -> str | None:
        key = (day, leaving_year)
        if key in known:
            return known[key]
        found, warnings = entry_for_date(rules, term_dates, key[0], leaving_year)
        for warning in dict.fromkeys(warnings):
            if warning not in logged:
                logged.add(warning)
                log.warning(warning)
        known[key] = entry = _form_entry(rules, found)
        return entry

    # The merge asks `for_stamp` when it has one (gsync.merge `_Run.merge`).
    setattr(resolve_entry, STAMP_RESOLVER, for_stamp)
    return resolve_entry


#: The attribute of an `entry_resolver` that resolves a stamped UTC time (`for_stamp`).
STAMP_RESOLVER = "for_stamp"


class StampError(ValueError):
    """A stamp `entry_resolver`'s `for_stamp` cannot read as a time."""


# --- completion and states -----------------------------------------------------------------------


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


def record_cells(frame: pd.DataFrame, names: Sequence[Any]) -> list[list[Any]]:
    """Each named column's cells as `frame.to_dict("records")` gives them (`record.get(name)`:
    None for a column the frame lacks), column by column (issue 7: a dict per row was slow).

    `to_dict` boxes object and extension cells with pandas' `maybe_box_native` (numpy scalars to
    Python ones, pd.NA to None); so is every such cell here but text, which it leaves as it is.
    Repeated column names: the records themselves.
    """
    if not frame.columns.is_unique:
        records = frame.to_dict("records")
        return [[r.get(name) for r in records] for name in names]
    out: list[list[Any]] = []
    for name in names:
        if name not in frame.columns:
            out.append([None] * len(frame))
            continue
        column = frame[name]
        values = column.tolist()
        if column.dtype == np.dtype(object) or isinstance(column.dtype, ExtensionDtype):
            values = [v if type(v) is str else maybe_box_native(v) for v in values]
        out.append(values)
    return out


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

try:  # the pieces of `pd.factorize` for an object array: its check for texts, its table of them
    from pandas._libs.hashtable import StringHashTable as _StringHashTable
    from pandas._libs.lib import is_string_array as _is_string_array
except ImportError:  # pragma: no cover - a pandas without them: `infer_dtype`, `pd.factorize`
    _StringHashTable = None
    _is_string_array = None


def _texts_only(values: np.ndarray) -> bool:
    """Whether every cell of an object array is a str (none missing; `infer_dtype` "string",
    skipping missing cells or not): the check `pd.factorize` makes to pick its table of texts."""
    if not len(values):
        return False
    if _is_string_array is None:  # pragma: no cover
        return bool(pd.api.types.infer_dtype(values, skipna=False) == "string")
    return bool(_is_string_array(values, skipna=False))


def _factorize(values: np.ndarray, texts: bool) -> tuple[np.ndarray, np.ndarray]:
    """`pd.factorize(values)`; for an object array of texts only (`texts`: `_texts_only` found
    it, or the array it is taken from, so) through the table of texts `pd.factorize` picks for
    it, without its own pass over every cell to check (issue 7: a pass per read of a column)."""
    if not texts or not len(values) or _StringHashTable is None:
        return pd.factorize(values)
    uniques, codes = _StringHashTable(len(values)).factorize(
        values, na_sentinel=-1, na_value=None, mask=None, ignore_na=True
    )
    return np.asarray(codes, dtype=np.intp), uniques


def cell_texts(frame: pd.DataFrame, column: str) -> np.ndarray:
    """`_cell(row, column)` for every row at once (stripped text; "" for a missing column).

    Each distinct value is converted once. Frames of text (the usual case) go through
    `pd.factorize`; others cell by cell, since factorize would merge 1 and 1.0.
    """
    n = len(frame)
    if column not in frame.columns:
        return np.full(n, "", dtype=object)
    values = frame[column].to_numpy(dtype=object)
    plain = _texts_only(values)
    if not plain and pd.api.types.infer_dtype(values, skipna=False) not in ("string", "empty"):
        return np.array([_cell({column: v}, column) for v in values] or [], dtype=object)
    codes, uniques = _factorize(values, plain)
    texts = np.array([u.strip() for u in uniques] + [""], dtype=object)
    return texts[codes]


def _distinct_texts(
    frame: pd.DataFrame, column: str, rows: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """`cell_texts(frame, column)` (at positions `rows` only, if given) as (codes, texts): row
    i's text is `texts[codes[i]]`.

    One factorize of a text column (blanks as NaN / None allowed); other columns go through
    `cell_texts`, then are factorised. The way is chosen on the whole column, so a cell's text
    does not depend on which rows are read.
    """
    if column not in frame.columns:
        n = len(frame) if rows is None else len(rows)
        return np.zeros(n, dtype=np.int64), np.array([""], dtype=object)
    values = frame[column].to_numpy(dtype=object)
    if rows is not None and 0 < len(rows) < len(values):
        picked = values[rows]
        if _texts_only(picked):
            # Every cell read is a str: its text is itself stripped whichever way the whole
            # column is read (as text; or cell by cell, `_cell`), so the others are not looked
            # at (issue 7: a pass over a 100k column for a few rows with a destination).
            return _coded(frame, column, picked, True, None, True)
    plain = _texts_only(values)
    return _coded(frame, column, values, plain or _is_text(values), rows, plain)


def _is_text(values: np.ndarray) -> bool:
    """Whether `_distinct_texts` reads a column of these cells as text (one factorize)."""
    return pd.api.types.infer_dtype(values, skipna=True) in ("string", "empty")


def _coded(
    frame: pd.DataFrame,
    column: str,
    values: np.ndarray,
    text: bool,
    rows: np.ndarray | None,
    plain: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """`_distinct_texts(frame, column, rows)` given the column's `values`, `_is_text` and
    `_texts_only` (`plain`)."""
    if not text:
        cells = cell_texts(frame, column)
        codes, uniques = pd.factorize(cells if rows is None else cells[rows])
        return codes, np.array([*uniques, ""], dtype=object)
    codes, uniques = _factorize(values if rows is None else values[rows], plain)
    # NaN / None (code -1) read as "", the last text.
    return codes, np.array([*(u.strip() for u in uniques), ""], dtype=object)


def _filled(frame: pd.DataFrame, column: str) -> np.ndarray | None:
    """The positions of the rows whose `cell_texts(frame, column)` is not "", worked out from
    the cells that are not "" themselves when the column is read as text (issue 7: the later
    checks' columns are mostly blank); None for other columns (or cells `!=` cannot compare)."""
    if column not in frame.columns:
        return np.zeros(0, dtype=np.intp)
    values = frame[column].to_numpy(dtype=object)
    try:
        maybe = np.flatnonzero(values != "")
    except (TypeError, ValueError):  # pd.NA is not True or False, nor is an array: as below
        pass
    else:
        # Every cell but "" a str: the column is read as text, and only those cells need be
        # (issue 7: no pass over a mostly blank 100k column to check it is text).
        if not len(maybe):
            return maybe
        picked = values[maybe]
        if _texts_only(picked):
            codes, texts = _coded(frame, column, picked, True, None, True)
            return maybe[(texts != "")[codes]]
    plain = _texts_only(values)
    if not plain and not _is_text(values):
        return None
    try:
        maybe = np.flatnonzero(values != "")
    except TypeError:  # pd.NA is not True or False
        return None
    codes, texts = _coded(frame, column, values, True, maybe, plain)
    return maybe[(texts != "")[codes]]


def _leaving_years(frame: pd.DataFrame) -> np.ndarray:
    """Each row's leaving year as an int, -1 where the cell is not digits (after stripping).

    A column of text (blanks as NaN / None, which are not digits) is read one distinct value at
    a time; any other column cell by cell, as factorize would merge 1 and 1.0.
    """
    values = frame["leaving_year"].to_numpy(dtype=object)

    def year(v: object) -> int:
        return int(v) if str(v).strip().isdigit() else -1  # type: ignore[call-overload]

    plain = _texts_only(values)
    if not plain and pd.api.types.infer_dtype(values, skipna=True) not in ("string", "empty"):
        return np.array([year(v) for v in values.tolist()], dtype=np.int64)
    codes, uniques = _factorize(values, plain)
    return np.array([year(u) for u in uniques] + [-1], dtype=np.int64)[codes]


def completion_vector(
    frame: pd.DataFrame, rule: Rule, as_of: dt.date
) -> tuple[np.ndarray, np.ndarray]:
    """`pupil_completion` for every row of `frame` at once (issue 7: the per-pupil loop was slow).

    Returns (done: bool array, recorded: day ordinals, `_NO_DATE` where unknown), row for row
    the same as `pupil_completion(row, rule, as_of)`.
    """
    n = len(frame)
    at = _filled(frame, f"{rule.key}_destination")
    if at is None:  # not a text column: every row read
        codes, texts = _distinct_texts(frame, f"{rule.key}_destination")
        at = np.flatnonzero((texts != "")[codes])
    if not len(at):  # nobody has this entry: nothing else to read
        return np.zeros(n, dtype=bool), np.full(n, _NO_DATE, dtype=np.int64)
    # The other cells are read only at the rows with a destination (issue 7).
    rows = None if len(at) == n else at
    codes, texts = _distinct_texts(frame, f"{rule.key}_source", rows)
    unknown = np.array([t.casefold() == UNKNOWN_SOURCE for t in texts], dtype=bool)[codes]
    if "recorded" in rule.completed_by:
        known_ok = np.ones(len(at), dtype=bool)
    elif "recorded_and_validated" in rule.completed_by:
        codes, texts = _distinct_texts(frame, f"{rule.key}_validated", rows)
        known_ok = np.array([t.upper() == "Y" for t in texts], dtype=bool)[codes]
    else:
        known_ok = np.zeros(len(at), dtype=bool)
    complete = np.where(unknown, "unknown_after_attempts" in rule.completed_by, known_ok)
    codes, texts = _distinct_texts(frame, f"{rule.key}_recorded", rows)
    days = [parse_iso(t) for t in texts]
    recorded = np.array(
        [d.toordinal() if d is not None else _NO_DATE for d in days], dtype=np.int64
    )[codes]
    # Point in time: a record dated after `as_of` did not exist yet.
    finished = complete & ~((recorded != _NO_DATE) & (recorded > as_of.toordinal()))
    done = np.zeros(n, dtype=bool)
    done[at] = finished
    when = np.full(n, _NO_DATE, dtype=np.int64)
    when[at] = np.where(finished, recorded, _NO_DATE)
    return done, when


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
        years = _leaving_years(frame)
        live_rows = np.isin(years, list(live))
        # Completion per rule for every row at once (row by row, so the live rows' values are
        # those of the live rows alone; no copy of the frame); the groups then only sum positions.
        done = {
            r.key: tuple(a[live_rows] for a in completion_vector(frame, r, as_of))
            for r in rules_present
        }
        school_values = (
            frame["school"].to_numpy(dtype=object)[live_rows]
            if "school" in frame
            else np.full(int(live_rows.sum()), "", dtype=object)
        )
        phase_values = _phase(frame).to_numpy(dtype=object)[live_rows]
        cohorts = _cohorts(school_values, years[live_rows], phase_values)
        if cohorts is None:  # keys other than text: pandas' groupby, as it sorts and drops them
            groups = _grouped(school_values, years[live_rows], phase_values)
        else:
            group_of, groups = cohorts
            totals = np.bincount(group_of, minlength=len(groups)).tolist()
        dues: dict[tuple[str, int], tuple[dt.date, list[str]]] = {}
        for rule in rules_present:
            for _school_name, year, _phase_name, _pos in groups:
                if (rule.key, year) not in dues:
                    dues[rule.key, year] = due_date(rule, year, term_dates)
        counts: dict[str, tuple[list[int], list[int]]] = {}
        if cohorts is not None:  # each cohort's counts summed at once (issue 7)
            sizes = len(groups)
            for rule in rules_present:
                finished, when = done[rule.key]
                due_days = np.array(
                    [dues[rule.key, g[1]][0].toordinal() for g in groups], dtype=np.int64
                )
                late_rows = (when != _NO_DATE) & (when > due_days[group_of])
                counts[rule.key] = (
                    np.bincount(group_of[finished], minlength=sizes).tolist(),
                    np.bincount(group_of[late_rows], minlength=sizes).tolist(),
                )
        for number, (school_name, year, phase, pos) in enumerate(groups):
            total = totals[number] if pos is None else len(pos)
            for rule in rules_present:
                due, w = dues[rule.key, year]
                warnings.extend(w)
                if pos is not None:
                    finished, when = done[rule.key][0][pos], done[rule.key][1][pos]
                    complete = int(finished.sum())
                    late = int(((when != _NO_DATE) & (when > due.toordinal())).sum())
                else:
                    complete = counts[rule.key][0][number]
                    late = counts[rule.key][1][number]
                rows.append(
                    {
                        "school": school_name,
                        "leaving_year": year,
                        "phase": phase,
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


# A live cohort: school, leaving year, phase, and its rows' positions (None: not worked out).
_Group = tuple[str, int, str, np.ndarray | None]


def _grouped(schools: np.ndarray, years: np.ndarray, phases: np.ndarray) -> list[_Group]:
    """The cohorts as pandas groups the rows by (school, year, phase) (sorted; keys that are NA
    dropped), each with its rows' positions."""
    keys = pd.DataFrame(
        {"school": schools, "_year": years, "phase": phases, "_pos": np.arange(len(years))}
    )
    return [
        (str(school), int(year), str(phase), group["_pos"].to_numpy())
        for (school, year, phase), group in keys.groupby(["school", "_year", "phase"], sort=True)
    ]


def _cohorts(
    schools: np.ndarray, years: np.ndarray, phases: np.ndarray
) -> tuple[np.ndarray, list[_Group]] | None:
    """Each row's cohort number and `_grouped`'s cohorts, in the same order, without their
    positions; None unless every school and phase is text (no NA), when sorting the distinct
    keys is all pandas does."""
    if len(years) == 0 or not (_texts_only(schools) and _texts_only(phases)):
        return None
    ranks: list[np.ndarray] = []
    distinct: list[list[Any]] = []
    for values, texts in ((schools, True), (years, False), (phases, True)):
        codes, uniques = _factorize(values, texts)
        found = list(uniques.tolist())
        order = sorted(range(len(found)), key=found.__getitem__)
        rank = np.empty(len(found), dtype=np.int64)
        rank[order] = np.arange(len(found))
        ranks.append(rank[codes])
        distinct.append([found[i] for i in order])
    if len(distinct[0]) * len(distinct[1]) * len(distinct[2]) >= 2**62:
        return None
    key = (ranks[0] * len(distinct[1]) + ranks[1]) * len(distinct[2]) + ranks[2]
    _, first, group_of = np.unique(key, return_index=True, return_inverse=True)
    group_of = group_of.reshape(-1)
    groups: list[_Group] = [
        (
            str(distinct[0][ranks[0][i]]),
            int(distinct[1][ranks[1][i]]),
            str(distinct[2][ranks[2][i]]),
            None,
        )
        for i in first.tolist()
    ]
    return group_of, groups


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


def entry_columns(rules: Rules | Iterable[str]) -> list[str]:
    """The Destinations columns each entry needs (for the template), in rules order."""
    keys = rules.keys if isinstance(rules, Rules) else list(rules)
    suffixes = (
        "destination",
        "other",
        "provider",
        "course",
        "level",
        "start_date",
        "source",
        "recorded",
        "validated",
    )
    return [f"{key}_{suffix}" for key in keys for suffix in suffixes]


# --- sustained checks (the long Sustained tab) ---------------------------------------------------

SUSTAINED_FIELDS: tuple[str, ...] = (
    "destination",
    "other",
    "provider",
    "course",
    "level",
    "start_date",
    "source",
    "recorded",
    "validated",
)


def sustained_checks(rules: Rules, destinations: pd.DataFrame) -> list[str]:
    """Entry keys the Destinations frame has no columns for: they live in the Sustained tab."""
    return [r.key for r in rules.entries if not _entry_present(destinations, r.key)]


def _upn_text(upn: object) -> str:
    return "" if upn is None else str(upn).strip().upper()


def _pupil_key(upn: object, year: object) -> tuple[str, int] | None:
    upn_text = _upn_text(upn)
    year_text = "" if year is None else str(year).strip()
    if not upn_text or not year_text.isdigit():
        return None
    return upn_text, int(year_text)


# The ASCII characters `str.strip()` strips.
_ASCII_SPACES = "".join(c for c in map(chr, range(128)) if c.isspace())


def _plain_upns_at(column: pd.Series, upns: list[Any], wanted: set[str]) -> list[int] | None:
    """The positions of the cells in `wanted`, when every cell of the column (`upns`: its cells)
    is a `str` that is its own `_upn_text` (ASCII, no whitespace, upper case: each a property of
    every character, so found on the cells joined, in a few calls); else None (then each cell's
    `_upn_text` is looked at).

    Such a cell's `_upn_text` is itself, so it is in `wanted` exactly when the cell is (one
    `isin` over the column instead of a `strip().upper()` per row: issue 7).
    """
    if set(map(type, upns)) != {str}:
        return None if upns else []
    joined = "".join(upns)
    if (
        not joined.isascii()
        or joined.upper() != joined
        or any(space in joined for space in _ASCII_SPACES)
    ):
        return None
    return list(np.flatnonzero(column.isin(wanted).to_numpy(dtype=bool)).tolist())


def _rows_of_pupils(
    frame: pd.DataFrame, pupils: set[tuple[str, int]]
) -> dict[tuple[str, int], list[int]]:
    """The positions of `frame`'s rows whose `_pupil_key` is one of `pupils`.

    Only rows whose UPN text is one of theirs get a whole key (issue 7: a key per row of 100k
    was slow, for the few pupils staff logged a check for).
    """
    rows: dict[tuple[str, int], list[int]] = {}
    if not pupils:
        return rows
    if "upn" not in frame.columns or "leaving_year" not in frame.columns:
        keys = zip(
            frame.get("upn", pd.Series(dtype=object)),
            frame.get("leaving_year", pd.Series(dtype=object)),
            strict=True,
        )
        found = ((pos, _pupil_key(u, y)) for pos, (u, y) in enumerate(keys))
    else:
        upns, years = frame["upn"].tolist(), frame["leaving_year"].tolist()
        wanted = {u for u, _ in pupils}
        at = _plain_upns_at(frame["upn"], upns, wanted)
        if at is not None:
            found = ((pos, _pupil_key(upns[pos], years[pos])) for pos in at)
        else:
            found = (
                (pos, _pupil_key(u, years[pos]))
                for pos, u in enumerate(upns)
                if (u.strip().upper() if type(u) is str else _upn_text(u)) in wanted
            )
    for pos, key in found:
        if key in pupils:
            rows.setdefault(key, []).append(pos)
    return rows


def with_sustained(
    destinations: pd.DataFrame, sustained: pd.DataFrame, rules: Rules
) -> pd.DataFrame:
    """Destinations plus `{check}_{field}` columns filled from the long Sustained tab.

    For every rule Destinations has no columns for (the years 1-3 checks), so `entry_status`,
    `contacts_due` and `pupil_completion` read them like any entry. In memory only: never written
    back. Where staff logged a check twice, a row with a destination wins over one without, then
    the later `recorded` date, then the lower row. Returns a new frame.
    """
    result = destinations.copy(deep=False)  # copy-on-write (pandas 3): the input never changes
    result.attrs = dict(destinations.attrs)
    checks = sustained_checks(rules, destinations)
    if not checks:
        return result
    wanted = set(checks)
    best: dict[tuple[str, int, str], dict[str, str]] = {}
    for record in sustained.to_dict("records"):
        check = _cell(record, "check")
        key = _pupil_key(record.get("upn"), record.get("leaving_year"))
        if check not in wanted or key is None:
            continue
        row = {f: _cell(record, f) for f in SUSTAINED_FIELDS}
        ident = (key[0], key[1], check)
        held = best.get(ident)
        rank = (bool(row["destination"]), row["recorded"])
        if held is None or rank >= (bool(held["destination"]), held["recorded"]):
            best[ident] = row
    rows_of = _rows_of_pupils(result, {(u, y) for u, y, _ in best})
    # A column of blanks per new column, then each logged check's cells set at the rows of its
    # pupil (issue 7: a dict per pupil per check, then a column per field taken by position,
    # were slow at 100k rows). An array per column, not one block of them all: the block (50 MB
    # at 100k rows and 7 checks) was fresh memory, each page of it faulted in (0.1 s a night).
    names = [f"{check}_{f}" for check in checks for f in SUSTAINED_FIELDS]
    n = len(result)
    blank = np.full(n, "", dtype=object)
    columns = [blank.copy() for _ in names]  # (a copy: one pass, `np.full` makes two)
    first = {check: i * len(SUSTAINED_FIELDS) for i, check in enumerate(checks)}
    for (upn_text, year, check), row in best.items():
        at = rows_of.get((upn_text, year))
        if at is not None:
            for k, f in enumerate(SUSTAINED_FIELDS):
                columns[first[check] + k][at] = row[f]
    if len(set(names)) == len(names):
        extra = pd.DataFrame(
            dict(zip(names, columns, strict=True)), index=result.index, dtype=object, copy=False
        )
    else:  # (a name twice: as one block, which keeps both)
        block = np.array(columns, dtype=object).reshape(len(names), n)
        extra = pd.DataFrame(block.T, index=result.index, columns=names, dtype=object, copy=False)
    out = pd.concat([result, extra], axis=1)
    out.attrs = dict(result.attrs)
    return out
