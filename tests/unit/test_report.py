"""The governors' report's figures and page, from a hand-built Destinations frame (no I/O)."""

from __future__ import annotations

import datetime as dt
import re
from html.parser import HTMLParser

import pandas as pd
import pytest

from gsync.deadlines import load_rules
from gsync.disclosure import load_policy
from gsync.report import (
    EET,
    LEVEL3,
    NOT_KNOWN,
    ReportData,
    collect,
    latest_entry,
    measures,
    render_html,
)
from gsync.summary import ENTRIES
from gsync.taxonomy import load_taxonomy

AS_OF = dt.date(2026, 7, 10)


def pupil(i: int, year: int, **entries: tuple[str, str]) -> dict[str, str]:
    row = {
        "school": "Northfield",
        "upn": f"UPN{year}{i:04d}",
        "legal_forename": f"Forename{year}{i}",
        "legal_surname": "Zyxwvut",
        "leaving_year": str(year),
        "phase": "Y11",
        "send": "K" if i % 4 == 0 else "N",
        "disadvantaged": "Y" if i % 3 == 0 else "N",
        "eal": "N",
        "looked_after": "N",
    }
    for entry in ENTRIES:
        destination, level = entries.get(entry, ("", ""))
        row.update(
            {
                f"{entry}_destination": destination,
                f"{entry}_other": "",
                f"{entry}_level": level,
                f"{entry}_source": "form" if destination else "",
                f"{entry}_recorded": "2025-11-01" if destination else "",
                f"{entry}_validated": "N",
            }
        )
    return row


def frame(neet_2025: int = 8) -> pd.DataFrame:
    """2025 leavers (actual destinations; `neet_2025` NEET, 12 unknown) and 2026 leavers
    (Form A intentions, and three early answers in the next window that must not lead)."""
    rows = []
    plan_2025 = (
        [("Sixth form", "Level 3")] * 30
        + [("College", "Level 2")] * 20
        + [("Apprenticeship", "Level 2")] * 10
        + [("NEET", "")] * neet_2025
        + [("", "")] * 12
    )
    for i, (dest, level) in enumerate(plan_2025):
        rows.append(
            pupil(
                i, 2025, current_intended=("College", "Level 2"), actual_unvalidated=(dest, level)
            )
        )
    plan_2026 = [("Sixth form", "Level 3")] * 40 + [("College", "Level 3")] * 30 + [("", "")] * 10
    for i, (dest, level) in enumerate(plan_2026):
        extra = {"intended": ("College", "Level 3")} if i < 3 else {}
        rows.append(pupil(i, 2026, current_intended=(dest, level), **extra))
    return pd.DataFrame(rows).astype(str)


def data_for(dest: pd.DataFrame) -> ReportData:
    return collect(
        dest,
        dest,
        load_taxonomy(),
        load_policy(),
        load_rules(),
        {},
        AS_OF,
        "Demo Trust",
    )


@pytest.fixture(scope="module")
def data() -> ReportData:
    return data_for(frame())


def test_headline_stage_is_the_best_filled_latest_entry(data: ReportData) -> None:
    assert latest_entry(data, "Northfield", "2025 Y11") == "actual_unvalidated"
    # Three answers in the 'intended' window do not outweigh 70 Form A intentions.
    assert latest_entry(data, "Northfield", "2026 Y11") == "current_intended"


def test_measures_are_hand_computed_from_published_counts(data: ReportData) -> None:
    m = measures(data, "Northfield", "2025 Y11", "actual_unvalidated")
    total, neet, unknown = 80, 8, 12
    assert m[EET] == round(100 * (total - neet - unknown) / total)
    assert m[NOT_KNOWN] == round(100 * unknown / total)
    assert m[LEVEL3] == round(100 * 30 / total)  # sixth form at Level 3 only
    m26 = measures(data, "Northfield", "2026 Y11", "current_intended")
    assert m26[LEVEL3] == round(100 * 70 / 80)


def test_a_derived_figure_is_withheld_when_an_input_is_suppressed() -> None:
    small = data_for(frame(neet_2025=3))  # 3 NEET: below the threshold of 6
    m = measures(small, "Northfield", "2025 Y11", "actual_unvalidated")
    assert m[EET] == small.policy.symbol
    assert isinstance(m[NOT_KNOWN], float)


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def test_page_structure_charts_and_no_pupil_data(data: ReportData) -> None:
    page = render_html(data)
    parser = _Tags()
    parser.feed(page)
    sections = [a.get("id") for t, a in parser.tags if t == "section"]
    assert sections == ["summary", "destinations", "trends", "groups", "deadlines", "about"]
    svgs = [a for t, a in parser.tags if t == "svg"]
    # One school: destinations, key measures, deadlines charts; each labelled for screen readers.
    assert len(svgs) == 3 and all(a.get("role") == "img" and a.get("aria-label") for a in svgs)
    assert not any(t in ("script", "link", "img", "iframe") for t, _ in parser.tags)
    for value in frame()[["upn", "legal_forename", "legal_surname"]].to_numpy().ravel():
        assert value not in page
    text = " ".join(parser.text)
    assert "2025 Y11" in text and "2026 Y11" in text
    # The current leavers' deadline (31 July) is within the look-ahead and shown with its state.
    assert re.search(r"Intended destination \(current leavers, Form A\)", text)


def test_overdue_deadline_is_named_in_the_summary() -> None:
    data = data_for(frame())
    overdue = data.status[data.status["state"] == "overdue"]
    assert len(overdue)  # the 2025 leavers' entries left incomplete are overdue by July 2026
    page = render_html(data)
    summary = page[page.index('id="summary"') : page.index('id="destinations"')]
    for label in set(overdue["label"]):
        assert f"Overdue: Northfield 2025 Y11, {label}" in summary.replace("&#x27;", "'")
