"""The fast fault-injection subset (part of `make test`): a handful of seeded scenarios.

Faulted in-process runs (429/500/503, connection resets, client timeouts before sending and
after the server acted), real `python -m gsync sync` processes SIGKILLed at seeded moments, and
two and four real processes syncing at once. After each, one clean run must leave the spreadsheet
equal to a fault-free run's: nothing lost, nothing duplicated, staff edits kept.
The full soak (>= 200 scenarios) is tests/reliability/test_soak.py (`make soak`).
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from gsync.errors import LockedError
from gsync.sync import run_sync
from tests.reliability.faultlab import (
    NOW,
    FaultLab,
    TimeoutInjector,
    barrier_before_writes,
    remove_barrier,
    start_sync,
)


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FaultLab]:
    lab = FaultLab(tmp_path_factory.mktemp("faultlab"))
    yield lab
    lab.close()


def test_baseline_has_work_staff_edits_and_exceptions(lab: FaultLab) -> None:
    """The scenarios mean something: S0 differs from the baseline, which keeps staff edits."""
    lab.restore()
    assert lab.compared() != lab.baseline
    assert len(lab.baseline["responses"]) > 20 and len(lab.baseline["exceptions"]) > 0
    assert len(lab.staff_upns) == 3


@pytest.mark.parametrize("seed", [101, 202, 303, 404])
def test_faulted_run_then_clean_run_equals_fault_free(lab: FaultLab, seed: int) -> None:
    lab.restore()
    before = lab.figures.faults
    outcome = lab.faulted_run(seed)
    assert outcome in ("written", "exit 4", "exit 5"), outcome
    assert lab.figures.faults > before, "the scenario injected no fault"
    lab.check(f"seed {seed} ({outcome})")


def test_lost_answer_to_the_write_is_not_a_duplicate(lab: FaultLab) -> None:
    """Google applied the batch but the answer was lost; the retried batch is refused whole by
    the state-tab guard (exit 5), and the spreadsheet holds the write exactly once."""
    lab.restore()
    lab.server.controls.configure(latency_ms=0)

    class LoseWrite(TimeoutInjector):
        def _roll(self, url: str) -> str | None:
            if ":batchUpdate" in url and not self.injected:
                self.injected += 1
                return "after"
            return None

    with pytest.raises(LockedError), LoseWrite(random.Random(0), 1.0).installed():
        run_sync(lab.trust.ws, lab.trust.config, now=NOW)
    assert lab.compared() == lab.baseline  # the first attempt's write is there, once
    assert not lab.check("lost answer")  # and a clean run finds nothing left to do


@pytest.mark.parametrize("seed", [7, 8])
def test_killed_process_then_clean_run_equals_fault_free(
    lab: FaultLab, seed: int, tmp_path: Path
) -> None:
    lab.restore()
    outcome = lab.killed_run(seed, tmp_path)
    assert outcome in ("killed", "finished 0"), outcome
    lab.check(f"kill seed {seed} ({outcome})")  # no lease to wait for: runs at once


def test_kill_mid_run_leaves_nothing_half_written(lab: FaultLab, tmp_path: Path) -> None:
    """Killed while its write is held at the server: the spreadsheet is still S0, whole."""
    lab.restore()
    s0 = lab.compared()
    barrier_before_writes(lab.server, readers=99, timeout_s=60)
    try:
        proc = start_sync(lab.trust, tmp_path)
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and not any(
            e["method"] == "sheets.spreadsheets.get" for e in lab.server.controls.log
        ):
            time.sleep(0.05)
        time.sleep(0.5)
        proc.kill()
        proc.wait()
    finally:
        remove_barrier(lab.server)
    assert lab.compared() == s0
    assert lab.check("killed before its write")


@pytest.mark.parametrize("runs", [2, 4])
def test_concurrent_processes_one_writes_others_exit_5(
    lab: FaultLab, runs: int, tmp_path: Path
) -> None:
    lab.restore()
    barrier_before_writes(lab.server, readers=runs)
    try:
        procs = [start_sync(lab.trust, tmp_path) for _ in range(runs)]
        results = [(p.wait(timeout=180), *p.communicate()) for p in procs]
    finally:
        remove_barrier(lab.server)
    codes = sorted(code for code, _out, _err in results)
    assert codes == [0] + [5] * (runs - 1), [(c, e[-300:]) for c, _o, e in results]
    winner = next(out for code, out, _err in results if code == 0)
    assert json.loads(winner)["written"] is True
    for code, _out, err in results:
        if code == 5:
            assert "Another gsync run wrote" in err and "nothing" in err
    assert not lab.check(f"{runs} at once")  # the winner's write is the fault-free result
