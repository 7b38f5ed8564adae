"""Local-authority destination files -> LA records matched to the roster (pure; no I/O but reading).

A local authority sends its tracking of a cohort (through the Schools Portal or an SLA) as CSV or
XLSX, coded with the NCCIS current-activity codes (DfE, "NCCIS management information
requirement", Appendix A; the code numbers and their categories are data in
`sheets_templates/taxonomy.toml`). LAs lay the files out differently: the code alone ("220"), the
code with its description in one cell ("220 - Sixth form college") or in two columns, Excel's
"220.0"; UK dates; a BOM or Windows-1252. `read_la_file` normalises all of them; `match_la`
matches every row to the roster by UPN, then by name and date of birth. Unmatched rows are kept
and reported, never dropped; where the LA sends several rows for one pupil the most recently
confirmed is used and the others are kept as "superseded".

Problems name the row (as a spreadsheet app numbers it) and the column, never the data in it.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pandas as pd

from gsync.errors import DataError
from gsync.matching import name_key
from gsync.roster import RowProblem, _decode, _delimiter, match_columns, parse_date, upn_valid
from gsync.taxonomy import Taxonomy

# Column names seen in LA exports, by LA key (matching ignores case, spaces and punctuation).
ALIASES: dict[str, tuple[str, ...]] = {
    "upn": ("UPN", "Unique Pupil Number", "Pupil UPN", "Young Person UPN", "YP UPN"),
    "forename": ("Forename", "First Name", "Firstname", "Given Name", "Legal Forename"),
    "surname": ("Surname", "Last Name", "Lastname", "Family Name", "Legal Surname"),
    "date_of_birth": ("DOB", "Date of Birth", "Birth Date", "Birthdate"),
    "activity_code": (
        "Activity Code",
        "Current Activity Code",
        "NCCIS Code",
        "NCCIS Activity Code",
        "Current Activity",
        "Activity",
        "Status Code",
    ),
    "activity_description": (
        "Activity Description",
        "Current Activity Description",
        "Activity Name",
        "NCCIS Description",
        "Status Text",
        "Status Description",
        "Description",
    ),
    "provider": (
        "Provider",
        "Provider Name",
        "Learning Provider",
        "Establishment",
        "Institution",
        "Employer",
        "Employer / Provider",
    ),
    "course": ("Course", "Course Title", "Programme", "Job Title"),
    "level": ("Level", "Qualification Level", "Level of Study", "Course Level"),
    "start_date": ("Start Date", "Activity Start Date", "Date Started"),
    "recorded": (
        "Date Ascertained",
        "Date Confirmed",
        "Confirmed Date",
        "Last Confirmed",
        "Date Recorded",
        "Review Date",
    ),
    "leaving_year": ("Year Left", "Leaving Year", "Year of Leaving", "Leaver Year", "Cohort"),
}
MATCHED, UNMATCHED, AMBIGUOUS, SUPERSEDED = "matched", "unmatched", "ambiguous", "superseded"
MATCH_STATUSES = (MATCHED, UNMATCHED, AMBIGUOUS, SUPERSEDED)

# The LA data tab's columns (template keys, sheets_templates/ceiag.toml tab "la_data").
LA_COLUMNS: tuple[str, ...] = (
    "school",
    "leaving_year",
    "la_row",
    "imported",
    "source_file",
    "la_upn",
    "forename",
    "surname",
    "date_of_birth",
    "activity_code",
    "activity_description",
    "category",
    "provider",
    "course",
    "level",
    "start_date",
    "la_recorded",
    "match_status",
    "matched_by",
    "upn",
    "reason",
)

# "220", "220.0" (Excel), "220 - Sixth form college", "220: ...", "220 Sixth form college".
_CODE = re.compile(r"^\s*(\d{3})(?:\.0+)?(?:\s*[-:\u2013]\s*|\s+|$)(.*)$", re.S)
_LEVEL = re.compile(r"^(?:level|l)?\s*([1-8])$", re.I)


@dataclass(frozen=True)
class LARecord:
    """One row of the LA's file, normalised, with what matching found."""

    row: int
    la_upn: str = ""
    forename: str = ""
    surname: str = ""
    date_of_birth: str = ""
    code: int = 0
    description: str = ""
    category: str = ""  # taxonomy category key
    provider: str = ""
    course: str = ""
    level: str = ""  # "Level N" or ""
    start_date: str = ""
    recorded: str = ""  # the LA's date ascertained / confirmed (ISO)
    leaving_year: str = ""
    match_status: str = ""
    matched_by: str = ""  # "upn" | "name_dob" | ""
    upn: str = ""  # the roster pupil's UPN when matched
    reason: str = ""


