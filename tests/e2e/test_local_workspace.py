"""The embedded local workspace: no Google account, state on disk, survives a restart of the process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import SAMPLE_CONFIG


def gsync(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "GSYNC_EMULATOR_HOST"}
    return subprocess.run(
        [sys.executable, "-m", "gsync", "--config", str(cwd / "gsync.toml"), *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_state_survives_a_new_process(tmp_path: Path) -> None:
    (tmp_path / "gsync.toml").write_text(SAMPLE_CONFIG, encoding="utf-8")
    first = gsync(tmp_path, "sheet", "init", "--json")
    assert first.returncode == 0, first.stderr
    sid = json.loads(first.stdout)["spreadsheet_id"]
    made = gsync(tmp_path, "form", "create", "--school", "Northfield", "--json")
    assert made.returncode == 0, made.stderr
    # A new process (a new emulator on a new port) reads what the previous one wrote.
    info = gsync(tmp_path, "workspace", "info", "--json")
    assert info.returncode == 0, info.stderr
    data = json.loads(info.stdout)
    assert data["backend"] == "local"
    assert [s["id"] for s in data["spreadsheets"]] == [sid]
    assert len(data["forms"]) == 1
    assert (tmp_path / ".gsync" / "workspace").is_dir()
    again = gsync(tmp_path, "sheet", "init", "--json")
    assert again.returncode == 0 and json.loads(again.stdout)["changes"] == []


def test_errors_are_one_line_with_exit_codes(tmp_path: Path) -> None:
    missing = gsync(tmp_path, "workspace", "info")
    assert missing.returncode == 2
    assert "gsync init" in missing.stderr and "Traceback" not in missing.stderr
    (tmp_path / "gsync.toml").write_text(
        SAMPLE_CONFIG.replace('phase = "Y11"', 'phase = "Y9"'), encoding="utf-8"
    )
    bad = gsync(tmp_path, "workspace", "info")
    assert bad.returncode == 2 and "schools[0].phase" in bad.stderr
    (tmp_path / "gsync.toml").write_text(SAMPLE_CONFIG, encoding="utf-8")
    no_sheet = gsync(tmp_path, "sync")
    assert no_sheet.returncode == 2 and "gsync sheet init" in no_sheet.stderr


def test_help_and_version() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "gsync", "--help"], capture_output=True, text=True, check=True
    )
    for command in ("sheet", "roster", "form", "sync", "workspace", "emulator", "demo"):
        assert command in out.stdout
    version = subprocess.run(
        [sys.executable, "-m", "gsync", "--version"], capture_output=True, text=True, check=True
    )
    assert "gsync" in version.stdout
