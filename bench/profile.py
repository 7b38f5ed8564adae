"""Profile one night of the sync's core with pyinstrument: `python -m bench.profile`.

Issue 7 asks for a profile wherever a target is missed. This builds the same synthetic trust as
`bench.core_scale` (not measured), runs the first night, and profiles the night asked for
(`steady`: the spreadsheet the first night left plus a few new responses; `first`: every response
new) with pyinstrument's sampling profiler, the stages `bench.core_scale.run_night` times marked
by their functions. The report is pyinstrument's call tree as text (or HTML with `--html`).
"""

from __future__ import annotations

import argparse
import gc
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from pyinstrument import Profiler

from bench.core_scale import (
    SCHOOLS,
    Trust,
    build,
    fresh_caches,
    run_night,
    sheet_snapshot,
    with_written_tabs,
)
from gsync.batchgc import collector_paused
from gsync.sheetio import Snapshot

NIGHTS = ("steady", "first")


def night_inputs(trust: Trust, night: str) -> tuple[Snapshot, dict[str, list[dict[str, object]]]]:
    """The snapshot and responses of `night` (the steady night's needs the first night run)."""
    first_raw = {
        s: [r for r in rs if r["responseId"] not in trust.held_back] for s, rs in trust.raw.items()
    }
    if night == "first":
        return trust.snapshot, first_raw
    state: dict[str, str] = {}
    with collector_paused():
        tabs, plan, _ = run_night(trust, trust.snapshot, first_raw, state_out=state)
    after = with_written_tabs(
        sheet_snapshot(trust.template, tabs, state), plan, [trust.template.tab("risk").title]
    )
    return after, trust.raw


def profile_night(trust: Trust, night: str, interval: float) -> Profiler:
    """pyinstrument's session of one `run_night` (as `run_sync` runs it: collector paused)."""
    snapshot, raw = night_inputs(trust, night)
    fresh_caches()  # as a fresh process (the steady night's inputs ran the first night)
    gc.collect()
    profiler = Profiler(interval=interval)
    with collector_paused():
        profiler.start()
        try:
            run_night(trust, snapshot, raw)
        finally:
            profiler.stop()
    return profiler


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.profile", description=__doc__)
    parser.add_argument(
        "--rows", type=int, default=100_000, help="pupil rows (default: %(default)s)"
    )
    parser.add_argument("--schools", type=int, default=SCHOOLS)
    parser.add_argument("--night", choices=NIGHTS, default="steady")
    parser.add_argument("--interval", type=float, default=0.001, help="sampling interval, s")
    parser.add_argument("--html", type=Path, help="also write pyinstrument's HTML report here")
    args = parser.parse_args(argv)
    print(f"building {args.rows} pupil rows ({args.schools} schools) ...", file=sys.stderr)
    with tempfile.TemporaryDirectory() as tmp:
        trust = build(args.rows, Path(tmp), schools=args.schools)
    profiler = profile_night(trust, args.night, args.interval)
    print(profiler.output_text(unicode=False, color=False, show_all=False))
    if args.html:
        args.html.write_text(profiler.output_html(), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
