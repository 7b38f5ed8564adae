"""`gsync report` end to end: one read of the trust spreadsheet, the Summary tab's published
figures in the page, no pupil data, the page's structure (a manual Chromium check is in docs/)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path

import pytest

from gsync.sheetio import read_snapshot
from tests.e2e.test_status import AS_OF, Trust, build_two_school_trust


@pytest.fixture(scope="module")
def _trust(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Trust]:
    trust = build_two_school_trust(tmp_path_factory.mktemp("report"))
    yield trust
    trust.server.stop()


@pytest.fixture
def trust(_trust: Trust, monkeypatch: pytest.MonkeyPatch) -> Trust:
    _trust.restore()
    monkeypatch.setenv("GSYNC_EMULATOR_HOST", _trust.server.url.removeprefix("http://"))
    return _trust


class _Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.cells: list[str] = []
        self._in_td = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self._in_td = tag == "td"

    def handle_endtag(self, tag: str) -> None:
        self._in_td = False if tag == "td" else self._in_td

    def handle_data(self, data: str) -> None:
        if self._in_td:
            self.cells.append(data.strip())


def test_report_reads_once_writes_nothing_and_shows_published_figures(
    trust: Trust, tmp_path: Path
) -> None:
    out = tmp_path / "gov" / "report.html"
    result = trust.cli("report", "--out", str(out), "--as-of", AS_OF.isoformat(), "--json")
    assert result.exit_code == 0, result.output
    info = json.loads(result.output)
    assert info["path"] == str(out) and info["schools"] == ["Northfield", "Southgate"]
    assert info["cohorts"] == ["2025 Y13", "2026 Y11"]
    log = trust.client.log()
    assert [e["method"] for e in log if e["method"].startswith("sheets.")] == [
        "sheets.spreadsheets.get"
    ]
    page = out.read_text(encoding="utf-8")
    parser = _Page()
    parser.feed(page)
    assert parser.tags.count("svg") >= 5  # destinations x3, trends x3, deadlines x2 at most
    assert "script" not in parser.tags
    # The 'not known' share of Northfield's cohort is the Summary tab's published cell.
    snap = read_snapshot(trust.ws, str(trust.config.trust.spreadsheet_id))
    grid = snap.grid("Summary - Northfield")
    start = next(i for i, r in enumerate(grid) if r[:1] == ["table"])
    header = grid[start]
    rows = [dict(zip(header, r, strict=False)) for r in grid[start + 1 :]]
    unknown = next(
        r
        for r in rows
        if r["table"] == "destinations"
        and r["entry"] == "current_intended"
        and r["group"] == "All pupils"
        and r["category"].startswith("Unknown")
    )
    shown = (
        f"{float(unknown['percent']):g}%"
        if unknown["percent"][:1].isdigit()
        else unknown["percent"]
    )
    assert "2026 Y11: intended destination, before leaving" in page
    assert shown in parser.cells
    # No pupil's name, UPN or email appears anywhere in the page.
    for sample in trust.samples.values():
        for p in sample.pupils:
            assert p.upn not in page and p.school_email not in page
            assert f"{p.legal_forename} {p.legal_surname}" not in page


def test_report_refuses_an_old_spreadsheet_and_names_the_fix(trust: Trust, tmp_path: Path) -> None:
    sid = str(trust.config.trust.spreadsheet_id)
    sheet = trust.ws.sheets().open_by_key(sid).worksheet("_gsync_state")
    cell = sheet.find("template_version")
    assert cell is not None
    sheet.update_cell(cell.row, cell.col + 1, "1")
    out = tmp_path / "r.html"
    result = trust.cli("report", "--out", str(out))
    assert result.exit_code == 2 and "gsync sheet init" in result.output
    assert not out.exists()
