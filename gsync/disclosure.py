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
import itertools
import math
import re
import tomllib
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


def _text_ranks(texts: list[str]) -> tuple[np.ndarray, list[str]]:
    """Each text's rank among the distinct texts, and those texts, in sorted (`str`) order.

    A table's key columns mostly hold runs of one text (a school's rows, a cohort's): where
    there are fewer runs than half the rows, only each run's first text is ranked and its rank
    repeated along the run (a run: texts each `==` the one before)."""
    values = np.array(texts, dtype=object)
    if len(values) > 1:
        change = np.empty(len(values), dtype=bool)
        change[0] = True
        np.not_equal(values[1:], values[:-1], out=change[1:])
        heads = np.flatnonzero(change)
        if len(heads) <= len(values) // 2:
            codes, uniques = pd.factorize(values[heads], sort=True)
            lengths = np.diff(np.append(heads, len(values)))
            return np.repeat(codes.astype(np.int64), lengths), [str(u) for u in uniques]
    codes, uniques = pd.factorize(values, sort=True)
    return codes.astype(np.int64), [str(u) for u in uniques]


def _renumber(values: np.ndarray) -> tuple[np.ndarray, int]:
    """Each int's rank among the distinct values (ascending), and how many there are."""
    codes, uniques = pd.factorize(values)
    rank = np.empty(len(uniques), dtype=np.int64)
    rank[np.argsort(uniques, kind="stable")] = np.arange(len(uniques), dtype=np.int64)
    return rank[codes], len(uniques)


def _combined(*parts: tuple[np.ndarray, int]) -> tuple[np.ndarray, int]:
    """Ranks of the rows' tuples of ranks (each with its number of ranks), in the tuples'
    (lexicographic) order, and how many distinct tuples there are (renumbered at each step:
    no product overflows)."""
    code, size = parts[0]
    for ranks, n in parts[1:]:
        code, size = _renumber(code * max(n, 1) + ranks)
    return code, size


