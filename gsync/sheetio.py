"""The spreadsheet edge: read everything in one request, write a plan in one atomic batchUpdate
(or, when it is over Google's request-size limit, in several guarded ones: see `apply_plan`).

Reading uses `spreadsheets.get` with grid data and a field mask, so the tabs' properties and
their values come back together (one request). Writing is one `spreadsheets.batchUpdate`, which
Google applies entirely or not at all.

Concurrency is optimistic, with the hidden state tab as the token: every write batch starts with
`deleteSheet(<state tab's sheetId as read>)` and `addSheet(<state tab, new sheetId>)`. If another
run wrote in between, the state tab's id has changed, Google refuses the whole batch and nothing
is applied; this run stops with LockedError (exit 5) and the next run starts from the new state.
No lease is left behind by a killed run, and a run with nothing to write sends no write at all.

Every value is written as a value: text as `stringValue`, never `formulaValue`, so a form answer
such as `=IMPORTXML(...)` stays text.
"""

from __future__ import annotations

import json
import logging
import math
import random
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from itertools import chain, repeat
from operator import itemgetter
from typing import Any, Protocol, overload

import numpy as np
import pandas as pd
from gspread.urls import SPREADSHEET_BATCH_UPDATE_URL, SPREADSHEET_URL
from pandas.api.types import infer_dtype

from gsync import writebatch
from gsync.errors import ConfigError, GsyncError, LockedError, NotFoundError
from gsync.google.clients import http_status, translate
from gsync.workspace import Workspace

log = logging.getLogger("gsync.sheetio")

try:  # pandas' C conversion of a list of lists to a 2-D object array (not public API)
    from pandas._libs.lib import to_object_array as _pandas_rows
except ImportError:  # pragma: no cover - a pandas without it: numpy's, slower, same array
    _pandas_rows = None


def _object_rows(rows: list[list[Any]], width: int) -> np.ndarray:
    """`rows` (each `width` long) as a 2-D object array of the very objects."""
    if _pandas_rows is not None:
        return _pandas_rows(rows, width)
    out = np.empty((len(rows), width), dtype=object)
    for i, row in enumerate(rows):
        out[i, :] = row
    return out


STATE_TAB = "_gsync_state"
READ_FIELDS = (
    "spreadsheetId,properties.title,"
    "sheets(properties(sheetId,title,index,hidden,gridProperties(rowCount,columnCount,frozenRowCount)),"
    "data.rowData.values.formattedValue,charts(chartId))"
)
MAX_SHEET_ID = 2**31 - 1


class ColumnLike(Protocol):
    key: str
    header: str
    owner: str


class TabLike(Protocol):
    key: str
    title: str

    @property
    def columns(self) -> Sequence[Any]: ...


@dataclass(frozen=True)
class TabInfo:
    """A tab's properties as read."""

    sheet_id: int
    title: str
    index: int
    rows: int
    cols: int
    hidden: bool = False
    frozen_rows: int = 0


@dataclass(frozen=True)
class Snapshot:
    """One spreadsheet as read in one request: tab properties and every tab's text grid."""

    spreadsheet_id: str
    title: str
    tabs: dict[str, TabInfo]
    grids: dict[str, list[list[str]]]
    charts: dict[str, int] = field(default_factory=dict)  # tab title -> number of charts

    def has(self, title: str) -> bool:
        return title in self.tabs

    def grid(self, title: str) -> list[list[str]]:
        return self.grids.get(title, [])

    @property
    def state(self) -> dict[str, str]:
        """The key/value rows of the hidden state tab (empty before the first write)."""
        out: dict[str, str] = {}
        for row in self.grid(STATE_TAB)[1:]:
            if row and row[0]:
                out[row[0]] = row[1] if len(row) > 1 else ""
        return out

    @property
    def state_sheet_id(self) -> int | None:
        info = self.tabs.get(STATE_TAB)
        return info.sheet_id if info else None


@dataclass
class TabFrame:
    """A tab as a DataFrame of text, with where each column physically sits in the sheet."""

    title: str
    frame: pd.DataFrame
    layout: dict[str, int]  # column name in frame -> 0-based column index in the sheet
    missing: list[str] = field(default_factory=list)  # template columns not found in the header


def _norm_header(text: str) -> str:
    return re.sub(r"[\s_]+", " ", text).strip().casefold()


def _trim(row: list[str]) -> list[str]:
    end = len(row)
    while end and row[end - 1] == "":
        end -= 1
    return row[:end]


def parse_snapshot(spreadsheet_id: str, body: dict[str, Any]) -> Snapshot:
    """Turn a `spreadsheets.get` (grid data, formatted values) body into a Snapshot."""
    tabs: dict[str, TabInfo] = {}
    grids: dict[str, list[list[str]]] = {}
    charts: dict[str, int] = {}
    for sheet in body.get("sheets", []):
        props = sheet.get("properties", {})
        grid_props = props.get("gridProperties", {})
        info = TabInfo(
            sheet_id=int(props.get("sheetId", 0)),
            title=str(props.get("title", "")),
            index=int(props.get("index", 0)),
            rows=int(grid_props.get("rowCount", 0)),
            cols=int(grid_props.get("columnCount", 0)),
            hidden=bool(props.get("hidden", False)),
            frozen_rows=int(grid_props.get("frozenRowCount", 0)),
        )
        tabs[info.title] = info
        charts[info.title] = len(sheet.get("charts", []) or [])
        rows: list[list[str]] = []
        for block in sheet.get("data", []) or []:
            # With no `ranges`, each sheet has one GridData block starting at A1.
            for row in block.get("rowData", []) or []:
                values = row.get("values", []) or []
                rows.append(_trim([str(v.get("formattedValue", "")) if v else "" for v in values]))
        while rows and not rows[-1]:
            rows.pop()
        grids[info.title] = rows
    title = str(body.get("properties", {}).get("title", ""))
    return Snapshot(
        spreadsheet_id=spreadsheet_id, title=title, tabs=tabs, grids=grids, charts=charts
    )


def read_snapshot(
    ws: Workspace, spreadsheet_id: str, what: str = "Reading the spreadsheet"
) -> Snapshot:
    """Read the whole spreadsheet (properties, values and chart counts of every tab) in one request."""
    client = ws.sheets()
    try:
        response = client.http_client.request(
            "get",
            SPREADSHEET_URL % spreadsheet_id,
            params={"includeGridData": "true", "fields": READ_FIELDS},
        )
    except Exception as exc:
        if http_status(exc) is None:
            raise
        raise translate(exc, what) from None
    return parse_snapshot(spreadsheet_id, response.json())


