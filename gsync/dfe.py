"""DfE destination measures beside gsync's own figures for the same cohort (pure core).

The DfE publishes school-level destination measures (explore-education-statistics.service.gov.uk,
"Key stage 4 destination measures" and "16-18 destination measures", institution-level data files;
the variable names and their meanings below are those of the files' data guidance, e.g. the
2017/18 and 2020/21 releases: overall, education, fe, ssf, sfc, other_edu, he, appren, appl2, appl3,
all_work, all_notsust, all_unknown). Staff type the published percentages into the DfE measures
tab or import the DfE's CSV; the sync puts gsync's percentage for the same cohort and definition
beside each and flags differences.

gsync's figure counts each pupil's most advanced actual destination (validated, else unvalidated)
as a share of the cohort on the Destinations tab. The DfE counts *sustained* participation (two
terms) from matched national data, so some difference is expected; a large one is worth a look.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from gsync.errors import DataError
from gsync.roster import RowProblem, _decode, _delimiter
from gsync.taxonomy import Category, Taxonomy

_EDUCATION = {
    "school_sixth_form",
    "sixth_form_college",
    "fe_college",
    "higher_education",
    "other_education_training",
    "traineeship",
}
_WORK = {"employment_with_training", "employment_without_training", "voluntary_work"}

# DfE variable -> (label, which gsync categories count towards it). Traineeships and voluntary work
# follow the taxonomy's `dfe_heading` (other education; employment).
MEASURES: dict[str, tuple[str, Callable[[Category], bool]]] = {
    "overall": (
        "Sustained education, employment & apprenticeships",
        lambda c: c.key in _EDUCATION | _WORK | {"apprenticeship"},
    ),
    "education": ("Sustained education destination", lambda c: c.key in _EDUCATION),
    "fe": ("Further education", lambda c: c.key == "fe_college"),
    "ssf": ("School sixth form", lambda c: c.key == "school_sixth_form"),
    "sfc": ("Sixth form college", lambda c: c.key == "sixth_form_college"),
    "other_edu": (
        "Other education destination",
        lambda c: c.key in {"other_education_training", "traineeship"},
    ),
    "he": ("Higher education", lambda c: c.key == "higher_education"),
    "appren": ("Sustained apprenticeships", lambda c: c.key == "apprenticeship"),
    "appl2": (
        "Intermediate apprenticeships (level 2)",
        lambda c: c.key == "apprenticeship" and c.apprenticeship_level == "intermediate",
    ),
    "appl3": (
        "Advanced and Higher apprenticeships (level 3 and above)",
        lambda c: (
            c.key == "apprenticeship" and c.apprenticeship_level in ("advanced", "higher", "degree")
        ),
    ),
    "all_work": ("Sustained employment destination", lambda c: c.key in _WORK),
    "all_notsust": ("Not recorded as a sustained destination", lambda c: c.key == "neet"),
    "all_unknown": ("Activity not captured", lambda c: c.key == "unknown"),
}
ACTUAL_ENTRIES = ("actual_validated", "actual_unvalidated")
DEFAULT_THRESHOLD = 5.0  # percentage points

# The DfE measures tab's columns (template keys, sheets_templates/ceiag.toml).
DFE_COLUMNS: tuple[str, ...] = (
    "school",
    "leaving_year",
    "measure",
    "dfe_percent",
    "measure_label",
    "gsync_percent",
    "gsync_count",
    "cohort",
    "difference",
    "flag",
    "note",
)


def _t(value: object) -> str:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return ""
    return str(value).strip()


def best_actual(pupil: Mapping[str, str], taxonomy: Taxonomy) -> Category:
    """The pupil's validated actual destination, else the unvalidated one, else unknown."""
    cat = taxonomy.categorise("")
    for entry in ACTUAL_ENTRIES:
        cat = taxonomy.categorise(
            _t(pupil.get(f"{entry}_destination")),
            _t(pupil.get(f"{entry}_level")),
            _t(pupil.get(f"{entry}_other")),
        )
        if cat.key != "unknown":
            return cat
    return cat


def gsync_measures(
    destinations: pd.DataFrame, taxonomy: Taxonomy, *, school: str, leaving_year: str
) -> tuple[dict[str, int], int]:
    """Pupils counted under each DfE measure for one cohort, and the cohort size."""
    pupils = [
        {str(k): _t(v) for k, v in r.items()}
        for r in destinations.to_dict("records")
        if _t(r.get("school")) == school and _t(r.get("leaving_year")) == leaving_year
    ]
    cats = [best_actual(p, taxonomy) for p in pupils]
    counts = {m: sum(1 for c in cats if test(c)) for m, (_label, test) in MEASURES.items()}
    return counts, len(pupils)


def parse_percent(text: str) -> float | None:
    """'36.1', '36.1%', ' 36 ' -> float; DfE's symbols (c, z, x, ~, low) and blanks -> None."""
    value = text.strip().rstrip("%").strip()
    if not value or value.casefold() in {"c", "z", "x", "~", "low", "u", ":"}:
        return None
    try:
        number = float(value)
    except ValueError:
        raise ValueError("not a percentage") from None
    if not 0.0 <= number <= 100.0:
        raise ValueError("a percentage must be between 0 and 100")
    return number


