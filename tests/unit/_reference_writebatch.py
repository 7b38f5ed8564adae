"""REFERENCE COPY, for tests only: gsync/writebatch.py as of commit 4f7f161, before the write plan
kept its cell blocks as plain values (issue 7: the first night's memory).

Kept frozen so tests/unit/test_writebatch_compact.py can prove the compact encoding sends
byte-identical bodies. Not used by gsync itself; do not edit except to delete it with that test.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

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


class TooLarge(ValueError):
    """A plan that cannot be cut and does not fit in one body."""


def encode(value: Any) -> bytes:
    """JSON as sent: compact, UTF-8 (not \\u escapes), no NaN."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode()


def body(parts: Sequence[bytes]) -> bytes:
    """A batchUpdate body from encoded requests."""
    return b'{"requests":[' + b",".join(parts) + b"]}"


def size(parts: Sequence[bytes]) -> int:
    """`len(body(parts))` without building it."""
    return len(b'{"requests":[]}') + sum(len(p) for p in parts) + max(len(parts) - 1, 0)


@dataclass
class _Write:
    """One `updateCells` cut into rows: where it starts, and each row encoded."""

    sheet: int
    row0: int
    col0: int
    fields: str
    rows: list[bytes]

    def _ends(self, lo: int) -> tuple[bytes, bytes]:
        """The bytes before and after the rows of a piece starting at row `lo`."""
        start = {"sheetId": self.sheet, "rowIndex": self.row0 + lo, "columnIndex": self.col0}
        head = b'{"updateCells":{"start":' + encode(start) + b',"rows":['
        return head, b'],"fields":' + encode(self.fields) + b"}}"

    def piece(self, lo: int, hi: int) -> bytes:
        """The request writing rows [lo, hi) of this write (indexes into `rows`)."""
        head, tail = self._ends(lo)
        return head + b",".join(self.rows[lo:hi]) + tail

    def size(self) -> int:
        """`len(self.piece(0, len(self.rows)))`, without building it."""
        head, tail = self._ends(0)
        return len(head) + len(tail) + sum(map(len, self.rows)) + max(len(self.rows) - 1, 0)


def _cell_write(request: dict[str, Any]) -> _Write | None:
    """The request as a `_Write` if it is a values-only `updateCells` from a start cell."""
    if set(request) != {"updateCells"}:
        return None
    update = request["updateCells"]
    start = update.get("start")
    if set(update) != {"start", "rows", "fields"} or not isinstance(start, dict):
        return None
    return _Write(
        int(start.get("sheetId", 0)),
        int(start.get("rowIndex", 0)),
        int(start.get("columnIndex", 0)),
        str(update["fields"]),
        [encode(r) for r in update["rows"]],
    )


def split(
    requests: Sequence[dict[str, Any]], max_bytes: int = DEFAULT_MAX_BYTES
) -> list[list[bytes]]:
    """The requests as encoded parts of one or more bodies, each body at most `max_bytes`
    (a single row larger than that is sent alone: nothing smaller can carry it)."""
    # Each request encoded once: a cell write row by row (so it can be cut), the others whole.
    items: list[_Write | bytes] = []
    for request in requests:
        write = _cell_write(request)
        items.append(write if write is not None else encode(request))
    sizes = [i.size() if isinstance(i, _Write) else len(i) for i in items]
    total = len(body([])) + sum(sizes) + max(len(items) - 1, 0)
    if total <= max_bytes:
        return [[i.piece(0, len(i.rows)) if isinstance(i, _Write) else i for i in items]]
    head: list[bytes] = []
    writes: list[_Write] = []
    for request, item in zip(requests, items, strict=True):
        if isinstance(item, _Write):
            writes.append(item)
        elif set(request) <= _MOVABLE:
            head.append(item)
        else:
            kinds = ", ".join(sorted(request))
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
        while k < len(w.rows):
            bucket = (w.row0 + k) // _ROWS_PER_BUCKET
            end = min(len(w.rows), (bucket + 1) * _ROWS_PER_BUCKET - w.row0)
            buckets.setdefault((w.sheet, bucket), []).append((w, k, end))
            k = end
    bodies: list[list[bytes]] = [head]
    used = size(head)
    for group in buckets.values():
        for chunk in _fit(group, max_bytes):
            extra = sum(len(p) + 1 for p in chunk)  # each part and a comma
            if used + extra > max_bytes and bodies[-1]:
                bodies.append([])
                used = size([])
            bodies[-1].extend(chunk)
            used += extra
    return bodies


def _fit(group: list[tuple[_Write, int, int]], max_bytes: int) -> list[list[bytes]]:
    """A bucket's pieces as one list of encoded requests, or several cut between sheet rows."""
    parts = [w.piece(lo, hi) for w, lo, hi in group]
    first = min(w.row0 + lo for w, lo, _ in group)
    last = max(w.row0 + hi for w, _, hi in group)
    if size(parts) <= max_bytes or last - first <= 1:
        return [parts]
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