def tab_frame(snapshot: Snapshot, tab: TabLike) -> TabFrame:
    """The tab as a frame: template columns by key (wherever they sit), extra columns by header."""
    if not snapshot.has(tab.title):
        raise NotFoundError(
            f"The tab '{tab.title}' is missing from the spreadsheet (deleted or renamed?).",
            fix="restore it from File > Version history, rename it back, or run `gsync sheet init` "
            "to recreate it.",
        )
    grid = snapshot.grid(tab.title)
    header = grid[0] if grid else []
    by_header = {}
    for col in tab.columns:
        by_header[_norm_header(col.header)] = col.key
        by_header.setdefault(_norm_header(col.key), col.key)
    layout: dict[str, int] = {}
    for idx, text in enumerate(header):
        if not text:
            continue
        name = by_header.get(_norm_header(text), text)
        if name in layout:
            raise ConfigError(
                f"The tab '{tab.title}' has the column '{text}' twice (columns {layout[name] + 1} and {idx + 1}).",
                fix="rename or delete one of them.",
            )
        layout[name] = idx
    missing = [c.key for c in tab.columns if c.key not in layout]
    names = list(layout)
    body = grid[1:]
    if names and body:
        frame = pd.DataFrame(
            _object_block(body, [layout[name] for name in names]).T,
            columns=names,
            dtype=object,
            copy=False,
        )
    else:
        frame = pd.DataFrame({name: [] for name in names}, columns=names, dtype=object)
    for key in missing:
        frame[key] = ""
    return TabFrame(title=tab.title, frame=frame, layout=layout, missing=missing)


#: Rows of a grid turned into an array at a time by `_object_block` (their transposition stays in
#: the CPU's cache).
_BLOCK_ROWS = 1024


def _object_block(body: Sequence[list[str]], positions: list[int]) -> np.ndarray:
    """The grid rows' cells at sheet columns `positions` (increasing) as one C-ordered object
    array of shape (columns, rows): the frame's block as `pd.DataFrame` builds it from one list
    per column, with the very str objects read and "" past a row's end.

    Built a slice of rows at a time (padded or cut to the width needed, turned into an array by
    pandas' `to_object_array`, twice as fast as numpy's own conversion of nested lists, and
    transposed into place) instead of transposing the whole grid with zip and then copying each
    column's list (issue 7: the 100k steady night's seven tabs, 0.53 -> 0.19 -> 0.13 s).
    """
    width = positions[-1] + 1
    every = positions == list(range(width))
    n = len(body)
    out = np.empty((len(positions), n), dtype=object)
    for lo in range(0, n, _BLOCK_ROWS):
        rows = [
            r if len(r) == width else (r + [""] * (width - len(r)) if len(r) < width else r[:width])
            for r in body[lo : lo + _BLOCK_ROWS]
        ]
        block = _object_rows(rows, width)  # (rows, width): every row is that wide
        out[:, lo : lo + len(rows)] = block.T if every else block[:, positions].T
    return out


def cell(value: Any) -> dict[str, Any]:
    """CellData for a value: text stays text (never a formula); numbers and booleans keep their type."""
    kind = type(value)
    if kind is str:  # the common case first: profiled hot in every write (bench/RESULTS.md)
        return {"userEnteredValue": {"stringValue": value}} if value else {}
    if kind is int or (kind is float and value == value):  # numbers of the derived tabs; not NaN
        return {"userEnteredValue": {"numberValue": value}}
    if value is None or (isinstance(value, str) and value == ""):
        return {}
    if isinstance(value, bool):
        return {"userEnteredValue": {"boolValue": value}}
    if isinstance(value, int | float) and not pd.isna(value):
        return {"userEnteredValue": {"numberValue": value}}
    return {"userEnteredValue": {"stringValue": str(value)}}


def _cells(values: Iterable[Any]) -> list[dict[str, Any]]:
    """`cell` of every value, with its text case inlined (the hot path of every write).

    Every cell gets its own dicts (never one shared object), as `cell` gives them.
    """
    return [
        ({"userEnteredValue": {"stringValue": v}} if v else {}) if type(v) is str else cell(v)
        for v in values
    ]


def _cell_rows(rows: Iterable[Sequence[Any]]) -> list[dict[str, Any]]:
    """RowData for rows of values."""
    return [{"values": _cells(r)} for r in rows]


#: The text of a cell before its JSON-escaped string (`_cell_json`), and `json.dumps`'s escaping
#: of a str with ensure_ascii=False (the very function the json encoder calls).
_TEXT_HEAD = '{"userEnteredValue":{"stringValue":'
_NUMBER_HEAD = '{"userEnteredValue":{"numberValue":'
_escape: Callable[[str], str] = json.encoder.encode_basestring


