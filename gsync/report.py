"""`gsync report`: the governors' / senior leaders' report, one self-contained HTML file.

Built from the same suppressed, disclosure-checked tables as the Summary tabs and the website export
(`gsync.summary.summary_tabs`, checked again with `assert_publishable` before anything is written),
plus the deadline states `gsync status` shows. Every figure in the report is either a published
cell or a function of published cells only: where an input is suppressed, the derived figure is
shown with the suppression symbol too, so the report never reveals more than the tables do.

Charts are inline SVG written here (as in `gsync.export`): one file, no scripts, no network, prints
to PDF from any browser (A4 print styles below). No PDF is written by gsync itself: the only
well-kept HTML-to-PDF libraries (WeasyPrint, xhtml2pdf) need native libraries or a heavy stack
that a school's server may not have, and a browser's "Save as PDF" gives the same page.
"""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from gsync import deadlines
from gsync.config import Config
from gsync.disclosure import ALL_GROUP, TOTAL, TRUST_SCHOOL, SuppressionPolicy, assert_publishable
from gsync.export import tables_from_rows
from gsync.summary import (
    APPR_YES,
    ENTRIES,
    HE_YES,
    LEVEL3_YES,
    SUMMARY_TAB_PREFIX,
    group_labels,
    summary_tabs,
)
from gsync.summary import vocabulary as summary_vocabulary
from gsync.taxonomy import Taxonomy
from gsync.workspace import Workspace

# How each entry reads in a governor's report (deadlines.toml holds the long labels).
ENTRY_STAGE = {
    "current_intended": "intended destination, before leaving",
    "intended": "intended destination, after leaving",
    "actual_unvalidated": "actual destination, not yet validated",
    "actual_validated": "actual destination, validated",
}
EET = "In education, employment or training"
LEVEL3 = "Studying at Level 3 or above"
APPRENTICESHIP = "Apprenticeship"
HIGHER_EDUCATION = "Higher education"
NOT_KNOWN = "Destination not known"
MEASURES = (EET, LEVEL3, APPRENTICESHIP, HIGHER_EDUCATION, NOT_KNOWN)
# Compliance: deadlines already passed, and those due within this many days, are shown.
LOOKAHEAD_DAYS = 62

PALETTE = ("#1b4f72", "#e67e22", "#27ae60", "#8e44ad", "#c0392b", "#7f8c8d")
STATE_COLOUR = {
    "complete": "#2e7d32",
    "completed_late": "#ef6c00",
    "overdue": "#c62828",
    "due_soon": "#f9a825",
    "upcoming": "#607d8b",
}
STATE_WORDS = {
    "complete": "met",
    "completed_late": "met late",
    "overdue": "overdue",
    "due_soon": "due soon",
    "upcoming": "upcoming",
}

Figure = float | str  # a percentage, or a suppression symbol


@dataclass
class ReportData:
    """Everything the report shows; no pupil-level value (tables are suppressed and checked)."""

    trust: str
    as_of: dt.date
    tables: dict[str, pd.DataFrame]  # summary kind -> suppressed long table (TABLE_COLUMNS)
    status: pd.DataFrame  # deadlines.STATUS_COLUMNS
    policy: SuppressionPolicy
    neet_label: str
    unknown_label: str
    schools: list[str] = field(default_factory=list)  # as in the tables (TRUST_SCHOOL last)


@dataclass
class ReportResult:
    """What `gsync report` wrote (no personal data)."""

    path: Path
    schools: list[str]
    cohorts: list[str]
    overdue: int
    as_of: dt.date

    def as_dict(self) -> dict[str, Any]:
        return {
            "path": str(self.path),
            "schools": self.schools,
            "cohorts": self.cohorts,
            "overdue": self.overdue,
            "as_of": self.as_of.isoformat(),
        }


# --- figures -----------------------------------------------------------------------------------


