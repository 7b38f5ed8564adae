"""Small-number suppression and the disclosure checker for every published summary.

Tables are long frames with the columns in `TABLE_COLUMNS` (built by gsync.summary). Within one
school, cohort and entry, each group's categories add up to its "Total" row, and for each breakdown
(SEND, disadvantaged, EAL, looked-after) the group and everyone else add up to "All pupils". When a
table also holds the trust (school == TRUST_SCHOOL), each trust cell is the sum of the schools'
cells. Those equations are what an attacker could solve, so suppression and checking use them.
The policy (threshold, symbols, rounding) follows the DfE's destination measures: see
sheets_templates/suppression.toml.
"""

from __future__ import annotations

import heapq
import math
import re
import tomllib
from collections import defaultdict
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any, cast

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from gsync.errors import DisclosureError, SpecError
from gsync.paths import templates_dir

POLICY_FILE = "suppression.toml"
TABLE_COLUMNS = ["school", "cohort", "entry", "breakdown", "group", "category", "count", "percent"]
KEY_COLUMNS = ["school", "cohort", "entry", "breakdown", "group", "category"]
ALL_BREAKDOWN = "all"
ALL_GROUP = "All pupils"
TOTAL = "Total"
TRUST_SCHOOL = "Trust"

CellKey = tuple[str, str, str, str, str]  # school, cohort, entry, group, category


class SuppressionPolicy(BaseModel):
    """The suppression policy file."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    version: int
    threshold: int = Field(ge=1)
    min_base: int = Field(ge=0)
    suppress_zeros: bool = False
    secondary: bool = True
    symbol: str = Field(min_length=1)
    small_percent_symbol: str = Field(min_length=1)
    percent_decimals: int = Field(ge=0, le=3)

    @model_validator(mode="after")
    def _symbols_not_numbers(self) -> SuppressionPolicy:
        for name in ("symbol", "small_percent_symbol"):
            if re.fullmatch(r"[-+]?\d+(\.\d*)?", getattr(self, name)):
                raise ValueError(f"{name} must not look like a number")
        return self


def load_policy(path: str | Path | None = None) -> SuppressionPolicy:
    """Load the suppression policy (default: the shipped sheets_templates/suppression.toml)."""
    p = Path(path) if path is not None else templates_dir() / POLICY_FILE
    if not p.is_file():
        raise SpecError(f"Suppression policy {p} not found.", fix="pass an existing file.")
    try:
        data = tomllib.loads(p.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise SpecError(f"{p}: not valid TOML: {exc}.", fix="correct the line named.") from None
    return parse_policy(data, str(p))


def parse_policy(data: dict[str, Any], source: str = POLICY_FILE) -> SuppressionPolicy:
    """Validate a parsed policy; errors name the file and the key."""
    try:
        return SuppressionPolicy.model_validate(data)
    except ValidationError as exc:
        lines = [
            f"{source}: {'.'.join(str(p) for p in e['loc']) or '(top level)'}: {e['msg']}"
            for e in exc.errors()
        ]
        raise SpecError(
            "Invalid suppression policy:\n  " + "\n  ".join(lines),
            fix=f"edit {source}; the shipped sheets_templates/{POLICY_FILE} is a valid example.",
        ) from None


@dataclass(frozen=True)
class Breach:
    """One reason a summary may not be published. Never carries the offending personal value."""

    kind: str  # small_count | small_group | recoverable | percent | identifying_value | column
    table: str
    where: str  # cell coordinates (school / cohort / entry / group / category) or column name
    detail: str

    def render(self) -> str:
        return f"[{self.kind}] {self.table}: {self.where}: {self.detail}"


# --- the linear structure of a table -------------------------------------------------------


def table_records(table: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows as dicts (much faster than DataFrame.to_dict on object columns)."""
    cols = [str(c) for c in table.columns]
    return [
        dict(zip(cols, vals, strict=True))
        for vals in zip(*(table[c].tolist() for c in cols), strict=True)
    ]


def _key(row: Mapping[str, Any]) -> CellKey:
    return (
        str(row["school"]),
        str(row["cohort"]),
        str(row["entry"]),
        str(row["group"]),
        str(row["category"]),
    )


def _keys(table: pd.DataFrame) -> list[CellKey]:
    """Every row's cell key, in row order (`_key` per row, column by column: far fewer calls)."""
    cols = [[str(v) for v in table[c].tolist()] for c in ("school", "cohort", "entry", "group")]
    cols.append([str(v) for v in table["category"].tolist()])
    return list(zip(*cols, strict=True))


def equations(table: pd.DataFrame) -> list[tuple[CellKey, list[CellKey]]]:
    """Every (total, parts) relation between the table's cells: total == sum(parts)."""
    columns = {k: [str(v) for v in table[k].tolist()] for k in KEY_COLUMNS}
    return _equations(columns, _keys_of(columns))


def _keys_of(columns: Mapping[str, list[str]]) -> list[CellKey]:
    cols = ("school", "cohort", "entry", "group", "category")
    return list(zip(*(columns[c] for c in cols), strict=True))