def _cell_json(value: Any) -> str:
    """`writebatch.encode(cell(value))` as text: text and finite numbers written out directly."""
    kind = type(value)
    if kind is str:
        return _TEXT_HEAD + _escape(value) + "}}" if value else "{}"
    if kind is int or (kind is float and math.isfinite(value)):  # json writes repr (not bool)
        return _NUMBER_HEAD + repr(value) + "}}"
    return json.dumps(cell(value), ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def _row_json(row: Iterable[Any]) -> bytes:
    """`writebatch.encode({"values": _cells(row)})`, straight from the values."""
    texts = [
        (_TEXT_HEAD + _escape(v) + "}}" if v else "{}") if type(v) is str else _cell_json(v)
        for v in row
    ]
    return ('{"values":[' + ",".join(texts) + "]}").encode()


class CellBlock:
    """A values-only `updateCells` as the plan keeps it: its start and its values as given (text,
    numbers, booleans, blanks: what `cell` accepts), by rows or, for appended rows, by columns
    (None: a column left blank). Its CellData dicts are built only when asked (`request`) and its
    JSON straight from the values (`encoded`); issue 7: a first night writes millions of cells,
    and two dicts per cell were most of the run's memory.

    By rows, the block may be `count` rows of a longer list from row `first` (the blocks of one
    span of changed columns share its rows: `WritePlan._write_changed`); `count` 0: all of them
    from `first`."""

    __slots__ = ("col0", "columns", "count", "first", "row0", "rows", "sheet")
    fields = "userEnteredValue"

    def __init__(
        self,
        sheet: int,
        row0: int,
        col0: int,
        *,
        rows: Sequence[Sequence[Any]] | None = None,
        columns: list[Sequence[Any] | None] | None = None,
        count: int = 0,
        first: int = 0,
    ) -> None:
        self.sheet, self.row0, self.col0 = sheet, row0, col0
        self.rows = rows
        self.columns = columns
        self.first = first
        self.count = len(rows) - first if rows is not None and not count else count

    def __len__(self) -> int:
        return self.count

    def values(self, lo: int = 0, hi: int | None = None) -> Iterable[Sequence[Any]]:
        """The values of rows [lo, hi)."""
        hi = self.count if hi is None else min(hi, self.count)
        if self.rows is not None:
            if self.first or lo < 0 or hi < 0:  # as a slice of its own rows would give them
                own = range(self.first, self.first + self.count)[lo:hi]
                lo, hi = own.start, own.stop
            return self.rows[lo:hi]
        assert self.columns is not None
        if not self.columns:
            return [()] * max(hi - lo, 0)
        n = max(hi - lo, 0)
        return zip(
            *[c[lo:hi] if c is not None else repeat("", n) for c in self.columns], strict=True
        )

    def encoded(self, lo: int, hi: int) -> list[bytes]:
        """Rows [lo, hi), each as `writebatch.encode` gives its RowData dict."""
        return [_row_json(r) for r in self.values(lo, hi)]

    def request(self) -> dict[str, Any]:
        """The request as a dict, as the plan once held it (new dicts at every call)."""
        return {
            "updateCells": {
                "start": {"sheetId": self.sheet, "rowIndex": self.row0, "columnIndex": self.col0},
                "rows": _cell_rows(self.values()),
                "fields": self.fields,
            }
        }


_new_object = object.__new__


def _shared_block(
    sheet: int, row0: int, col0: int, rows: list[list[Any]], first: int, count: int
) -> CellBlock:
    """`CellBlock(sheet, row0, col0, rows=rows, first=first, count=count)` (count > 0), its slots
    set without the keyword call (issue 7: a first night's 96k blocks)."""
    block = _new_object(CellBlock)
    block.sheet, block.row0, block.col0 = sheet, row0, col0
    block.rows, block.columns, block.first, block.count = rows, None, first, count
    return block


class TextRows(list[list[str]]):
    """Rows for `WritePlan.replace_tab` whose maker vouches that every cell is exactly a str and
    every row a list of its own that nobody changes after (the plan keeps it)."""


class Requests(Sequence[dict[str, Any]]):
    """A plan's requests as dicts, in order: raw requests as added, a `CellBlock`'s dict built
    when it is read (so counting the requests builds nothing)."""

    def __init__(self, items: list[dict[str, Any] | CellBlock]) -> None:
        self._items = items

    def __len__(self) -> int:
        return len(self._items)

    @overload
    def __getitem__(self, i: int) -> dict[str, Any]: ...
    @overload
    def __getitem__(self, i: slice) -> list[dict[str, Any]]: ...
    def __getitem__(self, i: int | slice) -> dict[str, Any] | list[dict[str, Any]]:
        if isinstance(i, slice):
            return [_request(item) for item in self._items[i]]
        return _request(self._items[i])

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return (_request(item) for item in self._items)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Requests | list | tuple):
            return len(self) == len(other) and all(a == b for a, b in zip(self, other, strict=True))
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return repr(list(self))


def _request(item: dict[str, Any] | CellBlock) -> dict[str, Any]:
    return item.request() if isinstance(item, CellBlock) else item


def _same(old: str, new: Any) -> bool:
    if new is None or (isinstance(new, float) and pd.isna(new)):
        return old == ""
    if isinstance(new, bool):
        return old.upper() == str(new).upper()
    if isinstance(new, int | float):
        try:
            return abs(float(old.replace(",", "")) - float(new)) < 1e-9
        except ValueError:
            return False
    return old == str(new)


def _same_cell(old: str, new: Any) -> bool:
    """`_same`, with its text and finite-number cases first (the cells of the derived tabs)."""
    kind = type(new)
    if kind is str:
        return old == new  # _same: old == str(new), and str(new) is new for exact str
    if kind is int or (kind is float and new == new):  # not NaN: _same's number case
        try:
            return abs(float(old.replace(",", "")) - float(new)) < 1e-9
        except ValueError:
            return False
    return _same(old, new)


def _rows_equal(old: Sequence[Sequence[str]], new: Sequence[Sequence[Any]]) -> bool:
    """Whether a grid as read (trailing empties trimmed) already shows `new`."""
    if len(old) != len(new):
        return False
    for o, n in zip(old, new, strict=True):
        if len(o) != len(n):  # pad the shorter with empties, as the cells beyond a row read ""
            width = max(len(o), len(n))
            o = [*o, *[""] * (width - len(o))]
            n = [*n, *[""] * (width - len(n))]
        for a, b in zip(o, n, strict=True):
            if not (a == b if type(b) is str else _same_cell(a, b)):
                return False
    return True


#: The cells `_changed_rows` compares a row at a time as texts: exactly these types (not bool,
#: which equals 1, nor subclasses, whose == or str may be their own).
_PLAIN_CELLS = frozenset((str, int, float))
_TEXT_CELLS = frozenset((str,))
#: Ints shown as `str(n)`: below this, float(n) cannot overflow (and str(n) is allowed).
_SHOWN_INT_LIMIT = 10**300


class _Shown(dict[Any, Any]):
    """A text or finite number -> a text `_same_cell` finds the same as it: the text itself, an
    int's str, an integral float's as an int's (0.0 -> "0", as the sheet shows it), another
    float's repr; a number without one (NaN, inf, a huge int) -> itself, which equals no text.

    Keyed by value, so 1 and 1.0 share an entry: its text is a valid one for both (float(text)
    is the number exactly). Only for cells of exactly str, int or float (`_PLAIN_CELLS`)."""

    def __missing__(self, value: Any) -> Any:
        shown = value
        kind = type(value)
        if kind is int:
            if -_SHOWN_INT_LIMIT < value < _SHOWN_INT_LIMIT:
                shown = str(value)
        elif kind is float and math.isfinite(value):
            shown = str(int(value)) if value.is_integer() and abs(value) < 1e16 else repr(value)
        self[value] = shown
        return shown


