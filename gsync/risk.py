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
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, overload

import numpy as np
import pandas as pd

from gsync.config import TermDates
from gsync.deadlines import UNKNOWN_SOURCE, RoundRule, Rules, parse_iso, resolve
from gsync.rounds import OFFER_STATUSES, UNDECIDED, destination_label

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
        return sum(WEIGHTS[r] for r in self.reasons)

    def sort_key(self) -> tuple[Any, ...]:
        return (
            -self.score,
            -len(self.priority_groups),
            self.latest_guidance_interview,  # "" (never) first, then the oldest
            self.school,
            self.leaving_year,
            self.upn,
        )


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
    if frame is None or frame.empty:
        return []
    return [{str(k): _text(v) for k, v in r.items()} for r in frame.to_dict("records")]


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


def _texts(series: pd.Series) -> list[str]:
    """`_text` of every cell of a column, each distinct value converted once (text columns, blanks
    as NaN / None allowed); other columns cell by cell (1 and 1.0 must not be merged)."""
    values = series.to_numpy(dtype=object)
    kind = pd.api.types.infer_dtype(values, skipna=False)
    if kind == "string":  # no blank cell: stripping each is cheaper than finding distinct ones
        return [v.strip() for v in values.tolist()]
    if kind != "empty" and pd.api.types.infer_dtype(values, skipna=True) not in ("string", "empty"):
        return [_text(v) for v in values.tolist()]
    codes, uniques = pd.factorize(values)
    table = np.array([*(str(u).strip() for u in uniques), ""], dtype=object)
    return list(table[codes].tolist())


class _Row(Mapping[str, str]):
    """One row of `_Columns` as a read-only mapping: the same as its `_records` dict, but only
    the cells read are converted (issue 7: a dict of every cell per pupil was slow)."""

    def __init__(self, table: _Columns, pos: int) -> None:
        self.table, self.pos = table, pos

    def __getitem__(self, key: str) -> str:
        if key not in self.table.names:
            raise KeyError(key)
        return self.table.column(key)[self.pos]

    def get(self, key: str, default: Any = None) -> Any:
        """`Mapping.get` without raising and catching KeyError (called per cell read)."""
        if key not in self.table.names:
            return default
        return self.table.column(key)[self.pos]

    def __iter__(self) -> Iterator[str]:
        return iter(self.table.names)

    def __len__(self) -> int:
        return len(self.table.names)


def _rows(frame: pd.DataFrame | None) -> Sequence[Mapping[str, str]]:
    """`_records(frame)`, lazily (falls back to `_records` if column names repeat)."""
    if frame is None or frame.empty:
        return []
    if len({str(c) for c in frame.columns}) != len(frame.columns):
        return _records(frame)
    return _LazyRows(_Columns(frame))


class _LazyRows(Sequence[Mapping[str, str]]):
    """Every row of `_Columns` as a `_Row`, each made only when read."""

    def __init__(self, table: _Columns) -> None:
        self.table = table
        self.n = len(table.frame)

    @overload
    def __getitem__(self, i: int) -> Mapping[str, str]: ...

    @overload
    def __getitem__(self, i: slice) -> Sequence[Mapping[str, str]]: ...

    def __getitem__(self, i: int | slice) -> Mapping[str, str] | Sequence[Mapping[str, str]]:
        if isinstance(i, slice):
            return [_Row(self.table, j) for j in range(self.n)[i]]
        if not -self.n <= i < self.n:
            raise IndexError(i)
        return _Row(self.table, i % self.n)

    def __len__(self) -> int:
        return self.n


