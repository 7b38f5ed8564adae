"""A write plan as request bodies no larger than Google accepts (pure: no I/O).

Google's front end refuses a request body over 10 MiB ("Request payload size exceeds the limit:
10485760 bytes", 400) and recommends at most 2 MB. A steady night's write is far below that, but
the first night of a large trust (every response new: 54 MB at 20 schools x 750 pupils, see
bench/RESULTS.md) is not, and neither is one `updateCells` of 13,000 new Responses rows.

`split` keeps one body when it fits. Otherwise it cuts the plan into several, *row-whole*:

- every request that is not a cell write (new tabs, grid growth, formats, charts) goes into the
  first body, in its order, so later bodies only write cells into grids that already exist;
- cell writes (`updateCells` from a start cell, values only) are cut into row ranges, and every
  cell of one sheet row goes into the same body, in the plan's order. A run that stops between
  bodies therefore leaves each row either as it was or as the run meant it (a Destinations row's
  answer cells never without their `sync_hash`), which the next run completes: the merge
  re-derives every row from the Responses log each night.

Plans with requests that move cells (deleting or inserting rows, sorting...) are never cut: row
positions would change between bodies. They are small (the erasure command); `split` raises
`TooLarge` for one that does not fit rather than send what Google would refuse.

A cell write comes either as a request dict or as a `CellRows` (the write plan's compact block of
plain values, `sheetio.CellBlock`), which encodes its rows when asked: the same text as the dict
would give. `cut` measures every row first (keeping the text only while it fits in one body), then
builds each body's text only when that body is taken (issue 7: a first night's plan is millions of
cells, and its dicts or its whole text were most of the run's memory).
"""

from __future__ import annotations

import json
from array import array
from collections.abc import Iterator, Sequence
from itertools import accumulate, islice
from typing import Any, Protocol

#: Google's front-end limit on a request body (bytes).
GOOGLE_MAX_BYTES = 10_485_760
#: The largest body gsync sends: under Google's limit with room for the guard requests that
#: `sheetio.apply_plan` adds to every body (the state tab, about 1 KB).
DEFAULT_MAX_BYTES = 8 * 2**20
#: Requests that may be moved ahead of the cell writes of the same plan (they neither move cells
#: nor depend on cell values).
_MOVABLE = frozenset(
    {
        "addSheet",
        "appendDimension",
        "updateSheetProperties",
        "updateDimensionProperties",
        "setDataValidation",
        "repeatCell",
        "addProtectedRange",
        "addConditionalFormatRule",
        "addChart",
    }
)
_ROWS_PER_BUCKET = 512
#: Rows of a `CellRows` encoded at a time while measuring (bounds the text alive at once).
_MEASURE_ROWS = 512


class TooLarge(ValueError):
    """A plan that cannot be cut and does not fit in one body."""


class CellRows(Protocol):
    """A values-only `updateCells` from a start cell, its rows encoded when asked."""

    @property
    def sheet(self) -> int: ...
    @property
    def row0(self) -> int: ...
    @property
    def col0(self) -> int: ...
    @property
    def fields(self) -> str: ...

    def __len__(self) -> int:
        """The number of rows."""
        ...

    def encoded(self, lo: int, hi: int) -> list[bytes]:
        """Rows [lo, hi), each as `encode` gives its RowData dict."""
        ...


