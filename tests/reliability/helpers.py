"""Shared builders for the reliability tests: a small trust on an emulator, distinctive personal
data to scan for, and comparison of final spreadsheets as sets of rows."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from gsync import sync as sync_mod
from gsync.config import Config, load_config
from gsync.demo import submit_sample
from gsync.emulator.testing import EmulatorClient
from gsync.formsync import create_form
from gsync.responses import CONSENT_YES
from gsync.sample import Pupil, Sample, make_sample
from gsync.sheetio import read_snapshot, tab_frame
from gsync.sync import load_template
from gsync.workspace import Workspace, workspace_for_endpoint
from tests.conftest import SAMPLE_CONFIG

NOW = dt.datetime(2026, 7, 10, 2, 30, tzinfo=dt.UTC)

# Distinctive personal data: none of these strings can occur by chance in gsync's output.
SURNAME = "Zqxwellington"
FORENAME = "Quorvanthe"
DOB = "2010-03-17"
SCHOOL_EMAIL_LOCAL = "qzqxw"
PERSONAL_EMAIL = "quorvanthe.zq@example.org"
PHONE = "020 7946 0417"  # Ofcom drama range (valid to phonenumbers)
PHONE_E164 = "+442079460417"
UNMATCHED_NAME = "Yvvonderbast Plimquorth"
UNMATCHED_EMAIL = "plimquorth.yv@example.net"
UNMATCHED_PHONE = "0113 496 0862"


def secrets() -> dict[str, str]:
    """Every form a distinctive value may take in output (raw, normalised, re-ordered dates)."""
    return {
        "surname": SURNAME,
        "surname_upper": SURNAME.upper(),
        "forename": FORENAME,
        "dob_iso": DOB,
        "dob_uk": "17/03/2010",
        "personal_email": PERSONAL_EMAIL,
        "phone": PHONE,
        "phone_digits": "2079460417",
        "unmatched_surname": "Plimquorth",
        "unmatched_forename": "Yvvonderbast",
        "unmatched_email": UNMATCHED_EMAIL,
        "unmatched_phone": "1134960862",
    }


def distinctive_pupil(sample: Sample, email_domain: str) -> Pupil:
    """The sample's first single (non-twin) pupil renamed to the distinctive values."""
    base = sample.pupils[5]
    return replace(
        base,
        legal_forename=FORENAME,
        legal_surname=SURNAME,
        date_of_birth=DOB,
        school_email=f"{SCHOOL_EMAIL_LOCAL}{base.upn[-4:]}@{email_domain}",
    )


@dataclass
class SmallTrust:
    """A trust spreadsheet, Form A for Northfield, a roster and responses on one emulator."""

    url: str
    client: EmulatorClient
    ws: Workspace
    config_path: Path
    sample: Sample
    special: Pupil

    @property
    def config(self) -> Config:
        return load_config(self.config_path)

    def question_map(self) -> dict[str, str]:
        return dict(self.config.school("Northfield").form_questions)

    def form_id(self) -> str:
        return str(self.config.school("Northfield").form_id)


def seed_trust(
    url: str,
    tmp: Path,
    *,
    pupils: int = 30,
    responses: int = 40,
    seed: int = 11,
    submit: bool = True,
) -> SmallTrust:
    """Build the trust on the emulator at `url` (library calls, no CLI output involved)."""
    client = EmulatorClient(url)
    ws = workspace_for_endpoint(url)
    config_path = tmp / "gsync.toml"
    config_path.write_text(SAMPLE_CONFIG, encoding="utf-8")
    sync_mod.init_sheet(ws, load_config(config_path), now=NOW)
    create_form(ws, load_config(config_path), "Northfield")
    domain = "pupils.northfield.sch.uk"
    sample = make_sample(seed=seed, pupils=pupils, responses=responses, email_domain=domain)
    special = distinctive_pupil(sample, domain)
    pupils_list = list(sample.pupils)
    pupils_list[5] = special
    sample = replace(sample, pupils=tuple(pupils_list))
    roster = tmp / "roster.csv"
    roster.write_bytes(sample.roster_csv())
    sync_mod.import_roster(ws, load_config(config_path), roster, "Northfield", now=NOW)
    trust = SmallTrust(url, client, ws, config_path, sample, special)
    if submit:
        school = trust.config.school("Northfield")
        submit_sample(client, str(school.form_id), dict(school.form_questions), sample)
        submit_special(trust)
    return trust


def answers(trust: SmallTrust, values: dict[str, str]) -> dict[str, str | list[str]]:
    qmap = trust.question_map()
    return {qmap[k]: v for k, v in values.items() if k in qmap}


def submit_special(trust: SmallTrust) -> None:
    """The distinctive pupil answers (with a phone and personal email), and a stranger whose
    answers match nobody on the roster (an Exceptions row carrying their name)."""
    p = trust.special
    trust.client.submit_response(
        trust.form_id(),
        answers(
            trust,
            {
                "full_name": f"{p.legal_forename} {p.legal_surname}",
                "date_of_birth": p.date_of_birth,
                "leaving_year": str(p.leaving_year),
                "personal_email": PERSONAL_EMAIL,
                "telephone": PHONE,
                "destination": "College",
                "provider": "Northvale College",
                "course": "Engineering",
                "consent": CONSENT_YES,
            },
        ),
        respondent_email=p.school_email,
        submitted_at=NOW - dt.timedelta(days=3),
    )
    trust.client.submit_response(
        trust.form_id(),
        answers(
            trust,
            {
                "full_name": UNMATCHED_NAME,
                "date_of_birth": "2010-05-05",
                "leaving_year": "2026",
                "personal_email": UNMATCHED_EMAIL,
                "telephone": UNMATCHED_PHONE,
                "destination": "Apprenticeship",
                "consent": CONSENT_YES,
            },
        ),
        respondent_email=UNMATCHED_EMAIL,
        submitted_at=NOW - dt.timedelta(days=2),
    )


def frames(ws: Workspace, config: Config) -> dict[str, Any]:
    """Every template tab of the trust spreadsheet as a DataFrame, by tab key."""
    snap = read_snapshot(ws, str(config.trust.spreadsheet_id))
    template = load_template(config)
    return {t.key: tab_frame(snap, t).frame for t in template.tabs if t.key != "gsync_state"}


def row_multiset(frame: Any) -> list[tuple[str, ...]]:
    """A tab's rows as a sorted list of tuples (order-free comparison that still sees duplicates)."""
    return sorted(tuple(str(v) for v in row) for row in frame.itertuples(index=False))