@dataclass(frozen=True)
class LAResult:
    """The rows read (every non-blank row, in file order) and the problems found."""

    records: list[LARecord]
    errors: list[RowProblem] = field(default_factory=list)
    columns: dict[str, str] = field(default_factory=dict)  # LA key -> the file's header used


def _text(value: Any) -> str:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return ""
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    text = unicodedata.normalize("NFC", str(value))
    return " ".join(text.split())


def read_rows(path_or_bytes: str | Path | bytes, *, name: str = "") -> list[list[str]]:
    """The file's rows as text: XLSX (first sheet) by its magic bytes, else CSV/TSV in any encoding."""
    data = path_or_bytes if isinstance(path_or_bytes, bytes) else Path(path_or_bytes).read_bytes()
    if data[:4] == b"PK\x03\x04" or name.casefold().endswith(".xlsx"):
        import openpyxl  # type: ignore[import-untyped]

        try:
            book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        except Exception as exc:  # openpyxl raises several unrelated types for a damaged file
            raise DataError(
                f"The LA file {name or ''} could not be read as XLSX ({type(exc).__name__}).",
                fix="save it again from Excel as .xlsx, or as CSV.",
            ) from None
        sheet = book.worksheets[0]
        rows = [[_text(v) for v in r] for r in sheet.iter_rows(values_only=True)]
        book.close()
        return rows
    text = _decode(data)
    return [
        [_text(c) for c in r]
        for r in csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text))
    ]


def resolve_columns(
    header: Sequence[str], mapping: Mapping[str, str] | None = None
) -> dict[str, int]:
    """LA key -> column index: the explicit mapping first, then the aliases (first match wins)."""
    found, bad = match_columns(header, mapping, ALIASES)
    if bad:
        raise DataError(
            "The LA column mapping names unknown fields or headers not in the file: "
            + ", ".join(sorted(bad))
            + ".",
            fix="map a field (" + ", ".join(ALIASES) + ") to a header of the file's first row.",
        )
    return found


def parse_code(text: str, known: set[int]) -> tuple[int, str]:
    """An NCCIS activity cell -> (code, description in the same cell); ValueError when not a code."""
    m = _CODE.match(text)
    if not m:
        raise ValueError("not an NCCIS activity code (three digits, e.g. 220)")
    code = int(m.group(1))
    if code not in known:
        raise ValueError(
            "not an NCCIS activity code in the taxonomy (sheets_templates/taxonomy.toml)"
        )
    return code, " ".join(m.group(2).split()).lstrip("-: ").strip()


def parse_level(text: str) -> str:
    """'3', 'L3', 'Level 3' -> 'Level 3'; 'Entry level' kept; anything else -> ''."""
    value = text.strip()
    if value.casefold() in {"entry", "entry level"}:
        return "Entry level"
    m = _LEVEL.match(value)
    return f"Level {m.group(1)}" if m else ""


