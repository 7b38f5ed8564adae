"""DfE destination measures: reading the DfE's CSV and comparing with gsync's own figures."""

from __future__ import annotations

import pandas as pd
import pytest

from gsync import dfe
from gsync.errors import DataError
from gsync.taxonomy import load_taxonomy
from tests.unit.test_la import FIX

TAX = load_taxonomy()


def cohort() -> pd.DataFrame:
    """Ten pupils of Northfield 2025, with hand-picked actual destinations."""
    values = [
        ("actual_validated", "Further education college", ""),
        ("actual_validated", "Further education college", ""),
        ("actual_unvalidated", "College", ""),
        ("actual_unvalidated", "Sixth form", ""),
        ("actual_unvalidated", "Apprenticeship", "Level 2"),
        ("actual_unvalidated", "Apprenticeship", "Level 3"),
        ("actual_validated", "Employment without training", ""),
        ("actual_validated", "NEET", ""),
        ("actual_validated", "Traineeship", ""),
        ("", "", ""),  # nothing recorded: activity not captured
    ]
    rows = []
    for i, (entry, value, level) in enumerate(values):
        row = {"school": "Northfield", "leaving_year": "2025", "upn": f"U{i}"}
        for e in dfe.ACTUAL_ENTRIES:
            row.update({f"{e}_destination": "", f"{e}_level": "", f"{e}_other": ""})
        if entry:
            row[f"{entry}_destination"] = value
            row[f"{entry}_level"] = level
        rows.append(row)
    rows.append({"school": "Southgate", "leaving_year": "2025", "upn": "S1"})
    return pd.DataFrame(rows, dtype=object).fillna("")


def test_gsync_measures_by_hand() -> None:
    counts, size = dfe.gsync_measures(cohort(), TAX, school="Northfield", leaving_year="2025")
    assert size == 10
    assert counts == {
        "overall": 8,  # 5 education + 2 apprenticeships + 1 employment
        "education": 5,  # 3 FE, 1 school sixth form, 1 traineeship (other education)
        "fe": 3,
        "ssf": 1,
        "sfc": 0,
        "other_edu": 1,
        "he": 0,
        "appren": 2,
        "appl2": 1,
        "appl3": 1,
        "all_work": 1,
        "all_notsust": 1,
        "all_unknown": 1,
    }


def test_read_dfe_csv_wide_picks_the_school_total_percentage_row() -> None:
    result = dfe.read_dfe_csv(FIX / "la_dfe_institution.csv", urn="100001")
    assert result.errors == [] and result.rows_used == 1
    assert result.values["fe"] == "33.3" and result.values["overall"] == "88.9"
    assert result.values["other_edu"] == "0" and result.values["all_unknown"] == "11.1"
    assert len(result.values) == 12
    assert result.values["appl2"] == ""  # "c": suppressed by the DfE


def test_read_dfe_csv_long_layout_and_bad_values() -> None:
    text = (
        b"school_urn,measure,percent\n100001,other_edu,40\n100001,he,abc\n100001,nope,3\n9,fe,1\n"
    )
    result = dfe.read_dfe_csv(text, urn="100001")
    assert result.values == {"other_edu": "40"}
    assert [(p.row, p.column) for p in result.errors] == [(3, "he"), (4, "measure")]
    with pytest.raises(DataError):
        dfe.read_dfe_csv(b"a,b\n1,2\n", urn="100001")


def test_compare_flags_differences_and_keeps_staff_rows() -> None:
    base = dfe.upsert_dfe(
        pd.DataFrame(),
        {"fe": "33.3", "overall": "80", "appl2": ""},
        school="Northfield",
        leaving_year="2025",
    )
    base.loc[len(base)] = dict.fromkeys(base.columns, "") | {
        "school": "Northfield",
        "leaving_year": "2025",
        "measure": "made_up",
        "note": "typed by staff",
    }
    out = dfe.compare_frame(base, cohort(), TAX)
    rows = {r["measure"]: r for r in out.to_dict("records")}
    assert (rows["fe"]["gsync_percent"], rows["fe"]["difference"], rows["fe"]["flag"]) == (
        "30.0",
        "-3.3",
        "",
    )
    assert rows["overall"]["gsync_percent"] == "80.0" and rows["overall"]["flag"] == ""
    assert rows["appl2"]["difference"] == "" and rows["appl2"]["gsync_count"] == "1"
    assert (
        rows["made_up"]["flag"] == "unknown measure" and rows["made_up"]["note"] == "typed by staff"
    )
    out2 = dfe.compare_frame(
        dfe.upsert_dfe(base, {"fe": "50"}, school="Northfield", leaving_year="2025"),
        cohort(),
        TAX,
    )
    fe = next(r for r in out2.to_dict("records") if r["measure"] == "fe")
    assert fe["difference"] == "-20.0" and fe["flag"].startswith("differs by more than 5")
    assert len(out2) == len(base)  # updated in place, not appended


@pytest.mark.parametrize(
    ("text", "value"), [("36.1", 36.1), ("36%", 36.0), ("c", None), ("", None)]
)
def test_parse_percent(text: str, value: float | None) -> None:
    assert dfe.parse_percent(text) == value


def test_parse_percent_rejects_nonsense() -> None:
    for text in ("abc", "101", "-1"):
        with pytest.raises(ValueError):
            dfe.parse_percent(text)
