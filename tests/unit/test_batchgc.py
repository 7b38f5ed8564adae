"""The nightly job runs with the cyclic collector paused, and always gives it back."""

from __future__ import annotations

import gc

import pytest

from gsync.batchgc import batch_job, collector_paused
from gsync.sync import run_sync
from gsync.trust import aggregate_trust


def test_paused_inside_and_restored_after() -> None:
    assert gc.isenabled()
    with collector_paused():
        assert not gc.isenabled()
    assert gc.isenabled()


def test_restored_when_the_job_raises() -> None:
    @batch_job
    def job() -> None:
        assert not gc.isenabled()
        raise ValueError("boom")

    with pytest.raises(ValueError, match="boom"):
        job()
    assert gc.isenabled()


def test_a_caller_that_disabled_the_collector_keeps_it_disabled() -> None:
    gc.disable()
    try:
        with collector_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_the_nightly_commands_are_batch_jobs() -> None:
    for job in (run_sync, aggregate_trust):
        assert getattr(job, "__wrapped__", None) is not None, job
