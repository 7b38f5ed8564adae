"""`gsync demo`: the whole year runs end to end on the embedded local workspace and leaves the
governors' report, the website export and the XLSX copy on disk."""

from __future__ import annotations

import os
import stat
import time
from pathlib import Path

from openpyxl import load_workbook  # type: ignore[import-untyped]

from gsync.demo import DEMO_STEPS, run_demo


def test_the_whole_year_leaves_report_website_and_xlsx(tmp_path: Path) -> None:
    lines: list[str] = []
    started = time.monotonic()
    result = run_demo(tmp_path / "demo", echo=lines.append, quiet=True)
    elapsed = time.monotonic() - started
    assert len(result.steps) == DEMO_STEPS
    commands = [s.command.split(" ")[0] for s in result.steps]
    for name in ("sheet", "form", "roster", "sync", "status", "trust", "summary", "report"):
        assert name in commands
    assert "export" in commands
    syncs = [s for s in result.steps if s.command.startswith("sync --as-of")]
    # Syncs across every deadline of the year, ending with an idle repeat run.
    assert [s.command.split()[-1] for s in syncs] == [
        "2025-07-21", "2025-09-15", "2025-12-19", "2026-04-01", "2026-07-10", "2026-07-10"
    ]  # fmt: skip
    assert "nothing written" in syncs[-1].summary
    status = next(s for s in result.steps if s.command.startswith("status"))
    assert "overdue" in status.summary and "completed_late" in status.summary
    # The artefacts are on disk.
    assert result.report is not None and result.xlsx is not None and result.website is not None
    page = result.report.read_text(encoding="utf-8")
    assert "2025 Y11" in page and "2026 Y13" in page and page.count("<svg") >= 6
    assert (result.website / "destinations.html").is_file()
    assert stat.S_IMODE(os.stat(result.xlsx).st_mode) == 0o600
    book = load_workbook(result.xlsx, read_only=True)
    assert {"Destinations", "Contacts", "Compliance"} <= set(book.sheetnames)
    # Staff contact attempts were logged (three per chased pupil) and reached the spreadsheet.
    contacts = list(book["Contacts"].iter_rows(values_only=True))
    assert len(contacts) > 100
    assert any("Where to look" in line for line in lines)
    assert elapsed < 120, f"the demo took {elapsed:.0f} s"
