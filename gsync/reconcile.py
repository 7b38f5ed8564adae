"""The school's records beside the local authority's: verdicts, and the accept step (pure core).

For every pupil of a cohort the LA has sent data for, the Reconciliation tab shows the school's
record (the most advanced post-leaving entry with a known destination: actual validated, actual
unvalidated, intended) beside the LA's, with a verdict: agree; disagree (with how); only the
school has one; only the LA has one; neither. Staff accept an LA destination with the tab's
drop-down; the next sync fills the pupil's validated entry from it with source "LA" (seed 000
section 4: the LA's sustained-destination data is checked against the school's known destinations).

`plan_reconciliation` is the sync's hook: it runs inside the nightly job's one atomic write.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd

from gsync.la import MATCHED
from gsync.taxonomy import Category, Taxonomy

log = logging.getLogger("gsync.reconcile")

ACCEPT = "Accept LA destination"
AGREE, DISAGREE = "agree", "disagree"
ONLY_SCHOOL, ONLY_LA, NEITHER = "only the school", "only the LA", "neither"
VERDICTS = (AGREE, DISAGREE, ONLY_SCHOOL, ONLY_LA, NEITHER)
APPLIED = "applied"
NOT_APPLIED_FILLED = "not applied: the validated entry is already filled"
NOT_APPLIED_NO_LA = "not applied: the LA has no destination for this pupil"
VALIDATED = "actual_validated"
# Post-leaving entries, most advanced first: the school's record is the first with a destination.
SCHOOL_ENTRIES = ("actual_validated", "actual_unvalidated", "intended")
VALIDATED_COLUMNS = tuple(
    f"{VALIDATED}_{f}"
    for f in (
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
)
PLACEHOLDER_SOURCE = "unknown (3 attempts)"  # gsync.contacts: three attempts, then unknown
LEVELS = {"Entry level", *(f"Level {n}" for n in range(1, 9)), "Not sure"}

# The Reconciliation tab's columns (template keys, sheets_templates/ceiag.toml).
RECON_COLUMNS: tuple[str, ...] = (
    "school",
    "upn",
    "leaving_year",
    "name",
    "school_entry",
    "school_destination",
    "school_category",
    "la_code",
    "la_activity",
    "la_category",
    "la_provider",
    "verdict",
    "difference",
    "accept",
    "accept_status",
    "note",
)


def _t(value: object) -> str:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return ""
    return str(value).strip()


def _records(frame: pd.DataFrame) -> list[dict[str, str]]:
    return [{str(k): _t(v) for k, v in r.items()} for r in frame.to_dict("records")]


@dataclass(frozen=True)
class SchoolRecord:
    """The school's best post-leaving destination for one pupil ("" entry when none)."""

    entry: str
    value: str
    category: Category | None


def school_record(pupil: Mapping[str, str], taxonomy: Taxonomy) -> SchoolRecord:
    """The most advanced post-leaving entry holding a known destination."""
    for entry in SCHOOL_ENTRIES:
        value = _t(pupil.get(f"{entry}_destination"))
        cat = taxonomy.categorise(
            value, _t(pupil.get(f"{entry}_level")), _t(pupil.get(f"{entry}_other"))
        )
        if cat.key != "unknown":
            return SchoolRecord(entry, value, cat)
    return SchoolRecord("", "", None)


def la_category(la_row: Mapping[str, str], taxonomy: Taxonomy) -> Category | None:
    """The LA row's category (None for NCCIS 'not known' codes or no row)."""
    code = _t(la_row.get("activity_code"))
    if not code:
        return None
    cat = taxonomy.categorise(code, _t(la_row.get("level")))
    return None if cat.key == "unknown" else cat


