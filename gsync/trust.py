"""Summary tabs, the Compliance tab and trust aggregation across the schools' own spreadsheets.

Three entry points, all shells around pure code in `gsync.summary` / `gsync.disclosure`:

- `write_summary_tabs(plan, config, destinations)`: called by the sync inside its one atomic
  write; adds `Summary - <school>` per school and `Summary - Trust`, each with one chart.
- `export_website(ws, config, ...)`: `gsync summary export`, one read of the trust spreadsheet,
  the same suppressed tables as the Summary tabs, written as CSV or HTML plus an SVG chart.
- `aggregate_trust(ws, config, ...)`: `gsync trust aggregate`, one read per school spreadsheet and
  of the trust spreadsheet, one atomic write of `Trust summary` and `Compliance`.

Every summary passes the disclosure checker before anything is written (DisclosureError, exit 8).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import pandas as pd

from gsync import deadlines
from gsync.batchgc import batch_job
from gsync.config import Config
from gsync.disclosure import SuppressionPolicy, assert_publishable, load_policy
from gsync.errors import AuthError, ConfigError, NotFoundError
from gsync.export import export_summary, tables_from_rows
from gsync.sheetio import Snapshot, WritePlan, apply_plan, read_snapshot, tab_frame
from gsync.summary import (
    DATA_HEADER,
    ENTRIES,
    SUMMARY_TAB_PREFIX,
    chart_block,
    chart_spec,
    summary_tabs,
)
from gsync.summary import vocabulary as summary_vocabulary
from gsync.taxonomy import Taxonomy, load_taxonomy
from gsync.trustsheet import state_formatting
from gsync.workspace import Workspace

log = logging.getLogger("gsync.trust")

TRUST_SUMMARY_TAB = "Trust summary"
COMPLIANCE_TAB = "Compliance"
COMPLIANCE_COLUMNS = [
    "school",
    "leaving_year",
    "phase",
    "entry",
    "label",
    "due",
    "complete",
    "total",
    "percent",
    "state",
    "source",
]
SOURCE_OWN = "school spreadsheet"
SOURCE_TRUST = "trust spreadsheet"
NOT_READ = "not_read"

# Columns a school's own Destinations tab must have (template keys): what the summaries and the
# deadline states read. Identity columns beyond `upn` are not needed and not required.
REQUIRED_COLUMNS = (
    "upn",
    "leaving_year",
    "phase",
    "send",
    "disadvantaged",
    "eal",
    "looked_after",
    *(
        f"{e}_{suffix}"
        for e in ENTRIES
        for suffix in ("destination", "other", "level", "source", "recorded", "validated")
    ),
)

# A chart is anchored to the right of the long table (table + TABLE_COLUMNS), so it covers no data.
CHART_ANCHOR_COL = len(DATA_HEADER) + 1

Rows = list[list[Any]]


def load_specs(config: Config) -> tuple[Taxonomy, SuppressionPolicy]:
    """The taxonomy and the suppression policy named in the config (default: the shipped ones)."""
    tax_path = config.resolve(config.specs.taxonomy) if config.specs.taxonomy else None
    pol_path = config.resolve(config.specs.suppression) if config.specs.suppression else None
    return load_taxonomy(tax_path), load_policy(pol_path)


# --- charts ---------------------------------------------------------------------------------------


def snapshot_charts(snapshot: Snapshot) -> Mapping[str, int]:
    """Charts per tab title, read with the snapshot (lets the sync put back a deleted chart)."""
    return snapshot.charts


def plan_tabs_with_charts(
    plan: WritePlan, tabs: Mapping[str, Sequence[Sequence[Any]]], *, chart_title: str | None = None
) -> list[str]:
    """Add each sync-owned tab to the plan (no request when unchanged) and its chart when needed.

    A chart is added when the tab is new, or when the snapshot knows the tab's charts and it has
    none (deleted by hand). Never a second chart: an idle run makes no request. Returns the tab
    titles that got a chart.
    """
    known = snapshot_charts(plan.snapshot)
    charted: list[str] = []
    for title, rows in tabs.items():
        existed = plan.snapshot.has(title)
        plan.replace_tab(title, rows)
        has_chart = existed and known.get(title, 0) > 0
        if has_chart:
            continue
        start, end, c0, c1 = chart_block(rows)
        if end - start < 2 or c1 - c0 < 2:
            continue  # no category rows or no cohort column: nothing to draw
        spec = chart_spec(
            plan.sheet_id(title),
            start_row=start,
            end_row=end,
            start_col=c0,
            end_col=c1,
            title=f"{title.removeprefix(SUMMARY_TAB_PREFIX)}: {rows[0][0]}"
            if chart_title is None
            else chart_title,
            anchor_col=CHART_ANCHOR_COL,
        )
        plan.extend([spec], change=f"add chart to '{title}'")
        charted.append(title)
    return charted


# --- the sync's summary tabs -------------------------------------------------------------------


def write_summary_tabs(
    plan: WritePlan,
    config: Config,
    destinations: pd.DataFrame,
    *,
    intentions: pd.DataFrame | None = None,
    applications: pd.DataFrame | None = None,
    rules: deadlines.Rules | None = None,
) -> list[str]:
    """Plan `Summary - <school>` tabs and `Summary - Trust` for the sync's atomic write.

    Suppressed and disclosure-checked first: a breach raises DisclosureError and the sync writes
    nothing. Figures carry no timestamp, so an unchanged Destinations tab means no request.
    With the Intentions / Applications frames and the rules, the tabs carry the survey rounds'
    figures too (gsync.summary._round_tables, through summary_tabs). Returns the tab titles.
    """
    taxonomy, policy = load_specs(config)
    tabs = summary_tabs(
        destinations,
        taxonomy,
        policy,
        intentions=intentions,
        applications=applications,
        rounds=rules.rounds if rules is not None else (),
    )
    plan_tabs_with_charts(plan, tabs)
    return list(tabs)


# --- reading a spreadsheet with its charts -----------------------------------------------------


class Unreadable(Exception):
    """A school spreadsheet that cannot be aggregated, with a reason fit for a report."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def read_charted(ws: Workspace, spreadsheet_id: str, what: str) -> Snapshot:
    """`sheetio.read_snapshot` (values, properties and chart counts of every tab, one request),
    with a missing (404) or unshared (403) spreadsheet raised as Unreadable for the report."""
    try:
        return read_snapshot(ws, spreadsheet_id, what)
    except NotFoundError:
        raise Unreadable("spreadsheet not found (404): deleted, or the id is wrong") from None
    except AuthError as exc:
        if "permission denied" in exc.message:
            raise Unreadable("not shared with gsync (403 permission denied)") from None
        raise


