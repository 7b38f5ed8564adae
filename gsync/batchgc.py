"""Python's cyclic garbage collector paused while one bounded batch job computes (issue 7).

A nightly run builds millions of short-lived containers (row lists, cell dicts of the write plan)
next to a large long-lived snapshot. With the default thresholds the collector walks that heap
again and again: measured on the benchmark's 30,000-row first night, 10.4 s CPU with automatic
collection against 4.6 s without (`bench/RESULTS.md`), with the same tracemalloc peak (360 MB at
10k rows both ways: the run's objects are freed by reference counting; 59 cyclic objects were
left for the collector afterwards). The collector is switched back on when the job returns or
raises; it then collects on its own schedule (an immediate full collection would walk whatever the
caller still holds: about 3 s at 100k rows in the benchmark, where the synthetic trust stays alive).
"""

from __future__ import annotations

import functools
import gc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
R = TypeVar("R")


@contextmanager
def collector_paused() -> Iterator[None]:
    """Automatic cyclic collection off inside the block, and as it was before after it."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def batch_job(func: Callable[P, R]) -> Callable[P, R]:
    """Run `func` with the cyclic collector paused (see the module's docstring)."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        with collector_paused():
            return func(*args, **kwargs)

    return wrapper
