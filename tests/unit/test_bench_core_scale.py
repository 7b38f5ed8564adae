"""bench.core_scale at a tiny size: the steady night is merged from the memos the first left."""

from __future__ import annotations

from pathlib import Path

from bench import core_scale
from gsync import disclosure, responses, risk
from gsync.sheetio import CellBlock, WritePlan


def test_the_steady_night_merges_every_school_from_its_memo() -> None:
    first, steady = core_scale.nights(300, memory=False, schools=2)
    assert (first.night, steady.night) == ("first", "steady")
    assert first.memo_schools == 0 and first.memo_responses == 0
    assert steady.memo_schools == 2
    # Every logged response but the few new ones (and those of the pupils they touch).
    assert 0 < steady.memo_responses < steady.responses
    assert steady.memo_responses >= steady.responses - 4 * core_scale.STEADY_NEW_PER_SCHOOL
    assert "2 schools" in core_scale.markdown([first, steady])


def test_the_next_night_reads_the_risk_rows_the_first_night_wrote(tmp_path: Path) -> None:
    trust = core_scale.build(300, tmp_path, schools=2)
    held = trust.held_back
    first_raw = {s: [r for r in rs if r["responseId"] not in held] for s, rs in trust.raw.items()}
    tabs, plan, _ = core_scale.run_night(trust, trust.snapshot, first_raw)
    title = trust.template.tab("risk").title
    after = core_scale.with_written_tabs(
        core_scale.sheet_snapshot(trust.template, tabs), plan, [title]
    )
    risk_id = trust.snapshot.tabs[title].sheet_id

    def risk_rows(p: WritePlan) -> int:
        blocks = [b for b in p.items if isinstance(b, CellBlock) and b.sheet == risk_id]
        return sum(len(list(b.values())) for b in blocks)

    written = risk_rows(plan)
    assert written > 10 and len(after.grid(title)) == written + 1  # the header, then the rows
    _, steady, _ = core_scale.run_night(trust, after, trust.raw)
    assert risk_rows(steady) < written / 2  # compared with what the tab shows, not rewritten
    charts = [r for r in plan.items if isinstance(r, dict) and "addChart" in r]
    assert charts and sum(after.charts.values()) == len(charts)
    assert not [r for r in steady.items if isinstance(r, dict) and "addChart" in r]


def test_each_measured_night_starts_with_a_fresh_process_caches(tmp_path: Path) -> None:
    """A night run in this process warms the disclosure check's memos and gsync's functools
    caches; `fresh_caches` empties them all, as a nightly job's own process starts."""
    trust = core_scale.build(300, tmp_path, schools=2)
    core_scale.run_night(trust, trust.snapshot, trust.raw)
    cached = [
        f
        for m in (disclosure, responses, risk)
        for f in vars(m).values()
        if callable(getattr(f, "cache_info", None))
    ]
    assert disclosure._LAST and disclosure._PINNED_MEMO
    assert cached and any(f.cache_info().currsize for f in cached)
    core_scale.fresh_caches()
    assert not disclosure._LAST and not disclosure._PINNED_MEMO
    assert all(f.cache_info().currsize == 0 for f in cached)