def school_destinations(snapshot: Snapshot, template: Any, school: str) -> pd.DataFrame:
    """A school spreadsheet's Destinations rows (template layout), labelled with the school.

    Raises Unreadable naming the missing tab or columns (a broken layout).
    """
    tab = template.tab("destinations")
    if not snapshot.has(tab.title):
        raise Unreadable(f"broken layout: no '{tab.title}' tab (deleted or renamed)")
    frame = tab_frame(snapshot, tab)
    missing = [c for c in REQUIRED_COLUMNS if c in frame.missing]
    if missing:
        shown = ", ".join(missing[:6]) + (" ..." if len(missing) > 6 else "")
        raise Unreadable(
            f"broken layout: the '{tab.title}' tab lacks {len(missing)} column(s): {shown}"
        )
    out = frame.frame.copy()
    out["school"] = school
    return out


# --- trust aggregation -------------------------------------------------------------------------


@dataclass
class AggregateReport:
    """What `gsync trust aggregate` did (counts only; no personal data)."""

    schools: dict[str, dict[str, Any]] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)
    tabs: list[str] = field(default_factory=list)
    written: bool = False
    dry_run: bool = False
    requests: int = 0
    changes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "schools": self.schools,
            "skipped": self.skipped,
            "tabs": self.tabs,
            "written": self.written,
            "dry_run": self.dry_run,
            "write_requests": self.requests,
            "changes": self.changes,
        }


def _school_mask(frame: pd.DataFrame, school: str) -> pd.Series:
    if "school" not in frame.columns:
        return pd.Series(False, index=frame.index)
    return frame["school"].astype(str).str.strip().str.casefold() == school.casefold()


