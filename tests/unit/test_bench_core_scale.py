"""bench.core_scale at a tiny size: the steady night is merged from the memos the first left."""

from __future__ import annotations

from bench import core_scale


def test_the_steady_night_merges_every_school_from_its_memo() -> None:
    first, steady = core_scale.nights(300, memory=False, schools=2)
    assert (first.night, steady.night) == ("first", "steady")
    assert first.memo_schools == 0 and first.memo_responses == 0
    assert steady.memo_schools == 2
    # Every logged response but the few new ones (and those of the pupils they touch).
    assert 0 < steady.memo_responses < steady.responses
    assert steady.memo_responses >= steady.responses - 4 * core_scale.STEADY_NEW_PER_SCHOOL
    assert "2 schools" in core_scale.markdown([first, steady])
