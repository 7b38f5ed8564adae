"""The at-risk-of-NEET list (issue 11): pure rules over Destinations, Intentions and Applications.

A pupil is listed while their cohort is in its survey rounds (from the first round's opening to the
last round's closing, deadlines.toml `[[rounds]]` for their phase), with every reason that applies:

| code | weight | when |
|---|---|---|
| no_intended_destination | 4 | a round expecting a destination is *active* and no intended destination is known |
| no_application | 3 | a round expecting an application is active and none is recorded |
| no_offer | 3 | a round expecting an offer is active and no application's latest status is offer or accepted |
| level_above_on_track | 2 | the intended level is above the level staff say the pupil is on track for |
| no_response | 1 | no response to the current round (the latest round opened by `as_of`) |

A round is active for a pupil once it has opened and the pupil answered it, or once it has closed;
the phase's final round (the last check before pupils leave) is active for everyone once open.
"Not decided yet" is no intended destination; Form A's current-leavers entry counts as one. The
list is sorted by score (sum of weights), then by the number of priority groups (SEND,
disadvantaged, EAL, looked after: seed 000 section 2 names them for early guidance), then with
pupils never interviewed first and the oldest guidance interview next, then school, cohort, UPN.
Everything is as of `as_of`: rows recorded later did not exist yet.
"""

from __future__ import annotations

import datetime as dt
import functools
import itertools
import re
from collections.abc import Iterator, Mapping, Sequence, Set
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from gsync.config import TermDates
from gsync.deadlines import UNKNOWN_SOURCE, RoundRule, Rules, parse_iso, record_cells, resolve
from gsync.rounds import OFFER_STATUSES, UNDECIDED, destination_label
from gsync.sheetio import TextRows


def _string_table() -> Any:
    """pandas' hash table of texts (which `pd.factorize` picks for an array of str only) if this
    pandas has it as `_factorize_str` and `_text_codes` call it: the same codes and distinct
    texts as `pd.factorize`, -1 for a cell that is no str. Else None: `pd.factorize` itself."""
    try:
        from pandas._libs.hashtable import StringHashTable

        probe = np.array(["b", "a", "b", None, 1], dtype=object)
        uniques, codes = StringHashTable(len(probe)).factorize(probe, na_sentinel=-1)
        want_codes, want_uniques = pd.factorize(probe[:3])
        if (
            codes.tolist() == [*want_codes.tolist(), -1, -1]
            and uniques.tolist() == want_uniques.tolist()
        ):
            return StringHashTable
    except Exception:  # pragma: no cover - a pandas without it, or another API: pd.factorize
        pass
    return None  # pragma: no cover


_StringHashTable = _string_table()

WEIGHTS: dict[str, int] = {
    "no_intended_destination": 4,
    "no_application": 3,
    "no_offer": 3,
    "level_above_on_track": 2,
    "no_response": 1,
}
PRIORITY_GROUPS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("send", "SEND", ("K", "E")),
    ("disadvantaged", "disadvantaged", ("Y",)),
    ("eal", "EAL", ("Y",)),
    ("looked_after", "looked after", ("Y",)),
)


@dataclass(frozen=True)
class RiskEntry:
    """One listed pupil: who, why (codes and readable reasons), and what staff need alongside."""

    school: str
    upn: str
    leaving_year: str
    forename: str
    surname: str
    priority_groups: tuple[str, ...]
    reasons: tuple[str, ...]
    labels: tuple[str, ...]
    current_round: str
    intended_destination: str
    on_track_level: str
    latest_guidance_interview: str

    @property
    def score(self) -> int:
        return sum(map(WEIGHTS.__getitem__, self.reasons))

    def sort_key(self) -> tuple[Any, ...]:
        return (
            -self.score,
            -len(self.priority_groups),
            self.latest_guidance_interview,  # "" (never) first, then the oldest
            self.school,
            self.leaving_year,
            self.upn,
        )


@functools.lru_cache(maxsize=4096)  # a few distinct texts, read for most listed pupils
def level_number(text: str) -> int | None:
    """ "Entry level" -> 0, "Level 3" -> 3; None for "Not sure" or anything else."""
    value = str(text).strip().casefold()
    if value.startswith("entry"):
        return 0
    found = re.fullmatch(r"level\s*(\d)", value)
    return int(found[1]) if found else None


def round_window(
    rnd: RoundRule, leaving_year: int, term_dates: Mapping[str, TermDates]
) -> tuple[dt.date, dt.date]:
    """The round's [opens, closes] days for the cohort leaving in `leaving_year`."""
    return (
        resolve(rnd.window.opens, leaving_year, term_dates)[0],
        resolve(rnd.window.closes, leaving_year, term_dates)[0],
    )


def _text(value: object) -> str:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return ""
    return str(value).strip()


def _records(frame: pd.DataFrame | None) -> list[dict[str, str]]:
    """Each row as {column name: `_text` of its cell as `to_dict("records")` gives it}.

    Column by column (`record_cells`; issue 7: a call per cell was slow for round tabs of 100k
    pupils), text cells stripped without a call; row by row if names repeat (as text).
    """
    if frame is None or frame.empty:
        return []
    names = [str(c) for c in frame.columns]
    if len(set(names)) != len(names) or not frame.columns.is_unique:
        return [{str(k): _text(v) for k, v in r.items()} for r in frame.to_dict("records")]
    texts = [
        [v.strip() if type(v) is str else _text(v) for v in cells]
        for cells in record_cells(frame, list(frame.columns))
    ]
    return [dict(zip(names, row, strict=True)) for row in zip(*texts, strict=True)]


