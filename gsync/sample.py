"""A seeded generator of a synthetic roster and Form A answers, for tests, the demo and the benchmark.

Names are built from small made-up syllable lists (no real pupil data). The answers include
everything the sync must cope with: repeat submissions by one pupil, responses edited after
submission, unmatched and ambiguous pupils, bad phones and emails, refused consent, "Other"
destinations, and formula payloads that must stay text.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import random
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from gsync.responses import CONSENT_NO, CONSENT_YES, FORM_KEYS
from gsync.roster import upn_check_letter

FORE_START = (
    "Al",
    "Bri",
    "Cor",
    "Da",
    "El",
    "Fen",
    "Gry",
    "Ha",
    "Is",
    "Jo",
    "Ke",
    "Lu",
    "Mi",
    "No",
)
FORE_END = ("ra", "en", "is", "o", "yn", "ette", "an", "ia", "ric", "wen")
SUR_START = ("Ash", "Birch", "Cobble", "Dun", "Elm", "Fern", "Gorse", "Heath", "Ivy", "Juniper")
SUR_END = ("ford", "wick", "ley", "ton", "by", "more", "stead", "combe")
SPECIAL_SURNAMES = ("Ash-Ley", "O'Dunmore", "Fernández-Heath", "Le Birch")
SPECIAL_FORENAMES = ("Renée", "Zoë", "Anne-Mari", "Jo Ellen")
DESTINATIONS = (
    "Employment with training",
    "Apprenticeship",
    "College",
    "Sixth form",
    "Voluntary work",
)
LEVELS = ("Entry level", "Level 1", "Level 2", "Level 3", "Not sure")
PROVIDERS = ("Northvale College", "Riverside Sixth Form", "Hillcrest Motors", "Greenway Training")
COURSES = ("A levels", "Engineering", "Hair and beauty", "Motor vehicle", "Business admin")
# Formula-injection payloads: each must be stored as literal text.
FORMULA_PAYLOADS = ('=IMPORTXML("http://x","//a")', "+SUM(A1)", "@cmd", "-1+1")
# Ofcom's numbers reserved for drama (fictional, yet valid to `phonenumbers`), with a 3-digit tail.
DRAMA_PHONES = ("020 7946 0", "0113 496 0", "+44 161 496 0", "01134960")
BAD_PHONES = ("12345", "0770 090", "phone me", "+44 20 1")
BAD_EMAILS = ("not an email", "someone@", "@example.com", "a b@example.com")
DEFAULT_QUESTION_MAP: dict[str, str] = {key: f"q_{key}" for key in FORM_KEYS}


@dataclass(frozen=True)
class Pupil:
    """One synthetic pupil as the roster holds them."""

    upn: str
    legal_forename: str
    legal_surname: str
    preferred_forename: str
    preferred_surname: str
    date_of_birth: str  # ISO
    school_email: str
    leaving_year: int
    send: str
    disadvantaged: str
    eal: str
    looked_after: str


@dataclass(frozen=True)
class SampleResponse:
    """One Form A submission: Forms API metadata and the answers by Form A key."""

    response_id: str
    created: str
    last_submitted: str
    respondent_email: str
    answers: dict[str, str]
    kind: str = "ok"  # what the generator meant it to exercise (tests check on it)

    def form_response(self, question_map: dict[str, str]) -> dict[str, Any]:
        """As a Forms API `FormResponse` body (answers keyed by question id)."""
        body: dict[str, Any] = {
            "responseId": self.response_id,
            "createTime": self.created,
            "lastSubmittedTime": self.last_submitted,
            "answers": {
                question_map[k]: {
                    "questionId": question_map[k],
                    "textAnswers": {"answers": [{"value": v}]},
                }
                for k, v in self.answers.items()
                if k in question_map and v != ""
            },
        }
        if self.respondent_email:
            body["respondentEmail"] = self.respondent_email
        return body


@dataclass(frozen=True)
class Sample:
    """A school's synthetic roster and the responses to its form."""

    school: str
    phase: str
    leaving_year: int
    pupils: tuple[Pupil, ...]
    responses: tuple[SampleResponse, ...]
    edits: tuple[SampleResponse, ...] = field(default=())  # later versions of some responses

    def roster_csv(self, style: Literal["sims", "arbor", "bromcom"] = "sims") -> bytes:
        """The roster as an MIS export: SIMS (UTF-8, dd/mm/yyyy), Arbor (BOM, ISO dates),
        Bromcom (Windows-1252, semicolons)."""
        out = io.StringIO()
        if style == "sims":
            header = ["UPN", "Legal Surname", "Legal Forename", "Preferred Forename",
                      "Preferred Surname", "DOB", "Email", "Year Left", "SEN Status",
                      "Pupil Premium", "EAL", "In Care"]  # fmt: skip
            writer = csv.writer(out, lineterminator="\r\n")
            writer.writerow(header)
            for p in self.pupils:
                d = dt.date.fromisoformat(p.date_of_birth)
                writer.writerow([p.upn, p.legal_surname, p.legal_forename, p.preferred_forename,
                                 p.preferred_surname, f"{d:%d/%m/%Y}", p.school_email,
                                 p.leaving_year, p.send, p.disadvantaged, p.eal, p.looked_after])  # fmt: skip
            return out.getvalue().encode("utf-8")
        if style == "arbor":
            header = ["UPN", "First Name", "Last Name", "Date of Birth", "Email Address",
                      "Leaving Year", "SEN Provision", "FSM6", "First Language", "Looked After",
                      "Previously Looked After"]  # fmt: skip
            writer = csv.writer(out, lineterminator="\n")
            writer.writerow(header)
            for p in self.pupils:
                writer.writerow([p.upn, p.legal_forename, p.legal_surname, p.date_of_birth,
                                 p.school_email, p.leaving_year, p.send,
                                 "Yes" if p.disadvantaged == "Y" else "No",
                                 "Polish" if p.eal == "Y" else "English",
                                 "No", "Yes" if p.looked_after == "Y" else "No"])  # fmt: skip
            return b"\xef\xbb\xbf" + out.getvalue().encode("utf-8")
        header = ["UPN", "Legal Forename", "Legal Surname", "Date of Birth", "Email",
                  "Year Left", "SEN Provision", "Disadvantaged", "EAL", "CLA"]  # fmt: skip
        writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
        writer.writerow(header)
        for p in self.pupils:
            d = dt.date.fromisoformat(p.date_of_birth)
            writer.writerow([p.upn, p.legal_forename, p.legal_surname, f"{d:%d/%m/%Y}",
                             p.school_email, p.leaving_year, p.send, p.disadvantaged, p.eal,
                             p.looked_after])  # fmt: skip
        return out.getvalue().encode("cp1252", errors="replace")

    def form_responses(
        self, question_map: dict[str, str] | None = None, *, edited: bool = False
    ) -> list[dict[str, Any]]:
        """Forms API bodies for every response; `edited=True` applies the later edits."""
        qmap = question_map or DEFAULT_QUESTION_MAP
        current = {r.response_id: r for r in self.responses}
        if edited:
            current.update({r.response_id: r for r in self.edits})
        return [r.form_response(qmap) for r in current.values()]


