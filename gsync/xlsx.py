"""`gsync export --xlsx`: the whole trust spreadsheet as one XLSX file (for an offline copy or MIS).

One read of the trust spreadsheet (`sheetio.read_snapshot`), every tab in the spreadsheet's order,
hidden tabs and the template's hidden columns kept hidden. The file holds pupil data, so it is
created readable by its owner only (mode 0600) and replaced atomically.
"""

from __future__ import annotations

import io
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from openpyxl import Workbook  # type: ignore[import-untyped]
from openpyxl.cell.cell import TYPE_STRING  # type: ignore[import-untyped]
from openpyxl.styles import Font  # type: ignore[import-untyped]
from openpyxl.utils import get_column_letter  # type: ignore[import-untyped]

from gsync.config import Config
from gsync.sheetio import Snapshot, read_snapshot
from gsync.workspace import Workspace

# Excel's limits: 31 characters per sheet title, and these characters are not allowed in one.
_TITLE_MAX = 31
_TITLE_BAD = set("[]:*?/\\")
_WIDTH_MAX = 60


@dataclass
class XlsxReport:
    """What `gsync export --xlsx` wrote (counts only; no personal data)."""

    path: Path
    tabs: dict[str, int] = field(default_factory=dict)  # tab title -> data rows (header excluded)

    def as_dict(self) -> dict[str, Any]:
        return {"path": str(self.path), "tabs": self.tabs, "mode": "0600"}


def sheet_title(title: str, used: set[str]) -> str:
    """An Excel-legal, unique sheet title for a Google tab title (31 chars, no []:*?/\\)."""
    clean = "".join("_" if ch in _TITLE_BAD else ch for ch in title).strip("'") or "Sheet"
    base = clean[:_TITLE_MAX]
    candidate, n = base, 2
    while candidate.casefold() in used:
        suffix = f" ({n})"
        candidate = base[: _TITLE_MAX - len(suffix)] + suffix
        n += 1
    used.add(candidate.casefold())
    return candidate


def hidden_headers(template: Any) -> dict[str, set[str]]:
    """Tab title -> headers of the template's hidden columns (e.g. the sync's `sync_hash`)."""
    out: dict[str, set[str]] = {}
    for tab in template.tabs:
        out[tab.title] = {c.header for c in tab.columns if getattr(c, "hidden", False)}
    return out


def workbook_bytes(snapshot: Snapshot, hidden_columns: dict[str, set[str]] | None = None) -> bytes:
    """The snapshot as XLSX bytes: one sheet per tab, every cell text.

    Every value is stored as a string cell, never a formula: a respondent's "=IMPORTXML(...)"
    stays text in Excel as it does in Sheets (openpyxl would otherwise write it as a formula).
    """
    hidden_columns = hidden_columns or {}
    book = Workbook()
    book.remove(book.active)
    used: set[str] = set()
    bold = Font(bold=True)
    for info in sorted(snapshot.tabs.values(), key=lambda t: t.index):
        sheet = book.create_sheet(sheet_title(info.title, used))
        grid = snapshot.grid(info.title)
        widths: dict[int, int] = {}
        for r, row in enumerate(grid, start=1):
            for c, value in enumerate(row, start=1):
                if value == "":
                    continue
                cell = sheet.cell(row=r, column=c)
                cell.value = value
                cell.data_type = TYPE_STRING
                if r == 1:
                    cell.font = bold
                widths[c] = max(widths.get(c, 0), min(len(value), _WIDTH_MAX))
        for c, width in widths.items():
            sheet.column_dimensions[get_column_letter(c)].width = max(width + 2, 8)
        header = grid[0] if grid else []
        for c, name in enumerate(header, start=1):
            if name in hidden_columns.get(info.title, set()):
                sheet.column_dimensions[get_column_letter(c)].hidden = True
        if info.frozen_rows:
            sheet.freeze_panes = sheet.cell(row=info.frozen_rows + 1, column=1)
        if info.hidden:
            sheet.sheet_state = "hidden"
    if not book.worksheets:
        book.create_sheet("Empty")
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def write_private(path: Path, data: bytes) -> None:
    """Write `data` to `path` readable by its owner only (0600), replacing it atomically.

    The temporary file is created 0600 (mkstemp) in the target folder, so the pupil data is never
    readable by others, not even for a moment, and a reader never sees half a file.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def export_xlsx(ws: Workspace, config: Config, path: Path) -> XlsxReport:
    """Read the trust spreadsheet once and write it whole to `path` as XLSX (mode 0600)."""
    from gsync.sync import load_template, trust_spreadsheet_id

    snapshot = read_snapshot(ws, trust_spreadsheet_id(config), "Reading the trust spreadsheet")
    data = workbook_bytes(snapshot, hidden_headers(load_template(config)))
    write_private(path, data)
    tabs = {
        info.title: max(len(snapshot.grid(info.title)) - 1, 0)
        for info in sorted(snapshot.tabs.values(), key=lambda t: t.index)
    }
    return XlsxReport(path=path, tabs=tabs)
