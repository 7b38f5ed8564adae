"""`gsync audit` against the emulator's Drive permissions: grants inside the trust's domains pass;
outside users, outside domains and link sharing are flagged, for the spreadsheet and the form."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from gsync import sync as sync_mod
from gsync.audit import ANYONE_WITH_LINK, OUTSIDE, PUBLIC, flag_for, inside, run_audit
from gsync.cli import main
from gsync.config import load_config
from gsync.formsync import create_form
from gsync.workspace import Workspace, workspace_for_endpoint
from tests.conftest import SAMPLE_CONFIG, Emulator


def share(ws: Workspace, file_id: str, **body: Any) -> None:
    extra = {"sendNotificationEmail": False} if body["type"] in ("user", "group") else {}
    ws.execute(ws.drive().permissions().create(fileId=file_id, body=body, **extra))


@pytest.fixture
def shared(emulator: Emulator, tmp_path: Path) -> tuple[Workspace, Path]:
    ws = workspace_for_endpoint(emulator.url)
    path = tmp_path / "gsync.toml"
    path.write_text(SAMPLE_CONFIG, encoding="utf-8")
    sync_mod.init_sheet(ws, load_config(path))
    create_form(ws, load_config(path), "Northfield")
    config = load_config(path)
    sid, fid = str(config.trust.spreadsheet_id), str(config.school("Northfield").form_id)
    share(ws, sid, type="user", role="writer", emailAddress="head@northfield.sch.uk")
    share(ws, sid, type="user", role="reader", emailAddress="governor@gmail.com")
    share(ws, sid, type="domain", role="reader", domain="southgate.sch.uk")
    share(ws, sid, type="domain", role="reader", domain="another-trust.org.uk")
    share(ws, fid, type="anyone", role="reader")
    share(ws, fid, type="anyone", role="reader", allowFileDiscovery=True)
    return ws, path


def test_flags() -> None:
    domains = ["northfield.sch.uk"]
    assert inside("pupils.northfield.sch.uk", domains) and not inside(
        "evilnorthfield.sch.uk", domains
    )
    assert flag_for({"type": "user", "emailAddress": "a@northfield.sch.uk"}, domains) is None
    assert flag_for({"type": "group", "emailAddress": "a@gmail.com"}, domains) == OUTSIDE
    assert flag_for({"type": "anyone"}, domains) == ANYONE_WITH_LINK
    assert flag_for({"type": "anyone", "allowFileDiscovery": True}, domains) == PUBLIC


def test_audit_lists_and_flags_every_file(shared: tuple[Workspace, Path]) -> None:
    ws, path = shared
    report = run_audit(ws, load_config(path))
    files = {g.file for g in report.grants}
    assert files == {"trust spreadsheet", "Northfield Form A"}
    flagged = {(g.file, g.who, g.flag) for g in report.flagged}
    assert flagged == {
        ("trust spreadsheet", "governor@gmail.com", OUTSIDE),
        ("trust spreadsheet", "another-trust.org.uk", OUTSIDE),
        ("Northfield Form A", "anyone", ANYONE_WITH_LINK),
        ("Northfield Form A", "anyone", PUBLIC),
    }
    fine = {g.who for g in report.grants if not g.flag}
    assert {"head@northfield.sch.uk", "southgate.sch.uk"} <= fine
    assert report.account and report.account in fine  # gsync's own account owns the files
    assert not report.unreadable


def test_audit_cli_json_and_a_missing_file(
    shared: tuple[Workspace, Path], emulator: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    _ws, path = shared
    monkeypatch.setenv("GSYNC_EMULATOR_HOST", emulator.url.removeprefix("http://"))
    runner = CliRunner()
    result = runner.invoke(main, ["--config", str(path), "audit", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["flagged"] == 4 and "northfield.sch.uk" in data["domains"]
    human = runner.invoke(main, ["--config", str(path), "audit", "--flagged-only"])
    assert human.exit_code == 0 and "4 grant(s) flagged" in human.output
    assert "head@northfield.sch.uk" not in human.output
    # A form id that no longer exists is reported, not fatal.
    text = path.read_text(encoding="utf-8")
    config = load_config(path)
    path.write_text(text.replace(str(config.school("Northfield").form_id), "gone123"), "utf-8")
    report = run_audit(workspace_for_endpoint(emulator.url), load_config(path))
    assert "Northfield Form A" in report.unreadable
    assert {g.file for g in report.grants} == {"trust spreadsheet"}