def read_la_file(
    path_or_bytes: str | Path | bytes,
    *,
    taxonomy: Taxonomy,
    mapping: Mapping[str, str] | None = None,
    leaving_year: int | None = None,
    name: str = "",
) -> LAResult:
    """Read an LA destinations file; every row kept, every unreadable value reported.

    Needs an activity-code column and a way to match (a UPN column, or names and a date of
    birth). `leaving_year` is the cohort when the file has no leaving-year column.
    """
    rows = read_rows(path_or_bytes, name=name)
    header = rows[0] if rows else []
    cols = resolve_columns(header, mapping)
    missing = [k for k in ("activity_code",) if k not in cols]
    if "upn" not in cols and not {"forename", "surname", "date_of_birth"} <= set(cols):
        missing.append("upn (or forename, surname and date_of_birth)")
    if leaving_year is None and "leaving_year" not in cols:
        missing.append("leaving_year (or --leaving-year)")
    if missing:
        raise DataError(
            "The LA file lacks column(s): " + ", ".join(missing) + ".",
            fix="give a column mapping, --map FIELD=COLUMN (e.g. --map activity_code='Status'), "
            "and --leaving-year YEAR when the file has no cohort column.",
        )
    known = {c for cat in taxonomy.spec.categories.values() for c in cat.nccis_codes}
    by_code = {c: k for k, cat in taxonomy.spec.categories.items() for c in cat.nccis_codes}
    records: list[LARecord] = []
    errors: list[RowProblem] = []
    for offset, raw in enumerate(rows[1:]):
        row_no = offset + 2  # the header is row 1 in a spreadsheet app
        if not any(c.strip() for c in raw):
            continue

        def get(key: str, raw: list[str] = raw) -> str:
            idx = cols.get(key)
            return raw[idx].strip() if idx is not None and idx < len(raw) else ""

        def label(key: str) -> str:
            idx = cols.get(key)
            return header[idx] if idx is not None and idx < len(header) else key

        values: dict[str, Any] = {"row": row_no}
        for key in ("date_of_birth", "start_date", "recorded"):
            text = get(key)
            try:
                values[key] = parse_date(text) if text else ""
            except ValueError as exc:
                errors.append(RowProblem(row_no, label(key), str(exc)))
        code_text = get("activity_code")
        if not code_text:
            errors.append(RowProblem(row_no, label("activity_code"), "activity code is missing"))
        else:
            try:
                code, inline = parse_code(code_text, known)
                values["code"] = code
                values["category"] = by_code[code]
                values["description"] = get("activity_description") or inline
            except ValueError as exc:
                errors.append(RowProblem(row_no, label("activity_code"), str(exc)))
        year = get("leaving_year") if "leaving_year" in cols else str(leaving_year)
        if "leaving_year" in cols and not year and leaving_year is not None:
            year = str(leaving_year)
        if not re.fullmatch(r"\d{4}", year):
            errors.append(RowProblem(row_no, label("leaving_year"), "expected a four-digit year"))
        values["leaving_year"] = year
        values["la_upn"] = re.sub(r"\s+", "", get("upn")).upper()
        for key in ("forename", "surname", "provider", "course"):
            values[key] = get(key)
        values["level"] = parse_level(get("level"))
        records.append(LARecord(**values))
    used = {k: header[i] for k, i in cols.items() if i < len(header)}
    return LAResult(records=records, errors=errors, columns=used)


# --- matching ---------------------------------------------------------------------------------------


def _cell(value: object) -> str:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return ""
    return str(value)


def _pupil_name_keys(p: Mapping[str, str]) -> set[str]:
    forenames = {p.get("legal_forename", ""), p.get("preferred_forename", "")}
    surnames = {p.get("legal_surname", ""), p.get("preferred_surname", "")}
    return {name_key(f + s) for f in forenames if f for s in surnames if s}


def match_la(
    records: Sequence[LARecord], destinations: pd.DataFrame, *, school: str
) -> list[LARecord]:
    """Match each LA row to a pupil of the school's cohort: UPN first, then name + date of birth.

    Every row comes back (same order) with match_status matched / unmatched / ambiguous /
    superseded and a reason naming no personal data. Of several rows for one pupil the most
    recently confirmed (then the later row) is used; the others are "superseded".
    """
    pupils = [
        {str(k): _cell(v) for k, v in r.items()}
        for r in destinations.to_dict("records")
        if _cell(r.get("school")) == school and _cell(r.get("upn"))
    ]
    by_upn: dict[tuple[str, str], dict[str, str]] = {}
    by_name_dob: dict[tuple[str, str, str], list[dict[str, str]]] = {}
    for p in pupils:
        year = p.get("leaving_year", "")
        by_upn[(p["upn"], year)] = p
        if p.get("date_of_birth"):
            for key in _pupil_name_keys(p):
                by_name_dob.setdefault((key, p["date_of_birth"], year), []).append(p)
    out: list[LARecord] = []
    for rec in records:
        out.append(_match_one(rec, by_upn, by_name_dob))
    return _supersede(out)


