"""Destination values -> standard categories, with NCCIS activity codes and DfE headings.

The mapping is data (`sheets_templates/taxonomy.toml`), validated on load. Level 3 and
higher-education progression are derived from the category plus the entry's level of study
(seed 000 section 5: "progress to Level 3", "Higher Education (including degree apprenticeships)").
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from gsync.errors import SpecError
from gsync.paths import templates_dir
from gsync.validation import error_lines

TAXONOMY_FILE = "taxonomy.toml"

CATEGORY_KEYS = (
    "school_sixth_form",
    "sixth_form_college",
    "fe_college",
    "higher_education",
    "apprenticeship",
    "employment_with_training",
    "employment_without_training",
    "traineeship",
    "voluntary_work",
    "other_education_training",
    "neet",
    "unknown",
)
ApprenticeshipLevel = Literal["intermediate", "advanced", "higher", "degree"]
APPRENTICESHIP_LEVELS: tuple[str, ...] = ("intermediate", "advanced", "higher", "degree")
# Form A's level drop-down ("Entry level", "Level 1" .. "Level 8", "Not sure"): Level 3 and above.
_LEVEL3_PLUS = {f"Level {n}" for n in range(3, 9)}
# Pseudo-categories a Form A option may name: resolved through the file's defaults and rules.
_SIXTH_FORM = "sixth_form"
_OTHER = "other"
# Categories with no course of study: a level recorded against them is not "progressing to Level 3".
_NO_STUDY = {"employment_without_training", "voluntary_work", "neet", "unknown"}
_NCCIS_CODE = re.compile(r"^\s*(\d{3})\b")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CategorySpec(_Strict):
    """One standard category as written in the taxonomy file."""

    label: str = Field(min_length=1)
    nccis_codes: list[int] = Field(min_length=1)
    nccis_status: Literal["confirmed", "secondary", "unconfirmed"]
    dfe_heading: str = Field(min_length=1)
    kind: Literal["education", "apprenticeship", "employment", "training", "neet", "unknown"]
    higher_education: bool = False
    level3_plus: bool = False


class Mapping(_Strict):
    """A destination value's category (and, for apprenticeships, its level)."""

    category: str
    apprenticeship_level: ApprenticeshipLevel | None = None


class OtherRule(_Strict):
    """Words in an "Other (specify)" answer that place it in a category."""

    contains: list[str] = Field(min_length=1)
    category: str
    apprenticeship_level: ApprenticeshipLevel | None = None


class TaxonomySpec(_Strict):
    """The whole taxonomy file."""

    version: int
    sixth_form_default: Literal["school_sixth_form", "sixth_form_college"] = "school_sixth_form"
    other_default: str = "other_education_training"
    unknown_values: list[str] = Field(default_factory=lambda: ["", "Unknown"])
    categories: dict[str, CategorySpec]
    apprenticeship_levels: dict[str, ApprenticeshipLevel]
    form_options: dict[str, Mapping]
    staff_dropdown: dict[str, Mapping] = Field(min_length=1)
    other_rules: list[OtherRule] = Field(default_factory=list)

    @model_validator(mode="after")
    def _consistent(self) -> TaxonomySpec:
        missing = [k for k in CATEGORY_KEYS if k not in self.categories]
        extra = [k for k in self.categories if k not in CATEGORY_KEYS]
        if missing or extra:
            raise ValueError(
                f"categories must be exactly {', '.join(CATEGORY_KEYS)}"
                + (f"; missing {', '.join(missing)}" if missing else "")
                + (f"; unexpected {', '.join(extra)}" if extra else "")
            )
        seen: dict[int, str] = {}
        for key, cat in self.categories.items():
            for code in cat.nccis_codes:
                if code in seen:
                    raise ValueError(f"NCCIS code {code} is in both {seen[code]} and {key}")
                seen[code] = key
        if self.other_default not in self.categories:
            raise ValueError(f"other_default {self.other_default!r} is not a category")
        for section, table in (
            ("form_options", self.form_options),
            ("staff_dropdown", self.staff_dropdown),
        ):
            for value, m in table.items():
                allowed = set(self.categories) | (
                    {_SIXTH_FORM, _OTHER} if section == "form_options" else set()
                )
                if m.category not in allowed:
                    raise ValueError(f"{section}.{value!r}: unknown category {m.category!r}")
                if m.apprenticeship_level and m.category != "apprenticeship":
                    raise ValueError(
                        f"{section}.{value!r}: apprenticeship_level on a non-apprenticeship"
                    )
        for i, rule in enumerate(self.other_rules):
            if rule.category not in self.categories:
                raise ValueError(f"other_rules[{i}]: unknown category {rule.category!r}")
        return self


