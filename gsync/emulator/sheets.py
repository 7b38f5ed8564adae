"""Sheets API v4 handlers: spreadsheets, values, and the batchUpdate requests gsync relies on.

State: kind ``"spreadsheets"`` (key = spreadsheet id) holds the spreadsheet without its cells;
kind ``"cells"`` (key = ``"<spreadsheetId>/<sheetId>/<block>"``) holds each sheet's cells in
blocks of ``BLOCK`` rows, so a read or write of a few rows touches a few blocks, not the whole
grid. A cell is stored as Google's ``CellData`` subset (userEnteredValue, userEnteredFormat,
dataValidation, note); ``effectiveValue`` and ``formattedValue`` are derived when read.

Formulas are stored, never evaluated: a formula cell has no ``effectiveValue``, and its
FORMATTED_VALUE / UNFORMATTED_VALUE rendering is the formula text itself (e.g. ``"=SUM(A1:A2)"``),
so a test can see that a formula got in. USER_ENTERED parses ``=...`` (and text starting with
``+`` / ``-`` / ``@`` that is not a number, after Google's formula-entry rules as described in
DESIGN.md §3) into formulas, numbers into numbers, TRUE/FALSE into booleans, ``YYYY-MM-DD``
into a date serial number with a date format; a leading ``'`` forces text.
"""

from __future__ import annotations

import copy
import math
import re
import secrets
from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any

from gsync.emulator import a1, fieldmask
from gsync.emulator.core import (
    MIME_SPREADSHEET,
    ApiError,
    Request,
    Tx,
    handler,
    invalid,
    new_id,
    not_found,
    register_file,
    touch_file,
)

BLOCK = 1000
MAX_CELLS = 10_000_000  # Google's per-spreadsheet cell limit
DEFAULT_ROWS = 1000
DEFAULT_COLUMNS = 26
DEFAULT_ROW_PX = 21
DEFAULT_COLUMN_PX = 100
CELL_FIELDS = ("userEnteredValue", "userEnteredFormat", "dataValidation", "note", "textFormatRuns")
_EPOCH = date(1899, 12, 30)  # Sheets' serial-date epoch
_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")
_ISO_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})")


class RequestError(Exception):
    """A semantic refusal of one batchUpdate request (wrapped with its index by the caller)."""


# ---------------------------------------------------------------- values


def parse_user_entered(value: Any) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """A USER_ENTERED input as (ExtendedValue or None for empty, number format or None)."""
    if isinstance(value, bool):
        return {"boolValue": value}, None
    if isinstance(value, int | float):
        return {"numberValue": value}, None
    text = str(value)
    if text == "":
        return None, None
    if text.startswith("'"):
        return {"stringValue": text[1:]}, None
    if text.startswith("="):
        return {"formulaValue": text}, None
    stripped = text.strip()
    if _NUMBER.fullmatch(stripped):
        number = float(stripped)
        return {"numberValue": int(number) if number.is_integer() else number}, None
    if stripped.upper() in ("TRUE", "FALSE"):
        return {"boolValue": stripped.upper() == "TRUE"}, None
    m = _ISO_DATE.fullmatch(stripped)
    if m:
        try:
            day = date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
        except ValueError:
            return {"stringValue": text}, None
        return {"numberValue": (day - _EPOCH).days}, {"type": "DATE", "pattern": "yyyy-mm-dd"}
    if text[0] in "+-@":
        return {"formulaValue": "=" + text}, None
    return {"stringValue": text}, None


def parse_raw(value: Any) -> dict[str, Any] | None:
    """A RAW input: stored as given (strings stay strings, even ``=1+1``)."""
    if isinstance(value, bool):
        return {"boolValue": value}
    if isinstance(value, int | float):
        return {"numberValue": value}
    text = str(value)
    return {"stringValue": text} if text != "" else None


def format_number(number: float, number_format: dict[str, Any] | None) -> str:
    """Sheets' default ('General') rendering, or a date for a DATE/DATE_TIME format."""
    if number_format and number_format.get("type") in ("DATE", "DATE_TIME"):
        day = _EPOCH + timedelta(days=math.floor(number))
        return day.isoformat()
    if isinstance(number, float) and number.is_integer() and abs(number) < 1e15:
        return str(int(number))
    if isinstance(number, int):
        return str(number)
    return f"{number:.10g}"


def effective_value(cell: dict[str, Any]) -> dict[str, Any] | None:
    """The computed value: the entered value, except formulas (not evaluated: none)."""
    entered = cell.get("userEnteredValue")
    if not entered or "formulaValue" in entered:
        return None
    return dict(entered)


def formatted_value(cell: dict[str, Any]) -> str | None:
    entered = cell.get("userEnteredValue")
    if not entered:
        return None
    if "formulaValue" in entered:
        return str(entered["formulaValue"])
    if "stringValue" in entered:
        return str(entered["stringValue"])
    if "boolValue" in entered:
        return "TRUE" if entered["boolValue"] else "FALSE"
    if "numberValue" in entered:
        fmt = (cell.get("userEnteredFormat") or {}).get("numberFormat")
        return format_number(entered["numberValue"], fmt)
    if "errorValue" in entered:
        return "#ERROR!"
    return None


def compact(cell: dict[str, Any] | None) -> Any:
    """A cell as stored: a bare string / number / bool when that is all it holds, else CellData.

    Keeps big grids small on disk and in memory (most cells are plain text).
    """
    if not cell:
        return None
    if len(cell) == 1 and "userEnteredValue" in cell:
        entered = cell["userEnteredValue"]
        if isinstance(entered, dict) and len(entered) == 1:
            key, value = next(iter(entered.items()))
            if key == "stringValue" and isinstance(value, str) and value:
                return value
            if key == "boolValue" and isinstance(value, bool):
                return value
            if (
                key == "numberValue"
                and isinstance(value, int | float)
                and not isinstance(value, bool)
            ):
                return value
    return cell


def expand(raw: Any) -> dict[str, Any] | None:
    """A stored cell as CellData (shared, not copied: do not mutate)."""
    if raw is None:
        return None
    if isinstance(raw, dict):
        return raw
    if isinstance(raw, str):
        return {"userEnteredValue": {"stringValue": raw}}
    if isinstance(raw, bool):
        return {"userEnteredValue": {"boolValue": raw}}
    return {"userEnteredValue": {"numberValue": raw}}


def has_value(raw: Any) -> bool:
    """Whether a stored cell holds a value (not just formatting)."""
    if raw is None:
        return False
    if isinstance(raw, dict):
        return bool(raw.get("userEnteredValue"))
    return True


def render(raw: Any, option: str) -> Any:
    """A stored cell as values.get returns it ("" for empty)."""
    if isinstance(raw, str):
        return raw
    if isinstance(raw, bool):
        return ("TRUE" if raw else "FALSE") if option == "FORMATTED_VALUE" else raw
    if isinstance(raw, int | float):
        return format_number(raw, None) if option == "FORMATTED_VALUE" else raw
    cell = raw
    if not cell or not cell.get("userEnteredValue"):
        return ""
    entered = cell["userEnteredValue"]
    if option == "FORMATTED_VALUE":
        return formatted_value(cell) or ""
    if "formulaValue" in entered:
        return entered["formulaValue"]
    for key in ("stringValue", "numberValue", "boolValue"):
        if key in entered:
            return entered[key]
    return formatted_value(cell) or ""


def output_cell(raw: Any) -> dict[str, Any]:
    """A stored cell as CellData in spreadsheets.get (with derived values; shares sub-objects)."""
    if isinstance(raw, str):  # fast path: most cells are plain text
        value = {"stringValue": raw}
        return {"userEnteredValue": value, "effectiveValue": value, "formattedValue": raw}
    cell = expand(raw) or {}
    out = {k: v for k, v in cell.items() if k in CELL_FIELDS}
    eff = effective_value(cell)
    if eff is not None:
        out["effectiveValue"] = eff
    text = formatted_value(cell)
    if text is not None:
        out["formattedValue"] = text
    if "userEnteredFormat" in cell:
        out["effectiveFormat"] = cell["userEnteredFormat"]
    return out


# ---------------------------------------------------------------- grid storage


def _nonempty(cell: dict[str, Any]) -> bool:
    return any(v not in (None, {}) for v in cell.values())


class FrozenRow(tuple[Any, ...]):
    """A stored row of cells: never changed in place (a Grid copies a row before writing it), so
    a store's deep copy keeps it as is. Without this, every write deep-copied each touched block
    cell by cell: 3.5 s per request on a 1,000-row tab with drop-downs (bench/RESULTS.md)."""

    __slots__ = ()

    def __copy__(self) -> FrozenRow:
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> FrozenRow:
        return self


def _frozen(row: Any) -> Any:
    return row if row is None or isinstance(row, FrozenRow) else FrozenRow(row)


def _cells_key(spreadsheet_id: str, sheet_id: int, block: int) -> str:
    return f"{spreadsheet_id}/{sheet_id}/{block}"


