"""Website export of the anonymised, suppressed summary: CSV or one self-contained HTML page,
plus a bar chart per school as SVG.

The chart is SVG written here rather than a PNG from matplotlib: it is text (reviewable, diffable,
no binary in a school's website repo), scales to any screen, carries its own title and labels for
screen readers, can be inlined into the HTML page (so the page is one self-contained file), and
needs no heavy plotting dependency for one bar chart.
"""

from __future__ import annotations

import csv
import html
import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Literal

import pandas as pd

from gsync.disclosure import (
    ALL_GROUP,
    TABLE_COLUMNS,
    TOTAL,
    Link,
    SuppressionPolicy,
    assert_publishable,
    load_policy,
)

_PALETTE = ("#1f5f8b", "#e07b39", "#3a8f5c", "#8a4f9e", "#b8860b", "#5b6770")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _safe_csv(value: object) -> object:
    """Neutralise spreadsheet formula injection in text cells (OWASP CSV injection advice)."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.casefold()).strip("-") or "school"


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and value == value


def chart_entry(table: pd.DataFrame, school: str) -> str | None:
    """The last entry (in table order) with a published percentage for the school's pupils."""
    sel = table[(table["school"] == school) & (table["group"] == ALL_GROUP)]
    sel = sel[(sel["category"] != TOTAL) & sel["percent"].map(_is_number)]
    entries = list(dict.fromkeys(sel["entry"]))
    return entries[-1] if entries else None


def chart_svg(table: pd.DataFrame, school: str, *, entry: str | None = None) -> str:
    """A horizontal grouped bar chart: % of all pupils per destination, one bar per cohort."""
    entry = entry or chart_entry(table, school) or ""
    sel = table[
        (table["school"] == school)
        & (table["entry"] == entry)
        & (table["group"] == ALL_GROUP)
        & (table["category"] != TOTAL)
    ]
    categories = list(dict.fromkeys(sel["category"]))
    cohorts = sorted(dict.fromkeys(sel["cohort"]))
    values = {(r["category"], r["cohort"]): r["percent"] for r in sel.to_dict("records")}

    label_w, bar_w, bar_h, gap, top = 230, 420, 12, 10, 48
    block = bar_h * max(len(cohorts), 1) + gap
    height = top + block * len(categories) + 30
    width = label_w + bar_w + 70
    title = f"{school}: destinations ({entry}), % of all pupils"
    e = html.escape
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-labelledby="t">',
        f'<title id="t">{e(title)}</title>',
        "<desc>Suppressed figures (fewer than the publication threshold) are shown as "
        "their symbol with no bar.</desc>",
        "<style>text{font-family:Arial,Helvetica,sans-serif;font-size:12px;fill:#222}"
        ".h{font-size:14px;font-weight:bold}</style>",
        f'<text class="h" x="0" y="16">{e(title)}</text>',
    ]
    for i, cohort in enumerate(cohorts):
        x = label_w + i * 110
        colour = _PALETTE[i % len(_PALETTE)]
        out.append(f'<rect x="{x}" y="26" width="10" height="10" fill="{colour}"/>')
        out.append(f'<text x="{x + 14}" y="35">{e(str(cohort))}</text>')
    for ci, category in enumerate(categories):
        y0 = top + ci * block
        out.append(
            f'<text x="{label_w - 6}" y="{y0 + block / 2}" text-anchor="end">{e(str(category))}</text>'
        )
        for i, cohort in enumerate(cohorts):
            y = y0 + i * bar_h
            value = values.get((category, cohort), "")
            colour = _PALETTE[i % len(_PALETTE)]
            if _is_number(value):
                w = bar_w * max(0.0, min(float(value), 100.0)) / 100.0
                out.append(
                    f'<rect x="{label_w}" y="{y}" width="{w:.1f}" height="{bar_h - 2}" fill="{colour}"/>'
                )
                out.append(f'<text x="{label_w + w + 4:.1f}" y="{y + bar_h - 3}">{value:g}%</text>')
            else:
                out.append(f'<text x="{label_w + 4}" y="{y + bar_h - 3}">{e(str(value))}</text>')
    out.append("</svg>")
    return "\n".join(out)


def _fmt(count: object, percent: object) -> str:
    if _is_number(count) and _is_number(percent):
        return f"{count} ({percent:g}%)"
    if _is_number(count):
        return f"{count} ({percent})"
    return str(count)


