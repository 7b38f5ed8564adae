"""Summary tables on hand-built cohorts: every figure is worked out by hand below."""

from __future__ import annotations

import pandas as pd
import pytest

from gsync.disclosure import TABLE_COLUMNS, TOTAL, TRUST_SCHOOL, load_policy
from gsync.errors import DisclosureError
from gsync.summary import (
    APPR_NO,
    APPR_YES,
    HE_NO,
    HE_YES,
    LEVEL3_NO,
    LEVEL3_YES,
    _trend_rows,
    aggregate,
    chart_block,
    chart_spec,
    summary_tables,
    summary_tabs,
)
from gsync.taxonomy import load_taxonomy
from tests.unit import _reference_summary as ref_summary

TAX = load_taxonomy()
ENTRY_COLS = ["current_intended", "intended", "actual_unvalidated", "actual_validated"]


def pupil(
    n: int,
    dest: str,
    level: str = "",
    other: str = "",
    send: str = "N",
    dis: str = "N",
    eal: str = "N",
    lac: str = "N",
    school: str = "Northfield",
    year: str = "2024",
) -> dict[str, str]:
    row = {
        "school": school,
        "upn": f"A{n:012d}",
        "first_name": f"Pupil{n}",
        "last_name": "Example",
        "date_of_birth": f"2008-01-{n % 28 + 1:02d}",
        "personal_email": f"pupil{n}@example.org",
        "leaving_year": year,
        "phase": "Y11",
        "send": send,
        "disadvantaged": dis,
        "eal": eal,
        "looked_after": lac,
    }
    for e in ENTRY_COLS:
        row[f"{e}_destination"] = ""
        row[f"{e}_level"] = ""
        row[f"{e}_other"] = ""
    row["intended_destination"] = dest
    row["intended_level"] = level
    row["intended_other"] = other
    return row


# Ten pupils of Northfield, 2024 Y11, intended destinations.
TEN = pd.DataFrame(
    [
        pupil(1, "Sixth form", "Level 3"),
        pupil(2, "Sixth form", "Level 3", send="K", dis="Y"),
        pupil(3, "College", "Level 2", eal="Y"),
        pupil(4, "College", "Level 3", send="E", dis="Y", lac="Y"),
        pupil(5, "Apprenticeship", "Level 2"),
        pupil(6, "Apprenticeship", "Level 3", dis="Y"),
        pupil(7, "Employment with training", "Level 2"),
        pupil(8, "Other", "", "looking for work", dis="Y", eal="Y"),
        pupil(9, ""),
        pupil(10, "Degree apprenticeship", "Level 6"),
    ]
)


def cell(table: pd.DataFrame, group: str, category: str) -> tuple[object, object]:
    row = table[(table["group"] == group) & (table["category"] == category)]
    assert len(row) == 1, (group, category)
    return row["count"].iloc[0], row["percent"].iloc[0]


def test_destinations_by_provider_type_all_pupils() -> None:
    t = summary_tables(TEN, TAX, entry="intended")["destinations"]
    assert list(t.columns) == TABLE_COLUMNS
    assert set(t["school"]) == {"Northfield"} and set(t["cohort"]) == {"2024 Y11"}
    expected = {
        "School sixth form": 2,  # pupils 1, 2
        "Sixth-form college": 0,
        "Further education college": 2,  # 3, 4
        "Higher education": 0,
        "Apprenticeship": 3,  # 5, 6, 10
        "Employment with training": 1,  # 7
        "Employment without training": 0,
        "Traineeship": 0,
        "Voluntary work": 0,
        "Other education or training": 0,
        "NEET": 1,  # 8 ("looking for work")
        "Unknown / not captured": 1,  # 9
        TOTAL: 10,
    }
    for category, n in expected.items():
        count, pct = cell(t, "All pupils", category)
        assert count == n
        assert pct == pytest.approx(10.0 * n)  # of 10 pupils
    # Rows come in the taxonomy's order, Total last.
    all_rows = t[t["group"] == "All pupils"]["category"].tolist()
    assert all_rows == list(expected)


