"""Forms API responses -> the normalised response frame (one row per response id).

Each Form A answer is cleaned the same way every run (so a re-run is idempotent): names
whitespace-collapsed, dates ISO, phones E.164 (`phonenumbers`, region GB), emails checked with
`email-validator` (no DNS), the destination split into an option and its "Other" text, consent Y/N.
A value that cannot be cleaned is kept as typed and its problem code added to `issues`. Text is
otherwise kept verbatim: a leading `=`, `+`, `-` or `@` stays literal text, because the writer
stores every cell as a string value, never a formula.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
import phonenumbers
from email_validator import EmailNotValidError, validate_email

from gsync.roster import parse_date

FORM_KEYS: tuple[str, ...] = (
    "full_name",
    "date_of_birth",
    "leaving_year",
    "personal_email",
    "telephone",
    "destination",
    "course",
    "level",
    "provider",
    "start_date",
    "duration",
    "consent",
)
RESPONSE_COLUMNS: tuple[str, ...] = (
    "response_id",
    "created",
    "last_submitted",
    "respondent_email",
    "full_name",
    "date_of_birth",
    "leaving_year",
    "personal_email",
    "telephone",
    "destination",
    "destination_other",
    "course",
    "level",
    "provider",
    "start_date",
    "duration",
    "consent",
    "issues",
)
# Form A's destination options, base and Y13 (docs/ARCHITECTURE.md, "Form A keys"); any other
# answer to the isOther question is the respondent's "Other" text.
DESTINATION_OPTIONS: tuple[str, ...] = (
    "Employment with training",
    "Apprenticeship",
    "College",
    "Sixth form",
    "Voluntary work",
    "Traineeship",
    "University / higher education",
    "Degree apprenticeship",
)
OTHER = "Other"
CONSENT_YES = "Yes, I agree"
CONSENT_NO = "No, I do not agree"
MAX_CHARS = 50_000  # a Sheets cell holds at most 50,000 characters


def collapse(text: str) -> str:
    """Trim and collapse runs of whitespace to single spaces."""
    return " ".join(str(text).split())


def normalise_phone(text: str) -> tuple[str, bool]:
    """(E.164, True) for a valid number (UK numbers without +44 read as GB); else (text, False)."""
    value = collapse(text)
    if not value:
        return "", True
    try:
        number = phonenumbers.parse(value, "GB")
    except phonenumbers.NumberParseException:
        return value, False
    if not phonenumbers.is_valid_number(number):
        return value, False
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164), True


def normalise_email(text: str) -> tuple[str, bool]:
    """(normalised address, True) if it is a syntactically valid address; else (text, False)."""
    value = str(text).strip()
    if not value:
        return "", True
    try:
        return validate_email(value, check_deliverability=False).normalized, True
    except EmailNotValidError:
        return value, False


def normalise_date(text: str) -> tuple[str, bool]:
    """(ISO date, True) from ISO or dd/mm/yyyy; else (text, False)."""
    value = collapse(text)
    if not value:
        return "", True
    try:
        return parse_date(value), True
    except ValueError:
        return value, False


def normalise_year(text: str) -> tuple[str, bool]:
    """(YYYY, True) when the answer holds exactly one plausible year; else (text, False)."""
    value = collapse(text)
    if not value:
        return "", True
    years = re.findall(r"(?<!\d)(20\d\d)(?!\d)", value)
    if len(set(years)) == 1:
        return years[0], True
    return value, False


def normalise_consent(text: str) -> str:
    """Form A's consent answer -> "Y" / "N"; "" when unanswered or unrecognised."""
    value = collapse(text).casefold()
    if value == CONSENT_YES.casefold() or value.startswith("yes"):
        return "Y"
    if value == CONSENT_NO.casefold() or value.startswith("no"):
        return "N"
    return ""


# `YYYY-MM-DDTHH:MM:SS[.fff...]Z` from year 1000 on, the Forms API's form of a time.
_UTC_STAMP = re.compile(
    r"[1-9][0-9]{3}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.([0-9]+))?Z"
)