def _equations(
    columns: Mapping[str, list[str]], keys: list[CellKey]
) -> list[tuple[CellKey, list[CellKey]]]:
    """`equations` from the key columns as strings and the cell keys (`_keys`) of every row.

    The equations come in the order they always did, which the greedy secondary suppression
    depends on: groups in order of first appearance, and where they were listed in the order
    of a set, the same set built the same way (a set lists its members in an order that
    depends on the order they were added in).
    """
    cells = set(keys)
    eqs: list[tuple[CellKey, list[CellKey]]] = []
    # Each (school, cohort, entry, group)'s cells by category, in order of first appearance.
    by_group: dict[tuple[str, str, str, str], dict[str, CellKey]] = defaultdict(dict)
    for k in dict.fromkeys(keys):
        by_group[k[:4]][k[4]] = k
    # The categories of All pupils as the set they always were, added one by one in order of
    # first appearance: the order it lists them in is the order of the equations of step 2
    # (`set(a_dict)` would size the table up front and may list them in another order).
    everyone = {g: {cat for cat in members} for g, members in by_group.items() if g[3] == ALL_GROUP}
    # Each breakdown's groups (not All pupils), breakdowns in order of first appearance.
    pairs: dict[tuple[str, str, str, str], set[str]] = defaultdict(set)
    split = zip(
        *(columns[c] for c in ("school", "cohort", "entry", "breakdown", "group")), strict=True
    )
    for s, c, e, b, g in dict.fromkeys(split):
        if b != ALL_BREAKDOWN:
            pairs[(s, c, e, b)].add(g)
    # 1. each group's categories add up to its Total row.
    for members in by_group.values():
        total = members.get(TOTAL)
        if total is not None:
            eqs.append((total, [members[cat] for cat in sorted(members) if cat != TOTAL]))
    # 2. a breakdown's two groups add up to All pupils, category by category.
    for (s, c, e, _b), gs in pairs.items():
        cats = everyone.get((s, c, e, ALL_GROUP))
        if not cats:
            continue
        everybody = by_group[(s, c, e, ALL_GROUP)]
        split_groups = [by_group.get((s, c, e, g)) for g in sorted(gs)]
        if any(members is None for members in split_groups):
            continue
        parts_of = cast(list[dict[str, CellKey]], split_groups)
        for cat in cats:  # the set's own order
            if all(cat in members for members in parts_of):
                eqs.append((everybody[cat], [members[cat] for members in parts_of]))
    # 3. the trust's cells are the sums of the schools' cells (in the order of the set `cells`).
    by_rest: dict[tuple[str, str, str], dict[str, list[CellKey]]] = defaultdict(dict)
    for g, members in by_group.items():
        if g[0] != TRUST_SCHOOL:
            rest = by_rest[g[1:]]
            for cat, k in members.items():
                rest.setdefault(cat, []).append(k)
    for k in cells:
        if k[0] == TRUST_SCHOOL:
            schools = by_rest[k[1:4]].get(k[4]) if k[1:4] in by_rest else None
            if schools:
                eqs.append((k, sorted(schools)))
    return eqs


class _System:
    """The equations indexed by cell, and the hidden cells' connected components, kept up to date.

    Cells are only ever added (`hide`), so each equation's count of hidden members only grows and
    components only merge. `determined` solves again only the components that changed since its
    last call and reuses the others' answers: a component's matrix (its equations in list order,
    its cells sorted) is the same as long as its cells are, so the answer is too.
    """

    def __init__(self, eqs: list[tuple[CellKey, list[CellKey]]]) -> None:
        self.eqs = eqs
        # The equations each cell is in, once per time it appears there (ascending); read only.
        self.where: dict[CellKey, list[int]] = _where_index(eqs)
        self.count = [0] * len(eqs)  # hidden members of each equation, with repeats
        self.hidden: set[CellKey] = set()
        self._first: list[CellKey | None] = [None] * len(eqs)  # a hidden member of each
        self._parent: dict[CellKey, CellKey] = {}
        self._cells: dict[CellKey, list[CellKey]] = {}  # root -> its component's cells
        self._pinned: dict[CellKey, list[CellKey]] = {}  # root -> its determined cells
        self._dirty: set[CellKey] = set()  # roots whose component changed since `determined`

    def _find(self, k: CellKey) -> CellKey:
        parent = self._parent
        while parent[k] != k:
            parent[k] = parent[parent[k]]
            k = parent[k]
        return k

    def hide(self, k: CellKey) -> list[int]:
        """Hide `k`; returns the equations whose count of hidden members just became 1."""
        if k in self.hidden:
            return []
        self.hidden.add(k)
        slots = self.where.get(k)
        if not slots:
            return []  # in no equation: in no component either
        self._parent[k] = k
        self._cells[k] = [k]
        self._dirty.add(k)
        ones: list[int] = []
        count, first = self.count, self._first
        for e in slots:
            count[e] += 1
            if count[e] == 1:
                ones.append(e)
            other = first[e]
            if other is None:
                first[e] = k
                continue
            a, b = self._find(k), self._find(other)
            if a == b:
                continue
            if len(self._cells[a]) < len(self._cells[b]):
                a, b = b, a
            self._parent[b] = a
            self._cells[a].extend(self._cells.pop(b))
            self._pinned.pop(b, None)
            self._dirty.discard(b)
            self._dirty.add(a)
        return ones

    def members(self, e: int) -> tuple[CellKey, ...]:
        t, ps = self.eqs[e]
        return (t, *ps)

    def determined(self) -> set[CellKey]:
        """Hidden cells whose value follows from the published cells (see `_determined`)."""
        for root in self._dirty:
            cells = sorted(self._cells[root])
            eq_rows = sorted({e for k in cells for e in self.where[k]})
            index = {k: i for i, k in enumerate(cells)}
            a = np.zeros((len(eq_rows), len(cells)))
            for i, e in enumerate(eq_rows):
                t, ps = self.eqs[e]
                # Coefficient of each hidden cell: 1 if it is the total, minus once per part.
                coef: dict[CellKey, float] = {}
                for k in (t, *ps):
                    if k in self.hidden and k not in coef:
                        coef[k] = (1.0 if k == t else 0.0) - float(ps.count(k))
                for k, sign in coef.items():
                    a[i, index[k]] += sign
            self._pinned[root] = [cells[i] for i in _pinned_remembered(a)]
        self._dirty.clear()
        return {k for found in self._pinned.values() for k in found}