def _num(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and value == value


def collect(
    destinations: pd.DataFrame,
    pupils: pd.DataFrame,
    taxonomy: Taxonomy,
    policy: SuppressionPolicy,
    rules: deadlines.Rules,
    term_dates: Mapping[str, Any],
    as_of: dt.date,
    trust: str,
) -> ReportData:
    """The report's figures: the Summary tabs' tables (checked again) and the deadline states.

    `destinations`: the Destinations frame; `pupils`: the same with the Sustained tab's checks
    folded in (what `gsync status` counts). Raises DisclosureError before anything is written.
    """
    tabs = summary_tabs(destinations, taxonomy, policy)
    per_kind: dict[str, list[pd.DataFrame]] = {}
    for rows in tabs.values():
        for kind, table in tables_from_rows(rows).items():
            per_kind.setdefault(kind, []).append(table)
    tables = {k: pd.concat(v, ignore_index=True) for k, v in per_kind.items()}
    words = [*summary_vocabulary(taxonomy), *(t.removeprefix(SUMMARY_TAB_PREFIX) for t in tabs)]
    assert_publishable(tables, policy, destinations, vocabulary=words)
    status = deadlines.entry_status(pupils, rules, term_dates, as_of)
    return ReportData(
        trust=trust,
        as_of=as_of,
        tables=tables,
        status=status,
        policy=policy,
        neet_label=taxonomy.label("neet"),
        unknown_label=taxonomy.label("unknown"),
        schools=[t.removeprefix(SUMMARY_TAB_PREFIX) for t in tabs],
    )


def _cell(
    table: pd.DataFrame, school: str, cohort: str, entry: str, group: str, category: str
) -> tuple[object, object]:
    sel = table[
        (table["school"] == school)
        & (table["cohort"] == cohort)
        & (table["entry"] == entry)
        & (table["group"] == group)
        & (table["category"] == category)
    ]
    if sel.empty:
        return "", ""
    return sel["count"].iloc[0], sel["percent"].iloc[0]


def cohorts(data: ReportData, school: str) -> list[str]:
    """The school's cohorts ("2025 Y11"), oldest first."""
    table = data.tables["destinations"]
    return sorted(set(table[table["school"] == school]["cohort"]))


def latest_entry(data: ReportData, school: str, cohort: str) -> str | None:
    """The cohort's headline stage: the most advanced entry holding at least half as many known
    destinations as its best-filled entry (None: nothing known yet).

    A handful of early answers in a new window (say, three pupils' intended destinations in
    August) do not replace a well-filled earlier stage. Read from published cells only: when the
    'not known' count is withheld, the published known categories give a lower bound.
    """
    table = data.tables["destinations"]
    sel = table[
        (table["school"] == school) & (table["cohort"] == cohort) & (table["group"] == ALL_GROUP)
    ]
    known: dict[str, float] = {}
    maybe: list[str] = []  # entries whose figures are all withheld but not all 'not known'
    for entry in ENTRIES:
        rows = sel[sel["entry"] == entry]
        counts = dict(zip(rows["category"], rows["count"], strict=True))
        total, unknown = counts.get(TOTAL, ""), counts.get(data.unknown_label, "")
        if not _num(total) or float(total) == 0:
            continue
        if _num(unknown):
            n = float(total) - float(unknown)
        else:
            n = sum(
                float(v)
                for k, v in counts.items()
                if k not in (TOTAL, data.unknown_label) and _num(v)
            )
            if n == 0:
                maybe.append(entry)
        if n > 0:
            known[entry] = n
    if not known:
        return maybe[-1] if maybe else None
    best = max(known.values())
    return next(e for e in reversed(ENTRIES) if known.get(e, 0.0) >= best / 2)


def _rounded(value: float, policy: SuppressionPolicy) -> float:
    return round(value, policy.percent_decimals) + 0.0


def measures(
    data: ReportData, school: str, cohort: str, entry: str, group: str = ALL_GROUP
) -> dict[str, Figure]:
    """The headline measures for one school x cohort x entry x group, from published cells only.

    "In education, employment or training" is the total less NEET and not known: shown only when
    all three counts are published (else the suppression symbol), so it adds nothing to the tables.
    """
    t = data.tables
    sym = data.policy.symbol
    total, _ = _cell(t["destinations"], school, cohort, entry, group, TOTAL)
    neet, _ = _cell(t["destinations"], school, cohort, entry, group, data.neet_label)
    unknown, unknown_pct = _cell(
        t["destinations"], school, cohort, entry, group, data.unknown_label
    )
    out: dict[str, Figure] = {}
    if _num(total) and _num(neet) and _num(unknown) and float(total) > 0:  # type: ignore[arg-type]
        eet = float(total) - float(neet) - float(unknown)  # type: ignore[arg-type]
        out[EET] = _rounded(100.0 * eet / float(total), data.policy)  # type: ignore[arg-type]
    else:
        out[EET] = sym
    for label, kind, category in (
        (LEVEL3, "level3", LEVEL3_YES),
        (APPRENTICESHIP, "apprenticeship", APPR_YES),
        (HIGHER_EDUCATION, "higher_education", HE_YES),
    ):
        _, pct = _cell(t[kind], school, cohort, entry, group, category)
        out[label] = float(pct) if _num(pct) else (str(pct) or sym)  # type: ignore[arg-type]
    out[NOT_KNOWN] = float(unknown_pct) if _num(unknown_pct) else (str(unknown_pct) or sym)  # type: ignore[arg-type]
    return out


def school_name(data: ReportData, school: str) -> str:
    return f"{data.trust} (all schools)" if school == TRUST_SCHOOL else school


def compliance_rows(data: ReportData, school: str | None = None) -> pd.DataFrame:
    """Deadlines passed by `as_of` or due within LOOKAHEAD_DAYS, soonest due last-passed first."""
    status = data.status
    if status.empty:
        return status
    horizon = data.as_of + dt.timedelta(days=LOOKAHEAD_DAYS)
    sel = status[status["due"] <= horizon]
    if school is not None:
        sel = sel[sel["school"] == school]
    return sel.sort_values(["school", "due", "leaving_year"], kind="stable").reset_index(drop=True)


# --- charts --------------------------------------------------------------------------------------


def _fmt(value: Figure) -> str:
    return f"{value:g}%" if isinstance(value, float) else str(value)


def bars_svg(
    title: str,
    categories: Sequence[str],
    series: Sequence[str],
    values: Mapping[tuple[str, str], Figure],
    *,
    note: str = "",
) -> str:
    """Horizontal grouped bars (0-100%): one group per category, one bar per series.

    A suppressed value is drawn as no bar with its symbol, so a reader sees it was withheld.
    """
    e = html.escape
    label_w, bar_w, bar_h, gap = 250, 380, 14, 12
    legend_rows = (len(series) + 1) // 2
    top = 34 + 18 * legend_rows
    block = bar_h * max(len(series), 1) + gap
    width = label_w + bar_w + 60
    height = top + block * len(categories) + 24
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="{e(title)}">',
        f"<title>{e(title)}</title>",
        f'<text class="ct" x="0" y="16">{e(title)}</text>',
    ]
    for i, name in enumerate(series):
        x = (i % 2) * 330
        y = 28 + (i // 2) * 18
        out.append(
            f'<rect x="{x}" y="{y}" width="12" height="12" rx="2" fill="{PALETTE[i % len(PALETTE)]}"/>'
        )
        out.append(f'<text x="{x + 18}" y="{y + 10}">{e(name)}</text>')
    for tick in (0, 25, 50, 75, 100):
        tx = label_w + bar_w * tick / 100
        out.append(
            f'<line x1="{tx:.0f}" y1="{top - 4}" x2="{tx:.0f}" y2="{height - 20}" class="grid"/>'
        )
        out.append(f'<text class="tick" x="{tx:.0f}" y="{height - 6}">{tick}%</text>')
    for ci, category in enumerate(categories):
        y0 = top + ci * block
        mid = y0 + (bar_h * len(series)) / 2 + 4
        out.append(f'<text x="{label_w - 8}" y="{mid:.0f}" text-anchor="end">{e(category)}</text>')
        for si, name in enumerate(series):
            y = y0 + si * bar_h
            value = values.get((category, name), "")
            colour = PALETTE[si % len(PALETTE)]
            if isinstance(value, float):
                w = bar_w * max(0.0, min(value, 100.0)) / 100
                out.append(
                    f'<rect x="{label_w}" y="{y}" width="{w:.1f}" height="{bar_h - 3}" fill="{colour}"/>'
                )
                out.append(
                    f'<text class="v" x="{label_w + w + 4:.1f}" y="{y + bar_h - 4}">{_fmt(value)}</text>'
                )
            elif value:
                out.append(
                    f'<text class="v" x="{label_w + 4}" y="{y + bar_h - 4}">{e(str(value))}</text>'
                )
    if note:
        out.append(f"<desc>{e(note)}</desc>")
    out.append("</svg>")
    return "\n".join(out)


def compliance_svg(title: str, rows: pd.DataFrame) -> str:
    """One bar per deadline: % of the cohort complete, coloured by state, with the due date."""
    e = html.escape
    label_w, bar_w, row_h = 330, 260, 24
    height = 30 + row_h * len(rows) + 10
    width = label_w + bar_w + 190
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="{e(title)}">',
        f"<title>{e(title)}</title>",
        f'<text class="ct" x="0" y="16">{e(title)}</text>',
    ]
    for i, r in enumerate(rows.to_dict("records")):
        y = 28 + i * row_h
        state = str(r["state"])
        colour = STATE_COLOUR.get(state, "#607d8b")
        label = f"{r['leaving_year']} {r['phase']}: {r['label']}"
        if len(label) > 52:
            label = label[:51] + "…"
        pct = float(r["percent"])
        out.append(f'<text x="{label_w - 8}" y="{y + 14}" text-anchor="end">{e(label)}</text>')
        out.append(
            f'<rect x="{label_w}" y="{y + 3}" width="{bar_w}" height="{row_h - 8}" class="track"/>'
        )
        out.append(
            f'<rect x="{label_w}" y="{y + 3}" width="{bar_w * min(pct, 100) / 100:.1f}" '
            f'height="{row_h - 8}" fill="{colour}"/>'
        )
        due = r["due"]
        due_text = due.strftime("%-d %b %Y") if isinstance(due, dt.date) else str(due)
        out.append(
            f'<text class="v" x="{label_w + bar_w + 6}" y="{y + 14}">{pct:g}% · '
            f"{e(STATE_WORDS.get(state, state))} · due {e(due_text)}</text>"
        )
    out.append("</svg>")
    return "\n".join(out)