class _Columns:
    """A frame's cells as `_text`, converted column by column the first time one is read."""

    def __init__(self, frame: pd.DataFrame) -> None:
        self.frame = frame
        self.names = {str(c): c for c in frame.columns}
        self.cache: dict[str, list[str]] = {}

    def column(self, name: str) -> list[str]:
        if name not in self.cache:
            self.cache[name] = _texts(self.frame[self.names[name]])
        return self.cache[name]

    def filled(self, name: str) -> np.ndarray:
        """Whether each cell of `column(name)` is other than "". A column of str only is read
        without keeping its texts (issue 7: no list of the 100k UPNs, of which `cells` reads a
        third): each stripped, as `_texts` would, and tested; else `column(name)`'s."""
        if name not in self.cache:
            values = self.frame[self.names[name]].to_numpy(dtype=object)
            try:
                stripped = map(str.strip, values.tolist())  # TypeError at a cell no str
                return np.fromiter(map(bool, stripped), dtype=bool, count=len(values))
            except TypeError:
                pass
        return np.fromiter(map(bool, self.column(name)), dtype=bool, count=len(self.frame))

    def cells(self, name: str, rows: np.ndarray) -> list[str]:
        """`column(name)` at positions `rows` only (the others are not converted)."""
        if name in self.cache:
            return list(map(self.cache[name].__getitem__, rows.tolist()))
        return _texts(self.frame[self.names[name]], rows)

    def coded(self, name: str, rows: np.ndarray | None = None) -> _Coded:
        """`column(name)` at positions `rows` (all if None) as codes and distinct texts."""
        if name in self.cache:
            texts = self.cache[name]
            return _code_texts(
                texts if rows is None else list(map(texts.__getitem__, rows.tolist()))
            )
        return _code(self.frame[self.names[name]], rows)


# A column's texts as (codes, texts): cell k's text is texts[codes[k]], the texts all distinct.
_Coded = tuple[np.ndarray, list[str]]
# The PUPIL_FIELDS `_listed` never groups or ranks by: read as texts, without codes.
_TEXT_ONLY = frozenset(
    ("upn", "preferred_forename", "legal_forename", "preferred_surname", "legal_surname")
)


def _texts(series: pd.Series, rows: np.ndarray | None = None) -> list[str]:
    """`_text` of every cell of a column (or of the cells at positions `rows`), each distinct
    value converted once (text columns, blanks as NaN / None allowed); other columns cell by cell
    (1 and 1.0 must not be merged). The way is chosen on the whole column, so a cell's text does
    not depend on which rows are read (rows whose cells are all text: stripped, the same texts
    either way, `_stripped`). Text cells are stripped by `str.strip` mapped over them (in C:
    a third of the time of a call per cell; `v.strip()` itself for a str or np.str_)."""
    if rows is not None:
        stripped = _stripped(series.to_numpy(dtype=object)[rows])
        if stripped is not None:
            return stripped
    values, kind, cell_by_cell = _kind(series)
    if rows is not None:
        values = values[rows]
    if kind == "string":  # no blank cell: stripping each is cheaper than finding distinct ones
        return list(map(str.strip, values.tolist()))
    if cell_by_cell:
        return [_text(v) for v in values.tolist()]
    codes, uniques = pd.factorize(values)
    table = np.array([*(str(u).strip() for u in uniques), ""], dtype=object)
    return list(table[codes].tolist())


def _kind(series: pd.Series) -> tuple[np.ndarray, str, bool]:
    """The column's cells, `infer_dtype` of them and whether `_texts` reads them cell by cell."""
    values = series.to_numpy(dtype=object)
    kind = pd.api.types.infer_dtype(values, skipna=False)
    cell_by_cell = kind not in ("string", "empty") and pd.api.types.infer_dtype(
        values, skipna=True
    ) not in ("string", "empty")
    return values, kind, cell_by_cell


def _stripped(cells: np.ndarray) -> list[str] | None:
    """Each of `cells` stripped if there are some and every one is text (a str: `infer_dtype`
    "string"), else None: `str.strip` mapped over them, which raises TypeError at any other
    (issue 7: no `infer_dtype` pass before).

    Their texts are then their stripped selves whichever way `_texts` would read the whole
    column (each stripped; `_text` of each; each distinct value's `str` stripped, equal values
    merged), so the other cells need not be looked at (issue 7: `_kind` of a 100k column for
    the 33k pupils listed). A subclass of str whose strip, str or == is its own is no text a
    frame read from the sheet holds."""
    if not len(cells):
        return None
    try:
        return list(map(str.strip, cells.tolist()))
    except TypeError:  # a cell that is no str
        return None


def _code(series: pd.Series, rows: np.ndarray | None = None) -> _Coded:
    """`_texts(series, rows)` as codes and distinct texts: a text column's distinct values are
    each stripped once (values that strip to the same text merged); others cell by cell.

    At `rows` that are all text (`_text_codes`), as for a text column: the same codes and texts
    as the whole column's way, but for a "" last among the texts that no cell may have (a column
    read cell by cell lists only the texts found), which is never looked up. A whole column of
    text is read as `_kind` would read it, without its `infer_dtype` pass."""
    cells = series.to_numpy(dtype=object)
    found = _text_codes(cells if rows is None else cells[rows])
    if found is not None:
        codes, uniques = found
        return _code_texts([*(str(u).strip() for u in uniques), ""], codes)
    values, kind, cell_by_cell = _kind(series)
    if rows is not None:
        values = values[rows]
    if cell_by_cell:
        return _code_texts([_text(v) for v in values.tolist()])
    if kind == "string":  # every cell a str (at `rows` too)
        codes, uniques = _factorize_str(values)
    else:
        codes, uniques = pd.factorize(values)  # NaN / None: -1, the last text ("")
    return _code_texts([*(str(u).strip() for u in uniques), ""], codes)


