"""Matching responses to pupils: verified email first, then name + date of birth; never dropped."""

from __future__ import annotations

import pandas as pd

from gsync.matching import match_responses, name_key
from gsync.responses import RESPONSE_COLUMNS

PUPILS = [
    # school, upn, legal fore/sur, preferred fore/sur, dob, email, year
    (
        "North",
        "U1",
        "Renée",
        "Fernández-Heath",
        "Rena",
        "",
        "2010-11-30",
        "u1@north.sch.uk",
        "2026",
    ),
    ("North", "U2", "Jo Ellen", "O'Dunmore", "", "", "2010-02-28", "u2@north.sch.uk", "2026"),
    ("North", "U3", "Corra", "Ashford", "", "", "2010-05-05", "u3@north.sch.uk", "2026"),
    ("North", "U4", "Corra", "Ashford", "", "", "2010-05-05", "u4@north.sch.uk", "2026"),
    ("South", "U5", "Mian", "Heathley", "", "", "2008-01-01", "u5@south.sch.uk", "2026"),
    # one pupil in two cohorts (left Y11 in 2024, Y13 in 2026)
    ("North", "U6", "Isen", "Elmby", "", "", "2008-03-03", "u6@north.sch.uk", "2024"),
    ("North", "U6", "Isen", "Elmby", "", "", "2008-03-03", "u6@north.sch.uk", "2026"),
]


def destinations() -> pd.DataFrame:
    cols = ["school", "upn", "legal_forename", "legal_surname", "preferred_forename",
            "preferred_surname", "date_of_birth", "school_email", "leaving_year"]  # fmt: skip
    return pd.DataFrame(PUPILS, columns=cols, dtype=object)


def responses(*rows: dict[str, str]) -> pd.DataFrame:
    full = []
    for i, r in enumerate(rows):
        base = dict.fromkeys(RESPONSE_COLUMNS, "")
        base["response_id"] = f"r{i}"
        base.update(r)
        full.append(base)
    return pd.DataFrame(full, columns=list(RESPONSE_COLUMNS), dtype=object)


def run(*rows: dict[str, str]) -> list[tuple[str, str, str, str]]:
    out = match_responses(responses(*rows), destinations(), school="North")
    assert list(out["response_id"]) == [f"r{i}" for i in range(len(rows))]  # never dropped
    return list(
        zip(out["upn"], out["leaving_year"], out["match_method"], out["match_status"], strict=True)
    )


def test_name_key_folds_case_accents_hyphens_spaces() -> None:
    assert name_key("Renée Fernández-Heath") == name_key("renee  FERNANDEZ HEATH")
    assert name_key("Jo Ellen O'Dunmore") == name_key("joellen odunmore")
    assert name_key("Zoë") == "zoe"


def test_verified_email_first_even_if_name_differs() -> None:
    got = run({"respondent_email": "U2@north.sch.uk", "full_name": "Someone Else"})
    assert got == [("U2", "2026", "email", "matched")]


def test_name_and_dob_with_legal_or_preferred_forename() -> None:
    got = run(
        {"full_name": "rena fernandez heath", "date_of_birth": "2010-11-30"},
        {"full_name": "Renee Fernandez-Heath", "date_of_birth": "2010-11-30"},
        {"full_name": "Jo-Ellen ODunmore", "date_of_birth": "2010-02-28"},
    )
    assert got == [("U1", "2026", "name_dob", "matched")] * 2 + [
        ("U2", "2026", "name_dob", "matched")
    ]


def test_ambiguous_and_unmatched_with_reasons() -> None:
    out = match_responses(
        responses(
            {"full_name": "Corra Ashford", "date_of_birth": "2010-05-05"},
            {"full_name": "Corra Ashford", "date_of_birth": "2010-05-06"},
            {"full_name": "Nobody Here", "date_of_birth": "2010-05-05"},
            {"full_name": "Corra Ashford", "date_of_birth": "", "respondent_email": "x@y.uk"},
        ),
        destinations(),
        school="North",
    )
    assert list(out["match_status"]) == ["ambiguous", "unmatched", "unmatched", "unmatched"]
    assert list(out["upn"]) == ["", "", "", ""]
    assert "2 pupils" in out.loc[0, "reason"]
    assert "date of birth" in out.loc[3, "reason"]
    for reason in out["reason"]:
        assert "Corra" not in reason and "2010" not in reason


def test_other_schools_pupils_never_match() -> None:
    got = run(
        {"respondent_email": "u5@south.sch.uk"},
        {"full_name": "Mian Heathley", "date_of_birth": "2008-01-01"},
    )
    assert [g[3] for g in got] == ["unmatched", "unmatched"]


def test_stated_leaving_year_chooses_the_cohort() -> None:
    out = match_responses(
        responses(
            {"full_name": "Isen Elmby", "date_of_birth": "2008-03-03", "leaving_year": "2024"},
            {"respondent_email": "u6@north.sch.uk", "leaving_year": "2026"},
            {"full_name": "Isen Elmby", "date_of_birth": "2008-03-03", "leaving_year": ""},
        ),
        destinations(),
        school="North",
    )
    assert list(out["leaving_year"]) == ["2024", "2026", ""]
    assert list(out["match_status"]) == ["matched", "matched", "ambiguous"]
    assert list(out["stated_leaving_year"]) == ["2024", "2026", ""]
