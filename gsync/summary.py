"""Anonymised summary tables from the Destinations frame (seed 000 section 5; seed 003's trust).

Every table is a long frame (`gsync.disclosure.TABLE_COLUMNS`): school, cohort, entry, breakdown,
group, category, count, percent. Each group's categories partition its pupils and add up to the
"Total" row, so disclosure control can reason about the totals. No pupil-level value is copied:
only category labels, group names, school / cohort / entry names, counts and percentages.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, Protocol

import numpy as np
import pandas as pd

from gsync import disclosure
from gsync.disclosure import (
    _SEP,
    ALL_BREAKDOWN,
    ALL_GROUP,
    KEY_COLUMNS,
    TABLE_COLUMNS,
    TOTAL,
    TRUST_SCHOOL,
    CellKey,
    Link,
    SuppressionPolicy,
    _joint,
    _key,
    _link_equations,
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
    words += [label for rows in ROUND_TABLES.values() for label in rows]
    return words + group_labels() + [TOTAL]


def _col(frame: pd.DataFrame, name: str) -> pd.Series:
    if name in frame.columns:
        return frame[name].fillna("").astype(str)
    return pd.Series([""] * len(frame), index=frame.index, dtype=object)


def _texts(frame: pd.DataFrame, name: str) -> np.ndarray:
    """`_col(frame, name)` as an object array, each distinct value converted once.

    Text columns (blanks as NaN / None allowed) go through `pd.factorize`; any other column
    through `_col` itself, since factorize would merge values such as 1 and 1.0 whose text differs.
    """
    if name not in frame.columns:
        return np.full(len(frame), "", dtype=object)
    values = frame[name].to_numpy(dtype=object)
    if pd.api.types.infer_dtype(values, skipna=True) not in ("string", "empty"):
        return _col(frame, name).to_numpy(dtype=object)
    codes, uniques = pd.factorize(values)
    return np.array([*(str(u) for u in uniques), ""], dtype=object)[codes]


def _text_codes(frame: pd.DataFrame, name: str) -> tuple[np.ndarray, np.ndarray]:
    """`pd.factorize(_texts(frame, name))` (the same codes and texts, in the same order) with
    one factorization of the column instead of two.

    A text column's factorization already numbers its texts in order of first appearance; only
    the blank that missing cells become has to be put in its place: where the first missing
    cell is, or where a blank text first appears if that is earlier (they are one text).
    """
    if name not in frame.columns:
        return pd.factorize(np.full(len(frame), "", dtype=object))
    values = frame[name].to_numpy(dtype=object)
    codes, uniques = pd.factorize(values)
    # Distinct cells all `str` and none missing: every cell is a text (infer_dtype's "string");
    # only otherwise is the column's kind looked up cell by cell.
    plain = not (codes < 0).any() and all(type(u) is str for u in uniques)
    if not plain and pd.api.types.infer_dtype(values, skipna=True) not in ("string", "empty"):
        return pd.factorize(_col(frame, name).to_numpy(dtype=object))
    texts = [str(u) for u in uniques]
    missing = np.flatnonzero(codes < 0)
    if not missing.size:
        return codes, np.array(texts, dtype=object)
    first = int(missing[0])
    seen = int(codes[:first].max()) + 1 if first else 0  # codes 0 .. seen-1 come before it
    blank = texts.index("") if "" in texts else None
    if blank is not None and blank < seen:
        codes[missing] = blank
        return codes, np.array(texts, dtype=object)
    # The blank takes code `seen`; the texts after it move up one (past a blank text's place).
    old = np.arange(len(texts), dtype=codes.dtype)
    moved = old + 1 - (0 if blank is None else (old > blank))
    new = np.empty(len(texts) + 1, dtype=codes.dtype)  # by old code + 1 (missing: -1 first)
    new[0] = seen
    new[1:] = np.where(old < seen, old, moved)
    if blank is not None:
        new[blank + 1] = seen
    order = texts[:seen] + [""] + [t for i, t in enumerate(texts) if i >= seen and i != blank]
    return new[codes + 1], np.array(order, dtype=object)


def _stripped_codes(texts: np.ndarray) -> tuple[np.ndarray, list[str]]:
    """Codes of the stripped texts (texts equal once stripped share a code), and those texts."""
    codes, uniques = pd.factorize(texts)
    stripped = np.array([str(u).strip() for u in uniques], dtype=object)
    again, distinct = pd.factorize(stripped)
    return again[codes], [str(v) for v in distinct]


def _stripped_text_codes(frame: pd.DataFrame, name: str) -> tuple[np.ndarray, list[str]]:
    """`_stripped_codes(_texts(frame, name))` from the column's one factorization
    (`_text_codes` numbers the texts as factorizing `_texts` does)."""
    codes, texts = _text_codes(frame, name)
    stripped = np.array([str(t).strip() for t in texts], dtype=object)
    again, distinct = pd.factorize(stripped)
    return again[codes], [str(v) for v in distinct]


def _combine(*parts: tuple[np.ndarray, int]) -> tuple[np.ndarray, np.ndarray]:
    """Distinct combinations of several code arrays (each with its number of codes): the
    combinations as one int64 code each (sorted), and each row's index among them."""
    combined = np.zeros(len(parts[0][0]), dtype=np.int64)
    bound = 1
    for codes, size in parts:
        combined = combined * max(size, 1) + codes
        bound *= max(size, 1)
    return _unique_inverse(combined, bound)