def encode(value: Any) -> bytes:
    """JSON as sent: compact, UTF-8 (not \\u escapes), no NaN."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode()


def body(parts: Sequence[bytes]) -> bytes:
    """A batchUpdate body from encoded requests."""
    return b'{"requests":[' + b",".join(parts) + b"]}"


def size(parts: Sequence[bytes]) -> int:
    """`len(body(parts))` without building it."""
    return len(b'{"requests":[]}') + sum(len(p) for p in parts) + max(len(parts) - 1, 0)


class _Write:
    """One `updateCells` cut into rows: where it starts, each row's encoded size, and the rows'
    text (kept, or encoded again from `source` when a piece is built)."""

    __slots__ = ("col0", "ends", "fields", "row0", "rows", "sheet", "source", "tail")

    def __init__(
        self,
        sheet: int,
        row0: int,
        col0: int,
        fields: str,
        ends: array[int],
        rows: list[bytes] | None,
        source: CellRows | None = None,
    ) -> None:
        self.sheet, self.row0, self.col0, self.fields = sheet, row0, col0, fields
        self.ends = ends  # ends[i]: the bytes of rows [0, i)
        self.rows = rows
        self.source = source
        self.tail = b'],"fields":' + encode(fields) + b"}}"

    def __len__(self) -> int:
        return len(self.ends) - 1

    def _ends(self, lo: int) -> tuple[bytes, bytes]:
        """The bytes before and after the rows of a piece starting at row `lo` (the start is
        `encode` of {"sheetId": ..., "rowIndex": ..., "columnIndex": ...}: ints, written out)."""
        start = (self.sheet, self.row0 + lo, self.col0)
        return _HEAD % start, self.tail

    def piece(self, lo: int, hi: int) -> bytes:
        """The request writing rows [lo, hi) of this write."""
        head, tail = self._ends(lo)
        if self.rows is not None:
            rows = self.rows[lo:hi]
        else:
            assert self.source is not None
            rows = self.source.encoded(lo, hi)
        return head + b",".join(rows) + tail

    def piece_size(self, lo: int, hi: int) -> int:
        """`len(self.piece(lo, hi))`, without building it."""
        head, tail = self._ends(lo)
        return len(head) + len(tail) + self.ends[hi] - self.ends[lo] + max(hi - lo - 1, 0)

    def size(self) -> int:
        return self.piece_size(0, len(self))


#: A cell write's piece up to its rows (sheet, first row, first column: ints).
_HEAD = b'{"updateCells":{"start":{"sheetId":%d,"rowIndex":%d,"columnIndex":%d},"rows":['


def _sizes(rows: list[bytes]) -> array[int]:
    return array("q", accumulate(map(len, rows), initial=0))


def _cell_write(request: dict[str, Any]) -> _Write | None:
    """The request as a `_Write` if it is a values-only `updateCells` from a start cell."""
    if set(request) != {"updateCells"}:
        return None
    update = request["updateCells"]
    start = update.get("start")
    if set(update) != {"start", "rows", "fields"} or not isinstance(start, dict):
        return None
    rows = [encode(r) for r in update["rows"]]
    return _Write(
        int(start.get("sheetId", 0)),
        int(start.get("rowIndex", 0)),
        int(start.get("columnIndex", 0)),
        str(update["fields"]),
        _sizes(rows),
        rows,
    )


def _measured(source: CellRows, budget: int) -> _Write:
    """A `CellRows` as a `_Write`: every row encoded once to measure it, a few rows at a time;
    the text kept if it is at most `budget` bytes (a negative budget keeps none)."""
    n = len(source)
    ends = array("q", [0])
    kept: list[bytes] | None = [] if budget >= 0 else None
    for lo in range(0, n, _MEASURE_ROWS):
        rows = source.encoded(lo, min(lo + _MEASURE_ROWS, n))
        ends.extend(islice(accumulate(map(len, rows), initial=ends[-1]), 1, None))
        if kept is not None and ends[-1] <= budget:
            kept.extend(rows)
        else:
            kept = None
    return _Write(
        int(source.sheet),
        int(source.row0),
        int(source.col0),
        str(source.fields),
        ends,
        kept,
        source,
    )


Request = dict[str, Any] | CellRows
#: One part of a body as planned: a request's text, or rows [lo, hi) of a cell write.
_Part = bytes | tuple[_Write, int, int]


class Bodies:
    """The bodies a plan is cut into: how many (`len`), and each one's encoded requests, built
    only when iteration reaches it (`list(bodies)` builds them all)."""

    def __init__(self, plan: list[list[_Part]]) -> None:
        self._plan = plan

    def __len__(self) -> int:
        return len(self._plan)

    def __iter__(self) -> Iterator[list[bytes]]:
        for parts in self._plan:
            yield [p if isinstance(p, bytes) else p[0].piece(p[1], p[2]) for p in parts]


def split(requests: Sequence[Request], max_bytes: int = DEFAULT_MAX_BYTES) -> list[list[bytes]]:
    """The requests as encoded parts of one or more bodies, each body at most `max_bytes`
    (a single row larger than that is sent alone: nothing smaller can carry it)."""
    return list(cut(requests, max_bytes))


def cut(requests: Sequence[Request], max_bytes: int = DEFAULT_MAX_BYTES) -> Bodies:
    """`split`, with each body's text built only as the result is iterated: every request is
    measured here (and `TooLarge` raised here), the text of one body at a time later."""
    # Each request encoded once: a cell write row by row (so it can be cut), the others whole;
    # a compact block's rows kept only while they fit in one body (then the plan is one body).
    items: list[_Write | bytes] = []
    kept = 0
    for request in requests:
        if isinstance(request, dict):
            write = _cell_write(request)
            items.append(write if write is not None else encode(request))
            continue
        keep = kept <= max_bytes
        w = _measured(request, max_bytes - kept if keep else -1)
        kept += w.ends[-1]
        if keep and kept > max_bytes:  # more than one body: each body encodes its own text
            for i in items:
                if isinstance(i, _Write) and i.source is not None:
                    i.rows = None
        items.append(w)
    sizes = [i.size() if isinstance(i, _Write) else len(i) for i in items]
    total = len(body([])) + sum(sizes) + max(len(items) - 1, 0)
    if total <= max_bytes:
        return Bodies([[(i, 0, len(i)) if isinstance(i, _Write) else i for i in items]])
    head: list[bytes] = []
    writes: list[_Write] = []
    for request, item in zip(requests, items, strict=True):
        if isinstance(item, _Write):
            writes.append(item)
        elif isinstance(request, dict) and set(request) <= _MOVABLE:
            head.append(item)
        else:
            kinds = ", ".join(sorted(request)) if isinstance(request, dict) else ""
            raise TooLarge(
                f"the write is {total:,} bytes and holds {kinds}, which moves cells, "
                f"so it cannot be cut into bodies of {max_bytes:,} bytes"
            )
    del items
    if size(head) > max_bytes:
        raise TooLarge(f"the tab and format requests alone are {size(head):,} bytes")
    # Row buckets of each sheet, in the order the plan first writes them; in a bucket the
    # pieces keep the plan's order (a cell written twice ends as the plan left it).
    buckets: dict[tuple[int, int], list[tuple[_Write, int, int]]] = {}
    for w in writes:
        k = 0
        while k < len(w):
            bucket = (w.row0 + k) // _ROWS_PER_BUCKET
            end = min(len(w), (bucket + 1) * _ROWS_PER_BUCKET - w.row0)
            buckets.setdefault((w.sheet, bucket), []).append((w, k, end))
            k = end
    bodies: list[list[_Part]] = [list(head)]
    used = size(head)
    for group in buckets.values():
        for chunk in _fit(group, max_bytes):
            extra = sum(w.piece_size(lo, hi) + 1 for w, lo, hi in chunk)  # each part, a comma
            if used + extra > max_bytes and bodies[-1]:
                bodies.append([])
                used = size([])
            bodies[-1].extend(chunk)
            used += extra
    return Bodies(bodies)


def _fit(
    group: list[tuple[_Write, int, int]], max_bytes: int
) -> list[list[tuple[_Write, int, int]]]:
    """A bucket's pieces as one list, or several cut between sheet rows, each fitting in a body
    if it can (measured: `size` of the pieces' text, without building it)."""
    measured = len(b'{"requests":[]}') + sum(w.piece_size(lo, hi) for w, lo, hi in group)
    measured += max(len(group) - 1, 0)
    first = min(w.row0 + lo for w, lo, _ in group)
    last = max(w.row0 + hi for w, _, hi in group)
    if measured <= max_bytes or last - first <= 1:
        return [group]
    mid = (first + last) // 2  # every piece's rows below `mid`, then the rest
    low: list[tuple[_Write, int, int]] = []
    high: list[tuple[_Write, int, int]] = []
    for w, lo, hi in group:
        cut = min(max(mid - w.row0, lo), hi)
        if cut > lo:
            low.append((w, lo, cut))
        if hi > cut:
            high.append((w, cut, hi))
    return _fit(low, max_bytes) + _fit(high, max_bytes)