def compare_frame(
    existing: pd.DataFrame,
    destinations: pd.DataFrame,
    taxonomy: Taxonomy,
    *,
    threshold: float = DEFAULT_THRESHOLD,
) -> pd.DataFrame:
    """Fill gsync's figures beside each DfE row (rows and staff cells kept, none added)."""
    columns = list(existing.columns)
    columns += [c for c in DFE_COLUMNS if c not in columns]
    rows = [{c: _t(r.get(c, "")) for c in columns} for r in existing.to_dict("records")]
    cache: dict[tuple[str, str], tuple[dict[str, int], int]] = {}
    for row in rows:
        measure = row.get("measure", "").casefold()
        cohort_key = (row.get("school", ""), row.get("leaving_year", ""))
        if measure not in MEASURES or not all(cohort_key):
            row.update(
                measure_label="",
                gsync_percent="",
                gsync_count="",
                cohort="",
                difference="",
                flag="unknown measure" if row.get("measure") else "",
            )
            continue
        if cohort_key not in cache:
            cache[cohort_key] = gsync_measures(
                destinations, taxonomy, school=cohort_key[0], leaving_year=cohort_key[1]
            )
        counts, size = cache[cohort_key]
        ours = round(100.0 * counts[measure] / size, 1) if size else None
        try:
            theirs = parse_percent(row.get("dfe_percent", ""))
        except ValueError:
            theirs = None
        diff = round(ours - theirs, 1) if ours is not None and theirs is not None else None
        flag = ""
        if size == 0:
            flag = "no pupils of this cohort in Destinations"
        elif diff is not None and abs(diff) > threshold:
            flag = f"differs by more than {threshold:g} points"
        row.update(
            measure_label=MEASURES[measure][0],
            gsync_percent=f"{ours:.1f}" if ours is not None else "",
            gsync_count=str(counts[measure]),
            cohort=str(size),
            difference=f"{diff:+.1f}" if diff is not None else "",
            flag=flag,
        )
    return pd.DataFrame(rows, columns=columns, dtype=object)


# --- the DfE's CSV -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DfeResult:
    """Published percentages read from a DfE file: (measure -> percent text), problems."""

    values: dict[str, str]
    errors: list[RowProblem] = field(default_factory=list)
    rows_used: int = 0


def _norm(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.casefold())


def read_dfe_csv(
    path_or_bytes: str | Path | bytes,
    *,
    urn: str,
    time_period: str | None = None,
) -> DfeResult:
    """The school's whole-cohort percentages from a DfE institution-level CSV.

    Wide layout (one column per DfE variable; rows filtered on school_urn, and where present
    breakdown "Total", data_type "Percentage", and `time_period`) or long layout (columns
    `measure` and `percent`/`value`, optionally `school_urn`).
    """
    data = path_or_bytes if isinstance(path_or_bytes, bytes) else Path(path_or_bytes).read_bytes()
    text = _decode(data)
    rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text)))
    header = [_norm(h) for h in rows[0]] if rows else []
    col = {h: i for i, h in reversed(list(enumerate(header)))}

    def get(raw: Sequence[str], name: str) -> str:
        i = col.get(name)
        return raw[i].strip() if i is not None and i < len(raw) else ""

    def wanted(raw: Sequence[str]) -> bool:
        for name in ("schoolurn", "urn"):
            if name in col:
                return get(raw, name) == urn
        return True

    def whole_cohort(raw: Sequence[str]) -> bool:
        if "breakdown" in col and get(raw, "breakdown").casefold() not in ("total", ""):
            return False
        if "datatype" in col and "percent" not in get(raw, "datatype").casefold():
            return False
        return not (time_period and "timeperiod" in col and get(raw, "timeperiod") != time_period)

    values: dict[str, str] = {}
    errors: list[RowProblem] = []
    used = 0
    long = "measure" in col and ("percent" in col or "value" in col)
    by_norm = {_norm(m): m for m in MEASURES}  # headers are compared without "_"
    wide = [m for m in MEASURES if _norm(m) in col]
    if not long and not wide:
        raise DataError(
            "The DfE file has neither measure columns (" + ", ".join(MEASURES) + ") nor "
            "'measure' and 'percent' columns.",
            fix="download the institution-level data file of the destination measures release.",
        )
    for offset, raw in enumerate(rows[1:]):
        row_no = offset + 2
        if not any(c.strip() for c in raw) or not wanted(raw) or not whole_cohort(raw):
            continue
        used += 1
        pairs = (
            [
                (
                    by_norm.get(_norm(get(raw, "measure")), ""),
                    get(raw, "percent") or get(raw, "value"),
                )
            ]
            if long
            else [(m, get(raw, _norm(m))) for m in wide]
        )
        for measure, value in pairs:
            if measure not in MEASURES:
                errors.append(RowProblem(row_no, "measure", "not a DfE destination measure"))
                continue
            try:
                parsed = parse_percent(value)
            except ValueError as exc:
                errors.append(RowProblem(row_no, measure, str(exc)))
                continue
            values[measure] = "" if parsed is None else f"{parsed:g}"
    return DfeResult(values=values, errors=errors, rows_used=used)


def upsert_dfe(
    existing: pd.DataFrame, values: Mapping[str, str], *, school: str, leaving_year: str
) -> pd.DataFrame:
    """Set the DfE percentages of one cohort in the DfE measures tab (rows updated or appended)."""
    columns = list(existing.columns)
    columns += [c for c in DFE_COLUMNS if c not in columns]
    rows = [{c: _t(r.get(c, "")) for c in columns} for r in existing.to_dict("records")]
    at = {(r["school"], r["leaving_year"], r["measure"].casefold()): i for i, r in enumerate(rows)}
    for measure in MEASURES:
        if measure not in values:
            continue
        key = (school, leaving_year, measure)
        if key in at:
            rows[at[key]]["dfe_percent"] = values[measure]
        else:
            row = dict.fromkeys(columns, "")
            row.update(
                school=school,
                leaving_year=leaving_year,
                measure=measure,
                dfe_percent=values[measure],
            )
            at[key] = len(rows)
            rows.append(row)
    return pd.DataFrame(rows, columns=columns, dtype=object)