# The last answers of pure functions of the cells, each kept with its arguments (a copy) while
# the next call's arguments are equal: the nightly job suppresses its tables and then checks what
# it is about to write, and both build the same equations over the same cells. Only what follows
# from the cells' keys is kept (never which cells are hidden); a check of other cells, or of the
# same cells in another order, builds its own. Callers must not change what they get.
_LAST: dict[str, tuple[Any, Any]] = {}


def _remembered(name: str, args: Any, compute: Callable[[], Any]) -> Any:
    """`compute()`, or the answer kept under `name` if it was computed for arguments equal to
    `args` (equality by value; the elements shared with the last call compare at once)."""
    last = _LAST.get(name)
    if last is not None and last[0] == args:
        return last[1]
    answer = compute()
    _LAST[name] = (args, answer)
    return answer


def _where_index(eqs: list[tuple[CellKey, list[CellKey]]]) -> dict[CellKey, list[int]]:
    """Each cell's equations, once per time it appears there (ascending); remembered."""

    def compute() -> dict[CellKey, list[int]]:
        where: dict[CellKey, list[int]] = defaultdict(list)
        for i, (t, ps) in enumerate(eqs):
            where[t].append(i)
            for p in ps:
                where[p].append(i)
        return dict(where)

    return cast(dict[CellKey, list[int]], _remembered("where", list(eqs), compute))


def _shared_equations(
    columns: Mapping[str, list[str]], keys: list[CellKey]
) -> list[tuple[CellKey, list[CellKey]]]:
    """`_equations(columns, keys)` (`keys` is `_keys_of(columns)`), remembered."""
    args = {k: list(v) for k, v in columns.items()}
    eqs = _remembered("equations", args, lambda: _equations(columns, keys))
    return cast(list[tuple[CellKey, list[CellKey]]], eqs)


def _shared_links(keys: list[CellKey], links: list[Link]) -> list[tuple[CellKey, list[CellKey]]]:
    """`_links_of(keys, links)`, remembered."""
    eqs = _remembered("links", (list(keys), list(links)), lambda: _links_of(keys, links))
    return cast(list[tuple[CellKey, list[CellKey]]], eqs)


def _determined(eqs: list[tuple[CellKey, list[CellKey]]], hidden: set[CellKey]) -> set[CellKey]:
    """Hidden cells whose value follows from the published cells through the equations.

    A hidden cell x_i is determined iff e_i lies in the row space of A, the equations restricted
    to the hidden cells. Hidden cells that share no equation cannot inform each other, so each
    connected component is solved on its own (they are small next to a whole trust table).
    """
    system = _System(eqs)
    for k in hidden:
        system.hide(k)
    return system.determined()


# Answers of `_pinned_columns` by matrix: the nightly job checks the tables it has just suppressed,
# and most of the check's components are matrices the suppression has already solved.
_PINNED_MEMO: dict[tuple[tuple[int, ...], bytes, bytes], list[int]] = {}
_PINNED_MEMO_SIZE = 256


def _pinned_remembered(a: np.ndarray) -> list[int]:
    """`_pinned_columns(a)`, remembered for the last few hundred matrices (keyed by content)."""
    where = np.flatnonzero(a)
    key = (a.shape, where.tobytes(), a.ravel()[where].tobytes())
    found = _PINNED_MEMO.get(key)
    if found is None:
        found = _pinned_columns(a)
        if len(_PINNED_MEMO) >= _PINNED_MEMO_SIZE:
            del _PINNED_MEMO[next(iter(_PINNED_MEMO))]  # the oldest
        _PINNED_MEMO[key] = found
    return list(found)


def _pinned_columns(a: np.ndarray) -> list[int]:
    """Columns i with e_i in the row space of `a`: the unknowns A x = b fixes uniquely.

    Gauss-Jordan elimination with partial pivoting, in elementwise numpy (no threaded BLAS call:
    the nightly job shares small machines). In the reduced form, a pivot column is pinned when its
    row has no entry left in any free column.
    """
    m = a.astype(float).copy()
    rows, cols = m.shape
    pivots: list[tuple[int, int]] = []
    r = 0
    for c in range(cols):
        if r >= rows:
            break
        p = r + int(np.argmax(np.abs(m[r:, c])))
        if abs(m[p, c]) < 1e-9:
            continue
        m[[r, p]] = m[[p, r]]
        m[r] /= m[r, c]
        # The matrix is sparse: only rows with an entry in this column need updating.
        touched = np.nonzero(np.abs(m[:, c]) > 1e-12)[0]
        touched = touched[touched != r]
        if touched.size:
            m[touched] -= np.outer(m[touched, c], m[r])
        pivots.append((r, c))
        r += 1
    pivot_cols = {c for _, c in pivots}
    free = [c for c in range(cols) if c not in pivot_cols]
    if not free:
        return sorted(pivot_cols)
    return [c for row, c in pivots if np.abs(m[row, free]).max() < 1e-7]


# --- suppression ---------------------------------------------------------------------------


def _round_half_up(value: float, decimals: int) -> float:
    q = Decimal(1).scaleb(-decimals)
    return float(Decimal(repr(value)).quantize(q, rounding=ROUND_HALF_UP))


# Two tables that share a cell: (table, category) in one equals (table, category) in the other at
# the same school / cohort / entry / group (e.g. every table's "Total" rows are the same pupils).
Link = tuple[tuple[str, str], tuple[str, str]]
_SEP = "\x1f"


