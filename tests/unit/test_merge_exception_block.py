"""A school's new exceptions appended as one block (`merge._append_new_exceptions`) give the
frozen merge's output, as appending each as its row dict did.

Each night runs with the block from a school's first exception on
(`_EXCEPTIONS_BLOCK_AT_LEAST` 0) next to the frozen merge (`test_merge_equivalence._both`):
first nights (every exception new), a night whose exceptions are held already (refreshed, not
appended: the loop), a school listed twice, a response moving school, and the night after.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from gsync import merge
from tests.unit.test_core_equivalence import NOW, _make_trust
from tests.unit.test_merge_equivalence import _both


def _spy(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """The block from the first exception on; each `_append_new_exceptions` answer."""
    answers: list[bool] = []
    real = merge._append_new_exceptions

    def spy(*args: Any) -> bool:
        got = real(*args)
        answers.append(got)
        return got

    monkeypatch.setattr(merge, "_EXCEPTIONS_BLOCK_AT_LEAST", 0)
    monkeypatch.setattr(merge, "_append_new_exceptions", spy)
    return answers


@pytest.mark.parametrize("seed", [3, 4, 11])
def test_first_nights_append_exceptions_as_blocks(
    seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    answers = _spy(monkeypatch)
    trust = _make_trust(seed, sustained=seed % 2 == 1)
    raw = [(s.school, s.form_responses()) for s in trust.samples]
    plan = _both(trust.tabs, raw)
    assert plan.counts["exceptions"] > 0 and any(answers)
    answers.clear()
    # The night after: every exception held already (refreshed by the loop, none appended).
    again = _both(dict(plan.tabs), raw, NOW + dt.timedelta(days=1))
    assert again.counts["exceptions"] == 0 and not any(answers)


def test_blocks_beside_held_exceptions_and_moved_responses(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Exceptions held from the first school's night, a school listed twice, a response
    listed by another school, one moving school, then the night after."""
    answers = _spy(monkeypatch)
    trust = _make_trust(11, sustained=True)
    raw = [(s.school, s.form_responses()) for s in trust.samples]
    first = _both(trust.tabs, raw[:1])
    (s0, r0), (s1, r1) = raw[0], raw[1]
    night = [
        (s0, r0),
        (s1, [*r1, r0[0], r1[0]]),
        *raw[2:],
        (s1, r1[:3]),
        (raw[2][0], [r1[1]]),
    ]
    answers.clear()
    plan = _both(dict(first.tabs), night)
    assert any(answers) and not all(answers)
    later = [{**r, "lastSubmittedTime": "2026-07-30T10:00:00.000Z"} for r in r1[:4]]
    _both(dict(plan.tabs), [*night, (s1, later)], NOW + dt.timedelta(days=1))