def _html_page(tables: Mapping[str, pd.DataFrame], title: str) -> str:
    e = html.escape
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{e(title)}</title>",
        "<style>body{font-family:Arial,Helvetica,sans-serif;margin:2em;color:#222}"
        "table{border-collapse:collapse;margin:0 0 1.5em}"
        "th,td{border:1px solid #bbb;padding:.25em .5em;text-align:right}"
        "th:first-child,td:first-child{text-align:left}caption{text-align:left;font-weight:bold}"
        "</style></head><body>",
        f"<h1>{e(title)}</h1>",
        "<p>Figures are counts of pupils with the percentage of the group in brackets. "
        "<strong>c</strong> marks a figure suppressed so that no pupil can be identified; "
        "<strong>~</strong> marks a positive percentage below 0.5.</p>",
    ]
    first = next(iter(tables.values()), None)
    schools = list(dict.fromkeys(first["school"])) if first is not None else []
    for school in schools:
        parts.append(f"<h2>{e(str(school))}</h2>")
        if first is not None and chart_entry(first, school):
            parts.append(chart_svg(first, school))
        for kind, table in tables.items():
            sel = table[table["school"] == school]
            for (cohort, entry), block in sel.groupby(["cohort", "entry"], sort=True):
                groups = list(dict.fromkeys(block["group"]))
                parts.append("<table>")
                parts.append(f"<caption>{e(kind)}: {e(str(cohort))}, {e(str(entry))}</caption>")
                parts.append(
                    "<tr><th>Destination</th>"
                    + "".join(f"<th>{e(str(g))}</th>" for g in groups)
                    + "</tr>"
                )
                for category in dict.fromkeys(block["category"]):
                    cells = []
                    for g in groups:
                        row = block[(block["group"] == g) & (block["category"] == category)]
                        text = (
                            _fmt(row["count"].iloc[0], row["percent"].iloc[0]) if len(row) else ""
                        )
                        cells.append(f"<td>{e(text)}</td>")
                    parts.append(f"<tr><td>{e(str(category))}</td>{''.join(cells)}</tr>")
                parts.append("</table>")
    parts.append("</body></html>")
    return "\n".join(parts)


def export_summary(
    tables: Mapping[str, pd.DataFrame],
    out_dir: str | Path,
    fmt: Literal["csv", "html"] = "csv",
    *,
    title: str = "Leavers' destinations",
    policy: SuppressionPolicy | None = None,
    links: Iterable[Link] = (),
) -> list[Path]:
    """Write the suppressed tables for a school website; returns the files written.

    csv: one `<table>.csv` per table plus `chart-<school>.svg`; html: one self-contained
    `destinations.html` (charts inlined). The tables are checked against the policy first
    (no small or recoverable count, judged across tables through `links`, e.g.
    gsync.summary.links(taxonomy)); a breach raises DisclosureError and writes nothing.
    """
    if fmt not in ("csv", "html"):
        raise ValueError(f"unknown export format {fmt!r}; use csv or html")
    policy = policy or load_policy()
    assert_publishable(tables, policy, pd.DataFrame(), links=links)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    if fmt == "csv":
        for name, table in tables.items():
            path = out / f"{_slug(name)}.csv"
            with path.open("w", newline="", encoding="utf-8") as fh:
                writer = csv.writer(fh)
                writer.writerow(TABLE_COLUMNS)
                for row in table[TABLE_COLUMNS].itertuples(index=False):
                    writer.writerow([_safe_csv(v) for v in row])
            written.append(path)
        first = next(iter(tables.values()), None)
        if first is not None:
            for school in dict.fromkeys(first["school"]):
                if chart_entry(first, school):
                    path = out / f"chart-{_slug(str(school))}.svg"
                    path.write_text(chart_svg(first, str(school)), encoding="utf-8")
                    written.append(path)
    else:
        path = out / "destinations.html"
        path.write_text(_html_page(tables, title), encoding="utf-8")
        written.append(path)
    return written


def _number(value: object) -> object:
    if isinstance(value, str):
        try:
            n = float(value)
        except ValueError:
            return value
        return int(n) if n.is_integer() and "." not in value else n
    return value


def tables_from_rows(rows: Sequence[Sequence[object]]) -> dict[str, pd.DataFrame]:
    """Rebuild the tables from a Summary tab's rows (as summary_tabs writes them) for export."""
    start = next(i for i, r in enumerate(rows) if list(r[:1]) == ["table"])
    header = [str(h) for h in rows[start]]
    body = [list(r) for r in rows[start + 1 :] if r]
    frame = pd.DataFrame(body, columns=header)
    # Cells read back from Sheets may be text: "12" is a count, "c" stays a symbol.
    frame["count"] = frame["count"].map(_number)
    frame["percent"] = frame["percent"].map(_number)
    return {
        str(kind): block.drop(columns=["table"]).reset_index(drop=True)
        for kind, block in frame.groupby("table", sort=False)
    }