def _joint(tables: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """All tables in one frame; the table name travels inside `entry` so cell keys stay unique."""
    frames = []
    for name, table in tables.items():
        t = table[TABLE_COLUMNS].copy()
        t["entry"] = name + _SEP + t["entry"].astype(str)
        frames.append(t)
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=TABLE_COLUMNS)


def _link_equations(
    joint: pd.DataFrame, links: Iterable[Link]
) -> list[tuple[CellKey, list[CellKey]]]:
    return _shared_links(_keys(joint), list(links))


def _links_of(keys: list[CellKey], links: Iterable[Link]) -> list[tuple[CellKey, list[CellKey]]]:
    """`_link_equations` from the joint table's cell keys (`_keys`)."""
    links = list(links)
    cells = set(keys)
    # Cells by (table, category), each list in the set's own order (the order the equations
    # were always listed in), so every link looks only at its own cells; only the categories
    # some link starts from are collected.
    wanted = {ca for (_ta, ca), _ in links}
    split = {e: e.partition(_SEP) for e in {k[2] for k in cells}}
    by_name: dict[tuple[str, str], list[tuple[CellKey, str]]] = defaultdict(list)
    for k in [k for k in cells if k[4] in wanted]:
        name, _, entry = split[k[2]]
        by_name[(name, k[4])].append((k, entry))
    eqs: list[tuple[CellKey, list[CellKey]]] = []
    for (ta, ca), (tb, cb) in links:
        for (s, c, e, g, cat), entry in by_name.get((ta, ca), []):
            other = (s, c, tb + _SEP + entry, g, cb)
            if other in cells:
                eqs.append(((s, c, e, g, cat), [other]))
    return eqs


def suppress_tables(
    tables: Mapping[str, pd.DataFrame],
    policy: SuppressionPolicy,
    links: Iterable[Link] = (),
) -> dict[str, pd.DataFrame]:
    """Suppress several tables together, so a cell they share is hidden in all or none."""
    both = _joint(tables)
    joint = apply_suppression(both, policy, _extra=_link_equations(both, links))
    return split_joint(joint, list(tables))


def split_joint(joint: pd.DataFrame, names: list[str]) -> dict[str, pd.DataFrame]:
    """The tables `_joint` stacked (in `names` order), back from `joint` (its rows in the same
    order, as `apply_suppression` keeps them), each `entry` without the table's name.

    Each table's rows are the next run of rows whose entry starts with its name and the
    separator, so they are cut by position; anything else (no rows, a name holding the
    separator, rows of no table named) goes through `str.partition` and a filter per name, as
    it always did.
    """
    column = joint["entry"]
    entries: list[Any] = column.tolist()
    # The texts after the name keep the column's type, as `str.partition` keeps it.
    kind = (
        column.dtype if column.dtype == object or isinstance(column.dtype, pd.StringDtype) else None
    )
    out: dict[str, pd.DataFrame] = {}
    start = 0
    fast = kind is not None and entries and not any(_SEP in name for name in names)
    for name in names if fast else ():
        prefix = name + _SEP
        end = start
        while end < len(entries) and type(entries[end]) is str and entries[end].startswith(prefix):
            end += 1
        part = joint.iloc[start:end].copy()
        cut = len(prefix)
        part["entry"] = pd.Series(
            [e[cut:] for e in entries[start:end]], index=part.index, dtype=kind
        )
        out[name] = part.reset_index(drop=True)
        start = end
    if len(out) == len(names) and start == len(entries):
        return out
    parts = joint["entry"].str.partition(_SEP)
    for name in names:
        part = joint[parts[0] == name].copy()
        part["entry"] = parts[2][parts[0] == name]
        out[name] = part.reset_index(drop=True)
    return out


def apply_suppression(
    table: pd.DataFrame,
    policy: SuppressionPolicy,
    _extra: list[tuple[CellKey, list[CellKey]]] | None = None,
) -> pd.DataFrame:
    """Suppress small counts (primary) and enough others (secondary); round percentages.

    Returns a copy whose `count` and `percent` columns hold numbers or the policy's symbols.
    Tables that share cells must go through `suppress_tables` together.
    """
    missing = [c for c in TABLE_COLUMNS if c not in table.columns]
    if missing:
        raise ValueError(f"summary table lacks columns {missing}")
    out = table[TABLE_COLUMNS].reset_index(drop=True).copy()
    columns = {k: [str(v) for v in out[k].tolist()] for k in KEY_COLUMNS}
    keys = _keys_of(columns)
    counts: dict[CellKey, int] = {}
    for k, value in zip(keys, out["count"].tolist(), strict=True):
        if isinstance(value, str):
            raise ValueError("apply_suppression needs raw counts; this table is already suppressed")
        counts[k] = int(value)

    hidden = _primary(counts, policy)
    if policy.secondary:
        hidden = _secondary(_shared_equations(columns, keys) + (_extra or []), counts, hidden)

    fast = _published_cells(keys, counts, hidden, policy, columns)
    count_col, pct_col = fast or _published_cells_by_row(keys, counts, hidden, policy)
    out["count"] = pd.Series(count_col, dtype=object)
    out["percent"] = pd.Series(pct_col, dtype=object)
    return out


