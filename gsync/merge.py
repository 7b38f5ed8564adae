"""The pure merge: one school's Form A responses into the Responses, Destinations and Exceptions frames.

`plan_sync` takes the tabs as read (frames of text keyed by template column key, see
docs/ARCHITECTURE.md "Core frames") and returns the new frames; it does no I/O, so the shell can
write the result in one atomic batchUpdate, print it for --dry-run, or throw it away. Rules:

- every response is logged in Responses (its latest submission; contact details blank without
  consent); rows are updated in place, never deleted, and new rows appended;
- per pupil per entry the latest submission wins, and an edited response is applied again;
- without consent the destination is still recorded, but no personal email or telephone is kept
  and the pupil is marked do-not-contact;
- staff-owned cells are never written; a sync-owned group of cells staff edited since the last run
  (detected through `sync_hash`, see gsync.template) is left alone and raises a `conflict`;
- unmatched, ambiguous, invalid and conflicting responses go to Exceptions under a stable id, and
  staff's `status`/`note` there are kept;
- the same input gives the same output (idempotent), and extra columns and row order are kept.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import importlib
import re
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from hashlib import blake2b
from itertools import accumulate, chain, compress, cycle, repeat
from operator import is_, itemgetter
from typing import Any, cast

import numpy as np
import pandas as pd
from pandas.api.types import infer_dtype

from gsync import mergememo
from gsync.deadlines import STAMP_RESOLVER, StampError
from gsync.matching import PupilIndex, match_one
from gsync.responses import (
    RESPONSE_COLUMNS,
    STAMPED,
    Memo,
    all_stamped,
    normalise_rows,
    timestamp,
)
from gsync.template import (
    CONTACT,
    ENTRY_GROUP,
    HASH_GROUPS,
    IDENTITY,
    SUSTAINED,
    SUSTAINED_TAB,
    SYNC_ENTRY_FIELDS,
    Tab,
    Template,
    format_sync_hash,
    load_template,
    parse_sync_hash,
    set_group_hash,
    values_hash,
)

EntryFor = Callable[[dt.datetime, int], "str | None"]
FRAME_TABS: tuple[str, ...] = ("destinations", "responses", "contacts", "exceptions")
RESOLVED = "no longer applies (the response was edited or the roster updated)"


def default_entry_for(submitted: dt.datetime, leaving_year: int) -> str | None:
    """Which entry a Form A submission fills, until the deadlines rules (issue 5) replace this.

    Before 1 September of the leaving year: the current leavers' intended destination; from then
    to 30 September: the (past leavers') intended destination; later: the actual destination,
    unvalidated. The validated actual destination comes only from staff or the local authority.
    """
    day = submitted.date()
    if day < dt.date(leaving_year, 9, 1):
        return "current_intended"
    if day <= dt.date(leaving_year, 9, 30):
        return "intended"
    return "actual_unvalidated"


@dataclass(frozen=True)
class SyncPlan:
    """The new frames (every tab passed in, changed or not), counts, and a readable change list.

    `by_school`: each school's counts (`plan_sync_many`); `counts` is their total. `memo`: each
    merged school's memo text for the state tab (gsync.mergememo; "" for none), when asked for;
    `reused`: per school merged from its memo, how many logged responses were not merged again."""

    tabs: dict[str, pd.DataFrame]
    counts: dict[str, int] = field(default_factory=dict)
    changes: list[str] = field(default_factory=list)
    by_school: dict[str, dict[str, int]] = field(default_factory=dict)
    memo: dict[str, str] = field(default_factory=dict)
    reused: dict[str, int] = field(default_factory=dict)


# --- frames as rows ---------------------------------------------------------------------------------


def _cell(value: object) -> str:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return ""
    return str(value)


class _Table:
    """A tab's frame as text columns for one run; rows are read and written cell by cell.

    Every cell is text (`_cell`), the template's columns are ensured (appended when missing) and
    extra columns kept in place. A row becomes a dict only when the merge reads it, and `frame()`
    builds the result from the columns plus the cells written (issue 7: turning every row of the
    trust into a dict and back was O(rows x columns) per run, most of a steady night).
    """

    def __init__(self, frame: pd.DataFrame | None, tab: Tab) -> None:
        frame = frame if frame is not None else pd.DataFrame()
        self.columns = [str(c) for c in frame.columns]
        for key in tab.keys:
            if key not in self.columns:
                self.columns.append(key)
        self.at = {c: j for j, c in enumerate(self.columns)}
        self._names = frozenset(self.columns)
        self._blank = dict.fromkeys(self.columns, "")  # an appended row before its cells
        present = set(frame.columns)
        self.n = len(frame)
        self._arrays: dict[str, np.ndarray] = {
            c: _text_array(frame[c]) for c in self.columns if c in present
        }
        self._lists: dict[str, list[str]] = {}
        self._tuples: dict[tuple[str, ...], list[tuple[str, ...]]] = {}
        self._edits: dict[int, dict[str, str]] = {}  # cells written in the frame's rows
        # Cells written column by column (`write_columns`), not yet in `_edits`: per block,
        # the rows, the keys and each key's cells; and the rows of all blocks.
        self._blocks: list[tuple[list[int], tuple[str, ...], list[Sequence[str]]]] = []
        self._blocked: set[int] = set()
        self._whole: set[int] = set()  # rows whose `edits` dict is the whole row (`row`)
        # Rows appended: a dict of every column each, or None for a row held in an appended
        # block (`add_block`) until it is asked for as a dict (`_appended`).
        self.added: list[dict[str, str] | None] = []
        # The appended blocks, in order: (first, end) as indexes into `added`, the school, the
        # other cells' column -> position, and those cells (a row per appended row).
        self._appended_blocks: list[tuple[int, int, str, dict[str, int], np.ndarray]] = []
        self._block_starts: list[int] = []
        self._by_school: dict[str, list[int]] | None = None
        self.written: set[str] = set()  # the school cells of the rows written (before and after)
        self.recent: set[str] = set()  # the same, since `_Memos.merged` last cleared it

    def __len__(self) -> int:
        return self.n + len(self.added)

    @property
    def edits(self) -> dict[int, dict[str, str]]:
        """The cells written in the frame's rows: row -> a dict of them, in the order written."""
        if self._blocks:
            self._flush()
        return self._edits

    def _flush(self) -> None:
        """The blocks' cells into `_edits`: a dict per row, in the block's keys' order."""
        edits = self._edits
        for rows, keys, columns in self._blocks:
            rows_cells = zip(*columns, strict=True)
            edits.update(zip(rows, map(dict, map(partial(zip, keys), rows_cells)), strict=True))
        self._blocks.clear()
        self._blocked.clear()

    def is_written(self, i: int) -> bool:
        """Whether cells of the frame's row i were written."""
        return i in self._edits or i in self._blocked

    def edited(self, i: int) -> dict[str, str] | None:
        """`edits.get(i)` (blocks put in `edits` only when they hold row i)."""
        if i in self._blocked:
            self._flush()
        return self._edits.get(i)

    def _appended(self, j: int) -> dict[str, str]:
        """Appended row j (an index into `added`) as its dict, made from its block if need be
        (the dict then holds the row's cells)."""
        row = self.added[j]
        if row is None:
            first, _, school, at, cells = self._block_of(j)
            values = cells[j - first]
            row = {c: school if c == "school" else values[at[c]] for c in self.columns}
            self.added[j] = row
        return row

    def _block_of(self, j: int) -> tuple[int, int, str, dict[str, int], np.ndarray]:
        """The appended block holding appended row j (one not made a dict)."""
        return self._appended_blocks[bisect_right(self._block_starts, j) - 1]

    def _added_cell(self, j: int, key: str) -> str:
        """A cell of appended row j ("" for a column the tab does not have)."""
        row = self.added[j]
        if row is not None:
            return row.get(key, "")
        first, _, school, at, cells = self._block_of(j)
        if key == "school":
            return school
        k = at.get(key)
        return "" if k is None else cast(str, cells[j - first, k])

    def column(self, key: str) -> list[str]:
        """The frame's cells of one column as text (as read: cells written since not included;
        blanks for a column the tab does not have)."""
        got = self._lists.get(key)
        if got is None:
            array = self._arrays.get(key)
            got = array.tolist() if array is not None else [""] * self.n
            self._lists[key] = got
        return got

    def array(self, key: str) -> np.ndarray | None:
        """The frame's cells of one column as read, as an object array of text (`column`'s
        cells; None for a column the tab does not have): `mergememo.ArrayCells`."""
        return self._arrays.get(key)

    def get(self, i: int, key: str) -> str:
        """One cell as it now is ("" for a column the tab does not have)."""
        if i >= self.n:
            return self._added_cell(i - self.n, key)
        edited = self.edited(i) if self._blocks else self._edits.get(i)
        if edited is not None and key in edited:
            return edited[key]
        column = self._lists.get(key)
        return (column if column is not None else self.column(key))[i]

    def row(self, i: int) -> dict[str, str]:
        """Row i as a dict of every cell, kept as the row: writing into it writes the row
        (a school cell written this way is not followed by `by_school`)."""
        if i >= self.n:
            return self._appended(i - self.n)
        edited = self.edits.get(i)
        if i in self._whole:
            assert edited is not None
            return edited
        full = {c: self.get(i, c) for c in self.columns}
        if edited is not None:
            full.update(edited)  # cells outside the tab's columns written earlier
        self.edits[i] = full
        self._whole.add(i)
        return full

    def cells(self, i: int, keys: tuple[str, ...]) -> dict[str, str]:
        """A copy of some cells of a row as they now are."""
        if i >= self.n:
            return {k: self._added_cell(i - self.n, k) for k in keys}
        out = dict(zip(keys, self.tuples(keys)[i], strict=True))
        edited = self.edits.get(i)
        if edited is not None:
            out.update((k, v) for k, v in edited.items() if k in out)
        return out

    def nonblank(self, positions: Sequence[int], key: str) -> list[int]:
        """The positions whose cell `key` is not blank, in order."""
        column, n, edits = self.column(key), self.n, self.edits
        return [
            i for i in positions if (column[i] if i < n and i not in edits else self.get(i, key))
        ]

    def pick(self, positions: Sequence[int], key: str) -> Sequence[str]:
        """One column's cells at `positions` as they now are (`get` of each)."""
        if not positions:
            return []
        if max(positions) < self.n and self.edits.keys().isdisjoint(positions):
            column = self.column(key)
            if len(positions) == 1:
                return [column[positions[0]]]
            return itemgetter(*positions)(column)
        return [self.get(i, key) for i in positions]

    def tuples(self, keys: tuple[str, ...]) -> list[tuple[str, ...]]:
        """These cells of every row of the frame as read (not the cells written since, nor
        the rows appended), as tuples in the order of `keys` (made once per set of keys)."""
        tuples = self._tuples.get(keys)
        if tuples is None:
            tuples = self._tuples[keys] = list(zip(*(self.column(k) for k in keys), strict=True))
        return tuples

    def cell_tuple(self, i: int, keys: tuple[str, ...]) -> tuple[str, ...]:
        """`cells` as a tuple in the order of `keys` (no dict made for an unedited row)."""
        if i >= self.n:
            return tuple([self._added_cell(i - self.n, k) for k in keys])
        tuples = self.tuples(keys)
        edited = self.edits.get(i)
        if edited is None:
            return tuples[i]
        get = edited.get
        return tuple([get(k, v) for k, v in zip(keys, tuples[i], strict=True)])

    def cell_tuples(self, positions: Sequence[int], keys: tuple[str, ...]) -> list[tuple[str, ...]]:
        """`cell_tuple` of each position (without every row's tuple for a few positions)."""
        if keys not in self._tuples and len(positions) * 16 < self.n:
            return self._few_tuples(positions, keys)
        tuples = self.tuples(keys)
        n, edits = self.n, self.edits
        return [
            tuples[i] if i < n and i not in edits else self.cell_tuple(i, keys) for i in positions
        ]

    def _few_tuples(self, positions: Sequence[int], keys: tuple[str, ...]) -> list[tuple[str, ...]]:
        """`cell_tuple` of each position, the frame's rows as read taken from the columns'
        arrays where not made lists (no column made a list for a few rows)."""
        n, lists, arrays = self.n, self._lists, self._arrays
        columns = [lists.get(k) if k in lists else arrays.get(k) for k in keys]
        out = []
        for i in positions:
            if i >= n or i < 0 or self.is_written(i):
                out.append(tuple([self.get(i, k) for k in keys]))
            else:
                out.append(tuple([c[i] if c is not None else "" for c in columns]))
        return out

    def update(self, i: int, values: Mapping[str, str]) -> None:
        """Write cells of a row (a row's dict `update`)."""
        school = self.get(i, "school")
        self.written.add(school)
        self.recent.add(school)
        moved = "school" in values and values["school"] != school
        if moved:
            self.written.add(values["school"])
            self.recent.add(values["school"])
        if moved and self._by_school is not None:
            self._by_school = None  # a row moved school: index again when next asked
        if i >= self.n:
            self._appended(i - self.n).update(values)
        else:
            self.edits.setdefault(i, {}).update(values)

    def write(self, i: int, cells: dict[str, str]) -> None:
        """`update` of row i with `cells` (not the school's), a new dict the table keeps."""
        n = self.n
        if i >= n:
            school = self.get(i, "school")
            self._appended(i - n).update(cells)
        else:
            edited = self.edits.get(i)
            if edited is None:  # the row as read: its school cell as read
                school = self.column("school")[i]
                self.edits[i] = cells
            else:
                school = self.get(i, "school")
                edited.update(cells)
        self.written.add(school)
        self.recent.add(school)

    def write_columns(
        self, rows: list[int], keys: tuple[str, ...], columns: list[Sequence[str]]
    ) -> None:
        """`write` of each of the frame's rows `rows` (none written before; distinct) with
        cells `keys` (distinct, not the school's), `columns[k][j]` the cell `keys[k]` of row
        `rows[j]`: kept as columns until a row's dict is asked for (`edits`)."""
        n = len(rows)
        if (
            len(set(rows)) != n
            or (self._edits and not self._edits.keys().isdisjoint(rows))
            or (self._blocked and not self._blocked.isdisjoint(rows))
            or (rows and (max(rows) >= self.n or min(rows) < 0))
            or len(set(keys)) != len(keys)
            or "school" in keys
            or len(columns) != len(keys)
            or any(len(c) != n for c in columns)
        ):
            raise ValueError("write_columns: rows written before, appended or repeated, or cells")
        if not n:
            return
        self._blocks.append((rows, keys, columns))
        self._blocked.update(rows)
        schools = set(map(self.column("school").__getitem__, rows))
        self.written.update(schools)
        self.recent.update(schools)

    def append(self, values: Mapping[str, str]) -> int:
        """Append a row (template cells blank, `values` in the tab's columns); its position."""
        if values.keys() <= self._names:  # the same dict, in the columns' order
            row = self._blank.copy()
            row.update(values)
        else:
            get = values.get
            row = {c: get(c, "") for c in self.columns}
        return self.add_row(row)

    def add_row(self, row: dict[str, str]) -> int:
        """Append `row`, a dict of every column's cell, in any order (kept as the
        row); its position."""
        added = self.added
        added.append(row)
        school = row["school"]
        self.written.add(school)
        self.recent.add(school)
        i = self.n + len(added) - 1
        if self._by_school is not None:
            self._by_school.setdefault(school, []).append(i)
        return i

    def add_block(self, school: str, keys: Sequence[str], cells: np.ndarray) -> None:
        """Append rows whose school is `school` and whose other cells are `cells` (an object
        array, a row per row appended, a column per key of `keys`: every column of the tab
        but the school, once each); kept as the block until a row's dict is asked for."""
        if "school" in keys or set(keys) != self._names - {"school"} or len(set(keys)) != len(keys):
            raise ValueError("add_block: the cells are not every column but the school, once")
        m = len(cells)
        if not m:
            return
        start, first = len(self), len(self.added)
        self.added.extend([None] * m)
        self._appended_blocks.append(
            (first, first + m, school, {k: j for j, k in enumerate(keys)}, cells)
        )
        self._block_starts.append(first)
        self.written.add(school)
        self.recent.add(school)
        if self._by_school is not None:
            self._by_school.setdefault(school, []).extend(range(start, len(self)))

    def blank_row(self) -> dict[str, str]:
        """A new dict of every column's cell, blank, in the columns' order."""
        return self._blank.copy()

    def by_school(self) -> dict[str, list[int]]:
        """School cell -> positions of its rows, in order (kept up to date with appends)."""
        if self._by_school is None:
            if not self.edits:  # the frame's rows as read
                index = self.index("school")
            else:
                index = {}
                add, edits = index.setdefault, self.edits
                for i, school in enumerate(self.column("school")):  # `get` of the frame's rows
                    add(school if i not in edits else self.get(i, "school"), []).append(i)
            add = index.setdefault
            for i in range(self.n, len(self)):
                add(self.get(i, "school"), []).append(i)
            self._by_school = index
        return self._by_school

    def index(self, key: str) -> dict[str, list[int]]:
        """Cell -> the positions of the frame's rows holding it, in order, as read (not the
        cells written since, nor the rows appended); a new dict of new lists."""
        array = self._arrays.get(key)
        if array is None:
            return {"": list(range(self.n))} if self.n else {}
        return _runs_index(array, self.column(key))

    def frame(self) -> pd.DataFrame:
        """The rows as they now are: every cell text, object dtype, a fresh range index."""
        with _small_pages():
            return self._frame()

    def _frame(self) -> pd.DataFrame:
        total = len(self)
        if not total:
            return pd.DataFrame([], columns=self.columns, dtype=object)
        # Column-major, so the frame's one block is this array (no copy).
        out = np.empty((len(self.columns), total), dtype=object)
        n, added = self.n, self.added
        for j, c in enumerate(self.columns):
            array = self._arrays.get(c)
            out[j, :n] = array if array is not None else ""
        if added:
            self._frame_appended(out)
        for block_rows, block_keys, block_cells in self._blocks:  # rows `_edits` does not hold
            into = np.asarray(block_rows, dtype=np.intp)
            for key, column in zip(block_keys, block_cells, strict=True):
                if key in self.at:
                    out[self.at[key], into] = column
        # The cells written, for the rows written in the same cells at once (each cell of the
        # frame is written at most once: the rows are distinct, and so are a row's keys).
        shapes: dict[tuple[str, ...], list[int]] = {}
        edits, at = self._edits, self.at
        for i, shape in zip(edits, map(tuple, edits.values()), strict=True):
            rows = shapes.get(shape)
            if rows is None:
                shapes[shape] = [i]
            else:
                rows.append(i)
        for shape, rows in shapes.items():
            picked = [(k, at[c]) for k, c in enumerate(shape) if c in at]
            if not picked:
                continue
            # A row's cells in its dict's order, which is `shape`.
            cells = _cell_block([edits[i] for i in rows], shape, in_order=True)
            ks, places = zip(*picked, strict=True)
            out[np.ix_(places, rows)] = cells[:, ks].T
        return pd.DataFrame(out.T, columns=self.columns, dtype=object, copy=False)

    def _frame_appended(self, out: np.ndarray) -> None:
        """The appended rows' cells into `out` (a row per column): the blocks' column by
        column, then the rows held as dicts, row by row into one block (rows are far apart)."""
        n, added, columns = self.n, self.added, self.columns
        if not self._appended_blocks:
            out[:, n:] = _cell_block(cast("list[dict[str, str]]", added), columns).T
            return
        for first, end, school, at, cells in self._appended_blocks:
            for j, c in enumerate(columns):
                out[j, n + first : n + end] = school if c == "school" else cells[:, at[c]]
        dicts = [j for j, row in enumerate(added) if row is not None]
        if dicts:
            rows = cast("list[dict[str, str]]", [added[j] for j in dicts])
            out[:, np.asarray(dicts, dtype=np.intp) + n] = _cell_block(rows, columns).T


def _madvise_setter() -> Callable[[bool], bool] | None:
    """numpy's switch of its huge-page advice (`_set_madvise_hugepage`: sets it, returns what
    it was), if this numpy has one."""
    for name in ("numpy._core.multiarray", "numpy.core.multiarray"):
        try:
            module = importlib.import_module(name)
        except ImportError:
            continue
        setter = getattr(module, "_set_madvise_hugepage", None)
        if callable(setter):
            return cast("Callable[[bool], bool]", setter)
    return None


_MADVISE = _madvise_setter()


@contextmanager
def _small_pages() -> Iterator[None]:
    """numpy's arrays made meanwhile without its advice to back them with huge pages (numpy
    madvises MADV_HUGEPAGE for arrays of 4 MB and more): on the VMs the sync runs on, a fresh
    block of the frames' size costs several times the CPU to fault in as huge pages as it does
    in small ones (100k steady night: the merge's `frames` 0.14-0.16 -> 0.05 s). The advice is
    numpy's process-wide setting: put back as it was on the way out."""
    if _MADVISE is None:
        yield
        return
    before = _MADVISE(False)
    try:
        yield
    finally:
        _MADVISE(before)


def _cell_block(
    rows: list[dict[str, str]], keys: Sequence[str], *, in_order: bool = False
) -> np.ndarray:
    """The cells `keys` of each row dict as an object array, a row per dict, a column per key
    (each cell one element, a cell that is a sequence too). `in_order`: every dict's keys are
    `keys`, in order (its values are the cells)."""
    width = len(keys)
    cells: Iterable[object]
    if in_order:
        cells = chain.from_iterable(map(dict.values, rows))
    elif width == 1:
        cells = (row[keys[0]] for row in rows)
    else:
        cells = chain.from_iterable(map(itemgetter(*keys), rows))
    return np.fromiter(cells, dtype=object, count=len(rows) * width).reshape(len(rows), width)


def _runs_index(array: np.ndarray, cells: list[str]) -> dict[str, list[int]]:
    """Cell -> the positions holding it, in order, keys in order of first appearance (a dict
    of lists built over the cells in order), found run by run of equal neighbours (`array`:
    the cells `cells` as an object array)."""
    n = len(cells)
    if not n:
        return {}
    cut = (np.flatnonzero(array[1:] != array[:-1]) + 1).tolist()
    index: dict[str, list[int]] = {}
    for start, end in zip([0, *cut], [*cut, n], strict=True):
        got = index.get(cells[start])
        if got is None:
            index[cells[start]] = list(range(start, end))
        else:
            got.extend(range(start, end))
    return index


def _text_array(column: pd.Series) -> np.ndarray:
    """A column's cells as `_cell` text in an object array (the array itself when all are text)."""
    if column.dtype == object:
        values = column.to_numpy()
        # pandas' C check that every cell is text (5x faster than a loop over the cells); a str
        # subclass such as numpy.str_, which no reader produces, would stay as is (equal text).
        if infer_dtype(values, skipna=False) == "string":
            return values
    texts = [_cell(v) for v in column.tolist()]
    out = np.empty(len(texts), dtype=object)
    out[:] = texts
    return out


def _stable_id(kind: str, *parts: str) -> str:
    digest = hashlib.blake2b("\x1f".join(parts).encode("utf-8"), digest_size=6).hexdigest()
    return f"{kind}-{digest}"


def _parse_time(text: str) -> dt.datetime | None:
    try:
        parsed = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


# --- the plan ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SchoolInput:
    """One school's part of a run: its name, Form A responses as listed, and question map."""

    school: str
    raw_responses: list[dict[str, Any]]
    question_map: Mapping[str, str]


_COUNT_KEYS = (
    "new",
    "updated",
    "unchanged",
    "applied",
    "conflicts",
    "exceptions",
    "unmatched",
    "ambiguous",
    "invalid",
)


def plan_sync(
    tabs: Mapping[str, pd.DataFrame],
    raw_responses: list[dict[str, Any]],
    *,
    school: str,
    question_map: Mapping[str, str],
    entry_for: EntryFor = default_entry_for,
    now: dt.datetime,
    template: Template | None = None,
) -> SyncPlan:
    """Merge one school's responses into the tabs (keyed by template tab key); pure and idempotent.

    `question_map` maps Form A keys to the form's question ids. Responses already in the Responses
    log but missing from `raw_responses` still count (so a partial read never undoes a newer one).
    A one-school `plan_sync_many`.
    """
    return plan_sync_many(
        tabs,
        [SchoolInput(school, raw_responses, question_map)],
        entry_for=entry_for,
        now=now,
        template=template,
    )


def plan_sync_many(
    tabs: Mapping[str, pd.DataFrame],
    schools: Sequence[SchoolInput],
    *,
    entry_for: EntryFor = default_entry_for,
    now: dt.datetime,
    template: Template | None = None,
    memo: Mapping[str, str] | None = None,
    memo_key: str | None = None,
) -> SyncPlan:
    """Merge several schools' responses, school after school, in one pass over the tabs.

    The same tabs, counts and changes as calling `plan_sync` school by school (each on the
    previous one's tabs), but the trust's tabs are turned into rows once and back into frames
    once (issue 7: per-school conversions made the merge O(schools x rows)). `counts` holds the
    totals and `by_school` each school's.

    `memo_key` (what decides entries besides the rows: the rules and term dates, as text) asks
    for each school's memo in `SyncPlan.memo`; `memo` holds the memos the last run left (school
    -> text, gsync.mergememo). A school whose rows are as its memo says is merged from it: the
    same result, working only on its new and edited responses and the pupils they touch.
    """
    run = _Run(tabs, template or load_template())
    if memo_key is not None:
        run.memos = _Memos(run, memo_key, memo or {}, [s.school for s in schools])
    counts = dict.fromkeys(_COUNT_KEYS, 0)
    changes: list[str] = []
    by_school: dict[str, dict[str, int]] = {}
    for sch in schools:
        got = run.merge(sch, entry_for, now, changes)
        if run.memos is not None:
            run.memos.merged(sch.school)
        by_school[sch.school] = got
        for key, value in got.items():
            counts[key] = counts.get(key, 0) + value
    frames = run.frames(tabs)
    memos = run.memos
    # The memos refer to the run: let go of the run's rows when this returns, not at the next
    # collection (the sync runs with the cyclic collector paused, gsync/batchgc.py).
    run.memos = None
    return SyncPlan(
        tabs=frames,
        counts=counts,
        changes=changes,
        by_school=by_school,
        memo=memos.left(frames) if memos is not None else {},
        reused=dict(memos.reused) if memos is not None else {},
    )


class _Run:
    """The tabs as `_Table`s for one run, with the indexes the merge looks rows up by.

    Each index gives what a fresh scan of the rows would at that moment: rows are only ever
    appended (and the indexes updated with them), and the merge never rewrites a key cell of
    Destinations or Sustained; Responses and Exceptions rows are found by school through
    `_Table.by_school`, which follows appends and a row's school being rewritten.
    """

    def __init__(self, tabs: Mapping[str, pd.DataFrame], template: Template) -> None:
        self.template = template
        self.dest = _Table(tabs.get("destinations"), template.tab("destinations"))
        # Years 1-3 checks go to the Sustained tab, but only when the caller passed it in (and
        # will write it back): otherwise such a response stays a `no_entry` exception, never lost.
        self.sustained = (
            _Table(tabs.get(SUSTAINED_TAB), template.tab(SUSTAINED_TAB))
            if SUSTAINED_TAB in tabs and any(t.key == SUSTAINED_TAB for t in template.tabs)
            else None
        )
        self.log = _Table(tabs.get("responses"), template.tab("responses"))
        self.exc = _Table(tabs.get("exceptions"), template.tab("exceptions"))
        # Destinations rows are never appended by the merge: pupil -> row, school -> rows.
        upns, years = self.dest.column("upn"), self.dest.column("leaving_year")
        self.pupil_at = (  # a dict over the rows in order: later rows win
            dict(zip(zip(upns, years, strict=True), range(len(upns)), strict=True))
            if "" not in upns
            else {(u, y): i for i, (u, y) in enumerate(zip(upns, years, strict=True)) if u}
        )
        self.school_rows = self.dest.index("school")
        self.pupils: dict[str, PupilIndex] = {}
        self._name_parts: dict[str, str | None] = {}  # `PupilIndex.from_columns`'s, all schools
        self.memo = Memo()  # phone and email verdicts, shared by the run's schools
        self._hash_text, self._hashes = "", parse_sync_hash("")  # `_parsed`'s last parse
        self._group_rows: dict[str, list[tuple[str, ...]]] = {}  # `_group_cells`' as read
        self._group_asked: dict[str, int] = {}  # `_group_cells`' calls per group
        self._filled = _Filled(self.dest)
        self.memos: _Memos | None = None  # the schools' memos, when the caller asks for them
        self._folded: list[str] | None = None  # Destinations' school emails, case folded
        # Later rows win, as in a dict built over the rows in order.
        self.log_at = _at(self.log.column("response_id"))
        self.exc_at = _at(self.exc.column("exception_id"))
        # The first Sustained row per (upn, leaving_year, check), as a scan from the top finds it.
        self.check_at: dict[tuple[str, str, str], int] = {}
        if self.sustained is not None:
            cols = (self.sustained.column(c) for c in ("upn", "leaving_year", "check"))
            for i, key in enumerate(zip(*cols, strict=True)):
                self.check_at.setdefault(_check_key(*key), i)

    def frames(self, tabs: Mapping[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
        """Every tab passed in, the merged ones as new frames (Contacts added when missing)."""
        out = dict(tabs)
        out["destinations"] = self.dest.frame()
        out["responses"] = self.log.frame()
        out["exceptions"] = self.exc.frame()
        if self.sustained is not None:
            out[SUSTAINED_TAB] = self.sustained.frame()
        if "contacts" not in out:
            out["contacts"] = _Table(None, self.template.tab("contacts")).frame()
        return out

    def pupil_index(self, school: str) -> PupilIndex:
        """The school's Destinations rows indexed for matching (their key cells never change)."""
        got = self.pupils.get(school)
        if got is None:
            columns = {c: self.dest.column(c) for c in PupilIndex.COLUMNS}
            rows = self.school_rows.get(school, [])
            got = PupilIndex.from_columns(columns, rows, school, self._name_parts)
            self.pupils[school] = got
        return got

    def merge(
        self, sch: SchoolInput, entry_for: EntryFor, now: dt.datetime, changes: list[str]
    ) -> dict[str, int]:
        """One school's responses into the rows; returns its counts, appends its changes."""
        school = sch.school
        sustained, log = self.sustained, self.log
        counts = dict.fromkeys(_COUNT_KEYS, 0)

        logged = log.nonblank(log.by_school().get(school, []), "response_id")
        fresh = _not_yet_logged(sch.raw_responses, log, logged)
        normalised = normalise_rows(fresh, sch.question_map, memo=self.memo)
        memos, conflicts = self.memos, set[mergememo.Conflict]()
        prior = memos.prior(school) if memos is not None else None
        restricted = None
        if prior is not None:  # merged from its memo: only what the new responses touch
            index = self._index_for(school, normalised, [])
            restricted = self._touched(school, logged, normalised, prior, index, counts)
        if restricted is not None:
            logged, conflicts = restricted
            index = self._index_for(school, normalised, logged)
        else:
            index = self.pupil_index(school)
        responses, read_from = _pool(normalised, log, logged)
        has_sustained = sustained is not None
        wanted: list[dict[str, str]] = []  # exceptions this run would raise
        # Per group, per (upn, leaving_year): the latest submission (ties broken by response
        # id). `responses` come in `_pool`'s order, (last submitted, response id) ascending with
        # distinct ids, so each response is later than every one before it: the last one wins.
        contact_wins: dict[tuple[str, str], dict[str, str]] = {}
        by_group: dict[str, dict[tuple[str, str], dict[str, str]]] = {}
        entry_group, parse_time = ENTRY_GROUP.get, _parse_time
        # `entry_for` of a submission time as `_parse_time` reads it, from its text, when
        # `entry_for` has that (a `deadlines.entry_resolver`) and every time is in
        # `timestamp`'s form (a stamp: a first night's, normalised); StampError: no time.
        for_stamp: Callable[[str, int], str | None] | None = getattr(
            entry_for, STAMP_RESOLVER, None
        )
        if for_stamp is not None and not all_stamped(
            list(map(itemgetter("last_submitted"), responses))
        ):
            for_stamp = None
        # `match_one` settles a response whose school email's key holds one pupil-in-cohort
        # with that key's match (the usual case): those looked up at once.
        # (A key is never blank: a blank email, looked up as `match_one` does not, finds none.)
        email_match: Iterator[Any] = map(
            index.by_email.get, map(str.casefold, map(itemgetter("respondent_email"), responses))
        )
        for r, held in zip(responses, email_match, strict=True):
            stated = r["leaving_year"]
            issues = r["issues"]
            if type(held) is not tuple:
                held = match_one(
                    r["respondent_email"], r["full_name"], r["date_of_birth"], issues, stated,
                    index,
                )  # fmt: skip
            upn, year, method, status, reason = held
            r["stated_leaving_year"] = stated
            r["upn"] = upn
            r["leaving_year"] = year
            r["match_method"] = method
            r["match_status"] = status
            r["reason"] = reason
            # The exceptions it would raise, in order (collected here, written after logging).
            # Its entry: where `entry_for` puts its submission time for the matched cohort, if
            # the merge writes that entry (or a years 1-3 check, given a Sustained tab).
            if status == "matched":
                got: str | None = None  # (no time or no cohort: no entry)
                if for_stamp is not None and year.isdigit():
                    try:
                        got = for_stamp(r["last_submitted"], int(year))
                    except StampError:  # `_parse_time` reads None
                        got = None
                else:
                    submitted = parse_time(r["last_submitted"])
                    if submitted is not None and year.isdigit():
                        got = entry_for(submitted, int(year))
                entry = str(got) if got in ENTRY_GROUP or (has_sustained and got) else ""
                r["entry"] = entry
                consent, destination = r["consent"], r["destination"]
                if consent:
                    contact_wins[upn, year] = r
                if destination and entry:
                    group = entry_group(entry)
                    key = group if group is not None else f"s:{entry}"
                    wins = by_group.get(key)
                    if wins is None:
                        wins = by_group[key] = {}
                    wins[upn, year] = r
                elif destination:
                    if issues:
                        counts["invalid"] += 1
                        wanted.append(_exception(school, "invalid", r, "problems: " + issues))
                    wanted.append(_exception(school, "no_entry", r, _NO_ENTRY))
                    continue
            else:
                r["entry"] = ""
                if status in ("unmatched", "ambiguous"):
                    counts[status] += 1
                    wanted.append(_exception(school, status, r, reason))
            if issues:
                counts["invalid"] += 1
                wanted.append(_exception(school, "invalid", r, "problems: " + issues))
        if contact_wins:
            by_group[CONTACT] = contact_wins

        _log_responses(log, responses, school, counts, self.log_at, read_from)
        if counts["new"] or counts["updated"]:
            changes.append(
                f"{school}: Responses: {counts['new']} new, {counts['updated']} updated "
                f"({counts['unchanged']} unchanged)"
            )
        self._write_pupils(school, by_group, counts, changes, conflicts, wanted)

        _raise_exceptions(self.exc, wanted, school, responses, now, counts, changes, self.exc_at)
        if memos is not None:
            memos.conflicts[school] = conflicts
        return counts

    def _write_pupils(
        self,
        school: str,
        by_group: dict[str, dict[tuple[str, str], dict[str, str]]],
        counts: dict[str, int],
        changes: list[str],
        conflicts: set[mergememo.Conflict],
        wanted: list[dict[str, str]],
    ) -> None:
        """Each pupil's winning submissions (`by_group`: group -> (upn, leaving_year) -> the
        submission) into their Destinations row and Sustained checks, pupil by pupil in the
        order of sorting the (upn, leaving_year, group) keys, which are distinct: the pupils in
        order, each pupil's groups in order (its Destinations groups before its Sustained
        checks, `_SUSTAINED_AFTER`)."""
        names = sorted(by_group)  # a pupil's groups in order: these, where it has them
        held = [by_group[g] for g in names]
        # Sorted by leaving year, then stably by UPN: the pupils' (upn, leaving_year) order
        # (the keys are distinct; two sorts on one text each beat one on pairs).
        pupils = sorted(set().union(*held), key=itemgetter(1))
        pupils.sort(key=itemgetter(0))
        n = len(pupils)
        # Each pupil's groups: a tuple of flags over `names` (few distinct), and its row (-1:
        # none, the pupil is skipped).
        has = [list(map(d.__contains__, pupils)) for d in held]
        shapes = list(zip(*has, strict=True)) if held else []
        rows = list(map(self.pupil_at.get, pupils, repeat(-1)))
        groups_of: dict[tuple[bool, ...], tuple[str, ...]] = {
            shape: tuple(compress(names, shape)) for shape in set(shapes)
        }
        # The pupils whose row is as read and whose groups written here are all blank in it
        # (`_write_pupil` of each such group is 'written', so their changes are known now and
        # their cells are made together afterwards, `_write_blank`; their rows are distinct
        # from every other pupil's here, and only their group cells are written): told apart
        # at once for a school of many pupils.
        at = np.array(rows, dtype=np.intp)
        found = at >= 0
        blank = np.zeros(n, dtype=bool)
        checks = np.zeros(n, dtype=bool)  # a pupil with a Sustained check here
        for name, flags in zip(names, has, strict=True):
            if name.startswith("s:"):
                checks |= np.array(flags, dtype=bool)
        if n >= _BATCH_AT_LEAST and n and found.any():
            row_at = np.where(found, at, 0)  # (a row of a pupil found: `found` masks the rest)
            mine = np.zeros(n, dtype=bool)  # a pupil with a Destinations group here
            filled = np.zeros(n, dtype=bool)  # one of them not blank in its row
            for name, flags in zip(names, has, strict=True):
                if not name.startswith("s:"):
                    flag = np.array(flags, dtype=bool)
                    mine |= flag
                    filled |= flag & self._filled.array(name)[row_at]
            written = np.fromiter(map(self.dest.is_written, rows), dtype=bool, count=n)
            blank = found & ~written & mine & ~filled
        # Their changes at once, in pupil order; `lines_before[k]`: of the first k of them.
        picked = np.flatnonzero(blank).tolist()
        # Per pupil's groups, its Destinations groups; and per those, their changes' labels.
        mine_of = {
            groups: tuple([g for g in groups if not g.startswith("s:")])
            for groups in groups_of.values()
        }
        labels = {
            mine: tuple(
                "contact details from the form"
                if g == CONTACT
                else f"{_GROUP_ENTRY[g]} entry from the form"
                for g in mine
            )
            for mine in mine_of.values()
        }
        blank_mine = [mine_of[groups_of[shapes[j]]] for j in picked]
        heads = map(
            "{}: Destinations row {}: ".format, repeat(school), [rows[j] + 2 for j in picked]
        )
        lines = [
            h + label for h, mine_ in zip(heads, blank_mine, strict=True) for label in labels[mine_]
        ]
        lines_before = [0, *accumulate(map(len, blank_mine))]
        counts["applied"] += len(lines)
        # The others, and the blank pupils' Sustained checks, in pupil order between theirs.
        others = np.flatnonzero(found & (~blank | checks)).tolist()
        is_blank = blank.tolist()
        done = 0  # the blank pupils' lines given so far
        tokens: dict[int, str] = {}  # id(winner) -> its source token (a winner of two groups)
        for j in others:
            pupil, row_no, groups = pupils[j], rows[j], groups_of[shapes[j]]
            if is_blank[j]:  # its lines, then its checks
                upto = lines_before[bisect_left(picked, j) + 1]
                changes += lines[done:upto]
                done = upto
                for group in groups[len(mine_of[groups]) :]:
                    self._sustained_check(
                        row_no, by_group[group][pupil], school, pupil, group, counts, changes,
                        conflicts, wanted,
                    )  # fmt: skip
                continue
            upto = lines_before[bisect_left(picked, j)]
            changes += lines[done:upto]
            done = upto
            self._write_one(
                school, pupil, row_no, groups, by_group, tokens, counts, changes, conflicts,
                wanted,
            )  # fmt: skip
        changes += lines[done:]
        if picked:
            # Grouped by their groups, in the order each first comes (`_write_blank` writes
            # them so), each group's winners looked up at once.
            members: dict[tuple[str, ...], tuple[list[tuple[str, str]], list[int]]] = {}
            for j, mine_ in zip(picked, blank_mine, strict=True):
                got = members.get(mine_)
                if got is None:
                    members[mine_] = ([pupils[j]], [rows[j]])
                else:
                    got[0].append(pupils[j])
                    got[1].append(rows[j])
            self._write_blank(
                [
                    (mine_, rows_, [list(map(by_group[g].__getitem__, who)) for g in mine_])
                    for mine_, (who, rows_) in members.items()
                ]
            )

    def _write_one(
        self,
        school: str,
        pupil: tuple[str, str],
        row_no: int,
        groups: tuple[str, ...],
        by_group: dict[str, dict[tuple[str, str], dict[str, str]]],
        tokens: dict[int, str],
        counts: dict[str, int],
        changes: list[str],
        conflicts: set[mergememo.Conflict],
        wanted: list[dict[str, str]],
    ) -> None:
        """One pupil's winning submissions of `groups` (in order) into its row at `row_no`
        (`_write_pupil`) and its Sustained checks, with their changes, conflicts and counts."""
        upn, year = pupil
        wants = []
        for group in groups:
            if group.startswith("s:"):
                break
            winner = by_group[group][pupil]
            token = tokens.get(id(winner))
            if token is None:
                token = tokens[id(winner)] = _source_token(winner)
            wants.append((group, winner, token))
        outcomes = self._write_pupil(row_no, wants) if wants else []
        for (group, winner, _), outcome in zip(wants, outcomes, strict=True):
            if outcome == "unchanged":
                continue
            label = "contact details" if group == CONTACT else f"{winner['entry']} entry"
            if outcome == "written":
                counts["applied"] += 1
                changes.append(f"{school}: Destinations row {row_no + 2}: {label} from the form")
            elif outcome == "conflict":
                counts["conflicts"] += 1
                conflicts.add((upn, year, group))
                wanted.append(
                    _exception(
                        school,
                        "conflict",
                        winner,
                        f"staff edited the {label}; the form's newer answer was not written",
                        entry=winner["entry"] if group != CONTACT else "contact",
                        extra=(group, winner["last_submitted"]),
                    )
                )
        for group in groups[len(wants) :]:
            self._sustained_check(
                row_no, by_group[group][pupil], school, pupil, group, counts, changes, conflicts,
                wanted,
            )  # fmt: skip

    def _sustained_check(
        self,
        row_no: int,
        winner: dict[str, str],
        school: str,
        pupil: tuple[str, str],
        group: str,
        counts: dict[str, int],
        changes: list[str],
        conflicts: set[mergememo.Conflict],
        wanted: list[dict[str, str]],
    ) -> None:
        """A pupil's Sustained check `group` ("s:<check>") from its winning submission."""
        assert self.sustained is not None and group.startswith("s:")
        outcome = self._write_sustained(row_no, winner, school)
        check = winner["entry"]
        if outcome == "written":
            counts["applied"] += 1
            changes.append(f"{school}: Sustained: {check} check of row {row_no + 2} from the form")
        elif outcome == "conflict":
            counts["conflicts"] += 1
            conflicts.add((*pupil, group))
            wanted.append(
                _exception(
                    school,
                    "conflict",
                    winner,
                    f"staff edited the {check} check; the form's newer answer was not written",
                    extra=(group, winner["last_submitted"]),
                )
            )

    def _write_blank(
        self, shapes: list[tuple[tuple[str, ...], list[int], list[list[dict[str, str]]]]]
    ) -> None:
        """`_write_pupil` of pupils whose row is as read and whose groups are all blank in it,
        made group by group: per shape, the groups (in order), the pupils' rows (distinct
        across shapes) and per group the winning submissions in the rows' order. Each group is
        'written' with the submission's cells, its hash recorded, and `sync_hash` the row's
        text with those hashes recorded (`format_sync_hash(P | R)`)."""
        dest = self.dest
        texts = dest.column("sync_hash")
        for groups, rows, won in shapes:
            n = len(rows)
            if not n:
                continue
            # The cells in the order `_write_pupil` writes them: group by group (a column per
            # cell), then the hash.
            columns: list[Sequence[str]] = []
            digests: dict[str, list[str]] = {}  # per group, the pupils' `values_hash`es
            sources: dict[str, list[str]] = {}  # and their submissions' `_source_token`s
            # What each group's winners give, column by column (`_READ` order): read once when
            # one submission wins every group of each pupil (the usual case), else per group.
            # (Each submission's cells read in one pass: many large dicts, far apart.)
            if all(map(is_, chain.from_iterable(won[1:]), cycle(won[0]))):
                shared = list(zip(*map(_READ, won[0]), strict=True))
                read = [shared] * len(groups)
            else:
                read = [list(zip(*map(_READ, winners), strict=True)) for winners in won]
            first: list[dict[str, str]] = won[0]  # the first group's winners
            # and their `_source_token`s (`_SOURCE`'s text: the response id and last submitted)
            rids, lasts = read[0][_READ_AT["response_id"]], read[0][_READ_AT["last_submitted"]]
            tokens = list(map(_hexdigest, map(_hash3, map(str.encode, map(_SOURCE, rids, lasts)))))
            for k, (group, winners) in enumerate(zip(groups, won, strict=True)):
                cols = read[k]
                issues = cols[_READ_AT["issues"]]
                shown: list[Sequence[str]]
                cells: Iterable[tuple[str, ...]]
                if group == CONTACT:
                    # `_contact_values` (the row's personal email and telephone are blank), at
                    # once for a submission without issues.
                    cells = [
                        _NO_CONSENT
                        if c != "Y"
                        else ("Y", "N", e, t)
                        if not i
                        else _contact_values(w, "", "")
                        for c, i, e, t, w in zip(
                            *(cols[_READ_AT[key]] for key in _CONTACT_ANSWERS), winners,
                            strict=True,
                        )
                    ]  # fmt: skip
                    shown = list(zip(*cells, strict=True))
                else:
                    # `_entry_tuple` column by column: the answers, the start date blank where
                    # the form's checks found it bad, "form", the day submitted.
                    answers = [cols[_READ_AT[key]] for key in _ENTRY_KEYS]
                    starts: Sequence[str] = answers[5]
                    if any(issues):
                        starts = [
                            "" if i and s and "bad_start_date" in i.split() else s
                            for s, i in zip(starts, issues, strict=True)
                        ]
                    lasts = cols[_READ_AT["last_submitted"]]
                    shown = [*answers[:5], starts, ("form",) * n, list(map(_DAY, lasts))]
                    cells = zip(*shown, strict=True)
                # `values_hash` of the cells and `_source_token` of the submission (a digest
                # is never blank, so the entry is always "hash.source").
                digests[group] = list(
                    map(_hexdigest, map(_hash4, map(str.encode, map(_SEP.join, cells))))
                )
                if not k or read[k] is read[0]:
                    sources[group] = tokens
                else:  # most often the same submission wins every group of a pupil
                    sources[group] = [
                        t if w is w0 else _source_token(w)
                        for w, w0, t in zip(winners, first, tokens, strict=True)
                    ]
                columns += shown
            # R formatted (`format_sync_hash`'s order of groups), each pupil's: a group's
            # entry "hash.source" formatted from its two parts.
            order = [g for g in HASH_GROUPS if g in digests]
            tail = " ".join(g.replace("{", "{{").replace("}", "}}") + "={}.{}" for g in order)
            parts = [part for g in order for part in (digests[g], sources[g])]
            held = list(map(texts.__getitem__, rows))
            if all(map(str.startswith, held, repeat("id="))) and not _SPACE.search("".join(held)):
                # Every text one `id` entry and no space (a first night's): as below.
                now = list(map(("{} " + tail).format, held, *parts))
            else:
                recorded = {g: list(map("{}.{}".format, digests[g], sources[g])) for g in order}
                now = self._hash_texts(held, list(map(tail.format, *parts)), order, recorded)
            keys = (*chain.from_iterable(HASH_GROUPS[g] for g in groups), "sync_hash")
            columns.append(now)
            dest.write_columns(rows, keys, columns)

    @staticmethod
    def _hash_texts(
        held: list[str], tails: list[str], order: list[str], recorded: dict[str, list[str]]
    ) -> list[str]:
        """Each row's `sync_hash` after its groups' entries (`recorded`, formatted in `tails`
        in `order`) are recorded in its text as read (`held`)."""
        now = []
        for j, (text, tail) in enumerate(zip(held, tails, strict=True)):
            if not text:  # P | R, P parsed from the text: R alone for a blank text
                now.append(tail)
            elif text.startswith("id=") and text.split() == [text]:
                # One `id` entry and no space: the text is its own format, and `id` is
                # `format_sync_hash`'s first group.
                now.append(f"{text} {tail}")
            else:
                hashes = parse_sync_hash(text)
                hashes.update((g, recorded[g][j]) for g in order)
                now.append(format_sync_hash(hashes))
        return now

    def _index_for(self, school: str, fresh: list[dict[str, str]], logged: list[int]) -> PupilIndex:
        """`pupil_index` cut down to the rows these responses can match (`fresh`, and the log
        rows at `logged`): the rows with one of their school emails (case folded) or dates of
        birth. Every key `match_one` looks up for them holds the same pupils in the same order."""
        emails = {r["respondent_email"].casefold() for r in fresh}
        dobs = {r["date_of_birth"] for r in fresh}
        respondents, births = self.log.column("respondent_email"), self.log.column("date_of_birth")
        emails.update(respondents[i].casefold() for i in logged)
        dobs.update(births[i] for i in logged)
        emails.discard("")
        dobs.discard("")
        if self._folded is None:
            self._folded = list(map(str.casefold, self.dest.column("school_email")))
        folded, born = self._folded, self.dest.column("date_of_birth")
        rows = [
            i for i in self.school_rows.get(school, []) if born[i] in dobs or folded[i] in emails
        ]
        columns = {c: self.dest.column(c) for c in PupilIndex.COLUMNS}
        return PupilIndex.from_columns(columns, rows, school, self._name_parts)

    def _touched(
        self,
        school: str,
        logged: list[int],
        fresh: list[dict[str, str]],
        prior: mergememo.SchoolMemo,
        index: PupilIndex,
        counts: dict[str, int],
    ) -> tuple[list[int], set[mergememo.Conflict]] | None:
        """A school merged from its memo: the logged responses to merge again (those of the
        pupils its new and edited responses touch, before or after), and the recorded conflicts
        of the pupils they do not touch. The responses not merged again are counted here as the
        full merge counts them (the memo vouches that they would come out as logged). None: a
        new response is logged in another school's rows (merged in full instead)."""
        log = self.log
        ids = {r["response_id"] for r in fresh}
        if ids:
            mine = set(logged)
            if any(self.log_at.get(rid, -1) not in mine for rid in ids if rid in self.log_at):
                return None
        touched: set[tuple[str, str]] = set()
        for r in fresh:  # where each new or edited response goes now
            upn, year, *_ = match_one(
                r["respondent_email"], r["full_name"], r["date_of_birth"], r["issues"],
                r["leaving_year"], index,
            )  # fmt: skip
            if upn:
                touched.add((upn, year))
        rids, upns, years = (log.column(c) for c in ("response_id", "upn", "leaving_year"))
        # The logged rows of these ids: one each, at `log_at` (a memo is used only while every
        # response id names one row), all in `logged` (checked above).
        edited = [self.log_at[rid] for rid in ids if rid in self.log_at]
        for i in edited:  # and where the edited ones went before
            if upns[i]:
                touched.add((upns[i], years[i]))
        # The rows merged again, in `logged` order: their positions in `logged` (`_again`).
        pick = _picker(logged)
        picked_upns = pick(upns)
        at = _again(logged, ids, edited, touched, pick(rids), picked_upns, pick(years))
        again = [logged[j] for j in at]
        statuses, issues = pick(log.column("match_status")), pick(log.column("issues"))
        kept = len(logged) - len(again)
        counts["unchanged"] += kept
        for status in ("unmatched", "ambiguous"):
            counts[status] += statuses.count(status) - sum(1 for j in at if statuses[j] == status)
        counts["invalid"] += len(issues) - issues.count("") - sum(1 for j in at if issues[j])
        carried = {k for k in prior.conflicts if (k[0], k[1]) not in touched}
        counts["conflicts"] += len(carried)
        assert self.memos is not None
        self.memos.reused[school] = kept
        return again, carried

    def _write_pupil(self, i: int, wants: list[tuple[str, dict[str, str], str]]) -> list[str]:
        """`_write_cells` of each (group, submission, its `_source_token`) into Destinations
        row i, one after another, in one write: the same outcomes and the same cells written,
        on tuples of the groups' cells (no row dicts; `sync_hash` parsed once per text).

        The groups' cells are disjoint, so each reads its cells as the row had them, and
        the hash recorded for it in the row's text P = `parse_sync_hash(text)`; after the
        groups recorded so far, R, the row's text is `format_sync_hash(P | R)`. The one
        write: the cells of the groups that record a hash (each such group writes), and
        `sync_hash` the text after them all, `format_sync_hash(P | R)`."""
        dest = self.dest
        edited = dest.edited(i)
        outcomes: list[str] = []
        recorded: dict[str, str] = {}  # R: group -> its entry in `sync_hash`
        cells: dict[str, str] = {}  # the cells written
        text = ""
        group_rows = self._group_rows
        for group, winner, token in wants:
            rows = group_rows.get(group) if edited is None else None
            now = rows[i] if rows is not None else self._group_cells(i, group, edited)
            cur, text = now[:-1], now[-1]
            wanted: tuple[str, ...]
            if group == CONTACT:
                wanted = _contact_values(winner, now[_CONTACT_EMAIL], now[_CONTACT_PHONE])
            else:
                wanted = _entry_tuple(winner)
            if not any(cur) and any(wanted):
                # `_group_outcome` of blank cells (state 'empty', a first night's every group):
                # 'written', and the hash recorded, whatever `sync_hash` held for the group.
                outcome, shown = "written", wanted
            else:
                held = self._parsed(text).get(group, "")
                if cur == wanted:
                    # `_group_outcome`'s 'unchanged' with nothing to record, decided first (a
                    # steady night's every group): the cells show this submission, its token is
                    # recorded, and the recorded hash is the cells' (state 'synced': not blank).
                    digest, _, source = held.partition(".")
                    if source == token and digest == values_hash(cur) and any(cur):
                        outcomes.append("unchanged")
                        continue
                outcome, record = _group_outcome(cur, wanted, held, token)
                if not record:
                    outcomes.append(outcome)
                    continue
                shown = wanted if outcome == "written" else cur
            # `values_hash(shown)`, inline (a first night hashes each pupil's groups here).
            digest = blake2b(_SEP.join(shown).encode(), digest_size=4).hexdigest()
            entry = f"{digest}.{token}" if token else digest
            outcomes.append(outcome)
            # A group recording its hash writes: 'written', or else the text changes, since
            # P[group] == entry would mean cells synced from this token (nothing to record),
            # cells never all blank here (the submission's cells never are, and they equal).
            recorded[group] = entry
            cells.update(zip(HASH_GROUPS[group], shown, strict=True))
        if cells:
            # P | R, P = {} for a blank text (a first night's every row): R itself.
            hashes = {**self._parsed(text), **recorded} if text else recorded
            new = format_sync_hash(hashes)
            cells["sync_hash"] = new
            dest.write(i, cells)
            # `parse_sync_hash(new)` is `hashes`: its values are free of whitespace (parsed,
            # or hex digits) and its groups all `HASH_GROUPS` (the pupil's next school, if any).
            self._hash_text, self._hashes = new, hashes
        return outcomes

    def _group_cells(self, i: int, group: str, edited: dict[str, str] | None) -> tuple[str, ...]:
        """Destinations row i's cells of `group` and its `sync_hash`, as they now are
        (`edited`: the row's cells written this run, if any)."""
        keys = _GROUP_CELLS[group]
        dest = self.dest
        rows = self._group_rows.get(group)
        if rows is None:  # the group's cells of every row as read, once many rows are asked
            asked = self._group_asked[group] = self._group_asked.get(group, 0) + 1
            if asked > 256:
                rows = self._group_rows[group] = dest.tuples(keys)
        if rows is None:  # a few rows (a night merged from memos): cell by cell
            return tuple([dest.get(i, k) for k in keys])
        now = rows[i]
        if edited is None:
            return now
        if edited.keys().isdisjoint(_GROUP_SETS[group]):  # another group's cells written
            return (*now[:-1], edited.get("sync_hash", now[-1]))
        return dest.cell_tuple(i, keys)

    def _parsed(self, text: str) -> dict[str, str]:
        """`parse_sync_hash(text)` (the last text's parse kept: a pupil's groups share it)."""
        if text != self._hash_text:
            self._hash_text, self._hashes = text, parse_sync_hash(text)
        return self._hashes

    def _write_sustained(self, pupil: int, winner: dict[str, str], school: str) -> str:
        """Write a response into the pupil's Sustained row for its check (appended if none)."""
        sustained = self.sustained
        assert sustained is not None
        key = (self.dest.get(pupil, "upn"), self.dest.get(pupil, "leaving_year"), winner["entry"])
        at = self.check_at.get(key)
        if at is None:
            at = sustained.append(
                {"school": school, "upn": key[0], "leaving_year": key[1], "check": key[2]}
            )
            added = (sustained.get(at, c) for c in ("upn", "leaving_year", "check"))
            self.check_at.setdefault(_check_key(*added), at)
        row = sustained.cells(at, _GROUP_CELLS[SUSTAINED])
        return _write_cells(
            sustained, at, row, SUSTAINED, _entry_values(winner), _source_token(winner)
        )


class _Filled(dict[str, list[bool]]):
    """Group -> per Destinations row, whether any of the group's cells as read is not blank
    (made when first asked for)."""

    def __init__(self, table: _Table) -> None:
        super().__init__()
        self.table = table
        self.arrays: dict[str, np.ndarray] = {}

    def __missing__(self, group: str) -> list[bool]:
        got = self[group] = self.array(group).tolist()
        return got

    def array(self, group: str) -> np.ndarray:
        """The group's flags as an array (made once)."""
        got = self.arrays.get(group)
        if got is None:
            arrays = self.table._arrays
            got = np.zeros(self.table.n, dtype=bool)
            for key in HASH_GROUPS[group]:
                array = arrays.get(key)
                if array is not None:
                    got |= array != ""
            self.arrays[group] = got
        return got


class _Memos:
    """The schools' memos in one run (gsync.mergememo): their fingerprints as read, whether
    each school may be merged from its memo, and the memos its merge leaves."""

    def __init__(
        self, run: _Run, key: str, stored: Mapping[str, str], schools: Sequence[str]
    ) -> None:
        self.run = run
        self.schools = list(dict.fromkeys(schools))
        self.stored = stored
        self.conflicts: dict[str, set[mergememo.Conflict]] = {}
        self.reused: dict[str, int] = {}
        self.done: set[str] = set()  # the schools merged so far in this run
        # Schools whose rows a later school's merge wrote into (a response stolen from their
        # log): their merge read rows that then changed, so the rows it left are not a fixed
        # point of their merge, and no memo is left for them (merged in full next time).
        self.stale: set[str] = set()
        self.tables = tables = self._tables()  # name -> (table, the cells digested)
        self.context = mergememo.context(key, {name: t.columns for name, (t, _) in tables.items()})
        # What the memo vouches for holds only while each key names one row: one pupil per
        # (upn, leaving year), also as a Sustained row's key reads it; one row per response or
        # exception id; one column per name.
        dest, log, exc = run.dest, run.log, run.exc
        upns = dest.column("upn")
        keyed = _nonblank(upns)
        self.usable = (
            len(run.pupil_at) == keyed
            and _checks_distinct(run.pupil_at, keyed, upns, dest.column("leaving_year"))
            and len(run.log_at) == _nonblank(log.column("response_id"))
            and len(run.exc_at) == _nonblank(exc.column("exception_id"))
            and all(len(set(t.columns)) == len(t.columns) for t, _ in tables.values())
        )
        self.read: dict[str, mergememo.Digests] = {}
        self.rows: dict[str, dict[str, list[int]]] = {}
        self.fingerprints: dict[str, str] = {}
        if not self.usable or not any(mergememo.loads(stored.get(s, "")) for s in self.schools):
            return  # nothing to compare with (a first night): the memos come from the frames left
        for name, (table, keys) in tables.items():
            rows = self._rows(name, table)
            digests = mergememo.Digests()
            digests.feed(table, keys, rows)
            self.read[name], self.rows[name] = digests, rows
        self.fingerprints = {s: self._fingerprint(s, self.read) for s in self.schools}

    def _tables(self) -> dict[str, tuple[_Table, tuple[str, ...]]]:
        run = self.run
        out = {
            "dest": (run.dest, _MEMO_DEST),
            "log": (run.log, _MEMO_LOG),
            "exc": (run.exc, _MEMO_EXC),
        }
        if run.sustained is not None:
            out["sustained"] = (run.sustained, _MEMO_SUSTAINED)
        return out

    def _rows(self, name: str, table: _Table) -> dict[str, list[int]]:
        if name == "sustained":  # the whole tab, in every school's fingerprint
            return {"": list(range(len(table)))}
        # Destinations rows never change school in the merge: the run's index of them.
        index = self.run.school_rows if name == "dest" else table.by_school()
        return {s: list(index.get(s, [])) for s in self.schools}

    def _fingerprint(self, school: str, digests: Mapping[str, mergememo.Digests]) -> str:
        parts = []
        for name, (_, keys) in self.tables.items():
            parts.append(digests[name].summary("" if name == "sustained" else school, keys))
        return mergememo.fingerprint(self.context, parts)

    def merged(self, school: str) -> None:
        """Note that `school`'s merge has run: the schools merged before it whose rows it wrote
        into are stale."""
        for table, _ in self.tables.values():
            self.stale.update(s for s in table.recent if s in self.done and s != school)
            table.recent.clear()
        self.done.add(school)

    def prior(self, school: str) -> mergememo.SchoolMemo | None:
        """The school's memo, if its rows are as it says and no school before it in this run
        wrote into them; else None (merged in full)."""
        if not self.usable or any(school in t.written for t, _ in self.tables.values()):
            return None
        memo = mergememo.loads(self.stored.get(school, ""))
        if memo is None or memo.fingerprint != self.fingerprints.get(school):
            return None
        return memo

    def left(self, frames: Mapping[str, pd.DataFrame]) -> dict[str, str]:
        """Each merged school's memo text: its rows as the merge left them, its conflicts."""
        if not self.usable:
            return dict.fromkeys(self.schools, "")
        out_frames = {"dest": "destinations", "log": "responses", "exc": "exceptions",
                      "sustained": SUSTAINED_TAB}  # fmt: skip
        after: dict[str, mergememo.Digests] = {}
        for name, (table, keys) in self.tables.items():
            cells = _FrameCells(frames[out_frames[name]])
            if not self.read:  # nothing digested as read: the frames left, afresh
                after[name] = mergememo.Digests()
                after[name].feed(cells, keys, self._rows(name, table))
                continue
            read, rows = self.read[name], self.rows[name]
            # The columns written per school (a row's school before and after), the whole
            # Sustained tab as one.
            edited: dict[str, set[str]] = {}
            edited_rows: dict[str, list[int]] = {}  # and the rows written in them
            for i, cells_written in table.edits.items():
                for school in {table.column("school")[i], table.get(i, "school")}:
                    key = "" if name == "sustained" else school
                    edited.setdefault(key, set()).update(cells_written)
                    edited_rows.setdefault(key, []).append(i)
            now = self._rows(name, table)
            for school, positions in now.items():
                # Rows appended come after the frame's rows (each school's positions ascend).
                split = bisect_left(positions, table.n)
                grown, kept = positions[split:], positions[:split]
                if kept != rows[school]:  # rows moved school: digested again
                    read.feed(cells, keys, {school: positions})
                    continue
                for key in (k for k in keys if k in edited.get(school, ())):
                    got = _cells_now(table, kept, key, edited_rows.get(school, []))
                    read.rehash(school, key, got)
                appended = {k: [table.get(i, k) for i in grown] for k in keys}
                read.extend(school, keys, grown, appended)
            after[name] = read
        ok = all(d.ok for d in after.values())
        return {
            s: mergememo.SchoolMemo(
                self._fingerprint(s, after), frozenset(self.conflicts.get(s, ()))
            ).dumps()
            if ok and s not in self.stale
            else ""
            for s in self.schools
        }


def _cells_now(table: _Table, rows: list[int], key: str, written: list[int]) -> Sequence[str]:
    """One column's cells at the frame's rows `rows` (ascending) as they now are (`get` of
    each: the cells as read, those written in the rows `written` put in)."""
    if not rows:
        return []
    column = table.column(key)
    first, last = rows[0], rows[-1]
    got = column[first : last + 1] if last - first == len(rows) - 1 else _picker(rows)(column)
    if not isinstance(got, list):
        got = list(got)
    edits = table.edits
    for i in written:
        cells = edits[i]
        if key in cells:
            j = bisect_left(rows, i)
            if j < len(rows) and rows[j] == i:
                got[j] = cells[key]
    return got


def _picker(positions: list[int]) -> Callable[[list[str]], Sequence[str]]:
    """A function giving a column's cells at `positions`, in order (a tuple or a list)."""
    if len(positions) > 1:
        return itemgetter(*positions)
    return lambda column: [column[i] for i in positions]


# Up to this many ids and pupils, `_again` finds their rows by scanning the cells in C.
_SCAN_AT_MOST = 16


def _again(
    logged: list[int],
    ids: set[str],
    edited: list[int],
    touched: set[tuple[str, str]],
    rids: Sequence[str],
    upns: Sequence[str],
    years: Sequence[str],
) -> list[int]:
    """The positions j in `logged` (ascending) whose response id is in `ids` or whose pupil
    (upn, leaving year) is `touched` (`rids`, `upns`, `years`: the cells at `logged`;
    `edited`: the rows holding an id of `ids`, one per id, all in `logged`)."""
    pupils = {u for u, _ in touched}
    if len(ids) + len(pupils) > _SCAN_AT_MOST:
        return [
            j
            for j, (r, u, y) in enumerate(zip(rids, upns, years, strict=True))
            if r in ids or (u in pupils and (u, y) in touched)
        ]
    found: set[int] = set()
    found.update(logged.index(i) for i in edited)
    for u in pupils:
        j = -1
        while True:
            try:
                j = upns.index(u, j + 1)
            except ValueError:
                break
            if (u, years[j]) in touched:
                found.add(j)
    return sorted(found)


def _at(keys: list[str]) -> dict[str, int]:
    """Key -> the last position holding it, blanks left out (`{k: i for i, k in
    enumerate(keys) if k}`)."""
    at = dict(zip(keys, range(len(keys)), strict=True))
    at.pop("", None)
    return at


def _nonblank(cells: list[str]) -> int:
    """How many cells are not blank (text: "" is the one blank)."""
    return len(cells) - cells.count("")


def _checks_distinct(
    pupils: Mapping[tuple[str, str], int], keyed: int, upns: list[str], years: list[str]
) -> bool:
    """Whether the pupils' keys stay distinct as a Sustained row's key reads them (stripped,
    the UPN upper-cased); at once when no UPN or leaving year cell (`upns`, `years`: the
    columns) has a space or a lower-case letter."""
    upn_text, year_text = "\x00".join(upns), "\x00".join(years)
    if upn_text == upn_text.upper() and not _SPACE.search(upn_text + year_text):
        return True
    return len({(u.strip().upper(), y.strip()) for u, y in pupils}) == keyed


_SPACE = re.compile(r"\s")


class _FrameCells:
    """A merged frame's columns as lists of cells (`mergememo.Cells`), each made once."""

    def __init__(self, frame: pd.DataFrame) -> None:
        self.frame = frame
        self._lists: dict[str, list[str]] = {}

    def array(self, key: str) -> np.ndarray | None:
        """The frame's column as its object array (None for a column it does not have)."""
        if key not in self.frame.columns:
            return None
        return cast(np.ndarray, self.frame[key].to_numpy())

    def column(self, key: str) -> list[str]:
        got = self._lists.get(key)
        if got is None:
            if key not in self.frame.columns:
                got = [""] * len(self.frame)
            else:
                got = self.frame[key].to_numpy().tolist()
            self._lists[key] = got
        return got


# The cells a school's merge reads or writes, per tab (its memo's fingerprint covers them).
_MEMO_DEST = tuple(
    dict.fromkeys(
        (
            *PupilIndex.COLUMNS,
            *HASH_GROUPS[CONTACT],
            *(c for g in ENTRY_GROUP.values() for c in HASH_GROUPS[g]),
            "sync_hash",
        )
    )
)
_MEMO_EXC = ("exception_id", "school", "kind", "response_id", "upn", "leaving_year", "entry",
             "reason")  # fmt: skip
_MEMO_SUSTAINED = ("school", "upn", "leaving_year", "check", *HASH_GROUPS[SUSTAINED], "sync_hash")


# The cells `_write_group` reads and writes per group: the group's and `sync_hash`.
_GROUP_CELLS: dict[str, tuple[str, ...]] = {
    g: (*cells, "sync_hash") for g, cells in HASH_GROUPS.items()
}
_GROUP_SETS: dict[str, frozenset[str]] = {g: frozenset(c) for g, c in HASH_GROUPS.items()}
# `_Run.merge` writes a pupil's Destinations groups before its Sustained checks ("s:<check>"),
# as sorting the groups orders them.
_SUSTAINED_AFTER = all(g < "s:" for g in (CONTACT, *ENTRY_GROUP.values()))
if not _SUSTAINED_AFTER:
    raise RuntimeError("a Destinations hash group sorts after 's:': update merge._Run.merge")


def _write_cells(
    table: _Table, i: int, row: dict[str, str], group: str, cells: dict[str, str], source: str
) -> str:
    """`_write_group` on a copy of the row's group cells, written back into the table if changed."""
    before = dict(row)
    outcome = _write_group(row, group, cells, source)
    if row != before:
        table.update(i, row)
    return outcome


def _check_key(upn: str, leaving_year: str, check: str) -> tuple[str, str, str]:
    """A Sustained row's (upn, leaving_year, check), read as staff may have typed them."""
    return (upn.strip().upper(), leaving_year.strip(), check.strip())


def _not_yet_logged(
    raw: list[dict[str, Any]], log: _Table, logged: list[int]
) -> list[dict[str, Any]]:
    """The responses to normalise: new or edited ones. A submission the Responses log already
    holds (same id, same last-submitted time) is taken from the log, which holds its normalised
    values, so phonenumbers / email-validator run only on what is new (issue 7: steady nights).
    `logged`: the positions of the school's log rows that have a response id."""
    held = dict(
        zip(log.pick(logged, "response_id"), log.pick(logged, "last_submitted"), strict=True)
    )
    if not held:
        return raw
    # Every logged time in `timestamp`'s form (a steady night's log): a response listed with its
    # logged id and time, both text, is the logged one, found with one lookup (no regex each).
    stamped = all_stamped(list(held.values()))
    out = []
    for r in raw:
        if stamped:
            rid, last = r.get("responseId"), r.get("lastSubmittedTime")
            if type(last) is str and type(rid) is str and held.get(rid) == last:
                continue  # as below: `when` is `last` (not blank), stamped and logged
        when = r.get("lastSubmittedTime") or r.get("createTime", "")
        logged_when = held.get(str(r.get("responseId", "")))
        if when == logged_when and type(when) is str and STAMPED.fullmatch(when):
            continue  # already `timestamp`'s form, so timestamp(when) == when: the logged one
        if logged_when != timestamp(when):
            out.append(r)
    return out


_HELD_CELLS = ("response_id", "last_submitted")
# A logged response read back as a response: its stated leaving year is the form's answer.
_POOL_CELLS = tuple("stated_leaving_year" if c == "leaving_year" else c for c in RESPONSE_COLUMNS)


def _logged_responses(log: _Table, logged: list[int]) -> list[dict[str, str]]:
    """The log rows at `logged` read back as responses: a dict of the response columns each
    (`_POOL_CELLS`), built from the columns for the frame's unedited rows (for a few rows, from
    the rows' cells alone)."""
    if len(logged) * 16 < log.n:
        return [
            dict(zip(RESPONSE_COLUMNS, cells, strict=True))
            for cells in log._few_tuples(logged, _POOL_CELLS)
        ]
    (rid, created, last, respondent, name, dob, stated, email, phone, destination, other, course,
     level, provider, start, duration, consent, issues) = (log.column(c) for c in _POOL_CELLS)  # fmt: skip
    n, edits = log.n, log.edits
    return [
        {
            "response_id": rid[i],
            "created": created[i],
            "last_submitted": last[i],
            "respondent_email": respondent[i],
            "full_name": name[i],
            "date_of_birth": dob[i],
            "leaving_year": stated[i],
            "personal_email": email[i],
            "telephone": phone[i],
            "destination": destination[i],
            "destination_other": other[i],
            "course": course[i],
            "level": level[i],
            "provider": provider[i],
            "start_date": start[i],
            "duration": duration[i],
            "consent": consent[i],
            "issues": issues[i],
        }
        if i < n and i not in edits
        else dict(zip(RESPONSE_COLUMNS, log.cell_tuple(i, _POOL_CELLS), strict=True))
        for i in logged
    ]


# `_logged_responses` names the response columns in this order (checked here).
if RESPONSE_COLUMNS != ("response_id", "created", "last_submitted", "respondent_email", "full_name",
                        "date_of_birth", "leaving_year", "personal_email", "telephone", "destination",
                        "destination_other", "course", "level", "provider", "start_date", "duration",
                        "consent", "issues"):  # fmt: skip
    raise RuntimeError("responses.RESPONSE_COLUMNS changed: update merge._logged_responses")


def _pool(
    fresh: list[dict[str, str]], log: _Table, logged: list[int]
) -> tuple[list[dict[str, str]], dict[str, tuple[int, tuple[str, ...]]]]:
    """This run's responses plus the school's logged ones (whichever submission is newer wins),
    ordered by (last submitted, response id); each a new dict of the response columns. Also
    response id -> the log row each response taken from the log was read from, with that row's
    `_DERIVED` cells as read."""
    if not logged:  # nothing logged (a first night's): the responses alone
        times = list(map(itemgetter("last_submitted"), fresh))
        by_time = dict(zip(times, fresh, strict=True))
        distinct = set(map(itemgetter("response_id"), fresh))
        if len(by_time) == len(distinct) == len(fresh):  # ids and times distinct: each kept,
            return list(map(by_time.__getitem__, sorted(by_time))), {}  # ordered by time alone
    rows = _logged_responses(log, logged)
    ids = [row["response_id"] for row in rows]
    # A response id logged twice: the later row, as a loop over the rows would leave it.
    by_id = dict(zip(ids, rows, strict=True))
    derived = log.cell_tuples(logged, _DERIVED)
    read_from = dict(zip(ids, zip(logged, derived, strict=True), strict=True))
    for row in fresh:
        held = by_id.get(row["response_id"])
        if held is None or row["last_submitted"] >= held["last_submitted"]:
            by_id[row["response_id"]] = row
            read_from.pop(row["response_id"], None)
    # By (last submitted, response id): by id, then stably by time (the ids are distinct; two
    # sorts on one text each beat one on pairs).
    ordered = sorted(by_id.values(), key=itemgetter("response_id"))
    ordered.sort(key=itemgetter("last_submitted"))
    return ordered, read_from


_NO_ENTRY = "the submission time falls in no entry's window"


# The cells `_log_row` sets besides the response's.
_LOGGED_SET = frozenset(("school", "personal_email", "telephone"))


def _log_row(response: dict[str, str], school: str) -> dict[str, str]:
    row = dict(response)
    row["school"] = school
    if row.get("consent") != "Y":  # consent: no contact details kept without agreement
        row["personal_email"] = ""
        row["telephone"] = ""
    return row


def _log_responses(
    log: _Table,
    responses: list[dict[str, str]],
    school: str,
    counts: dict[str, int],
    at: dict[str, int],
    read_from: Mapping[str, tuple[int, tuple[str, ...]]],
) -> None:
    """Log each response: append it, or update its row in place (`at`: response id -> row,
    kept up to date here for the schools after this one; `read_from`: `_pool`'s rows and their
    `_DERIVED` cells, which are the row's still: a log row is written only for its own id)."""
    keys = tuple(c for c in log.columns if c in _LOG_KEYS)
    # A response read from the row it is logged in differs from it at most in the `_DERIVED`
    # cells: compared on those alone (when the tab has them all, as the template's does).
    quick = all(c in keys for c in _DERIVED)
    # A new response's row built in place from a blank row (`append` of `_log_row`), when its
    # cells and those `_log_row` sets are all columns of the tab.
    names, fuse = log._names, log._names >= _LOGGED_SET
    whole = len(names) - 1  # a response holding every column but the school
    # Rows appended for this school join the index after it (one school's ids are distinct).
    pending: dict[str, int] = {}
    block = _all_new_block(log, responses, at, read_from, fuse, whole)
    if block is not None:
        # Every response new, each holding every column but the school (a first night's):
        # the loop's new rows below, appended at once as a block of their cells (the
        # responses' dicts get the school and consent's cells as the loop's rows do).
        others, block_cells = block
        for response in responses:
            response["school"] = school
            if response.get("consent") != "Y":
                response["personal_email"] = response["telephone"] = ""
        place = {k: j for j, k in enumerate(others)}
        consent = place.get("consent")
        blank = (
            block_cells[:, consent] != "Y"
            if consent is not None
            else np.ones(len(block_cells), dtype=bool)
        )
        if blank.any():
            block_cells[blank, place["personal_email"]] = ""
            block_cells[blank, place["telephone"]] = ""
        start = len(log)
        log.add_block(school, others, block_cells)
        ids = block_cells[:, place["response_id"]].tolist()
        pending = dict(zip(ids, range(start, len(log)), strict=True))
        counts["new"] += len(responses)
        at.update(pending)
        return
    for response in responses:
        rid = response["response_id"]
        i = at.get(rid)
        read = read_from.get(rid)
        if quick and read is not None and read[0] == i:
            contact = response["consent"] == "Y"
            now = (  # `_log_row`'s cells, in `_DERIVED` order
                school,
                response["personal_email"] if contact else "",
                response["telephone"] if contact else "",
                response["upn"],
                response["leaving_year"],
                response["match_method"],
                response["match_status"],
                response["reason"],
                response["entry"],
            )
            if now == read[1]:
                counts["unchanged"] += 1
                continue
        if i is None and fuse and response.keys() <= names:
            if whole and len(response) == whole and "school" not in response:
                # Every column's cell but the school's: the response dict itself is the row
                # (its school and consent cells as `_log_row` sets them are all the merge
                # reads of it after this, besides the cells it holds; no copy).
                row = response
            else:
                row = log.blank_row()
                row.update(response)
            row["school"] = school
            if response.get("consent") != "Y":  # as `_log_row`
                row["personal_email"] = row["telephone"] = ""
            pending[rid] = log.add_row(row)
            counts["new"] += 1
            continue
        wanted = _log_row(response, school)
        if i is None:
            pending[rid] = log.append(wanted)
            counts["new"] += 1
            continue
        cells = {c: wanted.get(c, "") for c in keys}
        if cells == log.cells(i, keys):
            counts["unchanged"] += 1
            continue
        log.update(i, cells)
        counts["updated"] += 1
    at.update(pending)


def _all_new_block(
    log: _Table,
    responses: list[dict[str, str]],
    at: Mapping[str, int],
    read_from: Mapping[str, object],
    fuse: bool,
    whole: int,
) -> tuple[tuple[str, ...], np.ndarray] | None:
    """Whether `_log_responses` appends every response as its own row: none is logged yet (nor
    read from the log), and each holds every column of the tab but the school. If so, those
    columns and the responses' cells in them (an object array, a row per response), else None.
    (A response of `whole` cells holding each of the tab's `whole` other columns holds no other.)"""
    if read_from or not fuse or not whole:
        return None
    if any(len(r) != whole for r in responses):
        return None
    others = tuple(dict.fromkeys(c for c in log.columns if c != "school"))
    if len(others) != whole:
        return None
    try:
        cells = _cell_block(responses, others)
    except KeyError:  # a response without one of the tab's columns
        return None
    if responses and not at.keys().isdisjoint(cells[:, others.index("response_id")].tolist()):
        return None
    return others, cells


# The log cells a response can change without a new submission: the match, entry, school and
# (consent withdrawn) contact details; its other cells are the response columns as logged.
_DERIVED = (
    "school",
    "personal_email",
    "telephone",
    "upn",
    "leaving_year",
    "match_method",
    "match_status",
    "reason",
    "entry",
)
_LOG_KEYS = frozenset(
    (
        *RESPONSE_COLUMNS,
        "school",
        "stated_leaving_year",
        "match_status",
        "match_method",
        "upn",
        "leaving_year",
        "entry",
        "reason",
    )
)
_MEMO_LOG = tuple(sorted(_LOG_KEYS))


# `_entry_tuple` builds the entry cells in this order (the template's, checked here).
_ENTRY_ORDER = ("destination", "other", "provider", "course", "level", "start_date", "source", "recorded")  # fmt: skip
if SYNC_ENTRY_FIELDS != _ENTRY_ORDER:
    raise RuntimeError("template.SYNC_ENTRY_FIELDS changed order: update merge._entry_tuple")


def _entry_tuple(r: dict[str, str]) -> tuple[str, ...]:
    """One submission's entry cells, in `SYNC_ENTRY_FIELDS` order."""
    start = r["start_date"]
    if start and "bad_start_date" in r["issues"].split():
        start = ""
    last = r["last_submitted"]
    return (r["destination"], r["destination_other"], r["provider"], r["course"], r["level"],
            start, "form", last[:10])  # fmt: skip


def _entry_values(r: dict[str, str]) -> dict[str, str]:
    """One submission's entry cells by field name (destination, other, ...)."""
    return dict(zip(SYNC_ENTRY_FIELDS, _entry_tuple(r), strict=True))


_SEP = "\x1f"  # `template.values_hash`'s separator
# `_Run._write_pupil` computes `values_hash` inline (checked here).
if values_hash(("a", "b")) != blake2b(_SEP.join(("a", "b")).encode(), digest_size=4).hexdigest():
    raise RuntimeError("template.values_hash changed: update merge._Run._write_pupil")
_hash4 = partial(blake2b, digest_size=4)  # `values_hash` of bytes, then its hex digest:
_hexdigest = cast("Callable[[Any], str]", type(blake2b()).hexdigest)
# `_Run._write_blank` puts a text holding one `id` entry first (checked here).
if next(iter(HASH_GROUPS)) != IDENTITY or IDENTITY in (CONTACT, *ENTRY_GROUP.values()):
    raise RuntimeError("template.HASH_GROUPS changed its first group: update merge._write_blank")
# An entry's group -> the entry (`_Run._write_pupils` labels a blank pupil's changes by it).
_GROUP_ENTRY = {group: entry for entry, group in ENTRY_GROUP.items()}
if len(_GROUP_ENTRY) != len(ENTRY_GROUP) or CONTACT in _GROUP_ENTRY:
    raise RuntimeError("template.ENTRY_GROUP is not one group per entry: update _write_pupils")
# A school's pupils from this many on have their blank groups written together (`_write_blank`).
_BATCH_AT_LEAST = 64
_CONTACT_KEYS = ("consent", "do_not_contact", "personal_email", "telephone")
# `_Run._write_pupil` reads the contact group's cells as a tuple in HASH_GROUPS order.
if HASH_GROUPS[CONTACT] != _CONTACT_KEYS:
    raise RuntimeError("template.HASH_GROUPS[CONTACT] changed order: update merge._contact_values")
_CONTACT_EMAIL, _CONTACT_PHONE = (
    _CONTACT_KEYS.index("personal_email"),
    _CONTACT_KEYS.index("telephone"),
)


def _contact_values(r: dict[str, str], email: str, phone: str) -> tuple[str, str, str, str]:
    """The contact cells (`_CONTACT_KEYS` order) one submission gives a row holding this
    personal email and telephone."""
    if r["consent"] != "Y":
        return ("N", "Y", "", "")
    issues = r["issues"].split()
    if r["personal_email"] and "bad_personal_email" not in issues:
        email = r["personal_email"]
    if r["telephone"] and "bad_telephone" not in issues:
        phone = r["telephone"]
    return ("Y", "N", email, phone)


def _source_token(r: dict[str, str]) -> str:
    """A short digest naming one submission (response id and its last-submitted time)."""
    return hashlib.blake2b(
        f"{r['response_id']}\x1f{r['last_submitted']}".encode(), digest_size=3
    ).hexdigest()


# `_Run._write_blank`'s `_contact_values` without consent, and `_source_token`'s text of the
# response id and last submitted (checked here).
_NO_CONSENT = ("N", "Y", "", "")
_SOURCE = "{}\x1f{}".format
# What `_Run._write_blank` reads of a winning submission (`_READ`, a cell's place in it
# `_READ_AT`): the contact group's consent, issues, personal email and telephone
# (`_CONTACT_ANSWERS`), an entry's answers (`_ENTRY_KEYS`, `_entry_tuple`'s), then the
# response id and last submitted (`_SOURCE`'s).
_CONTACT_ANSWERS = ("consent", "issues", "personal_email", "telephone")
_ENTRY_KEYS = ("destination", "destination_other", "provider", "course", "level", "start_date")
_READ_KEYS = (*_CONTACT_ANSWERS, *_ENTRY_KEYS, "response_id", "last_submitted")
_READ: Callable[[dict[str, str]], tuple[str, ...]] = itemgetter(*_READ_KEYS)
_READ_AT = {key: j for j, key in enumerate(_READ_KEYS)}
_hash3 = partial(blake2b, digest_size=3)
_DAY: Callable[[str], str] = itemgetter(slice(None, 10))  # a submission time's day (`[:10]`)
_SAMPLE = {"response_id": "r1", "last_submitted": "2026-07-01T10:00:00.000Z", "consent": "N",
           "issues": "", "destination": "d", "destination_other": "o", "provider": "p",
           "course": "c", "level": "l", "start_date": "s", "personal_email": "e",
           "telephone": "t"}  # fmt: skip
if (
    _contact_values(_SAMPLE, "", "") != _NO_CONSENT
    or _entry_tuple(_SAMPLE) != (*itemgetter(*_ENTRY_KEYS)(_SAMPLE), "form", "2026-07-01")
    or _source_token(_SAMPLE)
    != _hexdigest(_hash3(_SOURCE(_SAMPLE["response_id"], _SAMPLE["last_submitted"]).encode()))
    or len(_READ_AT) != len(_READ_KEYS)
):
    raise RuntimeError(
        "merge._contact_values, _entry_tuple, _source_token or what _write_blank reads changed"
    )


def _group_outcome(
    cur: tuple[str, ...], wanted: tuple[str, ...], held: str, source: str
) -> tuple[str, bool]:
    """The rule for writing a group's cells from one submission unless staff edited them.

    `cur`: the cells as they are, `wanted`: what the submission gives (both in `HASH_GROUPS`
    order), `held`: the group's entry in `sync_hash` ("hash.source", "" if none), `source`: the
    submission's token. Returns the outcome, 'written', 'unchanged', 'kept' (staff corrected
    what this same submission said: their version stands, quietly) or 'conflict' (staff edited,
    and a different submission now says something else), and whether the group's hash is to be
    recorded for the cells the row will show (`wanted` if written, else `cur`).
    """
    recorded, _, recorded_source = held.partition(".")
    state = "empty" if not any(cur) else "synced" if recorded == values_hash(cur) else "edited"
    if cur == wanted:  # already shows this submission: record it if not yet recorded
        return "unchanged", state != "synced" or recorded_source != source
    if state == "edited":
        return ("kept" if recorded_source == source else "conflict"), False
    return "written", True


def _write_group(row: dict[str, str], group: str, cells: dict[str, str], source: str) -> str:
    """`_group_outcome` on a row dict: writes the cells and records the hash in place."""
    keys = HASH_GROUPS[group]
    assert set(cells) == set(keys)
    cur = tuple(str(row.get(c, "") or "") for c in keys)
    held = parse_sync_hash(row.get("sync_hash", "")).get(group, "")
    outcome, record = _group_outcome(cur, tuple(cells[c] for c in keys), held, source)
    if outcome == "written":
        row.update(cells)
    if record:
        set_group_hash(row, group, source)
    return outcome


def _exception(
    school: str,
    kind: str,
    r: dict[str, str],
    reason: str,
    *,
    entry: str = "",
    extra: tuple[str, ...] = (),
) -> dict[str, str]:
    return {
        "exception_id": _stable_id(kind, school, r["response_id"], *extra),
        "school": school,
        "kind": kind,
        "response_id": r["response_id"],
        "upn": r.get("upn", ""),
        "leaving_year": r.get("leaving_year", ""),
        "entry": entry or r.get("entry", ""),
        "reason": reason,
    }


def _raise_exceptions(
    exc: _Table,
    wanted: list[dict[str, str]],
    school: str,
    responses: list[dict[str, str]],
    now: dt.datetime,
    counts: dict[str, int],
    changes: list[str],
    at: dict[str, int],
) -> None:
    """Append new exceptions, refresh held ones, mark resolved ones (`at`: exception id -> row,
    kept up to date)."""
    held_rows = exc.by_school().get(school, [])
    if held_rows:  # (none on a first night: no sets made)
        wanted_ids = {w["exception_id"] for w in wanted}
        seen_responses = {r["response_id"] for r in responses}
    # Exceptions about a response that no longer has the problem: say so (rows are never deleted).
    for i in held_rows:
        if (
            exc.get(i, "kind") in ("unmatched", "ambiguous", "invalid", "no_entry")
            and exc.get(i, "response_id") in seen_responses
            and exc.get(i, "exception_id") not in wanted_ids
        ):
            exc.update(i, {"reason": RESOLVED})
    stamp = now.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    if len(wanted) >= _EXCEPTIONS_BLOCK_AT_LEAST and _append_new_exceptions(
        exc, wanted, school, stamp, at
    ):
        # Every one new (a first night's): appended at once, as the loop below appends them.
        counts["exceptions"] += len(wanted)
        changes += map(_NEW_EXCEPTION, repeat(school), wanted)
        return
    for w in wanted:
        held = at.get(w["exception_id"])
        if held is None:
            at[w["exception_id"]] = exc.append({**w, "first_seen": stamp, "status": "open"})
            counts["exceptions"] += 1
            changes.append(f"{school}: Exceptions: new {w['kind']} ({w['exception_id']})")
        else:  # sync-owned cells only; status/note stay staff's
            exc.update(held, w)


# `_raise_exceptions`' change for a new exception (`w` its dict).
_NEW_EXCEPTION = "{0}: Exceptions: new {1[kind]} ({1[exception_id]})".format
# A school's new exceptions from this many on are appended as one block (`_raise_exceptions`).
_EXCEPTIONS_BLOCK_AT_LEAST = 64


def _append_new_exceptions(
    exc: _Table, wanted: list[dict[str, str]], school: str, stamp: str, at: dict[str, int]
) -> bool:
    """`_raise_exceptions`' appends of `wanted` as one block, when each is new (its id distinct
    and not in `at`, which gets their rows) and the tab's columns are distinct; else False,
    nothing done. Each row's cells are `exc.append`'s of `{**w, "first_seen": stamp, "status":
    "open"}`: the columns the dict holds, the others blank (`w`'s school is `school`)."""
    if not wanted:
        return False
    ids = [w["exception_id"] for w in wanted]
    columns = exc.columns
    held = wanted[0].keys()  # (`_exception`'s dicts: the same keys each)
    if (
        len(set(ids)) != len(ids)
        or not at.keys().isdisjoint(ids)
        or len(set(columns)) != len(columns)
        or any(w["school"] != school or w.keys() != held for w in wanted)
    ):
        return False
    keys = tuple(c for c in columns if c != "school")
    cells = np.empty((len(wanted), len(keys)), dtype=object)
    for j, key in enumerate(keys):
        if key == "first_seen":
            cells[:, j] = stamp
        elif key == "status":
            cells[:, j] = "open"
        elif key in held:
            cells[:, j] = list(map(itemgetter(key), wanted))
        else:
            cells[:, j] = ""
    start = len(exc)
    exc.add_block(school, keys, cells)
    at.update(zip(ids, range(start, len(exc)), strict=True))
    return True
