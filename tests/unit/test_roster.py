"""Roster import: UPN check letter, MIS CSV dialects and aliases, row problems, and the upsert."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from gsync.errors import DataError
from gsync.roster import apply_roster, read_roster, upn_check_letter, upn_valid
from gsync.sample import make_sample
from gsync.template import load_template

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
LETTERS = "ABCDEFGHJKLMNPQRTUVWXYZ"


# --- UPN ---------------------------------------------------------------------------------------


def test_upn_published_examples() -> None:
    # python-stdnum's documented examples for stdnum.gb.upn: B801200005001 valid, A... invalid.
    assert upn_valid("B801200005001")
    assert not upn_valid("A801200005001")
    assert upn_check_letter("801200005001") == "B"


def test_upn_worked_sum() -> None:
    # Characters 2-13 weighted by position: 2*2 + 4*7 + 9*1 + 10*6 + 12*4 + 13*9 = 266;
    # 266 mod 23 = 13 -> the 14th letter of A..Z without I, O, S = P.
    assert upn_check_letter("207000016049") == "P"
    assert upn_valid("P207000016049")


def test_upn_temporary_letter_counts_with_its_value() -> None:
    body = "80120000500"
    letter_a = upn_check_letter(body + "A")  # A counts 0, same as the digit 0
    assert letter_a == upn_check_letter(body + "0")
    assert upn_check_letter(body + "B") == upn_check_letter(body + "1")
    assert upn_valid(letter_a + body + "A")


@pytest.mark.parametrize(
    "bad", ["", "B80120000500", "B8012000050011", "B80120X005001", "1801200005001"]
)
def test_upn_shape_rejected(bad: str) -> None:
    assert not upn_valid(bad)


@given(st.text(alphabet="0123456789", min_size=12, max_size=12), st.sampled_from(LETTERS))
def test_upn_exactly_one_check_letter_fits(body: str, letter: str) -> None:
    right = upn_check_letter(body)
    assert right in LETTERS
    assert upn_valid(letter + body) == (letter == right)


# --- reading -----------------------------------------------------------------------------------


def _read(name: str) -> pd.DataFrame:
    result = read_roster(FIXTURES / name, school="Northfield", phase="Y11")
    assert result.errors == []
    return result.frame


def test_three_mis_dialects_give_the_same_roster() -> None:
    sims = _read("roster_sims.csv")
    arbor = _read("roster_arbor_bom.tsv")
    bromcom = _read("roster_bromcom_cp1252.csv")
    cols = ["upn", "legal_forename", "legal_surname", "date_of_birth", "school_email", "send"]
    for other in (arbor, bromcom):
        assert other[cols].equals(sims[cols])
    assert list(sims["legal_surname"]) == ["Ashford", "Fernández-Heath", "Le Birch"]
    assert list(sims["date_of_birth"]) == ["2010-04-03", "2010-11-30", "2010-02-28"]
    assert list(sims["send"]) == ["N", "K", "E"]
    assert list(sims["disadvantaged"]) == ["N", "Y", "N"]
    assert list(arbor["eal"]) == ["N", "Y", "N"]  # from First Language
    assert list(arbor["looked_after"]) == ["N", "N", "Y"]  # previously looked after counts
    assert list(sims["preferred_forename"]) == ["", "Rena", ""]
    assert set(sims["school"]) == {"Northfield"} and set(sims["phase"]) == {"Y11"}
    assert set(sims["leaving_year"]) == {"2026"}


@pytest.mark.parametrize("style", ["sims", "arbor", "bromcom"])
def test_sample_roster_reads_cleanly(style: str) -> None:
    sample = make_sample(seed=3, pupils=40, responses=10)
    result = read_roster(sample.roster_csv(style), school="Northfield", phase="Y11")  # type: ignore[arg-type]
    assert result.errors == []
    assert list(result.frame["upn"]) == [p.upn for p in sample.pupils]
    assert list(result.frame["date_of_birth"]) == [p.date_of_birth for p in sample.pupils]
    assert list(result.frame["legal_surname"]) == [p.legal_surname for p in sample.pupils]


def test_row_problems_use_spreadsheet_row_numbers_and_no_personal_data() -> None:
    result = read_roster(FIXTURES / "roster_sims_bad.csv", school="N", phase="Y11")
    problems = {(p.row, p.column) for p in result.errors}
    assert (4, "DOB") in problems  # 29/02/2010: 2010 is no leap year
    assert (5, "UPN") in problems  # wrong check letter
    assert (6, "UPN") in problems  # duplicate of row 3
    assert {(7, "DOB"), (7, "SEN Status"), (7, "Pupil Premium")} <= problems
    assert not any(p.row in (2, 3) for p in result.errors)
    assert list(result.frame["upn"]) == ["M881400014001", "B881400014002"]
    text = " ".join(p.problem for p in result.errors)
    for personal in ("Dunmore", "Corra", "2009", "Elmby", "@", "Heathley"):
        assert personal not in text
    dup = next(p for p in result.errors if p.row == 6)
    assert "row 3" in dup.problem


def test_missing_columns_named_with_the_mapping_fix() -> None:
    with pytest.raises(DataError) as info:
        read_roster(FIXTURES / "roster_custom_headers.csv", school="N", phase="Y11")
    message = str(info.value)
    for key in ("legal_forename", "legal_surname", "date_of_birth", "leaving_year"):
        assert key in message
    assert "mapping" in message
    assert info.value.exit_code == 6


def test_mapping_and_file_wide_leaving_year() -> None:
    mapping = {
        "upn": "Pupil Ref",
        "legal_forename": "Given",
        "legal_surname": "Family",
        "date_of_birth": "Birthday",
    }
    result = read_roster(
        FIXTURES / "roster_custom_headers.csv",
        school="N",
        phase="Y13",
        mapping=mapping,
        leaving_year=2025,
    )
    assert result.errors == []
    row = result.frame.iloc[0]
    assert (row["upn"], row["legal_surname"], row["date_of_birth"], row["leaving_year"]) == (
        "M881400014001",
        "Ashford",
        "2010-04-03",
        "2025",
    )


def test_mapping_to_unknown_header_is_an_error() -> None:
    with pytest.raises(DataError, match="upn"):
        read_roster(FIXTURES / "roster_sims.csv", school="N", phase="Y11", mapping={"upn": "Nope"})


# --- upsert ------------------------------------------------------------------------------------


def _empty_destinations() -> pd.DataFrame:
    return pd.DataFrame(columns=load_template().tab("destinations").keys, dtype=object)


def test_apply_roster_upserts_without_duplicating_or_touching_other_columns() -> None:
    roster = _read("roster_sims.csv")
    dest, counts = apply_roster(_empty_destinations(), roster)
    assert (counts.added, counts.updated, counts.unchanged) == (3, 0, 0)
    dest["notes"] = ["keep me", "", ""]
    dest.loc[0, "intended_destination"] = "College"
    dest["Staff extra"] = ["x", "y", "z"]
    again, counts = apply_roster(dest, roster)
    assert (counts.added, counts.updated, counts.unchanged) == (0, 0, 3)
    assert list(again.columns) == list(dest.columns)
    assert again.astype(str).to_numpy().tolist() == dest.astype(str).to_numpy().tolist()
    changed = roster.copy()
    changed.loc[1, "legal_forename"] = "Renata"
    changed.loc[2, "send"] = "N"
    final, counts = apply_roster(again, changed)
    assert (counts.added, counts.updated, counts.unchanged) == (0, 2, 1)
    assert len(final) == 3
    assert list(final["legal_forename"]) == ["Brira", "Renata", "Jo Ellen"]
    assert list(final["notes"]) == ["keep me", "", ""]
    assert final.loc[0, "intended_destination"] == "College"
    assert list(final["Staff extra"]) == ["x", "y", "z"]
    assert list(final.columns) == list(dest.columns)


def test_apply_roster_new_cohort_is_a_new_row() -> None:
    roster = _read("roster_sims.csv")
    dest, _ = apply_roster(_empty_destinations(), roster)
    next_year = roster.copy()
    next_year["leaving_year"] = "2028"
    both, counts = apply_roster(dest, next_year)
    assert counts.added == 3 and len(both) == 6


def test_apply_roster_leaves_staff_identity_edits_alone() -> None:
    roster = _read("roster_sims.csv")
    dest, _ = apply_roster(_empty_destinations(), roster)
    dest.loc[0, "legal_surname"] = "Ashford-Smythe"  # staff corrected it in the sheet
    changed = roster.copy()
    changed.loc[0, "send"] = "K"
    out, counts = apply_roster(dest, changed)
    assert counts.conflicts == 1
    assert out.loc[0, "legal_surname"] == "Ashford-Smythe"
    assert out.loc[0, "send"] == "N"


def test_sims_plain_forename_is_the_preferred_one() -> None:
    data = (
        b"UPN,Legal Forename,Legal Surname,Forename,Surname,DOB,Year Left\n"
        b"M881400014001,Brira,Ashford,Bree,Ashford,03/04/2010,2026\n"
    )
    row = read_roster(data, school="N", phase="Y11").frame.iloc[0]
    assert (row["legal_forename"], row["preferred_forename"]) == ("Brira", "Bree")
    only_plain = b"UPN,Forename,Surname,DOB,Year Left\nM881400014001,Bree,Ashford,2010-04-03,2026\n"
    row = read_roster(only_plain, school="N", phase="Y11").frame.iloc[0]
    assert (row["legal_forename"], row["preferred_forename"]) == ("Bree", "")