def test_priority_groups_against_everyone_else() -> None:
    t = summary_tables(TEN, TAX, entry="intended")["destinations"]
    # SEND (K or E): pupils 2 (sixth form) and 4 (college).
    assert cell(t, "SEND", TOTAL)[0] == 2
    assert cell(t, "SEND", "School sixth form") == (1, 50.0)
    assert cell(t, "SEND", "Further education college") == (1, 50.0)
    assert cell(t, "No SEND", TOTAL)[0] == 8
    assert cell(t, "No SEND", "Apprenticeship")[0] == 3
    assert cell(t, "No SEND", "Apprenticeship")[1] == pytest.approx(37.5)
    # Disadvantaged: 2, 4, 6, 8.
    assert cell(t, "Disadvantaged", TOTAL)[0] == 4
    assert cell(t, "Disadvantaged", "NEET") == (1, 25.0)
    assert cell(t, "Not disadvantaged", TOTAL)[0] == 6
    assert cell(t, "Not disadvantaged", "Unknown / not captured")[1] == pytest.approx(100 / 6)
    # EAL: 3, 8. Looked after: 4.
    assert cell(t, "EAL", "Further education college") == (1, 50.0)
    assert cell(t, "Looked after", "Further education college") == (1, 100.0)
    assert cell(t, "Not looked after", TOTAL)[0] == 9
    # Every group's rows add up to its Total; each pair adds up to All pupils.
    for group, rows in t.groupby("group"):
        assert rows[rows["category"] != TOTAL]["count"].sum() == cell(t, str(group), TOTAL)[0]
    for yes, no in [("SEND", "No SEND"), ("EAL", "Not EAL"), ("Looked after", "Not looked after")]:
        for category in set(t["category"]):
            assert (
                cell(t, yes, category)[0] + cell(t, no, category)[0]
                == cell(t, "All pupils", category)[0]
            )


def test_level3_apprenticeship_and_higher_education_proportions() -> None:
    tables = summary_tables(TEN, TAX, entry="intended")
    # Level 3+: 1, 2 (sixth form L3), 4 (college L3), 6 (advanced appr.), 10 (degree appr.) = 5.
    assert cell(tables["level3"], "All pupils", LEVEL3_YES) == (5, 50.0)
    assert cell(tables["level3"], "All pupils", LEVEL3_NO) == (5, 50.0)
    assert cell(tables["level3"], "Disadvantaged", LEVEL3_YES) == (3, 75.0)  # 2, 4, 6
    # Apprenticeships: 5, 6, 10.
    assert cell(tables["apprenticeship"], "All pupils", APPR_YES) == (3, 30.0)
    assert cell(tables["apprenticeship"], "All pupils", APPR_NO) == (7, 70.0)
    # Higher education incl. degree apprenticeships: 10 only.
    assert cell(tables["higher_education"], "All pupils", HE_YES) == (1, 10.0)
    assert cell(tables["higher_education"], "All pupils", HE_NO) == (9, 90.0)


def test_school_filter_cohorts_and_trend() -> None:
    south = TEN.copy()
    south["school"] = "Southgate"
    older = TEN.copy()
    older["leaving_year"] = "2023"
    older.loc[older["upn"] == "A000000000009", "intended_destination"] = "Sixth form"
    frame = pd.concat([TEN, south, older], ignore_index=True)
    t = summary_tables(frame, TAX, entry="intended", school="Northfield")["destinations"]
    assert set(t["school"]) == {"Northfield"}
    assert set(t["cohort"]) == {"2023 Y11", "2024 Y11"}
    # The trend the Summary tab's chart block shows (all pupils' percentages by cohort).
    rows = _trend_rows(t, "intended")
    assert list(rows) == ["Northfield"]
    assert rows["Northfield"][0] == ["2023 Y11", "2024 Y11"]
    trend = {r[0]: r[1:] for r in rows["Northfield"][1:]}
    assert trend["School sixth form"] == [30.0, 20.0]
    assert trend["Unknown / not captured"] == [0.0, 10.0]
    assert TOTAL not in trend
    # As the frozen trend view of the table, row for row.
    view = ref_summary.trend_view(t, school="Northfield", entry="intended", value="percent")
    assert rows["Northfield"][1:] == [[c, *view.loc[c].tolist()] for c in view.index]