def _changed_rows(
    old: Sequence[Sequence[str]], rows: Sequence[Sequence[Any]], *, texts: bool = False
) -> list[int]:
    """The rows i that `_rows_equal` finds changed: `[i for i in range(max(len(old), len(rows)))
    if not _rows_equal(old[i : i + 1] or [[]], rows[i : i + 1] or [[]])]`.

    `texts`: the caller's word that every cell of `rows` is exactly a str (`replace_tab` of
    `TextRows`), so their types are not looked at (a pass over every cell: ~10 ms for the 100k
    trust's Risk tab of 464k cells).

    When every cell of `rows` is exactly a str, int or float (a derived tab) and every cell of
    `old` text (a read), a row is unchanged if it equals the row read as one list comparison,
    its numbers replaced by a text `_same_cell` accepts for them (`_Shown`: "12" for 12, "0" for
    0.0) and any cells beyond the row read "". Other rows (and every row of a tab with other
    cells, unless it is text only and equal) are compared cell by cell as `_rows_equal` does
    (`_row_same`), with the verdicts of `_same_cell` on a text read and an int or float kept by
    (type, text, number), as a tab's numbers repeat (issue 7: a 100k trust's 21 Summary tabs of
    2,391 rows, 100k cells of numbers with 1,425 distinct pairs; its Risk tab of 33k rows, each
    a cell "" longer than the row read).
    """
    kinds = _TEXT_CELLS if texts else set(map(type, chain.from_iterable(rows)))
    plain = kinds <= _PLAIN_CELLS
    show: Callable[[Any], Any] | None = None
    if plain and not kinds <= _TEXT_CELLS:  # numbers: compared as `_Shown` texts, to a read
        show = _Shown().__getitem__
        plain = set(map(type, chain.from_iterable(old))) <= _TEXT_CELLS
    verdicts: dict[tuple[type, str, Any], bool] = {}
    changed: list[int] = []
    for i, (o, n) in enumerate(zip(old, rows, strict=False)):
        if plain:
            shown = n if show is None else [*map(show, n)]
            width = len(o)
            if width == len(shown):
                if o == shown:
                    continue
            elif width < len(shown) and o == shown[:width] and not any(shown[width:]):
                continue
        elif len(o) == len(n):
            try:
                if o == n and set(map(type, n)) <= _TEXT_CELLS:
                    continue
            except Exception:  # a cell that is no text and refuses ==: compared below
                pass
        if not _row_same(o, n, verdicts):
            changed.append(i)
    # Rows only one side has, against an empty row: one whose first cell is text other than ""
    # differs there (`_row_same`'s first comparison), any other is compared cell by cell.
    for i in range(len(old), len(rows)):
        n = rows[i]
        if (n and type(n[0]) is str and n[0] != "") or not _row_same((), n, verdicts):
            changed.append(i)
    for i in range(len(rows), len(old)):
        o = old[i]
        if (o and type(o[0]) is str and o[0] != "") or not _row_same(o, (), verdicts):
            changed.append(i)
    return changed


def _row_same(
    o: Sequence[str], n: Sequence[Any], verdicts: dict[tuple[type, str, Any], bool]
) -> bool:
    """`_rows_equal([o], [n])`: cell by cell in order, the shorter row's missing cells ""
    (`verdicts`: `_same_cell`'s verdicts on a text and an int or float, kept by the caller)."""
    common = min(len(o), len(n))
    cells = (
        zip(o, n, strict=True)
        if len(o) == len(n)
        else chain(
            zip(o[:common], n[:common], strict=True),
            zip(o[common:], repeat("")),
            zip(repeat(""), n[common:]),
        )
    )
    for a, b in cells:
        kind = type(b)
        if kind is str:
            if a == b:
                continue
            return False
        if (kind is int or kind is float) and type(a) is str:
            key = (kind, a, b)
            verdict = verdicts.get(key)
            if verdict is None:
                verdict = verdicts[key] = _same_cell(a, b)
            if not verdict:
                return False
        elif not _same_cell(a, b):
            return False
    return True


class _CellsOf(Sequence[Any]):
    """A column read cell by cell with `iat` (columns of other dtypes than object)."""

    def __init__(self, frame: pd.DataFrame, j: int) -> None:
        self.frame, self.j = frame, j

    def __len__(self) -> int:
        return len(self.frame)

    def __getitem__(self, r: Any) -> Any:
        if isinstance(r, slice):
            return [self[i] for i in range(*r.indices(len(self)))]
        return self.frame.iat[r, self.j]

    def __iter__(self) -> Iterator[Any]:
        return (self.frame.iat[r, self.j] for r in range(len(self.frame)))


def _column_values(frame: pd.DataFrame, j: int) -> Sequence[Any]:
    """Column j's values as `frame.iat[r, j]` gives them.

    An object column's own values (the very objects, as `iat` returns them); any other dtype is
    read with `iat` itself, so its scalars keep the type `iat` gives (numpy or Python).
    """
    series = frame.iloc[:, j]
    if series.dtype == object:
        array = series.to_numpy()
        if isinstance(array, np.ndarray) and array.dtype == object:
            return list(array.tolist())
    return _CellsOf(frame, j)


def _text_column(series: pd.Series) -> np.ndarray:
    """The column as `series.fillna("").astype(str)` gives it: an object array of text.

    A column holding only text (str, as read from a sheet) is that already and is taken as it is
    (pandas' C check, no copy); only other columns go through fillna / astype (a 10k x 43
    frame's missing-value scan was most of a steady night's update_frame).
    """
    values = series.to_numpy() if series.dtype == object else None
    if (
        isinstance(values, np.ndarray)
        and values.dtype == object
        and infer_dtype(values, skipna=False) == "string"
    ):
        return values
    return np.asarray(series.astype(object).fillna("").astype(str).to_numpy(dtype=object))


def _texts(frame: pd.DataFrame) -> list[np.ndarray]:
    """`_text_column` of each column, by position."""
    return [_text_column(frame.iloc[:, j]) for j in range(frame.shape[1])]


def _texts_of(frame: pd.DataFrame, columns: Sequence[str]) -> list[np.ndarray]:
    """`_texts(frame.reindex(columns=columns, fill_value=""))` without copying the frame."""
    if not frame.columns.is_unique:
        return _texts(frame.reindex(columns=columns, fill_value=""))  # raises as reindex does
    blank = np.empty(len(frame), dtype=object)
    blank[:] = ""
    present = set(frame.columns)
    return [_text_column(frame[c]) if c in present else blank for c in columns]


def _addresses(values: np.ndarray) -> np.ndarray:
    """The addresses of an object array's elements (its own memory, no element touched)."""
    return np.frombuffer(np.ascontiguousarray(values).data.cast("B"), dtype=np.intp)


