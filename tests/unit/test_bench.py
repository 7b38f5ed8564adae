"""Smoke test of the benchmark at a tiny size, so `make bench` cannot rot."""

from __future__ import annotations

from pathlib import Path

from bench.core import record, run_core
from bench.run import aggregate_run, gsync_run, idle_run, naive_run, steady_run
from bench.trust import build_trust, config_text


def test_config_text_lists_every_school() -> None:
    text = config_text(3)
    assert text.count("[[schools]]") == 3
    assert 'phase = "Y13"' not in text  # the fourth school is the first sixth form
    assert 'phase = "Y13"' in config_text(4)


def test_tiny_bench_counts_requests_and_extrapolates_the_naive_baseline(tmp_path: Path) -> None:
    trust = build_trust(tmp_path, schools=1, pupils=8)
    try:
        assert trust.pupils == 3 * (8 + 2)  # three cohorts, each with a pair of twins
        rec = record(trust.ws, trust.config)
        core = run_core(rec, trust.config)
        assert core.cpu_s > 0 and core.peak_mb > 0
        assert core.requests_planned > 0  # the first night writes
        run = gsync_run(trust, "gsync", google_like=False)
        assert not run.failed
        # The nightly job (`gsync sync`, trust aggregate tab included): the floor of one read
        # and one write of the spreadsheet; one get and one list for the form.
        assert run.requests == {
            "forms.forms.get": 1,
            "forms.forms.responses.list": 1,
            "sheets.spreadsheets.batchUpdate": 1,
            "sheets.spreadsheets.get": 1,
        }
        # `gsync trust aggregate`, a separate command: one read and one write more.
        extra = aggregate_run(trust)
        assert not extra.failed
        assert extra.requests == {
            "sheets.spreadsheets.batchUpdate": 1,
            "sheets.spreadsheets.get": 1,
        }
        assert 0 < run.extra["largest_body"] == run.extra["body_bytes"]
        idle = idle_run(trust)
        assert "sheets.spreadsheets.batchUpdate" not in idle.requests
        # A steady night (a few pupils answer again): one read, one small write.
        steady = steady_run(trust, per_school=2)
        assert not steady.failed
        assert steady.requests["sheets.spreadsheets.batchUpdate"] == 1
        assert steady.requests["sheets.spreadsheets.get"] == 1
        assert 0 < steady.extra["largest_body"] < run.extra["largest_body"]
        naive = naive_run(trust, "naive", google_like=False, cap=3)
        assert naive.extrapolated
        assert naive.extra["measured_responses"] == 3
        # The extrapolation covers every response: more requests than were measured.
        assert naive.total > naive.extra["measured_requests"]
        assert naive.responses == rec.response_count
        assert naive.extra["writes"] >= 3  # at least one write per response
    finally:
        trust.stop()
