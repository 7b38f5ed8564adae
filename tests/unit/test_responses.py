"""Response normalisation: each Form A key, issues, verbatim text, latest submission per id."""

from __future__ import annotations

import datetime as dt
from typing import Any

import phonenumbers
from hypothesis import given
from hypothesis import strategies as st

from gsync.responses import (
    FORM_KEYS,
    normalise_date,
    normalise_email,
    normalise_phone,
    normalise_responses,
    normalise_year,
)
from gsync.sample import FORMULA_PAYLOADS

QMAP = {key: f"q{i}" for i, key in enumerate(FORM_KEYS)}


def raw(rid: str = "r1", when: str = "2026-06-01T10:00:00.5Z", **answers: str) -> dict[str, Any]:
    return {
        "responseId": rid,
        "createTime": "2026-06-01T09:00:00Z",
        "lastSubmittedTime": when,
        "respondentEmail": "pupil@pupils.example.sch.uk",
        "answers": {
            QMAP[k]: {"questionId": QMAP[k], "textAnswers": {"answers": [{"value": v}]}}
            for k, v in answers.items()
        },
    }


BASE = {
    "full_name": "  Brira   Ashford ",
    "date_of_birth": "2010-04-03",
    "leaving_year": "2026",
    "personal_email": "brira@example.com",
    "telephone": "020 7946 0123",
    "destination": "College",
    "consent": "Yes, I agree",
}


def one(**answers: str) -> dict[str, str]:
    frame = normalise_responses([raw(**{**BASE, **answers})], QMAP)
    assert len(frame) == 1
    return {str(k): str(v) for k, v in frame.iloc[0].to_dict().items()}


def test_clean_response() -> None:
    row = one()
    assert row["full_name"] == "Brira Ashford"
    assert row["telephone"] == "+442079460123"
    assert row["personal_email"] == "brira@example.com"
    assert row["destination"] == "College" and row["destination_other"] == ""
    assert row["consent"] == "Y"
    assert row["issues"] == ""
    assert row["last_submitted"] == "2026-06-01T10:00:00.500Z"
    assert row["created"] == "2026-06-01T09:00:00.000Z"
    assert row["respondent_email"] == "pupil@pupils.example.sch.uk"


def test_problems_are_kept_raw_and_flagged() -> None:
    row = one(telephone="12345", personal_email="someone@", date_of_birth="31/02/2010")
    assert row["telephone"] == "12345"
    assert row["personal_email"] == "someone@"
    assert row["date_of_birth"] == "31/02/2010"
    assert set(row["issues"].split()) == {
        "bad_telephone",
        "bad_personal_email",
        "bad_date_of_birth",
    }


def test_uk_dates_and_years_and_consent() -> None:
    row = one(date_of_birth="03/04/2010", leaving_year="Summer 2026", consent="No, I do not agree")
    assert row["date_of_birth"] == "2010-04-03"
    assert row["leaving_year"] == "2026"
    assert row["consent"] == "N"
    row = one(consent="")
    assert row["consent"] == "" and "missing_consent" in row["issues"].split()


def test_other_destination_text_kept() -> None:
    row = one(destination="Gap year in  Wales")
    assert row["destination"] == "Other"
    assert row["destination_other"] == "Gap year in  Wales"


def test_formula_payloads_stay_literal_text() -> None:
    for payload in FORMULA_PAYLOADS:
        row = one(course=payload, provider=payload, destination=payload)
        assert row["course"] == payload
        assert row["provider"] == payload
        assert row["destination_other"] == payload


def test_long_text_truncated_with_issue() -> None:
    row = one(course="x" * 60_000)
    assert len(row["course"]) == 50_000
    assert "truncated_course" in row["issues"].split()


def test_latest_submission_per_response_id_and_stable_order() -> None:
    old = raw("a", "2026-06-01T10:00:00Z", **{**BASE, "course": "old"})
    new = raw("a", "2026-06-03T10:00:00Z", **{**BASE, "course": "new"})
    other = raw("b", "2026-06-02T10:00:00Z", **BASE)
    for order in ([old, new, other], [other, new, old]):
        frame = normalise_responses(order, QMAP)
        assert list(frame["response_id"]) == ["b", "a"]
        assert list(frame["course"]) == ["", "new"]


def test_unmapped_questions_and_missing_answers() -> None:
    body = raw(**BASE)
    body["answers"]["zzz"] = {"textAnswers": {"answers": [{"value": "ignored"}]}}
    frame = normalise_responses([body], {"full_name": QMAP["full_name"]})
    row = frame.iloc[0]
    assert row["full_name"] == "Brira Ashford"
    assert row["date_of_birth"] == "" and "missing_date_of_birth" in row["issues"]


# --- property tests for the parsers --------------------------------------------------------------


@given(st.text(max_size=40))
def test_phone_is_e164_or_kept(text: str) -> None:
    value, ok = normalise_phone(text)
    if ok and value:
        assert value.startswith("+")
        assert phonenumbers.is_valid_number(phonenumbers.parse(value))
        assert normalise_phone(value) == (value, True)
    elif not ok:
        assert value == " ".join(text.split())


@given(st.integers(min_value=0, max_value=999))
def test_uk_landline_formats_agree(tail: int) -> None:
    forms = [f"020 7946 0{tail:03d}", f"+44 20 7946 0{tail:03d}", f"0207946 0{tail:03d}"]
    assert {normalise_phone(f) for f in forms} == {(f"+44207946{tail:04d}", True)}


@given(st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2100, 12, 31)))
def test_dates_round_trip(day: dt.date) -> None:
    assert normalise_date(day.isoformat()) == (day.isoformat(), True)
    assert normalise_date(f"{day:%d/%m/%Y}") == (day.isoformat(), True)


@given(st.text(max_size=30))
def test_date_parser_never_raises(text: str) -> None:
    value, ok = normalise_date(text)
    if ok and value:
        assert dt.date.fromisoformat(value).isoformat() == value


@given(st.emails())
def test_valid_emails_accepted(address: str) -> None:
    value, ok = normalise_email(address)
    assert ok and "@" in value


@given(st.text(max_size=30))
def test_email_and_year_parsers_never_raise(text: str) -> None:
    normalise_email(text)
    year, ok = normalise_year(text)
    if ok and year:
        assert len(year) == 4 and year.startswith("20")


@given(st.text(max_size=200))
def test_free_text_kept(text: str) -> None:
    row = one(course=text)
    assert row["course"] == text.strip()
