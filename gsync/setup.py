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
    # Comments sit after each table's header, before its keys: tomlkit (config_edit.py) appends
    # recorded ids after a table's last line, so a comment there would end up above them.
    lines: list[str] = [
        f"# gsync configuration, written by `gsync init` on {today.isoformat()}.",
        "# Every key is described in the README (Configuration). `gsync doctor` checks this file,",
        "# the credentials and access to Google.",
        "",
        "[trust]",
        "# spreadsheet_id is recorded by `gsync sheet init` (or `gsync init --create`).",
    ]
    if not options.domains:
        lines.append('# domains = ["example.sch.uk"]  # the schools\' email domains')
    lines.append(f"name = {_value(options.trust)}")
    if options.domains:
        lines.append(f"domains = {_value(list(options.domains))}")
    lines.append("")
    for school in options.schools:
        lines += [
            "[[schools]]",
            "# name is what --school takes; urn the six-digit URN; phase Y11 (post-16 leavers) or",
            "# Y13 (post-18). form_id and form_questions are recorded by `gsync form create`.",
            '# Optional: careers_leader = "...", careers_email = "..." (named in Form B, the letter',
            '# home); email_domain = "pupils.example.sch.uk" (pupils\' school email domain).',
            f"name = {_value(school.name)}",
            f"urn = {_value(school.urn)}",
            f"phase = {_value(school.phase)}",
            "",
        ]
    for i, year in enumerate(term_years(today)):
        terms = default_terms(year)
        lines.append(f'[term_dates."{academic_year_key(year)}"]')
        if i == 0:
            lines += [
                "# Term dates per academic year, used by the deadline rules (e.g. 'end of the 2nd",
                "# week of the autumn term'). THESE ARE DEFAULTS computed by gsync (autumn from the",
                "# first Monday of September, Easter break around Easter): check them against your",
                "# local authority's (or trust's) published term dates and correct them. Add a table",
                "# for each new academic year.",
            ]
        for name in _TERM_FIELDS:
            day: dt.date = getattr(terms, name)
            lines.append(f"{name} = {day.isoformat()}")
        lines.append("")
    lines += [
        "[google]",
        "# auth: local (the embedded local workspace, no Google account), service_account (a key",
        "# file, optionally acting for `subject` by domain-wide delegation), oauth (one user signs",
        "# in with `gsync auth login`), adc (Application Default Credentials, e.g. Cloud Run).",
    ]
    if options.auth == "service_account" and not options.credentials_file:
        lines.append("# credentials_file unset: $GOOGLE_APPLICATION_CREDENTIALS names the key.")
    if not options.folder_id:
        lines.append('# folder_id = "..."  # Drive folder or Shared Drive id for gsync\'s files')
    lines.append(f"auth = {_value(options.auth)}")
    if options.credentials_file:
        lines.append(f"credentials_file = {_value(options.credentials_file)}")
    if options.subject:
        lines.append(f"subject = {_value(options.subject)}")
    if options.folder_id:
        lines.append(f"folder_id = {_value(options.folder_id)}")
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


# --- gsync auth login -----------------------------------------------------------------------------


@dataclass(frozen=True)
class LoginResult:
    """What `gsync auth login` did: where the token is, and whether a browser sign-in ran."""

    token_file: Path
    signed_in: bool
    permissions_fixed: bool


_NO_LOGIN = {
    "local": (
        'google.auth is "local": the embedded local workspace needs no sign-in.',
        'to work on Google as one user, set google.auth = "oauth" and google.credentials_file to '
        "an OAuth client (Desktop app) JSON file, then run `gsync auth login`.",
    ),
    "service_account": (
        'google.auth is "service_account": gsync uses the key file; there is nothing to sign in to.',
        'run `gsync doctor` to check the key; set google.auth = "oauth" to sign in as a user instead.',
    ),
    "adc": (
        'google.auth is "adc": Application Default Credentials come from the environment.',
        "run `gcloud auth application-default login --scopes=...` with the scopes listed in the "
        "README, or attach a service account where gsync runs.",
    ),
}


def token_path(config: Config) -> Path:
    """The OAuth token cache `google.token_file` names (default ~/.config/gsync/token.json)."""
    from gsync.google.auth import DEFAULT_TOKEN_FILE

    return config.resolve(config.google.token_file or str(DEFAULT_TOKEN_FILE)).expanduser()


def token_missing_scopes(path: Path, scopes: tuple[str, ...]) -> list[str]:
    """Scopes the cached token was not granted (all of them if it is unreadable).

    Read from the file itself: google-auth's `from_authorized_user_file(path, scopes)` reports
    the scopes asked for, not the ones granted, so it cannot tell.
    """
    import json

    try:
        granted = json.loads(path.read_text(encoding="utf-8")).get("scopes") or []
    except (OSError, ValueError, AttributeError):
        granted = []
    if isinstance(granted, str):
        granted = granted.split()
    return [s for s in scopes if s not in set(granted)]


def oauth_login(
    config: Config, *, force: bool = False, interactive: bool | None = None
) -> LoginResult:
    """Sign in with the OAuth installed-app flow and cache the token (mode 0600).

    A cached token that is valid and carries every scope is kept (its permissions tightened to
    0600 if needed) unless `force`. The browser flow needs a terminal: without one this raises
    AuthError rather than hanging a cron job. With `force` the old token is set aside and put
    back if the new sign-in fails.
    """
    import sys

    from gsync.errors import AuthError
    from gsync.google.auth import ALL_SCOPES, oauth_credentials

    mode = config.google.auth
    if mode != "oauth":
        message, fix = _NO_LOGIN[mode]
        raise ConfigError(message, fix=fix)
    path = token_path(config)
    fixed = False
    if path.exists() and os.stat(path).st_mode & 0o077:
        os.chmod(path, 0o600)
        fixed = True
    if path.exists() and not force and not token_missing_scopes(path, ALL_SCOPES):
        try:
            oauth_credentials(config, ALL_SCOPES, interactive=False)
            return LoginResult(token_file=path, signed_in=False, permissions_fixed=fixed)
        except AuthError:
            pass  # expired beyond refresh, or a scope is missing: sign in again below
    if interactive is None:
        interactive = sys.stdin.isatty()
    if not interactive:
        raise AuthError(
            "Signing in to Google needs a terminal and a browser; this run has no terminal.",
            fix="run `gsync auth login` once in a terminal as the user gsync acts for; later runs "
            "(the nightly job) reuse the cached token.",
        )
    backup = path.with_name(path.name + ".previous")
    moved = path.exists()
    if moved:
        os.replace(path, backup)
    try:
        oauth_credentials(config, ALL_SCOPES, interactive=True)
    except BaseException:
        if moved:
            os.replace(backup, path)
        raise
    if moved:
        backup.unlink(missing_ok=True)
    return LoginResult(token_file=path, signed_in=True, permissions_fixed=fixed)