def _upn(rng: random.Random, used: set[str]) -> str:
    while True:
        body = f"881{rng.randint(4000, 4999)}{rng.randint(10, 20)}{rng.randint(0, 999):03d}"
        upn = upn_check_letter(body) + body
        if upn not in used:
            used.add(upn)
            return upn


def _forename(rng: random.Random) -> str:
    if rng.random() < 0.05:
        return rng.choice(SPECIAL_FORENAMES)
    return rng.choice(FORE_START) + rng.choice(FORE_END)


def _surname(rng: random.Random) -> str:
    if rng.random() < 0.08:
        return rng.choice(SPECIAL_SURNAMES)
    return rng.choice(SUR_START) + rng.choice(SUR_END)


def _stamp(moment: dt.datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def make_sample(
    *,
    seed: int = 0,
    pupils: int = 200,
    responses: int = 250,
    school: str = "Northfield",
    phase: str = "Y11",
    leaving_year: int = 2026,
    email_domain: str = "pupils.northfield.sch.uk",
) -> Sample:
    """A reproducible roster of `pupils` and `responses` Form A submissions (see module docstring)."""
    rng = random.Random(seed)
    used: set[str] = set()
    roster: list[Pupil] = []
    names: set[tuple[str, str, str]] = set()
    while len(roster) < pupils:
        fore, sur = _forename(rng), _surname(rng)
        dob = dt.date(leaving_year - (16 if phase == "Y11" else 18), 9, 1) + dt.timedelta(
            days=rng.randint(0, 364)
        )
        if (fore, sur, dob.isoformat()) in names:
            continue
        names.add((fore, sur, dob.isoformat()))
        preferred = rng.choice(FORE_START) + "e" if rng.random() < 0.1 else ""
        upn = _upn(rng, used)
        roster.append(
            Pupil(
                upn=upn,
                legal_forename=fore,
                legal_surname=sur,
                preferred_forename=preferred,
                preferred_surname="",
                date_of_birth=dob.isoformat(),
                school_email=f"{upn.lower()}@{email_domain}",
                leaving_year=leaving_year,
                send=rng.choices(("N", "K", "E"), (80, 15, 5))[0],
                disadvantaged="Y" if rng.random() < 0.25 else "N",
                eal="Y" if rng.random() < 0.15 else "N",
                looked_after="Y" if rng.random() < 0.03 else "N",
            )
        )
    # Two pairs of pupils sharing a name and date of birth: responses without a school account
    # from them are ambiguous.
    for k in range(2):
        twin = roster[k]
        upn = _upn(rng, used)
        roster.append(replace(twin, upn=upn, school_email=f"{upn.lower()}@{email_domain}"))
    twins = roster[:2]

    start = dt.datetime(leaving_year, 5, 1, 8, tzinfo=dt.UTC)
    out: list[SampleResponse] = []
    edits: list[SampleResponse] = []
    order = list(range(len(roster) - 2))
    rng.shuffle(order)

    def answers(p: Pupil | None, rng: random.Random) -> dict[str, str]:
        fore = (p.preferred_forename or p.legal_forename) if p else _forename(rng) + "x"
        sur = p.legal_surname if p else _surname(rng)
        name = rng.choice([f"{fore} {sur}", f"  {fore.lower()}   {sur.upper()} ", f"{fore}  {sur}"])
        dob = p.date_of_birth if p else "2010-01-01"
        destination = rng.choice(DESTINATIONS)
        if rng.random() < 0.08:
            destination = rng.choice(("Gap year", "Family business", "Army"))
        return {
            "full_name": name,
            "date_of_birth": dob,
            "leaving_year": str(leaving_year),
            "personal_email": f"{fore.lower()}.{rng.randint(1, 99)}@example.com".replace(" ", ""),
            "telephone": rng.choice(DRAMA_PHONES) + f"{rng.randint(0, 999):03d}",
            "destination": destination,
            "course": rng.choice(COURSES),
            "level": rng.choice(LEVELS),
            "provider": rng.choice(PROVIDERS),
            "start_date": f"{leaving_year}-09-0{rng.randint(1, 8)}",
            "duration": rng.choice(("1 year", "2 years", "18 months")),
            "consent": CONSENT_YES if rng.random() > 0.15 else CONSENT_NO,
        }

    for n in range(max(responses - len(FORMULA_PAYLOADS), 0)):
        created = start + dt.timedelta(minutes=rng.randint(0, 60 * 24 * 70), seconds=rng.random())
        kind = "ok"
        roll = rng.random()
        pupil: Pupil | None = roster[order[n % len(order)]]
        if n >= len(order):
            kind = "duplicate"  # a second submission by a pupil who answered already
            created += dt.timedelta(days=10)
        elif roll < 0.04:
            kind, pupil = "unmatched", None
        elif roll < 0.05:
            kind, pupil = "ambiguous", twins[n % 2]
        a = answers(pupil, rng)
        via_email = pupil is not None and kind != "ambiguous" and rng.random() < 0.6
        if rng.random() < 0.05:
            a["telephone"], kind = rng.choice(BAD_PHONES), kind if kind != "ok" else "bad_phone"
        if rng.random() < 0.05:
            a["personal_email"], kind = (
                rng.choice(BAD_EMAILS),
                kind if kind != "ok" else "bad_email",
            )
        if rng.random() < 0.05:
            field_name = rng.choice(("course", "provider", "destination"))
            a[field_name] = rng.choice(FORMULA_PAYLOADS)
            kind = kind if kind != "ok" else "formula"
        if a["consent"] == CONSENT_NO and kind == "ok":
            kind = "no_consent"
        edited_at = created
        if rng.random() < 0.05:
            edited_at = created + dt.timedelta(hours=rng.randint(1, 48))
            a["provider"] = rng.choice(PROVIDERS)
        resp = SampleResponse(
            response_id=f"resp{seed:02d}{n:05d}",
            created=_stamp(created),
            last_submitted=_stamp(edited_at),
            respondent_email=pupil.school_email if (pupil and via_email) else "",
            answers=a,
            kind=kind,
        )
        out.append(resp)
        if rng.random() < 0.04 and pupil is not None and kind in ("ok", "no_consent"):
            later = dict(a)
            later["course"] = rng.choice(COURSES) + " (changed)"
            edits.append(
                replace(
                    resp,
                    last_submitted=_stamp(created + dt.timedelta(days=20)),
                    answers=later,
                    kind="edited",
                )
            )
    # Formula payloads, each at least once, on matched pupils.
    for i, payload in enumerate(FORMULA_PAYLOADS):
        p = roster[order[i]]
        a = answers(p, rng)
        a["course"] = payload
        a["destination"] = payload if i == 0 else a["destination"]
        moment = start + dt.timedelta(days=95, minutes=i)  # after every other submission
        out.append(
            SampleResponse(
                response_id=f"resp{seed:02d}f{i:04d}",
                created=_stamp(moment),
                last_submitted=_stamp(moment),
                respondent_email=p.school_email,
                answers=a,
                kind="formula",
            )
        )
    return Sample(
        school=school,
        phase=phase,
        leaving_year=leaving_year,
        pupils=tuple(roster),
        responses=tuple(out),
        edits=tuple(edits),
    )