def combine(trust_rows: pd.DataFrame, own: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """Trust pupil rows plus each school's own rows; a school's own row wins on (upn, leaving_year).

    A school's own spreadsheet is its record: where both hold a pupil, its row replaces the trust
    spreadsheet's; pupils only the trust spreadsheet holds are kept (nothing is dropped).
    """
    parts: list[pd.DataFrame] = []
    rest = trust_rows
    for school, rows in own.items():
        mask = _school_mask(rest, school)
        theirs = rest[mask]
        rest = rest[~mask]
        keys = set(zip(rows["upn"].astype(str), rows["leaving_year"].astype(str), strict=True))
        keep = [
            (u, y) not in keys or not u
            for u, y in zip(
                theirs["upn"].astype(str), theirs["leaving_year"].astype(str), strict=True
            )
        ]
        parts += [rows, theirs[keep]]
    parts.insert(0, rest)
    combined = pd.concat([p for p in parts if len(p.columns)], ignore_index=True)
    return combined.fillna("").astype(str)


def compliance_rows(
    destinations: pd.DataFrame,
    rules: deadlines.Rules,
    term_dates: Mapping[str, Any],
    as_of: dt.date,
    sources: Mapping[str, str],
    skipped: Mapping[str, str],
) -> Rows:
    """The Compliance tab: school x cohort x entry with due date, completion and deadline state.

    `sources`: where each school's rows came from; skipped schools with no rows get one line
    saying why they were not read. No `days_left` column: it changes daily, and an idle run
    must not rewrite the tab.
    """
    status = deadlines.entry_status(destinations, rules, term_dates, as_of)
    tab = deadlines.deadlines_tab(status)
    if not tab.empty:
        tab = tab.sort_values(["school", "leaving_year", "phase"], kind="stable")
        order = {k: i for i, k in enumerate(rules.keys)}
        tab = tab.assign(_o=tab["entry"].map(order)).sort_values(
            ["school", "leaving_year", "phase", "_o"], kind="stable"
        )
    rows: Rows = [list(COMPLIANCE_COLUMNS)]
    for record in tab.to_dict("records"):
        school = str(record["school"])
        source = sources.get(school, SOURCE_TRUST)
        if school in skipped:
            source = f"{SOURCE_TRUST} (own spreadsheet not read: {skipped[school]})"
        rows.append([record[c] for c in COMPLIANCE_COLUMNS[:-1]] + [source])
    present = set(tab["school"]) if not tab.empty else set()
    for school, reason in skipped.items():
        if school not in present:
            rows.append([school, "", "", "", "", "", "", "", "", NOT_READ, reason])
    return rows


def plan_aggregate(
    ws: Workspace,
    config: Config,
    plan: WritePlan,
    trust_rows: pd.DataFrame,
    as_of: dt.date,
    report: AggregateReport,
) -> None:
    """Read each school's own spreadsheet (one request each) and plan `Trust summary` and
    `Compliance` into `plan` (the trust spreadsheet's write). Unreadable schools are skipped and
    reported; the summary is disclosure-checked (DisclosureError before anything is written).

    Used by `gsync trust aggregate` and, inside the same atomic write, by the nightly sync.
    """
    from gsync.sync import load_rules, load_template

    template = load_template(config)
    rules = load_rules(config)
    taxonomy, policy = load_specs(config)
    trust_id = plan.snapshot.spreadsheet_id
    own: dict[str, pd.DataFrame] = {}
    sources: dict[str, str] = {}
    for school in config.schools:
        if not school.spreadsheet_id:
            continue
        if school.spreadsheet_id == trust_id:
            raise ConfigError(
                f"{school.name}'s spreadsheet_id is the trust spreadsheet's.",
                fix="leave schools.spreadsheet_id empty for schools that work in the trust spreadsheet.",
            )
        try:
            snap = read_charted(ws, school.spreadsheet_id, f"Reading {school.name}'s spreadsheet")
            own[school.name] = school_destinations(snap, template, school.name)
            sources[school.name] = SOURCE_OWN
        except Unreadable as exc:
            report.skipped[school.name] = exc.reason
            log.warning("%s: spreadsheet skipped (%s)", school.name, exc.reason)
    combined = combine(trust_rows, own)
    for school in config.schools:
        n = int(_school_mask(combined, school.name).sum())
        report.schools[school.name] = {
            "pupils": n,
            "source": sources.get(school.name, SOURCE_TRUST),
        }

    tabs = summary_tabs(combined, taxonomy, policy)  # raises DisclosureError on any breach
    trust_tab = tabs.get(SUMMARY_TAB_PREFIX + "Trust")
    if trust_tab is None and len(tabs) == 1:
        trust_tab = next(iter(tabs.values()))  # one school with pupils: it is the trust
    out: dict[str, Rows] = {}
    if trust_tab is not None:
        out[TRUST_SUMMARY_TAB] = [list(r) for r in trust_tab]
    plan_tabs_with_charts(plan, out, chart_title="Trust: destinations by cohort (% of all pupils)")
    compliance = compliance_rows(combined, rules, config.term_dates, as_of, sources, report.skipped)
    if plan.replace_tab(COMPLIANCE_TAB, compliance) and not plan.snapshot.has(COMPLIANCE_TAB):
        plan.extend(state_formatting(plan.sheet_id(COMPLIANCE_TAB), compliance[0]), None)
    report.tabs = [*out, COMPLIANCE_TAB]


@batch_job
def aggregate_trust(
    ws: Workspace,
    config: Config,
    *,
    dry_run: bool = False,
    now: dt.datetime | None = None,
) -> AggregateReport:
    """Read every school's own spreadsheet and the trust's; write `Trust summary` and `Compliance`.

    One read per school spreadsheet (a missing, unshared or broken one is skipped with its reason),
    one read and at most one atomic write of the trust spreadsheet. The summary is disclosure-
    checked before the write (DisclosureError, exit 8, nothing written).
    """
    from gsync.sync import (
        check_template,
        load_rules,
        load_template,
        new_state,
        pupil_frame,
        trust_spreadsheet_id,
    )

    now = now or dt.datetime.now(dt.UTC)
    as_of = now.date()
    template = load_template(config)
    report = AggregateReport(dry_run=dry_run)

    trust_id = trust_spreadsheet_id(config)
    try:
        trust_snap = read_charted(ws, trust_id, "Reading the trust spreadsheet")
    except Unreadable as exc:
        raise NotFoundError(
            f"The trust spreadsheet cannot be read: {exc.reason}.",
            fix="check trust.spreadsheet_id in gsync.toml, or run `gsync sheet init`.",
        ) from None
    check_template(trust_snap, template)
    trust_rows = pupil_frame(trust_snap, template.tab("destinations")).frame
    sustained = template.tab("sustained")
    if trust_snap.has(sustained.title):  # the years 1-3 checks, as the sync reads them
        trust_rows = deadlines.with_sustained(
            trust_rows, pupil_frame(trust_snap, sustained).frame, load_rules(config)
        )
    plan = WritePlan(trust_snap)
    plan_aggregate(ws, config, plan, trust_rows, as_of, report)
    report.requests = len(plan.requests)
    report.changes = list(plan.changes)
    if not dry_run and not plan.is_empty:
        apply_plan(ws, plan, new_state(trust_snap, template, now))
        report.written = True
    return report


# --- website export ----------------------------------------------------------------------------


@dataclass
class ExportReport:
    files: list[Path]
    schools: list[str]
    fmt: str

    def as_dict(self) -> dict[str, Any]:
        return {"files": [str(p) for p in self.files], "schools": self.schools, "format": self.fmt}


def export_website(
    ws: Workspace,
    config: Config,
    out_dir: Path,
    *,
    school: str | None = None,
    fmt: Literal["csv", "html"] = "csv",
) -> ExportReport:
    """Write the anonymised tables and chart for a school website from one read of the trust sheet.

    The tables are exactly the Summary tabs' (the same suppression over the whole trust), so no
    combination of the website and the tabs reveals more than the tabs. They are checked against
    the pupil rows before any file is written.
    """
    from gsync.sync import check_template, load_template, pupil_frame, trust_spreadsheet_id

    template = load_template(config)
    taxonomy, policy = load_specs(config)
    snapshot = read_charted(ws, trust_spreadsheet_id(config), "Reading the trust spreadsheet")
    check_template(snapshot, template)
    destinations = pupil_frame(snapshot, template.tab("destinations")).frame
    tabs = summary_tabs(destinations, taxonomy, policy)  # DisclosureError before any file
    if school is not None:
        name = config.school(school).name
        title = SUMMARY_TAB_PREFIX + name
        if title not in tabs:
            raise NotFoundError(
                f"{name} has no pupils in the trust spreadsheet's Destinations tab yet.",
                fix=f"import its roster (`gsync roster import FILE --school {name}`) and run `gsync sync`.",
            )
        chosen = {title: tabs[title]}
    else:
        chosen = tabs
    per_kind: dict[str, list[pd.DataFrame]] = {}
    for rows in chosen.values():
        for kind, table in tables_from_rows(rows).items():
            per_kind.setdefault(kind, []).append(table)
    tables = {k: pd.concat(v, ignore_index=True) for k, v in per_kind.items()}
    words = [*summary_vocabulary(taxonomy), *(t.removeprefix(SUMMARY_TAB_PREFIX) for t in chosen)]
    assert_publishable(tables, policy, destinations, vocabulary=words)
    names = [t.removeprefix(SUMMARY_TAB_PREFIX) for t in chosen]
    heading = (
        f"{names[0]}: leavers' destinations"
        if len(names) == 1
        else (f"{config.trust.name}: leavers' destinations")
    )
    files = export_summary(tables, out_dir, fmt, title=heading, policy=policy)
    return ExportReport(files=files, schools=names, fmt=fmt)