@dataclass(frozen=True)
class Category:
    """A destination placed in its standard category, with the flags summaries count by."""

    key: str
    label: str
    nccis_codes: tuple[int, ...]
    nccis_status: str
    dfe_heading: str
    kind: str
    apprenticeship_level: str = ""  # intermediate/advanced/higher/degree, "" if not known or n/a
    level3_plus: bool = False
    higher_education: bool = False


def is_level3_plus(category: Category) -> bool:
    """True when the destination is study or training at Level 3 or above (seed 000 section 5)."""
    return category.level3_plus


def is_higher_education(category: Category) -> bool:
    """True for higher education, degree apprenticeships included (seed 000 section 5)."""
    return category.higher_education


class Taxonomy:
    """A loaded taxonomy: categorise values, list the staff drop-down."""

    def __init__(self, spec: TaxonomySpec, source: str = TAXONOMY_FILE) -> None:
        self.spec = spec
        self.source = source
        self._by_code = {c: k for k, cat in spec.categories.items() for c in cat.nccis_codes}
        self._values: dict[str, Mapping] = {}
        for table in (spec.form_options, spec.staff_dropdown):
            for value, m in table.items():
                self._values[_norm(value)] = m
        self._unknown = {_norm(v) for v in spec.unknown_values}

    def categories(self) -> list[str]:
        """Category keys in the file's fixed order (the row order of every summary)."""
        return list(CATEGORY_KEYS)

    def label(self, key: str) -> str:
        """The display label of a category key."""
        return self.spec.categories[key].label

    def dropdown_values(self) -> list[str]:
        """The staff drop-down list for the E_destination columns, in display order."""
        return list(self.spec.staff_dropdown)

    def categorise(self, value: str, level: str = "", other: str = "") -> Category:
        """Place a destination value (Form A option, drop-down value, NCCIS code or "Other" text)."""
        text = value.strip()
        norm = _norm(text)
        if norm in self._unknown:
            return self._build("unknown", None, level)
        code = _NCCIS_CODE.match(text)
        if code and int(code.group(1)) in self._by_code:
            return self._build(self._by_code[int(code.group(1))], None, level)
        mapping = self._values.get(norm)
        if mapping is None:
            # A response's isOther answer arrives as the respondent's own text (ARCHITECTURE.md).
            return self._from_other(text, level)
        if mapping.category == _SIXTH_FORM:
            return self._build(self.spec.sixth_form_default, None, level)
        if mapping.category == _OTHER:
            return self._from_other(other, level)
        return self._build(mapping.category, mapping.apprenticeship_level, level)

    def _from_other(self, text: str, level: str) -> Category:
        lowered = text.casefold()
        for rule in self.spec.other_rules:
            if any(word.casefold() in lowered for word in rule.contains):
                return self._build(rule.category, rule.apprenticeship_level, level)
        return self._build(self.spec.other_default, None, level)

    def _build(self, key: str, appr_level: str | None, level: str) -> Category:
        spec = self.spec.categories[key]
        level = level.strip()
        a_level: str = ""
        if key == "apprenticeship":
            a_level = appr_level or str(self.spec.apprenticeship_levels.get(level, ""))
        level3 = spec.level3_plus or (
            a_level in ("advanced", "higher", "degree")
            if key == "apprenticeship"
            else level in _LEVEL3_PLUS and key not in _NO_STUDY
        )
        return Category(
            key=key,
            label=spec.label,
            nccis_codes=tuple(spec.nccis_codes),
            nccis_status=spec.nccis_status,
            dfe_heading=spec.dfe_heading,
            kind=spec.kind,
            apprenticeship_level=a_level,
            level3_plus=level3,
            higher_education=spec.higher_education or a_level == "degree",
        )


def _norm(value: str) -> str:
    return " ".join(value.split()).casefold()


def parse_taxonomy(data: dict[str, Any], source: str = TAXONOMY_FILE) -> Taxonomy:
    """Validate a parsed taxonomy file; errors name the file and the key."""
    try:
        spec = TaxonomySpec.model_validate(data)
    except ValidationError as exc:
        lines = error_lines(exc, source)
        raise SpecError(
            "Invalid destination taxonomy:\n  " + "\n  ".join(lines),
            fix=f"edit {source}; the shipped sheets_templates/{TAXONOMY_FILE} is a valid example.",
        ) from None
    return Taxonomy(spec, source)


def load_taxonomy(path: str | Path | None = None) -> Taxonomy:
    """Load the taxonomy file (default: the shipped one in gsync.paths.templates_dir())."""
    p = Path(path) if path is not None else templates_dir() / TAXONOMY_FILE
    if not p.is_file():
        raise SpecError(f"Taxonomy file {p} not found.", fix="pass an existing file.")
    try:
        data = tomllib.loads(p.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise SpecError(f"{p}: not valid TOML: {exc}.", fix="correct the line named.") from None
    return parse_taxonomy(data, str(p))