# Text already in that form, which `timestamp` returns as it is (whether or not it parses).
_STAMPED = re.compile(r"[1-9][0-9]{3}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z")


def timestamp(text: str) -> str:
    """An RFC 3339 time as UTC `YYYY-MM-DDTHH:MM:SS.mmmZ` (sorts as text); unparsable kept as is."""
    if type(text) is str and _STAMPED.fullmatch(text):
        return text  # the Forms API's usual form: what the steps below would give
    value = str(text or "").strip()
    if not value:
        return ""
    try:
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return value
    utc = _UTC_STAMP.fullmatch(value)
    if utc is not None:  # already UTC: its own digits, the fraction cut to milliseconds
        return f"{value[:19]}.{(utc[1] or '')[:3]:0<3}Z"
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    parsed = parsed.astimezone(dt.UTC)
    return f"{parsed:%Y-%m-%dT%H:%M:%S}.{parsed.microsecond // 1000:03d}Z"


def _answer_text(answer: Any) -> str:
    """One question's answer as text: its text answers joined by "; ", blanks left out."""
    if type(answer) is dict:  # the Forms API's usual shape, one text answer: read it directly
        texts = answer.get("textAnswers")
        if type(texts) is dict:
            items = texts.get("answers")
            if type(items) is list and len(items) == 1 and type(items[0]) is dict:
                return str(items[0].get("value", ""))
    answer = answer or {}
    values = [
        str(a.get("value", ""))
        for a in (answer.get("textAnswers") or {}).get("answers") or []
        if isinstance(a, Mapping)
    ]
    return "; ".join(v for v in values if v != "")


@dataclass
class Memo:
    """phonenumbers' and email-validator's verdicts by answer text, for one run: each distinct
    telephone or email answer is judged once (the same functions, called fewer times)."""

    phones: dict[str, tuple[str, bool]] = field(default_factory=dict)
    emails: dict[str, tuple[str, bool]] = field(default_factory=dict)
    dates: dict[str, tuple[str, bool]] = field(default_factory=dict)
    years: dict[str, tuple[str, bool]] = field(default_factory=dict)
    consents: dict[str, str] = field(default_factory=dict)

    def phone(self, text: str) -> tuple[str, bool]:
        got = self.phones.get(text)
        if got is None:
            got = self.phones[text] = normalise_phone(text)
        return got

    def email(self, text: str) -> tuple[str, bool]:
        got = self.emails.get(text)
        if got is None:
            got = self.emails[text] = normalise_email(text)
        return got

    def date(self, text: str) -> tuple[str, bool]:
        got = self.dates.get(text)
        if got is None:
            got = self.dates[text] = normalise_date(text)
        return got

    def year(self, text: str) -> tuple[str, bool]:
        got = self.years.get(text)
        if got is None:
            got = self.years[text] = normalise_year(text)
        return got

    def consent(self, text: str) -> str:
        got = self.consents.get(text)
        if got is None:
            got = self.consents[text] = normalise_consent(text)
        return got


def normalise_response(
    response: Mapping[str, Any],
    question_map: Mapping[str, str],
    destination_options: Collection[str] = DESTINATION_OPTIONS,
    *,
    memo: Memo | None = None,
) -> dict[str, str]:
    """One FormResponse -> one normalised row (see the module docstring)."""
    items = [(key, qid) for key, qid in question_map.items() if key in FORM_KEYS]
    return _normalise(response, items, destination_options, memo or Memo())