def _object_values(series: pd.Series) -> np.ndarray | None:
    """The series' values if it is an object column held as an object array (else None)."""
    if series.dtype != object:
        return None
    values = series.to_numpy()
    return values if isinstance(values, np.ndarray) and values.dtype == object else None


def _changed_cells(
    before_frame: pd.DataFrame, new: pd.DataFrame, columns: list[str], n_old: int
) -> tuple[np.ndarray, Callable[[int], Sequence[Any] | np.ndarray]]:
    """For frames with unique column names: the mask `update_frame` builds, `_texts_of(before,
    columns)[j] != _texts(new.iloc[:n_old][columns])[j]` for every column j, and column j's values
    as `_column_values` reads them from `new.iloc[:n_old][columns]`, without that copy.

    Where both sides of a column are object arrays, a cell holding the very same object on both
    sides has the same text (the text of a cell of an object column is the cell's alone: blank
    for a missing value, else `str`); those cells are found by comparing the arrays' element
    addresses, and only the others are turned into text and compared (issue 7: in a steady
    night nearly every cell the merge leaves is the object read: 99.4% of 6.56M at 100k).
    """
    mask = np.empty((n_old, len(columns)), dtype=bool, order="F")
    present = set(before_frame.columns)
    blank = np.empty(n_old, dtype=object)
    blank[:] = ""
    afters: list[pd.Series] = []
    for j, c in enumerate(columns):
        after = new[c].iloc[:n_old]
        afters.append(after)
        before = before_frame[c] if c in present else pd.Series(blank, dtype=object)
        old_values, new_values = _object_values(before), _object_values(after)
        if old_values is None or new_values is None:
            mask[:, j] = _text_column(before) != _text_column(after)
            continue
        differ = np.flatnonzero(_addresses(old_values) != _addresses(new_values))
        mask[:, j] = False
        if len(differ):
            mask[differ, j] = _text_column(
                pd.Series(old_values[differ], dtype=object)
            ) != _text_column(pd.Series(new_values[differ], dtype=object))

    def values_of(j: int) -> Sequence[Any] | np.ndarray:
        values = _object_values(afters[j])
        if values is not None:
            return values  # its very objects, as `iat` gives them
        return _CellsOf(new, int(new.columns.get_loc(columns[j])))

    return mask, values_of


def _not_blank(values: list[Any]) -> int:
    """How many of the values are not blank: `sum(v not in ("", None) for v in values)`, counted
    by `list.count` when every value is a str (a str is blank only when it equals "")."""
    if set(map(type, values)) <= {str}:
        return len(values) - values.count("")
    return sum(1 for v in values if v not in ("", None))


def _sorted_runs(indexes: list[int]) -> list[tuple[int, int]]:
    """`_runs(indexes)` of increasing integers (no repeats), by numpy."""
    if not indexes:
        return []
    at = np.asarray(indexes, dtype=np.int64)
    breaks = np.flatnonzero(np.diff(at) != 1) + 1
    starts = at[np.concatenate(([0], breaks))].tolist()
    ends = (at[np.concatenate((breaks - 1, [len(at) - 1]))] + 1).tolist()
    return list(zip(starts, ends, strict=True))


def _runs(indexes: Iterable[int]) -> list[tuple[int, int]]:
    """Contiguous runs [start, end) of sorted integers."""
    runs: list[tuple[int, int]] = []
    for i in sorted(indexes):
        if runs and runs[-1][1] == i:
            runs[-1] = (runs[-1][0], i + 1)
        else:
            runs.append((i, i + 1))
    return runs


