"""School / trust configuration (`gsync.toml`), validated on load with errors naming file, key and fix."""

from __future__ import annotations

import datetime as dt
import itertools
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from gsync.errors import ConfigError
from gsync.validation import error_lines

DEFAULT_CONFIG = "gsync.toml"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TrustConfig(_Strict):
    """The trust (or the single school acting as its own trust)."""

    name: str = Field(min_length=1, description="Trust name, used in spreadsheet titles.")
    spreadsheet_id: str | None = Field(
        default=None,
        description="Id of the trust's 'CEIAG Metrics & Destinations' spreadsheet; "
        "`gsync sheet init` creates one and records it here.",
    )
    domains: list[str] = Field(
        default_factory=list,
        description="Email domains of the trust's schools (for `gsync audit` and matching).",
    )


class RoundFormConfig(_Strict):
    """A school's form for one pre-leaving survey round (issue 11); `gsync form create --round`."""

    form_id: str | None = Field(default=None, description="The round's Google Form id.")
    form_questions: dict[str, str] = Field(
        default_factory=dict, description="Spec key -> Google question id of the round's form."
    )


class SchoolConfig(_Strict):
    """One school of the trust."""

    name: str = Field(min_length=1, description="Short name used with `--school`.")
    urn: str = Field(pattern=r"^\d{6}$", description="The school's six-digit URN.")
    phase: Literal["Y11", "Y13"] = Field(
        description="Leavers' phase: Y11 (post-16) or Y13 (post-18)."
    )
    form_id: str | None = Field(
        default=None, description="Form A's id; `gsync form create` records it."
    )
    form_spec: str | None = Field(
        default=None, description="Form spec file; default: the shipped spec for the phase."
    )
    form_questions: dict[str, str] = Field(
        default_factory=dict,
        description="Spec key -> Google question id, recorded by `gsync form create`.",
    )
    spreadsheet_id: str | None = Field(
        default=None, description="The school's own spreadsheet, if it keeps one."
    )
    careers_leader: str | None = Field(default=None, description="Careers leader's name (Form B).")
    careers_email: str | None = Field(default=None, description="Careers leader's email (Form B).")
    email_domain: str | None = Field(
        default=None, description="Pupils' school email domain, e.g. 'pupils.example.sch.uk'."
    )
    rounds: dict[str, RoundFormConfig] = Field(
        default_factory=dict,
        description="Round key (deadlines.toml [[rounds]]) -> that round's form for this school.",
    )


class TermDates(_Strict):
    """One academic year's term dates (e.g. key "2025-26")."""

    autumn_start: dt.date = Field(description="First day of the autumn term.")
    autumn_end: dt.date = Field(description="Last day of the autumn term.")
    spring_start: dt.date = Field(description="First day of the spring term.")
    spring_end: dt.date = Field(description="Last day of the spring term.")
    summer_start: dt.date = Field(description="First day of the summer term.")
    summer_end: dt.date = Field(description="Last day of the summer term.")

    @model_validator(mode="after")
    def _ordered(self) -> TermDates:
        seq = [
            self.autumn_start,
            self.autumn_end,
            self.spring_start,
            self.spring_end,
            self.summer_start,
            self.summer_end,
        ]
        if any(b < a for a, b in itertools.pairwise(seq)):
            raise ValueError(
                "term dates must run autumn_start <= autumn_end <= spring_start ... <= summer_end"
            )
        return self


class GoogleConfig(_Strict):
    """How to reach Google. `auth = "local"` (the default) uses the embedded local workspace."""

    auth: Literal["local", "service_account", "oauth", "adc"] = Field(
        default="local",
        description="local: embedded workspace, no Google account; service_account: a key file; "
        "oauth: installed-app flow for one user; adc: Application Default Credentials.",
    )
    credentials_file: str | None = Field(
        default=None,
        description="Service-account key file (default: $GOOGLE_APPLICATION_CREDENTIALS) or OAuth "
        "client-secrets file.",
    )
    subject: str | None = Field(
        default=None, description="User to act as through domain-wide delegation (service account)."
    )
    token_file: str | None = Field(
        default=None,
        description="OAuth token cache (written mode 0600). Default: ~/.config/gsync/token.json",
    )
    folder_id: str | None = Field(
        default=None, description="Drive folder or Shared Drive id where gsync creates files."
    )


