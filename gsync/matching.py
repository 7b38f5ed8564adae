"""Match normalised responses to a school's pupils in Destinations.

Order (issue 4): the respondent's verified school account equal to the pupil's `school_email`
first; then the normalised full name (legal or preferred forename with legal or preferred
surname; case, accents, hyphens, apostrophes and spaces ignored) together with the date of birth.
Several pupils -> `ambiguous`; none -> `unmatched`. No response is ever dropped. Where one pupil
sits in two cohorts, the leaving year the respondent gave chooses between them.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import ClassVar

import pandas as pd

MATCH_COLUMNS: tuple[str, ...] = (
    "upn",
    "leaving_year",
    "stated_leaving_year",
    "match_method",
    "match_status",
    "reason",
)


# ASCII text: NFKD leaves it as is, no character is combining, casefold is lower() and the
# letters and digits are [0-9a-z]; so its bytes with the others deleted, lowered, give `name_key`
# (issue 7: it runs per response; bytes.translate deletes in C, 2.5x str.translate's time).
_ASCII_DROP = bytes(i for i in range(128) if not chr(i).isalnum())


def name_key(text: str) -> str:
    """A name folded for comparison: accents removed, case folded, only letters and digits kept."""
    text = str(text)
    if text.isascii():
        return text.encode().translate(None, _ASCII_DROP).lower().decode()
    decomposed = unicodedata.normalize("NFKD", text)
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return "".join(ch for ch in bare.casefold() if ch.isalnum())


def _cell(value: object) -> str:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return ""
    return str(value)


Pupil = tuple[str, str]  # (upn, leaving_year): one pupil in one cohort


@dataclass
class PupilIndex:
    """A school's pupils by verified school email and by (name key, date of birth).

    Each key holds its distinct pupils-in-cohorts in the order their rows come (a dict used as an
    ordered set), which is all `match_responses` ever read of the rows it collected per key.
    """

    COLUMNS: ClassVar[tuple[str, ...]] = (
        "school",
        "upn",
        "leaving_year",
        "school_email",
        "date_of_birth",
        "legal_forename",
        "preferred_forename",
        "legal_surname",
        "preferred_surname",
    )
    by_email: dict[str, dict[Pupil, None]] = field(default_factory=dict)
    by_name_dob: dict[tuple[str, str], dict[Pupil, None]] = field(default_factory=dict)

    @classmethod
    def from_columns(
        cls,
        columns: Mapping[str, Sequence[str]],
        positions: Iterable[int],
        school: str,
        parts: dict[str, str | None] | None = None,
    ) -> PupilIndex:
        """The index of the rows at `positions` that are the school's and have a UPN.

        `columns` holds the Destinations cells as text (`_cell`), column key -> cells; a missing
        column reads as blank. `parts`: name part -> its `name_key` if ASCII, else None, as
        worked out so far (a caller indexing several schools passes one dict to them all).
        """
        index = cls()
        blank: Sequence[str] = _Blank()
        col = {k: columns.get(k, blank) for k in PupilIndex.COLUMNS}
        schools, upns, years, emails, dobs = (
            col[k] for k in ("school", "upn", "leaving_year", "school_email", "date_of_birth")
        )
        legal_f, pref_f, legal_s, pref_s = (
            col[k]
            for k in ("legal_forename", "preferred_forename", "legal_surname", "preferred_surname")
        )
        # name_key of each ASCII name part: for ASCII text name_key works character by
        # character, so name_key(f + s) == name_key(f) + name_key(s) (names repeat a lot).
        known: dict[str, str | None] = parts if parts is not None else {}

        def part_key(text: str) -> str | None:
            got = known.get(text, "")
            if got == "":
                got = known[text] = name_key(text) if text.isascii() else None
            return got

        by_email, by_name_dob = index.by_email.setdefault, index.by_name_dob.setdefault
        for i in positions:
            upn = upns[i]
            if not upn or schools[i] != school:
                continue
            pupil = (upn, years[i])
            email = emails[i]
            if email:
                by_email(email.casefold(), {})[pupil] = None
            dob = dobs[i]
            if dob:
                fore, pref, sur, pref_sur = legal_f[i], pref_f[i], legal_s[i], pref_s[i]
                if (pref == fore or not pref) and (pref_sur == sur or not pref_sur):
                    if fore and sur:  # the usual case: one name (the loops below, unrolled)
                        f_key, s_key = known.get(fore, ""), known.get(sur, "")
                        if f_key == "":  # not known yet (or an ASCII part of no letters)
                            f_key = part_key(fore)
                        if s_key == "":
                            s_key = part_key(sur)
                        name = (
                            f_key + s_key
                            if f_key is not None and s_key is not None
                            else name_key(fore + sur)
                        )
                        by_name_dob((name, dob), {})[pupil] = None
                    continue
                forenames = {fore, pref}
                surnames = {sur, pref_sur}
                for f in forenames:
                    if f:
                        f_key = part_key(f)
                        for s in surnames:
                            if s:
                                s_key = part_key(s) if f_key is not None else None
                                name = (
                                    f_key + s_key
                                    if f_key is not None and s_key is not None
                                    else name_key(f + s)
                                )
                                by_name_dob((name, dob), {})[pupil] = None
        return index


class _Blank(Sequence[str]):
    """A column of blanks of any length (a column the frame does not have)."""

    def __getitem__(self, i: int) -> str:  # type: ignore[override]
        return ""

    def __len__(self) -> int:
        return 0


def _pick(candidates: dict[Pupil, None] | None, stated_year: str) -> list[Pupil]:
    """Distinct pupils-in-cohorts; the stated leaving year narrows several down where it can."""
    if not candidates:
        return []
    rows = list(candidates)
    if len(rows) > 1 and stated_year:
        narrowed = [r for r in rows if r[1] == stated_year]
        if narrowed:
            rows = narrowed
    return rows


Match = tuple[str, str, str, str, str]  # upn, leaving_year, match_method, match_status, reason


def match_responses(
    responses: pd.DataFrame, destinations: pd.DataFrame, *, school: str
) -> pd.DataFrame:
    """Add upn, leaving_year, match_method, match_status and reason to every response.

    The response's own leaving-year answer moves to `stated_leaving_year`; `leaving_year` becomes
    the matched pupil's cohort (blank when unmatched or ambiguous). Reasons name no personal data.
    """
    if "school" in destinations.columns:  # the school's rows first: the tab holds the whole trust
        destinations = destinations[destinations["school"].map(_cell).to_numpy() == school]
    columns = {
        str(k): [_cell(v) for v in destinations[k].tolist()]
        for k in destinations.columns
        if str(k) in PupilIndex.COLUMNS
    }
    index = PupilIndex.from_columns(columns, range(len(destinations)), school)
    out = responses.copy()
    n = len(out)

    def texts(column: str) -> list[str]:
        return [_cell(v) for v in out[column]] if column in out.columns else [""] * n

    stated = texts("leaving_year")
    results = [
        match_one(email, name, dob, issues, s, index)
        for email, name, dob, issues, s in zip(
            texts("respondent_email"),
            texts("full_name"),
            texts("date_of_birth"),
            texts("issues"),
            stated,
            strict=True,
        )
    ]
    out["stated_leaving_year"] = stated
    for i, col in enumerate(("upn", "leaving_year", "match_method", "match_status", "reason")):
        out[col] = pd.Series([res[i] for res in results], index=out.index, dtype=object)
    return out


def match_one(
    respondent_email: str,
    full_name: str,
    date_of_birth: str,
    issues: str,
    stated_year: str,
    index: PupilIndex,
) -> Match:
    """One response's match (its cells as text): school email first, then name + date of birth."""
    email = respondent_email.casefold()
    if email:
        held = index.by_email.get(email)
        if held is not None and len(held) == 1:  # `_pick` of one pupil: that pupil
            for upn, year in held:
                return (upn, year, "email", "matched", "")
        found = _pick(held, stated_year)
        if len(found) == 1:
            return (found[0][0], found[0][1], "email", "matched", "")
        if len(found) > 1:
            return ("", "", "email", "ambiguous", f"{len(found)} pupils share this school email")
    name = name_key(full_name)
    if not name:
        return ("", "", "", "unmatched", "no school email match and no name given")
    if not date_of_birth or (issues and "bad_date_of_birth" in issues.split()):
        return ("", "", "", "unmatched", "no school email match and no valid date of birth")
    held = index.by_name_dob.get((name, date_of_birth))
    if held is not None and len(held) == 1:
        for upn, year in held:
            return (upn, year, "name_dob", "matched", "")
    found = _pick(held, stated_year)
    if len(found) == 1:
        return (found[0][0], found[0][1], "name_dob", "matched", "")
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