# --- the page ------------------------------------------------------------------------------------

CSS = """
*{box-sizing:border-box}
body{font-family:"Segoe UI",Arial,Helvetica,sans-serif;color:#1c2833;margin:0;background:#f4f6f7}
main{max-width:980px;margin:0 auto;background:#fff;padding:32px 44px 48px}
header{border-bottom:4px solid #1b4f72;margin-bottom:20px;padding-bottom:10px}
h1{font-size:26px;margin:0 0 4px;color:#1b4f72}
h2{font-size:20px;margin:30px 0 8px;color:#1b4f72;border-bottom:1px solid #d5dbdb;padding-bottom:4px}
h3{font-size:16px;margin:20px 0 6px}
.sub{color:#566573;margin:0}
.cards{display:flex;flex-wrap:wrap;gap:12px;margin:14px 0}
.card{flex:1 1 200px;border:1px solid #d5dbdb;border-radius:6px;padding:12px 14px;background:#fbfcfc}
.card .big{font-size:30px;font-weight:bold;color:#1b4f72}
.card .what{font-size:13px;color:#566573}
.card.bad .big{color:#c62828}.card.good .big{color:#2e7d32}
ul.key li{margin:4px 0}
table{border-collapse:collapse;margin:8px 0 16px;font-size:13px}
th,td{border:1px solid #d5dbdb;padding:4px 8px;text-align:right}
th{background:#eaf2f8}
th:first-child,td:first-child{text-align:left}
table.deadlines td:nth-child(2),table.deadlines th:nth-child(2){text-align:left}
td.overdue{color:#c62828;font-weight:bold}td.completed_late{color:#ef6c00}td.complete{color:#2e7d32}
svg.chart{display:block;margin:8px 0 16px;max-width:100%;height:auto}
svg text{font-family:"Segoe UI",Arial,Helvetica,sans-serif;font-size:12px;fill:#1c2833}
svg text.ct{font-size:14px;font-weight:bold}
svg text.tick{font-size:10px;fill:#7f8c8d;text-anchor:middle}
svg text.v{font-size:11px}
svg line.grid{stroke:#e5e8e8;stroke-width:1}
svg rect.track{fill:#eef1f2}
.notes{font-size:12px;color:#566573}
@page{size:A4;margin:14mm}
@media print{body{background:#fff}main{padding:0}section,svg,table{break-inside:avoid}}
"""