def _code_texts(texts: list[str], codes: np.ndarray | None = None) -> _Coded:
    """`texts` (each cell's, or each code's if `codes`) as codes and distinct texts."""
    merged, distinct = _factorize_str(np.array(texts, dtype=object))
    return (merged if codes is None else merged[codes]), list(distinct.tolist())


def _text_codes(values: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """`pd.factorize(values)` if there are some and every cell of the object array `values` is
    a str (`infer_dtype` "string"), else None, in one pass (issue 7: no `infer_dtype` pass
    before): pandas' hash table of texts, which `pd.factorize` picks for such an array, counts
    any other cell missing (code -1)."""
    if _StringHashTable is None:  # pragma: no cover
        if pd.api.types.infer_dtype(values, skipna=False) != "string":
            return None
        return _factorize_str(values)
    try:
        uniques, codes = _StringHashTable(len(values)).factorize(values, na_sentinel=-1)
    except UnicodeError:  # pragma: no cover - a text a pandas cannot encode: read as before
        return None
    if not len(codes) or codes.min() < 0:
        return None
    return codes, uniques


def _factorize_str(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """`pd.factorize(values)` of an object array whose every cell is a str (`infer_dtype`
    "string", which the caller has checked or made so): the hash table `pd.factorize` picks for
    it, without `pd.factorize`'s own `infer_dtype` pass over every cell (issue 7: ~3 ms of a
    100k column of distinct objects; tests/unit/test_risk_codes.py)."""
    if _StringHashTable is None:  # pragma: no cover
        codes, uniques = pd.factorize(values)
        return codes, uniques
    uniques, codes = _StringHashTable(len(values)).factorize(values, na_sentinel=-1)
    return codes, uniques


def _on_or_before(day_text: str, as_of: dt.date) -> bool:
    day = parse_iso(day_text)
    return day is None or day <= as_of


# The Destinations cells `_assess_pupil` reads: only these are converted for the pupils assessed
# (tests/unit/test_risk_plumbing.py checks that it reads no other).
PUPIL_FIELDS: tuple[str, ...] = (
    "school",
    "upn",
    "leaving_year",
    "preferred_forename",
    "legal_forename",
    "preferred_surname",
    "legal_surname",
    "send",
    "disadvantaged",
    "eal",
    "looked_after",
    "on_track_level",
    "latest_guidance_interview",
    *(
        f"current_intended_{f}"
        for f in ("destination", "other", "provider", "course", "level", "source", "recorded")
    ),
)


_NO_ROUNDS: frozenset[str] = frozenset()  # the rounds a pupil with no intentions answered

# Form A's current-leavers entry as an intention: (intention field, Destinations column).
_FORM_A_INTENDED: tuple[tuple[str, str], ...] = tuple(
    (f, f"current_intended_{f}") for f in ("destination", "other", "provider", "course", "level")
)
_FORM_A_FIELDS: tuple[str, ...] = tuple(f for f, _c in _FORM_A_INTENDED)


@dataclass(frozen=True)
class _Cohort:
    """A cohort in its survey rounds: the rounds opened by `as_of`, every round's window, the
    current round (the latest opened) and the final round's key."""

    opened: list[RoundRule]
    windows: dict[str, tuple[dt.date, dt.date]]
    current: RoundRule
    final: str


def _cohort(
    rounds: list[RoundRule],
    year: int,
    term_dates: Mapping[str, TermDates],
    order: list[str],
    as_of: dt.date,
) -> _Cohort | None:
    """The phase's `rounds` for the cohort leaving in `year`; None unless it is in its rounds."""
    windows = {r.key: round_window(r, year, term_dates) for r in rounds}
    opened = [r for r in rounds if windows[r.key][0] <= as_of]
    if not opened or as_of > max(w[1] for w in windows.values()):
        return None
    return _Cohort(opened, windows, *_current_and_final(opened, windows, order))


def _current_and_final(
    opened: Sequence[RoundRule], windows: Mapping[str, tuple[dt.date, dt.date]], order: list[str]
) -> tuple[RoundRule, str]:
    """The current round (the latest opened) and the final round's key (the latest of all)."""
    current = max(opened, key=lambda r: (windows[r.key][0], order.index(r.key)))
    final = max(windows, key=lambda k: (windows[k][0], order.index(k)))
    return current, final


def assess(
    destinations: pd.DataFrame,
    intentions: pd.DataFrame | None,
    applications: pd.DataFrame | None,
    rules: Rules,
    term_dates: Mapping[str, TermDates],
    as_of: dt.date,
    *,
    school: str | None = None,
) -> list[RiskEntry]:
    """Every pupil at risk as of `as_of`, highest risk first (see the module docstring)."""
    return _assess(
        destinations, intentions, applications, rules, term_dates, as_of, school=school
    ).entries()


def _assess(
    destinations: pd.DataFrame,
    intentions: pd.DataFrame | None,
    applications: pd.DataFrame | None,
    rules: Rules,
    term_dates: Mapping[str, TermDates],
    as_of: dt.date,
    *,
    school: str | None = None,
) -> _Listed:
    """`assess`'s list, column by column (`_Listed`)."""
    order = [r.key for r in rules.rounds]
    known: dict[str, bool] = {}

    def on_or_before(day_text: str) -> bool:
        """`_on_or_before(day_text, as_of)`, each distinct text read once."""
        if day_text not in known:
            known[day_text] = _on_or_before(day_text, as_of)
        return known[day_text]

    intents: dict[tuple[str, str], list[dict[str, str]]] = {}
    for row in _records(intentions):
        if (
            row.get("round") in order
            and row.get("response_id")
            and row.get("submitted")
            and on_or_before(row["submitted"])
        ):
            intents.setdefault((row["upn"], row["leaving_year"]), []).append(row)
    apps: dict[tuple[str, str], list[dict[str, str]]] = {}
    for row in _records(applications):
        if (
            row.get("round") in order
            and (row.get("provider") or row.get("course"))
            and on_or_before(row.get("recorded", ""))
        ):
            apps.setdefault((row["upn"], row["leaving_year"]), []).append(row)
    if destinations is None or destinations.empty:
        return _Listed.empty()
    # Which cohorts are in their survey rounds depends on (phase, leaving year) only: decided once
    # per cohort, on whole columns. Only the pupils of such cohorts are read, and of them only the
    # cells `_assess_pupil` reads (PUPIL_FIELDS), column by column (issue 7).
    names = [str(c) for c in destinations.columns]
    table: _Columns | None = None
    records: list[dict[str, str]] = []
    if len(set(names)) == len(names):
        table = _Columns(destinations)
    else:  # repeated column names: each row as its dict (the last such column wins)
        records = _records(destinations)

    def coded(name: str, rows: np.ndarray | None = None) -> _Coded | None:
        """The column's texts at `rows` (all rows if None) as codes and distinct texts."""
        if table is not None:
            return table.coded(name, rows) if name in table.names else None
        if name not in records[0]:
            return None
        picked = records if rows is None else [records[i] for i in rows.tolist()]
        return _code_texts([p[name] for p in picked])

    n = len(destinations)
    blank: _Coded = (np.zeros(n, dtype=np.intp), [""])
    year_column = coded("leaving_year")
    year_codes, year_texts = year_column or blank
    if table is not None and "upn" in table.names:
        keep = table.filled("upn")
    else:
        upn_codes, upn_texts = coded("upn") or blank
        keep = np.array([u != "" for u in upn_texts], dtype=bool)[upn_codes]
    keep &= np.array([y.isdigit() for y in year_texts], dtype=bool)[year_codes]
    if school is not None:
        folded = school.casefold()
        school_codes, school_texts = coded("school") or blank
        keep &= np.array([s.casefold() == folded for s in school_texts], dtype=bool)[school_codes]
    candidates = np.flatnonzero(keep)
    phase_column = coded("phase", candidates)
    phase_codes, phase_texts = phase_column or (np.zeros(len(candidates), dtype=np.intp), [""])
    width = max(len(year_texts), 1)
    pairs, _first, pair_of = _unique(phase_codes.astype(np.int64) * width + year_codes[candidates])
    cohorts: list[_Cohort | None] = []
    for pair in pairs.tolist():
        phase, year = phase_texts[pair // width], year_texts[pair % width]
        rounds = [r for r in rules.rounds if phase_column is not None and r.phase == phase]
        cohorts.append(_cohort(rounds, int(year), term_dates, order, as_of))
    in_rounds = np.array([c is not None for c in cohorts], dtype=bool)[pair_of.reshape(-1)]
    listed = candidates[in_rounds]
    if not len(listed):
        return _Listed.empty()
    cells: dict[str, _Coded] = {}
    texts: dict[str, np.ndarray] = {}
    for f in PUPIL_FIELDS:
        if f in _TEXT_ONLY and table is not None and f in table.names:
            # Mostly distinct, never grouped: no codes.
            texts[f] = np.array(table.cells(f, listed), dtype=object)
            continue
        if f == "leaving_year" and year_column is not None:
            # The whole column's codes, at the listed rows (each cell's text is the same either
            # way, `_texts`); its texts may hold some no listed pupil has, never looked up.
            cells[f] = (year_codes[listed], year_texts)
            continue
        found = coded(f, listed)
        if found is not None:
            cells[f] = found
    pair_codes = pair_of.reshape(-1)[in_rounds]
    return _listed(cells, texts, pair_codes, cohorts, intents, apps, order, as_of)


_Outcome = tuple[tuple[str, ...], tuple[str, ...], int]  # reason codes, labels, score

_ENTRY_FIELDS: tuple[str, ...] = (
    "school",
    "upn",
    "leaving_year",
    "forename",
    "surname",
    "priority_groups",
    "reasons",
    "labels",
    "current_round",
    "intended_destination",
    "on_track_level",
    "latest_guidance_interview",
)


@dataclass(frozen=True)
class _Listed:
    """`assess`'s list column by column, ranked: each entry's text fields (`text`, by RiskEntry
    field), and its priority groups and outcome as indexes into the distinct ones."""

    text: dict[str, list[str]]
    group_of: np.ndarray
    groups: list[tuple[str, ...]]
    outcome_of: np.ndarray
    outcomes: list[_Outcome]

    @staticmethod
    def empty() -> _Listed:
        none = np.zeros(0, dtype=np.intp)
        return _Listed({f: [] for f in _TEXT_FIELDS}, none, [], none, [])

    def __len__(self) -> int:
        return len(self.group_of)

    def entries(self) -> list[RiskEntry]:
        """The RiskEntry of each, ranked: each made with its instance dict set at once, not
        through the frozen `__init__`'s twelve `object.__setattr__` calls (issue 7); the same
        dict as `RiskEntry(...)` gives (tests/unit/test_risk_listed.py)."""
        t = self.text
        groups = _picked(self.groups, self.group_of)
        outcomes = _picked(self.outcomes, self.outcome_of)
        new, setattr_ = object.__new__, object.__setattr__
        made: list[RiskEntry] = []
        for s, u, y, f, n, g, o, c, i, k, v in zip(
            t["school"],
            t["upn"],
            t["leaving_year"],
            t["forename"],
            t["surname"],
            groups,
            outcomes,
            t["current_round"],
            t["intended_destination"],
            t["on_track_level"],
            t["latest_guidance_interview"],
            strict=True,
        ):
            entry = new(RiskEntry)
            setattr_(
                entry,
                "__dict__",
                {
                    "school": s,
                    "upn": u,
                    "leaving_year": y,
                    "forename": f,
                    "surname": n,
                    "priority_groups": g,
                    "reasons": o[0],
                    "labels": o[1],
                    "current_round": c,
                    "intended_destination": i,
                    "on_track_level": k,
                    "latest_guidance_interview": v,
                },
            )
            made.append(entry)
        return made

    def cells(self, columns: Sequence[str]) -> list[list[str]]:
        """`_risk_cells(self.entries(), columns)`, column by column: each distinct tuple of
        groups, reasons or labels joined once."""
        n = len(self)
        made: dict[str, list[str]] = {}
        for key in dict.fromkeys(columns):
            if key in made:
                continue
            if key == "rank":
                made[key] = list(map(str, range(1, n + 1)))
            elif key in self.text:
                made[key] = self.text[key]
            elif key == "priority_groups":
                made[key] = _picked([", ".join(g) for g in self.groups], self.group_of)
            elif key in ("score", "reasons", "reason_codes"):
                if key == "score":
                    per = [str(o[2]) for o in self.outcomes]
                elif key == "reasons":
                    per = ["; ".join(o[1]) for o in self.outcomes]
                else:
                    per = [" ".join(o[0]) for o in self.outcomes]
                made[key] = _picked(per, self.outcome_of)
            else:
                made[key] = [""] * n
        if not columns:
            return [[] for _ in range(n)]
        return list(map(list, zip(*(made[c] for c in columns), strict=True)))


def _picked(values: Sequence[Any], at: np.ndarray) -> list[Any]:
    """`[values[i] for i in at]`, through an object array (the values may be tuples)."""
    table = np.empty(len(values), dtype=object)
    for i, value in enumerate(values):
        table[i] = value
    return list(table[at].tolist())


# The RiskEntry fields `_Listed.text` holds (the Risk tab's keys of the same names).
_TEXT_FIELDS: tuple[str, ...] = tuple(
    f for f in _ENTRY_FIELDS if f not in ("priority_groups", "reasons", "labels")
)


def _densify(*codes: np.ndarray) -> np.ndarray:
    """Each row's rank among the distinct combinations of `codes` (non-negative ints, compared
    in order: the first decides): numbers as small as the rows allow, in the same order."""
    key = codes[0].astype(np.int64)
    for c in codes[1:]:
        size = int(c.max()) + 1 if len(c) else 1
        if len(key) and (int(key.max()) + 1) * size >= 2**62:
            key = np.unique(key, return_inverse=True)[1].reshape(-1).astype(np.int64)
        key = key * size + c
    return key


def _combine(*codes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each row's number of its distinct combination of `codes`, and the first row of each."""
    _, first, inverse = _unique(_densify(*codes))
    return inverse, first


# `_unique` finds the distinct keys through a table of every key up to the largest when that is
# below 4 * (number of keys) + this (a few pages, filled in one pass) rather than by a sort.
_TABLE_SLACK = 4096


def _unique(key: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """`np.unique(key, return_index=True, return_inverse=True)` of non-negative ints `key` (a
    1-D array), the inverse flat: the distinct keys ascending, the first row of each and each
    row's number among them. Small keys (the cohorts, flags and levels: a few distinct codes
    combined) through a table, without `np.unique`'s sorts (issue 7: ~3 ms for 100k pupils)."""
    n = len(key)
    if n and int(key.min()) >= 0 and int(key.max()) < 4 * n + _TABLE_SLACK:
        seen = np.zeros(int(key.max()) + 1, dtype=bool)
        seen[key] = True
        uniques = np.flatnonzero(seen).astype(key.dtype, copy=False)
        inverse = (np.cumsum(seen, dtype=np.intp) - 1)[key]
        first = np.full(len(uniques), n, dtype=np.intp)
        np.minimum.at(first, inverse, np.arange(n, dtype=np.intp))
        return uniques, first, inverse
    uniques, first, inverse = np.unique(key, return_index=True, return_inverse=True)
    return uniques, first, inverse.reshape(-1)


def _stable_order(key: np.ndarray) -> np.ndarray:
    """`np.argsort(key, kind="stable")` of non-negative ints: as 16-bit ints when they fit, which
    numpy sorts by radix (issue 7: a tenth of the time for the 33k pupils listed)."""
    if len(key) and int(key.min()) >= 0 and int(key.max()) < 2**16:
        return np.argsort(key.astype(np.uint16), kind="stable")
    return np.argsort(key, kind="stable")


def _then_by(order: np.ndarray, key: np.ndarray, texts: np.ndarray) -> np.ndarray:
    """`order` (positions, sorted stably by `key`) with each run of equal keys sorted stably
    by `texts`: the stable order by (key, text)."""
    if len(order) < 2:
        return order
    ordered = key[order]
    starts = np.flatnonzero(ordered[1:] != ordered[:-1]) + 1
    bounds = [0, *starts.tolist(), len(order)]
    out = order.copy()
    by = texts[order].tolist()
    for start, end in itertools.pairwise(bounds):
        if end - start > 1:
            run = sorted(range(start, end), key=by.__getitem__)
            out[start:end] = order[run]
    return out


def _ranks(texts: list[str]) -> np.ndarray:
    """Each distinct text's place in sorted order."""
    ranks = np.empty(len(texts), dtype=np.int64)
    ranks[sorted(range(len(texts)), key=texts.__getitem__)] = np.arange(len(texts))
    return ranks


def _listed(
    cells: Mapping[str, _Coded],
    texts: Mapping[str, np.ndarray],
    pairs: np.ndarray,
    cohorts: Sequence[_Cohort | None],
    intents: Mapping[tuple[str, str], list[dict[str, str]]],
    apps: Mapping[tuple[str, str], list[dict[str, str]]],
    order: list[str],
    as_of: dt.date,
) -> _Listed:
    """`assess`'s list of the listed pupils (their PUPIL_FIELDS cells, as codes in `cells` or,
    for some `_TEXT_ONLY` fields, as `texts`; a field the frame lacks left out; `pairs`: each
    pupil's index in `cohorts`), ranked.

    A pupil with intentions or applications goes through `_assess_pupil` with the dict of their
    cells. For the others (most pupils), the reasons depend only on the cohort, on whether Form
    A's entry is their intended destination, its level and the on-track level: `_reasons` is
    worked out once per distinct such combination, Form A's label and the priority groups once
    per distinct combination of their cells, and the other fields copied from the cells as
    `_assess_pupil` does (issue 7: column by column, not pupil by pupil).
    """
    n = len(pairs)
    pairs = pairs.astype(np.intp)
    blank: _Coded = (np.zeros(n, dtype=np.intp), [""])
    col = {f: cells.get(f, blank) for f in PUPIL_FIELDS}

    def flags(field: str, test: Any) -> np.ndarray:
        """`test(text)` of each pupil's cell, worked out once per distinct text."""
        codes, texts = col[field]
        return np.array([bool(test(t)) for t in texts], dtype=bool)[codes]

    def at(field: str, rows: np.ndarray) -> list[str]:
        """The pupils' texts at positions `rows`."""
        return list(array(field, rows).tolist())

    def array(field: str, rows: np.ndarray) -> np.ndarray:
        """The pupils' texts at positions `rows`, as an array."""
        if field in texts:
            return texts[field][rows]
        codes, distinct = col[field]
        return np.array(distinct, dtype=object)[codes[rows]]

    def cell(field: str, i: int) -> str:
        """Pupil i's text."""
        if field in texts:
            return str(texts[field][i])
        codes, distinct = col[field]
        return distinct[codes[i]]

    outcome_of = np.full(n, -1, dtype=np.intp)  # -1: not listed (no reason applies)
    outcomes: list[_Outcome] = []
    label = np.full(n, "", dtype=object)
    special = np.zeros(n, dtype=bool)
    if intents or apps:  # pupils with round rows: `_assess_pupil`, one by one
        everyone = np.arange(n)
        upns, years = at("upn", everyone), at("leaving_year", everyone)
        special = np.array(
            [k in intents or k in apps for k in zip(upns, years, strict=True)], dtype=bool
        )
        present = [f for f in PUPIL_FIELDS if f in cells or f in texts]
        no_rows: list[dict[str, str]] = []
        for i in np.flatnonzero(special).tolist():
            cohort = cohorts[pairs[i]]
            assert cohort is not None
            key = (upns[i], years[i])
            entry = _assess_pupil(
                {f: cell(f, i) for f in present},
                cohort.opened,
                cohort.windows,
                intents.get(key, no_rows),
                apps.get(key, no_rows),
                order,
                as_of,
                cohort=cohort,
            )
            if entry is not None:
                outcome_of[i] = len(outcomes)
                outcomes.append((entry.reasons, entry.labels, entry.score))
                label[i] = entry.intended_destination
    # No intentions, no applications: Form A's entry, if it is a plan, is the intended one.
    form_a = (
        flags("current_intended_destination", bool)
        & flags("current_intended_source", lambda t: t.casefold() != UNKNOWN_SOURCE)
        & flags("current_intended_recorded", lambda t: _on_or_before(t, as_of))
    )
    plain = np.flatnonzero(~special)
    levels, on_tracks = col["current_intended_level"], col["on_track_level"]
    memo, first = _combine(
        pairs[plain],
        np.where(form_a[plain], levels[0][plain] + 1, 0),
        on_tracks[0][plain],
    )
    found: list[int] = []  # each combination's outcome, -1 if no reason applies
    for i in plain[first].tolist():
        cohort = cohorts[pairs[i]]
        assert cohort is not None
        intended = {"level": levels[1][levels[0][i]]} if form_a[i] else None
        on_track = on_tracks[1][on_tracks[0][i]]
        why = _reasons(
            cohort.opened,
            cohort.windows,
            cohort.current,
            cohort.final,
            _NO_ROUNDS,
            intended,
            False,
            False,
            on_track,
            as_of,
        )
        if not why:
            found.append(-1)
            continue
        codes = tuple(filter(why.__contains__, WEIGHTS))  # in WEIGHTS order
        found.append(len(outcomes))
        outcomes.append((codes, tuple(why[c] for c in codes), sum(map(WEIGHTS.__getitem__, codes))))
    if len(plain):
        outcome_of[plain] = np.array(found, dtype=np.intp)[memo]
    # Form A's label, once per distinct plan, for the listed pupils whose entry is their plan.
    planned = np.flatnonzero(~special & form_a & (outcome_of >= 0))
    if len(planned):
        plan_fields = [c for _f, c in _FORM_A_INTENDED]
        which, first = _combine(*(col[c][0][planned] for c in plan_fields))
        # Each plan's dict {field: text} made from its fields' texts, column by column.
        once = planned[first]
        texts_of = [list(map(col[c][1].__getitem__, col[c][0][once].tolist())) for c in plan_fields]
        each = zip(*texts_of, strict=True)
        plans = map(dict, map(zip, itertools.repeat(_FORM_A_FIELDS), each))
        labels = list(map(destination_label, plans))
        label[planned] = np.array(labels, dtype=object)[which]
    rows = np.flatnonzero(outcome_of >= 0)
    flag_fields = [column for column, _name, _values in PRIORITY_GROUPS]
    group_of, first = _combine(*(col[c][0][rows] for c in flag_fields))
    groups = [
        tuple(
            name
            for column, name, values in PRIORITY_GROUPS
            if col[column][1][col[column][0][i]].upper() in values
        )
        for i in rows[first].tolist()
    ]
    # Ranked as RiskEntry.sort_key orders (a stable sort): by the other fields, then each run of
    # equal ones by UPN (issue 7: fewer string comparisons than sorting all the UPNs).
    scores = np.array([o[2] for o in outcomes], dtype=np.int64)[outcome_of[rows]]
    sizes = np.array([len(g) for g in groups], dtype=np.int64)[group_of]
    sort_fields = ("latest_guidance_interview", "school", "leaving_year")
    rank_key = _densify(
        scores.max(initial=0) - scores,
        sizes.max(initial=0) - sizes,
        *(_ranks(col[f][1])[col[f][0][rows]] for f in sort_fields),
    )
    ranked = _then_by(_stable_order(rank_key), rank_key, array("upn", rows))
    picked = rows[ranked]
    cohort_rounds = np.array(
        [c.current.key if c is not None else "" for c in cohorts], dtype=object
    )
    names: dict[str, np.ndarray] = {}
    for f in ("forename", "surname"):  # the preferred name, else the legal one
        preferred, legal = array(f"preferred_{f}", picked), array(f"legal_{f}", picked)
        names[f] = np.where(preferred.astype(bool), preferred, legal)
    text = {
        "school": at("school", picked),
        "upn": at("upn", picked),
        "leaving_year": at("leaving_year", picked),
        "forename": list(names["forename"].tolist()),
        "surname": list(names["surname"].tolist()),
        "current_round": list(cohort_rounds[pairs[picked]].tolist()),
        "intended_destination": list(label[picked].tolist()),
        "on_track_level": at("on_track_level", picked),
        "latest_guidance_interview": at("latest_guidance_interview", picked),
    }
    return _Listed(
        text,
        group_of[ranked],
        groups,
        outcome_of[picked],
        outcomes,
    )


def _assess_pupil(
    pupil: Mapping[str, str],
    opened: Sequence[RoundRule],
    windows: Mapping[str, tuple[dt.date, dt.date]],
    intents: list[dict[str, str]],
    apps: list[dict[str, str]],
    order: list[str],
    as_of: dt.date,
    *,
    cohort: _Cohort | None = None,
) -> RiskEntry | None:
    """The pupil's entry, None if no reason applies. `cohort`: `_cohort`'s answer for these
    `opened` and `windows`, whose current and final rounds are then not worked out again."""
    responded = {r["round"] for r in intents} if intents else _NO_ROUNDS
    if cohort is not None:
        current, final = cohort.current, cohort.final
    else:
        current, final = _current_and_final(opened, windows, order)
    # The intended destination: the latest round's answer that names one, else Form A's entry.
    intended: dict[str, str] | None = None
    for row in (
        sorted(intents, key=lambda r: (order.index(r["round"]), r["submitted"])) if intents else ()
    ):
        if row.get("destination") and row["destination"] != UNDECIDED:
            intended = row
    if (
        intended is None
        and pupil.get("current_intended_destination")
        # The three-attempts placeholder ("Unknown") is no plan.
        and pupil.get("current_intended_source", "").casefold() != UNKNOWN_SOURCE
        and _on_or_before(pupil.get("current_intended_recorded", ""), as_of)
    ):
        intended = {f: pupil.get(column, "") for f, column in _FORM_A_INTENDED}
    # Each application's latest status: the latest round's row for the same provider and course.
    latest: dict[tuple[str, str], tuple[int, str]] = {}
    for row in apps:
        ident = (row.get("provider", "").casefold(), row.get("course", "").casefold())
        rank = order.index(row["round"])
        if ident not in latest or rank >= latest[ident][0]:
            latest[ident] = (rank, row.get("status", ""))
    has_offer = bool(latest) and any(status in OFFER_STATUSES for _, status in latest.values())

    on_track = pupil.get("on_track_level", "")
    reasons = _reasons(
        opened,
        windows,
        current,
        final,
        responded,
        intended,
        bool(latest),
        has_offer,
        on_track,
        as_of,
    )
    if not reasons:
        return None
    codes = tuple(filter(reasons.__contains__, WEIGHTS))  # in WEIGHTS order
    groups = tuple(
        label
        for column, label, values in PRIORITY_GROUPS
        if pupil.get(column, "").upper() in values
    )
    return RiskEntry(
        school=pupil.get("school", ""),
        upn=pupil["upn"],
        leaving_year=pupil["leaving_year"],
        forename=pupil.get("preferred_forename") or pupil.get("legal_forename", ""),
        surname=pupil.get("preferred_surname") or pupil.get("legal_surname", ""),
        priority_groups=groups,
        reasons=codes,
        labels=tuple(reasons[c] for c in codes),
        current_round=current.key,
        intended_destination=destination_label(intended) if intended else "",
        on_track_level=on_track,
        latest_guidance_interview=pupil.get("latest_guidance_interview", ""),
    )


def _reasons(
    opened: Sequence[RoundRule],
    windows: Mapping[str, tuple[dt.date, dt.date]],
    current: RoundRule,
    final: str,
    responded: Set[str],
    intended: Mapping[str, str] | None,
    applied: bool,
    has_offer: bool,
    on_track: str,
    as_of: dt.date,
) -> dict[str, str]:
    """A pupil's reasons (code -> readable reason, in the order found) in a cohort (its opened
    rounds, every round's window, its current and final rounds), given the rounds they answered, their intended destination (only its "level" is read), whether they
    have an application and an offer, and their on-track level."""
    reasons: dict[str, str] = {}
    for rnd in opened:
        # The final round is the last check before pupils leave: it holds for everyone once open.
        active = rnd.key in responded or as_of > windows[rnd.key][1] or rnd.key == final
        if not active:
            continue
        if "destination" in rnd.expects and intended is None:
            reasons["no_intended_destination"] = f"no intended destination ({rnd.label})"
        if "application" in rnd.expects and not applied:
            reasons["no_application"] = f"no application ({rnd.label})"
        if "offer" in rnd.expects and not has_offer:
            reasons["no_offer"] = f"no offer ({rnd.label})"
    if intended is not None:
        want, can = level_number(intended.get("level", "")), level_number(on_track)
        if want is not None and can is not None and want > can:
            reasons["level_above_on_track"] = (
                f"intends {intended['level']} but is on track for {on_track}"
            )
    if current.key not in responded:
        reasons["no_response"] = f"no response to {current.label}"
    return reasons


# The Risk tab's column keys `risk_rows` knows, in the order `_risk_values` gives their cells.
_RISK_KEYS: tuple[str, ...] = (
    "rank",
    "school",
    "upn",
    "leaving_year",
    "forename",
    "surname",
    "priority_groups",
    "score",
    "reasons",
    "reason_codes",
    "current_round",
    "intended_destination",
    "on_track_level",
    "latest_guidance_interview",
)


def risk_rows(entries: Sequence[RiskEntry], columns: Sequence[str]) -> list[dict[str, str]]:
    """The Risk tab's rows (template column keys -> text), ranked from 1."""
    picks = list(zip(columns, _picks(columns), strict=True))
    return [{c: values[i] for c, i in picks} for values in _risk_values(entries)]


def _risk_cells(entries: Sequence[RiskEntry], columns: Sequence[str]) -> list[list[str]]:
    """Each entry's cells under `columns`, as `risk_rows` gives them ("" for a key it does not
    know): one tuple of every cell per entry, then picked by position (issue 7: a dict per entry
    was slow)."""
    picks = _picks(columns)
    return [[values[i] for i in picks] for values in _risk_values(entries)]


def _picks(columns: Sequence[str]) -> list[int]:
    """Where each column's cell is in a `_risk_values` tuple (the last, "", for unknown keys)."""
    at = {key: i for i, key in enumerate(_RISK_KEYS)}
    return [at.get(c, len(_RISK_KEYS)) for c in columns]


def _risk_values(entries: Sequence[RiskEntry]) -> Iterator[tuple[str, ...]]:
    """Each entry's cells under `_RISK_KEYS`, then "" (the score worked out once per reasons)."""
    scores: dict[tuple[str, ...], str] = {}
    for rank, e in enumerate(entries, start=1):
        score = scores.get(e.reasons)
        if score is None:
            score = scores[e.reasons] = str(e.score)
        yield (
            str(rank),
            e.school,
            e.upn,
            e.leaving_year,
            e.forename,
            e.surname,
            ", ".join(e.priority_groups),
            score,
            "; ".join(e.labels),
            " ".join(e.reasons),
            e.current_round,
            e.intended_destination,
            e.on_track_level,
            e.latest_guidance_interview,
            "",
        )


def write_risk_tab(
    plan: Any,
    template: Any,
    rules: Rules,
    term_dates: Mapping[str, TermDates],
    tabs: Mapping[str, pd.DataFrame],
    as_of: dt.date,
    *,
    entries: bool = True,
) -> list[RiskEntry]:
    """Recompute the Risk tab whole into `plan` (a sheetio.WritePlan); the list, for reports
    (`entries=False`: an empty list, for a caller that only writes the tab)."""
    tab = template.tab("risk")
    listed = _assess(
        tabs["destinations"],
        tabs.get("intentions"),
        tabs.get("applications"),
        rules,
        term_dates,
        as_of,
    )
    header = [c.header for c in tab.columns]
    body = listed.cells(tab.keys)  # `risk_rows(entries, tab.keys)`, each row's values
    # Every cell `cells` makes is exactly a str, in a list of its own (texts as `_text` gives
    # them, joined or formatted here; tests/unit/test_risk_listed.py), but the rounds' keys,
    # from the rules, and the headers, from the template: those are checked. As `TextRows`, the
    # plan skips its pass over every cell's type and keeps the rows (issue 7).
    rows = [header, *body]
    texts = {type(h) for h in header} | set(map(type, listed.text["current_round"])) <= {str}
    plan.replace_tab(tab.title, TextRows(rows) if texts else rows)
    return listed.entries() if entries else []
