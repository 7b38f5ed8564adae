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


def timestamp(text: str) -> str:
    """An RFC 3339 time as UTC `YYYY-MM-DDTHH:MM:SS.mmmZ` (sorts as text); unparsable kept as is."""
    value = str(text or "").strip()
    if not value:
        return ""
    try:
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return value
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    parsed = parsed.astimezone(dt.UTC)
    return f"{parsed:%Y-%m-%dT%H:%M:%S}.{parsed.microsecond // 1000:03d}Z"


def _answer(response: Mapping[str, Any], question_id: str) -> str:
    answer = (response.get("answers") or {}).get(question_id) or {}
    values = [
        str(a.get("value", ""))
        for a in (answer.get("textAnswers") or {}).get("answers") or []
        if isinstance(a, Mapping)
    ]
    return "; ".join(v for v in values if v != "")


def normalise_response(
    response: Mapping[str, Any],
    question_map: Mapping[str, str],
    destination_options: Collection[str] = DESTINATION_OPTIONS,
) -> dict[str, str]:
    """One FormResponse -> one normalised row (see the module docstring)."""
    issues: list[str] = []
    raw = {key: _answer(response, qid) for key, qid in question_map.items() if key in FORM_KEYS}
    for key, value in list(raw.items()):
        if len(value) > MAX_CHARS:
            raw[key] = value[:MAX_CHARS]
            issues.append(f"truncated_{key}")
    row: dict[str, str] = dict.fromkeys(RESPONSE_COLUMNS, "")
    row["response_id"] = str(response.get("responseId", ""))
    row["created"] = timestamp(response.get("createTime", ""))
    row["last_submitted"] = timestamp(
        response.get("lastSubmittedTime") or response.get("createTime", "")
    )
    row["respondent_email"] = str(response.get("respondentEmail", "") or "").strip()
    for key in ("course", "level", "provider", "duration"):
        row[key] = str(raw.get(key, "")).strip()
    row["full_name"] = collapse(raw.get("full_name", ""))
    if not row["full_name"]:
        issues.append("missing_name")
    for key in ("date_of_birth", "start_date"):
        row[key], ok = normalise_date(raw.get(key, ""))
        if not ok:
            issues.append(f"bad_{key}")
    if not row["date_of_birth"]:
        issues.append("missing_date_of_birth")
    elif "bad_date_of_birth" not in issues and row["date_of_birth"] > (
        row["last_submitted"][:10] or row["date_of_birth"]
    ):
        issues.append("future_date_of_birth")  # born after submitting: a typo staff must check
    row["leaving_year"], ok = normalise_year(raw.get("leaving_year", ""))
    if not ok:
        issues.append("bad_leaving_year")
    row["telephone"], ok = normalise_phone(raw.get("telephone", ""))
    if not ok:
        issues.append("bad_telephone")
    row["personal_email"], ok = normalise_email(raw.get("personal_email", ""))
    if not ok:
        issues.append("bad_personal_email")
    destination = str(raw.get("destination", "")).strip()
    if destination and destination not in destination_options:
        row["destination"], row["destination_other"] = OTHER, destination
    else:
        row["destination"] = destination
    row["consent"] = normalise_consent(raw.get("consent", ""))
    if not row["consent"]:
        issues.append("missing_consent")
    row["issues"] = " ".join(issues)
    return row


def normalise_rows(
    raw: list[dict[str, Any]],
    question_map: Mapping[str, str],
    *,
    destination_options: Collection[str] = DESTINATION_OPTIONS,
) -> list[dict[str, str]]:
    """`normalise_responses` as a list of row dicts (response column -> text), in its order."""
    latest: dict[str, dict[str, Any]] = {}
    for response in raw:
        rid = str(response.get("responseId", ""))
        when = timestamp(response.get("lastSubmittedTime") or response.get("createTime", ""))
        held = latest.get(rid)
        if held is None or when >= timestamp(
            held.get("lastSubmittedTime") or held.get("createTime", "")
        ):
            latest[rid] = response
    rows = [normalise_response(r, question_map, destination_options) for r in latest.values()]
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