def _table(
    headers: Sequence[str],
    rows: Sequence[Sequence[str]],
    classes: Sequence[str] = (),
    css_class: str = "",
) -> str:
    e = html.escape
    out = [
        f'<table class="{e(css_class)}">' if css_class else "<table>",
        "<tr>" + "".join(f"<th>{e(h)}</th>" for h in headers) + "</tr>",
    ]
    for i, row in enumerate(rows):
        cls = classes[i] if i < len(classes) else ""
        cells = "".join(
            f'<td class="{e(cls)}">{e(c)}</td>' if j == len(row) - 1 and cls else f"<td>{e(c)}</td>"
            for j, c in enumerate(row)
        )
        out.append(f"<tr>{cells}</tr>")
    out.append("</table>")
    return "\n".join(out)


def _stage(entry: str) -> str:
    return ENTRY_STAGE.get(entry, entry)


def _headline_cohort(data: ReportData, school: str) -> tuple[str, str] | None:
    """(cohort, entry) for a school's headline: its latest cohort with an actual destination,
    else its latest cohort with any destination."""
    found: list[tuple[str, str]] = []
    for cohort in cohorts(data, school):
        entry = latest_entry(data, school, cohort)
        if entry:
            found.append((cohort, entry))
    actual = [f for f in found if f[1].startswith("actual")]
    if actual:
        return actual[-1]
    return found[-1] if found else None