def _normalise(
    response: Mapping[str, Any],
    items: list[tuple[str, str]],
    destination_options: Collection[str],
    memo: Memo,
    last_submitted: str | None = None,
) -> dict[str, str]:
    """`last_submitted`: `timestamp` of the response's last-submitted (else creation) time, when
    the caller has it."""
    issues: list[str] = []
    answers = response.get("answers") or {}
    raw: dict[str, str] = {}
    for key, qid in items:
        answer = answers.get(qid)
        # `_answer_text`'s first case inline (one text answer, the usual shape).
        if type(answer) is dict:
            texts = answer.get("textAnswers")
            if type(texts) is dict:
                values = texts.get("answers")
                if type(values) is list and len(values) == 1 and type(values[0]) is dict:
                    raw[key] = str(values[0].get("value", ""))
                    continue
        raw[key] = _answer_text(answer)
    for key, value in list(raw.items()):
        if len(value) > MAX_CHARS:
            raw[key] = value[:MAX_CHARS]
            issues.append(f"truncated_{key}")
    row: dict[str, str] = dict.fromkeys(RESPONSE_COLUMNS, "")
    row["response_id"] = str(response.get("responseId", ""))
    created = response.get("createTime", "")
    row["created"] = timestamp(created)
    if last_submitted is None:
        last = response.get("lastSubmittedTime")
        last_submitted = timestamp(last) if last else row["created"]
    row["last_submitted"] = last_submitted
    row["respondent_email"] = str(response.get("respondentEmail", "") or "").strip()
    for key in ("course", "level", "provider", "duration"):
        row[key] = str(raw.get(key, "")).strip()
    row["full_name"] = collapse(raw.get("full_name", ""))
    if not row["full_name"]:
        issues.append("missing_name")
    for key in ("date_of_birth", "start_date"):
        row[key], ok = memo.date(raw.get(key, ""))
        if not ok:
            issues.append(f"bad_{key}")
    if not row["date_of_birth"]:
        issues.append("missing_date_of_birth")
    elif "bad_date_of_birth" not in issues and row["date_of_birth"] > (
        row["last_submitted"][:10] or row["date_of_birth"]
    ):
        issues.append("future_date_of_birth")  # born after submitting: a typo staff must check
    row["leaving_year"], ok = memo.year(raw.get("leaving_year", ""))
    if not ok:
        issues.append("bad_leaving_year")
    row["telephone"], ok = memo.phone(raw.get("telephone", ""))
    if not ok:
        issues.append("bad_telephone")
    row["personal_email"], ok = memo.email(raw.get("personal_email", ""))
    if not ok:
        issues.append("bad_personal_email")
    destination = str(raw.get("destination", "")).strip()
    if destination and destination not in destination_options:
        row["destination"], row["destination_other"] = OTHER, destination
    else:
        row["destination"] = destination
    row["consent"] = memo.consent(raw.get("consent", ""))
    if not row["consent"]:
        issues.append("missing_consent")
    row["issues"] = " ".join(issues)
    return row


def normalise_rows(
    raw: list[dict[str, Any]],
    question_map: Mapping[str, str],
    *,
    destination_options: Collection[str] = DESTINATION_OPTIONS,
    memo: Memo | None = None,
) -> list[dict[str, str]]:
    """`normalise_responses` as a list of row dicts (response column -> text), in its order.

    `memo`: phone and email verdicts to reuse (a run passes one for all its schools)."""
    latest: dict[str, tuple[str, dict[str, Any]]] = {}
    for response in raw:
        rid = str(response.get("responseId", ""))
        when = timestamp(response.get("lastSubmittedTime") or response.get("createTime", ""))
        held = latest.get(rid)
        if held is None or when >= held[0]:
            latest[rid] = (when, response)
    items = [(key, qid) for key, qid in question_map.items() if key in FORM_KEYS]
    memo = memo or Memo()
    rows = [_normalise(r, items, destination_options, memo, when) for when, r in latest.values()]
    rows.sort(key=lambda r: (r["last_submitted"], r["response_id"]))
    return rows


def normalise_responses(
    raw: list[dict[str, Any]],
    question_map: Mapping[str, str],
    *,
    destination_options: Collection[str] = DESTINATION_OPTIONS,
) -> pd.DataFrame:
    """Forms API responses -> one normalised row per response id (its latest submission).

    `question_map` maps Form A keys (docs/ARCHITECTURE.md) to the live form's question ids.
    Rows are ordered by (last_submitted, response_id), so the result does not depend on page order.
    """
    rows = normalise_rows(raw, question_map, destination_options=destination_options)
    return pd.DataFrame(rows, columns=list(RESPONSE_COLUMNS), dtype=object)