class WritePlan:
    """Requests for one atomic batchUpdate, built tab by tab, printable for --dry-run."""

    def __init__(self, snapshot: Snapshot) -> None:
        self.snapshot = snapshot
        #: The requests in order: raw request dicts, and cell writes as compact `CellBlock`s.
        self.items: list[dict[str, Any] | CellBlock] = []
        self.changes: list[str] = []
        self.force = False  # write the state tab even with no other request
        self._used_ids = {t.sheet_id for t in snapshot.tabs.values()}
        self._sizes = {t.title: (t.rows, t.cols) for t in snapshot.tabs.values()}
        self._ids = {t.title: t.sheet_id for t in snapshot.tabs.values()}

    @property
    def requests(self) -> Requests:
        """The requests as dicts (`Requests`: each cell block's dicts built when read)."""
        return Requests(self.items)

    @property
    def is_empty(self) -> bool:
        return not self.items and not self.force

    def new_sheet_id(self) -> int:
        while True:
            candidate = random.randint(1, MAX_SHEET_ID)
            if candidate not in self._used_ids:
                self._used_ids.add(candidate)
                return candidate

    def sheet_id(self, title: str) -> int:
        return self._ids[title]

    def add_tab(
        self,
        title: str,
        *,
        rows: int = 1000,
        cols: int = 26,
        hidden: bool = False,
        frozen_rows: int = 0,
    ) -> int:
        """Add a tab (with an id chosen here so later requests in the batch can refer to it)."""
        sheet_id = self.new_sheet_id()
        grid: dict[str, Any] = {"rowCount": rows, "columnCount": cols}
        if frozen_rows:
            grid["frozenRowCount"] = frozen_rows
        props: dict[str, Any] = {"sheetId": sheet_id, "title": title, "gridProperties": grid}
        if hidden:
            props["hidden"] = True
        self.items.append({"addSheet": {"properties": props}})
        self._ids[title] = sheet_id
        self._sizes[title] = (rows, cols)
        self.changes.append(f"add tab '{title}'")
        return sheet_id

    def ensure_size(self, title: str, rows: int, cols: int) -> None:
        """Grow the tab's grid (never shrink) so `rows` x `cols` fit."""
        have_rows, have_cols = self._sizes[title]
        sheet_id = self._ids[title]
        if rows > have_rows:
            self.items.append(
                {
                    "appendDimension": {
                        "sheetId": sheet_id,
                        "dimension": "ROWS",
                        "length": rows - have_rows,
                    }
                }
            )
        if cols > have_cols:
            self.items.append(
                {
                    "appendDimension": {
                        "sheetId": sheet_id,
                        "dimension": "COLUMNS",
                        "length": cols - have_cols,
                    }
                }
            )
        self._sizes[title] = (max(rows, have_rows), max(cols, have_cols))

    def write_rows(self, title: str, row0: int, col0: int, rows: Sequence[Sequence[Any]]) -> None:
        """Write a block of values at (row0, col0), 0-based; empty values clear cells."""
        if not rows:
            return
        self._write_block(title, row0, col0, [list(r) for r in rows])

    def _write_block(
        self,
        title: str,
        row0: int,
        col0: int,
        rows: Sequence[Sequence[Any]],
        width: int | None = None,
    ) -> None:
        """`write_rows` of rows the plan may keep as they are (no one else changes them);
        `width`, if given, is the length of every row."""
        if not rows:
            return
        if width is None:
            width = max(len(r) for r in rows)
        self.ensure_size(title, row0 + len(rows), col0 + width)
        self.items.append(CellBlock(self._ids[title], row0, col0, rows=rows))

    def update_frame(
        self, old: TabFrame, new: pd.DataFrame, *, writable: set[str] | None = None
    ) -> int:
        """Write the cells where `new` differs from `old` (row order kept; new rows appended).

        `writable`: the columns the caller may change in existing rows (sync-owned); others are
        never written there. Columns the sheet lacks are not written (`sheet init` adds them).
        Returns the number of cells written.
        """
        if len(new) < len(old.frame):
            raise GsyncError(
                f"Refusing to write '{old.title}': the new version has fewer rows than the sheet.",
                fix="this is a bug in gsync (rows are never deleted); report it.",
            )
        layout = old.layout
        written = 0
        # Existing rows: only the writable (sync-owned) columns. New rows: every known column.
        all_columns = [c for c in new.columns if c in layout]
        columns = [c for c in all_columns if writable is None or c in writable]
        n_old = len(old.frame)
        if n_old and columns:
            if old.frame.columns.is_unique and new.columns.is_unique:
                mask, values_of = _changed_cells(old.frame, new, columns, n_old)
            else:  # as before (a repeated name raises as reindex or zip does)
                after_frame = new.iloc[:n_old][columns]
                mask = np.empty((n_old, len(columns)), dtype=bool, order="F")
                for j, (before, after) in enumerate(
                    zip(_texts_of(old.frame, columns), _texts(after_frame), strict=True)
                ):
                    mask[:, j] = before != after

                def values_of(j: int) -> Sequence[Any]:
                    return _column_values(after_frame, j)

            written += self._write_changed(old.title, mask, values_of, [layout[c] for c in columns])
        if len(new) > n_old:
            written += self._write_new_rows(old.title, new, n_old, all_columns, layout)
            self.changes.append(f"'{old.title}': {len(new) - n_old} new row(s)")
        if written:
            self.changes.append(f"'{old.title}': {written} cell(s) written")
        return written

    def _write_changed(
        self,
        title: str,
        mask: Any,
        values_of: Callable[[int], Sequence[Any] | np.ndarray],
        positions: list[int],
    ) -> int:
        """Write the changed cells of existing rows (`mask`: rows x columns; `values_of(j)`:
        column j's values as `iat` gives them).

        Consecutive rows whose changed cells span the same sheet columns share one updateCells
        block: the same cells, far fewer requests (7,639 for 3k rows before; bench/RESULTS.md).
        A span is a run of adjacent sheet columns changed in a row (between unchanged ones);
        its blocks are the runs of consecutive changed rows that all change exactly it. The
        blocks are found span by span with numpy and written in the order a pass over the rows
        ends them (a row ends each block of the row before that it does not continue; those
        still open at the end, by first row), each block's rows built from whole columns
        (issue 7: 81k changed rows, 96k blocks on a first night at 100k). Returns the cells
        written.
        """
        rows_changed = np.flatnonzero(mask.any(axis=1))
        n = len(rows_changed)
        if not n:
            return 0
        if len(set(positions)) != len(positions):  # a sheet column named twice
            return self._write_changed_rows(title, mask, values_of, positions)
        sub = np.ascontiguousarray(mask[rows_changed])
        packed = np.ascontiguousarray(np.packbits(sub, axis=1))
        keys = packed.view(np.dtype((np.void, packed.shape[1]))).ravel()
        _, firsts, pattern = np.unique(keys, return_index=True, return_inverse=True)
        column_at = {p: j for j, p in enumerate(positions)}  # sheet position -> column
        spans: dict[tuple[int, int], int] = {}  # span -> its number
        held: list[list[int]] = []  # per pattern, its spans' numbers
        for first in firsts.tolist():
            runs = _runs(positions[j] for j in np.flatnonzero(sub[first]).tolist())
            held.append([spans.setdefault(span, len(spans)) for span in runs])
        if len(spans) > 256:  # too many kinds of block for a pass per span: row by row
            return self._write_changed_rows(title, mask, values_of, positions)
        has = np.zeros((len(held), len(spans)), dtype=bool)
        for u, numbers in enumerate(held):
            has[u, numbers] = True
        # A changed row continues the row before's blocks only if it is the next sheet row.
        follows = np.zeros(n, dtype=bool)
        follows[1:] = np.diff(rows_changed) == 1
        pattern = pattern.reshape(-1)
        columns: dict[int, Sequence[Any] | np.ndarray] = {}
        ends: list[np.ndarray] = []  # per span, its blocks' ends, starts and left columns
        starts: list[np.ndarray] = []
        lefts: list[np.ndarray] = []
        widths: list[np.ndarray] = []
        offsets: list[np.ndarray] = []  # per span, its blocks' first rows in its rows
        tables: list[list[list[Any]]] = []  # per span, the rows its blocks share
        written = 0
        for span, number in spans.items():
            at = np.flatnonzero(has[pattern, number])  # the changed rows (their order) with it
            breaks = np.ones(len(at), dtype=bool)
            breaks[1:] = (np.diff(at) != 1) | ~follows[at[1:]]
            first = np.flatnonzero(breaks)
            last = np.append(first[1:], len(at)) - 1  # each block's first and last of `at`
            cols = [column_at[p] for p in range(*span)]
            for j in cols:
                if j not in columns:
                    columns[j] = values_of(j)
            sheet_rows = rows_changed[at]
            pick = itemgetter(*sheet_rows.tolist()) if len(at) > 1 else None
            picked = [
                column[sheet_rows].tolist()
                if isinstance(column := columns[j], np.ndarray)
                else pick(column)
                if pick is not None
                else [column[int(sheet_rows[0])]]
                for j in cols
            ]
            values = list(map(list, zip(*picked, strict=True)))
            width = span[1] - span[0]
            written += width * len(at)
            ends.append(at[last] + 1)  # the pass ends the block at the row after its last
            starts.append(at[first])
            lefts.append(np.full(len(first), span[0]))
            widths.append(np.full(len(first), width))
            offsets.append(first)
            tables += repeat(values, len(first))
        # Each block as `count` rows of its span's rows from `first` (not a list of its own: a
        # first night's 96k blocks, most of one row).
        order = np.lexsort((np.concatenate(lefts), np.concatenate(starts), np.concatenate(ends)))
        at_start = np.concatenate(starts)[order]
        begins = (rows_changed[at_start] + 1).tolist()
        counts = (np.concatenate(ends)[order] - at_start).tolist()
        from_row = np.concatenate(offsets)[order].tolist()
        left_of = np.concatenate(lefts)[order].tolist()
        shared = [tables[k] for k in order.tolist()]
        sheet_id = self._ids[title]
        have_rows, have_cols = self._sizes[title]
        items = self.items
        if int(rows_changed[-1]) + 2 <= have_rows and max(r for _, r in spans) <= have_cols:
            # Every block fits the sheet as it is (`ensure_size` would do nothing).
            items += map(_shared_block, repeat(sheet_id), begins, left_of, shared, from_row, counts)
            return written
        right_of = (np.concatenate(lefts)[order] + np.concatenate(widths)[order]).tolist()
        for row0, left, right, rows, f, c in zip(
            begins, left_of, right_of, shared, from_row, counts, strict=True
        ):
            if row0 + c > have_rows or right > have_cols:
                self.ensure_size(title, row0 + c, right)
                have_rows, have_cols = self._sizes[title]
            items.append(CellBlock(sheet_id, row0, left, rows=rows, first=f, count=c))
        return written

    def _write_changed_rows(
        self,
        title: str,
        mask: Any,
        values_of: Callable[[int], Sequence[Any] | np.ndarray],
        positions: list[int],
    ) -> int:
        """`_write_changed` row by row: each changed row's pattern of changed columns (computed
        once per pattern) extends the blocks of the row before that it continues and ends the
        others (the way for sheet columns that two of the frame's columns name)."""
        rows_changed = np.flatnonzero(mask.any(axis=1))
        sub = mask[rows_changed]
        packed = np.ascontiguousarray(np.packbits(sub, axis=1))
        key_width = packed.shape[1]
        keys = packed.tobytes()
        # pattern -> its spans [((start, end), column index of each cell)] and the set of spans
        shapes: dict[bytes, tuple[list[tuple[tuple[int, int], list[int]]], set[tuple[int, int]]]]
        shapes = {}
        columns: dict[int, Sequence[Any] | np.ndarray] = {}
        blocks: dict[tuple[int, int], tuple[int, list[list[Any]]]] = {}  # span -> (row0, rows)
        written = 0
        for i, r in enumerate(rows_changed.tolist()):
            key = keys[i * key_width : (i + 1) * key_width]
            shape = shapes.get(key)
            if shape is None:
                at: dict[int, int] = {}  # sheet position -> column (the last one wins)
                for j in np.flatnonzero(sub[i]).tolist():
                    at[positions[j]] = j
                    if j not in columns:
                        columns[j] = values_of(j)
                runs = _runs(at)
                shape = shapes[key] = (
                    [(span, [at[p] for p in range(*span)]) for span in runs],
                    set(runs),
                )
            spans, span_set = shape
            for span in [
                s for s, (r0, rows) in blocks.items() if s not in span_set or r0 + len(rows) != r
            ]:
                r0, rows = blocks.pop(span)
                self._write_block(title, r0 + 1, span[0], rows, span[1] - span[0])
            for span, cols in spans:
                values = [columns[j][r] for j in cols]
                if span in blocks:
                    blocks[span][1].append(values)
                else:
                    blocks[span] = (r, [values])
                written += span[1] - span[0]
        for span, (r0, rows) in sorted(blocks.items(), key=lambda b: b[1][0]):
            self._write_block(title, r0 + 1, span[0], rows, span[1] - span[0])
        return written

    def _write_new_rows(
        self,
        title: str,
        new: pd.DataFrame,
        n_old: int,
        all_columns: list[str],
        layout: dict[str, int],
    ) -> int:
        """Append `new`'s rows after the first `n_old`: every known column at its sheet position.

        Built column by column (whole columns, not one `iat` per cell). Returns the cells written.
        """
        locs = [new.columns.get_loc(c) for c in all_columns]
        for loc in locs:
            if not isinstance(loc, int | np.integer):
                new.iat[n_old, loc]  # a duplicated column name: raises as a per-cell read does
        width = max(layout[c] for c in all_columns) + 1 if all_columns else 0
        count = len(new) - n_old
        tail = new.iloc[n_old:]
        at = {layout[c]: int(loc) for c, loc in zip(all_columns, locs, strict=True)}
        values: dict[int, list[Any]] = {}
        filled: dict[int, int] = {}  # a column of text: its cells that are not blank
        for p, j in at.items():
            series = tail.iloc[:, j]
            array = series.to_numpy() if series.dtype == object else None
            if isinstance(array, np.ndarray) and array.dtype == object:
                values[p] = got = array.tolist()
                # Every cell a str (pandas' C check): blank only when it equals "".
                if infer_dtype(array, skipna=False) == "string":
                    filled[p] = len(got) - got.count("")
            else:
                values[p] = list(_CellsOf(tail, j))
        self.ensure_size(title, n_old + 1 + count, width)
        columns: list[Sequence[Any] | None] = [values.get(p) for p in range(width)]
        self.items.append(CellBlock(self._ids[title], n_old + 1, 0, columns=columns, count=count))
        return sum(filled[p] if p in filled else _not_blank(values[p]) for p in sorted(values))

    def replace_tab(
        self,
        title: str,
        rows: Sequence[Sequence[Any]],
        *,
        hidden: bool = False,
        frozen_rows: int = 1,
    ) -> bool:
        """Make a sync-owned tab hold exactly `rows` (created if missing). False if already so.

        `rows` as `TextRows` are the caller's word that every cell is exactly a str and every row
        a list made for this call, which the plan may keep (nobody changes it after): the cells'
        types are then not checked and a row as wide as the tab is written as it is, not copied
        (issue 7: the Risk tab's 33k rows). The plan is the same as for the rows as a list."""
        texts = type(rows) is TextRows
        width = max(map(len, rows), default=0)
        if title in self.snapshot.tabs:
            old = self.snapshot.grid(title)
            # Only the rows that differ are written (whole rows, as wide as either version), so
            # a nightly rewrite of a large derived tab stays small (issue 7: request size).
            changed = _changed_rows(old, rows, texts=texts)
            if not changed:
                return False
            old_width = max(map(len, old), default=0)
            width_all = max(width, old_width)
            # Rows the caller hands over, all lists as wide as the tab: written as they are.
            kept = (
                texts
                and width == width_all
                and min(map(len, rows), default=0) == width
                and all(type(r) is list for r in rows)
            )
            for start, end in _sorted_runs(changed):
                block = (
                    list(rows[start:end])
                    if kept
                    else [
                        list(r) if len(r) == width_all else [*r, *[""] * (width_all - len(r))]
                        for r in rows[start:end]
                    ]
                )
                block += [[""] * width_all for _ in range(end - start - len(block))]
                self._write_block(title, start, 0, block, width_all)  # every row that wide
            self.changes.append(
                f"rewrite tab '{title}' ({len(changed)} of {len(rows)} rows changed)"
            )
            return True
        self.add_tab(
            title,
            rows=max(len(rows) + 10, 20),
            cols=max(width, 5),
            hidden=hidden,
            frozen_rows=frozen_rows,
        )
        self._write_block(title, 0, 0, [r if texts and type(r) is list else list(r) for r in rows])
        return True

    def extend(self, requests: Iterable[dict[str, Any]], change: str | None = None) -> None:
        """Add raw requests (formatting, validation, charts...)."""
        before = len(self.items)
        self.items.extend(requests)
        if change and len(self.items) > before:
            self.changes.append(change)


