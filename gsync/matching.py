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
from typing import ClassVar, TypeVar

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
Match = tuple[str, str, str, str, str]  # upn, leaving_year, match_method, match_status, reason
#: What a key holds: its one pupil-in-cohort's match (the usual case), or its distinct
#: pupils-in-cohorts in the order their rows come (a dict used as an ordered set).
Held = Match | dict[Pupil, None]


@dataclass
class PupilIndex:
    """A school's pupils by verified school email and by (name key, date of birth).

    Each key holds its distinct pupils-in-cohorts in the order their rows come, which is all
    `match_responses` ever read of the rows it collected per key: a key of one pupil-in-cohort
    holds that pupil's match itself (issue 7: 100k keys, each its own dict of one before, and a
    match made per response), a key of several a dict used as an ordered set (`Held`).
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
    by_email: dict[str, Held] = field(default_factory=dict)
    by_name_dob: dict[tuple[str, str], Held] = field(default_factory=dict)

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
        column reads as blank. `parts`: name part -> its `name_key` (None: keyed within the
        whole name), as worked out so far (a caller indexing several schools passes one dict to
        them all).
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
        # name_key of each name part: name_key(f + s) == name_key(f) + name_key(s) (names
        # repeat a lot). ASCII text is keyed character by character; other text too once NFKD's
        # combining marks are dropped, the only characters its canonical reordering moves
        # (and only among themselves), so where f ends and s begins changes nothing.
        known: dict[str, str | None] = parts if parts is not None else {}

        def part_key(text: str) -> str | None:
            got = known.get(text, "")
            if got == "":
                got = known[text] = name_key(text)
            return got

        by_email, by_name_dob = index.by_email, index.by_name_dob
        email_get, name_get = by_email.get, by_name_dob.get
        for i in positions:
            upn = upns[i]
            if not upn or schools[i] != school:
                continue
            year = years[i]
            email = emails[i]
            if email:
                key = email.casefold()
                held = email_get(key)
                if held is None:
                    by_email[key] = (upn, year, "email", "matched", "")
                else:
                    _add(by_email, key, held, (upn, year))
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
                        name_dob = (
                            f_key + s_key
                            if f_key is not None and s_key is not None
                            else name_key(fore + sur),
                            dob,
                        )
                        held = name_get(name_dob)
                        if held is None:
                            by_name_dob[name_dob] = (upn, year, "name_dob", "matched", "")
                        else:
                            _add(by_name_dob, name_dob, held, (upn, year))
                    continue
                forenames = {fore, pref}
                surnames = {sur, pref_sur}
                for f in forenames:
                    if f:
                        f_key = part_key(f)
                        for s in surnames:
                            if s:
                                s_key = part_key(s) if f_key is not None else None
                                name_dob = (
                                    f_key + s_key
                                    if f_key is not None and s_key is not None
                                    else name_key(f + s),
                                    dob,
                                )
                                held = name_get(name_dob)
                                if held is None:
                                    by_name_dob[name_dob] = (upn, year, "name_dob", "matched", "")
                                else:
                                    _add(by_name_dob, name_dob, held, (upn, year))
        return index


_K = TypeVar("_K", str, tuple[str, str])


def _add(index: dict[_K, Held], key: _K, held: Held, pupil: Pupil) -> None:
    """Another row's pupil-in-cohort for a key that holds `held` already."""
    if isinstance(held, dict):
        held[pupil] = None
    elif (held[0], held[1]) != pupil:  # a second pupil-in-cohort: the key holds them in order
        index[key] = {(held[0], held[1]): None, pupil: None}


class _Blank(Sequence[str]):
    """A column of blanks of any length (a column the frame does not have)."""

    def __getitem__(self, i: int) -> str:  # type: ignore[override]
        return ""

    def __len__(self) -> int:
        return 0


def _pick(candidates: dict[Pupil, None], stated_year: str) -> list[Pupil]:
    """Distinct pupils-in-cohorts (several); the stated leaving year narrows them down where
    it can."""
    rows = list(candidates)
    if stated_year:
        narrowed = [r for r in rows if r[1] == stated_year]
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
        if held is not None:
            if not isinstance(held, dict):  # one pupil: its match
                return held
            found = _pick(held, stated_year)
            if len(found) == 1:
                return (found[0][0], found[0][1], "email", "matched", "")
            return ("", "", "email", "ambiguous", f"{len(found)} pupils share this school email")
    name = name_key(full_name)
    if not name:
        return ("", "", "", "unmatched", "no school email match and no name given")
    if not date_of_birth or (issues and "bad_date_of_birth" in issues.split()):
        return ("", "", "", "unmatched", "no school email match and no valid date of birth")
    held = index.by_name_dob.get((name, date_of_birth))
    if held is not None:
        if not isinstance(held, dict):  # one pupil: its match
            return held
        found = _pick(held, stated_year)
        if len(found) == 1:
            return (found[0][0], found[0][1], "name_dob", "matched", "")
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