def verdict(school: Category | None, la: Category | None) -> tuple[str, str]:
    """(verdict, how they differ) for the school's and the LA's categories; labels only."""
    if school is None and la is None:
        return NEITHER, ""
    if la is None:
        return ONLY_SCHOOL, ""
    if school is None:
        return ONLY_LA, ""
    if school.key != la.key:
        return DISAGREE, f"school: {school.label}; LA: {la.label}"
    if (
        school.key == "apprenticeship"
        and school.apprenticeship_level
        and la.apprenticeship_level
        and school.apprenticeship_level != la.apprenticeship_level
    ):
        return (
            DISAGREE,
            f"apprenticeship level - school: {school.apprenticeship_level}; "
            f"LA: {la.apprenticeship_level}",
        )
    return AGREE, ""


def dropdown_value(category: Category, taxonomy: Taxonomy) -> str:
    """The staff drop-down value for a category (its apprenticeship level when known)."""
    fallback = ""
    for value, mapping in taxonomy.spec.staff_dropdown.items():
        if mapping.category != category.key:
            continue
        if (mapping.apprenticeship_level or "") == category.apprenticeship_level:
            return value
        if not fallback and not mapping.apprenticeship_level:
            fallback = value
    return fallback or category.label


def la_entry(la_row: Mapping[str, str], category: Category, taxonomy: Taxonomy) -> dict[str, str]:
    """The validated entry's cells filled from an LA row (source "LA", validated "Y")."""
    code, desc = _t(la_row.get("activity_code")), _t(la_row.get("activity_description"))
    level = _t(la_row.get("level"))
    return {
        f"{VALIDATED}_destination": dropdown_value(category, taxonomy),
        f"{VALIDATED}_other": f"NCCIS {code} {desc}".strip(),
        f"{VALIDATED}_provider": _t(la_row.get("provider")),
        f"{VALIDATED}_course": _t(la_row.get("course")),
        f"{VALIDATED}_level": level if level in LEVELS else "",
        f"{VALIDATED}_start_date": _t(la_row.get("start_date")),
        f"{VALIDATED}_source": "LA",
        f"{VALIDATED}_validated": "Y",
    }


def used_la_rows(la_data: pd.DataFrame) -> dict[tuple[str, str, str], dict[str, str]]:
    """(school, upn, leaving_year) -> the LA row used for that pupil (matched, not superseded)."""
    out: dict[tuple[str, str, str], dict[str, str]] = {}
    for r in _records(la_data):
        if r.get("match_status") == MATCHED and r.get("upn"):
            out[(r["school"], r["upn"], r["leaving_year"])] = r
    return out


def apply_accepted(
    destinations: pd.DataFrame,
    reconciliation: pd.DataFrame,
    la_data: pd.DataFrame,
    taxonomy: Taxonomy,
    as_of: dt.date,
) -> tuple[pd.DataFrame, dict[tuple[str, str, str], str]]:
    """Fill the validated entry of every pupil whose LA destination staff accepted.

    Only an empty validated entry (or the three-attempts placeholder) is filled, so nothing staff
    recorded is overwritten. Returns the new frame and each accepted pupil's accept status.
    """
    result = destinations.copy()
    for col in VALIDATED_COLUMNS:
        if col not in result.columns:
            result[col] = ""
    la = used_la_rows(la_data)
    index = {
        (_t(s), _t(u), _t(y)): i
        for i, (s, u, y) in enumerate(
            zip(result["school"], result["upn"], result["leaving_year"], strict=True)
        )
    }
    statuses: dict[tuple[str, str, str], str] = {}
    for row in _records(reconciliation):
        if row.get("accept", "").casefold() != ACCEPT.casefold():
            continue
        key = (row.get("school", ""), row.get("upn", ""), row.get("leaving_year", ""))
        pos = index.get(key)
        if pos is None:
            continue
        la_row = la.get(key)
        cat = la_category(la_row, taxonomy) if la_row else None
        if la_row is None or cat is None:
            statuses[key] = NOT_APPLIED_NO_LA
            continue
        label = result.index[pos]
        filled = la_entry(la_row, cat, taxonomy)
        current = {c: _t(result.at[label, c]) for c in VALIDATED_COLUMNS}
        if all(current[c] == v for c, v in filled.items()):
            statuses[key] = APPLIED  # filled by an earlier run
            continue
        placeholder = current[f"{VALIDATED}_source"] == PLACEHOLDER_SOURCE
        if current[f"{VALIDATED}_destination"] and not placeholder:
            statuses[key] = NOT_APPLIED_FILLED
            continue
        for col, value in {**filled, f"{VALIDATED}_recorded": as_of.isoformat()}.items():
            result.at[label, col] = value
        statuses[key] = APPLIED
    return result, statuses


