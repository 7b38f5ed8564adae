"""Whether two checkouts' nightly core gives the same output: the proof behind issue 7's speed-ups.

Every speed-up of the core must leave the nights' output as it was. The unit tests compare each
fast path with a frozen copy of the code it replaced; this compares the whole of both nights on a
synthetic trust of any size, as the lead did at the end of each benchmark session:

    python -m bench.nights_equal dump --rows 100000 --out /tmp/new.json.gz      # in this checkout
    (cd ../old && python -m bench.nights_equal dump --rows 100000 --out /tmp/old.json.gz)
    python -m bench.nights_equal compare /tmp/old.json.gz /tmp/new.json.gz

`dump` builds the trust as `bench.core_scale` does (the same seed: the same trust in any checkout
whose builder is unchanged), runs its first night and the steady night after it, and writes each
night's tabs (every cell with its type) and the state tab's rows (the merge's memos) as gzipped
JSON. `compare` says where two dumps differ, naming tabs, columns and rows, never a cell's text
(the trust is synthetic, but the habit is the project's). Exit codes: 0 identical, 1 different,
2 usage. The sheet ids of new tabs are random by design (`sheetio.new_sheet_id`), so write plans
are not compared; what they write is the tabs compared here.
"""

from __future__ import annotations

import argparse
import gzip
import json
import sys
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from bench import core_scale as cs
from gsync.batchgc import collector_paused

#: How many differences `compare` lists before it stops listing.
SHOWN = 20


def frame_cells(frame: pd.DataFrame) -> dict[str, Any]:
    """A frame as plain JSON data: its columns, dtypes, index and each cell as [type, text]."""
    return {
        "columns": [str(c) for c in frame.columns],
        "dtypes": [str(t) for t in frame.dtypes],
        "index": [repr(i) for i in frame.index],
        "cells": {
            str(c): [[type(v).__name__, v if isinstance(v, str) else repr(v)] for v in frame[c]]
            for c in frame.columns
        },
    }


def run_nights(rows: int, schools: int = cs.SCHOOLS) -> dict[str, Any]:
    """Both nights' output (tabs, state rows, schools merged from memos) on the built trust."""
    with tempfile.TemporaryDirectory() as tmp:
        trust = cs.build(rows, Path(tmp), schools=schools)
    first_raw = {
        s: [r for r in rs if r["responseId"] not in trust.held_back] for s, rs in trust.raw.items()
    }
    out: dict[str, Any] = {"rows": rows, "schools": schools}
    state: dict[str, str] = {}
    reused: dict[str, int] = {}
    with collector_paused():
        tabs, plan, _ = cs.run_night(
            trust, trust.snapshot, first_raw, state_out=state, memo_out=reused
        )
    out["first"] = {
        "tabs": {k: frame_cells(f) for k, f in sorted(tabs.items())},
        "state": dict(sorted(state.items())),
        "reused": dict(sorted(reused.items())),
    }
    after = cs.with_written_tabs(
        cs.sheet_snapshot(trust.template, tabs, state), plan, [trust.template.tab("risk").title]
    )
    del tabs, plan
    state, reused = {}, {}
    with collector_paused():
        tabs, _, _ = cs.run_night(trust, after, trust.raw, state_out=state, memo_out=reused)
    out["steady"] = {
        "tabs": {k: frame_cells(f) for k, f in sorted(tabs.items())},
        "state": dict(sorted(state.items())),
        "reused": dict(sorted(reused.items())),
    }
    return out


def differences(a: Mapping[str, Any], b: Mapping[str, Any]) -> list[str]:
    """Where dump `b` differs from dump `a`, a line each (positions and names, no cell text)."""
    found: list[str] = []
    if (a.get("rows"), a.get("schools")) != (b.get("rows"), b.get("schools")):
        found.append(
            f"trust: {a.get('rows')} rows, {a.get('schools')} schools against "
            f"{b.get('rows')} rows, {b.get('schools')} schools"
        )
    for night in ("first", "steady"):
        x, y = a.get(night, {}), b.get(night, {})
        for part in ("state", "reused"):
            one, two = x.get(part, {}), y.get(part, {})
            for key in sorted(one.keys() | two.keys()):
                if one.get(key) != two.get(key):
                    found.append(f"{night} night: {part} row {key!r} differs")
        tabs, others = x.get("tabs", {}), y.get("tabs", {})
        for key in sorted(tabs.keys() ^ others.keys()):
            found.append(f"{night} night: tab {key!r} in one dump only")
        for key in sorted(tabs.keys() & others.keys()):
            found += [
                f"{night} night: tab {key!r}: {d}" for d in _tab_differences(tabs[key], others[key])
            ]
    return found


def _tab_differences(x: Mapping[str, Any], y: Mapping[str, Any]) -> list[str]:
    found = []
    for part in ("columns", "dtypes", "index"):
        if x[part] != y[part]:
            found.append(f"its {part} differ")
    for column in x["columns"]:
        if column not in y["cells"]:
            continue
        one, two = x["cells"][column], y["cells"][column]
        rows = [i for i, (p, q) in enumerate(zip(one, two, strict=False)) if p != q]
        if len(one) != len(two):
            found.append(f"column {column!r} has {len(one)} cells against {len(two)}")
        if rows:
            shown = ", ".join(str(i + 2) for i in rows[:5])  # sheet rows: the header is row 1
            more = f" and {len(rows) - 5} more" if len(rows) > 5 else ""
            found.append(f"column {column!r} differs at rows {shown}{more}")
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.nights_equal", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    dump = sub.add_parser("dump", help="run both nights and write their output")
    dump.add_argument("--rows", type=int, default=10_000, help="pupil rows (default: %(default)s)")
    dump.add_argument("--schools", type=int, default=cs.SCHOOLS)
    dump.add_argument("--out", type=Path, required=True, help="the dump to write (.json.gz)")
    compare = sub.add_parser("compare", help="say where two dumps differ (exit 1 if they do)")
    compare.add_argument("old", type=Path)
    compare.add_argument("new", type=Path)
    args = parser.parse_args(argv)
    if args.command == "dump":
        data = run_nights(args.rows, args.schools)
        with gzip.open(args.out, "wt", encoding="utf-8") as f:
            json.dump(data, f)
        print(f"wrote {args.out}: both nights of {args.rows} pupil rows", file=sys.stderr)
        return 0
    loaded = []
    for path in (args.old, args.new):
        try:
            with gzip.open(path, "rt", encoding="utf-8") as f:
                loaded.append(json.load(f))
        except (OSError, ValueError) as error:
            print(f"cannot read {path} as a dump ({error}): make it with 'dump'", file=sys.stderr)
            return 2
    found = differences(loaded[0], loaded[1])
    if not found:
        tabs = sum(len(loaded[0][n]["tabs"]) for n in ("first", "steady"))
        print(f"identical: both nights, {tabs} tabs and the state rows")
        return 0
    for line in found[:SHOWN]:
        print(line)
    if len(found) > SHOWN:
        print(f"... and {len(found) - SHOWN} more differences")
    return 1


if __name__ == "__main__":
    raise SystemExit(main())
