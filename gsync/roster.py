"""MIS roster exports (SIMS, Arbor, Bromcom CSV) -> the roster frame, and its upsert into Destinations.

`read_roster` validates every row and reports each problem by the row number a spreadsheet app
shows (the header is row 1), naming only columns, never the personal data in them.
`apply_roster` upserts identity and priority-group cells by (upn, leaving_year), never touching
entry or staff columns and never duplicating a pupil.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
from email_validator import EmailNotValidError, validate_email

from gsync.errors import DataError
from gsync.template import IDENTITY, group_state, set_group_hash

# The roster frame's columns, in the Destinations tab's order.
ROSTER_COLUMNS: tuple[str, ...] = (
    "school",
    "upn",
    "legal_forename",
    "legal_surname",
    "preferred_forename",
    "preferred_surname",
    "date_of_birth",
    "school_email",
    "leaving_year",
    "phase",
    "send",
    "disadvantaged",
    "eal",
    "looked_after",
)

# Source column names seen in SIMS, Arbor and Bromcom exports, by roster key. Matching ignores case,
# spaces and punctuation ("Date of Birth" = "DOB" = "date_of_birth" only via the lists below).
ALIASES: dict[str, tuple[str, ...]] = {
    "upn": ("UPN", "Unique Pupil Number", "Pupil UPN", "Student UPN"),
    "legal_forename": ("Legal Forename", "Legal First Name", "Forename", "First Name", "Firstname"),
    "legal_surname": ("Legal Surname", "Legal Last Name", "Surname", "Last Name", "Lastname"),
    # SIMS exports both "Legal Forename" and "Forename" (the preferred one): the legal key takes
    # the "Legal ..." column first, so the plain one is left for the preferred key.
    "preferred_forename": ("Preferred Forename", "Preferred First Name", "Known As", "Forename"),
    "preferred_surname": ("Preferred Surname", "Preferred Last Name", "Surname"),
    "date_of_birth": ("DOB", "Date of Birth", "Birth Date", "Birthdate"),
    "school_email": ("Email", "School Email", "Email Address", "Primary Email", "Student Email"),
    "leaving_year": ("Year Left", "Leaving Year", "Year of Leaving", "Leaver Year"),
    "send": ("SEN Status", "SEN Provision", "SEN", "SEND", "SEN Need"),
    "disadvantaged": ("Disadvantaged", "Pupil Premium", "Pupil Premium Indicator", "FSM6", "PP"),
    "eal": ("EAL", "First Language", "Language"),
    "looked_after": ("Looked After", "In Care", "CLA", "LAC", "Child Looked After"),
    "previously_looked_after": ("Previously Looked After", "PLAC", "Post LAC", "Ever In Care"),
}
REQUIRED: tuple[str, ...] = ("upn", "legal_forename", "legal_surname", "date_of_birth")

# DfE check letters: 0 -> A ... 22 -> Z, with I, O and S never used (23 letters).
_CHECK_LETTERS = "ABCDEFGHJKLMNPQRTUVWXYZ"
_UPN = re.compile(r"^[A-Z]\d{11}[0-9A-Z]$")
_YES = {"y", "yes", "true", "t", "1", "x"}
_NO = {"n", "no", "false", "f", "0", ""}


@dataclass(frozen=True)
class RowProblem:
    """One problem in the file: the row as a spreadsheet app numbers it, the column, what is wrong."""

    row: int
    column: str
    problem: str


@dataclass(frozen=True)
class RosterResult:
    """The valid rows as a roster frame, and every problem found (empty when the file is clean)."""

    frame: pd.DataFrame
    errors: list[RowProblem] = field(default_factory=list)


@dataclass(frozen=True)
class RosterCounts:
    """What `apply_roster` did: rows added, updated, unchanged, and rows left alone (staff edits)."""

    added: int = 0
    updated: int = 0
    unchanged: int = 0
    conflicts: int = 0


def upn_check_letter(upn: str) -> str:
    """The check letter (character 1) for a UPN's characters 2-13.

    Source: UK Government Data Standards Catalogue, "Unique Pupil Number" v2.0 (govtalk.gov.uk,
    agreed 18 November 2004), and the DfE school census validation rule 1510 as explained by Arbor
    ("UPN/Former UPN invalid (wrong check letter in character 1)"): multiply each character at
    positions 2..13 by its position; a temporary UPN's final letter counts as its check-letter value
    (A=0 ... Z=22, skipping I, O, S); the sum modulo 23 indexes the same letter table.
    """
    text = upn.strip().upper()
    body = text[1:] if len(text) == 13 else text
    if len(body) != 12 or not body[:11].isdigit():
        raise ValueError("a UPN has 13 characters: a letter, 11 digits, and a digit or letter")
    total = 0
    for position, char in enumerate(body, start=2):
        if char.isdigit():
            value = int(char)
        elif position == 13 and char in _CHECK_LETTERS:
            value = _CHECK_LETTERS.index(char)
        else:
            raise ValueError("a UPN's characters 2-12 are digits; character 13 a digit or letter")
        total += value * position
    return _CHECK_LETTERS[total % 23]


def upn_valid(upn: str) -> bool:
    """Whether `upn` has the UPN shape and the right check letter."""
    text = upn.strip().upper()
    if not _UPN.match(text):
        return False
    if not text[12].isdigit() and text[12] not in _CHECK_LETTERS:
        return False
    return upn_check_letter(text) == text[0]


# --- decoding -------------------------------------------------------------------------------------


def _decode(data: bytes) -> str:
    """UTF-8 (with or without BOM), else Windows-1252 (what Excel on Windows saves as 'CSV')."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def _delimiter(text: str) -> str:
    first = text.splitlines()[0] if text else ""
    counts = {d: first.count(d) for d in (",", ";", "\t")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def _norm(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.casefold())


def match_columns(
    header: Sequence[str], mapping: Mapping[str, str] | None, aliases: Mapping[str, Sequence[str]]
) -> tuple[dict[str, int], list[str]]:
    """Field -> column index of a file's header: an explicit mapping first, then each field's
    own name and aliases (case, spaces and punctuation ignored; a column is used once).
    Also returns the mapping's unknown fields or headers not found. Shared by roster and LA files."""
    by_norm: dict[str, int] = {}
    for idx, name in enumerate(header):
        by_norm.setdefault(_norm(name), idx)
    found: dict[str, int] = {}
    bad: list[str] = []
    for key, source in (mapping or {}).items():
        mapped = by_norm.get(_norm(source))
        if key not in aliases or mapped is None:
            bad.append(key)
        else:
            found[key] = mapped
    taken = set(found.values())
    for key, names in aliases.items():
        if key in found:
            continue
        for alias in (key, *names):
            hit = by_norm.get(_norm(alias))
            if hit is not None and hit not in taken:
                found[key] = hit
                taken.add(hit)
                break
    return found, bad


def _resolve_columns(
    header: list[str], mapping: Mapping[str, str] | None
) -> tuple[dict[str, int], list[str]]:
    """Roster key -> column index; explicit mapping first, then the aliases. Returns unknown mapping keys."""
    return match_columns(header, mapping, ALIASES)


# --- value parsers (each returns the clean value, or raises ValueError with a data-free reason) ---


def parse_date(text: str) -> str:
    """dd/mm/yyyy (UK order, also with - or .) or ISO yyyy-mm-dd -> ISO; ValueError if impossible."""
    value = text.strip()
    if m := re.fullmatch(r"(\d{4})-(\d{1,2})-(\d{1,2})(?:[T ].*)?", value):
        y, mo, d = int(m[1]), int(m[2]), int(m[3])
    elif m := re.fullmatch(r"(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{4})(?: .*)?", value):
        d, mo, y = int(m[1]), int(m[2]), int(m[3])
    else:
        raise ValueError("not a date (use dd/mm/yyyy or yyyy-mm-dd)")
    try:
        return dt.date(y, mo, d).isoformat()
    except ValueError:
        raise ValueError("impossible date") from None


def _flag(text: str) -> str:
    value = text.strip().casefold()
    if value in _YES:
        return "Y"
    if value in _NO:
        return "N"
    raise ValueError("expected Y or N (or Yes/No, True/False, 1/0)")


def _send(text: str) -> str:
    """SEN status as K (SEN support), E (EHC plan) or N. Accepts the census codes and common labels."""
    value = text.strip().casefold()
    if value in {"k", "sen support", "school action", "school action plus", "a", "p"}:
        return "K"
    if value in {"e", "s", "ehc", "ehcp", "ehc plan", "statement", "statemented"}:
        return "E"
    if value in {"n", "", "none", "no", "no sen", "not sen"}:
        return "N"
    raise ValueError("expected K (SEN support), E (EHC plan) or N")


def _eal(text: str, source_header: str) -> str:
    """EAL from a Y/N column, or from a first-language column (English -> N, another language -> Y)."""
    if _norm(source_header) in {"firstlanguage", "language"}:
        value = text.strip().casefold()
        if value in {"", "not known", "unknown", "information not obtained", "refused"}:
            return ""
        return "N" if value in {"english", "eng", "english (uk)"} else "Y"
    return _flag(text)


def _leaving_year(text: str) -> str:
    value = text.strip()
    if not re.fullmatch(r"\d{4}", value) or not 2000 <= int(value) <= 2100:
        raise ValueError("expected a four-digit year")
    return value


# --- read -----------------------------------------------------------------------------------------


def read_roster(
    path_or_bytes: str | Path | bytes,
    *,
    school: str,
    phase: str,
    mapping: Mapping[str, str] | None = None,
    leaving_year: int | None = None,
) -> RosterResult:
    """Read an MIS CSV export into the roster frame, reporting every bad row.

    `mapping` maps roster keys (`upn`, `legal_forename`, `date_of_birth`, ...) to the file's header
    names where the aliases do not recognise them. `leaving_year` fills the cohort when the file
    has no leaving-year column. Raises DataError when required columns are missing.
    """
    data = path_or_bytes if isinstance(path_or_bytes, bytes) else Path(path_or_bytes).read_bytes()
    text = _decode(data)
    rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text)))
    header = [h.strip() for h in rows[0]] if rows else []
    cols, bad = _resolve_columns(header, mapping)
    if bad:
        raise DataError(
            "The roster mapping names unknown keys or headers not in the file: "
            + ", ".join(sorted(bad))
            + ".",
            fix="map a key (" + ", ".join(ALIASES) + ") to a header that the file's first row has.",
        )
    needed = list(REQUIRED) + ([] if leaving_year is not None else ["leaving_year"])
    missing = [key for key in needed if key not in cols]
    if missing:
        raise DataError(
            "The roster lacks required column(s): " + ", ".join(missing) + ".",
            fix="add them to the export, or give a column mapping naming the file's header for each, "
            "--map FIELD=COLUMN (e.g. --map upn='Pupil Ref'), and give --leaving-year YEAR when the "
            "file has no leaving-year column.",
        )
    errors: list[RowProblem] = []
    records: list[dict[str, str]] = []
    seen: dict[tuple[str, str], int] = {}
    for offset, raw in enumerate(rows[1:]):
        row_no = offset + 2  # the header is row 1 in a spreadsheet app
        if not any(cell.strip() for cell in raw):
            continue
        record, problems = _read_row(raw, row_no, cols, header, school, phase, leaving_year)
        key = (record.get("upn", ""), record.get("leaving_year", ""))
        if key[0] and not any(p.column == header[cols["upn"]] for p in problems):
            if key in seen:
                problems.append(
                    RowProblem(row_no, header[cols["upn"]], f"duplicate UPN (also row {seen[key]})")
                )
            else:
                seen[key] = row_no
        errors.extend(problems)
        if not problems:
            records.append(record)
    frame = pd.DataFrame(records, columns=list(ROSTER_COLUMNS), dtype=object)
    return RosterResult(frame=frame, errors=errors)


