"""The trust spreadsheet template: `sheets_templates/ceiag.toml` validated into frozen dataclasses.

The template is the contract between `gsync sheet init` (which builds tabs, drop-downs and
protection from it) and the sync core (which reads and writes tabs by column key and respects each
column's owner). Errors name the file and the key path, e.g. `tabs[0].columns[3].type`.
"""

from __future__ import annotations

import hashlib
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from gsync.errors import SpecError
from gsync.paths import templates_dir

Owner = Literal["sync", "staff"]
ColumnType = Literal["text", "date", "flag", "send", "choice", "email", "phone", "int", "datetime"]

# The four entries per cohort (seed 003, docs/ARCHITECTURE.md) and the cells each one has.
ENTRIES: tuple[str, ...] = (
    "current_intended",
    "intended",
    "actual_unvalidated",
    "actual_validated",
)
ENTRY_FIELDS: tuple[str, ...] = (
    "destination",
    "other",
    "provider",
    "course",
    "level",
    "start_date",
    "source",
    "recorded",
    "validated",
)
TAXONOMY = "taxonomy"  # marker for `choices_from`: the shell resolves it with gsync.taxonomy
IMPLICIT_CHOICES: dict[str, tuple[str, ...]] = {"flag": ("Y", "N"), "send": ("K", "E", "N")}
TAB_KEYS: tuple[str, ...] = ("destinations", "responses", "contacts", "exceptions", "state")


@dataclass(frozen=True)
class Column:
    """One column: its stable key, header text, owner, type and allowed values."""

    key: str
    header: str
    owner: Owner
    type: ColumnType
    choices: tuple[str, ...] | None = None
    hidden: bool = False
    choices_from: str | None = None

    @property
    def allowed(self) -> tuple[str, ...] | None:
        """The drop-down values known without the taxonomy (flags and SEND have implicit ones)."""
        return self.choices if self.choices is not None else IMPLICIT_CHOICES.get(self.type)


@dataclass(frozen=True)
class Tab:
    """One tab: its key (used in code), title (shown in Sheets), columns and key columns."""

    key: str
    title: str
    columns: tuple[Column, ...]
    hidden: bool = False
    key_columns: tuple[str, ...] = ()

    @property
    def keys(self) -> list[str]:
        return [c.key for c in self.columns]

    def column(self, key: str) -> Column:
        for col in self.columns:
            if col.key == key:
                return col
        raise KeyError(key)

    def owned_by(self, owner: Owner) -> list[str]:
        return [c.key for c in self.columns if c.owner == owner]


@dataclass(frozen=True)
class Template:
    """The whole spreadsheet template."""

    version: int
    tabs: tuple[Tab, ...]

    def tab(self, key: str) -> Tab:
        for tab in self.tabs:
            if tab.key == key:
                return tab
        raise KeyError(f"the template has no tab with key {key!r}")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _ColumnSpec(_Strict):
    key: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    header: str = Field(min_length=1)
    owner: Owner
    type: ColumnType
    choices: list[str] | None = None
    choices_from: Literal["taxonomy"] | None = None
    hidden: bool = False

    @model_validator(mode="after")
    def _choices_fit_type(self) -> _ColumnSpec:
        if self.type == "choice" and self.choices is None and self.choices_from is None:
            raise ValueError("a choice column needs `choices` or `choices_from`")
        if self.type != "choice" and (self.choices is not None or self.choices_from is not None):
            raise ValueError(f"only choice columns take choices (this one is {self.type})")
        if self.choices is not None and self.choices_from is not None:
            raise ValueError("give `choices` or `choices_from`, not both")
        return self


class _TabSpec(_Strict):
    key: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    title: str = Field(min_length=1, max_length=100)
    key_columns: list[str] = Field(min_length=1)
    hidden: bool = False
    columns: list[_ColumnSpec] = Field(min_length=1)

    @model_validator(mode="after")
    def _columns_consistent(self) -> _TabSpec:
        keys = [c.key for c in self.columns]
        dupes = sorted({k for k in keys if keys.count(k) > 1})
        if dupes:
            raise ValueError(f"duplicate column keys: {', '.join(dupes)}")
        headers = [c.header.casefold() for c in self.columns]
        dup_headers = sorted({h for h in headers if headers.count(h) > 1})
        if dup_headers:
            raise ValueError(f"duplicate column headers: {', '.join(dup_headers)}")
        missing = [k for k in self.key_columns if k not in keys]
        if missing:
            raise ValueError(f"key_columns not among the columns: {', '.join(missing)}")
        return self


class _TemplateSpec(_Strict):
    version: int = Field(ge=1)
    tabs: list[_TabSpec] = Field(min_length=1)

    @model_validator(mode="after")
    def _tabs_consistent(self) -> _TemplateSpec:
        keys = [t.key for t in self.tabs]
        missing = [k for k in TAB_KEYS if k not in keys]
        if missing:
            raise ValueError(f"missing tabs: {', '.join(missing)}")
        if len(set(keys)) != len(keys):
            raise ValueError("duplicate tab keys")
        titles = [t.title for t in self.tabs]
        if len(set(titles)) != len(titles):
            raise ValueError("duplicate tab titles")
        dest = {c.key for c in self.tabs[keys.index("destinations")].columns}
        needed = {"upn", "leaving_year", "school", "sync_hash"} | {
            f"{e}_{f}" for e in ENTRIES for f in ENTRY_FIELDS
        }
        absent = sorted(needed - dest)
        if absent:
            raise ValueError(f"the destinations tab lacks columns: {', '.join(absent)}")
        return self