def _unique_inverse(values: np.ndarray, bound: int) -> tuple[np.ndarray, np.ndarray]:
    """`np.unique(values, return_inverse=True)` of int64 `values` that should lie in
    [0, bound): by counting when the range is small next to the values (no sort), else (or
    when a value lies outside it) `np.unique` itself."""
    if (
        bound <= 4 * len(values) + 4096
        and len(values)
        and int(values.min()) >= 0
        and int(values.max()) < bound
    ):
        present = np.flatnonzero(np.bincount(values, minlength=bound))
        rank = np.zeros(bound, dtype=np.intp)
        rank[present] = np.arange(len(present), dtype=np.intp)
        return present.astype(values.dtype, copy=False), rank[values]
    return np.unique(values, return_inverse=True)


class _Pupils:
    """What every summary table of one Destinations frame shares, computed once for all entries:
    each pupil's (school, cohort) block (blocks in sorted order) and the priority groups' masks."""

    def __init__(self, frame: pd.DataFrame) -> None:
        self.frame = frame
        self.n = len(frame)
        school_codes, schools = _text_codes(frame, "school")
        year_codes, years = _stripped_text_codes(frame, "leaving_year")
        phase_codes, phases = _stripped_text_codes(frame, "phase")
        self.phases = (phase_codes, phases)
        year_phase, yp_row = _combine((year_codes, len(years)), (phase_codes, len(phases)))
        width = max(len(phases), 1)
        texts = [f"{years[v // width]} {phases[v % width]}" for v in year_phase.tolist()]
        text_codes, cohorts = pd.factorize(np.array(texts, dtype=object))
        cohort_codes = text_codes[yp_row]
        pairs_code, self.block = _combine(
            (school_codes, len(schools)), (cohort_codes, len(cohorts))
        )
        per = max(len(cohorts), 1)
        pairs = [(str(schools[v // per]), str(cohorts[v % per])) for v in pairs_code.tolist()]
        order = sorted(range(len(pairs)), key=pairs.__getitem__)
        rank = np.empty(len(pairs), dtype=np.int64)
        rank[order] = np.arange(len(pairs))
        self.blocks = [pairs[i] for i in order]
        self.block = rank[self.block] if len(pairs) else self.block.astype(np.int64)
        self.groups: list[tuple[str, str, np.ndarray | None]] = [(ALL_BREAKDOWN, ALL_GROUP, None)]
        for key, column, test, yes, no in BREAKDOWNS:
            codes, uniques = _text_codes(frame, column)
            mask = np.array([bool(test(str(u))) for u in uniques] + [False], dtype=bool)[codes]
            self.groups.append((key, yes, mask))
            self.groups.append((key, no, ~mask))
        self.combos = _combos(self.groups, self.n)
        self._codes: dict[str, tuple[np.ndarray, np.ndarray]] = {}

    def text_codes(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        """`_text_codes(self.frame, name)`, worked out once per column (callers must not
        change the arrays)."""
        found = self._codes.get(name)
        if found is None:
            found = self._codes[name] = _text_codes(self.frame, name)
        return found

    def tally(self, sel: np.ndarray, row: np.ndarray, rows: list[str], entry: str) -> pd.DataFrame:
        """`_tally` of the selected pupils (`sel`, a mask) alone: only their blocks appear."""
        used = np.unique(self.block[sel])
        groups = [(b, g, None if m is None else m[sel]) for b, g, m in self.groups]
        block = np.searchsorted(used, self.block[sel])
        return _tally([self.blocks[i] for i in used], block, row[sel], groups, rows, entry)

    def tables(self, taxonomy: Taxonomy, entry: str) -> dict[str, pd.DataFrame]:
        """`summary_tables` for one entry: each distinct (destination, level, other) is
        categorised once, then counted per block, group and row."""
        dest_codes, dests = self.text_codes(f"{entry}_destination")
        level_codes, levels = _text_codes(self.frame, f"{entry}_level")
        other_codes, others = _text_codes(self.frame, f"{entry}_other")
        nl, no = max(len(levels), 1), max(len(others), 1)
        triples, which = _combine(
            (dest_codes, len(dests)), (level_codes, len(levels)), (other_codes, len(others))
        )
        cats = [
            taxonomy.categorise(
                str(dests[v // (nl * no)]), str(levels[(v // no) % nl]), str(others[v % no])
            )
            for v in triples.tolist()
        ]
        out: dict[str, pd.DataFrame] = {}
        for kind, placer in TABLES.items():
            rows = _rows(kind, taxonomy)
            row_of = {label: i for i, label in enumerate(rows)}
            # A row label outside `rows` counts in its group's Total only (see `_tally`).
            index = [row_of.get(c.label if placer is None else placer(c), len(rows)) for c in cats]
            row = np.array(index, dtype=np.int64)[which] if index else np.zeros(0, dtype=np.int64)
            out[kind] = _tally(self.blocks, self.block, row, self.groups, rows, entry, self.combos)
        return out


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
    the same table carries the trend across cohorts (see `_trend_rows`).
    """
    if entry not in ENTRIES:
        raise ValueError(f"unknown entry {entry!r}; expected one of {', '.join(ENTRIES)}")
    frame = destinations
    if school is not None:
        frame = frame[_col(frame, "school") == school]
    return _Pupils(frame).tables(taxonomy, entry)


def _combos(
    groups: Sequence[tuple[str, str, np.ndarray | None]], n: int
) -> tuple[np.ndarray, np.ndarray]:
    """Each pupil's combination of group memberships (an index), and which groups each
    combination belongs to (a 0/1 matrix, combinations x groups; a group without a mask is
    everyone)."""
    code = np.zeros(n, dtype=np.int64)
    for g, (_b, _g, mask) in enumerate(groups):
        if mask is not None:
            code |= mask.astype(np.int64) << g
    present, combo = _unique_inverse(code, 1 << len(groups))
    member = np.array(
        [
            [
                1 if mask is None or (int(c) >> g) & 1 else 0
                for g, (_b, _g, mask) in enumerate(groups)
            ]
            for c in present.tolist()
        ],
        dtype=np.int64,
    ).reshape(len(present), len(groups))
    return combo.reshape(-1), member


def _tally(
    blocks: Sequence[tuple[str, str]],
    block: np.ndarray,
    row: np.ndarray,
    groups: Sequence[tuple[str, str, np.ndarray | None]],
    rows: list[str],
    entry: str,
    combos: tuple[np.ndarray, np.ndarray] | None = None,
) -> pd.DataFrame:
    """Counts per (school, cohort) block x group x row label, with each group's Total.

    `block` / `row`: each pupil's index in `blocks` / `rows` (`len(rows)`: a label outside `rows`,
    counted in its group's Total only); `combos`: `_combos(groups, ...)` if already known. Rows:
    blocks in sorted (school, cohort) order, then All pupils, then each breakdown's yes / no
    group, then `rows` and Total, as the long table has always listed them.
    """
    n_pupils = len(block)
    if n_pupils == 0:
        return pd.DataFrame.from_records([], columns=TABLE_COLUMNS).astype({"count": "int64"})
    labels = [*rows, TOTAL]
    width = len(labels)
    n_blocks, n_groups = len(blocks), len(groups)
    combo, member = combos if combos is not None else _combos(groups, n_pupils)
    # One bincount per (block, row, combination of groups), then each group's counts are the
    # sums over the combinations it includes; a Total is every pupil of its block and group.
    per = np.bincount(
        (block * width + row) * len(member) + combo, minlength=n_blocks * width * len(member)
    ).reshape(n_blocks * width, len(member))
    counts = np.ascontiguousarray(
        (per @ member).reshape(n_blocks, width, n_groups).transpose(0, 2, 1)
    )
    counts[:, :, len(rows)] = counts.sum(axis=2)
    totals = np.repeat(counts[:, :, len(rows)], width, axis=1).reshape(-1)
    flat = counts.reshape(-1)
    with np.errstate(divide="ignore", invalid="ignore"):
        percent = np.where(totals > 0, 100.0 * flat / totals, np.nan)
    n = n_blocks * n_groups * width
    breakdowns = [g[0] for g in groups for _ in range(width)]
    group_names = [g[1] for g in groups for _ in range(width)]
    if not _texts_only([entry, *breakdowns, *group_names, *labels]):
        return pd.DataFrame(
            {
                "school": [str(b[0]) for b in blocks for _ in range(n_groups * width)],
                "cohort": [str(b[1]) for b in blocks for _ in range(n_groups * width)],
                "entry": [entry] * n,
                "breakdown": breakdowns * n_blocks,
                "group": group_names * n_blocks,
                "category": labels * (n_blocks * n_groups),
                "count": flat,
                "percent": percent,
            },
            columns=TABLE_COLUMNS,
        )
    # Every key cell a text: the columns repeated from their few texts at once, in the text
    # type pandas infers for a list of texts (issue 7: 16 tables of up to 8k rows a night).
    kind = pd.Series([entry]).dtype

    def texts(values: list[str], repeat: int = 1, tile: int = 1) -> Any:
        return pd.array(np.tile(np.repeat(np.array(values, dtype=object), repeat), tile), kind)

    return pd.DataFrame(
        {
            "school": texts([str(b[0]) for b in blocks], n_groups * width),
            "cohort": texts([str(b[1]) for b in blocks], n_groups * width),
            "entry": texts([entry], n),
            "breakdown": texts(breakdowns, tile=n_blocks),
            "group": texts(group_names, tile=n_blocks),
            "category": texts(labels, tile=n_blocks * n_groups),
            "count": flat,
            "percent": percent,
        },
        columns=TABLE_COLUMNS,
    )


def _texts_only(values: list[Any]) -> bool:
    """Whether every value is exactly a `str`."""
    return all(type(v) is str for v in values)


def aggregate(frames: Sequence[pd.DataFrame], *, name: str = TRUST_SCHOOL) -> pd.DataFrame:
    """Trust-wide table of the same shape: the schools' raw counts summed cell by cell."""
    if not frames:
        return pd.DataFrame(columns=TABLE_COLUMNS)
    both = pd.concat(frames, ignore_index=True)
    counts = both["count"]
    if counts.dtype != np.int64 and counts.map(lambda v: isinstance(v, str)).any():
        raise ValueError("aggregate needs raw counts; suppressed tables cannot be added up")
    keys = [k for k in KEY_COLUMNS if k != "school"]
    fast = _summed(both, keys)
    if fast is not None:
        summed, base_values = fast
        summed.insert(0, "school", name)
    else:
        summed = both.groupby(keys, sort=False, as_index=False)["count"].sum()
        summed.insert(0, "school", name)
        totals = summed[summed["category"] == TOTAL].set_index(["cohort", "entry", "group"])
        base = summed.set_index(["cohort", "entry", "group"]).index.map(totals["count"].to_dict())
        base_values = pd.Series(base, index=summed.index).astype(float)
    summed["percent"] = (100.0 * summed["count"] / base_values).where(base_values > 0)
    return summed[TABLE_COLUMNS].astype({"count": "int64"})


def _summed(both: pd.DataFrame, keys: list[str]) -> tuple[pd.DataFrame, pd.Series] | None:
    """`both.groupby(keys, sort=False, as_index=False)["count"].sum()` and each of its rows'
    base (the count of the last Total row of its cohort, entry and group; NaN if none), as
    floats, for int64 counts and text (StringDtype) key columns without a missing key
    (groupby would drop it); None otherwise. The key columns numbered as groupby numbers them
    (`pd.factorize`), groups in order of first appearance, each with its first row's keys."""
    if both["count"].dtype != np.int64 or not len(both):
        return None
    if not all(isinstance(both[k].dtype, pd.StringDtype) for k in keys):
        return None  # (groupby gives object keys another dtype)
    codes = {k: pd.factorize(both[k]) for k in keys}
    if any((c < 0).any() for c, _u in codes.values()):  # a missing key
        return None
    combined = np.zeros(len(both), dtype=np.int64)
    for k in keys:
        combined = pd.factorize(combined * len(codes[k][1]) + codes[k][0])[0].astype(np.int64)
    group, n_groups = combined, int(combined.max()) + 1  # numbered by first appearance
    first = np.full(n_groups, len(both), dtype=np.int64)
    np.minimum.at(first, group, np.arange(len(both), dtype=np.int64))
    sums = np.zeros(n_groups, dtype=np.int64)
    np.add.at(sums, group, both["count"].to_numpy(dtype=np.int64))
    summed = both[keys].iloc[first].reset_index(drop=True)
    summed["count"] = sums
    # Each group's (cohort, entry, group), and the base: the last Total row's count.
    ceg = np.zeros(len(both), dtype=np.int64)
    for k in ("cohort", "entry", "group"):
        ceg = pd.factorize(ceg * len(codes[k][1]) + codes[k][0])[0].astype(np.int64)
    ceg = ceg[first]
    category_codes, categories = codes["category"]
    is_total = np.array([bool(c == TOTAL) for c in categories] + [False])
    totals = np.flatnonzero(is_total[category_codes[first]])
    last = np.full(int(ceg.max()) + 1, -1, dtype=np.int64)
    np.maximum.at(last, ceg[totals], totals)
    at = last[ceg]
    base = np.where(at >= 0, sums[np.maximum(at, 0)], np.nan).astype(float)
    return summed, pd.Series(base, index=summed.index)


# --- Survey rounds (issue 11) --------------------------------------------------------------

INTENDED_YES, INTENDED_NO = "Intended destination", "No intended destination"
APPLIED_YES, APPLIED_NO = "At least one application", "No application"
OFFER_YES, OFFER_NO = "An offer", "No offer"
CHANGED_YES, CHANGED_NO = "Plan changed on or after results day", "No change recorded"
RESULTS_ENTRY = "results_day"
# Round tables (entry = the round's key; results_change's entry is RESULTS_ENTRY): two rows each.
ROUND_TABLES: dict[str, tuple[str, str]] = {
    "round_intended": (INTENDED_YES, INTENDED_NO),
    "round_applied": (APPLIED_YES, APPLIED_NO),
    "round_offer": (OFFER_YES, OFFER_NO),
    "results_change": (CHANGED_YES, CHANGED_NO),
}


class _Round(Protocol):
    """What the round tables need of a round (gsync.deadlines.RoundRule has it)."""

    @property
    def key(self) -> str: ...

    @property
    def phase(self) -> str: ...


def _key_texts(frame: pd.DataFrame) -> np.ndarray:
    """Each row's pupil key (stripped UPN and leaving year), each distinct pair joined once."""
    upn_codes, upns = _stripped_codes(_texts(frame, "upn"))
    year_codes, years = _stripped_codes(_texts(frame, "leaving_year"))
    pairs, which = _combine((upn_codes, len(upns)), (year_codes, len(years)))
    width = max(len(years), 1)
    keys = [f"{upns[v // width]}\x1f{years[v % width]}" for v in pairs.tolist()]
    return np.array(keys, dtype=object)[which] if keys else np.zeros(len(frame), dtype=object)


def _mapped(texts: np.ndarray, convert: Callable[[str], Any], dtype: Any) -> np.ndarray:
    """`convert` of each text, each distinct text converted once."""
    codes, uniques = pd.factorize(texts)
    return np.array([convert(str(u)) for u in uniques], dtype=dtype)[codes]


def _round_tables(
    pupils: _Pupils,
    intentions: pd.DataFrame | None,
    applications: pd.DataFrame | None,
    rounds: Sequence[_Round],
) -> dict[str, pd.DataFrame]:
    """Per school x cohort x round: pupils with an intended destination, with at least one
    application, with an offer; and pupils whose plan changed on or after results day (unsuppressed).

    Everything is as known by each round (that round and the phase's earlier ones in `rounds`
    order), as gsync.risk reads it: "Not decided yet" is no intended destination; an application
    is any Applications row with something in it, and its status is the one its latest round
    gives it (same provider and course); offer and accepted are offers. A round appears for a
    cohort once the cohort has an Intentions or Applications row for it; `results_change` (entry
    `results_day`) once the cohort has any round row. Totals are the whole cohort, as in the
    destination tables, and every table has the priority-group breakdowns.

    On whole columns: pupils are matched by key with one hash lookup per column, and each pupil's
    earliest round with an intended destination / application and each round's offers are found
    with array operations."""
    from gsync.rounds import OFFER_STATUSES, UNDECIDED

    empty = pd.DataFrame(columns=TABLE_COLUMNS)
    intents = intentions if intentions is not None else empty
    apps = applications if applications is not None else empty
    if not len(intents) and not len(apps):
        return {}  # no round rows: no round appears for any cohort
    frame = pupils.frame
    never = len(rounds) + 1  # "no such round" for the earliest-round arrays
    rank = {r.key: i for i, r in enumerate(rounds)}
    keys, key_of_row = pd.factorize(_key_texts(frame))
    last_row = np.full(len(key_of_row), -1, dtype=np.int64)  # the row a key's cohort is read from
    np.maximum.at(last_row, keys, np.arange(len(keys), dtype=np.int64))
    index = pd.Index(key_of_row)

    def matched(rows: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Each round row's pupil (index into the keys), round rank, and whether it counts."""
        who = index.get_indexer(_key_texts(rows)) if len(key_of_row) else np.full(len(rows), -1)
        at = _mapped(_texts(rows, "round"), lambda v: rank.get(v, -1), np.int64)
        return who, at, (who >= 0) & (at >= 0)

    present = np.zeros((len(rounds), max(len(pupils.blocks), 1)), dtype=bool)
    intended_at = np.full(len(key_of_row), never, dtype=np.int64)
    applied_at = np.full(len(key_of_row), never, dtype=np.int64)
    i_who, i_at, i_ok = matched(intents)
    present[i_at[i_ok], pupils.block[last_row[i_who[i_ok]]]] = True
    dest = _mapped(
        _texts(intents, "destination"), lambda v: bool(v.strip()) and v.strip() != UNDECIDED, bool
    )
    np.minimum.at(intended_at, i_who[i_ok & dest], i_at[i_ok & dest])
    a_who, a_at, a_ok = matched(apps)
    present[a_at[a_ok], pupils.block[last_row[a_who[a_ok]]]] = True
    provider = _texts(apps, "provider")
    course = _texts(apps, "course")
    level = _texts(apps, "level")
    status = _texts(apps, "status")
    blank = lambda v: not v.strip()  # noqa: E731
    listed = ~(
        _mapped(provider, blank, bool)
        & _mapped(course, blank, bool)
        & _mapped(level, blank, bool)
        & _mapped(status, blank, bool)
    )  # a row a newer submission no longer lists (gsync.rounds blanks it) is no application
    a_ok &= listed
    np.minimum.at(applied_at, a_who[a_ok], a_at[a_ok])
    # An application is its provider and course; once purged (gsync.privacy blanks both), its
    # number on the form stands in, so the figures do not change.
    folded_p = _mapped(provider, lambda v: v.strip().casefold(), object)
    folded_c = _mapped(course, lambda v: v.strip().casefold(), object)
    named = (folded_p != "") | (folded_c != "")
    first = np.where(named, folded_p, "#")
    second = np.where(named, folded_c, _mapped(_texts(apps, "number"), str.strip, object))
    first_codes, firsts = pd.factorize(first[a_ok])
    second_codes, seconds = pd.factorize(second[a_ok])
    ident, ident_row = _combine(
        (a_who[a_ok], len(key_of_row)), (first_codes, len(firsts)), (second_codes, len(seconds))
    )
    offered = _mapped(status, lambda v: v.strip().casefold() in OFFER_STATUSES, bool)[a_ok]
    # Per application and round: whether any of its statuses that round is an offer.
    app_round, app_round_row = _combine((ident_row, len(ident)), (a_at[a_ok], len(rounds)))
    any_offer = np.zeros(len(app_round), dtype=bool)
    np.logical_or.at(any_offer, app_round_row, offered)
    app_of = app_round // max(len(rounds), 1)  # sorted by application, then round
    round_of = app_round % max(len(rounds), 1)
    owner = ident // (max(len(firsts), 1) * max(len(seconds), 1))  # the pupil of each application

    def offer_by(r: int) -> np.ndarray:
        """Per key: an application whose latest status known by round `r` is an offer."""
        held = np.zeros(len(key_of_row), dtype=bool)
        known = round_of <= r
        apps_known, offers = app_of[known], any_offer[known]
        latest = np.ones(len(apps_known), dtype=bool)
        latest[:-1] = apps_known[1:] != apps_known[:-1]
        held[owner[apps_known[latest & offers]]] = True
        return held

    changed = np.zeros(len(key_of_row), dtype=bool)
    said = _mapped(_texts(intents, "results_change"), lambda v: bool(v.strip()), bool)
    found = i_who[said]
    changed[found[found >= 0]] = True

    phase_codes, phases = pupils.phases
    parts: dict[str, list[pd.DataFrame]] = {kind: [] for kind in ROUND_TABLES}
    with_rows = np.zeros(present.shape[1], dtype=bool)
    for rnd in rounds:
        r = rank[rnd.key]
        with_rows |= present[r]
        phase = phases.index(rnd.phase) if rnd.phase in phases else -1
        sel = (phase_codes == phase) & present[r][pupils.block]
        if not sel.any():
            continue
        held = {
            "round_intended": (intended_at <= r)[keys],
            "round_applied": (applied_at <= r)[keys],
            "round_offer": offer_by(r)[keys],
        }
        for kind, who in held.items():
            yes, no = ROUND_TABLES[kind]
            parts[kind].append(pupils.tally(sel, np.where(who, 0, 1), [yes, no], rnd.key))
    sel = with_rows[pupils.block] if len(pupils.block) else np.zeros(0, dtype=bool)
    if sel.any():
        row = np.where(changed[keys], 0, 1)
        parts["results_change"].append(
            pupils.tally(sel, row, [CHANGED_YES, CHANGED_NO], RESULTS_ENTRY)
        )
    return {k: pd.concat(v, ignore_index=True) for k, v in parts.items() if v}


def _round_total_links(joint: pd.DataFrame) -> list[tuple[CellKey, list[CellKey]]]:
    """Equations a round table's Total equals the destinations table's (the same cohort group).

    The Links of gsync.disclosure join cells of the same entry; a round's entry is its key, so
    these cross-entry equalities are given to the suppression directly: a group size hidden in
    one table is hidden in every table.
    """
    first: dict[tuple[str, str, str], CellKey] = {}
    others: list[CellKey] = []
    for r in table_records(joint[joint["category"] == TOTAL][KEY_COLUMNS]):
        k = _key(r)
        name = k[2].partition(_SEP)[0]
        if k[0] == TRUST_SCHOOL:
            continue  # the trust's round figures cover only schools with round data
        if name == "destinations":
            first.setdefault((k[0], k[1], k[3]), k)
        elif name in ROUND_TABLES:
            others.append(k)
    return [(first[(k[0], k[1], k[3])], [k]) for k in others if (k[0], k[1], k[3]) in first]


def _suppress(
    tables: Mapping[str, pd.DataFrame], policy: SuppressionPolicy, shared: Sequence[Link]
) -> dict[str, pd.DataFrame]:
    """`suppress_tables`, plus the round tables' Totals tied to the destinations table's."""
    if not any(name in ROUND_TABLES for name in tables):
        return suppress_tables(tables, policy, shared)
    joint = _joint(tables)
    extra = _link_equations(joint, shared) + _round_total_links(joint)
    done = disclosure.apply_suppression(joint, policy, _extra=extra)
    return disclosure.split_joint(done, list(tables))


def _checked_pupils(
    destinations: pd.DataFrame,
    intentions: pd.DataFrame | None,
    applications: pd.DataFrame | None,
) -> pd.DataFrame:
    """The pupil rows the disclosure check compares tables with: Destinations, and the round
    tabs' free text under names the checker treats as free text."""
    frames = [destinations]
    for prefix, frame in (("intention", intentions), ("application", applications)):
        if frame is None or frame.empty:
            continue
        cols = [c for c in ("other", "provider", "course", "previous_destination") if c in frame]
        names = {
            c: f"{prefix}_{'previous_other' if c == 'previous_destination' else c}" for c in cols
        }
        frames.append(frame[cols].rename(columns=names))
    return pd.concat(frames, ignore_index=True) if len(frames) > 1 else destinations


# --- Summary tabs for the sync -------------------------------------------------------------

SUMMARY_TAB_PREFIX = "Summary - "
DATA_HEADER = ["table", *TABLE_COLUMNS]


def _chart_entry(pupils: _Pupils, taxonomy: Taxonomy) -> str:
    """The most advanced entry that holds any known destination (the chart's subject).

    An entry's distinct destinations are the texts `_text_codes` numbers (those of `_texts`,
    in the same order), as the summary tables already found them."""
    for entry in reversed(ENTRIES):
        values = pupils.text_codes(f"{entry}_destination")[1]
        if any(taxonomy.categorise(str(v)).key != "unknown" for v in values):
            return entry
    return ENTRIES[0]


_PLAIN = (str, int, float)


def _cells(values: list[Any]) -> list[str | int | float]:
    """`_cell` of each value (plain text and numbers as they are: a list of only those is
    itself)."""
    if set(map(type, values)) <= set(_PLAIN):
        return values
    return [v if type(v) in _PLAIN else _cell(v) for v in values]


def _trend_rows(table: pd.DataFrame, entry: str) -> dict[str, list[list[str | int | float]]]:
    """Per school, the chart block's category rows (the category x cohort view of all pupils'
    percentages, Total left out, each value as `_cell`), from one pass over the table; a school with no such rows is left out. Cohorts
    (the columns) are each school's sorted cohorts; a missing cell is NaN, as `pivot` gives."""
    sel = table[
        (table["entry"] == entry) & (table["group"] == ALL_GROUP) & (table["category"] != TOTAL)
    ]
    views: dict[Any, dict[Any, dict[Any, Any]]] = {}
    for school, category, cohort, value in zip(
        sel["school"].tolist(),
        sel["category"].tolist(),
        sel["cohort"].tolist(),
        sel["percent"].tolist(),
        strict=True,
    ):
        cells = views.setdefault(school, {}).setdefault(category, {})
        if cohort in cells:
            raise ValueError("Index contains duplicate entries, cannot reshape")
        cells[cohort] = value
    out: dict[str, list[list[str | int | float]]] = {}
    for school, view in views.items():
        cohorts = sorted({c for cells in view.values() for c in cells})
        rows: list[list[str | int | float]] = [[str(c) for c in cohorts]]
        for category, cells in view.items():
            rows.append([str(category), *(_cell(cells.get(c, np.nan)) for c in cohorts)])
        out[school] = rows
    return out


def summary_tabs(
    destinations: pd.DataFrame,
    taxonomy: Taxonomy,
    policy: SuppressionPolicy,
    *,
    entries: Iterable[str] = ENTRIES,
    trust: bool = True,
    intentions: pd.DataFrame | None = None,
    applications: pd.DataFrame | None = None,
    rounds: Sequence[_Round] = (),
) -> dict[str, list[list[str | int | float]]]:
    """Rows (header first) for one Summary tab per school plus a trust tab, suppressed and checked.

    Each tab starts with the chart block (category x cohort percentages of all pupils for the most
    advanced entry with data; see `chart_block`), then a blank row, then the long table. Given the
    Intentions / Applications frames and the rules' `rounds`, the long table also holds the round
    tables (`_round_tables`), suppressed together with the rest. Raises DisclosureError (nothing to
    write) if the disclosure check finds any breach. No pupils (a new trust): no tabs.
    """
    if destinations.empty:
        return {}
    per_kind: dict[str, list[pd.DataFrame]] = {kind: [] for kind in TABLES}
    base = _Pupils(destinations)
    for entry in entries:
        if entry not in ENTRIES:
            raise ValueError(f"unknown entry {entry!r}; expected one of {', '.join(ENTRIES)}")
        for kind, table in base.tables(taxonomy, entry).items():
            per_kind[kind].append(table)
    if rounds and (intentions is not None or applications is not None):
        for kind, table in _round_tables(base, intentions, applications, rounds).items():
            per_kind[kind] = [table]
    raw_tables: dict[str, pd.DataFrame] = {}
    for kind, frames in per_kind.items():
        raw = pd.concat(frames, ignore_index=True)
        schools = sorted(set(raw["school"].tolist()))
        if trust and len(schools) > 1:
            raw = pd.concat([raw, aggregate([raw])], ignore_index=True)
        raw_tables[kind] = raw
    shared = links(taxonomy)
    tables = _suppress(raw_tables, policy, shared)
    # The schools as a list once (iterating the column itself goes value by value through pandas).
    table_schools = set(tables["destinations"]["school"].tolist())
    words = [*vocabulary(taxonomy), *table_schools]
    pupils = _checked_pupils(destinations, intentions, applications)
    assert_publishable(tables, policy, pupils, vocabulary=words, links=shared)

    chart_entry = _chart_entry(base, taxonomy)
    tabs: dict[str, list[list[str | int | float]]] = {}
    names = sorted(table_schools - {TRUST_SCHOOL})
    if TRUST_SCHOOL in table_schools:
        names.append(TRUST_SCHOOL)
    trends = _trend_rows(tables["destinations"], chart_entry)
    bodies = _rows_by_school(tables)
    for school in names:
        trend = trends.get(school, [[]])
        rows: list[list[str | int | float]] = [
            [f"Destination ({chart_entry}, % of all pupils)", *trend[0]],
            *trend[1:],
            [],
            list(DATA_HEADER),
            *bodies.get(school, []),
        ]
        tabs[SUMMARY_TAB_PREFIX + school] = rows
    return tabs


def _rows_by_school(tables: Mapping[str, pd.DataFrame]) -> dict[Any, list[list[str | int | float]]]:
    """Each table's rows once, as cells (the table's name, then `TABLE_COLUMNS`), grouped by
    school in table order: a run of rows of one school at a time (a table lists each school's
    rows together, the trust's last)."""
    bodies: dict[Any, list[list[str | int | float]]] = {}
    for kind, table in tables.items():
        columns = [_cells(table[c].tolist()) for c in TABLE_COLUMNS]
        lines = list(map(list, zip(itertools.repeat(kind, len(table)), *columns, strict=False)))
        schools = table["school"].tolist()
        start = 0
        for end in [*_run_ends(schools), len(schools)]:
            if end > start:
                bodies.setdefault(schools[start], []).extend(lines[start:end])
            start = end
    return bodies


def _run_ends(values: list[Any]) -> list[int]:
    """The positions where a value differs from the one before (`!=`), ascending."""
    return [i for i in range(1, len(values)) if values[i] != values[i - 1]]


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