def _segments(starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """The positions start, start + 1, ..., start + length - 1 of each segment, one after another."""
    total = int(lengths.sum())
    offsets = np.arange(total, dtype=np.int64) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    return np.repeat(starts, lengths) + offsets


class _Cells:
    """A table's distinct cells, numbered in the sorted order of their keys (so numbers compare
    as the keys do), with what the equations and the suppression read of each."""

    def __init__(self, columns: Mapping[str, list[str]]) -> None:
        names = ("school", "cohort", "entry", "group", "category")
        ranks = {c: _text_ranks(columns[c]) for c in (*names, "breakdown") if c in columns}
        self.ranks = ranks
        sizes = {c: len(u) for c, (_r, u) in ranks.items()}
        cell, m = _combined(*((ranks[c][0], sizes[c]) for c in names))
        rows = len(cell)
        self.rows, self.m, self.cell = rows, m, cell
        first = np.full(m, rows, dtype=np.int64)
        np.minimum.at(first, cell, np.arange(rows, dtype=np.int64))
        last = np.full(m, -1, dtype=np.int64)
        np.maximum.at(last, cell, np.arange(rows, dtype=np.int64))
        self.first, self.last = first, last
        of = {c: ranks[c][0][first] for c in names}  # each cell's rank in each key column
        self.of = of
        # Each cell's key: its texts by rank (the distinct texts, equal to its first row's).
        self.keys: list[CellKey] = list(
            zip(*(np.array(ranks[c][1], dtype=object)[of[c]].tolist() for c in names), strict=True)
        )
        self.group, self.n_groups = _combined(
            *((of[c], sizes[c]) for c in ("school", "cohort", "entry", "group"))
        )
        self.total = of["category"] == _rank_of(ranks["category"][1], TOTAL)
        self.trust = of["school"] == _rank_of(ranks["school"][1], TRUST_SCHOOL)
        self.everyone = of["group"] == _rank_of(ranks["group"][1], ALL_GROUP)
        self.block, _ = _combined(*((of[c], sizes[c]) for c in ("cohort", "entry")))
        self._id_of: dict[CellKey, int] | None = None
        self._first_seen: list[CellKey] | None = None
        self._set_order: np.ndarray | None = None
        self._sorted_lookup: tuple[np.ndarray, np.ndarray] | None = None

    def first_seen(self) -> list[CellKey]:
        """The keys in order of first appearance (as `dict.fromkeys` of the rows' keys)."""
        if self._first_seen is None:
            order = np.argsort(self.first, kind="stable").tolist()
            self._first_seen = [self.keys[i] for i in order]
        return self._first_seen

    def in_set_order(self, column: int, texts: Collection[str]) -> np.ndarray:
        """The cells whose key holds one of `texts` at `column`, in the order the set of every
        key lists them (the set built as the rows' keys always built it: in order of first
        appearance, a key seen again adding nothing).

        The set's order is read once, as cell numbers, and each call picks from it by rank
        (issue 7: a walk of the whole set per call, twice a night over 50k keys, was ~0.02 s);
        a cell's text at `column` is one of `texts` exactly when its rank is one of theirs.
        The set holds the very key objects of `keys` (distinct), so each is found by its `id`
        among theirs (sorted), not hashed again."""
        if self._set_order is None:
            every = {k for k in self.first_seen()}
            n = len(self.keys)
            at = np.fromiter(map(id, self.keys), dtype=np.uint64, count=n)
            by_at = np.argsort(at)
            found = np.fromiter(map(id, every), dtype=np.uint64, count=len(every))
            self._set_order = by_at[np.searchsorted(at[by_at], found)].astype(np.int64)
        name = ("school", "cohort", "entry", "group", "category")[column]
        wanted = [r for r in (_rank_of(self.ranks[name][1], t) for t in texts) if r >= 0]
        order = self._set_order
        return order[np.isin(self.of[name][order], wanted)]

    def _group_of(self, *ranks: np.ndarray) -> np.ndarray:
        """The group of each (school, cohort, entry, group) by their ranks (-1: a value the
        column lacks), -1 where there is none: the cells' and the wanted tuples numbered
        together."""
        names = ("school", "cohort", "entry", "group")
        both = []
        for c, wanted in zip(names, ranks, strict=True):
            size = len(self.ranks[c][1])
            both.append(
                (np.concatenate([self.of[c], np.where(wanted < 0, size, wanted)]), size + 1)
            )
        code, n_codes = _combined(*both)
        group = np.full(n_codes, -1, dtype=np.int64)
        group[code[: self.m]] = self.group
        return group[code[self.m :]]

    def links(self, links: Iterable[Link]) -> tuple[np.ndarray, np.ndarray]:
        """The equations of `_link_equations` by number: for each link, in its order, each cell
        of its first table and category (in the order of the set of every key) equals the cell
        of the second table and category at the same school, cohort, entry and group, where
        there is one. A cell's table is its entry up to `_SEP`, and the rest its entry."""
        links = list(links)
        cats = self.ranks["category"][1]
        wanted = [_rank_of(cats, ca) for (_ta, ca), _ in links]
        ordered = self.in_set_order(4, {ca for (_ta, ca), _ in links})
        entries = self.ranks["entry"][1]
        split = [e.partition(_SEP) for e in entries]
        entry_rank = {e: i for i, e in enumerate(entries)}
        e_of = self.of["entry"][ordered]
        cat_of = self.of["category"][ordered]
        sources, targets = [], []
        for ((ta, _ca), (tb, cb)), ca_rank in zip(links, wanted, strict=True):
            if ca_rank < 0:
                continue
            in_table = np.array([name == ta for name, _s, _r in split] + [False], dtype=bool)
            sel = ordered[in_table[e_of] & (cat_of == ca_rank)]
            to_entry = np.array(
                [entry_rank.get(tb + _SEP + rest, -1) for _n, _s, rest in split] + [-1],
                dtype=np.int64,
            )
            group = self._group_of(
                self.of["school"][sel],
                self.of["cohort"][sel],
                to_entry[self.of["entry"][sel]],
                self.of["group"][sel],
            )
            other = self._find(group, np.full(len(sel), _rank_of(cats, cb), dtype=np.int64))
            keep = other >= 0
            sources.append(sel[keep])
            targets.append(other[keep])
        if not sources:
            return np.zeros(1, dtype=np.int64), np.zeros(0, dtype=np.int64)
        src, dst = np.concatenate(sources), np.concatenate(targets)
        return np.arange(0, 2 * len(src) + 1, 2, dtype=np.int64), np.stack([src, dst], 1).ravel()

    def id_of(self) -> dict[CellKey, int]:
        """Each cell's number by its key."""
        if self._id_of is None:
            self._id_of = dict(zip(self.keys, range(self.m), strict=True))
        return self._id_of

    def keyed(self, ptr: np.ndarray, members: np.ndarray) -> list[tuple[CellKey, list[CellKey]]]:
        """Equations by number (`ptr`, `members`: each one's total, then its parts) by key."""
        keys = self.keys
        named = [keys[i] for i in members.tolist()]
        bounds = ptr.tolist()
        return [(named[a], named[a + 1 : b]) for a, b in itertools.pairwise(bounds)]

    def equations(self) -> tuple[np.ndarray, np.ndarray]:
        """Every (total, parts) relation between the cells: total == sum(parts), by number, as
        each equation's start in `members` (and the end) and the members, total first.

        1. Each (school, cohort, entry, group) with a Total row: the Total is the sum of the
           group's other categories (sorted). 2. Each breakdown's groups (sorted) add up to All
           pupils, category by category, for the categories every group has. 3. Each trust cell
           is the sum of the schools' cells (sorted) of its cohort, entry, group and category.

        The equations come in the order they always did, which the greedy secondary suppression
        depends on: groups (1) and breakdowns (2) in order of first appearance, All pupils'
        categories (2) in the order of the set of them added one by one in order of first
        appearance, and the trust's cells (3) in the order of the set of every cell's key (a set
        lists its members in an order that depends on the order they were added in).
        """
        parts = [self._totals(), self._breakdowns(), self._trust_sums()]
        lengths = np.concatenate([p[0] for p in parts])
        ptr = np.zeros(len(lengths) + 1, dtype=np.int64)
        np.cumsum(lengths, out=ptr[1:])
        return ptr, np.concatenate([p[1] for p in parts])

    def _lookup(self) -> tuple[np.ndarray, np.ndarray]:
        """Each cell's (group, category) as one sorted code, and the cells in that order."""
        if self._sorted_lookup is None:
            code = self.group * max(len(self.ranks["category"][1]), 1) + self.of["category"]
            order = np.argsort(code, kind="stable")
            self._sorted_lookup = (code[order], order)
        return self._sorted_lookup

    def _find(self, group: np.ndarray, category: np.ndarray) -> np.ndarray:
        """The cell of each (group, category), -1 where there is none (or the group is -1)."""
        codes, order = self._lookup()
        want = group * max(len(self.ranks["category"][1]), 1) + category
        at = np.searchsorted(codes, want)
        found = (group >= 0) & (category >= 0) & (at < len(codes))
        found[found] = codes[at[found]] == want[found]
        out = np.full(len(want), -1, dtype=np.int64)
        out[found] = order[at[found]]
        return out

    def _totals(self) -> tuple[np.ndarray, np.ndarray]:
        """Step 1: each group's Total, then its other cells by category."""
        has = np.zeros(self.n_groups, dtype=bool)
        has[self.group[self.total]] = True
        first = np.full(self.n_groups, self.rows, dtype=np.int64)
        np.minimum.at(first, self.group, self.first)
        place = np.empty(self.n_groups, dtype=np.int64)  # groups by first appearance
        place[np.argsort(first, kind="stable")] = np.arange(self.n_groups, dtype=np.int64)
        sel = np.flatnonzero(has[self.group])
        at = place[self.group[sel]]
        order = np.lexsort((self.of["category"][sel], ~self.total[sel], at))
        lengths = np.bincount(at, minlength=self.n_groups)
        return lengths[lengths > 0], sel[order]

    def _breakdowns(self) -> tuple[np.ndarray, np.ndarray]:
        """Step 2: per breakdown, All pupils' cells, each with the groups' cells of its category."""
        r = self.ranks
        if "breakdown" not in r:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
        everyone_rank = _rank_of(r["group"][1], ALL_GROUP)
        all_rank = _rank_of(r["breakdown"][1], ALL_BREAKDOWN)
        empty = (np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64))
        split = np.flatnonzero(r["breakdown"][0] != all_rank)
        if everyone_rank < 0 or not len(split):
            return empty
        sizes = {c: len(u) for c, (_x, u) in r.items()}
        # Each row's (school, cohort, entry) and breakdown pair, pairs by first appearance.
        sce, n_sce = _combined(*((r[c][0], sizes[c]) for c in ("school", "cohort", "entry")))
        pair_code = sce[split] * max(sizes["breakdown"], 1) + r["breakdown"][0][split]
        pair, _ = pd.factorize(pair_code)
        pair = pair.astype(np.int64)
        n_pairs = int(pair.max()) + 1
        # Each pair's groups, sorted (as texts), with their group numbers.
        g_rank = r["group"][0][split]
        pg, first_row = np.unique(
            pair * max(sizes["group"], 1) + g_rank, return_index=True
        )  # sorted by pair, then group
        pg_pair = pg // max(sizes["group"], 1)
        pg_group = self.group[self.cell[split[first_row]]]
        width = np.bincount(pg_pair, minlength=n_pairs)
        starts = np.cumsum(width) - width
        k_max = int(width.max())
        table = np.full((n_pairs, k_max), -1, dtype=np.int64)
        table[pg_pair, np.arange(len(pg)) - starts[pg_pair]] = pg_group
        # All pupils' group of each pair's (school, cohort, entry), if any.
        pair_sce = np.zeros(n_pairs, dtype=np.int64)
        pair_sce[pair] = sce[split]
        all_group = np.full(n_sce, -1, dtype=np.int64)
        ev = np.flatnonzero(self.everyone)
        all_group[sce[self.first[ev]]] = self.group[ev]
        # All pupils' cells of each such group, in the order of the set of its categories.
        ptr, ordered = self._everyone_in_set_order(ev)
        has_all = np.flatnonzero(all_group[pair_sce] >= 0)
        g_all = all_group[pair_sce[has_all]]
        counts = ptr[g_all + 1] - ptr[g_all]
        cand_pair = np.repeat(has_all, counts)
        cand = ordered[_segments(ptr[g_all], counts)]
        cat = self.of["category"][cand]
        members = [cand]
        ok = np.ones(len(cand), dtype=bool)
        used = table[cand_pair] >= 0
        for j in range(k_max):
            found = self._find(table[cand_pair, j], cat)
            ok &= ~used[:, j] | (found >= 0)
            members.append(found)
        grid = np.stack(members, axis=1)[ok]
        keep = np.concatenate([np.ones((len(grid), 1), dtype=bool), used[ok]], axis=1)
        return 1 + used[ok].sum(axis=1), grid[keep]

    def _everyone_in_set_order(self, ev: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """All pupils' cells (`ev`) grouped by group (`ptr` by group number), each group's in
        the order of `{category for category in categories}`, the categories added in order of
        first appearance."""
        order = ev[np.lexsort((self.first[ev], self.group[ev]))]
        counts = np.bincount(self.group[order], minlength=self.n_groups)
        ptr = np.zeros(self.n_groups + 1, dtype=np.int64)
        np.cumsum(counts, out=ptr[1:])
        keys, ids = self.keys, order.tolist()
        bounds = ptr.tolist()
        placed: dict[tuple[str, ...], list[int]] = {}
        out: list[int] = []
        for a, b in itertools.pairwise(bounds):
            if a == b:
                continue
            run = ids[a:b]
            cats = tuple(keys[i][4] for i in run)
            perm = placed.get(cats)
            if perm is None:
                where = {c: i for i, c in enumerate(cats)}
                perm = placed[cats] = [where[c] for c in {c for c in cats}]
            out.extend(run[i] for i in perm)
        return ptr, np.array(out, dtype=np.int64)

    def _trust_sums(self) -> tuple[np.ndarray, np.ndarray]:
        """Step 3: each trust cell (in the order of the set of every key) with the schools' cells."""
        trust_ids = np.flatnonzero(self.trust)
        if not len(trust_ids):
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
        in_order = self.in_set_order(0, {TRUST_SCHOOL})
        sizes = {c: len(u) for c, (_x, u) in self.ranks.items()}
        rest, _ = _combined(
            *((self.of[c], sizes[c]) for c in ("cohort", "entry", "group", "category"))
        )
        schools = np.flatnonzero(~self.trust)
        order = schools[np.lexsort((schools, rest[schools]))]
        sorted_rest = rest[order]
        lo = np.searchsorted(sorted_rest, rest[in_order], side="left")
        hi = np.searchsorted(sorted_rest, rest[in_order], side="right")
        has = hi > lo
        t, lo, n = in_order[has], lo[has], (hi - lo)[has]
        lengths = n + 1
        starts = np.cumsum(lengths) - lengths
        members = np.empty(int(lengths.sum()), dtype=np.int64)
        members[starts] = t
        mask = np.ones(len(members), dtype=bool)
        mask[starts] = False
        members[mask] = order[_segments(lo, n)]
        return lengths, members


def _rank_of(texts: list[str], text: str) -> int:
    """The index of `text` in `texts`, or -1."""
    try:
        return texts.index(text)
    except ValueError:
        return -1


class _System:
    """The equations (by cell number) indexed by cell, and the hidden cells' connected
    components, kept up to date.

    Cells are only ever added (`hide`), so each equation's count of hidden members only grows and
    components only merge. `determined` solves again only the components that changed since its
    last call and reuses the others' answers: a component's matrix (its equations in list order,
    its cells sorted) is the same as long as its cells are, so the answer is too.
    """

    def __init__(self, ptr: np.ndarray, members: np.ndarray, n_cells: int) -> None:
        self._ptr, self._members = ptr, members
        self.ptr: list[int] = ptr.tolist()
        n_eqs = len(ptr) - 1
        # The equations each cell is in, once per time it appears there (ascending): the
        # members stably sorted by cell (as 16-bit numbers when they fit: numpy's radix sort).
        eq_of = np.repeat(np.arange(n_eqs, dtype=np.int64), np.diff(ptr))
        keys = members.astype(np.uint16) if n_cells <= 1 << 16 else members
        self._where_eq = eq_of[np.argsort(keys, kind="stable")]
        where_ptr = np.zeros(n_cells + 1, dtype=np.int64)
        np.cumsum(np.bincount(members, minlength=n_cells), out=where_ptr[1:])
        self.where_ptr: list[int] = where_ptr.tolist()
        self.count = [0] * n_eqs  # hidden members of each equation, with repeats
        self.hidden: set[int] = set()
        self._hidden = np.zeros(n_cells, dtype=bool)
        self._column = np.zeros(n_cells, dtype=np.int64)
        self._first: list[int] = [-1] * n_eqs  # a hidden member of each
        self._parent: dict[int, int] = {}
        self._cells: dict[int, list[int]] = {}  # root -> its component's cells
        self._pinned: dict[int, list[int]] = {}  # root -> its determined cells
        self._dirty: set[int] = set()  # roots whose component changed since `determined`

    def where(self, k: int) -> list[int]:
        """The equations `k` is in (read from the arrays when asked: issue 7, a few thousand of
        a 100k trust's 200k entries are)."""
        found: list[int] = self._where_eq[self.where_ptr[k] : self.where_ptr[k + 1]].tolist()
        return found

    def members(self, e: int) -> list[int]:
        """Equation `e`'s members, its total first."""
        found: list[int] = self._members[self.ptr[e] : self.ptr[e + 1]].tolist()
        return found

    def _find(self, k: int) -> int:
        parent = self._parent
        while parent[k] != k:
            parent[k] = parent[parent[k]]
            k = parent[k]
        return k

    def hide(self, k: int) -> list[int]:
        """Hide `k`; returns the equations whose count of hidden members just became 1."""
        if k in self.hidden:
            return []
        self.hidden.add(k)
        self._hidden[k] = True
        slots = self.where(k)
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
            if other < 0:
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

    def _matrix(self, cells: list[int], eq_rows: list[int]) -> Entries:
        """The equations `eq_rows` restricted to the hidden `cells` (a column each, in order):
        each hidden member's coefficient is 1 if it is the total, minus once per part; as the
        matrix's non-zero entries in row-major order (`_entries` of the dense matrix, which is
        never built: issue 7, a component's matrix can hold a million cells). A member met more
        than once in an equation gets the sum of its signs (small integers: exact in any order),
        left out where that is 0."""
        rows = np.array(eq_rows, dtype=np.int64)
        starts = self._ptr[rows]
        lengths = self._ptr[rows + 1] - starts
        at = _segments(starts, lengths)
        member = self._members[at]
        sign = np.where(at == np.repeat(starts, lengths), 1.0, -1.0)
        row = np.repeat(np.arange(len(rows), dtype=np.int64), lengths)
        keep = self._hidden[member]
        self._column[cells] = np.arange(len(cells), dtype=np.int64)
        width = max(len(cells), 1)
        flat = row[keep] * width + self._column[member[keep]]
        values = sign[keep]
        order = np.argsort(flat, kind="stable")
        flat, values = flat[order], values[order]
        if len(flat):
            first = np.flatnonzero(np.concatenate([[True], flat[1:] != flat[:-1]]))
            flat, values = flat[first], np.add.reduceat(values, first)
            nonzero = values != 0.0
            flat, values = flat[nonzero], values[nonzero]
        return (len(rows), len(cells)), flat // width, flat % width, values

    def determined(self) -> set[int]:
        """Hidden cells whose value follows from the published cells through the equations.

        A hidden cell x_i is determined iff e_i lies in the row space of A, the equations
        restricted to the hidden cells. Hidden cells that share no equation cannot inform each
        other, so each connected component is solved on its own (they are small next to a whole
        trust table)."""
        for root in self._dirty:
            cells = sorted(self._cells[root])
            eq_rows = sorted({e for k in cells for e in self.where(k)})
            found = _pinned_remembered_entries(self._matrix(cells, eq_rows))
            self._pinned[root] = [cells[i] for i in found]
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


def _shared_cells(
    columns: Mapping[str, list[str]],
) -> tuple[_Cells, tuple[np.ndarray, np.ndarray]]:
    """`_Cells(columns)` and its equations, remembered."""

    def compute() -> tuple[_Cells, tuple[np.ndarray, np.ndarray]]:
        cells = _Cells(columns)
        return cells, cells.equations()

    args = {k: list(v) for k, v in columns.items()}
    return cast(tuple[_Cells, tuple[np.ndarray, np.ndarray]], _remembered("cells", args, compute))


def _shared_links(keys: list[CellKey], links: list[Link]) -> list[tuple[CellKey, list[CellKey]]]:
    """`_links_of(keys, links)`, remembered."""
    eqs = _remembered("links", (list(keys), list(links)), lambda: _links_of(keys, links))
    return cast(list[tuple[CellKey, list[CellKey]]], eqs)


def _settle(
    cells: _Cells, eqs: tuple[np.ndarray, np.ndarray], link_ids: Any, hidden: np.ndarray
) -> None:
    """Remember that with the equations `eqs` and `link_ids` (and no other) over `cells`, no
    cell is determined when the cells `hidden` (ascending numbers) are: the secondary
    suppression stops only there (`_System.determined` found none)."""
    _LAST["settled"] = ((cells, eqs, link_ids), hidden.copy())


def _settled(
    cells: _Cells, eqs: tuple[np.ndarray, np.ndarray], link_ids: Any, hidden: np.ndarray
) -> bool:
    """Whether the last suppression settled these very equations (the remembered objects
    themselves) with exactly these cells hidden (ascending numbers): then none is determined."""
    last = _LAST.get("settled")
    if last is None:
        return False
    (c, e, links), done = last
    return c is cells and e is eqs and links is link_ids and np.array_equal(done, hidden)


def _numbered(
    cells: _Cells, eqs: list[tuple[CellKey, list[CellKey]]]
) -> tuple[tuple[np.ndarray, np.ndarray], list[CellKey]]:
    """Equations by key as cell numbers (`ptr`, `members`), and the keys no row of `cells`
    holds, numbered from `cells.m` on in order of first appearance."""
    if not eqs:
        return (np.zeros(1, dtype=np.int64), np.zeros(0, dtype=np.int64)), []
    id_of = cells.id_of()
    outside: dict[CellKey, int] = {}

    def number(k: CellKey) -> int:
        i = id_of.get(k)
        return i if i is not None else outside.setdefault(k, cells.m + len(outside))

    members = [number(k) for t, ps in eqs for k in (t, *ps)]
    ptr = np.zeros(len(eqs) + 1, dtype=np.int64)
    np.cumsum([1 + len(ps) for _t, ps in eqs], out=ptr[1:])
    return (ptr, np.array(members, dtype=np.int64)), list(outside)


def _shared_link_ids(cells: _Cells, links: Iterable[Link]) -> tuple[np.ndarray, np.ndarray]:
    """`cells.links(links)`, remembered."""
    links = list(links)
    found = _remembered("link ids", (cells, links), lambda: cells.links(links))
    return cast(tuple[np.ndarray, np.ndarray], found)


def _joined(*systems: tuple[np.ndarray, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Several lists of equations (`ptr`, `members`) as one, in order."""
    ptrs = [np.zeros(1, dtype=np.int64)]
    offset = 0
    for ptr, members in systems:
        ptrs.append(ptr[1:] + offset)
        offset += len(members)
    return np.concatenate(ptrs), np.concatenate([m for _p, m in systems])


# Answers of `_pinned_columns` by matrix: the nightly job checks the tables it has just suppressed,
# and most of the check's components are matrices the suppression has already solved.
_PINNED_MEMO: dict[tuple[tuple[int, ...], bytes, bytes], list[int]] = {}
_PINNED_MEMO_SIZE = 256


def forget() -> None:
    """Drop every answer this module remembers (`_LAST`, `_PINNED_MEMO`): the state of a fresh
    process, as each nightly run starts (the benchmark measures its nights so)."""
    _LAST.clear()
    _PINNED_MEMO.clear()


def _pinned_remembered(a: np.ndarray) -> list[int]:
    """`_pinned_columns(a)`, remembered for the last few hundred matrices (keyed by content): the
    dense form, which the tests compare with the frozen copies (the sync passes `Entries`)."""
    return _pinned_remembered_entries(_entries(a))


def _pinned_remembered_entries(entries: Entries) -> list[int]:
    """`_pinned_remembered` of the matrix with these `_entries`."""
    (n_rows, n_cols), rows, cols, values = entries
    key = ((n_rows, n_cols), (rows * n_cols + cols).tobytes(), values.tobytes())
    found = _PINNED_MEMO.get(key)
    if found is None:
        found = _pinned_of_entries(entries)
        if len(_PINNED_MEMO) >= _PINNED_MEMO_SIZE:
            del _PINNED_MEMO[next(iter(_PINNED_MEMO))]  # the oldest
        _PINNED_MEMO[key] = found
    return list(found)


# A matrix as its shape and its non-zero entries in row-major order: (rows, columns), then each
# entry's row, column (int64) and value (float).
Entries = tuple[tuple[int, int], np.ndarray, np.ndarray, np.ndarray]


def _entries(a: np.ndarray) -> Entries:
    """The `Entries` of a 2-d matrix."""
    nz_rows, nz_cols = np.nonzero(a)
    values = np.asarray(a, dtype=float)[nz_rows, nz_cols]
    return (a.shape[0], a.shape[1]), nz_rows.astype(np.int64), nz_cols.astype(np.int64), values


def _pinned_columns(a: np.ndarray) -> list[int]:
    """`_pinned_of_entries` of the matrix `a` (the dense form, as the tests compare it with the
    frozen copies)."""
    return _pinned_of_entries(_entries(a))


def _pinned_of_entries(matrix: Entries) -> list[int]:
    """Columns i with e_i in the row space of the matrix (`Entries`): the unknowns A x = b fixes
    uniquely.

    Gauss-Jordan elimination with partial pivoting (no threaded BLAS call: the nightly job
    shares small machines). In the reduced form, a pivot column is pinned when its row has no
    entry left in any free column.

    The matrix is sparse, so each row is kept as a dict of its non-zero entries and each column
    as the set of rows holding one: the same float operations as on the dense matrix (a pivot
    row divided by its pivot, x - t * y at each of the pivot row's non-zero columns of each row
    with |t| > 1e-12), in the same order, on the entries that are not zero (elsewhere x - t * 0
    is x). A row's position is tracked for the swaps, so the pivot is the first row (in the
    dense matrix's order) holding the column's largest magnitude, as `np.argmax` finds it.
    """
    (n_rows, n_cols), nz_rows, nz_cols, nz_values = matrix
    rows: list[dict[int, float]] = [{} for _ in range(n_rows)]
    in_col: list[set[int]] = [set() for _ in range(n_cols)]
    values = nz_values.tolist()
    for i, j, v in zip(nz_rows.tolist(), nz_cols.tolist(), values, strict=True):
        rows[i][j] = v
        in_col[j].add(i)
    pos = list(range(n_rows))  # each row's place in the dense matrix
    at = list(range(n_rows))  # the row at each place
    pivots: list[tuple[int, int]] = []
    r = 0
    for c in range(n_cols):
        if r >= n_rows:
            break
        best, best_v, best_pos = -1, 0.0, n_rows
        for i in in_col[c]:
            p = pos[i]
            if p >= r:
                v = abs(rows[i][c])
                if v > best_v or (v == best_v and p < best_pos):
                    best, best_v, best_pos = i, v, p
        if best_v < 1e-9:  # (also when no row at or below r holds the column)
            continue
        other = at[r]
        at[r], at[best_pos] = best, other
        pos[best], pos[other] = r, best_pos
        row = rows[best]
        pivot = row[c]
        if pivot == -1.0:  # (x / -1.0 is -x exactly, and x / 1.0 is x: the usual pivots)
            for j in row:
                row[j] = -row[j]
        elif pivot != 1.0:
            for j in list(row):
                x = row[j] / pivot
                if x == 0.0:
                    del row[j]
                    in_col[j].discard(best)
                else:
                    row[j] = x
        # Each target's entry in column c becomes x - x * 1.0, exactly 0.0, and goes; nothing
        # reads the column's rows (`in_col[c]`) after this step, and only other columns' rows
        # change below. The others as above.
        entries = [(j, v, in_col[j]) for j, v in row.items() if j != c]
        for t in in_col[c]:
            target = rows[t]
            factor = target[c]
            if t == best or not abs(factor) > 1e-12:
                continue
            del target[c]
            for j, v, col_j in entries:
                held = target.get(j)
                if held is None:
                    x = 0.0 - factor * v
                    if x != 0.0:
                        target[j] = x
                        col_j.add(t)
                else:
                    x = held - factor * v
                    if x == 0.0:
                        del target[j]
                        col_j.discard(t)
                    else:
                        target[j] = x
        pivots.append((best, c))
        r += 1
    pivot_cols = {c for _, c in pivots}
    if len(pivot_cols) == n_cols:
        return sorted(pivot_cols)
    return [
        c
        for i, c in pivots
        if all(abs(v) < 1e-7 for j, v in rows[i].items() if j not in pivot_cols)
    ]


# --- suppression ---------------------------------------------------------------------------


def _round_half_up(value: float, decimals: int) -> float:
    q = Decimal(1).scaleb(-decimals)
    return float(Decimal(repr(value)).quantize(q, rounding=ROUND_HALF_UP))


def _rounded_half_up(values: np.ndarray, decimals: int) -> list[float]:
    """`[_round_half_up(v, decimals) for v in values]` (floats).

    To whole numbers (the shipped policy), values from 0.0 up to 1e15 (no -0.0, no NaN) at
    once: with k = floor(v), k + 0.5 is a float, and v's shortest repr is at or past k + 0.5
    exactly when v is (a decimal at or past a float reads back at or past it, one below it
    below it), so v rounds half up to k + (v - k >= 0.5), v - k being exact."""
    if decimals == 0 and len(values) and not np.signbit(values).any() and values.max() < 1e15:
        whole = np.floor(values)
        rounded: list[float] = (whole + (values - whole >= 0.5)).tolist()
        return rounded
    return [_round_half_up(v, decimals) for v in values.tolist()]


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
    """`_link_equations` from the joint table's cell keys (`_keys`): `_Cells.links` by key."""
    names = ("school", "cohort", "entry", "group", "category")
    cells = _Cells({c: [k[i] for k in keys] for i, c in enumerate(names)})
    return cells.keyed(*cells.links(links))


def suppress_tables(
    tables: Mapping[str, pd.DataFrame],
    policy: SuppressionPolicy,
    links: Iterable[Link] = (),
) -> dict[str, pd.DataFrame]:
    """Suppress several tables together, so a cell they share is hidden in all or none."""
    joint = apply_suppression(_joint(tables), policy, _links=links)
    return split_joint(joint, list(tables))


def split_joint(joint: pd.DataFrame, names: list[str]) -> dict[str, pd.DataFrame]:
    """The tables `_joint` stacked (in `names` order), back from `joint` (its rows in the same
    order, as `apply_suppression` keeps them), each `entry` without the table's name.

    Each table's rows are the next run of rows whose entry starts with its name and the
    separator, so they are cut by position; anything else (no rows, a name holding the
    separator, rows of no table named) goes through `str.partition` and a filter per name, as
    it always did. Entries that are all `str` are judged and cut once per distinct text
    (`_split_texts`).
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
    if fast and _texts_only(entries):
        return _split_texts(joint, names, entries, kind) or _split_partitioned(joint, names)
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
    return _split_partitioned(joint, names)


def _split_texts(
    joint: pd.DataFrame, names: list[str], entries: list[str], kind: Any
) -> dict[str, pd.DataFrame] | None:
    """`split_joint`'s cut by position for entries that are all `str` (and names without the
    separator): each distinct entry's table (the name before its first separator, one of
    `names`; an entry starts with a name and the separator exactly then) and its text after
    it found once, the runs of rows of one table then read from the rows' codes. None when the
    rows are not the tables' runs in `names` order (then the filter per name). A name asked
    twice is the last one's (`place`), as the filter's frame for it is the last made."""
    place = {name: i for i, name in enumerate(names)}
    codes, uniques = pd.factorize(np.array(entries, dtype=object))
    owners: list[int] = []
    rests: list[str] = []
    for text in uniques.tolist():
        name, sep, rest = text.partition(_SEP)
        owners.append(place.get(name, -1) if sep else -1)
        rests.append(rest)
    owner = np.array(owners, dtype=np.int64)[codes]
    cut = np.array(rests, dtype=object)
    # Where each run of rows of one owner ends.
    ends = [*(np.flatnonzero(owner[1:] != owner[:-1]) + 1).tolist(), len(entries)]
    out: dict[str, pd.DataFrame] = {}
    start, run = 0, 0
    for i, name in enumerate(names):
        end = start
        if start < len(entries) and owner[start] == i:
            end = ends[run]
            run += 1
        part = joint.iloc[start:end].copy()
        part["entry"] = pd.Series(cut[codes[start:end]], index=part.index, dtype=kind)
        out[name] = part.reset_index(drop=True)
        start = end
    return out if start == len(entries) else None


def _split_partitioned(joint: pd.DataFrame, names: list[str]) -> dict[str, pd.DataFrame]:
    """`split_joint` by a filter per name over `str.partition` (any joint table)."""
    out: dict[str, pd.DataFrame] = {}
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
    *,
    _links: Iterable[Link] = (),
) -> pd.DataFrame:
    """Suppress small counts (primary) and enough others (secondary); round percentages.

    Returns a copy whose `count` and `percent` columns hold numbers or the policy's symbols.
    Tables that share cells must go through `suppress_tables` together (`_links`: the
    equations of `_link_equations`, worked out here; `_extra`: more equations by key).
    """
    missing = [c for c in TABLE_COLUMNS if c not in table.columns]
    if missing:
        raise ValueError(f"summary table lacks columns {missing}")
    out = table[TABLE_COLUMNS].reset_index(drop=True).copy()
    columns = {k: _as_texts(out[k]) for k in KEY_COLUMNS}
    n_rows = _raw_counts(out["count"])
    cells, eqs = _shared_cells(columns)
    n = n_rows[cells.last]  # each cell's count: its last row's, as a dict of rows keeps it

    hidden = _primary(cells, n, policy)
    if policy.secondary:
        ranks = _cost_ranks(cells, n)
        block: list[int] = cells.block.tolist()
        extra, outside = _numbered(cells, _extra or [])
        link_ids = _shared_link_ids(cells, _links)
        system = _System(*_joined(eqs, link_ids, extra), cells.m + len(outside))
        cost: list[int] | Callable[[int], int] = ranks
        if outside:  # cells no row holds: hiding one needs its count (KeyError, as by key)

            def cost(i: int) -> int:
                if i >= cells.m:
                    raise KeyError(outside[i - cells.m])
                return ranks[i]

            block += [-1] * len(outside)
        hidden = _secondary_cells(system, hidden.tolist(), cost, block)
        if not len(extra[1]) and not outside:
            _settle(cells, eqs, link_ids, hidden)
    shut = np.zeros(cells.m, dtype=bool)
    shut[hidden] = True
    fast = _published_columns(cells, n, shut, policy)
    if fast is None:
        keys = [cells.keys[i] for i in cells.cell.tolist()]
        counts = dict(zip(cells.keys, n.tolist(), strict=True))
        found = {cells.keys[i] for i in np.flatnonzero(shut).tolist()}
        fast = _published_cells_by_row(keys, counts, found, policy)
    count_col, pct_col = fast
    out["count"] = pd.Series(count_col, dtype=object)
    out["percent"] = pd.Series(pct_col, dtype=object)
    return out


def _raw_counts(column: pd.Series) -> np.ndarray:
    """Each row's count as an int (int64, or Python ints past int64); ValueError at the first
    text (a suppressed table), as `int` raises at the first value it cannot convert."""
    if isinstance(column.dtype, np.dtype) and column.dtype.kind == "i":
        return column.to_numpy(dtype=np.int64)
    ints: list[int] = []
    for value in column.tolist():
        if isinstance(value, str):
            raise ValueError("apply_suppression needs raw counts; this table is already suppressed")
        ints.append(int(value))
    try:
        return np.array(ints, dtype=np.int64)
    except OverflowError:  # counts past int64: kept as Python ints
        return np.array([*ints, None], dtype=object)[:-1]


def _as_texts(column: pd.Series) -> list[str]:
    """`[str(v) for v in column]`: the cells themselves when each is a text already."""
    values, texts = _texts_of(column)
    return values if texts else [str(v) for v in values]


def _texts_of(column: pd.Series) -> tuple[list[Any], bool]:
    """The column's cells, and whether each is a text (equal to its own `str`): a `str` itself,
    or any cell of a text column (StringDtype) without a missing cell."""
    values: list[Any] = column.tolist()
    if isinstance(column.dtype, pd.StringDtype) and not column.hasnans:
        return values, True
    return values, _texts_only(values)


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


def _published_columns(
    cells: _Cells, n: np.ndarray, shut: np.ndarray, policy: SuppressionPolicy
) -> tuple[Any, Any] | None:
    """`_published_cells_by_row` on whole columns (`n`: each cell's count, `shut`: whether it is
    hidden): each group's base found once, the percentages divided at once and each distinct
    one rounded once. None when a count is too large for int64 (then row by row)."""
    if n.dtype != np.int64 or not cells.rows:
        return None
    symbol = policy.symbol
    # Each group's base: its Total's count, -1 where a percentage would give a hidden base away.
    base_of = np.zeros(cells.n_groups, dtype=np.int64)
    base_of[cells.group[cells.total]] = n[cells.total]
    base_of[cells.group[cells.total & shut]] = -1
    row = cells.cell
    base = base_of[cells.group[row]]
    counts = n[row]
    hid = shut[row]
    count_col = counts.astype(object)
    count_col[hid] = symbol
    pct_col = np.full(cells.rows, symbol, dtype=object)
    shown = ~hid & (base > 0)
    if shown.any():
        pct = 100.0 * counts[shown] / base[shown]
        distinct, which = np.unique(pct, return_inverse=True)
        texts: list[float | str] = []
        for value, rounded in zip(
            distinct.tolist(), _rounded_half_up(distinct, policy.percent_decimals), strict=True
        ):
            texts.append(policy.small_percent_symbol if value > 0 and rounded == 0 else rounded)
        pct_col[shown] = np.array(texts, dtype=object)[which.reshape(-1)]
    return count_col, pct_col


def _primary(cells: _Cells, n: np.ndarray, policy: SuppressionPolicy) -> np.ndarray:
    """The cells (numbers, ascending) with small counts, and every cell of a small group."""
    small = ((n > 0) & (n < policy.threshold)).astype(bool)
    if policy.suppress_zeros:
        small |= (n == 0).astype(bool)
    # DfE: "where cohorts are less than 6, all data are suppressed" - per group (column).
    small_group = np.zeros(cells.n_groups, dtype=bool)
    small_group[cells.group[cells.total & (n < policy.min_base).astype(bool)]] = True
    return np.flatnonzero(small | small_group[cells.group])


def _cost_ranks(cells: _Cells, n: np.ndarray) -> list[int]:
    """Each cell's place in the order secondary suppression would rather hide cells in: keep
    the most used figures (trust, all pupils, group sizes) where possible; among the rest
    hide the smallest non-zero cell (a hidden zero protects little); then by key. The cost is
    (trust, all pupils, Total, zero, count, key), least first."""
    flags = (cells.trust, cells.everyone, cells.total)
    return _ranked(flags, n)


def _ranked(flags: tuple[np.ndarray, np.ndarray, np.ndarray], n: np.ndarray) -> list[int]:
    """Ranks of the cells (numbered in key order) by (*flags, n == 0, n, number)."""
    number = np.arange(len(n), dtype=np.int64)
    if n.dtype == np.int64:
        order = np.lexsort((number, n, n == 0, flags[2], flags[1], flags[0]))
    else:  # counts past int64: compared as Python ints
        f = [x.tolist() for x in flags]
        counts = n.tolist()
        order = np.array(
            sorted(
                range(len(counts)),
                key=lambda i: (f[0][i], f[1][i], f[2][i], counts[i] == 0, counts[i], i),
            ),
            dtype=np.int64,
        )
    rank = np.empty(len(n), dtype=np.int64)
    rank[order] = number
    ranks: list[int] = rank.tolist()
    return ranks


def _secondary_cells(
    system: _System,
    hidden: Iterable[int],
    cost: Callable[[int], int] | list[int],
    block: np.ndarray | list[int],
) -> np.ndarray:
    """Hide more cells until no hidden cell is solvable from the published ones; the hidden
    cells (numbers, ascending). `cost`: each cell's rank in the order cells are hidden in
    (`_cost_ranks`); `block`: each cell's (cohort, entry), as a number."""
    for k in hidden:
        system.hide(k)
    key = cost.__getitem__ if isinstance(cost, list) else cost
    blocks: list[int] = block.tolist() if isinstance(block, np.ndarray) else block

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
                for f in system.hide(min(candidates, key=key)):
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
            return np.array(sorted(system.hidden), dtype=np.int64)
        # Blocks (cohort, entry) are independent: fix one solvable cell in each per pass.
        fixed: set[int] = set()
        for target in sorted(solvable):
            if blocks[target] in fixed:
                continue
            options = [
                m for e in system.where(target) for m in system.members(e) if m not in system.hidden
            ]
            if (
                not options
            ):  # cannot happen: a determined cell shares an equation with a published one
                raise AssertionError("secondary suppression found no cell to hide")
            pending.extend(system.hide(min(options, key=key)))
            fixed.add(blocks[target])


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
# Half: a real trust's phone numbers and personal addresses (~730 of 1,000, a quarter blank) cost
# more as a set of their 65k distinct texts than normalised all, 4,096 at a time (100k trust:
# ~30 -> ~12 ms each); dates of birth (~340) less.
_SAMPLE = 1000
_MOSTLY_DISTINCT = 500


# A mostly distinct column kept to the texts looked for is normalised this many cells at a time.
_CHUNK = 4096


# A mostly distinct column of ASCII texts is looked up this many cells at a time (`_ascii_kept`).
_ASCII_CHUNK = 16384


class _Sieve:
    """What an ASCII text's length and first and last characters must be for it to be one of
    some texts (a cheap test of every cell at once before the exact lookup of those that pass),
    worked out when first asked (`tables`)."""

    def __init__(self, texts: Collection[str]) -> None:
        self._texts = texts
        self._tables: tuple[int, np.ndarray] | None = None

    def tables(self) -> tuple[int, np.ndarray]:
        """`cap`: lengths from it on are none of the texts'; and whether some text has each
        `_Sieve.mark` (several lengths share a mark: the lookup tells them apart)."""
        if self._tables is None:
            marks = [(len(t), ord(t[0]), ord(t[-1])) for t in self._texts if t and t.isascii()]
            cap = max((m[0] for m in marks), default=0) + 1
            seen = np.zeros(64 * 128 * 128, dtype=bool)
            if marks:
                a = np.array(marks, dtype=np.int64)
                seen[self.mark(a[:, 0], a[:, 1], a[:, 2])] = True
            self._tables = cap, seen
        return self._tables

    @staticmethod
    def mark(length: np.ndarray, first: np.ndarray, last: np.ndarray) -> np.ndarray:
        """A number below 64 * 128 * 128 of each length (mod 64) and first and last character
        (ASCII codes)."""
        return ((length & 63) << 14) | (first << 7) | last


def _ascii_kept(cells: list[str], keep: set[str], sieve: _Sieve) -> set[str] | None:
    """`keep.intersection(_normalised(cells))` for texts (`str`; TypeError at any other cell)
    that are ASCII without whitespace and without the glue, None for others: each text's
    `_norm` is then its `lower()`, a slice of the joined texts lowered at once, and only the
    slices whose length and first and last characters some kept text has (`sieve`) are made
    and looked up (issue 7: no new text for most cells)."""
    joined = _GLUE.join(cells)
    if not joined.isascii() or any(space in joined for space in _ASCII_SPACES):
        return None
    lowered = joined.lower()
    codes = np.frombuffer(lowered.encode("ascii"), dtype=np.uint8)
    glue = np.flatnonzero(codes == 0)
    if len(glue) != len(cells) - 1:  # a text holds the glue itself
        return None
    starts = np.empty(len(cells), dtype=np.int64)
    stops = np.empty(len(cells), dtype=np.int64)
    starts[0], starts[1:] = 0, glue + 1
    stops[:-1], stops[-1] = glue, len(codes)
    lengths = stops - starts
    full = lengths > 0
    starts, stops = starts[full], stops[full]
    cap, seen = sieve.tables()
    length = lengths[full]
    mark = _Sieve.mark(length, codes[starts].astype(np.int64), codes[stops - 1].astype(np.int64))
    maybe = (length < cap) & seen[mark]
    found = {
        text
        for a, z in zip(starts[maybe].tolist(), stops[maybe].tolist(), strict=True)
        if (text := lowered[a:z]) in keep
    }
    if "" in keep and not full.all():
        found.add("")
    return found


def _column_norms(
    column: pd.Series, keep: set[str] | None = None, sieve: _Sieve | None = None
) -> Collection[str]:
    """`_normalised` of the distinct texts of `column.dropna().astype(str)`, as a set; or, for
    a column of texts only that is mostly distinct, of every cell (the same texts, repeated).
    With `keep`, only those of its texts (a set): a mostly distinct column is then normalised
    `_CHUNK` cells at a time, each chunk's texts dropped once looked up (issue 7: 100k new texts
    at once were fresh memory, each page of it faulted in), or, where ASCII without whitespace,
    `_ASCII_CHUNK` cells at a time by `_ascii_kept` (`sieve`: `_Sieve(keep)`, if already made)."""
    if column.dtype != object:
        found = set(_normalised(list(_distinct_texts(column))))
        return found if keep is None else found & keep
    cells = column.tolist()  # (once for both ways)
    if len(cells) > 2 * _SAMPLE and len(set(cells[:_SAMPLE])) > _MOSTLY_DISTINCT:
        try:
            if keep is None:
                return _normalised(cells)
            if sieve is None:
                sieve = _Sieve(keep)
            kept: set[str] = set()
            for start in range(0, len(cells), _ASCII_CHUNK):
                part = cells[start : start + _ASCII_CHUNK]
                try:
                    kept |= _kept_of(part, keep, sieve)
                except TypeError:
                    # A chunk with missing cells (the round tabs' rows stacked under the
                    # pupils': issue 7, each column then read whole as distinct texts, ~0.5 s
                    # a night): its texts alone, as `dropna` leaves them, when every other
                    # cell is missing; else (a number, say) the column as below.
                    texts = [c for c in part if type(c) is str]
                    if not all(_missing(c) for c in part if type(c) is not str):
                        raise
                    kept |= _kept_of(texts, keep, sieve)
            return kept
        except TypeError:  # not texts and missing cells only (a number, say): as below
            pass
    found = set(_normalised(list(_distinct_texts(column, cells))))
    return found if keep is None else found & keep


def _kept_of(texts: list[str], keep: set[str], sieve: _Sieve) -> set[str]:
    """`keep.intersection(_normalised(texts))` (`_column_norms`' chunk of `_ASCII_CHUNK` cells):
    by `_ascii_kept`, or `_CHUNK` texts at a time; TypeError at a cell that is no `str`."""
    found = _ascii_kept(texts, keep, sieve)
    if found is not None:
        return found
    kept: set[str] = set()
    for at in range(0, len(texts), _CHUNK):
        kept |= keep.intersection(_normalised(texts[at : at + _CHUNK]))
    return kept


def _missing(cell: object) -> bool:
    """Whether `dropna` drops this cell of an object column (None, NaN, pd.NA, NaT, ...)."""
    return bool(pd.api.types.is_scalar(cell) and pd.isna(cell))


def _distinct_texts(column: pd.Series, cells: list[Any] | None = None) -> set[str]:
    """The distinct texts of `column.dropna().astype(str)` (`cells`: `column.tolist()` if
    already made)."""
    if column.dtype == object:
        if cells is None:
            cells = column.tolist()
        one = _one_text(cells)
        if one is not None:
            return {one}
        try:
            distinct = set(cells)
        except TypeError:  # unhashable cells
            pass
        else:
            if set(map(type, distinct)) <= {str}:  # texts only (no missing cells)
                return distinct
            # Texts and missing cells (round rows stacked under the pupils': issue 7, each
            # column dropped and converted whole, ~0.25 s a night): `dropna` leaves the texts.
            if all(_missing(c) for c in distinct if type(c) is not str):
                return {c for c in distinct if type(c) is str}
    return set(column.dropna().astype(str).tolist())


def _one_text(cells: list[Any]) -> str | None:
    """The text of a column whose every cell is one and the same `str` (many of the later
    checks' columns are blank throughout), found without hashing each cell: the first cell,
    a `str`, with every cell equal to it (`list.count`, each cell it or `==` it); else None.
    (A set of the cells would hold that first cell alone too, `str` equal to it hashing alike.)
    """
    if not cells or type(cells[0]) is not str:
        return None
    first = cells[0]
    try:
        if any(c != first for c in cells[:: max(1, len(cells) // 64)]):
            return None  # (a few cells looked at first: most columns differ at once)
        return first if cells.count(first) == len(cells) else None
    except (TypeError, ValueError):  # a cell `==` cannot judge (pd.NA, an array): as before
        return None


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


def _substrings(cells: set[str], lengths: set[int]) -> set[str]:
    """Every substring of the cells of one of `lengths` (at least 2 long)."""
    return {
        cell[i : i + n]
        for cell in cells
        for n in lengths
        if 2 <= n <= len(cell)
        for i in range(len(cell) - n + 1)
    }


def _pupil_values(
    pupil_frame: pd.DataFrame, vocab: set[str], cells: set[str]
) -> tuple[dict[str, str], dict[str, str], dict[str, str]]:
    """The pupil values (normalised, each with the first column holding it) that could match a
    normalised summary cell in `cells`: (strong values, names, free texts).

    `_check_values` finds a value only when it is a whole cell (names, free text) or inside one
    (strong values, full names), and only ever reports the first column that holds it; so the
    values in no cell and the order of values within a column change nothing and are left out.
    """
    kinds = _identifying_columns(pupil_frame)
    every_length = sum(len(cell) * (len(cell) - 1) // 2 for cell in cells) <= _INSIDE_LIMIT
    if every_length:
        # Every substring is listed first, so each column need only keep the texts found among
        # them or the cells (what the lookups below intersect it with).
        inside = _substrings(cells, set(range(2, max(map(len, cells), default=0) + 1)))
        keep = inside | cells
        sieve = _Sieve(keep)
        per_column = [
            (col, kind, _column_norms(pupil_frame[col], keep, sieve)) for col, kind in kinds.items()
        ]
    else:  # only the lengths of the values looked for inside cells
        per_column = [(col, kind, _column_norms(pupil_frame[col])) for col, kind in kinds.items()]
        lengths: set[int] = set()
        for _col, kind, texts in per_column:
            if kind == "strong":
                lengths |= set(map(len, texts))
            elif kind == "name":
                lengths |= {len(v) for v in texts if " " in v}
        inside = _substrings(cells, lengths)
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
    distinct = set().union(*(column for columns in texts.values() for _, column in columns))
    cells = set(_normalised(sorted(distinct))) - {""}
    strong, names, free = _pupil_values(pupil_frame, vocab, cells)

    lookups = _value_lookups(strong, names)
    usable = {n: t for n, t in tables.items() if set(TABLE_COLUMNS) <= set(t.columns)}
    joint = _joint(usable) if usable else None
    clean: set[str] = set()
    if joint is not None:
        raw = {k: _texts_of(joint[k]) for k in KEY_COLUMNS}
        columns = {k: v if texts else [str(x) for x in v] for k, (v, texts) in raw.items()}
        table_cells, eqs = _shared_cells(columns)
        if all(texts for k, (_v, texts) in raw.items() if k != "entry"):
            clean = _clean_tables(usable, table_cells, joint, policy)
    for tname, table in tables.items():
        extra = [c for c in table.columns if c not in TABLE_COLUMNS]
        for c in extra:
            breaches.append(Breach("column", tname, str(c), "column is not part of a summary"))
        if tname not in clean:
            breaches.extend(_check_counts(tname, table, policy))
        breaches.extend(
            _check_values(tname, table, strong, names, free, lookups=lookups, texts=texts[tname])
        )
    if joint is not None:
        shut = np.array([isinstance(n, str) for n in joint["count"].tolist()], dtype=bool)
        link_ids = _shared_link_ids(table_cells, links)
        hidden = np.unique(table_cells.cell[shut])
        found: set[int] = set()
        # The tables as the suppression left them: it stopped where no hidden cell is determined.
        if not _settled(table_cells, eqs, link_ids, hidden):
            system = _System(*_joined(eqs, link_ids), table_cells.m)
            for i in hidden.tolist():
                system.hide(i)
            found = system.determined()
        for i in sorted(found):
            k = table_cells.keys[i]
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


def _clean_tables(
    usable: Mapping[str, pd.DataFrame],
    cells: _Cells,
    joint: pd.DataFrame,
    policy: SuppressionPolicy,
) -> set[str]:
    """The tables (`usable`, stacked in `joint`, whose cells are `cells`) `_check_counts` finds
    no breach in, judged at once (`_rows_at_risk` of the joint rows, each table's rows in
    turn), for tables whose key columns hold texts (`_texts_of`; the caller checks all but the
    entries, which are the tables' before their names are added), so the joint's cells are the
    tables' own cells told apart by table (two tables' cells are one only if a name holds the
    separator: both tables are then judged row by row)."""
    if not all(_texts_of(t["entry"])[1] for t in usable.values()):
        return set()
    counts, pcts = joint["count"].to_numpy(dtype=object), joint["percent"].to_numpy(dtype=object)
    risk = _rows_at_risk(cells, counts, pcts, policy)
    clean: set[str] = set()
    start = 0
    for name, table in usable.items():
        end = start + len(table)
        if not risk[start:end].any():
            clean.add(name)
        start = end
    return clean


def _where(k: CellKey) -> str:
    return " / ".join(k)


def _check_counts(name: str, table: pd.DataFrame, policy: SuppressionPolicy) -> list[Breach]:
    if not set(TABLE_COLUMNS) <= set(table.columns):
        return [Breach("column", name, ",".join(TABLE_COLUMNS), "summary columns missing")]
    count_col = table["count"].tolist()
    pct_col = table["percent"].tolist()
    if _counts_clean(table, policy):
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


def _counts_clean(table: pd.DataFrame, policy: SuppressionPolicy) -> bool:
    """True only when `_check_counts` finds no breach in `table`, judged on whole columns
    (`_rows_at_risk`); False for a table whose key columns hold anything but texts (each its
    own `str`: keys are the texts of the cells), or for no rows."""
    names = ("school", "cohort", "entry", "group", "category")
    texts = {c: _texts_of(table[c]) for c in names}
    if not len(table) or not all(ok for _v, ok in texts.values()):
        return False
    columns = {c: v for c, (v, _ok) in texts.items()}
    counts, pcts = table["count"].to_numpy(dtype=object), table["percent"].to_numpy(dtype=object)
    return not _rows_at_risk(_Cells(columns), counts, pcts, policy).any()


_KINDS: dict[type, int] = {str: 1, int: 2, float: 3}


def _kinds(values: np.ndarray) -> np.ndarray:
    """Each value's type as a number: 1 `str`, 2 `int`, 3 `float` (each itself), else 0."""
    kinds = map(_KINDS.get, map(type, values.tolist()), itertools.repeat(0))
    return np.fromiter(kinds, dtype=np.int8, count=len(values))


def _rows_at_risk(
    cells: _Cells, counts: np.ndarray, pcts: np.ndarray, policy: SuppressionPolicy
) -> np.ndarray:
    """The rows (`cells`' rows, with these counts and percentages as object arrays) that
    `_check_counts` may flag,
    or judge row by row: a row holding a cell another row holds too, a count neither int nor
    text, a percentage neither float nor text (all rows, for a count past int64), and by the
    row loop's rules: a hidden count that is not the symbol or has a published percentage; a
    published count that is small or (a Total) below the base, whose percentage is NaN, or,
    unless it is a Total, published against a hidden Total. A table none of whose rows is
    at risk has no count breach."""
    rows = cells.rows
    count_kinds, pct_kinds = _kinds(counts), _kinds(pcts)
    shut, pct_shut = count_kinds == 1, pct_kinds == 1
    risk = ~np.isin(count_kinds, (1, 2)) | ~np.isin(pct_kinds, (1, 3))
    risk |= cells.first[cells.cell] != cells.last[cells.cell]  # a repeated key
    risk[shut] |= counts[shut] != policy.symbol
    risk |= shut & ~pct_shut
    shown = ~risk & ~shut
    try:
        n = np.zeros(rows, dtype=np.int64)
        n[shown] = counts[shown].astype(np.int64)
    except OverflowError:
        return np.ones(rows, dtype=bool)
    small = (n > 0) & (n < policy.threshold)
    if policy.suppress_zeros:
        small |= n == 0
    total = cells.total[cells.cell]
    risk |= shown & (small | (total & (n < policy.min_base)))
    pct = np.zeros(rows)
    pct_shown = shown & ~pct_shut
    pct[pct_shown] = pcts[pct_shown].astype(float)
    risk |= pct_shown & np.isnan(pct)
    group = cells.group[cells.cell]
    hidden_total = np.zeros(cells.n_groups, dtype=bool)
    hidden_total[group[total & shut]] = True
    risk |= pct_shown & ~total & hidden_total[group]
    return risk


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