def _published_cells_by_row(
    keys: list[CellKey], counts: dict[CellKey, int], hidden: set[CellKey], policy: SuppressionPolicy
) -> tuple[list[Any], list[Any]]:
    """The published count and percent of each row (`keys`): the policy's symbol for a hidden
    cell, and for a percentage against a hidden or empty base; percentages rounded half up."""
    totals = {k[:4]: v for k, v in counts.items() if k[4] == TOTAL}
    hidden_bases = {k[:4] for k in hidden if k[4] == TOTAL}
    count_col: list[int | str] = []
    pct_col: list[float | str] = []
    published: dict[tuple[int, int], float | str] = {}  # (count, base) -> what is published
    for k in keys:
        if k in hidden:
            count_col.append(policy.symbol)
            pct_col.append(policy.symbol)
            continue
        n = counts[k]
        count_col.append(n)
        group = k[:4]
        base = totals.get(group, 0)
        if group in hidden_bases or base <= 0:
            # A percentage against a hidden base would give the base away.
            pct_col.append(policy.symbol)
            continue
        shown = published.get((n, base))
        if shown is None:
            pct = 100.0 * n / base
            rounded = _round_half_up(pct, policy.percent_decimals)
            shown = policy.small_percent_symbol if pct > 0 and rounded == 0 else rounded
            published[(n, base)] = shown
        pct_col.append(shown)
    return count_col, pct_col


def _published_cells(
    keys: list[CellKey],
    counts: dict[CellKey, int],
    hidden: set[CellKey],
    policy: SuppressionPolicy,
    columns: Mapping[str, list[str]],
) -> tuple[Any, Any] | None:
    """`_published_cells_by_row` on whole columns when every key is one row's (so `counts`
    lists each row's count in row order): each row's base looked up once per group, the
    percentages divided at once and each distinct one rounded once. None when keys repeat or a
    count is too large for int64 (then row by row)."""
    if len(counts) != len(keys) or not keys:
        return None
    try:
        n = np.array(list(counts.values()), dtype=np.int64)
    except OverflowError:
        return None
    symbol = policy.symbol
    totals = {k[:4]: v for k, v in counts.items() if k[4] == TOTAL}
    hidden_bases = {k[:4] for k in hidden if k[4] == TOTAL}
    groups = list(
        zip(columns["school"], columns["cohort"], columns["entry"], columns["group"], strict=True)
    )
    # Each group's base once: -1 where a percentage would give a hidden base away.
    base_of = {g: -1 if g in hidden_bases else totals.get(g, 0) for g in dict.fromkeys(groups)}
    try:
        base = np.array([base_of[g] for g in groups], dtype=np.int64)
    except OverflowError:
        return None
    shut = np.fromiter((k in hidden for k in keys), dtype=bool, count=len(keys))
    count_col = np.array(list(counts.values()), dtype=object)
    count_col[shut] = symbol
    pct_col = np.full(len(keys), symbol, dtype=object)
    shown = ~shut & (base > 0)
    if shown.any():
        pct = 100.0 * n[shown] / base[shown]
        distinct, which = np.unique(pct, return_inverse=True)
        texts: list[float | str] = []
        for value in distinct.tolist():
            rounded = _round_half_up(value, policy.percent_decimals)
            texts.append(policy.small_percent_symbol if value > 0 and rounded == 0 else rounded)
        pct_col[shown] = np.array(texts, dtype=object)[which.reshape(-1)]
    return count_col, pct_col


def _primary(counts: dict[CellKey, int], policy: SuppressionPolicy) -> set[CellKey]:
    hidden = {
        k
        for k, n in counts.items()
        if (0 < n < policy.threshold) or (n == 0 and policy.suppress_zeros)
    }
    # DfE: "where cohorts are less than 6, all data are suppressed" - per group (column).
    small_groups = {k[:4] for k, n in counts.items() if k[4] == TOTAL and n < policy.min_base}
    hidden |= {k for k in counts if k[:4] in small_groups}
    return hidden


def _secondary(
    eqs: list[tuple[CellKey, list[CellKey]]],
    counts: dict[CellKey, int],
    hidden: set[CellKey],
) -> set[CellKey]:
    """Hide more cells until no hidden cell is solvable from the published ones."""
    system = _System(eqs)
    for k in hidden:
        system.hide(k)

    def cost(k: CellKey) -> tuple[bool, bool, bool, bool, int, CellKey]:
        # Keep the most used figures (trust, all pupils, group sizes) where possible; among the
        # rest hide the smallest non-zero cell (a hidden zero protects little).
        n = counts[k]
        return (k[0] == TRUST_SCHOOL, k[3] == ALL_GROUP, k[4] == TOTAL, n == 0, n, k)

    # Equations that may have exactly one hidden member, for the next pass of the fast rule.
    pending = [e for e, n in enumerate(system.count) if n == 1]
    while True:
        # Fast rule: an equation with exactly one hidden cell gives that cell away. A pass goes
        # through the equations in order, each judged on the cells hidden so far; only those
        # whose count is 1 can act, so the pass visits just them: an equation reaching 1 ahead
        # of the pass joins this pass, one behind it the next.
        progressed = False
        queue = pending
        heapq.heapify(queue)
        pending = []
        pos = -1
        while queue:
            e = heapq.heappop(queue)
            if e <= pos:
                continue
            pos = e
            if system.count[e] != 1:
                continue
            candidates = [m for m in system.members(e) if m not in system.hidden]
            if candidates:
                for f in system.hide(min(candidates, key=cost)):
                    if f > pos:
                        heapq.heappush(queue, f)
                    else:
                        pending.append(f)
                progressed = True
        if progressed:
            continue
        # Exact rule: linear algebra over all equations together.
        solvable = system.determined()
        if not solvable:
            return system.hidden
        # Blocks (cohort, entry) are independent: fix one solvable cell in each per pass.
        fixed: set[tuple[str, str]] = set()
        for target in sorted(solvable):
            if target[1:3] in fixed:
                continue
            options = [
                m
                for e in system.where.get(target, [])
                for m in system.members(e)
                if m not in system.hidden
            ]
            if (
                not options
            ):  # cannot happen: a determined cell shares an equation with a published one
                raise AssertionError("secondary suppression found no cell to hide")
            pending.extend(system.hide(min(options, key=cost)))
            fixed.add(target[1:3])