def _where(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"


def parse_template(data: dict[str, Any], source: str = "<template>") -> Template:
    """Validate a parsed TOML document into a Template; errors name `source` and the key path."""
    try:
        spec = _TemplateSpec.model_validate(data)
    except ValidationError as exc:
        lines = [f"{_where(err['loc'])}: {err['msg']}" for err in exc.errors()]
        raise SpecError(
            f"The sheet template {source} is invalid: " + "; ".join(lines) + ".",
            fix="correct those keys (see the comments at the top of the shipped ceiag.toml).",
        ) from None
    tabs = tuple(
        Tab(
            key=t.key,
            title=t.title,
            hidden=t.hidden,
            key_columns=tuple(t.key_columns),
            columns=tuple(
                Column(
                    key=c.key,
                    header=c.header,
                    owner=c.owner,
                    type=c.type,
                    choices=tuple(c.choices) if c.choices is not None else None,
                    hidden=c.hidden,
                    choices_from=c.choices_from,
                )
                for c in t.columns
            ),
        )
        for t in spec.tabs
    )
    return Template(version=spec.version, tabs=tabs)


def default_template_path() -> Path:
    return templates_dir() / "ceiag.toml"


def load_template(path: str | Path | None = None) -> Template:
    """Load and validate the template (default: the shipped `ceiag.toml`)."""
    file = Path(path) if path is not None else default_template_path()
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise SpecError(
            f"Cannot read the sheet template {file}: {exc.strerror or exc}.",
            fix="check the path (specs.sheet_template in gsync.toml).",
        ) from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise SpecError(
            f"The sheet template {file} is not valid TOML: {exc}.", fix="correct the syntax."
        ) from None
    return parse_template(data, str(file))


# --- sync_hash: detecting staff edits of sync-owned cells -------------------------------------------
#
# The Destinations tab's hidden `sync_hash` cell holds one short hash per group of sync-owned cells,
# as the sync last wrote them, e.g. "id=1a2b3c4d ct=5e6f7a8b in=9c0d1e2f". A group whose cells no
# longer hash to the recorded value was edited by staff: the sync leaves it alone (and the merge
# raises a conflict). A group whose cells are all blank may always be written (nothing to lose).

IDENTITY = "id"  # roster cells (besides the key): names, date of birth, email, phase, flags
CONTACT = "ct"  # consent, do_not_contact, personal_email, telephone
ENTRY_GROUP = {"current_intended": "ci", "intended": "in", "actual_unvalidated": "au"}
SYNC_ENTRY_FIELDS: tuple[str, ...] = tuple(f for f in ENTRY_FIELDS if f != "validated")
SUSTAINED = "sc"  # hash group of a Sustained row
SUSTAINED_TAB = "sustained"  # template key of the sustained-checks tab (optional in a template)
HASH_GROUPS: dict[str, tuple[str, ...]] = {
    IDENTITY: (
        "school",
        "legal_forename",
        "legal_surname",
        "preferred_forename",
        "preferred_surname",
        "date_of_birth",
        "school_email",
        "phase",
        "send",
        "disadvantaged",
        "eal",
        "looked_after",
    ),
    CONTACT: ("consent", "do_not_contact", "personal_email", "telephone"),
    **{g: tuple(f"{e}_{f}" for f in SYNC_ENTRY_FIELDS) for e, g in ENTRY_GROUP.items()},
    # A Sustained tab row's sync-written cells (the tab is long: one row per pupil per check).
    SUSTAINED: SYNC_ENTRY_FIELDS,
}


def values_hash(values: tuple[str, ...] | list[str]) -> str:
    """`group_hash` of a row whose group cells are `values` (text, in `HASH_GROUPS` order)."""
    return hashlib.blake2b("\x1f".join(values).encode("utf-8"), digest_size=4).hexdigest()


def parse_sync_hash(text: str) -> dict[str, str]:
    """`sync_hash` cell text -> {group: "hash" or "hash.source"}; anything unparsable is ignored."""
    out: dict[str, str] = {}
    for part in (text if type(text) is str else str(text or "")).split():
        group, sep, value = part.partition("=")
        if sep and group in HASH_GROUPS:
            out[group] = value
    return out


def format_sync_hash(hashes: dict[str, str]) -> str:
    return " ".join([f"{g}={hashes[g]}" for g in HASH_GROUPS if g in hashes])


def group_hash(row: dict[str, str], group: str) -> str:
    return values_hash([str(row.get(c, "") or "") for c in HASH_GROUPS[group]])


def group_state(row: dict[str, str], group: str) -> Literal["empty", "synced", "edited"]:
    """Whether a row's group of cells is blank, as the sync wrote it, or edited by staff since."""
    if all(not str(row.get(c, "") or "") for c in HASH_GROUPS[group]):
        return "empty"
    recorded = parse_sync_hash(row.get("sync_hash", "")).get(group, "").partition(".")[0]
    return "synced" if recorded == group_hash(row, group) else "edited"


def group_source(row: dict[str, str], group: str) -> str:
    """The source token recorded with the group's hash (which submission the sync last wrote)."""
    return parse_sync_hash(row.get("sync_hash", "")).get(group, "").partition(".")[2]


def set_group_hash(row: dict[str, str], group: str, source: str = "") -> None:
    """Record (in place) that the sync has just written this group's cells as they now are.

    `source` (letters and digits) names what the cells came from, e.g. a short digest of the
    Form A submission, so a later run can tell a newer submission from the one staff corrected.
    """
    hashes = parse_sync_hash(row.get("sync_hash", ""))
    value = group_hash(row, group)
    hashes[group] = f"{value}.{source}" if source else value
    row["sync_hash"] = format_sync_hash(hashes)
