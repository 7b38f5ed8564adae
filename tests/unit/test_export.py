"""Website export: CSV, self-contained HTML and SVG chart, only ever from safe tables."""

from __future__ import annotations

import csv
import xml.etree.ElementTree as ET
from pathlib import Path

import pandas as pd
import pytest

from gsync.disclosure import TABLE_COLUMNS, TOTAL, apply_suppression, load_policy
from gsync.errors import DisclosureError
from gsync.export import chart_svg, export_summary, tables_from_rows
from gsync.summary import links, summary_tabs

POLICY = load_policy()
SVG = "{http://www.w3.org/2000/svg}"


def block(school: str, cohort: str, counts: dict[str, int]) -> pd.DataFrame:
    total = sum(counts.values())
    rows = [
        [school, cohort, "intended", "all", "All pupils", c, n, 100.0 * n / total]
        for c, n in counts.items()
    ]
    rows.append([school, cohort, "intended", "all", "All pupils", TOTAL, total, 100.0])
    return pd.DataFrame(rows, columns=TABLE_COLUMNS)


def safe_tables(school: str = "Northfield") -> dict[str, pd.DataFrame]:
    raw = pd.concat(
        [
            # 2023: 12 sixth form (60%), 8 college (40%).
            block(
                school,
                "2023 Y11",
                {"School sixth form": 12, "Further education college": 8, "NEET": 0},
            ),
            # 2024: 10 sixth form (50%), 7 college (35%), 3 NEET -> primary, college secondary.
            block(
                school,
                "2024 Y11",
                {"School sixth form": 10, "Further education college": 7, "NEET": 3},
            ),
        ],
        ignore_index=True,
    )
    return {"destinations": apply_suppression(raw, POLICY)}


def test_csv_export_writes_the_suppressed_figures(tmp_path: Path) -> None:
    files = export_summary(safe_tables(), tmp_path, "csv")
    assert [f.name for f in files] == ["destinations.csv", "chart-northfield.svg"]
    with (tmp_path / "destinations.csv").open(encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    assert rows[0] == TABLE_COLUMNS
    by_key = {(r[1], r[5]): (r[6], r[7]) for r in rows[1:]}
    assert by_key[("2023 Y11", "School sixth form")] == ("12", "60.0")
    assert by_key[("2023 Y11", "NEET")] == ("0", "0.0")
    assert by_key[("2024 Y11", "NEET")] == ("c", "c")
    assert by_key[("2024 Y11", "Further education college")] == ("c", "c")
    assert by_key[("2024 Y11", TOTAL)] == ("20", "100.0")


def test_csv_neutralises_formula_text(tmp_path: Path) -> None:
    export_summary(safe_tables("=HYPERLINK(1)"), tmp_path, "csv")
    text = (tmp_path / "destinations.csv").read_text(encoding="utf-8")
    assert "'=HYPERLINK(1)" in text
    assert "\n=HYPERLINK" not in text


def test_html_is_self_contained_and_escaped(tmp_path: Path) -> None:
    files = export_summary(
        safe_tables("<script>alert(1)</script> & Co"), tmp_path, "html", title="Our <b>leavers</b>"
    )
    assert [f.name for f in files] == ["destinations.html"]
    page = files[0].read_text(encoding="utf-8")
    assert "<script>" not in page and "&lt;script&gt;" in page and "&amp; Co" in page
    assert "Our &lt;b&gt;leavers&lt;/b&gt;" in page
    assert "<svg" in page  # chart inlined
    assert "src=" not in page and "href=" not in page and "<link" not in page  # nothing external
    assert "12 (60%)" in page and "0 (0%)" in page and ">c<" in page


def test_chart_svg_is_valid_and_draws_published_figures_only() -> None:
    tables = safe_tables()
    svg = chart_svg(tables["destinations"], "Northfield")
    root = ET.fromstring(svg)
    assert root.tag == f"{SVG}svg"
    assert "Northfield" in root.find(f"{SVG}title").text  # type: ignore[union-attr]
    texts = [t.text for t in root.iter(f"{SVG}text")]
    assert "60%" in texts and "50%" in texts and "40%" in texts
    assert "c" in texts  # the suppressed 2024 college and NEET bars show the symbol
    bars = [r for r in root.iter(f"{SVG}rect") if float(r.get("width", "0")) > 10]
    widths = sorted(round(float(r.get("width", "0"))) for r in bars)
    # 420 px = 100%: 60% -> 252, 50% -> 210, 40% -> 168.
    assert widths == [168, 210, 252]


def test_export_refuses_unsafe_tables_and_writes_nothing(tmp_path: Path) -> None:
    raw = block("Northfield", "2024 Y11", {"School sixth form": 10, "NEET": 3})
    unsafe = raw.astype({"count": object, "percent": object})
    out = tmp_path / "site"
    with pytest.raises(DisclosureError):
        export_summary({"destinations": unsafe}, out, "csv")
    assert not out.exists()
    with pytest.raises(ValueError, match="format"):
        export_summary(safe_tables(), out, "pdf")  # type: ignore[arg-type]


def test_round_trip_from_a_summary_tab(tmp_path: Path) -> None:
    rows = []
    for i in range(30):
        rows.append(
            {
                "school": "Northfield",
                "upn": f"A{i:012d}",
                "first_name": f"P{i}",
                "leaving_year": "2024",
                "phase": "Y11",
                "send": "N",
                "disadvantaged": "N",
                "eal": "N",
                "looked_after": "N",
                "intended_destination": "Sixth form" if i < 20 else "College",
                "intended_level": "Level 3",
            }
        )
    tabs = summary_tabs(pd.DataFrame(rows), load_taxonomy_cached(), POLICY)
    # As read back from Sheets: every cell text.
    as_text = [[str(v) for v in r] for r in tabs["Summary - Northfield"]]
    tables = tables_from_rows(as_text)
    assert set(tables) == {"destinations", "level3", "apprenticeship", "higher_education"}
    d = tables["destinations"]
    sixth = d[
        (d["entry"] == "intended")
        & (d["group"] == "All pupils")
        & (d["category"] == "School sixth form")
    ]
    assert sixth["count"].tolist() == [20] and sixth["percent"].tolist() == [67.0]
    files = export_summary(tables, tmp_path, "csv", links=links(load_taxonomy_cached()))
    assert (tmp_path / "level3.csv").exists() and len(files) == 5


def load_taxonomy_cached():  # type: ignore[no-untyped-def]
    from gsync.taxonomy import load_taxonomy

    return load_taxonomy()