def render_html(data: ReportData) -> str:
    """The report page (pure): headline figures, destinations, trends, groups, deadlines."""
    e = html.escape
    sym = data.policy.symbol
    when = data.as_of.strftime("%-d %B %Y")
    focus = TRUST_SCHOOL if TRUST_SCHOOL in data.schools else (data.schools or [""])[0]
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{e(data.trust)}: leavers' destinations, report to governors</title>",
        f"<style>{CSS}</style></head><body><main>",
        "<header>",
        f"<h1>{e(data.trust)}: where our leavers go</h1>",
        f'<p class="sub">Report to governors and senior leaders · figures as of {e(when)} · '
        "anonymised: no pupil can be identified from it</p>",
        "</header>",
    ]

    # --- at a glance
    parts.append('<section id="summary"><h2>At a glance</h2><div class="cards">')
    for school in [s for s in data.schools if s != TRUST_SCHOOL] or [focus]:
        head = _headline_cohort(data, school)
        if not head:
            continue
        m = measures(data, school, *head)
        unknown = m[NOT_KNOWN]
        known: Figure = (
            _rounded(100.0 - unknown, data.policy) if isinstance(unknown, float) else unknown
        )
        parts.append(
            f'<div class="card"><div class="big">{e(_fmt(known))}</div>'
            f'<div class="what">of {e(school)}\'s {e(head[0])} leavers have a known destination '
            f"({e(_stage(head[1]))})</div></div>"
        )
    comp = compliance_rows(data)
    passed = comp[comp["due"] <= data.as_of] if not comp.empty else comp
    met = int(passed["state"].isin(["complete", "completed_late"]).sum()) if len(passed) else 0
    overdue = comp[comp["state"] == "overdue"] if not comp.empty else comp
    parts.append(
        f'<div class="card{" good" if len(passed) and met == len(passed) else ""}">'
        f'<div class="big">{met} of {len(passed)}</div>'
        '<div class="what">data-collection deadlines passed so far that were met</div></div>'
    )
    parts.append(
        f'<div class="card{" bad" if len(overdue) else " good"}"><div class="big">{len(overdue)}</div>'
        '<div class="what">deadlines overdue today (cohort not yet complete)</div></div>'
    )
    parts.append("</div>")
    bullets: list[str] = []
    for school in data.schools:
        if school == TRUST_SCHOOL:
            continue
        hc = _headline_cohort(data, school)
        if not hc:
            bullets.append(f"{school}: no destinations recorded yet.")
            continue
        m = measures(data, school, *hc)
        bullets.append(
            f"{school}, {hc[0]} leavers ({_stage(hc[1])}): {_fmt(m[EET])} in education, "
            f"employment or training; {_fmt(m[LEVEL3])} studying at Level 3 or above; "
            f"{_fmt(m[NOT_KNOWN])} not known."
        )
    for r in overdue.to_dict("records") if len(overdue) else []:
        bullets.append(
            f"Overdue: {r['school']} {r['leaving_year']} {r['phase']}, {r['label']} "
            f"(due {r['due'].strftime('%-d %b %Y')}): {float(r['percent']):g}% complete."
        )
    upcoming = comp[(comp["due"] > data.as_of)] if not comp.empty else comp
    for r in upcoming.sort_values("due").head(3).to_dict("records") if len(upcoming) else []:
        bullets.append(
            f"Next: {r['school']} {r['leaving_year']} {r['phase']}, {r['label']}, due "
            f"{r['due'].strftime('%-d %b %Y')} ({float(r['percent']):g}% complete so far)."
        )
    parts.append('<ul class="key">' + "".join(f"<li>{e(b)}</li>" for b in bullets) + "</ul>")
    parts.append("</section>")

    # --- destinations per school, one bar per cohort
    parts.append('<section id="destinations"><h2>Where leavers went, by cohort</h2>')
    parts.append(
        "<p>Share of each cohort in each kind of destination, at the latest stage recorded for that "
        "cohort. Older cohorts show actual destinations; the current leavers show what they "
        "intend to do.</p>"
    )
    table = data.tables["destinations"]
    for school in data.schools:
        series: list[str] = []
        values: dict[tuple[str, str], Figure] = {}
        cats: list[str] = []
        for cohort in cohorts(data, school):
            entry = latest_entry(data, school, cohort)
            if entry is None:
                continue
            name = f"{cohort}: {_stage(entry)}"
            series.append(name)
            sel = table[
                (table["school"] == school)
                & (table["cohort"] == cohort)
                & (table["entry"] == entry)
                & (table["group"] == ALL_GROUP)
                & (table["category"] != TOTAL)
            ]
            for rec in sel.to_dict("records"):
                cat = str(rec["category"])
                if cat not in cats:
                    cats.append(cat)
                pct = rec["percent"]
                values[(cat, name)] = float(pct) if _num(pct) else str(pct)
        shown = [c for c in cats if any(values.get((c, s)) not in (0.0, "") for s in series)]
        if not series:
            continue
        parts.append(f"<h3>{e(school_name(data, school))}</h3>")
        parts.append(
            bars_svg(
                f"{school_name(data, school)}: destinations, % of each cohort",
                shown,
                series,
                values,
                note=f"{sym} marks a figure withheld to protect pupils; destinations no pupil "
                "has are left out.",
            )
        )
    parts.append("</section>")

    # --- trends
    parts.append('<section id="trends"><h2>Trends across cohorts</h2>')
    parts.append(
        "<p>The measures governors most often ask about, cohort by cohort, each at the latest "
        "stage recorded for that cohort.</p>"
    )
    for school in data.schools:
        series, values = [], {}
        rows: list[list[str]] = []
        for cohort in cohorts(data, school):
            entry = latest_entry(data, school, cohort)
            if entry is None:
                continue
            name = f"{cohort}: {_stage(entry)}"
            series.append(name)
            m = measures(data, school, cohort, entry)
            for k, v in m.items():
                values[(k, name)] = v
            rows.append([name, *(_fmt(m[k]) for k in MEASURES)])
        if not series:
            continue
        parts.append(f"<h3>{e(school_name(data, school))}</h3>")
        parts.append(
            bars_svg(
                f"{school_name(data, school)}: key measures by cohort",
                list(MEASURES),
                series,
                values,
            )
        )
        parts.append(_table(["Cohort", *MEASURES], rows))
    parts.append("</section>")

    # --- priority groups
    parts.append('<section id="groups"><h2>Priority groups</h2>')
    parts.append(
        "<p>Disadvantaged pupils, pupils with special educational needs (SEND), pupils with "
        "English as an additional language and looked-after children, each against everyone "
        "else, for each school's headline cohort. Small groups are withheld "
        f"(<strong>{e(sym)}</strong>).</p>"
    )
    for school in data.schools:
        hc = _headline_cohort(data, school)
        if not hc:
            continue
        rows = []
        withheld: list[str] = []
        for group in group_labels():
            m = measures(data, school, hc[0], hc[1], group=group)
            cells = [_fmt(m[EET]), _fmt(m[LEVEL3]), _fmt(m[NOT_KNOWN])]
            if all(c in (sym, "") for c in cells):
                withheld.append(group)
                continue
            rows.append([group, *cells])
        parts.append(f"<h3>{e(school_name(data, school))}: {e(hc[0])}, {e(_stage(hc[1]))}</h3>")
        if rows:
            parts.append(_table(["Group", EET, LEVEL3, NOT_KNOWN], rows))
        if withheld:
            parts.append(
                f'<p class="notes">Too few pupils to report ({e(sym)} throughout): '
                f"{e(', '.join(withheld))}.</p>"
            )
    parts.append("</section>")

    # --- compliance
    parts.append('<section id="deadlines"><h2>Deadline compliance</h2>')
    parts.append(
        "<p>The trust's data-collection deadlines (intended and actual destinations, validation "
        "and sustained checks) that have passed, and those due in the next two months: how much "
        "of each cohort was recorded. A deadline is met when every pupil's entry is recorded, or "
        "logged as unknown after three contact attempts.</p>"
    )
    real = [s for s in data.schools if s != TRUST_SCHOOL]
    for school in real:
        rows_df = compliance_rows(data, school)
        if rows_df.empty:
            continue
        parts.append(f"<h3>{e(school)}</h3>")
        parts.append(compliance_svg(f"{school}: deadlines, % of cohort complete", rows_df))
        parts.append(
            _table(
                ["Cohort", "Deadline", "Due", "Complete", "State"],
                [
                    [
                        f"{r['leaving_year']} {r['phase']}",
                        str(r["label"]),
                        r["due"].isoformat(),
                        f"{int(r['complete'])} of {int(r['total'])} ({float(r['percent']):g}%)",
                        STATE_WORDS.get(str(r["state"]), str(r["state"])),
                    ]
                    for r in rows_df.to_dict("records")
                ],
                [str(s) for s in rows_df["state"]],
                css_class="deadlines",
            )
        )
    later = len(data.status) - len(comp)
    if later > 0:
        parts.append(f'<p class="notes">{later} later deadline(s) are not shown.</p>')
    parts.append("</section>")

    parts.append(
        '<section id="about" class="notes"><h2>About these figures</h2><ul>'
        f"<li>Figures come from the trust's CEIAG Metrics &amp; Destinations spreadsheet as of "
        f"{e(when)}, the same anonymised tables as its Summary tabs and the school websites.</li>"
        f"<li><strong>{e(sym)}</strong>: withheld because fewer than {data.policy.threshold} "
        "pupils are counted, or because it would let a small number be worked out "
        f"(DfE practice). <strong>{e(data.policy.small_percent_symbol)}</strong>: more than "
        "zero but below 0.5%.</li>"
        f"<li>{e(EET)}: every pupil except those NEET or whose destination is not known.</li>"
        "<li>Higher education includes degree apprenticeships.</li>"
        "</ul></section>"
    )
    parts.append("</main></body></html>")
    return "\n".join(parts)