# --- checking ------------------------------------------------------------------------------

# Pupil-frame columns whose values must never reach a summary (ARCHITECTURE.md Destinations).
_STRONG_ID = re.compile(r"upn|uln|email|phone|telephone|mobile|date_of_birth|dob|postcode|address")
_NAME = re.compile(r"name")
_FREE_TEXT = re.compile(r"_other$|_course$|_provider$|note|comment")


def _identifying_columns(pupils: pd.DataFrame) -> dict[str, str]:
    kinds: dict[str, str] = {}
    for col in pupils.columns:
        name = str(col).casefold()
        if name in ("school", "school_name"):
            continue
        if _STRONG_ID.search(name):
            kinds[str(col)] = "strong"
        elif _NAME.search(name):
            kinds[str(col)] = "name"
        elif _FREE_TEXT.search(name):
            kinds[str(col)] = "free_text"
    return kinds


def _norm(value: object) -> str:
    return " ".join(str(value).split()).casefold()


# `_normalised` joins texts with a character that is no whitespace, folds to itself and is no
# fold of any other character.
_GLUE = "\x00"
# The ASCII characters `str.split()` splits at (whitespace to `_norm`).
_ASCII_SPACES = "".join(c for c in map(chr, range(128)) if c.isspace())


def _normalised(texts: list[str]) -> list[str]:
    """`[_norm(t) for t in texts]` for texts (str), in a few calls over all of them joined.

    Case folding maps each character on its own, never to or from whitespace, so folding the
    joined texts and then collapsing each run of whitespace to one space (`split`, `join`: the
    glue at either end keeps the ends) gives every text's `_norm`, once the spaces next to the
    glue (a text's leading / trailing whitespace) go.
    """
    joined = _GLUE + _GLUE.join(texts) + _GLUE
    if joined.count(_GLUE) != len(texts) + 1:  # a text holds the glue itself
        return [_norm(t) for t in texts]
    if joined.isascii() and not any(space in joined for space in _ASCII_SPACES):
        # No whitespace to collapse, and ASCII folds as it lowers: each text is its `lower()`.
        return joined.lower().split(_GLUE)[1:-1]
    folded = " ".join(joined.casefold().split())
    out = folded.replace(" " + _GLUE, _GLUE).replace(_GLUE + " ", _GLUE).split(_GLUE)
    return out[1:-1]


# A column whose first `_SAMPLE` cells hold more than `_MOSTLY_DISTINCT` distinct texts is
# normalised cell by cell, without first finding its distinct texts (they are most of its cells).
_SAMPLE = 1000
_MOSTLY_DISTINCT = 900


def _column_norms(column: pd.Series) -> Collection[str]:
    """`_normalised` of the distinct texts of `column.dropna().astype(str)`, as a set; or, for
    a column of texts only that is mostly distinct, of every cell (the same texts, repeated)."""
    if column.dtype == object and len(column) > 2 * _SAMPLE:
        cells = column.tolist()
        if len(set(cells[:_SAMPLE])) > _MOSTLY_DISTINCT:
            try:
                return _normalised(cells)
            except TypeError:  # not texts only (a missing cell, a number): as below
                pass
    return set(_normalised(list(_distinct_texts(column))))


def _distinct_texts(column: pd.Series) -> set[str]:
    """The distinct texts of `column.dropna().astype(str)`."""
    if column.dtype == object:
        try:
            distinct = set(column.tolist())
        except TypeError:  # unhashable cells
            pass
        else:
            if set(map(type, distinct)) <= {str}:  # texts only (no missing cells)
                return distinct
    return set(column.dropna().astype(str).tolist())


def _cell_texts(table: pd.DataFrame) -> list[tuple[Any, list[str]]]:
    """Each column of a table with its cells as `str` (what `_check_values` judges); a text
    column of `str` cells only (no missing cell) holds them already."""
    out: list[tuple[Any, list[str]]] = []
    for col in table.columns:
        column = table[col]
        cells = column.tolist()
        if isinstance(column.dtype, pd.StringDtype) and set(map(type, cells)) == {str}:
            out.append((col, cells))
        else:
            out.append((col, list(map(str, cells))))
    return out


# `_pupil_values` lists every substring of the cells unless there are more than this many; then
# only those of the lengths some value has.
_INSIDE_LIMIT = 200_000