def _on_or_before(day_text: str, as_of: dt.date) -> bool:
    day = parse_iso(day_text)
    return day is None or day <= as_of


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
    order = [r.key for r in rules.rounds]
    intents: dict[tuple[str, str], list[dict[str, str]]] = {}
    for row in _records(intentions):
        if (
            row.get("round") in order
            and row.get("response_id")
            and row.get("submitted")
            and _on_or_before(row["submitted"], as_of)
        ):
            intents.setdefault((row["upn"], row["leaving_year"]), []).append(row)
    apps: dict[tuple[str, str], list[dict[str, str]]] = {}
    for row in _records(applications):
        if (
            row.get("round") in order
            and (row.get("provider") or row.get("course"))
            and _on_or_before(row.get("recorded", ""), as_of)
        ):
            apps.setdefault((row["upn"], row["leaving_year"]), []).append(row)
    entries: list[RiskEntry] = []
    # Which cohorts are in their survey rounds depends on (phase, leaving year) only: decided once
    # per cohort, on whole columns; only the pupils of such cohorts are read, cell by cell.
    pupils = _rows(destinations)
    if not pupils:
        return []

    def column(name: str) -> list[str] | None:
        if isinstance(pupils, _LazyRows):
            table = pupils.table
            return table.column(name) if name in table.names else None
        return [p[name] for p in pupils] if name in pupils[0] else None

    n = len(pupils)
    years = column("leaving_year") or [""] * n
    upns = column("upn") or [""] * n
    phase_column = column("phase")
    phases = phase_column or [""] * n
    keep = np.array(upns, dtype=object) != ""
    year_codes, year_texts = pd.factorize(np.array(years, dtype=object))
    keep &= np.array([str(y).isdigit() for y in year_texts], dtype=bool)[year_codes]
    if school is not None:
        folded = school.casefold()
        schools = column("school") or [""] * n
        keep &= np.array([s.casefold() == folded for s in schools], dtype=bool)
    candidates = np.flatnonzero(keep)
    phase_codes, phase_texts = pd.factorize(np.array(phases, dtype=object)[candidates])
    width = max(len(year_texts), 1)
    pairs, pair_of = np.unique(
        phase_codes.astype(np.int64) * width + year_codes[candidates], return_inverse=True
    )
    cohorts: list[tuple[list[RoundRule], dict[str, tuple[dt.date, dt.date]]] | None] = []
    for pair in pairs.tolist():
        phase, year = str(phase_texts[pair // width]), str(year_texts[pair % width])
        rounds = [r for r in rules.rounds if phase_column is not None and r.phase == phase]
        windows = {r.key: round_window(r, int(year), term_dates) for r in rounds}
        opened = [r for r in rounds if windows[r.key][0] <= as_of]
        in_rounds = opened and as_of <= max(w[1] for w in windows.values())
        cohorts.append((opened, windows) if in_rounds else None)
    quiet: _Quiet | None = None  # pupils with no round rows, read column by column
    for i, pair in zip(candidates.tolist(), pair_of.tolist(), strict=True):
        found = cohorts[pair]
        if found is None:
            continue  # the cohort is not in its survey rounds
        opened, windows = found
        key = (upns[i], years[i])
        pupil_intents, pupil_apps = intents.get(key, []), apps.get(key, [])
        if pupil_intents or pupil_apps:
            entry = _assess_pupil(
                pupils[i], opened, windows, pupil_intents, pupil_apps, order, as_of
            )
        else:
            if quiet is None:
                quiet = _Quiet(column, n, order, as_of)
            entry = quiet.entry(i, pair, opened, windows)
        if entry is not None:
            entries.append(entry)
    return sorted(entries, key=RiskEntry.sort_key)


def _assess_pupil(
    pupil: Mapping[str, str],
    opened: Sequence[RoundRule],
    windows: Mapping[str, tuple[dt.date, dt.date]],
    intents: list[dict[str, str]],
    apps: list[dict[str, str]],
    order: list[str],
    as_of: dt.date,
) -> RiskEntry | None:
    responded = {r["round"] for r in intents}
    current = max(opened, key=lambda r: (windows[r.key][0], order.index(r.key)))
    # The intended destination: the latest round's answer that names one, else Form A's entry.
    intended: dict[str, str] | None = None
    for row in sorted(intents, key=lambda r: (order.index(r["round"]), r["submitted"])):
        if row.get("destination") and row["destination"] != UNDECIDED:
            intended = row
    if (
        intended is None
        and pupil.get("current_intended_destination")
        # The three-attempts placeholder ("Unknown") is no plan.
        and pupil.get("current_intended_source", "").casefold() != UNKNOWN_SOURCE
        and _on_or_before(pupil.get("current_intended_recorded", ""), as_of)
    ):
        intended = {
            f: pupil.get(f"current_intended_{f}", "")
            for f in ("destination", "other", "provider", "course", "level")
        }
    # Each application's latest status: the latest round's row for the same provider and course.
    latest: dict[tuple[str, str], tuple[int, str]] = {}
    for row in apps:
        ident = (row.get("provider", "").casefold(), row.get("course", "").casefold())
        rank = order.index(row["round"])
        if ident not in latest or rank >= latest[ident][0]:
            latest[ident] = (rank, row.get("status", ""))
    has_offer = any(status in OFFER_STATUSES for _, status in latest.values())

    reasons: dict[str, str] = {}
    final = max(windows, key=lambda k: (windows[k][0], order.index(k)))
    for rnd in opened:
        # The final round is the last check before pupils leave: it holds for everyone once open.
        active = rnd.key in responded or as_of > windows[rnd.key][1] or rnd.key == final
        if not active:
            continue
        if "destination" in rnd.expects and intended is None:
            reasons["no_intended_destination"] = f"no intended destination ({rnd.label})"
        if "application" in rnd.expects and not latest:
            reasons["no_application"] = f"no application ({rnd.label})"
        if "offer" in rnd.expects and not has_offer:
            reasons["no_offer"] = f"no offer ({rnd.label})"
    on_track = pupil.get("on_track_level", "")
    if intended is not None:
        want, can = level_number(intended.get("level", "")), level_number(on_track)
        if want is not None and can is not None and want > can:
            reasons["level_above_on_track"] = (
                f"intends {intended['level']} but is on track for {on_track}"
            )
    if current.key not in responded:
        reasons["no_response"] = f"no response to {current.label}"
    if not reasons:
        return None
    codes = tuple(c for c in WEIGHTS if c in reasons)
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


class _Quiet:
    """`_assess_pupil` for pupils with no Intentions or Applications row, from whole columns.

    Such a pupil responded to no round and has no application, so what is said about them
    depends on their cohort (which rounds are open and active) and on a few cells: Form A's
    intended destination, its level against the on-track level, and the priority groups. Those
    are read once per distinct value; the reasons once per cohort.
    """

    def __init__(
        self, column: Callable[[str], list[str] | None], n: int, order: list[str], as_of: dt.date
    ) -> None:
        self.order, self.as_of = order, as_of

        def texts(name: str) -> list[str]:
            return column(name) or [""] * n

        self.columns = {
            name: texts(name)
            for name in (
                "school",
                "upn",
                "leaving_year",
                "preferred_forename",
                "legal_forename",
                "preferred_surname",
                "legal_surname",
                "on_track_level",
                "latest_guidance_interview",
                *(f"current_intended_{f}" for f in _INTENDED_FIELDS),
            )
        }
        source = _distinct(
            texts("current_intended_source"), lambda v: v.casefold() != UNKNOWN_SOURCE
        )
        recorded = _distinct(texts("current_intended_recorded"), lambda v: _on_or_before(v, as_of))
        self.intended = (
            (np.array(self.columns["current_intended_destination"], dtype=object) != "")
            & source
            & recorded
        )
        want = _distinct_values(self.columns["current_intended_level"], _level_or_minus)
        can = _distinct_values(self.columns["on_track_level"], _level_or_minus)
        self.level_above = self.intended & (want >= 0) & (can >= 0) & (want > can)
        combo = np.zeros(n, dtype=np.int64)
        for bit, (name, _label, values) in enumerate(PRIORITY_GROUPS):
            combo += _distinct(texts(name), lambda v, values=values: v.upper() in values) << bit  # type: ignore[misc]
        self.combo = combo
        self.groups = [
            tuple(label for bit, (_n, label, _v) in enumerate(PRIORITY_GROUPS) if c >> bit & 1)
            for c in range(1 << len(PRIORITY_GROUPS))
        ]
        self.cohorts: dict[int, tuple[str, _Said, _Said, dict[str, str]]] = {}
        self.labels: dict[tuple[str, ...], str] = {}

    def _cohort(
        self, pair: int, opened: Sequence[RoundRule], windows: Mapping[str, tuple[dt.date, dt.date]]
    ) -> tuple[str, _Said, _Said, dict[str, str]]:
        """The current round; the reason codes and labels without / with an intended
        destination, and the reasons with one (to add the level's)."""
        if pair not in self.cohorts:
            order = self.order
            current = max(opened, key=lambda r: (windows[r.key][0], order.index(r.key)))
            final = max(windows, key=lambda k: (windows[k][0], order.index(k)))
            without: dict[str, str] = {}
            with_intended: dict[str, str] = {}
            for rnd in opened:
                if not (self.as_of > windows[rnd.key][1] or rnd.key == final):
                    continue
                for reasons, intended in ((without, False), (with_intended, True)):
                    if "destination" in rnd.expects and not intended:
                        reasons["no_intended_destination"] = (
                            f"no intended destination ({rnd.label})"
                        )
                    if "application" in rnd.expects:
                        reasons["no_application"] = f"no application ({rnd.label})"
                    if "offer" in rnd.expects:
                        reasons["no_offer"] = f"no offer ({rnd.label})"
            for reasons in (without, with_intended):
                reasons["no_response"] = f"no response to {current.label}"
            self.cohorts[pair] = (current.key, _said(without), _said(with_intended), with_intended)
        return self.cohorts[pair]

    def entry(
        self,
        i: int,
        pair: int,
        opened: Sequence[RoundRule],
        windows: Mapping[str, tuple[dt.date, dt.date]],
    ) -> RiskEntry:
        current, without, with_intended, reasons = self._cohort(pair, opened, windows)
        col = self.columns
        label = ""
        codes, labels = without
        if self.intended[i]:
            codes, labels = with_intended
            fields = tuple(col[f"current_intended_{f}"][i] for f in _INTENDED_FIELDS)
            if fields not in self.labels:
                self.labels[fields] = destination_label(
                    dict(zip(_INTENDED_FIELDS, fields, strict=True))
                )
            label = self.labels[fields]
            if self.level_above[i]:
                level, on_track = col["current_intended_level"][i], col["on_track_level"][i]
                codes, labels = _said(
                    {
                        **reasons,
                        "level_above_on_track": f"intends {level} but is on track for {on_track}",
                    }
                )
        return RiskEntry(
            school=col["school"][i],
            upn=col["upn"][i],
            leaving_year=col["leaving_year"][i],
            forename=col["preferred_forename"][i] or col["legal_forename"][i],
            surname=col["preferred_surname"][i] or col["legal_surname"][i],
            priority_groups=self.groups[self.combo[i]],
            reasons=codes,
            labels=labels,
            current_round=current,
            intended_destination=label,
            on_track_level=col["on_track_level"][i],
            latest_guidance_interview=col["latest_guidance_interview"][i],
        )


_INTENDED_FIELDS = ("destination", "other", "provider", "course", "level")
_Said = tuple[tuple[str, ...], tuple[str, ...]]


def _said(reasons: Mapping[str, str]) -> _Said:
    """Reason codes in WEIGHTS order, and their labels (as `_assess_pupil` lists them)."""
    codes = tuple(c for c in WEIGHTS if c in reasons)
    return codes, tuple(reasons[c] for c in codes)


def _level_or_minus(text: str) -> int:
    found = level_number(text)
    return -1 if found is None else found


def _distinct(texts: list[str], test: Callable[[str], bool]) -> np.ndarray:
    """`test` of each text as a bool array, each distinct text tested once."""
    codes, uniques = pd.factorize(np.array(texts, dtype=object))
    return np.array([bool(test(str(u))) for u in uniques] + [False], dtype=bool)[codes]


def _distinct_values(texts: list[str], convert: Callable[[str], int]) -> np.ndarray:
    codes, uniques = pd.factorize(np.array(texts, dtype=object))
    return np.array([convert(str(u)) for u in uniques] + [-1], dtype=np.int64)[codes]


def risk_rows(entries: Sequence[RiskEntry], columns: Sequence[str]) -> list[dict[str, str]]:
    """The Risk tab's rows (template column keys -> text), ranked from 1."""
    rows: list[dict[str, str]] = []
    for rank, e in enumerate(entries, start=1):
        values = {
            "rank": str(rank),
            "school": e.school,
            "upn": e.upn,
            "leaving_year": e.leaving_year,
            "forename": e.forename,
            "surname": e.surname,
            "priority_groups": ", ".join(e.priority_groups),
            "score": str(e.score),
            "reasons": "; ".join(e.labels),
            "reason_codes": " ".join(e.reasons),
            "current_round": e.current_round,
            "intended_destination": e.intended_destination,
            "on_track_level": e.on_track_level,
            "latest_guidance_interview": e.latest_guidance_interview,
        }
        rows.append({c: values.get(c, "") for c in columns})
    return rows


def write_risk_tab(
    plan: Any,
    template: Any,
    rules: Rules,
    term_dates: Mapping[str, TermDates],
    tabs: Mapping[str, pd.DataFrame],
    as_of: dt.date,
) -> list[RiskEntry]:
    """Recompute the Risk tab whole into `plan` (a sheetio.WritePlan); the list, for reports."""
    tab = template.tab("risk")
    entries = assess(
        tabs["destinations"],
        tabs.get("intentions"),
        tabs.get("applications"),
        rules,
        term_dates,
        as_of,
    )
    header = [c.header for c in tab.columns]
    body = [[row[c.key] for c in tab.columns] for row in risk_rows(entries, tab.keys)]
    plan.replace_tab(tab.title, [header, *body])
    return entries