def _read_row(
    raw: list[str],
    row_no: int,
    cols: dict[str, int],
    header: list[str],
    school: str,
    phase: str,
    leaving_year: int | None,
) -> tuple[dict[str, str], list[RowProblem]]:
    def get(key: str) -> str:
        idx = cols.get(key)
        return raw[idx].strip() if idx is not None and idx < len(raw) else ""

    def label(key: str) -> str:
        idx = cols.get(key)
        return header[idx] if idx is not None else key

    problems: list[RowProblem] = []
    rec: dict[str, str] = {"school": school, "phase": phase}
    upn = re.sub(r"\s+", "", get("upn")).upper()
    if not upn:
        problems.append(RowProblem(row_no, label("upn"), "UPN is missing"))
    elif not upn_valid(upn):
        shape = bool(_UPN.match(upn))
        problems.append(
            RowProblem(
                row_no,
                label("upn"),
                "UPN check letter is wrong" if shape else "UPN is not a letter and 12 characters",
            )
        )
    rec["upn"] = upn
    for key in ("legal_forename", "legal_surname"):
        rec[key] = " ".join(get(key).split())
        if not rec[key]:
            problems.append(RowProblem(row_no, label(key), "is empty"))
    for key in ("preferred_forename", "preferred_surname"):
        rec[key] = " ".join(get(key).split())
    parsers = {
        "date_of_birth": parse_date,
        "send": _send,
        "disadvantaged": _flag,
        "looked_after": _flag,
    }
    for key, parse in parsers.items():
        try:
            rec[key] = parse(get(key)) if key in cols else ("N" if key != "date_of_birth" else "")
        except ValueError as exc:
            rec[key] = ""
            problems.append(RowProblem(row_no, label(key), str(exc)))
    rec["eal"] = ""
    if "eal" in cols:
        try:
            rec["eal"] = _eal(get("eal"), label("eal"))
        except ValueError as exc:
            problems.append(RowProblem(row_no, label("eal"), str(exc)))
    if "previously_looked_after" in cols:
        try:
            if _flag(get("previously_looked_after")) == "Y":
                rec["looked_after"] = "Y"
        except ValueError as exc:
            problems.append(RowProblem(row_no, label("previously_looked_after"), str(exc)))
    if "leaving_year" in cols:
        try:
            rec["leaving_year"] = _leaving_year(get("leaving_year"))
        except ValueError as exc:
            rec["leaving_year"] = ""
            problems.append(RowProblem(row_no, label("leaving_year"), str(exc)))
    else:
        rec["leaving_year"] = str(leaving_year)
    email = get("school_email")
    rec["school_email"] = email
    if email:
        try:
            rec["school_email"] = validate_email(email, check_deliverability=False).normalized
        except EmailNotValidError:
            problems.append(RowProblem(row_no, label("school_email"), "not a valid email address"))
    return rec, problems


