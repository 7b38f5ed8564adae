"""Build a starting `gsync.toml` for one school or a trust (what `gsync init` writes).

The text is rendered with comments a data manager can follow, then validated with
`gsync.config.parse_config` before it is written, so `gsync init` never leaves a file gsync
cannot read back. Term dates for the current and next academic year are gsync's documented
defaults (`deadlines.default_terms`), marked in the file as estimates to check against the local
authority's published dates.
"""

from __future__ import annotations

import datetime as dt
import os
import tempfile
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import tomlkit

from gsync.config import Config, parse_config
from gsync.deadlines import academic_year_key, academic_year_of, default_terms
from gsync.errors import ConfigError

Phase = Literal["Y11", "Y13"]
AuthMode = Literal["local", "service_account", "oauth", "adc"]
AUTH_MODES: tuple[AuthMode, ...] = ("local", "service_account", "oauth", "adc")
PHASES: tuple[Phase, ...] = ("Y11", "Y13")
_TERM_FIELDS = (
    "autumn_start",
    "autumn_end",
    "spring_start",
    "spring_end",
    "summer_start",
    "summer_end",
)


@dataclass(frozen=True)
class SchoolEntry:
    """One school as `gsync init` takes it: short name, six-digit URN, leavers' phase."""

    name: str
    urn: str
    phase: Phase


@dataclass(frozen=True)
class InitOptions:
    """Everything `gsync init` needs to render a configuration."""

    trust: str
    schools: tuple[SchoolEntry, ...]
    auth: AuthMode = "local"
    credentials_file: str | None = None
    subject: str | None = None
    folder_id: str | None = None
    domains: tuple[str, ...] = field(default_factory=tuple)


def parse_phase(text: str) -> Phase:
    """`y11` / `Y13` / ` 11 ` -> "Y11" / "Y13"; ConfigError otherwise."""
    value = text.strip().upper()
    if value in ("11", "13"):
        value = "Y" + value
    if value == "Y11":
        return "Y11"
    if value == "Y13":
        return "Y13"
    raise ConfigError(
        f"Phase {text.strip()!r} is not Y11 or Y13.",
        fix="use Y11 for post-16 leavers or Y13 for post-18 leavers.",
    )


def parse_school_spec(text: str) -> SchoolEntry:
    """`"Name,URN,Y11"` -> SchoolEntry. Split from the right, so a name may contain commas."""
    parts = text.rsplit(",", 2)
    if len(parts) != 3:
        raise ConfigError(
            f"--school {text!r} is not NAME,URN,PHASE.",
            fix='write it as --school "Northfield,100001,Y11", or give --urn and --phase after it.',
        )
    name, urn, phase = (p.strip() for p in parts)
    return school_entry(name, urn, phase)


def school_entry(name: str, urn: str, phase: str) -> SchoolEntry:
    """A checked SchoolEntry (the same rules as gsync.toml: non-empty name, six-digit URN)."""
    name, urn = name.strip(), urn.strip()
    if not name:
        raise ConfigError("A school's name is empty.", fix="give each school a short name.")
    if not (len(urn) == 6 and urn.isascii() and urn.isdigit()):
        raise ConfigError(
            f"URN {urn!r} of school {name!r} is not six digits.",
            fix="use the school's six-digit Unique Reference Number (Get Information about Schools).",
        )
    return SchoolEntry(name=name, urn=urn, phase=parse_phase(phase))


def pair_schools(
    schools: tuple[str, ...], urns: tuple[str, ...], phases: tuple[str, ...]
) -> list[SchoolEntry]:
    """Schools from repeated `--school` options: each either `NAME,URN,PHASE`, or a bare name
    that takes the next `--urn` and `--phase` in order. Left-over or missing values are an error."""
    out: list[SchoolEntry] = []
    urn_iter, phase_iter = iter(urns), iter(phases)
    used_urns = used_phases = 0
    for raw in schools:
        if "," in raw:
            out.append(parse_school_spec(raw))
            continue
        urn = next(urn_iter, None)
        phase = next(phase_iter, None)
        if urn is None or phase is None:
            flag = "--urn" if urn is None else "--phase"
            raise ConfigError(
                f"School {raw.strip()!r} has no {flag}.",
                fix=f'give {flag} after --school "{raw.strip()}", or write --school "NAME,URN,PHASE".',
            )
        used_urns += 1
        used_phases += 1
        out.append(school_entry(raw, urn, phase))
    if len(urns) > used_urns or len(phases) > used_phases:
        raise ConfigError(
            "More --urn / --phase values than schools named by --school.",
            fix="give one --urn and one --phase for each bare --school NAME.",
        )
    return out


