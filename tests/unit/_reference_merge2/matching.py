# REFERENCE COPY, for tests only: gsync/matching.py as of commit 6cea1cc, before brief P3's speed-up of
# normalise / match / merge / rounds. Only the imports of the four sibling modules point here.
# Used by tests/unit/test_merge_equivalence.py; never imported by gsync; do not "fix" it.
# ruff: noqa
# mypy: ignore-errors
"""Match normalised responses to a school's pupils in Destinations.

Order (issue 4): the respondent's verified school account equal to the pupil's `school_email`
first; then the normalised full name (legal or preferred forename with legal or preferred
surname; case, accents, hyphens, apostrophes and spaces ignored) together with the date of birth.
Several pupils -> `ambiguous`; none -> `unmatched`. No response is ever dropped. Where one pupil
sits in two cohorts, the leaving year the respondent gave chooses between them.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable

import pandas as pd

MATCH_COLUMNS: tuple[str, ...] = (
    "upn",
    "leaving_year",
    "stated_leaving_year",
    "match_method",
    "match_status",
    "reason",
)


def name_key(text: str) -> str:
    """A name folded for comparison: accents removed, case folded, only letters and digits kept."""
    decomposed = unicodedata.normalize("NFKD", str(text))
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return "".join(ch for ch in bare.casefold() if ch.isalnum())


def _name_keys(row: dict[str, str]) -> set[str]:
    forenames = {row.get("legal_forename", ""), row.get("preferred_forename", "")}
    surnames = {row.get("legal_surname", ""), row.get("preferred_surname", "")}
    return {name_key(f + s) for f in forenames if f for s in surnames if s}


def _cell(value: object) -> str:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return ""
    return str(value)


def _pick(candidates: list[dict[str, str]], stated_year: str) -> list[dict[str, str]]:
    """Distinct pupils-in-cohorts; the stated leaving year narrows several down where it can."""
    unique = {(c["upn"], c["leaving_year"]): c for c in candidates}
    rows = list(unique.values())
    if len(rows) > 1 and stated_year:
        narrowed = [r for r in rows if r["leaving_year"] == stated_year]
        if narrowed:
            rows = narrowed
    return rows


def match_responses(
    responses: pd.DataFrame, destinations: pd.DataFrame, *, school: str
) -> pd.DataFrame:
    """Add upn, leaving_year, match_method, match_status and reason to every response.

    The response's own leaving-year answer moves to `stated_leaving_year`; `leaving_year` becomes
    the matched pupil's cohort (blank when unmatched or ambiguous). Reasons name no personal data.
    """
    if "school" in destinations.columns:  # the school's rows first: the tab holds the whole trust
        destinations = destinations[destinations["school"].map(_cell).to_numpy() == school]
    pupils: list[dict[str, str]] = [
        {k: _cell(v) for k, v in r.items()}
        for r in destinations.to_dict("records")
        if _cell(r.get("school")) == school and _cell(r.get("upn"))
    ]
    by_email: dict[str, list[dict[str, str]]] = {}
    by_name_dob: dict[tuple[str, str], list[dict[str, str]]] = {}
    for p in pupils:
        if p.get("school_email"):
            by_email.setdefault(p["school_email"].casefold(), []).append(p)
        if p.get("date_of_birth"):
            for key in _name_keys(p):
                by_name_dob.setdefault((key, p["date_of_birth"]), []).append(p)
    out = responses.copy()
    if "leaving_year" in out.columns:
        stated = [_cell(v) for v in out["leaving_year"]]
    else:
        stated = [""] * len(out)
    results = [
        _match_one(r, s, by_email, by_name_dob) for r, s in zip(_records(out), stated, strict=True)
    ]
    out["stated_leaving_year"] = stated
    for i, col in enumerate(("upn", "leaving_year", "match_method", "match_status", "reason")):
        out[col] = pd.Series([res[i] for res in results], index=out.index, dtype=object)
    return out


def _records(frame: pd.DataFrame) -> Iterable[dict[str, str]]:
    for r in frame.to_dict("records"):
        yield {str(k): _cell(v) for k, v in r.items()}


def _match_one(
    response: dict[str, str],
    stated_year: str,
    by_email: dict[str, list[dict[str, str]]],
    by_name_dob: dict[tuple[str, str], list[dict[str, str]]],
) -> tuple[str, str, str, str, str]:
    email = response.get("respondent_email", "").casefold()
    if email:
        found = _pick(by_email.get(email, []), stated_year)
        if len(found) == 1:
            return (found[0]["upn"], found[0]["leaving_year"], "email", "matched", "")
        if len(found) > 1:
            return ("", "", "email", "ambiguous", f"{len(found)} pupils share this school email")
    name = name_key(response.get("full_name", ""))
    dob = response.get("date_of_birth", "")
    if not name:
        return ("", "", "", "unmatched", "no school email match and no name given")
    if not dob or "bad_date_of_birth" in response.get("issues", "").split():
        return ("", "", "", "unmatched", "no school email match and no valid date of birth")
    found = _pick(by_name_dob.get((name, dob), []), stated_year)
    if len(found) == 1:
        return (found[0]["upn"], found[0]["leaving_year"], "name_dob", "matched", "")
    if len(found) > 1:
        return (
            "",
            "",
            "name_dob",
            "ambiguous",
            f"{len(found)} pupils have this name and date of birth",
        )
    return (
        "",
        "",
        "",
        "unmatched",
        "no pupil with this school email, or this name and date of birth",
    )
