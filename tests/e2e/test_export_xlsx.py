"""`gsync export --xlsx`: every tab, cells as text (formula payloads stay text), hidden tabs and
columns hidden, and the file readable by its owner only."""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from openpyxl import load_workbook  # type: ignore[import-untyped]

from gsync.sample import FORMULA_PAYLOADS
from gsync.sheetio import read_snapshot
from tests.e2e.test_status import Trust, build_two_school_trust


@pytest.fixture(scope="module")
def _trust(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Trust]:
    trust = build_two_school_trust(tmp_path_factory.mktemp("xlsx"))
    yield trust
    trust.server.stop()


@pytest.fixture
def trust(_trust: Trust, monkeypatch: pytest.MonkeyPatch) -> Trust:
    _trust.restore()
    monkeypatch.setenv("GSYNC_EMULATOR_HOST", _trust.server.url.removeprefix("http://"))
    return _trust


def test_xlsx_holds_every_tab_as_text_and_is_private(trust: Trust, tmp_path: Path) -> None:
    path = tmp_path / "out" / "trust.xlsx"
    path.parent.mkdir()
    path.write_bytes(b"old")
    path.chmod(0o644)  # an existing, world-readable file is replaced by a private one
    result = trust.cli("export", "--xlsx", str(path), "--json")
    assert result.exit_code == 0, result.output
    info = json.loads(result.output)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert [p.name for p in path.parent.iterdir()] == ["trust.xlsx"]  # no temporary file left
    snap = read_snapshot(trust.ws, str(trust.config.trust.spreadsheet_id))
    book = load_workbook(path)
    titles = [t.title for t in sorted(snap.tabs.values(), key=lambda t: t.index)]
    assert book.sheetnames == [t[:31] for t in titles]
    assert sorted(info["tabs"]) == sorted(titles)  # --json sorts keys
    for title in titles:
        sheet = book[title[:31]]
        grid = snap.grid(title)
        got = [[("" if v is None else v) for v in row] for row in sheet.iter_rows(values_only=True)]
        width = max((len(r) for r in grid), default=0)
        assert [(r + [""] * width)[:width] for r in got[: len(grid)]] == [
            (r + [""] * width)[:width] for r in grid
        ], title
        assert sheet.sheet_state == ("hidden" if snap.tabs[title].hidden else "visible")
    # Formula payloads a respondent typed are string cells, never formulas.
    responses = book["Responses"]
    payload_cells = [c for row in responses.iter_rows() for c in row if c.value in FORMULA_PAYLOADS]
    assert payload_cells and all(c.data_type == "s" for c in payload_cells)
    assert not any(
        c.data_type == "f" for ws in book.worksheets for row in ws.iter_rows() for c in row
    )
    # The sync's hidden hash column stays hidden.
    dest = book["Destinations"]
    header = [c.value for c in dest[1]]
    hidden = [
        h
        for i, h in enumerate(header, start=1)
        if dest.column_dimensions[dest.cell(1, i).column_letter].hidden
    ]
    assert hidden and all("hash" in str(h).lower() for h in hidden)


def test_xlsx_without_a_spreadsheet_is_a_configuration_error(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from gsync.cli import main
    from tests.conftest import SAMPLE_CONFIG

    cfg = tmp_path / "gsync.toml"
    cfg.write_text(SAMPLE_CONFIG, encoding="utf-8")
    result = CliRunner().invoke(main, ["--config", str(cfg), "export", "--xlsx", "x.xlsx"])
    assert result.exit_code == 2 and "sheet init" in result.output