def term_years(today: dt.date) -> list[int]:
    """The academic years `gsync init` writes term dates for: the current one and the next."""
    current = academic_year_of(today)
    return [current, current + 1]


def _value(value: object) -> str:
    """A TOML value as text (tomlkit escapes strings the way TOML wants)."""
    return tomlkit.item(value).as_string()


def render_config(options: InitOptions, today: dt.date) -> str:
    """The commented `gsync.toml` text for `options` (not yet validated; see `build_config`)."""
    lines: list[str] = [
        f"# gsync configuration, written by `gsync init` on {today.isoformat()}.",
        "# Every key is described in the README (Configuration). `gsync doctor` checks this file,",
        "# the credentials and access to Google.",
        "",
        "[trust]",
        f"name = {_value(options.trust)}",
        "# spreadsheet_id is recorded by `gsync sheet init` (or `gsync init --create`).",
    ]
    if options.domains:
        lines.append(f"domains = {_value(list(options.domains))}")
    else:
        lines.append('# domains = ["example.sch.uk"]  # the schools\' email domains')
    lines.append("")
    lines.append(
        "# One [[schools]] table per school: name is what --school takes, urn the six-digit"
    )
    lines.append("# URN, phase Y11 (post-16 leavers) or Y13 (post-18 leavers).")
    for school in options.schools:
        lines += [
            "[[schools]]",
            f"name = {_value(school.name)}",
            f"urn = {_value(school.urn)}",
            f"phase = {_value(school.phase)}",
            "# form_id and form_questions are recorded by `gsync form create`.",
            '# careers_leader = ""  # named in Form B, the letter home',
            '# careers_email = ""',
            '# email_domain = "pupils.example.sch.uk"  # pupils\' school email domain',
            "",
        ]
    lines += [
        "# Term dates per academic year, used by the deadline rules (e.g. 'end of the 2nd week of",
        "# the autumn term'). THESE ARE DEFAULTS computed by gsync (autumn from the first Monday of",
        "# September, Easter break around Easter): check them against your local authority's (or",
        "# trust's) published term dates and correct them. Add a table for each new year.",
    ]
    for year in term_years(today):
        terms = default_terms(year)
        lines.append(f'[term_dates."{academic_year_key(year)}"]')
        for name in _TERM_FIELDS:
            day: dt.date = getattr(terms, name)
            lines.append(f"{name} = {day.isoformat()}")
        lines.append("")
    lines += [
        "[google]",
        "# auth: local (the embedded local workspace, no Google account), service_account (a key",
        "# file, optionally acting for `subject` by domain-wide delegation), oauth (one user signs",
        "# in with `gsync auth login`), adc (Application Default Credentials, e.g. Cloud Run).",
        f"auth = {_value(options.auth)}",
    ]
    if options.credentials_file:
        lines.append(f"credentials_file = {_value(options.credentials_file)}")
    elif options.auth == "service_account":
        lines.append("# credentials_file unset: $GOOGLE_APPLICATION_CREDENTIALS names the key.")
    if options.subject:
        lines.append(f"subject = {_value(options.subject)}")
    if options.folder_id:
        lines.append(f"folder_id = {_value(options.folder_id)}")
    else:
        lines.append('# folder_id = ""  # Drive folder or Shared Drive id for gsync\'s files')
    lines += [
        "",
        "[workspace]",
        '# Where the embedded local workspace keeps its state (google.auth = "local").',
        'state_dir = ".gsync/workspace"',
        "",
    ]
    return "\n".join(lines)


def build_config(
    options: InitOptions, today: dt.date, source: str = "gsync.toml"
) -> tuple[str, Config]:
    """Render and validate: (text, Config). ConfigError (naming key and fix) if invalid."""
    if not options.schools:
        raise ConfigError("No school given.", fix='add --school "NAME,URN,PHASE" (repeatable).')
    text = render_config(options, today)
    config = parse_config(tomllib.loads(text), source)
    return text, config


def write_config(path: Path, text: str, *, force: bool = False) -> None:
    """Write the file atomically; refuse to replace an existing one unless `force`."""
    if path.exists() and not force:
        raise ConfigError(
            f"{path} already exists; not overwriting it.",
            fix="pass --force to replace it, or --out PATH to write elsewhere.",
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".gsync-", suffix=".toml", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.chmod(tmp, 0o644)  # no secrets in it; readable like any config file
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