def reconcile_frame(
    existing: pd.DataFrame,
    destinations: pd.DataFrame,
    la_data: pd.DataFrame,
    taxonomy: Taxonomy,
    statuses: Mapping[tuple[str, str, str], str] | None = None,
) -> pd.DataFrame:
    """The Reconciliation tab: one row per pupil of every cohort the LA sent data for.

    Existing rows keep their place and their staff cells (accept, note); new pupils are appended
    in Destinations order; rows are never removed. `statuses` come from `apply_accepted`.
    """
    statuses = statuses or {}
    la = used_la_rows(la_data)
    cohorts = {(r["school"], r["leaving_year"]) for r in _records(la_data) if r.get("school")}
    columns = list(existing.columns)
    columns += [c for c in RECON_COLUMNS if c not in columns]
    rows = [{c: _t(r.get(c, "")) for c in columns} for r in _records(existing)]
    at = {(r["school"], r["upn"], r["leaving_year"]): i for i, r in enumerate(rows)}
    for pupil in _records(destinations):
        key = (pupil.get("school", ""), pupil.get("upn", ""), pupil.get("leaving_year", ""))
        if not key[1] or (key[0], key[2]) not in cohorts:
            continue
        if key in at:
            row = rows[at[key]]
        else:
            row = dict.fromkeys(columns, "")
            at[key] = len(rows)
            rows.append(row)
        la_row = la.get(key, {})
        school = school_record(pupil, taxonomy)
        la_cat = la_category(la_row, taxonomy) if la_row else None
        v, how = verdict(school.category, la_cat)
        forename = pupil.get("preferred_forename") or pupil.get("legal_forename", "")
        row.update(
            {
                "school": key[0],
                "upn": key[1],
                "leaving_year": key[2],
                "name": f"{forename} {pupil.get('legal_surname', '')}".strip(),
                "school_entry": school.entry,
                "school_destination": school.value,
                "school_category": school.category.label if school.category else "",
                "la_code": la_row.get("activity_code", ""),
                "la_activity": la_row.get("activity_description", ""),
                "la_category": la_cat.label if la_cat else la_row.get("category", ""),
                "la_provider": la_row.get("provider", ""),
                "verdict": v,
                "difference": how,
                "accept_status": statuses.get(key, "")
                if row.get("accept", "").casefold() == ACCEPT.casefold()
                else "",
            }
        )
    return pd.DataFrame(rows, columns=columns, dtype=object)


def verdict_counts(reconciliation: pd.DataFrame) -> dict[tuple[str, str], dict[str, int]]:
    """(school, leaving_year) -> pupils per verdict (the summaries' reconciliation figures)."""
    out: dict[tuple[str, str], dict[str, int]] = {}
    for r in _records(reconciliation):
        if r.get("verdict") not in VERDICTS:
            continue
        counts = out.setdefault((r["school"], r["leaving_year"]), dict.fromkeys(VERDICTS, 0))
        counts[r["verdict"]] += 1
    return out


# --- the sync's hook (inside its one atomic write) ----------------------------------------------------