class WorkspaceConfig(_Strict):
    """The embedded local workspace (used when `google.auth = "local"`)."""

    state_dir: str = Field(
        default=".gsync/workspace",
        description="Where the local workspace keeps its state, relative to the config file.",
    )


class SpecsConfig(_Strict):
    """Paths of the spec files; empty means the shipped defaults."""

    template: str | None = None
    deadlines: str | None = None
    taxonomy: str | None = None
    suppression: str | None = None


class Config(_Strict):
    """The whole of `gsync.toml`."""

    trust: TrustConfig
    schools: list[SchoolConfig] = Field(min_length=1)
    term_dates: dict[str, TermDates] = Field(default_factory=dict)
    google: GoogleConfig = Field(default_factory=GoogleConfig)
    workspace: WorkspaceConfig = Field(default_factory=WorkspaceConfig)
    specs: SpecsConfig = Field(default_factory=SpecsConfig)
    path: Path | None = Field(default=None, exclude=True)

    @field_validator("schools")
    @classmethod
    def _unique_names(cls, schools: list[SchoolConfig]) -> list[SchoolConfig]:
        seen: set[str] = set()
        for school in schools:
            key = school.name.casefold()
            if key in seen:
                raise ValueError(f"two schools are named {school.name!r}; names must be unique")
            seen.add(key)
        return schools

    @field_validator("term_dates")
    @classmethod
    def _year_keys(cls, years: dict[str, TermDates]) -> dict[str, TermDates]:
        for key, terms in years.items():
            try:
                start, end = key.split("-")
                ok = len(start) == 4 and int(end) == (int(start) + 1) % 100 and len(end) == 2
            except ValueError:
                ok = False
            if not ok:
                raise ValueError(f"academic year key {key!r} must look like '2025-26'")
            if terms.autumn_start.year != int(key[:4]):
                raise ValueError(f"term_dates.{key}.autumn_start must fall in {key[:4]}")
        return years

    def school(self, name: str) -> SchoolConfig:
        """The school called `name` (case-insensitive), or a ConfigError listing the known names."""
        for school in self.schools:
            if school.name.casefold() == name.casefold():
                return school
        known = ", ".join(s.name for s in self.schools)
        raise ConfigError(
            f"No school named {name!r} in the configuration.",
            fix=f"use one of: {known}, or add a [[schools]] entry to {self.path or DEFAULT_CONFIG}.",
        )

    def resolve(self, relative: str) -> Path:
        """A path from the config, relative to the config file's folder."""
        p = Path(relative).expanduser()
        if p.is_absolute() or self.path is None:
            return p
        return self.path.parent / p


def parse_config(data: dict[str, Any], source: str = DEFAULT_CONFIG) -> Config:
    """Validate a config mapping; every error names the source, the key and the fix."""
    try:
        return Config.model_validate(data)
    except ValidationError as exc:
        lines = error_lines(exc, source)
        raise ConfigError(
            "Invalid configuration:\n  " + "\n  ".join(lines),
            fix=f"edit {source}; `gsync init` writes a valid starting file.",
        ) from None


def load_config(path: str | Path | None = None) -> Config:
    """Read and validate `gsync.toml` (or `path`)."""
    p = Path(path or DEFAULT_CONFIG)
    if not p.exists():
        raise ConfigError(
            f"Configuration file {p} not found.",
            fix="run `gsync init` to create one, or pass --config PATH.",
        )
    try:
        data = tomllib.loads(p.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{p}: not valid TOML: {exc}.", fix="correct the line named.") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{p}: not UTF-8 text.", fix="save the file as UTF-8.") from None
    config = parse_config(data, str(p))
    return config.model_copy(update={"path": p.resolve()})
