"""Session 12 (W2): the merge's response loop and per-pupil pass, column-wise.

`_Run.merge` looks the responses' case-folded school emails up at once (a key holding one
pupil-in-cohort settles the match; the rest go through `match_one`) and collects each group's
winners per pupil; `_Run._write_pupils` tells the pupils whose groups are all blank in a row as
read apart with arrays, lists their changes at once and writes the others (and every pupil's
Sustained checks) one by one in pupil order, between the blank pupils' changes. Each test
compares the night with the frozen merge (tests/unit/_reference_merge2, `_both`) with the batch
taken from a school's first pupil on, and with the merge that writes every pupil on its own.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gsync import merge
from tests.unit.test_core_equivalence import _make_trust
from tests.unit.test_merge_blank_batch import _batch_from, _batched_is_unbatched
from tests.unit.test_merge_equivalence import _both
from tests.unit.test_merge_first_night import DEST as FIRST_DEST
from tests.unit.test_merge_first_night import SYNCED, TYPED, Night, _night, _pupil_rows
from tests.unit.test_merge_steady import DEST, RAW, _change_dest

# Changes of the listing made here: respondents' emails in another case, or taken away (the
# name and date of birth match instead), or given another pupil's (an email then held by one
# pupil, the respondent not that pupil).
EMAILS = ("email_case", "email_blank", "email_other")


def _emails(raw: Night, kind: str, rng: random.Random) -> Night:
    out: Night = []
    pool = [r.get("respondentEmail") for _, rs in raw for r in rs if r.get("respondentEmail")]
    for school, responses in raw:
        changed = []
        for r in responses:
            r = dict(r)
            if rng.random() < 0.3:
                email = r.get("respondentEmail")
                if kind == "email_case" and email:
                    r["respondentEmail"] = rng.choice((email.upper(), email.title()))
                elif kind == "email_blank":
                    r.pop("respondentEmail", None)
                elif kind == "email_other" and pool:
                    r["respondentEmail"] = rng.choice(pool)
            changed.append(r)
        out.append((school, changed))
    return out


@contextmanager
def _paths() -> Iterator[dict[str, int]]:
    """Counts of the per-pupil paths taken: pupils written one by one, Sustained checks."""
    seen = {"one": 0, "check": 0}
    one, check = merge._Run._write_one, merge._Run._sustained_check

    def write_one(self: Any, *a: Any) -> None:
        seen["one"] += 1
        one(self, *a)

    def sustained_check(self: Any, *a: Any) -> None:
        seen["check"] += 1
        check(self, *a)

    merge._Run._write_one = write_one  # type: ignore[method-assign]
    merge._Run._sustained_check = sustained_check  # type: ignore[method-assign]
    try:
        yield seen
    finally:
        merge._Run._write_one = one  # type: ignore[method-assign]
        merge._Run._sustained_check = check  # type: ignore[method-assign]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.sampled_from((3, 4, 11)),
    at_least=st.sampled_from((0, 2, 40)),
    changes=st.lists(
        st.tuples(st.sampled_from(TYPED + FIRST_DEST + DEST + RAW + EMAILS), st.integers(0, 2**32)),
        max_size=20,
    ),
)
def test_mixed_pupils_equal_the_frozen_merge(
    seed: int, at_least: int, changes: list[tuple[str, int]]
) -> None:
    """Blank pupils next to typed, hashed and staff-edited ones, unmatched and ambiguous
    respondents, name matches without an email, a pupil in two cohorts (twins), duplicate
    pupils and response ids, Sustained checks (odd seeds), emails in another case."""
    tabs, raw = _night(seed, [c for c in changes if c[0] in TYPED + FIRST_DEST + RAW])
    for kind, salt in changes:
        rng = random.Random(salt)
        if kind in DEST and kind not in FIRST_DEST:
            tabs["destinations"] = _change_dest(tabs["destinations"], kind, rng)
        elif kind in EMAILS:
            raw = _emails(raw, kind, rng)
    with _batch_from(at_least):
        _both(tabs, raw)
    _batched_is_unbatched(tabs, raw, at_least)


def test_blank_pupils_between_others_and_checks() -> None:
    """Deterministic: every third pupil's group typed, in schools with Sustained checks and
    emails in another case: the blank pupils' changes come between the others' and before
    their own checks, in pupil order, in one batched school."""
    trust = _make_trust(11, sustained=True)
    tabs = {k: v.copy() for k, v in trust.tabs.items()}
    dest = tabs["destinations"]
    rng = random.Random(5)
    for n, i in enumerate(_pupil_rows(dest)):
        if n % 3 == 0:
            dest.loc[i, SYNCED[rng.choice(sorted(SYNCED))][0]] = "Y"
    raw: Night = [(s.school, s.form_responses()) for s in trust.samples]
    raw = _emails(raw, "email_case", random.Random(1))
    with _batch_from(0) as sizes, _paths() as seen:
        plan = _both(tabs, raw)
    assert sizes and seen["one"] > 0
    assert plan.counts["conflicts"] > 0 and plan.counts["applied"] > sum(sizes)
    _batched_is_unbatched(tabs, raw, 0)


def test_sustained_checks_of_blank_pupils() -> None:
    """A first night with Sustained checks: blank pupils' checks are written after their own
    changes (and the Sustained rows appended as the frozen merge appends them)."""
    for seed in (3, 11):
        trust = _make_trust(seed, sustained=True)
        raw = [(s.school, s.form_responses()) for s in trust.samples]
        with _batch_from(0) as sizes, _paths() as seen:
            plan = _both(trust.tabs, raw)
        assert sizes and plan.counts["applied"] > 0
        if seen["check"]:
            assert "sustained" in plan.tabs
        _batched_is_unbatched(trust.tabs, raw, 0)