# --- upsert ---------------------------------------------------------------------------------------


def apply_roster(
    destinations: pd.DataFrame, roster: pd.DataFrame
) -> tuple[pd.DataFrame, RosterCounts]:
    """Upsert roster rows into Destinations by (upn, leaving_year); other columns untouched.

    A row whose identity cells staff edited since gsync last wrote them (see `sync_hash`) is left
    alone and counted as a conflict; rows are never removed or reordered.
    """
    columns = list(destinations.columns)
    for key in (*ROSTER_COLUMNS, "sync_hash"):
        if key not in columns:
            columns.append(key)
    rows = [
        {c: _cell(r.get(c, "")) for c in columns}
        for r in destinations.reindex(columns=columns).to_dict("records")
    ]
    index = {(r["upn"], r["leaving_year"]): i for i, r in enumerate(rows) if r["upn"]}
    added = updated = unchanged = conflicts = 0
    identity = [c for c in ROSTER_COLUMNS if c not in ("upn", "leaving_year")]
    for new in roster.to_dict("records"):
        values = {c: _cell(new.get(c, "")) for c in ROSTER_COLUMNS}
        pupil = (values["upn"], values["leaving_year"])
        if pupil not in index:
            row = dict.fromkeys(columns, "")
            row.update(values)
            set_group_hash(row, IDENTITY)
            index[pupil] = len(rows)
            rows.append(row)
            added += 1
            continue
        row = rows[index[pupil]]
        if all(row[c] == values[c] for c in identity):
            unchanged += 1
            if group_state(row, IDENTITY) != "synced":
                set_group_hash(row, IDENTITY)  # staff typed exactly what the roster says: heal
            continue
        if group_state(row, IDENTITY) == "edited":
            conflicts += 1
            continue
        row.update(values)
        set_group_hash(row, IDENTITY)
        updated += 1
    frame = pd.DataFrame(rows, columns=columns, dtype=object)
    return frame, RosterCounts(added, updated, unchanged, conflicts)


def _cell(value: object) -> str:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return ""
    return str(value)