def _match_one(
    rec: LARecord,
    by_upn: dict[tuple[str, str], dict[str, str]],
    by_name_dob: dict[tuple[str, str, str], list[dict[str, str]]],
) -> LARecord:
    notes: list[str] = []
    if rec.la_upn:
        if not upn_valid(rec.la_upn):
            notes.append("the LA's UPN is not valid (check letter or shape)")
        elif (rec.la_upn, rec.leaving_year) in by_upn:
            return replace(rec, match_status=MATCHED, matched_by="upn", upn=rec.la_upn)
        else:
            notes.append("no pupil of this cohort has the LA's UPN")
    key = name_key(rec.forename + rec.surname)
    if not key or not rec.date_of_birth:
        notes.append("no name and date of birth to match by")
        return replace(rec, match_status=UNMATCHED, reason="; ".join(notes))
    found = {p["upn"]: p for p in by_name_dob.get((key, rec.date_of_birth, rec.leaving_year), [])}
    if len(found) == 1:
        upn = next(iter(found))
        return replace(
            rec, match_status=MATCHED, matched_by="name_dob", upn=upn, reason="; ".join(notes)
        )
    if len(found) > 1:
        notes.append(f"{len(found)} pupils have this name and date of birth")
        return replace(rec, match_status=AMBIGUOUS, matched_by="name_dob", reason="; ".join(notes))
    notes.append("no pupil of this cohort has this name and date of birth")
    return replace(rec, match_status=UNMATCHED, reason="; ".join(notes))


def _supersede(records: list[LARecord]) -> list[LARecord]:
    winners: dict[tuple[str, str], int] = {}
    for i, rec in enumerate(records):
        if rec.match_status != MATCHED:
            continue
        pupil = (rec.upn, rec.leaving_year)
        best = winners.get(pupil)
        # ISO dates order as text; a blank date is older than any; a later row wins a tie.
        if best is None or rec.recorded >= records[best].recorded:
            winners[pupil] = i
    out = list(records)
    for i, rec in enumerate(records):
        if rec.match_status != MATCHED:
            continue
        win = winners[(rec.upn, rec.leaving_year)]
        if win != i:
            out[i] = replace(
                rec,
                match_status=SUPERSEDED,
                reason=f"another LA row for the same pupil is used (row {records[win].row})",
            )
    return out


def la_frame(
    records: Sequence[LARecord], taxonomy: Taxonomy, *, school: str, imported: str, source: str
) -> pd.DataFrame:
    """The LA data tab's rows for one import (columns LA_COLUMNS, all text)."""
    rows = [
        {
            "school": school,
            "leaving_year": r.leaving_year,
            "la_row": str(r.row),
            "imported": imported,
            "source_file": source,
            "la_upn": r.la_upn,
            "forename": r.forename,
            "surname": r.surname,
            "date_of_birth": r.date_of_birth,
            "activity_code": str(r.code) if r.code else "",
            "activity_description": r.description,
            "category": taxonomy.label(r.category) if r.category else "",
            "provider": r.provider,
            "course": r.course,
            "level": r.level,
            "start_date": r.start_date,
            "la_recorded": r.recorded,
            "match_status": r.match_status,
            "matched_by": r.matched_by,
            "upn": r.upn,
            "reason": r.reason,
        }
        for r in records
    ]
    return pd.DataFrame(rows, columns=list(LA_COLUMNS), dtype=object)


def replace_cohorts(existing: pd.DataFrame, new: pd.DataFrame, school: str) -> pd.DataFrame:
    """The LA data tab after an import: the school's cohorts in `new` replaced, all else kept."""
    years = set(new["leaving_year"].astype(str))
    old = existing.reindex(columns=list(LA_COLUMNS), fill_value="").fillna("").astype(str)
    keep = old[~((old["school"] == school) & old["leaving_year"].isin(years))]
    return pd.concat([keep, new], ignore_index=True)[list(LA_COLUMNS)]


def counts(records: Sequence[LARecord]) -> dict[str, int]:
    """Rows per match status (what the import reports; no personal data)."""
    out = dict.fromkeys(MATCH_STATUSES, 0)
    for r in records:
        out[r.match_status] = out.get(r.match_status, 0) + 1
    out["rows"] = len(records)
    return out