# --- the shell -----------------------------------------------------------------------------------


def build_report(ws: Workspace, config: Config, *, as_of: dt.date | None = None) -> ReportData:
    """One read of the trust spreadsheet -> ReportData (disclosure-checked)."""
    from gsync.sheetio import read_snapshot
    from gsync.status import frames_from_snapshot, today
    from gsync.sync import (
        check_template,
        load_rules,
        load_template,
        pupil_frame,
        trust_spreadsheet_id,
    )
    from gsync.trust import load_specs

    template = load_template(config)
    rules = load_rules(config)
    taxonomy, policy = load_specs(config)
    snapshot = read_snapshot(ws, trust_spreadsheet_id(config), "Reading the trust spreadsheet")
    check_template(snapshot, template)
    destinations = pupil_frame(snapshot, template.tab("destinations")).frame
    pupils = frames_from_snapshot(snapshot, template, rules).destinations
    return collect(
        destinations,
        pupils,
        taxonomy,
        policy,
        rules,
        config.term_dates,
        as_of or today(),
        config.trust.name,
    )


def write_report(
    ws: Workspace, config: Config, out: Path, *, as_of: dt.date | None = None
) -> ReportResult:
    """`gsync report`: build, render and write the report (no personal data, so mode 0644)."""
    data = build_report(ws, config, as_of=as_of)
    page = render_html(data)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(page, encoding="utf-8")
    all_cohorts = sorted(set(data.tables["destinations"]["cohort"]))
    overdue = int((data.status["state"] == "overdue").sum()) if len(data.status) else 0
    return ReportResult(
        path=out,
        schools=[s for s in data.schools if s != TRUST_SCHOOL],
        cohorts=all_cohorts,
        overdue=overdue,
        as_of=data.as_of,
    )