def plan_reconciliation(
    plan: Any,
    snapshot: Any,
    template: Any,
    taxonomy: Taxonomy,
    current_destinations: Any,
    destinations: pd.DataFrame,
    as_of: dt.date,
) -> pd.DataFrame:
    """Apply accepted LA destinations and rewrite the Reconciliation tab, in the sync's plan.

    `current_destinations` is the Destinations TabFrame as read; `destinations` the merged frame.
    The validated entry's cells (staff-owned) are written only where an accepted LA destination
    filled them. Returns the merged frame with those cells filled (for the derived tabs).
    A template without the LA data / Reconciliation tabs leaves everything as it was.
    """
    from gsync.sheetio import tab_frame

    keys = {t.key for t in template.tabs}
    if not {"la_data", "reconciliation"} <= keys:
        return destinations
    titles = (template.tab("la_data").title, template.tab("reconciliation").title)
    if not all(snapshot.has(t) for t in titles):
        # A spreadsheet made before these tabs existed: `gsync sheet init` adds them; sync on.
        log.warning("The LA data / Reconciliation tabs are missing: run `gsync sheet init`.")
        return destinations
    la_data = tab_frame(snapshot, template.tab("la_data")).frame
    recon = tab_frame(snapshot, template.tab("reconciliation"))
    if la_data.empty and recon.frame.empty:
        return destinations
    merged, statuses = apply_accepted(destinations, recon.frame, la_data, taxonomy, as_of)
    # Write only the accepted cells: start from the sheet as read and copy them across.
    read = current_destinations.frame
    filled = read.copy()
    at = {
        (_t(s), _t(u), _t(y)): i
        for i, (s, u, y) in enumerate(
            zip(merged["school"], merged["upn"], merged["leaving_year"], strict=True)
        )
    }
    for pos, (s, u, y) in enumerate(
        zip(read["school"], read["upn"], read["leaving_year"], strict=True)
    ):
        key = (_t(s), _t(u), _t(y))
        if statuses.get(key) != APPLIED or key not in at:
            continue
        src = merged.index[at[key]]
        for col in VALIDATED_COLUMNS:
            if col in filled.columns:
                filled.at[filled.index[pos], col] = merged.at[src, col]
    plan.update_frame(current_destinations, filled, writable=set(VALIDATED_COLUMNS))
    new_recon = reconcile_frame(recon.frame, merged, la_data, taxonomy, statuses)
    owned = {c.key for c in template.tab("reconciliation").columns if c.owner == "sync"}
    plan.update_frame(recon, new_recon, writable=owned)
    merged.attrs["reconciliation"] = new_recon
    return merged


RECON_SUMMARY_TAB = "Reconciliation summary"


def plan_outside_data(
    plan: Any,
    snapshot: Any,
    template: Any,
    taxonomy: Taxonomy,
    policy: Any,
    current_destinations: Any,
    destinations: pd.DataFrame,
    as_of: dt.date,
) -> pd.DataFrame:
    """The sync's one hook for issue 9: accepted LA destinations, Reconciliation, DfE measures,
    and the suppressed reconciliation figures (share of each cohort where school and LA agree).

    Returns the Destinations frame with accepted LA destinations filled in.
    """
    from gsync.dfe import compare_frame
    from gsync.disclosure import apply_suppression, assert_publishable, table_records
    from gsync.sheetio import tab_frame
    from gsync.summary import DATA_HEADER, reconciliation_table

    merged = plan_reconciliation(
        plan, snapshot, template, taxonomy, current_destinations, destinations, as_of
    )
    keys = {t.key for t in template.tabs}
    if "dfe_measures" in keys and snapshot.has(template.tab("dfe_measures").title):
        tab = template.tab("dfe_measures")
        dfe = tab_frame(snapshot, tab)
        if not dfe.frame.empty:
            owned = {c.key for c in tab.columns if c.owner == "sync"}
            plan.update_frame(dfe, compare_frame(dfe.frame, merged, taxonomy), writable=owned)
    recon = merged.attrs.pop("reconciliation", None)
    counts = verdict_counts(recon) if recon is not None else {}
    if counts:
        table = apply_suppression(reconciliation_table(counts, VERDICTS), policy)
        words = [*VERDICTS, "Total", "All pupils", *{k[0] for k in counts}]
        assert_publishable({"reconciliation": table}, policy, merged, vocabulary=words)
        rows: list[list[Any]] = [list(DATA_HEADER)]
        rows += [["reconciliation", *(r[c] for c in DATA_HEADER[1:])] for r in table_records(table)]
        plan.replace_tab(RECON_SUMMARY_TAB, rows)
    return merged
