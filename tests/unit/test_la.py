"""LA destination files: layouts, encodings, codes, matching and duplicates (tests/fixtures/la_*)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from gsync import la
from gsync.errors import DataError
from gsync.taxonomy import load_taxonomy

FIX = Path(__file__).resolve().parents[1] / "fixtures"
TAX = load_taxonomy()
KNOWN = {c for cat in TAX.spec.categories.values() for c in cat.nccis_codes}

# The cohort the fixtures are about: (upn, legal forename, preferred forename, surname, dob).
PUPILS = [
    ("Z201122500010", "Amelia", "", "Khan", "2009-03-14"),
    ("B201122500021", "Oliver", "", "Smith", "2009-07-02"),
    ("D201122500032", "Zoë", "", "Brown", "2008-11-30"),
    ("F201122500043", "Harry", "", "Jones", "2009-01-20"),
    ("H201122500054", "Isla", "", "Patel", "2009-05-05"),
    ("K201122500065", "Noah", "", "Wilson", "2009-08-08"),
    ("M201122500076", "Chloé", "Chloe", "Dupont", "2008-12-12"),
    ("P201122500087", "Sam", "", "Lee", "2009-02-02"),
    ("R201122500098", "Sam", "", "Lee", "2009-02-02"),
]


def destinations(year: str = "2025", school: str = "Northfield") -> pd.DataFrame:
    rows = [
        {
            "school": school,
            "upn": upn,
            "leaving_year": year,
            "legal_forename": fore,
            "preferred_forename": pref,
            "legal_surname": sur,
            "preferred_surname": "",
            "date_of_birth": dob,
        }
        for upn, fore, pref, sur, dob in PUPILS
    ]
    return pd.DataFrame(rows, dtype=object)


def read(name: str, **kw: object) -> la.LAResult:
    return la.read_la_file(FIX / name, taxonomy=TAX, name=name, **kw)  # type: ignore[arg-type]


def test_portal_file_with_bom_reads_every_row_and_normalises() -> None:
    result = read("la_portal_bom.csv", leaving_year=2025)
    assert result.errors == []
    assert len(result.records) == 9
    assert result.columns["upn"] == "UPN"  # the BOM is not part of the first header
    first, second = result.records[0], result.records[1]
    assert (first.row, first.code, first.category) == (2, 620, "neet")
    assert second.code == 230 and second.category == "fe_college"
    assert second.level == "Level 3" and second.start_date == "2025-09-08"
    assert second.recorded == "2025-11-01" and second.date_of_birth == "2009-03-14"
    assert result.records[3].forename == "Zoë"
    assert all(r.leaving_year == "2025" for r in result.records)


def test_sla_file_cp1252_semicolons_combined_code_and_excel_float() -> None:
    result = read("la_sla_cp1252.csv")
    assert result.errors == []
    codes = [(r.code, r.description, r.category) for r in result.records]
    assert codes == [
        (230, "Full time education - further education", "fe_college"),
        (310, "Apprenticeship", "apprenticeship"),
        (220, "", "sixth_form_college"),
        (830, "Refused to disclose activity", "unknown"),
    ]
    assert result.records[2].forename == "Zoë"  # Windows-1252 decoded
    assert {r.leaving_year for r in result.records} == {"2025"}  # from the Cohort column


def test_xlsx_with_numeric_codes_and_real_dates() -> None:
    result = read("la_export.xlsx", leaving_year=2025)
    assert result.errors == []
    got = [(r.la_upn, r.code, r.date_of_birth, r.recorded) for r in result.records]
    assert got == [
        ("Z201122500010", 230, "2009-03-14", "2025-11-01"),
        ("D201122500032", 220, "2008-11-30", "2025-10-15"),
        ("K201122500065", 615, "2009-08-08", "2025-10-20"),
    ]
    assert result.records[2].category == "neet"


def test_custom_headers_need_a_mapping() -> None:
    with pytest.raises(DataError) as err:
        read("la_custom_headers.tsv")
    assert "activity_code" in err.value.message
    result = read(
        "la_custom_headers.tsv",
        mapping={"upn": "Pupil Ref", "activity_code": "Status", "date_of_birth": "Born"},
    )
    assert result.errors == []
    assert [(r.la_upn, r.category, r.description) for r in result.records] == [
        ("B201122500021", "apprenticeship", "Apprenticeship"),
        ("F201122500043", "traineeship", "Traineeship"),
    ]
    with pytest.raises(DataError):
        read("la_custom_headers.tsv", mapping={"activity_code": "No Such Column"})


def test_bad_codes_and_dates_are_reported_by_row_without_personal_data() -> None:
    result = read("la_bad_code.csv", leaving_year=2025)
    problems = [(p.row, p.column, p.problem) for p in result.errors]
    assert problems == [
        (
            2,
            "Activity Code",
            "not an NCCIS activity code in the taxonomy (sheets_templates/taxonomy.toml)",
        ),
        (3, "Activity Code", "not an NCCIS activity code (three digits, e.g. 220)"),
        (4, "DOB", "impossible date"),
        (5, "Activity Code", "activity code is missing"),
    ]
    text = " ".join(p.problem + p.column for p in result.errors)
    for personal in ("Amelia", "Khan", "Smith", "2009", "Zoe"):
        assert personal not in text


def test_matching_every_status() -> None:
    result = read("la_portal_bom.csv", leaving_year=2025)
    matched = la.match_la(result.records, destinations(), school="Northfield")
    got = [(r.row, r.match_status, r.matched_by, r.upn) for r in matched]
    assert got == [
        (2, "superseded", "upn", "Z201122500010"),  # older of two rows for one pupil
        (3, "matched", "upn", "Z201122500010"),
        (4, "matched", "upn", "B201122500021"),
        (5, "matched", "upn", "D201122500032"),
        (6, "matched", "upn", "F201122500043"),
        (7, "matched", "upn", "H201122500054"),
        (8, "matched", "name_dob", "M201122500076"),  # wrong check letter: preferred name + DOB
        (9, "ambiguous", "name_dob", ""),  # two pupils share the name and date of birth
        (10, "unmatched", "", ""),  # not on the roster: kept, never dropped
    ]
    assert "row 3" in matched[0].reason
    assert "not valid" in matched[6].reason
    assert "2 pupils" in matched[7].reason
    assert la.counts(matched) == {
        "matched": 6,
        "unmatched": 1,
        "ambiguous": 1,
        "superseded": 1,
        "rows": 9,
    }


def test_matching_respects_the_cohort_and_school() -> None:
    result = read("la_portal_bom.csv", leaving_year=2024)
    matched = la.match_la(result.records, destinations("2025"), school="Northfield")
    assert {r.match_status for r in matched} == {"unmatched"}
    result = read("la_portal_bom.csv", leaving_year=2025)
    other = la.match_la(result.records, destinations(school="Southgate"), school="Northfield")
    assert {r.match_status for r in other} == {"unmatched"}


def test_la_frame_and_replace_cohorts_keep_other_cohorts() -> None:
    result = read("la_portal_bom.csv", leaving_year=2025)
    matched = la.match_la(result.records, destinations(), school="Northfield")
    frame = la.la_frame(matched, TAX, school="Northfield", imported="2026-01-10", source="f.csv")
    assert list(frame.columns) == list(la.LA_COLUMNS)
    assert len(frame) == 9 and frame.loc[1, "category"] == "Further education college"
    other = frame.copy()
    other["leaving_year"] = "2024"
    both = la.replace_cohorts(other, frame, "Northfield")
    assert len(both) == 18
    again = la.replace_cohorts(both, frame.iloc[:2], "Northfield")
    assert sorted(again["leaving_year"].value_counts().items()) == [("2024", 9), ("2025", 2)]


@given(st.integers(min_value=0, max_value=999), st.sampled_from(["", " - x", ": Y z", ".0", " a"]))
def test_parse_code_accepts_known_codes_only(code: int, tail: str) -> None:
    text = f"{code:03d}{tail}"
    if code in KNOWN:
        assert la.parse_code(text, KNOWN)[0] == code
    else:
        with pytest.raises(ValueError):
            la.parse_code(text, KNOWN)


@given(st.text(max_size=12))
def test_parse_code_never_crashes_otherwise(text: str) -> None:
    try:
        code, _desc = la.parse_code(text, KNOWN)
    except ValueError:
        return
    assert code in KNOWN


@pytest.mark.parametrize(
    ("text", "level"),
    [
        ("3", "Level 3"),
        ("L2", "Level 2"),
        ("Level 4", "Level 4"),
        ("entry", "Entry level"),
        ("x", ""),
    ],
)
def test_parse_level(text: str, level: str) -> None:
    assert la.parse_level(text) == level