def _pupil_values(
    pupil_frame: pd.DataFrame, vocab: set[str], cells: set[str]
) -> tuple[dict[str, str], dict[str, str], dict[str, str]]:
    """The pupil values (normalised, each with the first column holding it) that could match a
    normalised summary cell in `cells`: (strong values, names, free texts).

    `_check_values` finds a value only when it is a whole cell (names, free text) or inside one
    (strong values, full names), and only ever reports the first column that holds it; so the
    values in no cell and the order of values within a column change nothing and are left out.
    """
    per_column = [
        (col, kind, _column_norms(pupil_frame[col]))
        for col, kind in _identifying_columns(pupil_frame).items()
    ]
    if sum(len(cell) * (len(cell) - 1) // 2 for cell in cells) <= _INSIDE_LIMIT:
        lengths = set(range(2, max(map(len, cells), default=0) + 1))
    else:  # only the lengths of the values looked for inside cells
        lengths = set()
        for _col, kind, texts in per_column:
            if kind == "strong":
                lengths |= set(map(len, texts))
            elif kind == "name":
                lengths |= {len(v) for v in texts if " " in v}
    inside = {
        cell[i : i + n]
        for cell in cells
        for n in lengths
        if 2 <= n <= len(cell)
        for i in range(len(cell) - n + 1)
    }
    strong: dict[str, str] = {}
    names: dict[str, str] = {}
    free: dict[str, str] = {}
    for col, kind, texts in per_column:  # (a column's texts may repeat: sets of what is found)
        if kind == "strong":
            found = inside.intersection(texts)
        elif kind == "name":
            found = cells.intersection(texts) | {v for v in inside.intersection(texts) if " " in v}
        else:
            found = cells.intersection(texts)
        for v in sorted(found):
            if len(v) < 2 or (kind != "strong" and v in vocab):
                continue
            (strong if kind == "strong" else names if kind == "name" else free).setdefault(v, col)
    return strong, names, free


def check_disclosure(
    tables: Mapping[str, pd.DataFrame],
    policy: SuppressionPolicy,
    pupil_frame: pd.DataFrame,
    *,
    vocabulary: Iterable[str] = (),
    links: Iterable[Link] = (),
) -> list[Breach]:
    """Every reason the (suppressed) tables may not be published; empty when they are safe.

    Recoverability is judged over all the tables at once, through their own totals and the
    `links` between them (the same cell published in two tables).

    `vocabulary` lists the summary's own labels (category, group and school names): a free-text
    answer or a name that is exactly one of them ("Apprenticeship", a pupil surnamed like the
    school) is not taken as having leaked. UPNs, emails, phones and dates of birth never are.
    """
    breaches: list[Breach] = []
    vocab = {_norm(v) for v in vocabulary}
    texts = {tname: _cell_texts(table) for tname, table in tables.items()}
    distinct = {t for columns in texts.values() for _, column in columns for t in column}
    cells = set(_normalised(sorted(distinct))) - {""}
    strong, names, free = _pupil_values(pupil_frame, vocab, cells)

    lookups = _value_lookups(strong, names)
    for tname, table in tables.items():
        extra = [c for c in table.columns if c not in TABLE_COLUMNS]
        for c in extra:
            breaches.append(Breach("column", tname, str(c), "column is not part of a summary"))
        breaches.extend(_check_counts(tname, table, policy))
        breaches.extend(
            _check_values(tname, table, strong, names, free, lookups=lookups, texts=texts[tname])
        )
    usable = {n: t for n, t in tables.items() if set(TABLE_COLUMNS) <= set(t.columns)}
    if usable:
        joint = _joint(usable)
        columns = {k: [str(v) for v in joint[k].tolist()] for k in KEY_COLUMNS}
        keys = _keys_of(columns)
        hidden = {
            k for k, n in zip(keys, joint["count"].tolist(), strict=True) if isinstance(n, str)
        }
        eqs = _shared_equations(columns, keys) + _shared_links(keys, list(links))
        for k in sorted(_determined(eqs, hidden)):
            name, _, entry = k[2].partition(_SEP)
            breaches.append(
                Breach(
                    "recoverable",
                    name,
                    _where((k[0], k[1], entry, k[3], k[4])),
                    "suppressed count can be solved from published totals",
                )
            )
    return breaches


def _where(k: CellKey) -> str:
    return " / ".join(k)


def _check_counts(name: str, table: pd.DataFrame, policy: SuppressionPolicy) -> list[Breach]:
    if not set(TABLE_COLUMNS) <= set(table.columns):
        return [Breach("column", name, ",".join(TABLE_COLUMNS), "summary columns missing")]
    count_col = table["count"].tolist()
    pct_col = table["percent"].tolist()
    if _counts_clean(table, count_col, pct_col, policy):
        return []
    out: list[Breach] = []
    published: dict[CellKey, int] = {}
    hidden: set[CellKey] = set()
    keys = _keys(table)
    for k, value, pct in zip(keys, count_col, pct_col, strict=True):
        if isinstance(value, str):
            if value != policy.symbol:
                out.append(
                    Breach("small_count", name, _where(k), "count is neither number nor symbol")
                )
            hidden.add(k)
            if not isinstance(pct, str):
                out.append(Breach("percent", name, _where(k), "percentage of a suppressed count"))
            continue
        n = int(value)
        published[k] = n
        if 0 < n < policy.threshold or (n == 0 and policy.suppress_zeros):
            out.append(
                Breach("small_count", name, _where(k), f"published count below {policy.threshold}")
            )
        if k[4] == TOTAL and n < policy.min_base:
            out.append(
                Breach(
                    "small_group",
                    name,
                    _where(k),
                    f"group of fewer than {policy.min_base} published",
                )
            )
    percents = dict(zip(keys, pct_col, strict=True))  # the last row of a key wins, as before
    for k in published:
        base_k = (*k[:4], TOTAL)
        pct = percents[k]
        if base_k in hidden and not isinstance(pct, str) and k[4] != TOTAL:
            out.append(
                Breach("percent", name, _where(k), "percentage against a suppressed group size")
            )
        if isinstance(pct, float) and math.isnan(pct):
            out.append(Breach("percent", name, _where(k), "percentage missing"))
    return out


def _texts_only(values: list[Any]) -> bool:
    """Whether every value is a `str` itself (its own `str`); False for no values."""
    return set(map(type, values)) == {str}


def _counts_clean(
    table: pd.DataFrame, count_col: list[Any], pct_col: list[Any], policy: SuppressionPolicy
) -> bool:
    """True only when `_check_counts` finds no breach in `table`, judged on whole columns.

    It answers only for a table whose key columns hold texts (each its own `str`) naming each
    cell once, whose counts are ints or texts and percentages floats or texts; for anything
    else, or any row the rules flag, it says False and `_check_counts` goes row by row (which
    names the breaches). The rules are those of the row loop: a hidden count is the symbol with
    a hidden percentage; a published count is neither small nor (a Total) below the base, and
    its percentage is no NaN and, unless it is a Total, not against a hidden Total.
    """
    if not count_col or not set(map(type, count_col)) <= {str, int}:
        return False
    if not set(map(type, pct_col)) <= {str, float}:
        return False
    columns = [table[c].tolist() for c in ("school", "cohort", "entry", "group", "category")]
    if not all(_texts_only(col) for col in columns):
        return False
    codes = [pd.factorize(np.array(col, dtype=object))[0].astype(np.int64) for col in columns]
    # Each row's group and cell as a number (renumbered after each step: no overflow).
    group = codes[0]
    for c in codes[1:4]:
        group = pd.factorize(group * (int(c.max()) + 1) + c)[0].astype(np.int64)
    if len(np.unique(group * (int(codes[4].max()) + 1) + codes[4])) != len(group):
        return False  # a cell in several rows
    shut = np.array([type(v) is str for v in count_col], dtype=bool)
    pct_shut = np.array([type(v) is str for v in pct_col], dtype=bool)
    if any(v != policy.symbol for v, s in zip(count_col, shut.tolist(), strict=True) if s):
        return False
    if (shut & ~pct_shut).any():
        return False
    try:
        n = np.array([0 if s else v for v, s in zip(count_col, shut, strict=True)], dtype=np.int64)
    except OverflowError:
        return False
    shown = ~shut
    small = (n > 0) & (n < policy.threshold)
    if policy.suppress_zeros:
        small |= n == 0
    total = np.array([c == TOTAL for c in columns[4]], dtype=bool)
    if (shown & (small | (total & (n < policy.min_base)))).any():
        return False
    pct = np.array([np.nan if s else p for p, s in zip(pct_col, pct_shut, strict=True)])
    if (shown & ~pct_shut & np.isnan(pct)).any():
        return False
    hidden_total = np.zeros(int(group.max()) + 1, dtype=bool)
    hidden_total[group[total & shut]] = True
    return not (shown & ~pct_shut & ~total & hidden_total[group]).any()


class _Substrings:
    """Which of some values (in their dict order) occurs first inside a text.

    `first_in(cell)` is `next((c for v, c in values.items() if v in cell), None)`, found by
    looking the cell's substrings of the values' lengths up in a dict instead of scanning every
    value; a cell so long that it has more such substrings than there are values is scanned.
    """

    def __init__(self, values: dict[str, str]) -> None:
        self.values = values
        self.order = {v: i for i, v in enumerate(values)}
        self.columns = list(values.values())
        self.lengths = sorted({len(v) for v in values})

    def first_in(self, cell: str) -> str | None:
        n = len(cell)
        lengths = [size for size in self.lengths if size <= n]
        if sum(n - size + 1 for size in lengths) > len(self.order):
            return next((c for v, c in self.values.items() if v in cell), None)
        found = self.order.keys() & {
            cell[i : i + size] for size in lengths for i in range(n - size + 1)
        }
        if not found:
            return None
        return self.columns[min(self.order[v] for v in found)]


def _value_lookups(
    strong: dict[str, str], names: dict[str, str]
) -> tuple[_Substrings, _Substrings]:
    """Look-ups of the strong values and of the full names (those with a space), in order."""
    return _Substrings(strong), _Substrings({v: c for v, c in names.items() if " " in v})


def _check_values(
    name: str,
    table: pd.DataFrame,
    strong: dict[str, str],
    names: dict[str, str],
    free: dict[str, str],
    *,
    lookups: tuple[_Substrings, _Substrings] | None = None,
    texts: list[tuple[Any, list[str]]] | None = None,
) -> list[Breach]:
    """Cells that hold a pupil value. `lookups`: `_value_lookups(strong, names)` if built;
    `texts`: `_cell_texts(table)` if built."""
    out: list[Breach] = []
    cache: dict[str, str | None] = {}
    in_strong, in_full_names = lookups or _value_lookups(strong, names)

    def match(cell: str) -> str | None:
        if cell not in cache:
            hit = names.get(cell) or free.get(cell)
            if hit is None:
                hit = in_strong.first_in(cell)
            if hit is None:
                hit = in_full_names.first_in(cell)
            cache[cell] = hit
        return cache[cell]

    for col, column in texts if texts is not None else _cell_texts(table):
        # Judge each distinct text once (`_norm` reads only str(value)), in order of first
        # appearance; then name the rows of those that hold a value.
        distinct = list(dict.fromkeys(column))
        verdict = {
            text: match(cell) if cell else None
            for text, cell in zip(distinct, _normalised(distinct), strict=True)
        }
        if not any(hit is not None for hit in verdict.values()):
            continue
        for i, text in enumerate(column):
            hit = verdict[text]
            if hit is not None:
                # Name the pupil column, never the value (errors carry no personal data).
                out.append(
                    Breach(
                        "identifying_value",
                        name,
                        f"row {i}, column {col}",
                        f"matches a value of the pupil column {hit!r}",
                    )
                )
    return out


def assert_publishable(
    tables: Mapping[str, pd.DataFrame],
    policy: SuppressionPolicy,
    pupil_frame: pd.DataFrame,
    *,
    vocabulary: Iterable[str] = (),
    links: Iterable[Link] = (),
) -> None:
    """Raise DisclosureError when check_disclosure finds any breach (nothing gets written)."""
    breaches = check_disclosure(tables, policy, pupil_frame, vocabulary=vocabulary, links=links)
    if breaches:
        shown = "\n  ".join(b.render() for b in breaches[:20])
        more = f"\n  ... and {len(breaches) - 20} more" if len(breaches) > 20 else ""
        raise DisclosureError(
            f"The summary failed the disclosure check ({len(breaches)} breach(es)):\n  {shown}{more}",
            fix="nothing was written; check sheets_templates/suppression.toml and the summary code.",
        )
