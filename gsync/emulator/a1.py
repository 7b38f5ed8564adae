"""A1 notation, as the Sheets API reads it.

Forms accepted: ``Sheet1!A1:B2``, ``'My Tab'!A:A``, ``'It''s'!B2:D`` (a doubled quote inside a
quoted name), open ranges (``A2:C`` = columns A..C from row 2 down, ``A:C``, ``2:5``, ``A5:5``
= row 5 from column A rightwards), a single cell, a bare sheet name (the whole sheet) and no
sheet name (the first visible sheet). Reversed corners are normalised (``B2:A1`` = ``A1:B2``).
Anything else is refused with Google's ``Unable to parse range: ...``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from gsync.emulator.core import invalid

MAX_COLUMNS = 18278  # column ZZZ: the Sheets maximum
MAX_ROWS = 10_000_000

_CELL = re.compile(r"([A-Za-z]{1,3})?([1-9][0-9]{0,7})?")
_CELL_LIKE = re.compile(r"[A-Za-z]{1,3}[0-9]+|[A-Za-z]{1,3}", re.IGNORECASE)
_SIMPLE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@dataclass(frozen=True)
class A1Range:
    """A parsed range: 0-based, end-exclusive bounds; None = open (to the grid's edge)."""

    sheet: str | None
    start_row: int | None = None
    end_row: int | None = None
    start_col: int | None = None
    end_col: int | None = None


def column_index(letters: str) -> int:
    """``"A"`` → 0, ``"Z"`` → 25, ``"AA"`` → 26."""
    n = 0
    for ch in letters.upper():
        n = n * 26 + (ord(ch) - 64)
    return n - 1


def column_letters(index: int) -> str:
    """0 → ``"A"``, 26 → ``"AA"``."""
    if index < 0:
        raise ValueError("column index must be >= 0")
    out = ""
    n = index + 1
    while n:
        n, rem = divmod(n - 1, 26)
        out = chr(65 + rem) + out
    return out


def _split_sheet(text: str) -> tuple[str | None, str | None]:
    """(sheet name or None, cell part or None)."""
    if text.startswith("'"):
        i = 1
        chars: list[str] = []
        while i < len(text):
            ch = text[i]
            if ch == "'":
                if i + 1 < len(text) and text[i + 1] == "'":
                    chars.append("'")
                    i += 2
                    continue
                rest = text[i + 1 :]
                title = "".join(chars)
                if not title:
                    raise ValueError("empty sheet name")
                if rest == "":
                    return title, None
                if rest.startswith("!") and len(rest) > 1:
                    return title, rest[1:]
                raise ValueError("text after quoted sheet name")
            chars.append(ch)
            i += 1
        raise ValueError("unterminated quote")
    if "!" in text:
        name, _, cells = text.rpartition("!")
        if not name or not cells or "'" in name:
            raise ValueError("bad sheet reference")
        return name, cells
    return None, text


def _corner(text: str) -> tuple[int | None, int | None]:
    """(column, row), 0-based, from ``A1`` / ``A`` / ``1``."""
    m = _CELL.fullmatch(text)
    if m is None or not text:
        raise ValueError("bad cell")
    col = column_index(m.group(1)) if m.group(1) else None
    row = int(m.group(2)) - 1 if m.group(2) else None
    if col is not None and col >= MAX_COLUMNS:
        raise ValueError("column out of range")
    return col, row


def _cells(sheet: str | None, cells: str) -> A1Range:
    first, sep, second = cells.partition(":")
    c1, r1 = _corner(first)
    if not sep:
        if c1 is None or r1 is None:
            raise ValueError("a single reference must be a cell")
        return A1Range(sheet, r1, r1 + 1, c1, c1 + 1)
    c2, r2 = _corner(second)
    if c1 is not None and r1 is not None:
        if c2 is not None and r2 is not None:  # A1:B2
            return A1Range(sheet, min(r1, r2), max(r1, r2) + 1, min(c1, c2), max(c1, c2) + 1)
        if c2 is not None:  # A2:C, columns A..C from row 2 down
            return A1Range(sheet, r1, None, min(c1, c2), max(c1, c2) + 1)
        assert r2 is not None  # A5:5, row 5 from column A rightwards
        return A1Range(sheet, min(r1, r2), max(r1, r2) + 1, c1, None)
    if c1 is not None and c2 is not None and r2 is None:  # A:C
        return A1Range(sheet, None, None, min(c1, c2), max(c1, c2) + 1)
    if r1 is not None and r2 is not None and c2 is None:  # 2:5
        return A1Range(sheet, min(r1, r2), max(r1, r2) + 1, None, None)
    raise ValueError("mixed corner kinds")


def parse(text: str) -> A1Range:
    """Parse A1 notation; a bare word that is not a cell reference is a sheet name."""
    original = text
    try:
        text = text.strip()
        if not text:
            raise ValueError("empty")
        sheet, cells = _split_sheet(text)
        if cells is None:
            return A1Range(sheet)
        try:
            return _cells(sheet, cells)
        except ValueError:
            if sheet is None and "!" not in text and ":" not in text:
                return A1Range(text)  # a bare, unquoted sheet name
            raise
    except ValueError:
        raise invalid(f"Unable to parse range: {original}") from None


def quote_sheet(title: str) -> str:
    """A sheet title as it appears in A1 notation (quoted unless a plain identifier)."""
    if _SIMPLE_NAME.fullmatch(title) and not _CELL_LIKE.fullmatch(title):
        return title
    return "'" + title.replace("'", "''") + "'"


def format_range(title: str, start_row: int, end_row: int, start_col: int, end_col: int) -> str:
    """``Sheet1!A1:B2`` (a single cell as ``Sheet1!A1``) from 0-based end-exclusive bounds."""
    first = f"{column_letters(start_col)}{start_row + 1}"
    last = f"{column_letters(end_col - 1)}{end_row}"
    cells = first if (end_row - start_row, end_col - start_col) == (1, 1) else f"{first}:{last}"
    return f"{quote_sheet(title)}!{cells}"
