"""The full fault-injection soak (`make soak`, not part of `make test`): >= 200 seeded scenarios.

170 in-process runs under seeded faults (random 500/503 rate, queued 429/500/503 and connection
resets on chosen methods, client timeouts before sending and after the server acted) and 40 real
`python -m gsync sync` processes SIGKILLed at seeded moments; after each, one clean run must leave
every pupil-level tab equal to a fault-free run's. The figures are printed at the end and written
to soak-figures.json in the test's temporary folder.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.reliability.faultlab import FaultLab

FAULTED = 170
KILLED = 40


def progress(capsys: pytest.CaptureFixture[str], lab: FaultLab, seed: int) -> None:
    """A line every 10 scenarios, so a long soak shows it is alive."""
    if (seed + 1) % 10 == 0:
        with capsys.disabled():
            figures = lab.figures
            print(
                f"soak: {figures.scenarios} scenarios, {figures.faults} faults, "
                f"{figures.kills} kills, {figures.lost} lost",
                flush=True,
            )


@pytest.mark.soak
def test_soak(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "lab").mkdir()
    lab = FaultLab(tmp_path / "lab", pupils=40, responses=50, seed=9)
    try:
        for seed in range(FAULTED):
            lab.restore()
            outcome = lab.faulted_run(10_000 + seed)
            assert outcome in ("written", "exit 4", "exit 5"), (seed, outcome)
            lab.check(f"faulted seed {10_000 + seed} ({outcome})")
            progress(capsys, lab, seed)
        for seed in range(KILLED):
            lab.restore()
            outcome = lab.killed_run(20_000 + seed, tmp_path)
            assert outcome in ("killed", "finished 0"), (seed, outcome)
            lab.check(f"kill seed {20_000 + seed} ({outcome})")
            progress(capsys, lab, seed)
    finally:
        lab.close()
    figures = lab.figures
    report = {
        "scenarios": figures.scenarios,
        "faults_injected": figures.faults,
        "processes_killed": figures.kills,
        "rows_compared": figures.rows_compared,
        "rows_lost": figures.lost,
        "rows_duplicated": figures.duplicated,
        "outcomes": figures.outcomes,
    }
    (tmp_path / "soak-figures.json").write_text(json.dumps(report, indent=2), encoding="utf-8")
    with capsys.disabled():
        print("\nsoak figures:", json.dumps(report, sort_keys=True))
    assert figures.scenarios == FAULTED + KILLED >= 200
    assert figures.lost == 0 and figures.duplicated == 0
    assert figures.kills >= KILLED // 4, "too few runs were actually killed mid-way"