def test_aggregate_sums_schools_cell_by_cell() -> None:
    south = pd.DataFrame(
        [
            pupil(20 + i, "College", "Level 3", school="Southgate", send="K" if i < 3 else "N")
            for i in range(6)
        ]
    )
    a = summary_tables(TEN, TAX, entry="intended")["destinations"]
    b = summary_tables(south, TAX, entry="intended")["destinations"]
    trust = aggregate([a, b])
    assert list(trust.columns) == TABLE_COLUMNS
    assert set(trust["school"]) == {TRUST_SCHOOL}
    assert len(trust) == len(a)
    assert cell(trust, "All pupils", TOTAL) == (16, 100.0)
    assert cell(trust, "All pupils", "Further education college") == (8, 50.0)  # 2 + 6
    assert cell(trust, "SEND", TOTAL)[0] == 5  # 2 + 3
    assert cell(trust, "SEND", "Further education college") == (4, 80.0)  # 1 + 3
    sup = a.copy()
    sup["count"] = sup["count"].astype(object)
    sup.loc[0, "count"] = "c"
    with pytest.raises(ValueError, match="raw counts"):
        aggregate([sup, b])


def big_school(name: str, n: int, seed: int) -> pd.DataFrame:
    import random

    rng = random.Random(seed)
    opts = ["Sixth form", "College", "Apprenticeship", "Employment with training", "Other", ""]
    rows = []
    for i in range(n):
        r = pupil(
            seed * 1000 + i,
            rng.choice(opts),
            rng.choice(["Level 2", "Level 3"]),
            school=name,
            send=rng.choice("KNNN"),
            dis=rng.choice("YN"),
            year=rng.choice(["2023", "2024"]),
        )
        r["actual_validated_destination"] = rng.choice(opts)
        rows.append(r)
    return pd.DataFrame(rows)


def test_summary_tabs_are_suppressed_checked_and_chartable() -> None:
    frame = pd.concat(
        [big_school("Northfield", 80, 1), big_school("Southgate", 70, 2)], ignore_index=True
    )
    policy = load_policy()
    tabs = summary_tabs(frame, TAX, policy)
    assert list(tabs) == ["Summary - Northfield", "Summary - Southgate", "Summary - Trust"]
    rows = tabs["Summary - Trust"]
    start, end, c0, c1 = chart_block(rows)
    assert (start, c0) == (0, 0)
    assert rows[0][0].startswith("Destination (actual_validated")  # type: ignore[union-attr]
    assert rows[0][1:] == ["2023 Y11", "2024 Y11"]
    assert end == 1 + 12 and c1 == 3 and rows[end] == []
    header = rows[end + 1]
    assert header == ["table", *TABLE_COLUMNS]
    data = rows[end + 2 :]
    counts = [r[header.index("count")] for r in data]
    assert all(
        c == policy.symbol or (isinstance(c, int) and (c == 0 or c >= policy.threshold))
        for c in counts
    )
    assert {r[1] for r in data} == {TRUST_SCHOOL}
    # Nothing pupil-level anywhere.
    flat = {str(v) for r in rows for v in r}
    for col in ("upn", "first_name", "personal_email", "date_of_birth"):
        assert not flat & set(frame[col])
    spec = chart_spec(42, start_row=start, end_row=end, start_col=c0, end_col=c1)
    chart = spec["addChart"]["chart"]
    basic = chart["spec"]["basicChart"]
    assert basic["headerCount"] == 1 and basic["chartType"] == "BAR"
    domain = basic["domains"][0]["domain"]["sourceRange"]["sources"][0]
    assert domain == {
        "sheetId": 42,
        "startRowIndex": 0,
        "endRowIndex": 13,
        "startColumnIndex": 0,
        "endColumnIndex": 1,
    }
    assert [
        s["series"]["sourceRange"]["sources"][0]["startColumnIndex"] for s in basic["series"]
    ] == [1, 2]
    assert chart["position"]["overlayPosition"]["anchorCell"]["sheetId"] == 42


def test_summary_tabs_fail_when_a_name_would_be_published() -> None:
    frame = big_school("Northfield", 30, 3)
    frame.loc[0, "last_name"] = "2023 Y11"  # a value that is also a cohort cell
    with pytest.raises(DisclosureError, match="last_name"):
        summary_tabs(frame, TAX, load_policy())


def test_unknown_entry_rejected() -> None:
    with pytest.raises(ValueError, match="unknown entry"):
        summary_tables(TEN, TAX, entry="final")