class Grid:
    """The cells of one sheet, loaded lazily by block of rows; changed blocks are saved."""

    def __init__(self, tx: Tx, spreadsheet_id: str, sheet: dict[str, Any]) -> None:
        self.tx = tx
        self.spreadsheet_id = spreadsheet_id
        self.sheet = sheet
        self.sheet_id = int(sheet["properties"]["sheetId"])
        self.blocks: dict[int, list[list[Any] | None]] = {}
        self.dirty: set[int] = set()
        self.owned: set[int] = set()  # blocks whose lists are private copies (copy-on-write)
        self.nblocks = int(sheet.get("_blocks", 0))
        # Read blocks without copying when the store allows it (see store.SqliteStore.peek).
        self._read = getattr(tx, "peek", tx.get)

    def _block(self, index: int) -> list[list[Any] | None]:
        if index not in self.blocks:
            stored = None
            if index < self.nblocks:
                stored = self._read("cells", _cells_key(self.spreadsheet_id, self.sheet_id, index))
            self.blocks[index] = stored if stored is not None else []
        return self.blocks[index]

    def _own(self, index: int) -> list[list[Any] | None]:
        block = self._block(index)
        if index not in self.owned:
            block = [list(row) if row is not None else None for row in block]
            self.blocks[index] = block
            self.owned.add(index)
        return block

    def row(self, r: int) -> list[Any] | None:
        block = self._block(r // BLOCK)
        offset = r % BLOCK
        return block[offset] if offset < len(block) else None

    def raw(self, r: int, c: int) -> Any:
        row = self.row(r)
        if row is None or c >= len(row):
            return None
        return row[c]

    def cell(self, r: int, c: int) -> dict[str, Any] | None:
        """The cell as CellData (shared: copy before changing)."""
        return expand(self.raw(r, c))

    def writable_row(self, r: int) -> list[Any]:
        """Row ``r`` as a private list to change in place (its block is marked changed)."""
        index = r // BLOCK
        block = self._own(index)
        offset = r % BLOCK
        while len(block) <= offset:
            block.append(None)
        row = block[offset]
        if row is None:
            row = block[offset] = []
        self.dirty.add(index)
        return row

    def set_cell(self, r: int, c: int, cell: dict[str, Any] | None) -> None:
        if cell is not None and not _nonempty(cell):
            cell = None
        self.set_raw(r, c, compact(cell))

    def set_raw(self, r: int, c: int, cell: Any) -> None:
        index = r // BLOCK
        block = self._own(index)
        offset = r % BLOCK
        if cell is None:
            if offset >= len(block) or block[offset] is None:
                return
            row = block[offset]
            assert row is not None
            if c < len(row):
                row[c] = None
                while row and row[-1] is None:
                    row.pop()
            self.dirty.add(index)
            return
        while len(block) <= offset:
            block.append(None)
        row = block[offset]
        if row is None:
            row = block[offset] = []
        while len(row) <= c:
            row.append(None)
        row[c] = cell
        self.dirty.add(index)

    def last_row(self) -> int:
        """Index of the last row holding any cell, or -1."""
        for index in range(self.nblocks - 1, -1, -1):
            block = self._block(index)
            for offset in range(len(block) - 1, -1, -1):
                if block[offset]:
                    return index * BLOCK + offset
        return -1

    def all_rows(self) -> list[list[Any] | None]:
        rows: list[list[Any] | None] = []
        for index in range(self.nblocks):
            block = self._block(index)
            rows.extend(block)
            rows.extend([None] * (BLOCK - len(block)))
        return rows

    def replace_rows(self, rows: list[list[Any] | None]) -> None:
        """Replace every row (after inserting or deleting rows or columns)."""
        old = self.nblocks
        self.blocks = {}
        count = math.ceil(len(rows) / BLOCK) if rows else 0
        for index in range(max(count, old)):
            chunk = rows[index * BLOCK : (index + 1) * BLOCK]
            self.blocks[index] = chunk
            self.dirty.add(index)
            self.owned.discard(index)  # rows may still be shared with the store's cache
        self.nblocks = max(count, old)

    def save(self) -> None:
        """Write changed blocks; drop empty ones; record the block count on the sheet."""
        for index in sorted(self.dirty):
            block = list(self.blocks.get(index, []))
            while block and not block[-1]:
                block.pop()
            key = _cells_key(self.spreadsheet_id, self.sheet_id, index)
            if block:
                # Rows are frozen as stored; this grid's own copies stay writable until then.
                block = [_frozen(row) for row in block]
                self.blocks[index] = block
                self.owned.discard(index)
                self.tx.put("cells", key, block)
            else:
                self.tx.delete("cells", key)
        self.nblocks = max(self.nblocks, max(self.dirty, default=-1) + 1)
        while self.nblocks and not self._block(self.nblocks - 1):
            self.nblocks -= 1
        self.dirty.clear()
        self.sheet["_blocks"] = self.nblocks

    def drop(self) -> None:
        """Delete every stored block (the sheet is being deleted)."""
        for index in range(self.nblocks):
            self.tx.delete("cells", _cells_key(self.spreadsheet_id, self.sheet_id, index))
        self.blocks, self.dirty, self.owned, self.nblocks = {}, set(), set(), 0


# ---------------------------------------------------------------- the spreadsheet


def _random_id() -> int:
    return secrets.randbelow(2**31 - 2) + 1


def _grid_props(sheet: dict[str, Any]) -> dict[str, Any]:
    gp: dict[str, Any] = sheet["properties"].setdefault("gridProperties", {})
    return gp


def dims(sheet: dict[str, Any]) -> tuple[int, int]:
    gp = _grid_props(sheet)
    return int(gp.get("rowCount", 0)), int(gp.get("columnCount", 0))


def _new_sheet(props: dict[str, Any], sheet_id: int, title: str, index: int) -> dict[str, Any]:
    properties = copy.deepcopy(props)
    properties["sheetId"] = sheet_id
    properties["title"] = title
    properties["index"] = index
    properties.setdefault("sheetType", "GRID")
    gp = properties.setdefault("gridProperties", {})
    if properties["sheetType"] == "GRID":
        gp.setdefault("rowCount", DEFAULT_ROWS)
        gp.setdefault("columnCount", DEFAULT_COLUMNS)
    return {"properties": properties, "_blocks": 0}


def new_spreadsheet(tx: Tx, spreadsheet_id: str, title: str, now: datetime) -> dict[str, Any]:
    """Create an empty spreadsheet (one 1000×26 sheet "Sheet1", id 0); Drive calls this too.

    Registers no Drive file (``files.create`` does its own); returns the spreadsheet resource.
    """
    meta: dict[str, Any] = {
        "spreadsheetId": spreadsheet_id,
        "properties": {
            "title": title,
            "locale": "en_GB",
            "autoRecalc": "ON_CHANGE",
            "timeZone": "Europe/London",
        },
        "sheets": [_new_sheet({}, 0, "Sheet1", 0)],
        "_metadata": [],
        "_created": now.isoformat(),
    }
    tx.put("spreadsheets", spreadsheet_id, meta)
    return render_spreadsheet(Book(tx, spreadsheet_id, meta), include_grid=False, ranges=[])


def rename_spreadsheet(tx: Tx, spreadsheet_id: str, title: str) -> None:
    """Keep the spreadsheet's title in step with a Drive rename (no-op if unknown)."""
    meta = tx.get("spreadsheets", spreadsheet_id)
    if meta is not None:
        meta["properties"]["title"] = title
        tx.put("spreadsheets", spreadsheet_id, meta)


def delete_spreadsheet(tx: Tx, spreadsheet_id: str) -> None:
    """Remove a spreadsheet and its cells (Drive files.delete of a spreadsheet)."""
    meta = tx.get("spreadsheets", spreadsheet_id)
    if meta is None:
        return
    book = Book(tx, spreadsheet_id, meta)
    for sheet in meta["sheets"]:
        book.grid(sheet).drop()
    tx.delete("spreadsheets", spreadsheet_id)


class Book:
    """A spreadsheet being read or changed inside one transaction."""

    def __init__(self, tx: Tx, spreadsheet_id: str, meta: dict[str, Any] | None = None) -> None:
        self.tx = tx
        self.id = spreadsheet_id
        loaded = meta if meta is not None else tx.get("spreadsheets", spreadsheet_id)
        if loaded is None:
            raise not_found("Requested entity was not found.")
        self.meta: dict[str, Any] = loaded
        self.grids: dict[int, Grid] = {}

    @property
    def sheets(self) -> list[dict[str, Any]]:
        value: list[dict[str, Any]] = self.meta["sheets"]
        return value

    def grid(self, sheet: dict[str, Any]) -> Grid:
        sid = int(sheet["properties"]["sheetId"])
        if sid not in self.grids:
            self.grids[sid] = Grid(self.tx, self.id, sheet)
        return self.grids[sid]

    def sheet_by_id(self, sheet_id: int) -> dict[str, Any]:
        for sheet in self.sheets:
            if sheet["properties"]["sheetId"] == sheet_id:
                return sheet
        raise RequestError(f"No grid with id: {sheet_id}")

    def sheet_by_title(self, title: str) -> dict[str, Any] | None:
        for sheet in self.sheets:
            if sheet["properties"]["title"].casefold() == title.casefold():
                return sheet
        return None

    def first_sheet(self) -> dict[str, Any]:
        ordered = sorted(self.sheets, key=lambda s: s["properties"]["index"])
        visible = [s for s in ordered if not s["properties"].get("hidden")]
        return (visible or ordered)[0]

    def resolve(self, text: str) -> tuple[dict[str, Any], int, int, int, int, a1.A1Range]:
        """An A1 range → (sheet, r0, r1, c0, c1) with open ends closed at the grid's edge."""
        parsed = a1.parse(text)
        if parsed.sheet is None:
            sheet = self.first_sheet()
        else:
            found = self.sheet_by_title(parsed.sheet)
            if found is None:
                raise invalid(f"Unable to parse range: {text}")
            sheet = found
        rows, cols = dims(sheet)
        r0 = parsed.start_row or 0
        c0 = parsed.start_col or 0
        r1 = parsed.end_row if parsed.end_row is not None else rows
        c1 = parsed.end_col if parsed.end_col is not None else cols
        if r1 > rows or c1 > cols or r0 >= max(rows, 1) or c0 >= max(cols, 1):
            raise invalid(
                f"Range ({a1.quote_sheet(sheet['properties']['title'])}!"
                f"{text.rpartition('!')[2] if parsed.sheet else text}) exceeds grid limits. "
                f"Max rows: {rows}, max columns: {cols}"
            )
        return sheet, r0, r1, c0, c1, parsed

    def total_cells(self) -> int:
        return sum(r * c for r, c in (dims(s) for s in self.sheets))

    def reindex(self) -> None:
        ordered = sorted(self.sheets, key=lambda s: s["properties"]["index"])
        for i, sheet in enumerate(ordered):
            sheet["properties"]["index"] = i
        self.meta["sheets"] = ordered

    def save(self, now: datetime) -> None:
        for grid in self.grids.values():
            grid.save()
        self.tx.put("spreadsheets", self.id, self.meta)
        touch_file(self.tx, self.id, now)


def _range_text(sheet: dict[str, Any], r0: int, r1: int, c0: int, c1: int) -> str:
    return a1.format_range(sheet["properties"]["title"], r0, max(r1, r0 + 1), c0, max(c1, c0 + 1))


# ---------------------------------------------------------------- spreadsheets.get


def _dimension_meta(book: Book, sheet: dict[str, Any], dim: str, start: int, end: int) -> list[Any]:
    store = sheet.get("_rowMeta" if dim == "ROWS" else "_colMeta", {})
    default = DEFAULT_ROW_PX if dim == "ROWS" else DEFAULT_COLUMN_PX
    sid = sheet["properties"]["sheetId"]
    located: dict[int, list[Any]] = {}
    for md in book.meta.get("_metadata", []):
        dr = md["location"].get("dimensionRange")
        if dr and dr["sheetId"] == sid and dr["dimension"] == dim:
            for i in range(max(dr["startIndex"], start), min(dr["endIndex"], end)):
                located.setdefault(i, []).append(_public_metadata(md))
    out = []
    for i in range(start, end):
        props = {"pixelSize": default, **store.get(str(i), {})}
        if i in located:
            props["developerMetadata"] = located[i]
        out.append(props)
    return out


def _project(cell: dict[str, Any], keys: frozenset[str] | None) -> dict[str, Any]:
    if keys is None:
        return cell
    return {k: v for k, v in cell.items() if k in keys}


def _grid_data(
    book: Book,
    sheet: dict[str, Any],
    box: tuple[int, int, int, int],
    data_keys: frozenset[str] | None = None,
    cell_keys: frozenset[str] | None = None,
) -> dict[str, Any]:
    """GridData for a box; ``data_keys`` / ``cell_keys`` (from the fields mask) skip work
    on parts the caller will not see."""
    r0, r1, c0, c1 = box
    grid = book.grid(sheet)
    last = min(r1, grid.last_row() + 1)
    row_data: list[dict[str, Any]] = []
    only_text = cell_keys is not None and cell_keys <= {"formattedValue", "userEnteredValue"}
    for r in range(r0, last):
        row = grid.row(r) or []
        if only_text:
            cells = [
                _project(output_cell(c), cell_keys) if c is not None else {} for c in row[c0:c1]
            ]
        else:
            cells = [output_cell(c) if c is not None else {} for c in row[c0:c1]]
        while cells and not cells[-1]:
            cells.pop()
        row_data.append({"values": cells} if cells else {})
    while row_data and not row_data[-1]:
        row_data.pop()
    data: dict[str, Any] = {}
    if r0:
        data["startRow"] = r0
    if c0:
        data["startColumn"] = c0
    if row_data:  # Google omits empty repeated fields
        data["rowData"] = row_data
    if data_keys is None or "rowMetadata" in data_keys:
        data["rowMetadata"] = _dimension_meta(book, sheet, "ROWS", r0, r1)
    if data_keys is None or "columnMetadata" in data_keys:
        data["columnMetadata"] = _dimension_meta(book, sheet, "COLUMNS", c0, c1)
    return data


def _data_masks(fields: str | None) -> tuple[frozenset[str] | None, frozenset[str] | None]:
    """Which GridData keys and which CellData keys a ``fields`` mask can show (None = all)."""
    if not fields:
        return None, None
    mask: Any = fieldmask.parse(fields)
    for step in ("sheets", "data"):
        if not isinstance(mask, dict) or "*" in mask or step not in mask:
            return None, None
        mask = mask[step]
    if not isinstance(mask, dict):
        return None, None
    data_keys = frozenset(mask)
    rows = mask.get("rowData")
    values = rows.get("values") if isinstance(rows, dict) else None
    cell_keys = frozenset(values) if isinstance(values, dict) and "*" not in values else None
    return data_keys, cell_keys


def _public_metadata(md: dict[str, Any]) -> dict[str, Any]:
    return copy.deepcopy(md)


def render_spreadsheet(
    book: Book, include_grid: bool, ranges: list[str], fields: str | None = None
) -> dict[str, Any]:
    """The Spreadsheet resource as spreadsheets.get answers it (``fields`` only saves work:
    the server applies the mask itself)."""
    data_keys, cell_keys = _data_masks(fields)
    meta = book.meta
    wanted: dict[int, list[tuple[int, int, int, int]]] = {}
    for text in ranges:
        sheet, r0, r1, c0, c1, _ = book.resolve(text)
        wanted.setdefault(sheet["properties"]["sheetId"], []).append((r0, r1, c0, c1))
    sheets_out = []
    for sheet in sorted(book.sheets, key=lambda s: s["properties"]["index"]):
        sid = sheet["properties"]["sheetId"]
        if ranges and sid not in wanted:
            continue
        out: dict[str, Any] = {"properties": copy.deepcopy(sheet["properties"])}
        for key in ("merges", "conditionalFormats", "protectedRanges", "charts"):
            if sheet.get(key):
                out[key] = copy.deepcopy(sheet[key])
        if sheet.get("basicFilter"):
            out["basicFilter"] = copy.deepcopy(sheet["basicFilter"])
        sheet_md = [
            _public_metadata(m)
            for m in meta.get("_metadata", [])
            if m["location"].get("sheetId") == sid and "dimensionRange" not in m["location"]
        ]
        if sheet_md:
            out["developerMetadata"] = sheet_md
        if include_grid and sheet["properties"].get("sheetType", "GRID") == "GRID":
            rows, cols = dims(sheet)
            boxes = wanted.get(sid) or [(0, rows, 0, cols)]
            out["data"] = [_grid_data(book, sheet, box, data_keys, cell_keys) for box in boxes]
        sheets_out.append(out)
    result: dict[str, Any] = {
        "spreadsheetId": book.id,
        "properties": copy.deepcopy(meta["properties"]),
        "sheets": sheets_out,
        "spreadsheetUrl": f"https://docs.google.com/spreadsheets/d/{book.id}/edit",
    }
    top_md = [
        _public_metadata(m)
        for m in meta.get("_metadata", [])
        if m["location"].get("locationType") == "SPREADSHEET"
    ]
    if top_md:
        result["developerMetadata"] = top_md
    if meta.get("namedRanges"):
        result["namedRanges"] = copy.deepcopy(meta["namedRanges"])
    return result


def _wants_grid(req: Request) -> bool:
    if (req.param("includeGridData") or "false").lower() in ("true", "1"):
        return True
    fields = req.param("fields") or ""
    return bool(re.search(r"(^|[(,/.])data([/(,).]|$)", fields))


@handler("sheets.spreadsheets.get")
def spreadsheets_get(req: Request) -> dict[str, Any]:
    book = Book(req.tx, req.path_params["spreadsheetId"])
    return render_spreadsheet(book, _wants_grid(req), req.params("ranges"), req.param("fields"))


@handler("sheets.spreadsheets.create")
def spreadsheets_create(req: Request) -> dict[str, Any]:
    body = req.body or {}
    spreadsheet_id = new_id(33)
    title = (body.get("properties") or {}).get("title") or "Untitled spreadsheet"
    new_spreadsheet(req.tx, spreadsheet_id, title, req.now)
    book = Book(req.tx, spreadsheet_id)
    props = body.get("properties") or {}
    book.meta["properties"].update({k: v for k, v in props.items() if k != "title"})
    if body.get("sheets"):
        book.meta["sheets"] = []
        for i, spec in enumerate(body["sheets"]):
            props = spec.get("properties") or {}
            try:
                _add_sheet(book, {**props, "index": props.get("index", i)}, default_id=i == 0)
            except RequestError as exc:
                raise invalid(f"Invalid sheets[{i}]: {exc}") from None
            sheet = book.sheets[-1]
            for data in spec.get("data") or []:
                grid_range = {
                    "sheetId": sheet["properties"]["sheetId"],
                    "startRowIndex": data.get("startRow", 0),
                    "startColumnIndex": data.get("startColumn", 0),
                }
                try:
                    _write_rows(book, grid_range, data.get("rowData") or [], ["*"], bounded=False)
                except RequestError as exc:
                    raise invalid(f"Invalid sheets[{i}].data: {exc}") from None
        book.reindex()
    for md in body.get("developerMetadata") or []:
        _create_metadata(book, md)
    book.save(req.now)
    register_file(req.tx, spreadsheet_id, title, MIME_SPREADSHEET, req.now)
    return render_spreadsheet(Book(req.tx, spreadsheet_id), include_grid=False, ranges=[])


# ---------------------------------------------------------------- values


def _input_option(req: Request, body_value: str | None = None) -> str:
    option = body_value or req.param("valueInputOption")
    if not option or option == "INPUT_VALUE_OPTION_UNSPECIFIED":
        raise invalid("'valueInputOption' is required but not specified")
    return option


def _matrix(values: list[Any], major: str) -> list[list[Any]]:
    rows = [list(r) if isinstance(r, list) else [r] for r in values]
    if major == "COLUMNS":
        width = max((len(r) for r in rows), default=0)
        rows = [[col[i] if i < len(col) else None for col in rows] for i in range(width)]
    return rows


def _entered(value: Any, option: str) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    if option == "RAW":
        return parse_raw(value), None
    return parse_user_entered(value)


def write_values(
    book: Book, range_text: str, values: list[Any], major: str, option: str
) -> dict[str, Any]:
    """values.update's core: write a matrix at a range; returns an UpdateValuesResponse."""
    sheet, r0, r1, c0, c1, parsed = book.resolve(range_text)
    rows = _matrix(values or [], major or "ROWS")
    height = len(rows)
    width = max((len(r) for r in rows), default=0)
    single = (parsed.end_row, parsed.end_col) == (r0 + 1, c0 + 1) and parsed.start_row is not None
    if not single:
        if r0 + height > r1:
            raise invalid(
                f"Requested writing within range [{range_text}], but tried writing to row "
                f"[{r1 + 1}]"
            )
        if c0 + width > c1:
            raise invalid(
                f"Requested writing within range [{range_text}], but tried writing to column "
                f"[{a1.column_letters(c1)}]"
            )
    max_rows, max_cols = dims(sheet)
    if r0 + height > max_rows or c0 + width > max_cols:
        end = _range_text(sheet, r0, r0 + height, c0, c0 + width).rpartition("!")[2]
        raise invalid(
            f"Range ({a1.quote_sheet(sheet['properties']['title'])}!{end}) exceeds grid limits. "
            f"Max rows: {max_rows}, max columns: {max_cols}"
        )
    grid = book.grid(sheet)
    cells = 0
    for i, row in enumerate(rows):
        if all(v is None for v in row):
            continue
        target = grid.writable_row(r0 + i)
        if len(target) < c0 + len(row):
            target.extend([None] * (c0 + len(row) - len(target)))
        for j, value in enumerate(row):
            if value is None:
                continue  # null input means "leave this cell alone" (API reference, ValueRange)
            cells += 1
            current = target[c0 + j]
            plain = not isinstance(current, dict)
            if plain and option == "RAW" and isinstance(value, str):
                target[c0 + j] = value or None  # fast path: text over a plain or empty cell
                continue
            entered, number_format = _entered(value, option)
            if plain and number_format is None:
                target[c0 + j] = compact({"userEnteredValue": entered} if entered else None)
                continue
            cell = dict(expand(current) or {})
            if entered is None:
                cell.pop("userEnteredValue", None)
            else:
                cell["userEnteredValue"] = entered
            if number_format is not None:
                cell["userEnteredFormat"] = {
                    **cell.get("userEnteredFormat", {}),
                    "numberFormat": number_format,
                }
            target[c0 + j] = compact(cell) if _nonempty(cell) else None
        while target and target[-1] is None:
            target.pop()
    result: dict[str, Any] = {"spreadsheetId": book.id}
    if height and width:
        result.update(
            {
                "updatedRange": _range_text(sheet, r0, r0 + height, c0, c0 + width),
                "updatedRows": sum(1 for r in rows if any(v is not None for v in r)),
                "updatedColumns": width,
                "updatedCells": cells,
            }
        )
    return result


def read_values(
    book: Book, range_text: str, major: str = "ROWS", option: str = "FORMATTED_VALUE"
) -> dict[str, Any]:
    """A ValueRange as values.get answers it: trailing empty rows and cells dropped."""
    sheet, r0, r1, c0, c1, _ = book.resolve(range_text)
    grid = book.grid(sheet)
    last = min(r1, grid.last_row() + 1)
    matrix: list[list[Any]] = []
    for r in range(r0, last):
        row = grid.row(r) or []
        matrix.append([render(row[c] if c < len(row) else None, option) for c in range(c0, c1)])
    if major == "COLUMNS":
        width = c1 - c0
        matrix = [[row[i] for row in matrix] for i in range(width)] if matrix else []
    for row in matrix:
        while row and row[-1] == "":
            row.pop()
    while matrix and not matrix[-1]:
        matrix.pop()
    out: dict[str, Any] = {
        "range": _range_text(sheet, r0, r1, c0, c1),
        "majorDimension": major,
    }
    if matrix:
        out["values"] = matrix
    return out


def clear_values(book: Book, range_text: str) -> str:
    """Clear the values (not formats) in a range; returns the cleared range in A1."""
    sheet, r0, r1, c0, c1, _ = book.resolve(range_text)
    grid = book.grid(sheet)
    last = min(r1, grid.last_row() + 1)
    for r in range(r0, last):
        row = grid.row(r) or []
        for c in range(c0, min(c1, len(row))):
            raw = row[c]
            if not has_value(raw):
                continue
            if isinstance(raw, dict):
                cell = dict(raw)
                cell.pop("userEnteredValue")
                grid.set_cell(r, c, cell)
            else:
                grid.set_raw(r, c, None)
    return _range_text(sheet, r0, r1, c0, c1)


def _render_option(req: Request, name: str = "valueRenderOption") -> str:
    return req.param(name) or "FORMATTED_VALUE"


@handler("sheets.spreadsheets.values.get")
def values_get(req: Request) -> dict[str, Any]:
    book = Book(req.tx, req.path_params["spreadsheetId"])
    return read_values(
        book, req.path_params["range"], req.param("majorDimension") or "ROWS", _render_option(req)
    )


@handler("sheets.spreadsheets.values.batchGet")
def values_batch_get(req: Request) -> dict[str, Any]:
    book = Book(req.tx, req.path_params["spreadsheetId"])
    major = req.param("majorDimension") or "ROWS"
    option = _render_option(req)
    result: dict[str, Any] = {"spreadsheetId": book.id}
    ranges = req.params("ranges")
    if ranges:
        result["valueRanges"] = [read_values(book, text, major, option) for text in ranges]
    return result


def _with_response_values(
    req: Request, book: Book, result: dict[str, Any], include: bool, option: str | None
) -> dict[str, Any]:
    if include and "updatedRange" in result:
        result["updatedData"] = read_values(
            book, result["updatedRange"], "ROWS", option or "FORMATTED_VALUE"
        )
    return result


@handler("sheets.spreadsheets.values.update")
def values_update(req: Request) -> dict[str, Any]:
    option = _input_option(req)
    book = Book(req.tx, req.path_params["spreadsheetId"])
    body = req.body or {}
    range_text = req.path_params["range"]
    if body.get("range") and a1.parse(body["range"]) != a1.parse(range_text):
        raise invalid(
            f"Requested writing within range [{range_text}], but the request body range is "
            f"[{body['range']}]"
        )
    result = write_values(
        book, range_text, body.get("values") or [], body.get("majorDimension", "ROWS"), option
    )
    book.save(req.now)
    include = (req.param("includeValuesInResponse") or "false").lower() == "true"
    return _with_response_values(req, book, result, include, req.param("responseValueRenderOption"))


@handler("sheets.spreadsheets.values.batchUpdate")
def values_batch_update(req: Request) -> dict[str, Any]:
    body = req.body or {}
    option = _input_option(req, body.get("valueInputOption"))
    book = Book(req.tx, req.path_params["spreadsheetId"])
    responses = []
    for value_range in body.get("data") or []:
        if "range" not in value_range:
            raise invalid("Invalid data[]: range is required")
        responses.append(
            write_values(
                book,
                value_range["range"],
                value_range.get("values") or [],
                value_range.get("majorDimension", "ROWS"),
                option,
            )
        )
    book.save(req.now)
    include = bool(body.get("includeValuesInResponse"))
    responses = [
        _with_response_values(req, book, r, include, body.get("responseValueRenderOption"))
        for r in responses
    ]
    written = [r for r in responses if "updatedRange" in r]
    result: dict[str, Any] = {"spreadsheetId": book.id}
    if written:
        result.update(
            {
                "totalUpdatedRows": sum(r["updatedRows"] for r in written),
                "totalUpdatedColumns": sum(r["updatedColumns"] for r in written),
                "totalUpdatedCells": sum(r["updatedCells"] for r in written),
                "totalUpdatedSheets": len({r["updatedRange"].rpartition("!")[0] for r in written}),
            }
        )
    if responses:
        result["responses"] = responses
    return result


@handler("sheets.spreadsheets.values.append")
def values_append(req: Request) -> dict[str, Any]:
    option = _input_option(req)
    book = Book(req.tx, req.path_params["spreadsheetId"])
    body = req.body or {}
    sheet, r0, _r1, c0, c1, parsed = book.resolve(req.path_params["range"])
    rows = _matrix(body.get("values") or [], body.get("majorDimension", "ROWS"))
    grid = book.grid(sheet)
    # The "table": the last row at or below the range's top with data in the range's columns
    # (a single cell anchors a table that extends rightwards, as Google detects it).
    if parsed.end_row == r0 + 1 and parsed.end_col == c0 + 1:
        c1 = dims(sheet)[1]
    last, right = -1, c0
    for r in range(r0, grid.last_row() + 1):
        row = grid.row(r) or []
        filled = [c for c in range(c0, min(c1, len(row))) if has_value(row[c])]
        if filled:
            last, right = r, max(right, filled[-1] + 1)
    target = last + 1 if last >= 0 else r0
    height = len(rows)
    width = max((len(r) for r in rows), default=0)
    max_rows, max_cols = dims(sheet)
    if req.param("insertDataOption") == "INSERT_ROWS" and height:
        _insert_dimension(book, sheet, "ROWS", target, target + height)
    max_rows, max_cols = dims(sheet)
    gp = _grid_props(sheet)
    if target + height > max_rows:
        gp["rowCount"] = target + height  # append grows the grid, unlike update
    if c0 + width > max_cols:
        gp["columnCount"] = c0 + width
    if book.total_cells() > MAX_CELLS:
        raise invalid(
            f"This action would increase the number of cells in the workbook above the limit "
            f"of {MAX_CELLS} cells."
        )
    updates = (
        write_values(
            book,
            _range_text(sheet, target, target + max(height, 1), c0, c0 + max(width, 1)),
            rows,
            "ROWS",
            option,
        )
        if height and width
        else {"spreadsheetId": book.id}
    )
    book.save(req.now)
    include = (req.param("includeValuesInResponse") or "false").lower() == "true"
    updates = _with_response_values(
        req, book, updates, include, req.param("responseValueRenderOption")
    )
    result: dict[str, Any] = {"spreadsheetId": book.id, "updates": updates}
    if last >= 0:
        result["tableRange"] = _range_text(sheet, r0, last + 1, c0, right)
    return result


@handler("sheets.spreadsheets.values.clear")
def values_clear(req: Request) -> dict[str, Any]:
    book = Book(req.tx, req.path_params["spreadsheetId"])
    cleared = clear_values(book, req.path_params["range"])
    book.save(req.now)
    return {"spreadsheetId": book.id, "clearedRange": cleared}


@handler("sheets.spreadsheets.values.batchClear")
def values_batch_clear(req: Request) -> dict[str, Any]:
    book = Book(req.tx, req.path_params["spreadsheetId"])
    cleared = [clear_values(book, text) for text in (req.body or {}).get("ranges") or []]
    book.save(req.now)
    result: dict[str, Any] = {"spreadsheetId": book.id}
    if cleared:
        result["clearedRanges"] = cleared
    return result


# ---------------------------------------------------------------- batchUpdate helpers


def _box(book: Book, grid_range: dict[str, Any]) -> tuple[dict[str, Any], int, int, int, int]:
    """A GridRange → (sheet, r0, r1, c0, c1), open ends closed at the grid's edge; checked."""
    sheet = book.sheet_by_id(int(grid_range.get("sheetId", 0)))
    rows, cols = dims(sheet)
    r0 = int(grid_range.get("startRowIndex", 0))
    r1 = int(grid_range.get("endRowIndex", rows))
    c0 = int(grid_range.get("startColumnIndex", 0))
    c1 = int(grid_range.get("endColumnIndex", cols))
    if min(r0, r1, c0, c1) < 0:
        raise RequestError("Range indexes must be non-negative.")
    if r0 > r1 or c0 > c1:
        raise RequestError("Range start index must be less than or equal to the end index.")
    if r1 > rows or c1 > cols:
        raise RequestError(
            f"Range ({_range_text(sheet, r0, r1, c0, c1).rpartition('!')[2]}) exceeds grid "
            f"limits. Max rows: {rows}, max columns: {cols}"
        )
    return sheet, r0, r1, c0, c1


def _mask_paths(fields: str | None) -> list[str]:
    if not fields:
        raise RequestError("At least one field must be updated, but none specified.")
    return fieldmask.paths(fields)


def _dig(value: Any, parts: list[str]) -> Any:
    for part in parts:
        if not isinstance(value, dict) or part not in value:
            return None
        value = value[part]
    return value


def _set_path(target: dict[str, Any], parts: list[str], value: Any) -> None:
    for part in parts[:-1]:
        target = target.setdefault(part, {})
    if value is None:
        target.pop(parts[-1], None)
    else:
        target[parts[-1]] = copy.deepcopy(value)


def _apply_mask(
    target: dict[str, Any], source: dict[str, Any], paths: list[str], allowed: tuple[str, ...]
) -> dict[str, Any]:
    """Copy the masked fields of ``source`` onto ``target`` (a masked field absent in source is cleared)."""
    if paths == ["*"]:
        kept = {k: v for k, v in target.items() if k not in allowed}
        kept.update({k: copy.deepcopy(v) for k, v in source.items() if k in allowed})
        return kept
    for path in paths:
        parts = path.split(".")
        if parts[0] not in allowed:
            raise RequestError(f"Invalid field mask path: {path}")
        _set_path(target, parts, _dig(source, parts))
    return target


def _write_rows(
    book: Book,
    grid_range: dict[str, Any],
    rows: list[dict[str, Any]],
    paths: list[str],
    bounded: bool,
) -> None:
    """updateCells: write RowData at a GridRange (bounded: clear masked fields not covered)."""
    sheet = book.sheet_by_id(int(grid_range.get("sheetId", 0)))
    max_rows, max_cols = dims(sheet)
    r0 = int(grid_range.get("startRowIndex", 0))
    c0 = int(grid_range.get("startColumnIndex", 0))
    height = len(rows)
    width = max((len(r.get("values") or []) for r in rows), default=0)
    if bounded:
        _, r0, r1, c0, c1 = _box(book, grid_range)
        if r0 + height > r1 or c0 + width > c1:
            raise RequestError("Attempting to write row data outside of the given range.")
    else:
        r1, c1 = r0 + height, c0 + width
        if r1 > max_rows or c1 > max_cols:
            raise RequestError(
                f"Range ({_range_text(sheet, r0, r1, c0, c1).rpartition('!')[2]}) exceeds grid "
                f"limits. Max rows: {max_rows}, max columns: {max_cols}"
            )
    grid = book.grid(sheet)
    for r in range(r0, r1):
        source_row = rows[r - r0].get("values") or [] if r - r0 < height else []
        for c in range(c0, c1):
            source = source_row[c - c0] if c - c0 < len(source_row) else {}
            current = grid.cell(r, c)
            if current is None and not source:
                continue
            grid.set_cell(
                r, c, _apply_mask(copy.deepcopy(current or {}), source, paths, CELL_FIELDS)
            )


def _shift(value: int, at: int, count: int, delete: bool) -> int:
    if not delete:
        return value + count if value >= at else value
    end = at + count
    if value <= at:
        return value
    return value - count if value >= end else at


def _shift_range(
    grid_range: dict[str, Any], sheet_id: int, dim: str, at: int, count: int, delete: bool
) -> bool:
    """Move a GridRange for inserted/deleted rows or columns; False if it vanished."""
    if int(grid_range.get("sheetId", 0)) != sheet_id:
        return True
    lo, hi = (
        ("startRowIndex", "endRowIndex")
        if dim == "ROWS"
        else ("startColumnIndex", "endColumnIndex")
    )
    if lo in grid_range:
        grid_range[lo] = _shift(grid_range[lo], at, count, delete)
    if hi in grid_range:
        grid_range[hi] = (
            _shift(grid_range[hi], at, count, delete)
            if (delete or grid_range[hi] > at)
            else grid_range[hi]
        )
    return not (lo in grid_range and hi in grid_range and grid_range[lo] >= grid_range[hi])


def _shift_everything(
    book: Book, sheet: dict[str, Any], dim: str, at: int, count: int, delete: bool
) -> None:
    sid = sheet["properties"]["sheetId"]
    sheet["merges"] = [
        m for m in sheet.get("merges", []) if _shift_range(m, sid, dim, at, count, delete)
    ]
    sheet["protectedRanges"] = [
        p
        for p in sheet.get("protectedRanges", [])
        if "range" not in p or _shift_range(p["range"], sid, dim, at, count, delete)
    ]
    for rule in sheet.get("conditionalFormats", []):
        rule["ranges"] = [r for r in rule["ranges"] if _shift_range(r, sid, dim, at, count, delete)]
    if sheet.get("basicFilter") and not _shift_range(
        sheet["basicFilter"]["range"], sid, dim, at, count, delete
    ):
        sheet.pop("basicFilter")
    key = "_rowMeta" if dim == "ROWS" else "_colMeta"
    moved: dict[str, Any] = {}
    for index, props in sheet.get(key, {}).items():
        i = int(index)
        if delete and at <= i < at + count:
            continue
        moved[str(_shift(i, at, count, delete) if i >= at else i)] = props
    sheet[key] = moved
    kept = []
    for md in book.meta.get("_metadata", []):
        dr = md["location"].get("dimensionRange")
        if dr and dr["sheetId"] == sid and dr["dimension"] == dim:
            start = _shift(dr["startIndex"], at, count, delete)
            end = (
                _shift(dr["endIndex"], at, count, delete)
                if delete or dr["endIndex"] > at
                else dr["endIndex"]
            )
            if start >= end:
                continue  # metadata on deleted rows goes with them
            dr["startIndex"], dr["endIndex"] = start, end
        kept.append(md)
    book.meta["_metadata"] = kept


def _insert_dimension(book: Book, sheet: dict[str, Any], dim: str, start: int, end: int) -> None:
    grid = book.grid(sheet)
    count = end - start
    rows = grid.all_rows()
    if dim == "ROWS":
        if start < len(rows):
            rows[start:start] = [None] * count
    else:
        for r, row in enumerate(rows):
            if row and start < len(row):
                rows[r] = [*row[:start], *[None] * count, *row[start:]]
    grid.replace_rows(rows)
    gp = _grid_props(sheet)
    gp["rowCount" if dim == "ROWS" else "columnCount"] += count
    _shift_everything(book, sheet, dim, start, count, delete=False)


def _delete_dimension(book: Book, sheet: dict[str, Any], dim: str, start: int, end: int) -> None:
    grid = book.grid(sheet)
    rows = grid.all_rows()
    if dim == "ROWS":
        del rows[start:end]
    else:
        for r, row in enumerate(rows):
            if row:
                rows[r] = [*row[:start], *row[end:]]
    grid.replace_rows(rows)
    gp = _grid_props(sheet)
    gp["rowCount" if dim == "ROWS" else "columnCount"] -= end - start
    _shift_everything(book, sheet, dim, start, end - start, delete=True)


def _dimension_range(book: Book, dr: dict[str, Any]) -> tuple[dict[str, Any], str, int, int]:
    sheet = book.sheet_by_id(int(dr.get("sheetId", 0)))
    dim = dr.get("dimension")
    if dim not in ("ROWS", "COLUMNS"):
        raise RequestError("dimension must be ROWS or COLUMNS.")
    rows, cols = dims(sheet)
    limit = rows if dim == "ROWS" else cols
    start = int(dr.get("startIndex", 0))
    end = int(dr.get("endIndex", limit))
    if start < 0 or start > end:
        raise RequestError("Invalid dimension range: start must be >= 0 and <= end.")
    if end > limit:
        raise RequestError(
            f"Invalid dimension range: endIndex [{end}] is past the last "
            f"{'row' if dim == 'ROWS' else 'column'} [{limit}]."
        )
    return sheet, dim, start, end


# ---------------------------------------------------------------- batchUpdate requests


def _add_sheet(book: Book, props: dict[str, Any], default_id: bool = False) -> dict[str, Any]:
    title = props.get("title")
    if title is None:
        n = 1
        while book.sheet_by_title(f"Sheet{n}") is not None:
            n += 1
        title = f"Sheet{n}"
    if not str(title).strip():
        raise RequestError("Sheet name cannot be empty.")
    if book.sheet_by_title(title) is not None:
        raise RequestError(
            f'A sheet with the name "{title}" already exists. Please enter another name.'
        )
    if "sheetId" in props:
        sheet_id = int(props["sheetId"])
        if any(s["properties"]["sheetId"] == sheet_id for s in book.sheets):
            raise RequestError(f"A sheet with the id {sheet_id} already exists.")
    else:
        sheet_id = 0 if default_id else _random_id()
        while any(s["properties"]["sheetId"] == sheet_id for s in book.sheets):
            sheet_id = _random_id()
    index = int(props.get("index", len(book.sheets)))
    index = max(0, min(index, len(book.sheets)))
    for sheet in book.sheets:
        if sheet["properties"]["index"] >= index:
            sheet["properties"]["index"] += 1
    sheet = _new_sheet(props, sheet_id, title, index)
    book.sheets.append(sheet)
    book.reindex()
    if book.total_cells() > MAX_CELLS:
        raise RequestError(
            f"This action would increase the number of cells in the workbook above the limit "
            f"of {MAX_CELLS} cells."
        )
    return sheet


def r_add_sheet(book: Book, body: dict[str, Any]) -> dict[str, Any]:
    sheet = _add_sheet(book, body.get("properties") or {})
    return {"properties": copy.deepcopy(sheet["properties"])}


def r_delete_sheet(book: Book, body: dict[str, Any]) -> None:
    sheet = book.sheet_by_id(int(body.get("sheetId", 0)))
    others = [s for s in book.sheets if s is not sheet and not s["properties"].get("hidden")]
    if not others:
        raise RequestError("You can't remove all the visible sheets in a document.")
    book.grid(sheet).drop()
    book.grids.pop(sheet["properties"]["sheetId"], None)
    book.meta["sheets"] = [s for s in book.sheets if s is not sheet]
    sid = sheet["properties"]["sheetId"]
    book.meta["_metadata"] = [
        m
        for m in book.meta.get("_metadata", [])
        if m["location"].get("sheetId") != sid
        and (m["location"].get("dimensionRange") or {}).get("sheetId") != sid
    ]
    book.reindex()


_SHEET_PROPS = (
    "title",
    "index",
    "gridProperties",
    "hidden",
    "tabColor",
    "tabColorStyle",
    "rightToLeft",
)


def r_update_sheet_properties(book: Book, body: dict[str, Any]) -> None:
    props = body.get("properties") or {}
    paths = _mask_paths(body.get("fields"))
    sheet = book.sheet_by_id(int(props.get("sheetId", 0)))
    before_rows, before_cols = dims(sheet)
    if paths == ["*"]:
        paths = [p for p in _SHEET_PROPS if p in props] or list(_SHEET_PROPS)
    for path in paths:
        parts = path.split(".")
        if parts[0] not in _SHEET_PROPS:
            raise RequestError(f"Invalid field mask path: {path}")
        if parts[0] == "title":
            title = props.get("title")
            if not title:
                raise RequestError("Sheet name cannot be empty.")
            other = book.sheet_by_title(title)
            if other is not None and other is not sheet:
                raise RequestError(
                    f'A sheet with the name "{title}" already exists. Please enter another name.'
                )
        if parts[0] == "index":
            new_index = max(0, min(int(props.get("index", 0)), len(book.sheets) - 1))
            ordered = [
                s
                for s in sorted(book.sheets, key=lambda s: s["properties"]["index"])
                if s is not sheet
            ]
            ordered.insert(new_index, sheet)
            for i, s in enumerate(ordered):
                s["properties"]["index"] = i
            continue
        _set_path(sheet["properties"], parts, _dig(props, parts))
    gp = _grid_props(sheet)
    if sheet["properties"].get("sheetType", "GRID") == "GRID":
        gp.setdefault("rowCount", before_rows)
        gp.setdefault("columnCount", before_cols)
        rows, cols = dims(sheet)
        if rows < 1 or cols < 1:
            raise RequestError("A sheet must have at least one row and one column.")
        if rows < before_rows:
            _truncate(book, sheet, "ROWS", rows, before_rows)
        if cols < before_cols:
            _truncate(book, sheet, "COLUMNS", cols, before_cols)
    if all(s["properties"].get("hidden") for s in book.sheets):
        raise RequestError("You can't hide all the sheets in a document.")
    if book.total_cells() > MAX_CELLS:
        raise RequestError(
            f"This action would increase the number of cells in the workbook above the limit "
            f"of {MAX_CELLS} cells."
        )
    book.reindex()


def _truncate(book: Book, sheet: dict[str, Any], dim: str, keep: int, before: int) -> None:
    gp = _grid_props(sheet)
    key = "rowCount" if dim == "ROWS" else "columnCount"
    gp[key] = before
    _delete_dimension(book, sheet, dim, keep, before)


def r_update_spreadsheet_properties(book: Book, body: dict[str, Any]) -> None:
    props = body.get("properties") or {}
    paths = _mask_paths(body.get("fields"))
    if paths == ["*"]:
        paths = list(props)
    for path in paths:
        parts = path.split(".")
        _set_path(book.meta["properties"], parts, _dig(props, parts))
    title = book.meta["properties"].get("title")
    record = book.tx.get("files", book.id)
    if record is not None and title and record.get("name") != title:
        record["name"] = title
        book.tx.put("files", book.id, record)


def r_update_cells(book: Book, body: dict[str, Any]) -> None:
    paths = _mask_paths(body.get("fields"))
    rows = body.get("rows") or []
    if "range" in body and "start" in body:
        raise RequestError("Only one of start or range may be set.")
    if "range" in body:
        _write_rows(book, body["range"], rows, paths, bounded=True)
    else:
        start = body.get("start") or {}
        grid_range = {
            "sheetId": start.get("sheetId", 0),
            "startRowIndex": start.get("rowIndex", 0),
            "startColumnIndex": start.get("columnIndex", 0),
        }
        _write_rows(book, grid_range, rows, paths, bounded=False)


def r_append_cells(book: Book, body: dict[str, Any]) -> None:
    paths = _mask_paths(body.get("fields"))
    sheet = book.sheet_by_id(int(body.get("sheetId", 0)))
    rows = body.get("rows") or []
    start = book.grid(sheet).last_row() + 1
    gp = _grid_props(sheet)
    width = max((len(r.get("values") or []) for r in rows), default=0)
    if start + len(rows) > gp["rowCount"]:
        gp["rowCount"] = start + len(rows)  # appendCells inserts rows when needed
    if width > gp["columnCount"]:
        raise RequestError(
            f"Range exceeds grid limits. Max rows: {gp['rowCount']}, max columns: "
            f"{gp['columnCount']}"
        )
    _check_cells(book)
    _write_rows(
        book,
        {"sheetId": sheet["properties"]["sheetId"], "startRowIndex": start},
        rows,
        paths,
        bounded=False,
    )


def _check_cells(book: Book) -> None:
    if book.total_cells() > MAX_CELLS:
        raise RequestError(
            f"This action would increase the number of cells in the workbook above the limit "
            f"of {MAX_CELLS} cells."
        )


def r_repeat_cell(book: Book, body: dict[str, Any]) -> None:
    paths = _mask_paths(body.get("fields"))
    sheet, r0, r1, c0, c1 = _box(book, body.get("range") or {})
    cell = body.get("cell") or {}
    grid = book.grid(sheet)
    for r in range(r0, r1):
        for c in range(c0, c1):
            current = grid.cell(r, c)
            if current is None and not cell:
                continue
            grid.set_cell(r, c, _apply_mask(copy.deepcopy(current or {}), cell, paths, CELL_FIELDS))


def r_append_dimension(book: Book, body: dict[str, Any]) -> None:
    sheet = book.sheet_by_id(int(body.get("sheetId", 0)))
    length = int(body.get("length", 0))
    if length < 1:
        raise RequestError("length must be at least 1.")
    dim = body.get("dimension")
    if dim not in ("ROWS", "COLUMNS"):
        raise RequestError("dimension must be ROWS or COLUMNS.")
    gp = _grid_props(sheet)
    gp["rowCount" if dim == "ROWS" else "columnCount"] += length
    _check_cells(book)


def r_insert_dimension(book: Book, body: dict[str, Any]) -> None:
    dr = body.get("range") or {}
    sheet = book.sheet_by_id(int(dr.get("sheetId", 0)))
    dim = dr.get("dimension")
    if dim not in ("ROWS", "COLUMNS"):
        raise RequestError("dimension must be ROWS or COLUMNS.")
    rows, cols = dims(sheet)
    start, end = int(dr.get("startIndex", 0)), int(dr.get("endIndex", 0))
    if not 0 <= start < end:
        raise RequestError("Invalid dimension range: startIndex must be < endIndex.")
    if start > (rows if dim == "ROWS" else cols):
        raise RequestError(f"Cannot insert at index {start}: past the end of the sheet.")
    if start == 0 and body.get("inheritFromBefore"):
        raise RequestError("Cannot inherit from before when inserting at the start.")
    _insert_dimension(book, sheet, dim, start, end)
    _check_cells(book)


def r_delete_dimension(book: Book, body: dict[str, Any]) -> None:
    sheet, dim, start, end = _dimension_range(book, body.get("range") or {})
    rows, cols = dims(sheet)
    if start == 0 and end == (rows if dim == "ROWS" else cols):
        which = "rows" if dim == "ROWS" else "columns"
        raise RequestError(f"You can't delete all the {which} on the sheet.")
    _delete_dimension(book, sheet, dim, start, end)


def r_update_dimension_properties(book: Book, body: dict[str, Any]) -> None:
    paths = _mask_paths(body.get("fields"))
    sheet, dim, start, end = _dimension_range(book, body.get("range") or {})
    props = body.get("properties") or {}
    allowed = ("pixelSize", "hiddenByUser", "hiddenByFilter")
    store = sheet.setdefault("_rowMeta" if dim == "ROWS" else "_colMeta", {})
    for i in range(start, end):
        current = store.get(str(i), {})
        updated = _apply_mask(copy.deepcopy(current), props, paths, allowed)
        if updated:
            store[str(i)] = updated
        else:
            store.pop(str(i), None)


def r_auto_resize_dimensions(book: Book, body: dict[str, Any]) -> None:
    sheet, dim, start, end = _dimension_range(book, body.get("dimensions") or {})
    grid = book.grid(sheet)
    store = sheet.setdefault("_rowMeta" if dim == "ROWS" else "_colMeta", {})
    last = grid.last_row() + 1
    for i in range(start, end):
        if dim == "ROWS":
            size = DEFAULT_ROW_PX
        else:
            longest = max(
                (len(formatted_value(grid.cell(r, i) or {}) or "") for r in range(last)), default=0
            )
            size = max(DEFAULT_COLUMN_PX // 2, min(7 * longest + 10, 1000))
        store[str(i)] = {**store.get(str(i), {}), "pixelSize": size}


def r_set_data_validation(book: Book, body: dict[str, Any]) -> None:
    sheet, r0, r1, c0, c1 = _box(book, body.get("range") or {})
    rule = body.get("rule")
    if rule is not None and "condition" not in rule:
        raise RequestError("A data validation rule needs a condition.")
    grid = book.grid(sheet)
    # One private copy of the rule, shared by the range's cells (never mutated in place); a shallow
    # copy of each cell is enough, as only its top-level "dataValidation" key changes.
    shared = copy.deepcopy(rule) if rule is not None else None
    for r in range(r0, r1):
        for c in range(c0, c1):
            current = dict(grid.cell(r, c) or {})
            if shared is None:
                current.pop("dataValidation", None)
            else:
                current["dataValidation"] = shared
            grid.set_cell(r, c, current)


def _all_protected(book: Book) -> list[dict[str, Any]]:
    return [p for s in book.sheets for p in s.get("protectedRanges", [])]


def r_add_protected_range(book: Book, body: dict[str, Any]) -> dict[str, Any]:
    pr = copy.deepcopy(body.get("protectedRange") or {})
    if "range" not in pr and "namedRangeId" not in pr:
        raise RequestError("A protected range needs a range or a namedRangeId.")
    if "range" not in pr:
        raise RequestError("Named ranges are not supported by the gsync emulator.")
    sheet, *_ = _box(book, pr["range"])
    pr["range"].setdefault("sheetId", sheet["properties"]["sheetId"])
    existing = {p["protectedRangeId"] for p in _all_protected(book)}
    if "protectedRangeId" in pr:
        if pr["protectedRangeId"] in existing:
            raise RequestError(
                f"A protected range with id {pr['protectedRangeId']} already exists."
            )
    else:
        pr["protectedRangeId"] = _random_id()
    pr.setdefault("warningOnly", False)
    pr.setdefault("requestingUserCanEdit", True)
    if not pr["warningOnly"]:
        pr.setdefault("editors", {"users": []})
    sheet.setdefault("protectedRanges", []).append(pr)
    return {"protectedRange": copy.deepcopy(pr)}


def _find_protected(book: Book, pid: int) -> tuple[dict[str, Any], dict[str, Any]]:
    for sheet in book.sheets:
        for pr in sheet.get("protectedRanges", []):
            if pr["protectedRangeId"] == pid:
                return sheet, pr
    raise RequestError(f"No protected range with id: {pid}")


def r_update_protected_range(book: Book, body: dict[str, Any]) -> None:
    new = body.get("protectedRange") or {}
    paths = _mask_paths(body.get("fields"))
    sheet, pr = _find_protected(book, int(new.get("protectedRangeId", -1)))
    allowed = (
        "range",
        "description",
        "warningOnly",
        "editors",
        "unprotectedRanges",
        "namedRangeId",
    )
    updated = _apply_mask(pr, new, paths, allowed)
    if "range" in updated:
        target, *_ = _box(book, updated["range"])
        if target is not sheet:
            sheet["protectedRanges"].remove(pr)
            target.setdefault("protectedRanges", []).append(updated)


def r_delete_protected_range(book: Book, body: dict[str, Any]) -> None:
    sheet, pr = _find_protected(book, int(body.get("protectedRangeId", -1)))
    sheet["protectedRanges"].remove(pr)


def r_add_conditional_format_rule(book: Book, body: dict[str, Any]) -> None:
    rule = copy.deepcopy(body.get("rule") or {})
    if not rule.get("ranges"):
        raise RequestError("A conditional format rule needs at least one range.")
    if ("booleanRule" in rule) == ("gradientRule" in rule):
        raise RequestError(
            "A conditional format rule needs exactly one of booleanRule or gradientRule."
        )
    sheets = {id(_box(book, r)[0]): _box(book, r)[0] for r in rule["ranges"]}
    if len(sheets) != 1:
        raise RequestError("All ranges of a conditional format rule must be on the same sheet.")
    sheet = next(iter(sheets.values()))
    rules = sheet.setdefault("conditionalFormats", [])
    index = int(body.get("index", 0))
    if index > len(rules) or index < 0:
        raise RequestError(f"Invalid index {index}: the sheet has {len(rules)} rules.")
    rules.insert(index, rule)


def r_delete_conditional_format_rule(book: Book, body: dict[str, Any]) -> dict[str, Any]:
    sheet = book.sheet_by_id(int(body.get("sheetId", 0)))
    rules = sheet.get("conditionalFormats", [])
    index = int(body.get("index", 0))
    if not 0 <= index < len(rules):
        raise RequestError(
            f"No conditional format on sheet {sheet['properties']['sheetId']} at index {index}"
        )
    return {"rule": rules.pop(index)}


def _create_metadata(book: Book, md: dict[str, Any]) -> dict[str, Any]:
    md = copy.deepcopy(md)
    if not md.get("metadataKey"):
        raise RequestError("Developer metadata must have a metadataKey.")
    if md.get("visibility") not in ("DOCUMENT", "PROJECT"):
        raise RequestError("Developer metadata visibility must be DOCUMENT or PROJECT.")
    location = md.get("location") or {}
    kinds = [k for k in ("spreadsheet", "sheetId", "dimensionRange") if k in location]
    if len(kinds) != 1:
        raise RequestError("Developer metadata needs exactly one location.")
    if "spreadsheet" in location:
        md["location"] = {"locationType": "SPREADSHEET", "spreadsheet": True}
    elif "sheetId" in location:
        book.sheet_by_id(int(location["sheetId"]))
        md["location"] = {"locationType": "SHEET", "sheetId": int(location["sheetId"])}
    else:
        dr = location["dimensionRange"]
        sheet, dim, start, end = _dimension_range(book, dr)
        md["location"] = {
            "locationType": "ROW" if dim == "ROWS" else "COLUMN",
            "dimensionRange": {
                "sheetId": sheet["properties"]["sheetId"],
                "dimension": dim,
                "startIndex": start,
                "endIndex": end,
            },
        }
    existing = {m["metadataId"] for m in book.meta.get("_metadata", [])}
    if "metadataId" in md:
        if md["metadataId"] in existing:
            raise RequestError(f"Developer metadata with id {md['metadataId']} already exists.")
    else:
        md["metadataId"] = _random_id()
    book.meta.setdefault("_metadata", []).append(md)
    return md


def r_create_developer_metadata(book: Book, body: dict[str, Any]) -> dict[str, Any]:
    md = _create_metadata(book, body.get("developerMetadata") or {})
    return {"developerMetadata": copy.deepcopy(md)}


def _metadata_matches(book: Book, md: dict[str, Any], data_filter: dict[str, Any]) -> bool:
    lookup = data_filter.get("developerMetadataLookup")
    if lookup is None:
        raise RequestError(
            "Only developerMetadataLookup data filters are supported by the gsync emulator."
        )
    if "metadataId" in lookup and md["metadataId"] != lookup["metadataId"]:
        return False
    if "metadataKey" in lookup and md.get("metadataKey") != lookup["metadataKey"]:
        return False
    if "metadataValue" in lookup and md.get("metadataValue") != lookup["metadataValue"]:
        return False
    if "visibility" in lookup and md.get("visibility") != lookup["visibility"]:
        return False
    return not (
        "locationType" in lookup and md["location"]["locationType"] != lookup["locationType"]
    )


def r_delete_developer_metadata(book: Book, body: dict[str, Any]) -> dict[str, Any]:
    data_filter = body.get("dataFilter") or {}
    deleted = [m for m in book.meta.get("_metadata", []) if _metadata_matches(book, m, data_filter)]
    book.meta["_metadata"] = [m for m in book.meta.get("_metadata", []) if m not in deleted]
    return {"deletedDeveloperMetadata": deleted}


def r_add_chart(book: Book, body: dict[str, Any]) -> dict[str, Any]:
    chart = copy.deepcopy(body.get("chart") or {})
    if "spec" not in chart:
        raise RequestError("A chart needs a spec.")
    position = chart.get("position") or {}
    existing = {c["chartId"] for s in book.sheets for c in s.get("charts", [])}
    if "chartId" in chart and chart["chartId"] in existing:
        raise RequestError(f"An embedded object with id {chart['chartId']} already exists.")
    chart.setdefault("chartId", _random_id())
    if position.get("newSheet"):
        sheet = _add_sheet(book, {"title": f"Chart{len(existing) + 1}", "sheetType": "OBJECT"})
        chart["position"] = {"sheetId": sheet["properties"]["sheetId"]}
    elif "sheetId" in position:
        sheet = book.sheet_by_id(int(position["sheetId"]))
    elif "overlayPosition" in position:
        anchor = position["overlayPosition"].get("anchorCell") or {}
        sheet = book.sheet_by_id(int(anchor.get("sheetId", 0)))
    else:
        raise RequestError("A chart needs a position.")
    sheet.setdefault("charts", []).append(chart)
    return {"chart": copy.deepcopy(chart)}


def r_delete_embedded_object(book: Book, body: dict[str, Any]) -> None:
    object_id = int(body.get("objectId", -1))
    for sheet in book.sheets:
        for chart in sheet.get("charts", []):
            if chart["chartId"] == object_id:
                sheet["charts"].remove(chart)
                return
    raise RequestError(f"No embedded object with id: {object_id}")


def r_set_basic_filter(book: Book, body: dict[str, Any]) -> None:
    flt = copy.deepcopy(body.get("filter") or {})
    if "range" not in flt:
        raise RequestError("A basic filter needs a range.")
    sheet, *_ = _box(book, flt["range"])
    sheet["basicFilter"] = flt


def _overlaps(a: dict[str, Any], b: tuple[int, int, int, int]) -> bool:
    r0, r1, c0, c1 = b
    return (
        a["startRowIndex"] < r1
        and r0 < a["endRowIndex"]
        and a["startColumnIndex"] < c1
        and c0 < a["endColumnIndex"]
    )


def r_merge_cells(book: Book, body: dict[str, Any]) -> None:
    sheet, r0, r1, c0, c1 = _box(book, body.get("range") or {})
    if r1 - r0 < 1 or c1 - c0 < 1:
        raise RequestError("Cannot merge an empty range.")
    kind = body.get("mergeType", "MERGE_ALL")
    sid = sheet["properties"]["sheetId"]
    if kind == "MERGE_COLUMNS":
        boxes = [(r0, r1, c, c + 1) for c in range(c0, c1)]
    elif kind == "MERGE_ROWS":
        boxes = [(r, r + 1, c0, c1) for r in range(r0, r1)]
    else:
        boxes = [(r0, r1, c0, c1)]
    merges = sheet.setdefault("merges", [])
    for box in boxes:
        if (box[1] - box[0]) * (box[3] - box[2]) < 2:
            continue
        if any(_overlaps(m, box) for m in merges):
            raise RequestError("You can't create a merge which overlaps with another merge.")
        merges.append(
            {
                "sheetId": sid,
                "startRowIndex": box[0],
                "endRowIndex": box[1],
                "startColumnIndex": box[2],
                "endColumnIndex": box[3],
            }
        )


def r_unmerge_cells(book: Book, body: dict[str, Any]) -> None:
    sheet, r0, r1, c0, c1 = _box(book, body.get("range") or {})
    sheet["merges"] = [m for m in sheet.get("merges", []) if not _overlaps(m, (r0, r1, c0, c1))]


REQUESTS: dict[str, Callable[[Book, dict[str, Any]], dict[str, Any] | None]] = {
    "addSheet": r_add_sheet,
    "deleteSheet": r_delete_sheet,
    "updateSheetProperties": r_update_sheet_properties,
    "updateSpreadsheetProperties": r_update_spreadsheet_properties,
    "updateCells": r_update_cells,
    "appendCells": r_append_cells,
    "repeatCell": r_repeat_cell,
    "appendDimension": r_append_dimension,
    "insertDimension": r_insert_dimension,
    "deleteDimension": r_delete_dimension,
    "updateDimensionProperties": r_update_dimension_properties,
    "autoResizeDimensions": r_auto_resize_dimensions,
    "setDataValidation": r_set_data_validation,
    "addProtectedRange": r_add_protected_range,
    "updateProtectedRange": r_update_protected_range,
    "deleteProtectedRange": r_delete_protected_range,
    "addConditionalFormatRule": r_add_conditional_format_rule,
    "deleteConditionalFormatRule": r_delete_conditional_format_rule,
    "createDeveloperMetadata": r_create_developer_metadata,
    "deleteDeveloperMetadata": r_delete_developer_metadata,
    "addChart": r_add_chart,
    "deleteEmbeddedObject": r_delete_embedded_object,
    "setBasicFilter": r_set_basic_filter,
    "mergeCells": r_merge_cells,
    "unmergeCells": r_unmerge_cells,
}


@handler("sheets.spreadsheets.batchUpdate")
def spreadsheets_batch_update(req: Request) -> dict[str, Any]:
    """Apply every request or none (Google: one invalid request fails the whole batch)."""
    body = req.body or {}
    book = Book(req.tx, req.path_params["spreadsheetId"])
    replies: list[dict[str, Any]] = []
    for i, request in enumerate(body.get("requests") or []):
        kinds = list(request)
        if not kinds:
            raise invalid(f"Invalid requests[{i}]: No request set.")
        if len(kinds) > 1:
            raise invalid(
                f"Invalid requests[{i}]: oneof field 'kind' is already set. Cannot set '{kinds[1]}'"
            )
        kind = kinds[0]
        apply = REQUESTS.get(kind)
        if apply is None:
            raise invalid(
                f"Invalid requests[{i}].{kind}: this request kind is not supported by the gsync "
                "emulator."
            )
        try:
            reply = apply(book, request[kind])
        except RequestError as exc:
            raise invalid(f"Invalid requests[{i}].{kind}: {exc}") from None
        except ApiError as exc:
            raise invalid(f"Invalid requests[{i}].{kind}: {exc.message}") from None
        replies.append({kind: reply} if reply is not None else {})
    book.save(req.now)
    result: dict[str, Any] = {"spreadsheetId": book.id, "replies": replies}
    if body.get("includeSpreadsheetInResponse"):
        result["updatedSpreadsheet"] = render_spreadsheet(
            Book(req.tx, book.id),
            include_grid=bool(body.get("responseIncludeGridData")),
            ranges=list(body.get("responseRanges") or []),
        )
    return result


# ---------------------------------------------------------------- developer metadata


@handler("sheets.spreadsheets.developerMetadata.get")
def developer_metadata_get(req: Request) -> dict[str, Any]:
    book = Book(req.tx, req.path_params["spreadsheetId"])
    wanted = int(req.path_params["metadataId"])
    for md in book.meta.get("_metadata", []):
        if md["metadataId"] == wanted:
            found: dict[str, Any] = copy.deepcopy(md)
            return found
    raise not_found(f"No developer metadata with ID: {wanted}")


@handler("sheets.spreadsheets.developerMetadata.search")
def developer_metadata_search(req: Request) -> dict[str, Any]:
    book = Book(req.tx, req.path_params["spreadsheetId"])
    found: list[dict[str, Any]] = []
    for data_filter in (req.body or {}).get("dataFilters") or []:
        try:
            matches = [
                m for m in book.meta.get("_metadata", []) if _metadata_matches(book, m, data_filter)
            ]
        except RequestError as exc:
            raise invalid(str(exc)) from None
        for md in matches:
            item = {"developerMetadata": copy.deepcopy(md), "dataFilters": [data_filter]}
            if all(f["developerMetadata"]["metadataId"] != md["metadataId"] for f in found):
                found.append(item)
    return {"matchedDeveloperMetadata": found} if found else {}
