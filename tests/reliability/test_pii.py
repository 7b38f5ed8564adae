"""No personal data in output, logs or error messages (issue 8).

Distinctive names, emails, phones and dates of birth are seeded through the roster and Form A
responses; every command runs at each verbosity (in-process, and a few as real subprocesses) and
stdout, stderr and every log record are scanned for them. Files the user explicitly asks for (the
contacts CSV, a subject export) are the only places they may appear.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from gsync.cli import main
from gsync.emulator.server import EmulatorServer
from tests.reliability.helpers import (
    DOB,
    FORENAME,
    PHONE_E164,
    SURNAME,
    SmallTrust,
    frames,
    secrets,
    seed_trust,
)

AS_OF = "2026-07-10"


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@pytest.fixture
def seeded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[SmallTrust]:
    server = EmulatorServer().start()
    try:
        trust = seed_trust(server.url, tmp_path)
        monkeypatch.setenv("GSYNC_EMULATOR_HOST", server.url.removeprefix("http://"))
        yield trust
    finally:
        server.stop()


def leaks(text: str) -> list[str]:
    """Which distinctive values occur in `text` (case-insensitive)."""
    low = text.lower()
    return [name for name, value in secrets().items() if value.lower() in low]


def bad_roster(trust: SmallTrust, path: Path) -> Path:
    """The roster with the distinctive pupil's row broken three ways (bad UPN, impossible date,
    duplicated): the error report must point at rows and columns, never echo the values."""
    text = trust.sample.roster_csv().decode("utf-8")
    lines = text.split("\r\n")
    special = next(i for i, line in enumerate(lines) if SURNAME in line)
    broken = lines[special].split(",")
    broken[0] = "Z" + broken[0][1:]
    lines[special] = ",".join(broken)
    dup = lines[special].replace("17/03/2010", "31/02/2010")
    lines.insert(special + 1, dup)
    path.write_text("\r\n".join(lines), encoding="utf-8")
    return path


def commands(trust: SmallTrust, tmp: Path) -> list[tuple[list[str], set[int]]]:
    """(arguments, allowed exit codes) for every command gsync has: a command that failed early
    would scan clean without proving anything, so exit codes are checked too."""
    bad = bad_roster(trust, tmp / "bad-roster.csv")
    good = tmp / "roster.csv"
    return [
        (["workspace", "info"], {0}),
        (["sheet", "init", "--dry-run"], {0}),
        (["sheet", "init"], {0}),
        (["roster", "import", str(bad), "--school", "Northfield"], {6}),
        (["roster", "import", str(good), "--school", "Northfield", "--dry-run"], {0}),
        (["form", "show", "--school", "Northfield"], {0}),
        (["form", "update", "--school", "Northfield", "--dry-run"], {0}),
        (["form", "letter", "--school", "Northfield", "--out", str(tmp / "letter")], {0}),
        (["sync", "--dry-run", "--as-of", AS_OF], {0}),
        (["sync", "--as-of", AS_OF], {0}),
        (["sync", "--json", "--as-of", AS_OF], {0}),
        (["status", "--as-of", AS_OF], {0}),
        (["status", "--json", "--as-of", AS_OF], {0}),
        (["contacts", "due", "--as-of", AS_OF], {0}),
        (["contacts", "due", "--as-of", AS_OF, "--out", str(tmp / "due.csv")], {0}),
        (["summary", "export", "--out", str(tmp / "website")], {0}),
        (["summary", "export", "--format", "html", "--out", str(tmp / "website-html")], {0}),
        (["trust", "aggregate", "--dry-run", "--as-of", AS_OF], {0}),
        (["purge", "--dry-run", "--as-of", "2029-09-01"], {0}),
        (["purge", "--as-of", "2026-07-10"], {0}),
        (["subject", "export", "--upn", trust.special.upn, "--out", str(tmp / "subj.json")], {0}),
        (["subject", "erase", "--upn", trust.special.upn, "--dry-run"], {0}),
        (["audit"], {0}),
        (["doctor"], {0, 1}),
        (["form", "create", "--school", "Southgate", "--dry-run"], {0}),
        (["roster", "import", str(good), "--school", "Northfield"], {0}),
        (["trust", "aggregate", "--as-of", AS_OF], {0}),
        (["sync", "--school", "Nowhere"], {2}),
    ]


def test_no_personal_data_in_any_output_or_log(
    seeded: SmallTrust, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    trust = seeded
    collect = _Collect()
    collect.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s %(args)s"))
    root = logging.getLogger()
    root.addHandler(collect)
    caplog.set_level(logging.DEBUG)
    runner = CliRunner()
    seen: dict[str, list[str]] = {}
    codes: dict[str, tuple[int, set[int]]] = {}
    try:
        # -v's records are a subset of -vv's (INFO within DEBUG) and stdout does not depend on
        # verbosity, so -v runs in the subprocess test below, keeping this test's time down.
        for verbosity in ([], ["-vv"]):
            for args, allowed in commands(trust, tmp_path):
                logging.getLogger("gsync").setLevel(logging.NOTSET)
                argv = ["--config", str(trust.config_path), *verbosity, *args]
                result = runner.invoke(main, argv)
                label = " ".join([*verbosity, *args[:4]])
                text = (result.output or "") + (result.stderr or "")
                if result.exception and not isinstance(result.exception, SystemExit):
                    text += repr(result.exception)
                seen[label] = leaks(text)
                codes[label] = (result.exit_code, allowed)
    finally:
        root.removeHandler(collect)
    wrong = {label: c for label, (c, ok) in codes.items() if c not in ok}
    assert not wrong, f"commands ended with unexpected exit codes: {wrong}"
    bad = {label: found for label, found in seen.items() if found}
    assert not bad, f"personal data in command output: {bad}"
    log_text = "\n".join(collect.lines) + "\n" + caplog.text
    assert collect.lines, "logging at -vv produced nothing: the scan would see nothing"
    assert not leaks(log_text), f"personal data in logs: {leaks(log_text)}"
    # Anonymised files the user asked for (website export) carry no personal data either.
    for folder in ("website", "website-html", "letter"):
        for path in (tmp_path / folder).rglob("*"):
            if path.is_file():
                found = leaks(path.read_text(encoding="utf-8", errors="replace"))
                assert not found, (path.name, found)
    # Positive controls: the values really went in, so the scan could have found them.
    dest = frames(trust.ws, trust.config)["destinations"]
    row = dest[dest["legal_surname"] == SURNAME]
    assert len(row) == 1 and row.iloc[0]["legal_forename"] == FORENAME
    assert row.iloc[0]["telephone"] == PHONE_E164
    assert DOB in row.iloc[0]["date_of_birth"] or "17/03/2010" in row.iloc[0]["date_of_birth"]
    tabs = frames(trust.ws, trust.config)
    responses = tabs["responses"]
    stranger = responses[responses["full_name"].str.contains("Plimquorth")]
    assert len(stranger) == 1 and stranger.iloc[0]["match_status"] == "unmatched"
    exceptions = tabs["exceptions"]
    assert (exceptions["response_id"] == stranger.iloc[0]["response_id"]).any()


def test_no_personal_data_from_a_real_process_at_debug(seeded: SmallTrust) -> None:
    """`python -m gsync ... -vv` as cron runs it: stderr holds the real logging output."""
    env = dict(os.environ)
    for level, args in (
        ("-v", ["sync", "--dry-run", "--as-of", AS_OF]),
        ("-vv", ["sync", "--as-of", AS_OF]),
        ("-v", ["status", "--as-of", AS_OF]),
        ("-vv", ["contacts", "due", "--as-of", AS_OF]),
    ):
        proc = subprocess.run(
            [sys.executable, "-m", "gsync", "--config", str(seeded.config_path), level, *args],
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
        )
        assert proc.returncode in (0, 7), (args, proc.returncode, proc.stderr[-500:])
        assert not leaks(proc.stdout + proc.stderr), (args, leaks(proc.stdout + proc.stderr))
    # A requested CSV of contact details does carry them (the scan is not blind).
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "gsync",
            "--config",
            str(seeded.config_path),
            "contacts",
            "due",
            "--as-of",
            "2026-10-20",
            "--format",
            "csv",
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr[-500:]
    assert "@" in proc.stdout