def state_rows(state: dict[str, str]) -> list[list[str]]:
    return [["key", "value"], *[[k, state[k]] for k in sorted(state)]]


WRITE_IN_PROGRESS = "write_in_progress"


def _guard(old_state_id: int | None, new_state_id: int, state: dict[str, str]) -> list[bytes]:
    """The requests that start every write body: replace the state tab (the concurrency token)."""
    guard: list[dict[str, Any]] = []
    if old_state_id is not None:
        guard.append({"deleteSheet": {"sheetId": old_state_id}})
    rows = state_rows(state)
    guard.append(
        {
            "addSheet": {
                "properties": {
                    "sheetId": new_state_id,
                    "title": STATE_TAB,
                    "hidden": True,
                    "gridProperties": {"rowCount": max(len(rows) + 20, 50), "columnCount": 2},
                }
            }
        }
    )
    guard.append(
        {
            "updateCells": {
                "start": {"sheetId": new_state_id, "rowIndex": 0, "columnIndex": 0},
                "rows": [{"values": [cell(v) for v in r]} for r in rows],
                "fields": "userEnteredValue",
            }
        }
    )
    return [writebatch.encode(g) for g in guard]


def apply_plan(
    ws: Workspace,
    plan: WritePlan,
    state: dict[str, str],
    *,
    max_bytes: int | None = None,
) -> dict[str, Any] | None:
    """Send the plan as one atomic batchUpdate, guarded by the state tab's id. None if empty.

    `state` is the new content of the state tab (written in the same batch). A plan too large
    for one request body (`max_bytes`, by default `writebatch.DEFAULT_MAX_BYTES`, under Google's
    10 MiB) is sent as several batchUpdates cut between sheet rows (`gsync.writebatch`), each
    guarded by the state tab the previous one wrote; until the last lands, the state tab says
    `write_in_progress` (part k of n). Returns the last response.
    """
    if plan.is_empty:
        return None
    snapshot = plan.snapshot
    final = {k: v for k, v in state.items() if k != WRITE_IN_PROGRESS}
    try:
        limit = max_bytes or writebatch.DEFAULT_MAX_BYTES
        bodies = writebatch.cut(plan.items, limit - _GUARD_ROOM)
    except writebatch.TooLarge as exc:
        raise GsyncError(
            f"This change is too large for one Google Sheets request ({exc}).",
            fix="make the change in smaller steps (for example, fewer pupils at a time).",
        ) from None
    client = ws.sheets()
    url = SPREADSHEET_BATCH_UPDATE_URL % snapshot.spreadsheet_id
    held_id = snapshot.state_sheet_id
    total = len(bodies)
    result: dict[str, Any] = {}
    for k, parts in enumerate(bodies, start=1):
        new_id = plan.new_sheet_id()
        marker = dict(snapshot.state)
        marker[WRITE_IN_PROGRESS] = f"part {k} of {total}, {final.get('last_write', '')}".strip(
            ", "
        )
        guard = _guard(held_id, new_id, final if k == total else marker)
        what = "Writing the spreadsheet" + (f" (part {k} of {total})" if total > 1 else "")
        data = writebatch.body(guard + parts)
        try:
            response = client.http_client.request(
                "post",
                url,
                data=data,
                headers={"Content-Type": "application/json; charset=utf-8"},
            )
        except Exception as exc:
            status = http_status(exc)
            if status is None:
                raise
            done = (
                f" {k - 1} of the write's {total} parts were written; the next run completes it."
                if k > 1
                else " This run wrote nothing."
            )
            if status == 400 and _state_moved(ws, snapshot, held_id):
                raise LockedError(
                    "Another gsync run wrote to this spreadsheet after this run read it." + done,
                    fix="run again: it will start from the other run's result (nothing is lost).",
                ) from None
            err = translate(exc, what)
            if k > 1:
                err.message += done
                err.args = (err.render(),)
            raise err from None
        result = dict(response.json())
        held_id = new_id
        if total > 1:
            log.info("wrote part %d of %d (%d bytes)", k, total, len(data))
    return result


#: Room kept in every body for the guard requests (`_guard`: the state tab, well under 4 KB).
_GUARD_ROOM = 16_384


def _state_moved(ws: Workspace, snapshot: Snapshot, held_id: int | None) -> bool:
    """After a refused write: is the state tab no longer the one this run holds (read or last
    wrote), that is, did another run write?"""
    try:
        current = read_snapshot(ws, snapshot.spreadsheet_id)
    except GsyncError:
        return False
    return current.state_sheet_id != held_id


def create_spreadsheet(ws: Workspace, title: str, folder_id: str | None = None) -> str:
    """Create an empty spreadsheet through Drive (works in a Shared Drive folder); its id."""
    body: dict[str, Any] = {"name": title, "mimeType": "application/vnd.google-apps.spreadsheet"}
    if folder_id:
        body["parents"] = [folder_id]
    request = ws.drive().files().create(body=body, fields="id", supportsAllDrives=True)
    created = ws.execute(request, "Drive files.create")
    return str(created["id"])
