"""The nightly job's pure core, measured alone: `run_sync` replayed on data read beforehand.

The I/O seams of `gsync.sync` (read the spreadsheet, get each form, list its responses, write the
plan) are swapped for what was read from the emulator once, so the production code path runs
unchanged and only the compute is timed: normalise, match, merge, three attempts, deadlines,
the write diff (and summaries when the sync writes them).
"""

from __future__ import annotations

import gc
import time
import tracemalloc
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from unittest import mock

from bench.core_scale import fresh_caches
from bench.trust import NOW
from gsync import sync as sync_mod
from gsync.config import Config
from gsync.formsync import get_form, list_responses
from gsync.sheetio import Snapshot, WritePlan, read_snapshot
from gsync.workspace import Workspace


@dataclass
class Recorded:
    """Everything the nightly job reads, read once: the spreadsheet and each form with its answers."""

    snapshot: Snapshot
    forms: dict[str, dict[str, Any]]
    responses: dict[str, list[dict[str, Any]]]

    @property
    def response_count(self) -> int:
        return sum(len(r) for r in self.responses.values())


def record(ws: Workspace, config: Config) -> Recorded:
    """Read what `run_sync` reads (through the same functions)."""
    snapshot = read_snapshot(ws, sync_mod.trust_spreadsheet_id(config))
    forms: dict[str, dict[str, Any]] = {}
    responses: dict[str, list[dict[str, Any]]] = {}
    for school in config.schools:
        if school.form_id:
            forms[school.form_id] = get_form(ws, school.form_id)
            responses[school.form_id] = list_responses(ws, school.form_id)
    return Recorded(snapshot, forms, responses)


@dataclass
class CoreResult:
    cpu_s: float
    wall_s: float
    peak_mb: float
    requests_planned: int  # requests inside the one batchUpdate the run would send
    report: Any


@contextmanager
def _replaying(rec: Recorded, config: Config) -> Iterator[list[WritePlan]]:
    plans: list[WritePlan] = []
    template = sync_mod.load_template(config)
    rules = sync_mod.load_rules(config)

    def apply(ws: Any, plan: WritePlan, state: dict[str, str]) -> None:
        plans.append(plan)

    with (
        mock.patch.object(sync_mod, "read_snapshot", lambda ws, sid: rec.snapshot),
        mock.patch.object(sync_mod, "get_form", lambda ws, fid: rec.forms[fid]),
        mock.patch.object(sync_mod, "list_responses", lambda ws, fid: rec.responses[fid]),
        mock.patch.object(sync_mod, "apply_plan", apply),
        mock.patch.object(sync_mod, "load_template", lambda config: template),
        mock.patch.object(sync_mod, "load_rules", lambda config: rules),
    ):
        yield plans


def run_core(rec: Recorded, config: Config, *, memory: bool = True) -> CoreResult:
    """Replay the nightly job's compute: CPU and wall time in one pass, peak memory in another
    (tracemalloc slows Python down, so it never runs during the timed pass)."""
    with _replaying(rec, config) as plans:
        fresh_caches()  # as the nightly job starts, whatever ran before in this process
        gc.collect()
        cpu0, wall0 = time.process_time(), time.perf_counter()
        report = sync_mod.run_sync(None, config, now=NOW)  # type: ignore[arg-type]
        cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
        peak = 0.0
        if memory:
            fresh_caches()
            gc.collect()
            tracemalloc.start()
            try:
                sync_mod.run_sync(None, config, now=NOW)  # type: ignore[arg-type]
                peak = tracemalloc.get_traced_memory()[1] / 2**20
            finally:
                tracemalloc.stop()
    planned = len(plans[0].requests) if plans else 0
    return CoreResult(cpu, wall, peak, planned, report)
