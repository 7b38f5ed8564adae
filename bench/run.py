"""`python -m bench`: build the synthetic trust, run the nightly job three ways, print the tables.

1. gsync, no added latency; 2. gsync under Google-like conditions (100 ms per request, Google's
per-user per-minute quotas answering 429); 3. the naive gspread baseline under both, capped to a
number of responses and extrapolated from its measured per-request cost (clearly labelled).
Then a scale curve (1x / 10x / 100x pupils) of the core and of the request count.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from bench.core import record, run_core
from bench.core_scale import Night
from bench.core_scale import markdown as core_markdown
from bench.core_scale import nights as core_nights
from bench.naive import naive_sync
from bench.trust import COHORTS, NOW, BenchTrust, build_trust
from gsync.sync import run_sync
from gsync.trust import aggregate_trust

LATENCY_MS = 100
QUOTA_PRESET = "google_per_user"
# Google's per-user per-minute write quota for Sheets (DESIGN.md §3): the naive floor.
SHEETS_WRITES_PER_MIN = 60


@dataclass
class Run:
    """One run of the whole nightly job: requests by method, wall time, 429s, failure if any."""

    name: str
    wall_s: float
    requests: dict[str, int]
    throttled: int  # 429 answers met (and retried)
    failed: str = ""
    responses: int = 0
    extrapolated: bool = False
    note: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.requests.values())


def _failure(exc: Exception) -> str:
    """A failed run as reported: the error's type and its message (gsync's messages name the
    problem, never a pupil)."""
    return f"{type(exc).__name__}: {exc}"[:400]


def _log_counts(trust: BenchTrust) -> tuple[dict[str, int], int]:
    log = trust.client.log()
    ok = Counter(e["method"] for e in log if e["status"] != 429)
    return dict(sorted(ok.items())), sum(1 for e in log if e["status"] == 429)


def _write_bytes(trust: BenchTrust) -> dict[str, int]:
    """The batchUpdate bodies sent (accepted or not): the largest and the total, in bytes."""
    sizes = [
        int(e.get("bytes", 0))
        for e in trust.client.log()
        if e["method"] == "sheets.spreadsheets.batchUpdate" and e["status"] != 429
    ]
    return {"largest_body": max(sizes, default=0), "body_bytes": sum(sizes)}


def _timed(job: Callable[[], object]) -> tuple[float, str]:
    """Run a job: its wall time, and its failure as reported ("" if none). A failed run is a
    result to report, not a crash of the benchmark."""
    start = time.perf_counter()
    try:
        job()
    except Exception as exc:
        return time.perf_counter() - start, _failure(exc)
    return time.perf_counter() - start, ""


def gsync_run(trust: BenchTrust, name: str, *, google_like: bool) -> Run:
    """The nightly job as shipped and scheduled (`gsync sync` = `run_sync`), from the saved
    pre-sync state. It writes the trust's aggregate (the 'Summary - Trust' tab) in its one write;
    `gsync trust aggregate` is a separate command (see `aggregate_run`)."""
    trust.restore()
    if google_like:
        trust.client.configure(latency_ms=LATENCY_MS, quotas=QUOTA_PRESET)
    wall, failed = _timed(lambda: run_sync(trust.ws, trust.config, now=NOW))
    requests, throttled = _log_counts(trust)
    trust.client.configure(latency_ms=0, quotas={})
    return Run(
        name,
        wall,
        requests,
        throttled,
        failed,
        responses=trust.submitted,
        extra=_write_bytes(trust),
    )


def aggregate_run(trust: BenchTrust) -> Run:
    """`gsync trust aggregate` after the sync: the 'Trust summary' and 'Compliance' tabs.

    Not part of the scheduled job (README: the job is `gsync sync`, whose write already holds the
    trust's aggregate, and which folds this in when schools keep their own spreadsheets); measured
    on its own so the cost of running it nightly as well is visible.
    """
    trust.client.clear_log()
    wall, failed = _timed(lambda: aggregate_trust(trust.ws, trust.config, now=NOW))
    requests, throttled = _log_counts(trust)
    return Run(
        "gsync trust aggregate (separate command, optional)",
        wall,
        requests,
        throttled,
        failed,
        note="Trust summary + Compliance tabs",
    )


def idle_run(trust: BenchTrust) -> Run:
    """The next night with nothing new: the same read, no write."""
    trust.client.clear_log()
    start = time.perf_counter()
    report = run_sync(trust.ws, trust.config, now=NOW)
    requests, throttled = _log_counts(trust)
    return Run(
        "gsync, next night (nothing new)",
        time.perf_counter() - start,
        requests,
        throttled,
        note="wrote nothing" if not report.written else "wrote",
    )


def steady_run(trust: BenchTrust, per_school: int = 3) -> Run:
    """A quiet night in term, after the first night: a few pupils per school submit again (a
    newer answer to the same form), then the job runs. Its write is small: only the changed rows
    of each tab, derived tabs included."""
    config = trust.config
    when = NOW - dt.timedelta(hours=1)
    for name, cohorts in trust.samples.items():
        school = config.school(name)
        for response in cohorts[0].responses[:per_school]:
            body = response.form_response(dict(school.form_questions))
            trust.client.submit_response(
                str(school.form_id),
                {q: [a["value"] for a in ans["textAnswers"]["answers"]] for q, ans in body["answers"].items()},
                respondent_email=response.respondent_email or "leaver@example.com",
                submitted_at=when,
            )  # fmt: skip
    trust.client.clear_log()
    wall, failed = _timed(lambda: run_sync(trust.ws, trust.config, now=NOW))
    requests, throttled = _log_counts(trust)
    return Run(
        f"gsync, a steady night ({per_school} new per school)",
        wall,
        requests,
        throttled,
        failed,
        extra=_write_bytes(trust),
    )


def naive_run(trust: BenchTrust, name: str, *, google_like: bool, cap: int) -> Run:
    """The naive baseline on the first `cap` responses, extrapolated to all of them."""
    trust.restore()
    if google_like:
        trust.client.configure(latency_ms=LATENCY_MS, quotas=QUOTA_PRESET)
    result = naive_sync(trust.server.url, trust.config, limit=cap)
    requests, throttled = _log_counts(trust)
    trust.client.configure(latency_ms=0, quotas={})
    measured = sum(requests.values())
    run = Run(name, result.wall_s, requests, throttled, responses=result.responses_done)
    run.extra = {"measured_requests": measured, "measured_wall_s": result.wall_s,
                 "measured_responses": result.responses_done,
                 "writes": result.writes}  # fmt: skip
    if result.responses_done < result.responses_total and result.responses_done:
        share = result.responses_total / result.responses_done
        fixed = measured - result.writes  # open, reads, lists: paid once per run
        writes = result.writes * share
        total = fixed + writes
        per_request = result.wall_s / max(measured, 1)
        wall = per_request * total
        floor = 0.0
        if google_like:
            # Under quota no run can beat Google's write limit or the latency of every call.
            floor = max(writes / SHEETS_WRITES_PER_MIN * 60.0, total * LATENCY_MS / 1000.0)
        run.wall_s = max(wall, floor)
        run.requests = {"(estimated total)": round(total)}
        run.extrapolated = True
        run.responses = result.responses_total
        run.note = (
            f"measured {result.responses_done} of {result.responses_total} responses "
            f"({measured} requests, {result.wall_s:.1f} s, {per_request * 1000:.1f} ms/request); "
            f"extrapolated linearly"
            + (f"; quota floor {floor / 60:.1f} min" if google_like else "")
        )
    return run


@dataclass
class CurvePoint:
    scale: int
    pupils: int
    responses: int
    requests: dict[str, int]
    core_cpu_s: float
    core_wall_s: float
    core_peak_mb: float
    sync_wall_s: float
    naive_requests_est: int
    failed: str = ""


def curve_point(
    tmp: Path, scale: int, schools: int, pupils: int, naive_per_response: float
) -> CurvePoint:
    trust = build_trust(tmp / f"curve-{scale}", schools, pupils)
    try:
        rec = record(trust.ws, trust.config)
        core = run_core(rec, trust.config)
        run = gsync_run(trust, f"{scale}x", google_like=False)
        return CurvePoint(
            scale=scale,
            pupils=trust.pupils,
            responses=rec.response_count,
            requests=run.requests,
            core_cpu_s=core.cpu_s,
            core_wall_s=core.wall_s,
            core_peak_mb=core.peak_mb,
            sync_wall_s=run.wall_s,
            naive_requests_est=round(3 + 2 + schools + naive_per_response * rec.response_count),
            failed=run.failed,
        )
    finally:
        trust.stop()


def machine() -> dict[str, str]:
    mem = ""
    try:
        with open("/proc/meminfo", encoding="ascii") as fh:
            kb = int(fh.readline().split()[1])
            mem = f"{kb / 2**20:.1f} GiB"
    except OSError:
        pass
    return {
        "cpus": str(os.cpu_count()),
        "memory": mem,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
    }


def _fmt_requests(requests: dict[str, int]) -> str:
    return "<br>".join(
        f"{k.removeprefix('sheets.').removeprefix('forms.')}: {v}" for k, v in requests.items()
    )


def report_markdown(args: argparse.Namespace, info: dict[str, Any]) -> str:
    runs: list[Run] = info["runs"]
    out = ["## Machine", ""]
    out += [f"- {k}: {v}" for k, v in info["machine"].items()]
    out += ["", "## Command", "", f"`{info['command']}`", ""]
    out += [f"Trust: {info['schools']} schools x {len(COHORTS)} cohorts x {args.pupils} pupils = "
            f"{info['pupils']} pupil rows, {info['responses']} submitted responses, "
            f"{info['forms']} forms. Built in {info['build_s']:.0f} s (not measured).", ""]  # fmt: skip
    out += ["## The nightly job, three ways", ""]
    out += ["| run | requests (by method) | total | wall time | 429s met | failed | largest write body | note |",
            "|---|---|---:|---:|---:|---|---:|---|"]  # fmt: skip
    for r in runs:
        wall = f"{'~' if r.extrapolated else ''}{r.wall_s:.2f} s"
        if r.wall_s > 600:
            wall += f" (~{r.wall_s / 3600:.1f} h)"
        body = f"{r.extra['largest_body'] / 2**20:.2f} MiB" if r.extra.get("largest_body") else "-"
        out.append(f"| {r.name} | {_fmt_requests(r.requests)} | {'~' if r.extrapolated else ''}{r.total} "
                   f"| {wall} | {r.throttled} | {r.failed or 'no'} | {body} | {r.note} |")  # fmt: skip
    core = info["core"]
    out += ["", "## gsync's core (pure compute, replayed on the data the job read)", "",
            "| pupil rows | responses | CPU | wall | peak memory (tracemalloc) | requests in the one batchUpdate |",
            "|---:|---:|---:|---:|---:|---:|",
            f"| {info['pupils']} | {info['responses']} | {core['cpu_s']:.2f} s | {core['wall_s']:.2f} s "
            f"| {core['peak_mb']:.0f} MB | {core['requests_planned']} |", ""]  # fmt: skip
    ratios = info["ratios"]
    out += ["## Ratios gsync / naive", ""]
    out += [
        "| conditions | requests | wall time | naive / gsync (speed-up) |",
        "|---|---:|---:|---:|",
    ]
    for cond, r in ratios.items():
        out.append(f"| {cond} | {r['requests']:.4f} | {r['wall']:.4f} | {1 / r['wall']:.0f}x |")
    if info["curve"]:
        out += ["", "## Scale curve", "",
                "| scale | pupil rows | responses | requests (gsync) | core CPU | core peak | sync wall (no latency) | naive requests (estimated) |",
                "|---|---:|---:|---|---:|---:|---:|---:|"]  # fmt: skip
        for p in info["curve"]:
            out.append(f"| {p.scale}x | {p.pupils} | {p.responses} | {sum(p.requests.values())}: "
                       f"{_fmt_requests(p.requests)} | {p.core_cpu_s:.2f} s | {p.core_peak_mb:.0f} MB "
                       f"| {p.sync_wall_s:.2f} s{' FAILED: ' + p.failed if p.failed else ''} | ~{p.naive_requests_est} |")  # fmt: skip
    if info.get("core_curve"):
        out += ["", "## The core alone, in memory (bench/core_scale.py: first and steady night)", "",
                core_markdown(info["core_curve"])]  # fmt: skip
    return "\n".join(out) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--schools", type=int, default=20)
    parser.add_argument("--pupils", type=int, default=250, help="pupils per school per cohort")
    parser.add_argument("--scale", type=str, default="1,10,100",
                        help="scale curve multipliers of --curve-pupils ('' to skip)")  # fmt: skip
    parser.add_argument("--curve-schools", type=int, default=2)
    parser.add_argument("--curve-pupils", type=int, default=167,
                        help="pupils per school per cohort at 1x (2 x 3 x 167 = ~1,000 rows)")  # fmt: skip
    parser.add_argument("--naive-cap", type=int, default=400,
                        help="responses the naive baseline syncs without latency")  # fmt: skip
    parser.add_argument("--naive-google-cap", type=int, default=60,
                        help="responses the naive baseline syncs under Google-like quota")  # fmt: skip
    parser.add_argument("--no-google", action="store_true", help="skip the Google-like runs")
    parser.add_argument("--core-rows", type=str, default="3000,10000,30000,100000",
                        help="pupil rows for the in-memory core curve (bench/core_scale.py; '' to skip)")  # fmt: skip
    parser.add_argument("--out", type=Path, help="also write the tables (markdown) here")
    parser.add_argument("--json", type=Path, help="also write the raw numbers (JSON) here")
    args = parser.parse_args(argv)

    tmp = Path(tempfile.mkdtemp(prefix="gsync-bench-"))
    print(
        f"building the trust: {args.schools} schools x {len(COHORTS)} cohorts x {args.pupils} pupils ...",
        file=sys.stderr,
    )
    start = time.perf_counter()
    trust = build_trust(tmp / "main", args.schools, args.pupils)
    build_s = time.perf_counter() - start
    runs: list[Run] = []
    try:
        rec = record(trust.ws, trust.config)
        core = run_core(rec, trust.config)
        print(f"core: {core.cpu_s:.2f} s CPU, {core.peak_mb:.0f} MB", file=sys.stderr)
        fast = gsync_run(trust, "gsync, no latency", google_like=False)
        runs.append(fast)
        runs.append(aggregate_run(trust))
        runs.append(idle_run(trust))
        runs.append(steady_run(trust))
        naive_fast = naive_run(
            trust, "naive gspread, no latency", google_like=False, cap=args.naive_cap
        )
        runs.append(naive_fast)
        ratios = {
            "no latency": {
                "requests": fast.total / naive_fast.total,
                "wall": fast.wall_s / naive_fast.wall_s,
            }
        }
        if not args.no_google:
            print("Google-like runs (100 ms per request, per-user quotas) ...", file=sys.stderr)
            slow = gsync_run(trust, "gsync, Google-like", google_like=True)
            runs.append(slow)
            naive_slow = naive_run(
                trust, "naive gspread, Google-like", google_like=True, cap=args.naive_google_cap
            )
            runs.append(naive_slow)
            ratios["Google-like"] = {
                "requests": slow.total / naive_slow.total,
                "wall": slow.wall_s / naive_slow.wall_s,
            }
        per_response = naive_fast.extra["writes"] / max(naive_fast.extra["measured_responses"], 1)
        pupils_rows, responses, forms = trust.pupils, trust.submitted, len(rec.forms)
    finally:
        trust.stop()
    curve = []
    for text in [s for s in args.scale.split(",") if s.strip()]:
        scale = int(text)
        print(f"scale {scale}x ...", file=sys.stderr)
        curve.append(
            curve_point(tmp, scale, args.curve_schools, args.curve_pupils * scale, per_response)
        )
    core_curve: list[Night] = []
    for rows in [int(s) for s in args.core_rows.split(",") if s.strip()]:
        print(f"core curve: {rows} pupil rows ...", file=sys.stderr)
        core_curve.extend(core_nights(rows))
    info = {
        "machine": machine(),
        "command": "python -m bench " + " ".join(argv if argv is not None else sys.argv[1:]),
        "schools": args.schools,
        "pupils": pupils_rows,
        "responses": responses,
        "forms": forms,
        "build_s": build_s,
        "runs": runs,
        "core": {
            "cpu_s": core.cpu_s,
            "wall_s": core.wall_s,
            "peak_mb": core.peak_mb,
            "requests_planned": core.requests_planned,
        },
        "ratios": ratios,
        "curve": curve,
        "core_curve": core_curve,
    }
    text = report_markdown(args, info)
    print(text)
    if args.out:
        args.out.write_text(text, encoding="utf-8")
    if args.json:
        raw = {
            **info,
            "runs": [asdict(r) for r in runs],
            "curve": [asdict(p) for p in curve],
            "core_curve": [asdict(n) for n in core_curve],
        }
        args.json.write_text(json.dumps(raw, indent=2), encoding="utf-8")
    return 0 if all(not r.failed for r in runs) and all(not p.failed for p in curve) else 1
